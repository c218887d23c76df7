/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/taskwatch.c - callbacks on task end, keyed by task.
 *
 * The task record has no room for a list of watchers (its size is a memory
 * goal), so the loop keeps them in a chained hash table keyed by the task
 * pointer, and the task carries one flag bit, CORIO__T_WATCHED, so that
 * finish() pays a lookup only for watched tasks.  Watchers are intrusive:
 * watching allocates only when the table grows.  The table doubles when it
 * holds more watchers than buckets and halves when it drops below an eighth,
 * so a burst of short-lived watchers leaves no lasting footprint
 * (htab.h).
 */
#include <errno.h>
#include <string.h>

#include "core/internal.h"

/* At least this many buckets: tasks come and go in bursts. */
#define MIN_BUCKETS 64

static uint64_t key_of(const struct corio_task *t)
{
	return (uint64_t)(uintptr_t)t;
}

int corio__task_watch(struct corio_loop *loop, struct corio_task *t,
		      struct corio__task_watcher *w)
{
	struct corio__htab *tw = &loop->taskwatch;

	if (t->state == CORIO__DONE)
		return -ESRCH;
	tw->min = MIN_BUCKETS;
	w->h.key = key_of(t);
	if (corio__htab_insert(tw, &w->h))
		return -ENOMEM;
	w->task = t;
	t->flags |= CORIO__T_WATCHED;
	return 0;
}

static void unlink_out(struct corio__htab *tw, struct corio__task_watcher *w)
{
	corio__htab_remove(tw, &w->h);
	w->task = NULL;
}

void corio__task_unwatch(struct corio_loop *loop,
			 struct corio__task_watcher *w)
{
	if (!w->task)
		return;
	/* The task keeps its flag: its end costs one empty lookup. */
	unlink_out(&loop->taskwatch, w);
}

void corio__task_ended(struct corio_loop *loop, struct corio_task *t)
{
	struct corio__hnode *e;

	t->flags &= (uint8_t)~CORIO__T_WATCHED;
	/*
	 * Look again after every callback: a callback may unwatch others
	 * or shrink the table.  It cannot add a watcher for @t, which is
	 * DONE.  O(chain) per watcher of @t.
	 */
	while ((e = corio__htab_find(&loop->taskwatch, key_of(t)))) {
		struct corio__task_watcher *w =
			(struct corio__task_watcher *)e;

		unlink_out(&loop->taskwatch, w);
		w->ended(w);
	}
}

void corio__taskwatch_destroy(struct corio_loop *loop)
{
	corio__htab_free(&loop->taskwatch);
}
