/* SPDX-License-Identifier: MIT */
/*
 * echo_server - a TCP echo server on 127.0.0.1: echo_server PORT.
 *
 * The echo service (common/echo.c) accepts in a loop and echoes on one
 * task per connection.  A second task waits for SIGINT or SIGTERM on a
 * signalfd and stops the service; the loop then runs out of tasks, and the
 * program exits 0 once corio_loop_destroy() succeeded.  PORT 0 picks a free
 * port; the one line printed at start says which.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <corio.h>

#include "common/echo.h"
#include "common/net.h"
#include "common/shutdown.h"

static void stop_server(void *arg, int signo)
{
	(void)signo;
	echo_server_stop(arg);
}

int main(int argc, char **argv)
{
	struct corio_task *watcher = NULL;
	struct echo_server srv;
	struct corio_loop *loop;
	int ret, lfd, sfd, signo = 0, status = 1;
	uint16_t port;

	if (argc != 2) {
		fprintf(stderr, "usage: echo_server PORT\n");
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
	lfd = sample_listen_tcp(port);
	if (lfd < 0) {
		fprintf(stderr, "echo_server: 127.0.0.1:%u: %s\n", port,
			corio_strerror(lfd));
		goto out_close_sfd;
	}
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "echo_server: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		close(lfd);
		goto out_close_sfd;
	}
	echo_server_init(&srv, lfd);
	ret = echo_server_start(&srv, loop);
	if (ret == 0)
		ret = corio_spawn(loop,
			sample_stop_on_signal__start(NULL, sfd, stop_server,
						     &srv, &signo),
			&watcher);
	if (ret < 0) {
		fprintf(stderr, "echo_server: spawn: %s\n",
			corio_strerror(ret));
		/* The accept task, if it exists, must end before destroy. */
		echo_server_stop(&srv);
		corio_loop_run(loop);
		goto out_destroy;
	}
	srv.linked = watcher;
	printf("listening on 127.0.0.1:%d\n", sample_local_port(lfd));
	fflush(stdout);

	ret = corio_loop_run(loop);
	if (ret < 0) {
		fprintf(stderr, "echo_server: loop: %s\n",
			corio_strerror(ret));
		goto out_destroy;
	}
	/* The watcher's status is -ECANCELED when accept failed first. */
	corio_task_reap(watcher, NULL);
	watcher = NULL;
	ret = echo_server_finish(&srv);
	if (ret < 0)
		fprintf(stderr, "echo_server: accept: %s\n",
			corio_strerror(ret));
	else
		status = 0;
out_destroy:
	if (watcher)
		corio_task_reap(watcher, NULL);
	echo_server_finish(&srv);
	ret = corio_loop_destroy(loop);
	if (ret < 0) {
		fprintf(stderr, "echo_server: destroy: %s\n",
			corio_strerror(ret));
		status = 1;
	}
out_close_sfd:
	close(sfd);
	return status;
}
