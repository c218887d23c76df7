/* SPDX-License-Identifier: MIT */
/*
 * corio/task.h - tasks: spawn, join, detach, cancel, yield.
 *
 * A task runs one chain of frames, from the root frame it was spawned with
 * down to the innermost frame currently awaiting something.  It belongs to
 * the loop it was spawned on and never moves.  All functions here are for
 * the loop's own thread.
 *
 * Lifetime: a task record lives until it has finished and has been joined,
 * reaped or detached.  A task that finished but was neither joined nor
 * detached stays as a zombie holding its status until then (or until its
 * loop is destroyed).  After a successful join or reap the pointer is
 * invalid, as after free().
 */
#ifndef CORIO_TASK_H
#define CORIO_TASK_H

#include <stdint.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;
struct corio_task;

/*
 * Spawn a task on @loop that runs @root (a frame from some f__start(NULL,
 * ...), not yet run).  The task is queued, not run: it starts when the loop
 * next runs its ready tasks.  @file and @line record the spawn site for
 * reports; the task's name is the root function's name until changed.
 * On success stores the task in *@taskp and returns 0; when @taskp is
 * NULL the task is detached (nobody could join it).
 * Errors: -ENOMEM (@root NULL, or no memory for the task; @root is
 * released), -EINVAL (@loop NULL), -EPERM (not @loop's thread).
 */
CORIO_EXTERN int corio_spawn_at(struct corio_loop *loop,
				struct corio_frame *root, const char *file,
				int line, struct corio_task **taskp);

/* corio_spawn_at() recording the caller's file and line. */
#define corio_spawn(loop, root, taskp) \
	corio_spawn_at((loop), (root), __FILE__, __LINE__, (taskp))

/*
 * Awaitable: wait until @task finishes and store its status (0, or the
 * -errno its root frame failed with, -ECANCELED after cancellation) in
 * *@status; then release @task.  The result of the operation itself is
 * written to *@status too: -EDEADLK when the join would close an await
 * cycle (a task joining itself or a task that, directly or through other
 * joins, awaits the caller), -EINVAL when @task already has a joiner or was
 * detached.
 */
CORIO_EXTERN struct corio_frame *corio_join__start(struct corio_frame *parent,
						   struct corio_task *task,
						   int *status);

/*
 * For code outside any task (e.g. main after corio_loop_run): store the
 * status of the finished @task in *@status and release it.  Returns 0,
 * -EBUSY (still running: nothing is released) or -EINVAL (joined or
 * detached).
 */
CORIO_EXTERN int corio_task_reap(struct corio_task *task, int *status);

/*
 * Let @task be released as soon as it finishes; its status is dropped.
 * Returns 0, or -EINVAL when it already has a joiner or was detached.
 */
CORIO_EXTERN int corio_task_detach(struct corio_task *task);

/*
 * Request cancellation of @task.  Whatever it awaits is cancelled (an
 * io_uring operation through ASYNC_CANCEL; its buffer stays owned by the
 * kernel until the operation's own completion arrives); then every frame of
 * the task runs its cleanup section, innermost first, and the task finishes
 * with -ECANCELED.  Cancel-safe: when the wait was already satisfied (bytes
 * read, an element, a permit, a lock or an fd handed over, an operation
 * that took effect) the task sees that result and the cancellation takes
 * effect at its next await; nothing handed to it is lost.  A task that
 * never ran unwinds without running.  The task may still run after this
 * call returns; join it to wait for the end.  Returns 0, or -EINVAL when
 * @task has finished.  Cancelling a task twice is not an error.
 */
CORIO_EXTERN int corio_task_cancel(struct corio_task *task);

/* Awaitable: let the other ready tasks run, then continue.  No result. */
CORIO_EXTERN struct corio_frame *corio_yield__start(struct corio_frame *parent);

/* The task running on this thread, or NULL outside any task. */
CORIO_EXTERN struct corio_task *corio_current_task(void);

/* The task's id: unique within its loop, starting at 1. */
CORIO_EXTERN uint64_t corio_task_id(const struct corio_task *task);

/* The task's name: the one set, else its root function's name. */
CORIO_EXTERN const char *corio_task_name(const struct corio_task *task);

/*
 * Name @task for reports.  @name is not copied: it must outlive the task
 * (a string literal, or memory the task's frames own).
 */
CORIO_EXTERN void corio_task_set_name(struct corio_task *task,
				      const char *name);

/* True once @task has finished (its status is final). */
CORIO_EXTERN int corio_task_is_done(const struct corio_task *task);

/*
 * Set the deadline of the calling task: every blocking operation it awaits
 * from now on fails with -ETIME once CLOCK_MONOTONIC passes @deadline (an
 * I/O operation in flight is cancelled first).  CORIO_NO_DEADLINE clears it.
 * Returns the previous deadline so a scope can restore it.  Outside a task
 * it does nothing and returns CORIO_NO_DEADLINE.  The deadline also orders
 * the task among the ready tasks of its priority level (Priorities below).
 */
CORIO_EXTERN int64_t corio_deadline_set(int64_t deadline);

/*
 * Awaitable: a scoped deadline.  Run @child (a frame from f__start(NULL,
 * ...), not yet run; its result goes where its start function was told)
 * as a call with the task's deadline set to @deadline, or kept when the
 * caller's own is earlier: a scope narrows, never widens.  However the
 * call ends (it returns, throws, or unwinds because the task was
 * cancelled) the caller's deadline is restored, including any change the
 * call made itself.  *@result: 0 when the call finished before the
 * deadline in force, -ETIME when it had passed by then, also when the
 * call failed with -ETIME because of it (a throw of -ETIME ends the scope,
 * not the caller); -EPERM outside a task (@child is released).  Any other
 * failure of the call unwinds the caller as usual.  @child NULL (its start
 * ran out of memory) makes the caller unwind with -ENOMEM.
 *
 *	corio_await(self->r, corio_with_timeout, CORIO_MS(200),
 *		    fetch__start(NULL, self->url, &self->n));
 *	r = await corio_with_timeout(CORIO_MS(200), fetch__start(NULL,
 *				     url, &n));	// async/await
 */
CORIO_EXTERN struct corio_frame *corio_with_deadline__start(
	struct corio_frame *parent, int64_t deadline, struct corio_frame *child,
	int *result);

/* corio_with_deadline() with @deadline = corio_now() + @ns. */
CORIO_EXTERN struct corio_frame *corio_with_timeout__start(
	struct corio_frame *parent, int64_t ns, struct corio_frame *child,
	int *result);

/* ---------------------------------------------------------------------- */
/* Priorities.                                                            */

/*
 * Which ready task runs next.  Every task has one of CORIO_PRIO_LEVELS
 * levels; a ready task of a higher level runs before any of a lower one.
 * Within a level, tasks with a deadline (corio_deadline_set) run first,
 * earliest deadline first (equal deadlines in the order they became
 * ready), then the tasks without one, first come first served.  The
 * deadline doubles as the scheduling key because it already says by when
 * the task's work stops being useful; a task that wants a timeout without
 * the preference sets its priority one level lower.
 *
 * Starvation is bounded (aging): the scheduler keeps eight queues (two per
 * level: with and without a deadline, in the order above); a non-empty
 * queue that has seen CORIO_PRIO_AGING_STEPS task steps of other queues
 * since it last ran is served ahead of the order above, the one waiting
 * longest first.  So a non-empty queue waits at most
 * CORIO_PRIO_AGING_STEPS + 7 steps of other tasks before one of its tasks
 * runs, and a lower level gets at least one step in every
 * CORIO_PRIO_AGING_STEPS + 8 while higher levels stay busy.  A step is one
 * run of a task, up to its next suspension.
 *
 * An iteration of the loop runs every task that was ready when it began
 * (corio_loop_opts.run_batch steps at least) before it polls for I/O and
 * timers; LOW and IDLE tasks do not lengthen it.  So a flood of LOW tasks
 * delays a HIGH task woken by I/O or a timer by about run_batch steps,
 * not by the whole flood.
 *
 * A task spawned by another task inherits its priority (work done on
 * behalf of urgent work is urgent); one spawned from outside any task
 * starts at CORIO_PRIO_NORMAL.  Priorities order the ready queues only:
 * the waiters of a mutex, channel or event are served in arrival order
 * whatever their priority, and there is no priority inheritance.
 */
enum corio_priority {
	CORIO_PRIO_HIGH = 0,
	CORIO_PRIO_NORMAL = 1,	/* the default */
	CORIO_PRIO_LOW = 2,
	CORIO_PRIO_IDLE = 3,
};
#define CORIO_PRIO_LEVELS 4
#define CORIO_PRIO_AGING_STEPS 32

/*
 * corio_spawn_at() with the task's priority @prio (enum corio_priority)
 * set before it is first queued.  Errors: those of corio_spawn_at(), and
 * -EINVAL for a @prio out of range (@root is released).
 */
CORIO_EXTERN int corio_spawn_prio_at(struct corio_loop *loop,
				     struct corio_frame *root, int prio,
				     const char *file, int line,
				     struct corio_task **taskp);

/* corio_spawn_prio_at() recording the caller's file and line. */
#define corio_spawn_prio(loop, root, prio, taskp) \
	corio_spawn_prio_at((loop), (root), (prio), __FILE__, __LINE__, (taskp))

/*
 * Change the priority of @task (the calling task too: pass
 * corio_current_task()).  A ready task moves at once into its new level,
 * behind the tasks there (by deadline if it has one), in O(tasks ahead of
 * it in its old queue); a running or waiting task enters its new level
 * when it is next woken or yields.  Returns 0, or -EINVAL (@task NULL or
 * finished, @prio out of range), -EPERM (not on a loop's thread).
 */
CORIO_EXTERN int corio_task_set_priority(struct corio_task *task, int prio);

/* The priority of @task (enum corio_priority). */
CORIO_EXTERN int corio_task_priority(const struct corio_task *task);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TASK_H */
