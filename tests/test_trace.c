/* SPDX-License-Identifier: MIT */
/*
 * tests/test_trace.c - trace files (CORIO_TRACE, corio_loop_opts.trace):
 * the JSON is valid and holds the tracks, steps, flows, operations,
 * sleeps, phases, counters and reports of what ran; several loops share a
 * file; a full ring loses nothing; bad paths and write errors are clear.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <corio/async.h>

#include "core/trace_event.h"
#include "tjson.h"

/* ---- helpers ---------------------------------------------------------- */

/* A fresh path for a trace file (removed by the caller). */
static void t_trace_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/corio-trace-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	close(fd);
}

/* A loop with @opts tracing to a fresh @path. */
static struct corio_loop *t_traced_loop(struct corio_loop_opts *opts,
					char *path, size_t len)
{
	t_trace_path(path, len);
	opts->trace = path;
	return t_loop_opts(opts);
}

/* Parse the trace at @path; its traceEvents array. */
static struct tj *t_load(const char *path, const struct tj **events)
{
	char why[256];
	struct tj *doc = tj_parse_file(path, why, sizeof(why));

	cr_assert_not_null(doc, "%s", why);
	*events = tj_get(doc, "traceEvents");
	cr_assert_not_null(*events, "no traceEvents");
	cr_assert_eq((*events)->type, TJ_ARR);
	return doc;
}

static bool t_is(const struct tj *e, const char *ph, const char *name)
{
	const char *p = tj_str(e, "ph"), *n = tj_str(e, "name");

	return p && !strcmp(p, ph) && (!name || (n && !strcmp(n, name)));
}

/* Nanoseconds from an event's microseconds. */
static int64_t t_ns(const struct tj *e, const char *key)
{
	double us = tj_num(e, key, -1);

	return (int64_t)(us * 1000 + (us < 0 ? -0.5 : 0.5));
}

static int64_t t_pid(const struct tj *e)
{
	return (int64_t)tj_num(e, "pid", -1);
}

static int64_t t_tid(const struct tj *e)
{
	return (int64_t)tj_num(e, "tid", -1);
}

/* Events of phase @ph (and @name, when not NULL) on @pid (and @tid >= 0). */
static size_t t_count(const struct tj *ev, const char *ph, const char *name,
		      int64_t pid, int64_t tid)
{
	size_t i, n = 0;

	for (i = 0; i < ev->n; i++)
		if (t_is(&ev->v[i], ph, name) && t_pid(&ev->v[i]) == pid &&
		    (tid < 0 || t_tid(&ev->v[i]) == tid))
			n++;
	return n;
}

/* The first instant named @name (on task @tid, or any when < 0): its
 * args, or NULL; *@at is its index. */
static const struct tj *t_instant(const struct tj *ev, const char *name,
				  int64_t tid, size_t *at)
{
	size_t i;

	for (i = 0; i < ev->n; i++) {
		if (t_is(&ev->v[i], "i", name) &&
		    (tid < 0 || t_tid(&ev->v[i]) == tid)) {
			*at = i;
			return tj_get(&ev->v[i], "args");
		}
	}
	return NULL;
}

/* The track of the task named @name in @pid, or -1; its name must give
 * the spawn site, in this file. */
static int64_t t_track(const struct tj *ev, int64_t pid, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];
		const char *n = tj_str(tj_get(e, "args"), "name");

		if (t_is(e, "M", "thread_name") && t_pid(e) == pid && n &&
		    !strncmp(n, name, len) && !strncmp(n + len, " #", 2) &&
		    strstr(n, " (test_trace.c:"))
			return t_tid(e);
	}
	return -1;
}

/* Is @ts inside a complete ("X") slice of @pid/@tid? */
static bool t_in_slice(const struct tj *ev, int64_t pid, int64_t tid,
		       int64_t ts)
{
	size_t i;

	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];

		if (t_is(e, "X", NULL) && t_pid(e) == pid &&
		    t_tid(e) == tid && t_ns(e, "ts") <= ts &&
		    ts <= t_ns(e, "ts") + t_ns(e, "dur"))
			return true;
	}
	return false;
}

/*
 * Every flow arrow has a start ("s") before its end ("f"), both inside a
 * slice of their track; returns the number of arrows.
 */
static size_t t_check_flows(const struct tj *ev)
{
	size_t i, j, arrows = 0;

	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];
		size_t starts = 0, ends = 0;
		double id = tj_num(e, "id", -1);

		if (!t_is(e, "f", "wake") && !t_is(e, "s", "wake"))
			continue;
		cr_assert(t_in_slice(ev, t_pid(e), t_tid(e), t_ns(e, "ts")),
			  "flow %s at %f (pid %lld tid %lld) binds to no "
			  "slice", tj_str(e, "ph"), tj_num(e, "ts", 0),
			  (long long)t_pid(e), (long long)t_tid(e));
		if (!t_is(e, "f", NULL))
			continue;
		cr_assert_str_eq(tj_str(e, "bp"), "e");
		/* The arrows of a task reuse its id, one after the other. */
		for (j = 0; j < ev->n; j++) {
			const struct tj *o = &ev->v[j];

			if (tj_num(o, "id", -2) != id ||
			    t_ns(o, "ts") > t_ns(e, "ts"))
				continue;
			starts += t_is(o, "s", "wake");
			ends += t_is(o, "f", "wake");
		}
		cr_assert_geq(starts, ends, "a flow ends before it starts");
		arrows++;
	}
	return arrows;
}

/* An async slice's begin and end of @cat/@name on @tid: the end's args. */
static const struct tj *t_async_end(const struct tj *ev, int64_t pid,
				    int64_t tid, const char *cat,
				    const char *name, const struct tj **begin)
{
	size_t i, j;

	for (i = 0; i < ev->n; i++) {
		const struct tj *b = &ev->v[i];

		if (!t_is(b, "b", name) || t_pid(b) != pid ||
		    t_tid(b) != tid || strcmp(tj_str(b, "cat"), cat))
			continue;
		for (j = 0; j < ev->n; j++) {
			const struct tj *e = &ev->v[j];

			if (t_is(e, "e", name) &&
			    tj_num(e, "id", -1) == tj_num(b, "id", -2) &&
			    t_ns(e, "ts") >= t_ns(b, "ts")) {
				*begin = b;
				return tj_get(e, "args");
			}
		}
	}
	return NULL;
}

/* ---- a small program: every kind of event ----------------------------- */

static struct corio_chan ch;

corio_async(int, ping_child, (), ())
{
	corio_begin();
	corio_yield();
	corio_return(7);
corio_finally:
	corio_end();
}

corio_async(int, producer, ((int, fd)), (
	ssize_t n;
	int v, r;
))
{
	corio_begin();
	corio_await(self->n, corio_write, self->fd, "ping", 4, -1);
	corio_await(self->r, corio_sleep, CORIO_MS(2));
	self->v = 42;
	corio_await(self->r, corio_chan_send, &ch, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, consumer, ((int, fd)), (
	char buf[8];
	ssize_t n;
	int v, r, st;
	struct corio_task *child;
))
{
	corio_begin();
	corio_await(self->n, corio_read, self->fd, self->buf, sizeof self->buf,
		    -1);
	cr_assert_eq(self->n, 4);
	corio_await(self->r, corio_chan_recv, &ch, &self->v);
	cr_assert_eq(self->v, 42);
	self->r = corio_spawn(corio_loop_current(),
			      ping_child__start(NULL, NULL), &self->child);
	cr_assert_eq(self->r, 0);
	corio_await(self->st, corio_join, self->child);
	corio_return(self->st == 7 ? 0 : -EPROTO);
corio_finally:
	corio_end();
}

Test(trace, tracks_steps_flows_operations_phases, .timeout = 10)
{
	struct corio_loop_opts opts = { 0 };
	struct corio_task *p, *c;
	const struct tj *ev, *args, *b;
	struct corio_loop *loop;
	int64_t ptid, ctid, child;
	char path[64];
	struct tj *doc;
	int fds[2], st;
	size_t i;

	loop = t_traced_loop(&opts, path, sizeof(path));
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(corio_chan_init(&ch, sizeof(int), 0, "pings"), 0);
	corio_spawn(loop, producer__start(NULL, fds[1], NULL), &p);
	corio_spawn(loop, consumer__start(NULL, fds[0], NULL), &c);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(p, &st), 0);
	cr_assert_eq(st, 0);
	cr_assert_eq(corio_task_reap(c, &st), 0);
	cr_assert_eq(st, 0);
	corio_chan_destroy(&ch);
	t_loop_done(loop);

	doc = t_load(path, &ev);
	/* One process track, named after the loop and its backend. */
	cr_assert_eq(t_count(ev, "M", "process_name", 1, -1), 1);
	/* A track per task, with its spawn site. */
	ptid = t_track(ev, 1, "producer");
	ctid = t_track(ev, 1, "consumer");
	child = t_track(ev, 1, "ping_child");
	cr_assert(ptid == 1 && ctid == 2 && child == 3,
		  "tracks %lld %lld %lld", (long long)ptid, (long long)ctid,
		  (long long)child);
	/* Steps named after where they stopped and what they await. */
	/* write, sleep, end: after the sleep the consumer waits already, so
	 * the send hands over without suspending. */
	cr_assert_eq(t_count(ev, "X", NULL, 1, ptid), 3);
	for (i = 0; i < ev->n; i++) {
		const char *n = tj_str(&ev->v[i], "name");

		if (!t_is(&ev->v[i], "X", NULL) || t_tid(&ev->v[i]) != ptid)
			continue;
		cr_assert(!strncmp(n, "producer:", 9) ||
			  !strcmp(n, "producer returns"), "step '%s'", n);
	}
	cr_assert_eq(t_count(ev, "X", NULL, 1, child), 2, "yield, end");
	/* The consumer's join names the task it joins. */
	for (i = 0; i < ev->n; i++)
		if (t_is(&ev->v[i], "X", NULL) && t_tid(&ev->v[i]) == ctid &&
		    strstr(tj_str(&ev->v[i], "name"), " join #3"))
			break;
	cr_assert_lt(i, ev->n, "no step awaiting the join");
	cr_assert_str_eq(tj_str(tj_get(&ev->v[i], "args"), "waits"),
			 "join #3");
	/* Flows: one arrow per step, each from a step or a loop phase. */
	cr_assert_eq(t_check_flows(ev), t_count(ev, "X", NULL, 1, ptid) +
		     t_count(ev, "X", NULL, 1, ctid) +
		     t_count(ev, "X", NULL, 1, child));
	/* The child was woken by the consumer (spawn) and the consumer by
	 * the child's end: arrows leave their steps. */
	cr_assert_geq(t_count(ev, "s", "wake", 1, ctid), 1);
	cr_assert_geq(t_count(ev, "s", "wake", 1, child), 2);
	/* I/O: the pipe's read and write, with fd and result. */
	args = t_async_end(ev, 1, ptid, "io", "write", &b);
	cr_assert_not_null(args, "no write slice");
	cr_assert_eq(tj_num(tj_get(b, "args"), "fd", -1), fds[1]);
	cr_assert_eq(tj_num(tj_get(b, "args"), "len", -1), 4);
	cr_assert_eq(tj_num(args, "res", -1), 4);
	args = t_async_end(ev, 1, ctid, "io", "read", &b);
	cr_assert_not_null(args, "no read slice");
	cr_assert_eq(tj_num(tj_get(b, "args"), "fd", -1), fds[0]);
	cr_assert_eq(tj_num(args, "res", -1), 4);
	/* The sleep, ended by its timer. */
	args = t_async_end(ev, 1, ptid, "timer", "sleep", &b);
	cr_assert_not_null(args, "no sleep slice");
	cr_assert(tj_get(args, "fired") && tj_get(args, "fired")->num == 1);
	cr_assert_geq(tj_num(tj_get(b, "args"), "due_in_us", -1), 1000);
	/* The loop's phases on its own track, and counters. */
	cr_assert_geq(t_count(ev, "X", "run ready tasks", 1, 0), 2);
	cr_assert_geq(t_count(ev, "X", "submit and wait", 1, 0), 1);
	cr_assert_geq(t_count(ev, "X", "reap completions", 1, 0), 1);
	cr_assert_geq(t_count(ev, "X", "fire timers", 1, 0), 1);
	cr_assert_geq(t_count(ev, "C", "tasks", 1, -1), 1);
	cr_assert_geq(t_count(ev, "C", "ops", 1, -1), 1);
	cr_assert_geq(t_count(ev, "C", "completions", 1, -1), 1);
	tj_free(doc);
	close(fds[0]);
	close(fds[1]);
	unlink(path);
}

/* ---- where the trace goes --------------------------------------------- */

corio_async(int, yielder, ((long, n)), (
	long i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_yield();
	corio_return(0);
corio_finally:
	corio_end();
}

/* A loop with @opts that runs yielder(@n), destroyed. */
static void t_run_yielder(const struct corio_loop_opts *opts, long n)
{
	struct corio_loop *loop = t_loop_opts(opts);

	corio_spawn(loop, yielder__start(NULL, n, NULL), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	t_loop_done(loop);
}

static bool t_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

Test(trace, environment_and_option, .timeout = 10)
{
	struct corio_loop_opts opts = { 0 };
	char env[64], opt[64];
	const struct tj *ev;
	struct tj *doc;

	t_trace_path(env, sizeof(env));
	t_trace_path(opt, sizeof(opt));
	unlink(env);
	unlink(opt);
	setenv("CORIO_TRACE", env, 1);
	/* "" turns tracing off whatever the environment says. */
	opts.trace = "";
	t_run_yielder(&opts, 3);
	cr_assert(!t_exists(env));
	/* The option wins over the environment. */
	opts.trace = opt;
	t_run_yielder(&opts, 3);
	cr_assert(!t_exists(env));
	doc = t_load(opt, &ev);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 4);
	tj_free(doc);
	/* NULL: the environment's file. */
	t_run_yielder(NULL, 3);
	doc = t_load(env, &ev);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 4);
	tj_free(doc);
	unsetenv("CORIO_TRACE");
	unlink(env);
	unlink(opt);
}

Test(trace, bad_path_is_an_error, .timeout = 10)
{
	struct corio_loop_opts opts = { .trace = "/nonexistent/dir/t.json" };
	struct corio_loop *loop = NULL;

	cr_assert_eq(corio_loop_create(&loop, &opts), -ENOENT);
	cr_assert_null(loop);
	cr_assert(strstr(corio_loop_unavailable_reason(),
			 "/nonexistent/dir/t.json"), "reason: %s",
		  corio_loop_unavailable_reason());
	opts.trace = "/tmp";
	cr_assert_eq(corio_loop_create(&loop, &opts), -EISDIR);
	/* Nothing was left behind: a loop can be made on this thread. */
	opts.trace = "";
	loop = t_loop_opts(&opts);
	t_loop_done(loop);
}

Test(trace, write_error_is_reported_once, .timeout = 20)
{
	struct corio_loop_opts opts = { .trace = "/dev/full" };
	char log[64], text[4096];
	int saved, fd;
	ssize_t n;

	t_trace_path(log, sizeof(log));
	fd = open(log, O_RDWR | O_TRUNC);
	cr_assert_geq(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	/* Enough events to fill the ring several times. */
	t_run_yielder(&opts, 100000);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	cr_assert_gt(n, 0, "nothing on stderr");
	text[n] = '\0';
	cr_assert(strstr(text, "corio: cannot write the trace file /dev/full: "
			 "No space left on device"), "stderr: %s", text);
	cr_assert_null(strstr(strstr(text, "/dev/full") + 1, "/dev/full"),
		       "reported more than once: %s", text);
	close(fd);
	unlink(log);
}

Test(trace, full_ring_loses_nothing, .timeout = 30)
{
	struct corio_loop_opts opts = { 0 };
	const long n = 100000;	/* six times the ring */
	const struct tj *ev;
	char path[64];
	struct tj *doc;

	t_trace_path(path, sizeof(path));
	opts.trace = path;
	t_run_yielder(&opts, n);
	doc = t_load(path, &ev);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), (size_t)n + 1);
	cr_assert_eq(t_count(ev, "f", "wake", 1, 1), (size_t)n + 1);
	cr_assert_eq(t_count(ev, "s", "wake", 1, -1), (size_t)n + 1);
	tj_free(doc);
	unlink(path);
}

/* ---- several loops, one file ------------------------------------------ */

static const char *shared_path;

/* A loop of its own on this thread; the first error, or 0, in *@arg
 * (Criterion's asserts belong to the test's thread). */
static void *loop_thread(void *arg)
{
	struct corio_loop_opts opts = { .trace = shared_path };
	struct corio_loop *loop;
	int *err = arg;

	*err = corio_loop_create(&loop, &opts);
	if (*err)
		return NULL;
	*err = corio_spawn(loop, yielder__start(NULL, 50, NULL), NULL);
	if (!*err)
		*err = corio_loop_run(loop);
	if (!*err)
		*err = corio_loop_destroy(loop);
	return NULL;
}

Test(trace, several_loops_share_a_file, .timeout = 20)
{
	struct corio_loop_opts opts = { 0 };
	const struct tj *ev;
	pthread_t thr[2];
	char path[64];
	struct tj *doc;
	int64_t pid;
	int err[2];

	t_trace_path(path, sizeof(path));
	shared_path = opts.trace = path;
	/* Two loops on two threads at once... */
	cr_assert_eq(pthread_create(&thr[0], NULL, loop_thread, &err[0]), 0);
	cr_assert_eq(pthread_create(&thr[1], NULL, loop_thread, &err[1]), 0);
	pthread_join(thr[0], NULL);
	pthread_join(thr[1], NULL);
	cr_assert_eq(err[0], 0, "%s", corio_strerror(err[0]));
	cr_assert_eq(err[1], 0, "%s", corio_strerror(err[1]));
	doc = t_load(path, &ev);
	cr_assert_eq(t_count(ev, "M", "process_name", 1, -1), 1);
	cr_assert_eq(t_count(ev, "M", "process_name", 2, -1), 1);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 51);
	cr_assert_eq(t_count(ev, "X", NULL, 2, 1), 51);
	tj_free(doc);
	/* ...then one more later: the same document goes on. */
	t_run_yielder(&opts, 5);
	doc = t_load(path, &ev);
	for (pid = 1; pid <= 3; pid++)
		cr_assert_eq(t_count(ev, "M", "process_name", pid, -1), 1,
			     "loop %lld", (long long)pid);
	cr_assert_eq(t_count(ev, "X", NULL, 3, 1), 6);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 51);
	tj_free(doc);
	unlink(path);
}

/* Exiting with the loop alive still leaves a complete file. */
static struct corio_loop *leaked_loop;

Test(trace, exit_completes_the_file, .timeout = 20)
{
	const struct tj *ev;
	char path[64];
	struct tj *doc;
	int status;
	pid_t pid;

	t_trace_path(path, sizeof(path));
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct corio_loop_opts opts = { .trace = path };

		if (corio_loop_create(&leaked_loop, &opts))
			_exit(2);
		corio_spawn(leaked_loop, yielder__start(NULL, 10, NULL), NULL);
		if (corio_loop_run(leaked_loop))
			_exit(3);
		exit(0);	/* no corio_loop_destroy */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status %d", status);
	doc = t_load(path, &ev);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 11);
	tj_free(doc);
	unlink(path);
}

/* ---- reports ---------------------------------------------------------- */

static struct corio_chan never;

corio_async(int, waits_forever, (), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, &never, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(trace, deadlock_is_an_instant_with_its_graph, .timeout = 10)
{
	struct corio_loop_opts opts = { 0 };
	struct corio_task *a, *b;
	const struct tj *ev, *args;
	struct corio_loop *loop;
	char path[64];
	struct tj *doc;
	size_t i;

	loop = t_traced_loop(&opts, path, sizeof(path));
	cr_assert_eq(corio_chan_init(&never, sizeof(int), 0, "never"), 0);
	corio_spawn(loop, waits_forever__start(NULL, NULL), &a);
	corio_spawn(loop, waits_forever__start(NULL, NULL), &b);
	cr_assert_eq(corio_loop_run(loop), -EDEADLK);
	corio_task_cancel(a);
	corio_task_cancel(b);
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_task_reap(a, NULL);
	corio_task_reap(b, NULL);
	corio_chan_destroy(&never);
	t_loop_done(loop);

	doc = t_load(path, &ev);
	args = t_instant(ev, "deadlock: nothing can wake the waiting tasks",
			 -1, &i);
	cr_assert_not_null(args, "no deadlock instant");
	cr_assert(strstr(tj_str(args, "report"), "waits_forever"),
		  "report: %s", tj_str(args, "report"));
	cr_assert(!strncmp(tj_str(args, "dot"), "digraph", 7));
	cr_assert_eq(t_count(ev, "i", "deadlocked", 1, 1), 1);
	cr_assert_eq(t_count(ev, "i", "deadlocked", 1, 2), 1);
	tj_free(doc);
	unlink(path);
}

corio_async(int, blocks_the_loop, (), ())
{
	struct timespec ts = { 0, 80 * 1000000 };

	corio_begin();
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(trace, stall_is_an_instant_on_its_task, .timeout = 10)
{
	struct corio_loop_opts opts = { .stall_ms = 20 };
	const struct tj *ev, *args;
	struct corio_loop *loop;
	char path[64];
	struct tj *doc;
	size_t i;

	loop = t_traced_loop(&opts, path, sizeof(path));
	corio_spawn(loop, blocks_the_loop__start(NULL, NULL), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	t_loop_done(loop);

	doc = t_load(path, &ev);
	args = t_instant(ev, "stall", 1, &i);
	cr_assert_not_null(args, "no stall instant");
	cr_assert_geq(tj_num(args, "ran_ms", 0), 20);
	cr_assert_str_eq(tj_str(args, "fn"), "blocks_the_loop");
	/* Reported while the step ran. */
	cr_assert(t_in_slice(ev, 1, 1, t_ns(&ev->v[i], "ts")));
	tj_free(doc);
	unlink(path);
}

/* ---- names ------------------------------------------------------------ */

/* 2-byte characters, so the 128-byte cut falls inside one. */
#define LONG_NAME "tâche-tâche-tâche-tâche-tâche-tâche-tâche-tâche-" \
		  "tâche-tâche-tâche-tâche-tâche-tâche-tâche-tâche-"  \
		  "tâche-tâche-tâche-tâche"

corio_async(int, renames_itself, (), (
	char name[32];
))
{
	corio_begin();
	/* The task's own memory: the trace must copy it. */
	snprintf(self->name, sizeof(self->name), "worker \"%d\"\n", 7);
	corio_task_set_name(corio_current_task(), self->name);
	corio_yield();
	corio_task_set_name(corio_current_task(), LONG_NAME);
	corio_yield();
	corio_return(0);
corio_finally:
	corio_end();
}

Test(trace, renamed_tasks_keep_valid_names, .timeout = 10)
{
	struct corio_loop_opts opts = { 0 };
	const struct tj *ev;
	const char *n = NULL;
	char path[64];
	struct tj *doc;
	size_t i, seen = 0;

	{
		struct corio_loop *loop = t_traced_loop(&opts, path,
							sizeof(path));

		corio_spawn(loop, renames_itself__start(NULL, NULL), NULL);
		cr_assert_eq(corio_loop_run(loop), 0);
		t_loop_done(loop);
	}
	doc = t_load(path, &ev);	/* strict: escapes and UTF-8 */
	for (i = 0; i < ev->n; i++) {
		if (!t_is(&ev->v[i], "M", "thread_name") ||
		    t_tid(&ev->v[i]) != 1)
			continue;
		n = tj_str(tj_get(&ev->v[i], "args"), "name");
		if (seen++ == 1)
			cr_assert(!strncmp(n, "worker \"7\"\n #1 (", 16),
				  "name: %s", n);
	}
	cr_assert_eq(seen, 3, "spawn and two renames");
	cr_assert(!strncmp(n, "tâche-tâche-", 14), "name: %s", n);
	cr_assert_lt(strlen(n), 128 + 32, "cut at 128 bytes: %s", n);
	tj_free(doc);
	unlink(path);
}

/* ---- fork ------------------------------------------------------------- */

Test(trace, a_forked_process_writes_its_own_file, .timeout = 20)
{
	struct corio_loop_opts opts = { 0 };
	struct corio_loop *loop;
	const struct tj *ev;
	char path[64], child_path[96];
	struct tj *doc;
	int status;
	pid_t pid;

	/* The parent's loop is alive, with its writer thread, at the fork. */
	loop = t_traced_loop(&opts, path, sizeof(path));
	corio_spawn(loop, yielder__start(NULL, 5, NULL), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pthread_t thr;
		int err = 1;

		/* Its loop on a thread of its own: this one has the copy of
		 * the parent's. */
		shared_path = path;
		if (pthread_create(&thr, NULL, loop_thread, &err))
			_exit(2);
		pthread_join(thr, NULL);
		exit(err ? 3 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status %d", status);
	t_loop_done(loop);

	doc = t_load(path, &ev);
	cr_assert_eq(t_count(ev, "M", "process_name", 2, -1), 0,
		     "the child wrote into the parent's file");
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 6);
	tj_free(doc);
	snprintf(child_path, sizeof(child_path), "%s.%d", path, (int)pid);
	doc = t_load(child_path, &ev);
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1), 51);
	tj_free(doc);
	unlink(path);
	unlink(child_path);
}

/* ---- the loop waits for its writer ------------------------------------ */

struct holder {
	struct corio__trace_file *file;
	struct corio__tracer *tr;
	atomic_int held;
};

/*
 * Hold the file's lock, so that its writer thread cannot drain, until the
 * loop's ring is full, then 100 ms more: the loop waits that long (or the
 * ring never fills in 10 s, and the test fails on what it finds).
 */
static void *hold_the_file(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { 0, 100 * 1000000 }, poll = { 0, 100000 };
	int i;

	cr_assert_not_null(corio__trace_file_lock(h->file));
	atomic_store(&h->held, 1);
	for (i = 0; i < 100000; i++) {
		uint64_t head = atomic_load(&h->tr->head);

		if (head - atomic_load(&h->tr->tail) >= CORIO__TRACE_SLOTS)
			break;
		nanosleep(&poll, NULL);
	}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	corio__trace_file_unlock(h->file);
	return NULL;
}

/*
 * A ring that fills while its writer is held up makes the loop wait: a
 * slice on the loop's track says so, and the stall watchdog does not
 * blame the task whose step was running (it did before).
 */
Test(trace, a_full_ring_is_not_a_stall_of_the_task, .timeout = 20)
{
	struct corio_loop_opts opts = { .stall_ms = 30 };
	struct holder h = { 0 };
	struct corio_loop_stats stats;
	struct corio_loop *loop;
	const struct tj *ev;
	char path[64];
	struct tj *doc;
	pthread_t thr;
	const struct tj *first = NULL;
	size_t i;

	loop = t_traced_loop(&opts, path, sizeof(path));
	h.file = loop->trace->file;
	h.tr = loop->trace;
	cr_assert_eq(pthread_create(&thr, NULL, hold_the_file, &h), 0);
	while (!atomic_load(&h.held))
		sched_yield();
	/* Four times the ring: it fills while the writer is held. */
	corio_spawn(loop, yielder__start(NULL, 4 * CORIO__TRACE_SLOTS, NULL),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	pthread_join(thr, NULL);
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.stalls, 0, "the task was blamed for the wait");
	t_loop_done(loop);

	doc = t_load(path, &ev);
	/* The first wait is the one the holder made: 100 ms (less the few
	 * us before it began).  Later ones, where the loop outruns its
	 * writer thread, can be long too under a sanitizer. */
	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];

		if (!t_is(e, "X", "trace: the loop writes its full ring"))
			continue;
		if (!first || t_ns(e, "ts") < t_ns(first, "ts"))
			first = e;
	}
	cr_assert_not_null(first, "no slice for the wait");
	cr_assert_geq(t_ns(first, "dur"), 80000000, "the wait: %lld ns",
		      (long long)t_ns(first, "dur"));
	cr_assert_eq(t_count(ev, "X", NULL, 1, 1),
		     (size_t)4 * CORIO__TRACE_SLOTS + 1);
	tj_free(doc);
	unlink(path);
}

/* ---- size limits (CORIO_TRACE_LIMIT, corio_loop_opts.trace_limit) ------ */

/* Spawn yielder(@n) on @loop named @name. */
static void t_spawn_named(struct corio_loop *loop, const char *name, long n)
{
	struct corio_task *t;

	cr_assert_eq(corio_spawn(loop, yielder__start(NULL, n, NULL), &t), 0);
	corio_task_set_name(t, name);
	corio_task_detach(t);
}

/*
 * A traced loop with @limit runs "early" (3 steps) and "long" (@n steps),
 * then "late" (3 steps) once they are done.
 */
static void t_run_limited(const char *path, const char *limit, long n)
{
	struct corio_loop_opts opts = { .trace = path, .trace_limit = limit };
	struct corio_loop *loop = t_loop_opts(&opts);

	t_spawn_named(loop, "early", 3);
	t_spawn_named(loop, "long", n);
	cr_assert_eq(corio_loop_run(loop), 0);
	t_spawn_named(loop, "late", 3);
	cr_assert_eq(corio_loop_run(loop), 0);
	t_loop_done(loop);
}

static off_t t_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_size;
}

/* Every task track with a slice on loop 1 is named. */
static void t_check_tracks_named(const struct tj *ev)
{
	size_t i, j;

	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];
		bool named = false;

		if (!t_is(e, "X", NULL) || t_pid(e) != 1 || t_tid(e) == 0)
			continue;
		for (j = 0; j < ev->n && !named; j++)
			named = t_is(&ev->v[j], "M", "thread_name") &&
				t_pid(&ev->v[j]) == 1 &&
				t_tid(&ev->v[j]) == t_tid(e);
		cr_assert(named, "track %lld has slices and no name",
			  (long long)t_tid(e));
	}
}

Test(trace, a_limit_keeps_the_last_part_with_its_tracks_named,
     .timeout = 30)
{
	const struct tj *ev;
	int64_t long_tid;
	char path[64];
	struct tj *doc;

	t_trace_path(path, sizeof(path));
	t_run_limited(path, "64K", 30000);
	cr_assert_leq(t_size(path), 64 * 1024 + 4096);
	doc = t_load(path, &ev);
	cr_assert(t_is(&ev->v[0], "i", "trace: the events before are dropped"),
		  "first event: %s", tj_str(&ev->v[0], "name"));
	/* "early" ended long before the window; "long" was spawned before
	 * it and is named all the same; "late" is in it. */
	cr_assert_lt(t_track(ev, 1, "early"), 0);
	long_tid = t_track(ev, 1, "long");
	cr_assert_geq(long_tid, 0);
	cr_assert_geq(t_track(ev, 1, "late"), 0);
	/* Some of its steps, not all: how many fit depends on the loop's
	 * phases and counters around them, which depend on timing. */
	cr_assert_gt(t_count(ev, "X", NULL, 1, long_tid), 10);
	cr_assert_lt(t_count(ev, "X", NULL, 1, long_tid), 30000);
	/* The loop's own track and process are named too. */
	cr_assert_gt(t_count(ev, "M", "process_name", 1, -1), 0);
	t_check_tracks_named(ev);
	tj_free(doc);
	unlink(path);
}

Test(trace, a_window_goes_on_in_the_next_loop, .timeout = 30)
{
	const struct tj *ev;
	char path[64];
	struct tj *doc;

	t_trace_path(path, sizeof(path));
	t_run_limited(path, "64K", 30000);
	/* A second loop on the same file continues the window: the file
	 * is whole again once it is destroyed. */
	t_run_limited(path, "64K", 10);
	cr_assert_leq(t_size(path), 64 * 1024 + 4096);
	doc = t_load(path, &ev);
	cr_assert_geq(t_track(ev, 2, "early"), 0);
	cr_assert_geq(t_track(ev, 2, "late"), 0);
	cr_assert_gt(t_count(ev, "M", "process_name", 2, -1), 0);
	tj_free(doc);
	unlink(path);
}

Test(trace, a_first_limit_stops_the_trace_there, .timeout = 30)
{
	const struct tj *ev;
	char path[64];
	struct tj *doc;
	size_t at;

	t_trace_path(path, sizeof(path));
	t_run_limited(path, "64K,first", 30000);
	cr_assert_leq(t_size(path), 64 * 1024);
	doc = t_load(path, &ev);
	cr_assert_not_null(t_instant(ev, "trace: the limit is reached, the "
				     "rest is not traced", -1, &at));
	cr_assert_eq(at, ev->n - 1, "the instant is the last event");
	cr_assert_geq(t_track(ev, 1, "early"), 0);
	cr_assert_lt(t_track(ev, 1, "late"), 0);
	tj_free(doc);
	unlink(path);
}

Test(trace, a_limit_that_is_not_a_size_is_an_error, .timeout = 10)
{
	static const char *const bad[] = {
		"12x", "1K", "K", "-5", "64K,last", "64KB", " 64K",
		"99999999999999999999G",
	};
	struct corio_loop_opts opts = { 0 };
	struct corio_loop *loop = NULL;
	char path[64];
	size_t i;

	t_trace_path(path, sizeof(path));
	opts.trace = path;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		opts.trace_limit = bad[i];
		cr_assert_eq(corio_loop_create(&loop, &opts), -EINVAL,
			     "limit '%s'", bad[i]);
		cr_assert_null(loop);
		cr_assert(strstr(corio_loop_unavailable_reason(),
				 "size limit"), "reason: %s",
			  corio_loop_unavailable_reason());
	}
	/* The environment's limit is read the same way. */
	opts.trace_limit = NULL;
	setenv("CORIO_TRACE_LIMIT", "lots", 1);
	cr_assert_eq(corio_loop_create(&loop, &opts), -EINVAL);
	setenv("CORIO_TRACE_LIMIT", "1M", 1);
	loop = t_loop_opts(&opts);
	t_loop_done(loop);
	unsetenv("CORIO_TRACE_LIMIT");
	/* "" and "0": no limit. */
	opts.trace_limit = "0";
	loop = t_loop_opts(&opts);
	t_loop_done(loop);
	unlink(path);
}
