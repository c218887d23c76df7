/* SPDX-License-Identifier: MIT */
/*
 * corio/test.h - Criterion assertions for tests of async code.
 *
 * Include it after <criterion/criterion.h>.  A test runs its tasks with
 * corio_assert_finished() (every task ended, no deadlock) or asserts the
 * deadlock it expects with corio_assert_deadlock():
 *
 *	Test(bank, transfer_deadlocks, .timeout = 5)
 *	{
 *		... spawn tasks "alice" and "bob" on loop ...
 *		corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE,
 *				      "alice", "bob");
 *	}
 *
 * Detection never relies on the timeout: the loop finds the cycle when the
 * await that closes it starts, and a global deadlock as soon as nothing can
 * wake the tasks.  Keep .timeout only as a backstop.  Create the loop with
 * CORIO_LOOP_VIRTUAL_CLOCK and timer-heavy scenarios take no wall time.
 */
#ifndef CORIO_TEST_H
#define CORIO_TEST_H

#include <string.h>

#include "../corio.h"

#ifndef CRITERION_H_
#error "include <criterion/criterion.h> before <corio/test.h>"
#endif

/* Is a task named @name in report @r (cycle or blocked)? */
static inline int corio_report_names(const struct corio_deadlock_report *r,
				     const char *name)
{
	size_t i;

	for (i = 0; r && i < r->ncycle; i++)
		if (!strcmp(r->cycle[i].name, name))
			return 1;
	for (i = 0; r && i < r->nblocked; i++)
		if (!strcmp(r->blocked[i].name, name))
			return 1;
	return 0;
}

/* Internal: print the loop's report into the test log. */
static inline void corio__test_log_report(struct corio_loop *loop)
{
	const struct corio_deadlock_report *r = corio_loop_deadlock(loop);
	char text[4096];

	if (!r)
		return;
	corio_deadlock_format(r, text, sizeof(text));
	cr_log_info("%s", text);
}

/*
 * Run @loop until its tasks finish; fail the test when it returns an
 * error or found a deadlock (the report goes to the test log).
 */
#define corio_assert_finished(loop)					\
	do {								\
		int corio__ret = corio_loop_run(loop);			\
		if (corio__ret || corio_loop_deadlock(loop))		\
			corio__test_log_report(loop);			\
		cr_assert_eq(corio__ret, 0, "corio_loop_run: %s",	\
			     corio_strerror(corio__ret));		\
		cr_assert_null(corio_loop_deadlock(loop),		\
			       "a deadlock was reported");		\
	} while (0)

/*
 * Run @loop and assert a deadlock of kind @want involving the named tasks (one
 * or more string literals).  A global deadlock must make the run return
 * -EDEADLK; a cycle fails only the await that would close it, so the run
 * may end normally.
 */
#define corio_assert_deadlock(loop, want, ...)				\
	do {								\
		const char *corio__names[] = { __VA_ARGS__ };		\
		const struct corio_deadlock_report *corio__r;		\
		size_t corio__i;					\
		int corio__ret = corio_loop_run(loop);			\
		corio__r = corio_loop_deadlock(loop);			\
		cr_assert_not_null(corio__r, "no deadlock was found "	\
				   "(run returned %d)", corio__ret);	\
		corio__test_log_report(loop);				\
		cr_assert_eq(corio__r->kind, (want),			\
			     "deadlock kind %d, expected %d",		\
			     (int)corio__r->kind, (int)(want));		\
		if ((want) == CORIO_DEADLOCK_GLOBAL)			\
			cr_assert_eq(corio__ret, -EDEADLK);		\
		for (corio__i = 0; corio__i < sizeof(corio__names) /	\
		     sizeof(corio__names[0]); corio__i++)		\
			cr_assert(corio_report_names(corio__r,		\
					corio__names[corio__i]),	\
				  "task \"%s\" is not in the report",	\
				  corio__names[corio__i]);		\
	} while (0)

/*
 * Explore @body (a struct corio_explore_body *) under the schedules @opts
 * (a struct corio_explore_opts *, or NULL for the defaults) asks for, and
 * fail the test when a schedule fails: a deadlock, a failed check, a crash,
 * a run that never ends, a lock-order cycle.  The message says what failed
 * and the CORIO_SEED that replays it (corio/explore.h).
 */
#define corio_assert_explore(body, opts)				\
	do {								\
		struct corio_explore_result corio__res;			\
		int corio__ret = corio_explore((body), (opts),		\
					       &corio__res);		\
		cr_assert_geq(corio__ret, 0, "corio_explore: %s: %s",	\
			      corio_strerror(corio__ret),		\
			      corio__res.message);			\
		cr_assert_eq(corio__ret, 0, "schedule %llu of the "	\
			     "exploration failed (%s):\n%s\nreplay it " \
			     "with CORIO_SEED=%s",			\
			     (unsigned long long)corio__res.schedules,	\
			     corio_explore_failure_name(		\
				     corio__res.failure),		\
			     corio__res.message, corio__res.seed);	\
	} while (0)

/*
 * Fail the test when @loop (created with CORIO_LOOP_LOCK_ORDER) saw mutexes
 * taken in a cycle: a potential deadlock, though the run did not deadlock
 * (corio/lockorder.h).  The message has both acquisition sites of every
 * edge.
 */
#define corio_assert_lock_order_clean(loop)				\
	do {								\
		char corio__text[4096] = "";				\
		size_t corio__n = corio_lock_order_cycles(loop);	\
		if (corio__n)						\
			corio_lock_order_format((loop), corio__text,	\
						sizeof(corio__text));	\
		cr_assert_eq(corio__n, 0, "%zu lock-order cycle%s:\n%s", \
			     corio__n, corio__n == 1 ? "" : "s",	\
			     corio__text);				\
	} while (0)

#endif /* CORIO_TEST_H */
