/* SPDX-License-Identifier: MIT */
/*
 * tests/test_select.c - corio_select: order among ready cases, waiting on
 * every kind of case, the losers withdrawn with nothing taken, the task's
 * deadline and cancellation, misuse, deadlock reports, and a stress of
 * many senders and receivers with timeouts and cancellations in which
 * every value is counted.
 */
#include "testutil.h"

#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/select.h>
#include <corio/test.h>

static struct t_log log_;

/* Select over @n cases; the index (or error) and the outcome. */
struct sel {
	struct corio_select_case c[8];
	size_t n;
	int which;
	int64_t res;
};

corio_async(int, do_select, ((struct sel *, s)), ())
{
	corio_begin();
	corio_await(self->s->which, corio_select, self->s->c, self->s->n);
	if (self->s->which >= 0)
		self->s->res = self->s->c[self->s->which].res;
	t_log_add(&log_, "sel%d", self->s->which);
	corio_return(self->s->which);
corio_finally:
	if (self->hdr.err)
		t_log_add(&log_, "unwound");
	corio_end();
}

corio_async(void, send_later, ((struct corio_chan *, ch), (int, v),
			       (int, yields)), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->yields; self->i++)
		corio_yield();
	corio_await(self->r, corio_chan_send, self->ch, &self->v);
	t_log_add(&log_, "sent%d:%d", self->v, self->r);
corio_finally:
	corio_end();
}

Test(select, the_first_ready_case_goes_ahead, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan a, b;
	struct sel s;
	int va = 0, vb = 0, one = 1, two = 2, out;

	corio_chan_init(&a, sizeof(int), 4, "a");
	corio_chan_init(&b, sizeof(int), 4, "b");
	corio_chan_try_send(&a, &one);
	corio_chan_try_send(&b, &two);
	s = (struct sel){ .n = 2 };
	s.c[0] = corio_case_recv(&a, &va);
	s.c[1] = corio_case_recv(&b, &vb);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 0);
	cr_assert_eq(va, 1);
	cr_assert_eq(vb, 0, "the second case took nothing");
	cr_assert_eq(corio_chan_len(&b), 1);
	/* a is empty now: b goes. */
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(vb, 2);
	/* A send case into a channel with room. */
	s.n = 2;
	s.c[0] = corio_case_recv(&a, &va);
	s.c[1] = corio_case_send(&b, &two);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(s.res, 0);
	cr_assert_eq(corio_chan_try_recv(&b, &out), 0);
	cr_assert_eq(out, 2);
	corio_chan_destroy(&a);
	corio_chan_destroy(&b);
	t_loop_done(loop);
}

Test(select, waits_for_the_first_and_withdraws_the_rest, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan a, b;
	struct sel s = { .n = 2 };
	int va = 0, vb = 0;

	memset(&log_, 0, sizeof(log_));
	corio_chan_init(&a, sizeof(int), 0, "a");
	corio_chan_init(&b, sizeof(int), 0, "b");
	s.c[0] = corio_case_recv(&a, &va);
	s.c[1] = corio_case_recv(&b, &vb);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_spawn(loop, send_later__start(NULL, &b, 42, 2), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(vb, 42);
	cr_assert_str_eq(log_.buf, "sent42:0 sel1");
	/* Nobody is left waiting on a. */
	cr_assert_eq(corio_chan_destroy(&a), 0);
	cr_assert_eq(corio_chan_destroy(&b), 0);
	t_loop_done(loop);
}

corio_async(void, recv_later, ((struct corio_chan *, ch), (int *, out)), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_chan_recv, self->ch, self->out);
corio_finally:
	corio_end();
}

Test(select, a_send_case_hands_its_element_to_a_receiver, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan full, other;
	struct sel s = { .n = 2 };
	int v = 5, got = 0, filler = 1, drained = 0, dummy = 0;

	corio_chan_init(&full, sizeof(int), 1, "full");
	corio_chan_init(&other, sizeof(int), 0, "other");
	corio_chan_try_send(&full, &filler);
	s.c[0] = corio_case_recv(&other, &dummy);
	s.c[1] = corio_case_send(&full, &v);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_spawn(loop, recv_later__start(NULL, &full, &drained), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(drained, 1);
	cr_assert_eq(corio_chan_try_recv(&full, &got), 0);
	cr_assert_eq(got, 5, "the select's element took the freed slot");
	cr_assert_eq(corio_chan_destroy(&full), 0);
	cr_assert_eq(corio_chan_destroy(&other), 0);
	t_loop_done(loop);
}

/* Set, release or resolve after a yield. */
corio_async(void, poke, ((int, what), (void *, obj)), ())
{
	corio_begin();
	corio_yield();
	if (self->what == 0)
		corio_event_set(self->obj);
	else if (self->what == 1)
		corio_sem_release(self->obj);
	else
		corio_completion_resolve(self->obj, 99);
corio_finally:
	corio_end();
}

Test(select, events_semaphores_and_completions, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_event e;
	struct corio_sem sem;
	struct corio_completion c;
	struct sel s = { .n = 3 };
	int what;

	for (what = 0; what < 3; what++) {
		corio_event_init(&e, "e");
		corio_sem_init(&sem, 0, "sem");
		corio_completion_init(&c, "c", 0);
		s.c[0] = corio_case_event(&e);
		s.c[1] = corio_case_sem(&sem);
		s.c[2] = corio_case_completion(&c);
		corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
		corio_spawn(loop, poke__start(NULL, what, what == 0 ?
			(void *)&e : what == 1 ? (void *)&sem : (void *)&c),
			NULL);
		corio_assert_finished(loop);
		cr_assert_eq(s.which, what);
		cr_assert_eq(s.res, what == 2 ? 99 : 0);
		/* The permit went to the select: none is left over. */
		cr_assert_eq(corio_sem_try_acquire(&sem), -EAGAIN);
		cr_assert_eq(corio_event_destroy(&e), 0);
		cr_assert_eq(corio_sem_destroy(&sem), 0);
		cr_assert_eq(corio_completion_destroy(&c), 0);
	}
	t_loop_done(loop);
}

Test(select, deadline_cases_and_the_task_deadline, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_chan ch;
	struct sel s = { .n = 3 };
	int v = 0;
	int64_t t0 = corio_now();

	corio_chan_init(&ch, sizeof(int), 0, "never");
	s.c[0] = corio_case_recv(&ch, &v);
	s.c[1] = corio_case_deadline(t0 + CORIO_MS(20));
	s.c[2] = corio_case_deadline(t0 + CORIO_MS(10));
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 2, "the earliest deadline");
	cr_assert_eq(s.res, 0);
	cr_assert_geq(corio_now(), t0 + CORIO_MS(10));
	cr_assert_lt(corio_now(), t0 + CORIO_MS(20));
	/* A deadline already past is a ready case. */
	s.n = 2;
	s.c[1] = corio_case_deadline(t0);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	t_loop_done(loop);
}

corio_async(int, select_with_deadline, ((struct sel *, s), (int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + self->ns);
	corio_await(self->r, do_select, self->s);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(select, the_task_deadline_ends_it_with_etime, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_chan ch;
	struct sel s = { .n = 2 };
	int v = 0, r = 0;

	corio_chan_init(&ch, sizeof(int), 0, "never");
	s.c[0] = corio_case_recv(&ch, &v);
	s.c[1] = corio_case_timeout(CORIO_SEC(10));
	corio_spawn(loop, select_with_deadline__start(NULL, &s, CORIO_MS(5),
						      &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, -ETIME);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	t_loop_done(loop);
}

Test(select, fd_readiness, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	struct sel s = { .n = 2 };
	int sv[2], v = 0;
	char c = 'x';

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	corio_chan_init(&ch, sizeof(int), 0, "ch");
	/* Writable at once; nothing to read. */
	s.c[0] = corio_case_recv(&ch, &v);
	s.c[1] = corio_case_poll(sv[0], POLLIN | POLLOUT);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(s.res & (POLLIN | POLLOUT), POLLOUT);
	/* Readable once the peer writes. */
	cr_assert_eq(write(sv[1], &c, 1), 1);
	s.c[1] = corio_case_poll(sv[0], POLLIN);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 1);
	cr_assert(s.res & POLLIN);
	cr_assert_eq(read(sv[0], &c, 1), 1);
	/* Not readable: the channel wins, and the poll is withdrawn. */
	memset(&log_, 0, sizeof(log_));
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_spawn(loop, send_later__start(NULL, &ch, 3, 1), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

Test(select, cancelled_while_waiting_it_takes_nothing, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	struct corio_sem sem;
	struct sel s = { .n = 2 };
	struct corio_task *t;
	int v = 0, st = 0;

	memset(&log_, 0, sizeof(log_));
	corio_chan_init(&ch, sizeof(int), 0, "ch");
	corio_sem_init(&sem, 0, "sem");
	s.c[0] = corio_case_recv(&ch, &v);
	s.c[1] = corio_case_sem(&sem);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), &t);
	corio_spawn(loop, t_cancel_and_join__start(NULL, t, &st), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_str_eq(log_.buf, "unwound");
	/* Its stand-ins left the queues: a permit released now stays. */
	cr_assert_eq(corio_sem_release(&sem), 0);
	cr_assert_eq(corio_sem_try_acquire(&sem), 0);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	cr_assert_eq(corio_sem_destroy(&sem), 0);
	t_loop_done(loop);
}

/* Hand an element to the waiting select, then cancel it before it runs:
 * the element is the task's (the cancel-safety rule). */
corio_async(void, send_then_cancel, ((struct corio_chan *, ch),
				     (struct corio_task *, victim)), (
	int v;
))
{
	corio_begin();
	corio_yield();
	self->v = 8;
	cr_assert_eq(corio_chan_try_send(self->ch, &self->v), 0);
	corio_task_cancel(self->victim);
corio_finally:
	corio_end();
}

corio_async(void, select_then_await, ((struct sel *, s)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, do_select, self->s);
	corio_yield();		/* the cancellation takes effect here */
	t_log_add(&log_, "not reached");
corio_finally:
	t_log_add(&log_, "end%d", self->hdr.err);
	corio_end();
}

Test(select, a_case_that_went_ahead_survives_a_cancel, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch, other;
	struct sel s = { .n = 3 };
	struct corio_task *t;
	int v = 0, w = 0, st = 0;

	memset(&log_, 0, sizeof(log_));
	corio_chan_init(&ch, sizeof(int), 0, "ch");
	corio_chan_init(&other, sizeof(int), 0, "other");
	s.c[0] = corio_case_recv(&other, &w);
	s.c[1] = corio_case_recv(&ch, &v);
	s.c[2] = corio_case_timeout(CORIO_SEC(10));
	corio_spawn(loop, select_then_await__start(NULL, &s), &t);
	corio_spawn(loop, send_then_cancel__start(NULL, &ch, t), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_eq(s.which, 1);
	cr_assert_eq(v, 8, "the element was not lost");
	cr_assert_str_eq(log_.buf, "sel1 end-125");
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	cr_assert_eq(corio_chan_destroy(&other), 0);
	t_loop_done(loop);
}

corio_async(void, close_later, ((struct corio_chan *, ch)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_chan_close(self->ch), 0);
corio_finally:
	corio_end();
}

Test(select, closed_channels_and_zero_size_elements, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan sig, closed;
	struct sel s = { .n = 2 };

	corio_chan_init(&sig, 0, 0, "signals");
	corio_chan_init(&closed, sizeof(int), 0, "closed");
	s.c[0] = corio_case_recv(&sig, NULL);
	s.c[1] = corio_case_timeout(CORIO_SEC(10));
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_spawn(loop, send_later__start(NULL, &sig, 0, 1), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 0);
	cr_assert_eq(s.res, 0);
	/* A channel closed while the select waits: -EPIPE, as a receive. */
	s.c[0] = corio_case_recv(&closed, &s.which);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_spawn(loop, close_later__start(NULL, &closed), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, 0);
	cr_assert_eq(s.res, -EPIPE);
	cr_assert_eq(corio_chan_destroy(&sig), 0);
	cr_assert_eq(corio_chan_destroy(&closed), 0);
	t_loop_done(loop);
}

Test(select, misuse_is_refused, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	struct sel s;
	int v;

	corio_chan_init(&ch, sizeof(int), 1, "ch");
	s = (struct sel){ .n = 0 };
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, -EINVAL, "no case");
	s = (struct sel){ .n = 2 };
	s.c[0] = corio_case_poll(0, POLLIN);
	s.c[1] = corio_case_poll(1, POLLOUT);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, -EINVAL, "two polls");
	s = (struct sel){ .n = 1 };
	s.c[0] = corio_case_recv(&ch, NULL);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, -EINVAL, "no room for the element");
	s.c[0] = corio_case_recv(NULL, &v);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, -EINVAL, "no channel");
	s.c[0].kind = 99;
	corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(s.which, -EINVAL, "unknown kind");
	/* Outside a task. */
	s.c[0] = corio_case_recv(&ch, &v);
	cr_assert_eq(corio_select__start(NULL, s.c, 1, &v), CORIO_READY);
	cr_assert_eq(v, -EPERM);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	t_loop_done(loop);
}

Test(select, nothing_can_happen_is_a_deadlock, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	const struct corio_deadlock_report *r;
	struct corio_chan a, b;
	struct sel s = { .n = 2 };
	struct corio_task *t;
	int va, vb, st;

	corio_chan_init(&a, sizeof(int), 0, "a");
	corio_chan_init(&b, sizeof(int), 0, "b");
	s.c[0] = corio_case_recv(&a, &va);
	s.c[1] = corio_case_send(&b, &vb);
	corio_spawn(loop, do_select__start(NULL, &s, NULL), &t);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "do_select");
	r = corio_loop_deadlock(loop);
	/* One task, waiting on its select: the stand-ins are not listed. */
	cr_assert_eq(r->nblocked, 1);
	cr_assert_eq(r->blocked[0].wait, CORIO_WAIT_SELECT);
	cr_assert_str_eq(corio_wait_kind_name(CORIO_WAIT_SELECT), "select");
	corio_task_cancel(t);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(corio_chan_destroy(&a), 0);
	cr_assert_eq(corio_chan_destroy(&b), 0);
	t_loop_done(loop);
}

/* ---- stress: every value counted ------------------------------------ */

#define ST_CHANS 6
#define ST_SENDERS 12
#define ST_PER_SENDER 2000
#define ST_VALUES (ST_SENDERS * ST_PER_SENDER)
#define ST_RECEIVERS 12		/* the second half get cancelled */

struct stress {
	struct corio_chan ch[ST_CHANS];
	bool drained[ST_CHANS];		/* closed and empty: -EPIPE seen */
	uint8_t sent[ST_VALUES], seen[ST_VALUES];
	long timeouts, send_selects, recv_selects;
	uint64_t rng;
	struct corio_task *senders[ST_SENDERS], *receivers[ST_RECEIVERS];
};

static struct stress *S;

static unsigned rnd(unsigned n)
{
	S->rng ^= S->rng << 13;
	S->rng ^= S->rng >> 7;
	S->rng ^= S->rng << 17;
	return (unsigned)(S->rng % n);
}

/* Send each value into one of two random channels, or time out and try
 * again; a cancel stops the sender (what it had sent counts). */
corio_async(void, st_sender, ((int, id)), (
	struct corio_select_case c[3];
	int k, v, which;
))
{
	corio_begin();
	for (self->k = 0; self->k < ST_PER_SENDER; ) {
		self->v = self->id * ST_PER_SENDER + self->k;
		self->c[0] = corio_case_send(&S->ch[rnd(ST_CHANS)], &self->v);
		self->c[1] = corio_case_send(&S->ch[rnd(ST_CHANS)], &self->v);
		self->c[2] = corio_case_timeout(rnd(50) * 1000);
		corio_await(self->which, corio_select, self->c, 3);
		S->send_selects++;
		cr_assert(self->which >= 0 && self->which <= 2,
			  "select: %d", self->which);
		if (self->which == 2) {
			S->timeouts++;
			continue;
		}
		cr_assert_eq(self->c[self->which].res, 0);
		cr_assert_eq(S->sent[self->v]++, 0, "value %d sent twice",
			     self->v);
		self->k++;
		/* Pauses, so that receivers wait, time out and are
		 * cancelled in the middle of their selects. */
		if (!rnd(8))
			corio_await(self->which, corio_sleep,
				    rnd(200) * 1000);
	}
corio_finally:
	corio_end();
}

/* Receive from two or three random channels still open, or time out;
 * stop when every channel is closed and drained. */
corio_async(void, st_receiver, (), (
	struct corio_select_case c[4];
	int got[3];
	int chan[3];
	int i, n, which, open;
))
{
	corio_begin();
	for (;;) {
		self->n = 0;
		for (self->i = 0, self->open = 0; self->i < ST_CHANS;
		     self->i++)
			self->open += !S->drained[self->i];
		if (!self->open)
			break;
		while (self->n < 2 + (int)rnd(2)) {
			int ch = (int)rnd(ST_CHANS);

			if (S->drained[ch])
				continue;
			self->chan[self->n] = ch;
			self->c[self->n] = corio_case_recv(&S->ch[ch],
							   &self->got[self->n]);
			self->n++;
		}
		self->c[self->n] = corio_case_timeout(rnd(100) * 1000);
		corio_await(self->which, corio_select, self->c, self->n + 1);
		/* Counted before the next await, where a cancel unwinds. */
		S->recv_selects++;
		cr_assert(self->which >= 0 && self->which <= self->n,
			  "select: %d", self->which);
		if (self->which == self->n) {
			S->timeouts++;
			continue;
		}
		if (self->c[self->which].res == -EPIPE) {
			S->drained[self->chan[self->which]] = true;
			continue;
		}
		cr_assert_eq(self->c[self->which].res, 0);
		cr_assert_eq(S->seen[self->got[self->which]]++, 0,
			     "value %d received twice",
			     self->got[self->which]);
	}
corio_finally:
	corio_end();
}

corio_async(void, st_cancel_at, ((struct corio_task *, t), (int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	corio_task_cancel(self->t);
corio_finally:
	corio_end();
}

/* Close every channel once all senders are done. */
corio_async(void, st_closer, (), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < ST_SENDERS; self->i++)
		corio_await(self->r, corio_join, S->senders[self->i]);
	for (self->i = 0; self->i < ST_CHANS; self->i++)
		corio_chan_close(&S->ch[self->i]);
corio_finally:
	corio_end();
}

Test(select, stress_no_value_lost_or_duplicated, .timeout = 120)
{
	static const size_t caps[ST_CHANS] = { 0, 0, 1, 4, 0, 16 };
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop = t_loop_opts(&opts);
	long sent = 0, seen = 0;
	int i, st;

	S = calloc(1, sizeof(*S));
	cr_assert(S);
	S->rng = 0x2545f4914f6cdd1dull;
	for (i = 0; i < ST_CHANS; i++)
		cr_assert_eq(corio_chan_init(&S->ch[i], sizeof(int), caps[i],
					     "stress"), 0);
	for (i = 0; i < ST_SENDERS; i++)
		corio_spawn(loop, st_sender__start(NULL, i), &S->senders[i]);
	for (i = 0; i < ST_RECEIVERS; i++)
		corio_spawn(loop, st_receiver__start(NULL), &S->receivers[i]);
	/* Two senders and half the receivers are cancelled mid-way. */
	for (i = 0; i < 2; i++)
		corio_spawn(loop, st_cancel_at__start(NULL, S->senders[i],
			CORIO_MS(1) + rnd(CORIO_MS(10))), NULL);
	for (i = ST_RECEIVERS / 2; i < ST_RECEIVERS; i++)
		corio_spawn(loop, st_cancel_at__start(NULL, S->receivers[i],
			CORIO_MS(1) + rnd(CORIO_MS(10))), NULL);
	corio_spawn(loop, st_closer__start(NULL), NULL);
	corio_assert_finished(loop);
	for (i = 0; i < ST_RECEIVERS; i++) {
		cr_assert_eq(corio_task_reap(S->receivers[i], &st), 0);
		cr_assert(st == 0 || (st == -ECANCELED &&
				      i >= ST_RECEIVERS / 2), "status %d", st);
	}
	for (i = 0; i < ST_VALUES; i++) {
		cr_assert_eq(S->seen[i], S->sent[i], "value %d: sent %d, "
			     "received %d", i, S->sent[i], S->seen[i]);
		sent += S->sent[i];
		seen += S->seen[i];
	}
	cr_assert_eq(seen, sent);
	cr_log_info("%ld values, %ld send and %ld receive selects, %ld "
		    "timeouts", sent, S->send_selects, S->recv_selects,
		    S->timeouts);
	cr_assert_gt(S->timeouts, 0);
	cr_assert_gt(sent, ST_VALUES / 2);
	for (i = 0; i < ST_CHANS; i++)
		cr_assert_eq(corio_chan_destroy(&S->ch[i]), 0);
	t_loop_done(loop);
	free(S);
}

/* Every allocation of a select that waits fails in turn: the select (or
 * whoever met the failure) reports -ENOMEM, and nothing leaks. */
Test(select, allocation_failures_are_enomem, .timeout = 60)
{
	struct corio_loop_opts opts = {
		.flags = CORIO_LOOP_NO_CACHE | CORIO_LOOP_VIRTUAL_CLOCK };
	bool clean_run = false;
	long fail_at;

	for (fail_at = 1; !clean_run; fail_at++) {
		struct corio_loop *loop;
		struct corio_chan a, b;
		struct sel s = { .n = 3, .which = 1 };
		int va = 0, vb = 0;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		cr_assert_lt(fail_at, 1000);
		t_alloc_counting(fail_at);
		if (corio_loop_create(&loop, &opts) < 0)
			continue;
		/* @b has room: the sender never waits, whatever fails. */
		if (corio_chan_init(&a, sizeof(int), 0, "a") ||
		    corio_chan_init(&b, sizeof(int), 1, "b"))
			goto destroy;
		s.c[0] = corio_case_recv(&a, &va);
		s.c[1] = corio_case_recv(&b, &vb);
		s.c[2] = corio_case_timeout(CORIO_SEC(10));
		if (corio_spawn(loop, do_select__start(NULL, &s, NULL), NULL))
			s.which = -ENOMEM;
		corio_spawn(loop, send_later__start(NULL, &b, 4, 1), NULL);
		cr_assert_eq(corio_loop_run(loop), 0);
		/* 2: the sender could not be spawned; the timeout came. */
		cr_assert(s.which == 1 || s.which == 2 || s.which == -ENOMEM,
			  "fail at %ld: select %d", fail_at, s.which);
		if (s.which == 1)
			cr_assert_eq(vb, 4);
destroy:
		clean_run = atomic_load(&t_alloc_count) < fail_at;
		corio_chan_destroy(&a);
		corio_chan_destroy(&b);
		cr_assert_eq(corio_loop_destroy(loop), 0);
		corio_set_allocator(NULL, NULL);
		cr_assert_eq(atomic_load(&t_alloc_live), 0,
			     "fail at %ld: %ld allocations leaked", fail_at,
			     atomic_load(&t_alloc_live));
	}
}
