/* SPDX-License-Identifier: MIT */
/*
 * echo_await - a TCP echo server on 127.0.0.1 written with async/await:
 * echo_await PORT [CONNECTIONS].
 *
 * One task accepts; each connection gets a detached session task that
 * echoes until the peer closes.  PORT 0 picks a free port; the one line
 * printed at start says which.  With CONNECTIONS the server stops
 * accepting after that many and exits once their sessions end (tests use
 * this); without it, it serves until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio.h>
#include <corio/await.h>

static async int session(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = await corio_recv(fd, buf, sizeof buf, 0)) > 0) {
		ssize_t sent = await corio_send_all(fd, buf, (size_t)n, 0);

		if (sent < 0)
			break;
	}
	return n < 0 ? (int)n : 0;
corio_finally:
	close(fd);      /* on every exit, cancellation included */
}

static async int acceptor(int lfd, long limit)
{
	long served = 0;
	struct corio_task *t;

	while (limit <= 0 || served < limit) {
		int fd = await corio_accept(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "echo_await: accept: %s\n",
				corio_strerror(fd));
			return fd;
		}
		served++;
		if (corio_spawn(corio_loop_current(), session__start(NULL, fd,
								     NULL),
				&t) < 0 || corio_task_detach(t) < 0) {
			close(fd);
			continue;
		}
	}
	return 0;
}

static int listen_on(unsigned port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    listen(fd, 128) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in bound;
	socklen_t len = sizeof bound;
	struct corio_loop *loop;
	struct corio_task *t;
	int lfd, ret, status = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: echo_await PORT [CONNECTIONS]\n");
		return 2;
	}
	lfd = listen_on((unsigned)atoi(argv[1]));
	if (lfd < 0) {
		fprintf(stderr, "echo_await: listen: %s\n", corio_strerror(lfd));
		return 1;
	}
	getsockname(lfd, (struct sockaddr *)&bound, &len);
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "echo_await: %s\n",
			corio_loop_unavailable_reason());
		close(lfd);
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(bound.sin_port));
	fflush(stdout);
	ret = corio_spawn(loop, acceptor__start(NULL, lfd,
						argc == 3 ? atol(argv[2]) : 0,
						NULL), &t);
	if (ret == 0)
		ret = corio_loop_run(loop);
	if (ret == 0)
		ret = corio_task_reap(t, &status);
	close(lfd);
	if (corio_loop_destroy(loop) < 0 && ret == 0)
		ret = -EBUSY;
	if (ret < 0)
		fprintf(stderr, "echo_await: %s\n", corio_strerror(ret));
	return ret < 0 || status < 0 ? 1 : 0;
}
