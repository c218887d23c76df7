/* SPDX-License-Identifier: MIT */
/*
 * tests/test_await_sync.c - the concurrency toolkit and deadlock
 * detection driven from async/await code (built through coriogen), the
 * same scenarios the macro DSL tests cover.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio.h>
#include <corio/await.h>
#include <corio/test.h>

#include "testutil.h"

static struct corio_chan ping, pong;

async int pinger(int rounds)
{
	int v = 0;

	for (int i = 0; i < rounds; i++) {
		if (await corio_chan_send(&ping, &v) < 0)
			return -1;
		if (await corio_chan_recv(&pong, &v) < 0)
			return -1;
	}
	return v;
}

async int ponger(int rounds)
{
	int v;

	for (int i = 0; i < rounds; i++) {
		if (await corio_chan_recv(&ping, &v) < 0)
			return -1;
		v++;
		if (await corio_chan_send(&pong, &v) < 0)
			return -1;
	}
	return 0;
}

Test(await_sync, channel_ping_pong, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int a = 0, b = 1;

	corio_chan_init(&ping, sizeof(int), 0, "ping");
	corio_chan_init(&pong, sizeof(int), 1, "pong");
	corio_spawn(loop, pinger__start(NULL, 1000, &a), NULL);
	corio_spawn(loop, ponger__start(NULL, 1000, &b), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(a, 1000);
	cr_assert_eq(b, 0);
	corio_chan_destroy(&ping);
	corio_chan_destroy(&pong);
	t_loop_done(loop);
}

static struct corio_mutex first, second;

async int lock_in_order(int reversed)
{
	struct corio_mutex *a = reversed ? &second : &first;
	struct corio_mutex *b = reversed ? &first : &second;
	int r;

	await corio_mutex_lock(a);
	await corio_yield();
	r = await corio_mutex_lock(b);
	if (r == 0)
		corio_mutex_unlock(b);
	corio_mutex_unlock(a);
	return r;
}

Test(await_sync, lock_order_inversion_is_reported, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *x, *y;
	int rx = 1, ry = 1;

	corio_mutex_init(&first, "first");
	corio_mutex_init(&second, "second");
	corio_spawn(loop, lock_in_order__start(NULL, 0, &rx), &x);
	corio_spawn(loop, lock_in_order__start(NULL, 1, &ry), &y);
	corio_task_set_name(x, "forward");
	corio_task_set_name(y, "backward");
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE, "forward",
			      "backward");
	cr_assert_eq(ry, -EDEADLK);
	cr_assert_eq(rx, 0);
	/* The report points into this file, at the await of the lock. */
	cr_assert(strstr(corio_loop_deadlock(loop)->cycle[1].await_file,
			 "test_await_sync.c"));
	corio_mutex_destroy(&first);
	corio_mutex_destroy(&second);
	t_loop_done(loop);
}

async int wait_for(struct corio_chan *ch)
{
	int v;

	return await corio_chan_recv(ch, &v);
}

Test(await_sync, receivers_nobody_feeds_are_a_global_deadlock,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int r = 1, st;

	corio_chan_init(&ping, sizeof(int), 0, "never");
	corio_spawn(loop, wait_for__start(NULL, &ping, &r), &t);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "wait_for");
	corio_task_cancel(t);
	corio_assert_finished(loop);
	corio_task_reap(t, &st);
	cr_assert_eq(st, -ECANCELED);
	corio_chan_destroy(&ping);
	t_loop_done(loop);
}

async int slow_value(int ms, int value)
{
	await corio_sleep(CORIO_MS(ms));
	return value;
}

async int first_of_three(void)
{
	struct corio_group g;
	int a = 0, b = 0, c = 0, r;

	corio_group_init(&g, "race", 0);
	corio_group_spawn(&g, slow_value__start(NULL, 300, 1, &a));
	corio_group_spawn(&g, slow_value__start(NULL, 100, 2, &b));
	corio_group_spawn(&g, slow_value__start(NULL, 200, 3, &c));
	r = await corio_group_wait_any(&g);
	corio_group_destroy(&g);
	return r < 0 ? r : a + b + c;
}

Test(await_sync, group_race_on_a_virtual_clock, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	int got = 0;

	corio_spawn(loop, first_of_three__start(NULL, &got), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(got, 2, "only the fastest finished");
	t_loop_done(loop);
}

/* A scoped deadline around an async call, from async/await code. */
async int within(int scope_ms, int ms, int *napped, int64_t *after)
{
	int r;

	corio_deadline_set(corio_now() + CORIO_SEC(10));
	r = await corio_with_timeout(CORIO_MS(scope_ms),
				     slow_value__start(NULL, ms, 7, napped));
	*after = corio_deadline_set(CORIO_NO_DEADLINE);
	return r;
}

Test(await_sync, scoped_deadline, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	int late = 1, early = 1, napped_late = 0, napped_early = 0;
	int64_t after_late = 0, after_early = 0, t0 = corio_now();

	corio_spawn(loop, within__start(NULL, 10, 50, &napped_late,
					&after_late, &late), NULL);
	corio_spawn(loop, within__start(NULL, 50, 10, &napped_early,
					&after_early, &early), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(late, -ETIME);
	cr_assert_eq(napped_late, 7, "the nap returned; its sleep was cut");
	cr_assert_eq(early, 0);
	cr_assert_eq(napped_early, 7);
	/* Both got their own deadline back (10 s from their start). */
	cr_assert_geq(after_late, t0 + CORIO_SEC(10));
	cr_assert_geq(after_early, t0 + CORIO_SEC(10));
	t_loop_done(loop);
}

/* Select from async/await code: a receive, fd readiness or a timeout. */
static struct corio_chan inbox;

async int first_event(int fd, int *got, int64_t *res)
{
	struct corio_select_case cases[3];
	int which;

	cases[0] = corio_case_recv(&inbox, got);
	cases[1] = corio_case_poll(fd, POLLIN);
	cases[2] = corio_case_timeout(CORIO_MS(50));
	which = await corio_select(cases, 3);
	if (which >= 0)
		*res = cases[which].res;
	return which;
}

async void post_to_inbox(int v)
{
	await corio_yield();
	await corio_chan_send(&inbox, &v);
}

Test(await_sync, select, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int sv[2], got = 0, which = -1;
	int64_t res = 0;
	char c = 'x';

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	corio_chan_init(&inbox, sizeof(int), 0, "inbox");
	corio_spawn(loop, first_event__start(NULL, sv[0], &got, &res, &which),
		    NULL);
	corio_spawn(loop, post_to_inbox__start(NULL, 12), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(which, 0);
	cr_assert_eq(got, 12);
	cr_assert_eq(write(sv[1], &c, 1), 1);
	corio_spawn(loop, first_event__start(NULL, sv[0], &got, &res, &which),
		    NULL);
	corio_assert_finished(loop);
	cr_assert_eq(which, 1);
	cr_assert(res & POLLIN);
	cr_assert_eq(read(sv[0], &c, 1), 1);
	corio_spawn(loop, first_event__start(NULL, sv[0], &got, &res, &which),
		    NULL);
	corio_assert_finished(loop);
	cr_assert_eq(which, 2, "timed out");
	cr_assert_eq(corio_chan_destroy(&inbox), 0);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}
