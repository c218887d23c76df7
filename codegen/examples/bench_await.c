/* SPDX-License-Identifier: MIT */
/*
 * bench_await - cost of awaiting a trivial child: generated code against
 * the macro DSL (bench_await_dsl.c), same loop, same runtime.
 *
 * Usage: bench_await [N]   prints ns per await for both and their ratio
 * (median of 5 runs each, alternating).
 */
#include <stdio.h>
#include <stdlib.h>

#include <corio.h>
#include <corio/await.h>

#define RUNS 5

/* From bench_await_dsl.c, written with corio_async(). */
async void dsl_awaiter(long n);
async void gen_awaiter(long n);

static async int gen_trivial(int x)
{
	return x + 1;
}

async void gen_awaiter(long n)
{
	int acc = 0;

	for (long i = 0; i < n; i++)
		acc = await gen_trivial(acc);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double timed(struct corio_loop *loop, struct corio_frame *root,
		    long n)
{
	int64_t t0 = corio_now();

	if (corio_spawn(loop, root, NULL) < 0 || corio_loop_run(loop) < 0) {
		fprintf(stderr, "bench_await: run failed\n");
		exit(1);
	}
	return (double)(corio_now() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	double gen[RUNS], dsl[RUNS];
	struct corio_loop *loop;

	if (corio_loop_create(&loop, NULL) < 0) {
		fprintf(stderr, "bench_await: %s\n",
			corio_loop_unavailable_reason());
		return 77;
	}
	for (int r = 0; r < RUNS; r++) {
		gen[r] = timed(loop, gen_awaiter__start(NULL, n), n);
		dsl[r] = timed(loop, dsl_awaiter__start(NULL, n), n);
	}
	qsort(gen, RUNS, sizeof(*gen), cmp_double);
	qsort(dsl, RUNS, sizeof(*dsl), cmp_double);
	printf("await_generated_ns=%.2f\nawait_macro_ns=%.2f\nratio=%.3f\n",
	       gen[RUNS / 2], dsl[RUNS / 2], gen[RUNS / 2] / dsl[RUNS / 2]);
	corio_loop_destroy(loop);
	return 0;
}
