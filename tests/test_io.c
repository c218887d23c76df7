/* SPDX-License-Identifier: MIT */
/*
 * tests/test_io.c - the awaitable operations against real files, pipes and
 * sockets; errors delivered to the awaiting task; cancellation that waits
 * for the kernel to give the buffer back; close cancelling an fd's
 * operations; a full submission queue and an overflowing completion queue.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <corio/async.h>

static void make_pipe(int fds[2])
{
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
}

/* ---- pipes: write then read ------------------------------------------ */

corio_async(int, pipe_roundtrip, ((int, rfd), (int, wfd)), (
	char buf[32];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_write, self->wfd, "hello", 5, -1);
	cr_assert_eq(self->n, 5);
	corio_await(self->n, corio_read, self->rfd, self->buf,
		    sizeof self->buf, -1);
	cr_assert_eq(self->n, 5);
	cr_assert_eq(memcmp(self->buf, "hello", 5), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(io, pipe_write_then_read, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int fds[2], r = -1;

	make_pipe(fds);
	corio_spawn(loop, pipe_roundtrip__start(NULL, fds[0], fds[1], &r),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

/* ---- files: openat, vectored I/O at offsets, fsync, statx, close ---- */

corio_async(int, file_ops, ((const char *, path)), (
	int fd, r;
	ssize_t n;
	struct iovec iov[2];
	char a[4], b[6];
	struct statx st;
))
{
	corio_begin();
	corio_await(self->fd, corio_openat, AT_FDCWD, self->path,
		    O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(self->fd, 0, "openat: %s", corio_strerror(self->fd));
	self->iov[0] = (struct iovec){ (void *)(uintptr_t)"abcd", 4 };
	self->iov[1] = (struct iovec){ (void *)(uintptr_t)"efghij", 6 };
	corio_await(self->n, corio_writev, self->fd, self->iov, 2, 100);
	cr_assert_eq(self->n, 10);
	corio_await(self->r, corio_fsync, self->fd, 0);
	cr_assert_eq(self->r, 0);
	corio_await(self->r, corio_fsync, self->fd, 1);
	cr_assert_eq(self->r, 0);
	corio_await(self->r, corio_statx, AT_FDCWD, self->path, 0,
		    STATX_SIZE, &self->st);
	cr_assert_eq(self->r, 0);
	cr_assert_eq(self->st.stx_size, 110);
	self->iov[0] = (struct iovec){ self->b, 6 };
	self->iov[1] = (struct iovec){ self->a, 4 };
	corio_await(self->n, corio_readv, self->fd, self->iov, 2, 100);
	cr_assert_eq(self->n, 10);
	cr_assert_eq(memcmp(self->b, "abcdef", 6), 0);
	cr_assert_eq(memcmp(self->a, "ghij", 4), 0);
	corio_await(self->n, corio_read, self->fd, self->a, 4, 0);
	cr_assert_eq(self->n, 4, "a hole reads as zeros");
	cr_assert_eq(self->a[0], 0);
	corio_await(self->r, corio_close, self->fd);
	cr_assert_eq(self->r, 0);
	corio_await(self->n, corio_read, self->fd, self->a, 4, 0);
	corio_return((int)self->n);
corio_finally:
	corio_end();
}

Test(io, file_operations, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	char dir[] = "/tmp/corio-test-XXXXXX", path[64];
	int r = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/f", dir);
	corio_spawn(loop, file_ops__start(NULL, path, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, -EBADF, "read after close: %d", r);
	{
		struct corio_loop_stats stats;

		/* Nothing was in flight on the fd: no cancel was needed. */
		corio_loop_stats(loop, &stats);
		cr_assert_eq(stats.cancels, 0);
	}
	unlink(path);
	rmdir(dir);
	t_loop_done(loop);
}

corio_async(int, open_missing, (), (
	int fd;
))
{
	corio_begin();
	corio_await(self->fd, corio_openat, AT_FDCWD,
		    "/nonexistent/corio/file", O_RDONLY, 0);
	corio_return(self->fd);
corio_finally:
	corio_end();
}

Test(io, errors_reach_the_awaiting_task, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int r = 0;

	corio_spawn(loop, open_missing__start(NULL, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, -ENOENT);
	t_loop_done(loop);
}

/* ---- sockets: TCP accept/connect, send_all of a large buffer --------- */

#define BIG (1 << 20)

corio_async(ssize_t, receive_all, ((int, fd), (char *, buf), (size_t, len)),
	    (size_t got; ssize_t n;))
{
	corio_begin();
	while (self->got < self->len) {
		corio_await(self->n, corio_recv, self->fd,
			    self->buf + self->got, self->len - self->got, 0);
		if (self->n <= 0)
			corio_return(self->n);
		self->got += (size_t)self->n;
	}
	corio_return((ssize_t)self->got);
corio_finally:
	corio_end();
}

corio_async(int, tcp_server, ((int, lfd), (char *, buf)), (
	int fd, r;
	ssize_t n;
	struct sockaddr_in peer;
	socklen_t peerlen;
))
{
	corio_begin();
	self->peerlen = sizeof self->peer;
	corio_await(self->fd, corio_accept, self->lfd,
		    (struct sockaddr *)&self->peer, &self->peerlen,
		    SOCK_CLOEXEC);
	cr_assert_geq(self->fd, 0, "accept: %s", corio_strerror(self->fd));
	cr_assert_eq(self->peer.sin_family, AF_INET);
	corio_await(self->n, receive_all, self->fd, self->buf, BIG);
	cr_assert_eq(self->n, BIG);
	corio_await(self->n, corio_send_all, self->fd, "ok", 2, 0);
	corio_await(self->r, corio_close, self->fd);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, tcp_client, ((int, port), (const char *, data)), (
	int fd, r;
	ssize_t n;
	struct sockaddr_in addr;
	char reply[8];
))
{
	corio_begin();
	self->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	self->addr.sin_family = AF_INET;
	self->addr.sin_port = htons((uint16_t)self->port);
	self->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	corio_await(self->r, corio_connect, self->fd,
		    (struct sockaddr *)&self->addr, sizeof self->addr);
	cr_assert_eq(self->r, 0, "connect: %s", corio_strerror(self->r));
	corio_await(self->n, corio_send_all, self->fd, self->data, BIG, 0);
	cr_assert_eq(self->n, BIG);
	corio_await(self->n, receive_all, self->fd, self->reply, 2);
	cr_assert_eq(self->n, 2);
	corio_await(self->n, corio_recv, self->fd, self->reply, 1, 0);
	cr_assert_eq(self->n, 0, "EOF after the server closed");
	corio_await(self->r, corio_close, self->fd);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static int listen_loopback(int *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof addr;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	cr_assert_eq(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&addr, &len);
	*port = ntohs(addr.sin_port);
	return fd;
}

Test(io, tcp_accept_connect_and_a_megabyte_each_way, .timeout = 20)
{
	struct corio_loop *loop = t_loop();
	char *out = malloc(BIG), *in = malloc(BIG);
	int port, lfd = listen_loopback(&port), rs = -1, rc = -1, i;

	for (i = 0; i < BIG; i++)
		out[i] = (char)(i * 31 + 7);
	corio_spawn(loop, tcp_server__start(NULL, lfd, in, &rs), NULL);
	corio_spawn(loop, tcp_client__start(NULL, port, out, &rc), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(rs, 0);
	cr_assert_eq(rc, 0);
	cr_assert_eq(memcmp(in, out, BIG), 0);
	close(lfd);
	free(in);
	free(out);
	t_loop_done(loop);
}

corio_async(int, poll_then_read, ((int, fd)), (
	int ev;
	ssize_t n;
	char c;
))
{
	corio_begin();
	corio_await(self->ev, corio_poll, self->fd, POLLIN);
	cr_assert(self->ev & POLLIN);
	corio_await(self->n, corio_read, self->fd, &self->c, 1, -1);
	corio_return(self->c);
corio_finally:
	corio_end();
}

corio_async(void, write_later, ((int, fd)), (
	ssize_t n;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->n, corio_write, self->fd, "z", 1, -1);
corio_finally:
	corio_end();
}

Test(io, poll_waits_for_readiness, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int fds[2], r = 0;

	make_pipe(fds);
	corio_spawn(loop, poll_then_read__start(NULL, fds[0], &r), NULL);
	corio_spawn(loop, write_later__start(NULL, fds[1]), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 'z');
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

/* ---- cancellation never lets the kernel write into a released frame -- */

corio_async(ssize_t, read_into_frame, ((int, fd)), (
	char buf[256];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_read, self->fd, self->buf, sizeof self->buf,
		    -1);
	corio_return(self->n);
corio_finally:
	corio_end();
}

Test(io, cancelled_read_gives_back_the_buffer_before_release, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *reader;
	ssize_t n = 99;
	int fds[2], status = 0;
	char c = 0;

	make_pipe(fds);
	corio_spawn(loop, read_into_frame__start(NULL, fds[0], &n), &reader);
	corio_spawn(loop, t_cancel_and_join__start(NULL, reader, &status), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_eq(n, 99, "a cancelled task stores no result");
	/* The read really ended in the kernel: data written now stays in
	 * the pipe instead of landing in the released frame. */
	cr_assert_eq(write(fds[1], "x", 1), 1);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	cr_assert_eq(read(fds[0], &c, 1), 1);
	cr_assert_eq(c, 'x');
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

corio_async(ssize_t, read_with_deadline, ((int, fd), (int64_t, ns)), (
	char c;
	ssize_t n;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + self->ns);
	corio_await(self->n, corio_read, self->fd, &self->c, 1, -1);
	corio_return(self->n);
corio_finally:
	corio_end();
}

Test(io, deadline_cancels_a_read_with_etime, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	ssize_t n = 0;
	int fds[2];
	char c;

	make_pipe(fds);
	corio_spawn(loop, read_with_deadline__start(NULL, fds[0],
		    CORIO_MS(20), &n), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(n, -ETIME);
	cr_assert_eq(write(fds[1], "y", 1), 1);
	cr_assert_eq(read(fds[0], &c, 1), 1);
	cr_assert_eq(c, 'y');
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

Test(io, deadline_does_not_fire_when_data_comes_first, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats stats;
	ssize_t n = 0;
	int fds[2];

	make_pipe(fds);
	cr_assert_eq(write(fds[1], "y", 1), 1);
	corio_spawn(loop, read_with_deadline__start(NULL, fds[0],
		    CORIO_SEC(10), &n), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(n, 1);
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.timers, 0, "the deadline timer was disarmed");
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

/* ---- close cancels the fd's operations in flight --------------------- */

corio_async(int, close_under_reader, ((int, fd)), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_close, self->fd);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(io, close_cancels_operations_in_flight_first, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats stats;
	ssize_t n = 99;
	int sv[2], r = -1;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, read_into_frame__start(NULL, sv[0], &n), NULL);
	corio_spawn(loop, close_under_reader__start(NULL, sv[0], &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0,
		     "a recv left blocked on a closed fd would hang the loop");
	cr_assert_eq(r, 0);
	cr_assert_eq(n, -ECANCELED);
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.cancels, 1);
	close(sv[1]);
	t_loop_done(loop);
}

/* ---- a full SQ and an overflowing CQ lose nothing --------------------- */

static int completed;

corio_async(void, zero_reader, ((int, fd)), (
	char buf[64];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_read, self->fd, self->buf, sizeof self->buf,
		    0);
	if (self->n == 64)
		completed++;
corio_finally:
	corio_end();
}

Test(io, more_operations_than_submission_slots, .timeout = 20)
{
	struct corio_loop_opts opts = { .ring_entries = 4 };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_loop_stats stats;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC), i;

	completed = 0;
	for (i = 0; i < 500; i++)
		corio_spawn(loop, zero_reader__start(NULL, fd), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(completed, 500);
	corio_loop_stats(loop, &stats);
	/* epoll has no submission queue: only the results count there. */
	if (!t_on_epoll(loop))
		cr_assert_gt(stats.sq_full, 0,
			     "the SQ-full path was exercised");
	close(fd);
	t_loop_done(loop);
}

corio_async(void, pipe_poller, ((int, fd)), (
	int ev;
))
{
	corio_begin();
	corio_await(self->ev, corio_poll, self->fd, POLLIN);
	if (self->ev & POLLIN)
		completed++;
corio_finally:
	corio_end();
}

Test(io, completion_queue_overflow_loses_nothing, .timeout = 20)
{
	struct corio_loop_opts opts = { .ring_entries = 2 };
	struct corio_loop *loop = t_loop_opts(&opts);
	int fds[2], i;

	make_pipe(fds);
	completed = 0;
	/* 300 polls on one pipe complete together when it becomes readable,
	 * far more than the 8-entry CQ holds. */
	for (i = 0; i < 300; i++)
		corio_spawn(loop, pipe_poller__start(NULL, fds[0]), NULL);
	corio_spawn(loop, write_later__start(NULL, fds[1]), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(completed, 300);
	{
		struct corio_loop_stats stats;

		corio_loop_stats(loop, &stats);
		if (!t_on_epoll(loop))	/* epoll has no CQ */
			cr_assert_gt(stats.cq_overflows, 0,
				     "the overflow path was exercised");
	}
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

corio_async(ssize_t, recv_poll_first, ((int, fd)), (
	char buf[8];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_recv, self->fd, self->buf, sizeof self->buf,
		    CORIO_RECV_POLL_FIRST);
	if (self->n == 2 && memcmp(self->buf, "ok", 2))
		corio_return(-EIO);
	corio_return(self->n);
corio_finally:
	corio_end();
}

Test(io, recv_poll_first_waits_for_data, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	ssize_t n = 0;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, recv_poll_first__start(NULL, sv[0], &n), NULL);
	corio_spawn(loop, write_later__start(NULL, sv[1]), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(n, 1, "got the byte written later: %zd", n);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}
