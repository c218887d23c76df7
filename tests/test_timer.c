/* SPDX-License-Identifier: MIT */
/*
 * tests/test_timer.c - sleeps: order, FIFO among equal deadlines, absolute
 * sleeps, task deadlines, cancellation, and many timers at once.
 */
#include "testutil.h"

#include <stdlib.h>

#include <corio/async.h>

static struct t_log log_;

corio_async(void, sleep_then_log, ((int64_t, ms), (int, tag)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	cr_assert_eq(self->r, 0);
	t_log_add(&log_, "%d", self->tag);
corio_finally:
	corio_end();
}

Test(timer, sleeps_wake_in_deadline_order, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	static const int ms[] = { 30, 10, 50, 20, 40 };
	unsigned i;

	memset(&log_, 0, sizeof(log_));
	for (i = 0; i < 5; i++)
		corio_spawn(loop, sleep_then_log__start(NULL, ms[i], ms[i]),
			    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "10 20 30 40 50");
	t_loop_done(loop);
}

corio_async(void, sleep_until_then_log, ((int64_t, when), (int, tag)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep_until, self->when);
	t_log_add(&log_, "%d", self->tag);
corio_finally:
	corio_end();
}

Test(timer, equal_deadlines_fire_in_arming_order, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int64_t when = corio_now() + CORIO_MS(5);
	int i;

	memset(&log_, 0, sizeof(log_));
	for (i = 0; i < 8; i++)
		corio_spawn(loop, sleep_until_then_log__start(NULL, when, i),
			    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "0 1 2 3 4 5 6 7");
	t_loop_done(loop);
}

corio_async(int64_t, timed_sleep, ((int64_t, ns)), (
	int64_t start;
	int r;
))
{
	corio_begin();
	self->start = corio_now();
	corio_await(self->r, corio_sleep, self->ns);
	corio_return(corio_now() - self->start);
corio_finally:
	corio_end();
}

Test(timer, a_sleep_lasts_at_least_its_duration, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int64_t took = 0;

	corio_spawn(loop, timed_sleep__start(NULL, CORIO_MS(25), &took), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_geq(took, CORIO_MS(25));
	t_loop_done(loop);
}

corio_async(int, sleep_past_deadline, (), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_MS(10));
	corio_await(self->r, corio_sleep, CORIO_SEC(10));
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(timer, task_deadline_cuts_a_sleep_short_with_etime, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int64_t start = corio_now();
	int r = 0;

	corio_spawn(loop, sleep_past_deadline__start(NULL, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, -ETIME);
	cr_assert_lt(corio_now() - start, CORIO_SEC(5));
	t_loop_done(loop);
}

corio_async(int, await_after_deadline, (), (
	int r;
	ssize_t n;
	char c;
))
{
	corio_begin();
	corio_deadline_set(corio_now() - 1);
	corio_await(self->r, corio_sleep, CORIO_MS(1));
	cr_assert_eq(self->r, -ETIME);
	corio_await(self->n, corio_read, 0, &self->c, 1, -1);
	corio_return((int)self->n);
corio_finally:
	corio_end();
}

Test(timer, operations_after_the_deadline_fail_at_once, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int r = 0;

	corio_spawn(loop, await_after_deadline__start(NULL, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, -ETIME);
	t_loop_done(loop);
}

corio_async(int, cancel_sleeper, ((struct corio_task *, victim)), (
	int status;
))
{
	corio_begin();
	corio_yield();
	corio_task_cancel(self->victim);
	corio_await(self->status, corio_join, self->victim);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(timer, cancelling_a_sleeper_disarms_its_timer, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	struct corio_loop_stats stats;
	int64_t start = corio_now();
	int status = 0;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, sleep_then_log__start(NULL, 60000, 1), &victim);
	corio_spawn(loop, cancel_sleeper__start(NULL, victim, &status), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_str_eq(log_.buf, "");
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.timers, 0);
	cr_assert_lt(corio_now() - start, CORIO_SEC(5));
	t_loop_done(loop);
}

/* Many timers with random deadlines, some cancelled: each fires in order
 * and exactly once. */
static int64_t last_fired;
static int fired, out_of_order;

corio_async(void, ordered_sleeper, ((int64_t, when)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep_until, self->when);
	if (self->when < last_fired)
		out_of_order++;
	last_fired = self->when;
	fired++;
corio_finally:
	corio_end();
}

Test(timer, ten_thousand_random_timers_fire_in_order, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *tasks[10000];
	/* Far enough ahead that every sleeper is armed before the first
	 * deadline, even in a sanitizer build. */
	int64_t base = corio_now() + CORIO_MS(300);
	int i, cancelled = 0;

	srand(7);
	fired = out_of_order = 0;
	last_fired = 0;
	for (i = 0; i < 10000; i++)
		corio_spawn(loop, ordered_sleeper__start(NULL,
			base + CORIO_US(rand() % 50000)), &tasks[i]);
	for (i = 0; i < 10000; i += 7) {
		corio_task_cancel(tasks[i]);
		cancelled++;
	}
	for (i = 0; i < 10000; i++)
		corio_task_detach(tasks[i]);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(fired, 10000 - cancelled);
	cr_assert_eq(out_of_order, 0);
	t_loop_done(loop);
}
