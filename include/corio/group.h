/* SPDX-License-Identifier: MIT */
/*
 * corio/group.h - task groups: run several tasks and await all of them,
 * the first of them (the others are cancelled), or the first n.
 *
 *	corio_group_init(&self->g, "fetch", CORIO_GROUP_CANCEL_ON_ERROR);
 *	corio_group_spawn(&self->g, fetch__start(NULL, url1, &self->a));
 *	corio_group_spawn(&self->g, fetch__start(NULL, url2, &self->b));
 *	corio_await(self->r, corio_group_wait_all, &self->g);
 *	corio_group_destroy(&self->g);
 *
 * Members are tasks of the group's loop; the group joins them, so do not
 * join them yourself.  A group waits on its members in the task graph, so
 * a member that waits for the group's waiter is a deadlock like any other.
 *
 * Structured: a group initialised by a task belongs to the async function
 * running then (the frame that called corio_group_init).  When that frame
 * ends, however it ends (it returns, throws, or unwinds because its task
 * was cancelled or a child failed), the members still running are
 * cancelled, and the frame is released only once every member has ended:
 * no member outlives the memory its owner lent it (the group itself,
 * result slots in the frame).  The group is destroyed with the frame; a
 * corio_group_destroy() that failed with -EBUSY in the cleanup section is
 * thus harmless.  A task that ends while its frames wait for members this
 * way finishes with the frame's error (-ECANCELED when it was cancelled
 * meanwhile).  A group initialised outside any task has no owner.
 *
 * Failures.  A member fails when it unwinds with an error: it throws, a
 * child fails, it is cancelled (-ECANCELED), or memory runs out.  A value
 * it returns is only a value (the group cannot know its type), unless the
 * member was spawned with corio_group_spawn_status(): then the int it
 * returns is its status, and a negative one (say -ECONNRESET) fails it
 * like a throw.  The first failure is what the waits return, and it
 * cancels the other members under CORIO_GROUP_CANCEL_ON_ERROR.  A member
 * that the group itself cancelled (the losers of corio_group_wait_n) is
 * not a failure.
 *
 * For one await over several channel operations, events, semaphores,
 * completions, fd readiness and a deadline, corio_select (corio/select.h)
 * needs no helper tasks.
 */
#ifndef CORIO_GROUP_H
#define CORIO_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "frame.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio__group_member;

struct corio_group {
	struct corio__sync sync;		/* private: the waiters */
	struct corio__group_member *members;	/* private: unfinished, */
	struct corio__group_member *last;	/* in spawn order */
	size_t spawned, finished;		/* private */
	size_t wanted;				/* private: for wait_n */
	int first_error;			/* private */
	unsigned flags;				/* private */
	void *owner;				/* private: the owning frame's
						 * record, or NULL */
};

/* flags: the first member to fail (see Failures) cancels the others. */
#define CORIO_GROUP_CANCEL_ON_ERROR 0x1u

/*
 * Initialise an empty group, owned by the calling async function when
 * called from a task (see Structured).  Returns 0, -EINVAL (no loop, bad
 * flags), -ENOMEM.
 */
CORIO_EXTERN int corio_group_init(struct corio_group *g, const char *name,
				  unsigned flags);

/*
 * Release.  Returns 0, or -EBUSY while members run or a task waits (cancel
 * and await the group first).
 */
CORIO_EXTERN int corio_group_destroy(struct corio_group *g);

/*
 * Spawn @root (from f__start(NULL, ...)) as a member.  Returns 0, or
 * -ENOMEM (@root is released) or -EINVAL.
 */
CORIO_EXTERN int corio_group_spawn(struct corio_group *g,
				   struct corio_frame *root);

/*
 * corio_group_spawn() for a member whose int result is a status: @status
 * is the slot @root returns into (the result pointer given to its start
 * function; it must outlive the member, as a field of the owner's frame
 * does).  When the member returns a negative value there, it has failed
 * with it.  Returns as corio_group_spawn, and -EINVAL when @status is NULL
 * (@root is released).
 *
 *	corio_group_spawn_status(&self->g,
 *		fetch__start(NULL, url, &self->res[i]), &self->res[i]);
 */
CORIO_EXTERN int corio_group_spawn_status(struct corio_group *g,
					  struct corio_frame *root,
					  const int *status);

/* Cancel every unfinished member.  Returns how many were cancelled. */
CORIO_EXTERN int corio_group_cancel(struct corio_group *g);

/* Members spawned and members finished so far. */
CORIO_EXTERN size_t corio_group_size(const struct corio_group *g);
CORIO_EXTERN size_t corio_group_finished(const struct corio_group *g);

/*
 * Awaitable: wait until every member has finished.  *@result is 0, or the
 * error of the first member that failed (with CORIO_GROUP_CANCEL_ON_ERROR
 * the others were cancelled then).  An empty group completes at once.
 */
CORIO_EXTERN struct corio_frame *corio_group_wait_all__start(
	struct corio_frame *parent, struct corio_group *g, int *result);

/*
 * Awaitable: wait until @n members have finished, then cancel the rest and
 * wait for them to unwind (their buffers are released when this
 * completes).  *@result is 0, or the first failure among the first @n, or
 * -EINVAL when @n exceeds the members.
 */
CORIO_EXTERN struct corio_frame *corio_group_wait_n__start(
	struct corio_frame *parent, struct corio_group *g, size_t n,
	int *result);

/* Awaitable: corio_group_wait_n with n = 1: the first member wins. */
CORIO_EXTERN struct corio_frame *corio_group_wait_any__start(
	struct corio_frame *parent, struct corio_group *g, int *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_GROUP_H */
