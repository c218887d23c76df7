/* SPDX-License-Identifier: MIT */
/*
 * select_bench - what corio_select costs against the one operation it
 * replaces.
 *
 *	taskset -c 1 select_bench [N]
 *
 * In one task, N times (default 5,000,000): put an int into a channel
 * without waiting, then await
 *   recv       corio_chan_recv of it (the baseline),
 *   select1    corio_select over two receives, the first ready,
 *   select2    the same with only the second ready (the first is tried
 *              and found empty),
 * and, between two tasks (N / 5 round trips, each side waits every time):
 *   pingpong_recv    a round trip of corio_chan_recv / corio_chan_send,
 *   pingpong_select  the same with each receive in a select with a
 *                    second case that never comes: a stand-in is
 *                    queued on each channel every time.
 * Each figure is the median of 5 runs, in ns per iteration, with its
 * ratio to the baseline measured in the same process.
 */
#include <stdio.h>
#include <stdlib.h>

#include <corio.h>
#include <corio/async.h>

#include "stats.h"

#define RUNS 5

static long n_iter = 5000000;
static struct corio_loop *loop;
static struct corio_chan a, b, idle;

enum mode { RECV, SELECT_FIRST, SELECT_SECOND };

corio_async(void, ready_loop, ((int, mode)), (
	struct corio_select_case c[2];
	long i;
	int v, out, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < n_iter; self->i++) {
		self->v = (int)self->i;
		if (self->mode == RECV) {
			corio_chan_try_send(&a, &self->v);
			corio_await(self->r, corio_chan_recv, &a, &self->out);
			continue;
		}
		corio_chan_try_send(self->mode == SELECT_FIRST ? &a : &b,
				    &self->v);
		self->c[0] = corio_case_recv(&a, &self->out);
		self->c[1] = corio_case_recv(&b, &self->out);
		corio_await(self->r, corio_select, self->c, 2);
	}
	if (self->out != (int)n_iter - 1)
		abort();
corio_finally:
	corio_end();
}

/* Round trips: @a carries the ball one way, @b back. */
corio_async(void, player, ((int, serve), (int, use_select)), (
	struct corio_select_case c[2];
	struct corio_chan *in, *out;
	long i;
	int v, r;
))
{
	corio_begin();
	self->in = self->serve ? &b : &a;
	self->out = self->serve ? &a : &b;
	for (self->i = 0; self->i < n_iter / 5; self->i++) {
		if (self->serve)
			corio_await(self->r, corio_chan_send, self->out,
				    &self->v);
		if (self->use_select) {
			/* The ball, or something that never comes. */
			self->c[0] = corio_case_recv(self->in, &self->v);
			self->c[1] = corio_case_recv(&idle, &self->v);
			corio_await(self->r, corio_select, self->c, 2);
		} else {
			corio_await(self->r, corio_chan_recv, self->in,
				    &self->v);
		}
		if (!self->serve)
			corio_await(self->r, corio_chan_send, self->out,
				    &self->v);
	}
corio_finally:
	corio_end();
}

static int64_t now_ns(void)
{
	return corio_now();
}

static double run(int mode)
{
	int64_t t0 = now_ns();

	corio_spawn(loop, ready_loop__start(NULL, mode), NULL);
	if (corio_loop_run(loop))
		exit(1);
	return (double)(now_ns() - t0) / (double)n_iter;
}

static double run_pingpong(int use_select)
{
	int64_t t0 = now_ns();

	corio_spawn(loop, player__start(NULL, 1, use_select), NULL);
	corio_spawn(loop, player__start(NULL, 0, use_select), NULL);
	if (corio_loop_run(loop))
		exit(1);
	return (double)(now_ns() - t0) / (double)(n_iter / 5);
}

static double median_of(double (*fn)(int), int arg)
{
	double v[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		v[i] = fn(arg);
	return bench_median(v, RUNS);
}

int main(int argc, char **argv)
{
	double recv, sel1, sel2, pp_recv, pp_sel;

	if (argc > 1)
		n_iter = atol(argv[1]);
	if (n_iter < 5 || corio_loop_create(&loop, NULL)) {
		fprintf(stderr, "select_bench: %s\n",
			corio_loop_unavailable_reason());
		return 1;
	}
	corio_chan_init(&a, sizeof(int), 1, "a");
	corio_chan_init(&b, sizeof(int), 1, "b");
	corio_chan_init(&idle, sizeof(int), 0, "idle");
	recv = median_of(run, RECV);
	sel1 = median_of(run, SELECT_FIRST);
	sel2 = median_of(run, SELECT_SECOND);
	pp_recv = median_of(run_pingpong, 0);
	pp_sel = median_of(run_pingpong, 1);
	printf("recv_ns=%.2f\n", recv);
	printf("select_first_ready_ns=%.2f ratio=%.2f\n", sel1, sel1 / recv);
	printf("select_second_ready_ns=%.2f ratio=%.2f\n", sel2, sel2 / recv);
	printf("pingpong_recv_ns=%.2f\n", pp_recv);
	printf("pingpong_select_ns=%.2f ratio=%.2f\n", pp_sel,
	       pp_sel / pp_recv);
	corio_chan_destroy(&a);
	corio_chan_destroy(&b);
	corio_chan_destroy(&idle);
	return corio_loop_destroy(loop) ? 1 : 0;
}
