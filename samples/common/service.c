/* SPDX-License-Identifier: MIT */
/*
 * samples/common/service.c - the accept task and the list of live
 * connections of a TCP service.
 *
 * Stopping cancels tasks rather than asking them to finish: a connection
 * may wait forever for a peer that sends nothing.  A cancelled task only
 * runs its cleanup section, where nothing can be awaited, so the sockets
 * still open there are closed with close(2): nothing is in flight on them
 * any more (cancellation waits for the operation's own completion) and
 * closing a socket without SO_LINGER does not block.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>

#include "common/service.h"

/* After running out of descriptors or memory, wait before accepting
 * again; the pending connection stays in the backlog meanwhile. */
#define ACCEPT_PAUSE CORIO_MS(100)

bool sample_service_enter(struct sample_service *svc, struct sample_link *l)
{
	if (svc->stopping)
		return false;
	l->task = corio_current_task();
	l->prev = &svc->conns;
	l->next = svc->conns.next;
	l->next->prev = l;
	svc->conns.next = l;
	return true;
}

void sample_service_leave(struct sample_link *l)
{
	if (!l->task)
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->task = NULL;
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

corio_async_static(int, accept_loop, ((struct sample_service *, svc)), (
	struct corio_acceptor *acc;	/* NULL: one corio_accept each */
	struct corio_task *task;
	int fd;			/* accepted, not yet owned by its task */
	int ret;
	bool opened;		/* ops->open succeeded: ops->close is due */
))
{
	corio_begin();
	self->fd = -1;
	if (self->svc->ops->multishot)
		self->ret = corio_acceptor_open(&self->acc,
						self->svc->listen_fd,
						SOCK_CLOEXEC);
	if (self->ret == 0 && self->svc->ops->open) {
		self->ret = self->svc->ops->open(self->svc->arg);
		self->opened = self->ret == 0;
	}
	if (self->ret < 0) {
		sample_service_stop(self->svc);
		corio_throw(self->ret);
	}
	while (!self->svc->stopping) {
		if (self->acc)
			corio_await(self->ret, corio_accept_next, self->acc);
		else
			corio_await(self->ret, corio_accept_retry,
				    self->svc->listen_fd, NULL, NULL,
				    SOCK_CLOEXEC);
		if (self->ret < 0) {
			if (!accept_retryable(self->ret)) {
				sample_service_stop(self->svc);
				corio_throw(self->ret);
			}
			if (self->ret != -ECONNABORTED &&
			    self->ret != -EINTR)
				corio_await_discard(corio_sleep, ACCEPT_PAUSE);
			continue;
		}
		self->fd = self->ret;
		self->ret = corio_spawn(corio_loop_current(),
					self->svc->ops->start_conn(
						self->svc->arg, self->fd),
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
		self->svc->accepted++;
	}
	corio_return(0);
corio_finally:
	/* An accepted fd whose result arrived as we were cancelled. */
	if (self->fd >= 0)
		close(self->fd);
	/* The acceptor first: its accept holds the listener open. */
	if (self->acc)
		corio_acceptor_close(self->acc);
	if (self->opened && self->svc->ops->close)
		self->svc->ops->close(self->svc->arg);
	if (self->svc->listen_fd >= 0) {
		close(self->svc->listen_fd);
		self->svc->listen_fd = -1;
	}
	corio_end();
}

void sample_service_init(struct sample_service *svc, int listen_fd,
			 const struct sample_service_ops *ops, void *arg)
{
	*svc = (struct sample_service){
		.listen_fd = listen_fd,
		.ops = ops,
		.arg = arg,
	};
	svc->conns.next = svc->conns.prev = &svc->conns;
}

int sample_service_start(struct sample_service *svc, struct corio_loop *loop)
{
	int ret;

	ret = corio_spawn(loop, accept_loop__start(NULL, svc, NULL),
			  &svc->accept_task);
	if (ret < 0) {
		close(svc->listen_fd);
		svc->listen_fd = -1;
	}
	return ret;
}

void sample_service_stop(struct sample_service *svc)
{
	struct corio_task *me = corio_current_task();
	struct sample_link *l;

	if (svc->stopping)
		return;
	svc->stopping = true;
	/* The caller itself sees @stopping and leaves on its own. */
	if (svc->accept_task && svc->accept_task != me)
		corio_task_cancel(svc->accept_task);
	if (svc->linked && svc->linked != me)
		corio_task_cancel(svc->linked);
	/* Cancelling only marks the tasks: none leaves the list yet. */
	for (l = svc->conns.next; l != &svc->conns; l = l->next)
		corio_task_cancel(l->task);
}

int sample_service_finish(struct sample_service *svc)
{
	int ret, status;

	if (!svc->accept_task)
		return 0;
	ret = corio_task_reap(svc->accept_task, &status);
	if (ret < 0)
		return ret;
	svc->accept_task = NULL;
	return status == -ECANCELED ? 0 : status;
}
