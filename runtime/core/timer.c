/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/timer.c - in-process timers: the timing wheel behind corio_sleep
 * and task deadlines, and the clock.
 *
 * A task owns at most one armed timer (it waits on one thing at a time), so
 * the timer needs no record of its own: its links and deadline live in the
 * task, and arming into the wheel allocates nothing.  Only the nearest
 * deadline reaches the kernel, as the timeout of the loop's wait.
 *
 * Where a timer lives (timer_wheel.h) depends on its tick, when >> 20:
 *
 *  - tick > cur: in the wheel, in the slot place() names.  The slot is a
 *    function of the tick and @cur alone, so timers with equal deadlines
 *    always share a list, in arming order.  When @cur moves, the slots it
 *    passes are taken out (advance()): timers now due go to the run, the
 *    others down a level.  A timer under a second ahead costs one list
 *    append, then one pass into the sorted run when its tick comes; it
 *    never moves between levels.
 *  - tick <= cur, armed before its tick was taken out: in the run, sorted
 *    (stably, so equal deadlines keep arming order) when taken out.
 *  - tick <= cur, armed after: in the late heap.  Such a timer was armed
 *    after every run timer of its tick, so the run goes first on equal
 *    deadlines.
 *
 * @cur only moves in corio__timers_fire, to the tick of its @now.  The
 * loop's wait ends at the nearest deadline in the run or the heap (rounded
 * up to its 65 us cell, see wake_at()), or else at the start of the first
 * busy slot, where fire takes the slot out and the exact deadline follows.
 * Fire compares exact deadlines with @now, so however coarse the slot, no
 * timer fires early.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/internal.h"
#include "core/explore.h"

int64_t corio__clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t corio__loop_now(const struct corio_loop *loop)
{
	return loop && loop->virtual_clock ? loop->vnow : corio__clock_now();
}

int64_t corio_now(void)
{
	return corio__loop_now(corio__tls_loop);
}

/* ---------------------------------------------------------------------- */
/* Wheel geometry.                                                        */

static uint64_t tick_of(int64_t when)
{
	return (uint64_t)when >> CORIO__TW_TICK_SHIFT;
}

/* First list index of level @k. */
static unsigned level_base(unsigned k)
{
	return k ? CORIO__TW_L0_SLOTS + (k - 1) * CORIO__TW_LN_SLOTS : 0;
}

static unsigned level_slots(unsigned k)
{
	return k ? CORIO__TW_LN_SLOTS : CORIO__TW_L0_SLOTS;
}

/* log2 of the ticks one slot of level @k spans. */
static unsigned slot_shift(unsigned k)
{
	return k ? CORIO__TW_L0_BITS + (k - 1) * CORIO__TW_LN_BITS : 0;
}

/* log2 of the ticks one block of level @k spans: a slot of level k + 1. */
static unsigned block_shift(unsigned k)
{
	return CORIO__TW_L0_BITS + k * CORIO__TW_LN_BITS;
}

/*
 * The slot of a timer of tick @tick (> @cur): the lowest level whose block
 * holding @tick is @cur's block or the next.  Level k's slots thus hold the
 * ticks from two blocks past @cur's level-(k - 1) block to the end of the
 * block after @cur's level-k block, at most two blocks' worth: the ring
 * index never collides.
 */
static unsigned place(uint64_t tick, uint64_t cur)
{
	unsigned k = 0;

	while ((tick >> block_shift(k)) - (cur >> block_shift(k)) > 1)
		k++;
	return level_base(k) +
	       (unsigned)((tick >> slot_shift(k)) & (level_slots(k) - 1));
}

/*
 * Distance from ring position @from of level @k to its first busy slot
 * within @n positions, or -1.  A level's slot count is a multiple of 64,
 * so the ring wraps at a bitmap word boundary.
 */
static int64_t next_busy(const struct corio__timers *tm, unsigned k,
			 uint64_t from, uint64_t n)
{
	const uint64_t *busy = tm->busy + level_base(k) / 64;
	uint64_t mask = level_slots(k) - 1, d = 0;

	if (n > level_slots(k))
		n = level_slots(k);
	while (d < n) {
		uint64_t i = (from + d) & mask;
		uint64_t w = busy[i / 64] >> (i % 64);

		if (w) {
			d += (uint64_t)__builtin_ctzll(w);
			return d < n ? (int64_t)d : -1;
		}
		d += 64 - i % 64;
	}
	return -1;
}

/* ---------------------------------------------------------------------- */
/* The lists: wheel slots and the run.                                    */

static void list_append(struct corio__timers *tm, unsigned l,
			struct corio_task *t)
{
	struct corio_task *tail = tm->tail[l];

	t->timer_next = NULL;
	t->timer_prev = tail;
	t->timer_where = (uint16_t)(l + 1);
	if (tail) {
		tail->timer_next = t;
	} else {
		tm->head[l] = t;
		if (l < CORIO__TW_SLOTS)
			tm->busy[l / 64] |= 1ull << (l % 64);
	}
	tm->tail[l] = t;
}

static void list_unlink(struct corio__timers *tm, struct corio_task *t)
{
	unsigned l = t->timer_where - 1u;

	if (t->timer_prev)
		t->timer_prev->timer_next = t->timer_next;
	else
		tm->head[l] = t->timer_next;
	if (t->timer_next)
		t->timer_next->timer_prev = t->timer_prev;
	else
		tm->tail[l] = t->timer_prev;
	if (!tm->head[l] && l < CORIO__TW_SLOTS)
		tm->busy[l / 64] &= ~(1ull << (l % 64));
}

/* Empty list @l; returns its old head (the rest follows timer_next). */
static struct corio_task *list_take(struct corio__timers *tm, unsigned l)
{
	struct corio_task *head = tm->head[l];

	tm->head[l] = tm->tail[l] = NULL;
	tm->busy[l / 64] &= ~(1ull << (l % 64));
	return head;
}

/* ---------------------------------------------------------------------- */
/* The late heap: binary, entries ordered by (when, seq).                 */

static bool late_before(const struct corio__timer_late *a,
			const struct corio__timer_late *b)
{
	return a->when != b->when ? a->when < b->when : a->seq < b->seq;
}

static void late_place(struct corio__timers *tm, size_t i,
		       struct corio__timer_late e)
{
	tm->late[i] = e;
	e.task->timer_index = i;
}

static void late_sift_up(struct corio__timers *tm, size_t i,
			 struct corio__timer_late e)
{
	while (i > 0 && late_before(&e, &tm->late[(i - 1) / 2])) {
		late_place(tm, i, tm->late[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	late_place(tm, i, e);
}

static void late_sift_down(struct corio__timers *tm, size_t i,
			   struct corio__timer_late e)
{
	size_t len = tm->late_len;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= len)
			break;
		if (c + 1 < len && late_before(&tm->late[c + 1], &tm->late[c]))
			c++;
		if (!late_before(&tm->late[c], &e))
			break;
		late_place(tm, i, tm->late[c]);
		i = c;
	}
	late_place(tm, i, e);
}

static int late_push(struct corio__timers *tm, struct corio_task *t)
{
	if (tm->late_len == tm->late_cap) {
		uint32_t cap = tm->late_cap ? tm->late_cap * 2 : 64;
		struct corio__timer_late *v = corio__malloc(sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		if (tm->late_len)
			__builtin_memcpy(v, tm->late, sizeof(*v) * tm->late_len);
		corio__free(tm->late);
		tm->late = v;
		tm->late_cap = cap;
	}
	t->timer_where = CORIO__TW_LATE;
	late_sift_up(tm, tm->late_len++, (struct corio__timer_late){
		.when = t->timer_when, .seq = tm->late_seq++, .task = t });
	return 0;
}

static void late_remove(struct corio__timers *tm, size_t i)
{
	struct corio__timer_late last = tm->late[--tm->late_len];

	if (i == tm->late_len)
		return;
	if (i > 0 && late_before(&last, &tm->late[(i - 1) / 2]))
		late_sift_up(tm, i, last);
	else
		late_sift_down(tm, i, last);
}

/* ---------------------------------------------------------------------- */
/* Moving the wheel.                                                      */

/* Stable merge of two lists sorted by deadline; @a's timers came first. */
static struct corio_task *merge(struct corio_task *a, struct corio_task *b)
{
	struct corio_task *head, **tailp = &head;

	while (a && b) {
		if (b->timer_when < a->timer_when) {
			*tailp = b;
			tailp = &b->timer_next;
			b = b->timer_next;
		} else {
			*tailp = a;
			tailp = &a->timer_next;
			a = a->timer_next;
		}
	}
	*tailp = a ? a : b;
	return head;
}

/*
 * Stable bottom-up merge sort of a NULL-terminated list by deadline,
 * O(n log n) and allocation-free: pending[i] holds a sorted run of 2^i
 * timers that came before every timer still to be placed.
 */
static struct corio_task *sort_by_deadline(struct corio_task *list)
{
	struct corio_task *pending[64] = { NULL }, *t, *carry;
	unsigned i, top = 0;

	while (list) {
		t = list;
		list = list->timer_next;
		t->timer_next = NULL;
		carry = t;
		for (i = 0; pending[i]; i++) {
			carry = merge(pending[i], carry);
			pending[i] = NULL;
		}
		pending[i] = carry;
		if (i >= top)
			top = i + 1;
	}
	carry = NULL;
	for (i = 0; i < top; i++)
		if (pending[i])
			carry = carry ? merge(pending[i], carry) : pending[i];
	return carry;
}

/* Append a NULL-terminated list sorted by deadline to the run. */
static void run_append(struct corio__timers *tm, struct corio_task *t)
{
	struct corio_task *next;

	for (; t; t = next) {
		next = t->timer_next;
		list_append(tm, CORIO__TW_RUN, t);
	}
}

/*
 * Sort the timers of one tick (a level-0 slot) into the run.  One pass
 * deals them by deadline into 64 FIFO sub-lists of 16 us each; it takes
 * the cache misses on tasks any sort would, and the small sorts after it
 * run in L1, where a merge sort of the whole tick (a thousand timers in
 * bench/micro timers) made ten passes through L2: 0.91 s of CPU for that
 * benchmark before, 0.86 s after.
 */
#define SUB_BITS 6

static void run_append_tick(struct corio__timers *tm, struct corio_task *t)
{
	struct corio_task *sub[1u << SUB_BITS], **subp[1u << SUB_BITS];
	unsigned i;

	for (i = 0; i < 1u << SUB_BITS; i++)
		subp[i] = &sub[i];
	for (; t; t = t->timer_next) {
		i = (unsigned)((uint64_t)t->timer_when >>
			       (CORIO__TW_TICK_SHIFT - SUB_BITS)) &
		    ((1u << SUB_BITS) - 1);
		*subp[i] = t;
		subp[i] = &t->timer_next;
	}
	for (i = 0; i < 1u << SUB_BITS; i++) {
		if (subp[i] == &sub[i])
			continue;
		*subp[i] = NULL;
		run_append(tm, sort_by_deadline(sub[i]));
	}
}

/*
 * Move @cur forward to @to: every timer of a tick <= @to leaves the wheel
 * for the run, and every timer whose slot changed with @cur moves down.
 * Levels go bottom-up so a timer moved down is never visited twice, and
 * hold increasing ticks, as do slots within a level from @cur on: timers
 * reach the run in deadline order.  Cost: O(levels + busy slots passed +
 * timers moved) plus the sorts.
 */
static void advance(struct corio__timers *tm, uint64_t to)
{
	uint64_t from = tm->cur;
	struct corio_task *due, **duep, *t, *next;
	uint64_t pos, left;
	unsigned k, l;
	int64_t d;

	/* Level 0: the ticks in (from, to] are due whole. */
	pos = from + 1;
	left = to - from;
	while ((d = next_busy(tm, 0, pos, left)) >= 0) {
		pos += (uint64_t)d;
		left -= (uint64_t)d;
		l = (unsigned)(pos & (CORIO__TW_L0_SLOTS - 1));
		run_append_tick(tm, list_take(tm, l));
		pos++;
		left--;
	}
	/* Level k >= 1: the slots of the level-(k - 1) blocks up to the one
	 * after @to's now belong below. */
	for (k = 1; k < CORIO__TW_LEVELS; k++) {
		uint64_t lo = (from >> slot_shift(k)) + 2;
		uint64_t hi = (to >> slot_shift(k)) + 1;

		if (hi < lo)
			break;	/* @cur stayed in this block: and above */
		pos = lo;
		left = hi - lo + 1;
		while ((d = next_busy(tm, k, pos, left)) >= 0) {
			pos += (uint64_t)d;
			left -= (uint64_t)d;
			l = level_base(k) +
			    (unsigned)(pos & (CORIO__TW_LN_SLOTS - 1));
			due = NULL;
			duep = &due;
			for (t = list_take(tm, l); t; t = next) {
				uint64_t tick = tick_of(t->timer_when);

				next = t->timer_next;
				if (tick <= to) {
					*duep = t;
					duep = &t->timer_next;
				} else {
					list_append(tm, place(tick, to), t);
				}
			}
			*duep = NULL;
			run_append(tm, sort_by_deadline(due));
			pos++;
			left--;
		}
	}
	tm->cur = to;
}

/* ---------------------------------------------------------------------- */
/* Arm, disarm, fire.                                                     */

static void timer_remove(struct corio__timers *tm, struct corio_task *t)
{
	if (t->timer_where == CORIO__TW_LATE)
		late_remove(tm, t->timer_index);
	else
		list_unlink(tm, t);
	t->timer_where = 0;
	tm->len--;
}

int corio__timer_arm(struct corio_loop *loop, struct corio_task *t,
		     int64_t when)
{
	struct corio__timers *tm = &loop->timers;

	if (t->timer_where)
		timer_remove(tm, t);
	t->timer_when = when;
	if (when >= 0 && tick_of(when) > tm->cur) {
		list_append(tm, place(tick_of(when), tm->cur), t);
	} else {
		int err = late_push(tm, t);

		if (err)
			return err;
	}
	tm->len++;
	return 0;
}

void corio__timer_remove(struct corio_loop *loop, struct corio_task *t)
{
	timer_remove(&loop->timers, t);
}

/*
 * The loop wakes for a deadline at the end of its 2^16 ns (65 us) cell:
 * timers due within the same cell fire in one wakeup instead of one wait
 * syscall each (a million timers over a second: 171,000 loop iterations
 * and 1.18 s of CPU without, 20,000 and 0.87 s with).  The kernel makes the
 * same bargain for a sleeping syscall (50 us timer_slack_ns); a timer still
 * never fires early.
 */
#define WAKE_CELL_SHIFT 16

static int64_t wake_at(int64_t when)
{
	return when | ((INT64_C(1) << WAKE_CELL_SHIFT) - 1);
}

/*
 * The nearest deadline when it is known (a timer in the run or the late
 * heap), else the start of the first busy wheel slot, a lower bound:
 * firing there takes that slot's timers into the run.  INT64_MAX: none.
 */
static int64_t nearest(const struct corio__timers *tm, bool *exact)
{
	const struct corio_task *run = tm->head[CORIO__TW_RUN];
	unsigned k;
	int64_t d;

	*exact = run || tm->late_len;
	if (*exact) {
		if (!tm->late_len)
			return run->timer_when;
		if (!run || tm->late[0].when < run->timer_when)
			return tm->late[0].when;
		return run->timer_when;
	}
	/* Only the wheel: the start of the first busy slot, a lower bound.
	 * Levels hold increasing ticks, slots within a level too from the
	 * ring position after @cur's. */
	d = next_busy(tm, 0, tm->cur + 1, CORIO__TW_L0_SLOTS);
	if (d >= 0)
		return (int64_t)((tm->cur + 1 + (uint64_t)d)
				 << CORIO__TW_TICK_SHIFT);
	for (k = 1; k < CORIO__TW_LEVELS; k++) {
		uint64_t lo = (tm->cur >> slot_shift(k)) + 2;

		d = next_busy(tm, k, lo, CORIO__TW_LN_SLOTS);
		if (d >= 0)
			return (int64_t)((lo + (uint64_t)d)
					 << (slot_shift(k) +
					     CORIO__TW_TICK_SHIFT));
	}
	return INT64_MAX;
}

int64_t corio__timers_next(const struct corio_loop *loop)
{
	bool exact;
	int64_t when = nearest(&loop->timers, &exact);

	return exact ? wake_at(when) : when;
}

int64_t corio__timers_next_exact(const struct corio_loop *loop)
{
	bool exact;

	return nearest(&loop->timers, &exact);
}

void corio__timers_destroy(struct corio_loop *loop)
{
	corio__free(loop->timers.late);
	loop->timers.late = NULL;
	loop->timers.late_cap = 0;
}

/*
 * Fire every timer due at @now, earliest first.  What firing means depends
 * on what the task waits on: a sleep ends, an I/O operation, a join or a
 * wait on a primitive hits the task's deadline.
 */
void corio__timers_fire(struct corio_loop *loop, int64_t now)
{
	struct corio__timers *tm = &loop->timers;

	if (now >= 0 && tick_of(now) > tm->cur)
		advance(tm, tick_of(now));
	for (;;) {
		struct corio_task *t = tm->head[CORIO__TW_RUN];

		/* On equal deadlines the run was armed first (see above). */
		if (tm->late_len && (!t || tm->late[0].when < t->timer_when))
			t = tm->late[0].task;
		if (!t || t->timer_when > now)
			break;
		if (corio__unlikely(loop->explore))
			t = corio__explore_timer(loop, t);	/* ties */
		timer_remove(tm, t);
		switch (t->wait) {
		case CORIO__WAIT_SLEEP:
			corio__task_resume(loop, t,
				(t->flags & CORIO__T_SLEEP_DEADLINE) ? -ETIME : 0);
			break;
		case CORIO__WAIT_IO:
			corio__io_cancel(loop, t, true);
			break;
		case CORIO__WAIT_SYNC:
			corio__sync_abort(loop, t, -ETIME);
			break;
		case CORIO__WAIT_JOIN: {
			struct corio_task *target = corio__task_joined(t);

			target->joiner = NULL;
			corio__task_resume(loop, t, -ETIME);
			break;
		}
		default:
			break;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Self-check, for assert() and tests: O(armed timers + slots).           */

static bool list_ok(const struct corio__timers *tm, unsigned l, size_t *n)
{
	const struct corio_task *t, *prev = NULL;
	bool busy = l < CORIO__TW_SLOTS &&
		    (tm->busy[l / 64] >> (l % 64) & 1);

	if (l < CORIO__TW_SLOTS && busy != !!tm->head[l])
		return false;
	for (t = tm->head[l]; t; prev = t, t = t->timer_next) {
		uint64_t tick = tick_of(t->timer_when);

		if (t->timer_prev != prev || t->timer_where != l + 1)
			return false;
		if (l == CORIO__TW_RUN) {
			if (t->timer_when < 0 || tick > tm->cur ||
			    (prev && prev->timer_when > t->timer_when))
				return false;
		} else if (t->timer_when < 0 || tick <= tm->cur ||
			   place(tick, tm->cur) != l) {
			return false;
		}
		(*n)++;
	}
	return prev == tm->tail[l];
}

bool corio__timers_check(const struct corio_loop *loop)
{
	const struct corio__timers *tm = &loop->timers;
	size_t n = 0, i;
	unsigned l;

	for (l = 0; l <= CORIO__TW_RUN; l++)
		if (!list_ok(tm, l, &n))
			return false;
	for (i = 0; i < tm->late_len; i++) {
		const struct corio__timer_late *e = &tm->late[i];

		if (e->task->timer_where != CORIO__TW_LATE ||
		    e->task->timer_index != i ||
		    e->when != e->task->timer_when ||
		    (e->when >= 0 && tick_of(e->when) > tm->cur) ||
		    (i && late_before(e, &tm->late[(i - 1) / 2])))
			return false;
	}
	return n + tm->late_len == tm->len;
}

/* ---------------------------------------------------------------------- */
/* Sleeps.                                                                */

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
	t->flags &= (uint8_t)~CORIO__T_SLEEP_DEADLINE;
	if (t->deadline < fire) {
		fire = t->deadline;
		t->flags |= CORIO__T_SLEEP_DEADLINE;
	}
	err = corio__timer_arm(corio__tls_loop, t, fire);
	if (err)
		return corio__op_done(t, err);
	corio__task_suspend(t, CORIO__WAIT_SLEEP);
	return CORIO_SUSPENDED;
}

struct corio_frame *corio_sleep__start(struct corio_frame *parent, int64_t ns,
				       int *result)
{
	int64_t now = corio__loop_now(corio__tls_loop);

	(void)parent;
	/* Saturate: a sleep past the end of the clock never ends. */
	if (ns > INT64_MAX - now)
		ns = INT64_MAX - now;
	return sleep_until(now + (ns > 0 ? ns : 0), result);
}

struct corio_frame *corio_sleep_until__start(struct corio_frame *parent,
					     int64_t when, int *result)
{
	(void)parent;
	return sleep_until(when, result);
}
