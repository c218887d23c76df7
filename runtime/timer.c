/* SPDX-License-Identifier: MIT */
/*
 * runtime/timer.c - in-process timers: the heap behind corio_sleep and
 * task deadlines, and the clock.
 *
 * A task owns at most one armed timer (it waits on one thing at a time), so
 * the timer needs no record of its own: the heap entry points at the task
 * and the task remembers its slot.  Only the nearest deadline reaches the
 * kernel, as the timeout of the loop's wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

int64_t corio__clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t corio_now(void)
{
	return corio__clock_now();
}

/* Does entry @a fire before entry @b?  Ties go to the earlier-armed one. */
static bool fires_before(const struct corio__timer_entry *a,
			 const struct corio__timer_entry *b)
{
	if (a->when != b->when)
		return a->when < b->when;
	return (int32_t)(a->task->timer_seq - b->task->timer_seq) < 0;
}

static void place(struct corio__timer_heap *h, uint32_t i,
		  struct corio__timer_entry e)
{
	h->v[i] = e;
	e.task->timer_slot = i + 1;
}

/*
 * An 8-ary heap: a third of the depth of a binary one, and the eight
 * children of a node sit next to each other (two cache lines), so a sift
 * touches far fewer lines.  With a million timers the misses are most of
 * the cost (measured: 8-ary 1.14 s, 4-ary 1.21 s, binary 1.59 s of CPU for
 * bench/micro timers).
 */
#define ARITY 8

static void sift_up(struct corio__timer_heap *h, uint32_t i,
		    struct corio__timer_entry e)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / ARITY;

		if (!fires_before(&e, &h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, e);
}

static void sift_down(struct corio__timer_heap *h, uint32_t i,
		      struct corio__timer_entry e)
{
	for (;;) {
		uint32_t first = ARITY * i + 1, child = first, c, end;

		if (first >= h->len)
			break;
		end = first + ARITY < h->len ? first + ARITY : h->len;
		for (c = first + 1; c < end; c++)
			if (fires_before(&h->v[c], &h->v[child]))
				child = c;
		if (!fires_before(&h->v[child], &e))
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, e);
}

/* Remove the entry at index @i, keeping the heap ordered. */
static void remove_at(struct corio__timer_heap *h, uint32_t i)
{
	struct corio__timer_entry last;

	h->v[i].task->timer_slot = 0;
	last = h->v[--h->len];
	if (i == h->len)
		return;
	if (i > 0 && fires_before(&last, &h->v[(i - 1) / ARITY]))
		sift_up(h, i, last);
	else
		sift_down(h, i, last);
}

int corio__timer_arm(struct corio_loop *loop, struct corio_task *t,
		     int64_t when)
{
	struct corio__timer_heap *h = &loop->timers;

	if (t->timer_slot)
		remove_at(h, t->timer_slot - 1);
	if (h->len == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 64;
		struct corio__timer_entry *v = corio__malloc(sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		if (h->len)
			__builtin_memcpy(v, h->v, sizeof(*v) * h->len);
		corio__free(h->v);
		h->v = v;
		h->cap = cap;
	}
	t->timer_seq = loop->timer_seq++;
	h->len++;
	sift_up(h, h->len - 1, (struct corio__timer_entry){ when, t });
	return 0;
}

void corio__timer_disarm(struct corio_loop *loop, struct corio_task *t)
{
	if (t->timer_slot)
		remove_at(&loop->timers, t->timer_slot - 1);
}

/*
 * Fire every timer due at @now, earliest first.  What firing means depends
 * on what the task waits on: a sleep ends, an I/O operation or a join hits
 * the task's deadline.
 */
void corio__timers_fire(struct corio_loop *loop, int64_t now)
{
	struct corio__timer_heap *h = &loop->timers;

	while (h->len && h->v[0].when <= now) {
		struct corio_task *t = h->v[0].task;

		remove_at(h, 0);
		switch (t->wait) {
		case CORIO__WAIT_SLEEP:
			corio__task_deliver(t, t->sleep_timed_out ? -ETIME : 0);
			corio__task_wake(loop, t);
			break;
		case CORIO__WAIT_IO:
			corio__io_cancel(loop, t, true);
			break;
		case CORIO__WAIT_SYNC:
			corio__sync_abort(loop, t, -ETIME);
			break;
		case CORIO__WAIT_JOIN: {
			struct corio_task *target = t->wait_obj;

			target->joiner = NULL;
			corio__task_deliver(t, -ETIME);
			corio__task_wake(loop, t);
			break;
		}
		default:
			break;
		}
	}
}

/* Shared by corio_sleep and corio_sleep_until. */
static struct corio_frame *sleep_until(int64_t when, int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int64_t fire = when;
	int err;

	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	t->sleep_timed_out = 0;
	if (t->deadline < fire) {
		fire = t->deadline;
		t->sleep_timed_out = 1;
	}
	err = corio__timer_arm(corio__tls_loop, t, fire);
	if (err) {
		corio__task_deliver(t, err);
		return CORIO_READY;
	}
	corio__task_suspend(t, CORIO__WAIT_SLEEP);
	return CORIO_SUSPENDED;
}

struct corio_frame *corio_sleep__start(struct corio_frame *parent, int64_t ns,
				       int *result)
{
	(void)parent;
	return sleep_until(corio__clock_now() + (ns > 0 ? ns : 0), result);
}

struct corio_frame *corio_sleep_until__start(struct corio_frame *parent,
					     int64_t when, int *result)
{
	(void)parent;
	return sleep_until(when, result);
}
