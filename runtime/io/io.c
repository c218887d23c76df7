/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/io.c - the awaitable I/O operations: each fills a backend-neutral
 * request, hands it to the reactor on behalf of the calling task and
 * suspends the task until the completion arrives.
 */
#define _GNU_SOURCE /* struct statx */
#include <errno.h>
#include <fcntl.h>	/* AT_FDCWD, AT_REMOVEDIR */
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/internal.h"
#include "reactor/reactor.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CORIO__HAVE_VALGRIND 1
#endif

/* include/linux/errno.h: never meant for user space, yet seen there. */
#define KERNEL_ERESTARTSYS 512

static const char *const op_names[CORIO__OP_COUNT] = {
#define X(op, name, ...) [CORIO__OP_##op] = #name,
	CORIO__OPS(X)
#undef X
};

const char *corio__op_name(unsigned opcode)
{
	return opcode < CORIO__OP_COUNT ? op_names[opcode] : "?";
}

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

/* Start @io for the calling task and suspend it. */
static struct corio_frame *start_io(const struct corio__io *io, void *result,
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

struct corio_frame *corio_read__start(struct corio_frame *parent, int fd,
				      void *buf, size_t len, int64_t off,
				      ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_READ,
		.fd = fd, .addr = buf, .len = len, .off = off },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_write__start(struct corio_frame *parent, int fd,
				       const void *buf, size_t len,
				       int64_t off, ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_WRITE,
		.fd = fd, .addr = (void *)buf, .len = len, .off = off },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_readv__start(struct corio_frame *parent, int fd,
				       const struct iovec *iov, int iovcnt,
				       int64_t off, ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_READV,
		.fd = fd, .addr = (void *)iov, .len = (uint64_t)iovcnt,
		.off = off }, result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_writev__start(struct corio_frame *parent, int fd,
					const struct iovec *iov, int iovcnt,
					int64_t off, ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_WRITEV,
		.fd = fd, .addr = (void *)iov, .len = (uint64_t)iovcnt,
		.off = off }, result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_recv__start(struct corio_frame *parent, int fd,
				      void *buf, size_t len, int flags,
				      ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_RECV,
		.fd = fd, .addr = buf, .len = len,
		.op_flags = (uint32_t)flags }, result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_send__start(struct corio_frame *parent, int fd,
				      const void *buf, size_t len, int flags,
				      ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_SEND,
		.fd = fd, .addr = (void *)buf, .len = len,
		.op_flags = (uint32_t)(flags | MSG_NOSIGNAL) },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_accept__start(struct corio_frame *parent, int fd,
					struct sockaddr *addr,
					socklen_t *addrlen, int flags,
					int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_ACCEPT,
		.fd = fd, .addr = addr, .addr2 = addrlen,
		.op_flags = (uint32_t)flags }, result, CORIO__RES_INT);
}

struct corio_frame *corio_connect__start(struct corio_frame *parent, int fd,
					 const struct sockaddr *addr,
					 socklen_t addrlen, int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_CONNECT,
		.fd = fd, .addr = (void *)addr, .len = addrlen },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_close__start(struct corio_frame *parent, int fd,
				       int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_CLOSE,
		.fd = fd }, result, CORIO__RES_INT);
}

struct corio_frame *corio_openat__start(struct corio_frame *parent, int dfd,
					const char *path, int flags,
					mode_t mode, int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_OPENAT,
		.fd = dfd, .addr = (void *)path, .op_flags = (uint32_t)flags,
		.mode = (uint32_t)mode }, result, CORIO__RES_INT);
}

struct corio_frame *corio_fsync__start(struct corio_frame *parent, int fd,
				       int datasync, int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_FSYNC,
		.fd = fd, .op_flags = datasync ? 1u : 0u },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_statx__start(struct corio_frame *parent, int dfd,
				       const char *path, int flags,
				       unsigned mask, struct statx *buf,
				       int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_STATX,
		.fd = dfd, .addr = (void *)path, .addr2 = buf,
		.op_flags = (uint32_t)flags, .mode = mask },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_poll__start(struct corio_frame *parent, int fd,
				      unsigned events, int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_POLL,
		.fd = fd, .op_flags = events }, result, CORIO__RES_INT);
}

struct corio_frame *corio_recvmsg__start(struct corio_frame *parent, int fd,
					 struct msghdr *msg, int flags,
					 ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_RECVMSG,
		.fd = fd, .addr = msg, .op_flags = (uint32_t)flags },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_sendmsg__start(struct corio_frame *parent, int fd,
					 const struct msghdr *msg, int flags,
					 ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_SENDMSG,
		.fd = fd, .addr = (void *)msg,
		.op_flags = (uint32_t)(flags | MSG_NOSIGNAL) },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_shutdown__start(struct corio_frame *parent, int fd,
					  int how, int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_SHUTDOWN,
		.fd = fd, .op_flags = (uint32_t)how }, result, CORIO__RES_INT);
}

struct corio_frame *corio_send_zc__start(struct corio_frame *parent, int fd,
					 const void *buf, size_t len,
					 int flags, ssize_t *result)
{
	struct corio_loop *loop = corio__tls_loop;
	unsigned op = CORIO__OP_SEND_ZC;

	(void)parent;
	/* Without zero-copy a plain send has the same contract: the buffer
	 * is free again when the await returns. */
	if (!loop || !(corio__net_caps(loop) & CORIO__CAP_SEND_ZC))
		op = CORIO__OP_SEND;
	return start_io(&(struct corio__io){ .opcode = (uint8_t)op,
		.fd = fd, .addr = (void *)buf, .len = len,
		.op_flags = (uint32_t)(flags | MSG_NOSIGNAL) },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_fallocate__start(struct corio_frame *parent, int fd,
					   int mode, int64_t off, int64_t len,
					   int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_FALLOCATE,
		.fd = fd, .off = off, .len = (uint64_t)len,
		.mode = (uint32_t)mode }, result, CORIO__RES_INT);
}

struct corio_frame *corio_unlinkat__start(struct corio_frame *parent, int dfd,
					  const char *path, int flags,
					  int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_UNLINKAT,
		.fd = dfd, .addr = (void *)path,
		.op_flags = (uint32_t)flags }, result, CORIO__RES_INT);
}

struct corio_frame *corio_unlink__start(struct corio_frame *parent,
					const char *path, int *result)
{
	return corio_unlinkat__start(parent, AT_FDCWD, path, 0, result);
}

struct corio_frame *corio_rmdir__start(struct corio_frame *parent,
				       const char *path, int *result)
{
	return corio_unlinkat__start(parent, AT_FDCWD, path, AT_REMOVEDIR,
				     result);
}

/*
 * The second directory fd travels in .len, as the kernel's SQE carries it
 * (sqe->len); .len is 64 bits, so it goes through uint32_t both ways to
 * keep AT_FDCWD (-100) intact.
 */
struct corio_frame *corio_renameat__start(struct corio_frame *parent,
					  int olddfd, const char *oldpath,
					  int newdfd, const char *newpath,
					  unsigned flags, int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_RENAMEAT,
		.fd = olddfd, .addr = (void *)oldpath,
		.len = (uint32_t)newdfd, .addr2 = (void *)newpath,
		.op_flags = flags }, result, CORIO__RES_INT);
}

struct corio_frame *corio_rename__start(struct corio_frame *parent,
					const char *oldpath,
					const char *newpath, int *result)
{
	return corio_renameat__start(parent, AT_FDCWD, oldpath, AT_FDCWD,
				     newpath, 0, result);
}

struct corio_frame *corio_mkdirat__start(struct corio_frame *parent, int dfd,
					 const char *path, mode_t mode,
					 int *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_MKDIRAT,
		.fd = dfd, .addr = (void *)path, .mode = (uint32_t)mode },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_mkdir__start(struct corio_frame *parent,
				       const char *path, mode_t mode,
				       int *result)
{
	return corio_mkdirat__start(parent, AT_FDCWD, path, mode, result);
}

struct corio_frame *corio_splice__start(struct corio_frame *parent,
					int fd_in, int64_t off_in, int fd_out,
					int64_t off_out, size_t len,
					unsigned flags, ssize_t *result)
{
	(void)parent;
	return start_io(&(struct corio__io){ .opcode = CORIO__OP_SPLICE,
		.fd = fd_in, .off = off_in, .fd2 = fd_out, .off2 = off_out,
		.len = len, .op_flags = flags }, result, CORIO__RES_SSIZE);
}
