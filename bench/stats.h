/* SPDX-License-Identifier: MIT */
/*
 * bench/stats.h - the statistics every benchmark reports: medians of
 * repeated runs (the machines are shared and noisy; one run says little).
 */
#ifndef CORIO_BENCH_STATS_H
#define CORIO_BENCH_STATS_H

#include <stdlib.h>

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @v[0..@n) (the upper one for even @n); sorts @v. */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return v[n / 2];
}

#endif /* CORIO_BENCH_STATS_H */
