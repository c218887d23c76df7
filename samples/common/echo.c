/* SPDX-License-Identifier: MIT */
/*
 * samples/common/echo.c - the echo service: an accept task and one
 * detached task per connection.
 *
 * The accept task takes connections from an acceptor (one multishot
 * accept) and every connection reads through a buffer pool shared by all
 * of them (one multishot recv each): the kernel picks a buffer as data
 * arrives, the connection sends straight from it and gives it back.  On a
 * backend without multishot operations both fall back to one accept or
 * recv per message, into the connection's own buffer.
 *
 * Stopping cancels tasks rather than asking them to finish: a connection
 * may wait forever for a peer that sends nothing.  A cancelled task only
 * runs its cleanup section, where nothing can be awaited, so the sockets
 * still open there are closed with close(2): nothing is in flight on them
 * any more (cancellation waits for the operation's own completion) and
 * closing a socket without SO_LINGER does not block.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>

#include "common/echo.h"

/* After running out of descriptors or memory, wait before accepting
 * again; the pending connection stays in the backlog meanwhile. */
#define ACCEPT_PAUSE CORIO_MS(100)

/* The pool shared by every connection: 1 MiB, whatever their number (a
 * connection holds a buffer only between a receive and its echo).  256
 * buffers measured cheaper than 1024 at 500 connections: the kernel picks
 * buffers in turn, and fewer of them stay in the cache. */
#define POOL_BUFS 256
#define POOL_BUF_SIZE ECHO_BUF

static void link_add(struct echo_server *srv, struct echo_link *l,
		     struct corio_task *task)
{
	l->task = task;
	l->prev = &srv->conns;
	l->next = srv->conns.next;
	l->next->prev = l;
	srv->conns.next = l;
}

static void link_del(struct echo_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->task = NULL;
}

corio_async_static(int, echo_conn, ((struct echo_server *, srv),
				    (int, fd),
				    (struct corio_bufpool *, pool)), (
	struct echo_link link;	/* in srv->conns while link.task is set */
	struct corio_reader *rd;
	struct corio_buf b;	/* borrowed from the pool, or empty */
	ssize_t n;
	int closing;		/* the fd being closed */
	char buf[ECHO_BUF];	/* the fallback's buffer */
))
{
	corio_begin();
	/* Not in the list yet, so a stop before now did not cancel us. */
	if (self->srv->stopping)
		goto out;
	link_add(self->srv, &self->link, corio_current_task());
	/* Echo each piece at once rather than wait for an ACK to merge it
	 * with the next one (Nagle). */
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		   sizeof(int));
	if (corio_reader_open(&self->rd, self->fd, self->pool) < 0)
		goto out;
	while (corio_reader_is_multishot(self->rd)) {
		/* Echo straight from the kernel's buffer, then return it. */
		corio_await(self->n, corio_reader_borrow, self->rd, &self->b);
		if (self->n <= 0)	/* the peer closed, or reset */
			break;
		corio_await(self->n, corio_send_all, self->fd, self->b.data,
			    self->b.len, 0);
		corio_buf_release(&self->b);
		if (self->n < 0)
			break;
	}
	while (!corio_reader_is_multishot(self->rd)) {
		/* The peer sends its next message only after our echo:
		 * wait for data rather than try first and fail. */
		corio_await(self->n, corio_recv, self->fd, self->buf,
			    sizeof(self->buf), CORIO_RECV_POLL_FIRST);
		if (self->n <= 0)
			break;
		corio_await(self->n, corio_send_all, self->fd, self->buf,
			    (size_t)self->n, 0);
		if (self->n < 0)
			break;
	}
	/* Before the close: the reader's receive holds the socket. */
	corio_reader_close(self->rd);
	self->rd = NULL;
out:
	/* Forget the fd before awaiting its close: if the task is cancelled
	 * meanwhile, the cleanup section must not close the number again
	 * (it may belong to another file by then). */
	self->closing = self->fd;
	self->fd = -1;
	corio_await_discard(corio_close, self->closing);
	corio_return(0);
corio_finally:
	if (self->link.task)
		link_del(&self->link);
	corio_buf_release(&self->b);
	if (self->rd)
		corio_reader_close(self->rd);
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

/* Accept errors that concern one connection or a passing shortage. */
static bool accept_retryable(int err)
{
	switch (err) {
	case -ECONNABORTED:
	case -EINTR:
	case -EAGAIN:
	case -EMFILE:
	case -ENFILE:
	case -ENOBUFS:
	case -ENOMEM:
		return true;
	default:
		return false;
	}
}

corio_async_static(int, accept_loop, ((struct echo_server *, srv)), (
	struct corio_acceptor *acc;
	struct corio_bufpool *pool;	/* freed after its last reader */
	struct corio_task *task;
	int fd;			/* accepted, not yet owned by its task */
	int ret;
))
{
	corio_begin();
	self->fd = -1;
	self->ret = corio_acceptor_open(&self->acc, self->srv->listen_fd,
					SOCK_CLOEXEC);
	if (self->ret == 0)
		self->ret = corio_bufpool_create(&self->pool, POOL_BUFS,
						 POOL_BUF_SIZE);
	if (self->ret < 0) {
		echo_server_stop(self->srv);
		corio_throw(self->ret);
	}
	while (!self->srv->stopping) {
		corio_await(self->ret, corio_accept_next, self->acc);
		if (self->ret < 0) {
			if (!accept_retryable(self->ret)) {
				echo_server_stop(self->srv);
				corio_throw(self->ret);
			}
			if (self->ret != -ECONNABORTED &&
			    self->ret != -EINTR)
				corio_await_discard(corio_sleep, ACCEPT_PAUSE);
			continue;
		}
		self->fd = self->ret;
		self->ret = corio_spawn(corio_loop_current(),
					echo_conn__start(NULL, self->srv,
							 self->fd, self->pool,
							 NULL),
					&self->task);
		if (self->ret < 0) {
			/* No memory for this one: drop it, keep serving. */
			self->ret = self->fd;
			self->fd = -1;
			corio_await_discard(corio_close, self->ret);
			continue;
		}
		self->fd = -1;
		/* Nobody joins a connection: released when it ends. */
		corio_task_detach(self->task);
		self->srv->accepted++;
	}
	corio_return(0);
corio_finally:
	/* An accepted fd whose result arrived as we were cancelled. */
	if (self->fd >= 0)
		close(self->fd);
	/* The acceptor first: its accept holds the listener open. */
	if (self->acc)
		corio_acceptor_close(self->acc);
	if (self->pool)
		corio_bufpool_destroy(self->pool);
	if (self->srv->listen_fd >= 0) {
		close(self->srv->listen_fd);
		self->srv->listen_fd = -1;
	}
	corio_end();
}

void echo_server_init(struct echo_server *srv, int listen_fd)
{
	*srv = (struct echo_server){ .listen_fd = listen_fd };
	srv->conns.next = srv->conns.prev = &srv->conns;
}

int echo_server_start(struct echo_server *srv, struct corio_loop *loop)
{
	int ret;

	ret = corio_spawn(loop, accept_loop__start(NULL, srv, NULL),
			  &srv->accept_task);
	if (ret < 0) {
		close(srv->listen_fd);
		srv->listen_fd = -1;
	}
	return ret;
}

void echo_server_stop(struct echo_server *srv)
{
	struct corio_task *me = corio_current_task();
	struct echo_link *l;

	if (srv->stopping)
		return;
	srv->stopping = true;
	/* The caller itself sees @stopping and leaves on its own. */
	if (srv->accept_task && srv->accept_task != me)
		corio_task_cancel(srv->accept_task);
	if (srv->linked && srv->linked != me)
		corio_task_cancel(srv->linked);
	/* Cancelling only marks the tasks: none leaves the list yet. */
	for (l = srv->conns.next; l != &srv->conns; l = l->next)
		corio_task_cancel(l->task);
}

int echo_server_finish(struct echo_server *srv)
{
	int ret, status;

	if (!srv->accept_task)
		return 0;
	ret = corio_task_reap(srv->accept_task, &status);
	if (ret < 0)
		return ret;
	srv->accept_task = NULL;
	return status == -ECANCELED ? 0 : status;
}
