/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/periodic.c - periodic releases (corio/periodic.h).
 *
 * corio_periodic_next is an ordinary async function over
 * corio_sleep_until: it has to run again after the sleep, in the task, to
 * read the clock at the moment the task actually resumes (the lateness the
 * job sees, scheduling delay included), which a runtime operation that
 * completes from the timer could not.  Its frame comes from the loop's
 * slab, like any call.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "prims/internal.h"

#include "corio/async.h"
#include "corio/periodic.h"

/*
 * Histogram layout: values 0..15 have a bucket each; a value v >= 16 with
 * its top bit at position e (4 <= e <= 40) goes to 16 + 8 (e - 4) + the
 * three bits below the top one.  Larger values share the last bucket.
 */
#define EXACT 16
#define SUB_BITS 3
#define MAX_EXP 40

_Static_assert(EXACT + (MAX_EXP - 4 + 1) * (1 << SUB_BITS) ==
	       CORIO__PERIODIC_BUCKETS, "histogram size");

static unsigned bucket_of(int64_t v)
{
	unsigned e;

	if (v < EXACT)
		return (unsigned)(v < 0 ? 0 : v);
	e = 63u - (unsigned)__builtin_clzll((unsigned long long)v);
	if (e > MAX_EXP)
		return CORIO__PERIODIC_BUCKETS - 1;
	return EXACT + (e - 4) * (1u << SUB_BITS) +
	       (unsigned)((v >> (e - SUB_BITS)) & ((1 << SUB_BITS) - 1));
}

/* The largest value bucket @i holds. */
static int64_t bucket_top(unsigned i)
{
	unsigned e, sub;

	if (i < EXACT)
		return i;
	e = 4 + (i - EXACT) / (1u << SUB_BITS);
	sub = (i - EXACT) % (1u << SUB_BITS);
	if (i == CORIO__PERIODIC_BUCKETS - 1)
		return INT64_MAX;
	return ((int64_t)((1u << SUB_BITS) + sub + 1) << (e - SUB_BITS)) - 1;
}

int corio_periodic_init(struct corio_periodic *p, int64_t start,
			int64_t period)
{
	if (!p || period <= 0 || start < 0)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->start = start;
	p->period = period;
	p->release = start;
	return 0;
}

/* start + k * period into *@when; false past the end of the clock. */
static bool instant(const struct corio_periodic *p, uint64_t k, int64_t *when)
{
	if (k > (uint64_t)(INT64_MAX - p->start) / (uint64_t)p->period)
		return false;
	*when = p->start + (int64_t)k * p->period;
	return true;
}

static void record(struct corio_periodic *p, int64_t late)
{
	unsigned b = bucket_of(late);

	if (late < 0)		/* a clock that went backwards, or rounding */
		late = 0;
	if (!p->releases || late < p->late_min)
		p->late_min = late;
	if (late > p->late_max)
		p->late_max = late;
	p->late_sum = late > INT64_MAX - p->late_sum ? INT64_MAX
						      : p->late_sum + late;
	if (p->hist[b] != UINT32_MAX)
		p->hist[b]++;
	p->releases++;
}

corio_async(int, corio_periodic_next, ((struct corio_periodic *, p)), (
	uint64_t k, skipped;
	int64_t when;
	int r;
))
{
	int64_t now;

	corio_begin();
	now = corio_now();
	self->k = self->p->next;
	if (!instant(self->p, self->k, &self->when))
		corio_return(-EOVERFLOW);
	if (self->when < now) {
		/*
		 * Overrun: release k's instant has passed.  Skip to the
		 * first instant not in the past, computed from the start,
		 * not by adding periods: no burst, no accumulated error.
		 */
		uint64_t first = (uint64_t)(now - self->p->start);

		first = first / (uint64_t)self->p->period +
			(first % (uint64_t)self->p->period != 0);
		self->skipped = first - self->k;
		self->k = first;
		if (!instant(self->p, self->k, &self->when))
			corio_return(-EOVERFLOW);
	}
	corio_await(self->r, corio_sleep_until, self->when);
	if (self->r < 0)
		corio_return(self->r);	/* nothing committed: retry later */
	record(self->p, corio_now() - self->when);
	self->p->next = self->k + 1;
	self->p->release = self->when;
	self->p->skipped += self->skipped;
	self->p->last_skipped = self->skipped;
	corio_return(self->skipped > INT_MAX ? INT_MAX : (int)self->skipped);
corio_finally:
	corio_end();
}

int64_t corio_periodic_release_time(const struct corio_periodic *p)
{
	return p->release;
}

int64_t corio_periodic_percentile(const struct corio_periodic *p, double q)
{
	uint64_t want, seen = 0, total = 0;
	unsigned i;

	if (!p || !(q > 0 && q <= 1))
		return 0;
	for (i = 0; i < CORIO__PERIODIC_BUCKETS; i++)
		total += p->hist[i];
	if (!total)
		return 0;
	/* The rank of the percentile, rounded up: p99 of 100 is the 99th. */
	want = (uint64_t)(q * (double)total);
	if ((double)want < q * (double)total)
		want++;
	if (!want)
		want = 1;
	for (i = 0; i < CORIO__PERIODIC_BUCKETS; i++) {
		seen += p->hist[i];
		if (seen >= want)
			break;
	}
	return bucket_top(i) < p->late_max ? bucket_top(i) : p->late_max;
}

int corio_periodic_stats(const struct corio_periodic *p,
			 struct corio_periodic_stats *stats)
{
	if (!p || !stats)
		return -EINVAL;
	*stats = (struct corio_periodic_stats){
		.releases = p->releases,
		.skipped = p->skipped,
		.last_skipped = p->last_skipped,
		.late_min = p->late_min,
		.late_mean = p->releases ? p->late_sum / (int64_t)p->releases
					 : 0,
		.late_max = p->late_max,
		.late_p50 = corio_periodic_percentile(p, 0.50),
		.late_p99 = corio_periodic_percentile(p, 0.99),
		.late_p999 = corio_periodic_percentile(p, 0.999),
	};
	return 0;
}
