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
 * come from outside the loop while it is pending.
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
 * resolution is on its way (destroy after the await completes).
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
 * resolved remotely, or -errno from writing the loop's eventfd (the value
 * is queued all the same).
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
