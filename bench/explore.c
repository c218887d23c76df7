/* SPDX-License-Identifier: MIT */
/*
 * bench/explore.c - what schedule exploration and lock-order checking find
 * and cost (corio/explore.h, corio/lockorder.h).
 *
 *	explore [find|fixed|throughput|lockorder]...   (all when none)
 *
 *   find        five naive dining philosophers (FIFO order completes):
 *               schedules until the deadlock is found, for 51 base seeds
 *               (median, worst, how many found within 1,000); and the
 *               bounded mode's count
 *   fixed       the same with a fixed lock order: 10,000 schedules with
 *               lock-order checking on; every report counts
 *   throughput  schedules per second of a 5-task body, 50 awaits each
 *               (a mutex and a yield), in a child process and in this
 *               one: median of 5 explorations of 10,000 schedules
 *   lockorder   CPU ns per mutex lock + unlock with lock-order tracking
 *               off and on (one mutex; one held around another): median
 *               of 9 runs of 5,000,000, and the ratio
 *
 * Output: name=value lines.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <corio.h>
#include <corio/async.h>

#include "../tests/philosophers.h"
#include "stats.h"

#define RUNS 5
#define LOCK_RUNS 9

static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static struct phil_table table;
static struct corio_explore_body philosophers = {
	"philosophers", phil_start, phil_finish, &table,
};

static int bench_find(void)
{
	enum { SEEDS = 51 };
	struct corio_explore_opts o = {
		.schedules = 1000,
		.flags = CORIO_EXPLORE_NO_LOCK_ORDER | CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;
	double found[SEEDS];
	int i, within = 0, ret;

	table.ordered = false;
	for (i = 0; i < SEEDS; i++) {
		o.seed = (uint64_t)i + 1;
		ret = corio_explore(&philosophers, &o, &res);
		if (ret < 0)
			return ret;
		found[i] = ret ? (double)res.schedules : 1e9;
		within += ret == 1 && res.failure == CORIO_EXPLORE_DEADLOCK;
	}
	printf("find_naive_seeds=%d\n", SEEDS);
	printf("find_naive_found_within_1000=%d\n", within);
	printf("find_naive_schedules_median=%.0f\n",
	       bench_median(found, SEEDS));
	printf("find_naive_schedules_worst=%.0f\n", found[SEEDS - 1]);
	/* Systematically: every schedule with few departures from FIFO. */
	o.mode = CORIO_EXPLORE_BOUNDED;
	o.schedules = 1000000;
	for (o.preemptions = 1; o.preemptions <= 6; o.preemptions++) {
		ret = corio_explore(&philosophers, &o, &res);
		if (ret < 0)
			return ret;
		printf("find_naive_bounded_%u=%s after %llu schedules%s\n",
		       o.preemptions, ret ? "found" : "none",
		       (unsigned long long)res.schedules,
		       res.exhausted ? " (all of them)" : "");
		if (ret)
			break;
	}
	return 0;
}

static int bench_fixed(void)
{
	struct corio_explore_opts o = {
		.schedules = 10000,
		.flags = CORIO_EXPLORE_QUIET,
	};
	struct corio_explore_result res;
	int ret;

	table.ordered = true;
	ret = corio_explore(&philosophers, &o, &res);
	if (ret < 0)
		return ret;
	printf("fixed_schedules=%llu\n", (unsigned long long)res.schedules);
	printf("fixed_failures=%d\n", ret);
	printf("fixed_lock_order_reports=%llu\n",
	       (unsigned long long)res.lock_order_cycles);
	return 0;
}

/* ---- throughput ------------------------------------------------------- */

static struct corio_mutex shared;

corio_async(void, worker, (), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < 25; self->i++) {
		corio_await(self->r, corio_mutex_lock, &shared);
		corio_yield();
		corio_mutex_unlock(&shared);
	}
corio_finally:
	corio_end();
}

static int five_start(struct corio_loop *loop, void *arg)
{
	int i;

	(void)arg;
	corio_mutex_init(&shared, "shared");
	for (i = 0; i < 5; i++)
		corio_spawn(loop, worker__start(NULL), NULL);
	return 0;
}

static int five_finish(struct corio_loop *loop, void *arg, int run)
{
	(void)loop;
	(void)arg;
	(void)run;
	return corio_mutex_destroy(&shared);
}

static int bench_throughput(void)
{
	struct corio_explore_body body = { "five", five_start, five_finish,
					   NULL };
	struct corio_explore_opts o = { .schedules = 10000 };
	struct corio_explore_result res;
	double rate[RUNS], t;
	int i, ret, fork;

	for (fork = 1; fork >= 0; fork--) {
		o.flags = fork ? 0 : CORIO_EXPLORE_NO_FORK;
		for (i = 0; i < RUNS; i++) {
			t = now_s();
			ret = corio_explore(&body, &o, &res);
			t = now_s() - t;
			if (ret)
				return ret < 0 ? ret : -EPROTO;
			rate[i] = (double)res.schedules / t;
		}
		printf("throughput_%s_schedules_per_s=%.0f\n",
		       fork ? "fork" : "nofork", bench_median(rate, RUNS));
		printf("throughput_%s_steps_per_schedule=%.0f\n",
		       fork ? "fork" : "nofork",
		       (double)res.steps / (double)res.schedules);
	}
	return 0;
}

/* ---- lock-order tracking ------------------------------------------------ */

corio_async(void, lock_loop, ((struct corio_mutex *, outer),
			      (struct corio_mutex *, m), (long, n)), (
	long i;
	int r;
))
{
	corio_begin();
	if (self->outer)
		corio_await(self->r, corio_mutex_lock, self->outer);
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_mutex_lock, self->m);
		corio_mutex_unlock(self->m);
	}
	if (self->outer)
		corio_mutex_unlock(self->outer);
corio_finally:
	corio_end();
}

/* ns per lock + unlock of one run of @n. */
static double lock_run(unsigned flags, bool nested, long n)
{
	struct corio_loop_opts o = { .flags = flags };
	struct corio_mutex outer, m;
	struct corio_loop *loop;
	double t;

	if (corio_loop_create(&loop, &o))
		return -1;
	corio_mutex_init(&outer, "outer");
	corio_mutex_init(&m, "m");
	corio_spawn(loop, lock_loop__start(NULL, nested ? &outer : NULL, &m,
					   n), NULL);
	/* CPU time: on a shared machine, preemption is not the cost. */
	t = clock_s(CLOCK_THREAD_CPUTIME_ID);
	corio_loop_run(loop);
	t = clock_s(CLOCK_THREAD_CPUTIME_ID) - t;
	corio_mutex_destroy(&m);
	corio_mutex_destroy(&outer);
	corio_loop_destroy(loop);
	return t * 1e9 / (double)n;
}

static int bench_lockorder(void)
{
	static const char *const shape[] = { "single", "nested" };
	double off[LOCK_RUNS], on[LOCK_RUNS], moff, mon;
	int nested, i;

	for (nested = 0; nested < 2; nested++) {
		for (i = 0; i < LOCK_RUNS; i++) {
			off[i] = lock_run(0, nested, 5000000);
			on[i] = lock_run(CORIO_LOOP_LOCK_ORDER, nested,
					 5000000);
			if (off[i] < 0 || on[i] < 0)
				return -EIO;
		}
		moff = bench_median(off, LOCK_RUNS);
		mon = bench_median(on, LOCK_RUNS);
		printf("lockorder_%s_off_ns=%.1f\n", shape[nested], moff);
		printf("lockorder_%s_on_ns=%.1f\n", shape[nested], mon);
		printf("lockorder_%s_ratio=%.2f\n", shape[nested], mon / moff);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} benches[] = {
		{ "find", bench_find },
		{ "fixed", bench_fixed },
		{ "throughput", bench_throughput },
		{ "lockorder", bench_lockorder },
	};
	size_t b;
	int i, ret;

	for (b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
		bool asked = argc < 2;

		for (i = 1; i < argc; i++)
			asked |= !strcmp(argv[i], benches[b].name);
		if (!asked)
			continue;
		ret = benches[b].fn();
		if (ret) {
			fprintf(stderr, "explore: %s: %s\n", benches[b].name,
				corio_strerror(ret));
			return 1;
		}
		fflush(stdout);
	}
	return 0;
}
