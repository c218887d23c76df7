/* SPDX-License-Identifier: MIT */
/*
 * head_of_line - what one slow call inside a handler costs every other
 * client of the same loop: head_of_line [-d MS].
 *
 * A TCP server on 127.0.0.1 (a free port) answers one-byte requests: 'F'
 * at once, 'S' after a 100 ms call made in one of three ways:
 *
 *   (a) blocking: nanosleep(2) on the loop's thread.  Nothing else runs
 *       for 100 ms; the stall watchdog (corio_loop_opts.stall_ms) reports
 *       the step on stderr.
 *   (b) offloaded: the same nanosleep(2) through corio_blocking(), on a
 *       worker thread; the loop keeps serving.
 *   (c) asynchronous: corio_sleep(), a timer of the loop.
 *
 * A client on its own thread (and its own loop) keeps one connection
 * busy with 'S' requests and times 'F' requests on four others: the
 * latency the OTHER clients see.  Each variant runs MS milliseconds
 * (default 600) and the program prints one row per variant.
 *
 * First it shows the nested-loop mistake: a task that calls
 * corio_loop_run() on its own loop (to "wait for something" the way a
 * blocking API would) is refused with -EBUSY and a message on stderr.
 *
 * Exit status: 0, 1 on a runtime error, 2 on bad arguments.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#include "common/net.h"

#define SLOW_MS 100		/* the slow call */
#define FAST_CLIENTS 4
#define FAST_GAP CORIO_MS(2)	/* between a fast client's requests */
#define SLOW_GAP CORIO_MS(150)	/* between slow requests */
#define STALL_MS 50		/* the watchdog's threshold */
#define MAX_SAMPLES 65536

enum variant { BLOCK_ON_LOOP, OFFLOAD, ASYNC };

static const char *const variant_name[] = {
	[BLOCK_ON_LOOP] = "(a) blocking call on the loop",
	[OFFLOAD] = "(b) corio_blocking (offloaded)",
	[ASYNC] = "(c) corio_sleep (async)",
};

/* ---- the server -------------------------------------------------------- */

struct server {
	enum variant variant;
	int listen_fd;
	struct corio_task *acceptor;
};

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The slow call, as a worker thread runs it (variant b). */
static intptr_t slow_call(void *arg)
{
	(void)arg;
	nap_ms(SLOW_MS);
	return 0;
}

corio_async_static(int, handler, ((struct server *, srv), (int, fd)), (
	char req;
	ssize_t n;
	intptr_t blocked;
	int slept;
))
{
	corio_begin();
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		   sizeof(int));
	for (;;) {
		corio_await(self->n, corio_recv_retry, self->fd, &self->req, 1,
			    0);
		if (self->n <= 0)
			break;
		if (self->req == 'S') {
			switch (self->srv->variant) {
			case BLOCK_ON_LOOP:
				nap_ms(SLOW_MS);	/* the mistake */
				break;
			case OFFLOAD:
				corio_await(self->blocked, corio_blocking,
					    slow_call, NULL);
				break;
			case ASYNC:
				corio_await(self->slept, corio_sleep,
					    CORIO_MS(SLOW_MS));
				break;
			}
		} else if (self->req == 'Q' && self->srv->acceptor) {
			/* The client is done: stop accepting; the loop
			 * ends when the last connection closes. */
			corio_task_cancel(self->srv->acceptor);
			self->srv->acceptor = NULL;
		}
		corio_await(self->n, corio_send_all, self->fd, &self->req, 1,
			    0);
		if (self->n < 0)
			break;
	}
	corio_await_discard(corio_close, self->fd);
	self->fd = -1;
	corio_return(0);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

corio_async_static(int, acceptor, ((struct server *, srv)), (
	int fd;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->fd, corio_accept_retry, self->srv->listen_fd,
			    NULL, NULL, SOCK_CLOEXEC);
		if (self->fd < 0)
			corio_throw(self->fd);
		if (corio_spawn(corio_loop_current(),
				handler__start(NULL, self->srv, self->fd,
					       NULL), NULL) < 0)
			close(self->fd);
	}
corio_finally:
	corio_end();
}

/* ---- the client: its own thread, its own loop -------------------------- */

struct client {
	uint16_t port;
	int64_t duration;
	int64_t end;		/* when the timed clients stop */
	int64_t lat[MAX_SAMPLES];	/* fast requests' latency, ns */
	size_t n;
	int err;		/* first error, or 0 */
};

corio_async_static(int, dial, ((uint16_t, port)), (
	struct sockaddr_in sa;
	int fd;
	int r;
))
{
	corio_begin();
	self->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (self->fd < 0)
		corio_throw(-errno);
	self->sa = (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_port = htons(self->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	corio_await(self->r, corio_connect, self->fd,
		    (struct sockaddr *)&self->sa, sizeof(self->sa));
	if (self->r < 0)
		corio_throw(self->r);
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		   sizeof(int));
	self->r = self->fd;
	self->fd = -1;
	corio_return(self->r);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

/* One request: send @req, wait for its echo.  0 or -errno. */
corio_async_static(int, request, ((int, fd), (char, req)), (
	char got;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_send_all, self->fd, &self->req, 1, 0);
	if (self->n < 0)
		corio_throw((int)self->n);
	corio_await(self->n, corio_recv_retry, self->fd, &self->got, 1,
		    CORIO_RECV_POLL_FIRST);
	if (self->n <= 0 || self->got != self->req)
		corio_throw(self->n < 0 ? (int)self->n : -EPROTO);
	corio_return(0);
corio_finally:
	corio_end();
}

/* Until the end: 'F' requests, timed (@slow: 'S' requests, not timed). */
corio_async_static(int, client_conn, ((struct client *, c), (bool, slow)), (
	int fd;
	int r;
	int64_t t0;
))
{
	corio_begin();
	self->fd = -1;
	corio_await(self->fd, dial, self->c->port);
	while (corio_now() < self->c->end) {
		self->t0 = corio_now();
		corio_await(self->r, request, self->fd,
			    self->slow ? 'S' : 'F');
		if (self->r < 0)
			corio_throw(self->r);
		if (!self->slow && self->c->n < MAX_SAMPLES)
			self->c->lat[self->c->n++] = corio_now() - self->t0;
		corio_await(self->r, corio_sleep,
			    self->slow ? SLOW_GAP : FAST_GAP);
	}
	corio_await_discard(corio_close, self->fd);
	self->fd = -1;
	corio_return(0);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

/* Run the clients, then tell the server to stop. */
corio_async_static(int, client_main, ((struct client *, c)), (
	struct corio_task *t[FAST_CLIENTS + 1];
	int i;
	int st;
	int fd;
))
{
	corio_begin();
	self->fd = -1;
	self->c->end = corio_now() + self->c->duration;
	for (self->i = 0; self->i <= FAST_CLIENTS; self->i++) {
		self->st = corio_spawn(corio_loop_current(),
				       client_conn__start(NULL, self->c,
							  self->i == 0, NULL),
				       &self->t[self->i]);
		if (self->st < 0)
			corio_throw(self->st);
	}
	for (self->i = 0; self->i <= FAST_CLIENTS; self->i++) {
		corio_await(self->st, corio_join, self->t[self->i]);
		if (self->st < 0 && !self->c->err)
			self->c->err = self->st;
	}
	corio_await(self->fd, dial, self->c->port);
	corio_await(self->st, request, self->fd, 'Q');
	if (self->st < 0 && !self->c->err)
		self->c->err = self->st;
	corio_await_discard(corio_close, self->fd);
	self->fd = -1;
	corio_return(0);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

static void *client_thread(void *arg)
{
	struct client *c = arg;
	struct corio_loop *loop;
	int ret, st = 0;
	struct corio_task *t;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		c->err = ret;
		return NULL;
	}
	ret = corio_spawn(loop, client_main__start(NULL, c, NULL), &t);
	if (ret == 0)
		ret = corio_loop_run(loop);
	if (ret == 0 && corio_task_reap(t, &st) == 0 && st < 0)
		ret = st;
	if (ret < 0 && !c->err)
		c->err = ret;
	corio_loop_destroy(loop);
	return NULL;
}

/* ---- one variant ------------------------------------------------------- */

struct row {
	size_t n;
	double p50, p99, max;	/* ms */
	uint64_t stalls;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *v, size_t n, unsigned pct)
{
	size_t k = (n * pct + 99) / 100;	/* nearest rank */

	return (double)v[k ? k - 1 : 0] / 1e6;
}

static int run_variant(enum variant v, int64_t duration, struct row *row)
{
	struct corio_loop_opts opts = { .stall_ms = STALL_MS };
	struct server srv = { .variant = v, .listen_fd = -1 };
	struct corio_loop_stats stats;
	struct corio_loop *loop;
	struct client *c;
	pthread_t thr;
	int ret, port;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	srv.listen_fd = sample_listen_tcp(0);
	if (srv.listen_fd < 0) {
		ret = srv.listen_fd;
		goto err_free;
	}
	port = sample_local_port(srv.listen_fd);
	if (port < 0) {
		ret = port;
		goto err_close;
	}
	c->port = (uint16_t)port;
	c->duration = duration;
	ret = corio_loop_create(&loop, &opts);
	if (ret < 0)
		goto err_close;
	ret = corio_spawn(loop, acceptor__start(NULL, &srv, NULL),
			  &srv.acceptor);
	if (ret < 0)
		goto err_destroy;
	ret = -pthread_create(&thr, NULL, client_thread, c);
	if (ret < 0) {
		corio_task_cancel(srv.acceptor);
		corio_loop_run(loop);
		goto err_destroy;
	}
	ret = corio_loop_run(loop);
	pthread_join(thr, NULL);
	corio_loop_stats(loop, &stats);
	if (ret == 0)
		ret = c->err;
	if (ret == 0 && !c->n)
		ret = -EPROTO;
	if (ret == 0) {
		qsort(c->lat, c->n, sizeof(c->lat[0]), cmp_i64);
		row->n = c->n;
		row->p50 = pct_ms(c->lat, c->n, 50);
		row->p99 = pct_ms(c->lat, c->n, 99);
		row->max = (double)c->lat[c->n - 1] / 1e6;
		row->stalls = stats.stalls;
	}
err_destroy:
	/* The acceptor ends cancelled (or failed); nobody joins it. */
	corio_loop_destroy(loop);
err_close:
	close(srv.listen_fd);
err_free:
	free(c);
	return ret;
}

/* ---- the nested-loop mistake ------------------------------------------- */

corio_async_static(int, nested_run, ((int *, ret)), ())
{
	corio_begin();
	/* "Wait until the reply arrived": but we ARE the loop. */
	*self->ret = corio_loop_run(corio_loop_current());
	corio_return(0);
corio_finally:
	corio_end();
}

static int show_nested_refusal(void)
{
	struct corio_loop *loop;
	int ret, nested = 0;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0)
		return ret;
	fflush(stdout);
	ret = corio_spawn(loop, nested_run__start(NULL, &nested, NULL), NULL);
	if (ret == 0)
		ret = corio_loop_run(loop);
	corio_loop_destroy(loop);
	if (ret < 0)
		return ret;
	printf("nested corio_loop_run() from a task: %d (%s), refused; "
	       "the runtime's message is on stderr\n", nested,
	       corio_strerror(nested));
	return nested == -EBUSY ? 0 : -EPROTO;
}

int main(int argc, char **argv)
{
	int64_t duration = CORIO_MS(600);
	struct row rows[3];
	int opt, ret;
	unsigned v;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		char *end;
		long ms;

		if (opt != 'd')
			goto usage;
		ms = strtol(optarg, &end, 10);
		if (*end || ms < 200 || ms > 60000) {
			fprintf(stderr, "head_of_line: -d takes 200 to 60000 "
				"(milliseconds per variant)\n");
			return 2;
		}
		duration = CORIO_MS(ms);
	}
	if (optind != argc)
		goto usage;

	ret = show_nested_refusal();
	if (ret < 0) {
		fprintf(stderr, "head_of_line: nested-loop demo: %s (%s)\n",
			corio_strerror(ret), corio_loop_unavailable_reason());
		return 1;
	}
	printf("one client sends a %d ms request every %lld ms; %d others "
	       "time 1-byte echoes\n(stall watchdog at %d ms: its reports "
	       "go to stderr)\n", SLOW_MS,
	       (long long)(SLOW_GAP / CORIO_MS(1)), FAST_CLIENTS, STALL_MS);
	fflush(stdout);
	for (v = 0; v < 3; v++) {
		ret = run_variant((enum variant)v, duration, &rows[v]);
		if (ret < 0) {
			fprintf(stderr, "head_of_line: %s: %s\n",
				variant_name[v], corio_strerror(ret));
			return 1;
		}
	}
	printf("\n%-32s %8s %8s %8s %8s %7s\n", "variant", "requests",
	       "p50 ms", "p99 ms", "max ms", "stalls");
	for (v = 0; v < 3; v++)
		printf("%-32s %8zu %8.2f %8.2f %8.2f %7llu\n", variant_name[v],
		       rows[v].n, rows[v].p50, rows[v].p99, rows[v].max,
		       (unsigned long long)rows[v].stalls);
	return 0;
usage:
	fprintf(stderr, "usage: head_of_line [-d MS]\n");
	return 2;
}
