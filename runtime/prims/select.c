/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/select.c - one await over several alternatives.
 *
 * The start function tries the cases in order, without waiting: a ready
 * one goes ahead at once, and the select costs about what its single
 * operation would.  Otherwise a select frame waits for all of them:
 *
 *  - each channel, event, semaphore or completion case sends a proxy
 *    (core/proxy.h) into its primitive's queue, where it is served like
 *    any waiter;
 *  - the task itself waits on the select's own queue, or, with a POLL
 *    case, in that poll operation, with its timer at the earlier of the
 *    task's deadline and the DEADLINE cases.
 *
 * The first proxy served wins: on the spot, from inside the primitive's
 * hand-off, the other proxies leave their queues, so no second element or
 * permit can reach the select, and the task is woken (its poll cancelled).
 * When the task's own wait ends first (poll ready, timer, cancellation),
 * the proxies leave when the frame runs, before anything else can run.
 */
#include <errno.h>

#include "core/proxy.h"
#include "core/scope.h"
#include "prims/internal.h"
#include "reactor/reactor.h"

#include "corio/completion.h"
#include "corio/select.h"

struct sel_proxy {
	struct corio__proxy p;		/* first: found from the task */
	struct select_frame *sf;
	uint32_t index;			/* of its case */
	bool linked;			/* on its primitive's queue */
};

struct select_frame {
	struct corio_frame hdr;
	int *result;
	struct corio_select_case *cases;
	size_t n;
	struct sel_proxy *proxies;	/* one per case; only queue cases
					 * use theirs */
	struct corio_task *owner;
	struct corio__sync q;		/* the task, when no POLL case */
	int64_t deadline;		/* earliest DEADLINE case, or none */
	int deadline_case;		/* its index, or -1 */
	int poll_case;			/* the POLL case, or -1 */
	int winner;			/* the case that went ahead, or -1 */
	int wres;			/* the task's own wait: poll mask,
					 * -ETIME, -EDEADLK, 0 */
	bool registered;		/* @q is in the loop's registry */
};

static struct corio_frame *select_resume(struct corio_frame *self);

static const struct corio_fninfo select_info = {
	select_resume, "corio_select", __FILE__, __LINE__,
	(uint32_t)sizeof(struct select_frame)
};

/* The wait queue a case's proxy joins, or NULL for POLL and DEADLINE. */
static struct corio__sync *case_queue(const struct corio_select_case *c)
{
	switch (c->kind) {
	case CORIO_SELECT_RECV:
		return &c->on.chan->sync;
	case CORIO_SELECT_SEND:
		return &c->on.chan->senders;
	case CORIO_SELECT_EVENT:
		return &c->on.event->sync;
	case CORIO_SELECT_SEM:
		return &c->on.sem->sync;
	case CORIO_SELECT_COMPLETION:
		return &c->on.completion->sync;
	default:
		return NULL;
	}
}

/* 0, -EINVAL for a case that cannot be waited on, or -EXDEV for a
 * primitive of a scope the caller is not in (corio/scope.h). */
static int check(const struct corio_select_case *cases, size_t n)
{
	size_t i, polls = 0;
	int ret;

	if (!cases || !n || n > CORIO_SELECT_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct corio_select_case *c = &cases[i];

		switch (c->kind) {
		case CORIO_SELECT_RECV:
		case CORIO_SELECT_SEND:
			if (!c->on.chan || (!c->elem && c->on.chan->elem_size))
				return -EINVAL;
			break;
		case CORIO_SELECT_EVENT:
		case CORIO_SELECT_SEM:
		case CORIO_SELECT_COMPLETION:
			/* The pointers share the union's storage. */
			if (!c->on.event)
				return -EINVAL;
			break;
		case CORIO_SELECT_POLL:
			if (++polls > 1)
				return -EINVAL;
			break;
		case CORIO_SELECT_DEADLINE:
			break;
		default:
			return -EINVAL;
		}
		ret = case_queue(c) ? corio__scope_use(case_queue(c)) : 0;
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Let case @c go ahead if it can without waiting: true with its outcome
 * in c->res.  POLL cases are left to the wait (a system call per try
 * would cost every select).
 */
static bool try_case(struct corio_loop *loop, struct corio_select_case *c)
{
	int ret;

	switch (c->kind) {
	case CORIO_SELECT_RECV:
		ret = corio_chan_try_recv(c->on.chan, c->elem);
		break;
	case CORIO_SELECT_SEND:
		ret = corio_chan_try_send(c->on.chan, c->elem);
		break;
	case CORIO_SELECT_EVENT:
		ret = c->on.event->set ? 0 : -EAGAIN;
		break;
	case CORIO_SELECT_SEM:
		ret = corio_sem_try_acquire(c->on.sem);
		break;
	case CORIO_SELECT_COMPLETION:
		if (!corio_completion_is_resolved(c->on.completion))
			return false;
		c->res = c->on.completion->value;
		return true;
	case CORIO_SELECT_DEADLINE:
		ret = c->on.deadline <= corio__loop_now(loop) ? 0 : -EAGAIN;
		break;
	default:
		return false;
	}
	if (ret == -EAGAIN)
		return false;
	c->res = ret;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Waiting.                                                               */

/* Take every proxy still queued off its queue. */
static void withdraw(struct select_frame *sf)
{
	size_t i;

	for (i = 0; sf->proxies && i < sf->n; i++) {
		struct sel_proxy *x = &sf->proxies[i];

		if (!x->linked)
			continue;
		corio__sync_unlink(x->p.t.on.queue, &x->p.t);
		x->linked = false;
	}
}

/* A proxy was served: its case wins, on the spot. */
static void case_fired(struct corio_loop *loop, struct corio__proxy *p)
{
	struct sel_proxy *x = (struct sel_proxy *)(void *)p;
	struct select_frame *sf = x->sf;
	struct corio_task *t = sf->owner;

	assert(sf->winner < 0 && x->linked);
	x->linked = false;	/* the primitive took it off its queue */
	sf->winner = (int)x->index;
	withdraw(sf);
	/* Wake the task, unless its own wait already ended (it is ready and
	 * will find the winner). */
	if (t->state != CORIO__WAITING)
		return;
	if (t->wait == CORIO__WAIT_IO) {
		corio__io_cancel(loop, t, false);	/* its completion wakes it */
	} else {
		corio__sync_unlink(&sf->q, t);
		corio__task_resume(loop, t, 0);
	}
}

static void proxy_init(struct select_frame *sf, struct sel_proxy *x,
		       size_t i, struct corio__sync *q)
{
	struct corio_task *t = sf->owner;
	struct corio_select_case *c = &sf->cases[i];

	/* Assigned whole rather than cleared then filled: a memset of the
	 * record was most of a blocking select's own cost. */
	x->p.t = (struct corio_task){
		/* Reports that do list it name its task and the select. */
		.top = &sf->hdr,
		.name = t->name,
		.file = t->file,
		.line = t->line,
		.id = t->id,
		.parent_id = t->parent_id,
		.deadline = CORIO_NO_DEADLINE,
		.wait_since = t->wait_since,
		.runq = CORIO__RUNQ_PROXY,
		.state = CORIO__WAITING,
		.wait = CORIO__WAIT_SYNC,
		.on.queue = q,
		.via.elem = c->elem,
		.result = &c->res,
		.result_kind = CORIO__RES_I64,
	};
	x->p.fire = case_fired;
	x->sf = sf;
	x->index = (uint32_t)i;
	corio__sync_push(q, &x->p.t);
	x->linked = true;
}

/* Release what the wait used; the task is running, nothing is queued. */
static void teardown(struct corio_loop *loop, struct select_frame *sf)
{
	withdraw(sf);
	if (sf->proxies) {
		corio__slab_free(&loop->slab, sf->proxies,
				 sf->n * sizeof(*sf->proxies));
		sf->proxies = NULL;
	}
	if (sf->registered) {
		corio__sync_unregister(&sf->q);
		sf->registered = false;
	}
}

/* The wait is over: which case went ahead, or why none did. */
static int outcome(struct corio_loop *loop, struct select_frame *sf)
{
	struct corio_task *t = sf->owner;

	if (sf->winner >= 0)
		return sf->winner;
	/* The poll's own result, unless the timer cut it. */
	if (sf->poll_case >= 0 && sf->wres != -ETIME) {
		sf->cases[sf->poll_case].res = sf->wres;
		return sf->poll_case;
	}
	if (sf->wres == -ETIME && sf->deadline_case >= 0 &&
	    sf->deadline <= t->deadline &&
	    sf->deadline <= corio__loop_now(loop)) {
		sf->cases[sf->deadline_case].res = 0;
		return sf->deadline_case;
	}
	return sf->wres < 0 ? sf->wres : -ETIME;
}

/*
 * Start waiting.  Returns 1 when the task waits, 0 when the wait ended at
 * once (sf->wres says why: the poll could not start, or the timer could
 * not be armed for a deadline this instant), or -ENOMEM.
 */
static int arm(struct corio_loop *loop, struct select_frame *sf)
{
	struct corio_task *t = sf->owner;
	int64_t when;
	size_t i;

	sf->proxies = corio__slab_alloc(&loop->slab,
					sf->n * sizeof(*sf->proxies));
	if (!sf->proxies)
		return -ENOMEM;
	for (i = 0; i < sf->n; i++) {
		struct corio__sync *q = case_queue(&sf->cases[i]);

		sf->proxies[i].linked = false;
		if (q)
			proxy_init(sf, &sf->proxies[i], i, q);
	}
	when = sf->deadline < t->deadline ? sf->deadline : t->deadline;
	if (sf->poll_case >= 0) {
		const struct corio_select_case *c = &sf->cases[sf->poll_case];
		struct corio_frame *r;

		r = corio__io_await(&(struct corio__io){
			.opcode = CORIO__OP_POLL, .fd = c->on.fd,
			.op_flags = c->events }, &sf->wres, CORIO__RES_INT);
		if (r != CORIO_SUSPENDED)
			return 0;
		/* The poll armed the task's deadline: a DEADLINE case may
		 * come earlier (when it fires the poll ends with -ETIME). */
		if (when < t->deadline && corio__timer_arm(loop, t, when))
			corio__io_cancel(loop, t, true);  /* due now */
		return 1;
	}
	if (corio__sync_register(&sf->q, CORIO_WAIT_SELECT, "select",
				 "select") == 0)
		sf->registered = true;
	if (when != CORIO_NO_DEADLINE && corio__timer_arm(loop, t, when)) {
		sf->wres = -ETIME;	/* a deadline in this very instant */
		return 0;
	}
	t->result = &sf->wres;
	t->result_kind = CORIO__RES_INT;
	corio__sync_wait_untimed(&sf->q, t);
	return 1;
}

static struct corio_frame *select_resume(struct corio_frame *self)
{
	struct select_frame *sf = (struct select_frame *)(void *)self;
	struct corio_loop *loop = corio__tls_loop;
	int ret;

	if (self->state == CORIO_STATE_UNWIND) {
		/* Cancelled, but a case went ahead first: the task sees it
		 * and the cancellation waits for its next await. */
		if (sf->winner < 0 || self->err != -ECANCELED) {
			teardown(loop, sf);
			return NULL;	/* self->err climbs the chain */
		}
		self->err = 0;
	} else if (self->state == 0) {
		self->state = 1;
		ret = arm(loop, sf);
		if (ret > 0)
			return CORIO_SUSPENDED;
		if (ret < 0)
			goto out;
	}
	ret = outcome(loop, sf);
out:
	teardown(loop, sf);
	if (sf->result)
		*sf->result = ret;
	return NULL;
}

struct corio_frame *corio_select__start(struct corio_frame *parent,
					struct corio_select_case *cases,
					size_t n, int *result)
{
	struct corio_loop *loop = corio__tls_loop;
	struct select_frame *sf;
	struct corio_frame *early;
	struct corio_task *t;
	size_t i;
	int ret;

	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = check(cases, n);
	if (ret)
		return corio__op_done(t, ret);
	/* In order: a ready case goes ahead now, nothing is allocated. */
	for (i = 0; i < n; i++)
		if (try_case(loop, &cases[i]))
			return corio__op_done(t, (int64_t)i);
	if (corio__op_expired(t))
		return CORIO_READY;
	sf = (struct select_frame *)(void *)corio_frame_alloc(&select_info,
							     parent);
	if (!sf)
		return corio__op_done(t, -ENOMEM);
	sf->result = result;
	sf->cases = cases;
	sf->n = n;
	sf->owner = t;
	sf->deadline = CORIO_NO_DEADLINE;
	sf->deadline_case = -1;
	sf->poll_case = -1;
	sf->winner = -1;
	for (i = 0; i < n; i++) {
		if (cases[i].kind == CORIO_SELECT_POLL)
			sf->poll_case = (int)i;
		if (cases[i].kind == CORIO_SELECT_DEADLINE &&
		    cases[i].on.deadline < sf->deadline) {
			sf->deadline = cases[i].on.deadline;
			sf->deadline_case = (int)i;
		}
	}
	return &sf->hdr;
}
