/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/acceptor.c - one multishot accept serving many awaits.
 *
 * The accept is a reactor source: every connection it accepts arrives as
 * a completion with CORIO__CQE_MORE, goes to the first waiting task or
 * else into a queue, and a completion without CORIO__CQE_MORE means the
 * kernel ended the multishot (an error, or its own reasons): it is armed
 * again, after an error only when a task next asks, so a persistent error
 * (EMFILE) is reported once per await instead of spinning.
 *
 * Without the capability every await is one plain accept on the socket,
 * and the acceptor holds nothing the kernel uses.
 *
 * The acceptor is heap memory because the kernel's accept outlives a close
 * that may run in a cleanup section (which cannot await): a closed
 * acceptor frees itself when the final completion arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "corio.h"
#include "io/internal.h"
#include "reactor/reactor.h"

struct corio_acceptor {
	struct corio__source src;	/* first: on_cqe gets &src */
	struct corio__sync waiters;	/* tasks in accept_next (multishot) */
	int fd;				/* the listening socket */
	int flags;			/* SOCK_* of accepted fds */
	int *queue;			/* accepted, not taken: a ring */
	uint32_t head, count, cap;
	int error;			/* the multishot's error, to report
					 * to the next await, or 0 */
	bool multishot;			/* not the fallback */
	bool armed;			/* the multishot is in flight */
	bool closed;			/* corio_acceptor_close was called */
};

static void acceptor_free(struct corio_acceptor *acc)
{
	corio__free(acc->queue);
	corio__free(acc);
}

static int arm(struct corio_acceptor *acc)
{
	struct corio_loop *loop = acc->src.loop;
	int err;

	err = corio__source_start(loop, &acc->src,
		&(struct corio__io){ .opcode = CORIO__OP_ACCEPT_MULTI,
				     .fd = acc->fd,
				     .op_flags = (uint32_t)acc->flags });
	if (!err)
		acc->armed = true;
	return err;
}

/* Queue @fd for a later await; O(1) amortised. */
static void push_fd(struct corio_acceptor *acc, int fd)
{
	if (acc->count == acc->cap) {
		uint32_t cap = acc->cap ? acc->cap * 2 : 16, i;
		int *q = corio__malloc(sizeof(*q) * cap);

		if (!q) {
			/* The connection is lost either way; the client
			 * sees it closed rather than hanging. */
			close(fd);
			return;
		}
		for (i = 0; i < acc->count; i++)
			q[i] = acc->queue[(acc->head + i) % acc->cap];
		corio__free(acc->queue);
		acc->queue = q;
		acc->head = 0;
		acc->cap = cap;
	}
	acc->queue[(acc->head + acc->count++) % acc->cap] = fd;
}

static int pop_fd(struct corio_acceptor *acc)
{
	int fd = acc->queue[acc->head];

	acc->head = (acc->head + 1) % acc->cap;
	acc->count--;
	return fd;
}

/* Hand @res to the first waiting task; false if none waits. */
static bool give(struct corio_acceptor *acc, int res)
{
	struct corio_task *t = corio__sync_pop(&acc->waiters);

	if (!t)
		return false;
	corio__task_resume(acc->src.loop, t, res);
	return true;
}

static void on_cqe(struct corio__source *src, int32_t res, uint32_t flags,
		   uint16_t bid)
{
	struct corio_acceptor *acc = (struct corio_acceptor *)src;
	bool more = flags & CORIO__CQE_MORE;

	(void)bid;
	if (acc->closed) {
		if (res >= 0)
			close(res);
		if (!more) {
			acc->armed = false;
			if (!src->inflight)
				acceptor_free(acc);
		}
		return;
	}
	if (res >= 0) {
		if (!give(acc, res))
			push_fd(acc, res);
	} else if (res == -EINVAL && !more) {
		/* This kernel refuses multishot accept after all: the
		 * waiters get the error, later awaits a plain accept. */
		acc->multishot = false;
		while (give(acc, res))
			;
	} else if (corio_retry_delay(res, 0, 0) < 0) {	/* not transient */
		if (!give(acc, res))
			acc->error = res;
	}
	if (more)
		return;
	acc->armed = false;
	if (!acc->multishot)
		return;
	/* After an error, re-arm only for a task that waits (else on the
	 * next await): an error that persists must not spin. */
	if ((res >= 0 || acc->waiters.head) && (res = arm(acc)) < 0 &&
	    !give(acc, res))
		acc->error = res;
}

int corio_acceptor_open(struct corio_acceptor **out, int listen_fd, int flags)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_acceptor *acc;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!loop || listen_fd < 0 ||
	    (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)))
		return -EINVAL;
	acc = corio__malloc(sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	memset(acc, 0, sizeof(*acc));
	acc->src.on_cqe = on_cqe;
	acc->src.loop = loop;
	acc->fd = listen_fd;
	acc->flags = flags;
	acc->multishot = corio__net_caps(loop) & CORIO__CAP_ACCEPT_MULTI;
	if (acc->multishot) {
		err = arm(acc);
		if (err) {
			corio__free(acc);
			return err;
		}
	}
	/* Registered for reports: tasks waiting here show up by name. */
	corio__sync_register(&acc->waiters, CORIO_WAIT_IO, "accept_next",
			     "accept_next");
	*out = acc;
	return 0;
}

struct corio_frame *corio_accept_next__start(struct corio_frame *parent,
					     struct corio_acceptor *acc,
					     int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int err;

	/* The fallback holds nothing but the fd: a plain accept. */
	if (acc && !acc->closed && !acc->multishot)
		return corio_accept_retry__start(parent, acc->fd, NULL, NULL,
						 acc->flags, result);
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	if (!acc || acc->closed)
		return corio__op_done(t, -EINVAL);
	if (acc->count)
		return corio__op_done(t, pop_fd(acc));
	if (acc->error) {
		err = acc->error;
		acc->error = 0;
		return corio__op_done(t, err);
	}
	if (!acc->armed) {
		err = arm(acc);
		if (err)
			return corio__op_done(t, err);
	}
	/* Reports name the multishot op the task waits on. */
	t->op = CORIO__OP_ACCEPT_MULTI;
	return corio__sync_wait(&acc->waiters, t, NULL);
}

int corio_acceptor_close(struct corio_acceptor *acc)
{
	struct corio_loop *loop;

	if (!acc || acc->closed)
		return -EINVAL;
	if (acc->waiters.head)
		return -EBUSY;
	loop = acc->src.loop;
	acc->closed = true;
	corio__sync_unregister(&acc->waiters);
	while (acc->count)
		close(pop_fd(acc));
	if (!acc->armed) {
		acceptor_free(acc);
		return 0;
	}
	/* on_cqe frees it after the final completion. */
	corio__source_cancel(loop, &acc->src);
	return 0;
}

bool corio_acceptor_is_multishot(const struct corio_acceptor *acc)
{
	return acc && acc->multishot;
}
