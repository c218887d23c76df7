/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/sync.c - channels, mutexes, semaphores, events and wait groups.
 *
 * Each primitive starts with a struct corio__sync, its wait queue
 * (waitq.c).  A waiting task records the primitive in on.queue and, for
 * channels, the element in via.elem; the task that satisfies the wait
 * copies the element and resumes the waiter with the result
 * (corio__task_resume), so a woken waiter has nothing left to do.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/deadlock.h"
#include "core/scope.h"
#include "prims/internal.h"
#include "core/lockgraph.h"

/* ---------------------------------------------------------------------- */
/* Waking.                                                                */

/* Hand @err to the first waiter of @q and wake it; false if none. */
static bool wake_one(struct corio__sync *q, int err)
{
	struct corio_task *t = corio__sync_pop(q);

	if (!t)
		return false;
	corio__task_resume(corio__tls_loop, t, err);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Channels.                                                              */

/* Copy one element: the common small sizes without a call to memcpy.
 * Zero-size elements (a channel of signals) have no memory at all. */
static void copy_elem(void *dst, const void *src, size_t size)
{
	switch (size) {
	case 0:
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	case 8:
		memcpy(dst, src, 8);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		memcpy(dst, src, size);
		break;
	}
}

static unsigned char *slot(struct corio_chan *ch, size_t i)
{
	if (!ch->elem_size)
		return NULL;	/* nothing to point at: only a count */
	return ch->buf + ((ch->head + i) % ch->cap) * ch->elem_size;
}

/* Make room for one more element in an unbounded channel. */
static int grow(struct corio_chan *ch)
{
	size_t cap = ch->cap ? ch->cap * 2 : 16, i;
	unsigned char *buf = corio__malloc(cap * ch->elem_size);

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < ch->len; i++)
		copy_elem(buf + i * ch->elem_size, slot(ch, i), ch->elem_size);
	corio__free(ch->buf);
	ch->buf = buf;
	ch->cap = cap;
	ch->head = 0;
	return 0;
}

int corio_chan_init(struct corio_chan *ch, size_t elem_size, size_t capacity,
		    const char *name)
{
	int ret;

	memset(ch, 0, sizeof(*ch));
	ch->elem_size = elem_size;
	ch->unbounded = capacity == CORIO_CHAN_UNBOUNDED;
	ch->cap = ch->unbounded ? 0 : capacity;
	/* Zero-size elements need no buffer, only a count: an unbounded
	 * channel of them never has to grow. */
	if (!elem_size) {
		if (ch->unbounded)
			ch->cap = SIZE_MAX;
	} else if (ch->cap) {
		if (ch->cap > SIZE_MAX / elem_size)
			return -EINVAL;
		ch->buf = corio__malloc(ch->cap * elem_size);
		if (!ch->buf)
			return -ENOMEM;
	}
	ret = corio__sync_register(&ch->sync, CORIO_WAIT_CHAN_RECV, name, "channel");
	if (!ret)
		ret = corio__sync_register(&ch->senders, CORIO_WAIT_CHAN_SEND, name,
				    "channel");
	if (ret) {
		corio__sync_unregister(&ch->sync);
		corio__free(ch->buf);
	}
	return ret;
}

int corio_chan_destroy(struct corio_chan *ch)
{
	if (ch->sync.head || ch->senders.head)
		return -EBUSY;
	corio__sync_unregister(&ch->sync);
	corio__sync_unregister(&ch->senders);
	corio__free(ch->buf);
	ch->buf = NULL;
	return 0;
}

int corio_chan_close(struct corio_chan *ch)
{
	int ret = corio__scope_use(&ch->sync);

	if (ret)
		return ret;
	if (ch->closed)
		return -EPIPE;
	ch->closed = 1;
	corio__sync_resume_all(&ch->senders, -EPIPE);
	if (!ch->len)
		corio__sync_resume_all(&ch->sync, -EPIPE);
	return 0;
}

size_t corio_chan_len(const struct corio_chan *ch)
{
	return ch->len;
}

int corio_chan_try_send(struct corio_chan *ch, const void *elem)
{
	struct corio_task *r;
	int ret = corio__scope_use(&ch->sync);

	if (ret)
		return ret;
	if (ch->closed)
		return -EPIPE;
	/* Receivers wait only while the buffer is empty: hand it over. */
	r = corio__sync_pop(&ch->sync);
	if (r) {
		copy_elem(corio__task_elem(r), elem, ch->elem_size);
		corio__task_resume(corio__tls_loop, r, 0);
		return 0;
	}
	if (ch->len == ch->cap) {
		if (!ch->unbounded)
			return -EAGAIN;
		if (grow(ch))
			return -ENOMEM;
	}
	copy_elem(slot(ch, ch->len), elem, ch->elem_size);
	ch->len++;
	return 0;
}

int corio_chan_try_recv(struct corio_chan *ch, void *elem)
{
	struct corio_task *s;
	int ret = corio__scope_use(&ch->sync);

	if (ret)
		return ret;
	if (ch->len) {
		copy_elem(elem, slot(ch, 0), ch->elem_size);
		ch->head = (ch->head + 1) % ch->cap;
		ch->len--;
		/* A sender waited for room: its element takes the slot. */
		s = corio__sync_pop(&ch->senders);
		if (s) {
			copy_elem(slot(ch, ch->len), corio__task_elem(s),
				  ch->elem_size);
			ch->len++;
			goto wake_sender;
		}
		return 0;
	}
	/* Rendezvous: take the element straight from a waiting sender. */
	s = corio__sync_pop(&ch->senders);
	if (s) {
		copy_elem(elem, corio__task_elem(s), ch->elem_size);
		goto wake_sender;
	}
	return ch->closed ? -EPIPE : -EAGAIN;
wake_sender:
	corio__task_resume(corio__tls_loop, s, 0);
	return 0;
}

struct corio_frame *corio_chan_send__start(struct corio_frame *parent,
					   struct corio_chan *ch,
					   const void *elem, int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio_chan_try_send(ch, elem);
	if (ret != -EAGAIN)
		return corio__op_done(t, ret);
	return corio__sync_wait(&ch->senders, t, (void *)(uintptr_t)elem);
}

struct corio_frame *corio_chan_recv__start(struct corio_frame *parent,
					   struct corio_chan *ch, void *elem,
					   int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio_chan_try_recv(ch, elem);
	if (ret != -EAGAIN)
		return corio__op_done(t, ret);
	return corio__sync_wait(&ch->sync, t, elem);
}

/* ---------------------------------------------------------------------- */
/* Mutexes.                                                               */

int corio_mutex_init(struct corio_mutex *m, const char *name)
{
	int err;

	memset(m, 0, sizeof(*m));
	err = corio__sync_register(&m->sync, CORIO_WAIT_MUTEX, name, "mutex");
	/* A task that ends owning one of the loop's mutexes passes it on. */
	if (!err)
		corio__tls_loop->abandon = corio__mutexes_abandon;
	/* CORIO_LOOP_LOCK_ORDER: the graph comes with the first mutex. */
	if (!err && corio__unlikely(corio__tls_loop->lock_order &&
				    !corio__tls_loop->lockgraph)) {
		corio__tls_loop->lockgraph = corio__lockgraph_create(true);
		if (!corio__tls_loop->lockgraph) {
			corio__sync_unregister(&m->sync);
			err = -ENOMEM;
		}
		corio__loop_slow_sync(corio__tls_loop);
	}
	return err;
}

int corio_mutex_destroy(struct corio_mutex *m)
{
	if (m->owner)
		return -EBUSY;
	return corio__sync_unregister(&m->sync);
}

/* Record @t as the owner, with the await site it locked from. */
static void own(struct corio_mutex *m, struct corio_task *t)
{
	if (t->mutexes != CORIO__MUTEXES_MANY)
		t->mutexes++;
	m->owner = t;
	m->file = t->top ? t->top->info->file : NULL;
	m->line = t->top ? t->top->line : 0;
}

/* Tell the lock-order graph, when the loop has one (lockgraph.h), that
 * @t took @m; @try: without waiting. */
static void note_taken(struct corio_mutex *m, struct corio_task *t, bool try)
{
	struct corio_loop *loop = corio__tls_loop;

	if (corio__unlikely(loop->slow & CORIO__SLOW_LOCKGRAPH))
		corio__lock_taken(loop, m, t, try);
}

/* Locking a mutex whose last owner ended holding it: -EOWNERDEAD, once. */
static int take_abandoned(struct corio_mutex *m)
{
	if (corio__likely(!m->abandoned))
		return 0;
	m->abandoned = 0;
	return -EOWNERDEAD;
}

int corio_mutex_trylock(struct corio_mutex *m)
{
	struct corio_task *t = corio__current_task();

	if (!t)
		return -EPERM;
	if (m->owner)
		return -EBUSY;
	own(m, t);
	note_taken(m, t, true);
	return take_abandoned(m);
}

/* @t took @m at once with lock-order checking or exploration on: tell
 * them.  Out of line: straight code for them, none in the common path. */
static __attribute__((noinline)) struct corio_frame *locked_noted(
	struct corio_loop *loop, struct corio_mutex *m, struct corio_task *t)
{
	if (loop->slow & CORIO__SLOW_LOCKGRAPH)
		corio__lock_taken(loop, m, t, false);
	return corio__op_done(t, take_abandoned(m));
}

struct corio_frame *corio_mutex_lock__start(struct corio_frame *parent,
					    struct corio_mutex *m, int *result)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_frame *early;
	struct corio_task *t;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	if (!m->owner) {
		own(m, t);
		/* Lock-order checking and exploration, both rare: one test. */
		assert(corio__loop_slow_ok(loop));
		if (corio__unlikely(loop->slow & (CORIO__SLOW_LOCKGRAPH |
						  CORIO__SLOW_EXPLORE)))
			return locked_noted(loop, m, t);
		/* corio__op_done, whose exploration test was made above. */
		corio__task_deliver(t, take_abandoned(m));
		return CORIO_READY;
	}
	/* Relocking (a cycle of one, which the check reports), or an owner
	 * that (through joins and other mutexes) waits for us: waiting
	 * would never end. */
	if (m->owner == t) {
		corio__would_deadlock(loop, t, CORIO__WAIT_SYNC, &m->sync);
		return corio__op_done(t, -EDEADLK);
	}
	if (corio__would_deadlock(loop, t, CORIO__WAIT_SYNC, &m->sync))
		return corio__op_done(t, -EDEADLK);
	return corio__sync_wait(&m->sync, t, NULL);
}

/* Pass @m from its owner to the first waiter, who gets @res, or leave it
 * unlocked. */
static void hand_over(struct corio_mutex *m, int res)
{
	struct corio_task *next = corio__sync_pop(&m->sync);

	if (corio__unlikely(corio__tls_loop->slow & CORIO__SLOW_LOCKGRAPH))
		corio__lock_released(corio__tls_loop, m, m->owner);
	/* Saturated: the true count is unknown, and the end searches. */
	if (m->owner->mutexes != CORIO__MUTEXES_MANY)
		m->owner->mutexes--;
	m->owner = NULL;
	if (!next)
		return;
	/* Directly (FIFO): nobody can barge in between. */
	own(m, next);
	note_taken(m, next, false);
	corio__task_resume(corio__tls_loop, next, res);
}

int corio_mutex_unlock(struct corio_mutex *m)
{
	if (!m->owner || m->owner != corio__current_task())
		return -EPERM;
	hand_over(m, 0);
	return 0;
}

void corio__mutexes_abandon(struct corio_loop *loop, struct corio_task *t)
{
	struct corio__sync *s;

	/* Rare (a task that returned without unlocking): a scan of the
	 * registry costs nothing on the paths that lock and unlock. */
	for (s = loop->syncs.next; s != &loop->syncs; s = s->next) {
		/* struct corio__sync is the mutex's first member. */
		struct corio_mutex *m = (struct corio_mutex *)s;

		if (s->kind != CORIO_WAIT_MUTEX || m->owner != t)
			continue;
		/* A bug of the program's, even when it goes on: report it
		 * (and its waiters) before the mutex passes on. */
		corio__deadlock_owner_ended(loop, t, s, m->file, m->line);
		if (s->head) {
			hand_over(m, -EOWNERDEAD);
		} else {
			hand_over(m, 0);
			m->abandoned = 1;
		}
	}
}

struct corio_task *corio_mutex_owner(const struct corio_mutex *m)
{
	return m->owner;
}

/* ---------------------------------------------------------------------- */
/* Semaphores.                                                            */

int corio_sem_init(struct corio_sem *s, uint64_t count, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->count = count;
	return corio__sync_register(&s->sync, CORIO_WAIT_SEM, name, "semaphore");
}

int corio_sem_destroy(struct corio_sem *s)
{
	return corio__sync_unregister(&s->sync);
}

int corio_sem_try_acquire(struct corio_sem *s)
{
	int ret = corio__scope_use(&s->sync);

	if (ret)
		return ret;
	if (!s->count)
		return -EAGAIN;
	s->count--;
	return 0;
}

struct corio_frame *corio_sem_acquire__start(struct corio_frame *parent,
					     struct corio_sem *s, int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio_sem_try_acquire(s);
	if (ret != -EAGAIN)
		return corio__op_done(t, ret);
	return corio__sync_wait(&s->sync, t, NULL);
}

int corio_sem_release(struct corio_sem *s)
{
	int ret = corio__scope_use(&s->sync);

	if (ret)
		return ret;
	/* A waiter takes the permit directly. */
	if (!wake_one(&s->sync, 0))
		s->count++;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Events.                                                                */

int corio_event_init(struct corio_event *e, const char *name)
{
	memset(e, 0, sizeof(*e));
	return corio__sync_register(&e->sync, CORIO_WAIT_EVENT, name, "event");
}

int corio_event_destroy(struct corio_event *e)
{
	return corio__sync_unregister(&e->sync);
}

int corio_event_set(struct corio_event *e)
{
	int ret = corio__scope_use(&e->sync);

	if (ret)
		return ret;
	e->set = 1;
	return corio__sync_resume_all(&e->sync, 0);
}

void corio_event_clear(struct corio_event *e)
{
	e->set = 0;
}

int corio_event_notify(struct corio_event *e)
{
	int ret = corio__scope_use(&e->sync);

	if (ret)
		return ret;
	return corio__sync_resume_all(&e->sync, 0);
}

struct corio_frame *corio_event_wait__start(struct corio_frame *parent,
					    struct corio_event *e, int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio__scope_use(&e->sync);
	if (ret || e->set)
		return corio__op_done(t, ret);
	return corio__sync_wait(&e->sync, t, NULL);
}

/* ---------------------------------------------------------------------- */
/* Wait groups.                                                           */

int corio_waitgroup_init(struct corio_waitgroup *wg, const char *name)
{
	memset(wg, 0, sizeof(*wg));
	return corio__sync_register(&wg->sync, CORIO_WAIT_WAITGROUP, name,
			     "wait group");
}

int corio_waitgroup_destroy(struct corio_waitgroup *wg)
{
	return corio__sync_unregister(&wg->sync);
}

int corio_waitgroup_add(struct corio_waitgroup *wg, int64_t n)
{
	int ret = corio__scope_use(&wg->sync);

	if (ret)
		return ret;
	if (n <= 0)
		return -EINVAL;
	wg->count += n;
	return 0;
}

int corio_waitgroup_done(struct corio_waitgroup *wg)
{
	int ret = corio__scope_use(&wg->sync);

	if (ret)
		return ret;
	if (wg->count <= 0)
		return -EINVAL;
	if (--wg->count == 0)
		corio__sync_resume_all(&wg->sync, 0);
	return 0;
}

struct corio_frame *corio_waitgroup_wait__start(struct corio_frame *parent,
						struct corio_waitgroup *wg,
						int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio__scope_use(&wg->sync);
	if (ret || !wg->count)
		return corio__op_done(t, ret);
	return corio__sync_wait(&wg->sync, t, NULL);
}

/* ---------------------------------------------------------------------- */
/* What reports say of a primitive a task waits on (deadlock.h).          */

static void chan_state(const struct corio__sync *q, char *buf, size_t len)
{
	const struct corio_chan *ch = (const struct corio_chan *)(const void *)
		((const char *)q - (q->kind == CORIO_WAIT_CHAN_RECV ?
				    offsetof(struct corio_chan, sync) :
				    offsetof(struct corio_chan, senders)));

	if (ch->unbounded)
		snprintf(buf, len, "unbounded, %zu queued%s", ch->len,
			 ch->closed ? ", closed" : "");
	else
		snprintf(buf, len, "capacity %zu, %zu queued%s", ch->cap,
			 ch->len, ch->closed ? ", closed" : "");
}

static void sem_state(const struct corio__sync *q, char *buf, size_t len)
{
	const struct corio_sem *s = (const struct corio_sem *)q;

	snprintf(buf, len, "%llu permits", (unsigned long long)s->count);
}

static void event_state(const struct corio__sync *q, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ((const struct corio_event *)q)->set ?
		 "set" : "not set");
}

static void waitgroup_state(const struct corio__sync *q, char *buf,
			    size_t len)
{
	snprintf(buf, len, "count %lld",
		 (long long)((const struct corio_waitgroup *)q)->count);
}

/* Registered once, when the program is loaded: core cannot call up. */
__attribute__((constructor)) static void register_states(void)
{
	corio__sync_state_set(CORIO_WAIT_CHAN_RECV, chan_state);
	corio__sync_state_set(CORIO_WAIT_CHAN_SEND, chan_state);
	corio__sync_state_set(CORIO_WAIT_SEM, sem_state);
	corio__sync_state_set(CORIO_WAIT_EVENT, event_state);
	corio__sync_state_set(CORIO_WAIT_WAITGROUP, waitgroup_state);
}
