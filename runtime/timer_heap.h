/* SPDX-License-Identifier: MIT */
/*
 * runtime/timer_heap.h - the loop's 8-ary min-heap of armed timers.
 *
 * Entries keep the deadline next to the task pointer so sifting touches
 * only the array; equal deadlines are ordered by the task's arming sequence
 * number, so they fire first-in first-out.  Insert and remove are
 * O(log n); the nearest deadline is O(1).
 */
#ifndef CORIO_TIMER_HEAP_H
#define CORIO_TIMER_HEAP_H

#include <stdint.h>

struct corio_task;

struct corio__timer_entry {
	int64_t when;
	struct corio_task *task;
};

struct corio__timer_heap {
	struct corio__timer_entry *v;
	uint32_t len;
	uint32_t cap;
};

#endif /* CORIO_TIMER_HEAP_H */
