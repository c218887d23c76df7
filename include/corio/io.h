/* SPDX-License-Identifier: MIT */
/*
 * corio/io.h - awaitable I/O operations on the loop's io_uring.
 *
 * Each operation is awaited like an async function, e.g. with the macro DSL
 *	corio_await(self->n, corio_read, self->fd, self->buf, sizeof self->buf, 0);
 * and its result is what the kernel returned: a count or a -errno.  The op
 * record lives in the awaiting task, so awaiting I/O allocates nothing.
 * Buffers and paths must stay valid until the operation completes; frame
 * fields do (the runtime never releases a frame whose operation the kernel
 * still owns: cancellation waits for the operation's own completion).
 * Offsets of -1 mean "the file position", as for read(2).
 */
#ifndef CORIO_IO_H
#define CORIO_IO_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

struct statx;

/* read(2)/pread(2): bytes read, 0 at end of file, or -errno. */
CORIO_EXTERN struct corio_frame *corio_read__start(struct corio_frame *parent,
	int fd, void *buf, size_t len, int64_t off, ssize_t *result);

/* write(2)/pwrite(2): bytes written (may be short), or -errno. */
CORIO_EXTERN struct corio_frame *corio_write__start(struct corio_frame *parent,
	int fd, const void *buf, size_t len, int64_t off, ssize_t *result);

/* preadv(2): bytes read, or -errno. */
CORIO_EXTERN struct corio_frame *corio_readv__start(struct corio_frame *parent,
	int fd, const struct iovec *iov, int iovcnt, int64_t off,
	ssize_t *result);

/* pwritev(2): bytes written, or -errno. */
CORIO_EXTERN struct corio_frame *corio_writev__start(
	struct corio_frame *parent, int fd, const struct iovec *iov,
	int iovcnt, int64_t off, ssize_t *result);

/*
 * corio_recv flag: wait for data before trying to receive, instead of
 * trying first.  Saves a failed attempt when data is known not to be there
 * yet, as right after sending a request.  Kernel 5.19 or later.
 */
#define CORIO_RECV_POLL_FIRST ((int)0x80000000u)

/* recv(2): bytes received, 0 when the peer closed, or -errno.  @flags are
 * MSG_* flags, and CORIO_RECV_POLL_FIRST. */
CORIO_EXTERN struct corio_frame *corio_recv__start(struct corio_frame *parent,
	int fd, void *buf, size_t len, int flags, ssize_t *result);

/* send(2), MSG_NOSIGNAL implied: bytes sent (may be short), or -errno. */
CORIO_EXTERN struct corio_frame *corio_send__start(struct corio_frame *parent,
	int fd, const void *buf, size_t len, int flags, ssize_t *result);

/* accept4(2): the new fd, or -errno.  @addr and @addrlen may be NULL. */
CORIO_EXTERN struct corio_frame *corio_accept__start(
	struct corio_frame *parent, int fd, struct sockaddr *addr,
	socklen_t *addrlen, int flags, int *result);

/* connect(2): 0 or -errno.  @addr must stay valid until completion. */
CORIO_EXTERN struct corio_frame *corio_connect__start(
	struct corio_frame *parent, int fd, const struct sockaddr *addr,
	socklen_t addrlen, int *result);

/*
 * close(2) that first cancels every operation in flight on @fd (so none can
 * stay blocked on it, and none completes against a later file that reuses
 * the number): 0 or -errno.
 */
CORIO_EXTERN struct corio_frame *corio_close__start(struct corio_frame *parent,
	int fd, int *result);

/* openat(2): the new fd, or -errno.  @path must stay valid. */
CORIO_EXTERN struct corio_frame *corio_openat__start(
	struct corio_frame *parent, int dfd, const char *path, int flags,
	mode_t mode, int *result);

/* fsync(2), or fdatasync(2) when @datasync: 0 or -errno. */
CORIO_EXTERN struct corio_frame *corio_fsync__start(struct corio_frame *parent,
	int fd, int datasync, int *result);

/* statx(2): 0 or -errno. */
CORIO_EXTERN struct corio_frame *corio_statx__start(struct corio_frame *parent,
	int dfd, const char *path, int flags, unsigned mask,
	struct statx *buf, int *result);

/* poll(2) on one fd: the ready events (POLLIN...), or -errno. */
CORIO_EXTERN struct corio_frame *corio_poll__start(struct corio_frame *parent,
	int fd, unsigned events, int *result);

/*
 * Async function: write all @len bytes at @off (advancing; -1 = file
 * position), retrying short writes.  Result: @len, or -errno of the failing
 * write (bytes already written are not reported).
 */
CORIO_EXTERN struct corio_frame *corio_write_all__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int64_t off, ssize_t *result);

/* Async function: send all @len bytes, retrying short sends. */
CORIO_EXTERN struct corio_frame *corio_send_all__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int flags, ssize_t *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_IO_H */
