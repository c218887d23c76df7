/* SPDX-License-Identifier: MIT */
/*
 * tests/test_graph.c - deadlock detection: await cycles through joins and
 * mutex owners found eagerly, global deadlocks found at quiescence, the
 * report (struct, text, DOT), the policies, and no false positives.
 */
#include "testutil.h"

#include <criterion/redirect.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

/* ---- cycles through joins ------------------------------------------- */

static struct corio_task *peer[3];

/* Joins peer[idx] after a yield, so every task is spawned first. */
corio_async(int, join_peer, ((int, idx)), (
	int status;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->status, corio_join, peer[self->idx]);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(graph, two_tasks_joining_each_other, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	int ra = 1, rb = 1;

	corio_spawn(loop, join_peer__start(NULL, 1, &ra), &peer[0]);
	corio_spawn(loop, join_peer__start(NULL, 0, &rb), &peer[1]);
	corio_task_set_name(peer[0], "alice");
	corio_task_set_name(peer[1], "bob");
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE, "alice", "bob");
	/* bob's join closed the cycle and failed; alice then joined bob. */
	cr_assert_eq(rb, -EDEADLK);
	cr_assert_eq(ra, 0);
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->ncycle, 2);
	cr_assert_str_eq(r->cycle[0].name, "alice", "lowest id first");
	cr_assert_eq(r->cycle[0].wait, CORIO_WAIT_JOIN);
	cr_assert_eq(r->cycle[0].object_task, 2);
	cr_assert_str_eq(r->cycle[1].name, "bob");
	cr_assert_str_eq(r->cycle[1].await_fn, "join_peer");
	cr_assert(strstr(r->cycle[1].await_file, "test_graph.c"));
	cr_assert_gt(r->cycle[1].await_line, 0);
	cr_assert_str_eq(r->cycle[0].spawn_file, __FILE__);
	t_loop_done(loop);
}

Test(graph, three_task_join_cycle, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	int res[3];

	corio_spawn(loop, join_peer__start(NULL, 1, &res[0]), &peer[0]);
	corio_spawn(loop, join_peer__start(NULL, 2, &res[1]), &peer[1]);
	corio_spawn(loop, join_peer__start(NULL, 0, &res[2]), &peer[2]);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE, "join_peer");
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->ncycle, 3);
	cr_assert_eq(r->cycle[0].id, 1);
	cr_assert_eq(r->cycle[1].id, 2);
	cr_assert_eq(r->cycle[2].id, 3);
	cr_assert_eq(res[2], -EDEADLK);
	t_loop_done(loop);
}

/* ---- cycles through mutex owners ------------------------------------- */

static struct corio_mutex locks[2];

/* Lock locks[first], yield so the other task locks its first, then lock
 * locks[1 - first]: the classic lock-order inversion. */
corio_async(int, lock_both, ((int, first)), (
	int r, second;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, &locks[self->first]);
	corio_yield();
	corio_await(self->second, corio_mutex_lock, &locks[1 - self->first]);
	if (self->second == 0)
		corio_mutex_unlock(&locks[1 - self->first]);
	corio_mutex_unlock(&locks[self->first]);
	corio_return(self->second);
corio_finally:
	corio_end();
}

Test(graph, lock_order_inversion_is_an_await_cycle, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	struct corio_task *a, *b;
	int ra = 1, rb = 1;

	corio_mutex_init(&locks[0], "accounts");
	corio_mutex_init(&locks[1], "ledger");
	corio_spawn(loop, lock_both__start(NULL, 0, &ra), &a);
	corio_spawn(loop, lock_both__start(NULL, 1, &rb), &b);
	corio_task_set_name(a, "transfer");
	corio_task_set_name(b, "audit");
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE, "transfer",
			      "audit");
	cr_assert_eq(rb, -EDEADLK, "the lock that closes the cycle fails");
	cr_assert_eq(ra, 0, "then the other one gets its lock");
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->cycle[0].wait, CORIO_WAIT_MUTEX);
	cr_assert_str_eq(r->cycle[0].object, "ledger");
	cr_assert_eq(r->cycle[0].object_task, 2, "held by audit");
	cr_assert_not_null(r->cycle[0].holder_file, "where audit locked it");
	cr_assert_str_eq(r->cycle[1].name, "audit");
	cr_assert_str_eq(r->cycle[1].object, "accounts");
	corio_mutex_destroy(&locks[0]);
	corio_mutex_destroy(&locks[1]);
	t_loop_done(loop);
}

/* A holds the mutex and joins B; B wants the mutex. */
corio_async(int, hold_and_join, ((struct corio_task **, other)), (
	int r, status;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, &locks[0]);
	corio_yield();
	corio_await(self->status, corio_join, *self->other);
	corio_mutex_unlock(&locks[0]);
	corio_return(self->status);
corio_finally:
	corio_end();
}

corio_async(int, want_lock, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &locks[0]);
	if (!self->r)
		corio_mutex_unlock(&locks[0]);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(graph, cycle_through_a_join_and_a_mutex, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *a, *b;
	int ra = 1, rb = 1;

	corio_mutex_init(&locks[0], "cache");
	corio_spawn(loop, hold_and_join__start(NULL, &b, &ra), &a);
	corio_spawn(loop, want_lock__start(NULL, &rb), &b);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE,
			      "hold_and_join", "want_lock");
	cr_assert_eq(rb, -EDEADLK, "b's lock fails, b returns that value");
	cr_assert_eq(ra, 0, "a's join then sees b end normally");
	corio_mutex_destroy(&locks[0]);
	t_loop_done(loop);
}

/* ---- global deadlocks ------------------------------------------------- */

corio_async(int, recv_one_int, ((struct corio_chan *, ch)), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, self->ch, &self->v);
	corio_return(self->r ? self->r : self->v);
corio_finally:
	corio_end();
}

static struct corio_chan chans[2];

static struct corio_task *left, *right;

static struct corio_loop *global_setup(unsigned policy, int *r)
{
	struct corio_loop_opts opts = { .deadlock_policy = policy };
	struct corio_loop *loop = t_loop_opts(&opts);

	corio_chan_init(&chans[0], sizeof(int), 1, "to_left");
	corio_chan_init(&chans[1], sizeof(int), 1, "to_right");
	corio_spawn(loop, t_ping__start(NULL, &chans[0], &chans[1], &r[0]),
		    &left);
	corio_spawn(loop, t_ping__start(NULL, &chans[1], &chans[0], &r[1]),
		    &right);
	corio_task_set_name(left, "left");
	corio_task_set_name(right, "right");
	return loop;
}

/* Reap both tasks (cancelling them if they still wait), destroy all. */
static void global_teardown(struct corio_loop *loop)
{
	int st;

	corio_task_cancel(left);
	corio_task_cancel(right);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(left, &st), 0);
	cr_assert_eq(corio_task_reap(right, &st), 0);
	cr_assert_eq(corio_chan_destroy(&chans[0]), 0);
	cr_assert_eq(corio_chan_destroy(&chans[1]), 0);
	t_loop_done(loop);
}

Test(graph, two_receivers_waiting_on_each_other_is_global, .timeout = 5)
{
	int r[2] = { 1, 1 };
	struct corio_loop *loop = global_setup(CORIO_DEADLOCK_RETURN, r);
	const struct corio_deadlock_report *rep;
	char text[2048];

	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "left", "right");
	rep = corio_loop_deadlock(loop);
	cr_assert_eq(rep->ncycle, 0);
	cr_assert_eq(rep->nblocked, 2);
	cr_assert_eq(rep->blocked[0].id, 1);
	cr_assert_eq(rep->blocked[0].wait, CORIO_WAIT_CHAN_RECV);
	cr_assert_str_eq(rep->blocked[0].object, "to_left");
	cr_assert_str_eq(rep->blocked[1].object, "to_right");
	cr_assert_eq(rep->external_refs, 0);
	corio_deadlock_format(rep, text, sizeof(text));
	cr_assert(strstr(text, "DEADLOCK (global)"), "%s", text);
	cr_assert(strstr(text, "\"left\" waiting"), "%s", text);
	cr_assert(strstr(text, "channel receive \"to_right\""), "%s", text);
	cr_assert(strstr(text, "test_graph.c:"), "%s", text);
	cr_assert_eq(corio_deadlock_format(rep, NULL, 0), strlen(text),
		     "the length needed is returned, as snprintf does");
	/* The tasks were left as they were: still waiting. */
	cr_assert_not(corio_task_is_done(left));
	global_teardown(loop);
	cr_assert_eq(r[0], 1, "cancelled tasks store no result");
}

Test(graph, joiners_of_blocked_tasks_are_reported_too, .timeout = 5)
{
	int r[2] = { 1, 1 }, rj = 1;
	struct corio_loop *loop = global_setup(CORIO_DEADLOCK_RETURN, r);
	struct corio_task *j;

	peer[0] = left;
	corio_spawn(loop, join_peer__start(NULL, 0, &rj), &j);
	corio_task_set_name(j, "boss");
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "left", "right",
			      "boss");
	cr_assert_eq(corio_loop_deadlock(loop)->nblocked, 3);
	corio_task_cancel(j);
	global_teardown(loop);
}

Test(graph, report_continue_fails_the_waits_and_goes_on, .timeout = 5,
     .init = cr_redirect_stderr)
{
	int r[2] = { 1, 1 };
	struct corio_loop *loop = global_setup(CORIO_DEADLOCK_REPORT_CONTINUE,
					       r);

	cr_assert_eq(corio_loop_run(loop), 0, "the tasks could unwind");
	cr_assert_eq(r[0], -EDEADLK);
	cr_assert_eq(r[1], -EDEADLK);
	cr_assert_not_null(corio_loop_deadlock(loop));
	fflush(stderr);
	{
		FILE *err = cr_get_redirected_stderr();
		char text[2048] = "";
		size_t n = fread(text, 1, sizeof(text) - 1, err);

		text[n] = '\0';
		cr_assert(strstr(text, "DEADLOCK (global)"), "%s", text);
	}
	global_teardown(loop);
}

Test(graph, abort_policy_aborts, .timeout = 5, .signal = SIGABRT,
     .init = cr_redirect_stderr)
{
	int r[2];
	struct corio_loop *loop = global_setup(CORIO_DEADLOCK_ABORT, r);

	corio_loop_run(loop);
}

Test(graph, dot_export, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	int ra, rb;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	corio_mutex_init(&locks[0], "accounts");
	corio_mutex_init(&locks[1], "ledger");
	corio_spawn(loop, lock_both__start(NULL, 0, &ra), NULL);
	corio_spawn(loop, lock_both__start(NULL, 1, &rb), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	f = open_memstream(&buf, &len);
	cr_assert_eq(corio_deadlock_write_dot(corio_loop_deadlock(loop), f), 0);
	fclose(f);
	cr_assert(strstr(buf, "digraph corio_deadlock"), "%s", buf);
	cr_assert(strstr(buf, "t1 -> t2 [label=\"mutex\"]"), "%s", buf);
	cr_assert(strstr(buf, "t2 -> t1 [label=\"mutex\"]"), "%s", buf);
	cr_assert(strstr(buf, "color=red"), "%s", buf);
	free(buf);
	corio_mutex_destroy(&locks[0]);
	corio_mutex_destroy(&locks[1]);
	t_loop_done(loop);
}

/* ---- what a report names: the frame of each await, the chain ------- */

static int lock_line, relock_line, helper_line, call_line, leave_line;

/* An async helper that sleeps: its task suspends in a frame that is
 * released when the helper returns. */
corio_async(int, nap_briefly, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_US(10));
	corio_return(self->r);
corio_finally:
	corio_end();
}

/* Sleeps in a helper, then locks locks[0] twice. */
corio_async(int, nap_then_relock, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, nap_briefly);
	lock_line = __LINE__ + 1;
	corio_await(self->r, corio_mutex_lock, &locks[0]);
	relock_line = __LINE__ + 1;
	corio_await(self->r, corio_mutex_lock, &locks[0]);
	corio_mutex_unlock(&locks[0]);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(graph, relocking_is_a_reported_cycle_of_one, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	char text[2048];
	int res = 1;

	corio_mutex_init(&locks[0], "journal");
	corio_spawn(loop, nap_then_relock__start(NULL, &res), NULL);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE,
			      "nap_then_relock");
	cr_assert_eq(res, -EDEADLK);
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->ncycle, 1);
	cr_assert_eq(r->cycle[0].wait, CORIO_WAIT_MUTEX);
	cr_assert_eq(r->cycle[0].object_task, r->cycle[0].id);
	cr_assert_str_eq(r->cycle[0].await_fn, "nap_then_relock");
	cr_assert_eq(r->cycle[0].await_line, (unsigned)relock_line);
	/* Where it locked: its own frame, not the helper's, which was
	 * released before (a read of freed memory under ASan). */
	cr_assert_eq(r->cycle[0].holder_line, (unsigned)lock_line);
	cr_assert(strstr(r->cycle[0].holder_file, "test_graph.c"));
	corio_deadlock_format(r, text, sizeof(text));
	cr_assert(strstr(text, "a task waits for itself"), "%s", text);
	corio_mutex_destroy(&locks[0]);
	t_loop_done(loop);
}

corio_async(int, join_self, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_join, corio_current_task());
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(graph, joining_itself_is_a_reported_cycle_of_one, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	int res = 1;

	corio_spawn(loop, join_self__start(NULL, &res), NULL);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE, "join_self");
	cr_assert_eq(res, -EDEADLK);
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->ncycle, 1);
	cr_assert_eq(r->cycle[0].wait, CORIO_WAIT_JOIN);
	cr_assert_eq(r->cycle[0].object_task, r->cycle[0].id);
	t_loop_done(loop);
}

/* The lock that closes the cycle, one call down. */
corio_async(int, lock_in_helper, ((int, which)), (
	int r;
))
{
	corio_begin();
	helper_line = __LINE__ + 1;
	corio_await(self->r, corio_mutex_lock, &locks[self->which]);
	corio_return(self->r);
corio_finally:
	corio_end();
}

/* lock_both, after a nap in a helper and with the second lock taken in
 * another helper. */
corio_async(int, lock_both_in_helpers, ((int, first)), (
	int r, second;
))
{
	corio_begin();
	corio_await(self->r, nap_briefly);
	lock_line = __LINE__ + 1;
	corio_await(self->r, corio_mutex_lock, &locks[self->first]);
	corio_yield();
	call_line = __LINE__ + 1;
	corio_await(self->second, lock_in_helper, 1 - self->first);
	if (self->second == 0)
		corio_mutex_unlock(&locks[1 - self->first]);
	corio_mutex_unlock(&locks[self->first]);
	corio_return(self->second);
corio_finally:
	corio_end();
}

Test(graph, the_task_closing_a_cycle_is_reported_at_its_own_await,
     .timeout = 5)
{
	/* Virtual time: both naps end at once, so both lock their first. */
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	const struct corio_deadlock_report *r;
	const struct corio_task_info *closer;
	char text[4096];
	int ra = 1, rb = 1;

	corio_mutex_init(&locks[0], "accounts");
	corio_mutex_init(&locks[1], "ledger");
	corio_spawn(loop, lock_both_in_helpers__start(NULL, 0, &ra), NULL);
	corio_spawn(loop, lock_both_in_helpers__start(NULL, 1, &rb), NULL);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_AWAIT_CYCLE,
			      "lock_both_in_helpers");
	cr_assert_eq(ra + rb, -EDEADLK, "one lock fails, the other waits");
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->ncycle, 2);
	/* The task whose lock closed the cycle was running: reported at
	 * that lock, inside the helper, called from its root. */
	closer = &r->cycle[rb == -EDEADLK ? 1 : 0];
	cr_assert_str_eq(closer->await_fn, "lock_in_helper");
	cr_assert_eq(closer->await_line, (unsigned)helper_line);
	cr_assert_eq(closer->nframes, 2);
	cr_assert_eq(closer->depth, 2);
	cr_assert_str_eq(closer->frames[1].fn, "lock_both_in_helpers");
	cr_assert_eq(closer->frames[1].line, (unsigned)call_line);
	cr_assert_eq(r->cycle[0].holder_line, (unsigned)lock_line);
	cr_assert_eq(r->cycle[1].holder_line, (unsigned)lock_line);
	corio_deadlock_format(r, text, sizeof(text));
	cr_assert(strstr(text, "called from"), "%s", text);
	cr_assert(strstr(text, "in lock_both_in_helpers()\n     spawned at"),
		  "%s", text);
	corio_mutex_destroy(&locks[0]);
	corio_mutex_destroy(&locks[1]);
	t_loop_done(loop);
}

/* Recurse @n deep, then wait on chans[0] forever. */
corio_async(int, recurse_then_wait, ((int, n)), (
	int r, v;
))
{
	corio_begin();
	call_line = __LINE__ + 2;
	if (self->n > 0)
		corio_await(self->r, recurse_then_wait, self->n - 1);
	else
		corio_await(self->r, corio_chan_recv, &chans[0], &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(graph, a_deep_chain_keeps_its_innermost_frames_and_root, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	const struct corio_task_info *i;
	struct corio_task *t;
	char text[8192];
	int res;

	corio_chan_init(&chans[0], sizeof(int), 0, "never");
	corio_spawn(loop, recurse_then_wait__start(NULL, 100, &res), &t);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL,
			      "recurse_then_wait");
	r = corio_loop_deadlock(loop);
	i = &r->blocked[0];
	cr_assert_eq(i->depth, 101);
	cr_assert_eq(i->nframes, CORIO_REPORT_FRAMES);
	cr_assert_eq(corio_task_frames(t, NULL, 0), 101);
	cr_assert_eq(i->frames[0].line, (unsigned)call_line + 2);
	cr_assert_eq(i->frames[CORIO_REPORT_FRAMES - 1].line,
		     (unsigned)call_line, "the root, in its own await");
	corio_deadlock_format(r, text, sizeof(text));
	cr_assert(strstr(text, "... 69 frames left out"), "%s", text);
	corio_task_cancel(t);
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_task_reap(t, &res);
	corio_chan_destroy(&chans[0]);
	t_loop_done(loop);
}

Test(graph, long_reports_and_dumps_are_whole, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t[200];
	char *text, *dump = NULL;
	size_t len = 0;
	FILE *f;
	int res[200], i, st;

	/* 200 tasks, each 40 calls deep: a report of about 700 KiB. */
	corio_chan_init(&chans[0], sizeof(int), 0, "never");
	for (i = 0; i < 200; i++)
		corio_spawn(loop, recurse_then_wait__start(NULL, 40, &res[i]),
			    &t[i]);
	corio_task_set_name(t[199], "last");
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "last");
	/* What a failed assertion of corio/test.h prints. */
	text = corio__test_report_text(corio_loop_deadlock(loop));
	cr_assert_gt(strlen(text), 100000);
	cr_assert(strstr(text, "#200 \"last\" waiting"));
	cr_assert(strstr(strstr(text, "#200 \"last\""), "frames left out"));
	cr_assert(strstr(text, "  outside wakers: 0\n"), "the end is there");
	free(text);
	f = open_memstream(&dump, &len);
	cr_assert_eq(corio_loop_dump(loop, f), 200);
	fclose(f);
	cr_assert(strstr(strstr(dump, "#200 \"last\""), "... 9 frames left "
			 "out"), "%s", dump + len - 2000);
	free(dump);
	for (i = 0; i < 200; i++)
		corio_task_cancel(t[i]);
	corio_assert_finished(loop);
	for (i = 0; i < 200; i++)
		corio_task_reap(t[i], &st);
	corio_chan_destroy(&chans[0]);
	t_loop_done(loop);
}

/* Lock locks[0], let the others queue, end without unlocking. */
corio_async(int, lock_and_leave, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, nap_briefly);
	leave_line = __LINE__ + 1;
	corio_await(self->r, corio_mutex_lock, &locks[0]);
	corio_await(self->r, corio_sleep, CORIO_US(100));
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, lock_and_unlock, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_US(20));
	corio_await(self->r, corio_mutex_lock, &locks[0]);
	corio_mutex_unlock(&locks[0]);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(graph, a_task_that_ends_holding_a_mutex_is_reported, .timeout = 5,
     .init = cr_redirect_stderr)
{
	/* Virtual time: it locks at 10 us, the waiter queues at 20. */
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	const struct corio_deadlock_report *r;
	struct corio_task *a, *b;
	char text[4096];
	int ra = 1, rb = 1;

	corio_mutex_init(&locks[0], "journal");
	corio_spawn(loop, lock_and_leave__start(NULL, &ra), &a);
	corio_spawn(loop, lock_and_unlock__start(NULL, &rb), &b);
	corio_task_set_name(a, "leaver");
	corio_task_set_name(b, "waiter");
	corio_assert_deadlock(loop, CORIO_DEADLOCK_OWNER_DEAD, "leaver",
			      "waiter");
	cr_assert_eq(rb, -EOWNERDEAD, "the waiter got it, and was told");
	r = corio_loop_deadlock(loop);
	cr_assert_eq(r->ncycle, 1);
	cr_assert_str_eq(r->cycle[0].name, "leaver");
	cr_assert_str_eq(r->cycle[0].state, "done");
	cr_assert_str_eq(r->cycle[0].object, "journal");
	cr_assert_eq(r->cycle[0].holder_line, (unsigned)leave_line);
	cr_assert_eq(r->nblocked, 1);
	cr_assert_eq(r->blocked[0].wait, CORIO_WAIT_MUTEX);
	cr_assert_eq(r->blocked[0].object_task, r->cycle[0].id);
	corio_deadlock_format(r, text, sizeof(text));
	cr_assert(strstr(text, "ended holding mutex \"journal\""), "%s", text);
	corio_task_reap(a, &ra);
	corio_task_reap(b, &rb);
	cr_assert_null(corio_mutex_owner(&locks[0]));
	cr_assert_eq(corio_mutex_destroy(&locks[0]), 0);
	t_loop_done(loop);
}

/* ---- no false positives ------------------------------------------------ */

corio_async(int, recv_from_pipe, ((int, fd)), (
	char c;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_read, self->fd, &self->c, 1, -1);
	corio_return(self->c);
corio_finally:
	corio_end();
}

corio_async(void, write_after_sleep, ((int, fd)), (
	int r;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(20));
	corio_await(self->n, corio_write, self->fd, "k", 1, -1);
corio_finally:
	corio_end();
}

corio_async(void, send_after_sleep, ((struct corio_chan *, ch)), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(20));
	self->v = 42;
	corio_await(self->r, corio_chan_send, self->ch, &self->v);
corio_finally:
	corio_end();
}

Test(graph, waits_on_io_and_timers_are_not_deadlocks, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	int fds[2], got = 0, v = 0;

	cr_assert_eq(pipe(fds), 0);
	corio_chan_init(&ch, sizeof(int), 0, "later");
	/* One task waits on a pipe another fills after a sleep; one waits on
	 * a channel that a sleeping task will send on. */
	corio_spawn(loop, recv_from_pipe__start(NULL, fds[0], &got), NULL);
	corio_spawn(loop, write_after_sleep__start(NULL, fds[1]), NULL);
	corio_spawn(loop, recv_one_int__start(NULL, &ch, &v), NULL);
	corio_spawn(loop, send_after_sleep__start(NULL, &ch), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(got, 'k');
	cr_assert_eq(v, 42);
	corio_chan_destroy(&ch);
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

/* ---- dumps and reports at destroy ------------------------------------- */

corio_async(void, nap_long, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_SEC(60));
corio_finally:
	corio_end();
}

corio_async(int, fail_now, (), ())
{
	corio_begin();
	corio_throw(-EIO);
corio_finally:
	corio_end();
}

static char *dump_text;

corio_async(void, dumper, (), (
	size_t len;
	FILE *f;
))
{
	corio_begin();
	corio_yield();	/* the others reach their waits */
	self->f = open_memstream(&dump_text, &self->len);
	cr_assert_eq(corio_loop_dump(corio_loop_current(), self->f), 5);
	fclose(self->f);
	corio_loop_stop(corio_loop_current());
corio_finally:
	corio_end();
}

Test(graph, dump_lists_every_live_task, .timeout = 5)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *sleeper, *joiner, *waiter, *failed, *d;
	int rj, rw, st;

	corio_chan_init(&chans[0], sizeof(int), 1, "inbox");
	corio_spawn(loop, nap_long__start(NULL), &sleeper);
	peer[0] = sleeper;
	corio_spawn(loop, join_peer__start(NULL, 0, &rj), &joiner);
	corio_spawn(loop, recv_one_int__start(NULL, &chans[0], &rw), &waiter);
	corio_spawn(loop, fail_now__start(NULL, NULL), &failed);
	corio_spawn(loop, dumper__start(NULL), &d);
	corio_task_set_name(sleeper, "sleeper");
	corio_task_set_name(waiter, "waiter");
	cr_assert_eq(corio_loop_run(loop), 0, "the dumper stops the loop");
	cr_log_info("%s", dump_text);
	cr_assert(strstr(dump_text, "corio: 5 live tasks"), "%s", dump_text);
	cr_assert(strstr(dump_text, "\"sleeper\" waiting"), "%s", dump_text);
	cr_assert(strstr(dump_text, "on sleep"), "%s", dump_text);
	cr_assert(strstr(dump_text, "on join \"sleeper\""), "%s", dump_text);
	cr_assert(strstr(dump_text, "channel receive \"inbox\""), "%s",
		  dump_text);
	cr_assert(strstr(dump_text, "finished with -5, not joined"), "%s",
		  dump_text);
	cr_assert(strstr(dump_text, "\"dumper\" running"), "%s", dump_text);
	free(dump_text);
	corio_task_cancel(sleeper);
	corio_task_cancel(waiter);
	corio_assert_finished(loop);
	/* The joiner's join released the sleeper. */
	corio_task_reap(joiner, &st);
	corio_task_reap(waiter, &st);
	corio_task_reap(failed, &st);
	corio_task_reap(d, &st);
	corio_chan_destroy(&chans[0]);
	t_loop_done(loop);
}

corio_async(void, stop_soon, (), ())
{
	corio_begin();
	corio_yield();
	corio_loop_stop(corio_loop_current());
corio_finally:
	corio_end();
}

static void read_stderr(char *text, size_t len)
{
	size_t n;

	fflush(stderr);
	n = fread(text, 1, len - 1, cr_get_redirected_stderr());
	text[n] = '\0';
}

Test(graph, destroy_names_live_tasks_and_lost_failures, .timeout = 5,
     .init = cr_redirect_stderr)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *sleeper;
	char text[2048];
	int st;

	corio_spawn(loop, nap_long__start(NULL), &sleeper);
	corio_spawn(loop, fail_now__start(NULL, NULL), NULL);
	corio_spawn(loop, fail_now__start(NULL, NULL), &peer[1]);
	corio_task_set_name(peer[1], "careless");
	corio_spawn(loop, stop_soon__start(NULL), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_loop_destroy(loop), -EBUSY);
	corio_task_cancel(sleeper);
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_task_reap(sleeper, &st);
	t_loop_done(loop);
	read_stderr(text, sizeof(text));
	cr_assert(strstr(text, "1 task is still alive"), "%s", text);
	cr_assert(strstr(text, "\"nap_long\" waiting"), "%s", text);
	cr_assert(strstr(text, "\"careless\" (spawned at"), "%s", text);
	cr_assert(strstr(text, "failed with -5"), "%s", text);
	cr_assert(strstr(text, "never joined"), "%s", text);
}
