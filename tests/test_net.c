/* SPDX-License-Identifier: MIT */
/*
 * tests/test_net.c - corio/net.h: TCP over IPv4, IPv6 and dual-stack, Unix
 * and UDP round trips; connect timeouts and deadlines; recv_exact and
 * shutdown; the multishot acceptor (many connections, re-arming after the
 * kernel ends it, closing with connections queued or the accept pending);
 * buffer-pool readers under back-pressure, borrowed buffers; zero-copy
 * send.  The acceptor and reader tests run twice: with the backend's
 * multishot operations and with CORIO_LOOP_NO_MULTISHOT (the fallback a
 * backend without them uses).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <corio/async.h>

static struct corio_loop *net_loop(bool fallback)
{
	struct corio_loop_opts o = { 0 };

	o.flags = fallback ? CORIO_LOOP_NO_MULTISHOT : 0;
	return t_loop_opts(&o);
}


/* A connected TCP pair over loopback, made synchronously. */
static void tcp_pair(int *a, int *b)
{
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };

	cr_assert_geq(lfd, 0, "listen: %s", strerror(-lfd));
	sin.sin_port = htons((uint16_t)corio_socket_port(lfd));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(*a, 0);
	cr_assert_eq(connect(*a, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(*b, 0);
	close(lfd);
}

/* Byte @i of the test streams: a pattern that catches reordering. */
static unsigned char pat(size_t i)
{
	return (unsigned char)((i * 7) ^ (i >> 9));
}

/* ---- addresses and listening sockets --------------------------------- */

Test(net, sockaddr_parse_errors)
{
	struct sockaddr_storage ss;
	socklen_t len;

	cr_assert_eq(corio_sockaddr_parse("127.0.0.1", 80, &ss, &len), 0);
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_assert_eq(corio_sockaddr_parse("::1", 65535, &ss, &len), 0);
	cr_assert_eq(ss.ss_family, AF_INET6);
	cr_assert_eq(corio_sockaddr_parse("localhost", 80, &ss, &len),
		     -EINVAL);
	cr_assert_eq(corio_sockaddr_parse("127.0.0.1", 65536, &ss, &len),
		     -EINVAL);
	cr_assert_eq(corio_sockaddr_parse("127.0.0.1", -1, &ss, &len),
		     -EINVAL);
	cr_assert_eq(corio_sockaddr_parse(NULL, 1, &ss, &len), -EINVAL);
	cr_assert_eq(corio_tcp_listen("1.2.3", 0, NULL), -EINVAL);
	cr_assert_eq(corio_tcp_listen("127.0.0.1", 0,
		&(struct corio_listen_opts){ .flags = 0x100 }), -EINVAL);
	cr_assert_eq(corio_unix_listen("", NULL), -EINVAL);
	{
		char longpath[200];

		memset(longpath, 'a', sizeof(longpath) - 1);
		longpath[sizeof(longpath) - 1] = '\0';
		cr_assert_eq(corio_unix_listen(longpath, NULL), -ENAMETOOLONG);
	}
}

Test(net, reuseport_shares_a_port)
{
	struct corio_listen_opts o = { .flags = CORIO_LISTEN_REUSEPORT };
	int a = corio_tcp_listen("127.0.0.1", 0, &o), b, port;

	cr_assert_geq(a, 0);
	port = corio_socket_port(a);
	b = corio_tcp_listen("127.0.0.1", port, &o);
	cr_assert_geq(b, 0, "second listener: %s", strerror(-b));
	close(b);
	/* Without it the port is taken. */
	cr_assert_eq(corio_tcp_listen("127.0.0.1", port, NULL), -EADDRINUSE);
	close(a);
}

/* ---- round trips ----------------------------------------------------- */

/* Client: connect, send "ping", expect "pong". */
corio_async(int, ping_client, ((const char *, host), (const char *, path),
			       (int, port)), (
	char buf[4];
	int fd;
	ssize_t n;
))
{
	corio_begin();
	self->fd = -1;
	if (self->path)
		corio_await(self->fd, corio_unix_connect, self->path);
	else
		corio_await(self->fd, corio_tcp_connect, self->host,
			    self->port, CORIO_SEC(5));
	if (self->fd < 0)
		corio_return(self->fd);
	corio_await(self->n, corio_send_all, self->fd, "ping", 4, 0);
	cr_assert_eq(self->n, 4);
	corio_await(self->n, corio_recv_exact, self->fd, self->buf, 4);
	cr_assert_eq(self->n, 4);
	cr_assert_eq(memcmp(self->buf, "pong", 4), 0);
	corio_return(0);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

/* Server: accept one connection through an acceptor, answer the ping
 * through a reader. */
corio_async(int, pong_server, ((int, lfd), (bool, multishot)), (
	struct corio_acceptor *acc;
	struct corio_bufpool *pool;
	struct corio_reader *rd;
	char buf[4];
	int fd;
	ssize_t n;
	size_t got;
))
{
	corio_begin();
	self->fd = -1;
	cr_assert_eq(corio_acceptor_open(&self->acc, self->lfd, SOCK_CLOEXEC),
		     0);
	cr_assert_eq(corio_acceptor_is_multishot(self->acc),
		     self->multishot && !t_on_epoll(corio_loop_current()));
	corio_await(self->fd, corio_accept_next, self->acc);
	cr_assert_geq(self->fd, 0, "accept_next: %s", strerror(-self->fd));
	cr_assert_eq(corio_bufpool_create(&self->pool, 4, 2), 0);
	cr_assert_eq(corio_reader_open(&self->rd, self->fd, self->pool), 0);
	cr_assert_eq(corio_reader_is_multishot(self->rd),
		     self->multishot && !t_on_epoll(corio_loop_current()));
	while (self->got < 4) {
		corio_await(self->n, corio_reader_read, self->rd,
			    self->buf + self->got, 4 - self->got);
		cr_assert_gt(self->n, 0);
		self->got += (size_t)self->n;
	}
	cr_assert_eq(memcmp(self->buf, "ping", 4), 0);
	corio_await(self->n, corio_send_all, self->fd, "pong", 4, 0);
	cr_assert_eq(self->n, 4);
	corio_return(0);
corio_finally:
	if (self->rd)
		corio_reader_close(self->rd);
	if (self->pool)
		corio_bufpool_destroy(self->pool);
	if (self->acc)
		corio_acceptor_close(self->acc);
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

static void roundtrip(bool fallback, const char *listen_host,
		      const char *connect_host, const char *unix_path)
{
	struct corio_loop *loop = net_loop(fallback);
	int lfd, rs = -1, rc = -1, port = 0;

	if (unix_path) {
		lfd = corio_unix_listen(unix_path, NULL);
	} else {
		lfd = corio_tcp_listen(listen_host, 0, NULL);
		if (lfd == -EAFNOSUPPORT || lfd == -EADDRNOTAVAIL)
			cr_skip_test("no IPv6 here: %s", strerror(-lfd));
	}
	cr_assert_geq(lfd, 0, "listen: %s", strerror(-lfd));
	if (!unix_path)
		port = corio_socket_port(lfd);
	corio_spawn(loop, pong_server__start(NULL, lfd, !fallback, &rs), NULL);
	corio_spawn(loop, ping_client__start(NULL, connect_host, unix_path,
					     port, &rc), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(rc, 0, "client: %s", strerror(-rc));
	cr_assert_eq(rs, 0);
	close(lfd);
	if (unix_path && unix_path[0] != '@')
		unlink(unix_path);
	t_loop_done(loop);
}

Test(net, tcp4_roundtrip, .timeout = 10)
{
	roundtrip(false, "127.0.0.1", "127.0.0.1", NULL);
}

Test(net, tcp4_roundtrip_fallback, .timeout = 10)
{
	roundtrip(true, "127.0.0.1", "127.0.0.1", NULL);
}

Test(net, tcp6_roundtrip, .timeout = 10)
{
	roundtrip(false, "::1", "::1", NULL);
}

Test(net, dual_stack_accepts_ipv4, .timeout = 10)
{
	roundtrip(false, "::", "127.0.0.1", NULL);
}

Test(net, unix_path_roundtrip, .timeout = 10)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/corio-test-%d.sock", getpid());
	unlink(path);
	roundtrip(false, NULL, NULL, path);
}

Test(net, unix_abstract_roundtrip_fallback, .timeout = 10)
{
	char path[64];

	snprintf(path, sizeof(path), "@corio-test-%d", getpid());
	roundtrip(true, NULL, NULL, path);
}

/* UDP: a datagram there and back, with the sender's address. */
corio_async(int, udp_echo, ((int, a), (int, b)), (
	struct sockaddr_storage from;
	struct sockaddr_storage to;
	socklen_t fromlen;
	socklen_t tolen;
	char buf[16];
	ssize_t n;
))
{
	corio_begin();
	self->tolen = sizeof(self->to);
	cr_assert_eq(getsockname(self->b, (struct sockaddr *)&self->to,
				 &self->tolen), 0);
	t_await_retry(self->n, corio_sendto, self->a, "dgram", 5, 0,
		    (struct sockaddr *)&self->to, self->tolen);
	cr_assert_eq(self->n, 5);
	self->fromlen = sizeof(self->from);
	t_await_retry(self->n, corio_recvfrom, self->b, self->buf,
		    sizeof self->buf, 0, (struct sockaddr *)&self->from,
		    &self->fromlen);
	cr_assert_eq(self->n, 5);
	cr_assert_eq(memcmp(self->buf, "dgram", 5), 0);
	cr_assert_eq(self->fromlen, sizeof(struct sockaddr_in));
	cr_assert_eq(ntohs(((struct sockaddr_in *)&self->from)->sin_port),
		     corio_socket_port(self->a));
	/* Answer to the address it came from. */
	t_await_retry(self->n, corio_sendto, self->b, "back", 4, 0,
		    (struct sockaddr *)&self->from, self->fromlen);
	cr_assert_eq(self->n, 4);
	t_await_retry(self->n, corio_recvfrom, self->a, self->buf,
		    sizeof self->buf, 0, NULL, NULL);
	cr_assert_eq(self->n, 4);
	cr_assert_eq(memcmp(self->buf, "back", 4), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(net, udp_roundtrip, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int a = corio_udp_bind("127.0.0.1", 0, NULL);
	int b = corio_udp_bind("127.0.0.1", 0, NULL);
	int r = -1;

	cr_assert_geq(a, 0);
	cr_assert_geq(b, 0);
	corio_spawn(loop, udp_echo__start(NULL, a, b, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	close(a);
	close(b);
	t_loop_done(loop);
}

/* ---- connecting: errors, timeouts, deadlines ------------------------- */

corio_async(int, connect_once, ((const char *, host), (int, port),
				(int64_t, timeout), (int64_t, deadline),
				(int64_t *, restored)), (
	int64_t prev;
	int fd;
))
{
	corio_begin();
	self->prev = corio_deadline_set(self->deadline);
	corio_await(self->fd, corio_tcp_connect, self->host, self->port,
		    self->timeout);
	/* The caller's deadline is back in place. */
	*self->restored = corio_deadline_set(self->prev);
	if (self->fd >= 0)
		close(self->fd);
	corio_return(self->fd);
corio_finally:
	corio_end();
}

static int connect_result(const char *host, int port, int64_t timeout,
			  int64_t deadline, int64_t *restored)
{
	struct corio_loop *loop = t_loop();
	int r = 1;

	corio_spawn(loop, connect_once__start(NULL, host, port, timeout,
					      deadline, restored, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	t_loop_done(loop);
	return r;
}

Test(net, connect_errors, .timeout = 10)
{
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL);
	int64_t restored = 0;
	int port;

	cr_assert_geq(lfd, 0);
	port = corio_socket_port(lfd);
	close(lfd);	/* nobody listens there now */
	cr_assert_eq(connect_result("127.0.0.1", port, CORIO_SEC(5),
				    CORIO_NO_DEADLINE, &restored),
		     -ECONNREFUSED);
	cr_assert_eq(restored, CORIO_NO_DEADLINE);
	cr_assert_eq(connect_result("not-an-address", port, 0,
				    CORIO_NO_DEADLINE, &restored), -EINVAL);
	cr_assert_eq(connect_result("127.0.0.1", 70000, 0,
				    CORIO_NO_DEADLINE, &restored), -EINVAL);
}

/*
 * A listener whose accept queue is full (backlog 0, nobody accepting):
 * loopback SYNs beyond it are dropped, so a connect hangs.  Returns the
 * listener and fills @clients (closed by the caller); skips if the
 * kernel completes connections anyway.
 */
static int full_listener(int clients[8], int *port)
{
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), i;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	bool stuck = false;

	cr_assert_geq(lfd, 0);
	cr_assert_eq(listen(lfd, 0), 0);
	*port = corio_socket_port(lfd);
	sin.sin_port = htons((uint16_t)*port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 8; i++) {
		struct pollfd p;

		clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0);
		cr_assert_geq(clients[i], 0);
		if (connect(clients[i], (struct sockaddr *)&sin,
			    sizeof(sin)) == 0)
			continue;
		cr_assert_eq(errno, EINPROGRESS);
		/* Loopback answers at once or never: 100 ms is plenty to
		 * tell a complete handshake from a dropped SYN. */
		p = (struct pollfd){ .fd = clients[i], .events = POLLOUT };
		if (poll(&p, 1, 100) == 0) {
			stuck = true;
			i++;
			break;
		}
	}
	for (; i < 8; i++)
		clients[i] = -1;
	if (!stuck) {
		for (i = 0; i < 8; i++)
			if (clients[i] >= 0)
				close(clients[i]);
		close(lfd);
		cr_skip_test("the kernel completed every connection to a full "
			     "listener: no local way to make connect hang");
	}
	return lfd;
}

static void close_all(int lfd, int clients[8])
{
	int i;

	for (i = 0; i < 8; i++)
		if (clients[i] >= 0)
			close(clients[i]);
	close(lfd);
}

Test(net, connect_timeout, .timeout = 20)
{
	int clients[8], port, lfd = full_listener(clients, &port);
	int64_t restored = 0;

	cr_assert_eq(connect_result("127.0.0.1", port, CORIO_MS(100),
				    CORIO_NO_DEADLINE, &restored),
		     -ETIMEDOUT);
	cr_assert_eq(restored, CORIO_NO_DEADLINE);
	close_all(lfd, clients);
}

Test(net, connect_caller_deadline_first, .timeout = 20)
{
	int clients[8], port, lfd = full_listener(clients, &port);
	int64_t restored = 0, deadline = corio_now() + CORIO_MS(100);

	/* The task's deadline is nearer than the timeout: -ETIME. */
	cr_assert_eq(connect_result("127.0.0.1", port, CORIO_SEC(30),
				    deadline, &restored), -ETIME);
	cr_assert_eq(restored, deadline);
	/* The timeout is nearer than the deadline: -ETIMEDOUT. */
	deadline = corio_now() + CORIO_SEC(30);
	cr_assert_eq(connect_result("127.0.0.1", port, CORIO_MS(100),
				    deadline, &restored), -ETIMEDOUT);
	cr_assert_eq(restored, deadline);
	close_all(lfd, clients);
}

/* ---- recv_exact and shutdown ----------------------------------------- */

corio_async(int, exact_reader, ((int, fd), (int, mode)), (
	char buf[8];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_recv_exact, self->fd, self->buf, 8);
	corio_return((int)self->n);
corio_finally:
	corio_end();
}

static int recv_exact_after(const char *data, size_t len)
{
	struct corio_loop *loop = t_loop();
	int a, b, r = 1;

	tcp_pair(&a, &b);
	cr_assert_eq(send(a, data, len, 0), (ssize_t)len);
	cr_assert_eq(shutdown(a, SHUT_WR), 0);
	corio_spawn(loop, exact_reader__start(NULL, b, 0, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	close(a);
	close(b);
	t_loop_done(loop);
	return r;
}

Test(net, recv_exact_eof, .timeout = 10)
{
	cr_assert_eq(recv_exact_after("12345678x", 9), 8);
	cr_assert_eq(recv_exact_after("123", 3), -ECONNRESET);
	cr_assert_eq(recv_exact_after("", 0), 0);
}

corio_async(int, shutdown_peer, ((int, a), (int, b)), (
	char buf[4];
	ssize_t n;
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_shutdown, self->a, SHUT_WR);
	cr_assert_eq(self->r, 0);
	t_await_retry(self->n, corio_recv, self->b, self->buf,
		      sizeof self->buf, 0);
	cr_assert_eq(self->n, 0, "the peer sees end of stream");
	/* The other direction still works. */
	corio_await(self->n, corio_send_all, self->b, "ok", 2, 0);
	cr_assert_eq(self->n, 2);
	corio_await(self->n, corio_recv_exact, self->a, self->buf, 2);
	cr_assert_eq(self->n, 2);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, shutdown_unconnected, ((int, fd)), (int r;))
{
	corio_begin();
	corio_await(self->r, corio_shutdown, self->fd, SHUT_RDWR);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(net, shutdown, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int a, b, r = 1, r2 = 1;
	int lone = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	tcp_pair(&a, &b);
	corio_spawn(loop, shutdown_peer__start(NULL, a, b, &r), NULL);
	corio_spawn(loop, shutdown_unconnected__start(NULL, lone, &r2), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(r2, -ENOTCONN);
	close(a);
	close(b);
	close(lone);
	t_loop_done(loop);
}

/* ---- the acceptor ---------------------------------------------------- */

/* Take @n connections; each sends one byte, its index. */
corio_async(int, accept_n, ((struct corio_acceptor *, acc), (int, n),
			    (int *, seen)), (
	int i;
	int fd;
	unsigned char c;
	ssize_t got;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->fd, corio_accept_next, self->acc);
		if (self->fd < 0)
			corio_return(self->fd);
		corio_await(self->got, corio_recv_exact, self->fd, &self->c, 1);
		cr_assert_eq(self->got, 1);
		self->seen[self->c]++;
		close(self->fd);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, connect_and_say, ((int, port), (int, i)), (
	unsigned char c;
	int fd;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->fd, corio_tcp_connect, "127.0.0.1", self->port,
		    CORIO_SEC(5));
	cr_assert_geq(self->fd, 0, "connect: %s", strerror(-self->fd));
	self->c = (unsigned char)self->i;
	t_await_retry(self->n, corio_send, self->fd, &self->c, 1, 0);
	cr_assert_eq(self->n, 1);
	corio_return(0);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

static void accept_many(bool fallback)
{
	enum { N = 200 };
	struct corio_loop *loop = net_loop(fallback);
	struct corio_acceptor *acc;
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), port, i, r = 1;
	int seen[256] = { 0 };

	cr_assert_geq(lfd, 0);
	port = corio_socket_port(lfd);
	cr_assert_eq(corio_acceptor_open(&acc, lfd, SOCK_CLOEXEC), 0);
	cr_assert_eq(corio_acceptor_is_multishot(acc),
		     !fallback && !t_on_epoll(loop));
	corio_spawn(loop, accept_n__start(NULL, acc, N, seen, &r), NULL);
	for (i = 0; i < N; i++)
		corio_spawn(loop, connect_and_say__start(NULL, port, i, NULL),
			    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0, "accept: %s", strerror(-r));
	for (i = 0; i < N; i++)
		cr_assert_eq(seen[i], 1, "connection %d seen %d times", i,
			     seen[i]);
	cr_assert_eq(corio_acceptor_close(acc), 0);
	close(lfd);
	t_loop_done(loop);
}

Test(net, acceptor_many, .timeout = 30)
{
	accept_many(false);
}

Test(net, acceptor_many_fallback, .timeout = 30)
{
	accept_many(true);
}

/* Accept until an error, then (limit raised) accept the rest. */
corio_async(int, accept_through_emfile, ((struct corio_acceptor *, acc),
					 (int, n), (int *, errors)), (
	int taken;
	int fd;
	int fds[16];
))
{
	corio_begin();
	while (self->taken < self->n) {
		corio_await(self->fd, corio_accept_next, self->acc);
		if (self->fd == -EMFILE || self->fd == -ENFILE) {
			struct rlimit rl;

			/* The multishot ended with the error; the next
			 * await must re-arm it. */
			(*self->errors)++;
			cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
			rl.rlim_cur = rl.rlim_max;
			cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
			continue;
		}
		cr_assert_geq(self->fd, 0, "accept: %s", strerror(-self->fd));
		self->fds[self->taken++] = self->fd;
	}
	while (self->taken)
		close(self->fds[--self->taken]);
	corio_return(0);
corio_finally:
	corio_end();
}

static void acceptor_rearm(bool fallback)
{
	enum { N = 8 };
	struct corio_loop *loop = net_loop(fallback);
	struct corio_acceptor *acc;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), i, r = 1;
	int clients[N], errors = 0, maxfd = lfd;
	struct rlimit rl;

	cr_assert_geq(lfd, 0);
	sin.sin_port = htons((uint16_t)corio_socket_port(lfd));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(corio_acceptor_open(&acc, lfd, SOCK_CLOEXEC), 0);
	/* Every client connects before anything is accepted. */
	for (i = 0; i < N; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_eq(connect(clients[i], (struct sockaddr *)&sin,
				     sizeof(sin)), 0);
		if (clients[i] > maxfd)
			maxfd = clients[i];
	}
	/* Room for two accepted fds: the third accept fails with EMFILE,
	 * which ends the multishot. */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = (rlim_t)maxfd + 3;
	for (i = maxfd + 1; i < maxfd + 3; i++)
		cr_assert_eq(fcntl(i, F_GETFD), -1, "fd %d is taken", i);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	corio_spawn(loop, accept_through_emfile__start(NULL, acc, N, &errors,
						       &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_geq(errors, 1, "the accept never hit the fd limit");
	cr_log_info("accepts that failed with EMFILE: %d", errors);
	for (i = 0; i < N; i++)
		close(clients[i]);
	cr_assert_eq(corio_acceptor_close(acc), 0);
	close(lfd);
	t_loop_done(loop);
}

Test(net, acceptor_rearms_after_error, .timeout = 20)
{
	acceptor_rearm(false);
}

Test(net, acceptor_rearms_after_error_fallback, .timeout = 20)
{
	acceptor_rearm(true);
}

corio_async(int, accept_one_then_close, ((struct corio_acceptor *, acc),
					 (int, queued)), (
	int fd;
	int i;
))
{
	corio_begin();
	corio_await(self->fd, corio_accept_next, self->acc);
	cr_assert_geq(self->fd, 0);
	close(self->fd);
	/* Let the other connections' completions arrive and queue. */
	for (self->i = 0; self->i < 50; self->i++)
		corio_yield();
	cr_assert_eq(corio_acceptor_close(self->acc), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

/* Closing closes what was accepted but not taken: the clients see EOF
 * (or a reset), no fd leaks, and the port is free again at once. */
static void acceptor_close_queued(bool fallback)
{
	enum { N = 4 };
	struct corio_loop *loop = net_loop(fallback);
	struct corio_acceptor *acc;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), i, r = 1, port;
	int clients[N], fds_before;
	char c;

	cr_assert_geq(lfd, 0);
	port = corio_socket_port(lfd);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < N; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_eq(connect(clients[i], (struct sockaddr *)&sin,
				     sizeof(sin)), 0);
	}
	fds_before = t_count_fds();
	cr_assert_eq(corio_acceptor_open(&acc, lfd, SOCK_CLOEXEC), 0);
	corio_spawn(loop, accept_one_then_close__start(NULL, acc, N - 1, &r),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	close(lfd);
	t_loop_done(loop);
	/* The ring is gone: nothing holds the listener or a connection. */
	/* Gone since: the ring, the loop's eventfd and the listener. */
	cr_assert_eq(t_count_fds(), fds_before - 3, "fds leaked");
	for (i = 0; i < N; i++) {
		ssize_t n = recv(clients[i], &c, 1, 0);

		cr_assert(n == 0 || (n < 0 && errno == ECONNRESET),
			  "client %d: %zd", i, n);
		close(clients[i]);
	}
	lfd = corio_tcp_listen("127.0.0.1", port,
		&(struct corio_listen_opts){ .flags = 0 });
	cr_assert_geq(lfd, 0, "port still bound: %s", strerror(-lfd));
	close(lfd);
}

Test(net, acceptor_close_closes_queued, .timeout = 10)
{
	acceptor_close_queued(false);
}

Test(net, acceptor_close_closes_queued_fallback, .timeout = 10)
{
	acceptor_close_queued(true);
}

/* An acceptor closed with its accept pending, the loop destroyed right
 * after: the cancel completes before the ring goes, the port is free. */
Test(net, acceptor_close_pending_then_destroy, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_acceptor *acc;
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), port;

	cr_assert_geq(lfd, 0);
	port = corio_socket_port(lfd);
	cr_assert_eq(corio_acceptor_open(&acc, lfd, SOCK_CLOEXEC), 0);
	cr_assert_eq(corio_acceptor_close(acc), 0);
	cr_assert_eq(corio_acceptor_close(NULL), -EINVAL);
	close(lfd);
	t_loop_done(loop);
	lfd = corio_tcp_listen("127.0.0.1", port, NULL);
	cr_assert_geq(lfd, 0, "port still bound: %s", strerror(-lfd));
	close(lfd);
}

/* A task waiting in accept_next makes close refuse; cancelling it works. */
corio_async(int, accept_wait, ((struct corio_acceptor *, acc)), (int fd;))
{
	corio_begin();
	corio_await(self->fd, corio_accept_next, self->acc);
	corio_return(self->fd);
corio_finally:
	corio_end();
}

corio_async(int, close_busy, ((struct corio_loop *, loop),
			      (struct corio_acceptor *, acc)), (
	struct corio_task *waiter;
	int status;
	int fd;
))
{
	corio_begin();
	corio_spawn(self->loop, accept_wait__start(NULL, self->acc, &self->fd),
		    &self->waiter);
	corio_yield();
	if (corio_acceptor_is_multishot(self->acc))
		cr_assert_eq(corio_acceptor_close(self->acc), -EBUSY);
	corio_await(self->status, t_cancel_and_join, self->waiter);
	cr_assert_eq(self->status, -ECANCELED);
	cr_assert_eq(corio_acceptor_close(self->acc), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

static void acceptor_cancel_waiter(bool fallback)
{
	struct corio_loop *loop = net_loop(fallback);
	struct corio_acceptor *acc;
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), r = 1;

	cr_assert_geq(lfd, 0);
	cr_assert_eq(corio_acceptor_open(&acc, lfd, 0), 0);
	corio_spawn(loop, close_busy__start(NULL, loop, acc, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	close(lfd);
	t_loop_done(loop);
}

Test(net, acceptor_cancel_waiter, .timeout = 10)
{
	acceptor_cancel_waiter(false);
}

Test(net, acceptor_cancel_waiter_fallback, .timeout = 10)
{
	acceptor_cancel_waiter(true);
}

Test(net, acceptor_bad_input)
{
	struct corio_acceptor *acc = NULL;

	cr_assert_eq(corio_acceptor_open(&acc, 3, 0), -EINVAL, "no loop");
	{
		struct corio_loop *loop = t_loop();

		cr_assert_eq(corio_acceptor_open(&acc, -1, 0), -EINVAL);
		cr_assert_eq(corio_acceptor_open(&acc, 0, 0x4), -EINVAL);
		cr_assert_eq(corio_acceptor_open(NULL, 0, 0), -EINVAL);
		t_loop_done(loop);
	}
}

/* ---- readers --------------------------------------------------------- */

/* Send @len pattern bytes in odd-sized pieces, then close. */
corio_async(int, pattern_writer, ((int, fd), (size_t, len)), (
	unsigned char buf[3001];
	size_t done;
	size_t n;
	size_t i;
	ssize_t w;
	int r;
))
{
	corio_begin();
	while (self->done < self->len) {
		self->n = self->len - self->done;
		if (self->n > sizeof self->buf)
			self->n = sizeof self->buf;
		for (self->i = 0; self->i < self->n; self->i++)
			self->buf[self->i] = pat(self->done + self->i);
		corio_await(self->w, corio_send_all, self->fd, self->buf,
			    self->n, 0);
		cr_assert_eq(self->w, (ssize_t)self->n);
		self->done += self->n;
	}
	corio_await(self->r, corio_shutdown, self->fd, SHUT_WR);
	cr_assert_eq(self->r, 0);
	corio_return(0);
corio_finally:
	corio_end();
}

/* Read to end of stream, checking every byte; @borrow: zero-copy. */
corio_async(int, pattern_reader, ((struct corio_reader *, rd),
				  (size_t, len), (bool, borrow)), (
	unsigned char buf[97];
	struct corio_buf b;
	size_t got;
	size_t i;
	ssize_t n;
))
{
	corio_begin();
	for (;;) {
		if (self->borrow) {
			corio_await(self->n, corio_reader_borrow, self->rd,
				    &self->b);
			if (self->n <= 0)
				break;
			cr_assert_eq((size_t)self->n, self->b.len);
			for (self->i = 0; self->i < self->b.len; self->i++)
				cr_assert_eq(
					(unsigned char)self->b.data[self->i],
					     pat(self->got + self->i),
					     "byte %zu", self->got + self->i);
			corio_buf_release(&self->b);
			cr_assert_null(self->b.data);
		} else {
			corio_await(self->n, corio_reader_read, self->rd,
				    self->buf, sizeof self->buf);
			if (self->n <= 0)
				break;
			for (self->i = 0; self->i < (size_t)self->n; self->i++)
				cr_assert_eq(self->buf[self->i],
					     pat(self->got + self->i),
					     "byte %zu", self->got + self->i);
		}
		self->got += (size_t)self->n;
	}
	cr_assert_eq(self->n, 0, "read: %s", strerror((int)-self->n));
	cr_assert_eq(self->got, self->len);
	/* End of stream is sticky. */
	corio_await(self->n, corio_reader_read, self->rd, self->buf, 1);
	cr_assert_eq(self->n, 0);
	corio_return(0);
corio_finally:
	corio_end();
}

/*
 * @conns connections share a pool of @nbufs buffers of @size bytes, far
 * less than the data: the kernel runs out of buffers again and again
 * (-ENOBUFS) and every stream must still arrive whole and in order.
 */
static void pool_streams(bool fallback, int conns, unsigned nbufs,
			 unsigned size, size_t len, bool borrow)
{
	struct corio_loop *loop = net_loop(fallback);
	struct corio_bufpool *pool;
	struct corio_reader *rd[4];
	int a[4], b[4], rw[4], rr[4], i;

	cr_assert_leq(conns, 4);
	cr_assert_eq(corio_bufpool_create(&pool, nbufs, size), 0);
	for (i = 0; i < conns; i++) {
		tcp_pair(&a[i], &b[i]);
		cr_assert_eq(corio_reader_open(&rd[i], b[i], pool), 0);
		cr_assert_eq(corio_reader_is_multishot(rd[i]),
			     !fallback && !t_on_epoll(loop));
		rw[i] = rr[i] = 1;
		corio_spawn(loop, pattern_writer__start(NULL, a[i], len,
							&rw[i]), NULL);
		corio_spawn(loop, pattern_reader__start(NULL, rd[i], len,
							borrow, &rr[i]), NULL);
	}
	cr_assert_eq(corio_loop_run(loop), 0);
	for (i = 0; i < conns; i++) {
		cr_assert_eq(rw[i], 0);
		cr_assert_eq(rr[i], 0);
		cr_assert_eq(corio_reader_close(rd[i]), 0);
		close(a[i]);
		close(b[i]);
	}
	cr_assert_eq(corio_bufpool_destroy(pool), 0);
	t_loop_done(loop);
}

Test(net, reader_backpressure, .timeout = 60)
{
	pool_streams(false, 1, 4, 64, 1 << 20, false);
}

Test(net, reader_backpressure_shared_pool, .timeout = 60)
{
	pool_streams(false, 3, 4, 128, 256 << 10, false);
}

Test(net, reader_backpressure_fallback, .timeout = 60)
{
	pool_streams(true, 2, 4, 64, 256 << 10, false);
}

Test(net, reader_borrow, .timeout = 60)
{
	/* Two buffers: data flows only if borrowed ones come back. */
	pool_streams(false, 2, 2, 256, 256 << 10, true);
}

Test(net, reader_borrow_fallback, .timeout = 60)
{
	pool_streams(true, 1, 2, 256, 64 << 10, true);
}

/* A buffer borrowed, then the reader closed and the pool destroyed: the
 * buffer stays readable until released, and releasing frees the pool. */
corio_async(int, borrow_outlives, ((int, a), (struct corio_reader *, rd),
				   (struct corio_bufpool *, pool)), (
	struct corio_buf b;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_send_all, self->a, "abcdef", 6, 0);
	corio_await(self->n, corio_reader_borrow, self->rd, &self->b);
	cr_assert_gt(self->n, 0);
	cr_assert_eq(corio_reader_close(self->rd), 0);
	cr_assert_eq(corio_bufpool_destroy(self->pool), 0);
	cr_assert_eq(memcmp(self->b.data, "abcdef", (size_t)self->n), 0);
	corio_buf_release(&self->b);
	corio_buf_release(&self->b);	/* cleared: ignored */
	corio_return(0);
corio_finally:
	corio_end();
}

static void borrow_outlives_reader(bool fallback)
{
	struct corio_loop *loop = net_loop(fallback);
	struct corio_bufpool *pool;
	struct corio_reader *rd;
	int a, b, r = 1;

	tcp_pair(&a, &b);
	cr_assert_eq(corio_bufpool_create(&pool, 8, 4096), 0);
	cr_assert_eq(corio_reader_open(&rd, b, pool), 0);
	corio_spawn(loop, borrow_outlives__start(NULL, a, rd, pool, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	close(a);
	close(b);
	t_loop_done(loop);
}

Test(net, borrowed_buffer_outlives_reader, .timeout = 10)
{
	borrow_outlives_reader(false);
}

Test(net, borrowed_buffer_outlives_reader_fallback, .timeout = 10)
{
	borrow_outlives_reader(true);
}

/* Readers closed with their recv pending or data queued, and one never
 * read at all; then the loop goes.  ASan reports any leak or a buffer
 * freed while the kernel could write it. */
corio_async(int, close_pending, ((int, a), (struct corio_reader *, busy),
				 (struct corio_reader *, idle)), (
	char c;
	ssize_t n;
	int i;
))
{
	corio_begin();
	corio_await(self->n, corio_send_all, self->a, "xyz", 3, 0);
	corio_await(self->n, corio_reader_read, self->busy, &self->c, 1);
	cr_assert_eq(self->n, 1);
	cr_assert_eq(self->c, 'x');
	/* "yz" is still queued in a pool buffer. */
	cr_assert_eq(corio_reader_close(self->busy), 0);
	cr_assert_eq(corio_reader_close(self->idle), 0);
	cr_assert_eq(corio_reader_close(NULL), -EINVAL);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(net, reader_close_while_pending, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_bufpool *pool;
	struct corio_reader *busy, *idle;
	int a, b, c, d, r = 1;

	tcp_pair(&a, &b);
	tcp_pair(&c, &d);
	cr_assert_eq(corio_bufpool_create(&pool, 4, 16), 0);
	cr_assert_eq(corio_reader_open(&busy, b, pool), 0);
	cr_assert_eq(corio_reader_open(&idle, d, pool), 0);
	corio_spawn(loop, close_pending__start(NULL, a, busy, idle, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(corio_bufpool_destroy(pool), 0);
	/* The cancels complete in corio_loop_destroy at the latest. */
	t_loop_done(loop);
	close(a);
	close(b);
	close(c);
	close(d);
}

/* A second task reading the same reader gets -EBUSY; bad input -EINVAL. */
corio_async(ssize_t, read_wait, ((struct corio_reader *, rd), (char *, buf),
				 (size_t, len)), (ssize_t n;))
{
	corio_begin();
	corio_await(self->n, corio_reader_read, self->rd, self->buf, self->len);
	corio_return(self->n);
corio_finally:
	corio_end();
}

corio_async(int, reader_misuse, ((struct corio_loop *, loop),
				 (struct corio_reader *, rd)), (
	struct corio_task *first;
	char buf[4];
	ssize_t n, n1;
	int status;
))
{
	corio_begin();
	corio_spawn(self->loop, read_wait__start(NULL, self->rd, self->buf,
		sizeof self->buf, &self->n1), &self->first);
	corio_yield();
	corio_await(self->n, corio_reader_read, self->rd, self->buf, 1);
	cr_assert_eq(self->n, -EBUSY);
	cr_assert_eq(corio_reader_close(self->rd), -EBUSY);
	corio_await(self->status, t_cancel_and_join, self->first);
	cr_assert_eq(self->status, -ECANCELED);
	corio_await(self->n, corio_reader_read, self->rd, self->buf, 0);
	cr_assert_eq(self->n, -EINVAL);
	corio_await(self->n, corio_reader_read, NULL, self->buf, 1);
	cr_assert_eq(self->n, -EINVAL);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(net, reader_misuse, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_bufpool *pool;
	struct corio_reader *rd;
	int a, b, r = 1;

	cr_assert_eq(corio_bufpool_create(&pool, 3, 16), -EINVAL);
	cr_assert_eq(corio_bufpool_create(&pool, 65536, 16), -EINVAL);
	cr_assert_eq(corio_bufpool_create(&pool, 4, 0), -EINVAL);
	cr_assert_eq(corio_bufpool_create(&pool, 4, 16), 0);
	cr_assert_eq(corio_reader_open(&rd, 3, NULL), -EINVAL);
	tcp_pair(&a, &b);
	cr_assert_eq(corio_reader_open(&rd, b, pool), 0);
	corio_spawn(loop, reader_misuse__start(NULL, loop, rd, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(corio_reader_close(rd), 0);
	cr_assert_eq(corio_bufpool_destroy(pool), 0);
	t_loop_done(loop);
	close(a);
	close(b);
}

/* ---- zero-copy send -------------------------------------------------- */

corio_async(int, zc_sender, ((int, fd), (unsigned char *, buf),
			     (size_t, len)), (
	size_t done;
	ssize_t n;
	int r;
))
{
	corio_begin();
	while (self->done < self->len) {
		t_await_retry(self->n, corio_send_zc, self->fd,
			      self->buf + self->done,
			      self->len - self->done, 0);
		cr_assert_gt(self->n, 0, "send_zc: %s",
			     strerror((int)-self->n));
		/* The kernel is done with the buffer: scribbling on it now
		 * must not change what the peer receives. */
		memset(self->buf + self->done, 0xee, (size_t)self->n);
		self->done += (size_t)self->n;
	}
	corio_await(self->r, corio_shutdown, self->fd, SHUT_WR);
	cr_assert_eq(self->r, 0);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, plain_receiver, ((int, fd), (size_t, len)), (
	unsigned char buf[8192];
	size_t got;
	size_t i;
	ssize_t n;
))
{
	corio_begin();
	for (;;) {
		t_await_retry(self->n, corio_recv, self->fd, self->buf,
			    sizeof self->buf, 0);
		if (self->n <= 0)
			break;
		for (self->i = 0; self->i < (size_t)self->n; self->i++)
			cr_assert_eq(self->buf[self->i],
				     pat(self->got + self->i));
		self->got += (size_t)self->n;
	}
	cr_assert_eq(self->n, 0);
	cr_assert_eq(self->got, self->len);
	corio_return(0);
corio_finally:
	corio_end();
}

static void send_zc(bool fallback)
{
	enum { LEN = 4 << 20 };
	struct corio_loop *loop = net_loop(fallback);
	unsigned char *buf = malloc(LEN);
	int a, b, rs = 1, rr = 1;
	size_t i;

	cr_assert(buf);
	for (i = 0; i < LEN; i++)
		buf[i] = pat(i);
	tcp_pair(&a, &b);
	corio_spawn(loop, zc_sender__start(NULL, a, buf, LEN, &rs), NULL);
	corio_spawn(loop, plain_receiver__start(NULL, b, LEN, &rr), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(rs, 0);
	cr_assert_eq(rr, 0);
	close(a);
	close(b);
	free(buf);
	t_loop_done(loop);
}

Test(net, send_zc, .timeout = 30)
{
	send_zc(false);
}

Test(net, send_zc_fallback, .timeout = 30)
{
	send_zc(true);
}

/* ---- deadlines on the multishot waits -------------------------------- */

/* Nothing arrives before the deadline: -ETIME; what arrives later is
 * still there for the next await. */
corio_async(int, wait_past_deadline, ((int, port),
				      (struct corio_acceptor *, acc),
				      (struct corio_reader *, rd), (int, a)), (
	int64_t prev;
	char c;
	ssize_t n;
	int fd;
))
{
	corio_begin();
	self->prev = corio_deadline_set(corio_now() + CORIO_MS(50));
	corio_await(self->fd, corio_accept_next, self->acc);
	cr_assert_eq(self->fd, -ETIME);
	corio_deadline_set(corio_now() + CORIO_MS(50));
	corio_await(self->n, corio_reader_read, self->rd, &self->c, 1);
	cr_assert_eq(self->n, -ETIME);
	corio_deadline_set(self->prev);
	corio_await(self->n, corio_send_all, self->a, "!", 1, 0);
	corio_await(self->n, corio_reader_read, self->rd, &self->c, 1);
	cr_assert_eq(self->n, 1);
	cr_assert_eq(self->c, '!');
	corio_await_discard(connect_and_say, self->port, 7);
	corio_await(self->fd, corio_accept_next, self->acc);
	cr_assert_geq(self->fd, 0);
	close(self->fd);
	corio_return(0);
corio_finally:
	corio_end();
}

static void multishot_deadlines(bool fallback)
{
	struct corio_loop *loop = net_loop(fallback);
	struct corio_acceptor *acc;
	struct corio_bufpool *pool;
	struct corio_reader *rd;
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL), a, b, r = 1;

	cr_assert_geq(lfd, 0);
	tcp_pair(&a, &b);
	cr_assert_eq(corio_acceptor_open(&acc, lfd, SOCK_CLOEXEC), 0);
	cr_assert_eq(corio_bufpool_create(&pool, 4, 64), 0);
	cr_assert_eq(corio_reader_open(&rd, b, pool), 0);
	corio_spawn(loop, wait_past_deadline__start(NULL,
		corio_socket_port(lfd), acc, rd, a, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(corio_reader_close(rd), 0);
	cr_assert_eq(corio_bufpool_destroy(pool), 0);
	cr_assert_eq(corio_acceptor_close(acc), 0);
	close(lfd);
	close(a);
	close(b);
	t_loop_done(loop);
}

Test(net, multishot_waits_honour_deadlines, .timeout = 10)
{
	multishot_deadlines(false);
}

Test(net, multishot_waits_honour_deadlines_fallback, .timeout = 10)
{
	multishot_deadlines(true);
}

/* ---- idle readers hold no buffer --------------------------------------- */

/*
 * Bytes allocated through corio and not yet freed.  The hook is installed
 * before the test's loop and never removed: each test is a process.
 */
static _Atomic size_t live_bytes;

static void *counting_alloc(size_t n)
{
	max_align_t *p = malloc(sizeof(*p) + n);

	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	live_bytes += n;
	return p + 1;
}

static void counting_free(void *q)
{
	max_align_t *p;
	size_t n;

	if (!q)
		return;
	p = (max_align_t *)q - 1;
	memcpy(&n, p, sizeof(n));
	live_bytes -= n;
	free(p);
}

#define IDLE_READERS 256

corio_async(int, idle_borrower, ((struct corio_reader *, rd)), (
	struct corio_buf b;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_reader_borrow, self->rd, &self->b);
	corio_buf_release(&self->b);
	corio_return(self->n == 0 ? 0 : -EPROTO);	/* the peer's EOF */
corio_finally:
	corio_end();
}

/* Once every borrower waits: the bytes they hold; then their EOFs. */
corio_async(int, measure_idle, ((size_t, base), (size_t *, per_reader),
				(int *, peers)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < 10; self->i++)
		corio_yield();
	*self->per_reader = (live_bytes - self->base) / IDLE_READERS;
	for (self->i = 0; self->i < IDLE_READERS; self->i++)
		shutdown(self->peers[self->i], SHUT_WR);
	corio_return(0);
corio_finally:
	corio_end();
}

static void idle_readers_hold_no_buffer(bool fallback)
{
	struct corio_reader *rd[IDLE_READERS];
	int peers[IDLE_READERS], mine[IDLE_READERS], i, r = 1;
	struct corio_bufpool *pool;
	struct corio_loop *loop;
	size_t base, per_reader = SIZE_MAX;

	corio_set_allocator(counting_alloc, counting_free);
	loop = net_loop(fallback);
	cr_assert_eq(corio_bufpool_create(&pool, 16, 4096), 0);
	base = live_bytes;
	for (i = 0; i < IDLE_READERS; i++) {
		int sv[2];

		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					sv), 0, "socketpair: %s",
			     strerror(errno));
		peers[i] = sv[0];
		mine[i] = sv[1];
		cr_assert_eq(corio_reader_open(&rd[i], mine[i], pool), 0);
		cr_assert_eq(corio_spawn(loop, idle_borrower__start(NULL,
					 rd[i], NULL), NULL), 0);
	}
	corio_spawn(loop, measure_idle__start(NULL, base, &per_reader, peers,
					      &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	/* The reader (about 200 bytes), the task and its frames: a 4 KiB
	 * buffer per waiting reader is the bug. */
	cr_assert_lt(per_reader, 2048, "%zu bytes per idle reader",
		     per_reader);
	for (i = 0; i < IDLE_READERS; i++) {
		cr_assert_eq(corio_reader_close(rd[i]), 0);
		close(peers[i]);
		close(mine[i]);
	}
	cr_assert_eq(corio_bufpool_destroy(pool), 0);
	t_loop_done(loop);
}

Test(net, idle_readers_hold_no_buffer, .timeout = 20)
{
	idle_readers_hold_no_buffer(false);
}

Test(net, idle_readers_hold_no_buffer_fallback, .timeout = 20)
{
	idle_readers_hold_no_buffer(true);
}
