/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/lockgraph.h - the order in which tasks take locks, and the
 * cycles in it (lockgraph.c).
 *
 * Every lock a task takes while it holds others adds an edge held -> taken
 * to a graph kept across runs (and, under corio_explore, across the
 * schedules of an exploration).  An edge that closes a cycle is a
 * potential deadlock: tasks taking those locks in those orders at the same
 * time would wait for each other, whether or not they did.  prims/sync.c
 * reports its mutexes to it while loop->lockgraph is set; a mutex is known
 * by its address and name.
 */
#ifndef CORIO_CORE_LOCKGRAPH_H
#define CORIO_CORE_LOCKGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

struct corio_loop;
struct corio_task;
struct corio__lockgraph;
struct corio__locknode;

/* A new, empty graph; @print: write each cycle on stderr when found.
 * NULL when out of memory. */
struct corio__lockgraph *corio__lockgraph_create(bool print);
void corio__lockgraph_free(struct corio__lockgraph *g);	/* NULL is fine */

/* Make @g @loop's graph for the run of explored schedule @schedule (from
 * 1; its edges name it); the locks held in the previous loop are forgotten. */
void corio__lockgraph_attach(struct corio__lockgraph *g,
			     struct corio_loop *loop, uint32_t schedule);

/* Cycles found so far. */
size_t corio__lockgraph_cycles(const struct corio__lockgraph *g);

/* Write cycles @first.. as text into @buf (terminated when @len > 0);
 * returns the length the whole text needs, as snprintf does. */
size_t corio__lockgraph_format(const struct corio__lockgraph *g, size_t first,
			       char *buf, size_t len);

/* A mutex a task holds now. */
struct corio__lockheld {
	const struct corio_task *task;
	const struct corio_mutex *m;
	struct corio__locknode *node;	/* NULL until an order needs it */
	/* The mutex last taken while this one was held, under its name
	 * then: that order is known, taking it again adds nothing. */
	const struct corio_mutex *after;
	const char *after_name;
};

/* What the hot paths touch: the first member of the graph. */
struct corio__lockgraph_hot {
	struct corio__lockheld *held;	/* unordered; the newest last */
	uint32_t nheld, held_cap;
};

void corio__lock_taken_slow(struct corio_loop *loop,
			    const struct corio_mutex *m,
			    const struct corio_task *t, bool try);
void corio__lock_released_slow(struct corio_loop *loop,
			       const struct corio_mutex *m,
			       const struct corio_task *t);

/*
 * @t took @m, which says where (m->file, m->line; read while @t holds it).
 * A trylock (@try) cannot wait, so it adds no order towards @m, but the
 * mutexes taken while it is held do.  Inline: when every mutex @t holds
 * was already seen before @m (none, or the same order again), taking it
 * is a scan of the few held mutexes and a store.
 */
static inline void corio__lock_taken(struct corio_loop *loop,
				     const struct corio_mutex *m,
				     const struct corio_task *t, bool try)
{
	struct corio__lockgraph_hot *g =
		(struct corio__lockgraph_hot *)loop->lockgraph;
	uint32_t i, n = g->nheld;

	if (corio__unlikely(n == g->held_cap))
		goto slow;
	for (i = 0; i < n && !try; i++) {
		const struct corio__lockheld *h = &g->held[i];

		if (h->task == t && h->m != m &&
		    (h->after != m || h->after_name != m->sync.name))
			goto slow;
	}
	g->held[n] = (struct corio__lockheld){ .task = t, .m = m };
	g->nheld = n + 1;
	return;
slow:
	corio__lock_taken_slow(loop, m, t, try);
}

/* @t no longer holds @m.  Inline: releasing the newest is a decrement. */
static inline void corio__lock_released(struct corio_loop *loop,
					const struct corio_mutex *m,
					const struct corio_task *t)
{
	struct corio__lockgraph_hot *g =
		(struct corio__lockgraph_hot *)loop->lockgraph;

	if (corio__likely(g->nheld)) {
		const struct corio__lockheld *h = &g->held[g->nheld - 1];

		if (corio__likely(h->m == m && h->task == t)) {
			g->nheld--;
			return;
		}
	}
	corio__lock_released_slow(loop, m, t);
}

#endif /* CORIO_CORE_LOCKGRAPH_H */
