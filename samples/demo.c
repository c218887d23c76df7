/* SPDX-License-Identifier: MIT */
/*
 * demo - an echo server and a load generator on one loop, talking over
 * loopback:
 *
 *	demo [-c CONNS] [-d SECONDS] [-s MSGSIZE] [-p PORT]
 *
 * The server is the echo service of echo_server (common/echo.c).  Each of
 * CONNS client tasks (default 1000) connects, then sends a MSGSIZE-byte
 * message (default 64), waits for the whole echo, checks it byte for byte
 * and starts over, for SECONDS (default 3).  A controller task waits for
 * the end of the run (a deadline on a join of the signal watcher, so
 * SIGINT or SIGTERM ends the run early), lets every client finish its
 * round trip, stops the server and prints the figures.  The exit status is
 * 0 only if every client connected and every echo matched.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#include "common/echo.h"
#include "common/net.h"
#include "common/shutdown.h"

#define MAX_CONNS 100000
/*
 * A client sends its whole message before it reads the echo, so a message
 * must fit in the socket buffers between the two ends, or both sides would
 * wait for each other to read.
 */
#define MAX_MSGSIZE (256 * 1024)
/* How long clients get to finish their round trip once the run is over. */
#define GRACE CORIO_SEC(2)

struct demo {
	/* Settings. */
	unsigned nclients;		/* client tasks spawned */
	size_t msgsize;
	int64_t duration;		/* ns */
	struct sockaddr_in addr;	/* the server's */

	/* Tasks, and how the run ends. */
	struct echo_server server;
	struct corio_task *watcher;	/* the signal watcher, until joined */
	int signo;			/* its result: the signal, or -errno */
	struct corio_task **clients;	/* joined by the controller */
	bool stop;			/* clients leave after this trip */
	bool interrupted;		/* a signal ended the run */
	int64_t started;		/* corio_now() at the start */
	int64_t finished;		/* ... when the last client ended */

	/* Results. */
	uint64_t connected;
	uint64_t requests;		/* verified round trips */
	uint64_t errors;		/* failures other than mismatches */
	uint64_t mismatches;		/* echoes that differed */
	int first_err;			/* -errno of the first error, or 0 */
	const char *first_step;		/* what failed first, or NULL */
};

/* Count an error; remember the first one for the report. */
static void count_error(struct demo *d, int err, const char *step)
{
	d->errors++;
	if (!d->first_step) {
		d->first_err = err;
		d->first_step = step;
	}
}

/*
 * The message of client @id's round trip @seq: pseudo-random bytes
 * (xorshift32), different for every client and trip, so an echo delivered
 * to the wrong connection or replayed from an earlier trip is caught.
 */
static void fill(unsigned char *p, size_t len, unsigned id, uint32_t seq)
{
	uint32_t x = ((id + 1) * 2654435761u) ^ ((seq + 1) * 2246822519u);
	size_t i;

	x |= 1;		/* xorshift never leaves 0 */
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

corio_async_static(int, client, ((struct demo *, d), (unsigned, id)), (
	unsigned char *out;	/* message sent; one allocation with @in */
	unsigned char *in;	/* echo received */
	size_t got;		/* bytes of the echo received so far */
	ssize_t n;
	uint32_t seq;		/* round trip number */
	int fd;
	int ret;
))
{
	corio_begin();
	self->fd = -1;
	/* Allocated, not in the frame: the size is only known at run time. */
	self->out = malloc(2 * self->d->msgsize);
	if (!self->out) {
		count_error(self->d, -ENOMEM, "malloc");
		corio_return(-ENOMEM);
	}
	self->in = self->out + self->d->msgsize;
	self->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (self->fd < 0) {
		count_error(self->d, -errno, "socket");
		goto out;
	}
	corio_await(self->ret, corio_connect, self->fd,
		    (const struct sockaddr *)&self->d->addr,
		    sizeof(self->d->addr));
	if (self->ret < 0) {
		count_error(self->d, self->ret, "connect");
		goto out;
	}
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		   sizeof(int));
	self->d->connected++;

	while (!self->d->stop) {
		fill(self->out, self->d->msgsize, self->id, self->seq);
		corio_await(self->n, corio_send_all, self->fd, self->out,
			    self->d->msgsize, 0);
		if (self->n < 0) {
			count_error(self->d, (int)self->n, "send");
			goto out;
		}
		/* The echo may come back in pieces. */
		for (self->got = 0; self->got < self->d->msgsize;
		     self->got += (size_t)self->n) {
			corio_await(self->n, corio_recv_retry, self->fd,
				    self->in + self->got,
				    self->d->msgsize - self->got, 0);
			if (self->n <= 0) {
				count_error(self->d, (int)self->n,
					    self->n ? "recv" :
					    "recv: server closed early");
				goto out;
			}
		}
		if (memcmp(self->in, self->out, self->d->msgsize) != 0) {
			self->d->mismatches++;
			if (!self->d->first_step)
				self->d->first_step = "echo mismatch";
			goto out;
		}
		self->d->requests++;
		self->seq++;
	}
out:
	if (self->fd >= 0) {
		self->ret = self->fd;
		self->fd = -1;	/* see cleanup: closed exactly once */
		corio_await_discard(corio_close, self->ret);
	}
	corio_return(0);
corio_finally:
	/* Cancelled: nothing can be awaited here any more. */
	if (self->fd >= 0)
		close(self->fd);
	free(self->out);
	corio_end();
}

corio_async_static(int, controller, ((struct demo *, d)), (
	int64_t grace_end;	/* deadline of the last round trips */
	unsigned i;
	int ret;
))
{
	corio_begin();
	self->d->started = corio_now();
	/*
	 * Wait for the watcher, which ends on a signal, with the end of the
	 * run as the deadline: whichever comes first wakes us.
	 */
	corio_deadline_set(self->d->started + self->d->duration);
	corio_await(self->ret, corio_join, self->d->watcher);
	corio_deadline_set(CORIO_NO_DEADLINE);
	if (self->ret == -ETIME) {
		corio_task_cancel(self->d->watcher);
		corio_await_discard(corio_join, self->d->watcher);
	} else if (self->d->signo > 0) {
		self->d->interrupted = true;
	} else {
		count_error(self->d, self->d->signo ? self->d->signo :
			    self->ret, "signalfd");
	}
	self->d->watcher = NULL;

	/* Clients finish the round trip in progress, then close.  One
	 * deadline for all: once it passed, each remaining join fails at
	 * once instead of waiting a grace period of its own. */
	self->d->stop = true;
	self->grace_end = corio_now() + GRACE;
	for (self->i = 0; self->i < self->d->nclients; self->i++) {
		corio_deadline_set(self->grace_end);
		corio_await(self->ret, corio_join, self->d->clients[self->i]);
		corio_deadline_set(CORIO_NO_DEADLINE);
		if (self->ret == -ETIME) {
			/* Past the deadline even the join of a finished
			 * task fails at once: only a running one is stuck,
			 * waiting for an echo that never came back. */
			if (!corio_task_is_done(self->d->clients[self->i])) {
				count_error(self->d, -ETIME,
					    "round trip at the end");
				corio_task_cancel(self->d->clients[self->i]);
			}
			corio_await(self->ret, corio_join,
				    self->d->clients[self->i]);
			if (self->ret == -ECANCELED)
				self->ret = 0;	/* counted above */
		}
		if (self->ret < 0)
			count_error(self->d, self->ret, "client");
		self->d->clients[self->i] = NULL;
	}
	self->d->finished = corio_now();
	/* The clients closed their ends, so the connections are gone or
	 * going; this ends the accept task and any stragglers. */
	sample_service_stop(&self->d->server.svc);
	corio_return(0);
corio_finally:
	corio_end();
}

static void usage(void)
{
	fprintf(stderr, "usage: demo [-c CONNS] [-d SECONDS] [-s MSGSIZE] "
		"[-p PORT]\n"
		"  -c  concurrent connections, 1-%d (default 1000)\n"
		"  -d  duration in seconds (default 3)\n"
		"  -s  message size in bytes, 1-%d (default 64)\n"
		"  -p  server port on 127.0.0.1 (default 0: any free one)\n",
		MAX_CONNS, MAX_MSGSIZE);
}

/* An integer option in [@min, @max], or -1 with a message. */
static long parse_long(const char *arg, long min, long max, char opt)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "demo: -%c wants an integer from %ld to %ld, "
			"not '%s'\n", opt, min, max, arg);
		return -1;
	}
	return v;
}

static int parse_args(int argc, char **argv, struct demo *d,
		      unsigned *conns, uint16_t *port)
{
	double secs;
	char *end;
	long v;
	int c;

	while ((c = getopt(argc, argv, "c:d:s:p:h")) != -1) {
		switch (c) {
		case 'c':
			v = parse_long(optarg, 1, MAX_CONNS, 'c');
			if (v < 0)
				return -EINVAL;
			*conns = (unsigned)v;
			break;
		case 'd':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(secs > 0) ||
			    secs > 86400) {
				fprintf(stderr, "demo: -d wants seconds "
					"(0 < d <= 86400), not '%s'\n",
					optarg);
				return -EINVAL;
			}
			d->duration = (int64_t)(secs * 1e9);
			break;
		case 's':
			v = parse_long(optarg, 1, MAX_MSGSIZE, 's');
			if (v < 0)
				return -EINVAL;
			d->msgsize = (size_t)v;
			break;
		case 'p':
			if (sample_parse_port(optarg, port) < 0) {
				fprintf(stderr, "demo: -p wants a port "
					"(0-65535), not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage();
		return -EINVAL;
	}
	return 0;
}

static void report(const struct demo *d, unsigned conns,
		   const struct corio_loop *loop)
{
	double secs = (double)(d->finished - d->started) / 1e9;

	if (d->interrupted)
		printf("interrupted (%s) after %.2f s\n", strsignal(d->signo),
		       secs);
	printf("connections: %llu of %u connected, %zu-byte messages\n",
	       (unsigned long long)d->connected, conns, d->msgsize);
	printf("requests:    %llu in %.2f s, %.0f requests/s\n",
	       (unsigned long long)d->requests, secs,
	       secs > 0 ? (double)d->requests / secs : 0.0);
	printf("errors:      %llu, mismatched echoes: %llu\n",
	       (unsigned long long)d->errors,
	       (unsigned long long)d->mismatches);
	printf("backend:     %s\n", corio_loop_backend(loop));
	if (d->first_step && d->first_err)
		fprintf(stderr, "demo: first error: %s: %s\n", d->first_step,
			corio_strerror(d->first_err));
	else if (d->first_step)
		fprintf(stderr, "demo: first error: %s\n", d->first_step);
}

int main(int argc, char **argv)
{
	struct demo d = {
		.msgsize = 64,
		.duration = CORIO_SEC(3),
	};
	struct corio_task *ctl = NULL;
	struct corio_loop *loop;
	unsigned conns = 1000, i;
	int ret, lfd, sfd, status = 1;
	uint16_t port = 0;

	if (parse_args(argc, argv, &d, &conns, &port) < 0)
		return 2;
	/* First, before any thread exists (see echo_server.c). */
	sfd = sample_signals_open();
	if (sfd < 0) {
		fprintf(stderr, "demo: signalfd: %s\n", corio_strerror(sfd));
		return 1;
	}
	/* Both ends of every connection, plus the listener, the ring... */
	ret = sample_raise_nofile(2 * (rlim_t)conns + 64);
	if (ret < 0) {
		fprintf(stderr, "demo: %u connections need %u descriptors: "
			"%s (see ulimit -n)\n", conns, 2 * conns + 64,
			corio_strerror(ret));
		goto out_close_sfd;
	}
	d.clients = calloc(conns, sizeof(*d.clients));
	if (!d.clients) {
		fprintf(stderr, "demo: out of memory\n");
		goto out_close_sfd;
	}
	lfd = sample_listen_tcp(port);
	if (lfd < 0) {
		fprintf(stderr, "demo: 127.0.0.1:%u: %s\n", port,
			corio_strerror(lfd));
		goto out_free;
	}
	d.addr = (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)sample_local_port(lfd)),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "demo: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		close(lfd);
		goto out_free;
	}

	echo_server_init(&d.server, lfd);
	ret = sample_service_start(&d.server.svc, loop);
	if (ret == 0)
		ret = corio_spawn(loop,
			sample_stop_on_signal__start(NULL, sfd, NULL, NULL,
						     &d.signo),
			&d.watcher);
	if (ret == 0)
		ret = corio_spawn(loop, controller__start(NULL, &d, NULL),
				  &ctl);
	if (ret < 0) {
		fprintf(stderr, "demo: spawn: %s\n", corio_strerror(ret));
		/* Whatever was spawned must end before the loop can go. */
		if (d.watcher)
			corio_task_cancel(d.watcher);
		sample_service_stop(&d.server.svc);
		corio_loop_run(loop);
		if (d.watcher)
			corio_task_reap(d.watcher, NULL);
		sample_service_finish(&d.server.svc);
		goto out_destroy;
	}
	for (i = 0; i < conns; i++) {
		ret = corio_spawn(loop, client__start(NULL, &d, i, NULL),
				  &d.clients[i]);
		if (ret < 0) {
			/* Run with the clients we have; it counts as an
			 * error. */
			count_error(&d, ret, "spawn");
			break;
		}
	}
	d.nclients = i;

	ret = corio_loop_run(loop);
	if (ret < 0) {
		fprintf(stderr, "demo: loop: %s\n", corio_strerror(ret));
		goto out_destroy;
	}
	corio_task_reap(ctl, NULL);
	ret = sample_service_finish(&d.server.svc);
	if (ret < 0)
		count_error(&d, ret, "accept");
	report(&d, conns, loop);
	if (!d.errors && !d.mismatches && d.connected == conns)
		status = 0;
out_destroy:
	ret = corio_loop_destroy(loop);
	if (ret < 0) {
		fprintf(stderr, "demo: destroy: %s\n", corio_strerror(ret));
		status = 1;
	}
out_free:
	free(d.clients);
out_close_sfd:
	close(sfd);
	return status;
}
