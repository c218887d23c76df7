/* SPDX-License-Identifier: MIT */
/*
 * bench/runtime_bench.c - what crossing loops costs (corio/runtime.h).
 *
 * Usage: runtime_bench
 *
 *   post        a task on loop 0 posts bursts of messages to loop 1:
 *               ns per message, and eventfd writes per message (the
 *               wake-up is written once per burst the receiver has not yet
 *               drained, so the figure is well under 1 when it coalesces).
 *   run_on      corio_run_on round trips from loop 0 to a trivial task on
 *               loop 1 (two messages and two thread wake-ups each), against
 *               the same call to loop 0 itself (no thread crossing) as the
 *               baseline in the same process: ns per round trip and ratio.
 *
 * Prints name=value lines; each figure is the median of RUNS runs.  The
 * loops' threads are not pinned: with two cores they share them with
 * whatever else runs, so expect noise.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corio.h>
#include <corio/async.h>

#include "stats.h"

#define RUNS 5
#define MESSAGES 200000
#define BURST 64
#define TRIPS 20000

static struct corio_runtime *rt;

static void check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "runtime_bench: %s: %s\n", what,
			corio_strerror(ret));
		exit(1);
	}
}

/* ---- post: bursts from loop 0 to loop 1 ------------------------------ */

static _Atomic long received;

static void on_message(void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&received, 1, memory_order_relaxed);
}

corio_async(void, poster, ((long, n)), (
	long i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		check(corio_loop_post(corio_runtime_loop(rt, 1), on_message,
				      NULL), "post");
		/* Let loop 0 breathe between bursts, as a server would. */
		if (self->i % BURST == BURST - 1)
			corio_yield();
	}
corio_finally:
	corio_end();
}

static struct corio_frame *start_poster(void *arg)
{
	return poster__start(NULL, (long)(intptr_t)arg);
}

static void read_stats(void *arg)
{
	corio_loop_stats(corio_loop_current(), arg);
}

/* Stats of loop 1, read on its thread by a task spawned there. */
struct stats_req {
	struct corio_loop_stats st;
};

corio_async(void, stats_task, ((struct stats_req *, r)), ())
{
	corio_begin();
	read_stats(&self->r->st);
corio_finally:
	corio_end();
}

static struct corio_frame *start_stats(void *arg)
{
	return stats_task__start(NULL, arg);
}

static void loop1_stats(struct corio_loop_stats *st)
{
	struct stats_req r;

	check(corio_runtime_spawn(rt, 1, start_stats, &r, "stats"), "spawn");
	check(corio_runtime_wait(rt), "wait");
	*st = r.st;
}

static void bench_post(void)
{
	double ns[RUNS], writes[RUNS];
	struct corio_loop_stats a, b;
	int r;

	for (r = 0; r < RUNS; r++) {
		int64_t t0;

		atomic_store(&received, 0);
		loop1_stats(&a);
		t0 = corio_now();
		check(corio_runtime_spawn(rt, 0, start_poster,
					  (void *)(intptr_t)MESSAGES, "poster"),
		      "spawn");
		check(corio_runtime_wait(rt), "wait");
		/* The stats task is queued after every message. */
		loop1_stats(&b);
		ns[r] = (double)(corio_now() - t0) / MESSAGES;
		if (atomic_load(&received) != MESSAGES) {
			fprintf(stderr, "runtime_bench: %ld of %d messages\n",
				atomic_load(&received), MESSAGES);
			exit(1);
		}
		writes[r] = (double)(b.wake_writes - a.wake_writes) / MESSAGES;
	}
	printf("post.ns_per_message=%.1f\n", bench_median(ns, RUNS));
	printf("post.eventfd_writes_per_message=%.4f\n", bench_median(writes, RUNS));
}

/* ---- run_on: round trips --------------------------------------------- */

corio_async(void, nothing, ((void *, unused)), ())
{
	corio_begin();
corio_finally:
	corio_end();
}

static struct corio_frame *start_nothing(void *arg)
{
	return nothing__start(NULL, arg);
}

corio_async(void, tripper, ((int, target)), (
	long i;
	int status;
))
{
	corio_begin();
	for (self->i = 0; self->i < TRIPS; self->i++) {
		corio_await(self->status, corio_run_on, rt, self->target,
			    start_nothing, NULL);
		check(self->status, "run_on");
	}
corio_finally:
	corio_end();
}

static struct corio_frame *start_tripper(void *arg)
{
	return tripper__start(NULL, (int)(intptr_t)arg);
}

static double trips(int target)
{
	double ns[RUNS];
	int r;

	for (r = 0; r < RUNS; r++) {
		int64_t t0 = corio_now();

		check(corio_runtime_spawn(rt, 0, start_tripper,
					  (void *)(intptr_t)target, "trips"),
		      "spawn");
		check(corio_runtime_wait(rt), "wait");
		ns[r] = (double)(corio_now() - t0) / TRIPS;
	}
	return bench_median(ns, RUNS);
}

static void bench_run_on(void)
{
	double same = trips(0), cross = trips(1);

	printf("run_on.same_loop_ns=%.0f\n", same);
	printf("run_on.cross_loop_ns=%.0f\n", cross);
	printf("run_on.cross_vs_same=%.2f\n", cross / same);
}

int main(void)
{
	check(corio_runtime_create(&rt, 2, NULL), "runtime");
	bench_post();
	bench_run_on();
	check(corio_runtime_destroy(rt), "destroy");
	return 0;
}
