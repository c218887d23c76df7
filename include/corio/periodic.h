/* SPDX-License-Identifier: MIT */
/*
 * corio/periodic.h - time-triggered jobs: releases at fixed instants, with
 * overrun counts and release-lateness statistics.
 *
 *	corio_periodic_init(&self->p, corio_now() + CORIO_MS(10),
 *			    CORIO_MS(10));
 *	for (;;) {
 *		corio_await(self->skipped, corio_periodic_next, &self->p);
 *		if (self->skipped < 0)
 *			break;		// -ETIME, or the loop is going away
 *		poll_sensor();
 *	}
 *
 * Release k happens at start + k * period, computed from k each time, never
 * as "now + period": lateness in one release does not move the next, so
 * the schedule does not drift however long the task runs.  A job that runs
 * past the next release instant (an overrun) does not get a burst of
 * catch-up releases: the releases whose instant has passed are skipped and
 * counted, and corio_periodic_next returns how many it skipped.
 *
 * The API is an awaitable in the caller's own loop rather than a task the
 * runtime spawns: the job keeps its locals and its error handling in one
 * function, the task's deadline and cancellation apply as to any await,
 * and no callback or extra task is needed.  Each release measures its
 * lateness (the time the task resumed minus the scheduled instant) into
 * min/mean/max and a fixed-size log-scaled histogram for percentiles, so
 * the struct never grows.
 *
 * struct corio_periodic is the caller's storage (a frame field is fine);
 * its fields are private.  Loop thread only.
 */
#ifndef CORIO_PERIODIC_H
#define CORIO_PERIODIC_H

#include <stdint.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Histogram buckets: exact below 16 ns, then 8 per power of two (each
 * within 12.5% of its values) up to 2^40 ns (about 18 minutes). */
#define CORIO__PERIODIC_BUCKETS 312

struct corio_periodic {
	int64_t start;			/* private: instant of release 0 */
	int64_t period;			/* private */
	uint64_t next;			/* private: index of the next release */
	int64_t release;		/* private: instant of the last one */
	uint64_t releases;		/* private: counters, see the stats */
	uint64_t skipped, last_skipped;
	int64_t late_min, late_max;
	int64_t late_sum;		/* private: saturates at INT64_MAX */
	uint32_t hist[CORIO__PERIODIC_BUCKETS]; /* private: saturating */
};

/*
 * Set up releases at @start + k * @period (k = 0, 1, ...), @start on the
 * corio_now() clock (a start in the past is an overrun at the first
 * release).  Returns 0, -EINVAL (@p NULL, @period <= 0, @start < 0).
 */
CORIO_EXTERN int corio_periodic_init(struct corio_periodic *p, int64_t start,
				     int64_t period);

/*
 * Awaitable: wait for the next release instant that has not passed yet,
 * skipping (and counting) those that have, then record the lateness of the
 * release.  *@result: the number of releases skipped (0 when on time,
 * saturating at INT32_MAX); -ETIME (the task's deadline came first: the
 * release has not happened and will be the next one again); -EOVERFLOW
 * (the schedule runs past the end of the clock).  Cancellation unwinds
 * the caller as with any await.
 */
CORIO_EXTERN struct corio_frame *corio_periodic_next__start(
	struct corio_frame *parent, struct corio_periodic *p, int *result);

/* The scheduled instant of the latest release (the start before the first
 * one). */
CORIO_EXTERN int64_t corio_periodic_release_time(const struct corio_periodic *p);

struct corio_periodic_stats {
	uint64_t releases;	/* releases that happened */
	uint64_t skipped;	/* releases skipped by overruns, in all */
	uint64_t last_skipped;	/* skipped before the latest release */
	int64_t late_min;	/* release lateness in ns: resumed minus */
	int64_t late_mean;	/* scheduled; 0 for all when no release */
	int64_t late_max;
	int64_t late_p50;	/* upper bound of the histogram bucket that */
	int64_t late_p99;	/* holds the percentile, at most late_max */
	int64_t late_p999;
};

/* Fill *@stats.  Returns 0, -EINVAL (NULL argument). */
CORIO_EXTERN int corio_periodic_stats(const struct corio_periodic *p,
				      struct corio_periodic_stats *stats);

/*
 * The value at fraction @q (0 < @q <= 1) of the recorded release
 * lateness, as the upper bound of its histogram bucket capped at the
 * maximum; 0 when nothing is recorded or @q is out of range.
 */
CORIO_EXTERN int64_t corio_periodic_percentile(const struct corio_periodic *p,
					       double q);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_PERIODIC_H */
