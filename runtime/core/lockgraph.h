/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/lockgraph.h - the order in which tasks take locks, and the
 * cycles in it (lockgraph.c).
 *
 * Every lock a task takes while it holds others adds an edge held -> taken
 * to a graph kept across runs (and, under corio_explore, across the
 * schedules of an exploration).  An edge that closes a cycle is a
 * potential deadlock: tasks taking those locks in those orders at the same
 * time would wait for each other, whether or not they did.  The graph
 * knows locks only as addresses and names; prims/sync.c reports its
 * mutexes to it while loop->lockgraph is set.
 */
#ifndef CORIO_CORE_LOCKGRAPH_H
#define CORIO_CORE_LOCKGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct corio_loop;
struct corio_task;
struct corio__lockgraph;

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

/*
 * @t took @lock (named @name, kept while the graph lives: copied) at
 * @file:@line.  A trylock (@try) cannot wait, so it adds no edge towards
 * @lock, but the locks taken while it is held do.
 */
void corio__lock_taken(struct corio_loop *loop, const void *lock,
		       const char *name, struct corio_task *t,
		       const char *file, unsigned line, bool try);
/* @t no longer holds @lock. */
void corio__lock_released(struct corio_loop *loop, const void *lock,
			  const struct corio_task *t);

#endif /* CORIO_CORE_LOCKGRAPH_H */
