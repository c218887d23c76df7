/* SPDX-License-Identifier: MIT */
/*
 * tests/test_priority.c - scheduling by priority and deadline: levels in
 * order, earliest deadline first within a level, FIFO otherwise, the
 * starvation bound, priority changes, wake-ups by timers and I/O, and the
 * latency of a high-priority task under a flood of low-priority work.
 *
 * Latency is measured in task steps run ahead of the task, not wall time,
 * so the assertions cannot flake; wall-clock figures are only printed.
 */
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

#include <corio/async.h>

static struct t_log log_;

/* Log @tag, then yield; @steps times. */
corio_async(void, step_log, ((const char *, tag), (int, steps)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->steps; self->i++) {
		t_log_add(&log_, "%s", self->tag);
		corio_yield();
	}
corio_finally:
	corio_end();
}

static void spawn_prio(struct corio_loop *loop, struct corio_frame *root,
		       int prio)
{
	cr_assert_eq(corio_spawn_prio(loop, root, prio, NULL), 0);
}

Test(priority, higher_levels_run_first, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	memset(&log_, 0, sizeof(log_));
	spawn_prio(loop, step_log__start(NULL, "I", 1), CORIO_PRIO_IDLE);
	spawn_prio(loop, step_log__start(NULL, "L", 1), CORIO_PRIO_LOW);
	spawn_prio(loop, step_log__start(NULL, "N", 1), CORIO_PRIO_NORMAL);
	spawn_prio(loop, step_log__start(NULL, "H", 1), CORIO_PRIO_HIGH);
	spawn_prio(loop, step_log__start(NULL, "h", 1), CORIO_PRIO_HIGH);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "H h N L I");
	t_loop_done(loop);
}

Test(priority, fifo_within_a_level_without_deadlines, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, step_log__start(NULL, "a", 3), NULL);
	corio_spawn(loop, step_log__start(NULL, "b", 3), NULL);
	corio_spawn(loop, step_log__start(NULL, "c", 3), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "a b c a b c a b c");
	t_loop_done(loop);
}

/*
 * Take a deadline @offset ns after @base (none when 0), wait for @gate,
 * log.  The gate makes every task choose its deadline before any of them
 * is queued by it.
 */
corio_async(void, deadline_log, ((const char *, tag), (int64_t, base),
				 (int64_t, offset),
				 (struct corio_event *, gate)), (
	int r;
))
{
	corio_begin();
	if (self->offset)
		corio_deadline_set(self->base + self->offset);
	corio_await(self->r, corio_event_wait, self->gate);
	cr_assert_eq(self->r, 0);
	t_log_add(&log_, "%s", self->tag);
corio_finally:
	corio_end();
}

corio_async(void, gate_open, ((struct corio_event *, gate)), ())
{
	corio_begin();
	corio_event_set(self->gate);
corio_finally:
	corio_end();
}

Test(priority, earliest_deadline_first_within_a_level, .timeout = 10)
{
	static const struct { const char *tag; int ms; } spec[] = {
		{ "a", 0 }, { "30", 30 }, { "10", 10 }, { "x", 25 },
		{ "50", 50 }, { "b", 0 }, { "20", 20 }, { "y", 25 },
		{ "40", 40 },
	};
	struct corio_loop *loop = t_loop();
	/* Far enough ahead that no deadline passes during the test. */
	int64_t base = corio_now() + CORIO_SEC(60);
	struct corio_event gate;
	unsigned i;

	memset(&log_, 0, sizeof(log_));
	cr_assert_eq(corio_event_init(&gate, "gate"), 0);
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		corio_spawn(loop, deadline_log__start(NULL, spec[i].tag, base,
						       CORIO_MS(spec[i].ms),
						       &gate),
			    NULL);
	/* A higher level beats any deadline; a lower one loses to all. */
	spawn_prio(loop, deadline_log__start(NULL, "H", base, 0, &gate),
		   CORIO_PRIO_HIGH);
	spawn_prio(loop, deadline_log__start(NULL, "L", base, CORIO_MS(1),
					     &gate),
		   CORIO_PRIO_LOW);
	corio_spawn(loop, gate_open__start(NULL, &gate), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	/* Deadlines first, earliest first, equal ones (x, y) in the order
	 * they became ready; then the others in FIFO order. */
	cr_assert_str_eq(log_.buf, "H 10 20 x y 30 40 50 a b L");
	cr_assert_eq(corio_event_destroy(&gate), 0);
	t_loop_done(loop);
}

/* ---- the starvation bound -------------------------------------------- */

/*
 * Eight hogs, one per ready queue (each level, with and without a
 * deadline), yield for @steps steps each.  Every step logs which queue
 * ran; the gap between two runs of the same queue must stay within the
 * bound corio/task.h states.
 */
#define HOG_STEPS 2000
static int hog_trace[8 * HOG_STEPS];
static int hog_trace_len;

corio_async(void, hog, ((int, queue), (int, steps)), (
	int i;
))
{
	corio_begin();
	if (!(self->queue & 1))
		corio_deadline_set(corio_now() + CORIO_SEC(60) + self->queue);
	corio_yield();	/* now in its queue */
	for (self->i = 0; self->i < self->steps; self->i++) {
		hog_trace[hog_trace_len++] = self->queue;
		corio_yield();
	}
corio_finally:
	corio_end();
}

Test(priority, starvation_is_bounded, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	int last[8], runs[8] = { 0 }, worst[8] = { 0 }, i, q;

	hog_trace_len = 0;
	for (q = 0; q < 8; q++)
		spawn_prio(loop, hog__start(NULL, q, HOG_STEPS), q / 2);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(hog_trace_len, 8 * HOG_STEPS);
	for (q = 0; q < 8; q++)
		last[q] = -1;
	/* Until the first hog finishes, all eight compete. */
	for (i = 0; i < hog_trace_len; i++) {
		int gap;

		q = hog_trace[i];
		/* Before its first traced step a hog may have waited as the
		 * second task of a queue (the even ones start without their
		 * deadline): measure between steps of the same hog. */
		gap = last[q] < 0 ? 0 : i - last[q] - 1;
		if (gap > worst[q])
			worst[q] = gap;
		last[q] = i;
		if (++runs[q] == HOG_STEPS)
			break;
	}
	for (q = 0; q < 8; q++) {
		cr_log_info("queue %d: %d steps, longest wait %d steps", q,
			    runs[q], worst[q]);
		cr_expect_leq(worst[q], CORIO_PRIO_AGING_STEPS + 7,
			      "queue %d waited %d steps", q, worst[q]);
		cr_expect_gt(runs[q], 0);
	}
	/* The top queue still gets most of the steps. */
	for (q = 1; q < 8; q++)
		cr_expect_gt(runs[0], runs[q] * 4, "queue 0: %d, %d: %d",
			     runs[0], q, runs[q]);
	t_loop_done(loop);
}

Test(priority, yield_keeps_the_higher_level_running, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, step_log__start(NULL, "n", 1), NULL);
	spawn_prio(loop, step_log__start(NULL, "h", 5), CORIO_PRIO_HIGH);
	cr_assert_eq(corio_loop_run(loop), 0);
	/* Five steps are far below the aging limit: strict order. */
	cr_assert_str_eq(log_.buf, "h h h h h n");
	t_loop_done(loop);
}

/* Count the loop iterations @n two-step tasks at @prio take. */
static uint64_t iterations_for(int prio, int n)
{
	struct corio_loop_opts opts = { .run_batch = 100 };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_loop_stats st;
	int i;

	memset(&log_, 0, sizeof(log_));
	for (i = 0; i < n; i++)
		spawn_prio(loop, step_log__start(NULL, "", 2), prio);
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_loop_stats(loop, &st);
	t_loop_done(loop);
	return st.iterations;
}

Test(priority, background_tasks_do_not_lengthen_an_iteration, .timeout = 10)
{
	/* NORMAL: each iteration runs every task ready when it began. */
	cr_assert_leq(iterations_for(CORIO_PRIO_NORMAL, 1000), 4);
	/* LOW: run_batch steps per iteration, so I/O is polled often:
	 * 3000 steps (two per task, and each end) in rounds of 100. */
	cr_assert_geq(iterations_for(CORIO_PRIO_LOW, 1000), 30);
	cr_assert_geq(iterations_for(CORIO_PRIO_IDLE, 1000), 30);
}

/* ---- changing priorities --------------------------------------------- */

Test(priority, change_of_a_ready_task_moves_it, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *a, *b, *c;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, step_log__start(NULL, "a", 1), &a);
	corio_spawn(loop, step_log__start(NULL, "b", 1), &b);
	corio_spawn(loop, step_log__start(NULL, "c", 1), &c);
	cr_assert_eq(corio_task_priority(a), CORIO_PRIO_NORMAL);
	cr_assert_eq(corio_task_set_priority(c, CORIO_PRIO_HIGH), 0);
	cr_assert_eq(corio_task_set_priority(a, CORIO_PRIO_IDLE), 0);
	cr_assert_eq(corio_task_set_priority(b, CORIO_PRIO_NORMAL), 0);
	cr_assert_eq(corio_task_priority(c), CORIO_PRIO_HIGH);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "c b a");
	cr_assert_eq(corio_task_reap(a, NULL), 0);
	cr_assert_eq(corio_task_reap(b, NULL), 0);
	cr_assert_eq(corio_task_reap(c, NULL), 0);
	t_loop_done(loop);
}

corio_async(void, event_log, ((struct corio_event *, e)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_event_wait, self->e);
	t_log_add(&log_, "W");
corio_finally:
	corio_end();
}

/* Raise the waiting @w, then wake it: it must overtake the ready ones. */
corio_async(void, raise_and_set, ((struct corio_task *, w),
				  (struct corio_event *, e)), ())
{
	corio_begin();
	cr_assert_eq(corio_task_set_priority(self->w, CORIO_PRIO_HIGH), 0);
	corio_event_set(self->e);
	t_log_add(&log_, "S");
corio_finally:
	corio_end();
}

Test(priority, change_of_a_waiting_task_applies_at_its_wake, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_event e;
	struct corio_task *w;

	memset(&log_, 0, sizeof(log_));
	cr_assert_eq(corio_event_init(&e, "e"), 0);
	corio_spawn(loop, event_log__start(NULL, &e), &w);
	corio_spawn(loop, step_log__start(NULL, "n", 2), NULL);
	corio_spawn(loop, raise_and_set__start(NULL, w, &e), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	/* Unchanged, W would have queued behind the second "n". */
	cr_assert_str_eq(log_.buf, "n S W n");
	cr_assert_eq(corio_task_reap(w, NULL), 0);
	cr_assert_eq(corio_event_destroy(&e), 0);
	t_loop_done(loop);
}

/* Lower its own level, yield: the rest of its level overtakes it. */
corio_async(void, step_down, (), ())
{
	corio_begin();
	cr_assert_eq(corio_task_set_priority(corio_current_task(),
					     CORIO_PRIO_LOW), 0);
	corio_yield();
	t_log_add(&log_, "d");
corio_finally:
	corio_end();
}

Test(priority, own_change_applies_at_the_next_yield, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, step_down__start(NULL), NULL);
	corio_spawn(loop, step_log__start(NULL, "n", 3), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(log_.buf, "n n n d");
	t_loop_done(loop);
}

/* Spawn a child and report both levels. */
corio_async(void, spawn_child, ((int *, levels)), (
	struct corio_task *child;
	int st;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(), step_log__start(NULL, "c", 1),
		    &self->child);
	self->levels[0] = corio_task_priority(corio_current_task());
	self->levels[1] = corio_task_priority(self->child);
	corio_await(self->st, corio_join, self->child);
corio_finally:
	corio_end();
}

Test(priority, children_inherit_the_level, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int lv[2] = { -1, -1 };

	memset(&log_, 0, sizeof(log_));
	spawn_prio(loop, spawn_child__start(NULL, lv), CORIO_PRIO_LOW);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(lv[0], CORIO_PRIO_LOW);
	cr_assert_eq(lv[1], CORIO_PRIO_LOW);
	t_loop_done(loop);
}

Test(priority, bad_arguments_are_refused, .timeout = 10)
{
	struct corio_loop *loop;
	struct corio_task *t;

	/* No loop on this thread. */
	cr_assert_eq(corio_task_set_priority(NULL, CORIO_PRIO_HIGH), -EPERM);
	loop = t_loop();
	memset(&log_, 0, sizeof(log_));
	/* The root is released on refusal: ASan would see a leak. */
	cr_assert_eq(corio_spawn_prio(loop, step_log__start(NULL, "x", 1),
				      CORIO_PRIO_LEVELS, &t), -EINVAL);
	cr_assert_null(t);
	cr_assert_eq(corio_spawn_prio(loop, step_log__start(NULL, "x", 1),
				      -1, &t), -EINVAL);
	cr_assert_eq(corio_spawn_prio(NULL, step_log__start(NULL, "x", 1),
				      CORIO_PRIO_HIGH, &t), -EINVAL);
	cr_assert_eq(corio_spawn_prio(loop, step_log__start(NULL, "t", 1),
				      CORIO_PRIO_IDLE, &t), 0);
	cr_assert_eq(corio_task_set_priority(NULL, CORIO_PRIO_HIGH), -EINVAL);
	cr_assert_eq(corio_task_set_priority(t, -1), -EINVAL);
	cr_assert_eq(corio_task_set_priority(t, CORIO_PRIO_LEVELS), -EINVAL);
	cr_assert_eq(corio_task_priority(t), CORIO_PRIO_IDLE);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_set_priority(t, CORIO_PRIO_HIGH), -EINVAL,
		     "a finished task has no level to change");
	cr_assert_eq(corio_task_reap(t, NULL), 0);
	cr_assert_str_eq(log_.buf, "t");
	t_loop_done(loop);
}

/* ---- wake-ups by timers and I/O, under a flood ----------------------- */

/*
 * The flood: @n tasks at one level, each burning a little CPU per step
 * and yielding until told to stop.  flood_steps counts their steps;
 * flood_due_steps is its value at the first step that saw the clock pass
 * flood_due (the moment the watched task became due), so
 * flood_steps - flood_due_steps, read by the watched task when it runs,
 * is how many flood steps ran ahead of it after it was due.
 */
static uint64_t flood_steps, flood_due_steps;
static int64_t flood_due = INT64_MAX;
static bool flood_stop;
static volatile unsigned flood_sink;

corio_async(void, flood, ((int, spin)), (
	int i;
))
{
	corio_begin();
	while (!flood_stop) {
		for (self->i = 0; self->i < self->spin; self->i++)
			flood_sink = flood_sink * 31u + (unsigned)self->i;
		flood_steps++;
		if (flood_due != INT64_MAX && flood_due_steps == UINT64_MAX &&
		    corio_now() >= flood_due)
			flood_due_steps = flood_steps - 1;
		corio_yield();
	}
corio_finally:
	corio_end();
}

static void flood_reset(void)
{
	flood_steps = 0;
	flood_due_steps = UINT64_MAX;
	flood_due = INT64_MAX;
	flood_stop = false;
}

/* Flood steps ahead of the caller since it became due; rearm. */
static uint64_t flood_ahead(void)
{
	/* Due before any flood step looked: nothing ran ahead. */
	uint64_t ahead = flood_due_steps == UINT64_MAX ? 0 :
			 flood_steps - flood_due_steps;

	flood_due_steps = UINT64_MAX;
	flood_due = INT64_MAX;
	return ahead;
}

struct samples {
	uint64_t ahead[64];	/* flood steps run after it was due */
	int64_t late_ns[64];	/* wall time from due to running */
	int n;
};

/* @rounds times: sleep 1 ms, then record how late it ran. */
corio_async(void, sleeper, ((struct samples *, s), (int, rounds)), (
	int64_t due;
	int r;
))
{
	corio_begin();
	while (self->s->n < self->rounds) {
		self->due = corio_now() + CORIO_MS(1);
		flood_due = self->due;
		corio_await(self->r, corio_sleep_until, self->due);
		self->s->late_ns[self->s->n] = corio_now() - self->due;
		self->s->ahead[self->s->n++] = flood_ahead();
	}
	flood_stop = true;
corio_finally:
	corio_end();
}

/*
 * @rounds times: read a byte from @fd; the byte is written by
 * pipe_writer, which marks the moment as due.
 */
corio_async(void, reader, ((struct samples *, s), (int, fd), (int, rounds)), (
	char c;
	ssize_t n;
))
{
	corio_begin();
	while (self->s->n < self->rounds) {
		corio_await(self->n, corio_read, self->fd, &self->c, 1, -1);
		cr_assert_eq(self->n, 1);
		self->s->late_ns[self->s->n] = corio_now() - flood_due;
		self->s->ahead[self->s->n++] = flood_ahead();
	}
	flood_stop = true;
corio_finally:
	corio_end();
}

/* Part of the flood's level: every @every steps, write a byte to @fd. */
corio_async(void, pipe_writer, ((int, fd), (int, every)), (
	int i;
))
{
	corio_begin();
	while (!flood_stop) {
		if (++self->i % self->every == 0 && flood_due == INT64_MAX) {
			flood_due = corio_now();
			/* Counted from here, not from a later clock read. */
			flood_due_steps = flood_steps;
			cr_assert_eq(write(self->fd, "x", 1), 1);
		}
		corio_yield();
	}
corio_finally:
	corio_end();
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort the samples; report p50/p99 under @label; return the median
 * number of steps ahead. */
static uint64_t report(const char *label, struct samples *s)
{
	int p99 = s->n * 99 / 100;

	qsort(s->ahead, (size_t)s->n, sizeof(s->ahead[0]), cmp_u64);
	qsort(s->late_ns, (size_t)s->n, sizeof(s->late_ns[0]), cmp_i64);
	if (p99 >= s->n)
		p99 = s->n - 1;
	printf("%-34s steps ahead p50 %6llu p99 %6llu | wake-to-run "
	       "p50 %8.1f us p99 %8.1f us\n", label,
	       (unsigned long long)s->ahead[s->n / 2],
	       (unsigned long long)s->ahead[p99],
	       (double)s->late_ns[s->n / 2] / 1e3,
	       (double)s->late_ns[p99] / 1e3);
	fflush(stdout);
	return s->ahead[s->n / 2];
}

enum waker { BY_TIMER, BY_IO };

/*
 * Run @nflood flood tasks at @flood_prio and one watched task at
 * @watched_prio woken @rounds times by @how; fill @s.
 */
static void run_flood(enum waker how, int nflood, int spin, int flood_prio,
		      int watched_prio, int rounds, struct samples *s)
{
	struct corio_loop *loop = t_loop();
	int fds[2] = { -1, -1 }, i;

	memset(s, 0, sizeof(*s));
	flood_reset();
	if (how == BY_IO) {
		cr_assert_eq(pipe(fds), 0);
		cr_assert_eq(corio_spawn_prio(loop,
				reader__start(NULL, s, fds[0], rounds),
				watched_prio, NULL), 0);
		cr_assert_eq(corio_spawn_prio(loop,
				pipe_writer__start(NULL, fds[1], nflood),
				flood_prio, NULL), 0);
	} else {
		cr_assert_eq(corio_spawn_prio(loop,
				sleeper__start(NULL, s, rounds),
				watched_prio, NULL), 0);
	}
	for (i = 0; i < nflood; i++)
		cr_assert_eq(corio_spawn_prio(loop, flood__start(NULL, spin),
					      flood_prio, NULL), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(s->n, rounds);
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	t_loop_done(loop);
}

/*
 * A woken task enters its own level: once the loop has seen the wake-up
 * (it polls after each round), it runs ahead of the lower-level flood.  A
 * LOW flood does not lengthen a round beyond run_batch steps, so only a
 * few of its steps run ahead.  Same level: it queues behind the whole
 * flood, after the rest of a round that holds all of it.
 */
static void woken_task_enters_its_level(enum waker how, const char *what)
{
	enum { N = 500, ROUNDS = 20 };
	struct samples with, without;
	char label[64];
	uint64_t p50_with, p50_without;
	int i;

	run_flood(how, N, 0, CORIO_PRIO_LOW, CORIO_PRIO_HIGH, ROUNDS, &with);
	run_flood(how, N, 0, CORIO_PRIO_NORMAL, CORIO_PRIO_NORMAL, ROUNDS,
		  &without);
	snprintf(label, sizeof(label), "%s, high over low", what);
	p50_with = report(label, &with);
	snprintf(label, sizeof(label), "%s, all normal", what);
	p50_without = report(label, &without);
	/* Same level: behind at least the flood tasks queued when it was
	 * woken.  Higher level: fewer (figures printed above; in steps, not
	 * time, and only the median, so a slow machine cannot fail it). */
	for (i = 0; i < ROUNDS; i++)
		cr_expect_geq(without.ahead[i], N - 1);
	cr_expect_lt(p50_with, p50_without);
}

Test(priority, timer_wakeup_enters_its_level, .timeout = 60)
{
	woken_task_enters_its_level(BY_TIMER, "timer wake, 500 flood");
}

Test(priority, io_wakeup_enters_its_level, .timeout = 60)
{
	woken_task_enters_its_level(BY_IO, "pipe wake, 500 flood");
}

/*
 * The figure of merit: thousands of CPU-busy low-priority tasks and one
 * high-priority task sleeping 1 ms at a time.  Printed: how many flood
 * steps and how much wall time passed between its timer's due time and
 * its running, with priorities and without (everyone NORMAL).
 */
Test(priority, high_priority_latency_under_a_low_priority_flood,
     .timeout = 120)
{
	enum { N = 4000, SPIN = 200, ROUNDS = 40 };
	struct samples with, without;
	uint64_t p50_with, p50_without;

	run_flood(BY_TIMER, N, SPIN, CORIO_PRIO_LOW, CORIO_PRIO_HIGH, ROUNDS,
		  &with);
	run_flood(BY_TIMER, N, SPIN, CORIO_PRIO_NORMAL, CORIO_PRIO_NORMAL,
		  ROUNDS, &without);
	p50_with = report("4000 busy tasks, high over low", &with);
	p50_without = report("4000 busy tasks, all normal", &without);
	cr_expect_lt(p50_with, p50_without);
}
