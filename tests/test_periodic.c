/* SPDX-License-Identifier: MIT */
/*
 * tests/test_periodic.c - periodic releases: exact instants over a million
 * releases on the virtual clock (next to a relative-sleep loop that
 * drifts), overruns skipped and counted, deadlines and cancellation of the
 * wait, the lateness histogram, and real-clock jitter figures (printed,
 * not asserted).
 */
#include "testutil.h"

#include <corio/async.h>
#include <corio/test.h>

static struct corio_loop *virtual_loop(void)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };

	return t_loop_opts(&opts);
}

struct run {
	int64_t period;
	uint64_t n;
	int64_t start, end;		/* first instant, clock at the end */
	int64_t worst_offset;		/* most (resume - release) seen */
	uint64_t mismatches;		/* releases off start + k*period */
	struct corio_periodic p;
};

/*
 * N releases; checks each instant against start + k * period, k counting
 * the skipped releases too.
 */
corio_async(void, periodic_job, ((struct run *, run)), (
	uint64_t i, k;
	int r;
))
{
	int64_t off;

	corio_begin();
	self->run->start = corio_now() + self->run->period;
	cr_assert_eq(corio_periodic_init(&self->run->p, self->run->start,
					 self->run->period), 0);
	for (self->i = 0; self->i < self->run->n; self->i++) {
		corio_await(self->r, corio_periodic_next, &self->run->p);
		cr_assert_geq(self->r, 0, "%s", corio_strerror(self->r));
		self->k += (uint64_t)self->r;
		if (corio_periodic_release_time(&self->run->p) !=
		    self->run->start + (int64_t)self->k * self->run->period)
			self->run->mismatches++;
		off = corio_now() - corio_periodic_release_time(&self->run->p);
		if (off > self->run->worst_offset)
			self->run->worst_offset = off;
		self->k++;
	}
	self->run->end = corio_now();
corio_finally:
	corio_end();
}

/* The naive loop: sleep one period after each resume. */
corio_async(void, relative_job, ((struct run *, run)), (
	uint64_t k;
	int r;
))
{
	corio_begin();
	self->run->start = corio_now() + self->run->period;
	for (self->k = 0; self->k < self->run->n; self->k++) {
		corio_await(self->r, corio_sleep, self->run->period);
		cr_assert_eq(self->r, 0);
	}
	self->run->end = corio_now();
corio_finally:
	corio_end();
}

Test(periodic, million_releases_without_drift, .timeout = 60)
{
#ifdef T_ASAN
	const uint64_t n = 100000;	/* ASan: 10x fewer, same checks */
#else
	const uint64_t n = 1000000;
#endif
	struct run fixed = { .period = CORIO_MS(1), .n = n };
	struct run rel = { .period = CORIO_MS(1), .n = n };
	struct corio_periodic_stats st;
	struct corio_loop *loop = virtual_loop();
	int64_t drift_fixed, drift_rel;

	corio_spawn(loop, periodic_job__start(NULL, &fixed), NULL);
	corio_assert_finished(loop);
	corio_spawn(loop, relative_job__start(NULL, &rel), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);

	cr_assert_eq(corio_periodic_stats(&fixed.p, &st), 0);
	cr_assert_eq(fixed.mismatches, 0);
	cr_assert_eq(st.releases, n);
	cr_assert_eq(st.skipped, 0);
	/* Lateness stays below one period at every release (the virtual
	 * clock wakes on timer ticks, so it is not exactly zero), and the
	 * last release lands where the first plus n-1 periods says. */
	cr_assert_lt(fixed.worst_offset, fixed.period);
	cr_assert_eq(st.late_max, fixed.worst_offset);
	drift_fixed = fixed.end - (fixed.start + (int64_t)(n - 1) * fixed.period);
	drift_rel = rel.end - (rel.start + (int64_t)(n - 1) * rel.period);
	cr_assert_lt(drift_fixed, fixed.period);
	printf("%llu releases of 1 ms (virtual clock): periodic ends %lld ns "
	       "after its last instant (lateness min %lld mean %lld p99 %lld "
	       "max %lld ns); a sleep(period) loop ends %lld ns late\n",
	       (unsigned long long)n, (long long)drift_fixed,
	       (long long)st.late_min, (long long)st.late_mean,
	       (long long)st.late_p99, (long long)st.late_max,
	       (long long)drift_rel);
	/* A relative loop adds each wake-up's lateness to the schedule; it
	 * cannot end earlier than the fixed one. */
	cr_assert_geq(drift_rel, drift_fixed);
}

/* Release, then run for @job_ns (a sleep standing in for a long job). */
corio_async(void, overrunning_job, ((struct corio_periodic *, p),
				    (int64_t, job_ns), (int *, skipped),
				    (int64_t *, instants)), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < 3; self->i++) {
		corio_await(self->skipped[self->i], corio_periodic_next,
			    self->p);
		self->instants[self->i] = corio_periodic_release_time(self->p);
		if (self->i == 0)
			corio_await(self->r, corio_sleep, self->job_ns);
	}
corio_finally:
	corio_end();
}

Test(periodic, overruns_are_skipped_and_counted, .timeout = 10)
{
	struct corio_loop *loop = virtual_loop();
	struct corio_periodic_stats st;
	struct corio_periodic p;
	int skipped[3] = { -1, -1, -1 };
	int64_t at[3], start = corio_now() + CORIO_MS(10);

	cr_assert_eq(corio_periodic_init(&p, start, CORIO_MS(10)), 0);
	cr_assert_eq(corio_periodic_release_time(&p), start);
	/* The first job takes 35 ms: releases 1, 2 and 3 (at 10, 20, 30 ms
	 * after the first) pass meanwhile; the next is the one at 40. */
	corio_spawn(loop, overrunning_job__start(NULL, &p, CORIO_MS(35),
						 skipped, at), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
	cr_assert_eq(skipped[0], 0);
	cr_assert_eq(skipped[1], 3);
	cr_assert_eq(skipped[2], 0);
	cr_assert_eq(at[0], start);
	cr_assert_eq(at[1], start + CORIO_MS(40));
	cr_assert_eq(at[2], start + CORIO_MS(50));
	cr_assert_eq(corio_periodic_stats(&p, &st), 0);
	cr_assert_eq(st.releases, 3);
	cr_assert_eq(st.skipped, 3);
	cr_assert_eq(st.last_skipped, 0);
}

Test(periodic, start_in_the_past_skips_to_the_next_instant, .timeout = 10)
{
	struct corio_loop *loop = virtual_loop();
	struct corio_periodic p;
	int skipped[3] = { -1, -1, -1 };
	int64_t at[3], start = corio_now() - CORIO_MS(25);

	cr_assert_eq(corio_periodic_init(&p, start, CORIO_MS(10)), 0);
	corio_spawn(loop, overrunning_job__start(NULL, &p, 0, skipped, at),
		    NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
	/* Instants 0, 10 and 20 ms are gone; 30 is the first left. */
	cr_assert_eq(skipped[0], 3);
	cr_assert_eq(at[0], start + CORIO_MS(30));
	cr_assert_eq(at[1], start + CORIO_MS(40));
}

corio_async(void, deadline_job, ((struct corio_periodic *, p),
				 (int *, r)), ())
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_MS(3));
	corio_await(self->r[0], corio_periodic_next, self->p);
	corio_deadline_set(CORIO_NO_DEADLINE);
	corio_await(self->r[1], corio_periodic_next, self->p);
corio_finally:
	corio_end();
}

Test(periodic, deadline_leaves_the_release_pending, .timeout = 10)
{
	struct corio_loop *loop = virtual_loop();
	struct corio_periodic p;
	int r[2] = { 1, 1 };
	int64_t start = corio_now() + CORIO_MS(10);

	cr_assert_eq(corio_periodic_init(&p, start, CORIO_MS(10)), 0);
	corio_spawn(loop, deadline_job__start(NULL, &p, r), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
	cr_assert_eq(r[0], -ETIME);
	/* The release that timed out is the one that comes next. */
	cr_assert_eq(r[1], 0);
	cr_assert_eq(corio_periodic_release_time(&p), start);
}

corio_async(void, forever_job, ((struct corio_periodic *, p)), (
	int r;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_periodic_next, self->p);
		cr_assert_eq(self->r, 0);
	}
corio_finally:
	corio_end();
}

corio_async(void, cancel_it, ((struct corio_task *, victim), (int *, out)),
	    ())
{
	corio_begin();
	corio_await(*self->out, t_cancel_and_join, self->victim);
corio_finally:
	corio_end();
}

Test(periodic, cancel_while_waiting, .timeout = 10)
{
	struct corio_loop *loop = virtual_loop();
	struct corio_task *victim;
	struct corio_periodic p;
	int status = 1;

	cr_assert_eq(corio_periodic_init(&p, corio_now() + CORIO_MS(10),
					 CORIO_MS(10)), 0);
	corio_spawn(loop, forever_job__start(NULL, &p), &victim);
	corio_spawn(loop, cancel_it__start(NULL, victim, &status), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_eq(corio_periodic_stats(&p, &(struct corio_periodic_stats){
		0 }), 0);
}

corio_async(void, overflow_job, ((struct corio_periodic *, p), (int *, r)),
	    ())
{
	corio_begin();
	corio_await(*self->r, corio_periodic_next, self->p);
corio_finally:
	corio_end();
}

Test(periodic, misuse_and_overflow, .timeout = 10)
{
	struct corio_loop *loop = virtual_loop();
	struct corio_periodic_stats st;
	struct corio_periodic p;
	int r = 1;

	cr_assert_eq(corio_periodic_init(NULL, 0, 1), -EINVAL);
	cr_assert_eq(corio_periodic_init(&p, 0, 0), -EINVAL);
	cr_assert_eq(corio_periodic_init(&p, 0, -5), -EINVAL);
	cr_assert_eq(corio_periodic_init(&p, -1, 5), -EINVAL);
	cr_assert_eq(corio_periodic_stats(NULL, &st), -EINVAL);
	cr_assert_eq(corio_periodic_stats(&p, NULL), -EINVAL);
	cr_assert_eq(corio_periodic_init(&p, 0, 5), 0);
	cr_assert_eq(corio_periodic_percentile(&p, 0.99), 0, "nothing yet");
	cr_assert_eq(corio_periodic_percentile(NULL, 0.99), 0);
	/* A schedule whose next instant is past the end of the clock. */
	cr_assert_eq(corio_periodic_init(&p, INT64_MAX - 10, 100), 0);
	p.next = 1;	/* white box: release 0 happened */
	corio_spawn(loop, overflow_job__start(NULL, &p, &r), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, -EOVERFLOW);
	t_loop_done(loop);
}

Test(periodic, histogram_percentiles, .timeout = 10)
{
	struct corio_periodic p;

	/*
	 * White box: fill the histogram as 99 releases 100 ns late and one
	 * 1 ms late would.  100 ns falls in the bucket [96, 103] (8 per
	 * power of two above 16 ns), 1 ms in [983040, 1048575].
	 */
	cr_assert_eq(corio_periodic_init(&p, 0, 1), 0);
	p.hist[16 + 2 * 8 + 4] = 99;
	p.hist[16 + 15 * 8 + 7] = 1;
	p.releases = 100;
	p.late_min = 100;
	p.late_max = 1000000;
	cr_assert_eq(corio_periodic_percentile(&p, 0.50), 103);
	cr_assert_eq(corio_periodic_percentile(&p, 0.99), 103);
	cr_assert_eq(corio_periodic_percentile(&p, 0.995), 1000000,
		     "capped at the maximum");
	cr_assert_eq(corio_periodic_percentile(&p, 1.0), 1000000);
	cr_assert_eq(corio_periodic_percentile(&p, 0), 0);
	cr_assert_eq(corio_periodic_percentile(&p, 1.5), 0);
	/* Small values have exact buckets. */
	memset(p.hist, 0, sizeof(p.hist));
	p.hist[7] = 10;
	p.late_max = 7;
	cr_assert_eq(corio_periodic_percentile(&p, 0.99), 7);
}

Test(periodic, real_clock_jitter_figures, .timeout = 30)
{
	struct run run = { .period = CORIO_MS(1), .n = 300 };
	struct corio_loop *loop = t_loop();
	struct corio_periodic_stats st;

	corio_spawn(loop, periodic_job__start(NULL, &run), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
	cr_assert_eq(corio_periodic_stats(&run.p, &st), 0);
	cr_assert_eq(st.releases, run.n);
	/* A loaded machine may skip releases: the instants must still be
	 * exact; the figures are printed, not compared. */
	cr_assert_eq(run.mismatches, 0);
	printf("real clock, %llu releases of 1 ms: lateness min %lld mean "
	       "%lld p50 %lld p99 %lld max %lld ns, %llu skipped\n",
	       (unsigned long long)st.releases, (long long)st.late_min,
	       (long long)st.late_mean, (long long)st.late_p50,
	       (long long)st.late_p99, (long long)st.late_max,
	       (unsigned long long)st.skipped);
}
