/* SPDX-License-Identifier: MIT */
/*
 * corio/net.h - sockets: message and shutdown operations, listening and
 * connecting helpers, a multishot acceptor, buffer-ring readers and
 * zero-copy send.
 *
 * A server in a few lines (macro DSL):
 *
 *	self->lfd = corio_tcp_listen("::", 8080, NULL);       // dual-stack
 *	corio_acceptor_open(&self->acc, self->lfd, SOCK_CLOEXEC);
 *	for (;;) {
 *		corio_await(self->fd, corio_accept_next, self->acc);
 *		if (self->fd < 0)
 *			break;
 *		corio_spawn(loop, serve__start(NULL, self->fd, NULL), NULL);
 *	}
 *	corio_acceptor_close(self->acc);
 *
 * The acceptor and the readers use multishot operations and a provided
 * buffer ring when the loop's backend has them (io_uring on Linux 6.0 or
 * later), and fall back to one accept or recv per await otherwise (another
 * backend, an older kernel, or CORIO_LOOP_NO_MULTISHOT): same results,
 * more system calls.
 *
 * Addresses are numeric only (inet_pton: "127.0.0.1", "::1", "::"); name
 * resolution blocks and belongs on a worker thread (corio_blocking).
 * Everything here runs on the loop's thread only.
 */
#ifndef CORIO_NET_H
#define CORIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Operations (awaitable, one system call's worth each).                  */

/* recvmsg(2): bytes received, 0 when the peer closed, or -errno.  @msg and
 * everything it points to must stay valid until completion. */
CORIO_EXTERN struct corio_frame *corio_recvmsg__start(
	struct corio_frame *parent, int fd, struct msghdr *msg, int flags,
	ssize_t *result);

/* sendmsg(2), MSG_NOSIGNAL implied: bytes sent, or -errno. */
CORIO_EXTERN struct corio_frame *corio_sendmsg__start(
	struct corio_frame *parent, int fd, const struct msghdr *msg,
	int flags, ssize_t *result);

/* shutdown(2) with @how SHUT_RD, SHUT_WR or SHUT_RDWR: 0 or -errno
 * (-ENOTCONN on a socket that is not connected). */
CORIO_EXTERN struct corio_frame *corio_shutdown__start(
	struct corio_frame *parent, int fd, int how, int *result);

/*
 * Async function: recvfrom(2).  Bytes received, or -errno.  When @addr is
 * not NULL the sender's address is stored there and *@addrlen (in: its
 * size) becomes its length.
 */
CORIO_EXTERN struct corio_frame *corio_recvfrom__start(
	struct corio_frame *parent, int fd, void *buf, size_t len, int flags,
	struct sockaddr *addr, socklen_t *addrlen, ssize_t *result);

/* Async function: sendto(2), MSG_NOSIGNAL implied: bytes sent, or -errno. */
CORIO_EXTERN struct corio_frame *corio_sendto__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int flags, const struct sockaddr *addr, socklen_t addrlen,
	ssize_t *result);

/*
 * send(2) without copying @buf into the kernel (MSG_ZEROCOPY semantics):
 * the await returns only once the kernel is done with @buf, so the buffer
 * may be reused at once.  Bytes sent (may be short), or -errno.  It can
 * pay off only for large sends through a real NIC: over loopback it was
 * slower than a plain send at 4 KiB, 64 KiB and 1 MiB (bench/net_send.c),
 * which is why corio_send_all does not use it.  Without kernel support it
 * is a plain send.
 */
CORIO_EXTERN struct corio_frame *corio_send_zc__start(
	struct corio_frame *parent, int fd, const void *buf, size_t len,
	int flags, ssize_t *result);

/* ---------------------------------------------------------------------- */
/* Addresses and sockets (synchronous: none of these calls blocks).        */

/*
 * Fill *@ss and *@len from a numeric IPv4 or IPv6 address and a port.
 * Returns 0, or -EINVAL: @host is NULL or not a numeric address, @port is
 * outside 0..65535.
 */
CORIO_EXTERN int corio_sockaddr_parse(const char *host, int port,
				      struct sockaddr_storage *ss,
				      socklen_t *len);

struct corio_listen_opts {
	int backlog;		/* listen(2) backlog; 0 = SOMAXCONN */
	unsigned flags;		/* CORIO_LISTEN_* */
};

/* Also set SO_REUSEPORT: several sockets share the port (one per loop). */
#define CORIO_LISTEN_REUSEPORT	0x1u
/* Do not set SO_REUSEADDR (set by default, so a restart can bind at once). */
#define CORIO_LISTEN_NO_REUSEADDR 0x2u
/* IPv6 only: "::" then refuses IPv4 (it is dual-stack by default). */
#define CORIO_LISTEN_V6ONLY	0x4u

/*
 * A listening TCP socket bound to numeric @host ("0.0.0.0", "::" for every
 * IPv6 and IPv4 address, "::1"...) and @port (0: the kernel picks; see
 * corio_socket_port).  @opts may be NULL.  Returns the fd (close-on-exec),
 * or -EINVAL (bad address, port or flags), or the -errno of socket, bind
 * or listen (-EADDRINUSE...).
 */
CORIO_EXTERN int corio_tcp_listen(const char *host, int port,
				  const struct corio_listen_opts *opts);

/*
 * A listening Unix stream socket at @path; a leading '@' names an abstract
 * socket (Linux: no file).  A file at @path is not removed first: that
 * gives -EADDRINUSE.  Returns the fd, or -EINVAL (empty path),
 * -ENAMETOOLONG (longer than sun_path allows), or the -errno of socket,
 * bind or listen.
 */
CORIO_EXTERN int corio_unix_listen(const char *path,
				   const struct corio_listen_opts *opts);

/* A UDP socket bound to @host and @port (as corio_tcp_listen; backlog is
 * ignored).  Returns the fd or -errno. */
CORIO_EXTERN int corio_udp_bind(const char *host, int port,
				const struct corio_listen_opts *opts);

/* The local port @fd is bound to, or -errno (-EINVAL: not IPv4/IPv6). */
CORIO_EXTERN int corio_socket_port(int fd);

/* ---------------------------------------------------------------------- */
/* Connecting and receiving (async functions).                            */

/*
 * Async function: a TCP connection to numeric @host and @port, waiting at
 * most @timeout_ns (<= 0: no limit of its own).  The timeout composes with
 * the task's deadline (corio_deadline_set): whichever comes first applies,
 * and the caller's deadline is restored before returning.  Result: the
 * connected fd (close-on-exec), or -EINVAL (bad address or port),
 * -ETIMEDOUT (@timeout_ns passed), -ETIME (the task's own deadline passed
 * first), -ECONNREFUSED or another -errno from socket or connect.
 */
CORIO_EXTERN struct corio_frame *corio_tcp_connect__start(
	struct corio_frame *parent, const char *host, int port,
	int64_t timeout_ns, int *result);

/* Async function: a connected Unix stream socket to @path ('@' prefix:
 * abstract).  The fd, or the errors of corio_unix_listen and connect(2). */
CORIO_EXTERN struct corio_frame *corio_unix_connect__start(
	struct corio_frame *parent, const char *path, int *result);

/*
 * Async function: receive exactly @len bytes into @buf, retrying short
 * receives.  Result: @len; 0 when the peer closed before the first byte
 * (a clean end between messages); -ECONNRESET when it closed after some
 * but not all bytes (those stay in @buf, uncounted: a truncated message is
 * an error, not data); or the -errno of recv.  Not atomic under
 * cancellation (see corio_write_all): a task cancelled with a message
 * half received unwinds, and the stream's position is then unknown.
 */
CORIO_EXTERN struct corio_frame *corio_recv_exact__start(
	struct corio_frame *parent, int fd, void *buf, size_t len,
	ssize_t *result);

/* ---------------------------------------------------------------------- */
/* Acceptor: one multishot accept serving many awaits.                    */

struct corio_acceptor;

/*
 * Start accepting connections on listening socket @listen_fd; @flags
 * (SOCK_CLOEXEC, SOCK_NONBLOCK) apply to the accepted fds.  With
 * multishot accept, connections are accepted as they arrive and queue in
 * the acceptor until corio_accept_next takes them (the queue grows while
 * nobody takes them; the kernel's backlog no longer limits it).  A closed
 * acceptor must not be used again.  @listen_fd stays the
 * caller's: close it after corio_acceptor_close.  Returns 0 and stores the
 * acceptor in *@out, or -EINVAL (no loop on this thread, bad flags or fd),
 * -ENOMEM, or the -errno of starting the accept.
 */
CORIO_EXTERN int corio_acceptor_open(struct corio_acceptor **out,
				     int listen_fd, int flags);

/*
 * Awaitable: the next accepted connection's fd, or -errno: the accept's
 * error (-EMFILE, ...; the acceptor keeps working after it), -ETIME past
 * the task's deadline, -EINVAL for a NULL acceptor.  Several tasks may
 * wait: they are served in order.  Cancel-safe: an fd handed to a task
 * cancelled before it ran is returned all the same (close it in cleanup).
 */
CORIO_EXTERN struct corio_frame *corio_accept_next__start(
	struct corio_frame *parent, struct corio_acceptor *acc, int *result);

/*
 * Stop accepting: closes the connections accepted but not taken and
 * cancels the multishot accept.  The acceptor's memory is released when
 * the kernel has ended the accept (at the latest in corio_loop_destroy),
 * so close it before the loop.  Returns 0, -EINVAL (NULL), or -EBUSY while
 * a task awaits corio_accept_next on it (cancel that task first).
 */
CORIO_EXTERN int corio_acceptor_close(struct corio_acceptor *acc);

/* ---------------------------------------------------------------------- */
/* Buffer pools and readers: multishot recv into kernel-picked buffers.   */

/*
 * A pool of @nbufs buffers of @buf_size bytes that the kernel fills as
 * data arrives on any reader using the pool (a provided buffer ring).
 * Share one pool between many connections: memory then follows the data
 * in flight, not the number of connections.  Without buffer rings (the
 * epoll backend, CORIO_LOOP_NO_MULTISHOT) a borrow waits for data with no
 * buffer, then receives into one of @buf_size bytes allocated for it, and
 * freed at its release: memory follows the data there too.
 */
struct corio_bufpool;

/*
 * Create a pool.  @nbufs is a power of two from 1 to 32768, @buf_size
 * from 1 to 1 GiB.  Returns 0 and stores the pool, or -EINVAL (bad sizes,
 * no loop on this thread), -ENOMEM, or the -errno of registering it.
 */
CORIO_EXTERN int corio_bufpool_create(struct corio_bufpool **out,
				      unsigned nbufs, unsigned buf_size);

/*
 * Release the pool once its last reader is closed and its last borrowed
 * buffer released (now, if none is left); call before corio_loop_destroy.
 * Returns 0 or -EINVAL (NULL, or already destroyed).
 */
CORIO_EXTERN int corio_bufpool_destroy(struct corio_bufpool *pool);

/* A buffer lent by corio_reader_borrow, until corio_buf_release. */
struct corio_buf {
	const char *data;		/* public, read-only */
	size_t len;			/* public, read-only: bytes at @data */
	struct corio_bufpool *pool;	/* private */
	void *mem;			/* private: fallback allocation */
	int bid;			/* private: buffer id, or -1 */
};

struct corio_reader;

/*
 * Read connected socket @fd through @pool.  The reader starts receiving
 * at once; data waits in the pool's buffers until read.  @fd stays the
 * caller's (close it after corio_reader_close).  Returns 0 and stores the
 * reader, or -EINVAL (NULL pool, destroyed pool, no loop), -ENOMEM, or
 * the -errno of starting the receive.
 */
CORIO_EXTERN int corio_reader_open(struct corio_reader **out, int fd,
				   struct corio_bufpool *pool);

/*
 * Awaitable: copy up to @len received bytes into @buf, as recv(2) would;
 * what is left of a buffer is kept for the next read.  Result: bytes
 * copied, 0 at end of stream, -errno of the receive (once the data before
 * it was read), -EBUSY when another task already waits on the reader,
 * -EINVAL (NULL reader, @len 0), -ETIME past the task's deadline.
 * Running out of pool buffers is not an error: receiving resumes when
 * buffers come back (read, released, or another reader closed).
 * Cancel-safe: bytes copied for a task cancelled before it ran are
 * returned all the same; the cancellation takes effect at its next await.
 */
CORIO_EXTERN struct corio_frame *corio_reader_read__start(
	struct corio_frame *parent, struct corio_reader *rd, void *buf,
	size_t len, ssize_t *result);

/*
 * Awaitable: borrow the next received chunk without copying: @buf->data
 * and @buf->len describe it until corio_buf_release(@buf), which the
 * caller must call (the buffer is unavailable to the kernel meanwhile).
 * Result: @buf->len (> 0), 0 at end of stream (nothing to release), or the
 * errors of corio_reader_read.
 */
CORIO_EXTERN struct corio_frame *corio_reader_borrow__start(
	struct corio_frame *parent, struct corio_reader *rd,
	struct corio_buf *buf, ssize_t *result);

/* Give a borrowed buffer back to its pool; @buf is cleared.  A cleared or
 * zeroed @buf is ignored. */
CORIO_EXTERN void corio_buf_release(struct corio_buf *buf);

/*
 * Stop reading: cancels the receive and returns the buffers received but
 * not read.  Memory is released when the kernel has ended the receive.
 * Buffers borrowed from the reader stay valid until released.  Returns 0,
 * -EINVAL (NULL), or -EBUSY while a task awaits the reader.
 */
CORIO_EXTERN int corio_reader_close(struct corio_reader *rd);

/* Does @rd use multishot receive into the pool (not the fallback)? */
CORIO_EXTERN bool corio_reader_is_multishot(const struct corio_reader *rd);

/* Does @acc use a multishot accept (not the fallback)? */
CORIO_EXTERN bool corio_acceptor_is_multishot(const struct corio_acceptor *acc);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_NET_H */
