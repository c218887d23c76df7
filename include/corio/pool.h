/* SPDX-License-Identifier: MIT */
/*
 * corio/pool.h - blocking work off the loop.
 *
 * A call that would block the loop (a CPU-heavy function, getaddrinfo, a
 * library without an async API) runs on the loop's worker threads while
 * the task awaits it:
 *
 *	static intptr_t resolve(void *arg) { ... getaddrinfo(...) ... }
 *	corio_await(self->r, corio_blocking, resolve, &self->query);
 *
 * The loop keeps at most opts.blocking_threads threads (default 4),
 * started as needed; jobs beyond that wait in a queue whose depth
 * corio_loop_stats() shows.  The result comes back through the loop's
 * eventfd, like a remote completion, so a loop whose tasks only wait for
 * jobs is not a deadlock.
 */
#ifndef CORIO_POOL_H
#define CORIO_POOL_H

#include <stdint.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Work for a worker thread; its return value is the await's result. */
typedef intptr_t (*corio_blocking_fn)(void *arg);

/*
 * Awaitable: run @fn(@arg) on a worker thread; *@result is its return
 * value, or -ENOMEM / -EAGAIN (no thread could be started).  A running
 * call cannot be interrupted: cancellation and the task's deadline take
 * effect when @fn returns, so @arg (a frame field, typically) stays valid
 * for as long as @fn uses it.
 */
CORIO_EXTERN struct corio_frame *corio_blocking__start(
	struct corio_frame *parent, corio_blocking_fn fn, void *arg,
	intptr_t *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_POOL_H */
