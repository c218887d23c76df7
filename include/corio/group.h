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
 * A group is also the way to select over several awaitables: spawn one
 * member per alternative and await the first (corio_group_wait_any); the
 * losers are cancelled and run their cleanup sections.
 *
 * Members are tasks of the group's loop; the group joins them, so do not
 * join them yourself.  A group waits on its members in the task graph, so
 * a member that waits for the group's waiter is a deadlock like any other.
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
};

/* flags: the first member to fail cancels the others. */
#define CORIO_GROUP_CANCEL_ON_ERROR 0x1u

/* Initialise an empty group.  Returns 0, -EINVAL (no loop, bad flags). */
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

/* Cancel every unfinished member.  Returns how many were cancelled. */
CORIO_EXTERN int corio_group_cancel(struct corio_group *g);

/* Members spawned and members finished so far. */
CORIO_EXTERN size_t corio_group_size(const struct corio_group *g);
CORIO_EXTERN size_t corio_group_finished(const struct corio_group *g);

/*
 * Awaitable: wait until every member has finished.  *@result is 0, or the
 * status of the first member that failed (with CORIO_GROUP_CANCEL_ON_ERROR
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
