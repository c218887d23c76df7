/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/explore_run.c - corio_explore: the schedules to run, a fresh
 * loop for each, what counts as a failure, and the child process that
 * keeps a crash or a step that never returns from taking the caller along.
 *
 * RANDOM draws schedule i's seed as the i-th output of a generator seeded
 * with opts.seed, so a seed printed once names its schedule alone.
 * BOUNDED walks the tree of schedules depth first, as stateless model
 * checkers do: a schedule is the list of decisions at which it departs from
 * FIFO; its children add one departure after its last one; the option
 * counts each run records (one array per depth, the parent's kept while
 * its children run) say which departures exist.  The program is
 * deterministic, so a child's run repeats its parent's up to the new
 * departure and the parent's counts hold for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/explore.h"
#include "core/lockgraph.h"

#define DEFAULT_SCHEDULES 1000
#define DEFAULT_SEED 0x5bd1e9955bd1e995ull
#define DEFAULT_PREEMPTIONS 2
#define DEFAULT_MAX_STEPS 1000000
#define DEFAULT_TIMEOUT_MS 10000
#define KNOWN_FLAGS (CORIO_EXPLORE_NO_FORK | CORIO_EXPLORE_NO_YIELDS | \
		     CORIO_EXPLORE_ALLOW_IO | CORIO_EXPLORE_NO_LOCK_ORDER | \
		     CORIO_EXPLORE_QUIET)

/* What the child process shares with its parent. */
struct shared {
	_Atomic uint64_t started;	/* schedules begun */
	char current[256];		/* seed of the one running */
	bool done;			/* the child got to the end */
	int fatal;			/* 0, or the -errno that ended it */
	struct corio_explore_result res;
};

struct plan {
	const struct corio_explore_body *body;
	struct corio_explore_opts o;	/* with the defaults */
	struct corio_explore_result *res;
	struct corio__explore x;
	struct corio__lockgraph *graph;	/* NULL with NO_LOCK_ORDER */
	struct shared *sh;		/* NULL with NO_FORK */
	bool replay;
	uint64_t replay_seed;		/* RANDOM replay */
	uint64_t seed;			/* the schedule's */
	char current[256];		/* its name, as printed */
	/* BOUNDED: the option counts of the runs on the current path,
	 * level[d] the one with d departures. */
	uint16_t *level[CORIO__EXPLORE_MAX_DEV + 1];
	uint32_t level_n[CORIO__EXPLORE_MAX_DEV + 1];
	uint32_t level_cap[CORIO__EXPLORE_MAX_DEV + 1];
};

const char *corio_explore_failure_name(enum corio_explore_failure f)
{
	static const char *const names[] = {
		[CORIO_EXPLORE_PASSED] = "passed",
		[CORIO_EXPLORE_DEADLOCK] = "deadlock",
		[CORIO_EXPLORE_FAILED] = "failed",
		[CORIO_EXPLORE_CRASH] = "crash",
		[CORIO_EXPLORE_STEPS] = "never ends",
		[CORIO_EXPLORE_TIMEOUT] = "timeout",
		[CORIO_EXPLORE_IO] = "real I/O",
		[CORIO_EXPLORE_LOCK_ORDER] = "lock order",
	};

	if ((unsigned)f >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[f];
}

/* ---------------------------------------------------------------------- */
/* Seeds.                                                                 */

/* A BOUNDED schedule's name: "b:" and its departures, "at.choice,...". */
static void name_bounded(const struct corio__explore *x, char *buf,
			 size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "b:");
	unsigned i;

	for (i = 0; i < x->ndev && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u.%u",
					i ? "," : "", x->dev[i].at,
					x->dev[i].choice);
}

/* Parse an unsigned decimal number ending at one of @stops or the end. */
static const char *parse_u32(const char *s, uint32_t *v)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return NULL;
	}
	*v = (uint32_t)n;
	return s;
}

/* "b:" then at.choice pairs by increasing at, choice >= 1. */
static int parse_bounded(const char *s, struct corio__explore *x)
{
	x->ndev = 0;
	while (*s) {
		struct corio__explore_dev d;

		if (x->ndev && *s++ != ',')
			return -EINVAL;
		if (x->ndev == CORIO__EXPLORE_MAX_DEV)
			return -EINVAL;
		s = parse_u32(s, &d.at);
		if (!s || *s++ != '.')
			return -EINVAL;
		s = parse_u32(s, &d.choice);
		if (!s || !d.choice ||
		    (x->ndev && d.at <= x->dev[x->ndev - 1].at))
			return -EINVAL;
		x->dev[x->ndev++] = d;
	}
	return 0;
}

static int parse_seed(struct plan *p, const char *s)
{
	char *end;

	if (!strncmp(s, "b:", 2)) {
		p->x.mode = CORIO_EXPLORE_BOUNDED;
		return parse_bounded(s + 2, &p->x);
	}
	/* strtoull takes a sign and leading blanks: a seed has neither. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	p->replay_seed = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	p->x.mode = CORIO_EXPLORE_RANDOM;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* One schedule.                                                          */

/*
 * A schedule that failed or deadlocked leaves tasks behind: cancel them
 * and run until they are gone, in FIFO order and with a fresh step budget.
 * Returns 0, or -EBUSY when some never end (they ignore cancellation).
 */
static int unwind(struct corio_loop *loop, struct corio__explore *x)
{
	uint64_t limit = x->max_steps;
	int round;

	x->cleanup = true;
	for (round = 0; loop->unfinished && round < 4; round++) {
		x->max_steps = x->steps + limit;
		corio__tasks_cancel_all(loop);
		corio_loop_run(loop);
	}
	x->max_steps = limit;
	x->cleanup = false;
	return loop->unfinished ? -EBUSY : 0;
}

/* The loop's verdict, unless the schedule already failed. */
static void judge_run(struct corio_loop *loop, struct plan *p, int run)
{
	const struct corio_deadlock_report *r = corio_loop_deadlock(loop);
	char text[3072];

	if (r) {
		corio_deadlock_format(r, text, sizeof(text));
		corio__explore_failed(loop, CORIO_EXPLORE_DEADLOCK, "%s", text);
	} else if (run == -EDEADLK) {
		corio__explore_failed(loop, CORIO_EXPLORE_DEADLOCK,
			"corio_loop_run: tasks remain that nothing can wake");
	} else if (run < 0) {
		corio__explore_failed(loop, CORIO_EXPLORE_FAILED,
			"corio_loop_run returned %d (%s)", run,
			corio_strerror(run));
	}
	if (p->graph && corio__lockgraph_cycles(p->graph) >
			p->res->lock_order_cycles) {
		corio__lockgraph_format(p->graph, p->res->lock_order_cycles,
					text, sizeof(text));
		p->res->lock_order_cycles = corio__lockgraph_cycles(p->graph);
		corio__explore_failed(loop, CORIO_EXPLORE_LOCK_ORDER, "%s",
				      text);
	}
}

/* Run the schedule p->x describes.  0 (*p->res tells whether it
 * failed), or a -errno that ends the exploration. */
static int run_schedule(struct plan *p)
{
	/*
	 * A body without I/O never reaches the backend (the virtual clock
	 * never sleeps in it), so which one it gets changes no event; epoll
	 * is set up in 8 us where io_uring takes 30 to 40 (the kernel
	 * clears the ring's pages), most of a short schedule.  With I/O,
	 * the backend the environment chooses.
	 */
	struct corio_loop_opts lo = {
		.flags = CORIO_LOOP_VIRTUAL_CLOCK,
		.backend = p->x.allow_io ? CORIO_LOOP_BACKEND_AUTO :
			   CORIO_LOOP_BACKEND_EPOLL,
	};
	const struct corio_explore_body *b = p->body;
	struct corio__explore *x = &p->x;
	struct corio_loop *loop;
	int err, ret, run = 0;

	corio__explore_reset(x, p->seed);
	if (x->mode == CORIO_EXPLORE_BOUNDED)
		name_bounded(x, p->current, sizeof(p->current));
	else
		snprintf(p->current, sizeof(p->current), "0x%016" PRIx64,
			 p->seed);
	if (p->sh) {
		memcpy(p->sh->current, p->current, sizeof(p->current));
		atomic_fetch_add(&p->sh->started, 1);
	}
	if (x->trace)
		fprintf(x->trace, "schedule %s\n", p->current);
	err = corio_loop_create(&loop, &lo);
	if (err) {
		snprintf(p->res->message, sizeof(p->res->message),
			 "corio_loop_create: %s (%s)", corio_strerror(err),
			 corio_loop_unavailable_reason());
		return err;
	}
	/* The virtual clock starts at CORIO_VIRTUAL_CLOCK_START: the same
	 * instant in every schedule, so timers fall into the same wheel
	 * slots and fire in the same order. */
	loop->explore = x;
	corio__loop_slow_sync(loop);
	if (p->graph)
		corio__lockgraph_attach(p->graph, loop,
					(uint32_t)p->res->schedules + 1);
	ret = b->start(loop, b->arg);
	if (ret) {
		corio__explore_failed(loop, CORIO_EXPLORE_FAILED,
			"start returned %d (%s)", ret, corio_strerror(ret));
	} else {
		run = corio_loop_run(loop);
		judge_run(loop, p, run);
	}
	err = unwind(loop, x);
	if (!err && b->finish) {
		ret = b->finish(loop, b->arg, run);
		if (ret)
			corio__explore_failed(loop, CORIO_EXPLORE_FAILED,
				"finish returned %d (%s)", ret,
				corio_strerror(ret));
	}
	p->res->schedules++;
	p->res->steps += x->steps;
	p->res->trace_hash = x->hash;
	if (x->failure != CORIO_EXPLORE_PASSED) {
		p->res->failure = x->failure;
		memcpy(p->res->seed, p->current, sizeof(p->res->seed));
	}
	/* Both outlive this loop no longer than corio_explore. */
	loop->explore = NULL;
	loop->lockgraph = NULL;
	corio__loop_slow_sync(loop);
	if (err) {
		/* The loop cannot be destroyed with tasks alive: it stays,
		 * and so does the thread's loop. */
		snprintf(p->res->message, sizeof(p->res->message),
			 "schedule %s left tasks that do not end when "
			 "cancelled; the exploration cannot go on",
			 p->current);
		return err;
	}
	return corio_loop_destroy(loop);
}

/* ---------------------------------------------------------------------- */
/* The schedules.                                                         */

/* Keep this run's option counts as level @d's. */
static int keep_counts(struct plan *p, unsigned d)
{
	uint32_t n = p->x.decisions;

	if (p->x.counts_lost || n > p->x.counts_cap)
		n = p->x.counts_cap;
	if (n > p->level_cap[d]) {
		uint16_t *v = corio__malloc(sizeof(*v) * n);

		if (!v)
			return -ENOMEM;
		corio__free(p->level[d]);
		p->level[d] = v;
		p->level_cap[d] = n;
	}
	if (n)
		memcpy(p->level[d], p->x.counts, sizeof(*p->x.counts) * n);
	p->level_n[d] = n;
	return 0;
}

/* The first decision from @from on with a second option in @d's run. */
static bool next_branch(const struct plan *p, unsigned d, uint32_t from,
			uint32_t *at)
{
	uint32_t i;

	for (i = from; i < p->level_n[d]; i++)
		if (p->level[d][i] > 1) {
			*at = i;
			return true;
		}
	return false;
}

/* Move p->x to the next BOUNDED schedule, depth first; false when none
 * is left within the bound. */
static bool next_bounded(struct plan *p)
{
	struct corio__explore *x = &p->x;
	unsigned d = x->ndev;
	uint32_t at;

	if (d < p->o.preemptions &&
	    next_branch(p, d, d ? x->dev[d - 1].at + 1 : 0, &at)) {
		x->dev[d] = (struct corio__explore_dev){ at, 1 };
		x->ndev = d + 1;
		return true;
	}
	for (; d > 0; d--) {
		struct corio__explore_dev *dev = &x->dev[d - 1];

		x->ndev = d;
		if (dev->choice + 1 < p->level[d - 1][dev->at]) {
			dev->choice++;
			return true;
		}
		if (next_branch(p, d - 1, dev->at + 1, &at)) {
			*dev = (struct corio__explore_dev){ at, 1 };
			return true;
		}
	}
	return false;
}

static int run_all(struct plan *p)
{
	uint64_t gen = p->o.seed ? p->o.seed : DEFAULT_SEED;
	int err = 0;

	if (p->graph)
		p->res->lock_order_cycles = 0;
	if (p->replay) {
		p->seed = p->replay_seed;
		return run_schedule(p);
	}
	while (p->res->schedules < p->o.schedules) {
		if (p->x.mode == CORIO_EXPLORE_RANDOM)
			p->seed = corio__explore_next64(&gen);
		err = run_schedule(p);
		if (err || p->res->failure != CORIO_EXPLORE_PASSED)
			break;
		if (p->x.mode != CORIO_EXPLORE_BOUNDED)
			continue;
		err = keep_counts(p, p->x.ndev);
		if (err)
			break;
		if (!next_bounded(p)) {
			p->res->exhausted = true;
			break;
		}
	}
	return err;
}

/* ---------------------------------------------------------------------- */
/* The child process.                                                     */

static int64_t mono_ms(void)
{
	return corio__clock_now() / 1000000;
}

/* Wait for the child: it ends (the pipe's write end, which only it holds,
 * closes), or a schedule runs past the timeout and it is killed.  Returns
 * the wait status; *@killed says whether it was killed. */
static int wait_child(struct plan *p, pid_t pid, int fd, bool *killed)
{
	uint64_t seen = atomic_load(&p->sh->started);
	int64_t since = mono_ms();
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int status = 0;

	*killed = false;
	for (;;) {
		int64_t left = (int64_t)p->o.timeout_ms -
			       (mono_ms() - since);
		uint64_t now_started;

		if (left <= 0) {
			kill(pid, SIGKILL);
			*killed = true;
			break;
		}
		/* Wake at least every 100 ms to see progress. */
		if (poll(&pfd, 1, left < 100 ? (int)left : 100) > 0)
			break;	/* POLLHUP: the child is gone */
		now_started = atomic_load(&p->sh->started);
		if (now_started != seen) {
			seen = now_started;
			since = mono_ms();
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* The child died in the middle of a schedule: that one failed. */
static void child_died(struct plan *p, int status, bool killed)
{
	struct corio_explore_result *res = p->res;

	res->schedules = atomic_load(&p->sh->started);
	memcpy(res->seed, p->sh->current, sizeof(res->seed));
	if (killed) {
		res->failure = CORIO_EXPLORE_TIMEOUT;
		snprintf(res->message, sizeof(res->message),
			 "schedule %s ran for %u ms: a task step that never "
			 "returns, or a wait for I/O that never comes (its "
			 "process was killed)", res->seed, p->o.timeout_ms);
	} else if (WIFSIGNALED(status)) {
		res->failure = CORIO_EXPLORE_CRASH;
		snprintf(res->message, sizeof(res->message),
			 "schedule %s crashed: signal %d (%s)", res->seed,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else {
		res->failure = CORIO_EXPLORE_CRASH;
		snprintf(res->message, sizeof(res->message),
			 "schedule %s ended its process with exit status %d "
			 "(a sanitizer's report, or exit() in the body?)",
			 res->seed, WIFEXITED(status) ? WEXITSTATUS(status) :
			 -1);
	}
}

static int run_forked(struct plan *p)
{
	struct corio_explore_result *res = p->res;
	struct shared *sh;
	int fds[2], status, err = 0;
	bool killed;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	if (pipe(fds)) {
		err = -errno;
		goto err_unmap;
	}
	/* Whatever is buffered would otherwise be written twice. */
	fflush(stdout);
	fflush(stderr);
	if (p->o.trace)
		fflush(p->o.trace);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		goto err_unmap;
	}
	if (pid == 0) {
		close(fds[0]);
		p->sh = sh;
		p->res = &sh->res;
		p->x.message = sh->res.message;
		sh->fatal = run_all(p);
		sh->done = true;
		if (p->o.trace)
			fflush(p->o.trace);
		_exit(0);	/* no atexit handlers: they are the caller's */
	}
	close(fds[1]);
	p->sh = sh;
	status = wait_child(p, pid, fds[0], &killed);
	close(fds[0]);
	if (sh->done && !killed) {
		*res = sh->res;
		err = sh->fatal;
	} else {
		child_died(p, status, killed);
	}
	p->sh = NULL;
err_unmap:
	munmap(sh, sizeof(*sh));
	return err;
}

/* ---------------------------------------------------------------------- */
/* The entry point.                                                       */

static int set_opts(struct plan *p, const struct corio_explore_opts *opts)
{
	char *msg = p->res->message;
	size_t len = sizeof(p->res->message);

	if (opts)
		p->o = *opts;
	if (!p->o.schedules)
		p->o.schedules = DEFAULT_SCHEDULES;
	if (!p->o.preemptions)
		p->o.preemptions = DEFAULT_PREEMPTIONS;
	if (!p->o.max_steps)
		p->o.max_steps = DEFAULT_MAX_STEPS;
	if (!p->o.timeout_ms)
		p->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!p->body || !p->body->start) {
		snprintf(msg, len, "no body, or no start function");
		return -EINVAL;
	}
	if (p->o.mode > CORIO_EXPLORE_BOUNDED) {
		snprintf(msg, len, "mode %u: no such mode", p->o.mode);
		return -EINVAL;
	}
	if (p->o.preemptions > CORIO__EXPLORE_MAX_DEV) {
		snprintf(msg, len, "preemptions %u: at most %u",
			 p->o.preemptions, CORIO__EXPLORE_MAX_DEV);
		return -EINVAL;
	}
	if (p->o.flags & ~KNOWN_FLAGS) {
		snprintf(msg, len, "flags 0x%x: unknown",
			 p->o.flags & ~KNOWN_FLAGS);
		return -EINVAL;
	}
	p->x.mode = p->o.mode;
	p->x.max_steps = p->o.max_steps;
	p->x.yields = !(p->o.flags & CORIO_EXPLORE_NO_YIELDS);
	p->x.allow_io = p->o.flags & CORIO_EXPLORE_ALLOW_IO;
	p->x.trace = p->o.trace;
	return 0;
}

static void say(const struct plan *p, int ret)
{
	const struct corio_explore_result *res = p->res;
	const char *name = p->body && p->body->name ? p->body->name : "body";

	if (p->o.flags & CORIO_EXPLORE_QUIET)
		return;
	if (ret < 0) {
		fprintf(stderr, "corio: explore \"%s\": %s\n", name,
			res->message[0] ? res->message : corio_strerror(ret));
		return;
	}
	if (ret == 0)
		return;
	fprintf(stderr, "corio: explore \"%s\": schedule %" PRIu64 " failed "
		"(%s):\n%s\ncorio: replay it with CORIO_SEED=%s\n", name,
		res->schedules, corio_explore_failure_name(res->failure),
		res->message, res->seed);
}

int corio_explore(const struct corio_explore_body *body,
		  const struct corio_explore_opts *opts,
		  struct corio_explore_result *res)
{
	struct plan p = { .body = body, .res = res };
	const char *seed;
	unsigned d;
	int ret;

	if (!res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	p.x.message = res->message;
	p.x.message_len = sizeof(res->message);
	ret = set_opts(&p, opts);
	if (ret)
		goto out;
	seed = p.o.replay ? p.o.replay : getenv("CORIO_SEED");
	if (seed && *seed) {
		p.replay = true;
		ret = parse_seed(&p, seed);
		if (ret) {
			snprintf(res->message, sizeof(res->message),
				 "CORIO_SEED=\"%.64s\" names no schedule: a "
				 "number (0x... or decimal) or \"b:\" and "
				 "at.choice pairs, as corio printed it", seed);
			goto out;
		}
	}
	if (corio__tls_loop) {
		snprintf(res->message, sizeof(res->message),
			 "the calling thread has a loop: explore from a "
			 "thread without one");
		ret = -EBUSY;
		goto out;
	}
	if (!(p.o.flags & CORIO_EXPLORE_NO_LOCK_ORDER)) {
		p.graph = corio__lockgraph_create(false);
		if (!p.graph) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (p.o.flags & CORIO_EXPLORE_NO_FORK)
		ret = run_all(&p);
	else
		ret = run_forked(&p);
	if (!ret && res->failure != CORIO_EXPLORE_PASSED)
		ret = 1;
	/* p.x.message points into *res: copied whole by the child. */
	corio__lockgraph_free(p.graph);
	corio__free(p.x.counts);
	for (d = 0; d <= CORIO__EXPLORE_MAX_DEV; d++)
		corio__free(p.level[d]);
out:
	say(&p, ret);
	return ret;
}
