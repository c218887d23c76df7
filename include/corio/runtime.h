/* SPDX-License-Identifier: MIT */
/*
 * corio/runtime.h - several loops on several threads, and messages between
 * loops.
 *
 * A loop belongs to one thread.  To use several cores, a runtime starts N
 * threads, each creating and running its own loop.  Work is handed to a
 * loop by message: corio_loop_post() queues a callback that the target
 * loop runs on its own thread, and corio_runtime_spawn() uses it to start
 * a task there.  Tasks never move between loops, and a frame is always
 * created on the thread of the loop that runs it: that is why the spawn
 * functions take a start function, called on the target thread, rather
 * than a frame.
 *
 *	static struct corio_frame *start_worker(void *arg)
 *	{
 *		return worker__start(NULL, arg);
 *	}
 *
 *	corio_runtime_create(&rt, 2, NULL);
 *	corio_runtime_spawn(rt, CORIO_ANY_LOOP, start_worker, &job, "job");
 *	corio_runtime_wait(rt);              // every spawned task finished
 *	corio_runtime_destroy(rt);
 *
 * A task on one loop awaits work done on another with corio_run_on (or,
 * for callback code, corio_runtime_spawn_notify and a remote completion).
 *
 * Messages go through the loop's lock-free queue of remote completions
 * and its wake eventfd.  The eventfd is written once per burst: a sender
 * that finds a wake-up already on its way skips the write (see the
 * wake_writes and posts counters of struct corio_loop_stats).
 *
 * Deadlock detection stays per loop.  A message or remote completion
 * already queued for a loop counts as a waker from outside; a wake-up that
 * another loop may send later does not, unless it was declared: await a
 * completion created with CORIO_COMPLETION_REMOTE, or declare it with
 * corio_loop_external_ref().  A runtime's loop with no task sleeps until
 * a message arrives; it ends only when the runtime is destroyed.
 */
#ifndef CORIO_RUNTIME_H
#define CORIO_RUNTIME_H

#include "common.h"
#include "frame.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;
struct corio_loop_opts;
struct corio_completion;
struct corio_runtime;

/* ---------------------------------------------------------------------- */
/* A runtime of N loops.                                                  */

/* Makes the root frame of a task (f__start(NULL, ...)); called on the
 * thread of the target loop.  NULL means out of memory.  It should do
 * nothing else: in particular not call corio_runtime_stop(). */
typedef struct corio_frame *(*corio_start_fn)(void *arg);

/* The spawn functions' @index: pick the loops in turn. */
#define CORIO_ANY_LOOP (-1)

/*
 * Start @nloops threads (1 to 1024), each creating its own loop with
 * @opts (may be NULL) and running it.  The threads inherit the caller's
 * signal mask: block the signals a signalfd should read before this.  Returns 0 and stores the runtime
 * in *@rtp once every loop is up, or -EINVAL, -ENOMEM, -EAGAIN (no
 * thread), or the first error of corio_loop_create() (-ENOSYS, -EPERM:
 * io_uring unavailable); nothing is left running then.
 */
CORIO_EXTERN int corio_runtime_create(struct corio_runtime **rtp,
				      unsigned nloops,
				      const struct corio_loop_opts *opts);

/* How many loops @rt runs. */
CORIO_EXTERN unsigned corio_runtime_nloops(const struct corio_runtime *rt);

/*
 * Loop @index of @rt, or NULL when out of range.  The loop belongs to its
 * thread: from other threads use it only with corio_loop_post(),
 * corio_loop_wake() and corio_completion_resolve_remote().
 */
CORIO_EXTERN struct corio_loop *corio_runtime_loop(
	const struct corio_runtime *rt, unsigned index);

/*
 * Index of the calling thread's loop in @rt, or -1 when the thread is not
 * one of @rt's.
 */
CORIO_EXTERN int corio_runtime_self(const struct corio_runtime *rt);

/*
 * Start a detached task on loop @index (or CORIO_ANY_LOOP: the next loop
 * in turn), from any thread.  @fn(@arg) is called on that loop's thread to
 * make the task's root frame; @name (not copied; NULL = the root
 * function's name) names it in reports, and @file:@line is the spawn site
 * they give.  Called on the target loop's own thread, the task is spawned
 * at once; otherwise a message carries it.  The task counts in
 * corio_runtime_wait() until it finishes; its status is dropped (use
 * corio_runtime_spawn_notify or corio_run_on to get it).
 * Returns the index of the loop, or -EINVAL (@rt or @fn NULL, @index out
 * of range), -ENOMEM, -ESHUTDOWN (corio_runtime_stop was called).
 */
CORIO_EXTERN int corio_runtime_spawn_at(struct corio_runtime *rt, int index,
					corio_start_fn fn, void *arg,
					const char *name, const char *file,
					int line);

/* corio_runtime_spawn_at() recording the caller's file and line. */
#define corio_runtime_spawn(rt, index, fn, arg, name) \
	corio_runtime_spawn_at((rt), (index), (fn), (arg), (name), \
			       __FILE__, __LINE__)

/*
 * corio_runtime_spawn_at(), and when the task finishes resolve @done (a
 * completion created with CORIO_COMPLETION_REMOTE, on any loop) with its
 * status: 0, the -errno it failed with, -ECANCELED, or -ENOMEM when @fn
 * returned NULL.  On failure @done is left untouched.  Returns as
 * corio_runtime_spawn_at, and -EINVAL when @done is NULL.
 */
CORIO_EXTERN int corio_runtime_spawn_notify_at(struct corio_runtime *rt,
					       int index, corio_start_fn fn,
					       void *arg, const char *name,
					       struct corio_completion *done,
					       const char *file, int line);

/* corio_runtime_spawn_notify_at() recording the caller's file and line. */
#define corio_runtime_spawn_notify(rt, index, fn, arg, name, done) \
	corio_runtime_spawn_notify_at((rt), (index), (fn), (arg), (name), \
				      (done), __FILE__, __LINE__)

/*
 * Awaitable: run @fn(@arg)'s frame as a task on loop @index of @rt (or
 * CORIO_ANY_LOOP) and wait for it to finish; *@status is its status, or
 * the error of the spawn (see corio_runtime_spawn_notify).  The wait is
 * not interrupted by cancellation or a deadline: the other task may use
 * memory of the caller's frames through @arg until it ends (cancel the
 * caller, and it unwinds once the other task is done).  Called from a task
 * on @rt's own loop @index it still works (through a task on that loop).
 */
CORIO_EXTERN struct corio_frame *corio_run_on__start(
	struct corio_frame *parent, struct corio_runtime *rt, int index,
	corio_start_fn fn, void *arg, int *status);

/*
 * Block the calling thread until every task started with the spawn
 * functions (and corio_run_on) has finished; tasks those tasks spawned
 * with corio_spawn() are not counted, so join them.  Returns 0, or the
 * first error a loop of @rt met (-EDEADLK: a loop's tasks could never be
 * woken; they were reported on stderr and cancelled, and the loop went
 * on), or -EPERM when called from one of @rt's threads, -EINVAL.
 */
CORIO_EXTERN int corio_runtime_wait(struct corio_runtime *rt);

/*
 * Stop accepting work and cancel every task on every loop (each unwinds
 * through its cleanup sections; a task in corio_blocking or corio_run_on
 * finishes its wait first).  Returns at once; corio_runtime_wait()
 * returns when they are done.  The loops keep running until
 * corio_runtime_destroy().  Callable from any thread, including from a
 * task; calling it again does nothing.  Returns 0 or -EINVAL.
 */
CORIO_EXTERN int corio_runtime_stop(struct corio_runtime *rt);

/*
 * Stop (if not done yet), wait for the tasks, end every loop and thread
 * and release @rt.  Returns 0, or the first error of corio_runtime_wait()
 * or of destroying a loop (nothing is left running either way); -EPERM
 * when called from one of @rt's threads (nothing is done), -EINVAL.
 */
CORIO_EXTERN int corio_runtime_destroy(struct corio_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_RUNTIME_H */
