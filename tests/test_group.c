/* SPDX-License-Identifier: MIT */
/*
 * tests/test_group.c - task groups: await all, any (losers cancelled and
 * unwound), n; the failure policy; select over alternatives.
 */
#include "testutil.h"

#include <stdatomic.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/group.h>
#include <corio/test.h>

static struct t_log log_;

/* Sleeps @ms, then returns @value or fails with @err. */
corio_async(int, job, ((int, ms), (int, value), (int, err)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	if (self->err)
		corio_throw(self->err);
	t_log_add(&log_, "done%d", self->value);
	corio_return(self->value);
corio_finally:
	if (self->hdr.err == -ECANCELED)
		t_log_add(&log_, "cancelled%d", self->value);
	corio_end();
}

struct outcome {
	int status, results[4];
};

corio_async(void, run_group, ((int, mode), (unsigned, flags),
			      (struct outcome *, out)), (
	struct corio_group g;
))
{
	corio_begin();
	corio_group_init(&self->g, "jobs", self->flags);
	corio_group_spawn(&self->g, job__start(NULL, 30, 1, 0,
					       &self->out->results[0]));
	corio_group_spawn(&self->g, job__start(NULL, 10, 2,
					       self->mode == 3 ? -EIO : 0,
					       &self->out->results[1]));
	corio_group_spawn(&self->g, job__start(NULL, 20, 3, 0,
					       &self->out->results[2]));
	cr_assert_eq(corio_group_size(&self->g), 3);
	if (self->mode == 0 || self->mode == 3)
		corio_await(self->out->status, corio_group_wait_all, &self->g);
	else if (self->mode == 1)
		corio_await(self->out->status, corio_group_wait_any, &self->g);
	else
		corio_await(self->out->status, corio_group_wait_n, &self->g,
			    2);
	/* Every member has ended by now, losers included. */
	cr_assert_eq(corio_group_finished(&self->g), 3);
	cr_assert_eq(corio_group_destroy(&self->g), 0);
corio_finally:
	corio_end();
}

static struct outcome run_mode(int mode, unsigned flags)
{
	struct corio_loop *loop = t_loop();
	struct outcome out = { 1, { 0, 0, 0, 0 } };

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, run_group__start(NULL, mode, flags, &out), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
	return out;
}

Test(group, wait_all_collects_every_result, .timeout = 10)
{
	struct outcome out = run_mode(0, 0);

	cr_assert_eq(out.status, 0);
	cr_assert_eq(out.results[0] + out.results[1] + out.results[2], 6);
	cr_assert_str_eq(log_.buf, "done2 done3 done1");
}

Test(group, wait_any_cancels_the_losers, .timeout = 10)
{
	struct outcome out = run_mode(1, 0);

	cr_assert_eq(out.status, 0);
	cr_assert_eq(out.results[1], 2, "the first to finish wins");
	cr_assert_eq(out.results[0], 0);
	cr_assert_eq(out.results[2], 0);
	cr_assert_str_eq(log_.buf, "done2 cancelled1 cancelled3");
}

Test(group, wait_n_takes_the_first_n, .timeout = 10)
{
	struct outcome out = run_mode(2, 0);

	cr_assert_eq(out.status, 0);
	cr_assert_str_eq(log_.buf, "done2 done3 cancelled1");
}

Test(group, first_failure_is_the_result, .timeout = 10)
{
	struct outcome out = run_mode(3, 0);

	cr_assert_eq(out.status, -EIO);
	cr_assert_str_eq(log_.buf, "done3 done1", "the others still ran");
}

Test(group, cancel_on_error_stops_the_others, .timeout = 10)
{
	struct outcome out = run_mode(3, CORIO_GROUP_CANCEL_ON_ERROR);

	cr_assert_eq(out.status, -EIO);
	cr_assert_str_eq(log_.buf, "cancelled1 cancelled3");
}

corio_async(int, empty_and_misuse, (), (
	struct corio_group g;
	int r;
))
{
	corio_begin();
	cr_assert_eq(corio_group_init(&self->g, NULL, 0x40), -EINVAL);
	corio_group_init(&self->g, NULL, 0);
	corio_await(self->r, corio_group_wait_all, &self->g);
	cr_assert_eq(self->r, 0, "an empty group is done");
	corio_await(self->r, corio_group_wait_n, &self->g, 1);
	cr_assert_eq(self->r, -EINVAL, "more than its members");
	cr_assert_eq(corio_group_spawn(&self->g, NULL), -ENOMEM);
	corio_group_spawn(&self->g, job__start(NULL, 1000, 9, 0, NULL));
	cr_assert_eq(corio_group_destroy(&self->g), -EBUSY);
	cr_assert_eq(corio_group_cancel(&self->g), 1);
	corio_await(self->r, corio_group_wait_all, &self->g);
	cr_assert_eq(self->r, -ECANCELED, "cancelled from outside");
	corio_return(corio_group_destroy(&self->g));
corio_finally:
	corio_end();
}

Test(group, empty_groups_and_misuse, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int r = 1;

	corio_spawn(loop, empty_and_misuse__start(NULL, &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, 0);
	t_loop_done(loop);
}

/* Select: whichever of a channel receive and a timeout comes first. */
corio_async(int, recv_alt, ((struct corio_chan *, ch), (int *, out)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, self->ch, self->out);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, select_recv_or_timeout, ((struct corio_chan *, ch),
					  (int, ms)), (
	struct corio_group g;
	int got, r, timer;
))
{
	corio_begin();
	self->got = -1;
	corio_group_init(&self->g, "select", 0);
	corio_group_spawn(&self->g, recv_alt__start(NULL, self->ch,
						    &self->got, NULL));
	corio_group_spawn(&self->g, job__start(NULL, self->ms, 0, 0,
					       &self->timer));
	corio_await(self->r, corio_group_wait_any, &self->g);
	corio_group_destroy(&self->g);
	corio_return(self->got);
corio_finally:
	corio_end();
}

corio_async(void, send_soon, ((struct corio_chan *, ch)), (
	int v, r;
))
{
	corio_begin();
	self->v = 77;
	corio_await(self->r, corio_chan_send, self->ch, &self->v);
corio_finally:
	corio_end();
}

Test(group, select_between_a_channel_and_a_timeout, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	int fast = 0, slow = 0;

	memset(&log_, 0, sizeof(log_));
	corio_chan_init(&ch, sizeof(int), 0, "answers");
	corio_spawn(loop, select_recv_or_timeout__start(NULL, &ch, 1000,
							&fast), NULL);
	corio_spawn(loop, send_soon__start(NULL, &ch), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(fast, 77, "the element won");
	corio_spawn(loop, select_recv_or_timeout__start(NULL, &ch, 10,
							&slow), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(slow, -1, "the timeout won; the receive was cancelled");
	cr_assert_eq(corio_chan_destroy(&ch), 0, "no receiver left behind");
	t_loop_done(loop);
}

/* ---- structured cancellation ---------------------------------------- */

/*
 * A member that sleeps @ms and, however it ends, writes into a slot of
 * its owner's frame: with the owner's frame released first, that write is
 * a use after free (the tests below turn the frame cache off, so
 * AddressSanitizer sees it) and the log order is wrong.
 */
corio_async(int, lender_user, ((int, ms), (int *, slot), (int, id)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	corio_return(self->id);
corio_finally:
	*self->slot = self->hdr.err ? self->hdr.err : self->id;
	t_log_add(&log_, "m%d", self->id);
	corio_end();
}

/* Spawns three long members, then waits on something else (@wait_ms)
 * or returns at once (@wait_ms 0) without awaiting the group. */
corio_async(int, owner, ((int, wait_ms)), (
	struct corio_group g;
	int slots[3];
	int res[3];
	int r, i;
))
{
	corio_begin();
	cr_assert_eq(corio_group_init(&self->g, "owned", 0), 0);
	for (self->i = 0; self->i < 3; self->i++)
		cr_assert_eq(corio_group_spawn(&self->g, lender_user__start(
			NULL, 1000, &self->slots[self->i], self->i + 1,
			&self->res[self->i])), 0);
	/* Let the members start (a member that never ran is cancelled
	 * without running), then wait or return. */
	corio_yield();
	if (self->wait_ms)
		corio_await(self->r, corio_sleep, CORIO_MS(self->wait_ms));
	corio_return(7);
corio_finally:
	/* Members still run: refused, and harmless (the frame's end
	 * cancels them and waits). */
	cr_assert_eq(corio_group_destroy(&self->g), -EBUSY);
	t_log_add(&log_, "owner%s", self->hdr.err ? "-unwinds" : "-returns");
	corio_end();
}

/* The owner as a child call: its caller continues only after the
 * members have ended. */
corio_async(int, caller, ((int, wait_ms)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, owner, self->wait_ms);
	t_log_add(&log_, "caller-continues%d", self->r);
	corio_return(self->r);
corio_finally:
	t_log_add(&log_, "caller%s", self->hdr.err ? "-unwinds" : "-ends");
	corio_end();
}

Test(group, cancelling_the_owner_cancels_and_awaits_the_members,
     .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_task *t, *killer;
	int64_t t0 = corio_now();
	int st = 0, r = 0;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, caller__start(NULL, 1000, &r), &t);
	corio_spawn(loop, t_cancel_and_join__start(NULL, t, &st), &killer);
	corio_assert_finished(loop);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_eq(r, 0, "the caller never continued");
	/* Owner cleanup, then the members (cancelled), then the caller. */
	cr_assert_str_eq(log_.buf, "owner-unwinds m1 m2 m3 caller-unwinds");
	cr_assert_lt(corio_now() - t0, CORIO_MS(500),
		     "the members were cancelled, not waited out");
	cr_assert_eq(corio_task_reap(killer, &st), 0);
	t_loop_done(loop);
}

Test(group, an_owner_that_returns_early_cancels_its_members, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop = t_loop_opts(&opts);
	int r = 0;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, caller__start(NULL, 0, &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, 7);
	cr_assert_str_eq(log_.buf,
			 "owner-returns m1 m2 m3 caller-continues7 caller-ends");
	t_loop_done(loop);
}

static intptr_t nap_30ms(void *arg)
{
	(void)arg;
	usleep(30000);
	return 0;
}

/* A member that cannot be interrupted: a call on a worker thread. */
corio_async(void, stubborn, ((int, id)), (
	intptr_t r;
))
{
	corio_begin();
	corio_await(self->r, corio_blocking, nap_30ms, NULL);
corio_finally:
	t_log_add(&log_, "s%d", self->id);
	corio_end();
}

corio_async(void, stubborn_owner, (), (
	struct corio_group g;
))
{
	corio_begin();
	corio_group_init(&self->g, "stubborn", 0);
	corio_group_spawn(&self->g, stubborn__start(NULL, 1));
	corio_group_spawn(&self->g, stubborn__start(NULL, 2));
	corio_yield();
corio_finally:
	t_log_add(&log_, "owner-ends");
	corio_end();
}

corio_async(void, cancel_later, ((struct corio_task *, victim)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(5));
	t_log_add(&log_, "cancel");
	cr_assert_eq(corio_task_cancel(self->victim), 0);
corio_finally:
	corio_end();
}

Test(group, an_owner_cancelled_while_it_waits_for_members, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_task *t;
	int st = 0;

	/* The owner's frame ends and waits for members that cannot be
	 * cut short; its task is cancelled meanwhile: the wait goes on,
	 * and the task ends cancelled. */
	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, stubborn_owner__start(NULL), &t);
	corio_spawn(loop, cancel_later__start(NULL, t), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(st, -ECANCELED);
	/* The two worker threads end in either order. */
	cr_assert(!strcmp(log_.buf, "owner-ends cancel s1 s2") ||
		  !strcmp(log_.buf, "owner-ends cancel s2 s1"), "%s", log_.buf);
	t_loop_done(loop);
}

/* ---- members whose returned int is a status ------------------------- */

corio_async(int, status_job, ((int, ms), (int, ret)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	corio_return(self->ret);
corio_finally:
	if (self->hdr.err == -ECANCELED)
		t_log_add(&log_, "cancelled%d", self->ms);
	corio_end();
}

corio_async(int, run_status_group, ((unsigned, flags), (int, fail_ret)), (
	struct corio_group g;
	int res[3];
	int r;
))
{
	corio_begin();
	corio_group_init(&self->g, "status", self->flags);
	/* A plain member returning a negative value: just a value. */
	corio_group_spawn(&self->g, status_job__start(NULL, 5, -EPIPE,
						       &self->res[0]));
	corio_group_spawn_status(&self->g, status_job__start(NULL, 10,
		self->fail_ret, &self->res[1]), &self->res[1]);
	corio_group_spawn_status(&self->g, status_job__start(NULL, 500, 3,
		&self->res[2]), &self->res[2]);
	corio_await(self->r, corio_group_wait_all, &self->g);
	cr_assert_eq(self->res[0], -EPIPE);
	cr_assert_eq(self->res[1], self->fail_ret);
	corio_group_destroy(&self->g);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(group, a_returned_negative_status_fails_the_group, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int r = 1;

	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, run_status_group__start(NULL,
		CORIO_GROUP_CANCEL_ON_ERROR, -ECONNRESET, &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, -ECONNRESET);
	cr_assert_str_eq(log_.buf, "cancelled500",
			 "the failure cancelled the slow member");
	/* Without the flag the others run on; the first failure stays. */
	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, run_status_group__start(NULL, 0, -ECONNRESET, &r),
		    NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, -ECONNRESET);
	cr_assert_str_eq(log_.buf, "");
	/* A status of 0 or more is success. */
	corio_spawn(loop, run_status_group__start(NULL,
		CORIO_GROUP_CANCEL_ON_ERROR, 4, &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, 0);
	cr_assert_eq(corio_group_spawn_status(NULL, NULL, NULL), -EINVAL);
	t_loop_done(loop);
}

/* ---- allocation failures ---------------------------------------------- */

corio_async(int, owner_of_two, (), (
	struct corio_group g;
	int res[2];
	int r;
))
{
	corio_begin();
	self->r = corio_group_init(&self->g, "two", 0);
	if (self->r < 0)
		corio_return(self->r);
	self->r = corio_group_spawn(&self->g, status_job__start(NULL, 1, 1,
							      &self->res[0]));
	if (!self->r)
		self->r = corio_group_spawn(&self->g, status_job__start(NULL,
			1000, 2, &self->res[1]));
	if (self->r < 0)
		corio_return(self->r);	/* the frame's end cancels the rest */
	corio_await(self->r, corio_group_wait_any, &self->g);
	corio_return(self->r);
corio_finally:
	corio_end();
}

/* Every allocation fails in turn, owned groups included: -ENOMEM to
 * someone, members never outlive their owner, nothing leaks. */
Test(group, allocation_failures_are_enomem, .timeout = 60)
{
	struct corio_loop_opts opts = {
		.flags = CORIO_LOOP_NO_CACHE | CORIO_LOOP_VIRTUAL_CLOCK };
	bool clean_run = false;
	long fail_at;

	for (fail_at = 1; !clean_run; fail_at++) {
		struct corio_loop *loop;
		struct corio_task *t;
		int r = 1, st = 0;

		cr_assert_lt(fail_at, 1000);
		t_alloc_counting(fail_at);
		if (corio_loop_create(&loop, &opts) < 0)
			continue;
		if (corio_spawn(loop, owner_of_two__start(NULL, &r), &t) == 0) {
			cr_assert_eq(corio_loop_run(loop), 0);
			cr_assert_eq(corio_task_reap(t, &st), 0);
			cr_assert(r == 0 || r == -ENOMEM || st == -ENOMEM,
				  "fail at %ld: result %d, status %d",
				  fail_at, r, st);
		}
		clean_run = atomic_load(&t_alloc_count) < fail_at;
		cr_assert_eq(corio_loop_destroy(loop), 0);
		corio_set_allocator(NULL, NULL);
		cr_assert_eq(atomic_load(&t_alloc_live), 0,
			     "fail at %ld: %ld allocations leaked", fail_at,
			     atomic_load(&t_alloc_live));
	}
}
