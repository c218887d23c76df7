/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sync.c - channels, mutexes, semaphores, events, wait groups:
 * ordering, hand-over, close, misuse, cancellation and deadlines of waits.
 */
#include "testutil.h"

#include <corio/async.h>
#include <corio/test.h>

static struct t_log log_;

/* ---- channels ------------------------------------------------------- */

corio_async(void, producer, ((struct corio_chan *, ch), (int, from),
			     (int, n)), (
	int i, r;
))
{
	corio_begin();
	for (self->i = self->from; self->i < self->from + self->n; self->i++) {
		corio_await(self->r, corio_chan_send, self->ch, &self->i);
		cr_assert_eq(self->r, 0);
		t_log_add(&log_, "s%d", self->i);
	}
corio_finally:
	corio_end();
}

corio_async(void, consumer, ((struct corio_chan *, ch), (int, n)), (
	int i, v, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_chan_recv, self->ch, &self->v);
		cr_assert_eq(self->r, 0);
		t_log_add(&log_, "r%d", self->v);
	}
corio_finally:
	corio_end();
}

static void run_pair(size_t cap, const char *expected)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;

	memset(&log_, 0, sizeof(log_));
	cr_assert_eq(corio_chan_init(&ch, sizeof(int), cap, "numbers"), 0);
	corio_spawn(loop, producer__start(NULL, &ch, 1, 4), NULL);
	corio_spawn(loop, consumer__start(NULL, &ch, 4), NULL);
	corio_assert_finished(loop);
	cr_assert_str_eq(log_.buf, expected);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	t_loop_done(loop);
}

Test(sync, rendezvous_channel_alternates, .timeout = 10)
{
	/*
	 * Send 1 waits for the receiver; the receiver takes it and waits
	 * again, so send 2 is handed over at once and send 3 waits.
	 */
	run_pair(0, "r1 s1 s2 r2 r3 s3 s4 r4");
}

Test(sync, buffered_channel_lets_the_sender_run_ahead, .timeout = 10)
{
	/* Two fit; the third waits until a receive makes room for it. */
	run_pair(2, "s1 s2 r1 r2 r3 s3 s4 r4");
}

Test(sync, unbounded_channel_never_blocks_the_sender, .timeout = 10)
{
	run_pair(CORIO_CHAN_UNBOUNDED, "s1 s2 s3 s4 r1 r2 r3 r4");
}

Test(sync, try_operations_and_close, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	int v = 7, out = 0, i;

	cr_assert_eq(corio_chan_init(&ch, sizeof(int), 2, NULL), 0);
	cr_assert_eq(corio_chan_try_recv(&ch, &out), -EAGAIN);
	cr_assert_eq(corio_chan_try_send(&ch, &v), 0);
	v = 8;
	cr_assert_eq(corio_chan_try_send(&ch, &v), 0);
	cr_assert_eq(corio_chan_try_send(&ch, &v), -EAGAIN, "full");
	cr_assert_eq(corio_chan_len(&ch), 2);
	cr_assert_eq(corio_chan_close(&ch), 0);
	cr_assert_eq(corio_chan_close(&ch), -EPIPE);
	cr_assert_eq(corio_chan_try_send(&ch, &v), -EPIPE);
	/* Closing keeps what is buffered for the receivers. */
	cr_assert_eq(corio_chan_try_recv(&ch, &out), 0);
	cr_assert_eq(out, 7);
	cr_assert_eq(corio_chan_try_recv(&ch, &out), 0);
	cr_assert_eq(out, 8);
	cr_assert_eq(corio_chan_try_recv(&ch, &out), -EPIPE);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	/* Unbounded growth keeps order across reallocations. */
	cr_assert_eq(corio_chan_init(&ch, sizeof(int), CORIO_CHAN_UNBOUNDED,
				     NULL), 0);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(corio_chan_try_send(&ch, &i), 0);
	for (i = 0; i < 1000; i++) {
		cr_assert_eq(corio_chan_try_recv(&ch, &out), 0);
		cr_assert_eq(out, i);
	}
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	/* A capacity whose buffer size overflows (zero-size elements are
	 * fine: see zero_size_elements_count_signals). */
	cr_assert_eq(corio_chan_init(&ch, 16, SIZE_MAX / 8, NULL), -EINVAL);
	t_loop_done(loop);
}

corio_async(int, recv_one, ((struct corio_chan *, ch)), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, self->ch, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(void, close_later, ((struct corio_chan *, ch)), ())
{
	corio_begin();
	corio_yield();
	corio_chan_close(self->ch);
corio_finally:
	corio_end();
}

Test(sync, close_wakes_waiting_receivers_with_epipe, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	int r1 = 0, r2 = 0;

	corio_chan_init(&ch, sizeof(int), 1, "jobs");
	corio_spawn(loop, recv_one__start(NULL, &ch, &r1), NULL);
	corio_spawn(loop, recv_one__start(NULL, &ch, &r2), NULL);
	corio_spawn(loop, close_later__start(NULL, &ch), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r1, -EPIPE);
	cr_assert_eq(r2, -EPIPE);
	corio_chan_destroy(&ch);
	t_loop_done(loop);
}

corio_async(int, cancel_receiver, ((struct corio_task *, victim),
				   (struct corio_chan *, ch)), (
	int status, v;
))
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_chan_destroy(self->ch), -EBUSY, "a task waits");
	corio_task_cancel(self->victim);
	corio_await(self->status, corio_join, self->victim);
	/* The cancelled receiver left the queue: a send is buffered. */
	self->v = 5;
	cr_assert_eq(corio_chan_try_send(self->ch, &self->v), 0);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(sync, cancelling_a_waiter_takes_it_off_the_queue, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	struct corio_chan ch;
	int r = 1, status = 0, out = 0;

	corio_chan_init(&ch, sizeof(int), 1, NULL);
	corio_spawn(loop, recv_one__start(NULL, &ch, &r), &victim);
	corio_spawn(loop, cancel_receiver__start(NULL, victim, &ch, &status),
		    NULL);
	corio_assert_finished(loop);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_eq(corio_chan_try_recv(&ch, &out), 0);
	cr_assert_eq(out, 5);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	t_loop_done(loop);
}

/* ---- mutexes ---------------------------------------------------------- */

corio_async(void, locker, ((struct corio_mutex *, m), (const char *, who)),
	    (int r;))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->m);
	cr_assert_eq(self->r, 0);
	cr_assert_eq(corio_mutex_owner(self->m), corio_current_task());
	t_log_add(&log_, "%s+", self->who);
	corio_yield();
	corio_yield();
	t_log_add(&log_, "%s-", self->who);
	cr_assert_eq(corio_mutex_unlock(self->m), 0);
corio_finally:
	corio_end();
}

Test(sync, mutex_excludes_and_hands_over_in_fifo_order, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_mutex m;

	memset(&log_, 0, sizeof(log_));
	corio_mutex_init(&m, "m");
	corio_spawn(loop, locker__start(NULL, &m, "a"), NULL);
	corio_spawn(loop, locker__start(NULL, &m, "b"), NULL);
	corio_spawn(loop, locker__start(NULL, &m, "c"), NULL);
	corio_assert_finished(loop);
	cr_assert_str_eq(log_.buf, "a+ a- b+ b- c+ c-");
	cr_assert_null(corio_mutex_owner(&m));
	cr_assert_eq(corio_mutex_destroy(&m), 0);
	t_loop_done(loop);
}

corio_async(int, mutex_misuse, ((struct corio_mutex *, m)), (
	int r;
))
{
	corio_begin();
	cr_assert_eq(corio_mutex_unlock(self->m), -EPERM, "not locked");
	cr_assert_eq(corio_mutex_trylock(self->m), 0);
	cr_assert_eq(corio_mutex_trylock(self->m), -EBUSY);
	cr_assert_eq(corio_mutex_destroy(self->m), -EBUSY);
	corio_await(self->r, corio_mutex_lock, self->m);
	cr_assert_eq(self->r, -EDEADLK, "relocking never succeeds");
	cr_assert_eq(corio_mutex_unlock(self->m), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(sync, mutex_misuse_is_refused, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_mutex m;
	int r = 1;

	corio_mutex_init(&m, NULL);
	cr_assert_eq(corio_mutex_trylock(&m), -EPERM, "outside a task");
	corio_spawn(loop, mutex_misuse__start(NULL, &m, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(corio_mutex_destroy(&m), 0);
	t_loop_done(loop);
}

/* ---- semaphores, events, wait groups ---------------------------------- */

static int inside, most_inside;

corio_async(void, limited, ((struct corio_sem *, s)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sem_acquire, self->s);
	if (++inside > most_inside)
		most_inside = inside;
	corio_yield();
	corio_yield();
	inside--;
	corio_sem_release(self->s);
corio_finally:
	corio_end();
}

Test(sync, semaphore_bounds_concurrency, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_sem s;
	int i;

	inside = most_inside = 0;
	corio_sem_init(&s, 3, "slots");
	for (i = 0; i < 10; i++)
		corio_spawn(loop, limited__start(NULL, &s), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(most_inside, 3);
	cr_assert_eq(corio_sem_try_acquire(&s), 0);
	corio_sem_release(&s);
	cr_assert_eq(corio_sem_destroy(&s), 0);
	t_loop_done(loop);
}

corio_async(void, event_waiter, ((struct corio_event *, e),
				 (const char *, who)), (int r;))
{
	corio_begin();
	corio_await(self->r, corio_event_wait, self->e);
	t_log_add(&log_, "%s", self->who);
corio_finally:
	corio_end();
}

corio_async(void, event_setter, ((struct corio_event *, e)), ())
{
	corio_begin();
	corio_yield();
	t_log_add(&log_, "set");
	cr_assert_eq(corio_event_set(self->e), 2);
corio_finally:
	corio_end();
}

Test(sync, event_wakes_every_waiter_and_stays_set, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_event e;

	memset(&log_, 0, sizeof(log_));
	corio_event_init(&e, "ready");
	corio_spawn(loop, event_waiter__start(NULL, &e, "x"), NULL);
	corio_spawn(loop, event_waiter__start(NULL, &e, "y"), NULL);
	corio_spawn(loop, event_setter__start(NULL, &e), NULL);
	corio_assert_finished(loop);
	/* Set already: a later waiter passes at once. */
	corio_spawn(loop, event_waiter__start(NULL, &e, "z"), NULL);
	corio_assert_finished(loop);
	cr_assert_str_eq(log_.buf, "set x y z");
	corio_event_clear(&e);
	cr_assert_eq(corio_event_notify(&e), 0);
	cr_assert_eq(corio_event_destroy(&e), 0);
	t_loop_done(loop);
}

corio_async(void, worker_done, ((struct corio_waitgroup *, wg), (int, yields)),
	    (int i;))
{
	corio_begin();
	for (self->i = 0; self->i < self->yields; self->i++)
		corio_yield();
	t_log_add(&log_, "w%d", self->yields);
	corio_waitgroup_done(self->wg);
corio_finally:
	corio_end();
}

corio_async(void, wait_all, ((struct corio_waitgroup *, wg)), (int r;))
{
	corio_begin();
	corio_await(self->r, corio_waitgroup_wait, self->wg);
	t_log_add(&log_, "all");
corio_finally:
	corio_end();
}

Test(sync, waitgroup_waits_for_every_job, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_waitgroup wg;

	memset(&log_, 0, sizeof(log_));
	corio_waitgroup_init(&wg, "jobs");
	cr_assert_eq(corio_waitgroup_add(&wg, 3), 0);
	cr_assert_eq(corio_waitgroup_add(&wg, 0), -EINVAL);
	corio_spawn(loop, wait_all__start(NULL, &wg), NULL);
	corio_spawn(loop, worker_done__start(NULL, &wg, 3), NULL);
	corio_spawn(loop, worker_done__start(NULL, &wg, 1), NULL);
	corio_spawn(loop, worker_done__start(NULL, &wg, 2), NULL);
	corio_assert_finished(loop);
	cr_assert_str_eq(log_.buf, "w1 w2 w3 all");
	cr_assert_eq(corio_waitgroup_done(&wg), -EINVAL);
	cr_assert_eq(corio_waitgroup_destroy(&wg), 0);
	t_loop_done(loop);
}

corio_async(int, recv_with_deadline, ((struct corio_chan *, ch)), (
	int v, r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_MS(20));
	corio_await(self->r, corio_chan_recv, self->ch, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(sync, a_wait_past_the_deadline_fails_with_etime, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	int r = 0, v = 3;

	corio_chan_init(&ch, sizeof(int), 1, "quiet");
	corio_spawn(loop, recv_with_deadline__start(NULL, &ch, &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, -ETIME);
	/* The timed-out receiver is off the queue: a send is buffered. */
	cr_assert_eq(corio_chan_try_send(&ch, &v), 0);
	cr_assert_eq(corio_chan_len(&ch), 1);
	corio_chan_destroy(&ch);
	t_loop_done(loop);
}

/* ---- channels of zero-size elements (signals) ---------------------- */

corio_async(void, signal_n, ((struct corio_chan *, ch), (int, n)), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_chan_send, self->ch, NULL);
		cr_assert_eq(self->r, 0);
	}
corio_finally:
	corio_end();
}

corio_async(int, count_signals, ((struct corio_chan *, ch)), (
	int n, r;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_chan_recv, self->ch, NULL);
		if (self->r == -EPIPE)
			break;
		cr_assert_eq(self->r, 0);
		self->n++;
	}
	corio_return(self->n);
corio_finally:
	corio_end();
}

corio_async(void, close_after, ((struct corio_chan *, ch),
				(struct corio_task *, sender)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_join, self->sender);
	corio_chan_close(self->ch);
corio_finally:
	corio_end();
}

Test(sync, zero_size_elements_count_signals, .timeout = 10)
{
	static const size_t caps[] = { 0, 3, CORIO_CHAN_UNBOUNDED };
	struct corio_loop *loop = t_loop();
	struct corio_chan ch;
	struct corio_task *s;
	size_t i;
	int got;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		got = 0;
		cr_assert_eq(corio_chan_init(&ch, 0, caps[i], "signals"), 0);
		corio_spawn(loop, signal_n__start(NULL, &ch, 100), &s);
		corio_spawn(loop, count_signals__start(NULL, &ch, &got), NULL);
		corio_spawn(loop, close_after__start(NULL, &ch, s), NULL);
		corio_assert_finished(loop);
		cr_assert_eq(got, 100, "capacity %zu", caps[i]);
		cr_assert_eq(corio_chan_destroy(&ch), 0);
	}
	/* Without waiting too; NULL is the element. */
	cr_assert_eq(corio_chan_init(&ch, 0, 2, NULL), 0);
	cr_assert_eq(corio_chan_try_send(&ch, NULL), 0);
	cr_assert_eq(corio_chan_try_send(&ch, NULL), 0);
	cr_assert_eq(corio_chan_try_send(&ch, NULL), -EAGAIN);
	cr_assert_eq(corio_chan_len(&ch), 2);
	cr_assert_eq(corio_chan_try_recv(&ch, NULL), 0);
	cr_assert_eq(corio_chan_len(&ch), 1);
	cr_assert_eq(corio_chan_destroy(&ch), 0);
	t_loop_done(loop);
}
