/* SPDX-License-Identifier: MIT */
/*
 * echo_epoll.c - baseline: single-threaded non-blocking epoll echo server.
 *
 * Usage: echo_epoll PORT
 * Listens on 127.0.0.1:PORT, echoes every byte back, exits with status 0 on
 * SIGINT or SIGTERM. Run by bench/echo_compare.sh as the classic readiness
 * based reference.
 *
 * Connections are edge-triggered and registered once for both EPOLLIN and
 * EPOLLOUT, so no epoll_ctl is needed after accept: a connection is pumped
 * (flush pending output, then read and echo) until a read or a write would
 * block, and the next edge resumes it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS	256
#define BUF_SIZE	4096

struct conn {
	int fd;
	unsigned int len;	/* bytes received into buf */
	unsigned int off;	/* bytes of buf already sent back */
	struct conn *prev, *next;	/* list of open ones, freed at exit */
	char buf[BUF_SIZE];
};

static struct conn *open_conns;

/* Addresses used as epoll tags for the two non-connection fds */
static char listen_tag, signal_tag;

static void die(const char *what)
{
	fprintf(stderr, "echo_epoll: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Returns -1 when the connection is finished or broken. */
static int conn_pump(struct conn *c, uint32_t events)
{
	/* A hang-up that came with the data raises no later edge */
	bool hangup = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	bool drained = false;
	ssize_t n;

	for (;;) {
		while (c->off < c->len) {
			n = send(c->fd, c->buf + c->off, c->len - c->off,
				 MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				/* on EAGAIN the EPOLLOUT edge resumes us */
				return errno == EAGAIN ? 0 : -1;
			}
			c->off += n;
		}
		/*
		 * A short read on a stream socket means it was drained
		 * (epoll(7)): stop here rather than spend a recv on EAGAIN,
		 * as data arriving later raises a new edge. After a hang-up
		 * read on until the EOF or error shows.
		 */
		if (drained)
			return 0;
		n = recv(c->fd, c->buf, BUF_SIZE, 0);
		if (n > 0) {
			c->len = n;
			c->off = 0;
			drained = n < BUF_SIZE && !hangup;
			continue;
		}
		if (n == 0)
			return -1;
		if (errno != EINTR)
			return errno == EAGAIN ? 0 : -1;
	}
}

static void close_conn(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		open_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);	/* also removes it from the epoll set */
	free(c);
}

static void accept_all(int ep, int lfd)
{
	struct epoll_event ev;
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;		/* EAGAIN, or out of fds: try later */
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->off = 0;
		c->prev = NULL;
		c->next = open_conns;
		if (open_conns)
			open_conns->prev = c;
		open_conns = c;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close_conn(c);
	}
}

static int listen_on(int port)
{
	struct sockaddr_in addr;
	int one = 1;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS], ev;
	int ep, lfd, sfd, n;
	sigset_t mask;
	long port;

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
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	raise_fd_limit();
	lfd = listen_on(port);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");
	ev.data.ptr = &signal_tag;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		die("epoll_ctl");

	for (;;) {
		n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &signal_tag)
				goto out;
			if (p == &listen_tag)
				accept_all(ep, lfd);
			else if (conn_pump(p, evs[i].events) < 0)
				close_conn(p);
		}
	}
out:
	while (open_conns)
		close_conn(open_conns);
	close(ep);
	close(lfd);
	close(sfd);
	return 0;
}
