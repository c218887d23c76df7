/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/deadline.c - scoped deadlines: run one call under a
 * deadline and give the caller its own deadline back however the call
 * ends.
 *
 * corio_deadline_set() and a restore by hand leave the caller's deadline
 * changed whenever the restore is skipped: an early return, a throw, a
 * cancellation unwinding past it.  Here the restore sits in the cleanup
 * section of a frame between the caller and the call, which every exit
 * passes through.
 */
#include <errno.h>

#include "core/internal.h"

#include "corio/async.h"

corio_async_static(int, deadline_scope, ((int64_t, when),
					 (struct corio_frame *, child)), (
	int64_t saved, in_force;
	bool started;
))
{
	corio_begin();
	/* A scope narrows the caller's deadline, never widens it: work
	 * inside it must not outlast the caller's own limit. */
	self->saved = corio__tls_loop->current->deadline;
	self->in_force = self->when < self->saved ? self->when : self->saved;
	corio_deadline_set(self->in_force);
	self->started = true;	/* the await owns @child from here */
	corio_await_frame(self->child);
	corio_return(corio__loop_now(corio__tls_loop) >= self->in_force ?
		     -ETIME : 0);
corio_finally:
	if (!self->started)
		corio_frame_free(self->child);
	corio_deadline_set(self->saved);
	/* A call that failed because the scope's own deadline passed ends
	 * the scope, not the caller: report it as the result. */
	if (self->hdr.err == -ETIME && self->started &&
	    corio__loop_now(corio__tls_loop) >= self->in_force) {
		self->hdr.err = 0;
		if (self->corio__result)
			*self->corio__result = -ETIME;
	}
	corio_end();
}

struct corio_frame *corio_with_deadline__start(struct corio_frame *parent,
					       int64_t deadline,
					       struct corio_frame *child,
					       int *result)
{
	struct corio_frame *f;

	/* NULL: @child's own start ran out of memory; the caller unwinds
	 * with -ENOMEM like any failed call. */
	if (!child)
		return NULL;
	if (!corio__tls_loop || !corio__tls_loop->current) {
		corio_frame_free(child);
		if (result)
			*result = -EPERM;
		return CORIO_READY;
	}
	f = deadline_scope__start(parent, deadline, child, result);
	if (!f)
		corio_frame_free(child);
	return f;
}

struct corio_frame *corio_with_timeout__start(struct corio_frame *parent,
					      int64_t ns,
					      struct corio_frame *child,
					      int *result)
{
	int64_t now = corio_now(), when;

	/* Saturate: a huge @ns means no limit, not one in the past. */
	when = ns > CORIO_NO_DEADLINE - now ? CORIO_NO_DEADLINE : now + ns;
	return corio_with_deadline__start(parent, when, child, result);
}
