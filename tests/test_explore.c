/* SPDX-License-Identifier: MIT */
/*
 * tests/test_explore.c - corio_explore: it finds the deadlock FIFO order
 * never hits and nothing in a correct program, replays a seed event for
 * event, reports a crash, a check, a run that never ends, a step that never
 * returns and real I/O with the seed, and refuses bad seeds.
 */
#include "testutil.h"

#include <signal.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

#include "philosophers.h"

static struct phil_table table;

static struct corio_explore_body philosophers = {
	"philosophers", phil_start, phil_finish, &table,
};

/* Read all of @f (rewound) into a malloc'd string. */
static char *slurp(FILE *f)
{
	long n;
	char *s;

	cr_assert_eq(fflush(f), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	rewind(f);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	return s;
}

/* The events of the last schedule in a trace: from its "schedule" line. */
static const char *last_schedule(const char *trace)
{
	const char *p = trace, *last = NULL;

	while ((p = strstr(p, "schedule ")) != NULL) {
		if (p == trace || p[-1] == '\n')
			last = p;
		p++;
	}
	cr_assert_not_null(last);
	return last;
}

Test(explore, fifo_order_never_deadlocks_the_philosophers, .timeout = 10)
{
	struct corio_loop *loop = t_loop();

	table.ordered = false;
	cr_assert_eq(phil_start(loop, &table), 0);
	corio_assert_finished(loop);
	cr_assert_eq(phil_finish(loop, &table, 0), 0);
	t_loop_done(loop);
}

Test(explore, finds_the_deadlock_fifo_order_never_hits, .timeout = 60)
{
	struct corio_explore_opts o = {
		.flags = CORIO_EXPLORE_NO_LOCK_ORDER | CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;

	table.ordered = false;
	cr_assert_eq(corio_explore(&philosophers, &o, &res), 1,
		     "%s", res.message);
	cr_assert_eq(res.failure, CORIO_EXPLORE_DEADLOCK);
	cr_assert_gt(res.schedules, 1, "FIFO order itself deadlocked");
	cr_assert_leq(res.schedules, 1000);
	cr_assert(strstr(res.message, "fork0"), "%s", res.message);
	cr_assert(strstr(res.message, "phil_dine"), "%s", res.message);
	cr_assert_eq(strncmp(res.seed, "0x", 2), 0, "seed \"%s\"", res.seed);
}

Test(explore, reports_nothing_on_a_correct_program, .timeout = 60)
{
	struct corio_explore_opts o = { .schedules = 2000 };
	struct corio_explore_result res;

	table.ordered = true;
	cr_assert_eq(corio_explore(&philosophers, &o, &res), 0, "%s",
		     res.message);
	cr_assert_eq(res.failure, CORIO_EXPLORE_PASSED);
	cr_assert_eq(res.schedules, 2000);
	cr_assert_eq(res.lock_order_cycles, 0);
	cr_assert_eq(res.seed[0], '\0');
	/* Five philosophers, two steps or more each, in every schedule. */
	cr_assert_geq(res.steps, 2000 * 2 * PHIL_N);
}

Test(explore, the_assertion_passes_a_correct_program, .timeout = 60)
{
	struct corio_explore_opts o = { .schedules = 200 };

	table.ordered = true;
	corio_assert_explore(&philosophers, &o);
}

Test(explore, a_seed_replays_its_schedule_event_for_event, .timeout = 60)
{
	struct corio_explore_opts o = {
		.flags = CORIO_EXPLORE_NO_LOCK_ORDER | CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result found, again;
	FILE *a = tmpfile(), *b = tmpfile(), *c = tmpfile();
	char *ta, *tb, *tc;
	char seed[256];

	cr_assert(a && b && c);
	table.ordered = false;
	o.trace = a;
	cr_assert_eq(corio_explore(&philosophers, &o, &found), 1);
	memcpy(seed, found.seed, sizeof(seed));
	/* Twice alone, in child processes and in this one. */
	o.replay = seed;
	o.trace = b;
	cr_assert_eq(corio_explore(&philosophers, &o, &again), 1);
	cr_assert_eq(again.failure, CORIO_EXPLORE_DEADLOCK);
	cr_assert_eq(again.schedules, 1);
	cr_assert_eq(again.trace_hash, found.trace_hash);
	cr_assert_str_eq(again.seed, seed);
	cr_assert_str_eq(again.message, found.message);
	o.trace = c;
	o.flags |= CORIO_EXPLORE_NO_FORK;
	cr_assert_eq(corio_explore(&philosophers, &o, &again), 1);
	cr_assert_eq(again.trace_hash, found.trace_hash);
	ta = slurp(a);
	tb = slurp(b);
	tc = slurp(c);
	cr_assert_str_eq(tb, last_schedule(ta));
	cr_assert_str_eq(tc, tb);
	cr_assert(strstr(tb, "yield "), "no spurious yield in:\n%s", tb);
	free(ta);
	free(tb);
	free(tc);
	fclose(a);
	fclose(b);
	fclose(c);
}

Test(explore, corio_seed_in_the_environment_replays, .timeout = 60)
{
	struct corio_explore_opts o = {
		.flags = CORIO_EXPLORE_NO_LOCK_ORDER | CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result found, again;

	table.ordered = false;
	cr_assert_eq(corio_explore(&philosophers, &o, &found), 1);
	cr_assert_eq(setenv("CORIO_SEED", found.seed, 1), 0);
	cr_assert_eq(corio_explore(&philosophers, &o, &again), 1);
	cr_assert_eq(again.schedules, 1);
	cr_assert_eq(again.trace_hash, found.trace_hash);
	/* An explicit replay wins over the environment. */
	o.replay = "0x1";
	cr_assert_eq(corio_explore(&philosophers, &o, &again), 0);
	cr_assert_str_eq(again.seed, "");
	unsetenv("CORIO_SEED");
}

Test(explore, seeds_that_do_not_parse_are_refused, .timeout = 10)
{
	static const char *const bad[] = {
		"xyz", "0x12g", "-1", " 7", "18446744073709551616",
		"b:1", "b:1.0", "b:2.1,1.1", "b:1.1,", "b:1.1x", "b:.1",
	};
	struct corio_explore_opts o = { .flags = CORIO_EXPLORE_QUIET };
	struct corio_explore_result res;
	size_t i;

	table.ordered = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.replay = bad[i];
		cr_assert_eq(corio_explore(&philosophers, &o, &res), -EINVAL,
			     "seed \"%s\" was taken", bad[i]);
		cr_assert(strstr(res.message, "names no schedule"), "%s",
			  res.message);
		cr_assert_eq(res.schedules, 0);
	}
	o.replay = NULL;
	cr_assert_eq(setenv("CORIO_SEED", "nope", 1), 0);
	cr_assert_eq(corio_explore(&philosophers, &o, &res), -EINVAL);
	unsetenv("CORIO_SEED");
	/* Options out of range. */
	o.mode = 7;
	cr_assert_eq(corio_explore(&philosophers, &o, &res), -EINVAL);
	o.mode = CORIO_EXPLORE_BOUNDED;
	o.preemptions = 17;
	cr_assert_eq(corio_explore(&philosophers, &o, &res), -EINVAL);
	o.preemptions = 0;
	o.flags = 0x8000;
	cr_assert_eq(corio_explore(&philosophers, &o, &res), -EINVAL);
	cr_assert_eq(corio_explore(NULL, NULL, &res), -EINVAL);
	cr_assert_eq(corio_explore(&philosophers, NULL, NULL), -EINVAL);
}

Test(explore, refuses_a_thread_that_has_a_loop, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_explore_opts o = { .flags = CORIO_EXPLORE_QUIET };
	struct corio_explore_result res;

	cr_assert_eq(corio_explore(&philosophers, &o, &res), -EBUSY);
	t_loop_done(loop);
}

/* ---- the bounded mode ------------------------------------------------ */

static struct corio_mutex inv_a, inv_b;

corio_async(void, lock_two, ((struct corio_mutex *, x),
			     (struct corio_mutex *, y)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->x);
	if (self->r)
		corio_throw(self->r);
	corio_await(self->r, corio_mutex_lock, self->y);
	if (self->r == 0)
		corio_mutex_unlock(self->y);
	corio_mutex_unlock(self->x);
corio_finally:
	corio_end();
}

static int inversion_start(struct corio_loop *loop, void *arg)
{
	(void)arg;
	corio_mutex_init(&inv_a, "a");
	corio_mutex_init(&inv_b, "b");
	corio_spawn(loop, lock_two__start(NULL, &inv_a, &inv_b), NULL);
	corio_spawn(loop, lock_two__start(NULL, &inv_b, &inv_a), NULL);
	return 0;
}

static int inversion_finish(struct corio_loop *loop, void *arg, int run)
{
	(void)loop;
	(void)arg;
	(void)run;
	corio_mutex_destroy(&inv_a);
	corio_mutex_destroy(&inv_b);
	return 0;
}

static struct corio_explore_body inversion = {
	"inversion", inversion_start, inversion_finish, NULL,
};

Test(explore, bounded_mode_finds_a_one_preemption_deadlock, .timeout = 60)
{
	struct corio_explore_opts o = {
		.mode = CORIO_EXPLORE_BOUNDED,
		.preemptions = 1,
		.flags = CORIO_EXPLORE_NO_LOCK_ORDER | CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result found, again;
	char seed[256];

	cr_assert_eq(corio_explore(&inversion, &o, &found), 1);
	cr_assert_eq(found.failure, CORIO_EXPLORE_DEADLOCK);
	/* FIFO first (it passes), then one yield after the first lock. */
	cr_assert_eq(strncmp(found.seed, "b:", 2), 0, "%s", found.seed);
	cr_assert_gt(found.schedules, 1);
	memcpy(seed, found.seed, sizeof(seed));
	o.replay = seed;
	cr_assert_eq(corio_explore(&inversion, &o, &again), 1);
	cr_assert_eq(again.trace_hash, found.trace_hash);
	/* FIFO order alone passes. */
	o.replay = "b:";
	cr_assert_eq(corio_explore(&inversion, &o, &again), 0);
}

corio_async(void, yielder, ((int, n)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_yield();
corio_finally:
	corio_end();
}

static int two_yielders(struct corio_loop *loop, void *arg)
{
	(void)arg;
	corio_spawn(loop, yielder__start(NULL, 2), NULL);
	corio_spawn(loop, yielder__start(NULL, 2), NULL);
	return 0;
}

/* How many of the @n schedules in @trace are different. */
static size_t distinct_schedules(char *trace, size_t *n)
{
	char *sched[256], *p;
	size_t k = 0, i, j, distinct = 0;

	for (p = trace; (p = strstr(p, "schedule ")) != NULL; p++) {
		if (p != trace && p[-1] != '\n')
			continue;
		cr_assert_lt(k, 256);
		sched[k++] = p;
	}
	/* Cut each at the next one, without its own "schedule" line. */
	for (i = 0; i < k; i++) {
		if (i + 1 < k)
			sched[i + 1][-1] = '\0';
		sched[i] = strchr(sched[i], '\n') + 1;
	}
	for (i = 0; i < k; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(sched[i], sched[j]))
				break;
		distinct += j == i;
	}
	*n = k;
	return distinct;
}

Test(explore, bounded_mode_runs_each_schedule_once_and_ends, .timeout = 60)
{
	struct corio_explore_body body = { "yielders", two_yielders, NULL,
					   NULL };
	struct corio_explore_opts o = {
		.mode = CORIO_EXPLORE_BOUNDED,
		.preemptions = 2,
		.flags = CORIO_EXPLORE_QUIET,
	};
	static const char fifo[] = "schedule b:\nstep 1 0 yielder\n"
				   "step 2 0 yielder\nstep 1 0 yielder\n"
				   "step 2 0 yielder\n";
	struct corio_explore_result res;
	FILE *f = tmpfile();
	size_t n;
	char *t;

	cr_assert_not_null(f);
	o.trace = f;
	cr_assert_eq(corio_explore(&body, &o, &res), 0, "%s", res.message);
	cr_assert(res.exhausted);
	t = slurp(f);
	/* FIFO order comes first: the two tasks alternate. */
	cr_assert_eq(strncmp(t, fifo, strlen(fifo)), 0, "%.200s", t);
	cr_assert_eq(distinct_schedules(t, &n), n);
	cr_assert_eq(n, res.schedules);
	cr_assert_gt(n, 4);
	free(t);
	fclose(f);
}

/* ---- what fails a schedule ------------------------------------------ */

static int phase;

corio_async(void, half_done, (), ())
{
	corio_begin();
	phase = 1;
	corio_yield();
	phase = 2;
corio_finally:
	corio_end();
}

corio_async(void, crash_midway, (), ())
{
	corio_begin();
	corio_yield();
	if (phase == 1)
		abort();	/* SIGABRT: no sanitizer report */
corio_finally:
	corio_end();
}

corio_async(void, check_midway, (), ())
{
	corio_begin();
	corio_yield();
	corio_explore_check(phase != 1);
corio_finally:
	corio_end();
}

static int crash_start(struct corio_loop *loop, void *arg)
{
	phase = 0;
	corio_spawn(loop, half_done__start(NULL), NULL);
	corio_spawn(loop, arg ? check_midway__start(NULL) :
		    crash_midway__start(NULL), NULL);
	return 0;
}

Test(explore, a_crash_is_reported_with_its_seed, .timeout = 60)
{
	struct corio_explore_body body = { "crash", crash_start, NULL, NULL };
	struct corio_explore_opts o = { .flags = CORIO_EXPLORE_QUIET };
	struct corio_explore_result found, again;
	char seed[256];

	/* FIFO order: half_done is done before crash_midway looks. */
	cr_assert_eq(corio_explore(&body, &o, &found), 1, "%s", found.message);
	cr_assert_eq(found.failure, CORIO_EXPLORE_CRASH);
	cr_assert_gt(found.schedules, 1);
	cr_assert(strstr(found.message, "signal 6"), "%s", found.message);
	cr_assert(strstr(found.message, found.seed), "%s", found.message);
	memcpy(seed, found.seed, sizeof(seed));
	o.replay = seed;
	cr_assert_eq(corio_explore(&body, &o, &again), 1);
	cr_assert_eq(again.failure, CORIO_EXPLORE_CRASH);
	cr_assert_str_eq(again.seed, seed);
}

Test(explore, a_failed_check_names_itself, .timeout = 60)
{
	struct corio_explore_body body = { "check", crash_start, NULL,
					   &body };
	struct corio_explore_opts o = { .flags = CORIO_EXPLORE_QUIET };
	struct corio_explore_result res;

	cr_assert_eq(corio_explore(&body, &o, &res), 1);
	cr_assert_eq(res.failure, CORIO_EXPLORE_FAILED);
	cr_assert(strstr(res.message, "test_explore.c"), "%s", res.message);
	cr_assert(strstr(res.message, "phase != 1"), "%s", res.message);
}

static int finish_count;

static int count_finish(struct corio_loop *loop, void *arg, int run)
{
	(void)loop;
	(void)arg;
	cr_assert_eq(run, 0);
	return ++finish_count == 7 ? -EPROTO : 0;
}

Test(explore, finish_fails_a_schedule_and_runs_in_process, .timeout = 60)
{
	struct corio_explore_body body = { "finish", two_yielders,
					   count_finish, NULL };
	struct corio_explore_opts o = {
		.flags = CORIO_EXPLORE_NO_FORK | CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;

	finish_count = 0;
	cr_assert_eq(corio_explore(&body, &o, &res), 1);
	cr_assert_eq(res.failure, CORIO_EXPLORE_FAILED);
	cr_assert_eq(res.schedules, 7);
	cr_assert_eq(finish_count, 7, "not run in this process");
	cr_assert(strstr(res.message, "finish returned"), "%s", res.message);
	/* The thread's loops are all gone. */
	cr_assert_null(corio_loop_current());
}

Test(explore, a_body_that_never_ends_is_bounded, .timeout = 60)
{
	struct corio_explore_body body = { "forever", two_yielders, NULL,
					   NULL };
	struct corio_explore_opts o = {
		.max_steps = 3,
		.flags = CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;

	cr_assert_eq(corio_explore(&body, &o, &res), 1);
	cr_assert_eq(res.failure, CORIO_EXPLORE_STEPS);
	cr_assert_eq(res.schedules, 1);
	cr_assert(strstr(res.message, "never ends"), "%s", res.message);
}

static volatile int spin_forever = 1;

corio_async(void, spinner, (), ())
{
	corio_begin();
	while (spin_forever)
		;
corio_finally:
	corio_end();
}

static int spin_start(struct corio_loop *loop, void *arg)
{
	(void)arg;
	corio_spawn(loop, spinner__start(NULL), NULL);
	return 0;
}

Test(explore, a_step_that_never_returns_is_killed, .timeout = 30)
{
	struct corio_explore_body body = { "spin", spin_start, NULL, NULL };
	struct corio_explore_opts o = {
		.timeout_ms = 200,
		.flags = CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;

	cr_assert_eq(corio_explore(&body, &o, &res), 1);
	cr_assert_eq(res.failure, CORIO_EXPLORE_TIMEOUT);
	cr_assert_eq(res.schedules, 1);
	cr_assert_eq(strncmp(res.seed, "0x", 2), 0, "%s", res.seed);
}

/* ---- real I/O -------------------------------------------------------- */

static int pipe_fds[2];

corio_async(void, read_pipe, ((bool, write_first)), (
	char buf[4];
	ssize_t n;
))
{
	corio_begin();
	if (self->write_first)
		cr_assert_eq(write(pipe_fds[1], "ab", 2), 2);
	corio_await(self->n, corio_read, pipe_fds[0], self->buf, 2, -1);
	corio_explore_check(self->n == 2 || !self->write_first);
corio_finally:
	corio_end();
}

static int pipe_start(struct corio_loop *loop, void *arg)
{
	if (pipe(pipe_fds))
		return -errno;
	corio_spawn(loop, read_pipe__start(NULL, arg != NULL), NULL);
	return 0;
}

static int pipe_finish(struct corio_loop *loop, void *arg, int run)
{
	(void)loop;
	(void)arg;
	(void)run;
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	return 0;
}

Test(explore, real_io_is_refused_without_a_hang, .timeout = 30)
{
	struct corio_explore_body body = { "pipe", pipe_start, pipe_finish,
					   NULL };
	struct corio_explore_opts o = { .flags = CORIO_EXPLORE_QUIET };
	struct corio_explore_result res;

	/* Nobody writes: waiting would never end. */
	cr_assert_eq(corio_explore(&body, &o, &res), 1);
	cr_assert_eq(res.failure, CORIO_EXPLORE_IO);
	cr_assert(strstr(res.message, "read_pipe"), "%s", res.message);
	cr_assert(strstr(res.message, "test_explore.c"), "%s", res.message);
}

Test(explore, real_io_runs_when_allowed, .timeout = 30)
{
	struct corio_explore_body body = { "pipe", pipe_start, pipe_finish,
					   &body };
	struct corio_explore_opts o = {
		.schedules = 20,
		.flags = CORIO_EXPLORE_ALLOW_IO | CORIO_EXPLORE_QUIET,
	};

	corio_assert_explore(&body, &o);
}

/* ---- timers and yields ----------------------------------------------- */

corio_async(void, sleep_until_one, ((int64_t, when)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep_until, self->when);
corio_finally:
	corio_end();
}

static int three_sleepers(struct corio_loop *loop, void *arg)
{
	int64_t when = corio_now() + CORIO_MS(5);
	int i;

	(void)arg;
	for (i = 0; i < 3; i++)
		corio_spawn(loop, sleep_until_one__start(NULL, when), NULL);
	return 0;
}

Test(explore, timers_due_together_fire_in_the_schedule_s_order,
     .timeout = 60)
{
	struct corio_explore_body body = { "sleepers", three_sleepers, NULL,
					   NULL };
	struct corio_explore_opts o = {
		.schedules = 50,
		.flags = CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;
	FILE *f = tmpfile();
	char *t;
	int first;

	cr_assert_not_null(f);
	o.trace = f;
	cr_assert_eq(corio_explore(&body, &o, &res), 0, "%s", res.message);
	t = slurp(f);
	/* Each schedule orders the three timers; every one of them fires
	 * first in some schedule. */
	for (first = 1; first <= 3; first++) {
		char line[32];

		snprintf(line, sizeof(line), "\ntimer %d 3\n", first);
		cr_assert(strstr(t, line), "no \"%s\" in\n%.400s", line + 1,
			  t);
	}
	free(t);
	fclose(f);
}

Test(explore, without_yields_the_philosophers_cannot_deadlock,
     .timeout = 60)
{
	struct corio_explore_opts o = {
		.flags = CORIO_EXPLORE_NO_YIELDS | CORIO_EXPLORE_NO_LOCK_ORDER,
	};

	/* Nothing preempts a philosopher between its two locks. */
	table.ordered = false;
	corio_assert_explore(&philosophers, &o);
}
