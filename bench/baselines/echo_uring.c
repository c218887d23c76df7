/* SPDX-License-Identifier: MIT */
/*
 * echo_uring.c - baseline: raw liburing TCP echo server on one thread.
 *
 * Usage: echo_uring PORT
 * Listens on 127.0.0.1:PORT, echoes every byte back, exits with status 0 on
 * SIGINT or SIGTERM. Run by bench/echo_compare.sh as the reference that
 * corio's echo server is measured against.
 *
 * Meant to be about as fast as plain liburing gets without tricks that
 * corio could not use either: one ring with DEFER_TASKRUN, multishot
 * accept, exactly one recv or send in flight per connection, new requests
 * submitted together with the wait for completions in one syscall.
 * Buffers: a plain recv into a per-connection buffer, no provided-buffer
 * ring; with one request in flight per connection a buffer ring would only
 * save memory, and liburing 2.3 has no io_uring_setup_buf_ring helper.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define SQ_ENTRIES	1024
/* One op per connection is in flight: size the CQ so that thousands of
 * connections completing at once still do not overflow it. */
#define CQ_ENTRIES	(SQ_ENTRIES * 16)
#define BUF_SIZE	4096

/* user_data = fd << OP_BITS | op; fds are unique while an op is in flight */
enum op { OP_ACCEPT, OP_RECV, OP_SEND, OP_SIGNAL };
#define OP_BITS		2
#define OP_MASK		((1u << OP_BITS) - 1)

struct conn {
	int fd;
	unsigned int len;	/* bytes received into buf */
	unsigned int off;	/* bytes of buf already sent back */
	char buf[BUF_SIZE];
};

static struct io_uring ring;
static struct conn **conns;	/* indexed by fd */
static unsigned int max_fds;
static int listen_fd = -1;
static int signal_fd = -1;
static struct signalfd_siginfo siginfo;

static void die(const char *what, int err)
{
	fprintf(stderr, "echo_uring: %s: %s\n", what, strerror(err));
	exit(1);
}

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe) {
		/* SQ full: hand the batch to the kernel to make room */
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
		if (!sqe)
			die("io_uring_get_sqe", EBUSY);
	}
	return sqe;
}

static void set_op(struct io_uring_sqe *sqe, int fd, enum op op)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)fd << OP_BITS | op);
}

static void queue_accept(void)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
	set_op(sqe, listen_fd, OP_ACCEPT);
}

static void queue_signal_read(void)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_read(sqe, signal_fd, &siginfo, sizeof(siginfo), 0);
	set_op(sqe, signal_fd, OP_SIGNAL);
}

static void queue_recv(struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_recv(sqe, c->fd, c->buf, BUF_SIZE, 0);
	/*
	 * The client sends its next message only after it got our echo, so
	 * right after a send the socket is nearly always empty: arm the poll
	 * at once instead of trying a recv that would fail (kernel 5.19+,
	 * like multishot accept).
	 */
	sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	set_op(sqe, c->fd, OP_RECV);
}

static void queue_send(struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_send(sqe, c->fd, c->buf + c->off, c->len - c->off,
			   MSG_NOSIGNAL);
	set_op(sqe, c->fd, OP_SEND);
}

static void close_conn(struct conn *c)
{
	conns[c->fd] = NULL;
	close(c->fd);
	free(c);
}

static void on_accept(struct io_uring_cqe *cqe)
{
	struct conn *c;

	/* A multishot accept that stopped (error or otherwise) is re-armed */
	if (!(cqe->flags & IORING_CQE_F_MORE))
		queue_accept();
	if (cqe->res < 0)
		return;		/* e.g. ECONNABORTED: nothing to serve */
	if ((unsigned int)cqe->res >= max_fds) {
		close(cqe->res);
		return;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		close(cqe->res);
		return;
	}
	c->fd = cqe->res;
	c->len = 0;
	c->off = 0;
	conns[c->fd] = c;
	queue_recv(c);
}

static void on_recv(struct conn *c, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		queue_recv(c);
	} else if (res <= 0) {
		close_conn(c);	/* EOF, reset, ... */
	} else {
		c->len = res;
		c->off = 0;
		queue_send(c);
	}
}

static void on_send(struct conn *c, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		queue_send(c);
	} else if (res <= 0) {
		close_conn(c);
	} else {
		c->off += res;
		if (c->off < c->len)
			queue_send(c);	/* partial send: the rest first */
		else
			queue_recv(c);
	}
}

/* Returns 1 when a stop signal arrived. */
static int handle_cqe(struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	int fd = ud >> OP_BITS;

	switch (ud & OP_MASK) {
	case OP_ACCEPT:
		on_accept(cqe);
		break;
	case OP_RECV:
		on_recv(conns[fd], cqe->res);
		break;
	case OP_SEND:
		on_send(conns[fd], cqe->res);
		break;
	case OP_SIGNAL:
		if (cqe->res == sizeof(siginfo))
			return 1;
		queue_signal_read();
		break;
	}
	return 0;
}

static int setup_ring(void)
{
	/* Fastest first; older kernels reject the newer flags with EINVAL */
	static const unsigned int flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	size_t n = sizeof(flag_sets) / sizeof(flag_sets[0]);
	int ret = -EINVAL;

	for (size_t i = 0; i < n; i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		ret = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

static int listen_on(int port)
{
	struct sockaddr_in addr;
	int one = 1;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind", errno);
	if (listen(fd, 4096) < 0)
		die("listen", errno);
	return fd;
}

static unsigned int raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit", errno);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 1u << 20 ? 1u << 20 : rl.rlim_cur;
}

int main(int argc, char **argv)
{
	struct io_uring_cqe *cqe;
	sigset_t mask;
	int stop = 0;
	long port;
	int ret;

	if (argc != 2 || (port = strtol(argv[1], NULL, 10)) < 1 ||
	    port > 65535) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (signal_fd < 0)
		die("signalfd", errno);

	max_fds = raise_fd_limit();
	conns = calloc(max_fds, sizeof(*conns));
	if (!conns)
		die("calloc", ENOMEM);
	listen_fd = listen_on(port);

	ret = setup_ring();
	if (ret < 0)
		die("io_uring_queue_init_params", -ret);
	io_uring_register_ring_fd(&ring);	/* optional: saves an fdget */

	queue_accept();
	queue_signal_read();
	while (!stop) {
		unsigned int head, seen = 0;

		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY &&
		    ret != -EAGAIN)
			die("io_uring_submit_and_wait", -ret);
		io_uring_for_each_cqe(&ring, head, cqe) {
			stop |= handle_cqe(cqe);
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
	}

	/*
	 * The kernel tears the ring down asynchronously and its multishot
	 * accept keeps the listener open until then: shut the listener now
	 * so that the port is free once we are gone. Connection buffers are
	 * left to the process exit, as requests still being cancelled may
	 * point into them.
	 */
	shutdown(listen_fd, SHUT_RDWR);
	io_uring_queue_exit(&ring);
	for (unsigned int fd = 0; fd < max_fds; fd++)
		if (conns[fd])
			close(fd);
	close(listen_fd);
	close(signal_fd);
	return 0;
}
