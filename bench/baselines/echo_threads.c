/* SPDX-License-Identifier: MIT */
/*
 * echo_threads.c - baseline: thread-per-connection blocking echo server.
 *
 * Usage: echo_threads PORT
 * Listens on 127.0.0.1:PORT, echoes every byte back, exits with status 0 on
 * SIGINT or SIGTERM. Run by bench/echo_compare.sh as the "just use threads"
 * reference: each connection gets a detached thread doing blocking
 * recv/send, so the kernel scheduler does the multiplexing.
 *
 * The main thread waits on the listener and a signalfd with poll(); the stop
 * signals are blocked before any thread starts, so only the signalfd sees
 * them. Returning from main ends the connection threads with the process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE	4096
/* Small stacks so that thousands of connections do not reserve GiBs */
#define STACK_SIZE	(64 * 1024)

static void die(const char *what)
{
	fprintf(stderr, "echo_threads: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Returns -1 if the peer is gone. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[BUF_SIZE];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || send_all(fd, buf, n) < 0)
			break;
	}
	close(fd);
	return NULL;
}

static void accept_all(int lfd, pthread_attr_t *attr)
{
	pthread_t tid;
	int fd;

	for (;;) {
		/* Blocking socket: Linux does not inherit the O_NONBLOCK
		 * of the listener */
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;		/* EAGAIN, or out of fds: try later */
		}
		if (pthread_create(&tid, attr, serve, (void *)(intptr_t)fd))
			close(fd);
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
	struct pollfd pfd[2];
	pthread_attr_t attr;
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
	pfd[1].fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (pfd[1].fd < 0)
		die("signalfd");
	raise_fd_limit();
	pfd[0].fd = listen_on(port);
	pfd[0].events = POLLIN;
	pfd[1].events = POLLIN;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK_SIZE);

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents)
			accept_all(pfd[0].fd, &attr);
	}

	pthread_attr_destroy(&attr);
	close(pfd[0].fd);
	close(pfd[1].fd);
	return 0;
}
