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
 * position), retrying short writes and transient failures (see
 * corio_retry_delay).  Result: @len, or -errno of the failing write (bytes
 * already written are not reported).  Like every loop of several
 * operations, it is not atomic under cancellation: a task cancelled
 * between two pieces unwinds with part of @buf written.  Cancel a task
 * inside it only when the stream is being abandoned; the same holds for
 * corio_send_all and corio_recv_exact.
 */
CORIO_EXTERN struct corio_frame *corio_write_all__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int64_t off, ssize_t *result);

/* Async function: send all @len bytes, retrying short sends and transient
 * failures (see corio_retry_delay).  Result: @len or -errno. */
CORIO_EXTERN struct corio_frame *corio_send_all__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int flags, ssize_t *result);

/*
 * ---- retrying transient failures -----------------------------------
 *
 * A single operation can fail for a moment and work when tried again, as
 * read(2) and recv(2) can: -EINTR, -EAGAIN on a call meant to wait,
 * -ENOBUFS, and an -ECANCELED that nobody asked for.  Cancelling the task
 * never shows as -ECANCELED (the task unwinds) and a deadline shows as
 * -ETIME, so an operation's own -ECANCELED means the kernel, or a
 * corio_close() of its fd by another task, cancelled it: it did not run.
 * The helpers below, corio_write_all, corio_send_all, corio_recv_exact,
 * acceptors and readers retry these; CORIO_FAULTS (corio/loop.h) injects
 * them to test code that does its own retrying.
 */

/*
 * How long to wait before retrying an operation that failed with @res on
 * attempt @attempt (0 for the first): 0 to retry at once (-EINTR,
 * -ECANCELED, the first -EAGAIN or -ENOBUFS), a back-off in nanoseconds
 * doubling from 20 us to 5 ms for repeated -EAGAIN and -ENOBUFS, or -1 when
 * @res is a result to return (anything else; -EAGAIN too when @flags has
 * MSG_DONTWAIT: the caller asked not to wait).
 */
CORIO_EXTERN int64_t corio_retry_delay(ssize_t res, unsigned attempt,
				       int flags);

/*
 * Async functions: corio_recv, corio_send, corio_read, corio_write and
 * corio_accept retried while corio_retry_delay() says so.  Results as the
 * operation's, or -ETIME when the task's deadline passes during a
 * back-off.  corio_accept_retry restores *@addrlen before each attempt.
 */
CORIO_EXTERN struct corio_frame *corio_recv_retry__start(
	struct corio_frame *parent, int fd, void *buf, size_t len, int flags,
	ssize_t *result);
CORIO_EXTERN struct corio_frame *corio_send_retry__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int flags, ssize_t *result);
CORIO_EXTERN struct corio_frame *corio_read_retry__start(
	struct corio_frame *parent, int fd, void *buf, size_t len,
	int64_t off, ssize_t *result);
CORIO_EXTERN struct corio_frame *corio_write_retry__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int64_t off, ssize_t *result);
CORIO_EXTERN struct corio_frame *corio_accept_retry__start(
	struct corio_frame *parent, int fd, struct sockaddr *addr,
	socklen_t *addrlen, int flags, int *result);

/*
 * splice(2): move up to @len bytes from @fd_in to @fd_out inside the
 * kernel, without copying them through user memory; one of the two must
 * be a pipe.  @off_in and @off_out are offsets in a file end (-1: the
 * file position, which moves); a pipe end takes -1.  @flags: SPLICE_F_MOVE
 * and SPLICE_F_MORE as for splice(2); the task waits for the pipe, never
 * the loop, and SPLICE_F_NONBLOCK asks it not to (-EAGAIN instead).
 * Bytes moved (0 at end of input, or with @len 0), or -errno: -EINVAL
 * (neither fd a pipe, an unknown flag, a negative offset, a file not
 * open for the direction), -EBADF, -ESPIPE (an offset on a pipe), -EAGAIN
 * (SPLICE_F_NONBLOCK), -EPIPE, -EOPNOTSUPP (a kernel before 5.7 on
 * io_uring).  A corio_close() of @fd_in cancels a splice in flight.
 */
CORIO_EXTERN struct corio_frame *corio_splice__start(
	struct corio_frame *parent, int fd_in, int64_t off_in, int fd_out,
	int64_t off_out, size_t len, unsigned flags, ssize_t *result);

/*
 * ---- files and directories by path ----------------------------------
 *
 * These go through io_uring like the rest (kernel 5.6 for fallocate, 5.11
 * for unlinkat and renameat, 5.15 for mkdirat).  The runtime asks the
 * kernel which operations it supports the first time one of them is used;
 * on a kernel without one the result is -EOPNOTSUPP rather than the
 * kernel's ambiguous -EINVAL.  Paths must stay valid until completion.
 */

/*
 * fallocate(2): allocate (or with @mode FALLOC_FL_PUNCH_HOLE etc. punch,
 * zero, collapse) the byte range [@off, @off + @len) of @fd.  0 or -errno:
 * -EINVAL (@off < 0, @len <= 0, a bad @mode), -EBADF (@fd not open for
 * writing), -EOPNOTSUPP (the file system does not do @mode), -ENOSPC.
 */
CORIO_EXTERN struct corio_frame *corio_fallocate__start(
	struct corio_frame *parent, int fd, int mode, int64_t off,
	int64_t len, int *result);

/*
 * unlinkat(2): remove @path relative to directory fd @dfd (AT_FDCWD for
 * the working directory); with @flags AT_REMOVEDIR, remove an empty
 * directory instead.  0 or -errno: -ENOENT, -EISDIR (a directory without
 * AT_REMOVEDIR), -ENOTDIR (AT_REMOVEDIR on a file), -ENOTEMPTY, -EINVAL
 * (an unknown flag), -EACCES.
 */
CORIO_EXTERN struct corio_frame *corio_unlinkat__start(
	struct corio_frame *parent, int dfd, const char *path, int flags,
	int *result);

/* unlink(2): corio_unlinkat(AT_FDCWD, @path, 0). */
CORIO_EXTERN struct corio_frame *corio_unlink__start(
	struct corio_frame *parent, const char *path, int *result);

/* rmdir(2): corio_unlinkat(AT_FDCWD, @path, AT_REMOVEDIR). */
CORIO_EXTERN struct corio_frame *corio_rmdir__start(
	struct corio_frame *parent, const char *path, int *result);

/*
 * renameat2(2): rename @oldpath (relative to @olddfd) to @newpath
 * (relative to @newdfd), atomically replacing @newpath unless @flags say
 * otherwise: RENAME_NOREPLACE fails with -EEXIST if @newpath exists,
 * RENAME_EXCHANGE swaps the two (both must exist).  0 or -errno: -ENOENT,
 * -EEXIST, -EINVAL (unknown or conflicting flags, a directory into
 * itself), -EXDEV (different file systems), -ENOTEMPTY, -EISDIR, -ENOTDIR.
 */
CORIO_EXTERN struct corio_frame *corio_renameat__start(
	struct corio_frame *parent, int olddfd, const char *oldpath,
	int newdfd, const char *newpath, unsigned flags, int *result);

/* rename(2): corio_renameat(AT_FDCWD, @oldpath, AT_FDCWD, @newpath, 0). */
CORIO_EXTERN struct corio_frame *corio_rename__start(
	struct corio_frame *parent, const char *oldpath, const char *newpath,
	int *result);

/*
 * mkdirat(2): create directory @path relative to @dfd with permissions
 * @mode (less the umask).  0 or -errno: -EEXIST, -ENOENT (a missing
 * parent), -ENOTDIR, -EACCES, -ENOSPC.
 */
CORIO_EXTERN struct corio_frame *corio_mkdirat__start(
	struct corio_frame *parent, int dfd, const char *path, mode_t mode,
	int *result);

/* mkdir(2): corio_mkdirat(AT_FDCWD, @path, @mode). */
CORIO_EXTERN struct corio_frame *corio_mkdir__start(
	struct corio_frame *parent, const char *path, mode_t mode,
	int *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_IO_H */
