/* SPDX-License-Identifier: MIT */
/*
 * bench/net_send.c - corio_send_all (copying send) against corio_send_zc
 * (zero-copy send) over loopback TCP, at 4 KiB, 64 KiB and 1 MiB messages.
 *
 * Usage: net_send [MiB per run, default 256]
 *
 * The sending loop runs on CPU 0, a plain thread draining the socket with
 * recv(2) on CPU 1.  Each size runs RUNS times, plain and zero-copy in
 * alternation (so drift in machine load hits both alike).  Prints medians
 * as name=value lines:
 *   net_send.MODE.SIZE.gbps          payload throughput, GB/s
 *   net_send.MODE.SIZE.cpu_ns_per_kb sender thread CPU per KiB sent
 *   net_send.zc_vs_plain.SIZE.gbps_ratio  > 1: zero-copy is faster
 * Loopback delivers locally, so the kernel copies zero-copy data for the
 * receiver anyway: the figure shows what the extra notification costs
 * there, not what zero-copy gains on a NIC.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#include "stats.h"

#define RUNS 5

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: a machine with one CPU still runs the benchmark. */
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct drain {
	int fd;
	size_t total;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	static char buf[1 << 20];
	size_t got = 0;

	pin(1);
	while (got < d->total) {
		ssize_t n = recv(d->fd, buf, sizeof(buf), 0);

		if (n <= 0) {
			fprintf(stderr, "net_send: recv: %s\n",
				n ? strerror(errno) : "end of stream");
			exit(1);
		}
		got += (size_t)n;
	}
	return NULL;
}

corio_async(ssize_t, sender, ((int, fd), (const char *, buf),
			      (size_t, msg), (size_t, total), (bool, zc)), (
	size_t sent;
	size_t off;
	ssize_t n;
))
{
	corio_begin();
	while (self->sent < self->total) {
		if (!self->zc) {
			corio_await(self->n, corio_send_all, self->fd,
				    self->buf, self->msg, 0);
			if (self->n < 0)
				corio_return(self->n);
		} else {
			for (self->off = 0; self->off < self->msg;
			     self->off += (size_t)self->n) {
				corio_await(self->n, corio_send_zc, self->fd,
					    self->buf + self->off,
					    self->msg - self->off, 0);
				if (self->n <= 0)
					corio_return(self->n ? self->n : -EIO);
			}
		}
		self->sent += self->msg;
	}
	corio_return((ssize_t)self->sent);
corio_finally:
	corio_end();
}

static void tcp_pair(int *a, int *b)
{
	int lfd = corio_tcp_listen("127.0.0.1", 0, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (lfd < 0) {
		fprintf(stderr, "net_send: listen: %s\n", strerror(-lfd));
		exit(1);
	}
	sin.sin_port = htons((uint16_t)corio_socket_port(lfd));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (*b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		perror("net_send: connect");
		exit(1);
	}
	close(lfd);
}

/* One run: returns GB/s, stores the sender's CPU ns per KiB. */
static double run(struct corio_loop *loop, const char *buf, size_t msg,
		  size_t total, bool zc, double *cpu_per_kb)
{
	struct drain d;
	pthread_t th;
	int64_t t0, c0;
	ssize_t res = 0;
	int a, b, ret;

	tcp_pair(&a, &b);
	d = (struct drain){ .fd = b, .total = total };
	if (pthread_create(&th, NULL, drain_main, &d)) {
		fprintf(stderr, "net_send: pthread_create failed\n");
		exit(1);
	}
	t0 = corio_now();
	c0 = thread_cpu_ns();
	corio_spawn(loop, sender__start(NULL, a, buf, msg, total, zc, &res),
		    NULL);
	ret = corio_loop_run(loop);
	pthread_join(th, NULL);
	*cpu_per_kb = (double)(thread_cpu_ns() - c0) / ((double)total / 1024);
	if (ret < 0 || res != (ssize_t)total) {
		fprintf(stderr, "net_send: send: %s\n",
			corio_strerror(ret < 0 ? ret : (int)res));
		exit(1);
	}
	close(a);
	close(b);
	return (double)total / (double)(corio_now() - t0);
}

int main(int argc, char **argv)
{
	static const struct {
		size_t size;
		const char *name;
	} sizes[] = { { 4096, "4k" }, { 65536, "64k" }, { 1 << 20, "1m" } };
	size_t total = (size_t)(argc > 1 ? atoi(argv[1]) : 256) << 20;
	struct corio_loop *loop;
	char *buf;
	size_t i;
	int r, ret;

	if (!total) {
		fprintf(stderr, "usage: net_send [MiB per run]\n");
		return 2;
	}
	pin(0);
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "net_send: %s\n",
			corio_loop_unavailable_reason());
		return 1;
	}
	buf = malloc(1 << 20);
	if (!buf)
		return 1;
	memset(buf, 'x', 1 << 20);
	printf("net_send.backend=%s\n", corio_loop_backend(loop));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double gb[2][RUNS], cpu[2][RUNS], m[2], c[2];
		size_t msg = sizes[i].size;
		int z;

		for (r = 0; r < RUNS; r++)
			for (z = 0; z < 2; z++)
				gb[z][r] = run(loop, buf, msg, total, z,
					       &cpu[z][r]);
		for (z = 0; z < 2; z++) {
			m[z] = bench_median(gb[z], RUNS);
			c[z] = bench_median(cpu[z], RUNS);
			printf("net_send.%s.%s.gbps=%.2f\n",
			       z ? "zc" : "plain", sizes[i].name, m[z]);
			printf("net_send.%s.%s.cpu_ns_per_kb=%.1f\n",
			       z ? "zc" : "plain", sizes[i].name, c[z]);
		}
		printf("net_send.zc_vs_plain.%s.gbps_ratio=%.2f\n",
		       sizes[i].name, m[1] / m[0]);
		fflush(stdout);
	}
	free(buf);
	return corio_loop_destroy(loop) ? 1 : 0;
}
