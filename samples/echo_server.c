/* SPDX-License-Identifier: MIT */
/*
 * echo_server - a TCP echo server on 127.0.0.1:
 *	echo_server [--loops N] PORT
 *
 * The echo service (common/echo.c) accepts in a loop and echoes on one
 * task per connection.  A second task waits for SIGINT or SIGTERM on a
 * signalfd and stops the service (common/loops.c); the loop then runs out
 * of tasks, and the program exits 0 once corio_loop_destroy() succeeded.  PORT 0 picks a free
 * port; the one line printed at start says which.
 *
 * With --loops N (N > 1) a runtime runs N loops on N threads, each with
 * the whole service on a listener of its own bound to the same port with
 * SO_REUSEPORT: the kernel spreads the connections over the loops, and a
 * connection stays on the loop that accepted it.  The main thread then
 * waits for the signal itself and posts the stop to every loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corio.h>

#include "common/echo.h"
#include "common/loops.h"
#include "common/net.h"
#include "common/shutdown.h"

/* Descriptors wanted: thousands of connections, whatever the default. */
#define WANT_FDS 16384
#define MAX_LOOPS 64

/* --loops N: the service of loop @i, in the array @arg. */
static struct sample_service *setup_loop(void *arg, unsigned i,
					 int listen_fd)
{
	struct echo_server *srvs = arg;

	echo_server_init(&srvs[i], listen_fd);
	return &srvs[i].svc;
}

static int run_loops(unsigned nloops, uint16_t port, int sfd)
{
	struct echo_server *srvs;
	int status;

	srvs = calloc(nloops, sizeof(*srvs));
	if (!srvs) {
		fprintf(stderr, "echo_server: out of memory\n");
		return 1;
	}
	status = sample_serve_loops("echo_server", nloops, port, sfd,
				    setup_loop, srvs);
	free(srvs);
	return status;
}

static void usage(void)
{
	fprintf(stderr, "usage: echo_server [--loops N] PORT\n");
}

int main(int argc, char **argv)
{
	struct echo_server srv;
	int ret, lfd, sfd, status = 1;
	unsigned long nloops = 1;
	uint16_t port;
	char *end;

	if (argc == 4 && strcmp(argv[1], "--loops") == 0) {
		errno = 0;
		nloops = strtoul(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || nloops == 0 ||
		    nloops > MAX_LOOPS || argv[2][0] == '-') {
			fprintf(stderr, "echo_server: --loops wants 1 to %d: "
				"'%s'\n", MAX_LOOPS, argv[2]);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		usage();
		return 2;
	}
	if (sample_parse_port(argv[1], &port) < 0) {
		fprintf(stderr, "echo_server: not a port (0-65535): '%s'\n",
			argv[1]);
		return 2;
	}
	/* First, before any thread exists: a thread with the signals still
	 * unblocked would take them, and SIGTERM would kill the process
	 * instead of waking the signalfd. */
	sfd = sample_signals_open();
	if (sfd < 0) {
		fprintf(stderr, "echo_server: signalfd: %s\n",
			corio_strerror(sfd));
		return 1;
	}
	/* Thousands of connections need more than the usual 1024. */
	ret = sample_raise_nofile(WANT_FDS);
	if (ret < 0)
		fprintf(stderr, "echo_server: RLIMIT_NOFILE stays low: %s\n",
			corio_strerror(ret));
	if (nloops > 1) {
		status = run_loops((unsigned)nloops, port, sfd);
		close(sfd);
		return status;
	}
	lfd = sample_listen_tcp(port);
	if (lfd < 0) {
		fprintf(stderr, "echo_server: 127.0.0.1:%u: %s\n", port,
			corio_strerror(lfd));
		goto out_close_sfd;
	}
	echo_server_init(&srv, lfd);
	status = sample_serve_one("echo_server", &srv.svc, sfd);
out_close_sfd:
	close(sfd);
	return status;
}
