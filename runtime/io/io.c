/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/io.c - the awaitable I/O operations: each fills a backend-neutral
 * request and awaits it (corio__io_await, runtime/core/op.c).
 */
#define _GNU_SOURCE /* struct statx */
#include <errno.h>
#include <fcntl.h>	/* AT_FDCWD, AT_REMOVEDIR */
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "io/internal.h"
#include "reactor/reactor.h"

struct corio_frame *corio_read__start(struct corio_frame *parent, int fd,
				      void *buf, size_t len, int64_t off,
				      ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_READ,
		.fd = fd, .addr = buf, .len = len, .off = off },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_write__start(struct corio_frame *parent, int fd,
				       const void *buf, size_t len,
				       int64_t off, ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_WRITE,
		.fd = fd, .addr = (void *)buf, .len = len, .off = off },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_readv__start(struct corio_frame *parent, int fd,
				       const struct iovec *iov, int iovcnt,
				       int64_t off, ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_READV,
		.fd = fd, .addr = (void *)iov, .len = (uint64_t)iovcnt,
		.off = off }, result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_writev__start(struct corio_frame *parent, int fd,
					const struct iovec *iov, int iovcnt,
					int64_t off, ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_WRITEV,
		.fd = fd, .addr = (void *)iov, .len = (uint64_t)iovcnt,
		.off = off }, result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_recv__start(struct corio_frame *parent, int fd,
				      void *buf, size_t len, int flags,
				      ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_RECV,
		.fd = fd, .addr = buf, .len = len,
		.op_flags = (uint32_t)flags }, result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_send__start(struct corio_frame *parent, int fd,
				      const void *buf, size_t len, int flags,
				      ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_SEND,
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
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_ACCEPT,
		.fd = fd, .addr = addr, .addr2 = addrlen,
		.op_flags = (uint32_t)flags }, result, CORIO__RES_INT);
}

struct corio_frame *corio_connect__start(struct corio_frame *parent, int fd,
					 const struct sockaddr *addr,
					 socklen_t addrlen, int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_CONNECT,
		.fd = fd, .addr = (void *)addr, .len = addrlen },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_close__start(struct corio_frame *parent, int fd,
				       int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_CLOSE,
		.fd = fd }, result, CORIO__RES_INT);
}

struct corio_frame *corio_openat__start(struct corio_frame *parent, int dfd,
					const char *path, int flags,
					mode_t mode, int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_OPENAT,
		.fd = dfd, .addr = (void *)path, .op_flags = (uint32_t)flags,
		.mode = (uint32_t)mode }, result, CORIO__RES_INT);
}

struct corio_frame *corio_fsync__start(struct corio_frame *parent, int fd,
				       int datasync, int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_FSYNC,
		.fd = fd, .op_flags = datasync ? 1u : 0u },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_statx__start(struct corio_frame *parent, int dfd,
				       const char *path, int flags,
				       unsigned mask, struct statx *buf,
				       int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_STATX,
		.fd = dfd, .addr = (void *)path, .addr2 = buf,
		.op_flags = (uint32_t)flags, .mode = mask },
		result, CORIO__RES_INT);
}

struct corio_frame *corio_poll__start(struct corio_frame *parent, int fd,
				      unsigned events, int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_POLL,
		.fd = fd, .op_flags = events }, result, CORIO__RES_INT);
}

struct corio_frame *corio_recvmsg__start(struct corio_frame *parent, int fd,
					 struct msghdr *msg, int flags,
					 ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_RECVMSG,
		.fd = fd, .addr = msg, .op_flags = (uint32_t)flags },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_sendmsg__start(struct corio_frame *parent, int fd,
					 const struct msghdr *msg, int flags,
					 ssize_t *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_SENDMSG,
		.fd = fd, .addr = (void *)msg,
		.op_flags = (uint32_t)(flags | MSG_NOSIGNAL) },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_shutdown__start(struct corio_frame *parent, int fd,
					  int how, int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_SHUTDOWN,
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
	return corio__io_await(&(struct corio__io){ .opcode = (uint8_t)op,
		.fd = fd, .addr = (void *)buf, .len = len,
		.op_flags = (uint32_t)(flags | MSG_NOSIGNAL) },
		result, CORIO__RES_SSIZE);
}

struct corio_frame *corio_fallocate__start(struct corio_frame *parent, int fd,
					   int mode, int64_t off, int64_t len,
					   int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_FALLOCATE,
		.fd = fd, .off = off, .len = (uint64_t)len,
		.mode = (uint32_t)mode }, result, CORIO__RES_INT);
}

struct corio_frame *corio_unlinkat__start(struct corio_frame *parent, int dfd,
					  const char *path, int flags,
					  int *result)
{
	(void)parent;
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_UNLINKAT,
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
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_RENAMEAT,
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
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_MKDIRAT,
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
	return corio__io_await(&(struct corio__io){ .opcode = CORIO__OP_SPLICE,
		.fd = fd_in, .off = off_in, .fd2 = fd_out, .off2 = off_out,
		.len = len, .op_flags = flags }, result, CORIO__RES_SSIZE);
}
