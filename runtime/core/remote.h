/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/remote.h - the life cycle of a remote completion, shared by
 * completion.c (the queue other threads push on) and remote.c (tickets:
 * resolution from other threads that is safe whatever the waiter does).
 * Nothing here is public.
 */
#ifndef CORIO_REMOTE_H
#define CORIO_REMOTE_H

#include <stdatomic.h>

#include "core/internal.h"

/*
 * A completion's @remote field, written by the loop's thread and by the
 * resolving thread, so always through atomics.  The loop counts one
 * outside waker (dl.external_refs) from PENDING until the state leaves
 * PENDING for WITHDRAWN, or SENT for DELIVERED: exactly one decrement.
 *
 *	LOCAL ---------------------------------- not remote at all
 *	PENDING --resolve_remote--> SENT --drain--> DELIVERED
 *	PENDING --destroy---------> WITHDRAWN (a later resolution is refused)
 *
 * CORIO__REMOTE_POST (internal.h) marks a posted message instead.
 */
enum corio__remote_state {
	CORIO__REMOTE_LOCAL = 0,
	CORIO__REMOTE_PENDING = 1,
	CORIO__REMOTE_SENT = 2,
	CORIO__REMOTE_DELIVERED = 3,
	/* 4 is CORIO__REMOTE_POST */
	CORIO__REMOTE_WITHDRAWN = 5,
};
_Static_assert(CORIO__REMOTE_POST == 4, "a remote state clashes with POST");

/* The remote-resolution state of @c, shared with other threads. */
static inline _Atomic int *corio__remote_state(struct corio_completion *c)
{
	return (_Atomic int *)(void *)&c->remote;
}

/*
 * One outside waker fewer.  The count must never go below zero: it would
 * wrap to 2^32 - 1, and from then on a real deadlock would hang instead
 * of returning -EDEADLK.  A caller that would take it below zero is a bug
 * in corio; release builds keep the count at zero rather than wrap.
 */
static inline void corio__external_ref_put(struct corio_loop *loop)
{
	assert(loop->dl.external_refs > 0);
	if (corio__likely(loop->dl.external_refs > 0))
		loop->dl.external_refs--;
}

/* remote.c: for corio_loop_destroy, before corio__remote_quiesce: wait
 * until every ticket abandoned in transit has arrived, and release it. */
void corio__remote_settle(struct corio_loop *loop);

/* completion.c: apply one queued remote resolution (not a message). */
void corio__remote_deliver(struct corio_loop *loop,
			   struct corio_completion *c);

#endif /* CORIO_REMOTE_H */
