/* SPDX-License-Identifier: MIT */
/*
 * http_server - an HTTP/1.1 server on 127.0.0.1, built on http_parser.
 *
 *	http_server [--port N] [--root DIR] [--idle-timeout SEC] [--loops N]
 *		    [--resolve openat2|walk]
 *
 * GET /hello answers "Hello, world!\n", POST /echo sends the request body
 * back, and with --root every other GET or HEAD serves a file under DIR.
 * Keep-alive and pipelining as HTTP/1.1 has them.  --port 0 (the default
 * is 8080) picks a free port; the one line printed at start says which.
 * SIGINT or SIGTERM stops the server: it exits 0 once every task ended.
 * --resolve picks how files are opened beneath DIR: openat2 (the
 * default: openat2(RESOLVE_BENEATH), falling back to the walk on kernels
 * without it) or walk (always the component walk, resolve.c; tests use
 * it to run the fallback on kernels that have openat2).
 *
 * main() parses the options, opens what the server shares (the root
 * directory, the signalfd) and the listener, and runs one loop on the
 * calling thread (sample_serve_one, common/loops.c).  With --loops N
 * (N > 1), run_loops() runs N loops on a runtime instead, each with its
 * own server on its own listener on the same port: the kernel spreads
 * connections over SO_REUSEPORT listeners.
 */
#define _GNU_SOURCE	/* O_PATH */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/loops.h"
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
	enum http_resolve_mode resolve;
	int64_t idle_ns;
	unsigned nloops;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: http_server [--port N] [--root DIR] "
		   "[--idle-timeout SEC] [--loops N]\n"
		   "                   [--resolve openat2|walk]\n");
}

/* Parse argv into @o.  Returns 0, or 2 (the exit status) on bad usage. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "idle-timeout", required_argument, NULL, 't' },
		{ "loops", required_argument, NULL, 'l' },
		{ "resolve", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	long sec, n;
	int ch;

	*o = (struct options){ .port = 8080, .idle_ns = CORIO_MS(60000),
			       .nloops = 1 };
	while ((ch = getopt_long(argc, argv, "p:r:t:l:R:h", longopts, NULL)) !=
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
		case 'R':
			if (strcmp(optarg, "openat2") == 0) {
				o->resolve = HTTP_RESOLVE_AUTO;
			} else if (strcmp(optarg, "walk") == 0) {
				o->resolve = HTTP_RESOLVE_WALK;
			} else {
				fprintf(stderr, "http_server: --resolve wants "
					"openat2 or walk: '%s'\n", optarg);
				return 2;
			}
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

/* Options every loop's server gets. */
struct loops_arg {
	struct http_server *srvs;
	int root_fd;
	enum http_resolve_mode resolve;
	int64_t idle_ns;
};

/* --loops N: the server of loop @i. */
static struct sample_service *setup_loop(void *arg, unsigned i,
					 int listen_fd)
{
	struct loops_arg *la = arg;

	http_server_init(&la->srvs[i], listen_fd, la->root_fd, la->resolve,
			 la->idle_ns);
	return &la->srvs[i].svc;
}

/*
 * Serve on @o->nloops loops of a runtime, each loop with its own server
 * on its own listener on @o->port; files from @root_fd (or -1).  Returns
 * the exit status.
 */
static int run_loops(const struct options *o, int root_fd, int sfd)
{
	struct loops_arg la = { .root_fd = root_fd, .resolve = o->resolve,
				.idle_ns = o->idle_ns };
	unsigned nloops = o->nloops;
	int status;

	la.srvs = calloc(nloops, sizeof(*la.srvs));
	if (!la.srvs) {
		fprintf(stderr, "http_server: out of memory\n");
		return 1;
	}
	status = sample_serve_loops("http_server", nloops, o->port, sfd,
				    setup_loop, &la);
	free(la.srvs);
	return status;
}

int main(int argc, char **argv)
{
	struct http_server srv;
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
		status = run_loops(&o, root_fd, sfd);
		goto out_close_root;
	}
	lfd = sample_listen_tcp(o.port);
	if (lfd < 0) {
		fprintf(stderr, "http_server: 127.0.0.1:%u: %s\n", o.port,
			corio_strerror(lfd));
		goto out_close_root;
	}
	http_server_init(&srv, lfd, root_fd, o.resolve, o.idle_ns);
	status = sample_serve_one("http_server", &srv.svc, sfd);
out_close_root:
	if (root_fd >= 0)
		close(root_fd);
out_close_sfd:
	close(sfd);
	return status;
}
