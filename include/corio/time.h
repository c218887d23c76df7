/* SPDX-License-Identifier: MIT */
/*
 * corio/time.h - awaitable sleeps.
 *
 * Timers live in the loop (a hierarchical timing wheel: arming and
 * disarming are O(1); equal deadlines fire in the order they were armed);
 * only the nearest one reaches the kernel, as the timeout of the loop's
 * single wait.  A timer never fires early, and at most ~65 us late on an
 * idle loop.
 */
#ifndef CORIO_TIME_H
#define CORIO_TIME_H

#include <stdint.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Awaitable: suspend the calling task for @ns nanoseconds (<= 0 yields
 * once).  *@result is 0, or -ETIME when the task's deadline
 * (corio_deadline_set) came first.
 */
CORIO_EXTERN struct corio_frame *corio_sleep__start(struct corio_frame *parent,
						    int64_t ns, int *result);

/* Awaitable: corio_sleep until the absolute time @when (corio_now clock). */
CORIO_EXTERN struct corio_frame *corio_sleep_until__start(
	struct corio_frame *parent, int64_t when, int *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TIME_H */
