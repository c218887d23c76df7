/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/timer_wheel.h - the loop's armed timers (timer.c has the rules).
 *
 * Three places, all intrusive in the task except the last:
 *  - a hierarchical timing wheel of FIFO lists, one list per slot, for
 *    timers in ticks after @cur (a tick is 2^20 ns, about 1 ms);
 *  - the run: the timers of ticks <= @cur taken out of the wheel, sorted by
 *    deadline, fired from the front;
 *  - the late heap: timers armed for a tick <= @cur (short sleeps, past
 *    deadlines), which can no longer go into the wheel.
 * Arm and disarm are O(1) in the wheel and the run, O(log n) in the late
 * heap; each timer is sorted once, when its tick comes.
 */
#ifndef CORIO_TIMER_WHEEL_H
#define CORIO_TIMER_WHEEL_H

#include <stdint.h>

struct corio_task;

/*
 * Level 0 has one slot per tick; each level above has one slot per block of
 * the level below.  A level covers the block of @cur and the next one (so
 * it has two blocks' worth of slots): a timer up to one level-0 block
 * (2^10 ticks, 1.07 s) ahead always goes straight into level 0.  Blocks
 * grow 64-fold per level; seven levels cover every tick of a positive
 * int64_t deadline (2^43 ticks).
 */
#define CORIO__TW_TICK_SHIFT	20
#define CORIO__TW_L0_BITS	10
#define CORIO__TW_LN_BITS	6
#define CORIO__TW_LEVELS	7
#define CORIO__TW_L0_SLOTS	(2u << CORIO__TW_L0_BITS)
#define CORIO__TW_LN_SLOTS	(2u << CORIO__TW_LN_BITS)
#define CORIO__TW_SLOTS		(CORIO__TW_L0_SLOTS + \
				 (CORIO__TW_LEVELS - 1) * CORIO__TW_LN_SLOTS)
#define CORIO__TW_RUN		CORIO__TW_SLOTS	/* list index of the run */
#define CORIO__TW_LATE		0xffffu		/* task timer_where: heap */

_Static_assert(CORIO__TW_L0_BITS + (CORIO__TW_LEVELS - 1) *
	       CORIO__TW_LN_BITS >= 63 - CORIO__TW_TICK_SHIFT,
	       "the top level must hold every tick of an int64_t deadline");
_Static_assert(CORIO__TW_SLOTS + 1 < CORIO__TW_LATE,
	       "timer_where must tell a list from the late heap");
_Static_assert(CORIO__TW_LN_SLOTS % 64 == 0, "levels fill bitmap words");

/* A late-heap entry; @seq breaks ties, so equal deadlines stay FIFO. */
struct corio__timer_late {
	int64_t when;
	uint64_t seq;
	struct corio_task *task;
};

struct corio__timers {
	/* FIFO lists through task timer_next/timer_prev: the wheel's slots,
	 * level by level, then the run (CORIO__TW_RUN). */
	struct corio_task *head[CORIO__TW_SLOTS + 1];
	struct corio_task *tail[CORIO__TW_SLOTS + 1];
	uint64_t busy[CORIO__TW_SLOTS / 64];	/* wheel slots not empty */
	uint64_t cur;			/* last tick taken out of the wheel */
	struct corio__timer_late *late;	/* the late heap, min first */
	uint32_t late_len;
	uint32_t late_cap;
	uint64_t late_seq;		/* arming order inside the heap */
	uint32_t len;			/* armed timers, all three places */
};

#endif /* CORIO_TIMER_WHEEL_H */
