/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/op.c - a task awaiting one reactor operation: start it on
 * the task's behalf and suspend the task, take its completion, cancel it.
 * The awaitable operations themselves (runtime/io/io.c) only fill the
 * request.
 */
#define _GNU_SOURCE /* struct statx */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "core/internal.h"
#include "core/trace.h"
#include "reactor/reactor.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CORIO__HAVE_VALGRIND 1
#endif

/* include/linux/errno.h: never meant for user space, yet seen there. */
#define KERNEL_ERESTARTSYS 512

/*
 * The operations that work on io->fd as an open file (target FD in
 * opdef.h), so that close must cancel them first; the others take a
 * directory fd (openat, statx, the path operations) or none.
 */
#define FD_BIT_FD(op)		(1ull << CORIO__OP_##op)
#define FD_BIT_PATH(op)		0ull
#define FD_BIT_OTHER(op)	0ull
#define X(op, name, target, ...) | FD_BIT_##target(op)
static const uint64_t fd_ops = 0 CORIO__OPS(X);
#undef X
_Static_assert(CORIO__OP_COUNT <= 64, "fd_ops holds a bit per opcode");

static bool uses_fd(unsigned opcode)
{
	return fd_ops >> opcode & 1;
}

/*
 * Count an operation in flight on @fd, so that closing an fd with nothing
 * in flight skips the cancel request: the kernel serves a cancel by fd by
 * scanning every request in flight on the ring, which costs real time on a
 * server with thousands of connections.
 */
static bool fd_ops_inc(struct corio_loop *loop, int fd)
{
	if (fd < 0)
		return false;
	if (corio__unlikely((uint32_t)fd >= loop->fd_ops_len) &&
	    corio__grow((void **)&loop->fd_ops, &loop->fd_ops_len,
			sizeof(*loop->fd_ops), (uint32_t)fd, 256)) {
		loop->fd_ops_lossy = true;
		return false;
	}
	loop->fd_ops[fd]++;
	return true;
}

static bool close_needs_cancel(const struct corio_loop *loop, int fd)
{
	if (loop->fd_ops_lossy)
		return true;
	return fd >= 0 && (uint32_t)fd < loop->fd_ops_len &&
	       loop->fd_ops[fd] > 0;
}

/*
 * The kernel writes read buffers through io_uring, where valgrind cannot
 * see it: tell memcheck the memory an operation may fill is defined, so
 * programs that read it are not reported.  No-ops outside valgrind.
 */
static void kernel_fills(const struct corio__io *io)
{
#ifdef CORIO__HAVE_VALGRIND
	/* The fill column of opdef.h. */
	enum { FILL_NONE, FILL_BUF, FILL_IOV, FILL_SOCKADDR, FILL_STATX };
	static const uint8_t fills[CORIO__OP_COUNT] = {
#define X(op, name, target, faults, fill, ...) [CORIO__OP_##op] = FILL_##fill,
		CORIO__OPS(X)
#undef X
	};
	const struct iovec *iov = io->addr;
	uint64_t i;

	switch (fills[io->opcode]) {
	case FILL_BUF:
		VALGRIND_MAKE_MEM_DEFINED(io->addr, io->len);
		break;
	case FILL_IOV:
		for (i = 0; i < io->len; i++)
			VALGRIND_MAKE_MEM_DEFINED(iov[i].iov_base,
						  iov[i].iov_len);
		break;
	case FILL_SOCKADDR:
		if (io->addr && io->addr2)
			VALGRIND_MAKE_MEM_DEFINED(io->addr,
				*(socklen_t *)io->addr2);
		break;
	case FILL_STATX:
		VALGRIND_MAKE_MEM_DEFINED(io->addr2, sizeof(struct statx));
		break;
	default:
		break;
	}
#else
	(void)io;
#endif
}

struct corio_frame *corio__io_await(const struct corio__io *io, void *result,
				    enum corio__result_kind kind)
{
	struct corio_frame *early;
	struct corio_loop *loop;
	struct corio_task *t;
	int err;

	early = corio__op_prologue(&t, result, kind);
	if (early)
		return early;
	if (corio__op_expired(t))
		return CORIO_READY;
	loop = corio__tls_loop;
	/* Arm the deadline first: once the op is in flight, a failure here
	 * could no longer be reported. */
	if (t->deadline != CORIO_NO_DEADLINE) {
		err = corio__timer_arm(loop, t, t->deadline);
		if (err)
			goto fail;
	}
	if (io->opcode == CORIO__OP_CLOSE &&
	    close_needs_cancel(loop, io->fd)) {
		struct corio__io c = *io;

		c.op_flags = CORIO__CLOSE_CANCEL_FIRST;
		loop->stats.cancels++;
		err = corio__reactor_start(loop->reactor,
					   (uint64_t)(uintptr_t)t, &c);
	} else {
		err = corio__reactor_start(loop->reactor,
					   (uint64_t)(uintptr_t)t, io);
	}
	if (err) {
		corio__timer_disarm(loop, t);
		goto fail;
	}
	loop->stats.ops_inflight++;
	corio__trace_io(loop, t, io);
	t->on.fd_counted = 0;
	if (uses_fd(io->opcode) && fd_ops_inc(loop, io->fd))
		t->on.fd_counted = (intptr_t)io->fd + 1;
	kernel_fills(io);
	t->op = io->opcode;
	corio__task_suspend(t, CORIO__WAIT_IO);
	return CORIO_SUSPENDED;
fail:
	return corio__op_done(t, err);
}

void corio__io_complete(struct corio_loop *loop, struct corio_task *t,
			int32_t res)
{
	assert(t->state == CORIO__WAITING && t->wait == CORIO__WAIT_IO);
	if (t->on.fd_counted) {
		loop->fd_ops[t->on.fd_counted - 1]--;
		t->on.fd_counted = 0;
	}
	if (corio__unlikely(t->flags & CORIO__T_CANCEL_SENT)) {
		/* An operation blocked in a kernel worker (splice) is ended by
		 * the cancel interrupting it: -EINTR, or the kernel-internal
		 * -ERESTARTSYS that io_uring lets through for splice (6.x).
		 * Either is the cancel's -ECANCELED. */
		if (res == -EINTR || res == -KERNEL_ERESTARTSYS)
			res = -ECANCELED;
		/* A cancel that lost the race delivers the real result
		 * instead: data that was read is never silently dropped. */
		if ((t->flags & CORIO__T_TIMED_OUT) && res == -ECANCELED)
			res = -ETIME;
	}
	t->flags &= (uint8_t)~(CORIO__T_TIMED_OUT | CORIO__T_CANCEL_SENT);
	/* A cancelled task unwinds only when its operation did not take
	 * effect: bytes moved, an fd accepted or opened, a file renamed
	 * (any result >= 0) are its to see, and the cancellation waits for
	 * its next await. */
	if (corio__unlikely(t->flags & CORIO__T_CANCELLED) && res < 0)
		corio__task_resume_unwind(loop, t);
	else
		corio__task_resume(loop, t, res);
}

/*
 * SEND_ZC completes twice: first its result (more to come), then the
 * notification that the kernel no longer reads the buffer.  The result
 * waits in the task's slot; the notification wakes the task with it.
 */
void corio__io_more(struct corio_loop *loop, struct corio_task *t,
		    int32_t res)
{
	(void)loop;
	corio__task_deliver(t, res);
}

void corio__io_notified(struct corio_loop *loop, struct corio_task *t)
{
	int64_t res = 0;

	if (t->result && t->result_kind == CORIO__RES_SSIZE)
		res = *(ssize_t *)t->result;
	corio__io_complete(loop, t, (int32_t)res);
}

void corio__io_cancel(struct corio_loop *loop, struct corio_task *t,
		      bool deadline)
{
	corio__timer_disarm(loop, t);
	if (t->flags & CORIO__T_CANCEL_SENT)
		return;
	t->flags |= CORIO__T_CANCEL_SENT;
	if (deadline)
		t->flags |= CORIO__T_TIMED_OUT;
	loop->stats.cancels++;
	corio__reactor_cancel(loop->reactor, (uint64_t)(uintptr_t)t);
}

