/* SPDX-License-Identifier: MIT */
/*
 * corio/explore.h - run a test under many schedules, and replay the one that
 * failed.
 *
 * A loop runs its ready tasks in FIFO order, so an ordinary test sees one
 * interleaving of its tasks.  corio_explore() runs the same test many times,
 * each on a fresh loop on the virtual clock, and lets a schedule drawn from a
 * seed decide what the FIFO order would have: which ready task runs next,
 * the order of timers due at the same instant, the order of completions
 * reaped together, and whether an await that completed at once yields
 * first (a spurious yield: the preemption point a thread would have had).
 * It stops at the first schedule that deadlocks, fails a check or crashes,
 * and prints the seed that replays it:
 *
 *	static int start(struct corio_loop *loop, void *arg)
 *	{
 *		struct table *tb = arg;
 *		... init tb's mutexes, spawn the philosophers on loop ...
 *		return 0;
 *	}
 *	static int finish(struct corio_loop *loop, void *arg, int run)
 *	{
 *		... check what the tasks left in arg, destroy the mutexes ...
 *		return meals == 5 ? 0 : -EPROTO;
 *	}
 *	struct corio_explore_body body = { "philosophers", start, finish, &tb };
 *	struct corio_explore_result res;
 *	corio_explore(&body, NULL, &res);  // 1: failed; res.seed replays it
 *
 *	$ CORIO_SEED=0x5bd1e9955bd1e995 ./test   # runs that schedule alone
 *
 * The same seed gives the same schedule, event for event (task ids, steps,
 * yields), on every run and on both backends.  corio/test.h wraps it in
 * corio_assert_explore() for Criterion.  docs/deadlocks.md explains the
 * schedules, replay and the lock-order check.
 */
#ifndef CORIO_EXPLORE_H
#define CORIO_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;

/*
 * The test.  @start spawns its tasks on a fresh @loop (state it keeps goes
 * in @arg, re-initialised by every call): 0, or a negative errno that fails
 * the schedule.  The explorer then runs the loop.  @finish (may be NULL) is
 * called once the loop has nothing left to run, every task that was still
 * waiting having been cancelled and unwound: it checks the outcome, releases
 * what @start made, and returns 0 or a negative errno that fails the
 * schedule.  @run is what corio_loop_run returned.
 *
 * A body may run in a child process (CORIO_EXPLORE_NO_FORK says otherwise):
 * what it writes to memory is not seen by the caller, and a Criterion
 * cr_assert inside it is not allowed.  Fail a schedule by returning an
 * error, with corio_explore_fail() or corio_explore_check(), or by
 * crashing (assert, abort).
 */
struct corio_explore_body {
	const char *name;			/* for messages; may be NULL */
	int (*start)(struct corio_loop *loop, void *arg);
	int (*finish)(struct corio_loop *loop, void *arg, int run);
	void *arg;
};

/* How schedules are drawn (opts.mode). */
enum corio_explore_mode {
	/*
	 * Each schedule has a 64-bit seed: every choice is random, each ready
	 * task equally likely, and an await that completes at once yields
	 * with a probability the seed also draws (0 to 3/4).
	 */
	CORIO_EXPLORE_RANDOM = 0,
	/*
	 * Every schedule that departs from FIFO order at most
	 * opts.preemptions times (run another ready task than the first,
	 * yield at an await that completed at once, reorder timers or
	 * completions), depth first, FIFO itself first.  Finds the
	 * shallowest bugs for certain; the count grows fast with the bound.
	 */
	CORIO_EXPLORE_BOUNDED,
};

/* Run every schedule in the calling process: a crash ends the caller, and
 * nothing bounds a schedule's wall time.  For debuggers, and for bodies
 * whose effects the caller reads. */
#define CORIO_EXPLORE_NO_FORK		0x1u
/* No spurious yields: only real suspensions are scheduling points. */
#define CORIO_EXPLORE_NO_YIELDS		0x2u
/* Allow real I/O (see below). */
#define CORIO_EXPLORE_ALLOW_IO		0x4u
/* Do not check lock order across the schedules (see below). */
#define CORIO_EXPLORE_NO_LOCK_ORDER	0x8u
/* Print nothing on stderr (the result still says everything). */
#define CORIO_EXPLORE_QUIET		0x10u

/*
 * Real I/O.  The loop, not the kernel, must decide every event for a seed
 * to replay a schedule, so by default a step that leaves an I/O operation
 * in flight fails the schedule (CORIO_EXPLORE_IO) instead of waiting for
 * the kernel; such loops run on the epoll backend, which they never
 * reach, because it is the faster one to set up.  With
 * CORIO_EXPLORE_ALLOW_IO the I/O runs, and the completions one wait brings
 * are delivered in an order the schedule picks; which completions arrive
 * together is the kernel's choice, so such a schedule replays exactly only
 * as far as the kernel repeats itself, and only the fork's timeout bounds
 * a wait that never ends.
 *
 * Lock order.  The corio mutexes every schedule takes feed one graph for
 * the whole exploration: a task that locks B while holding A adds A -> B.
 * An edge that closes a cycle (A -> B in one task or schedule, B -> A in
 * another) fails the schedule with CORIO_EXPLORE_LOCK_ORDER although no
 * deadlock happened, naming each lock's acquisition site.
 */

struct corio_explore_opts {
	unsigned schedules;	/* how many; 0 = 1000 */
	uint64_t seed;		/* RANDOM: the first schedule's seed is drawn
				 * from it; 0 = a fixed default, so a test
				 * explores the same schedules every run */
	unsigned mode;		/* enum corio_explore_mode */
	unsigned preemptions;	/* BOUNDED: departures from FIFO; 0 = 2,
				 * at most 16 */
	unsigned flags;		/* CORIO_EXPLORE_* */
	uint64_t max_steps;	/* task steps per schedule before it fails
				 * as one that never ends (a livelock);
				 * 0 = 1,000,000 */
	unsigned timeout_ms;	/* wall time a schedule may take before its
				 * process is killed (not with NO_FORK);
				 * 0 = 10,000 */
	const char *replay;	/* a seed as printed: run that schedule
				 * alone.  NULL = the CORIO_SEED environment
				 * variable, when set */
	FILE *trace;		/* or NULL: each schedule's events, one per
				 * line, after a "schedule SEED" line */
};

/* Why a schedule failed. */
enum corio_explore_failure {
	CORIO_EXPLORE_PASSED = 0,
	CORIO_EXPLORE_DEADLOCK,		/* a deadlock was detected (any kind) */
	CORIO_EXPLORE_FAILED,		/* start, finish, corio_explore_fail or
					 * corio_loop_run returned an error */
	CORIO_EXPLORE_CRASH,		/* the process died (signal, sanitizer,
					 * exit) */
	CORIO_EXPLORE_STEPS,		/* max_steps ran out: it never ends */
	CORIO_EXPLORE_TIMEOUT,		/* timeout_ms ran out: a step never
					 * returns */
	CORIO_EXPLORE_IO,		/* real I/O without ALLOW_IO */
	CORIO_EXPLORE_LOCK_ORDER,	/* mutexes were taken in a cycle */
};

/* "deadlock", "failed", "crash", ... */
CORIO_EXTERN const char *corio_explore_failure_name(
	enum corio_explore_failure f);

struct corio_explore_result {
	enum corio_explore_failure failure;	/* PASSED if none */
	char seed[256];		/* the failing schedule; CORIO_SEED=seed
				 * replays it */
	uint64_t schedules;	/* run, the failing one included */
	uint64_t steps;		/* task steps run in all */
	uint64_t trace_hash;	/* FNV-1a of the failing schedule's events
				 * (of the last one when none failed): equal
				 * hashes, equal traces */
	uint64_t lock_order_cycles; /* potential deadlocks found */
	bool exhausted;		/* BOUNDED: no schedule left in the bound */
	char message[4096];	/* what failed, with the deadlock or
				 * lock-order report */
};

/*
 * Run @body under opts->schedules schedules (@opts may be NULL), or the
 * one opts->replay or CORIO_SEED names.  Stops at the first schedule that
 * fails, prints on stderr what failed and the seed that replays it, and
 * fills *@res.  The calling thread must have no loop.
 * Returns 0 when every schedule passed, 1 when one failed (*@res says
 * which and why), or -EINVAL (no @body->start, a bad option, a seed that
 * does not parse: *@res's message says why), -EBUSY (the thread has a
 * loop), -ENOMEM, or -errno from fork or from creating a loop.
 */
CORIO_EXTERN int corio_explore(const struct corio_explore_body *body,
			       const struct corio_explore_opts *opts,
			       struct corio_explore_result *res);

/*
 * Fail the schedule being explored on this thread with a message (the first
 * failure of a schedule is the one reported), and stop its loop.  For
 * bodies and their tasks.  Outside an exploration the message goes to
 * stderr and the process aborts, as a failed assert() would.
 */
CORIO_EXTERN void corio_explore_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Fail the schedule unless @cond holds, naming it and its file:line. */
#define corio_explore_check(cond)					\
	do {								\
		if (!(cond))						\
			corio_explore_fail("%s:%d: check failed: %s",	\
					   __FILE__, __LINE__, #cond);	\
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_EXPLORE_H */
