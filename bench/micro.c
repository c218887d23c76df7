/* SPDX-License-Identifier: MIT */
/*
 * bench/micro.c - micro benchmarks of the core: yield, await of a trivial
 * child, spawn+join, memory per idle task, and a million timers.
 *
 * Usage: micro [NAME...]   (names: yield await spawn_join idle timers)
 * Prints one name=value per line; each figure is the median of several
 * runs in this process.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#define RUNS 5

static struct corio_loop *loop;

static int64_t now_ns(void)
{
	return corio_now();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void run_loop(void)
{
	int ret = corio_loop_run(loop);

	if (ret) {
		fprintf(stderr, "micro: run: %s\n", corio_strerror(ret));
		exit(1);
	}
}

/* ---- yield: one task through the ready queue ------------------------- */

corio_async(void, yielder, ((long, n)), (
	long i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_yield();
corio_finally:
	corio_end();
}

static double bench_yield(void)
{
	const long n = 10000000;
	int64_t t0 = now_ns();

	corio_spawn(loop, yielder__start(NULL, n), NULL);
	run_loop();
	return (double)(now_ns() - t0) / (double)n;
}

/* ---- await of a trivial child (start, run, finish, release) ---------- */

corio_async(int, trivial, ((int, x)), ())
{
	corio_begin();
	corio_return(self->x + 1);
corio_finally:
	corio_end();
}

corio_async(void, awaiter, ((long, n)), (
	long i;
	int acc;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_await(self->acc, trivial, self->acc);
corio_finally:
	corio_end();
}

static double bench_await(void)
{
	const long n = 10000000;
	int64_t t0 = now_ns();

	corio_spawn(loop, awaiter__start(NULL, n), NULL);
	run_loop();
	return (double)(now_ns() - t0) / (double)n;
}

/* ---- spawn + join of a trivial task --------------------------------- */

corio_async(void, spawner, ((long, n)), (
	long i;
	struct corio_task *child;
	int value, status;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_spawn(loop, trivial__start(NULL, 1, &self->value),
			    &self->child);
		corio_await(self->status, corio_join, self->child);
	}
corio_finally:
	corio_end();
}

static double bench_spawn_join(void)
{
	const long n = 1000000;
	int64_t t0 = now_ns();

	corio_spawn(loop, spawner__start(NULL, n), NULL);
	run_loop();
	return (double)(now_ns() - t0) / (double)n;
}

/* ---- memory per idle task: 1M tasks asleep --------------------------- */

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

corio_async(void, idle, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_SEC(3600));
corio_finally:
	corio_end();
}

corio_async(void, stop_when_all_asleep, (), ())
{
	corio_begin();
	/* Spawned last: by the time it runs every sleeper is suspended. */
	corio_loop_stop(loop);
corio_finally:
	corio_end();
}

static double bench_idle(void)
{
	const long n = 1000000;
	struct corio_task **tasks = malloc(sizeof(*tasks) * (size_t)n);
	long before, after, i;

	before = rss_bytes();
	for (i = 0; i < n; i++)
		corio_spawn(loop, idle__start(NULL), &tasks[i]);
	corio_spawn(loop, stop_when_all_asleep__start(NULL), NULL);
	run_loop();
	after = rss_bytes();
	for (i = 0; i < n; i++) {
		corio_task_cancel(tasks[i]);
		corio_task_detach(tasks[i]);
	}
	run_loop();
	free(tasks);
	/* The handle array is the benchmark's, not the task's: leave it out. */
	return (double)(after - before - (long)sizeof(*tasks) * n) / (double)n;
}

/* ---- a million timers with random deadlines -------------------------- */

corio_async(void, random_sleeper, ((int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
corio_finally:
	corio_end();
}

static void bench_timers(void)
{
	const long n = 1000000;
	struct rusage ru0, ru1;
	int64_t t0, longest = 0;
	double cpu;
	long i;

	srand(1);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		int64_t ns = CORIO_US(rand() % 1000000);

		if (ns > longest)
			longest = ns;
		corio_spawn(loop, random_sleeper__start(NULL, ns), NULL);
	}
	run_loop();
	getrusage(RUSAGE_SELF, &ru1);
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
		       ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
		       ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	printf("timers_1m_wall_ms=%.1f\n", (double)(now_ns() - t0) / 1e6);
	printf("timers_1m_longest_sleep_ms=%.1f\n", (double)longest / 1e6);
	printf("timers_1m_wall_ratio=%.3f\n",
	       (double)(now_ns() - t0) / (double)longest);
	printf("timers_1m_cpu_ms=%.1f\n", cpu * 1e3);
}

static bool wanted(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static void report(const char *name, double (*fn)(void))
{
	double v[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		v[i] = fn();
	printf("%s=%.2f\n", name, median(v, RUNS));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int ret = corio_loop_create(&loop, NULL);

	if (ret) {
		fprintf(stderr, "micro: %s\n", corio_loop_unavailable_reason());
		return 1;
	}
	if (wanted(argc, argv, "yield"))
		report("yield_ns", bench_yield);
	if (wanted(argc, argv, "await"))
		report("await_ns", bench_await);
	if (wanted(argc, argv, "spawn_join"))
		report("spawn_join_ns", bench_spawn_join);
	if (wanted(argc, argv, "idle")) {
		double v = bench_idle();

		printf("idle_task_bytes=%.1f\n", v);
	}
	if (wanted(argc, argv, "timers"))
		bench_timers();
	return corio_loop_destroy(loop) ? 1 : 0;
}
