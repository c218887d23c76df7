/* SPDX-License-Identifier: MIT */
/*
 * tests/test_timer.c - sleeps: order, FIFO among equal deadlines, absolute
 * sleeps, task deadlines, cancellation, and many timers at once; and the
 * timing wheel itself, driven with a simulated clock against a model.
 */
#include "testutil.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

/* White-box: the wheel tests below arm and fire the internal timers. */
#include "core/internal.h"

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

Test(timer, cancelling_a_sleeper_disarms_its_timer, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	struct corio_loop_stats stats;
	int64_t start = corio_now();
	int status = 0;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, sleep_then_log__start(NULL, 60000, 1), &victim);
	corio_spawn(loop, t_cancel_and_join__start(NULL, victim, &status), NULL);
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

/* Random sleepers, armed in one batch, some cancelled (every far one):
 * the rest fire exactly once, never early, by (deadline, arming order). */
#define RAND_SLEEPERS 20000

static int rand_fired[RAND_SLEEPERS];
static int rand_log[RAND_SLEEPERS], rand_log_len, rand_early;
static int64_t rand_when[RAND_SLEEPERS];

corio_async(void, rand_sleeper, ((int, idx)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep_until, rand_when[self->idx]);
	if (self->r == 0) {
		if (corio_now() < rand_when[self->idx])
			rand_early++;
		rand_fired[self->idx]++;
		rand_log[rand_log_len++] = self->idx;
	}
corio_finally:
	corio_end();
}

corio_async(void, rand_canceller, ((struct corio_task **, tasks),
				   (const bool *, cancel)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < RAND_SLEEPERS; self->i++)
		if (self->cancel[self->i])
			corio_task_cancel(self->tasks[self->i]);
corio_finally:
	corio_end();
}

Test(timer, random_deadlines_fire_once_in_order, .timeout = 60)
{
	/* One batch: every sleeper arms, then the canceller runs, before
	 * the first timer can fire. */
	struct corio_loop_opts opts = { .run_batch = 1u << 30 };
	struct corio_loop *loop = t_loop_opts(&opts);
	static struct corio_task *tasks[RAND_SLEEPERS];
	static bool cancel[RAND_SLEEPERS];
	int64_t now = corio_now(), ties[8];
	int i, expected = 0;

	srand(11);
	for (i = 0; i < 8; i++)
		ties[i] = now + CORIO_MS(rand() % 80);
	for (i = 0; i < RAND_SLEEPERS; i++) {
		int kind = rand() % 10;

		if (kind == 0)		/* past, some far past */
			rand_when[i] = now - CORIO_US(rand() % 5000000);
		else if (kind == 1)	/* hours to years ahead */
			rand_when[i] = now + CORIO_SEC(3600) *
				       (1 + rand() % 100000);
		else if (kind == 2)	/* equal deadlines */
			rand_when[i] = ties[rand() % 8];
		else
			rand_when[i] = now + CORIO_US(rand() % 80000);
		cancel[i] = kind == 1 || rand() % 5 == 0;
		expected += !cancel[i];
		rand_fired[i] = 0;
	}
	rand_log_len = rand_early = 0;
	for (i = 0; i < RAND_SLEEPERS; i++)
		corio_spawn(loop, rand_sleeper__start(NULL, i), &tasks[i]);
	corio_spawn(loop, rand_canceller__start(NULL, tasks, cancel), NULL);
	for (i = 0; i < RAND_SLEEPERS; i++)
		corio_task_detach(tasks[i]);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(rand_log_len, expected);
	cr_assert_eq(rand_early, 0);
	for (i = 0; i < RAND_SLEEPERS; i++)
		cr_assert_eq(rand_fired[i], !cancel[i], "sleeper %d", i);
	for (i = 1; i < rand_log_len; i++) {
		int a = rand_log[i - 1], b = rand_log[i];

		cr_assert(rand_when[a] < rand_when[b] ||
			  (rand_when[a] == rand_when[b] && a < b),
			  "sleeper %d fired before %d", a, b);
	}
	t_loop_done(loop);
}

/* ---- the wheel against a model, on a simulated clock ----------------- */

struct model {
	struct corio_task *t;	/* fake tasks: waiting on a sleep */
	int *res;
	int64_t *when;		/* deadline of the armed timer */
	uint64_t *seq;		/* arming order of the armed timer */
	bool *armed;
	int n, armed_n;
	uint64_t seq_next;
	int64_t now;
	int *order;		/* scratch for the expected firing order */
};

static struct model *model_cmp_ctx;

static int model_cmp(const void *pa, const void *pb)
{
	const struct model *m = model_cmp_ctx;
	int a = *(const int *)pa, b = *(const int *)pb;

	if (m->when[a] != m->when[b])
		return m->when[a] < m->when[b] ? -1 : 1;
	return m->seq[a] < m->seq[b] ? -1 : m->seq[a] > m->seq[b];
}

static void model_init(struct model *m, int n, int64_t now)
{
	int i;

	m->n = n;
	m->armed_n = 0;
	m->seq_next = 0;
	m->now = now;
	m->t = calloc((size_t)n, sizeof(*m->t));
	m->res = calloc((size_t)n, sizeof(*m->res));
	m->when = calloc((size_t)n, sizeof(*m->when));
	m->seq = calloc((size_t)n, sizeof(*m->seq));
	m->armed = calloc((size_t)n, sizeof(*m->armed));
	m->order = calloc((size_t)n, sizeof(*m->order));
	cr_assert(m->t && m->res && m->when && m->seq && m->armed &&
		  m->order);
	for (i = 0; i < n; i++) {
		m->t[i].name = "fake";
		m->t[i].file = __FILE__;
		m->t[i].state = CORIO__WAITING;
		m->t[i].wait = CORIO__WAIT_SLEEP;
		m->t[i].result = &m->res[i];
		m->t[i].result_kind = CORIO__RES_INT;
	}
}

static void model_free(struct model *m)
{
	free(m->t);
	free(m->res);
	free(m->when);
	free(m->seq);
	free(m->armed);
	free(m->order);
}

static void model_arm(struct corio_loop *loop, struct model *m, int i,
		      int64_t when)
{
	cr_assert_eq(corio__timer_arm(loop, &m->t[i], when), 0);
	if (!m->armed[i])
		m->armed_n++;
	m->armed[i] = true;
	m->when[i] = when;
	m->seq[i] = m->seq_next++;
	m->res[i] = -1;
}

static void model_disarm(struct corio_loop *loop, struct model *m, int i)
{
	corio__timer_disarm(loop, &m->t[i]);
	if (m->armed[i])
		m->armed_n--;
	m->armed[i] = false;
	cr_assert_eq(m->t[i].timer_where, 0);
}

/* Earliest armed deadline, or INT64_MAX. */
static int64_t model_min(const struct model *m)
{
	int64_t min = INT64_MAX;
	int i;

	for (i = 0; i < m->n; i++)
		if (m->armed[i] && m->when[i] < min)
			min = m->when[i];
	return min;
}

/* Fire at @now: exactly the due timers, by (deadline, arming order). */
static int model_fire(struct corio_loop *loop, struct model *m, int64_t now)
{
	struct corio_task *t;
	int i, due = 0, k = 0;

	cr_assert_geq(now, m->now);
	m->now = now;
	for (i = 0; i < m->n; i++)
		if (m->armed[i] && m->when[i] <= now)
			m->order[due++] = i;
	model_cmp_ctx = m;
	qsort(m->order, (size_t)due, sizeof(*m->order), model_cmp);
	corio__timers_fire(loop, now);
	/* The fake tasks share one ready queue (same level, deadline). */
	t = loop->sched.ready[corio__runq_of(m->t)].head;
	for (; t; t = t->next, k++) {
		i = (int)(t - m->t);
		cr_assert_lt(k, due, "more fired than due at %lld",
			     (long long)now);
		cr_assert_eq(i, m->order[k], "fired #%d is %d, not %d "
			     "(%lld vs %lld)", k, i, m->order[k],
			     (long long)m->when[i],
			     (long long)m->when[m->order[k]]);
		cr_assert_eq(m->res[i], 0);
		cr_assert_eq(t->timer_where, 0);
		m->armed[i] = false;
		m->armed_n--;
		t->state = CORIO__WAITING;
		t->wait = CORIO__WAIT_SLEEP;
	}
	cr_assert_eq(k, due, "%d of %d due timers fired", k, due);
	loop->sched.ready[corio__runq_of(m->t)] = (struct corio__runq){ 0 };
	loop->sched.ready_mask = 0;
	memset(loop->sched.ready_count, 0, sizeof(loop->sched.ready_count));
	cr_assert_eq(loop->timers.len, (uint32_t)m->armed_n);
	return due;
}

/* The loop's wait must end in time for the nearest deadline. */
static void model_check_next(struct corio_loop *loop, struct model *m)
{
	int64_t min = model_min(m);

	if (!m->armed_n)
		return;
	cr_assert_leq(corio__timers_next(loop), min | 0xffff,
		      "would wake at %lld for a deadline at %lld",
		      (long long)corio__timers_next(loop), (long long)min);
}

/* A random deadline around @now: past, negative, this tick, soon, far. */
static int64_t random_when(struct model *m, const int64_t *ties)
{
	int64_t now = m->now, d;

	switch (rand() % 16) {
	case 0:
		return now - (int64_t)(rand() % 100000000);
	case 1:
		return -(int64_t)rand();
	case 2:
		return now + rand() % (1 << 20);		/* this tick */
	case 3:
		return ties[rand() % 4];
	case 4:		/* hours to centuries */
		d = CORIO_SEC(3600) * (1 + (int64_t)(rand() % 1000000));
		return now < INT64_MAX - d ? now + d : INT64_MAX;
	case 5:
		return INT64_MAX - rand() % 3;
	case 6:		/* up to a few minutes */
		return now + (int64_t)rand() * 1000 % CORIO_SEC(300);
	default:	/* within two seconds */
		return now + (int64_t)(rand() % 2000000) * 1000;
	}
}

/* Random arm/re-arm/disarm/fire against the model from @base. */
static void wheel_random(int64_t base, unsigned seed, int ops)
{
	struct corio_loop *loop = t_loop();
	struct model m;
	int64_t ties[4];
	int op, i, nfired = 0, steps;

	srand(seed);
	model_init(&m, 1024, base);
	for (i = 0; i < 4; i++)
		ties[i] = base + CORIO_MS(1 + rand() % 3000);
	for (op = 0; op < ops; op++) {
		int r = rand() % 100;

		i = rand() % m.n;
		if (r < 55) {
			model_arm(loop, &m, i, random_when(&m, ties));
		} else if (r < 75) {
			model_disarm(loop, &m, i);
		} else if (r < 97) {
			/* Time moves: a little, a tick, or a long way. */
			int64_t step = (int64_t)(rand() % 3000) * 1000;

			if (rand() % 50 == 0)
				step = CORIO_SEC(3600) * (rand() % 2000);
			if (m.now > INT64_MAX - step)
				step = 0;
			nfired += model_fire(loop, &m, m.now + step);
			ties[rand() % 4] = m.now + CORIO_MS(rand() % 3000);
		} else {
			/* As the loop would: wake when told, fire. */
			int64_t next = corio__timers_next(loop);

			if (m.armed_n && next > m.now)
				nfired += model_fire(loop, &m, next);
		}
		if (op % 64 == 0)
			cr_assert(corio__timers_check(loop), "op %d", op);
		if (op % 4 == 0)
			model_check_next(loop, &m);
	}
	cr_assert(corio__timers_check(loop));
	/* Drain as the loop would: every timer fires, in a bounded number
	 * of wakeups, each no later than its cell (model_check_next). */
	for (steps = 0; m.armed_n && steps < 100000; steps++) {
		int64_t next = corio__timers_next(loop);

		model_check_next(loop, &m);
		nfired += model_fire(loop, &m, next > m.now ? next : m.now);
		cr_assert(corio__timers_check(loop));
		if (model_min(&m) == INT64_MAX && m.armed_n) {
			/* INT64_MAX never comes: take them back. */
			for (i = 0; i < m.n; i++)
				model_disarm(loop, &m, i);
		}
	}
	cr_assert_eq(m.armed_n, 0, "%d timers never fired", m.armed_n);
	cr_assert_eq(loop->timers.len, 0);
	cr_assert_gt(nfired, ops / 20);
	cr_assert(corio__timers_check(loop));
	model_free(&m);
	t_loop_done(loop);
}

Test(timer_wheel, random_against_a_model_from_now, .timeout = 60)
{
	wheel_random(corio_now(), 1, 150000);
}

Test(timer_wheel, random_against_a_model_from_zero, .timeout = 60)
{
	wheel_random(0, 2, 150000);
}

Test(timer_wheel, random_against_a_model_near_the_end_of_time,
     .timeout = 60)
{
	wheel_random(INT64_MAX - CORIO_SEC(3600) * 24 * 365, 3, 150000);
}

/* Equal deadlines stay FIFO across every level and through re-arming. */
Test(timer_wheel, equal_deadlines_fifo_at_every_distance, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	static const int64_t ahead[] = {
		0, 1, 1 << 20, CORIO_MS(900), CORIO_SEC(2), CORIO_SEC(100),
		CORIO_SEC(3600), CORIO_SEC(3600) * 24 * 400,
	};
	struct model m;
	int64_t now = corio_now(), when;
	unsigned a;
	int i, n;

	model_init(&m, 64, now);
	for (a = 0; a < sizeof(ahead) / sizeof(ahead[0]); a++) {
		/* Half armed now, half after the clock moved halfway (the
		 * first half may have moved down the wheel by then). */
		when = m.now + ahead[a];
		for (i = 0; i < 32; i++)
			model_arm(loop, &m, i, when);
		/* Re-arming moves a timer to the back of its deadline. */
		model_arm(loop, &m, 3, when);
		n = model_fire(loop, &m, m.now + ahead[a] / 2);
		for (i = 32; i < 64; i++)
			model_arm(loop, &m, i, when);
		model_arm(loop, &m, 40, when);
		n += model_fire(loop, &m, when);
		cr_assert_eq(n, 64);
		cr_assert(corio__timers_check(loop));
	}
	model_free(&m);
	t_loop_done(loop);
}

/* Arming into the past and the current tick, then disarming, leaves
 * nothing behind; the late heap grows and shrinks. */
Test(timer_wheel, late_timers_disarm_cleanly, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	struct model m;
	int64_t now = corio_now();
	int i;

	model_init(&m, 1000, now);
	model_fire(loop, &m, now);
	for (i = 0; i < 1000; i++)
		model_arm(loop, &m, i, now - i % 7);
	for (i = 0; i < 1000; i += 2)
		model_disarm(loop, &m, i);
	cr_assert(corio__timers_check(loop));
	cr_assert_eq(loop->timers.len, 500);
	cr_assert_eq(model_fire(loop, &m, now), 500);
	cr_assert_eq(loop->timers.len, 0);
	cr_assert(corio__timers_check(loop));
	model_free(&m);
	t_loop_done(loop);
}

/* ---- the virtual clock ------------------------------------------------- */

corio_async(int64_t, long_naps, (), (
	int64_t start;
	int r;
))
{
	corio_begin();
	self->start = corio_now();
	corio_await(self->r, corio_sleep, CORIO_SEC(3600));
	corio_await(self->r, corio_sleep, CORIO_SEC(7200));
	corio_deadline_set(corio_now() + CORIO_SEC(60));
	corio_await(self->r, corio_sleep, CORIO_SEC(600));
	cr_assert_eq(self->r, -ETIME, "the deadline came first");
	corio_return(corio_now() - self->start);
corio_finally:
	corio_end();
}

Test(timer, virtual_clock_jumps_over_idle_time, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct timespec a, b;
	int64_t slept = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	corio_spawn(loop, long_naps__start(NULL, &slept), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_geq(slept, CORIO_SEC(3600 + 7200 + 60));
	cr_assert_lt(slept, CORIO_SEC(3600 + 7200 + 61));
	cr_assert_lt(b.tv_sec - a.tv_sec, 5, "three virtual hours, no wait");
	t_loop_done(loop);
}

Test(timer, virtual_clock_keeps_the_order_of_events, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	static const int ms[] = { 300000, 100000, 500000, 200000, 400000 };
	unsigned i;

	memset(&log_, 0, sizeof(log_));
	for (i = 0; i < 5; i++)
		corio_spawn(loop, sleep_then_log__start(NULL, ms[i],
							ms[i] / 100000),
			    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "1 2 3 4 5");
	t_loop_done(loop);
}

corio_async(int, read_one, ((int, fd)), (
	char c;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_read, self->fd, &self->c, 1, -1);
	corio_return(self->n == 1 ? self->c : (int)self->n);
corio_finally:
	corio_end();
}

corio_async(void, write_after, ((int, fd), (int64_t, ns)), (
	int r;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	corio_await(self->n, corio_write, self->fd, "v", 1, -1);
corio_finally:
	corio_end();
}

Test(timer, virtual_clock_with_real_io, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	int fds[2], got = 0;

	cr_assert_eq(pipe(fds), 0);
	corio_spawn(loop, read_one__start(NULL, fds[0], &got), NULL);
	corio_spawn(loop, write_after__start(NULL, fds[1], CORIO_SEC(86400)),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, 'v');
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

/* ---- scoped deadlines ------------------------------------------------ */

/* Sleeps @ms; then returns the sleep's result, or throws @err, or moves
 * the task's deadline away (@err 1) and returns. */
corio_async(int, nap, ((int64_t, ms), (int, err)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	if (self->err == 1)
		corio_deadline_set(CORIO_NO_DEADLINE);
	else if (self->err)
		corio_throw(self->err);
	corio_return(self->r);
corio_finally:
	corio_end();
}

struct scoped {
	int64_t outer;		/* the caller's deadline, from its start */
	int64_t scope_ms, nap_ms;
	int err;
	int result, nap_result;
	int64_t after;		/* the caller's deadline after the scope */
	int64_t took;
};

corio_async(void, scoped_caller, ((struct scoped *, s)), (
	int64_t t0;
))
{
	corio_begin();
	self->t0 = corio_now();
	corio_deadline_set(self->s->outer == CORIO_NO_DEADLINE ?
			   CORIO_NO_DEADLINE : self->t0 + self->s->outer);
	corio_await(self->s->result, corio_with_timeout,
		    CORIO_MS(self->s->scope_ms),
		    nap__start(NULL, self->s->nap_ms, self->s->err,
			       &self->s->nap_result));
corio_finally:
	/* Reached on return and on unwinding alike. */
	self->s->took = corio_now() - self->t0;
	self->s->after = corio_deadline_set(CORIO_NO_DEADLINE);
	if (self->s->after != CORIO_NO_DEADLINE)
		self->s->after -= self->t0;
	corio_end();
}

/* Run one scope on a virtual clock; returns the caller's status. */
static int run_scoped(struct scoped *s)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_task *t;
	int st = 1;

	s->result = s->nap_result = 1;
	corio_spawn(loop, scoped_caller__start(NULL, s), &t);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	t_loop_done(loop);
	return st;
}

Test(timer, a_scoped_deadline_cuts_the_call_and_is_restored, .timeout = 10)
{
	struct scoped s = { .outer = CORIO_SEC(10), .scope_ms = 10,
			    .nap_ms = 50 };

	cr_assert_eq(run_scoped(&s), 0);
	cr_assert_eq(s.nap_result, -ETIME);
	cr_assert_eq(s.result, -ETIME);
	cr_assert_geq(s.took, CORIO_MS(10));
	cr_assert_lt(s.took, CORIO_MS(50));
	cr_assert_eq(s.after, CORIO_SEC(10), "the caller's deadline is back");
	/* In time: 0, and the caller's deadline is back all the same. */
	s = (struct scoped){ .outer = CORIO_NO_DEADLINE, .scope_ms = 50,
			     .nap_ms = 10 };
	cr_assert_eq(run_scoped(&s), 0);
	cr_assert_eq(s.nap_result, 0);
	cr_assert_eq(s.result, 0);
	cr_assert_eq(s.after, CORIO_NO_DEADLINE);
}

Test(timer, a_scope_never_extends_the_callers_deadline, .timeout = 10)
{
	struct scoped s = { .outer = CORIO_MS(5), .scope_ms = 1000,
			    .nap_ms = 50 };

	cr_assert_eq(run_scoped(&s), 0);
	cr_assert_eq(s.nap_result, -ETIME);
	cr_assert_eq(s.result, -ETIME);
	cr_assert_lt(s.took, CORIO_MS(50));
	cr_assert_eq(s.after, CORIO_MS(5));
}

Test(timer, a_scope_restores_the_deadline_on_every_exit, .timeout = 10)
{
	struct scoped s;

	/* The call moves the deadline itself and returns. */
	s = (struct scoped){ .outer = CORIO_SEC(10), .scope_ms = 50,
			     .nap_ms = 1, .err = 1 };
	cr_assert_eq(run_scoped(&s), 0);
	cr_assert_eq(s.result, 0);
	cr_assert_eq(s.after, CORIO_SEC(10));
	/* The call throws: the caller unwinds, with its deadline back. */
	s = (struct scoped){ .outer = CORIO_SEC(10), .scope_ms = 50,
			     .nap_ms = 1, .err = -EIO };
	cr_assert_eq(run_scoped(&s), -EIO);
	cr_assert_eq(s.result, 1, "no result: the caller unwound");
	cr_assert_eq(s.after, CORIO_SEC(10));
	/* The call throws -ETIME because the scope's deadline passed: the
	 * scope's result, the caller goes on. */
	s = (struct scoped){ .outer = CORIO_SEC(10), .scope_ms = 5,
			     .nap_ms = 50, .err = -ETIME };
	cr_assert_eq(run_scoped(&s), 0);
	cr_assert_eq(s.result, -ETIME);
	cr_assert_eq(s.after, CORIO_SEC(10));
	/* -ETIME thrown for another reason, before the scope's deadline:
	 * a failure like any other. */
	s = (struct scoped){ .outer = CORIO_SEC(10), .scope_ms = 50,
			     .nap_ms = 1, .err = -ETIME };
	cr_assert_eq(run_scoped(&s), -ETIME);
	cr_assert_eq(s.after, CORIO_SEC(10));
}

Test(timer, a_scope_restores_the_deadline_when_cancelled, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct scoped s = { .outer = CORIO_SEC(10), .scope_ms = 1000,
			    .nap_ms = 500 };
	struct corio_task *t;
	int st = 0;

	corio_spawn(loop, scoped_caller__start(NULL, &s), &t);
	corio_spawn(loop, t_cancel_and_join__start(NULL, t, &st), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_eq(s.after, CORIO_SEC(10));
	t_loop_done(loop);
}

Test(timer, a_scope_outside_a_task_refuses, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int r = 0, n = 0;

	/* The frame is released (LeakSanitizer would tell). */
	cr_assert_eq(corio_with_timeout__start(NULL, CORIO_MS(1),
		nap__start(NULL, 1, 0, &n), &r), CORIO_READY);
	cr_assert_eq(r, -EPERM);
	t_loop_done(loop);
}

/* ---- the virtual clock is exact ----------------------------------------- */

static struct t_log vlog;
static struct corio_event vev;
static struct corio_chan vch;

/* Microseconds of virtual time since the loop's start. */
static long vus(void)
{
	return (long)((corio_now() - CORIO_VIRTUAL_CLOCK_START) / 1000);
}

corio_async(int, v_setter, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_US(100));
	t_log_add(&vlog, "set@%ld", vus());
	corio_event_set(&vev);
	corio_return(0);
corio_finally:
	corio_end();
}

/* Wait for the event with a deadline @us ahead. */
corio_async(int, v_waiter, ((long, us)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_US(self->us));
	corio_await(self->r, corio_event_wait, &vev);
	t_log_add(&vlog, "woke%ld=%d@%ld", self->us, self->r, vus());
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, v_ticks, (), (
	int r, i;
))
{
	corio_begin();
	for (self->i = 1; self->i <= 3; self->i++) {
		corio_await(self->r, corio_sleep, CORIO_US(self->i));
		t_log_add(&vlog, "tick@%ld", vus());
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, v_named_sleep, ((const char *, name), (long, us)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_US(self->us));
	t_log_add(&vlog, "%s@%ld", self->name, vus());
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, v_producer, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_US(30));
	self->v = 7;
	corio_await(self->r, corio_chan_send, &vch, &self->v);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, v_consumer, (), (
	int r, v;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_US(31));
	corio_await(self->r, corio_chan_recv, &vch, &self->v);
	t_log_add(&vlog, "recv%d=%d@%ld", self->v, self->r, vus());
	corio_return(0);
corio_finally:
	corio_end();
}

/* One run of the program on a fresh loop; its log in vlog. */
static void virtual_program(void)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	int ret;

	memset(&vlog, 0, sizeof(vlog));
	cr_assert_eq(corio_now(), CORIO_VIRTUAL_CLOCK_START,
		     "a fixed start, not the real time");
	corio_event_init(&vev, "ev");
	corio_chan_init(&vch, sizeof(int), 0, "ch");
	corio_spawn(loop, v_setter__start(NULL, NULL), NULL);
	corio_spawn(loop, v_waiter__start(NULL, 110, NULL), NULL);
	corio_spawn(loop, v_waiter__start(NULL, 90, NULL), NULL);
	corio_spawn(loop, v_waiter__start(NULL, 100, NULL), NULL);
	corio_spawn(loop, v_ticks__start(NULL, NULL), NULL);
	corio_spawn(loop, v_named_sleep__start(NULL, "b", 50, NULL), NULL);
	corio_spawn(loop, v_named_sleep__start(NULL, "a", 50, NULL), NULL);
	corio_spawn(loop, v_named_sleep__start(NULL, "x", 65, NULL), NULL);
	corio_spawn(loop, v_named_sleep__start(NULL, "y", 66, NULL), NULL);
	corio_spawn(loop, v_consumer__start(NULL, NULL), NULL);
	corio_spawn(loop, v_producer__start(NULL, NULL), NULL);
	ret = corio_loop_run(loop);
	cr_assert_eq(ret, 0, "run: %s; %s", corio_strerror(ret), vlog.buf);
	corio_event_destroy(&vev);
	corio_chan_destroy(&vch);
	t_loop_done(loop);
}

Test(timer, virtual_clock_gives_the_same_exact_order_every_run,
     .timeout = 60)
{
	/*
	 * Every deadline fires at its exact nanosecond, in deadline order
	 * (arming order when equal), and what it wakes runs before the
	 * clock moves on: the deadline 10 us after the event does not fire
	 * before it.  Deadlines of one instant all fire before the tasks
	 * they wake run, so the deadline at the very instant of the
	 * setter's wake-up expires before the setter sets the event (and
	 * that waiter, which has a deadline, runs first: section 11 of
	 * docs/design.md).
	 */
	static const char want[] =
		"tick@1 tick@3 tick@6 recv7=0@30 b@50 a@50 x@65 y@66 "
		"woke90=-62@90 woke100=-62@100 set@100 woke110=0@100";
	int i, same = 0;

	for (i = 0; i < 1000; i++) {
		virtual_program();
		if (!strcmp(vlog.buf, want))
			same++;
		else if (same == i)
			cr_log_error("run %d: %s", i, vlog.buf);
	}
	cr_assert_eq(same, 1000, "%d of 1000 runs in the exact order", same);
}
