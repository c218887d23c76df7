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
 * A test whose loop also runs a server, a periodic task or a sleeper puts
 * the tasks under test in a scope (corio/scope.h): a deadlock among them is
 * then found while the rest still runs, and corio_assert_finished() fails
 * with it instead of hanging until the timeout; corio_assert_scope_deadlock()
 * asserts one.
 *
 * Detection never relies on the timeout: the loop finds the cycle when the
 * await that closes it starts, a scope's deadlock in the iteration in which
 * its last task blocked, and a global deadlock as soon as nothing can wake
 * the tasks.  Keep .timeout only as a backstop.  Create the loop with
 * CORIO_LOOP_VIRTUAL_CLOCK and timer-heavy scenarios take no wall time.
 *
 * A failed assertion carries the whole report in its message (however
 * long), so the failure says which tasks wait on what, where.
 */
#ifndef CORIO_TEST_H
#define CORIO_TEST_H

#include <stdio.h>
#include <stdlib.h>
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

/*
 * Internal: @r as text, whole, in memory the caller frees ("" for no
 * report), or NULL when memory runs out (corio__test_str prints that).
 */
static inline char *corio__test_report_text(
	const struct corio_deadlock_report *r)
{
	size_t need = r ? corio_deadlock_format(r, NULL, 0) : 0;
	char *text = (char *)malloc(need + 1);

	if (text)
		corio_deadlock_format(r, text, need + 1);
	if (text && !r)
		text[0] = '\0';
	return text;
}

/* Internal: a text from these helpers, for a message. */
static inline const char *corio__test_str(const char *text)
{
	return text ? text : "(no memory for the report)\n";
}

/* Internal: every live task of @loop as corio_loop_dump writes it, in
 * memory the caller frees (corio__test_text_free). */
static inline char *corio__test_dump_text(struct corio_loop *loop)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	corio_loop_dump(loop, f);
	fclose(f);
	return text;
}

/* Internal: print the loop's report into the test log. */
static inline void corio__test_log_report(struct corio_loop *loop)
{
	char *text = corio__test_report_text(corio_loop_deadlock(loop));

	if (!text || text[0])
		cr_log_info("%s", corio__test_str(text));
	free(text);
}

/*
 * Assert that no task of @loop is left unfinished (a task stopped half way,
 * or waiting still, is a leak); the message lists the live tasks.
 */
#define corio_assert_no_leaked_tasks(loop)				\
	do {								\
		struct corio_loop_stats corio__st;			\
		char *corio__dump = NULL;				\
		corio_loop_stats((loop), &corio__st);			\
		if (corio__st.tasks_unfinished)				\
			corio__dump = corio__test_dump_text(loop);	\
		cr_assert_eq(corio__st.tasks_unfinished, 0,		\
			     "%llu task%s left unfinished:\n%s",	\
			     (unsigned long long)corio__st.tasks_unfinished, \
			     corio__st.tasks_unfinished == 1 ? "" : "s", \
			     corio__test_str(corio__dump));		\
		free(corio__dump);					\
	} while (0)

/*
 * Run @loop until its tasks finish; fail the test when the run returns an
 * error, found a deadlock of any kind (a cycle, a scope's, a global one, a
 * mutex whose owner ended), or left tasks unfinished.  The report, whole,
 * is the failure's message.
 */
#define corio_assert_finished(loop)					\
	do {								\
		int corio__ret = corio_loop_run(loop);			\
		const struct corio_deadlock_report *corio__r =		\
			corio_loop_deadlock(loop);			\
		char *corio__text = corio__test_report_text(corio__r);	\
		cr_assert(corio__ret == 0 && !corio__r,			\
			  "corio_loop_run: %s%s\n%s",			\
			  corio_strerror(corio__ret), corio__r ?	\
			  "; a deadlock was reported:" : "",		\
			  corio__test_str(corio__text));		\
		free(corio__text);					\
		corio_assert_no_leaked_tasks(loop);			\
	} while (0)

/* Internal: assert the named tasks are all in report @r (text: @text). */
#define corio__assert_names(r, text, ...)				\
	do {								\
		const char *corio__names[] = { __VA_ARGS__ };		\
		size_t corio__i;					\
		for (corio__i = 0; corio__i < sizeof(corio__names) /	\
		     sizeof(corio__names[0]); corio__i++)		\
			cr_assert(corio_report_names((r),		\
					corio__names[corio__i]),	\
				  "task \"%s\" is not in the report:\n%s", \
				  corio__names[corio__i],		\
				  corio__test_str(text));		\
	} while (0)

/*
 * Run @loop and assert a deadlock of kind @want involving the named tasks (one
 * or more string literals).  A global or scope deadlock must make the run
 * return -EDEADLK; a cycle fails only the await that would close it, and
 * a mutex whose owner ended passes on, so the run may end normally.
 */
#define corio_assert_deadlock(loop, want, ...)				\
	do {								\
		const struct corio_deadlock_report *corio__r;		\
		char *corio__text;					\
		int corio__ret = corio_loop_run(loop);			\
		corio__r = corio_loop_deadlock(loop);			\
		cr_assert_not_null(corio__r, "no deadlock was found "	\
				   "(run returned %d)", corio__ret);	\
		corio__test_log_report(loop);				\
		corio__text = corio__test_report_text(corio__r);	\
		cr_assert_eq(corio__r->kind, (want),			\
			     "deadlock kind %d, expected %d:\n%s",	\
			     (int)corio__r->kind, (int)(want),		\
			     corio__test_str(corio__text));		\
		if ((want) == CORIO_DEADLOCK_GLOBAL ||			\
		    (want) == CORIO_DEADLOCK_SCOPE)			\
			cr_assert_eq(corio__ret, -EDEADLK, "run "	\
				     "returned %d:\n%s", corio__ret,	\
				     corio__test_str(corio__text));	\
		corio__assert_names(corio__r, corio__text, __VA_ARGS__); \
		free(corio__text);					\
	} while (0)

/*
 * Run @loop and assert that scope @sc deadlocked (corio/scope.h): the
 * run returns -EDEADLK with a report of kind CORIO_DEADLOCK_SCOPE for
 * @sc that names the tasks given (one or more string literals), however
 * busy the rest of the loop is.
 */
#define corio_assert_scope_deadlock(loop, sc, ...)			\
	do {								\
		const struct corio_deadlock_report *corio__r;		\
		char *corio__text;					\
		int corio__ret = corio_loop_run(loop);			\
		corio__r = corio_loop_deadlock(loop);			\
		corio__text = corio__test_report_text(corio__r);	\
		cr_assert(corio__ret == -EDEADLK && corio__r &&		\
			  corio__r->kind == CORIO_DEADLOCK_SCOPE,	\
			  "no deadlock of scope \"%s\" (run returned "	\
			  "%d)%s\n%s", corio_scope_name(sc),		\
			  corio__ret, corio__r ? "; found instead:" :	\
			  "", corio__test_str(corio__text));		\
		cr_assert(corio_scope_deadlock(sc) &&		\
			  !strcmp(corio__r->scope,			\
				  corio_scope_name(sc)),		\
			  "the deadlock is another scope's:\n%s",	\
			  corio__test_str(corio__text));		\
		cr_log_info("%s", corio__test_str(corio__text));	\
		corio__assert_names(corio__r, corio__text, __VA_ARGS__); \
		free(corio__text);					\
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
