/* SPDX-License-Identifier: MIT */
/*
 * tests/test_cancel.c - the cancel-safety rule (docs/design.md, section
 * "Cancellation"): a task cancelled after something was handed to it, but
 * before it ran, sees what it was given, and the cancellation takes effect
 * at its next await.  Nothing is lost or leaked: not bytes, elements,
 * permits, locks, fds nor borrowed buffers.  Each primitive, the reader
 * and the acceptor, then a stress run that cancels tasks at random points
 * of a byte stream, a producer/consumer pair and an accept loop.
 */
#define _GNU_SOURCE /* pipe2 */
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

/* What the victim awaits. */
enum kind {
	K_CHAN_RECV, K_CHAN_SEND, K_SEM, K_MUTEX, K_EVENT, K_COMPLETION,
	K_JOIN, K_READ, K_READER, K_BORROW, K_ACCEPT, K_BUS,
};

struct ctx {
	enum kind kind;
	struct corio_chan ch;
	struct corio_sem sem;
	struct corio_mutex mu;
	struct corio_event ev;
	struct corio_completion comp;
	struct corio_bus *bus;
	int64_t sub;
	struct corio_bufpool *pool;
	struct corio_reader *rd;
	struct corio_acceptor *acc;
	struct corio_task *joinee;
	int fds[2];		/* pipe or socket pair: victim reads fds[0] */
	int listener, client;
	int got;		/* what the driver received (K_CHAN_SEND) */
	/* What the victim saw. */
	bool observed, after_next_await, holds;
	int64_t res;
	int value;
	char buf[16];
	struct corio_buf borrowed;
};

/* Fails with -ENOENT after one yield: the status a joiner must see. */
corio_async(int, joinee, (), ())
{
	corio_begin();
	corio_yield();
	corio_throw(-ENOENT);
corio_finally:
	corio_end();
}

/*
 * Await what @c->kind says, record what came back, then await again: a
 * cancellation requested after the hand-off must take effect there, not
 * before the result was seen.  The cleanup section gives back what the
 * task holds, as a well-written task does.
 */
corio_async(int, victim, ((struct ctx *, c)), (
	int r;
	int64_t r64;
	ssize_t n;
))
{
	struct ctx *c = self->c;

	corio_begin();
	switch (c->kind) {
	case K_CHAN_RECV:
		corio_await(self->r, corio_chan_recv, &c->ch, &c->value);
		c->res = self->r;
		break;
	case K_CHAN_SEND:
		corio_await(self->r, corio_chan_send, &c->ch, &c->value);
		c->res = self->r;
		break;
	case K_SEM:
		corio_await(self->r, corio_sem_acquire, &c->sem);
		c->res = self->r;
		c->holds = self->r == 0;
		break;
	case K_MUTEX:
		corio_yield();	/* the driver locks it first */
		corio_await(self->r, corio_mutex_lock, &c->mu);
		c->res = self->r;
		c->holds = self->r == 0;
		break;
	case K_EVENT:
		corio_await(self->r, corio_event_wait, &c->ev);
		c->res = self->r;
		break;
	case K_COMPLETION:
		corio_await(self->r64, corio_completion_wait, &c->comp);
		c->res = self->r64;
		break;
	case K_JOIN:
		corio_await(self->r, corio_join, c->joinee);
		c->res = self->r;
		break;
	case K_READ:
		corio_await(self->n, corio_read, c->fds[0], c->buf,
			    sizeof(c->buf), -1);
		c->res = self->n;
		break;
	case K_READER:
		corio_await(self->n, corio_reader_read, c->rd, c->buf,
			    sizeof(c->buf));
		c->res = self->n;
		break;
	case K_BORROW:
		corio_await(self->n, corio_reader_borrow, c->rd, &c->borrowed);
		c->res = self->n;
		c->holds = self->n > 0;
		if (c->holds)
			memcpy(c->buf, c->borrowed.data,
			       c->borrowed.len < sizeof(c->buf) ?
			       c->borrowed.len : sizeof(c->buf));
		break;
	case K_ACCEPT:
		corio_await(self->r, corio_accept_next, c->acc);
		c->res = self->r;
		c->holds = self->r >= 0;
		break;
	case K_BUS:
		corio_await(self->r, corio_bus_next, c->bus, c->sub, &c->value);
		c->res = self->r;
		break;
	}
	c->observed = true;
	corio_yield();
	c->after_next_await = true;
	corio_return(0);
corio_finally:
	if (c->holds) {
		switch (c->kind) {
		case K_SEM:
			corio_sem_release(&c->sem);
			break;
		case K_MUTEX:
			corio_mutex_unlock(&c->mu);
			break;
		case K_BORROW:
			corio_buf_release(&c->borrowed);
			break;
		case K_ACCEPT:
			close((int)c->res);
			break;
		default:
			break;
		}
		c->holds = false;
	}
	corio_end();
}

/* A plain blocking connect to @listener on 127.0.0.1: the fd. */
static int connect_to(int listener)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	cr_assert_eq(corio_sockaddr_parse("127.0.0.1",
					  corio_socket_port(listener), &ss,
					  &len), 0);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}


/* Hand @c's victim what it waits for (a plain call, no await). */
static void hand_off(struct ctx *c)
{
	int v = 42;

	switch (c->kind) {
	case K_CHAN_RECV:
		cr_assert_eq(corio_chan_try_send(&c->ch, &v), 0);
		break;
	case K_CHAN_SEND:
		/* Rendezvous: the waiting sender's element comes here. */
		cr_assert_eq(corio_chan_try_recv(&c->ch, &c->got), 0);
		break;
	case K_SEM:
		corio_sem_release(&c->sem);
		break;
	case K_MUTEX:
		cr_assert_eq(corio_mutex_unlock(&c->mu), 0);
		break;
	case K_EVENT:
		corio_event_set(&c->ev);
		break;
	case K_COMPLETION:
		corio_completion_resolve(&c->comp, 1234);
		break;
	case K_JOIN:
		break;	/* the joinee finishes by itself */
	case K_READ:
	case K_READER:
	case K_BORROW:
		cr_assert_eq(write(c->fds[1], "abcd", 4), 4);
		break;
	case K_ACCEPT:
		c->client = connect_to(c->listener);
		break;
	case K_BUS:
		cr_assert_eq(corio_bus_try_publish(c->bus, 1, &v), 1);
		break;
	}
}

static bool is_ready(const struct corio_task *t)
{
	struct corio_task_info info;

	corio_task_describe(t, &info);
	return !strcmp(info.state, "ready");
}

/*
 * Let @v reach its await, hand it what it waits for, wait until it is
 * woken with it (I/O completes at the loop's next poll), then cancel it
 * before it runs, and join it.  The result is its status.
 */
corio_async(int, cancel_after_hand_off, ((struct ctx *, c),
					 (struct corio_task *, v)), (
	long spins;
	int status;
))
{
	corio_begin();
	/* The mutex is the driver's first; its unlock is the hand-off. */
	if (self->c->kind == K_MUTEX)
		cr_assert_eq(corio_mutex_trylock(&self->c->mu), 0);
	corio_yield();
	hand_off(self->c);
	while (!is_ready(self->v)) {
		cr_assert_lt(self->spins++, 10000000,
			     "the hand-off never came");
		corio_yield();
	}
	cr_assert_eq(corio_task_cancel(self->v), 0);
	corio_await(self->status, corio_join, self->v);
	corio_return(self->status);
corio_finally:
	corio_end();
}

static void setup(struct ctx *c, enum kind kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->fds[0] = c->fds[1] = c->listener = c->client = -1;
	switch (kind) {
	case K_CHAN_RECV:
	case K_CHAN_SEND:
		cr_assert_eq(corio_chan_init(&c->ch, sizeof(int), 0, "ch"), 0);
		c->value = 7;
		break;
	case K_SEM:
		cr_assert_eq(corio_sem_init(&c->sem, 0, "sem"), 0);
		break;
	case K_MUTEX:
		cr_assert_eq(corio_mutex_init(&c->mu, "mu"), 0);
		break;
	case K_EVENT:
		cr_assert_eq(corio_event_init(&c->ev, "ev"), 0);
		break;
	case K_COMPLETION:
		cr_assert_eq(corio_completion_init(&c->comp, "comp", 0), 0);
		break;
	case K_JOIN:
		break;
	case K_READ:
		cr_assert_eq(pipe2(c->fds, O_CLOEXEC), 0);
		break;
	case K_READER:
	case K_BORROW:
		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					c->fds), 0);
		cr_assert_eq(corio_bufpool_create(&c->pool, 4, 64), 0);
		cr_assert_eq(corio_reader_open(&c->rd, c->fds[0], c->pool), 0);
		break;
	case K_ACCEPT:
		c->listener = corio_tcp_listen("127.0.0.1", 0, NULL);
		cr_assert_geq(c->listener, 0);
		cr_assert_eq(corio_acceptor_open(&c->acc, c->listener,
						 SOCK_CLOEXEC), 0);
		break;
	case K_BUS:
		cr_assert_eq(corio_bus_create(&c->bus, sizeof(int), NULL), 0);
		break;
	}
}

static void teardown(struct ctx *c)
{
	switch (c->kind) {
	case K_CHAN_RECV:
	case K_CHAN_SEND:
		cr_assert_eq(corio_chan_destroy(&c->ch), 0);
		break;
	case K_SEM:
		cr_assert_eq(corio_sem_destroy(&c->sem), 0);
		break;
	case K_MUTEX:
		cr_assert_eq(corio_mutex_destroy(&c->mu), 0);
		break;
	case K_EVENT:
		cr_assert_eq(corio_event_destroy(&c->ev), 0);
		break;
	case K_COMPLETION:
		cr_assert_eq(corio_completion_destroy(&c->comp), 0);
		break;
	case K_READER:
	case K_BORROW:
		cr_assert_eq(corio_reader_close(c->rd), 0);
		cr_assert_eq(corio_bufpool_destroy(c->pool), 0);
		break;
	case K_ACCEPT:
		cr_assert_eq(corio_acceptor_close(c->acc), 0);
		break;
	case K_BUS:
		cr_assert_eq(corio_bus_destroy(c->bus), 0);
		break;
	default:
		break;
	}
	if (c->fds[0] >= 0) {
		close(c->fds[0]);
		close(c->fds[1]);
	}
	if (c->listener >= 0)
		close(c->listener);
	if (c->client >= 0)
		close(c->client);
}

/* The bus subscription belongs to the victim: made in its first step. */
corio_async(int, subscribe_then_victim, ((struct ctx *, c)), (
	int status;
))
{
	corio_begin();
	self->c->sub = corio_bus_subscribe(self->c->bus, 1, NULL);
	cr_assert_gt(self->c->sub, 0);
	corio_await(self->status, victim, self->c);
	corio_return(self->status);
corio_finally:
	corio_end();
}

/* Run the hand-off-then-cancel scenario for @kind and check that the
 * victim saw exactly what it was given. */
static void run_kind(enum kind kind)
{
	int fds_before = t_count_fds();
	struct corio_loop *loop = t_loop();
	struct corio_task *v, *driver;
	struct ctx c;
	int status = 1;

	setup(&c, kind);
	if (kind == K_BUS)
		corio_spawn(loop, subscribe_then_victim__start(NULL, &c, NULL),
			    &v);
	else
		corio_spawn(loop, victim__start(NULL, &c, NULL), &v);
	if (kind == K_JOIN)
		corio_spawn(loop, joinee__start(NULL, NULL), &c.joinee);
	corio_spawn(loop, cancel_after_hand_off__start(NULL, &c, v, &status),
		    &driver);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(driver, NULL), 0);
	cr_assert_eq(status, -ECANCELED, "the next await unwinds");
	cr_assert(c.observed, "the task saw what was handed to it");
	cr_assert_not(c.after_next_await);
	cr_assert_not(c.holds, "the cleanup section gave it back");
	switch (kind) {
	case K_CHAN_RECV:
		cr_assert_eq(c.res, 0);
		cr_assert_eq(c.value, 42);
		cr_assert_eq(corio_chan_len(&c.ch), 0);
		break;
	case K_CHAN_SEND:
		cr_assert_eq(c.res, 0, "the sender learns its element went");
		cr_assert_eq(c.got, 7);
		break;
	case K_SEM:
		cr_assert_eq(c.res, 0);
		cr_assert_eq(corio_sem_try_acquire(&c.sem), 0,
			     "the permit came back");
		cr_assert_eq(corio_sem_try_acquire(&c.sem), -EAGAIN,
			     "exactly one permit");
		break;
	case K_MUTEX:
		cr_assert_eq(c.res, 0);
		cr_assert_null(corio_mutex_owner(&c.mu), "unlocked on unwind");
		break;
	case K_EVENT:
		cr_assert_eq(c.res, 0);
		break;
	case K_COMPLETION:
		cr_assert_eq(c.res, 1234);
		break;
	case K_JOIN:
		cr_assert_eq(c.res, -ENOENT, "the joined task's status");
		break;
	case K_READ:
	case K_READER:
	case K_BORROW:
		cr_assert_eq(c.res, 4);
		cr_assert_eq(memcmp(c.buf, "abcd", 4), 0);
		break;
	case K_ACCEPT:
		cr_assert_geq(c.res, 0, "the accepted fd was seen");
		break;
	case K_BUS:
		cr_assert_eq(c.res, 0);
		cr_assert_eq(c.value, 42);
		break;
	}
	teardown(&c);
	t_loop_done(loop);
	cr_assert_eq(t_count_fds(), fds_before, "no fd leaked");
}

Test(cancel, channel_receive_keeps_the_element, .timeout = 20)
{
	run_kind(K_CHAN_RECV);
}

Test(cancel, channel_send_reports_the_element_sent, .timeout = 20)
{
	run_kind(K_CHAN_SEND);
}

Test(cancel, semaphore_permit_is_not_lost, .timeout = 20)
{
	run_kind(K_SEM);
}

Test(cancel, mutex_handed_over_is_unlocked_by_cleanup, .timeout = 20)
{
	run_kind(K_MUTEX);
}

Test(cancel, event_wake_is_seen, .timeout = 20)
{
	run_kind(K_EVENT);
}

Test(cancel, completion_value_is_seen, .timeout = 20)
{
	run_kind(K_COMPLETION);
}

Test(cancel, join_status_is_seen, .timeout = 20)
{
	run_kind(K_JOIN);
}

Test(cancel, bytes_read_are_seen, .timeout = 20)
{
	run_kind(K_READ);
}

Test(cancel, reader_bytes_are_seen, .timeout = 20)
{
	run_kind(K_READER);
}

Test(cancel, borrowed_buffer_is_seen_and_released, .timeout = 20)
{
	run_kind(K_BORROW);
}

Test(cancel, accepted_fd_is_seen_not_leaked, .timeout = 20)
{
	run_kind(K_ACCEPT);
}

Test(cancel, bus_event_is_seen, .timeout = 20)
{
	run_kind(K_BUS);
}

/* ---- cancellation with nothing handed over ---------------------------- */

corio_async(int, mark_and_recv, ((struct ctx *, c)), (
	int r;
))
{
	corio_begin();
	self->c->observed = true;
	corio_await(self->r, corio_chan_recv, &self->c->ch, &self->c->value);
	self->c->after_next_await = true;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(cancel, a_task_that_never_ran_runs_nothing, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *v;
	struct ctx c;
	int status = 1;

	setup(&c, K_CHAN_RECV);
	corio_spawn(loop, mark_and_recv__start(NULL, &c, NULL), &v);
	cr_assert_eq(corio_task_cancel(v), 0);
	cr_assert_eq(corio_task_cancel(v), 0, "twice is not an error");
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(v, &status), 0);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_not(c.observed, "not one step ran");
	teardown(&c);
	t_loop_done(loop);
}

/* Cancel @v at its await (nothing handed to it yet), join, then send: the
 * element must stay in the channel, not go to the dead waiter. */
corio_async(int, cancel_waiting_then_send, ((struct ctx *, c),
					    (struct corio_task *, v)), (
	int status;
))
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_task_cancel(self->v), 0);
	corio_await(self->status, corio_join, self->v);
	cr_assert_eq(corio_chan_try_send(&self->c->ch, &self->status), 0);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(cancel, a_waiting_task_unwinds_at_once, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *v;
	struct ctx c;
	int status = 1, out = 0;

	setup(&c, K_CHAN_RECV);
	corio_chan_destroy(&c.ch);
	cr_assert_eq(corio_chan_init(&c.ch, sizeof(int), 1, "ch"), 0);
	corio_spawn(loop, mark_and_recv__start(NULL, &c, NULL), &v);
	corio_spawn(loop, cancel_waiting_then_send__start(NULL, &c, v,
							  &status), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(status, -ECANCELED);
	cr_assert(c.observed);
	cr_assert_not(c.after_next_await, "unwound from the await");
	cr_assert_eq(corio_chan_try_recv(&c.ch, &out), 0,
		     "the later element waits in the channel");
	cr_assert_eq(out, -ECANCELED);
	teardown(&c);
	t_loop_done(loop);
}

/* Yields @n times, counting; the cancellation lands at one of them. */
corio_async(int, yielder, ((int *, steps), (int, n)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		(*self->steps)++;
		corio_yield();
	}
corio_finally:
	corio_end();
}

corio_async(int, cancel_ready, ((struct corio_task *, v), (int *, steps),
				(int *, steps_then)), (
	int status;
))
{
	corio_begin();
	corio_yield();	/* @v yielded: it is ready, with nothing to see */
	cr_assert(is_ready(self->v));
	*self->steps_then = *self->steps;
	cr_assert_eq(corio_task_cancel(self->v), 0);
	corio_await(self->status, corio_join, self->v);
	corio_return(self->status);
corio_finally:
	corio_end();
}

Test(cancel, a_ready_task_unwinds_at_its_next_await, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *v;
	int steps = 0, steps_then = 0, status = 1;

	corio_spawn(loop, yielder__start(NULL, &steps, 100, NULL), &v);
	corio_spawn(loop, cancel_ready__start(NULL, v, &steps, &steps_then,
					      &status), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_gt(steps_then, 0);
	cr_assert_eq(steps, steps_then + 1,
		     "one more step, up to the next await");
	t_loop_done(loop);
}

/* A read of an empty pipe, cancelled: the kernel ends it, -ECANCELED. */
Test(cancel, io_that_did_not_happen_unwinds, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *v;
	struct ctx c;
	int status = 1;

	setup(&c, K_READ);
	corio_spawn(loop, victim__start(NULL, &c, NULL), &v);
	corio_spawn(loop, t_cancel_and_join__start(NULL, v, &status), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_not(c.observed, "the read did not complete");
	teardown(&c);
	t_loop_done(loop);
}

/* ---- a task that ends owning a mutex ---------------------------------- */

corio_async(int, lock_and_leave, ((struct corio_mutex *, m)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->m);
	cr_assert_eq(self->r, 0);
	corio_yield();	/* let the other lockers queue up */
	corio_return(0);	/* without unlocking */
corio_finally:
	corio_end();
}

corio_async(int, lock_once, ((struct corio_mutex *, m), (int *, got)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->m);
	*self->got = self->r;
	cr_assert_eq(corio_mutex_owner(self->m), corio_current_task(),
		     "owned, whatever the result");
	cr_assert_eq(corio_mutex_unlock(self->m), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(cancel, a_mutex_left_locked_goes_to_the_next_waiter, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_mutex m;
	int first = 1, second = 1;

	cr_assert_eq(corio_mutex_init(&m, "left"), 0);
	corio_spawn(loop, lock_and_leave__start(NULL, &m, NULL), NULL);
	corio_spawn(loop, lock_once__start(NULL, &m, &first, NULL), NULL);
	corio_spawn(loop, lock_once__start(NULL, &m, &second, NULL), NULL);
	/* The run goes on, but the ended owner is a bug, reported. */
	corio_assert_deadlock(loop, CORIO_DEADLOCK_OWNER_DEAD,
			      "lock_and_leave", "lock_once");
	cr_assert_eq(first, -EOWNERDEAD, "told that the owner died");
	cr_assert_not_null(strstr(corio_strerror(first), "previous owner"));
	cr_assert_eq(second, 0, "a proper unlock after that");
	cr_assert_null(corio_mutex_owner(&m));
	cr_assert_eq(corio_mutex_destroy(&m), 0);
	t_loop_done(loop);
}

Test(cancel, a_mutex_left_locked_without_waiters_is_reported_once,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_mutex m;
	int first = 1, second = 1;

	cr_assert_eq(corio_mutex_init(&m, "left"), 0);
	corio_spawn(loop, lock_and_leave__start(NULL, &m, NULL), NULL);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_OWNER_DEAD,
			      "lock_and_leave");
	cr_assert_eq(corio_loop_deadlock(loop)->nblocked, 0, "no waiter");
	cr_assert_null(corio_mutex_owner(&m), "no dangling owner");
	corio_spawn(loop, lock_once__start(NULL, &m, &first, NULL), NULL);
	corio_assert_finished(loop);
	corio_spawn(loop, lock_once__start(NULL, &m, &second, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(first, -EOWNERDEAD);
	cr_assert_eq(second, 0);
	cr_assert_eq(corio_mutex_destroy(&m), 0);
	t_loop_done(loop);
}
