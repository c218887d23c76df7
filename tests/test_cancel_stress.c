/* SPDX-License-Identifier: MIT */
/*
 * tests/test_cancel_stress.c - cancel tasks at random points and check
 * that nothing is lost, duplicated or leaked (docs/design.md,
 * "Cancellation").  Five legs run at once on one loop, each with a
 * controller that spawns a worker, lets it run a random number of steps,
 * cancels it, joins it and spawns the next:
 *
 *   - a byte stream read with corio_recv, and one read through a
 *     corio_reader: every byte is checked against its position;
 *   - a producer and a consumer on a channel of random capacity: every
 *     element arrives once, in order;
 *   - lockers of a mutex and holders of semaphore permits: the lock and
 *     every permit come back;
 *   - acceptors on a listener that a connector keeps dialling: every
 *     connection is accepted once and closed; no fd is left open.
 *
 * CORIO_CANCEL_STRESS sets the number of cancellations (100,000 by
 * default; a CI run under the sanitizers may lower it), CORIO_STRESS_SEED
 * the random seed.
 */
#include "testutil.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

/* ---- randomness and the byte pattern ---------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)	/* 0 .. n-1 */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* The byte at stream position @pos: a lost or repeated piece of any
 * length shows up as a mismatch at once. */
static unsigned char pattern(uint64_t pos)
{
	return (unsigned char)((pos * 0x9E3779B97F4A7C15ull) >> 56);
}


/* ---- the legs' state -------------------------------------------------- */

struct stream {
	int fds[2];			/* the workers read fds[0] */
	struct corio_reader *rd;	/* NULL: plain corio_recv */
	struct corio_bufpool *pool;
	uint64_t sent, received;	/* bytes */
	uint64_t mismatches;
	bool stop;			/* the leg is over: finish the stream */
	bool writer_done;
};

struct pc {
	struct corio_chan ch;
	uint64_t next_send, next_recv;	/* element values */
	uint64_t out_of_order;
};

struct locks {
	struct corio_mutex mu;
	struct corio_sem sem;
	int inside;			/* holders of the mutex right now */
	uint64_t overlaps, abandoned;
};

struct accepting {
	int listener;
	struct corio_acceptor *acc;
	uint64_t connected, accepted;
	bool connector_done;
};

struct stats {
	uint64_t cancellations;
	uint64_t unexpected_status;
};

static struct stats st;

/* ---- workers ---------------------------------------------------------- */

/* Write the pattern in pieces of random size until the leg is over,
 * then shut down the write side. */
corio_async(int, stream_writer, ((struct stream *, s)), (
	unsigned char buf[512];
	size_t n, i;
	ssize_t w;
))
{
	corio_begin();
	while (!self->s->stop) {
		self->n = 1 + rnd(sizeof(self->buf));
		for (self->i = 0; self->i < self->n; self->i++)
			self->buf[self->i] = pattern(self->s->sent + self->i);
		corio_await(self->w, corio_send_all, self->s->fds[1],
			    self->buf, self->n, 0);
		cr_assert_eq(self->w, (ssize_t)self->n, "send: %zd", self->w);
		self->s->sent += self->n;
	}
	shutdown(self->s->fds[1], SHUT_WR);
	self->s->writer_done = true;
corio_finally:
	corio_end();
}

/* Read pieces of random size and check each byte, until end of stream. */
corio_async(int, stream_reader, ((struct stream *, s)), (
	unsigned char buf[256];
	ssize_t n, i;
))
{
	struct stream *s = self->s;

	corio_begin();
	for (;;) {
		if (s->rd)
			corio_await(self->n, corio_reader_read, s->rd,
				    self->buf, 1 + rnd(sizeof(self->buf)));
		else
			corio_await(self->n, corio_recv, s->fds[0], self->buf,
				    1 + rnd(sizeof(self->buf)), 0);
		/* Whatever was read is checked now, before the next await
		 * (where a cancellation takes effect). */
		if (self->n <= 0)
			break;
		for (self->i = 0; self->i < self->n; self->i++)
			if (self->buf[self->i] != pattern(s->received +
							   (uint64_t)self->i))
				s->mismatches++;
		s->received += (uint64_t)self->n;
	}
	cr_assert_eq(self->n, 0, "end of stream, not %zd", self->n);
corio_finally:
	corio_end();
}

corio_async(int, producer, ((struct pc *, p)), (
	uint64_t v;
	int r;
))
{
	corio_begin();
	for (;;) {
		self->v = self->p->next_send;
		corio_await(self->r, corio_chan_send, &self->p->ch, &self->v);
		cr_assert_eq(self->r, 0);
		self->p->next_send++;	/* it went: the next one */
	}
corio_finally:
	corio_end();
}

corio_async(int, consumer, ((struct pc *, p)), (
	uint64_t v;
	int r;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_chan_recv, &self->p->ch, &self->v);
		cr_assert_eq(self->r, 0);
		if (self->v != self->p->next_recv)
			self->p->out_of_order++;
		self->p->next_recv = self->v + 1;
	}
corio_finally:
	corio_end();
}

/* Hold the mutex across a yield, then a permit across another. */
corio_async(int, locker, ((struct locks *, l)), (
	int r;
	bool locked, permit;
))
{
	struct locks *l = self->l;

	corio_begin();
	for (;;) {
		corio_await(self->r, corio_mutex_lock, &l->mu);
		if (self->r == -EOWNERDEAD)
			l->abandoned++;
		cr_assert(self->r == 0 || self->r == -EOWNERDEAD);
		self->locked = true;
		if (l->inside++)
			l->overlaps++;
		corio_yield();
		l->inside--;
		self->locked = false;
		cr_assert_eq(corio_mutex_unlock(&l->mu), 0);
		corio_await(self->r, corio_sem_acquire, &l->sem);
		cr_assert_eq(self->r, 0);
		self->permit = true;
		corio_yield();
		self->permit = false;
		corio_sem_release(&l->sem);
	}
corio_finally:
	if (self->locked) {
		l->inside--;
		corio_mutex_unlock(&l->mu);
	}
	if (self->permit)
		corio_sem_release(&l->sem);
	corio_end();
}

corio_async(int, connector, ((struct accepting *, a), (uint64_t, total)), (
	int fd;
))
{
	corio_begin();
	while (self->a->connected < self->total) {
		corio_await(self->fd, corio_tcp_connect, "127.0.0.1",
			    corio_socket_port(self->a->listener), 0);
		cr_assert_geq(self->fd, 0, "connect: %s",
			      corio_strerror(self->fd));
		self->a->connected++;
		close(self->fd);
	}
	self->a->connector_done = true;
corio_finally:
	corio_end();
}

corio_async(int, acceptor, ((struct accepting *, a)), (
	int fd;
))
{
	corio_begin();
	self->fd = -1;
	while (!self->a->connector_done ||
	       self->a->accepted < self->a->connected) {
		corio_await(self->fd, corio_accept_next, self->a->acc);
		cr_assert_geq(self->fd, 0, "accept: %s",
			      corio_strerror(self->fd));
		self->a->accepted++;
		close(self->fd);
		self->fd = -1;
	}
corio_finally:
	corio_end();
}

/* ---- the controllers -------------------------------------------------- */

typedef struct corio_frame *worker_start(void *leg);

static struct corio_frame *start_reader(void *leg)
{
	return stream_reader__start(NULL, leg, NULL);
}

static struct corio_frame *start_producer(void *leg)
{
	return producer__start(NULL, leg, NULL);
}

static struct corio_frame *start_consumer(void *leg)
{
	return consumer__start(NULL, leg, NULL);
}

static struct corio_frame *start_locker(void *leg)
{
	return locker__start(NULL, leg, NULL);
}

static struct corio_frame *start_acceptor(void *leg)
{
	return acceptor__start(NULL, leg, NULL);
}

/*
 * @n times: spawn a worker of @start (alternating with @start2 when it is
 * set), let it run 0 to 7 yields of ours, cancel it, join it.  The
 * workers never finish by themselves: each must be cancelled.  Then set
 * *@over and, for a stream, read it to its end.
 */
corio_async(int, controller, ((worker_start *, start), (worker_start *, start2),
			      (void *, leg), (uint64_t, n), (bool *, over)), (
	uint64_t i;
	uint32_t k, spins;
	struct corio_task *w;
	int status;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		worker_start *fn = self->start2 && (self->i & 1) ?
				   self->start2 : self->start;

		cr_assert_eq(corio_spawn(corio_loop_current(), fn(self->leg),
					 &self->w), 0);
		self->spins = rnd(8);
		for (self->k = 0; self->k < self->spins; self->k++)
			corio_yield();
		corio_task_cancel(self->w);
		corio_await(self->status, corio_join, self->w);
		if (self->status != -ECANCELED)
			st.unexpected_status++;
		st.cancellations++;
	}
	if (self->over) {
		*self->over = true;
		corio_await_frame(self->start(self->leg));
	}
corio_finally:
	corio_end();
}

static void check_stream(struct stream *s)
{
	cr_assert(s->writer_done);
	cr_assert_eq(s->received, s->sent, "every byte arrived once");
	cr_assert_eq(s->mismatches, 0, "no byte lost, repeated or changed");
}

static void open_stream(struct stream *s, bool reader,
			struct corio_loop *loop)
{
	memset(s, 0, sizeof(*s));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				s->fds), 0);
	if (reader) {
		/* Few small buffers: back-pressure on the ring as well. */
		cr_assert_eq(corio_bufpool_create(&s->pool, 8, 128), 0);
		cr_assert_eq(corio_reader_open(&s->rd, s->fds[0], s->pool), 0);
	}
	corio_spawn(loop, stream_writer__start(NULL, s, NULL), NULL);
}

static void close_stream(struct stream *s)
{
	if (s->rd) {
		cr_assert_eq(corio_reader_close(s->rd), 0);
		cr_assert_eq(corio_bufpool_destroy(s->pool), 0);
	}
	close(s->fds[0]);
	close(s->fds[1]);
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : fallback;
}

Test(cancel_stress, nothing_lost_duplicated_or_leaked, .timeout = 600)
{
	uint64_t n = env_u64("CORIO_CANCEL_STRESS", 100000);
	uint64_t seed = env_u64("CORIO_STRESS_SEED", 20261204);
	uint64_t share = n / 6 ? n / 6 : 1;
	int fds_before = t_count_fds();
	struct corio_loop *loop = t_loop();
	struct stream plain, ring;
	struct accepting a = { .listener = -1 };
	struct locks l;
	struct pc p;
	uint64_t v;
	int r;

	memset(&st, 0, sizeof(st));
	rng_state = seed | 1;
	cr_log_info("seed %llu, %llu cancellations", (unsigned long long)seed,
		    (unsigned long long)n);
	open_stream(&plain, false, loop);
	open_stream(&ring, true, loop);
	memset(&p, 0, sizeof(p));
	cr_assert_eq(corio_chan_init(&p.ch, sizeof(uint64_t), rnd(3) * 2,
				     "stress"), 0);
	memset(&l, 0, sizeof(l));
	cr_assert_eq(corio_mutex_init(&l.mu, "stress"), 0);
	cr_assert_eq(corio_sem_init(&l.sem, 3, "stress"), 0);
	a.listener = corio_tcp_listen("127.0.0.1", 0, NULL);
	cr_assert_geq(a.listener, 0);
	cr_assert_eq(corio_acceptor_open(&a.acc, a.listener, SOCK_CLOEXEC), 0);
	/* Enough connections that acceptors are often cancelled with one
	 * just handed to them, and few enough for TIME_WAIT. */
	corio_spawn(loop, connector__start(NULL, &a, share / 2, NULL), NULL);

	corio_spawn(loop, controller__start(NULL, start_reader, NULL, &plain,
					    share, &plain.stop, NULL), NULL);
	corio_spawn(loop, controller__start(NULL, start_reader, NULL, &ring,
					    share, &ring.stop, NULL), NULL);
	corio_spawn(loop, controller__start(NULL, start_producer,
					    start_consumer, &p, share * 2,
					    NULL, NULL), NULL);
	corio_spawn(loop, controller__start(NULL, start_locker, NULL, &l,
					    share, NULL, NULL), NULL);
	corio_spawn(loop, controller__start(NULL, start_acceptor, NULL, &a,
					    n - 5 * share, NULL, NULL), NULL);
	corio_assert_finished(loop);

	/* What is left: the rest of the streams, the channel, the accepts. */
	check_stream(&plain);
	check_stream(&ring);
	while ((r = corio_chan_try_recv(&p.ch, &v)) == 0) {
		if (v != p.next_recv)
			p.out_of_order++;
		p.next_recv = v + 1;
	}
	cr_assert_eq(r, -EAGAIN);
	cr_assert_eq(p.next_recv, p.next_send,
		     "every element sent arrived (%llu of %llu)",
		     (unsigned long long)p.next_recv,
		     (unsigned long long)p.next_send);
	cr_assert_eq(p.out_of_order, 0, "no element lost or repeated");
	cr_assert(a.connector_done);
	corio_spawn(loop, acceptor__start(NULL, &a, NULL), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(a.accepted, a.connected, "every connection accepted once");
	cr_assert_null(corio_mutex_owner(&l.mu), "the lock came back");
	cr_assert_eq(l.overlaps, 0);
	cr_assert_eq(l.abandoned, 0, "no task ended holding the lock");
	for (r = 0; r < 3; r++)
		cr_assert_eq(corio_sem_try_acquire(&l.sem), 0,
			     "permit %d came back", r);
	cr_assert_eq(corio_sem_try_acquire(&l.sem), -EAGAIN);
	cr_assert_eq(st.unexpected_status, 0);

	cr_assert_eq(st.cancellations, n);
	cr_log_info("%llu cancellations; %llu + %llu bytes, %llu elements, "
		    "%llu connections checked: 0 lost, 0 duplicated",
		    (unsigned long long)st.cancellations,
		    (unsigned long long)plain.received,
		    (unsigned long long)ring.received,
		    (unsigned long long)p.next_recv,
		    (unsigned long long)a.accepted);
	close_stream(&plain);
	close_stream(&ring);
	cr_assert_eq(corio_chan_destroy(&p.ch), 0);
	cr_assert_eq(corio_mutex_destroy(&l.mu), 0);
	cr_assert_eq(corio_sem_destroy(&l.sem), 0);
	cr_assert_eq(corio_acceptor_close(a.acc), 0);
	close(a.listener);
	t_loop_done(loop);
	cr_assert_eq(t_count_fds(), fds_before, "no fd leaked");
}
