/* SPDX-License-Identifier: MIT */
/*
 * tests/test_epoll.c - the epoll backend's own behaviour: many operations
 * waiting on one fd (FIFO, a reader and a writer together), cancelling one
 * waiter, close cancelling the waiters and dropping the registration,
 * descriptors left blocking, timers that never fire early (with
 * epoll_pwait2 and with the millisecond fallback), unknown opcodes, and the
 * rules that choose the backend.  Every loop here is forced onto epoll.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <corio/async.h>

#include "core/internal.h"
#include "reactor/reactor.h"

static struct corio_loop *ep_loop(void)
{
	struct corio_loop_opts opts = { .backend = CORIO_LOOP_BACKEND_EPOLL };
	struct corio_loop *loop = t_loop_opts(&opts);

	cr_assert(t_on_epoll(loop), "%s", corio_loop_backend(loop));
	return loop;
}

static void assert_idle(struct corio_loop *loop)
{
	struct corio_loop_stats st;

	corio_loop_stats(loop, &st);
	cr_assert_eq(st.ops_inflight, 0, "%llu ops left in flight",
		     (unsigned long long)st.ops_inflight);
}

/* ---- many operations on one fd --------------------------------------- */

corio_async(void, reader, ((int, fd), (char *, got)), (
	char buf[8];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_recv, self->fd, self->buf, sizeof self->buf,
		    0);
	*self->got = self->n == 1 ? self->buf[0] :
		     self->n == -ECANCELED ? 'C' : '?';
corio_finally:
	corio_end();
}

/* Yield so that the readers wait first, then send one datagram each. */
corio_async(void, sender, ((int, fd), (const char *, msgs)), (
	ssize_t n;
	int i;
))
{
	corio_begin();
	corio_yield();
	for (self->i = 0; self->msgs[self->i]; self->i++) {
		corio_await(self->n, corio_send, self->fd,
			    &self->msgs[self->i], 1, 0);
		cr_assert_eq(self->n, 1);
	}
corio_finally:
	corio_end();
}

Test(epoll, waiters_on_one_fd_are_served_in_fifo_order, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	char got[4] = "---";
	int sv[2], i;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
		     0);
	for (i = 0; i < 3; i++)
		corio_spawn(loop, reader__start(NULL, sv[0], &got[i]), NULL);
	corio_spawn(loop, sender__start(NULL, sv[1], "abc"), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_str_eq(got, "abc");
	assert_idle(loop);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

/* Send @len bytes in one corio_send: waits while the buffer is full. */
corio_async(void, big_sender, ((int, fd), (size_t, len), (ssize_t *, sent)), (
	char *buf;
))
{
	corio_begin();
	self->buf = calloc(1, self->len);
	cr_assert_not_null(self->buf);
	corio_await(*self->sent, corio_send, self->fd, self->buf, self->len,
		    MSG_WAITALL);
corio_finally:
	free(self->buf);
	corio_end();
}

/* Drain @total bytes from @fd, then answer with one byte. */
corio_async(void, drainer, ((int, fd), (size_t, total)), (
	char buf[65536];
	size_t seen;
	ssize_t n;
))
{
	corio_begin();
	corio_yield();		/* the reader and the writer wait first */
	while (self->seen < self->total) {
		corio_await(self->n, corio_recv, self->fd, self->buf,
			    sizeof self->buf, 0);
		cr_assert_gt(self->n, 0, "%zd", self->n);
		self->seen += (size_t)self->n;
	}
	corio_await(self->n, corio_send, self->fd, "x", 1, 0);
	cr_assert_eq(self->n, 1);
corio_finally:
	corio_end();
}

Test(epoll, a_reader_and_a_writer_wait_on_one_fd, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	size_t len = 4u << 20;	/* far beyond a socket buffer */
	ssize_t sent = 0;
	char got = '-';
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, reader__start(NULL, sv[0], &got), NULL);
	corio_spawn(loop, big_sender__start(NULL, sv[0], len, &sent), NULL);
	corio_spawn(loop, drainer__start(NULL, sv[1], len), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(sent, (ssize_t)len, "MSG_WAITALL sent %zd", sent);
	cr_assert_eq(got, 'x');
	assert_idle(loop);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

/* ---- cancellation ------------------------------------------------------ */

corio_async(void, cancel_first, ((struct corio_task *, victim),
				 (int, wfd), (int *, status)), (
	ssize_t n;
))
{
	corio_begin();
	corio_await(*self->status, t_cancel_and_join, self->victim);
	/* The other waiter on the fd is still there and still served. */
	corio_await(self->n, corio_send, self->wfd, "y", 1, 0);
corio_finally:
	corio_end();
}

Test(epoll, cancel_takes_out_only_that_waiter, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	struct corio_loop_stats st;
	struct corio_task *victim;
	char got[2] = "--";
	int sv[2], status = 0;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, reader__start(NULL, sv[0], &got[0]), &victim);
	corio_spawn(loop, reader__start(NULL, sv[0], &got[1]), NULL);
	corio_spawn(loop, cancel_first__start(NULL, victim, sv[1], &status),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_eq(got[0], '-', "the cancelled reader never resumed");
	cr_assert_eq(got[1], 'y');
	corio_loop_stats(loop, &st);
	cr_assert_geq(st.cancels, 1);
	assert_idle(loop);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

corio_async(void, poller, ((int, fd), (int *, res)), ())
{
	corio_begin();
	corio_await(*self->res, corio_poll, self->fd, POLLIN);
corio_finally:
	corio_end();
}

/* Close @fd under its waiters, then reuse the number for a new pair. */
corio_async(void, closer, ((int, fd), (int *, res), (int *, reused)), (
	int sv[2];
	char c;
	ssize_t n;
))
{
	corio_begin();
	corio_yield();
	corio_await(*self->res, corio_close, self->fd);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sv), 0);
	/* The lowest free number: the one just closed.  A stale epoll
	 * registration would swallow its readiness. */
	cr_assert_eq(self->sv[0], self->fd);
	cr_assert_eq(write(self->sv[1], "z", 1), 1);
	corio_await(self->n, corio_recv, self->sv[0], &self->c, 1, 0);
	*self->reused = self->n == 1 && self->c == 'z';
	close(self->sv[0]);
	close(self->sv[1]);
corio_finally:
	corio_end();
}

Test(epoll, close_cancels_waiters_and_drops_the_registration, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	char got[2] = "--";
	int sv[2], polled = 0, closed = -1, reused = 0;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, reader__start(NULL, sv[0], &got[0]), NULL);
	corio_spawn(loop, poller__start(NULL, sv[0], &polled), NULL);
	corio_spawn(loop, reader__start(NULL, sv[0], &got[1]), NULL);
	corio_spawn(loop, closer__start(NULL, sv[0], &closed, &reused), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(closed, 0);
	cr_assert_eq(got[0], 'C');
	cr_assert_eq(got[1], 'C');
	cr_assert_eq(polled, -ECANCELED);
	cr_assert(reused, "a new fd with the closed number is served");
	assert_idle(loop);
	close(sv[1]);
	t_loop_done(loop);
}

/* Yield, then write one byte to @fd. */
corio_async(void, late_byte, ((int, fd)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_eq(write(self->fd, "b", 1), 1);
corio_finally:
	corio_end();
}

/* Served once through epoll, closed with close(2), number reused. */
corio_async(void, plain_close_reuse, ((int *, ok)), (
	int sv[2], old;
	char c;
	ssize_t n;
	int round;
))
{
	corio_begin();
	for (self->round = 0; self->round < 2; self->round++) {
		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					self->sv), 0);
		if (self->round)
			cr_assert_eq(self->sv[0], self->old);
		self->old = self->sv[0];
		/* Wait first (the write comes after), so epoll is used. */
		corio_spawn(corio_loop_current(),
			    late_byte__start(NULL, self->sv[1]), NULL);
		corio_await(self->n, corio_recv, self->sv[0], &self->c, 1, 0);
		cr_assert_eq(self->n, 1);
		/* Not corio_close: the backend is not told. */
		close(self->sv[0]);
		close(self->sv[1]);
	}
	*self->ok = 1;
corio_finally:
	corio_end();
}

Test(epoll, a_number_reused_after_plain_close_is_registered_again,
     .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	int ok = 0;

	corio_spawn(loop, plain_close_reuse__start(NULL, &ok), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert(ok);
	assert_idle(loop);
	t_loop_done(loop);
}

/* ---- descriptors the user left blocking -------------------------------- */

corio_async(void, pipe_reader, ((int, fd), (ssize_t *, n)), (
	char buf[16];
))
{
	corio_begin();
	corio_await(*self->n, corio_read, self->fd, self->buf,
		    sizeof self->buf, 0);
corio_finally:
	corio_end();
}

corio_async(void, late_writer, ((int, fd)), (
	int r;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(2));
	corio_await(self->n, corio_write, self->fd, "hello", 5, 0);
	cr_assert_eq(self->n, 5);
corio_finally:
	corio_end();
}

Test(epoll, read_on_a_blocking_pipe_waits_without_blocking_the_loop,
     .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	ssize_t n = 0;
	int fds[2];

	/* No O_NONBLOCK: a plain read(2) would block the loop, and the
	 * writer (on the same loop) would never run. */
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	corio_spawn(loop, pipe_reader__start(NULL, fds[0], &n), NULL);
	corio_spawn(loop, late_writer__start(NULL, fds[1]), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0,
		     "the user's flag is untouched");
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

corio_async(void, acceptor, ((int, lfd), (int *, fd)), ())
{
	corio_begin();
	corio_await(*self->fd, corio_accept, self->lfd, NULL, NULL,
		    SOCK_CLOEXEC);
corio_finally:
	corio_end();
}

corio_async(void, connector, ((int, fd), (const struct sockaddr_in *, sa),
			      (int *, res)), ())
{
	corio_begin();
	corio_yield();		/* the acceptor waits first */
	corio_await(*self->res, corio_connect, self->fd,
		    (const struct sockaddr *)self->sa, sizeof(*self->sa));
corio_finally:
	corio_end();
}

/* A listening socket on a free loopback port; its address in @sa. */
static int listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)sa, &len), 0);
	return fd;
}

Test(epoll, accept_and_connect_on_blocking_sockets, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	struct sockaddr_in sa;
	int lfd = listener(&sa), cfd, afd = -1, res = -1;

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(cfd, 0);
	corio_spawn(loop, acceptor__start(NULL, lfd, &afd), NULL);
	corio_spawn(loop, connector__start(NULL, cfd, &sa, &res), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(res, 0, "connect: %s", corio_strerror(res));
	cr_assert_geq(afd, 0, "accept: %s", corio_strerror(afd));
	cr_assert_eq(fcntl(cfd, F_GETFL) & O_NONBLOCK, 0,
		     "connect restored the blocking flag");
	cr_assert_eq(fcntl(afd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC,
		     "accept's flags reach accept4");
	close(afd);
	close(cfd);
	close(lfd);
	t_loop_done(loop);
}

Test(epoll, connect_refused_reports_econnrefused, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	struct sockaddr_in sa;
	int lfd = listener(&sa), cfd, res = 0;

	close(lfd);	/* nobody listens on the port any more */
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	corio_spawn(loop, connector__start(NULL, cfd, &sa, &res), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(res, -ECONNREFUSED, "%s", corio_strerror(res));
	close(cfd);
	t_loop_done(loop);
}

Test(epoll, poll_on_a_regular_file_is_ready_at_once, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), res = 0;

	cr_assert_geq(fd, 0);
	corio_spawn(loop, poller__start(NULL, fd, &res), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(res & POLLIN, POLLIN, "%#x", res);
	close(fd);
	t_loop_done(loop);
}

/* ---- unknown opcodes ---------------------------------------------------- */

Test(epoll, unknown_opcodes_are_eopnotsupp_at_start, .timeout = 10)
{
	struct corio_loop *loop = ep_loop();
	struct corio__io io = { .opcode = CORIO__OP_COUNT, .fd = -1 };

	/* Refused before the task is looked at: nothing is in flight. */
	cr_assert_eq(corio__reactor_start(loop->reactor, 0, &io),
		     -EOPNOTSUPP);
	io.opcode = 250;
	cr_assert_eq(corio__reactor_start(loop->reactor, 0, &io),
		     -EOPNOTSUPP);
	assert_idle(loop);
	t_loop_done(loop);
}

/* ---- timers never fire early ------------------------------------------- */

static const int64_t naps[] = { CORIO_US(100), CORIO_US(1500), CORIO_US(2300),
				CORIO_US(999), CORIO_MS(7) };

corio_async(void, timed_naps, ((int64_t *, worst)), (
	int64_t t0;
	unsigned i;
	int r;
))
{
	corio_begin();
	for (self->i = 0; self->i < sizeof(naps) / sizeof(naps[0]); self->i++) {
		self->t0 = corio_now();
		corio_await(self->r, corio_sleep, naps[self->i]);
		cr_assert_eq(self->r, 0);
		/* Never early: the time asked for has passed. */
		cr_assert_geq(corio_now() - self->t0, naps[self->i],
			      "nap %u woke after %lld ns of %lld", self->i,
			      (long long)(corio_now() - self->t0),
			      (long long)naps[self->i]);
		if (corio_now() - self->t0 - naps[self->i] > *self->worst)
			*self->worst = corio_now() - self->t0 - naps[self->i];
	}
corio_finally:
	corio_end();
}

static void check_naps(const char *label)
{
	struct corio_loop *loop = ep_loop();
	struct corio_loop_stats st;
	int64_t worst = 0;
	size_t n = sizeof(naps) / sizeof(naps[0]);

	corio_spawn(loop, timed_naps__start(NULL, &worst), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_loop_stats(loop, &st);
	/* Figures, not assertions: the machine may be busy. */
	cr_log_info("%s (%s): %zu naps, %llu iterations, latest wake-up "
		    "%lld us late", label, corio_loop_backend(loop), n,
		    (unsigned long long)st.iterations,
		    (long long)(worst / 1000));
	/* A wait rounded down returns before the timer is due and the
	 * loop spins, thousands of iterations per millisecond; waits that
	 * are never short need a handful per nap. */
	cr_assert_lt(st.iterations, 20 * n, "%llu iterations for %zu naps",
		     (unsigned long long)st.iterations, n);
	t_loop_done(loop);
}

Test(epoll, timers_never_fire_early_with_epoll_pwait2, .timeout = 10)
{
	check_naps("epoll_pwait2");
}

Test(epoll, timers_never_fire_early_with_millisecond_waits, .timeout = 10)
{
	struct corio_loop *loop;

	/* A kernel before 5.11, or a sandbox that refuses the call. */
	t_refuse_syscall(__NR_epoll_pwait2, ENOSYS);
	loop = ep_loop();
	cr_assert(strstr(corio_loop_backend(loop), "epoll_wait"), "%s",
		  corio_loop_backend(loop));
	t_loop_done(loop);
	check_naps("epoll_wait");
}

/* ---- choosing the backend ----------------------------------------------- */

Test(epoll, backend_environment_variable_chooses, .timeout = 10)
{
	struct corio_loop *loop = NULL;

	setenv("CORIO_BACKEND", "epoll", 1);
	cr_assert_eq(corio_loop_create(&loop, NULL), 0);
	cr_assert(!strncmp(corio_loop_backend(loop), "epoll (", 7), "%s",
		  corio_loop_backend(loop));
	cr_assert_str_eq(corio_loop_unavailable_reason(), "");
	t_loop_done(loop);
	setenv("CORIO_BACKEND", "", 1);	/* empty: as unset */
	loop = t_loop();
	t_loop_done(loop);
}

Test(epoll, invalid_backend_value_is_einval_with_the_valid_ones,
     .timeout = 10)
{
	struct corio_loop_opts opts = { .backend = 7 };
	struct corio_loop *loop = (void *)1;
	const char *why;

	setenv("CORIO_BACKEND", "kqueue", 1);
	cr_assert_eq(corio_loop_create(&loop, NULL), -EINVAL);
	cr_assert_null(loop);
	why = corio_loop_unavailable_reason();
	cr_assert(strstr(why, "kqueue") && strstr(why, "\"uring\"") &&
		  strstr(why, "\"epoll\""), "%s", why);
	cr_assert_null(corio_loop_current());
	/* The option wins over the environment, and is checked too. */
	cr_assert_eq(corio_loop_create(&loop, &opts), -EINVAL);
	cr_assert(strstr(corio_loop_unavailable_reason(), "backend"), "%s",
		  corio_loop_unavailable_reason());
	opts.backend = CORIO_LOOP_BACKEND_EPOLL;
	cr_assert_eq(corio_loop_create(&loop, &opts), 0);
	cr_assert(t_on_epoll(loop));
	t_loop_done(loop);
}

Test(epoll, io_uring_einval_falls_back_unless_ring_flags_were_given,
     .timeout = 10)
{
	struct corio_loop_opts opts = { .ring_flags = 1u << 3 };
	struct corio_loop *loop = NULL;

	/* An old kernel that knows none of the setup flags. */
	t_refuse_syscall(__NR_io_uring_setup, EINVAL);
	unsetenv("CORIO_BACKEND");
	cr_assert_eq(corio_loop_create(&loop, NULL), 0);
	cr_assert(strstr(corio_loop_backend(loop),
			 "epoll (io_uring unavailable: "), "%s",
		  corio_loop_backend(loop));
	t_loop_done(loop);
	cr_assert_eq(corio_loop_create(&loop, &opts), -EINVAL);
	cr_assert_null(loop);
}

/* ---- semantics shared with io_uring (run on the default backend too) --- */

corio_async(void, dontwait_recv, ((int, fd), (ssize_t *, n)), (
	char c;
))
{
	corio_begin();
	corio_await(*self->n, corio_recv, self->fd, &self->c, 1, MSG_DONTWAIT);
corio_finally:
	corio_end();
}

Test(epoll, recv_with_msg_dontwait_returns_eagain_on_every_backend,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();	/* whichever is configured */
	ssize_t n = 0;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, dontwait_recv__start(NULL, sv[0], &n), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(n, -EAGAIN, "%s: %zd", corio_loop_backend(loop), n);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}
