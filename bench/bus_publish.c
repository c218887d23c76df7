/* SPDX-License-Identifier: MIT */
/*
 * bus_publish - what an event costs on the bus, against a channel.
 *
 *	taskset -c 1 bus_publish [N]
 *
 * Baseline: corio_chan_try_send + corio_chan_try_recv of one 8-byte
 * element (the cheapest hand-over corio has).  Against it, on one loop
 * thread with no task switch: a publish to one queue subscriber plus its
 * try_next, a publish to one and to ten callback subscribers, and a
 * subscribe + unsubscribe pair.  Each figure is the median of 5 runs of N
 * operations (default 2,000,000), printed as ns per operation and as a
 * ratio to the baseline measured in the same process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <corio.h>

#include "stats.h"

#define RUNS 5

static long n_ops = 2000000;
static struct corio_bus *bus;
static struct corio_chan chan;
static struct corio_bus_owner *owner;
static int64_t queue_id;
static volatile uint64_t sink;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_event(void *arg, uint64_t topic, const void *msg)
{
	(void)arg;
	sink += topic + *(const uint64_t *)msg;
}

static void chan_round_trip(void)
{
	uint64_t v = 1, out;
	long i;

	for (i = 0; i < n_ops; i++) {
		corio_chan_try_send(&chan, &v);
		corio_chan_try_recv(&chan, &out);
		sink += out;
	}
}

static void bus_queue(void)
{
	uint64_t v = 1, out;
	long i;

	for (i = 0; i < n_ops; i++) {
		corio_bus_try_publish(bus, 1, &v);
		corio_bus_try_next(bus, queue_id, &out);
		sink += out;
	}
}

static void bus_one_callback(void)
{
	uint64_t v = 1;
	long i;

	for (i = 0; i < n_ops; i++)
		corio_bus_try_publish(bus, 2, &v);
}

static void bus_ten_callbacks(void)
{
	uint64_t v = 1;
	long i;

	for (i = 0; i < n_ops; i++)
		corio_bus_try_publish(bus, 3, &v);
}

static void subscribe_unsubscribe(void)
{
	struct corio_bus_sub_opts o = { .owner = owner, .fn = on_event };
	long i;

	for (i = 0; i < n_ops; i++)
		corio_bus_unsubscribe(bus, corio_bus_subscribe(bus, 4, &o));
}

/* Median ns per operation of RUNS runs of @fn. */
static double measure(void (*fn)(void))
{
	double ns[RUNS];
	int r;

	for (r = 0; r < RUNS; r++) {
		int64_t t0 = mono_ns();

		fn();
		ns[r] = (double)(mono_ns() - t0) / (double)n_ops;
	}
	return bench_median(ns, RUNS);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "bus: publish + try_next, 1 queue", bus_queue },
		{ "bus: publish, 1 callback", bus_one_callback },
		{ "bus: publish, 10 callbacks", bus_ten_callbacks },
		{ "bus: subscribe + unsubscribe", subscribe_unsubscribe },
	};
	struct corio_loop *loop;
	double base;
	int ret, i;

	if (argc > 1)
		n_ops = atol(argv[1]);
	if (n_ops <= 0) {
		fprintf(stderr, "usage: bus_publish [N > 0]\n");
		return 2;
	}
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "bus_publish: %s\n", corio_strerror(ret));
		return 1;
	}
	if (corio_chan_init(&chan, sizeof(uint64_t), 1, "bench") ||
	    corio_bus_create(&bus, sizeof(uint64_t), "bench") ||
	    corio_bus_owner_create(&owner)) {
		fprintf(stderr, "bus_publish: setup failed\n");
		return 1;
	}
	queue_id = corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = owner, .capacity = 1 });
	corio_bus_subscribe(bus, 2, &(struct corio_bus_sub_opts){
		.owner = owner, .fn = on_event });
	for (i = 0; i < 10; i++)
		corio_bus_subscribe(bus, 3, &(struct corio_bus_sub_opts){
			.owner = owner, .fn = on_event });
	base = measure(chan_round_trip);
	printf("%-36s %8.1f ns  1.00x (baseline)\n",
	       "chan: try_send + try_recv", base);
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		double ns = measure(cases[i].fn);

		printf("%-36s %8.1f ns  %.2fx\n", cases[i].name, ns, ns / base);
	}
	corio_bus_owner_release(owner);
	corio_bus_destroy(bus);
	corio_chan_destroy(&chan);
	return corio_loop_destroy(loop) ? 1 : 0;
}
