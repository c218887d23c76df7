/* SPDX-License-Identifier: MIT */
/*
 * corio/scope.h - scopes: a closed world of tasks and primitives whose
 * deadlock the loop finds while the rest of the program still runs.
 *
 * A test that starts a server, a periodic task or any sleeper keeps the
 * loop busy, so the global check (corio/graph.h) never fires for two
 * handlers stuck on each other's channels.  Put those handlers in a scope:
 *
 *	struct corio_scope *s;
 *
 *	corio_scope_create(loop, "handlers", &s);
 *	corio_scope_enter(s);		// what follows belongs to @s
 *	corio_chan_init(&jobs, sizeof(int), 0, "jobs");
 *	corio_spawn(loop, producer__start(NULL, &jobs), &p);
 *	corio_spawn(loop, consumer__start(NULL, &jobs), &c);
 *	corio_scope_exit(s);
 *	corio_spawn(loop, server__start(NULL, fd), NULL);	// outside
 *	ret = corio_loop_run(loop);	// -EDEADLK once p and c are stuck
 *
 * What belongs to a scope:
 *  - a task spawned by a task of the scope, or by code outside any task
 *    while the scope is entered; members of a group belong to the
 *    group's scope;
 *  - a channel, semaphore, event, wait group, group or completion
 *    initialised by a task of the scope, or outside any task while it is
 *    entered (not a CORIO_COMPLETION_REMOTE one: another thread resolves
 *    those).
 *
 * The rule that makes the check exact: while the loop runs, only the
 * tasks of a scope may use its primitives.  Anything else (a task outside
 * it, a posted message, a callback) gets -EXDEV from the operation, or as
 * the result of the await.  Between runs, code outside any task may use
 * them (to set a test up or tear it down).  Mutexes need no rule: only
 * their owner unlocks them, whoever locks them.
 *
 * A task of the scope is durably blocked when it waits, with no deadline
 * armed, on a primitive of its scope, for a mutex (of any scope or none)
 * that a task of its scope owns, or for a task of its scope to end: only
 * a task of the scope could wake it.  When every unfinished task of
 * the scope is durably blocked, none ever will, whatever the tasks outside
 * the scope do (I/O, timers, other threads): the scope is deadlocked.  The
 * loop checks after each step in which a task of a scope started to wait
 * or ended, so it finds this within the loop iteration in which the last
 * one blocked, and applies its deadlock policy (corio/graph.h) with a
 * report of kind CORIO_DEADLOCK_SCOPE naming the scope's tasks:
 * CORIO_DEADLOCK_RETURN makes corio_loop_run return -EDEADLK at once with
 * every task left as it is; REPORT_CONTINUE prints it and fails the
 * blocked waits with -EDEADLK; ABORT prints it and aborts.
 *
 * Cancellation is not a way out: a task that only a cancel can end is
 * stuck all the same, and corio_task_cancel may come from anywhere.
 * Waits on I/O, timers, signals, blocking calls, remote completions, the
 * bus and primitives outside the scope are never durable.
 *
 * All functions are for the loop's own thread.
 */
#ifndef CORIO_SCOPE_H
#define CORIO_SCOPE_H

#include <stddef.h>

#include "common.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;
struct corio_task;
struct corio_scope;

/*
 * Create an empty scope on @loop, named @name (kept, not copied; NULL
 * allowed) in reports.  Returns 0 and stores it in *@scopep, or -EINVAL
 * (no @loop or @scopep), -EPERM (another thread than the loop's), -ENOMEM.
 */
CORIO_EXTERN int corio_scope_create(struct corio_loop *loop, const char *name,
				    struct corio_scope **scopep);

/*
 * Make @scope the scope of code outside any task: until corio_scope_exit,
 * the tasks it spawns and the primitives it initialises belong to @scope.
 * Returns 0, -EINVAL (no @scope, or not the calling thread's loop), -EPERM
 * (called from a task: its tasks inherit its own scope), -EBUSY (another
 * scope is entered).
 */
CORIO_EXTERN int corio_scope_enter(struct corio_scope *scope);

/* Leave @scope, entered with corio_scope_enter.  Returns 0, or -EINVAL
 * when it is not the entered scope. */
CORIO_EXTERN int corio_scope_exit(struct corio_scope *scope);

/*
 * Free @scope.  Its primitives stay usable and belong to no scope from
 * then on.  Returns 0, -EINVAL (no @scope), -EPERM (another thread than
 * the loop's), -EBUSY while tasks of it are unfinished (nothing is freed;
 * cancel and run them to their end first).  Scopes left are freed with
 * their loop.
 */
CORIO_EXTERN int corio_scope_destroy(struct corio_scope *scope);

/* The scope's name ("scope" when created without one). */
CORIO_EXTERN const char *corio_scope_name(const struct corio_scope *scope);

/* Unfinished tasks of @scope. */
CORIO_EXTERN size_t corio_scope_tasks(const struct corio_scope *scope);

/* The scope @task belongs to, or NULL (none, or it has finished). */
CORIO_EXTERN struct corio_scope *corio_task_scope(
	const struct corio_task *task);

/*
 * The last deadlock found in @scope (kind CORIO_DEADLOCK_SCOPE; its tasks
 * in report->blocked, by id), or NULL.  Kept until the scope finds
 * another or is destroyed, across runs (the loop's own report,
 * corio_loop_deadlock, speaks of one run).
 */
CORIO_EXTERN const struct corio_deadlock_report *corio_scope_deadlock(
	const struct corio_scope *scope);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SCOPE_H */
