/* SPDX-License-Identifier: MIT */
/*
 * corio/signal.h - signals as events tasks await.
 *
 *	corio_signal_block(SIGINT);	// in main, before any thread starts
 *	corio_signal_block(SIGTERM);
 *	...
 *	corio_await(self->signo, corio_signal, SIGINT);
 *
 * The loop reads the signals it is asked for from one signalfd on its
 * ring.  A signal must be blocked in every thread, or the kernel may
 * deliver it to one the signalfd never sees: block it in main before
 * creating threads (new threads inherit the mask).  A signal that arrives
 * while nobody awaits it is kept, once, for the next await (signals of the
 * same number coalesce, as the kernel's do).
 */
#ifndef CORIO_SIGNAL_H
#define CORIO_SIGNAL_H

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Block @signo in the calling thread so that only corio_signal sees it.
 * Returns 0 or -EINVAL.
 */
CORIO_EXTERN int corio_signal_block(int signo);

/*
 * Awaitable: wait for signal @signo (blocked with corio_signal_block).
 * *@result is @signo, -EINVAL for a bad number, -ETIME past the task's
 * deadline, or -errno from setting up the signalfd.  Every task awaiting
 * the same signal wakes.  A task waiting here is not a deadlock: the
 * signal can come from outside.
 */
CORIO_EXTERN struct corio_frame *corio_signal__start(
	struct corio_frame *parent, int signo, int *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SIGNAL_H */
