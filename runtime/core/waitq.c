/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/waitq.c - wait queues: the FIFO of tasks waiting on a primitive
 * (linked through task->next, which a waiting task does not otherwise
 * use), and the loop's registry of every queue, through which the
 * deadlock detector and the task dumps find every blocked task.
 *
 * Channels, mutexes, semaphores, events, wait groups, completions,
 * groups, the bus, signals, acceptors and readers all wait here.  A wait
 * ends in one of two ways: satisfied, through corio__task_resume (the
 * task sees the result even if it is cancelled before it runs), or cut
 * short by cancellation, deadline or the deadlock policy through
 * corio__sync_abort.
 */
#include <errno.h>

#include "core/internal.h"
#include "core/proxy.h"
#include "core/scope.h"

void corio__sync_push(struct corio__sync *q, struct corio_task *t)
{
	t->next = NULL;
	if (q->tail)
		q->tail->next = t;
	else
		q->head = t;
	q->tail = t;
}

/* O(waiters): only cancellation, deadlines and a select that was served
 * elsewhere take a task out early. */
void corio__sync_unlink(struct corio__sync *q, struct corio_task *t)
{
	struct corio_task **p = &q->head, *prev = NULL;

	for (; *p; prev = *p, p = &(*p)->next) {
		if (*p != t)
			continue;
		*p = t->next;
		if (q->tail == t)
			q->tail = prev;
		t->next = NULL;
		return;
	}
}

int corio__sync_register(struct corio__sync *s, enum corio_wait_kind kind,
			 const char *name, const char *fallback)
{
	struct corio_loop *loop = corio__tls_loop;

	if (!loop)
		return -EINVAL;
	*s = (struct corio__sync){
		.name = name ? name : fallback,
		.kind = (uint8_t)kind,
	};
	/* The kinds only tasks can signal may be a scope's (scope.c);
	 * a completion made remote leaves its scope again. */
	switch (kind) {
	case CORIO_WAIT_CHAN_SEND:
	case CORIO_WAIT_CHAN_RECV:
	case CORIO_WAIT_SEM:
	case CORIO_WAIT_EVENT:
	case CORIO_WAIT_WAITGROUP:
	case CORIO_WAIT_COMPLETION:
	case CORIO_WAIT_GROUP:
		if (corio__unlikely(loop->scopes))
			s->scope = corio__scope_current_id(loop);
		break;
	default:
		break;
	}
	/* The registry is circular with the loop's member as its head. */
	s->next = loop->syncs.next;
	s->prev = &loop->syncs;
	loop->syncs.next->prev = s;
	loop->syncs.next = s;
	return 0;
}

int corio__sync_unregister(struct corio__sync *s)
{
	if (s->head)
		return -EBUSY;
	if (s->next) {
		s->next->prev = s->prev;
		s->prev->next = s->next;
		s->next = s->prev = NULL;
	}
	return 0;
}

int corio__sync_resume_all(struct corio__sync *q, int64_t res)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_task *t;
	int n = 0;

	while ((t = corio__sync_pop(q))) {
		corio__task_resume(loop, t, res);
		n++;
	}
	return n;
}

/*
 * Suspend the calling task @t on @q.  Arms the task's deadline, if any.
 * Returns the marker for the start function.
 */
struct corio_frame *corio__sync_wait(struct corio__sync *q,
				     struct corio_task *t, void *arg)
{
	struct corio_loop *loop = corio__tls_loop;

	if (corio__op_expired(t))
		return CORIO_READY;
	if (t->deadline != CORIO_NO_DEADLINE) {
		int err = corio__timer_arm(loop, t, t->deadline);

		if (err)
			return corio__op_done(t, err);
	}
	t->on.queue = q;
	t->via.elem = arg;
	corio__sync_push(q, t);
	corio__task_suspend(t, CORIO__WAIT_SYNC);
	return CORIO_SUSPENDED;
}

struct corio_frame *corio__sync_wait_untimed(struct corio__sync *q,
					     struct corio_task *t)
{
	t->on.queue = q;
	t->via.elem = NULL;
	corio__sync_push(q, t);
	corio__task_suspend(t, CORIO__WAIT_SYNC);
	return CORIO_SUSPENDED;
}

void corio__sync_abort(struct corio_loop *loop, struct corio_task *t, int err)
{
	corio__sync_unlink(corio__task_queue(t), t);
	if (err)
		corio__task_resume(loop, t, err);
	else
		corio__task_resume_unwind(loop, t);
}

