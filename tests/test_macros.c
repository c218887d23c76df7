/* SPDX-License-Identifier: MIT */
/*
 * tests/test_macros.c - semantics of the macro DSL: resume order, typed
 * results, several awaits on a line, awaits inside a user switch, cleanup
 * on return, throw and cancel, error propagation, deep recursion at a
 * constant C stack depth.  Built twice: with labels-as-values dispatch and
 * with CORIO_NO_LABELS_AS_VALUES (one switch over the body).
 */
#include "testutil.h"

#include <signal.h>

#include <corio/async.h>

static struct t_log log_;

#define CHECK_LOG(expected) \
	cr_assert_str_eq(log_.buf, (expected), "log: \"%s\"", log_.buf)

/* ---- typed results and several awaits per line ---------------------- */

corio_async(int, add, ((int, a), (int, b)), ())
{
	corio_begin();
	corio_yield();
	corio_return(self->a + self->b);
corio_finally:
	corio_end();
}

corio_async(long, sum3, ((int, base)), (
	int x, y, z;
))
{
	corio_begin();
	corio_await(self->x, add, self->base, 1); corio_await(self->y, add, self->base, 2); corio_await(self->z, add, self->base, 3);
	corio_return((long)self->x + self->y + self->z);
corio_finally:
	corio_end();
}

Test(macros, typed_results_and_awaits_on_one_line, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	long total = 0;
	int status = 1;

	cr_assert_eq(corio_spawn(loop, sum3__start(NULL, 10, &total), &t), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &status), 0);
	cr_assert_eq(status, 0);
	cr_assert_eq(total, 36);
	t_loop_done(loop);
}

/* ---- void functions, no parameters, no locals ---------------------- */

static int ticks;

corio_async(void, tick, (), ())
{
	corio_begin();
	ticks++;
	corio_yield();
	ticks++;
corio_finally:
	corio_end();
}

corio_async(int, tick_twice, (), ())
{
	corio_begin();
	corio_await_void(tick);
	corio_await_void(tick);
	corio_return(ticks);
corio_finally:
	corio_end();
}

Test(macros, void_and_parameterless_functions, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int seen = 0;

	ticks = 0;
	cr_assert_eq(corio_spawn(loop, tick_twice__start(NULL, &seen), NULL), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(seen, 4);
	t_loop_done(loop);
}

/* ---- interleaving of two tasks through yields ----------------------- */

corio_async(void, stepper, ((const char *, name), (int, steps)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->steps; self->i++) {
		t_log_add(&log_, "%s%d", self->name, self->i);
		corio_yield();
	}
corio_finally:
	corio_end();
}

Test(macros, yields_interleave_round_robin, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, stepper__start(NULL, "a", 3), NULL);
	corio_spawn(loop, stepper__start(NULL, "b", 2), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	CHECK_LOG("a0 b0 a1 b1 a2");
	t_loop_done(loop);
}

/* ---- an await inside the user's own switch -------------------------- */

#ifndef CORIO_NO_LABELS_AS_VALUES
corio_async(int, classify, ((int, n)), (
	int r;
))
{
	corio_begin();
	switch (self->n % 3) {
	case 0:
		corio_await(self->r, add, self->n, 100);
		t_log_add(&log_, "zero:%d", self->r);
		break;
	case 1:
		corio_yield();
		t_log_add(&log_, "one");
		/* fall through */
	default:
		corio_await(self->r, add, self->n, 1000);
		t_log_add(&log_, "other:%d", self->r);
		break;
	}
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(void, classify_all, (), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < 3; self->i++)
		corio_await(self->r, classify, self->i);
corio_finally:
	corio_end();
}

Test(macros, await_inside_user_switch, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, classify_all__start(NULL), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	CHECK_LOG("zero:100 one other:1001 other:1002");
	t_loop_done(loop);
}
#endif

/* ---- cleanup on return, throw and cancel; errors climb the chain ---- */

corio_async(int, leaf, ((int, mode)), (
	int slept;
))
{
	corio_begin();
	if (self->mode == 1)
		corio_throw(-EIO);
	if (self->mode == 2)
		corio_await(self->slept, corio_sleep, CORIO_SEC(3600));
	corio_return(7);
corio_finally:
	t_log_add(&log_, "leaf:%d", self->hdr.err);
	corio_end();
}

corio_async(int, middle, ((int, mode)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, leaf, self->mode);
	t_log_add(&log_, "middle-after");
	corio_return(self->r + 1);
corio_finally:
	t_log_add(&log_, "middle:%d", self->hdr.err);
	corio_end();
}

corio_async(int, top, ((int, mode)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, middle, self->mode);
	corio_return(self->r + 1);
corio_finally:
	t_log_add(&log_, "top:%d", self->hdr.err);
	corio_end();
}

static int run_top(int mode, int *result)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int status = 12345;

	memset(&log_, 0, sizeof(log_));
	cr_assert_eq(corio_spawn(loop, top__start(NULL, mode, result), &t), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &status), 0);
	t_loop_done(loop);
	return status;
}

Test(macros, cleanup_runs_on_normal_return, .timeout = 10)
{
	int result = 0;

	cr_assert_eq(run_top(0, &result), 0);
	cr_assert_eq(result, 9);
	CHECK_LOG("leaf:0 middle-after middle:0 top:0");
}

Test(macros, throw_unwinds_three_levels, .timeout = 10)
{
	int result = -1;

	cr_assert_eq(run_top(1, &result), -EIO);
	cr_assert_eq(result, -1, "no result is written on failure");
	CHECK_LOG("leaf:-5 middle:-5 top:-5");
}

/* A task that cancels another, after letting it reach its sleep. */
corio_async(int, canceller, ((struct corio_task *, victim)), (
	int status;
))
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_task_cancel(self->victim), 0);
	corio_await(self->status, corio_join, self->victim);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(macros, cancel_runs_every_cleanup_innermost_first, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	int result = -1, status = 0;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, top__start(NULL, 2, &result), &victim);
	corio_spawn(loop, canceller__start(NULL, victim, &status), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_eq(result, -1);
	CHECK_LOG("leaf:-125 middle:-125 top:-125");
	t_loop_done(loop);
}

/* ---- deep recursion runs at a constant C stack depth ---------------- */

corio_async(long, depth, ((long, n)), (
	long below;
))
{
	corio_begin();
	if (self->n == 0)
		corio_return(0);
	corio_await(self->below, depth, self->n - 1);
	corio_return(self->below + 1);
corio_finally:
	corio_end();
}

Test(macros, recursion_deeper_than_any_c_stack, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	long got = 0;

	/* 200,000 nested calls would need far more than 8 MiB of C stack if
	 * each await recursed. */
	corio_spawn(loop, depth__start(NULL, 200000, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, 200000);
	t_loop_done(loop);
}

corio_async(long, fib, ((int, n)), (
	long a, b;
))
{
	corio_begin();
	if (self->n < 2)
		corio_return(self->n);
	corio_await(self->a, fib, self->n - 1);
	corio_await(self->b, fib, self->n - 2);
	corio_return(self->a + self->b);
corio_finally:
	corio_end();
}

Test(macros, recursive_fibonacci, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	long got = 0;

	corio_spawn(loop, fib__start(NULL, 20, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, 6765);
	t_loop_done(loop);
}

/* ---- explicit resume ids and discarded results ---------------------- */

corio_async(int, explicit_ids, (), (
	int r;
))
{
	corio_begin();
	corio_await_at(1, self->r, add, 1, 2);
	corio_await_discard_at(2, add, 5, 5);
	corio_yield_at(3);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(macros, explicit_resume_ids, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int got = 0;

	corio_spawn(loop, explicit_ids__start(NULL, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, 3);
	t_loop_done(loop);
}

/* ---- misuse the DSL catches at run time ----------------------------- */

corio_async(int, await_in_cleanup, (), ())
{
	corio_begin();
	corio_return(1);
corio_finally:
	corio_yield();
	corio_end();
}

Test(macros, await_in_cleanup_aborts_with_message, .signal = SIGABRT,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	corio_spawn(loop, await_in_cleanup__start(NULL, NULL), NULL);
	corio_loop_run(loop);
}
