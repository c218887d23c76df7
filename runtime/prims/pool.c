/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/pool.c - worker threads for blocking calls (corio_blocking).
 *
 * A job carries a remote completion: a worker runs the function and
 * resolves the completion from its thread, which wakes the loop through
 * its eventfd; the loop delivers the value to the waiting task and then
 * releases the job.  The task waits on the completion uninterruptibly
 * (cancellation and deadlines wait for the function to return), because
 * the function may use memory of the task's frames until then.
 *
 * Threads start lazily, one more whenever a job is queued and none is
 * idle, up to the loop's limit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prims/internal.h"

#include "corio/pool.h"

struct corio__job {
	struct corio_completion done;	/* first: the job is found from it */
	corio_blocking_fn fn;
	void *arg;
	struct corio__job *next;	/* queue link, under the pool lock */
};

struct corio__pool {
	struct corio__loop_ext ext;	/* first: the loop hands &ext back */
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job was queued, or quit */
	struct corio__job *head, *tail;	/* queued, not yet running */
	unsigned threads, idle, max;
	unsigned queued, running;	/* read by stats under the lock */
	bool quit;
	pthread_t *tids;
};

static void *worker(void *arg)
{
	struct corio__pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct corio__job *job;
		intptr_t ret;

		while (!p->head && !p->quit) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
		}
		if (!p->head)
			break;	/* quit, with nothing left to run */
		job = p->head;
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		p->running++;
		pthread_mutex_unlock(&p->lock);
		ret = job->fn(job->arg);
		pthread_mutex_lock(&p->lock);
		p->running--;
		/* The job belongs to the loop from here on. */
		corio_completion_resolve_remote(&job->done, ret);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_destroy(struct corio_loop *loop, struct corio__loop_ext *ext);
static void pool_stats(const struct corio_loop *loop,
		       const struct corio__loop_ext *ext,
		       struct corio_loop_stats *stats);

static struct corio__pool *pool_get(struct corio_loop *loop)
{
	struct corio__pool *p = loop->pool;

	if (p)
		return p;
	p = corio__malloc(sizeof(*p));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->max = loop->blocking_threads;
	p->tids = corio__malloc(sizeof(*p->tids) * p->max);
	if (!p->tids) {
		corio__free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	p->ext.destroy = pool_destroy;
	p->ext.stats = pool_stats;
	corio__loop_ext_add(loop, &p->ext);
	loop->pool = p;
	return p;
}

/* corio_loop_destroy: stop and join the worker threads. */
static void pool_destroy(struct corio_loop *loop, struct corio__loop_ext *ext)
{
	struct corio__pool *p = (struct corio__pool *)ext;
	unsigned i;

	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->threads; i++)
		pthread_join(p->tids[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	corio__free(p->tids);
	corio__free(p);
	loop->pool = NULL;
}

static void pool_stats(const struct corio_loop *loop,
		       const struct corio__loop_ext *ext,
		       struct corio_loop_stats *stats)
{
	struct corio__pool *p = (struct corio__pool *)ext;

	(void)loop;
	pthread_mutex_lock(&p->lock);
	stats->blocking_threads = p->threads;
	stats->blocking_queued = p->queued;
	stats->blocking_running = p->running;
	pthread_mutex_unlock(&p->lock);
}

/* The value reached the task: the job is done with. */
static void job_delivered(struct corio_completion *c)
{
	struct corio__job *job = (struct corio__job *)(void *)c;

	corio_completion_destroy(&job->done);
	corio__free(job);
}

/* Queue @job, starting a thread if none is idle.  0 or -errno. */
static int submit(struct corio__pool *p, struct corio__job *job)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (!p->idle && p->threads < p->max) {
		ret = -pthread_create(&p->tids[p->threads], NULL, worker, p);
		if (ret == 0)
			p->threads++;
		else if (p->threads)
			ret = 0;	/* the running threads will get to it */
	}
	if (ret == 0) {
		job->next = NULL;
		if (p->tail)
			p->tail->next = job;
		else
			p->head = job;
		p->tail = job;
		p->queued++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

struct corio_frame *corio_blocking__start(struct corio_frame *parent,
					  corio_blocking_fn fn, void *arg,
					  intptr_t *result)
{
	struct corio_frame *early;
	struct corio__pool *p;
	struct corio__job *job;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_I64);
	if (early)
		return early;
	if (corio__op_expired(t))
		return CORIO_READY;
	p = pool_get(corio__tls_loop);
	job = p ? corio__malloc(sizeof(*job)) : NULL;
	if (!job)
		return corio__op_done(t, -ENOMEM);
	job->fn = fn;
	job->arg = arg;
	corio_completion_init(&job->done, "corio_blocking",
			      CORIO_COMPLETION_REMOTE);
	job->done.sync.kind = CORIO_WAIT_BLOCKING;
	job->done.on_delivered = job_delivered;
	ret = submit(p, job);
	if (ret < 0) {
		corio_completion_destroy(&job->done);
		corio__free(job);
		return corio__op_done(t, ret);
	}
	return corio__sync_wait_untimed(&job->done.sync, t);
}
