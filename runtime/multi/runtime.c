/* SPDX-License-Identifier: MIT */
/*
 * runtime/multi/runtime.c - N threads, each running its own loop, and spawning
 * tasks on them from anywhere.
 *
 * Each thread creates its loop, marks it held (corio_loop_run does not
 * return when the loop has no task: it sleeps on its eventfd) and runs it.
 * A spawn from another thread is a message (post.c) whose callback makes
 * the root frame on the target thread and spawns it there.
 *
 * Shutdown, in order:
 *  1. stop: @stopping is set under the write side of @gate, so no spawn is
 *     half-way through (they hold the read side while they post); then a
 *     message to each loop cancels every task it has.
 *  2. wait: @pending (runtime tasks not yet finished) reaches zero.  A
 *     task's end resolves its notify completion before it is uncounted.
 *  3. destroy: a message to each loop clears its hold; queued after every
 *     resolution of step 2, it runs after them, so a loop never ends with
 *     a resolution for it still in flight.  The loop returns from
 *     corio_loop_run once its own tasks are gone; its thread destroys it,
 *     but only once the release's post call has returned (@released):
 *     the loop may run the message before the sender is done writing the
 *     loop's eventfd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

#include "corio/async.h"
#include "corio/runtime.h"

#define MAX_LOOPS 1024

struct corio_runtime;

struct slot {
	struct corio_runtime *rt;
	struct corio_loop *loop;	/* set by its thread once created */
	pthread_t thread;
	bool started;			/* @thread exists: join it */
	bool ready;			/* its loop_create returned */
	bool released;			/* the release message was posted and
					 * its post call returned */
	int err;			/* what loop_create returned */
};

struct corio_runtime {
	unsigned n;
	_Atomic unsigned next;		/* round robin for CORIO_ANY_LOOP */
	pthread_rwlock_t gate;		/* spawns: read side; stop: write */
	bool stopping;			/* under @gate */
	pthread_mutex_t lock;		/* for the fields below */
	pthread_cond_t cond;		/* @pending reached 0, a slot ready */
	uint64_t pending;		/* spawned tasks not yet finished */
	int err;			/* first error of a loop */
	bool has_opts;
	struct corio_loop_opts opts;
	struct slot slots[];
};

/* A task to spawn, from the spawn call to the task's end. */
struct spawn {
	struct corio_runtime *rt;
	corio_start_fn fn;
	void *arg;
	const char *name;
	struct corio_completion *notify;	/* or NULL */
	const char *file;			/* spawn site, for reports */
	int line;
};

static void note_error(struct corio_runtime *rt, int err)
{
	pthread_mutex_lock(&rt->lock);
	if (!rt->err)
		rt->err = err;
	pthread_mutex_unlock(&rt->lock);
}

/* A runtime task ended with @status (on its loop's thread). */
static void spawn_finished(struct spawn *s, int status)
{
	struct corio_runtime *rt = s->rt;

	if (s->notify)
		corio_completion_resolve_remote(s->notify, status);
	corio__free(s);
	pthread_mutex_lock(&rt->lock);
	if (--rt->pending == 0)
		pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
}

corio_async_static(void, spawn_runner, ((struct corio_frame *, root),
					(struct spawn *, s)), (
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
	/* On success and failure alike. */
	spawn_finished(self->s, self->hdr.err);
	corio_end();
}

/* Make the task on the calling thread's loop (a message callback, or the
 * spawn call itself on the target's thread). */
static void spawn_here(void *arg)
{
	struct spawn *s = arg;
	struct corio_loop *loop = corio__tls_loop;
	struct corio_frame *root, *runner;
	struct corio_task *t;
	int ret;

	root = s->fn(s->arg);
	if (!root) {
		spawn_finished(s, -ENOMEM);
		return;
	}
	runner = spawn_runner__start(NULL, root, s);
	if (!runner) {
		corio_frame_free(root);
		spawn_finished(s, -ENOMEM);
		return;
	}
	ret = corio_spawn_at(loop, runner, s->file, s->line, &t);
	if (ret < 0) {
		corio_frame_free(root);	/* the runner went with the spawn */
		spawn_finished(s, ret);
		return;
	}
	corio_task_set_name(t, s->name ? s->name : root->info->name);
	corio_task_detach(t);
}

static int spawn_on(struct corio_runtime *rt, int index, corio_start_fn fn,
		    void *arg, const char *name, struct corio_completion *done,
		    const char *file, int line)
{
	struct corio_loop *loop;
	struct spawn *s;
	int ret;

	if (!rt || !fn || index < CORIO_ANY_LOOP || index >= (int)rt->n)
		return -EINVAL;
	if (index == CORIO_ANY_LOOP)
		index = (int)(atomic_fetch_add_explicit(&rt->next, 1,
				memory_order_relaxed) % rt->n);
	loop = rt->slots[index].loop;
	s = corio__malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct spawn){ .rt = rt, .fn = fn, .arg = arg, .name = name,
			     .notify = done, .file = file, .line = line };
	pthread_rwlock_rdlock(&rt->gate);
	if (rt->stopping) {
		pthread_rwlock_unlock(&rt->gate);
		corio__free(s);
		return -ESHUTDOWN;
	}
	pthread_mutex_lock(&rt->lock);
	rt->pending++;
	pthread_mutex_unlock(&rt->lock);
	if (corio__tls_loop == loop) {
		/* Already on the right thread: no message needed. */
		spawn_here(s);
		ret = 0;
	} else {
		ret = corio_loop_post(loop, spawn_here, s);
	}
	pthread_rwlock_unlock(&rt->gate);
	if (ret == -ENOMEM) {	/* not queued */
		corio__free(s);
		pthread_mutex_lock(&rt->lock);
		if (--rt->pending == 0)
			pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->lock);
		return ret;
	}
	/* Any other error came from writing the eventfd after the message
	 * was queued (never seen: a full counter counts as written); the
	 * task is on its way all the same. */
	return index;
}

int corio_runtime_spawn_at(struct corio_runtime *rt, int index,
			   corio_start_fn fn, void *arg, const char *name,
			   const char *file, int line)
{
	return spawn_on(rt, index, fn, arg, name, NULL, file, line);
}

int corio_runtime_spawn_notify_at(struct corio_runtime *rt, int index,
				  corio_start_fn fn, void *arg,
				  const char *name,
				  struct corio_completion *done,
				  const char *file, int line)
{
	if (!done)
		return -EINVAL;
	return spawn_on(rt, index, fn, arg, name, done, file, line);
}

/* ---------------------------------------------------------------------- */
/* Awaiting a task of another loop.                                       */

/* The completion corio_run_on waits on.  It lives on the heap, not in the
 * frame, and is released when its value has been delivered. */
static void call_delivered(struct corio_completion *c)
{
	corio_completion_destroy(c);
	corio__free(c);
}

struct corio_frame *corio_run_on__start(struct corio_frame *parent,
					struct corio_runtime *rt, int index,
					corio_start_fn fn, void *arg,
					int *status)
{
	struct corio_completion *c;
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	/* Cancellation is looked at here, before the other task exists:
	 * from then on the wait goes to its end. */
	early = corio__op_prologue(&t, status, CORIO__RES_INT);
	if (early)
		return early;
	if (corio__op_expired(t))
		return CORIO_READY;
	c = corio__malloc(sizeof(*c));
	if (!c)
		return corio__op_done(t, -ENOMEM);
	ret = corio_completion_init(c, "corio_run_on", CORIO_COMPLETION_REMOTE);
	if (ret < 0) {
		corio__free(c);
		return corio__op_done(t, ret);
	}
	/* The site of the caller's task: the await's own is in a frame. */
	ret = spawn_on(rt, index, fn, arg, NULL, c, t->file, (int)t->line);
	if (ret < 0) {
		corio_completion_destroy(c);
		corio__free(c);
		return corio__op_done(t, ret);
	}
	/* Uninterruptible like corio_blocking, and for the same reason:
	 * the other task may use the caller's frames through @arg. */
	c->sync.kind = CORIO_WAIT_BLOCKING;
	c->on_delivered = call_delivered;
	return corio__sync_wait_untimed(&c->sync, t);
}

/* ---------------------------------------------------------------------- */
/* The loops' threads.                                                    */

/* Cancel every task of the calling thread's loop (outside any task). */
static void cancel_all(void *arg)
{
	(void)arg;
	corio__tasks_cancel_all(corio__tls_loop);
}

/* Let the loop end once its tasks are done. */
static void release_loop(void *arg)
{
	(void)arg;
	corio__tls_loop->hold = false;
}

static void report_deadlock(struct corio_loop *loop, unsigned index)
{
	const struct corio_deadlock_report *r = corio_loop_deadlock(loop);
	char buf[4096];

	if (!r)
		return;
	corio_deadlock_format(r, buf, sizeof(buf));
	fprintf(stderr, "corio runtime: loop %u:\n%s", index, buf);
}

static void *loop_thread(void *arg)
{
	struct slot *sl = arg;
	struct corio_runtime *rt = sl->rt;
	struct corio_loop *loop = NULL;
	int ret;

	ret = corio_loop_create(&loop, rt->has_opts ? &rt->opts : NULL);
	if (ret == 0)
		loop->hold = true;
	pthread_mutex_lock(&rt->lock);
	sl->loop = loop;
	sl->err = ret;
	sl->ready = true;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
	if (ret < 0)
		return NULL;
	for (;;) {
		ret = corio_loop_run(loop);
		if (ret == 0)
			break;	/* released, and every task is done */
		note_error(rt, ret);
		if (ret != -EDEADLK)
			break;
		/* The stuck tasks were reported; end them and go on
		 * serving the other loops' messages. */
		report_deadlock(loop, (unsigned)(sl - rt->slots));
		cancel_all(NULL);
	}
	pthread_mutex_lock(&rt->lock);
	while (!sl->released)
		pthread_cond_wait(&rt->cond, &rt->lock);
	pthread_mutex_unlock(&rt->lock);
	ret = corio_loop_destroy(loop);
	if (ret < 0)
		note_error(rt, ret);
	return NULL;
}

/* End the threads that started (their loops have no task). */
static void end_threads(struct corio_runtime *rt)
{
	unsigned i;

	for (i = 0; i < rt->n; i++) {
		struct slot *sl = &rt->slots[i];

		if (!sl->started)
			continue;
		if (sl->loop)
			corio_loop_post(sl->loop, release_loop, NULL);
		pthread_mutex_lock(&rt->lock);
		sl->released = true;
		pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->lock);
		pthread_join(sl->thread, NULL);
	}
}

static void runtime_free(struct corio_runtime *rt)
{
	pthread_cond_destroy(&rt->cond);
	pthread_mutex_destroy(&rt->lock);
	pthread_rwlock_destroy(&rt->gate);
	corio__free(rt);
}

int corio_runtime_create(struct corio_runtime **rtp, unsigned nloops,
			 const struct corio_loop_opts *opts)
{
	struct corio_runtime *rt;
	unsigned i;
	int ret = 0;

	if (!rtp)
		return -EINVAL;
	*rtp = NULL;
	if (nloops == 0 || nloops > MAX_LOOPS)
		return -EINVAL;
	rt = corio__malloc(sizeof(*rt) + sizeof(rt->slots[0]) * nloops);
	if (!rt)
		return -ENOMEM;
	memset(rt, 0, sizeof(*rt) + sizeof(rt->slots[0]) * nloops);
	rt->n = nloops;
	if (opts) {
		rt->opts = *opts;
		rt->has_opts = true;
	}
	pthread_rwlock_init(&rt->gate, NULL);
	pthread_mutex_init(&rt->lock, NULL);
	pthread_cond_init(&rt->cond, NULL);
	for (i = 0; i < nloops && ret == 0; i++) {
		struct slot *sl = &rt->slots[i];

		sl->rt = rt;
		ret = -pthread_create(&sl->thread, NULL, loop_thread, sl);
		if (ret == 0)
			sl->started = true;
	}
	/* Every loop is up (or failed) before the runtime is handed out. */
	pthread_mutex_lock(&rt->lock);
	for (i = 0; i < nloops; i++) {
		struct slot *sl = &rt->slots[i];

		while (sl->started && !sl->ready)
			pthread_cond_wait(&rt->cond, &rt->lock);
		if (sl->started && sl->err < 0 && ret == 0)
			ret = sl->err;
	}
	pthread_mutex_unlock(&rt->lock);
	if (ret < 0) {
		rt->stopping = true;
		end_threads(rt);
		runtime_free(rt);
		return ret;
	}
	*rtp = rt;
	return 0;
}

unsigned corio_runtime_nloops(const struct corio_runtime *rt)
{
	return rt ? rt->n : 0;
}

struct corio_loop *corio_runtime_loop(const struct corio_runtime *rt,
				      unsigned index)
{
	return rt && index < rt->n ? rt->slots[index].loop : NULL;
}

int corio_runtime_self(const struct corio_runtime *rt)
{
	struct corio_loop *loop = corio__tls_loop;
	unsigned i;

	if (!rt || !loop)
		return -1;
	for (i = 0; i < rt->n; i++)
		if (rt->slots[i].loop == loop)
			return (int)i;
	return -1;
}

int corio_runtime_wait(struct corio_runtime *rt)
{
	int ret;

	if (!rt)
		return -EINVAL;
	/* Blocking a loop's own thread would stop it finishing its part. */
	if (corio_runtime_self(rt) >= 0)
		return -EPERM;
	pthread_mutex_lock(&rt->lock);
	while (rt->pending)
		pthread_cond_wait(&rt->cond, &rt->lock);
	ret = rt->err;
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int corio_runtime_stop(struct corio_runtime *rt)
{
	unsigned i;
	bool first;

	if (!rt)
		return -EINVAL;
	/* The posts happen under the lock too: a concurrent destroy (which
	 * stops first) cannot end a loop while a post to it is under way. */
	pthread_rwlock_wrlock(&rt->gate);
	first = !rt->stopping;
	rt->stopping = true;
	for (i = 0; first && i < rt->n; i++) {
		int ret = corio_loop_post(rt->slots[i].loop, cancel_all, NULL);

		if (ret < 0)
			note_error(rt, ret);
	}
	pthread_rwlock_unlock(&rt->gate);
	return 0;
}

int corio_runtime_destroy(struct corio_runtime *rt)
{
	int ret;

	if (!rt)
		return -EINVAL;
	if (corio_runtime_self(rt) >= 0)
		return -EPERM;
	corio_runtime_stop(rt);
	corio_runtime_wait(rt);
	end_threads(rt);
	ret = rt->err;
	runtime_free(rt);
	return ret;
}
