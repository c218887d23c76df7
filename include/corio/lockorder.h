/* SPDX-License-Identifier: MIT */
/*
 * corio/lockorder.h - potential deadlocks from the order tasks take mutexes
 * in, found in runs that did not deadlock.
 *
 * With CORIO_LOOP_LOCK_ORDER in its flags (corio/loop.h), a loop records,
 * for every corio mutex a task locks while it holds others, that each held
 * one comes before it.  When the orders recorded form a cycle (task "a"
 * locked B while holding A, task "b" locked A while holding B; or
 * A -> B -> C -> A over three tasks), two or more tasks taking those locks
 * at the same moment would wait for each other forever: the loop prints a
 * report on stderr and keeps it here, though the run went on fine:
 *
 *	corio: POTENTIAL DEADLOCK (lock order): 2 mutexes taken in a cycle
 *	  "accounts" -> "ledger": task #1 "transfer" locked "ledger" at
 *	     bank.c:40 while holding "accounts" (locked at bank.c:38)
 *	  "ledger" -> "accounts": task #2 "audit" locked "accounts" at
 *	     bank.c:71 while holding "ledger" (locked at bank.c:69)
 *
 * corio_explore() (corio/explore.h) keeps one such graph across all the
 * schedules it runs.  A trylock adds no order towards the mutex it takes
 * (it cannot wait); semaphores, channels and events are not seen.  Mutexes
 * are told apart by address and name: one destroyed and initialised again
 * at the same address with the same name is the same mutex.  Tracking
 * costs a lookup per lock and unlock; docs/deadlocks.md has the numbers.
 */
#ifndef CORIO_LOCKORDER_H
#define CORIO_LOCKORDER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;

/* One edge of a cycle: task @task locked @taken at @taken_file:@taken_line
 * while holding @held, which it had locked at @held_file:@held_line.
 * The strings live as long as the loop. */
struct corio_lock_edge {
	const char *held;		/* mutex names */
	const char *taken;
	const char *held_file;
	unsigned held_line;
	const char *taken_file;
	unsigned taken_line;
	uint64_t task_id;
	const char *task;
	uint64_t schedule;		/* explored: the schedule (counted
					 * from 1) that first took it; 0
					 * outside corio_explore */
};

/* Potential deadlocks @loop found (0 without CORIO_LOOP_LOCK_ORDER). */
CORIO_EXTERN size_t corio_lock_order_cycles(const struct corio_loop *loop);

/*
 * Copy the edges of cycle @i (counted from 0) into @out, at most @max of
 * them, in cycle order starting with the edge that closed it.  Returns the
 * number of edges in the cycle (which may exceed @max), or -ENOENT when
 * there is no cycle @i.
 */
CORIO_EXTERN int corio_lock_order_cycle(const struct corio_loop *loop,
					size_t i, struct corio_lock_edge *out,
					size_t max);

/* Write every cycle as text (as printed) into @buf, terminated when @len
 * > 0.  Returns the length the whole text needs, as snprintf does. */
CORIO_EXTERN size_t corio_lock_order_format(const struct corio_loop *loop,
					    char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_LOCKORDER_H */
