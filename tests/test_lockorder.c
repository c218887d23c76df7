/* SPDX-License-Identifier: MIT */
/*
 * tests/test_lockorder.c - lock-order checking: inversions and longer
 * cycles reported from runs that did not deadlock, with both acquisition
 * sites; consistent orders, trylocks and hand-overs stay quiet; across the
 * schedules of an exploration too.
 */
#include "testutil.h"

#include <stdatomic.h>

#include <corio/async.h>
#include <corio/test.h>

static const struct corio_loop_opts lock_order = {
	.flags = CORIO_LOOP_LOCK_ORDER,
};

static unsigned line_first, line_second;

/* Lock @x, then @y (trylock with @try_second), then let both go. */
corio_async(void, lock_pair, ((struct corio_mutex *, x),
			      (struct corio_mutex *, y), (bool, try_second)), (
	int r;
))
{
	corio_begin();
	line_first = __LINE__ + 1;
	corio_await(self->r, corio_mutex_lock, self->x);
	cr_assert_eq(self->r, 0);
	if (self->try_second) {
		self->r = corio_mutex_trylock(self->y);
	} else {
		line_second = __LINE__ + 1;
		corio_await(self->r, corio_mutex_lock, self->y);
	}
	if (self->r == 0)
		corio_mutex_unlock(self->y);
	corio_mutex_unlock(self->x);
corio_finally:
	corio_end();
}

static void spawn_pair(struct corio_loop *loop, const char *name,
		       struct corio_mutex *x, struct corio_mutex *y, bool try)
{
	struct corio_task *t;

	cr_assert_eq(corio_spawn(loop, lock_pair__start(NULL, x, y, try), &t),
		     0);
	corio_task_set_name(t, name);
	cr_assert_eq(corio_task_detach(t), 0);
}

static void init3(struct corio_mutex *m)
{
	cr_assert_eq(corio_mutex_init(&m[0], "a"), 0);
	cr_assert_eq(corio_mutex_init(&m[1], "b"), 0);
	cr_assert_eq(corio_mutex_init(&m[2], "c"), 0);
}

static void destroy3(struct corio_mutex *m)
{
	int i;

	for (i = 0; i < 3; i++)
		cr_assert_eq(corio_mutex_destroy(&m[i]), 0);
}

Test(lockorder, an_inversion_is_reported_though_the_run_ends, .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_lock_edge e[4];
	struct corio_mutex m[3];
	char text[2048];

	init3(m);
	/* FIFO order: alice takes and frees both before bob starts. */
	spawn_pair(loop, "alice", &m[0], &m[1], false);
	spawn_pair(loop, "bob", &m[1], &m[0], false);
	corio_assert_finished(loop);
	cr_assert_eq(corio_lock_order_cycles(loop), 1);
	cr_assert_eq(corio_lock_order_cycle(loop, 0, e, 4), 2);
	/* The edge that closed it first: bob took a holding b. */
	cr_assert_str_eq(e[0].held, "b");
	cr_assert_str_eq(e[0].taken, "a");
	cr_assert_str_eq(e[0].task, "bob");
	cr_assert_eq(e[0].task_id, 2);
	cr_assert_str_eq(e[1].held, "a");
	cr_assert_str_eq(e[1].taken, "b");
	cr_assert_str_eq(e[1].task, "alice");
	cr_assert_eq(e[1].held_line, line_first);
	cr_assert_eq(e[1].taken_line, line_second);
	cr_assert(strstr(e[1].held_file, "test_lockorder.c"));
	cr_assert(strstr(e[1].taken_file, "test_lockorder.c"));
	cr_assert_eq(e[1].schedule, 0);
	cr_assert_geq(corio_lock_order_format(loop, text, sizeof(text)), 1);
	cr_assert(strstr(text, "POTENTIAL DEADLOCK (lock order)"), "%s", text);
	cr_assert(strstr(text, "\"a\" -> \"b\": task #1 \"alice\" locked "
			 "\"b\" at "), "%s", text);
	cr_assert_eq(corio_lock_order_cycle(loop, 1, e, 4), -ENOENT);
	destroy3(m);
	t_loop_done(loop);
}

Test(lockorder, a_three_lock_cycle_is_reported_once, .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_lock_edge e[4];
	struct corio_mutex m[3];
	int round;

	init3(m);
	for (round = 0; round < 3; round++) {
		spawn_pair(loop, "ab", &m[0], &m[1], false);
		spawn_pair(loop, "bc", &m[1], &m[2], false);
		spawn_pair(loop, "ca", &m[2], &m[0], false);
	}
	corio_assert_finished(loop);
	cr_assert_eq(corio_lock_order_cycles(loop), 1);
	cr_assert_eq(corio_lock_order_cycle(loop, 0, e, 4), 3);
	cr_assert_str_eq(e[0].task, "ca");
	cr_assert_str_eq(e[1].task, "ab");
	cr_assert_str_eq(e[2].task, "bc");
	cr_assert_str_eq(e[0].taken, e[1].held);
	cr_assert_str_eq(e[1].taken, e[2].held);
	cr_assert_str_eq(e[2].taken, e[0].held);
	/* A short array still says how long the cycle is. */
	cr_assert_eq(corio_lock_order_cycle(loop, 0, e, 1), 3);
	destroy3(m);
	t_loop_done(loop);
}

Test(lockorder, one_order_kept_everywhere_is_quiet, .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_mutex m[3];
	int i;

	init3(m);
	for (i = 0; i < 10; i++) {
		spawn_pair(loop, "ab", &m[0], &m[1], false);
		spawn_pair(loop, "bc", &m[1], &m[2], false);
		spawn_pair(loop, "ac", &m[0], &m[2], false);
	}
	corio_assert_finished(loop);
	corio_assert_lock_order_clean(loop);
	destroy3(m);
	t_loop_done(loop);
}

Test(lockorder, a_trylock_cannot_wait_and_adds_no_order, .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_mutex m[3];

	init3(m);
	spawn_pair(loop, "ab", &m[0], &m[1], false);
	spawn_pair(loop, "b-try-a", &m[1], &m[0], true);
	corio_assert_finished(loop);
	corio_assert_lock_order_clean(loop);
	destroy3(m);
	t_loop_done(loop);
}

Test(lockorder, off_unless_asked, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_lock_edge e;
	struct corio_mutex m[3];
	char text[16] = "x";

	init3(m);
	spawn_pair(loop, "ab", &m[0], &m[1], false);
	spawn_pair(loop, "ba", &m[1], &m[0], false);
	corio_assert_finished(loop);
	cr_assert_eq(corio_lock_order_cycles(loop), 0);
	cr_assert_eq(corio_lock_order_cycle(loop, 0, &e, 1), -ENOENT);
	cr_assert_eq(corio_lock_order_format(loop, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "");
	destroy3(m);
	t_loop_done(loop);
}

Test(lockorder, a_mutex_is_its_address_and_its_name, .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_mutex m[3];

	init3(m);
	spawn_pair(loop, "ab", &m[0], &m[1], false);
	corio_assert_finished(loop);
	destroy3(m);
	/* Another mutex at a's address: b -> it is no inversion. */
	cr_assert_eq(corio_mutex_init(&m[0], "another"), 0);
	cr_assert_eq(corio_mutex_init(&m[1], "b"), 0);
	spawn_pair(loop, "b-another", &m[1], &m[0], false);
	corio_assert_finished(loop);
	corio_assert_lock_order_clean(loop);
	cr_assert_eq(corio_mutex_destroy(&m[0]), 0);
	/* a again, at its address under its name: the same mutex. */
	cr_assert_eq(corio_mutex_init(&m[0], "a"), 0);
	spawn_pair(loop, "ba", &m[1], &m[0], false);
	corio_assert_finished(loop);
	cr_assert_eq(corio_lock_order_cycles(loop), 1);
	cr_assert_eq(corio_mutex_destroy(&m[0]), 0);
	cr_assert_eq(corio_mutex_destroy(&m[1]), 0);
	t_loop_done(loop);
}

/* Hold @a across a yield; then, a released, take @b alone. */
corio_async(void, hold_then_other, ((struct corio_mutex *, a),
				    (struct corio_mutex *, b)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->a);
	corio_yield();
	corio_mutex_unlock(self->a);
	corio_await(self->r, corio_mutex_lock, self->b);
	corio_yield();
	corio_mutex_unlock(self->b);
corio_finally:
	corio_end();
}

corio_async(void, wait_for, ((struct corio_mutex *, a)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->a);
	corio_yield();
	corio_mutex_unlock(self->a);
corio_finally:
	corio_end();
}

Test(lockorder, a_mutex_handed_over_is_no_longer_held, .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_mutex m[3];

	init3(m);
	/* a passes from the first task to the second while the first goes
	 * on to b: the first never held a and b together, so the third
	 * taking b then a inverts nothing. */
	cr_assert_eq(corio_spawn(loop, hold_then_other__start(NULL, &m[0],
							      &m[1]), NULL), 0);
	cr_assert_eq(corio_spawn(loop, wait_for__start(NULL, &m[0]), NULL), 0);
	corio_assert_finished(loop);
	spawn_pair(loop, "ba", &m[1], &m[0], false);
	corio_assert_finished(loop);
	corio_assert_lock_order_clean(loop);
	destroy3(m);
	t_loop_done(loop);
}

/* Create @m's two mutexes, so the loop's graph with them, from inside a
 * running task, and take them in that same step: a, then b. */
corio_async(void, init_and_lock_pair, ((struct corio_mutex *, m)), ())
{
	corio_begin();
	cr_assert_eq(corio_mutex_init(&self->m[0], "a"), 0);
	cr_assert_eq(corio_mutex_init(&self->m[1], "b"), 0);
	corio_await_void(lock_pair, &self->m[0], &self->m[1], false);
corio_finally:
	corio_end();
}

Test(lockorder, checking_that_starts_mid_run_sees_the_next_lock,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_mutex m[2];

	/* The mutex path tests one byte of "rare features on" flags, not
	 * the graph itself: the graph coming mid-step must set it. */
	cr_assert_eq(corio_spawn(loop, init_and_lock_pair__start(NULL, m),
				 NULL), 0);
	corio_assert_finished(loop);
	spawn_pair(loop, "ba", &m[1], &m[0], false);
	corio_assert_finished(loop);
	cr_assert_eq(corio_lock_order_cycles(loop), 1);
	cr_assert_eq(corio_mutex_destroy(&m[0]), 0);
	cr_assert_eq(corio_mutex_destroy(&m[1]), 0);
	t_loop_done(loop);
}

Test(lockorder, out_of_memory_for_the_graph_fails_mutex_init,
     .timeout = 10)
{
	struct corio_loop *loop;
	struct corio_mutex m;

	t_alloc_counting(0);
	loop = t_loop_opts(&lock_order);
	atomic_store(&t_alloc_fail_at, atomic_load(&t_alloc_count) + 1);
	cr_assert_eq(corio_mutex_init(&m, "m"), -ENOMEM);
	atomic_store(&t_alloc_fail_at, 0);
	cr_assert_eq(corio_mutex_init(&m, "m"), 0);
	cr_assert_eq(corio_mutex_destroy(&m), 0);
	t_loop_done(loop);
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0);
}

/* ---- across the schedules of an exploration ------------------------- */

static struct corio_mutex xa, xb;
static bool claimed;

/* Whichever task runs first takes both mutexes, in its own order; the
 * other does nothing.  One order per run: no run can deadlock. */
corio_async(void, first_takes_both, ((struct corio_mutex *, x),
				     (struct corio_mutex *, y)), (
	int r;
))
{
	corio_begin();
	if (claimed)
		corio_return_void();
	claimed = true;
	corio_await(self->r, corio_mutex_lock, self->x);
	corio_await(self->r, corio_mutex_lock, self->y);
	corio_mutex_unlock(self->y);
	corio_mutex_unlock(self->x);
corio_finally:
	corio_end();
}

static int one_order_start(struct corio_loop *loop, void *arg)
{
	(void)arg;
	claimed = false;
	corio_mutex_init(&xa, "xa");
	corio_mutex_init(&xb, "xb");
	corio_spawn(loop, first_takes_both__start(NULL, &xa, &xb), NULL);
	corio_spawn(loop, first_takes_both__start(NULL, &xb, &xa), NULL);
	return 0;
}

static int one_order_finish(struct corio_loop *loop, void *arg, int run)
{
	(void)loop;
	(void)arg;
	(void)run;
	corio_mutex_destroy(&xa);
	corio_mutex_destroy(&xb);
	return 0;
}

static struct corio_explore_body one_order = {
	"one order per run", one_order_start, one_order_finish, NULL,
};

Test(lockorder, explored_schedules_share_one_graph, .timeout = 60)
{
	struct corio_explore_opts o = { .flags = CORIO_EXPLORE_QUIET };
	struct corio_explore_result res;
	struct corio_loop *loop;

	/* One run alone shows one order. */
	loop = t_loop_opts(&lock_order);
	cr_assert_eq(one_order_start(loop, NULL), 0);
	corio_assert_finished(loop);
	corio_assert_lock_order_clean(loop);
	cr_assert_eq(one_order_finish(loop, NULL, 0), 0);
	t_loop_done(loop);
	/* The schedules together show both. */
	cr_assert_eq(corio_explore(&one_order, &o, &res), 1);
	cr_assert_eq(res.failure, CORIO_EXPLORE_LOCK_ORDER);
	cr_assert_eq(res.lock_order_cycles, 1);
	cr_assert_gt(res.schedules, 1);
	cr_assert(strstr(res.message, "in schedule 1\n"), "%s", res.message);
	cr_assert(strstr(res.message, "\"xb\" -> \"xa\""), "%s", res.message);
	cr_assert(strstr(res.message, "\"xa\" -> \"xb\""), "%s", res.message);
	/* And no schedule deadlocks. */
	o.flags |= CORIO_EXPLORE_NO_LOCK_ORDER;
	o.schedules = 300;
	cr_assert_eq(corio_explore(&one_order, &o, &res), 0, "%s",
		     res.message);
}

/* Hold @a; take and free @b three times, then @c. */
corio_async(void, a_then_many, ((struct corio_mutex *, a),
				(struct corio_mutex *, b),
				(struct corio_mutex *, c)), (
	int i, r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->a);
	for (self->i = 0; self->i < 3; self->i++) {
		corio_await(self->r, corio_mutex_lock, self->b);
		corio_mutex_unlock(self->b);
	}
	corio_await(self->r, corio_mutex_lock, self->c);
	corio_mutex_unlock(self->c);
	corio_mutex_unlock(self->a);
corio_finally:
	corio_end();
}

Test(lockorder, an_order_seen_again_is_cheap_and_a_new_one_counts,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop_opts(&lock_order);
	struct corio_lock_edge e[2];
	struct corio_mutex m[3];

	init3(m);
	cr_assert_eq(corio_spawn(loop, a_then_many__start(NULL, &m[0], &m[1],
							  &m[2]), NULL), 0);
	corio_assert_finished(loop);
	corio_assert_lock_order_clean(loop);
	/* a -> c was recorded after a -> b repeated: c then a inverts it. */
	spawn_pair(loop, "ca", &m[2], &m[0], false);
	corio_assert_finished(loop);
	cr_assert_eq(corio_lock_order_cycles(loop), 1);
	cr_assert_eq(corio_lock_order_cycle(loop, 0, e, 2), 2);
	cr_assert_str_eq(e[1].held, "a");
	cr_assert_str_eq(e[1].taken, "c");
	destroy3(m);
	t_loop_done(loop);
}
