/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/task.c - tasks and the trampoline that runs their frames.
 *
 * A task's frames form a chain from the root (parent NULL) to the innermost
 * frame, task->top.  Running a task means calling top's resume function
 * until it suspends: a child frame returned from resume becomes the new top;
 * a finished frame is released and its parent becomes top again, unwinding
 * to its cleanup section when the child failed.  The C stack never grows
 * with the depth of the chain.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/frame_end.h"
#include "core/internal.h"
#include "core/explore.h"
#include "core/proxy.h"
#include "core/scope.h"
#include "core/trace.h"

void corio__warn(const char *fmt, ...)
{
	va_list ap;

	fputs("corio: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------------- */
/* Frames.                                                                */

struct corio_frame *corio_frame_alloc(const struct corio_fninfo *info,
				      struct corio_frame *parent)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_frame *f;

	if (!loop)
		return NULL;
	f = corio__slab_alloc(&loop->slab, info->frame_size);
	if (!f)
		return NULL;
	memset(f, 0, info->frame_size);
	f->info = info;
	f->parent = parent;
	return f;
}

void corio_frame_free(struct corio_frame *frame)
{
	struct corio_loop *loop = corio__tls_loop;

	if (frame && loop)
		corio__slab_free(&loop->slab, frame, frame->info->frame_size);
}

void corio_frame_misuse(const struct corio_frame *frame, const char *what)
{
	corio__warn("%s in %s() at %s:%u", what, frame->info->name,
		    frame->info->file, frame->line);
	abort();
}

/* ---------------------------------------------------------------------- */
/* Scheduling.                                                            */

/*
 * Tasks waiting on something without a queue of its own (I/O, a timer, a
 * join) are kept on the loop's parked list, so every live task can be
 * found for dumps and reports: the others are ready, running, or queued
 * on a primitive.
 */
static void park(struct corio_loop *loop, struct corio_task *t)
{
	t->flags |= CORIO__T_PARKED;
	t->via.parked_prev = NULL;
	t->next = loop->parked;
	if (loop->parked)
		loop->parked->via.parked_prev = t;
	loop->parked = t;
}

static void unpark(struct corio_loop *loop, struct corio_task *t)
{
	struct corio_task *prev = t->via.parked_prev;

	t->flags &= (uint8_t)~CORIO__T_PARKED;
	if (prev)
		prev->next = t->next;
	else
		loop->parked = t->next;
	if (t->next)
		t->next->via.parked_prev = prev;
	t->via.parked_prev = NULL;
}

/*
 * The ready queues (internal.h: two per level, deadline-sorted then FIFO).
 * The common case costs about what a single FIFO did: while only NORMAL
 * tasks without a deadline are ready, push and pop touch that queue alone
 * (ready_mask, which leaves it out, stays 0).  Otherwise a count of
 * trailing zeros finds the first queue, and the aging rule may pick
 * another.  Only tasks with a deadline pay for a sorted insert, O(ready
 * tasks with a deadline in their level), O(1) when deadlines come in
 * increasing order.
 */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct corio_task) == 120,
	       "the task record grew: idle_task_bytes depends on it");
#endif
_Static_assert(CORIO__RUNQS <= 32, "ready_mask is 32 bits");
_Static_assert(CORIO_PRIO_AGING_STEPS >= CORIO__RUNQS - 1,
	       "the starvation bound in corio/task.h assumes this");
/* ready_count[runq / 4]: HIGH and NORMAL first, LOW and IDLE second. */
_Static_assert(CORIO_PRIO_LOW == 2 && CORIO_PRIO_LEVELS == 4,
	       "ready_count is indexed by runq / 4");

#define DEFAULT_BIT (1u << CORIO__RUNQ_DEFAULT)

/* Every non-empty queue, the default one included. */
static inline uint32_t runq_full_mask(const struct corio_loop *loop)
{
	return loop->sched.ready_mask |
	       (loop->sched.ready[CORIO__RUNQ_DEFAULT].head ? DEFAULT_BIT : 0);
}

/*
 * Queue @q is filling while the queues in @others hold tasks.  Ages only
 * count while queues compete (runq_pop_other): when a second queue
 * fills, the first starts waiting now too.
 */
static __attribute__((noinline, cold)) void runq_contend(
	struct corio_loop *loop, unsigned q, uint32_t others)
{
	if (!(others & (others - 1)))
		loop->sched.ready_since[__builtin_ctz(others)] =
			loop->sched.steps;
	loop->sched.ready_since[q] = loop->sched.steps;
}

/* Insert @t, which has a deadline earlier than the tail's, after the
 * tasks whose deadline is not later than its own. */
static void runq_insert_sorted(struct corio__runq *rq, struct corio_task *t)
{
	struct corio_task *p = rq->head;

	if (t->deadline < p->deadline) {
		t->next = p;
		rq->head = t;
		return;
	}
	while (p->next->deadline <= t->deadline)
		p = p->next;	/* stops before the tail: t is earlier */
	t->next = p->next;
	p->next = t;
}

/* runq_push() for every queue but the default one.  Kept out of line:
 * the default path must stay small enough to inline everywhere. */
static __attribute__((noinline)) void runq_push_other(
	struct corio_loop *loop, struct corio_task *t, unsigned q)
{
	struct corio__runq *rq = &loop->sched.ready[q];

	if (!rq->head) {
		uint32_t others = runq_full_mask(loop);

		rq->head = rq->tail = t;
		if (others)
			runq_contend(loop, q, others);
		loop->sched.ready_mask |= 1u << q;
	} else if ((q & 1) || t->deadline >= rq->tail->deadline) {
		rq->tail->next = t;
		rq->tail = t;
	} else {
		runq_insert_sorted(rq, t);
	}
	loop->sched.ready_count[q / 4]++;
}

static inline void runq_push(struct corio_loop *loop, struct corio_task *t)
{
	struct corio__runq *rq = &loop->sched.ready[CORIO__RUNQ_DEFAULT];
	unsigned q = corio__runq_of(t);

	t->next = NULL;
	if (corio__unlikely(q != CORIO__RUNQ_DEFAULT)) {
		runq_push_other(loop, t, q);
		return;
	}
	if (rq->tail) {
		rq->tail->next = t;
	} else {
		rq->head = t;
		if (corio__unlikely(loop->sched.ready_mask))
			runq_contend(loop, q, loop->sched.ready_mask);
	}
	rq->tail = t;
	loop->sched.ready_count[0]++;
}

/*
 * Aging: several queues hold tasks and @q, the first in priority order,
 * would run.  A queue that saw CORIO_PRIO_AGING_STEPS steps of others
 * since it last ran (or filled) is overdue; the one overdue longest runs
 * instead, ties to the higher priority.  An overdue queue thus waits for
 * at most the other seven before its turn (the bound in corio/task.h).
 */
static unsigned runq_aged(const struct corio_loop *loop, unsigned q,
			  uint32_t mask)
{
	uint32_t rest = mask & (mask - 1);	/* all but @q */
	uint32_t longest = CORIO_PRIO_AGING_STEPS - 1;

	while (rest) {
		unsigned r = (unsigned)__builtin_ctz(rest);
		uint32_t waited = loop->sched.steps -
				  loop->sched.ready_since[r];

		rest &= rest - 1;
		if (waited > longest) {
			longest = waited;
			q = r;
		}
	}
	return q;
}

/* runq_pop() when some queue other than the default one holds tasks. */
static __attribute__((noinline)) struct corio_task *runq_pop_other(
	struct corio_loop *loop)
{
	uint32_t full = runq_full_mask(loop);
	unsigned q = (unsigned)__builtin_ctz(full);
	struct corio__runq *rq;
	struct corio_task *t;

	/* A lone queue makes nobody wait: no bookkeeping for aging. */
	if (full & (full - 1)) {
		q = runq_aged(loop, q, full);
		loop->sched.ready_since[q] = ++loop->sched.steps;
	}
	rq = &loop->sched.ready[q];
	t = rq->head;
	rq->head = t->next;
	if (!rq->head) {
		rq->tail = NULL;
		/* a no-op for the default queue */
		loop->sched.ready_mask &= ~(1u << q);
	}
	loop->sched.ready_count[q / 4]--;
	return t;
}

/* Take the task to run next; the queues are not empty. */
static inline struct corio_task *runq_pop(struct corio_loop *loop)
{
	struct corio__runq *rq = &loop->sched.ready[CORIO__RUNQ_DEFAULT];
	struct corio_task *t;

	if (corio__unlikely(loop->sched.ready_mask))
		return runq_pop_other(loop);
	t = rq->head;
	rq->head = t->next;
	if (!rq->head)
		rq->tail = NULL;
	loop->sched.ready_count[0]--;
	return t;
}

/* Take the ready @t out of its queue: O(tasks ahead of it). */
static void runq_remove(struct corio_loop *loop, struct corio_task *t)
{
	unsigned q = corio__runq_of(t);
	struct corio__runq *rq = &loop->sched.ready[q];
	struct corio_task *p = NULL, *c = rq->head;

	while (c != t) {
		p = c;
		c = c->next;
	}
	if (p)
		p->next = t->next;
	else
		rq->head = t->next;
	if (rq->tail == t)
		rq->tail = p;
	if (!rq->head && q != CORIO__RUNQ_DEFAULT)
		loop->sched.ready_mask &= ~(1u << q);
	t->next = NULL;
	loop->sched.ready_count[q / 4]--;
}

/*
 * Queue @t without a trace hook: for the wake-ups a trace records at the
 * end of the step that makes them (the running task queueing itself, a
 * task's end waking its joiner).  The hottest wake-ups then call nothing
 * out and keep no registers for a call.
 */
static __attribute__((always_inline)) inline void wake_untraced(
	struct corio_loop *loop, struct corio_task *t)
{
	assert(t->state != CORIO__READY && t->state != CORIO__DONE);
	if (t->flags & CORIO__T_PARKED)
		unpark(loop, t);
	t->state = CORIO__READY;
	t->wait = CORIO__WAIT_NONE;
	runq_push(loop, t);
}

/* Inlined into this file's callers (spawn, a join's end): the hottest
 * wake-ups.  Other files call the out-of-line copy. */
__attribute__((always_inline)) inline void corio__task_wake(
	struct corio_loop *loop, struct corio_task *t)
{
	wake_untraced(loop, t);
	corio__trace_wake(loop, t);
}

/* wake_untraced() of the running task, which is never parked (a yield). */
static __attribute__((always_inline)) inline void wake_self(
	struct corio_loop *loop, struct corio_task *t)
{
	assert(t == loop->current && t->state == CORIO__RUNNING &&
	       !(t->flags & CORIO__T_PARKED));
	t->state = CORIO__READY;
	t->wait = CORIO__WAIT_NONE;
	runq_push(loop, t);
}

void corio__task_resume(struct corio_loop *loop, struct corio_task *t,
			int64_t res)
{
	assert(t->state == CORIO__WAITING);
	corio__timer_disarm(loop, t);
	corio__task_deliver(t, res);
	/* A stand-in of a select (proxy.h): its owner takes it from here. */
	if (corio__unlikely(corio__task_is_proxy(t))) {
		struct corio__proxy *p = (struct corio__proxy *)(void *)t;

		p->fire(loop, p);
		return;
	}
	corio__task_wake(loop, t);
}

void corio__task_resume_unwind(struct corio_loop *loop, struct corio_task *t)
{
	assert(t->state == CORIO__WAITING && (t->flags & CORIO__T_CANCELLED));
	corio__timer_disarm(loop, t);
	t->flags |= CORIO__T_UNWIND;
	corio__task_wake(loop, t);
}

void corio__task_suspend(struct corio_task *t, enum corio__wait wait)
{
	struct corio_loop *loop = corio__tls_loop;

	assert(t->state == CORIO__RUNNING && t == loop->current);
	t->state = CORIO__WAITING;
	t->wait = (uint8_t)wait;
	t->wait_since = (uint32_t)(loop->now >> 20);
	if (wait != CORIO__WAIT_SYNC)
		park(loop, t);
	if (corio__unlikely(t->scoped))
		corio__scope_waits(loop, t);
}

struct corio_frame *corio__op_no_task(void *result,
				     enum corio__result_kind kind)
{
	struct corio_task none = { .result = result, .result_kind = kind };

	/* An await outside any task: the operation cannot start. */
	corio__task_deliver(&none, -EPERM);
	return CORIO_READY;
}

struct corio_frame *corio__op_cancelled(struct corio_loop *loop,
					struct corio_task *t)
{
	/* The cancellation takes effect at this await: suspend and come
	 * straight back to unwind. */
	t->flags |= CORIO__T_UNWIND;
	wake_self(loop, t);
	return CORIO_SUSPENDED;
}

bool corio__op_past_deadline(struct corio_task *t)
{
	if (t->deadline > corio__loop_now(corio__tls_loop))
		return false;
	corio__task_deliver(t, -ETIME);
	return true;
}

/*
 * Finished tasks that nobody joined or detached yet (zombies) sit on a
 * doubly linked list through @next and @on.zombie_prev, neither of which a
 * finished task uses otherwise, so the loop can release them at the end.
 */
static void zombie_add(struct corio_loop *loop, struct corio_task *t)
{
	t->on.zombie_prev = NULL;
	t->next = loop->zombies;
	if (loop->zombies)
		loop->zombies->on.zombie_prev = t;
	loop->zombies = t;
}

static void zombie_remove(struct corio_loop *loop, struct corio_task *t)
{
	struct corio_task *prev = t->on.zombie_prev;

	assert(t->state == CORIO__DONE);
	if (prev)
		prev->next = t->next;
	else
		loop->zombies = t->next;
	if (t->next)
		t->next->on.zombie_prev = prev;
}

static void release(struct corio_loop *loop, struct corio_task *t)
{
	if (t->state == CORIO__DONE && !t->joiner &&
	    !(t->flags & CORIO__T_DETACHED))
		zombie_remove(loop, t);
	loop->stats.tasks_live--;
	corio__slab_free(&loop->slab, t, sizeof(*t));
}

/* The root frame finished with @status.  Inlined into both copies of
 * run_task(): a task's end is on the path of every spawn and join. */
static __attribute__((always_inline)) inline void finish(
	struct corio_loop *loop, struct corio_task *t, int status)
{
	struct corio_task *joiner = t->joiner;

	assert(!joiner || (joiner->state == CORIO__WAITING &&
			   corio__task_joined(joiner) == t));
	t->status = status;
	t->state = CORIO__DONE;
	t->top = NULL;
	loop->unfinished--;
	if (corio__unlikely(t->mutexes))
		loop->abandon(loop, t);	/* set with the first mutex */
	if (corio__unlikely(t->scoped))
		corio__scope_ended(loop, t);
	if (corio__unlikely(t->flags & CORIO__T_WATCHED))
		corio__task_ended(loop, t);
	if (joiner) {
		/* corio__task_resume, with this file's inlined wake-up: a
		 * join's end is among the hottest wake-ups. */
		corio__timer_disarm(loop, joiner);
		corio__task_deliver(joiner, status);
		wake_untraced(loop, joiner);
		release(loop, t);
	} else if (t->flags & CORIO__T_DETACHED) {
		release(loop, t);
	} else {
		zombie_add(loop, t);
	}
}

/*
 * The trampoline: run @t's frames until the task suspends or finishes.
 * @hooks: tell the watchdog and the trace, if on; false where the caller
 * saw both off (loop->slow), and they cannot come on during a step.
 * Inlined twice, so that the common loop tests neither per step.
 */
static __attribute__((always_inline)) inline void run_task(
	struct corio_loop *loop, struct corio_task *t, bool hooks)
{
	struct corio_frame *f = t->top, *next;

	assert(t->state == CORIO__READY && f && !loop->current);
	loop->current = t;
	t->state = CORIO__RUNNING;
	if (hooks && corio__unlikely(loop->watch.running))
		corio__watchdog_publish(loop, t);
	if (corio__unlikely(t->flags & CORIO__T_UNWIND)) {
		/* Inject the cancellation at the suspension point; a frame
		 * that already finished keeps the error it finished with. */
		t->flags &= (uint8_t)~CORIO__T_UNWIND;
		if (!(f->flags & CORIO__FRAME_ENDED) || !f->err)
			f->err = -ECANCELED;
		f->state = CORIO_STATE_UNWIND;
	}
	/* A finished frame kept for the tasks that use it (frame_end.h). */
	if (corio__unlikely(f->flags & CORIO__FRAME_ENDED))
		goto finished;
	/* t->top is kept equal to f, the frame running: what it starts is
	 * attributed to it (groups, reports). */
	for (;;) {
		next = f->info->resume(f);
		if (corio__likely(next != NULL)) {
			if (next == CORIO_SUSPENDED)
				break;
			/* a child, or f again to unwind */
			f = t->top = next;
			continue;
		}
finished:
		/* The tasks that use f's memory end before f is released. */
		if (corio__unlikely(f->flags & CORIO__FRAME_OWNER) &&
		    loop->frame_end(loop, t, f))
			break;
		/* f finished: hand its error to the parent, release it. */
		next = f->parent;
		if (!next) {
			int status = f->err;

			if (hooks)
				corio__trace_step_done(loop, t, f);
			corio__slab_free(&loop->slab, f, f->info->frame_size);
			finish(loop, t, status);
			loop->current = NULL;
			return;
		}
		if (corio__unlikely(f->err != 0)) {
			next->err = f->err;
			next->state = CORIO_STATE_UNWIND;
		}
		corio__slab_free(&loop->slab, f, f->info->frame_size);
		f = t->top = next;
	}
	if (hooks)
		corio__trace_step_end(loop, t);
	loop->current = NULL;
}

/* run_task() with the watchdog's and the trace's hooks. */
static void run_task_hooked(struct corio_loop *loop, struct corio_task *t)
{
	run_task(loop, t, true);
}

/* corio__run_ready() with exploration, the watchdog or the trace on. */
static void run_ready_hooked(struct corio_loop *loop, uint32_t n,
			     unsigned budget)
{
	if (loop->explore) {
		corio__explore_run_ready(loop, budget);	/* its own order */
		return;
	}
	while (n-- > 0 && corio__ready_any(loop))
		run_task_hooked(loop, runq_pop(loop));
	if (loop->watch.running)
		corio__watchdog_idle(loop);
}

void corio__run_ready(struct corio_loop *loop, unsigned budget)
{
	/*
	 * Run every task that was ready when the phase began, and go on with
	 * tasks woken meanwhile up to @budget in all: many ready tasks cost
	 * one trip to the kernel, while a task that keeps yielding still
	 * lets I/O be submitted and reaped after @budget steps.  LOW and
	 * IDLE tasks do not lengthen the phase: under a flood of them the
	 * loop still polls every @budget steps, so a task woken by I/O or a
	 * timer at a higher level waits for @budget steps, not the flood.
	 */
	uint32_t urgent = loop->sched.ready_count[0];
	uint32_t n = urgent > budget ? urgent : budget;

	assert(corio__loop_slow_ok(loop));
	if (corio__unlikely(loop->slow & (CORIO__SLOW_EXPLORE |
					  CORIO__SLOW_TRACE |
					  CORIO__SLOW_WATCH))) {
		run_ready_hooked(loop, n, budget);
		return;
	}
	while (n-- > 0 && corio__ready_any(loop))
		run_task(loop, runq_pop(loop), false);
}

void corio__task_run_picked(struct corio_loop *loop, struct corio_task *t)
{
	runq_remove(loop, t);
	run_task_hooked(loop, t);
}

/* ---------------------------------------------------------------------- */
/* The public task API.                                                   */

/* Spawn at level @prio, or the spawning task's level when -1. */
static int spawn(struct corio_loop *loop, struct corio_frame *root, int prio,
		 const char *file, int line, struct corio_task **taskp)
{
	struct corio_task *t;

	if (taskp)
		*taskp = NULL;
	if (!loop) {
		if (root)
			corio_frame_free(root);
		return -EINVAL;
	}
	if (!pthread_equal(loop->owner, pthread_self()))
		return -EPERM;
	if (!root)
		return -ENOMEM;
	/* -1 to CORIO_PRIO_LEVELS - 1, in one unsigned comparison. */
	if (corio__unlikely((unsigned)(prio + 1) > CORIO_PRIO_LEVELS)) {
		corio__slab_free(&loop->slab, root, root->info->frame_size);
		return -EINVAL;
	}
	t = corio__slab_alloc(&loop->slab, sizeof(*t));
	if (!t) {
		corio__slab_free(&loop->slab, root, root->info->frame_size);
		return -ENOMEM;
	}
	*t = (struct corio_task){
		.top = root,
		.name = root->info->name,
		.file = file,
		.line = (uint32_t)line <= CORIO__LINE_MAX ?
			(uint32_t)line : CORIO__LINE_MAX,
		.deadline = CORIO_NO_DEADLINE,
		.id = ++loop->next_id ? loop->next_id : ++loop->next_id,
		.parent_id = loop->current ? loop->current->id : 0,
		/* Its level (the spawner's when -1), without a deadline. */
		.runq = (uint8_t)(prio >= 0 ? 2 * prio + 1 :
				  loop->current ? loop->current->runq | 1 :
				  CORIO__RUNQ_DEFAULT),
	};
	root->parent = NULL;
	/* In its spawner's scope, or the entered one. */
	if (corio__unlikely(loop->scopes) && corio__scope_spawned(loop, t)) {
		corio__slab_free(&loop->slab, t, sizeof(*t));
		corio__slab_free(&loop->slab, root, root->info->frame_size);
		return -ENOMEM;
	}
	/* Without a handle nobody can join or reap it: detach it now. */
	if (!taskp)
		t->flags |= CORIO__T_DETACHED;
	loop->unfinished++;
	loop->stats.tasks_live++;
	loop->stats.tasks_spawned++;
	if (taskp)
		*taskp = t;
	corio__task_wake(loop, t);
	return 0;
}

int corio_spawn_at(struct corio_loop *loop, struct corio_frame *root,
		   const char *file, int line, struct corio_task **taskp)
{
	return spawn(loop, root, -1, file, line, taskp);
}

int corio_spawn_prio_at(struct corio_loop *loop, struct corio_frame *root,
			int prio, const char *file, int line,
			struct corio_task **taskp)
{
	/* Out of range, -1 included: spawn() rejects CORIO_PRIO_LEVELS. */
	if (prio < 0)
		prio = CORIO_PRIO_LEVELS;
	return spawn(loop, root, prio, file, line, taskp);
}

struct corio_frame *corio_join__start(struct corio_frame *parent,
				      struct corio_task *target, int *status)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_frame *early;
	struct corio_task *t;

	(void)parent;
	early = corio__op_prologue(&t, status, CORIO__RES_INT);
	if (early)
		return early;
	/* Joining itself: a cycle of one, which the check reports. */
	if (target == t) {
		corio__would_deadlock(loop, t, CORIO__WAIT_JOIN, t);
		return corio__op_done(t, -EDEADLK);
	}
	if (!target || (target->flags & CORIO__T_DETACHED) ||
	    target->joiner)
		return corio__op_done(t, -EINVAL);
	/* A finished task needs no waiting: no deadline applies. */
	if (target->state == CORIO__DONE) {
		corio__task_deliver(t, target->status);
		release(loop, target);
		return CORIO_READY;
	}
	if (corio__op_expired(t))
		return CORIO_READY;
	if (corio__would_deadlock(loop, t, CORIO__WAIT_JOIN, target))
		return corio__op_done(t, -EDEADLK);
	if (t->deadline != CORIO_NO_DEADLINE) {
		int err = corio__timer_arm(loop, t, t->deadline);

		if (err)
			return corio__op_done(t, err);
	}
	target->joiner = t;
	t->on.joined = target;
	corio__task_suspend(t, CORIO__WAIT_JOIN);
	return CORIO_SUSPENDED;
}

int corio_task_reap(struct corio_task *t, int *status)
{
	struct corio_loop *loop = corio__tls_loop;

	if (!t || !loop || t->joiner || (t->flags & CORIO__T_DETACHED))
		return -EINVAL;
	if (t->state != CORIO__DONE)
		return -EBUSY;
	if (status)
		*status = t->status;
	release(loop, t);
	return 0;
}

int corio_task_detach(struct corio_task *t)
{
	struct corio_loop *loop = corio__tls_loop;

	if (!t || !loop || t->joiner || (t->flags & CORIO__T_DETACHED))
		return -EINVAL;
	if (t->state == CORIO__DONE) {
		release(loop, t);
		return 0;
	}
	t->flags |= CORIO__T_DETACHED;
	return 0;
}

int corio_task_cancel(struct corio_task *t)
{
	struct corio_loop *loop = corio__tls_loop;

	if (!t || !loop || t->state == CORIO__DONE)
		return -EINVAL;
	if (t->flags & CORIO__T_CANCELLED)
		return 0;
	t->flags |= CORIO__T_CANCELLED;
	/*
	 * The cancel-safety rule (docs/design.md, "Cancellation"): a wait
	 * that was already satisfied is never undone here.  A ready task
	 * was woken with a result (bytes, an element, a permit, a lock, an
	 * fd): it runs, sees it, and the cancellation takes effect at its
	 * next await.  Only a task that never ran unwinds at once.
	 */
	if (t->state == CORIO__READY) {
		if (t->top->state == 0)
			t->flags |= CORIO__T_UNWIND;
		return 0;
	}
	if (t->state != CORIO__WAITING)
		return 0;	/* the caller itself: its next await */
	switch (t->wait) {
	case CORIO__WAIT_IO:
		/* The buffer belongs to the kernel until the op's own CQE:
		 * request cancellation and let that CQE wake the task,
		 * with the real result if the operation took effect. */
		corio__io_cancel(loop, t, false);
		break;
	case CORIO__WAIT_JOIN:
		corio__task_joined(t)->joiner = NULL;
		corio__task_resume_unwind(loop, t);
		break;
	case CORIO__WAIT_SYNC:
		/* A blocking call cannot be interrupted: the task sees its
		 * result when it returns (it may use the task's frames),
		 * and unwinds at its next await. */
		if (corio__task_queue(t)->kind != CORIO_WAIT_BLOCKING)
			corio__sync_abort(loop, t, 0);
		break;
	default:
		corio__task_resume_unwind(loop, t);
		break;
	}
	return 0;
}

struct corio_frame *corio_yield__start(struct corio_frame *parent)
{
	struct corio_frame *early;
	struct corio_task *t;

	(void)parent;
	early = corio__op_prologue(&t, NULL, CORIO__RES_NONE);
	if (early)
		return early;
	wake_self(corio__tls_loop, t);
	return CORIO_SUSPENDED;
}

struct corio_task *corio_current_task(void)
{
	return corio__current_task();
}

uint64_t corio_task_id(const struct corio_task *t)
{
	return t->id;
}

const char *corio_task_name(const struct corio_task *t)
{
	return t->name;
}

void corio_task_set_name(struct corio_task *t, const char *name)
{
	if (t && name)
		t->name = name;
	if (t && name && corio__tls_loop)
		corio__trace_name(corio__tls_loop, t);
}

int corio_task_is_done(const struct corio_task *t)
{
	return t->state == CORIO__DONE;
}

int64_t corio_deadline_set(int64_t deadline)
{
	struct corio_task *t = corio__current_task();
	int64_t prev;

	if (!t)
		return CORIO_NO_DEADLINE;
	prev = t->deadline;
	/* Already queued again (it woke itself, e.g. a yield): requeue. */
	if (corio__unlikely(t->state == CORIO__READY))
		runq_remove(corio__tls_loop, t);
	t->deadline = deadline;
	t->runq = (uint8_t)((t->runq & ~1u) |
			    (deadline == CORIO_NO_DEADLINE));
	if (corio__unlikely(t->state == CORIO__READY))
		runq_push(corio__tls_loop, t);
	return prev;
}

int corio_task_set_priority(struct corio_task *t, int prio)
{
	struct corio_loop *loop = corio__tls_loop;

	if (!loop)
		return -EPERM;
	if (!t || t->state == CORIO__DONE || prio < 0 ||
	    prio >= CORIO_PRIO_LEVELS)
		return -EINVAL;
	if (t->runq / 2 == prio)
		return 0;
	if (t->state == CORIO__READY)
		runq_remove(loop, t);
	t->runq = (uint8_t)(2 * prio + (t->runq & 1));
	if (t->state == CORIO__READY)
		runq_push(loop, t);
	return 0;
}

int corio_task_priority(const struct corio_task *t)
{
	return t->runq / 2;
}

void corio__zombies_report(struct corio_loop *loop)
{
	struct corio_task *t;

	/* A failure nobody looked at is a lost error: say so.  Zombies that
	 * succeeded, or were cancelled (by someone who knew), are released
	 * quietly. */
	for (t = loop->zombies; t; t = t->next)
		if (t->status && t->status != -ECANCELED)
			corio__warn("task #%llu \"%s\" (spawned at %s:%u) "
				    "failed with %d (%s) and was never joined",
				    (unsigned long long)t->id, t->name,
				    t->file, t->line, t->status,
				    corio_strerror(t->status));
}

void corio__zombies_release(struct corio_loop *loop)
{
	while (loop->zombies)
		release(loop, loop->zombies);
}

/* The first task of @loop not yet asked to cancel, or NULL. */
static struct corio_task *uncancelled(struct corio_loop *loop)
{
	struct corio_task *t;
	struct corio__sync *s;
	unsigned q;

	for (q = 0; q < CORIO__RUNQS; q++)
		for (t = loop->sched.ready[q].head; t; t = t->next)
			if (!(t->flags & CORIO__T_CANCELLED))
				return t;
	for (t = loop->parked; t; t = t->next)
		if (!(t->flags & CORIO__T_CANCELLED))
			return t;
	for (s = loop->syncs.next; s != &loop->syncs; s = s->next)
		for (t = s->head; t; t = t->next)
			if (!(t->flags & CORIO__T_CANCELLED))
				return t;
	return NULL;
}

void corio__tasks_cancel_all(struct corio_loop *loop)
{
	size_t cap = loop->unfinished, n = 0, i;
	struct corio_task **v, *t;
	struct corio__sync *s;
	unsigned q;

	if (!cap)
		return;
	/* Collected first: cancelling moves tasks between these lists. */
	v = corio__malloc(sizeof(*v) * cap);
	if (!v) {
		/* No memory: one at a time, rescanning (quadratic). */
		while ((t = uncancelled(loop)))
			corio_task_cancel(t);
		return;
	}
	for (q = 0; q < CORIO__RUNQS; q++)
		for (t = loop->sched.ready[q].head; t && n < cap; t = t->next)
			v[n++] = t;
	for (t = loop->parked; t && n < cap; t = t->next)
		v[n++] = t;
	for (s = loop->syncs.next; s != &loop->syncs; s = s->next)
		for (t = s->head; t && n < cap; t = t->next)
			v[n++] = t;
	for (i = 0; i < n; i++)
		corio_task_cancel(v[i]);
	corio__free(v);
}
