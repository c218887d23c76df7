/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/group.c - task groups.
 *
 * Each member runs inside a small runner frame that awaits the member's
 * root and, in its cleanup section (reached however the member ends),
 * reports to the group.  The runner frame also holds the member's link in
 * the group's list of unfinished members, so spawning a member allocates
 * nothing beyond the task and the runner.
 */
#include <errno.h>
#include <string.h>

#include "prims/internal.h"

#include "corio/async.h"
#include "corio/group.h"

struct corio__group_member {
	struct corio__group_member *next, *prev;
	struct corio_task *task;
};

/* wanted: every member (wait_all), however many there come to be. */
#define ALL SIZE_MAX

/* The group's waiters may go: hand them the result. */
static void wake_waiters(struct corio_group *g)
{
	corio__sync_resume_all(&g->sync, g->first_error);
}

int corio_group_cancel(struct corio_group *g)
{
	struct corio__group_member *m;
	int n = 0;

	for (m = g->members; m; m = m->next)
		if (corio_task_cancel(m->task) == 0)
			n++;
	return n;
}

/*
 * Where the group stands after a member finished or a wait started: once
 * the wanted number has finished the rest are cancelled, and once all
 * have finished the waiters wake.
 */
static void settle(struct corio_group *g)
{
	if (!g->sync.head)
		return;
	if (g->finished >= g->spawned) {
		wake_waiters(g);
		return;
	}
	if (g->wanted != ALL && g->finished >= g->wanted)
		corio_group_cancel(g);
}

static void member_done(struct corio_group *g, struct corio__group_member *m,
			int status)
{
	bool counted = g->wanted == ALL || g->finished < g->wanted;

	if (m->prev)
		m->prev->next = m->next;
	else
		g->members = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		g->last = m->prev;
	g->finished++;
	/* A loser cancelled by the group is not a failure of the group. */
	if (status < 0 && counted && !g->first_error) {
		g->first_error = status;
		if (g->flags & CORIO_GROUP_CANCEL_ON_ERROR)
			corio_group_cancel(g);
	}
	settle(g);
}

corio_async_static(void, group_member, ((struct corio_group *, g),
					(struct corio_frame *, root)), (
	struct corio__group_member link;
	bool started;
))
{
	corio_begin();
	self->started = true;	/* the await owns @root from here */
	corio_await_frame(self->root);
corio_finally:
	/* Cancelled before it first ran: @root never started. */
	if (!self->started)
		corio_frame_free(self->root);
	member_done(self->g, &self->link, self->hdr.err);
	corio_end();
}

int corio_group_init(struct corio_group *g, const char *name, unsigned flags)
{
	if (flags & ~CORIO_GROUP_CANCEL_ON_ERROR)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->flags = flags;
	g->wanted = ALL;
	return corio__sync_register(&g->sync, CORIO_WAIT_GROUP, name,
				    "group");
}

int corio_group_destroy(struct corio_group *g)
{
	if (g->members)
		return -EBUSY;
	return corio__sync_unregister(&g->sync);
}

int corio_group_spawn(struct corio_group *g, struct corio_frame *root)
{
	struct corio_loop *loop = corio__tls_loop;
	struct group_member__frame *runner;
	struct corio_task *t;
	int ret;

	if (!root)
		return -ENOMEM;
	if (!loop) {
		corio_frame_free(root);
		return -EINVAL;
	}
	runner = (struct group_member__frame *)(void *)
		group_member__start(NULL, g, root);
	if (!runner) {
		corio_frame_free(root);
		return -ENOMEM;
	}
	ret = corio_spawn_at(loop, &runner->hdr, __FILE__, __LINE__, &t);
	if (ret < 0) {
		corio_frame_free(root);	/* the runner went with the spawn */
		return ret;
	}
	corio_task_set_name(t, root->info->name);
	corio_task_detach(t);
	/* Appended, so cancellations and reports follow spawn order. */
	runner->link.task = t;
	runner->link.prev = g->last;
	if (g->last)
		g->last->next = &runner->link;
	else
		g->members = &runner->link;
	g->last = &runner->link;
	g->spawned++;
	return 0;
}

size_t corio_group_size(const struct corio_group *g)
{
	return g->spawned;
}

size_t corio_group_finished(const struct corio_group *g)
{
	return g->finished;
}

struct corio_frame *corio_group_wait_n__start(struct corio_frame *parent,
					      struct corio_group *g, size_t n,
					      int *result)
{
	struct corio_frame *early;
	struct corio_task *t;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	if (n != ALL && n > g->spawned)
		return corio__op_done(t, -EINVAL);
	g->wanted = n;
	if (g->finished >= g->spawned)
		return corio__op_done(t, g->first_error);
	early = corio__sync_wait(&g->sync, t, NULL);
	settle(g);
	return early;
}

struct corio_frame *corio_group_wait_all__start(struct corio_frame *parent,
						struct corio_group *g,
						int *result)
{
	return corio_group_wait_n__start(parent, g, ALL, result);
}

struct corio_frame *corio_group_wait_any__start(struct corio_frame *parent,
						struct corio_group *g,
						int *result)
{
	return corio_group_wait_n__start(parent, g, 1, result);
}
