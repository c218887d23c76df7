/* SPDX-License-Identifier: MIT */
/*
 * runtime/taskwatch.c - callbacks on task end, keyed by task.
 *
 * The task record has no room for a list of watchers (its size is a memory
 * goal), so the loop keeps them in a chained hash table keyed by the task
 * pointer, and the task carries one flag bit, CORIO__T_WATCHED, so that
 * finish() pays a lookup only for watched tasks.  Watchers are intrusive:
 * watching allocates only when the table grows.  The table doubles when it
 * holds more watchers than buckets and halves when it drops below an eighth,
 * so a burst of short-lived watchers leaves no lasting footprint.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

struct corio__taskwatch {
	struct corio__task_watcher **buckets;	/* heads of the chains */
	size_t nbuckets;			/* power of two */
	size_t count;				/* watchers linked */
};

#define MIN_BUCKETS 64

static void *zalloc(size_t size)
{
	void *p = corio__malloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

static size_t bucket_of(const struct corio__taskwatch *tw,
			const struct corio_task *t)
{
	/* Records are slab slots: the low bits carry no information. */
	uint64_t h = (uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (tw->nbuckets - 1);
}

static void link_in(struct corio__taskwatch *tw, struct corio__task_watcher *w)
{
	struct corio__task_watcher **head = &tw->buckets[bucket_of(tw, w->task)];

	w->prev = NULL;
	w->next = *head;
	if (*head)
		(*head)->prev = w;
	*head = w;
}

/* Rehash into @n buckets; on -ENOMEM the old table stays (longer chains). */
static int resize(struct corio__taskwatch *tw, size_t n)
{
	struct corio__task_watcher **old = tw->buckets, *w, *next;
	size_t i, oldn = tw->nbuckets;

	tw->buckets = zalloc(n * sizeof(*tw->buckets));
	if (!tw->buckets) {
		tw->buckets = old;
		return -ENOMEM;
	}
	tw->nbuckets = n;
	for (i = 0; i < oldn; i++)
		for (w = old[i]; w; w = next) {
			next = w->next;
			link_in(tw, w);
		}
	corio__free(old);
	return 0;
}

int corio__task_watch(struct corio_loop *loop, struct corio_task *t,
		      struct corio__task_watcher *w)
{
	struct corio__taskwatch *tw = loop->taskwatch;

	if (t->state == CORIO__DONE)
		return -ESRCH;
	if (!tw) {
		tw = zalloc(sizeof(*tw));
		if (!tw)
			return -ENOMEM;
		tw->buckets = zalloc(MIN_BUCKETS * sizeof(*tw->buckets));
		if (!tw->buckets) {
			corio__free(tw);
			return -ENOMEM;
		}
		tw->nbuckets = MIN_BUCKETS;
		loop->taskwatch = tw;
	}
	if (tw->count >= tw->nbuckets)
		resize(tw, tw->nbuckets * 2);	/* failure: just slower */
	w->task = t;
	link_in(tw, w);
	tw->count++;
	t->flags |= CORIO__T_WATCHED;
	return 0;
}

static void unlink_out(struct corio__taskwatch *tw,
		       struct corio__task_watcher *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		tw->buckets[bucket_of(tw, w->task)] = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->task = NULL;
	tw->count--;
}

void corio__task_unwatch(struct corio_loop *loop,
			 struct corio__task_watcher *w)
{
	struct corio__taskwatch *tw = loop->taskwatch;

	if (!tw || !w->task)
		return;
	/* The task keeps its flag: its end costs one empty lookup. */
	unlink_out(tw, w);
	if (tw->nbuckets > MIN_BUCKETS && tw->count < tw->nbuckets / 8)
		resize(tw, tw->nbuckets / 2);
}

void corio__task_ended(struct corio_loop *loop, struct corio_task *t)
{
	struct corio__taskwatch *tw = loop->taskwatch;
	struct corio__task_watcher *w;

	t->flags &= (uint8_t)~CORIO__T_WATCHED;
	if (!tw)
		return;
	/*
	 * Start from the bucket head after every callback: a callback may
	 * unwatch others or shrink the table.  It cannot add a watcher for
	 * @t, which is DONE.  O(chain) per watcher of @t.
	 */
	for (;;) {
		for (w = tw->buckets[bucket_of(tw, t)]; w; w = w->next)
			if (w->task == t)
				break;
		if (!w)
			break;
		unlink_out(tw, w);
		w->ended(w);
	}
	if (tw->nbuckets > MIN_BUCKETS && tw->count < tw->nbuckets / 8)
		resize(tw, tw->nbuckets / 2);
}

void corio__taskwatch_destroy(struct corio_loop *loop)
{
	struct corio__taskwatch *tw = loop->taskwatch;

	if (!tw)
		return;
	corio__free(tw->buckets);
	corio__free(tw);
	loop->taskwatch = NULL;
}
