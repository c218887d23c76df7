/* SPDX-License-Identifier: MIT */
/*
 * samples/common/echo.c - the echo service: an accept task and one
 * detached task per connection.
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
				    (int, fd)), (
	struct echo_link link;	/* in srv->conns while link.task is set */
	ssize_t n;
	int closing;		/* the fd being closed */
	char buf[ECHO_BUF];
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
	for (;;) {
		/* The peer sends its next message only after our echo:
		 * wait for data rather than try first and fail. */
		corio_await(self->n, corio_recv, self->fd, self->buf,
			    sizeof(self->buf), CORIO_RECV_POLL_FIRST);
		if (self->n <= 0)	/* the peer closed, or reset */
			break;
		corio_await(self->n, corio_send_all, self->fd, self->buf,
			    (size_t)self->n, 0);
		if (self->n < 0)
			break;
	}
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
	struct corio_task *task;
	int fd;			/* accepted, not yet owned by its task */
	int ret;
))
{
	corio_begin();
	self->fd = -1;
	while (!self->srv->stopping) {
		corio_await(self->ret, corio_accept, self->srv->listen_fd,
			    NULL, NULL, SOCK_CLOEXEC);
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
							 self->fd, NULL),
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
