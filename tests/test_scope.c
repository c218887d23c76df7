/* SPDX-License-Identifier: MIT */
/*
 * tests/test_scope.c - scopes: a deadlock among a scope's tasks found while
 * the rest of the loop sleeps or listens, at once, with a report; no report
 * while a task of the scope can still be woken; the rules that keep it
 * exact (-EXDEV), and bad input.
 */
#include "testutil.h"

#include <criterion/redirect.h>
#include <signal.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

static struct corio_chan chans[2];

static struct corio_task *left, *right;

corio_async(int, cancel_later, ((struct corio_task *, t), (int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	corio_task_cancel(self->t);
	corio_return(0);
corio_finally:
	corio_end();
}
static uint64_t last_block_iteration;

/* The two pingers in scope @s, with their channels. */
static void spawn_pingers(struct corio_loop *loop, struct corio_scope *s,
			  int *r)
{
	cr_assert_eq(corio_scope_enter(s), 0);
	cr_assert_eq(corio_chan_init(&chans[0], sizeof(int), 0, "to_left"), 0);
	cr_assert_eq(corio_chan_init(&chans[1], sizeof(int), 0, "to_right"),
		     0);
	corio_spawn(loop, t_ping__start(NULL, &chans[0], &chans[1], &r[0]),
		    &left);
	corio_spawn(loop, t_ping__start(NULL, &chans[1], &chans[0], &r[1]),
		    &right);
	cr_assert_eq(corio_scope_exit(s), 0);
	corio_task_set_name(left, "left");
	corio_task_set_name(right, "right");
}

/* Cancel the pingers and what keeps the loop busy, run, reap, free. */
static void teardown(struct corio_loop *loop, struct corio_scope *s,
		     struct t_bg *bg)
{
	int st;

	corio_task_cancel(left);
	corio_task_cancel(right);
	t_bg_stop(bg);
	corio_assert_finished(loop);
	t_bg_done(bg);
	cr_assert_eq(corio_task_reap(left, &st), 0);
	cr_assert_eq(corio_task_reap(right, &st), 0);
	cr_assert_eq(corio_scope_tasks(s), 0);
	cr_assert_eq(corio_chan_destroy(&chans[0]), 0);
	cr_assert_eq(corio_chan_destroy(&chans[1]), 0);
	cr_assert_eq(corio_scope_destroy(s), 0);
	t_loop_done(loop);
}

static void deadlock_while_busy(enum t_bg_kind kind)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *rep;
	struct corio_loop_stats st;
	struct corio_scope *s;
	struct t_bg bg;
	char text[4096];
	int r[2] = { 1, 1 };

	cr_assert_eq(corio_scope_create(loop, "pingers", &s), 0);
	spawn_pingers(loop, s, r);
	t_bg_start(loop, &bg, kind);
	corio_assert_scope_deadlock(loop, s, "left", "right");
	rep = corio_loop_deadlock(loop);
	cr_assert_eq(rep->nblocked, 2);
	cr_assert_eq(rep->blocked[0].wait, CORIO_WAIT_CHAN_RECV);
	cr_assert_str_eq(rep->blocked[0].object, "to_left");
	cr_assert_str_eq(rep->blocked[0].object_state, "capacity 0, 0 queued");
	cr_assert_str_eq(rep->scope, "pingers");
	cr_assert_eq(corio_scope_deadlock(s)->nblocked, 2,
		     "the scope keeps its own copy");
	corio_deadlock_format(rep, text, sizeof(text));
	cr_assert(strstr(text, "DEADLOCK (scope \"pingers\"): 2 tasks"), "%s",
		  text);
	cr_assert(strstr(text, "channel receive \"to_right\" (capacity 0"),
		  "%s", text);
	/* Found in the first iteration: the ticker had no time to tick,
	 * the listener no connection to take. */
	corio_loop_stats(loop, &st);
	cr_assert_leq(st.iterations, 2, "%llu iterations",
		      (unsigned long long)st.iterations);
	cr_assert_not(corio_task_is_done(bg.task), "the rest still runs");
	teardown(loop, s, &bg);
	cr_assert_eq(r[0], 1, "cancelled tasks store no result");
}

Test(scope, deadlock_found_while_a_sleeper_runs, .timeout = 10)
{
	deadlock_while_busy(T_BG_TICKER);
}

Test(scope, deadlock_found_while_a_listener_waits, .timeout = 10)
{
	deadlock_while_busy(T_BG_LISTENER);
}

Test(scope, deadlock_found_again_by_the_next_run, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_scope *s;
	struct t_bg bg;
	int r[2];

	cr_assert_eq(corio_scope_create(loop, "pingers", &s), 0);
	spawn_pingers(loop, s, r);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_assert_scope_deadlock(loop, s, "left", "right");
	/* Nothing changed: the next run says so at once, not a hang. */
	corio_assert_scope_deadlock(loop, s, "left", "right");
	teardown(loop, s, &bg);
}

/* ---- found within one iteration of the last block -------------------- */

/* Sleep @ns, then receive on chans[0] (which nobody sends on). */
corio_async(int, nap_then_recv, ((int64_t, ns)), (
	int v, r;
	struct corio_loop_stats st;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	corio_loop_stats(corio_loop_current(), &self->st);
	last_block_iteration = self->st.iterations;
	corio_await(self->r, corio_chan_recv, &chans[0], &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(scope, found_in_the_iteration_of_the_last_block, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats st;
	struct corio_task *a, *b;
	struct corio_scope *s;
	struct t_bg bg;
	int ra, rb;

	cr_assert_eq(corio_scope_create(loop, "late", &s), 0);
	corio_scope_enter(s);
	corio_chan_init(&chans[0], sizeof(int), 0, "never");
	corio_spawn(loop, nap_then_recv__start(NULL, CORIO_MS(1), &ra), &a);
	corio_spawn(loop, nap_then_recv__start(NULL, CORIO_MS(30), &rb), &b);
	corio_scope_exit(s);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_assert_scope_deadlock(loop, s, "nap_then_recv");
	corio_loop_stats(loop, &st);
	cr_assert_eq(st.iterations, last_block_iteration,
		     "found in the iteration of the last block");
	cr_assert_gt(bg.ticks, 5, "the ticker ran meanwhile");
	corio_task_cancel(a);
	corio_task_cancel(b);
	t_bg_stop(&bg);
	corio_assert_finished(loop);
	t_bg_done(&bg);
	corio_task_reap(a, &ra);
	corio_task_reap(b, &rb);
	corio_chan_destroy(&chans[0]);
	corio_scope_destroy(s);
	t_loop_done(loop);
}

/* ---- no report while a task of the scope can be woken ---------------- */

corio_async(int, send_later, ((struct corio_chan *, ch), (int64_t, ns)), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	self->v = 7;
	corio_await(self->r, corio_chan_send, self->ch, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, recv_int, ((struct corio_chan *, ch)), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, self->ch, &self->v);
	corio_return(self->r ? self->r : self->v);
corio_finally:
	corio_end();
}

/* Receive with a deadline @ns ahead: -ETIME, not a deadlock. */
corio_async(int, recv_until, ((struct corio_chan *, ch), (int64_t, ns)), (
	int v, r;
	int64_t prev;
))
{
	corio_begin();
	self->prev = corio_deadline_set(corio_now() + self->ns);
	corio_await(self->r, corio_chan_recv, self->ch, &self->v);
	corio_deadline_set(self->prev);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(scope, waits_that_can_still_end_are_not_deadlocks, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan inside, outside, never;
	struct corio_scope *s;
	int got = 0, got_out = 0, timed = 0, sent = 1, sent_out = 1;

	/* A channel of the scope that a sleeping task of it sends on; a
	 * channel outside the scope that an outside task sends on; a
	 * receive with a deadline. */
	corio_chan_init(&outside, sizeof(int), 0, "outside");
	cr_assert_eq(corio_scope_create(loop, "waiters", &s), 0);
	corio_scope_enter(s);
	corio_chan_init(&inside, sizeof(int), 0, "inside");
	corio_chan_init(&never, sizeof(int), 0, "never");
	corio_spawn(loop, recv_int__start(NULL, &inside, &got), NULL);
	corio_spawn(loop, send_later__start(NULL, &inside, CORIO_MS(20),
					    &sent), NULL);
	corio_spawn(loop, recv_int__start(NULL, &outside, &got_out), NULL);
	corio_spawn(loop, recv_until__start(NULL, &never, CORIO_MS(40),
					    &timed), NULL);
	corio_scope_exit(s);
	corio_spawn(loop, send_later__start(NULL, &outside, CORIO_MS(30),
					    &sent_out), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(got, 7);
	cr_assert_eq(got_out, 7);
	cr_assert_eq(sent + sent_out, 0);
	cr_assert_eq(timed, -ETIME);
	corio_chan_destroy(&inside);
	corio_chan_destroy(&outside);
	corio_chan_destroy(&never);
	corio_scope_destroy(s);
	t_loop_done(loop);
}

/* ---- joins, mutexes, nested spawns ------------------------------------ */

static struct corio_mutex mu;
static struct corio_event ev;

/* Spawn a child that waits on ev (in our scope: inherited) and join it. */
corio_async(int, wait_event, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_event_wait, &ev);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, spawn_and_join, (), (
	struct corio_task *child;
	int r, st;
))
{
	corio_begin();
	/* The event is made inside the scope's task: it is the scope's. */
	corio_event_init(&ev, "go");
	corio_spawn(corio_loop_current(), wait_event__start(NULL, &self->r),
		    &self->child);
	cr_assert_eq(corio_task_scope(self->child),
		     corio_task_scope(corio_current_task()), "inherited");
	corio_await(self->st, corio_join, self->child);
	corio_return(self->st);
corio_finally:
	corio_end();
}

/* Lock mu, then wait on ev forever; the other one wants mu. */
corio_async(int, hold_and_wait, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, &mu);
	corio_await(self->r, corio_event_wait, &ev);
	corio_mutex_unlock(&mu);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, want_mu, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &mu);
	if (!self->r)
		corio_mutex_unlock(&mu);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(scope, a_join_and_a_mutex_in_the_scope_block_durably, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *rep;
	struct corio_task *j, *h, *w;
	struct corio_scope *s;
	struct t_bg bg;
	int rj, rh, rw, st;
	size_t i;

	cr_assert_eq(corio_scope_create(loop, "lockers", &s), 0);
	corio_scope_enter(s);
	corio_mutex_init(&mu, "table");
	corio_spawn(loop, spawn_and_join__start(NULL, &rj), &j);
	corio_spawn(loop, hold_and_wait__start(NULL, &rh), &h);
	corio_spawn(loop, want_mu__start(NULL, &rw), &w);
	corio_scope_exit(s);
	t_bg_start(loop, &bg, T_BG_LISTENER);
	corio_assert_scope_deadlock(loop, s, "spawn_and_join", "wait_event",
				    "hold_and_wait", "want_mu");
	rep = corio_scope_deadlock(s);
	cr_assert_eq(rep->nblocked, 4);
	for (i = 0; i < rep->nblocked; i++)
		if (!strcmp(rep->blocked[i].name, "want_mu"))
			cr_assert_eq(rep->blocked[i].object_task,
				     corio_task_id(h), "held by the waiter");
	/* Cleanup: the event is the scope's, and between runs code
	 * outside tasks may set it. */
	cr_assert_eq(corio_event_set(&ev), 2);
	t_bg_stop(&bg);
	corio_assert_finished(loop);
	t_bg_done(&bg);
	cr_assert_eq(rj + rh + rw, 0);
	corio_task_reap(j, &st);
	corio_task_reap(h, &st);
	corio_task_reap(w, &st);
	corio_mutex_destroy(&mu);
	corio_event_destroy(&ev);
	corio_scope_destroy(s);
	t_loop_done(loop);
}

/* Lock mu, sleep @ns, unlock. */
corio_async(int, hold_for, ((int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, &mu);
	corio_await(self->r, corio_sleep, self->ns);
	corio_mutex_unlock(&mu);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(scope, a_mutex_wait_is_durable_when_its_owner_is_of_the_scope,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *h, *w, *w2, *o;
	struct corio_scope *s;
	struct t_bg bg;
	int rh, rw, rw2, ro, st;

	/* A mutex of no scope, held by a task of the scope that waits
	 * forever: its waiter in the scope is stuck with it. */
	corio_mutex_init(&mu, "table");
	cr_assert_eq(corio_scope_create(loop, "holders", &s), 0);
	corio_scope_enter(s);
	corio_event_init(&ev, "go");
	corio_spawn(loop, hold_and_wait__start(NULL, &rh), &h);
	corio_spawn(loop, want_mu__start(NULL, &rw), &w);
	corio_scope_exit(s);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_assert_scope_deadlock(loop, s, "hold_and_wait", "want_mu");
	corio_event_set(&ev);
	/* Held by a task outside the scope, which unlocks it later: the
	 * waiter of the scope is not stuck, and nothing is reported. */
	corio_spawn(loop, hold_for__start(NULL, CORIO_MS(20), &ro), &o);
	corio_scope_enter(s);
	corio_spawn(loop, want_mu__start(NULL, &rw2), &w2);
	corio_scope_exit(s);
	corio_spawn(loop, cancel_later__start(NULL, bg.task, CORIO_MS(40),
					      NULL), NULL);
	corio_assert_finished(loop);
	t_bg_done(&bg);
	cr_assert_eq(rh + rw + rw2 + ro, 0);
	corio_task_reap(h, &st);
	corio_task_reap(o, &st);
	corio_task_reap(w, &st);
	corio_task_reap(w2, &st);
	corio_mutex_destroy(&mu);
	corio_event_destroy(&ev);
	corio_scope_destroy(s);
	t_loop_done(loop);
}

/* ---- the rule: only the scope's tasks use its primitives --------------- */

static int outside_send, outside_set, posted_set;

corio_async(int, meddle, (), (
	int r, v;
))
{
	corio_begin();
	self->v = 1;
	corio_await(outside_send, corio_chan_send, &chans[0], &self->v);
	outside_set = corio_event_set(&ev);
	corio_return(0);
corio_finally:
	corio_end();
}

static void post_set(void *arg)
{
	(void)arg;
	posted_set = corio_event_set(&ev);
}

Test(scope, others_get_exdev_from_the_scopes_primitives, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_scope *s;
	int r;

	cr_assert_eq(corio_scope_create(loop, "closed", &s), 0);
	corio_scope_enter(s);
	corio_chan_init(&chans[0], sizeof(int), 1, "box");
	corio_mutex_init(&mu, "table");
	corio_event_init(&ev, "go");
	corio_scope_exit(s);
	/* Between runs, code outside tasks may set the scope up. */
	r = 5;
	cr_assert_eq(corio_chan_try_send(&chans[0], &r), 0);
	cr_assert_eq(corio_chan_try_recv(&chans[0], &r), 0);
	corio_spawn(loop, meddle__start(NULL, NULL), NULL);
	corio_loop_post(loop, post_set, NULL);
	corio_assert_finished(loop);
	cr_assert_eq(outside_send, -EXDEV);
	cr_assert_eq(outside_set, -EXDEV);
	cr_assert_eq(posted_set, -EXDEV, "a posted message is outside");
	corio_chan_destroy(&chans[0]);
	corio_mutex_destroy(&mu);
	corio_event_destroy(&ev);
	/* Once the scope is gone, its primitives are nobody's. */
	cr_assert_eq(corio_scope_destroy(s), 0);
	corio_spawn(loop, meddle__start(NULL, NULL), NULL);
	corio_chan_init(&chans[0], sizeof(int), 1, "box");
	corio_mutex_init(&mu, "table");
	corio_event_init(&ev, "go");
	corio_assert_finished(loop);
	cr_assert_eq(outside_send + outside_set, 0);
	corio_chan_destroy(&chans[0]);
	corio_mutex_destroy(&mu);
	corio_event_destroy(&ev);
	t_loop_done(loop);
}

/* ---- groups ----------------------------------------------------------- */

static struct corio_group grp;

corio_async(int, spawn_member, (), (
	int r;
))
{
	corio_begin();
	corio_return(corio_group_spawn(&grp, wait_event__start(NULL, NULL)));
corio_finally:
	corio_end();
}

corio_async(int, wait_group, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_group_wait_all, &grp);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(scope, a_groups_members_are_its_scopes, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *waiter;
	struct corio_scope *s;
	struct t_bg bg;
	int r = 1, rs = 1, st;

	cr_assert_eq(corio_scope_create(loop, "grouped", &s), 0);
	corio_scope_enter(s);
	corio_group_init(&grp, "workers", 0);
	corio_event_init(&ev, "go");
	cr_assert_eq(corio_group_spawn(&grp, wait_event__start(NULL, NULL)), 0);
	corio_spawn(loop, wait_group__start(NULL, &r), &waiter);
	corio_scope_exit(s);
	/* Outside the scope, the group takes no member: not between runs
	 * either, or the member would be outside it. */
	cr_assert_eq(corio_group_spawn(&grp, wait_event__start(NULL, NULL)),
		     -EXDEV);
	corio_spawn(loop, spawn_member__start(NULL, &rs), NULL);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_assert_scope_deadlock(loop, s, "wait_event", "wait_group");
	cr_assert_eq(rs, -EXDEV);
	cr_assert_eq(corio_scope_tasks(s), 2);
	corio_event_set(&ev);
	t_bg_stop(&bg);
	corio_assert_finished(loop);
	t_bg_done(&bg);
	cr_assert_eq(r, 0);
	corio_task_reap(waiter, &st);
	cr_assert_eq(corio_group_destroy(&grp), 0);
	corio_event_destroy(&ev);
	corio_scope_destroy(s);
	t_loop_done(loop);
}

/* ---- policies ----------------------------------------------------------- */


Test(scope, report_continue_fails_the_scopes_waits, .timeout = 10,
     .init = cr_redirect_stderr)
{
	struct corio_loop_opts opts = {
		.deadlock_policy = CORIO_DEADLOCK_REPORT_CONTINUE,
	};
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_scope *s;
	struct t_bg bg;
	int r[2] = { 1, 1 }, st;

	cr_assert_eq(corio_scope_create(loop, "pingers", &s), 0);
	spawn_pingers(loop, s, r);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_spawn(loop, cancel_later__start(NULL, bg.task, CORIO_MS(30),
					      NULL), NULL);
	/* The pingers unwind with -EDEADLK and end while the ticker runs;
	 * it is cancelled later. */
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r[0], -EDEADLK);
	cr_assert_eq(r[1], -EDEADLK);
	cr_assert_not_null(corio_scope_deadlock(s));
	t_bg_done(&bg);
	corio_task_reap(left, &st);
	corio_task_reap(right, &st);
	corio_chan_destroy(&chans[0]);
	corio_chan_destroy(&chans[1]);
	corio_scope_destroy(s);
	t_loop_done(loop);
}

Test(scope, abort_policy_aborts, .timeout = 10, .signal = SIGABRT,
     .init = cr_redirect_stderr)
{
	struct corio_loop_opts opts = {
		.deadlock_policy = CORIO_DEADLOCK_ABORT,
	};
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_scope *s;
	struct t_bg bg;
	int r[2];

	cr_assert_eq(corio_scope_create(loop, "pingers", &s), 0);
	spawn_pingers(loop, s, r);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_loop_run(loop);
}

/* ---- bad input ----------------------------------------------------------- */

corio_async(int, try_enter, ((struct corio_scope *, s)), ())
{
	corio_begin();
	corio_return(corio_scope_enter(self->s));
corio_finally:
	corio_end();
}

static void *create_elsewhere(void *loop)
{
	struct corio_scope *s = (struct corio_scope *)1;
	intptr_t r = corio_scope_create(loop, "x", &s);

	cr_assert_null(s);
	return (void *)r;
}

Test(scope, misuse_is_refused_and_leaks_nothing, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_scope *a, *b;
	struct corio_task *t;
	pthread_t th;
	void *ret;
	int r = 1, st;

	cr_assert_eq(corio_scope_create(NULL, "x", &a), -EINVAL);
	cr_assert_eq(corio_scope_create(loop, "x", NULL), -EINVAL);
	cr_assert_eq(pthread_create(&th, NULL, create_elsewhere, loop), 0);
	pthread_join(th, &ret);
	cr_assert_eq((intptr_t)ret, -EPERM);
	cr_assert_eq(corio_scope_create(loop, NULL, &a), 0);
	cr_assert_str_eq(corio_scope_name(a), "scope");
	cr_assert_eq(corio_scope_create(loop, "b", &b), 0);
	cr_assert_eq(corio_scope_enter(NULL), -EINVAL);
	cr_assert_eq(corio_scope_exit(a), -EINVAL, "not entered");
	cr_assert_eq(corio_scope_enter(a), 0);
	cr_assert_eq(corio_scope_enter(b), -EBUSY, "one at a time");
	corio_spawn(loop, wait_event__start(NULL, &r), &t);
	cr_assert_eq(corio_scope_exit(b), -EINVAL);
	cr_assert_eq(corio_scope_exit(a), 0);
	cr_assert_eq(corio_task_scope(t), a);
	cr_assert_eq(corio_scope_tasks(a), 1);
	cr_assert_eq(corio_scope_destroy(a), -EBUSY, "a task is alive");
	cr_assert_eq(corio_scope_destroy(NULL), -EINVAL);
	corio_spawn(loop, try_enter__start(NULL, b, &r), NULL);
	corio_event_init(&ev, "go");
	corio_task_cancel(t);
	corio_assert_finished(loop);
	cr_assert_eq(r, -EPERM, "a task has its own scope");
	cr_assert_null(corio_task_scope(t), "it ended");
	corio_task_reap(t, &st);
	cr_assert_eq(corio_scope_tasks(a), 0);
	cr_assert_eq(corio_scope_destroy(a), 0);
	corio_event_destroy(&ev);
	/* b is left for the loop to free. */
	t_loop_done(loop);
}

/* ---- CORIO_SCOPE_SHADOW: checking the check over whole programs ------ */

Test(scope, shadow_check_counts_a_loop_found_stuck, .timeout = 10,
     .init = cr_redirect_stderr)
{
	struct corio_loop *loop;
	char text[4096];
	size_t n;
	int r[2], st;

	setenv("CORIO_SCOPE_SHADOW", "verbose", 1);
	loop = t_loop();
	corio_chan_init(&chans[0], sizeof(int), 0, "to_left");
	corio_chan_init(&chans[1], sizeof(int), 0, "to_right");
	corio_spawn(loop, t_ping__start(NULL, &chans[0], &chans[1], &r[0]),
		    &left);
	corio_spawn(loop, t_ping__start(NULL, &chans[1], &chans[0], &r[1]),
		    &right);
	corio_task_set_name(left, "left");
	corio_task_set_name(right, "right");
	cr_assert_null(corio_task_scope(left), "the shadow scope is nobody's");
	/* Never reported by the shadow check: the global check does. */
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "left", "right");
	corio_task_cancel(left);
	corio_task_cancel(right);
	corio_assert_finished(loop);
	corio_task_reap(left, &st);
	corio_task_reap(right, &st);
	corio_chan_destroy(&chans[0]);
	corio_chan_destroy(&chans[1]);
	t_loop_done(loop);
	fflush(stderr);
	n = fread(text, 1, sizeof(text) - 1, cr_get_redirected_stderr());
	text[n] = '\0';
	cr_assert(strstr(text, "CORIO_SCOPE_SHADOW: 1 time every task of the "
			 "loop was found stuck (2 tasks in all)"), "%s", text);
}

/* Another thread wakes the receiver through a message it never
 * declared (corio_loop_external_ref): the shadow check, which assumed as
 * the global check does that nothing outside wakes a task unless
 * declared, was wrong, and says so. */
static void post_send(void *arg)
{
	int v = 1;

	(void)arg;
	cr_assert_eq(corio_chan_try_send(&chans[0], &v), 0);
}

static void *post_later(void *loop)
{
	/* The loop finds the receiver stuck in its first iteration, within
	 * microseconds of starting; a message that came first would be
	 * pending then, and the shadow check would wait for it. */
	usleep(100000);
	corio_loop_post(loop, post_send, NULL);
	return NULL;
}

Test(scope, shadow_check_aborts_when_a_task_it_found_stuck_runs,
     .timeout = 10, .signal = SIGABRT, .init = cr_redirect_stderr)
{
	struct corio_loop *loop;
	struct corio_scope *s;
	struct t_bg bg;
	pthread_t th;
	int got;

	setenv("CORIO_SCOPE_SHADOW", "1", 1);
	loop = t_loop();
	/* A ticker in a scope of its own keeps the loop busy; every task of
	 * the shadow check's scope is the receiver. */
	cr_assert_eq(corio_scope_create(loop, "busy", &s), 0);
	corio_scope_enter(s);
	t_bg_start(loop, &bg, T_BG_TICKER);
	corio_scope_exit(s);
	corio_chan_init(&chans[0], sizeof(int), 0, "mailbox");
	corio_spawn(loop, recv_int__start(NULL, &chans[0], &got), NULL);
	cr_assert_eq(pthread_create(&th, NULL, post_later, loop), 0);
	corio_loop_run(loop);
}
