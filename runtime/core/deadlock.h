/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/deadlock.h - the deadlock reports shared by the detectors
 * (graph.c: cycles, the global check, owners that ended) and the scopes
 * (scope.c), and what the primitives of the layers above call to keep
 * scopes exact.  Nothing here is public.
 */
#ifndef CORIO_DEADLOCK_H
#define CORIO_DEADLOCK_H

#include "core/internal.h"

/*
 * graph.c: a report of @kind from @cycle (waits-for order) and @blocked,
 * each task with its chain of frames; NULL when out of memory.  Free it
 * with corio__report_free().
 */
struct corio_deadlock_report *corio__report_make(
	struct corio_loop *loop, enum corio_deadlock_kind kind,
	struct corio_task **cycle, size_t ncycle,
	struct corio_task **blocked, size_t nblocked);
void corio__report_free(struct corio_deadlock_report *r);
/* graph.c: apply the loop's policy to @r, just made (NULL: it could not
 * be): print it unless the policy is RETURN; abort under ABORT. */
void corio__report_apply(struct corio_loop *loop,
			 const struct corio_deadlock_report *r);

/*
 * graph.c: @t ended owning the mutex whose queue is @m (its owner field
 * still @t), locked at @file:@line.  Makes the loop's report of kind
 * CORIO_DEADLOCK_OWNER_DEAD (@t, then the tasks waiting for @m) and
 * applies the policy; call it before the mutex passes on.
 */
void corio__deadlock_owner_ended(struct corio_loop *loop, struct corio_task *t,
				 struct corio__sync *m, const char *file,
				 unsigned line);

/* graph.c: make every blocked wait of the tasks @v fail with -EDEADLK,
 * so they can unwind (the REPORT_CONTINUE policy). */
void corio__fail_waits(struct corio_loop *loop, struct corio_task **v,
		       size_t n);

/*
 * What writes the state of a primitive of @kind into @buf (at most @len
 * bytes, terminated) for reports: "capacity 0, 0 queued", "not set"...
 * Set by the layer that defines the primitive (core calls no function of
 * the layers above but through these).
 */
typedef void corio__sync_state_fn(const struct corio__sync *s, char *buf,
				  size_t len);
void corio__sync_state_set(enum corio_wait_kind kind, corio__sync_state_fn *fn);

#endif /* CORIO_DEADLOCK_H */
