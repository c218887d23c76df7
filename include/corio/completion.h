/* SPDX-License-Identifier: MIT */
/*
 * corio/completion.h - adapters between callback code and async code.
 *
 * Callback API -> await.  A completion is a one-shot box a task awaits and
 * a callback fills.  Wrapping `lib_read(req, void (*cb)(void *, int), arg)`
 * becomes one await:
 *
 *	corio_completion_init(&self->done, "lib_read", 0);
 *	lib_read(req, on_done, &self->done);   // on_done resolves it
 *	corio_await(self->res, corio_completion_wait, &self->done);
 *	corio_completion_destroy(&self->done);
 *
 * A callback that runs on another thread resolves with
 * corio_completion_resolve_remote(); create the completion with
 * CORIO_COMPLETION_REMOTE so the deadlock detector knows a wake-up can
 * come from outside the loop while it is pending.  Such a completion must
 * outlive the callback, which a deadline or a cancel makes hard when it
 * lives in the waiting frame: a callback that may run after its waiter
 * has gone should get a ticket instead (corio_remote_call below), which
 * absorbs a late resolution safely.
 *
 * Async code -> callback.  corio_spawn_callback() starts a task for a
 * caller that only understands callbacks and calls done(arg, status) when
 * it ends.
 */
#ifndef CORIO_COMPLETION_H
#define CORIO_COMPLETION_H

#include <stdint.h>

#include "common.h"
#include "frame.h"
#include "loop.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;

struct corio_completion {
	struct corio__sync sync;		/* private: the waiters */
	struct corio_loop *loop;		/* private */
	struct corio_completion *remote_next;	/* private: resolve queue */
	int64_t value;				/* private */
	int state;				/* private */
	int remote;				/* private */
	/* private: called on the loop's thread once a remote value has
	 * been delivered (the runtime's own completions release there) */
	void (*on_delivered)(struct corio_completion *c);
};

/* flags: it will be resolved from another thread. */
#define CORIO_COMPLETION_REMOTE 0x1u

/*
 * Initialise a pending completion on the calling thread's loop.  With
 * CORIO_COMPLETION_REMOTE the loop counts one outside waker until the
 * resolution has arrived.  Returns 0, -EINVAL (no loop, unknown flag).
 */
CORIO_EXTERN int corio_completion_init(struct corio_completion *c,
				       const char *name, unsigned flags);

/*
 * Release.  Returns 0, or -EBUSY while a task waits on it or a remote
 * resolution is on its way (destroy after the await completes).  A
 * remote completion destroyed before its resolution refuses that
 * resolution (-ECANCELED) for as long as its memory stays untouched.
 */
CORIO_EXTERN int corio_completion_destroy(struct corio_completion *c);

/*
 * Resolve with @value from the loop's own thread: every waiter wakes with
 * it, and later waits complete at once.  Returns 0, or -EINVAL when it was
 * already resolved (the first value stays).
 */
CORIO_EXTERN int corio_completion_resolve(struct corio_completion *c,
					  int64_t value);

/*
 * Resolve from any thread, including the loop's.  Safe to call once per
 * completion created with CORIO_COMPLETION_REMOTE; the loop applies the
 * value on its next iteration (waking its wait if it sleeps).  The loop
 * may be destroyed once the value was delivered, even while this call is
 * still returning (corio_loop_destroy waits for it).  Returns 0, -EINVAL
 * when the completion was not made for remote resolution or was already
 * resolved remotely, -ECANCELED when it was destroyed first (the value is
 * dropped; the loop is not touched and its count of outside wakers, which
 * the destroy already lowered, stays exact), or -errno from writing the
 * loop's eventfd (the value is queued all the same).  The completion's
 * memory must still exist: when the waiter can go first, use a ticket.
 */
CORIO_EXTERN int corio_completion_resolve_remote(struct corio_completion *c,
						 int64_t value);

/* Is it resolved (as seen by the loop's thread)? */
CORIO_EXTERN int corio_completion_is_resolved(
	const struct corio_completion *c);

/*
 * Awaitable: wait until @c is resolved; *@result is its value.  Fails like
 * every wait: -ETIME past the task's deadline, unwinding when cancelled.
 */
CORIO_EXTERN struct corio_frame *corio_completion_wait__start(
	struct corio_frame *parent, struct corio_completion *c,
	int64_t *result);

/* ---------------------------------------------------------------------- */
/* Callbacks on other threads, safe by construction.                      */

/*
 * A ticket: what a callback that runs on another thread gets instead of
 * a completion.  It lives on the heap and has two owners in turn, the
 * awaiting task and the resolving thread; the last one releases it.  The
 * waiter may therefore leave (deadline, cancellation, a deadlock policy,
 * its loop stopping) while the callback is still on its way: the late
 * resolution writes nothing the waiter owned, decrements nothing twice,
 * and drops the value (corio_remote_on_drop says where to).
 */
struct corio_remote;

/*
 * Start function of corio_remote_call: launch the library's operation on
 * the loop's thread, with @r as its callback's argument.  Return 0 when it
 * was launched (the library must then resolve @r exactly once, from any
 * thread, corio_remote_resolve), or a negative errno when it was not (the
 * library must then not keep @r).
 */
typedef int corio_remote_start_fn(struct corio_remote *r, void *arg);

/*
 * Awaitable: call @start(r, @arg) with a new ticket r and wait until some
 * thread resolves it; *@result is the value.  Errors in *@result: what
 * @start returned (< 0), -ENOMEM, -EINVAL (@start NULL), -ETIME (the
 * task's deadline passed first), -EDEADLK (a deadlock policy ended the
 * wait); cancellation unwinds.  A value that arrives before the task
 * runs again is returned, even when the deadline passed meanwhile;
 * cancel-safe: a value that arrived before the cancellation is returned,
 * and the cancellation takes effect at the next await.  However the wait
 * ends, the ticket stays valid for its resolver, and a value that comes
 * too late for the waiter is dropped (corio_remote_on_drop).  While it is unresolved the loop counts an outside waker, so
 * the wait is never reported as a deadlock, and corio_loop_run does not
 * return while a value is still on its way to a waiter that left.  @arg
 * is only used by @start: it may point into the caller's frame.
 */
CORIO_EXTERN struct corio_frame *corio_remote_call__start(
	struct corio_frame *parent, corio_remote_start_fn *start, void *arg,
	int64_t *result);

/*
 * Resolve @r with @value, from any thread, exactly once; @r is invalid
 * afterwards.  Returns 0 (the value is on its way to the waiter; should
 * the waiter leave before it arrives, the loop drops it), -ECANCELED (the
 * waiter had left: the value was dropped here, and neither the loop, which
 * may be gone already, nor the waiter's memory was touched), or -errno
 * from writing the loop's eventfd (the value is queued all the same).
 */
CORIO_EXTERN int corio_remote_resolve(struct corio_remote *r, int64_t value);

/*
 * Have @drop(@arg, value) called for a value of @r that no waiter
 * receives, so that what it stands for (a buffer, a descriptor) can be
 * released.  It runs at most once: on the resolving thread, inside
 * corio_remote_resolve, when the waiter had left before; on the loop's
 * thread when the waiter left while the value was on its way.  Call it
 * from the start function, before @r is handed to the library.
 */
CORIO_EXTERN void corio_remote_on_drop(struct corio_remote *r,
				       void (*drop)(void *arg, int64_t value),
				       void *arg);

/*
 * Spawn @root as a detached task that calls @done(@arg, status) when it
 * finishes (status 0 or the -errno it failed with, -ECANCELED when
 * cancelled).  @done runs on the loop's thread, inside the loop.
 * Returns 0 or -ENOMEM (@root is released), -EINVAL.
 */
CORIO_EXTERN int corio_spawn_callback(struct corio_loop *loop,
				      struct corio_frame *root,
				      void (*done)(void *arg, int status),
				      void *arg);


#ifdef __cplusplus
}
#endif

#endif /* CORIO_COMPLETION_H */
