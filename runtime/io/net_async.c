/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/net_async.c - the network async functions built from single
 * operations: recvfrom/sendto (a msghdr in the frame), connecting with a
 * timeout, and receiving an exact length.  Written with the macro DSL like
 * any user coroutine.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "corio.h"
#include "corio/async.h"
#include "io/internal.h"
#include "io/retry.h"

corio_async(ssize_t, corio_recvfrom, ((int, fd), (void *, buf), (size_t, len),
				      (int, flags), (struct sockaddr *, addr),
				      (socklen_t *, addrlen)), (
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
))
{
	corio_begin();
	if (self->addr && !self->addrlen)
		corio_return(-EINVAL);
	self->iov.iov_base = self->buf;
	self->iov.iov_len = self->len;
	self->msg.msg_iov = &self->iov;
	self->msg.msg_iovlen = 1;
	if (self->addr) {
		self->msg.msg_name = self->addr;
		self->msg.msg_namelen = *self->addrlen;
	}
	corio_await(self->n, corio_recvmsg, self->fd, &self->msg, self->flags);
	if (self->n >= 0 && self->addr)
		*self->addrlen = self->msg.msg_namelen;
	corio_return(self->n);
corio_finally:
	corio_end();
}

corio_async(ssize_t, corio_sendto, ((int, fd), (const void *, buf),
				    (size_t, len), (int, flags),
				    (const struct sockaddr *, addr),
				    (socklen_t, addrlen)), (
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
))
{
	corio_begin();
	self->iov.iov_base = (void *)self->buf;
	self->iov.iov_len = self->len;
	self->msg.msg_iov = &self->iov;
	self->msg.msg_iovlen = 1;
	self->msg.msg_name = (void *)self->addr;
	self->msg.msg_namelen = self->addr ? self->addrlen : 0;
	corio_await(self->n, corio_sendmsg, self->fd, &self->msg, self->flags);
	corio_return(self->n);
corio_finally:
	corio_end();
}

/*
 * The connect timeout is a task deadline for the duration of the connect:
 * the earlier of it and the caller's applies, so both cancel the connect
 * the same way, and which one fired decides -ETIMEDOUT or -ETIME.
 */
corio_async(int, corio_tcp_connect, ((const char *, host), (int, port),
				     (int64_t, timeout_ns)), (
	struct sockaddr_storage ss;
	socklen_t len;
	int64_t prev;		/* the caller's deadline, while swapped */
	bool swapped;
	bool ours;		/* our timeout is the nearer deadline */
	int fd;
	int r;
))
{
	corio_begin();
	self->fd = -1;
	self->r = corio_sockaddr_parse(self->host, self->port, &self->ss,
				       &self->len);
	if (self->r)
		corio_return(self->r);
	self->fd = socket(self->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (self->fd < 0)
		corio_return(-errno);
	if (self->timeout_ns > 0) {
		int64_t mine = corio_now() + self->timeout_ns;

		self->prev = corio_deadline_set(CORIO_NO_DEADLINE);
		self->swapped = true;
		self->ours = mine < self->prev;
		corio_deadline_set(self->ours ? mine : self->prev);
	}
	corio_await(self->r, corio_connect, self->fd,
		    (struct sockaddr *)&self->ss, self->len);
	if (self->swapped) {
		corio_deadline_set(self->prev);
		self->swapped = false;
	}
	if (self->r == -ETIME && self->ours)
		self->r = -ETIMEDOUT;
	if (self->r < 0)
		corio_return(self->r);
	self->r = self->fd;
	self->fd = -1;
	corio_return(self->r);
corio_finally:
	/* Cancelled or failed: nothing is in flight on the fd any more. */
	if (self->swapped)
		corio_deadline_set(self->prev);
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

corio_async(int, corio_unix_connect, ((const char *, path)), (
	struct sockaddr_un un;
	int len;
	int fd;
	int r;
))
{
	corio_begin();
	self->fd = -1;
	self->len = corio__unix_addr(self->path, &self->un);
	if (self->len < 0)
		corio_return(self->len);
	self->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (self->fd < 0)
		corio_return(-errno);
	corio_await(self->r, corio_connect, self->fd,
		    (struct sockaddr *)&self->un, (socklen_t)self->len);
	if (self->r < 0)
		corio_return(self->r);
	self->r = self->fd;
	self->fd = -1;
	corio_return(self->r);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

corio_async(ssize_t, corio_recv_exact, ((int, fd), (void *, buf),
					(size_t, len)), (
	size_t done;
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	while (self->done < self->len) {
		corio_await(self->n, corio_recv, self->fd,
			    (char *)self->buf + self->done,
			    self->len - self->done, 0);
		if (self->n < 0) {
			CORIO__RETRY_STEP(0);
			continue;
		}
		self->attempt = 0;
		if (self->n == 0)
			corio_return(self->done ? -ECONNRESET : 0);
		self->done += (size_t)self->n;
	}
	corio_return((ssize_t)self->len);
corio_finally:
	corio_end();
}
