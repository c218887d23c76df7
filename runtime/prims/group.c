/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/group.c - task groups.
 *
 * Each member runs inside a small runner frame that awaits the member's
 * root and, in its cleanup section (reached however the member ends),
 * reports to the group.  The runner frame also holds the member's link in
 * the group's list of unfinished members, so spawning a member allocates
 * nothing beyond the task and the runner.
 *
 * Structure: a group initialised by a task belongs to the frame running
 * then, which gets CORIO__FRAME_OWNER (core/frame_end.h); the loop's
 * groups state (a struct corio__loop_ext) finds the frame's groups in a
 * table keyed by the frame.  When the frame finishes, the loop's
 * frame_end hook cancels its members still running and makes the task
 * wait for them before the frame, which holds the group and usually the
 * members' result slots, is released.
 */
#include <errno.h>
#include <string.h>

#include "core/frame_end.h"
#include "core/scope.h"
#include "prims/internal.h"

#include "corio/async.h"
#include "corio/group.h"

struct corio__group_member {
	struct corio__group_member *next, *prev;
	struct corio_task *task;
};

/* wanted: every member (wait_all), however many there come to be. */
#define ALL SIZE_MAX

/* A group's entry in the loop's table of groups by owning frame. */
struct owner_rec {
	struct corio__hnode h;		/* key: the owning frame */
	struct corio_group *g;
};

/* The loop's groups state, made with its first owned group. */
struct corio__groups {
	struct corio__loop_ext ext;	/* first: the loop hands &ext back */
	struct corio__htab owned;	/* owner_rec by frame */
};

static uint64_t frame_key(const struct corio_frame *f)
{
	return (uint64_t)(uintptr_t)f;
}

/* Take @g out of its owner's table (no-op without an owner). */
static void disown(struct corio_loop *loop, struct corio_group *g)
{
	struct owner_rec *o = g->owner;

	if (!o)
		return;
	corio__htab_remove(&loop->groups->owned, &o->h);
	corio__slab_free(&loop->slab, o, sizeof(*o));
	g->owner = NULL;
}

static void groups_destroy(struct corio_loop *loop, struct corio__loop_ext *ext)
{
	struct corio__groups *gs = (struct corio__groups *)ext;

	/* Empty: every frame that owned a group has ended. */
	corio__htab_free(&gs->owned);
	corio__free(gs);
	loop->groups = NULL;
}

static bool owner_ended(struct corio_loop *loop, struct corio_task *t,
			struct corio_frame *f);

static struct corio__groups *groups_of(struct corio_loop *loop)
{
	struct corio__groups *gs = loop->groups;

	if (gs)
		return gs;
	gs = corio__malloc(sizeof(*gs));
	if (!gs)
		return NULL;
	memset(gs, 0, sizeof(*gs));
	gs->ext.destroy = groups_destroy;
	corio__loop_ext_add(loop, &gs->ext);
	loop->groups = gs;
	loop->frame_end = owner_ended;
	return gs;
}

/* The group's waiters may go: hand them the result. */
static void wake_waiters(struct corio_group *g)
{
	corio__sync_resume_all(&g->sync, g->first_error);
}

int corio_group_cancel(struct corio_group *g)
{
	struct corio__group_member *m;
	int n = 0;

	/* Cancelling is no wake-up a scope's check must see (scope.c): it
	 * may come from anywhere, as corio_task_cancel. */
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
					(struct corio_frame *, root),
					(const int *, status)), (
	struct corio__group_member link;
	bool started;
	int err;
))
{
	corio_begin();
	self->started = true;	/* the await owns @root from here */
	corio_await_frame(self->root);
corio_finally:
	/* Cancelled before it first ran: @root never started. */
	if (!self->started)
		corio_frame_free(self->root);
	/* A member that returned a negative status failed with it.  Its
	 * slot lives in the owner's frame, which outlives the member. */
	self->err = self->hdr.err;
	if (!self->err && self->started && self->status && *self->status < 0)
		self->err = *self->status;
	member_done(self->g, &self->link, self->err);
	corio_end();
}

/*
 * The frame-end hook (core/frame_end.h): @f, which owns groups, has
 * finished.  Cancel the members still running in any of them and wait
 * for one such group at a time; once none runs, the groups go with the
 * frame.
 */
static bool owner_ended(struct corio_loop *loop, struct corio_task *t,
			struct corio_frame *f)
{
	uint64_t key = frame_key(f);
	struct corio_group *busy = NULL;
	struct corio__hnode *e;

	for (e = corio__htab_find(&loop->groups->owned, key); e; e = e->next) {
		struct corio_group *g = ((struct owner_rec *)e)->g;

		if (e->key != key || !g->members)
			continue;
		corio_group_cancel(g);
		busy = busy ? busy : g;
	}
	if (busy) {
		/* Uninterruptible in effect: a cancel or a deadlock report
		 * that ends this wait brings the task back here. */
		f->flags |= CORIO__FRAME_ENDED;
		busy->wanted = ALL;
		t->result = NULL;
		t->result_kind = CORIO__RES_NONE;
		corio__sync_wait_untimed(&busy->sync, t);
		return true;
	}
	while ((e = corio__htab_find(&loop->groups->owned, key))) {
		struct corio_group *g = ((struct owner_rec *)e)->g;

		disown(loop, g);
		/* Nobody waits on a group without members: it may go. */
		assert(!g->sync.head);
		corio__sync_unregister(&g->sync);
	}
	f->flags &= ~(CORIO__FRAME_OWNER | CORIO__FRAME_ENDED);
	return false;
}

int corio_group_init(struct corio_group *g, const char *name, unsigned flags)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_task *t = loop ? loop->current : NULL;
	struct corio__groups *gs;
	struct owner_rec *o = NULL;
	int ret;

	if (flags & ~CORIO_GROUP_CANCEL_ON_ERROR)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->flags = flags;
	g->wanted = ALL;
	if (t) {
		/* Owned by the frame running now (task.c keeps t->top
		 * current while a frame runs). */
		gs = groups_of(loop);
		o = gs ? corio__slab_alloc(&loop->slab, sizeof(*o)) : NULL;
		if (!o)
			return -ENOMEM;
		o->h.key = frame_key(t->top);
		o->g = g;
		if (corio__htab_insert(&gs->owned, &o->h)) {
			corio__slab_free(&loop->slab, o, sizeof(*o));
			return -ENOMEM;
		}
		g->owner = o;
		t->top->flags |= CORIO__FRAME_OWNER;
	}
	ret = corio__sync_register(&g->sync, CORIO_WAIT_GROUP, name, "group");
	if (ret)
		disown(loop, g);
	return ret;
}

int corio_group_destroy(struct corio_group *g)
{
	if (g->members)
		return -EBUSY;
	disown(corio__tls_loop, g);
	return corio__sync_unregister(&g->sync);
}

/* Spawn a member; @status: where it stores an int status, or NULL. */
static int spawn_member(struct corio_group *g, struct corio_frame *root,
			const int *status)
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
	/* Members belong to the group's scope: spawned from it. */
	ret = corio__scope_spawn_into(g->sync.scope);
	if (ret) {
		corio_frame_free(root);
		return ret;
	}
	runner = (struct group_member__frame *)(void *)
		group_member__start(NULL, g, root, status);
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

int corio_group_spawn(struct corio_group *g, struct corio_frame *root)
{
	return spawn_member(g, root, NULL);
}

int corio_group_spawn_status(struct corio_group *g, struct corio_frame *root,
			     const int *status)
{
	if (!status) {
		corio_frame_free(root);
		return -EINVAL;
	}
	return spawn_member(g, root, status);
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
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio__scope_use(&g->sync);
	if (ret)
		return corio__op_done(t, ret);
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
