/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/post.c - callbacks queued to a loop from any thread.
 *
 * A message rides on the loop's queue of remote completions (completion.c):
 * it embeds a completion marked CORIO__REMOTE_POST, so the one lock-free
 * stack, the one eventfd and its coalescing serve both.  The drain takes
 * the whole stack at once and runs it oldest first, so messages and remote
 * resolutions keep the order in which they were queued.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "core/internal.h"

#include "corio/runtime.h"

struct corio__post {
	struct corio_completion c;	/* first: the message is found from it */
	void (*fn)(void *arg);
	void *arg;
};

int corio_loop_post(struct corio_loop *loop, void (*fn)(void *arg), void *arg)
{
	struct corio__post *m;

	if (!loop || !fn)
		return -EINVAL;
	m = corio__malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	m->c.remote = CORIO__REMOTE_POST;
	m->fn = fn;
	m->arg = arg;
	/* Counted before it is visible, so the loop never sees a queued
	 * message it does not count as a waker on its way. */
	atomic_fetch_add(&loop->posts_pending, 1);
	return corio__remote_push(loop, &m->c);
}

void corio__post_run(struct corio_loop *loop, struct corio_completion *c)
{
	struct corio__post *m = (struct corio__post *)(void *)c;
	void (*fn)(void *arg) = m->fn;
	void *arg = m->arg;

	/* Released first: @fn may post again, even to this loop. */
	corio__free(m);
	loop->posts_run++;
	fn(arg);
	/* After @fn: whatever it started is visible to the loop by now, so
	 * the count never drops to zero with work still unseen. */
	atomic_fetch_sub(&loop->posts_pending, 1);
}
