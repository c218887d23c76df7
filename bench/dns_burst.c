/* SPDX-License-Identifier: MIT */
/*
 * bench/dns_burst.c - a burst of concurrent corio_resolve calls: how long
 * until every one has its answer.
 *
 * Usage: dns_burst --server HOST:PORT [--names N] [--runs R]
 *                  [--family inet|unspec] [--timeout-ms MS]
 *                  [--max-queries N]
 *
 * The server must answer nI.bench (I < N) with one address, as the
 * dnsmasq that bench/dns_burst.sh starts does.  Each run creates a loop
 * and a resolver, spawns N tasks that each resolve a different name at
 * once, and runs the loop until all are answered.  The first-try timeout
 * is c-ares's default (5 s) unless --timeout-ms says otherwise: a burst
 * that loses datagrams shows up as runs of 5 s and more.  Prints
 * name=value lines (FAM is inet or unspec):
 *   dns_burst.FAM.N.ms              median wall time of the burst
 *   dns_burst.FAM.N.ms_max          slowest run
 *   dns_burst.FAM.N.errors          failed resolves, all runs together
 *   dns_burst.FAM.N.per_resolve_us  median burst time / N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <corio.h>
#include <corio/async.h>
#include <corio/dns.h>

#include "stats.h"

#define MAX_RUNS 50

struct burst {
	struct corio_resolver *res;
	int family;
	int n;
	char (*names)[24];
	int errors;
};

corio_async_static(int, resolve_one, ((struct burst *, b), (int, i)), (
	struct corio_addrinfo *list;
	int ret;
))
{
	corio_begin();
	corio_await(self->ret, corio_resolve, self->b->res,
		    self->b->names[self->i], NULL, self->b->family,
		    &self->list);
	if (self->ret != 1) {
		if (self->b->errors++ == 0)
			fprintf(stderr, "dns_burst: %s: %s\n",
				self->b->names[self->i],
				corio_resolve_strerror(self->ret));
	}
	corio_addrinfo_free(self->list);
	corio_return(0);
corio_finally:
	corio_end();
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One burst of b->n resolves; its wall time in ms, or < 0 on error. */
static double run_burst(struct burst *b, const char *servers, int timeout_ms,
			int max_queries)
{
	struct corio_resolver_opts o = {
		.servers = servers, .lookups = "b", .timeout_ms = timeout_ms,
		.max_queries = max_queries, .flags = CORIO_RESOLVER_NO_SEARCH,
	};
	struct corio_loop *loop;
	double t0, t;
	int i, ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "dns_burst: loop: %s (%s)\n",
			corio_strerror(ret), corio_loop_unavailable_reason());
		return -1;
	}
	ret = corio_resolver_create(&b->res, &o);
	if (ret < 0) {
		fprintf(stderr, "dns_burst: resolver: %s\n",
			corio_strerror(ret));
		corio_loop_destroy(loop);
		return -1;
	}
	t0 = now_ms();
	for (i = 0; i < b->n; i++) {
		ret = corio_spawn(loop, resolve_one__start(NULL, b, i, NULL),
				  NULL);
		if (ret < 0) {
			fprintf(stderr, "dns_burst: spawn: %s\n",
				corio_strerror(ret));
			return -1;
		}
	}
	ret = corio_loop_run(loop);
	t = now_ms() - t0;
	if (ret < 0)
		fprintf(stderr, "dns_burst: loop run: %s\n",
			corio_strerror(ret));
	corio_resolver_destroy(b->res);
	corio_loop_destroy(loop);
	return ret < 0 ? -1 : t;
}

int main(int argc, char **argv)
{
	struct burst b = { .family = AF_INET, .n = 1000 };
	int runs = 5, timeout_ms = 0, max_queries = 0, i, rc = 1;
	double ms[MAX_RUNS], worst = 0;
	const char *servers = NULL, *fam;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];

		if (!strcmp(a, "--names"))
			b.n = atoi(v);
		else if (!strcmp(a, "--runs"))
			runs = atoi(v);
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = atoi(v);
		else if (!strcmp(a, "--max-queries"))
			max_queries = atoi(v);
		else if (!strcmp(a, "--server"))
			servers = v;
		else if (!strcmp(a, "--family") && !strcmp(v, "unspec"))
			b.family = AF_UNSPEC;
		else if (strcmp(a, "--family") || strcmp(v, "inet"))
			goto usage;
	}
	if (i != argc || !servers || b.n < 1 || b.n > 65536 || runs < 1 ||
	    runs > MAX_RUNS || timeout_ms < 0 || max_queries < 0)
		goto usage;
	fam = b.family == AF_UNSPEC ? "unspec" : "inet";
	b.names = calloc((size_t)b.n, sizeof(*b.names));
	if (!b.names)
		return 1;
	for (i = 0; i < b.n; i++)
		snprintf(b.names[i], sizeof(b.names[i]), "n%d.bench", i);
	for (i = 0; i < runs; i++) {
		ms[i] = run_burst(&b, servers, timeout_ms, max_queries);
		if (ms[i] < 0)
			goto out;
		if (ms[i] > worst)
			worst = ms[i];
	}
	printf("dns_burst.%s.%d.ms=%.1f\n", fam, b.n, bench_median(ms, runs));
	printf("dns_burst.%s.%d.ms_max=%.1f\n", fam, b.n, worst);
	printf("dns_burst.%s.%d.errors=%d\n", fam, b.n, b.errors);
	printf("dns_burst.%s.%d.per_resolve_us=%.1f\n", fam, b.n,
	       ms[runs / 2] * 1e3 / b.n);
	rc = b.errors ? 1 : 0;
out:
	free(b.names);
	return rc;
usage:
	fprintf(stderr, "usage: dns_burst --server HOST:PORT [--names N] "
		"[--runs R] [--family inet|unspec] [--timeout-ms MS] "
		"[--max-queries N]\n");
	return 2;
}
