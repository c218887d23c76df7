/* SPDX-License-Identifier: MIT */
/*
 * tests/test_group.c - task groups: await all, any (losers cancelled and
 * unwound), n; the failure policy; select over alternatives.
 */
#include "testutil.h"

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
