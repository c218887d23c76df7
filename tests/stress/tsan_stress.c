/* SPDX-License-Identifier: MIT */
/*
 * tests/stress/tsan_stress.c - corio's multi-thread paths under load, each
 * iteration checked by counts; built for ThreadSanitizer, whose reports are
 * the other half of the verdict (Criterion cannot run under TSan).
 *
 *	tsan_stress [-i ITERATIONS] [-l LOOPS] [-w] [-v]
 *
 * One iteration is one runtime of LOOPS loops (default 3), in three phases:
 *
 *  1. Messages: outside threads post to every loop while the main thread
 *     spawns with CORIO_ANY_LOOP.  A final message per loop, queued after
 *     the posters are joined, runs after all of theirs: then every message
 *     must have run exactly once, on the loop it was posted to, and have
 *     seen the fields its sender wrote.
 *  2. Work: tasks spawned from the main thread and from an outside
 *     spawner thread each run a corio_blocking job that writes into the
 *     task's memory, a corio_run_on on the next loop, a remote completion
 *     resolved by an outside resolver thread, a message to the next loop
 *     that answers through another remote completion, and a nested
 *     corio_runtime_spawn.  One task on loop 0 awaits SIGUSR1, sent by the
 *     main thread.  Every value is checked where it arrives, and every
 *     count after corio_runtime_wait().
 *  3. Shutdown while busy: tasks that spin, sleep for an hour, sit in a
 *     blocking job or in a corio_run_on of a sleeping task, while an
 *     outside thread keeps spawning until it gets -ESHUTDOWN; then
 *     corio_runtime_stop() from yet another thread (even iterations) or
 *     corio_runtime_destroy() straight away (odd ones).  Every task that
 *     was spawned must unwind exactly once.
 *
 * With -w every loop also runs the stall watchdog (a thread of its own)
 * and one task per iteration stalls loop 0 long enough to be reported.
 * ctest does not pass it yet: TSan reports the watchdog's published step
 * fields, plain reads under a sequence counter racing the loop's writes
 * (runtime/core/watchdog.c), until they become relaxed atomics.
 *
 * Plain (non-atomic) fields carry the values on purpose: each is written
 * on one thread and read on another only after corio hands the work over,
 * so a missing happens-before edge in corio is a TSan report.  Counters
 * several threads bump are atomics.
 *
 * Exit status: 0 when every check held, 1 at the first wrong count (with
 * a message), 77 when io_uring and epoll are both unavailable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#define MAX_LOOPS	8
#define POSTERS		2	/* outside threads posting messages */
#define MSGS		300	/* messages per poster */
#define JOBS		48	/* phase 2 tasks: half from main, half not */
#define BUSY_PER_LOOP	3	/* phase 3 tasks of each kind per loop */
#define PATTERN_LEN	32

static unsigned nloops = 3;
static bool verbose, watchdog;
static int iteration;

#define fail(...) do {							\
	fprintf(stderr, "tsan_stress: iteration %d: ", iteration);	\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(1);							\
} while (0)

#define check(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/* ---------------------------------------------------------------------- */
/* A remote-resolution service on an outside thread.                      */

struct resolve_req {
	struct corio_completion *c;
	int64_t value;
	int64_t *note;		/* written before resolving, read by the task */
	struct resolve_req *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct resolve_req *head;
	bool quit;
	pthread_t thread;
} resolver = { .lock = PTHREAD_MUTEX_INITIALIZER,
	       .cond = PTHREAD_COND_INITIALIZER };

static void *resolver_main(void *arg)
{
	struct resolve_req *r;

	(void)arg;
	pthread_mutex_lock(&resolver.lock);
	for (;;) {
		while (!resolver.head && !resolver.quit)
			pthread_cond_wait(&resolver.cond, &resolver.lock);
		r = resolver.head;
		if (!r)
			break;
		resolver.head = r->next;
		pthread_mutex_unlock(&resolver.lock);
		/* The completion's loop sees this only through corio. */
		*r->note = r->value + 1;
		check(corio_completion_resolve_remote(r->c, r->value) == 0,
		      "corio_completion_resolve_remote refused");
		pthread_mutex_lock(&resolver.lock);
	}
	pthread_mutex_unlock(&resolver.lock);
	return NULL;
}

/* Ask the resolver thread to resolve @r->c; @r lives until it has. */
static void resolve_later(struct resolve_req *r)
{
	pthread_mutex_lock(&resolver.lock);
	r->next = resolver.head;
	resolver.head = r;
	pthread_cond_signal(&resolver.cond);
	pthread_mutex_unlock(&resolver.lock);
}

/* ---------------------------------------------------------------------- */
/* Phase 1: messages.                                                     */

struct msg {
	struct corio_loop *target;
	int poster, seq;	/* written by the sender before posting */
	int runs;		/* written on the target loop */
	int wrong;		/* ran on another loop, or saw bad fields */
};

static struct msg msgs[POSTERS][MSGS];

struct runtime_ctx {
	struct corio_runtime *rt;
};

static void run_msg(void *arg)
{
	struct msg *m = arg;

	if (corio_loop_current() != m->target ||
	    m->seq < 0 || m->seq >= MSGS || m->poster < 0 ||
	    m->poster >= POSTERS || &msgs[m->poster][m->seq] != m)
		m->wrong++;
	m->runs++;
}

struct poster {
	struct corio_runtime *rt;
	int id;
	int errors;
};

static void *poster_main(void *arg)
{
	struct poster *p = arg;
	int i;

	for (i = 0; i < MSGS; i++) {
		struct msg *m = &msgs[p->id][i];
		unsigned li = (unsigned)(i + p->id) % nloops;

		*m = (struct msg){ .target = corio_runtime_loop(p->rt, li),
				   .poster = p->id, .seq = i };
		if (corio_loop_post(m->target, run_msg, m) < 0)
			p->errors++;
	}
	return NULL;
}

/* The last message to a loop: everything queued before it has run. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned count;
} barrier = { .lock = PTHREAD_MUTEX_INITIALIZER,
	      .cond = PTHREAD_COND_INITIALIZER };

static void barrier_msg(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&barrier.lock);
	barrier.count++;
	pthread_cond_broadcast(&barrier.cond);
	pthread_mutex_unlock(&barrier.lock);
}

static void barrier_all(struct corio_runtime *rt)
{
	unsigned i;

	barrier.count = 0;
	for (i = 0; i < nloops; i++)
		check(corio_loop_post(corio_runtime_loop(rt, i), barrier_msg,
				      NULL) == 0, "barrier post failed");
	pthread_mutex_lock(&barrier.lock);
	while (barrier.count < nloops)
		pthread_cond_wait(&barrier.cond, &barrier.lock);
	pthread_mutex_unlock(&barrier.lock);
}

/* ---------------------------------------------------------------------- */
/* Phase 2: tasks that cross threads in every way corio offers.           */

struct job {
	struct corio_runtime *rt;
	int id;
	/* Results, each written on one thread and checked on another. */
	int home;		/* the loop the task ran on */
	char blocking_buf[PATTERN_LEN];	/* written by a worker thread */
	int64_t sq_in, sq_out;	/* corio_run_on: in here, out there */
	int sq_loop;		/* the loop the square ran on */
	int64_t remote_note;	/* written by the resolver thread */
	int cross_runs;		/* the message to the next loop */
	int cross_loop;
	int leaf_runs;		/* the nested spawn */
	int done;		/* the task got to its end */
	struct resolve_req req;
	struct corio_completion *cross_done;	/* for the message */
};

static struct job jobs[JOBS];

static void pattern(char *buf, int id)
{
	int i;

	for (i = 0; i < PATTERN_LEN; i++)
		buf[i] = (char)('a' + (id * 7 + i) % 26);
}

static intptr_t blocking_fill(void *arg)
{
	struct job *j = arg;

	pattern(j->blocking_buf, j->id);
	return (intptr_t)j->id * 7 + 1;
}

corio_async_static(void, square, ((struct job *, j)), ())
{
	corio_begin();
	corio_yield();
	self->j->sq_loop = corio_runtime_self(self->j->rt);
	self->j->sq_out = self->j->sq_in * self->j->sq_in;
corio_finally:
	corio_end();
}

static struct corio_frame *start_square(void *arg)
{
	return square__start(NULL, arg);
}

/* On the next loop: note the visit, answer the home loop. */
static void cross_msg(void *arg)
{
	struct job *j = arg;

	j->cross_runs++;
	j->cross_loop = corio_runtime_self(j->rt);
	check(corio_completion_resolve_remote(j->cross_done, j->id) == 0,
	      "job %d: cross resolve refused", j->id);
}

corio_async_static(void, leaf, ((struct job *, j)), ())
{
	corio_begin();
	self->j->leaf_runs++;
corio_finally:
	corio_end();
}

static struct corio_frame *start_leaf(void *arg)
{
	return leaf__start(NULL, arg);
}

corio_async_static(void, job_task, ((struct job *, j)), (
	struct corio_completion remote, cross;
	intptr_t r;
	int64_t v;
	int status, next;
	char want[PATTERN_LEN];
))
{
	corio_begin();
	self->j->home = corio_runtime_self(self->j->rt);
	check(self->j->home >= 0, "job %d: not on a runtime loop",
	      self->j->id);
	self->next = (self->j->home + 1) % (int)nloops;

	/* A worker thread writes into our memory and returns a value. */
	corio_await(self->r, corio_blocking, blocking_fill, self->j);
	check(self->r == (intptr_t)self->j->id * 7 + 1,
	      "job %d: corio_blocking returned %ld", self->j->id,
	      (long)self->r);
	pattern(self->want, self->j->id);
	check(memcmp(self->want, self->j->blocking_buf, PATTERN_LEN) == 0,
	      "job %d: the worker's writes are not visible", self->j->id);

	/* A task on the next loop computes for us. */
	self->j->sq_in = self->j->id + 3;
	corio_await(self->status, corio_run_on, self->j->rt, self->next,
		    start_square, self->j);
	check(self->status == 0, "job %d: corio_run_on: %d", self->j->id,
	      self->status);
	check(self->j->sq_out == self->j->sq_in * self->j->sq_in &&
	      self->j->sq_loop == self->next,
	      "job %d: square %lld on loop %d", self->j->id,
	      (long long)self->j->sq_out, self->j->sq_loop);

	/* An outside thread resolves a completion of ours. */
	check(corio_completion_init(&self->remote, "stress remote",
				    CORIO_COMPLETION_REMOTE) == 0,
	      "job %d: completion_init", self->j->id);
	self->j->req = (struct resolve_req){
		.c = &self->remote, .value = self->j->id * 11,
		.note = &self->j->remote_note };
	resolve_later(&self->j->req);
	corio_await(self->v, corio_completion_wait, &self->remote);
	check(self->v == self->j->id * 11 &&
	      self->j->remote_note == self->v + 1,
	      "job %d: remote value %lld, note %lld", self->j->id,
	      (long long)self->v, (long long)self->j->remote_note);
	check(corio_completion_destroy(&self->remote) == 0,
	      "job %d: remote completion busy after delivery", self->j->id);

	/* A message to the next loop, answered by a remote resolution. */
	check(corio_completion_init(&self->cross, "stress cross",
				    CORIO_COMPLETION_REMOTE) == 0,
	      "job %d: completion_init", self->j->id);
	self->j->cross_done = &self->cross;
	check(corio_loop_post(corio_runtime_loop(self->j->rt,
						 (unsigned)self->next),
			      cross_msg, self->j) == 0,
	      "job %d: cross post", self->j->id);
	corio_await(self->v, corio_completion_wait, &self->cross);
	check(self->v == self->j->id && self->j->cross_runs == 1 &&
	      self->j->cross_loop == self->next,
	      "job %d: cross value %lld, runs %d on loop %d", self->j->id,
	      (long long)self->v, self->j->cross_runs, self->j->cross_loop);
	check(corio_completion_destroy(&self->cross) == 0,
	      "job %d: cross completion busy after delivery", self->j->id);

	/* Spawned from inside a task, counted by corio_runtime_wait. */
	check(corio_runtime_spawn(self->j->rt, CORIO_ANY_LOOP, start_leaf,
				  self->j, "stress leaf") >= 0,
	      "job %d: nested spawn", self->j->id);
	self->j->done++;
corio_finally:
	corio_end();
}

static struct corio_frame *start_job(void *arg)
{
	return job_task__start(NULL, arg);
}

/* -w: keeps loop 0 busy without awaiting, past the watchdog's limit. */
#define STALL_LIMIT_MS	5
#define STALL_MS	20

corio_async_static(void, stall, (), ())
{
	struct timespec t0, t;

	corio_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 +
	       (t.tv_nsec - t0.tv_nsec) / 1000000 < STALL_MS);
corio_finally:
	corio_end();
}

static struct corio_frame *start_stall(void *arg)
{
	(void)arg;
	return stall__start(NULL);
}

/* Awaits SIGUSR1, which the main thread sends to the process. */
struct signal_wait {
	struct corio_runtime *rt;
	int result;
	int loop;
};

corio_async_static(void, await_signal, ((struct signal_wait *, s)), ())
{
	corio_begin();
	self->s->loop = corio_runtime_self(self->s->rt);
	corio_await(self->s->result, corio_signal, SIGUSR1);
corio_finally:
	corio_end();
}

static struct corio_frame *start_await_signal(void *arg)
{
	return await_signal__start(NULL, arg);
}

struct spawner {
	struct corio_runtime *rt;
	int first, count;
	int errors;
};

/* Phase 2 jobs spawned from an outside thread, on chosen loops. */
static void *spawner_main(void *arg)
{
	struct spawner *sp = arg;
	int i;

	for (i = sp->first; i < sp->first + sp->count; i++)
		if (corio_runtime_spawn(sp->rt, i % (int)nloops, start_job,
					&jobs[i], "stress job") !=
		    i % (int)nloops)
			sp->errors++;
	return NULL;
}

static void phase_work(struct corio_runtime *rt)
{
	struct poster posters[POSTERS];
	pthread_t threads[POSTERS], spawn_thread;
	struct spawner sp = { .rt = rt, .first = JOBS / 2,
			      .count = JOBS - JOBS / 2 };
	struct signal_wait sw = { .rt = rt, .result = 0, .loop = -1 };
	int i, p, ret;

	memset(msgs, 0, sizeof(msgs));
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < JOBS; i++)
		jobs[i] = (struct job){ .rt = rt, .id = i, .home = -1,
					.sq_loop = -1, .cross_loop = -1 };
	check(corio_runtime_spawn(rt, 0, start_await_signal, &sw,
				  "stress signal") == 0, "signal spawn");
	if (watchdog)
		check(corio_runtime_spawn(rt, 0, start_stall, NULL,
					  "stress stall") == 0, "stall spawn");
	for (p = 0; p < POSTERS; p++) {
		posters[p] = (struct poster){ .rt = rt, .id = p };
		check(pthread_create(&threads[p], NULL, poster_main,
				     &posters[p]) == 0, "pthread_create");
	}
	check(pthread_create(&spawn_thread, NULL, spawner_main, &sp) == 0,
	      "pthread_create");
	for (i = 0; i < JOBS / 2; i++) {
		ret = corio_runtime_spawn(rt, CORIO_ANY_LOOP, start_job,
					  &jobs[i], "stress job");
		check(ret >= 0 && ret < (int)nloops, "spawn: %d", ret);
	}
	/* Blocked in every thread: it stays pending until loop 0 reads its
	 * signalfd, whenever the task gets there. */
	check(kill(getpid(), SIGUSR1) == 0, "kill");
	for (p = 0; p < POSTERS; p++) {
		pthread_join(threads[p], NULL);
		check(posters[p].errors == 0, "poster %d: %d posts failed", p,
		      posters[p].errors);
	}
	pthread_join(spawn_thread, NULL);
	check(sp.errors == 0, "%d spawns from a thread failed", sp.errors);

	/* Messages: queued after the posters' ones, the barrier runs after
	 * them on each loop. */
	barrier_all(rt);
	for (p = 0; p < POSTERS; p++)
		for (i = 0; i < MSGS; i++)
			check(msgs[p][i].runs == 1 && !msgs[p][i].wrong,
			      "message %d/%d ran %d times (%d wrong)", p, i,
			      msgs[p][i].runs, msgs[p][i].wrong);

	ret = corio_runtime_wait(rt);
	check(ret == 0, "corio_runtime_wait: %s", corio_strerror(ret));
	for (i = 0; i < JOBS; i++)
		check(jobs[i].done == 1 && jobs[i].leaf_runs == 1,
		      "job %d: done %d, leaf %d", i, jobs[i].done,
		      jobs[i].leaf_runs);
	check(sw.result == SIGUSR1 && sw.loop == 0,
	      "signal task got %d on loop %d", sw.result, sw.loop);
}

/* ---------------------------------------------------------------------- */
/* Phase 3: shutdown while busy.                                          */

/* The tasks of one group; a task's start argument points to its group. */
struct group {
	_Atomic int spawned;	/* spawn calls that succeeded */
	_Atomic int made;	/* start functions called */
	_Atomic int started;	/* tasks that took a first step */
	_Atomic int cleaned;	/* cleanup sections run */
};

static struct {
	struct corio_runtime *rt;
	struct group fixed;	/* spawned by the main thread, per loop */
	struct group naps;	/* started by the fixed call_nap tasks */
	struct group extra;	/* spawned while the shutdown begins */
	_Atomic bool released;	/* blocking jobs may return */
	_Atomic int blocking_runs;
} busy;

/* start_NAME: the start function of group task NAME; counts its frame. */
#define GROUP_START(name)						\
	static struct corio_frame *start_##name(void *arg)		\
	{								\
		atomic_fetch_add(&((struct group *)arg)->made, 1);	\
		return name##__start(NULL, arg);			\
	}

corio_async_static(void, spin, ((struct group *, g)), ())
{
	corio_begin();
	atomic_fetch_add(&self->g->started, 1);
	for (;;)
		corio_yield();
corio_finally:
	atomic_fetch_add(&self->g->cleaned, 1);
	corio_end();
}

corio_async_static(void, nap, ((struct group *, g)), (
	int slept;
))
{
	corio_begin();
	atomic_fetch_add(&self->g->started, 1);
	corio_await(self->slept, corio_sleep, CORIO_SEC(3600));
corio_finally:
	atomic_fetch_add(&self->g->cleaned, 1);
	corio_end();
}

/* Holds a worker thread until the shutdown has begun. */
static intptr_t hold_worker(void *arg)
{
	struct timespec ts = { 0, 200000 };

	(void)arg;
	atomic_fetch_add(&busy.blocking_runs, 1);
	while (!atomic_load(&busy.released))
		nanosleep(&ts, NULL);
	return 5;
}

corio_async_static(void, block, ((struct group *, g)), (
	intptr_t r;
))
{
	corio_begin();
	atomic_fetch_add(&self->g->started, 1);
	for (;;) {
		corio_await(self->r, corio_blocking, hold_worker, NULL);
		check(self->r == 5, "blocking job returned %ld",
		      (long)self->r);
	}
corio_finally:
	atomic_fetch_add(&self->g->cleaned, 1);
	corio_end();
}

GROUP_START(nap)

/* Waits on another loop's nap: cancelled, it waits for that to end. */
corio_async_static(void, call_nap, ((struct group *, g)), (
	int status, next;
))
{
	corio_begin();
	atomic_fetch_add(&self->g->started, 1);
	self->next = (corio_runtime_self(busy.rt) + 1) % (int)nloops;
	corio_await(self->status, corio_run_on, busy.rt, self->next,
		    start_nap, &busy.naps);
	/* Reached only if the caller itself was not cancelled meanwhile. */
	check(self->status == -ECANCELED, "corio_run_on of a nap: %d",
	      self->status);
corio_finally:
	atomic_fetch_add(&self->g->cleaned, 1);
	corio_end();
}

GROUP_START(spin)

/* Spawns from a loop until the runtime refuses. */
corio_async_static(void, spawn_spinners, ((struct group *, g)), (
	int ret;
))
{
	corio_begin();
	atomic_fetch_add(&self->g->started, 1);
	for (;;) {
		self->ret = corio_runtime_spawn(busy.rt, CORIO_ANY_LOOP,
						start_spin, &busy.extra,
						"spinner");
		if (self->ret == -ESHUTDOWN)
			break;
		check(self->ret >= 0, "spawn from a loop: %d", self->ret);
		atomic_fetch_add(&busy.extra.spawned, 1);
		corio_yield();
	}
corio_finally:
	atomic_fetch_add(&self->g->cleaned, 1);
	corio_end();
}

GROUP_START(block)

GROUP_START(call_nap)

GROUP_START(spawn_spinners)

/* Spawns from an outside thread until the runtime refuses. */
static void *outside_spawner(void *arg)
{
	int ret;

	(void)arg;
	for (;;) {
		ret = corio_runtime_spawn(busy.rt, CORIO_ANY_LOOP, start_spin,
					  &busy.extra, "spinner");
		if (ret == -ESHUTDOWN)
			break;
		check(ret >= 0, "spawn from a thread: %d", ret);
		atomic_fetch_add(&busy.extra.spawned, 1);
		sched_yield();
	}
	return NULL;
}

static void *stopper(void *arg)
{
	check(corio_runtime_stop(arg) == 0, "corio_runtime_stop");
	atomic_store(&busy.released, true);
	return NULL;
}

static void spawn_fixed(corio_start_fn fn, const char *name)
{
	unsigned i;
	int k;

	for (i = 0; i < nloops; i++)
		for (k = 0; k < BUSY_PER_LOOP; k++) {
			check(corio_runtime_spawn(busy.rt, (int)i, fn,
						  &busy.fixed, name) == (int)i,
			      "spawn %s", name);
			atomic_fetch_add(&busy.fixed.spawned, 1);
		}
}

static void group_reset(struct group *g)
{
	atomic_store(&g->spawned, 0);
	atomic_store(&g->made, 0);
	atomic_store(&g->started, 0);
	atomic_store(&g->cleaned, 0);
}

/* Every task of @g was made, took its first step and unwound once. */
static void group_check_all(struct group *g, const char *name, int n)
{
	check(atomic_load(&g->made) == n && atomic_load(&g->started) == n &&
	      atomic_load(&g->cleaned) == n,
	      "%s: %d tasks, %d made, %d started, %d unwound", name, n,
	      atomic_load(&g->made), atomic_load(&g->started),
	      atomic_load(&g->cleaned));
}

/* Ends the runtime while every loop is busy. */
static void phase_shutdown(struct corio_runtime *rt, bool by_stop)
{
	struct timespec ts = { 0, 100000 };
	pthread_t outside, stop_thread;
	int nfixed = 5 * BUSY_PER_LOOP * (int)nloops;
	int nnaps = BUSY_PER_LOOP * (int)nloops;
	int ret;

	group_reset(&busy.fixed);
	group_reset(&busy.naps);
	group_reset(&busy.extra);
	atomic_store(&busy.released, false);
	atomic_store(&busy.blocking_runs, 0);
	busy.rt = rt;
	spawn_fixed(start_spin, "spin");
	spawn_fixed(start_nap, "nap");
	spawn_fixed(start_block, "block");
	spawn_fixed(start_call_nap, "call_nap");
	spawn_fixed(start_spawn_spinners, "spawn_spinners");
	if (by_stop)
		check(pthread_create(&outside, NULL, outside_spawner, NULL) ==
		      0, "pthread_create");
	/* Busy means: every fixed task and nap took its first step, a
	 * worker holds a job for each loop and spawns keep coming. */
	while (atomic_load(&busy.fixed.started) < nfixed ||
	       atomic_load(&busy.naps.started) < nnaps ||
	       atomic_load(&busy.blocking_runs) < (int)nloops ||
	       atomic_load(&busy.extra.spawned) < 20)
		nanosleep(&ts, NULL);
	if (by_stop) {
		/* From a thread of its own, while the spawners race it. */
		check(pthread_create(&stop_thread, NULL, stopper, rt) == 0,
		      "pthread_create");
		pthread_join(stop_thread, NULL);
		pthread_join(outside, NULL);
		ret = corio_runtime_wait(rt);
		check(ret == 0, "corio_runtime_wait after stop: %s",
		      corio_strerror(ret));
	} else {
		/* corio_runtime_destroy stops: the jobs must end then. */
		atomic_store(&busy.released, true);
	}
	ret = corio_runtime_destroy(rt);
	check(ret == 0, "corio_runtime_destroy: %s", corio_strerror(ret));
	group_check_all(&busy.fixed, "fixed tasks", nfixed);
	group_check_all(&busy.naps, "naps of corio_run_on", nnaps);
	/* Spawned before the stop took effect, so cancelled, maybe before
	 * their first step: then their frame is released unstarted. */
	check(atomic_load(&busy.extra.made) ==
	      atomic_load(&busy.extra.spawned) &&
	      atomic_load(&busy.extra.cleaned) ==
	      atomic_load(&busy.extra.started),
	      "spinners: %d spawned, %d made, %d started, %d unwound",
	      atomic_load(&busy.extra.spawned), atomic_load(&busy.extra.made),
	      atomic_load(&busy.extra.started),
	      atomic_load(&busy.extra.cleaned));
	if (verbose)
		fprintf(stderr, "iteration %d: shutdown by %s: %d spinners "
			"spawned, %d ran, %d blocking jobs\n", iteration,
			by_stop ? "stop" : "destroy",
			atomic_load(&busy.extra.spawned),
			atomic_load(&busy.extra.started),
			atomic_load(&busy.blocking_runs));
}

/* ---------------------------------------------------------------------- */

static int parse(const char *s, int min, int max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "tsan_stress: %s wants %d..%d, got '%s'\n",
			what, min, max, s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	struct corio_loop_opts opts = { .blocking_threads = 2 };
	struct corio_runtime *rt;
	struct timespec t0, t1;
	int iterations = 10, ch, ret;

	while ((ch = getopt(argc, argv, "i:l:wv")) != -1) {
		switch (ch) {
		case 'i':
			iterations = parse(optarg, 1, 1000000, "-i");
			break;
		case 'l':
			nloops = (unsigned)parse(optarg, 2, MAX_LOOPS, "-l");
			break;
		case 'w':
			watchdog = true;
			opts.stall_ms = STALL_LIMIT_MS;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: tsan_stress [-i ITERATIONS] "
				"[-l LOOPS] [-w] [-v]\n");
			return 2;
		}
	}
	/* Before any thread: the loops' threads inherit the mask. */
	check(corio_signal_block(SIGUSR1) == 0, "corio_signal_block");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (iteration = 0; iteration < iterations; iteration++) {
		ret = corio_runtime_create(&rt, nloops, &opts);
		if (ret == -EPERM || ret == -ENOSYS) {
			fprintf(stderr, "tsan_stress: SKIP: %s\n",
				corio_loop_unavailable_reason());
			return 77;
		}
		check(ret == 0, "corio_runtime_create: %s",
		      corio_strerror(ret));
		resolver.quit = false;
		check(pthread_create(&resolver.thread, NULL, resolver_main,
				     NULL) == 0, "pthread_create");
		phase_work(rt);
		phase_shutdown(rt, iteration % 2 == 0);
		pthread_mutex_lock(&resolver.lock);
		resolver.quit = true;
		pthread_cond_signal(&resolver.cond);
		pthread_mutex_unlock(&resolver.lock);
		pthread_join(resolver.thread, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("tsan_stress: %d iterations of %u loops in %.1f s: ok\n",
	       iterations, nloops, (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
