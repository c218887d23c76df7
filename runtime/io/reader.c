/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/reader.c - buffer pools and readers: a multishot recv per
 * connection into a provided buffer ring shared by many connections.
 *
 * The kernel picks a free buffer of the pool for every chunk it receives
 * and reports it in a completion with CORIO__CQE_MORE; the chunk waits in
 * the reader's queue until a task reads it (copied out; a partly read
 * buffer stays at the head) or borrows it (handed out until released).
 * Either way the buffer goes back to the ring only when the caller is done
 * with it, so the kernel never writes a buffer someone still reads.
 *
 * When the ring is empty the kernel ends the multishot with -ENOBUFS:
 * that is back-pressure, not an error.  The reader waits on the pool's
 * starved list and is armed again as soon as a buffer comes back.  Any
 * other completion without CORIO__CQE_MORE ends the multishot for the
 * kernel's own reasons; the reader is armed again unless the stream ended
 * (end of file or an error, which every later read then returns).
 *
 * Memory the kernel may write is released only after the final completion
 * of every recv that selects from it: readers free themselves after theirs,
 * and the pool after its last reader and last borrowed buffer.
 *
 * Without the capability (another backend, CORIO_LOOP_NO_MULTISHOT) reads
 * are plain recvs into the caller's buffer, and a borrow waits for the
 * socket to be readable, then receives into a buffer allocated for it.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "corio.h"
#include "corio/async.h"
#include "io/internal.h"
#include "reactor/reactor.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) ((void)(addr), (void)(len))
#endif

struct corio_bufpool {
	struct corio__bufring br;	/* ring mode: registered */
	struct corio_loop *loop;
	uint32_t readers;		/* readers not yet freed */
	uint32_t borrowed;		/* buffers lent out, borrows pending */
	uint32_t avail;			/* buffers the kernel may pick */
	struct corio_reader *starved;	/* readers waiting for buffers */
	void *spare;			/* fallback: released buffers kept
					 * for the next borrow (a list
					 * through their first bytes) */
	uint32_t nspare;		/* ... at most br.nbufs of them */
	bool ring;			/* multishot mode (not the fallback) */
	bool destroyed;			/* free once readers and borrowed
					 * reach 0 */
};

struct chunk {
	uint32_t len;			/* bytes received into the buffer */
	uint16_t bid;
};

struct corio_reader {
	struct corio__source src;	/* first: on_cqe gets &src */
	struct corio__sync waiters;	/* at most one task */
	struct corio_bufpool *pool;
	int fd;
	struct chunk *q;		/* received, unread: a ring, @small
					 * until more than two queue up */
	uint32_t head, count, cap;
	struct chunk small[2];		/* an idle reader allocates no queue */
	uint32_t off;			/* bytes of the head chunk read */
	int end_res;			/* once @ended: 0 (EOF) or -errno */
	/* The waiting task's request: a copy into @want_buf, or a borrow
	 * into @want_out when that is not NULL. */
	char *want_buf;
	size_t want_len;
	struct corio_buf *want_out;
	struct corio_reader *starved_next; /* in pool->starved */
	bool multishot;			/* not the fallback */
	bool plain_busy;		/* fallback: a task's recv pending */
	bool armed;			/* its recv is in flight */
	bool starved;			/* on pool->starved */
	bool ended;			/* end of stream or error seen */
	bool closed;
};

/* ---------------------------------------------------------------------- */
/* Pools.                                                                 */

static void pool_free(struct corio_bufpool *pool)
{
	struct corio_loop *loop = pool->loop;

	if (pool->ring)
		corio__reactor_bufring_destroy(loop->reactor, &pool->br);
	while (pool->spare) {
		void *next = *(void **)pool->spare;

		corio__free(pool->spare);
		pool->spare = next;
	}
	corio__free(pool->br.bufs);
	corio__free(pool);
}

/* The fallback's buffer for one borrow: a spare one, or a new one. */
static char *plain_buf_get(struct corio_bufpool *pool)
{
	void *b = pool->spare;

	if (!b)
		return corio__malloc(pool->br.buf_size);
	pool->spare = *(void **)b;
	pool->nspare--;
	return b;
}

/* Keep up to nbufs released buffers: a buffer per message would cost a
 * fresh allocation, and its page faults, every time. */
static void plain_buf_put(struct corio_bufpool *pool, void *b)
{
	if (pool->nspare >= pool->br.nbufs ||
	    pool->br.buf_size < sizeof(void *)) {
		corio__free(b);
		return;
	}
	*(void **)b = pool->spare;
	pool->spare = b;
	pool->nspare++;
}

static void pool_maybe_free(struct corio_bufpool *pool)
{
	if (pool->destroyed && !pool->readers && !pool->borrowed)
		pool_free(pool);
}

int corio_bufpool_create(struct corio_bufpool **out, unsigned nbufs,
			 unsigned buf_size)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_bufpool *pool;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!loop || !nbufs || nbufs > 32768 || (nbufs & (nbufs - 1)) ||
	    !buf_size || buf_size > (1u << 30))
		return -EINVAL;
	pool = corio__malloc(sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	memset(pool, 0, sizeof(*pool));
	pool->loop = loop;
	pool->br.nbufs = nbufs;
	pool->br.buf_size = buf_size;
	if (corio__net_caps(loop) & CORIO__CAP_BUF_RING) {
		pool->br.bufs = corio__malloc((size_t)nbufs * buf_size);
		if (!pool->br.bufs) {
			corio__free(pool);
			return -ENOMEM;
		}
		/* Ids wrap after 65536 pools; one still registered with the
		 * same id makes registration fail (-EEXIST). */
		pool->br.bgid = loop->next_bgid++;
		err = corio__reactor_bufring_create(loop->reactor, &pool->br);
		if (err) {
			corio__free(pool->br.bufs);
			corio__free(pool);
			return err;
		}
		pool->ring = true;
		pool->avail = nbufs;
	}
	*out = pool;
	return 0;
}

int corio_bufpool_destroy(struct corio_bufpool *pool)
{
	if (!pool || pool->destroyed)
		return -EINVAL;
	pool->destroyed = true;
	pool_maybe_free(pool);
	return 0;
}

static int arm(struct corio_reader *rd);

/* Give buffer @bid back to the kernel; starved readers may go on. */
static void put_buffer(struct corio_bufpool *pool, uint16_t bid)
{
	struct corio_reader *rd;

	corio__reactor_bufring_put(pool->loop->reactor, &pool->br, bid);
	pool->avail++;
	while ((rd = pool->starved)) {
		pool->starved = rd->starved_next;
		rd->starved_next = NULL;
		rd->starved = false;
		if (arm(rd) < 0 && !rd->ended) {
			rd->ended = true;
			rd->end_res = -EAGAIN;
		}
	}
}

static void unstarve(struct corio_reader *rd)
{
	struct corio_reader **p = &rd->pool->starved;

	for (; *p; p = &(*p)->starved_next) {
		if (*p == rd) {
			*p = rd->starved_next;
			break;
		}
	}
	rd->starved_next = NULL;
	rd->starved = false;
}

/* ---------------------------------------------------------------------- */
/* Readers.                                                               */

static int arm(struct corio_reader *rd)
{
	struct corio_loop *loop = rd->src.loop;
	int err;

	err = corio__source_start(loop, &rd->src,
		&(struct corio__io){ .opcode = CORIO__OP_RECV_MULTI,
				     .fd = rd->fd, .len = rd->pool->br.bgid });
	if (!err)
		rd->armed = true;
	return err;
}

static void reader_free(struct corio_reader *rd)
{
	struct corio_bufpool *pool = rd->pool;

	if (rd->q != rd->small)
		corio__free(rd->q);
	corio__free(rd);
	pool->readers--;
	pool_maybe_free(pool);
}

static bool push_chunk(struct corio_reader *rd, uint32_t len, uint16_t bid)
{
	if (rd->count == rd->cap) {
		uint32_t cap = rd->cap < 4 ? 8 : rd->cap * 2, i;
		struct chunk *q = corio__malloc(sizeof(*q) * cap);

		if (!q)
			return false;
		for (i = 0; i < rd->count; i++)
			q[i] = rd->q[(rd->head + i) % rd->cap];
		if (rd->q != rd->small)
			corio__free(rd->q);
		rd->q = q;
		rd->head = 0;
		rd->cap = cap;
	}
	rd->q[(rd->head + rd->count++) % rd->cap] = (struct chunk){
		.len = len, .bid = bid };
	return true;
}

static void pop_chunk(struct corio_reader *rd)
{
	rd->head = (rd->head + 1) % rd->cap;
	rd->count--;
	rd->off = 0;
}

static char *buf_addr(const struct corio_bufpool *pool, uint16_t bid)
{
	return pool->br.bufs + (size_t)bid * pool->br.buf_size;
}

/*
 * Serve the request of the waiting task from the queue: requires queued
 * data or the end of the stream.  Returns the request's result.
 */
static ssize_t take(struct corio_reader *rd)
{
	struct corio_bufpool *pool = rd->pool;
	struct corio_buf *out = rd->want_out;
	size_t copied = 0;

	if (!rd->count)
		return rd->end_res;
	if (out) {
		struct chunk *c = &rd->q[rd->head];

		*out = (struct corio_buf){
			.data = buf_addr(pool, c->bid) + rd->off,
			.len = c->len - rd->off, .pool = pool,
			.bid = c->bid };
		pool->borrowed++;
		pop_chunk(rd);
		return (ssize_t)out->len;
	}
	/* Copy across chunks: one read can drain several small ones. */
	while (copied < rd->want_len && rd->count) {
		struct chunk *c = &rd->q[rd->head];
		size_t n = c->len - rd->off;
		uint16_t bid = c->bid;

		if (n > rd->want_len - copied)
			n = rd->want_len - copied;
		memcpy(rd->want_buf + copied, buf_addr(pool, bid) + rd->off, n);
		copied += n;
		rd->off += (uint32_t)n;
		if (rd->off == c->len) {
			pop_chunk(rd);
			put_buffer(pool, bid);
		}
	}
	return (ssize_t)copied;
}

static void serve_waiter(struct corio_reader *rd)
{
	struct corio_task *t;

	if (!rd->waiters.head || (!rd->count && !rd->ended))
		return;
	t = corio__sync_pop(&rd->waiters);
	corio__task_resume(rd->src.loop, t, take(rd));
}

static void end_stream(struct corio_reader *rd, int res)
{
	if (!rd->ended) {
		rd->ended = true;
		rd->end_res = res;
	}
}

static void on_cqe(struct corio__source *src, int32_t res, uint32_t flags,
		   uint16_t bid)
{
	struct corio_reader *rd = (struct corio_reader *)src;
	struct corio_bufpool *pool = rd->pool;

	if (flags & CORIO__CQE_BUFFER) {
		pool->avail--;
		if (res <= 0 || rd->closed || rd->ended) {
			put_buffer(pool, bid);
		} else if (push_chunk(rd, (uint32_t)res, bid)) {
			/* The kernel wrote it, out of valgrind's sight. */
			VALGRIND_MAKE_MEM_DEFINED(buf_addr(pool, bid),
						  (size_t)res);
		} else {
			put_buffer(pool, bid);
			end_stream(rd, -ENOMEM);
		}
	} else if (res == -ENOBUFS) {
		rd->starved = !rd->closed;
	} else if (res <= 0 && corio_retry_delay(res, 0, 0) < 0) {
		end_stream(rd, res);	/* transient ends are armed again */
	}
	if (flags & CORIO__CQE_MORE) {
		serve_waiter(rd);
		return;
	}
	rd->armed = false;
	if (rd->closed) {
		if (!src->inflight)
			reader_free(rd);
		return;
	}
	if (rd->starved) {
		/* Buffers may have come back since the kernel looked. */
		if (pool->avail) {
			rd->starved = false;
		} else {
			rd->starved_next = pool->starved;
			pool->starved = rd;
		}
	}
	if (!rd->starved && !rd->ended && (res = arm(rd)) < 0)
		end_stream(rd, res);
	serve_waiter(rd);
}

int corio_reader_open(struct corio_reader **out, int fd,
		      struct corio_bufpool *pool)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_reader *rd;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!loop || !pool || pool->destroyed || pool->loop != loop || fd < 0)
		return -EINVAL;
	rd = corio__malloc(sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	memset(rd, 0, sizeof(*rd));
	rd->q = rd->small;
	rd->cap = sizeof(rd->small) / sizeof(rd->small[0]);
	rd->src.on_cqe = on_cqe;
	rd->src.loop = loop;
	rd->pool = pool;
	rd->fd = fd;
	rd->multishot = pool->ring;
	if (rd->multishot) {
		err = arm(rd);
		if (err) {
			corio__free(rd);
			return err;
		}
	}
	corio__sync_register(&rd->waiters, CORIO_WAIT_IO, "reader",
			     "reader");
	pool->readers++;
	*out = rd;
	return 0;
}

/* Wait until the request stored in @rd can be served; multishot only. */
static struct corio_frame *wait_data(struct corio_reader *rd, ssize_t *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int err;

	early = corio__op_prologue(&t, result, CORIO__RES_SSIZE);
	if (early)
		return early;
	if (rd->count || rd->ended)
		return corio__op_done(t, take(rd));
	if (!rd->armed && !rd->starved) {
		err = arm(rd);
		if (err)
			return corio__op_done(t, err);
	}
	/* Reports name the multishot op the task waits on. */
	t->op = CORIO__OP_RECV_MULTI;
	return corio__sync_wait(&rd->waiters, t, NULL);
}

/* Refuse a NULL, closed or busy reader: the error for the result slot. */
static int check_reader(const struct corio_reader *rd)
{
	if (!rd || rd->closed)
		return -EINVAL;
	if (rd->waiters.head || rd->plain_busy)
		return -EBUSY;
	return 0;
}

/* The fallback's read: a plain recv, marked so that a second reader or a
 * close meanwhile gets -EBUSY as in multishot mode. */
corio_async_static(ssize_t, read_plain, ((struct corio_reader *, rd),
					 (void *, buf), (size_t, len)), (
	ssize_t n;
))
{
	corio_begin();
	self->rd->plain_busy = true;
	corio_await(self->n, corio_recv_retry, self->rd->fd, self->buf, self->len,
		    0);
	corio_return(self->n);
corio_finally:
	self->rd->plain_busy = false;
	corio_end();
}

struct corio_frame *corio_reader_read__start(struct corio_frame *parent,
					     struct corio_reader *rd,
					     void *buf, size_t len,
					     ssize_t *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int err = check_reader(rd);

	if (!err && !len)
		err = -EINVAL;
	if (err) {
		early = corio__op_prologue(&t, result, CORIO__RES_SSIZE);
		return early ? early : corio__op_done(t, err);
	}
	/* The fallback holds nothing but the fd: a plain recv. */
	if (!rd->multishot)
		return read_plain__start(parent, rd, buf, len, result);
	rd->want_buf = buf;
	rd->want_len = len;
	rd->want_out = NULL;
	return wait_data(rd, result);
}

/*
 * The fallback's borrow: wait until the socket is readable, then receive
 * into a buffer allocated for this chunk.  A reader waiting for data holds
 * no buffer, so an idle connection costs none on this path either.
 */
corio_async_static(ssize_t, borrow_plain, ((struct corio_reader *, rd),
					   (struct corio_bufpool *, pool),
					   (struct corio_buf *, out)), (
	char *mem;
	ssize_t n;
	int ready;
))
{
	corio_begin();
	self->rd->plain_busy = true;
	for (;;) {
		corio_await(self->ready, corio_poll, self->rd->fd, POLLIN);
		if (self->ready < 0 && corio_retry_delay(self->ready, 0, 0) < 0)
			corio_return(self->ready);
		if (self->ready < 0)
			continue;	/* transient: wait again */
		self->mem = plain_buf_get(self->pool);
		if (!self->mem)
			corio_return(-ENOMEM);
		/* In this step, not awaited: once the task is woken, a
		 * cancel must find the data taken (cancel-safety) rather than
		 * cut the borrow between readiness and receive. */
		self->n = recv(self->rd->fd, self->mem, self->pool->br.buf_size,
			       MSG_DONTWAIT);
		if (self->n >= 0)
			break;
		self->n = -errno;
		if (self->n != -EAGAIN && self->n != -EINTR)
			break;
		/* Readable, then not (another reader took it): wait again. */
		plain_buf_put(self->pool, self->mem);
		self->mem = NULL;
	}
	if (self->n > 0) {
		*self->out = (struct corio_buf){ .data = self->mem,
			.len = (size_t)self->n, .pool = self->pool,
			.mem = self->mem, .bid = -1 };
		self->pool->borrowed++;
		self->mem = NULL;
	}
	corio_return(self->n);
corio_finally:
	self->rd->plain_busy = false;
	if (self->mem)
		plain_buf_put(self->pool, self->mem);
	/* The pending borrow kept the pool alive (see the start). */
	self->pool->borrowed--;
	pool_maybe_free(self->pool);
	corio_end();
}

struct corio_frame *corio_reader_borrow__start(struct corio_frame *parent,
					       struct corio_reader *rd,
					       struct corio_buf *buf,
					       ssize_t *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int err = check_reader(rd);

	if (!err && !buf)
		err = -EINVAL;
	if (err) {
		early = corio__op_prologue(&t, result, CORIO__RES_SSIZE);
		return early ? early : corio__op_done(t, err);
	}
	*buf = (struct corio_buf){ .bid = -1 };
	if (!rd->multishot) {
		/* Counted as borrowed while pending: closing the reader and
		 * destroying the pool meanwhile must not free the pool. */
		rd->pool->borrowed++;
		return borrow_plain__start(parent, rd, rd->pool, buf,
					   result);
	}
	rd->want_buf = NULL;
	rd->want_len = 0;
	rd->want_out = buf;
	return wait_data(rd, result);
}

void corio_buf_release(struct corio_buf *buf)
{
	struct corio_bufpool *pool;

	if (!buf || !buf->pool)
		return;
	pool = buf->pool;
	if (buf->mem)
		plain_buf_put(pool, buf->mem);
	else if (buf->bid >= 0)
		put_buffer(pool, (uint16_t)buf->bid);
	*buf = (struct corio_buf){ .bid = -1 };
	pool->borrowed--;
	pool_maybe_free(pool);
}

int corio_reader_close(struct corio_reader *rd)
{
	struct corio_loop *loop;

	if (!rd || rd->closed)
		return -EINVAL;
	if (rd->waiters.head || rd->plain_busy)
		return -EBUSY;
	loop = rd->src.loop;
	rd->closed = true;
	corio__sync_unregister(&rd->waiters);
	if (rd->starved)
		unstarve(rd);
	while (rd->count) {
		uint16_t bid = rd->q[rd->head].bid;

		pop_chunk(rd);
		put_buffer(rd->pool, bid);
	}
	if (!rd->armed) {
		reader_free(rd);
		return 0;
	}
	/* on_cqe frees it after the final completion. */
	corio__source_cancel(loop, &rd->src);
	return 0;
}

bool corio_reader_is_multishot(const struct corio_reader *rd)
{
	return rd && rd->multishot;
}
