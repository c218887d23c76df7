/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/scope.h - what the rest of the runtime calls to keep the
 * scopes of corio/scope.h exact: the loop's scope state, membership at
 * spawn and end, the durable-block check, and the check every operation
 * on a primitive makes.  Nothing here is public.
 */
#ifndef CORIO_CORE_SCOPE_H
#define CORIO_CORE_SCOPE_H

#include "core/internal.h"
#include "corio/scope.h"

/* The loop's scopes (loop->scopes, allocated by the first create). */
struct corio__scopes {
	struct corio__htab members;	/* struct scope_member by task
					 * (scope.c): tasks with @scoped */
	struct corio_scope *list;	/* every scope of the loop */
	struct corio_scope *entered;	/* the scope of code outside tasks,
					 * or NULL */
	const struct corio_task *last_task; /* the last task whose scope
					 * was looked up (a member), or NULL */
	struct corio_scope *last_scope;	/* ... and its scope */
	uint32_t next_id;		/* ids are never reused: a primitive
					 * of a freed scope keeps a dead one */
	bool dirty;			/* a task of a scope began to wait or
					 * ended since the last check */
	/* CORIO_SCOPE_SHADOW (scope.c): the loop's implicit scope, checked
	 * but never reported; what it flags must stay stuck. */
	struct corio_scope *implicit;	/* or NULL */
	bool shadow_verbose;		/* a summary at destroy */
	uint64_t shadow_checks;		/* times it found all tasks stuck */
	uint64_t shadow_flagged;	/* tasks it found stuck, in all */
};

/*
 * task.c, at spawn of @t (before it runs), when loop->scopes exists: put
 * it in the current scope (its spawner's, or the entered one).  Returns 0
 * or -ENOMEM.
 */
int corio__scope_spawned(struct corio_loop *loop, struct corio_task *t);

/* task.c, at the end of a task with @scoped. */
void corio__scope_ended(struct corio_loop *loop, struct corio_task *t);

/* scope.c: a task the shadow check found stuck runs again (@t starts to
 * wait or ends): unless cancelled, the check was wrong; abort. */
void corio__scope_shadow_ran(struct corio_loop *loop, struct corio_task *t);

/* task.c, when @t, a task with @scoped, starts to wait: the loop checks its
 * scopes before it next waits itself (inline: every wait passes here). */
static inline void corio__scope_waits(struct corio_loop *loop,
				      struct corio_task *t)
{
	if (corio__unlikely(loop->scopes->implicit))
		corio__scope_shadow_ran(loop, t);
	loop->scopes->dirty = true;
}

/*
 * loop.c, after the ready tasks ran, when loop->scopes is dirty: is any
 * scope deadlocked?  Reports it and applies the policy; returns true
 * when corio_loop_run must return -EDEADLK.
 */
bool corio__scopes_check(struct corio_loop *loop);

/* loop.c: a run starts (a deadlocked scope is found again at once), and
 * the loop is destroyed (free what the program left). */
void corio__scopes_run(struct corio_loop *loop);
/* loop.c, at create: the shadow check when CORIO_SCOPE_SHADOW asks for
 * it (docs/deadlocks.md).  0 or -ENOMEM, -EINVAL (a bad value). */
int corio__scopes_shadow(struct corio_loop *loop);
void corio__scopes_destroy(struct corio_loop *loop);

/* waitq.c: the id of the scope a primitive initialised now belongs to, or
 * 0 (for the kinds whose waits can be durable). */
uint32_t corio__scope_current_id(const struct corio_loop *loop);

/* corio__scope_use() for a primitive of scope @id: out of line, for
 * the primitives of scopes only. */
int corio__scope_use_slow(uint32_t id);

/*
 * Every operation on a primitive calls this first: 0 when the caller may
 * use the primitive whose queue is @s, or -EXDEV (it belongs to a scope,
 * the loop runs, and the caller is not a task of that scope).  Inline and
 * one load for a primitive outside scopes.
 */
static inline int corio__scope_use(const struct corio__sync *s)
{
	if (corio__likely(!s->scope))
		return 0;
	return corio__scope_use_slow(s->scope);
}

/*
 * group.c: may the current code spawn members into a group of scope @id?
 * Its scope (the task's, or the entered one) must be @id, run or not, so
 * the members belong to the group's scope.  0 or -EXDEV.
 */
int corio__scope_spawn_into(uint32_t id);

#endif /* CORIO_CORE_SCOPE_H */
