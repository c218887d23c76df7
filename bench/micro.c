/* SPDX-License-Identifier: MIT */
/*
 * bench/micro.c - micro benchmarks of the core: yield, await of a trivial
 * child, spawn+join, memory per idle task, and a million timers.
 *
 * Usage: micro [NAME...]   (names: yield await spawn_join chan mutex idle
 *                           timers detect_cost scope)
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

#include "stats.h"

#define RUNS 5

static struct corio_loop *loop;
/* When set, the benchmarks' tasks and primitives belong to this scope
 * (corio/scope.h): what being in a scope costs. */
static struct corio_scope *bench_scope;

static void scope_enter(void)
{
	if (bench_scope && corio_scope_enter(bench_scope))
		exit(1);
}

static void scope_exit(void)
{
	if (bench_scope && corio_scope_exit(bench_scope))
		exit(1);
}

static int64_t now_ns(void)
{
	return corio_now();
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

/* ---- channel ping-pong and uncontended mutex ---------------------------- */

static struct corio_chan ping_ch, pong_ch;

corio_async(void, pinger, ((long, n)), (
	long i;
	int v, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_chan_send, &ping_ch, &self->v);
		corio_await(self->r, corio_chan_recv, &pong_ch, &self->v);
	}
corio_finally:
	corio_end();
}

corio_async(void, ponger, ((long, n)), (
	long i;
	int v, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_chan_recv, &ping_ch, &self->v);
		self->v++;
		corio_await(self->r, corio_chan_send, &pong_ch, &self->v);
	}
corio_finally:
	corio_end();
}

/* One round trip: a message to the other task over one channel and the
 * answer back over another (capacity 1 each). */
static double bench_chan(void)
{
	const long n = 2000000;
	int64_t t0;

	scope_enter();
	corio_chan_init(&ping_ch, sizeof(int), 1, "ping");
	corio_chan_init(&pong_ch, sizeof(int), 1, "pong");
	t0 = now_ns();
	corio_spawn(loop, pinger__start(NULL, n), NULL);
	corio_spawn(loop, ponger__start(NULL, n), NULL);
	scope_exit();
	run_loop();
	t0 = now_ns() - t0;
	corio_chan_destroy(&ping_ch);
	corio_chan_destroy(&pong_ch);
	return (double)t0 / (double)n;
}

static struct corio_mutex bench_mutex;

corio_async(void, locker, ((long, n)), (
	long i;
	int r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_mutex_lock, &bench_mutex);
		corio_mutex_unlock(&bench_mutex);
	}
corio_finally:
	corio_end();
}

/* Lock and unlock with nobody else wanting the mutex. */
static double bench_mutex_fn(void)
{
	const long n = 10000000;
	int64_t t0;

	scope_enter();
	corio_mutex_init(&bench_mutex, "bench");
	t0 = now_ns();
	corio_spawn(loop, locker__start(NULL, n), NULL);
	scope_exit();
	run_loop();
	t0 = now_ns() - t0;
	corio_mutex_destroy(&bench_mutex);
	return (double)t0 / (double)n;
}

/* ---- a scope of 100,000 waiting tasks -------------------------------- */

static struct corio_event many_ev;

corio_async(void, ev_waiter, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_event_wait, &many_ev);
corio_finally:
	corio_end();
}

/* Yield once, so every waiter has blocked, then wake them all. */
corio_async(void, ev_setter, (), ())
{
	corio_begin();
	corio_yield();
	corio_event_set(&many_ev);
corio_finally:
	corio_end();
}

/*
 * 100,000 tasks wait on one event; a task spawned before them wakes them
 * all after a yield.  In a scope, the loop checks the scope once, after
 * the iteration in which they blocked, and its walk meets the setter (not
 * blocked) last: the longest check there is.  Milliseconds for the whole
 * run; the difference with and without a scope is what scopes cost there.
 */
static double bench_many(void)
{
	const long n = 100000;
	int64_t t0 = now_ns();
	long i;

	scope_enter();
	corio_event_init(&many_ev, "many");
	corio_spawn(loop, ev_setter__start(NULL), NULL);
	for (i = 0; i < n; i++)
		corio_spawn(loop, ev_waiter__start(NULL), NULL);
	scope_exit();
	run_loop();
	t0 = now_ns() - t0;
	corio_event_destroy(&many_ev);
	return (double)t0 / 1e6;
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
	printf("%s=%.2f\n", name, bench_median(v, RUNS));
	fflush(stdout);
}

static void make_loop(unsigned flags)
{
	struct corio_loop_opts opts = { .flags = flags };
	int ret;

	if (loop && corio_loop_destroy(loop))
		exit(1);
	loop = NULL;
	ret = corio_loop_create(&loop, &opts);
	if (ret) {
		fprintf(stderr, "micro: %s\n", corio_loop_unavailable_reason());
		exit(1);
	}
}

int main(int argc, char **argv)
{
	make_loop(0);
	if (wanted(argc, argv, "yield"))
		report("yield_ns", bench_yield);
	if (wanted(argc, argv, "await"))
		report("await_ns", bench_await);
	if (wanted(argc, argv, "spawn_join"))
		report("spawn_join_ns", bench_spawn_join);
	if (wanted(argc, argv, "chan"))
		report("chan_pingpong_ns", bench_chan);
	if (wanted(argc, argv, "mutex"))
		report("mutex_lock_unlock_ns", bench_mutex_fn);
	if (wanted(argc, argv, "idle")) {
		double v = bench_idle();

		printf("idle_task_bytes=%.1f\n", v);
	}
	if (wanted(argc, argv, "timers"))
		bench_timers();
	/* The same with the deadlock bookkeeping switched off, to show what
	 * detection costs. */
	if (wanted(argc, argv, "detect_cost")) {
		make_loop(CORIO_LOOP_NO_DEADLOCK_CHECK);
		report("yield_ns_nodetect", bench_yield);
		report("chan_pingpong_ns_nodetect", bench_chan);
		report("mutex_lock_unlock_ns_nodetect", bench_mutex_fn);
	}
	/* The same inside a scope (corio/scope.h), and 100,000 tasks waiting
	 * with and without one. */
	if (wanted(argc, argv, "scope")) {
		make_loop(0);
		report("many_100k_ms", bench_many);
		if (corio_scope_create(loop, "bench", &bench_scope))
			return 1;
		report("scope_chan_pingpong_ns", bench_chan);
		report("scope_mutex_lock_unlock_ns", bench_mutex_fn);
		report("scope_many_100k_ms", bench_many);
		corio_scope_destroy(bench_scope);
		bench_scope = NULL;
	}
	return corio_loop_destroy(loop) ? 1 : 0;
}
