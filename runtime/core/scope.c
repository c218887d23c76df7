/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/scope.c - scopes (corio/scope.h): which tasks and
 * primitives belong to which scope, and the check that finds a scope
 * whose every task waits for another of them.
 *
 * The task record has no room for a scope pointer (its size is a speed
 * goal, internal.h), so a task carries one bit, @scoped, and the loop a
 * hash table from task to membership record; only tasks of scopes pay for
 * a lookup, and only where scopes matter: spawn, end, and the operations
 * on primitives of a scope.  A primitive carries its scope's id in what
 * was padding of its wait queue.
 *
 * Why the check is exact.  Every task of scope S waits, with no timer
 * armed, on a primitive of S, for a mutex a task of S owns, or for a task
 * of S to end.  A primitive of S changes only through an operation, and
 * while the loop runs only tasks of S may operate on it
 * (corio__scope_use); they all wait.  Only its owner unlocks a mutex.  A
 * task of S ends only by running.  No timer will fire for them.  So nothing the
 * loop can run wakes any of them: not I/O, not a timer of another task,
 * not another thread (remote completions are never in a scope), not a
 * posted message (it gets -EXDEV).  Only a cancel can end them, and a
 * task whose only way out is a cancel is stuck.
 *
 * When.  The scope's state can become "all durably blocked" only when one
 * of its tasks starts to wait or ends (a wait that is not durable ends
 * with the task running again).  Those two mark the loop's scopes dirty,
 * and the loop checks dirty scopes once per iteration, after running the
 * ready tasks: O(tasks of the scopes) per iteration in which a task of a
 * scope blocked, nothing otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deadlock.h"
#include "core/internal.h"
#include "core/scope.h"

struct scope_member;

struct corio_scope {
	struct corio_scope *next;	/* in loop->scopes->list */
	struct corio_loop *loop;
	const char *name;
	uint32_t id;			/* in the primitives' queues */
	size_t ntasks;			/* unfinished tasks in @members */
	struct corio__list members;	/* struct scope_member, newest
					 * first */
	struct corio_deadlock_report *report;	/* the last deadlock */
};

/* A task's membership: the value of the loop's table, keyed by task. */
struct scope_member {
	struct corio__hnode h;		/* key: the task's address */
	struct corio_task *task;
	struct corio_scope *scope;
	struct corio__link link;	/* in its scope's @members */
	bool flagged;			/* the shadow check found it stuck */
};

/* At least this many buckets: test scopes hold a handful of tasks. */
#define MIN_BUCKETS 16

static uint64_t key_of(const struct corio_task *t)
{
	return (uint64_t)(uintptr_t)t;
}

static struct scope_member *member_of(const struct corio_loop *loop,
				      const struct corio_task *t)
{
	if (!t->scoped)
		return NULL;
	return (struct scope_member *)corio__htab_find(&loop->scopes->members,
						       key_of(t));
}

static struct corio_scope *scope_of(const struct corio_loop *loop,
				    const struct corio_task *t)
{
	struct corio__scopes *sc = loop->scopes;
	struct scope_member *m;

	/* The task that asked last asks again: a run of operations on the
	 * scope's primitives by one task costs one lookup. */
	if (t == sc->last_task)
		return sc->last_scope;
	m = member_of(loop, t);
	if (m) {
		sc->last_task = t;
		sc->last_scope = m->scope;
	}
	return m ? m->scope : NULL;
}

/* The scope of the code running now: its task's, or the entered one (or
 * the shadow check's implicit scope). */
static struct corio_scope *current(const struct corio_loop *loop)
{
	if (!loop->scopes)
		return NULL;
	if (loop->current)
		return scope_of(loop, loop->current);
	return loop->scopes->entered ? loop->scopes->entered :
	       loop->scopes->implicit;
}

static struct corio_scope *by_id(const struct corio_loop *loop, uint32_t id)
{
	struct corio_scope *s;

	for (s = loop->scopes ? loop->scopes->list : NULL; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* The public API.                                                        */

int corio_scope_create(struct corio_loop *loop, const char *name,
		       struct corio_scope **scopep)
{
	struct corio_scope *s;

	if (!loop || !scopep)
		return -EINVAL;
	*scopep = NULL;
	if (!pthread_equal(loop->owner, pthread_self()))
		return -EPERM;
	if (!loop->scopes) {
		loop->scopes = corio__malloc(sizeof(*loop->scopes));
		if (!loop->scopes)
			return -ENOMEM;
		*loop->scopes = (struct corio__scopes){ .next_id = 1 };
		loop->scopes->members.min = MIN_BUCKETS;
	}
	s = corio__malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct corio_scope){
		.next = loop->scopes->list,
		.loop = loop,
		.name = name ? name : "scope",
		.id = loop->scopes->next_id++,
	};
	/* 2^32 scopes on one loop: id 0 (no scope) is never handed out. */
	if (!loop->scopes->next_id)
		loop->scopes->next_id = 1;
	loop->scopes->list = s;
	*scopep = s;
	return 0;
}

int corio_scope_enter(struct corio_scope *s)
{
	struct corio_loop *loop = corio__tls_loop;

	if (!s || s->loop != loop)
		return -EINVAL;
	if (loop->current)
		return -EPERM;
	if (loop->scopes->entered)
		return -EBUSY;
	loop->scopes->entered = s;
	return 0;
}

int corio_scope_exit(struct corio_scope *s)
{
	if (!s || s->loop->scopes->entered != s)
		return -EINVAL;
	s->loop->scopes->entered = NULL;
	return 0;
}

static void scope_free(struct corio_scope *s)
{
	corio__report_free(s->report);
	corio__free(s);
}

int corio_scope_destroy(struct corio_scope *s)
{
	struct corio_scope **p;

	if (!s)
		return -EINVAL;
	if (!pthread_equal(s->loop->owner, pthread_self()))
		return -EPERM;
	if (s->ntasks)
		return -EBUSY;
	if (s->loop->scopes->entered == s)
		s->loop->scopes->entered = NULL;
	for (p = &s->loop->scopes->list; *p != s; p = &(*p)->next)
		;
	*p = s->next;
	scope_free(s);
	return 0;
}

const char *corio_scope_name(const struct corio_scope *s)
{
	return s->name;
}

size_t corio_scope_tasks(const struct corio_scope *s)
{
	return s->ntasks;
}

struct corio_scope *corio_task_scope(const struct corio_task *t)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_scope *s;

	s = t && loop && loop->scopes ? scope_of(loop, t) : NULL;
	return s && s == loop->scopes->implicit ? NULL : s;	/* nobody's */
}

const struct corio_deadlock_report *corio_scope_deadlock(
	const struct corio_scope *s)
{
	return s ? s->report : NULL;
}

/* ---------------------------------------------------------------------- */
/* Membership.                                                            */

int corio__scope_spawned(struct corio_loop *loop, struct corio_task *t)
{
	struct corio_scope *s = current(loop);
	struct scope_member *m;

	if (!s)
		return 0;
	m = corio__slab_alloc(&loop->slab, sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct scope_member){
		.h.key = key_of(t),
		.task = t,
		.scope = s,
	};
	if (corio__htab_insert(&loop->scopes->members, &m->h)) {
		corio__slab_free(&loop->slab, m, sizeof(*m));
		return -ENOMEM;
	}
	corio__list_push_front(&s->members, &m->link);
	s->ntasks++;
	t->scoped = 1;
	return 0;
}

void corio__scope_ended(struct corio_loop *loop, struct corio_task *t)
{
	struct scope_member *m = member_of(loop, t);
	struct corio_scope *s = m->scope;

	if (corio__unlikely(m->flagged))
		corio__scope_shadow_ran(loop, t);
	corio__htab_remove(&loop->scopes->members, &m->h);
	corio__list_remove(&s->members, &m->link);
	s->ntasks--;
	t->scoped = 0;
	if (loop->scopes->last_task == t)
		loop->scopes->last_task = NULL;
	corio__slab_free(&loop->slab, m, sizeof(*m));
	/* The others may all wait now. */
	loop->scopes->dirty = true;
}

uint32_t corio__scope_current_id(const struct corio_loop *loop)
{
	struct corio_scope *s = current(loop);

	return s ? s->id : 0;
}

int corio__scope_use_slow(uint32_t id)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_scope *s;

	/* Between runs, code outside tasks sets up and tears down. */
	if (!loop || !loop->running)
		return 0;
	s = by_id(loop, id);
	/* The scope was freed (no scope any more), or it is the shadow
	 * check's, which watches without changing what programs do. */
	if (!s || s == loop->scopes->implicit)
		return 0;
	return loop->current && scope_of(loop, loop->current) == s ?
	       0 : -EXDEV;
}

int corio__scope_spawn_into(uint32_t id)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_scope *s;

	if (!id || !loop)
		return 0;
	s = by_id(loop, id);
	return !s || s == loop->scopes->implicit || current(loop) == s ?
	       0 : -EXDEV;
}

/* ---------------------------------------------------------------------- */
/* The check.                                                             */

/* Can only a task of @s wake @t, a task of @s? */
static bool durably_blocked(const struct corio_loop *loop,
			    const struct corio_scope *s,
			    const struct corio_task *t)
{
	const struct corio__sync *q;

	/* A deadline will wake it: not stuck (yet). */
	if (t->state != CORIO__WAITING || t->timer_where)
		return false;
	switch (t->wait) {
	case CORIO__WAIT_JOIN:
		return scope_of(loop, corio__task_joined(t)) == s;
	case CORIO__WAIT_SYNC:
		q = corio__task_queue(t);
		/* A mutex is released by its owner only, whoever may lock
		 * it: the wait is durable when the owner is of the scope.
		 * struct corio__sync is the mutex's first member. */
		if (q->kind == CORIO_WAIT_MUTEX) {
			const struct corio_task *o = ((const struct
				corio_mutex *)(const void *)q)->owner;

			return o && scope_of(loop, o) == s;
		}
		/* Only the kinds whose waits can be durable carry an id
		 * (waitq.c); a remote completion never does.  The implicit
		 * scope's groups may have members outside it. */
		return q->scope == s->id &&
		       (s != loop->scopes->implicit ||
			q->kind != CORIO_WAIT_GROUP);
	default:
		return false;
	}
}

/* Report @s deadlocked and apply the policy.  True: the run must
 * return -EDEADLK. */
static bool deadlocked(struct corio_loop *loop, struct corio_scope *s)
{
	struct corio_task **v;
	struct scope_member *m;
	size_t n = 0;
	bool stop = true;

	v = corio__malloc(sizeof(*v) * s->ntasks);
	if (v)
		corio__list_for_each(m, &s->members, struct scope_member,
				      link)
			v[n++] = m->task;
	corio__report_free(s->report);
	s->report = corio__report_make(loop, CORIO_DEADLOCK_SCOPE, NULL, 0, v,
				       n);
	if (s->report)
		s->report->scope = s->name;
	/* The loop's report is a copy: it goes with the next run. */
	corio__deadlock_free(loop);
	loop->dl.report = corio__report_make(loop, CORIO_DEADLOCK_SCOPE, NULL,
					     0, v, n);
	if (loop->dl.report)
		loop->dl.report->scope = s->name;
	corio__report_apply(loop, s->report);
	if (v && loop->dl.policy == CORIO_DEADLOCK_REPORT_CONTINUE) {
		corio__fail_waits(loop, v, n);
		stop = false;
	}
	corio__free(v);
	return stop;
}

/*
 * The shadow check found every task of the implicit scope stuck: flag
 * them, report nothing.  Programs do not follow the scope rule there
 * (nothing enforces it), so it assumes, as the global check does, that
 * nothing outside the loop wakes a task unless declared.
 */
static void shadow_found(struct corio_loop *loop, struct corio_scope *s)
{
	struct scope_member *m;
	bool counted = false;

	if (loop->dl.external_refs || atomic_load(&loop->posts_pending))
		return;
	corio__list_for_each(m, &s->members, struct scope_member, link) {
		if (m->flagged)
			continue;
		m->flagged = true;
		loop->scopes->shadow_flagged++;
		if (!counted)
			loop->scopes->shadow_checks++;
		counted = true;
	}
}

void corio__scope_shadow_ran(struct corio_loop *loop, struct corio_task *t)
{
	struct scope_member *m = member_of(loop, t);

	if (!m || !m->flagged)
		return;
	m->flagged = false;
	/* A cancel may end a stuck task; a policy other than RETURN wakes
	 * stuck tasks itself with -EDEADLK. */
	if ((t->flags & CORIO__T_CANCELLED) ||
	    loop->dl.policy != CORIO_DEADLOCK_RETURN)
		return;
	corio__warn("FALSE DEADLOCK (CORIO_SCOPE_SHADOW): task #%llu \"%s\" "
		    "(spawned at %s:%u) was found stuck with every other task "
		    "of the loop, and ran again", (unsigned long long)t->id,
		    t->name, t->file, t->line);
	corio_loop_dump(loop, stderr);
	abort();
}

bool corio__scopes_check(struct corio_loop *loop)
{
	struct corio_scope *s;
	struct scope_member *m;

	loop->scopes->dirty = false;
	if (!loop->dl.check)
		return false;
	for (s = loop->scopes->list; s; s = s->next) {
		if (!s->ntasks)
			continue;
		corio__list_for_each(m, &s->members, struct scope_member, link)
			if (!durably_blocked(loop, s, m->task))
				break;
		if (m)
			continue;
		if (s == loop->scopes->implicit)
			shadow_found(loop, s);
		else if (deadlocked(loop, s))
			return true;
	}
	return false;
}

void corio__scopes_run(struct corio_loop *loop)
{
	struct scope_member *m;

	if (!loop->scopes)
		return;
	loop->scopes->dirty = true;
	/* Between runs, code outside tasks may wake anything: what the
	 * shadow check found speaks of one run. */
	if (loop->scopes->implicit)
		corio__list_for_each(m, &loop->scopes->implicit->members,
				      struct scope_member, link)
			m->flagged = false;
}

int corio__scopes_shadow(struct corio_loop *loop)
{
	const char *v = getenv("CORIO_SCOPE_SHADOW");
	struct corio_scope *s;
	int ret;

	if (!v || !*v || !strcmp(v, "0"))
		return 0;
	ret = corio_scope_create(loop, "loop (shadow check)", &s);
	if (ret)
		return ret;
	loop->scopes->implicit = s;
	loop->scopes->shadow_verbose = !strcmp(v, "verbose");
	return 0;
}

void corio__scopes_destroy(struct corio_loop *loop)
{
	struct corio_scope *s;

	if (!loop->scopes)
		return;
	if (loop->scopes->shadow_verbose)
		fprintf(stderr, "corio: CORIO_SCOPE_SHADOW: %llu time%s every "
			"task of the loop was found stuck (%llu tasks in all); "
			"none ran again\n",
			(unsigned long long)loop->scopes->shadow_checks,
			loop->scopes->shadow_checks == 1 ? "" : "s",
			(unsigned long long)loop->scopes->shadow_flagged);
	while ((s = loop->scopes->list)) {
		loop->scopes->list = s->next;
		scope_free(s);
	}
	corio__htab_free(&loop->scopes->members);
	corio__free(loop->scopes);
	loop->scopes = NULL;
}
