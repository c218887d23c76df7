/* SPDX-License-Identifier: MIT */
/*
 * echo_server - a TCP echo server on 127.0.0.1:
 *	echo_server [--loops N] PORT
 *
 * The echo service (common/echo.c) accepts in a loop and echoes on one
 * task per connection.  A second task waits for SIGINT or SIGTERM on a
 * signalfd and stops the service; the loop then runs out of tasks, and the
 * program exits 0 once corio_loop_destroy() succeeded.  PORT 0 picks a free
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
#include <corio/async.h>

#include "common/echo.h"
#include "common/net.h"
#include "common/shutdown.h"

static void stop_server(void *arg, int signo)
{
	(void)signo;
	echo_server_stop(arg);
}

/* Descriptors wanted: thousands of connections, whatever the default. */
#define WANT_FDS 16384
#define MAX_LOOPS 64

/* ---------------------------------------------------------------------- */
/* Several loops (--loops N).                                             */

struct loop_service {
	struct echo_server srv;		/* on its loop's thread only */
	int status;			/* the service's end, as finish says */
};

/*
 * The service of one loop: start it, then wait for the accept task (which
 * ends once echo_server_stop ran on this loop).  Joined here rather than
 * reaped by echo_server_finish, since only a task can wait for it.
 */
corio_async_static(void, serve, ((struct loop_service *, ls)), (
	int status;
))
{
	corio_begin();
	self->ls->status = echo_server_start(&self->ls->srv,
					     corio_loop_current());
	if (self->ls->status < 0)
		corio_return_void();
	corio_await(self->status, corio_join, self->ls->srv.accept_task);
	self->ls->srv.accept_task = NULL;
	self->ls->status = self->status == -ECANCELED ? 0 : self->status;
corio_finally:
	corio_end();
}

static struct corio_frame *start_serve(void *arg)
{
	return serve__start(NULL, arg);
}

/* Posted to each loop: stop its service (on the thread that owns it). */
static void stop_service(void *arg)
{
	struct loop_service *ls = arg;

	echo_server_stop(&ls->srv);
}

static int run_loops(unsigned nloops, uint16_t port, int sfd)
{
	struct loop_service *ls;
	struct corio_runtime *rt;
	int ret, status = 1;
	unsigned i, opened = 0;

	ls = calloc(nloops, sizeof(*ls));
	if (!ls) {
		fprintf(stderr, "echo_server: out of memory\n");
		return 1;
	}
	/* All listeners first: the port of the first (maybe picked by the
	 * kernel) is the one the others share. */
	for (i = 0; i < nloops; i++) {
		ret = sample_listen_tcp_shared(port);
		if (ret < 0) {
			fprintf(stderr, "echo_server: 127.0.0.1:%u: %s\n",
				port, corio_strerror(ret));
			goto out_close;
		}
		echo_server_init(&ls[i].srv, ret);
		opened++;
		port = (uint16_t)sample_local_port(ret);
	}
	ret = corio_runtime_create(&rt, nloops, NULL);
	if (ret < 0) {
		fprintf(stderr, "echo_server: runtime: %s\n",
			corio_strerror(ret));
		goto out_close;
	}
	/* From here the services own the listeners. */
	opened = 0;
	for (i = 0; i < nloops; i++) {
		ret = corio_runtime_spawn(rt, (int)i, start_serve, &ls[i],
					  "echo service");
		if (ret < 0) {
			fprintf(stderr, "echo_server: spawn: %s\n",
				corio_strerror(ret));
			close(ls[i].srv.listen_fd);
		}
	}
	printf("listening on 127.0.0.1:%u (%u loops)\n", port, nloops);
	fflush(stdout);
	ret = sample_signals_wait(sfd);
	if (ret < 0)
		fprintf(stderr, "echo_server: signalfd: %s\n",
			corio_strerror(ret));
	for (i = 0; i < nloops; i++)
		corio_loop_post(corio_runtime_loop(rt, i), stop_service,
				&ls[i]);
	ret = corio_runtime_destroy(rt);
	if (ret < 0) {
		fprintf(stderr, "echo_server: runtime: %s\n",
			corio_strerror(ret));
		goto out_close;
	}
	status = 0;
	for (i = 0; i < nloops; i++) {
		if (ls[i].status < 0) {
			fprintf(stderr, "echo_server: loop %u: accept: %s\n",
				i, corio_strerror(ls[i].status));
			status = 1;
		}
	}
out_close:
	for (i = 0; i < opened; i++)
		close(ls[i].srv.listen_fd);
	free(ls);
	return status;
}

/* ---------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: echo_server [--loops N] PORT\n");
}

int main(int argc, char **argv)
{
	struct corio_task *watcher = NULL;
	struct echo_server srv;
	struct corio_loop *loop;
	int ret, lfd, sfd, signo = 0, status = 1;
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
