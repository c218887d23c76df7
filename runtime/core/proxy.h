/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/proxy.h - stand-in waiters: a task waiting on several
 * primitives at once (corio_select).
 *
 * A wait queue holds tasks, and every primitive hands its element,
 * permit or value to the task it pops (corio__task_resume).  A task that
 * waits on several queues at once therefore sends a proxy into each: a
 * task record that never runs, queued on the primitive as any waiter is,
 * with its own element pointer and result slot.  When a primitive resumes
 * a proxy, nothing is queued to run; the proxy's owner is told instead
 * (@fire), on the spot, so it can take its other proxies off their queues
 * before any other hand-off reaches them: a select never receives two
 * elements, two permits, or one element it then loses.
 */
#ifndef CORIO_PROXY_H
#define CORIO_PROXY_H

#include "core/internal.h"

/* A proxy's @runq: no ready queue has this index. */
#define CORIO__RUNQ_PROXY 0xffu
_Static_assert(CORIO__RUNQS < CORIO__RUNQ_PROXY, "a ready queue is a proxy");

struct corio__proxy {
	struct corio_task t;	/* WAITING on one primitive's queue (SYNC),
				 * @runq CORIO__RUNQ_PROXY */
	/* Called from corio__task_resume, on the loop's thread, with the
	 * result delivered to t.result: the primitive has handed over. */
	void (*fire)(struct corio_loop *loop, struct corio__proxy *p);
};

static inline bool corio__task_is_proxy(const struct corio_task *t)
{
	return t->runq == CORIO__RUNQ_PROXY;
}

/* waitq.c: append @t to @q / take it out (O(waiters)); for proxies,
 * which are queued and dequeued on their owner's behalf. */
void corio__sync_push(struct corio__sync *q, struct corio_task *t);
void corio__sync_unlink(struct corio__sync *q, struct corio_task *t);

#endif /* CORIO_PROXY_H */
