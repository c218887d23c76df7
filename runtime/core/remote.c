/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/remote.c - tickets: resolution of a wait from another
 * thread that stays safe whatever the waiter does meanwhile.
 *
 * A callback library keeps the argument of each request until it calls
 * back, and may call back on its own thread at any time.  Handing it a
 * completion inside the waiting frame is unsafe: a deadline or a cancel
 * ends the wait, the frame is released, and the late callback writes
 * into freed memory.  A ticket is a heap object with two owners in turn,
 * the waiting task and the resolving thread, and the last to let go
 * releases it:
 *
 *	waiter leaves first   its state goes PENDING -> WITHDRAWN; the
 *	                      resolver finds that, drops the value and
 *	                      frees the ticket, touching nothing else (the
 *	                      loop may be gone by then)
 *	resolver comes first  PENDING -> SENT, pushed on the loop's queue;
 *	                      the drain delivers the value (DELIVERED) and
 *	                      the waiter frees the ticket, or, when the
 *	                      waiter left while the value was on its way,
 *	                      the drain drops the value and frees it
 *
 * The state changes are compare-and-swaps on the embedded completion's
 * remote field (remote.h), so exactly one side sees each outcome.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/internal.h"
#include "core/remote.h"

#include "corio/async.h"

struct corio_remote {
	struct corio_completion c;	/* first: the queue holds &c */
	void (*drop)(void *arg, int64_t value);	/* or NULL */
	void *drop_arg;
	bool abandoned;			/* loop's thread only: the waiter left
					 * while the value was on its way */
};

static struct corio_remote *ticket_new(void)
{
	struct corio_remote *r = corio__malloc(sizeof(*r));

	if (!r)
		return NULL;
	if (corio_completion_init(&r->c, "remote call",
				  CORIO_COMPLETION_REMOTE)) {
		corio__free(r);
		return NULL;
	}
	r->drop = NULL;
	r->drop_arg = NULL;
	r->abandoned = false;
	return r;
}

static void ticket_drop(struct corio_remote *r)
{
	if (r->drop)
		r->drop(r->drop_arg, r->c.value);
	corio__free(r);
}

/* The drain delivered the value of a ticket whose waiter had left. */
static void ticket_arrived(struct corio_completion *c)
{
	struct corio_remote *r = (struct corio_remote *)(void *)c;

	assert(r->abandoned && c->loop->remote_abandoned > 0);
	c->loop->remote_abandoned--;
	ticket_drop(r);
}

/*
 * The waiter is done with @r (its wait ended, however, or it never
 * started one): hand the ticket to whoever is still to come.  @handed_out:
 * the start function gave it to a library, which will resolve it; @got:
 * the waiter took the value.
 */
static void ticket_leave(struct corio_remote *r, bool handed_out, bool got)
{
	struct corio_loop *loop = r->c.loop;
	int state = CORIO__REMOTE_PENDING;

	corio__sync_unregister(&r->c.sync);
	/* No resolution yet: the resolver will find WITHDRAWN and free
	 * the ticket; the loop stops counting it as a waker now. */
	if (atomic_compare_exchange_strong(corio__remote_state(&r->c), &state,
					   CORIO__REMOTE_WITHDRAWN)) {
		corio__external_ref_put(loop);
		if (!handed_out)
			corio__free(r);
		return;
	}
	/* Delivered after a cancellation had already unwound the wait:
	 * nobody took the value. */
	if (state == CORIO__REMOTE_DELIVERED) {
		if (got)
			corio__free(r);
		else
			ticket_drop(r);
		return;
	}
	/*
	 * SENT: the resolver has committed and is pushing the ticket, or
	 * has pushed it.  The drain frees it; until then the loop must not
	 * be destroyed (the resolver is about to use it), which
	 * remote_abandoned tells corio_loop_run and corio_loop_destroy.
	 */
	assert(state == CORIO__REMOTE_SENT);
	r->abandoned = true;
	r->c.on_delivered = ticket_arrived;
	loop->remote_abandoned++;
}

typedef corio_remote_start_fn *start_fn;

corio_async_static(int64_t, remote_call, ((start_fn, start), (void *, arg)), (
	struct corio_remote *r;
	int64_t v;
	int ret;
	bool got;
))
{
	corio_begin();
	self->r = ticket_new();
	if (!self->r)
		corio_return(-ENOMEM);
	self->ret = self->start(self->r, self->arg);
	if (self->ret < 0) {
		/* Not started: nobody else holds the ticket (unless @start
		 * resolved it before failing: then it is on its way). */
		ticket_leave(self->r, false, false);
		self->r = NULL;
		corio_return(self->ret);
	}
	/* The value, or why the wait ended without it (-ETIME...). */
	corio_await(self->v, corio_completion_wait, &self->r->c);
	/* A value that arrived before the task ran again beats a deadline
	 * that passed meanwhile, as an I/O result beats its cancel. */
	if (corio_completion_is_resolved(&self->r->c)) {
		self->v = self->r->c.value;
		self->got = true;
	}
	corio_return(self->v);
corio_finally:
	if (self->r)
		ticket_leave(self->r, true, self->got);
	corio_end();
}

struct corio_frame *corio_remote_call__start(struct corio_frame *parent,
					     corio_remote_start_fn *start,
					     void *arg, int64_t *result)
{
	struct corio_frame *early;
	struct corio_task *t;

	/* A task already cancelled or late starts nothing. */
	early = corio__op_prologue(&t, result, CORIO__RES_I64);
	if (early)
		return early;
	if (!start)
		return corio__op_done(t, -EINVAL);
	if (corio__op_expired(t))
		return CORIO_READY;
	return remote_call__start(parent, start, arg, result);
}

int corio_remote_resolve(struct corio_remote *r, int64_t value)
{
	int state = CORIO__REMOTE_PENDING;

	if (!atomic_compare_exchange_strong(corio__remote_state(&r->c), &state,
					    CORIO__REMOTE_SENT)) {
		/* The waiter has left: nothing of the loop may be touched,
		 * it may be destroyed already. */
		assert(state == CORIO__REMOTE_WITHDRAWN);
		r->c.value = value;
		ticket_drop(r);
		return -ECANCELED;
	}
	r->c.value = value;
	return corio__remote_push(r->c.loop, &r->c);
}

void corio_remote_on_drop(struct corio_remote *r,
			  void (*drop)(void *arg, int64_t value), void *arg)
{
	r->drop = drop;
	r->drop_arg = arg;
}

void corio__remote_settle(struct corio_loop *loop)
{
	struct corio_completion *c, *next, *posts = NULL, *last = NULL;

	/*
	 * Normally corio_loop_run does not return before these arrive; a
	 * loop stopped early gets here with some on their way.  Each was
	 * committed by a resolver that is a few instructions from pushing
	 * it: yield to it, and deliver what is queued.  Messages are not
	 * run on a loop being destroyed (they could spawn tasks): they go
	 * back on the queue, where they stay as before.
	 */
	while (loop->remote_abandoned) {
		sched_yield();
		c = atomic_exchange(&loop->remote_head, NULL);
		for (; c; c = next) {
			next = c->remote_next;
			if (atomic_load(corio__remote_state(c)) ==
			    CORIO__REMOTE_POST) {
				c->remote_next = posts;
				posts = c;
				last = last ? last : c;
			} else {
				corio__remote_deliver(loop, c);
			}
		}
	}
	if (!posts)
		return;
	last->remote_next = atomic_load(&loop->remote_head);
	while (!atomic_compare_exchange_weak(&loop->remote_head,
					     &last->remote_next, posts))
		;
}
