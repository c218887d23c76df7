/* SPDX-License-Identifier: MIT */
/*
 * tests/test_task.c - tasks: spawn, join, reap, detach, cancel, yield,
 * identity, deadlines on joins, misuse that must be refused.
 */
#include "testutil.h"

#include <criterion/redirect.h>

#include <corio/async.h>

corio_async(int, value_after_yields, ((int, value), (int, yields)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->yields; self->i++)
		corio_yield();
	corio_return(self->value);
corio_finally:
	corio_end();
}

corio_async(int, failing, ((int, err)), ())
{
	corio_begin();
	corio_yield();
	corio_throw(self->err);
corio_finally:
	corio_end();
}

/* Spawns a child, joins it, returns child status * 1000 + child value. */
corio_async(int, spawn_and_join, ((int, child_err)), (
	struct corio_task *child;
	int value, status;
))
{
	corio_begin();
	if (self->child_err)
		corio_spawn(corio_loop_current(),
			    failing__start(NULL, self->child_err, NULL), &self->child);
	else
		corio_spawn(corio_loop_current(),
			    value_after_yields__start(NULL, 42, 3,
						      &self->value),
			    &self->child);
	corio_await(self->status, corio_join, self->child);
	corio_return(self->status * 1000 + self->value);
corio_finally:
	corio_end();
}

Test(task, join_returns_status_and_typed_result_arrives, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int got = -1;

	corio_spawn(loop, spawn_and_join__start(NULL, 0, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, 42);
	t_loop_done(loop);
}

Test(task, join_reports_child_failure, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int got = -1;

	corio_spawn(loop, spawn_and_join__start(NULL, -EPIPE, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, -EPIPE * 1000);
	t_loop_done(loop);
}

Test(task, ids_names_and_current_task, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *a, *b;
	int va = 0, vb = 0, st;

	cr_assert_null(corio_current_task());
	corio_spawn(loop, value_after_yields__start(NULL, 1, 0, &va), &a);
	corio_spawn(loop, value_after_yields__start(NULL, 2, 0, &vb), &b);
	cr_assert_eq(corio_task_id(a), 1);
	cr_assert_eq(corio_task_id(b), 2);
	cr_assert_str_eq(corio_task_name(a), "value_after_yields");
	corio_task_set_name(b, "second");
	cr_assert_str_eq(corio_task_name(b), "second");
	cr_assert_not(corio_task_is_done(a));
	cr_assert_eq(corio_task_reap(a, &st), -EBUSY);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert(corio_task_is_done(a));
	cr_assert_eq(corio_task_reap(a, &st), 0);
	cr_assert_eq(corio_task_reap(b, &st), 0);
	cr_assert_eq(va + vb, 3);
	t_loop_done(loop);
}

static struct corio_task *seen_current;

corio_async(void, record_current, (), ())
{
	corio_begin();
	seen_current = corio_current_task();
corio_finally:
	corio_end();
}

Test(task, current_task_inside_a_task, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int st;

	corio_spawn(loop, record_current__start(NULL), &t);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(seen_current, t);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	t_loop_done(loop);
}

/* ---- misuse is refused, never corrupts anything --------------------- */

corio_async(int, join_twice, ((struct corio_task *, target)), (
	struct corio_task *other;
	int first, second;
))
{
	corio_begin();
	/* Another task already joins the target: a second joiner is refused. */
	corio_await(self->second, corio_join, self->target);
	corio_return(self->second);
corio_finally:
	corio_end();
}

corio_async(int, joiner, ((struct corio_task *, target)), (
	int status;
))
{
	corio_begin();
	corio_await(self->status, corio_join, self->target);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(task, second_joiner_gets_einval, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *target;
	int value = 0, first = 1, second = 1;

	corio_spawn(loop, value_after_yields__start(NULL, 5, 10, &value),
		    &target);
	corio_spawn(loop, joiner__start(NULL, target, &first), NULL);
	corio_spawn(loop, join_twice__start(NULL, target, &second), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(first, 0);
	cr_assert_eq(second, -EINVAL);
	t_loop_done(loop);
}

corio_async(int, join_self, (), (
	int status;
))
{
	corio_begin();
	corio_await(self->status, corio_join, corio_current_task());
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(task, joining_itself_is_edeadlk, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int got = 0;

	corio_spawn(loop, join_self__start(NULL, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, -EDEADLK);
	t_loop_done(loop);
}

/* a joins b; b then joins a: the second join would close the cycle. */
static struct corio_task *task_a, *task_b;

corio_async(int, join_b, (), (
	int status;
))
{
	corio_begin();
	corio_await(self->status, corio_join, task_b);
	corio_return(self->status);
corio_finally:
	corio_end();
}

corio_async(int, join_a_later, (), (
	int status;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->status, corio_join, task_a);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(task, join_cycle_is_edeadlk_at_the_closing_await, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int ra = 1, rb = 1, st;

	corio_spawn(loop, join_b__start(NULL, &ra), &task_a);
	corio_spawn(loop, join_a_later__start(NULL, &rb), &task_b);
	cr_assert_eq(corio_loop_run(loop), 0);
	/* b's join fails at once; b then finishes and a's join succeeds. */
	cr_assert_eq(rb, -EDEADLK);
	cr_assert_eq(ra, 0);
	cr_assert_eq(corio_task_reap(task_a, &st), 0);
	t_loop_done(loop);
}

Test(task, cancel_and_detach_misuse, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t, *d;
	int v = 0, st;

	corio_spawn(loop, value_after_yields__start(NULL, 1, 1, &v), &t);
	corio_spawn(loop, value_after_yields__start(NULL, 1, 1, NULL), &d);
	cr_assert_eq(corio_task_detach(d), 0);
	cr_assert_eq(corio_task_detach(d), -EINVAL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_cancel(t), -EINVAL, "finished task");
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(corio_spawn(NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(corio_spawn(loop, NULL, NULL), -ENOMEM);
	t_loop_done(loop);
}

Test(task, destroy_with_live_tasks_is_ebusy, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int v, st;

	corio_spawn(loop, value_after_yields__start(NULL, 1, 1, &v), &t);
	cr_assert_eq(corio_loop_destroy(loop), -EBUSY);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	t_loop_done(loop);
}

Test(task, unjoined_finished_tasks_are_released_with_the_loop,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int i, v;

	for (i = 0; i < 100; i++)
		corio_spawn(loop, value_after_yields__start(NULL, i, 1, &v),
			    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	/* Zombies are not "live": destroy succeeds (and ASan sees no leak). */
	t_loop_done(loop);
}

/* ---- cancellation ---------------------------------------------------- */

corio_async(int, spin_yield, ((int *, iterations)), ())
{
	corio_begin();
	for (;;) {
		(*self->iterations)++;
		corio_yield();
	}
corio_finally:
	corio_end();
}

corio_async(int, cancel_after, ((struct corio_task *, victim), (int, yields)),
	    (int i; int status;))
{
	corio_begin();
	for (self->i = 0; self->i < self->yields; self->i++)
		corio_yield();
	corio_task_cancel(self->victim);
	corio_task_cancel(self->victim);	/* twice is fine */
	corio_await(self->status, corio_join, self->victim);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(task, cancel_a_ready_task, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	int iterations = 0, status = 0;

	corio_spawn(loop, spin_yield__start(NULL, &iterations, NULL), &victim);
	corio_spawn(loop, cancel_after__start(NULL, victim, 5, &status), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(status, -ECANCELED);
	cr_assert(iterations >= 5 && iterations <= 7, "%d", iterations);
	t_loop_done(loop);
}

corio_async(int, self_cancel, (), (
	int slept;
))
{
	corio_begin();
	corio_task_cancel(corio_current_task());
	/* The next await does not suspend for long: the task unwinds. */
	corio_await(self->slept, corio_sleep, CORIO_SEC(100));
	corio_return(1);
corio_finally:
	corio_end();
}

Test(task, a_task_can_cancel_itself, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int r = 0, st = 0;

	corio_spawn(loop, self_cancel__start(NULL, &r), &t);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_eq(r, 0);
	t_loop_done(loop);
}

Test(task, cancel_before_first_run_runs_cleanup_only, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int v = 0, st = 0;

	corio_spawn(loop, value_after_yields__start(NULL, 9, 1, &v), &t);
	cr_assert_eq(corio_task_cancel(t), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_eq(v, 0);
	t_loop_done(loop);
}

/* ---- deadlines on joins ---------------------------------------------- */

corio_async(int, sleeper, ((int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, join_with_deadline, (), (
	struct corio_task *child;
	int status, child_result;
	int64_t prev;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    sleeper__start(NULL, CORIO_MS(500), &self->child_result),
		    &self->child);
	self->prev = corio_deadline_set(corio_now() + CORIO_MS(20));
	corio_await(self->status, corio_join, self->child);
	corio_deadline_set(self->prev);
	cr_assert_eq(self->status, -ETIME);
	/* The child is still joinable after the timed-out join. */
	corio_task_cancel(self->child);
	corio_await(self->status, corio_join, self->child);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(task, join_deadline_gives_etime_and_leaves_task_joinable,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int64_t start = corio_now();
	int got = 0;

	corio_spawn(loop, join_with_deadline__start(NULL, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, -ECANCELED);
	cr_assert_lt(corio_now() - start, CORIO_MS(400),
		     "the join waited for the child instead of the deadline");
	t_loop_done(loop);
}

/* ---- the nested-loop mistake ------------------------------------------ */

corio_async(int, nested_run, (), ())
{
	corio_begin();
	corio_return(corio_loop_run(corio_loop_current()));
corio_finally:
	corio_end();
}

Test(task, running_the_loop_from_its_own_task_is_refused, .timeout = 10,
     .init = cr_redirect_stderr)
{
	struct corio_loop *loop = t_loop();
	int got = 0;

	corio_spawn(loop, nested_run__start(NULL, &got), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, -EBUSY);
	fflush(stderr);
	{
		FILE *err = cr_get_redirected_stderr();
		char text[512] = "";
		size_t n = fread(text, 1, sizeof(text) - 1, err);

		text[n] = '\0';
		cr_assert(strstr(text, "nested event loop is refused"), "%s",
			  text);
		cr_assert(strstr(text, "nested_run"), "names the task: %s",
			  text);
	}
	t_loop_done(loop);
}

corio_async(int, join_finished_after_deadline, (), (
	struct corio_task *child;
	int value, status;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    value_after_yields__start(NULL, 3, 0, &self->value),
		    &self->child);
	corio_yield();	/* the child finishes */
	corio_deadline_set(corio_now() - 1);
	corio_await(self->status, corio_join, self->child);
	corio_return(self->status * 10 + self->value);
corio_finally:
	corio_end();
}

Test(task, joining_a_finished_task_ignores_an_expired_deadline,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int got = -1;

	corio_spawn(loop, join_finished_after_deadline__start(NULL, &got),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, 3, "got %d", got);
	t_loop_done(loop);
}
