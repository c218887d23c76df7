/* SPDX-License-Identifier: MIT */
/*
 * time_triggered - one sensor job run two ways, side by side.
 *
 *	time_triggered [-n SAMPLES] [-p PERIOD_US]
 *
 * A producer thread stands in for a sensor: it delivers SAMPLES readings
 * (default 300) at irregular times (0.2 to 2.6 ms apart) and signals each
 * on an eventfd.  Two tasks of one loop handle every reading:
 *
 *  - event-triggered: it awaits a read of the eventfd and handles what
 *    arrived as soon as it wakes;
 *  - time-triggered: it is released every PERIOD_US (default 1000) at
 *    fixed instants (corio_periodic_next) and polls for what arrived.
 *
 * Latency is the time from a reading's arrival to its handling.  The
 * event-triggered side reacts fastest but wakes whenever the sensor
 * pleases; the time-triggered side bounds its work per period and wakes
 * on a schedule known in advance, at the price of up to a period of
 * latency.  The figures vary with the machine's load: compare the shapes,
 * not the digits.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#define MAX_SAMPLES 100000

/* What the sensor thread and the loop share. */
struct sensor {
	int efd;			/* one count per reading */
	int n;				/* readings to deliver */
	int64_t *arrival;		/* CLOCK_MONOTONIC ns of each */
	atomic_int produced;		/* readings published so far */
};

/* What one side saw. */
struct side {
	const char *name;
	int handled;			/* readings handled */
	int64_t *latency;		/* ns, one per reading */
	uint64_t wakeups;		/* times the task ran its job */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The sensor: irregular gaps from a fixed-seed generator (repeatable). */
static void *sensor_thread(void *arg)
{
	struct sensor *s = arg;
	uint32_t x = 12345;
	uint64_t one = 1;
	int i;

	for (i = 0; i < s->n; i++) {
		struct timespec gap;

		x = x * 1103515245u + 12345u;
		gap.tv_sec = 0;
		gap.tv_nsec = 200000 + (long)((x >> 8) % 2400000);
		nanosleep(&gap, NULL);
		s->arrival[i] = mono_ns();
		/* Release: the arrival time is visible before the count. */
		atomic_store_explicit(&s->produced, i + 1,
				      memory_order_release);
		if (write(s->efd, &one, sizeof(one)) != sizeof(one))
			perror("time_triggered: eventfd write");
	}
	return NULL;
}

/* Handle every reading that arrived since the last call. */
static void handle_new(struct sensor *s, struct side *d)
{
	int upto = atomic_load_explicit(&s->produced, memory_order_acquire);
	int64_t now = mono_ns();

	for (; d->handled < upto; d->handled++)
		d->latency[d->handled] = now - s->arrival[d->handled];
	d->wakeups++;
}

corio_async_static(int, event_triggered, ((struct sensor *, s),
					  (struct side *, d)), (
	uint64_t count;
	ssize_t n;
))
{
	corio_begin();
	while (self->d->handled < self->s->n) {
		corio_await(self->n, corio_read_retry, self->s->efd,
			    &self->count, sizeof(self->count), -1);
		if (self->n < 0)
			corio_return((int)self->n);
		handle_new(self->s, self->d);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async_static(int, time_triggered, ((struct sensor *, s),
					 (struct side *, d),
					 (struct corio_periodic *, p)), (
	int skipped;
))
{
	corio_begin();
	while (self->d->handled < self->s->n) {
		corio_await(self->skipped, corio_periodic_next, self->p);
		if (self->skipped < 0)
			corio_return(self->skipped);
		handle_new(self->s, self->d);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct summary {
	double min, mean, p50, p99, max, stddev;	/* microseconds */
};

static struct summary summarize(int64_t *v, int n)
{
	struct summary s = { 0 };
	double sum = 0, sq = 0;
	int i;

	if (!n)
		return s;
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	s.mean = sum / n / 1e3;
	for (i = 0; i < n; i++) {
		double dv = (double)v[i] / 1e3 - s.mean;

		sq += dv * dv;
	}
	s.min = (double)v[0] / 1e3;
	s.max = (double)v[n - 1] / 1e3;
	s.p50 = (double)v[(n - 1) / 2] / 1e3;
	s.p99 = (double)v[(int)((n - 1) * 0.99)] / 1e3;
	s.stddev = sqrt(sq / n);
	return s;
}

static int usage(void)
{
	fprintf(stderr, "usage: time_triggered [-n SAMPLES (1..%d)] "
		"[-p PERIOD_US (10..1000000)]\n", MAX_SAMPLES);
	return 2;
}

int main(int argc, char **argv)
{
	struct sensor s = { .efd = -1, .n = 300 };
	struct side et = { .name = "event-triggered" };
	struct side tt = { .name = "time-triggered" };
	struct corio_periodic_stats ps;
	struct summary a, b;
	struct corio_periodic p;
	struct corio_loop *loop;
	struct corio_task *t1 = NULL, *t2 = NULL;
	long period_us = 1000;
	int opt, ret, st1 = 0, st2 = 0, status = 1;
	pthread_t thread;

	while ((opt = getopt(argc, argv, "n:p:")) != -1) {
		if (opt == 'n')
			s.n = atoi(optarg);
		else if (opt == 'p')
			period_us = atol(optarg);
		else
			return usage();
	}
	if (optind != argc || s.n < 1 || s.n > MAX_SAMPLES ||
	    period_us < 10 || period_us > 1000000)
		return usage();
	s.arrival = calloc((size_t)s.n, sizeof(*s.arrival));
	et.latency = calloc((size_t)s.n, sizeof(*et.latency));
	tt.latency = calloc((size_t)s.n, sizeof(*tt.latency));
	if (!s.arrival || !et.latency || !tt.latency) {
		fprintf(stderr, "time_triggered: out of memory\n");
		goto out_free;
	}
	s.efd = eventfd(0, EFD_CLOEXEC);
	if (s.efd < 0) {
		perror("time_triggered: eventfd");
		goto out_free;
	}
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "time_triggered: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		goto out_close;
	}
	corio_periodic_init(&p, corio_now() + period_us * 1000,
			    period_us * 1000);
	ret = corio_spawn(loop, event_triggered__start(NULL, &s, &et, &st1),
			  &t1);
	if (!ret)
		ret = corio_spawn(loop, time_triggered__start(NULL, &s, &tt, &p,
							      &st2), &t2);
	if (!ret && pthread_create(&thread, NULL, sensor_thread, &s))
		ret = -EAGAIN;
	if (ret < 0) {
		/* Nothing will arrive: stop the tasks before leaving. */
		fprintf(stderr, "time_triggered: start: %s\n",
			corio_strerror(ret));
		if (t1)
			corio_task_cancel(t1);
		if (t2)
			corio_task_cancel(t2);
		corio_loop_run(loop);
		goto out_reap;
	}
	ret = corio_loop_run(loop);
	pthread_join(thread, NULL);
	if (ret < 0 || st1 < 0 || st2 < 0) {
		fprintf(stderr, "time_triggered: %s\n",
			corio_strerror(ret < 0 ? ret : st1 < 0 ? st1 : st2));
		goto out_reap;
	}

	corio_periodic_stats(&p, &ps);
	a = summarize(et.latency, et.handled);
	b = summarize(tt.latency, tt.handled);
	printf("%d readings, period %ld us\n", s.n, period_us);
	printf("%-24s %16s %16s\n", "", et.name, tt.name);
	printf("%-24s %16d %16d\n", "readings handled", et.handled,
	       tt.handled);
	printf("%-24s %16llu %16llu\n", "wake-ups",
	       (unsigned long long)et.wakeups, (unsigned long long)tt.wakeups);
	printf("%-24s %16.1f %16.1f\n", "latency min (us)", a.min, b.min);
	printf("%-24s %16.1f %16.1f\n", "latency mean (us)", a.mean, b.mean);
	printf("%-24s %16.1f %16.1f\n", "latency p50 (us)", a.p50, b.p50);
	printf("%-24s %16.1f %16.1f\n", "latency p99 (us)", a.p99, b.p99);
	printf("%-24s %16.1f %16.1f\n", "latency max (us)", a.max, b.max);
	printf("%-24s %16.1f %16.1f\n", "latency jitter sd (us)", a.stddev,
	       b.stddev);
	printf("%-24s %16s %16.1f\n", "release lateness mean", "-",
	       (double)ps.late_mean / 1e3);
	printf("%-24s %16s %16.1f\n", "release lateness p99", "-",
	       (double)ps.late_p99 / 1e3);
	printf("%-24s %16s %16.1f\n", "release lateness max", "-",
	       (double)ps.late_max / 1e3);
	printf("%-24s %16s %16llu\n", "releases skipped", "-",
	       (unsigned long long)ps.skipped);
	status = et.handled == s.n && tt.handled == s.n ? 0 : 1;
out_reap:
	if (t1)
		corio_task_reap(t1, NULL);
	if (t2)
		corio_task_reap(t2, NULL);
	if (corio_loop_destroy(loop) < 0)
		status = 1;
out_close:
	close(s.efd);
out_free:
	free(s.arrival);
	free(et.latency);
	free(tt.latency);
	return status;
}
