/* SPDX-License-Identifier: MIT */
/*
 * threads_vs_events - the cost of blocking made visible.
 *
 * One request handler, served two ways at the same offered load:
 *
 *   threads  a thread per request (pthread_create at the request's
 *            instant), blocking send(2)/recv(2);
 *   corio    a task per request on one corio loop, corio_send/corio_recv.
 *
 * Each request makes two blocking calls to a backend service, as a web
 * handler asks a database or a cache twice: send an 8-byte query on a
 * connection, receive the 8-byte answer.  The backend is a separate
 * process (so its CPU time is not counted against either server) that
 * answers each query after a fixed service time (--service-us, default
 * 1000).  A fixed service time keeps the comparison about how the server
 * waits: preads from a disk would add the variance of a shared virtual
 * disk, and reads from the page cache never block at all.  Connections
 * come from a pool (--conns); a request that finds none free waits for
 * one, and that wait counts in its latency.
 *
 * The load is open loop: request i is due at start + i / rate whether or
 * not earlier requests have finished, and its latency runs from that
 * scheduled instant to its completion, so a server that falls behind pays
 * for every request it delayed (no coordinated omission).
 *
 * For each model it prints CPU use (getrusage of the server process: the
 * dispatcher and every request thread or task), voluntary and involuntary
 * context switches, and latency percentiles; --csv FILE writes the same
 * rows as CSV.  The server runs on one CPU and the backend on another
 * (--server-cpu, --backend-cpu; -1 = unpinned).
 *
 * Usage: threads_vs_events [--rate N] [--duration S] [--service-us N]
 *          [--conns N] [--model threads|corio|both] [--csv FILE]
 *          [--server-cpu N] [--backend-cpu N]
 * Exit status 0 when every request succeeded, 1 on errors, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#define NS_PER_SEC 1000000000ll

struct options {
	double rate;		/* requests per second */
	double duration;	/* seconds of load per model */
	int64_t service_ns;	/* backend time per query */
	int conns;		/* connections in the pool */
	bool run_threads;
	bool run_corio;
	const char *csv;
	int server_cpu;		/* -1: not pinned */
	int backend_cpu;
};

/* What one model measured. */
struct result {
	const char *model;
	uint32_t requests;
	uint32_t errors;
	double wall_s;		/* first scheduled start to last completion */
	double cpu_s;		/* user + system */
	long vcsw, ivcsw;	/* voluntary, involuntary context switches */
	int64_t p50, p99, p999, max;	/* latency, ns */
	uint32_t peak;		/* most requests in progress at once */
};

/*
 * One run of one model.  The thread model shares it between threads under
 * @lock; the corio model uses it from the loop's thread only.
 */
struct run {
	uint32_t n;		/* requests to issue */
	int64_t start;		/* scheduled instant of request 0 */
	double period_ns;	/* between scheduled instants */
	int64_t *lat;		/* per request: latency in ns, -1 failed */
	const int *fds;		/* server ends of the connections */
	int *free_conns;	/* stack of free connection indices */
	int nfree;
	uint32_t done;		/* requests finished, ok or not */
	uint32_t inflight, peak;
	int64_t last_done;	/* when the last request finished */
	pthread_mutex_t lock;	/* threads: everything above */
	pthread_cond_t freed;	/* threads: a connection was given back */
	pthread_cond_t all_done;	/* threads: done reached n */
	struct corio_sem conns;	/* corio: a permit per free connection */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t scheduled(const struct run *run, uint32_t i)
{
	return run->start + (int64_t)(i * run->period_ns);
}

/*
 * The handler's own work between its two calls, the same in both models:
 * a hash over a small buffer, standing for parsing and formatting.
 */
static uint64_t handler_work(uint64_t seed)
{
	uint64_t h = 1469598103934665603ull ^ seed;
	int i;

	for (i = 0; i < 256; i++)
		h = (h ^ (uint64_t)i) * 1099511628211ull;
	return h;
}

/* The query for call @k of request @i; the backend answers query + 1. */
static uint64_t query_of(uint32_t i, int k)
{
	return ((uint64_t)i << 1 | (uint64_t)k) ^ 0x5a5a000000000000ull;
}

/* ---- the backend: answers each query after the service time -------- */

/*
 * Runs in its own process.  Every connection carries at most one query at
 * a time and the service time is fixed, so answers fall due in the order
 * queries arrived: a FIFO is the whole timer structure.
 */
static int backend_main(const int *fds, int n, int64_t service_ns)
{
	struct epoll_event evs[64];
	uint64_t *answer = calloc((size_t)n, sizeof(*answer));
	int64_t *due = calloc((size_t)n, sizeof(*due));
	int *fifo = calloc((size_t)n, sizeof(*fifo));
	int head = 0, len = 0, open = n, epfd, i;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || !answer || !due || !fifo)
		return 1;
	/* Due times are exact to the microsecond, not to the default 50. */
	prctl(PR_SET_TIMERSLACK, 1000ul);
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u32 = (uint32_t)i };

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return 1;
	}
	while (open > 0) {
		struct timespec ts, *tsp = NULL;
		int64_t now = now_ns(), wait;
		int nev;

		if (len) {
			wait = due[fifo[head]] - now;
			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / NS_PER_SEC;
			ts.tv_nsec = wait % NS_PER_SEC;
			tsp = &ts;
		}
		nev = epoll_pwait2(epfd, evs, 64, tsp, NULL);
		if (nev < 0 && errno != EINTR)
			return 1;
		now = now_ns();
		for (i = 0; i < nev; i++) {
			int c = (int)evs[i].data.u32;
			uint64_t q;

			/* Nothing to read: the server closed this one. */
			if (recv(fds[c], &q, sizeof q, 0) !=
			    (ssize_t)sizeof q) {
				epoll_ctl(epfd, EPOLL_CTL_DEL, fds[c], NULL);
				open--;
				continue;
			}
			answer[c] = q + 1;
			due[c] = now + service_ns;
			fifo[(head + len++) % n] = c;
		}
		while (len && due[fifo[head]] <= now) {
			int c = fifo[head];

			if (send(fds[c], &answer[c], sizeof answer[c],
				 MSG_NOSIGNAL) < 0)
				return 1;
			head = (head + 1) % n;
			len--;
		}
	}
	return 0;
}

/* ---- model 1: a thread per request --------------------------------- */

struct thread_req {
	struct run *run;
	uint32_t i;
};

/* One blocking call to the backend; true if the answer was right. */
static bool call_blocking(int fd, uint64_t q)
{
	uint64_t a;

	if (send(fd, &q, sizeof q, MSG_NOSIGNAL) != (ssize_t)sizeof q)
		return false;
	return recv(fd, &a, sizeof a, 0) == (ssize_t)sizeof a && a == q + 1;
}

/*
 * Record the end of request @i.  Callers of the thread model hold
 * run->lock; the corio model calls it from the loop's one thread.
 */
static void finish_locked(struct run *run, uint32_t i, bool ok)
{
	int64_t now = now_ns();

	run->lat[i] = ok ? now - scheduled(run, i) : -1;
	run->last_done = now;
	run->inflight--;
	run->done++;
}

static void *thread_handler(void *arg)
{
	struct thread_req req = *(struct thread_req *)arg;
	struct run *run = req.run;
	volatile uint64_t sink;
	bool ok;
	int c;

	free(arg);
	pthread_mutex_lock(&run->lock);
	while (!run->nfree)
		pthread_cond_wait(&run->freed, &run->lock);
	c = run->free_conns[--run->nfree];
	pthread_mutex_unlock(&run->lock);

	ok = call_blocking(run->fds[c], query_of(req.i, 0));
	sink = handler_work(req.i);
	ok = ok && call_blocking(run->fds[c], query_of(req.i, 1));
	(void)sink;

	pthread_mutex_lock(&run->lock);
	run->free_conns[run->nfree++] = c;
	finish_locked(run, req.i, ok);
	/* One connection: one waiter to wake, not all of them. */
	pthread_cond_signal(&run->freed);
	if (run->done == run->n)
		pthread_cond_signal(&run->all_done);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* Threads of this process, from /proc/self/status; -1 if unknown. */
static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int run_threads(struct run *run)
{
	pthread_attr_t attr;
	uint32_t i;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < run->n; i++) {
		int64_t when = scheduled(run, i);
		struct timespec ts = { when / NS_PER_SEC, when % NS_PER_SEC };
		struct thread_req *req = malloc(sizeof(*req));
		pthread_t th;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
		pthread_mutex_lock(&run->lock);
		if (++run->inflight > run->peak)
			run->peak = run->inflight;
		pthread_mutex_unlock(&run->lock);
		if (req) {
			*req = (struct thread_req){ run, i };
			if (pthread_create(&th, &attr, thread_handler,
					   req) == 0)
				continue;
			free(req);
		}
		pthread_mutex_lock(&run->lock);
		finish_locked(run, i, false);
		pthread_mutex_unlock(&run->lock);
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&run->lock);
	while (run->done < run->n)
		pthread_cond_wait(&run->all_done, &run->lock);
	pthread_mutex_unlock(&run->lock);
	/* The last threads have reported but may not have exited yet: their
	 * exit is part of the model's cost, so wait for it before reading
	 * the counters. */
	for (i = 0; i < 5000 && thread_count() > 1; i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return 0;
}

/* ---- model 2: a task per request on one corio loop ------------------ */

corio_async_static(bool, call_async, ((int, fd), (uint64_t, q)), (
	uint64_t a;
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_send_all, self->fd, &self->q, sizeof self->q,
		    0);
	if (self->n != (ssize_t)sizeof self->q)
		corio_return(false);
	corio_await(self->n, corio_recv_exact, self->fd, &self->a,
		    sizeof self->a);
	corio_return(self->n == (ssize_t)sizeof self->a &&
		     self->a == self->q + 1);
corio_finally:
	corio_end();
}

corio_async_static(int, task_handler, ((struct run *, run), (uint32_t, i)), (
	int c, r;
	bool ok;
))
{
	corio_begin();
	self->c = -1;	/* no connection to give back yet */
	corio_await(self->r, corio_sem_acquire, &self->run->conns);
	if (self->r < 0)
		corio_throw(self->r);
	self->c = self->run->free_conns[--self->run->nfree];

	corio_await(self->ok, call_async, self->run->fds[self->c],
		    query_of(self->i, 0));
	{
		volatile uint64_t sink = handler_work(self->i);

		(void)sink;
	}
	if (self->ok)
		corio_await(self->ok, call_async, self->run->fds[self->c],
			    query_of(self->i, 1));
	corio_return(0);
corio_finally:
	if (self->c >= 0) {
		self->run->free_conns[self->run->nfree++] = self->c;
		corio_sem_release(&self->run->conns);
	}
	finish_locked(self->run, self->i, self->ok && !self->hdr.err);
	corio_end();
}

corio_async_static(int, dispatcher, ((struct run *, run)), (
	uint32_t i;
	int r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->run->n; self->i++) {
		int64_t when = scheduled(self->run, self->i);

		if (now_ns() < when)
			corio_await(self->r, corio_sleep_until, when);
		if (++self->run->inflight > self->run->peak)
			self->run->peak = self->run->inflight;
		if (corio_spawn(corio_loop_current(),
				task_handler__start(NULL, self->run, self->i,
						    NULL), NULL) < 0)
			finish_locked(self->run, self->i, false);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

static int run_corio(struct run *run)
{
	struct corio_loop *loop;
	int ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "threads_vs_events: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		return ret;
	}
	ret = corio_sem_init(&run->conns, (uint64_t)run->nfree, "conns");
	if (ret == 0)
		ret = corio_spawn(loop, dispatcher__start(NULL, run, NULL),
				  NULL);
	if (ret == 0)
		ret = corio_loop_run(loop);
	corio_sem_destroy(&run->conns);
	if (corio_loop_destroy(loop) < 0 && ret == 0)
		ret = -EBUSY;
	if (ret < 0)
		fprintf(stderr, "threads_vs_events: corio: %s\n",
			corio_strerror(ret));
	return ret;
}

/* ---- measuring ------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The @p quantile of the sorted @v[@n] (nearest rank). */
static int64_t quantile(const int64_t *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)n + 0.999999);

	if (!n)
		return 0;
	return v[k == 0 ? 0 : (k > n ? n - 1 : k - 1)];
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int measure(const char *model, const struct options *o,
		   const int *fds, struct result *res)
{
	struct run run = { 0 };
	struct rusage before, after;
	size_t ok = 0, i;
	int ret;

	run.n = (uint32_t)(o->rate * o->duration);
	run.period_ns = 1e9 / o->rate;
	run.lat = malloc(sizeof(*run.lat) * (run.n ? run.n : 1));
	run.free_conns = malloc(sizeof(int) * (size_t)o->conns);
	if (!run.lat || !run.free_conns) {
		fprintf(stderr, "threads_vs_events: out of memory\n");
		free(run.lat);
		free(run.free_conns);
		return -ENOMEM;
	}
	run.fds = fds;
	for (i = 0; i < (size_t)o->conns; i++)
		run.free_conns[run.nfree++] = (int)i;
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.freed, NULL);
	pthread_cond_init(&run.all_done, NULL);

	getrusage(RUSAGE_SELF, &before);
	/* A little ahead, so request 0 is not late by the set-up. */
	run.start = now_ns() + 10 * 1000000;
	run.last_done = run.start;
	if (strcmp(model, "threads") == 0)
		ret = run_threads(&run);
	else
		ret = run_corio(&run);
	getrusage(RUSAGE_SELF, &after);

	memset(res, 0, sizeof(*res));
	res->model = model;
	res->requests = run.n;
	for (i = 0; i < run.n; i++) {
		if (run.lat[i] < 0)
			res->errors++;
		else
			run.lat[ok++] = run.lat[i];
	}
	qsort(run.lat, ok, sizeof(*run.lat), cmp_i64);
	res->p50 = quantile(run.lat, ok, 0.50);
	res->p99 = quantile(run.lat, ok, 0.99);
	res->p999 = quantile(run.lat, ok, 0.999);
	res->max = ok ? run.lat[ok - 1] : 0;
	res->wall_s = (double)(run.last_done - run.start) / 1e9;
	res->cpu_s = tv_s(after.ru_utime) - tv_s(before.ru_utime) +
		     tv_s(after.ru_stime) - tv_s(before.ru_stime);
	res->vcsw = after.ru_nvcsw - before.ru_nvcsw;
	res->ivcsw = after.ru_nivcsw - before.ru_nivcsw;
	res->peak = run.peak;
	pthread_cond_destroy(&run.freed);
	pthread_cond_destroy(&run.all_done);
	pthread_mutex_destroy(&run.lock);
	free(run.lat);
	free(run.free_conns);
	return ret;
}

/* ---- output ---------------------------------------------------------- */

static void print_table(FILE *f, const struct result *r, int n)
{
	int i;

	fprintf(f, "%-8s %9s %6s %6s %11s %9s %9s %8s %8s %8s %8s %6s\n",
		"model", "requests", "errors", "cpu_%", "cpu_us/req",
		"vol_csw", "invol_csw", "p50_us", "p99_us", "p999_us",
		"max_us", "peak");
	for (i = 0; i < n; i++)
		fprintf(f, "%-8s %9u %6u %6.1f %11.2f %9ld %9ld %8.0f %8.0f "
			"%8.0f %8.0f %6u\n", r[i].model, r[i].requests,
			r[i].errors, r[i].wall_s > 0 ?
			100.0 * r[i].cpu_s / r[i].wall_s : 0.0,
			r[i].requests ? 1e6 * r[i].cpu_s / r[i].requests : 0.0,
			r[i].vcsw, r[i].ivcsw, (double)r[i].p50 / 1e3,
			(double)r[i].p99 / 1e3, (double)r[i].p999 / 1e3,
			(double)r[i].max / 1e3, r[i].peak);
}

static int write_csv(const char *path, const struct options *o,
		     const struct result *r, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f) {
		fprintf(stderr, "threads_vs_events: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	fprintf(f, "model,rate,duration_s,service_us,requests,errors,wall_s,"
		"cpu_s,cpu_pct,cpu_us_per_req,vol_csw,invol_csw,p50_us,"
		"p99_us,p999_us,max_us,peak_inflight\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%s,%.0f,%.3f,%.0f,%u,%u,%.4f,%.4f,%.2f,%.3f,%ld,"
			"%ld,%.1f,%.1f,%.1f,%.1f,%u\n", r[i].model, o->rate,
			o->duration, (double)o->service_ns / 1e3,
			r[i].requests, r[i].errors, r[i].wall_s, r[i].cpu_s,
			r[i].wall_s > 0 ? 100.0 * r[i].cpu_s / r[i].wall_s : 0,
			r[i].requests ? 1e6 * r[i].cpu_s / r[i].requests : 0,
			r[i].vcsw, r[i].ivcsw, (double)r[i].p50 / 1e3,
			(double)r[i].p99 / 1e3, (double)r[i].p999 / 1e3,
			(double)r[i].max / 1e3, r[i].peak);
	if (fclose(f) != 0) {
		fprintf(stderr, "threads_vs_events: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- set-up ---------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: threads_vs_events [--rate N] [--duration S] "
		"[--service-us N] [--conns N]\n"
		"         [--model threads|corio|both] [--csv FILE] "
		"[--server-cpu N] [--backend-cpu N]\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "service-us", required_argument, NULL, 's' },
		{ "conns", required_argument, NULL, 'c' },
		{ "model", required_argument, NULL, 'm' },
		{ "csv", required_argument, NULL, 'o' },
		{ "server-cpu", required_argument, NULL, 'S' },
		{ "backend-cpu", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "r:d:s:c:m:o:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			o->rate = strtod(optarg, &end);
			if (*end || !(o->rate >= 1 && o->rate <= 1e7))
				return -1;
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || !(o->duration > 0 && o->duration <= 3600))
				return -1;
			break;
		case 's':
			o->service_ns = strtoll(optarg, &end, 10) * 1000;
			if (*end || o->service_ns < 0 ||
			    o->service_ns > 10 * NS_PER_SEC)
				return -1;
			break;
		case 'c':
			o->conns = (int)strtol(optarg, &end, 10);
			if (*end || o->conns < 1 || o->conns > 65536)
				return -1;
			break;
		case 'm':
			o->run_threads = !strcmp(optarg, "threads") ||
					 !strcmp(optarg, "both");
			o->run_corio = !strcmp(optarg, "corio") ||
				       !strcmp(optarg, "both");
			if (!o->run_threads && !o->run_corio)
				return -1;
			break;
		case 'o':
			o->csv = optarg;
			break;
		case 'S':
			o->server_cpu = (int)strtol(optarg, &end, 10);
			if (*end || o->server_cpu < -1)
				return -1;
			break;
		case 'B':
			o->backend_cpu = (int)strtol(optarg, &end, 10);
			if (*end || o->backend_cpu < -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o->rate * o->duration >= 1e8)
		return -1;
	return 0;
}

static void pin(int cpu, const char *who)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		fprintf(stderr, "threads_vs_events: %s not pinned to CPU %d: "
			"%s\n", who, cpu, strerror(errno));
}

/*
 * The backend stands for another machine: its own delays are not what is
 * measured.  On a shared machine, a server that floods its CPU with
 * threads makes the scheduler move other programs onto the backend's CPU,
 * where they would delay its answers by whole time slices; a real-time
 * priority keeps it on time.  Needs CAP_SYS_NICE (or an rtprio limit);
 * without it the run goes on with a warning.
 */
static void be_realtime(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
		fprintf(stderr, "threads_vs_events: backend without real-time "
			"priority (%s): its answers may be late on a busy "
			"machine\n", strerror(errno));
}

/* Room for two fds per connection, and the usual stdio and ring. */
static int raise_fd_limit(int conns)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)conns * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need)
		return -EMFILE;
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.rate = 10000,
		.duration = 1,
		.service_ns = 1000 * 1000,
		.conns = 256,
		.run_threads = true,
		.run_corio = true,
		.server_cpu = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 0 : -1,
		.backend_cpu = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 1 : -1,
	};
	struct result res[2];
	int *server_fds, *backend_fds, nres = 0, status, ret = 0, i;
	pid_t backend;
	uint32_t errors = 0;

	if (parse(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	if (raise_fd_limit(o.conns) < 0) {
		fprintf(stderr, "threads_vs_events: %d connections need %d "
			"fds: raise ulimit -n or pass a smaller --conns\n",
			o.conns, o.conns * 2 + 64);
		return 1;
	}
	server_fds = malloc(sizeof(int) * (size_t)o.conns);
	backend_fds = malloc(sizeof(int) * (size_t)o.conns);
	if (!server_fds || !backend_fds)
		return 1;
	/* SEQPACKET: each 8-byte query and answer arrives whole. */
	for (i = 0; i < o.conns; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
			       sv) < 0) {
			perror("threads_vs_events: socketpair");
			return 1;
		}
		server_fds[i] = sv[0];
		backend_fds[i] = sv[1];
	}
	/* Fork before any thread or loop exists. */
	backend = fork();
	if (backend < 0) {
		perror("threads_vs_events: fork");
		return 1;
	}
	if (backend == 0) {
		for (i = 0; i < o.conns; i++)
			close(server_fds[i]);
		pin(o.backend_cpu, "backend");
		be_realtime();
		_exit(backend_main(backend_fds, o.conns, o.service_ns));
	}
	for (i = 0; i < o.conns; i++)
		close(backend_fds[i]);
	pin(o.server_cpu, "server");

	printf("threads_vs_events: %.0f requests/s for %.1f s per model, 2 "
	       "backend calls per request, %.0f us service time, %d "
	       "connections, server CPU %d, backend CPU %d\n", o.rate,
	       o.duration, (double)o.service_ns / 1e3, o.conns, o.server_cpu,
	       o.backend_cpu);
	fflush(stdout);
	if (o.run_threads && measure("threads", &o, server_fds,
				     &res[nres++]) < 0)
		ret = 1;
	if (o.run_corio && ret == 0 &&
	    measure("corio", &o, server_fds, &res[nres++]) < 0)
		ret = 1;

	/* Closing the server ends lets the backend finish. */
	for (i = 0; i < o.conns; i++)
		close(server_fds[i]);
	if (waitpid(backend, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "threads_vs_events: the backend failed\n");
		ret = 1;
	}
	print_table(stdout, res, nres);
	for (i = 0; i < nres; i++)
		errors += res[i].errors;
	if (errors) {
		fprintf(stderr, "threads_vs_events: %u requests failed\n",
			errors);
		ret = 1;
	}
	if (o.csv && write_csv(o.csv, &o, res, nres) < 0)
		ret = 1;
	free(server_fds);
	free(backend_fds);
	return ret;
}
