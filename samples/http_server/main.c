/* SPDX-License-Identifier: MIT */
/*
 * http_server - an HTTP/1.1 server on 127.0.0.1, built on http_parser.
 *
 *	http_server [--port N] [--root DIR] [--idle-timeout SEC] [--loops N]
 *
 * GET /hello answers "Hello, world!\n", POST /echo sends the request body
 * back, and with --root every other GET or HEAD serves a file under DIR.
 * Keep-alive and pipelining as HTTP/1.1 has them.  --port 0 (the default
 * is 8080) picks a free port; the one line printed at start says which.
 * SIGINT or SIGTERM stops the server: it exits 0 once every task ended.
 *
 * main() parses the options, opens what the server shares (the root
 * directory, the signalfd) and the listener, and runs one loop in
 * serve_loop() on the calling thread.  With --loops N (N > 1), http_serve_loops() (loops.c)
 * runs N loops on a runtime instead, each with its own server on its own
 * listener on the same port: the kernel spreads connections over
 * SO_REUSEPORT listeners.
 */
#define _GNU_SOURCE	/* O_PATH */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/net.h"
#include "common/shutdown.h"
#include "http_server/http.h"

/* Connections a loop should be able to hold open at once. */
#define WANT_FILES 16384
/* --loops at most (one per core is the sensible choice). */
#define MAX_LOOPS 64

struct options {
	uint16_t port;
	const char *root;	/* NULL: no files */
	int64_t idle_ns;
	unsigned nloops;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: http_server [--port N] [--root DIR] "
		   "[--idle-timeout SEC] [--loops N]\n");
}

/* Parse argv into @o.  Returns 0, or 2 (the exit status) on bad usage. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "idle-timeout", required_argument, NULL, 't' },
		{ "loops", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	long sec, n;
	int ch;

	*o = (struct options){ .port = 8080, .idle_ns = CORIO_MS(60000),
			       .nloops = 1 };
	while ((ch = getopt_long(argc, argv, "p:r:t:l:h", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'p':
			if (sample_parse_port(optarg, &o->port) < 0) {
				fprintf(stderr, "http_server: not a port "
					"(0-65535): '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			o->root = optarg;
			break;
		case 't':
			sec = strtol(optarg, &end, 10);
			if (end == optarg || *end || sec <= 0 ||
			    sec > 86400) {
				fprintf(stderr, "http_server: idle timeout "
					"is 1 to 86400 seconds: '%s'\n",
					optarg);
				return 2;
			}
			o->idle_ns = CORIO_MS(sec * 1000);
			break;
		case 'l':
			n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > MAX_LOOPS) {
				fprintf(stderr, "http_server: --loops wants "
					"1 to %d: '%s'\n", MAX_LOOPS, optarg);
				return 2;
			}
			o->nloops = (unsigned)n;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static void stop_server(void *arg, int signo)
{
	(void)signo;
	http_server_stop(arg);
}

/*
 * Serve on @lfd (taken over) from a loop of the calling thread until a
 * signal arrives on @sfd.  Returns the exit status.
 */
static int serve_loop(int lfd, int root_fd, int sfd, int64_t idle_ns)
{
	struct corio_task *watcher = NULL;
	struct http_server srv;
	struct corio_loop *loop;
	int ret, signo = 0, status = 1;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "http_server: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		close(lfd);
		return 1;
	}
	http_server_init(&srv, lfd, root_fd, idle_ns);
	ret = http_server_start(&srv, loop);
	if (ret == 0)
		ret = corio_spawn(loop,
			sample_stop_on_signal__start(NULL, sfd, stop_server,
						     &srv, &signo),
			&watcher);
	if (ret < 0) {
		fprintf(stderr, "http_server: spawn: %s\n",
			corio_strerror(ret));
		/* The accept task, if it exists, must end before destroy. */
		http_server_stop(&srv);
		corio_loop_run(loop);
		goto out_destroy;
	}
	srv.linked = watcher;
	printf("listening on 127.0.0.1:%d\n", sample_local_port(lfd));
	fflush(stdout);

	ret = corio_loop_run(loop);
	if (ret < 0) {
		fprintf(stderr, "http_server: loop: %s\n",
			corio_strerror(ret));
		goto out_destroy;
	}
	/* The watcher's status is -ECANCELED when accept failed first. */
	corio_task_reap(watcher, NULL);
	watcher = NULL;
	ret = http_server_finish(&srv);
	if (ret < 0)
		fprintf(stderr, "http_server: accept: %s\n",
			corio_strerror(ret));
	else
		status = 0;
out_destroy:
	if (watcher)
		corio_task_reap(watcher, NULL);
	http_server_finish(&srv);
	ret = corio_loop_destroy(loop);
	if (ret < 0) {
		fprintf(stderr, "http_server: destroy: %s\n",
			corio_strerror(ret));
		status = 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	int ret, lfd, sfd, root_fd = -1, status = 1;

	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret;
	/* First, before any thread exists: a thread with the signals still
	 * unblocked would take them, and SIGTERM would kill the process
	 * instead of waking the signalfd. */
	sfd = sample_signals_open();
	if (sfd < 0) {
		fprintf(stderr, "http_server: signalfd: %s\n",
			corio_strerror(sfd));
		return 1;
	}
	if (o.root) {
		root_fd = open(o.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0) {
			fprintf(stderr, "http_server: %s: %s\n", o.root,
				strerror(errno));
			goto out_close_sfd;
		}
	}
	/* Many keep-alive connections need many descriptors; not being
	 * allowed more is no reason not to serve. */
	ret = sample_raise_nofile(WANT_FILES);
	if (ret < 0)
		fprintf(stderr, "http_server: descriptor limit: %s\n",
			corio_strerror(ret));
	if (o.nloops > 1) {
		status = http_serve_loops(o.nloops, o.port, root_fd, sfd,
					  o.idle_ns);
		goto out_close_root;
	}
	lfd = http_listen(o.port, false);
	if (lfd < 0) {
		fprintf(stderr, "http_server: 127.0.0.1:%u: %s\n", o.port,
			corio_strerror(lfd));
		goto out_close_root;
	}
	status = serve_loop(lfd, root_fd, sfd, o.idle_ns);
out_close_root:
	if (root_fd >= 0)
		close(root_fd);
out_close_sfd:
	close(sfd);
	return status;
}
