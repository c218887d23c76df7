/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/retry.c - single operations retried over transient failures, the
 * way a blocking POSIX caller retries them: -EINTR, spurious -EAGAIN and
 * -ENOBUFS, and an -ECANCELED that nobody asked for.
 *
 * What an -ECANCELED means: corio_task_cancel never shows it as a result
 * (the task unwinds instead) and a deadline turns it into -ETIME, so an
 * operation that completes with -ECANCELED was cancelled by something
 * else: the kernel (a ring or worker going away) or a corio_close of its
 * fd by another task.  Either way it did not run.  The helpers retry it
 * like -EINTR; after a corio_close the retry finds the fd closed and
 * returns -EBADF.  (Closing an fd under a task still using it is a race
 * with fd reuse, as with close(2) between threads: cancel the task first.)
 */
#include <errno.h>
#include <sys/socket.h>

#include "corio.h"
#include "corio/async.h"
#include "io/retry.h"

/* Back-off of -EAGAIN and -ENOBUFS: at once, then 20 us doubling to 5 ms. */
#define BACKOFF_FIRST_NS 20000
#define BACKOFF_MAX_NS 5000000

int64_t corio_retry_delay(ssize_t res, unsigned attempt, int flags)
{
	int64_t ns;

	switch (res) {
	case -EINTR:
	case -ECANCELED:
		return 0;
	case -EAGAIN:
		/* The caller asked not to wait: -EAGAIN is its answer. */
		if (flags & MSG_DONTWAIT)
			return -1;
		/* fall through */
	case -ENOBUFS:
		if (attempt == 0)
			return 0;
		ns = BACKOFF_FIRST_NS;
		while (--attempt && ns < BACKOFF_MAX_NS)
			ns *= 2;
		return ns < BACKOFF_MAX_NS ? ns : BACKOFF_MAX_NS;
	default:
		return -1;
	}
}

/* Await @OP until its result is not transient, and return that. */
#define RETRY_LOOP(OP, FLAGS, ...)					\
	for (;;) {							\
		corio_await(self->n, OP, __VA_ARGS__);			\
		if (self->n >= 0)					\
			corio_return(self->n);				\
		CORIO__RETRY_STEP(FLAGS);				\
	}

corio_async(ssize_t, corio_recv_retry, ((int, fd), (void *, buf),
					(size_t, len), (int, flags)), (
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	RETRY_LOOP(corio_recv, self->flags, self->fd, self->buf, self->len,
		   self->flags);
corio_finally:
	corio_end();
}

corio_async(ssize_t, corio_send_retry, ((int, fd), (const void *, buf),
					(size_t, len), (int, flags)), (
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	RETRY_LOOP(corio_send, self->flags, self->fd, self->buf, self->len,
		   self->flags);
corio_finally:
	corio_end();
}

corio_async(ssize_t, corio_read_retry, ((int, fd), (void *, buf),
					(size_t, len), (int64_t, off)), (
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	RETRY_LOOP(corio_read, 0, self->fd, self->buf, self->len, self->off);
corio_finally:
	corio_end();
}

corio_async(ssize_t, corio_write_retry, ((int, fd), (const void *, buf),
					 (size_t, len), (int64_t, off)), (
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	RETRY_LOOP(corio_write, 0, self->fd, self->buf, self->len, self->off);
corio_finally:
	corio_end();
}

corio_async(int, corio_accept_retry, ((int, fd), (struct sockaddr *, addr),
				      (socklen_t *, addrlen), (int, flags)), (
	socklen_t len;		/* *addrlen as given, for each attempt */
	int n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	if (self->addrlen)
		self->len = *self->addrlen;
	for (;;) {
		if (self->addrlen)
			*self->addrlen = self->len;
		corio_await(self->n, corio_accept, self->fd, self->addr,
			    self->addrlen, self->flags);
		if (self->n >= 0)
			corio_return(self->n);
		CORIO__RETRY_STEP(0);
	}
corio_finally:
	corio_end();
}
