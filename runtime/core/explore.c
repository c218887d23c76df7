/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/explore.c - the schedule of an explored loop: the decisions
 * FIFO order would otherwise make, taken from a seed or a list of
 * departures, and the events they produce.
 *
 * Only what the loop decides is a decision: with no real I/O, the events of
 * a schedule follow from its choices alone, so the same seed replays the
 * same events.  Every event (a step of a task, a spurious yield, a timer or
 * completion order) is folded into an FNV-1a hash and, when asked, written
 * as a line of text: equal hashes mean equal traces.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/explore.h"
#include "reactor/reactor.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* Timers sharing one deadline that a decision orders; more fire in FIFO
 * order after these. */
#define TIE_MAX 64

enum event {
	EV_STEP = 1,	/* a task runs one step */
	EV_YIELD,	/* an await that completed at once yields */
	EV_TIMER,	/* of timers due together, this one fires next */
	EV_CQE,		/* of completions reaped together, the k-th next */
};

static const char *const event_names[] = {
	[EV_STEP] = "step", [EV_YIELD] = "yield", [EV_TIMER] = "timer",
	[EV_CQE] = "cqe",
};

/* splitmix64: one 64-bit state, fast, and every seed is a good one. */
uint64_t corio__explore_next64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t draw(struct corio__explore *x)
{
	return corio__explore_next64(&x->rng);
}

/*
 * The probabilities of a spurious yield a RANDOM schedule draws from, as
 * fractions of 2^32.  Varying it per schedule matters: a bug that needs
 * several tasks preempted at once wants a high one, a bug that needs one
 * task to run far ahead of the others a low one.
 */
static const uint32_t yield_ps[] = {
	0, 0x10000000u, 0x40000000u, 0x80000000u, 0xc0000000u,
};

void corio__explore_reset(struct corio__explore *x, uint64_t seed)
{
	x->rng = seed;
	x->yield_p = 0;
	if (x->mode == CORIO_EXPLORE_RANDOM)
		x->yield_p = yield_ps[draw(x) %
				      (sizeof(yield_ps) / sizeof(*yield_ps))];
	x->next_dev = 0;
	x->counts_lost = false;
	x->cleanup = false;
	x->decisions = 0;
	x->steps = 0;
	x->hash = FNV_OFFSET;
	x->failure = CORIO_EXPLORE_PASSED;
	if (x->message_len)
		x->message[0] = '\0';
}

static void event(struct corio__explore *x, enum event kind, uint32_t id,
		  uint32_t value, const char *name)
{
	unsigned char b[9] = {
		(unsigned char)kind,
		(unsigned char)id, (unsigned char)(id >> 8),
		(unsigned char)(id >> 16), (unsigned char)(id >> 24),
		(unsigned char)value, (unsigned char)(value >> 8),
		(unsigned char)(value >> 16), (unsigned char)(value >> 24),
	};
	uint64_t h = x->hash;
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * FNV_PRIME;
	x->hash = h;
	if (corio__unlikely(x->trace))
		fprintf(x->trace, "%s %u %u%s%s\n", event_names[kind], id,
			value, name ? " " : "", name ? name : "");
}

/* BOUNDED: note that this run's decision @i had @n options. */
static void count(struct corio__explore *x, uint32_t i, unsigned n)
{
	if (i >= x->counts_cap &&
	    corio__grow((void **)&x->counts, &x->counts_cap,
			sizeof(*x->counts), i, 256)) {
		x->counts_lost = true;	/* the search stops short there */
		return;
	}
	x->counts[i] = (uint16_t)(n < UINT16_MAX ? n : UINT16_MAX);
}

/* Decide among @n options: 0 is what FIFO order does. */
static unsigned choose(struct corio__explore *x, unsigned n)
{
	unsigned c = 0;

	if (n < 2 || x->cleanup)
		return 0;
	if (x->mode == CORIO_EXPLORE_RANDOM) {
		/* Multiply-shift: a bias of n / 2^32 at most, no loop. */
		c = (unsigned)(((draw(x) >> 32) * n) >> 32);
	} else {
		if (x->next_dev < x->ndev &&
		    x->dev[x->next_dev].at == x->decisions) {
			c = x->dev[x->next_dev++].choice;
			/* A seed from another build of the test may name
			 * an option this one lacks: the last one, then. */
			if (c >= n)
				c = n - 1;
		}
		count(x, x->decisions, n);
	}
	x->decisions++;
	return c;
}

void corio__explore_failed(struct corio_loop *loop,
			   enum corio_explore_failure f, const char *fmt, ...)
{
	struct corio__explore *x = loop->explore;
	va_list ap;

	/* The unwinding after a failure cancels tasks, which may then fail
	 * their checks: only what the schedule itself did counts. */
	if (x->failure != CORIO_EXPLORE_PASSED || x->cleanup)
		return;
	x->failure = f;
	if (x->message_len) {
		va_start(ap, fmt);
		vsnprintf(x->message, x->message_len, fmt, ap);
		va_end(ap);
	}
	corio_loop_stop(loop);
}

void corio_explore_fail(const char *fmt, ...)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio__explore *x = loop ? loop->explore : NULL;
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!x) {
		corio__warn("%s", text);
		abort();
	}
	corio__explore_failed(loop, CORIO_EXPLORE_FAILED, "%s", text);
}

/* The ready task the schedule runs next: the queues in priority order, each
 * in FIFO order, make the list the choice indexes. */
static struct corio_task *pick(struct corio_loop *loop,
			       struct corio__explore *x)
{
	unsigned n = loop->sched.ready_count[0] + loop->sched.ready_count[1];
	unsigned c = choose(x, n), q;
	struct corio_task *t;

	for (q = 0; q < CORIO__RUNQS; q++)
		for (t = loop->sched.ready[q].head; t; t = t->next)
			if (c-- == 0)
				return t;
	return NULL;	/* not reached: @n counts these tasks */
}

/* A step left an operation in flight: say which task started it. */
static void refuse_io(struct corio_loop *loop, struct corio_task *t)
{
	if (t->state == CORIO__WAITING && t->wait == CORIO__WAIT_IO && t->top)
		corio__explore_failed(loop, CORIO_EXPLORE_IO,
			"task #%u \"%s\" started real I/O at %s:%u; an "
			"explored body may not (CORIO_EXPLORE_ALLOW_IO)",
			t->id, t->name, t->top->info->file, t->top->line);
	else
		corio__explore_failed(loop, CORIO_EXPLORE_IO,
			"task #%u \"%s\" started real I/O; an explored body "
			"may not (CORIO_EXPLORE_ALLOW_IO)", t->id, t->name);
}

void corio__explore_run_ready(struct corio_loop *loop, unsigned budget)
{
	struct corio__explore *x = loop->explore;
	uint32_t n = loop->sched.ready_count[0];

	/* The batch corio__run_ready would run, in the schedule's order. */
	if (n < budget)
		n = budget;
	while (n-- > 0 && corio__ready_any(loop) && !loop->stop) {
		struct corio_task *t = pick(loop, x);

		if (x->steps >= x->max_steps) {
			corio__explore_failed(loop, CORIO_EXPLORE_STEPS,
				"no end after %llu task steps: a livelock, or "
				"a body that never ends (task #%u \"%s\" was "
				"to run next)",
				(unsigned long long)x->steps, t->id, t->name);
			corio_loop_stop(loop);	/* also while unwinding */
			return;
		}
		x->steps++;
		event(x, EV_STEP, t->id, 0, t->name);
		corio__task_run_picked(loop, t);
		if (corio__unlikely(loop->stats.ops_inflight) &&
		    !x->allow_io && !x->cleanup) {
			refuse_io(loop, t);
			return;
		}
	}
}

struct corio_frame *corio__explore_done(struct corio_loop *loop,
					struct corio_task *t)
{
	struct corio__explore *x = loop->explore;
	bool yield;

	if (!x->yields || x->cleanup || t != loop->current)
		return CORIO_READY;
	if (x->mode == CORIO_EXPLORE_RANDOM)
		yield = x->yield_p &&
			(uint32_t)(draw(x) >> 32) < x->yield_p;
	else
		yield = choose(x, 2) == 1;
	if (!yield)
		return CORIO_READY;
	/* As corio_yield: queued again, its result already delivered. */
	event(x, EV_YIELD, t->id, 0, NULL);
	corio__task_wake(loop, t);
	return CORIO_SUSPENDED;
}

struct corio_task *corio__explore_timer(struct corio_loop *loop,
					struct corio_task *first)
{
	struct corio__explore *x = loop->explore;
	const struct corio__timers *tm = &loop->timers;
	struct corio_task *tie[TIE_MAX], *t;
	int64_t when = first->timer_when;
	unsigned n = 0, c;
	size_t i;

	if (x->cleanup)
		return first;
	/* @first, then the run's other timers of that instant (it is
	 * sorted), then the late heap's, in its array's order. */
	tie[n++] = first;
	for (t = tm->head[CORIO__TW_RUN]; t && t->timer_when == when &&
	     n < TIE_MAX; t = t->timer_next)
		if (t != first)
			tie[n++] = t;
	for (i = 0; i < tm->late_len && n < TIE_MAX; i++)
		if (tm->late[i].when == when && tm->late[i].task != first)
			tie[n++] = tm->late[i].task;
	if (n < 2)
		return first;
	c = choose(x, n);
	event(x, EV_TIMER, tie[c]->id, n, NULL);
	return tie[c];
}

void corio__explore_cqes(struct corio_loop *loop, struct corio__cqe *c,
			 unsigned n)
{
	struct corio__explore *x = loop->explore;
	unsigned i, k;

	/* Fisher-Yates: one decision per position, FIFO when all are 0. */
	for (i = 0; i + 1 < n; i++) {
		struct corio__cqe tmp;

		k = choose(x, n - i);
		event(x, EV_CQE, k, n - i, NULL);
		if (!k)
			continue;
		tmp = c[i];
		c[i] = c[i + k];
		c[i + k] = tmp;
	}
}
