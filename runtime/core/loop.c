/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/loop.c - the event loop: creation, the phases of one iteration,
 * and teardown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/lockgraph.h"
#include "core/remote.h"
#include "core/scope.h"
#include "core/trace.h"
#include "reactor/reactor.h"

__thread struct corio_loop *corio__tls_loop
	__attribute__((tls_model("initial-exec")));

/* Why the last setup on this thread failed, for the caller to print. */
static __thread char unavailable_reason[256];

#if defined(__SANITIZE_ADDRESS__)
#define CORIO__UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO__UNDER_ASAN 1
#endif
#endif
#ifndef CORIO__UNDER_ASAN
#define CORIO__UNDER_ASAN 0
#endif

/*
 * Defined only when AddressSanitizer's runtime is in the process: a
 * program built with -fsanitize=address exports it (gcc links libasan,
 * clang its static runtime with the interface exported), even when
 * libcorio itself was built without.  Weak and default-visibility, so
 * that the reference resolves across the shared library's boundary and
 * stays NULL elsewhere.
 */
extern void __asan_init(void) __attribute__((weak, visibility("default")));

const char *corio_loop_unavailable_reason(void)
{
	return unavailable_reason;
}

/*
 * Must every frame and task be an allocation of its own?  Asked for
 * (CORIO_LOOP_NO_CACHE, or CORIO_NO_CACHE in the environment set to
 * anything but "" or "0"), or AddressSanitizer is watching: objects
 * recycled through the size-class lists would hide every use after
 * release from it.
 */
static bool cache_off(const struct corio_loop_opts *opts)
{
	const char *env = getenv("CORIO_NO_CACHE");

	if (opts && (opts->flags & CORIO_LOOP_NO_CACHE))
		return true;
	if (CORIO__UNDER_ASAN || __asan_init)
		return true;
	return env && *env && strcmp(env, "0") != 0;
}

int corio_loop_create(struct corio_loop **loopp,
		      const struct corio_loop_opts *opts)
{
	struct corio_loop *loop;
	int ret;

	*loopp = NULL;
	unavailable_reason[0] = '\0';
	if (corio__tls_loop)
		return -EBUSY;
	loop = corio__malloc(sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	memset(loop, 0, sizeof(*loop));
	loop->wake_fd = -1;
	loop->remote_drained = UINT64_MAX;	/* none yet */
	ret = corio__reactor_create(&loop->reactor, opts, loop->backend,
				    sizeof(loop->backend), unavailable_reason,
				    sizeof(unavailable_reason));
	/* Traced from the start: the eventfd's read below is the first
	 * operation a trace shows. */
	if (ret == 0)
		ret = corio__trace_open(loop, opts, unavailable_reason,
					sizeof(unavailable_reason));
	/* Other threads wake the loop through an eventfd. */
	if (ret == 0)
		ret = corio__remote_init(loop);
	if (ret < 0) {
		corio__trace_close(loop);	/* not traced: no-op */
		corio__reactor_destroy(loop->reactor);	/* NULL is fine */
		corio__free(loop);
		return ret;
	}
	corio__slab_init(&loop->slab, cache_off(opts));
	loop->syncs.next = loop->syncs.prev = &loop->syncs;
	loop->dl.policy = opts ? (int)opts->deadlock_policy : 0;
	loop->dl.check = !(opts &&
				 (opts->flags & CORIO_LOOP_NO_DEADLOCK_CHECK));
	loop->virtual_clock = opts && (opts->flags & CORIO_LOOP_VIRTUAL_CLOCK);
	loop->no_multishot = opts && (opts->flags & CORIO_LOOP_NO_MULTISHOT);
	loop->lock_order = opts && (opts->flags & CORIO_LOOP_LOCK_ORDER);
	loop->vnow = loop->virtual_clock ? CORIO_VIRTUAL_CLOCK_START :
		     corio__clock_now();
	loop->now = loop->vnow;
	loop->owner = pthread_self();
	/* The shadow check of every task (CORIO_SCOPE_SHADOW), if asked. */
	ret = corio__scopes_shadow(loop);
	if (ret < 0)
		goto err_free_scopes;
	loop->run_batch = opts && opts->run_batch ? opts->run_batch : 128;
	loop->blocking_threads = opts && opts->blocking_threads ?
				 opts->blocking_threads : 4;
	if (opts && opts->stall_ms) {
		ret = corio__watchdog_start(loop, opts->stall_ms);
		if (ret < 0)
			goto err_free_scopes;
	}
	/* Tracing and the watchdog are on, or not, from here on. */
	corio__loop_slow_sync(loop);
	corio__tls_loop = loop;
	*loopp = loop;
	return 0;

err_free_scopes:
	corio__scopes_destroy(loop);
	corio__trace_close(loop);
	corio__reactor_destroy(loop->reactor);
	close(loop->wake_fd);
	corio__free(loop);
	return ret;
}

void corio__loop_ext_add(struct corio_loop *loop, struct corio__loop_ext *ext)
{
	ext->next = loop->exts;
	loop->exts = ext;
}

int corio_loop_destroy(struct corio_loop *loop)
{
	struct corio__loop_ext *ext;

	if (!loop)
		return -EINVAL;
	if (!pthread_equal(loop->owner, pthread_self()))
		return -EPERM;
	if (loop->running)
		return -EBUSY;
	if (loop->unfinished) {
		/* Say which: a leak of tasks is a bug worth a clear report. */
		corio__warn("corio_loop_destroy: %llu task%s still alive "
			    "(nothing was destroyed):",
			    (unsigned long long)loop->unfinished,
			    loop->unfinished == 1 ? " is" : "s are");
		corio_loop_dump(loop, stderr);
		return -EBUSY;
	}
	corio__zombies_report(loop);
	corio__watchdog_stop(loop);
	corio__loop_slow_sync(loop);
	corio__zombies_release(loop);
	corio__deadlock_free(loop);
	/* Values on their way to waiters that left must arrive first: their
	 * senders still use the loop (remote.c). */
	corio__remote_settle(loop);
	/* Multishots still armed keep files open inside the kernel (a
	 * pending multishot accept kept its port bound past the ring's
	 * teardown), and the eventfd and signalfd reads target memory of
	 * the loop's: end them all before anything goes. */
	corio__sources_drain(loop);
	while ((ext = loop->exts)) {
		loop->exts = ext->next;
		ext->destroy(loop, ext);
	}
	/* A sender whose value was delivered may still be writing the
	 * eventfd (completion.c); the pool's threads are gone by now. */
	corio__remote_quiesce(loop);
	/* After the sources' final completions, which it records. */
	corio__trace_close(loop);
	corio__loop_slow_sync(loop);
	corio__reactor_destroy(loop->reactor);
	close(loop->wake_fd);
	corio__timers_destroy(loop);
	corio__taskwatch_destroy(loop);
	corio__lockgraph_free(loop->lockgraph);
	corio__scopes_destroy(loop);
	corio__free(loop->fd_ops);
	corio__slab_destroy(&loop->slab);
	if (corio__tls_loop == loop)
		corio__tls_loop = NULL;
	corio__free(loop);
	return 0;
}

/*
 * How long the wait phase may sleep: not at all while tasks are ready, until
 * the nearest timer otherwise, forever (-1) when only I/O can wake us.
 */
static int64_t wait_budget(struct corio_loop *loop)
{
	int64_t left;

	if (corio__ready_any(loop))
		return 0;
	if (!loop->timers.len)
		return -1;
	/* Virtual time: only look at I/O; the clock then jumps (run). */
	if (loop->virtual_clock)
		return 0;
	left = corio__timers_next(loop) - corio__clock_now();
	return left > 0 ? left : 0;
}

/*
 * One wait: submit, wait at most @budget (0: do not sleep), hand the
 * completions out.  Without a task ready to run there is always a wait;
 * with one, the system call is skipped when it could bring nothing.
 */
static int wait_phase(struct corio_loop *loop, int64_t budget)
{
	int ret;

	if (budget == 0 && !loop->stats.ops_inflight)
		return 0;
	corio__trace_phase(loop, CORIO__TP_WAIT);
	ret = corio__reactor_poll(loop->reactor, budget);
	if (ret < 0)
		return ret;
	corio__trace_phase(loop, CORIO__TP_REAP);
	corio__loop_reap(loop);
	return 0;
}

/* Nothing is ready, nothing is in flight, no timer is armed: the tasks
 * that remain can never be woken. */
static bool stalled(const struct corio_loop *loop)
{
	/* A message already queued (post.c) will wake the loop. */
	return !corio__ready_any(loop) && !loop->timers.len &&
	       !loop->stats.ops_inflight &&
	       !atomic_load(&((struct corio_loop *)loop)->posts_pending);
}

/* Is there anything left to run for?  A runtime's loop (@hold) sleeps on
 * its eventfd with no task rather than return. */
static bool has_work(struct corio_loop *loop)
{
	/* A value on its way to a waiter that left: its sender still
	 * uses the loop, and the drain frees it (remote.c). */
	return loop->unfinished || loop->hold ||
	       atomic_load(&loop->posts_pending) || loop->remote_abandoned;
}

int corio_loop_run(struct corio_loop *loop)
{
	int ret = 0;

	if (!loop)
		return -EINVAL;
	if (!pthread_equal(loop->owner, pthread_self()))
		return -EPERM;
	if (loop->running) {
		const struct corio_task *t = loop->current;

		corio__warn("corio_loop_run() called from inside task #%llu "
			    "\"%s\" (spawned at %s:%u) of the same loop: a "
			    "nested event loop is refused; await the work "
			    "instead", t ? (unsigned long long)t->id : 0ull,
			    t ? t->name : "?", t ? t->file : "?",
			    t ? t->line : 0u);
		return -EBUSY;
	}
	loop->running = true;
	loop->stop = false;
	corio__deadlock_free(loop);	/* a report speaks of one run */
	corio__scopes_run(loop);
	while (!loop->stop && has_work(loop)) {
		int64_t budget;

		loop->stats.iterations++;
		corio__trace_phase(loop, CORIO__TP_RUN);
		/* Bounded: tasks woken meanwhile wait for the next round. */
		corio__run_ready(loop, loop->run_batch);
		/* Messages from other threads: their eventfd read completes
		 * only inside a wait, which may be skipped while tasks are
		 * ready; run them now, before choosing how long to wait. */
		if (atomic_load_explicit(&loop->wake_pending,
					 memory_order_relaxed)) {
			corio__trace_phase(loop, CORIO__TP_MESSAGES);
			corio__remote_drain(loop);
		}
		if (!has_work(loop) || loop->stop)
			break;
		/* A task of a scope began to wait or ended: is its scope
		 * stuck, whatever the rest of the loop does? */
		if (corio__unlikely(loop->scopes && loop->scopes->dirty) &&
		    corio__scopes_check(loop)) {
			ret = -EDEADLK;
			break;
		}
		/* No task at all: nothing to deadlock; wait for messages. */
		if (loop->unfinished && stalled(loop) &&
		    corio__deadlock_global(loop)) {
			ret = -EDEADLK;
			break;
		}
		budget = wait_budget(loop);
		ret = wait_phase(loop, budget);
		if (ret < 0)
			break;
		if (loop->virtual_clock && !corio__ready_any(loop) &&
		    loop->timers.len) {
			/* Idle: jump to the next deadline, exactly (never
			 * back), so what it wakes runs before any later
			 * deadline fires. */
			int64_t next = corio__timers_next_exact(loop);

			if (next > loop->vnow)
				loop->vnow = next;
		}
		loop->now = corio__loop_now(loop);
		if (loop->timers.len) {
			corio__trace_phase(loop, CORIO__TP_TIMERS);
			corio__timers_fire(loop, loop->now);
		}
	}
	corio__trace_phase(loop, CORIO__TP_NONE);
	loop->running = false;
	return ret;
}

void corio_loop_stop(struct corio_loop *loop)
{
	if (loop)
		loop->stop = true;
}

struct corio_loop *corio_loop_current(void)
{
	return corio__tls_loop;
}

const char *corio_loop_backend(const struct corio_loop *loop)
{
	return loop->backend;
}

void corio_loop_stats(const struct corio_loop *loop,
		      struct corio_loop_stats *stats)
{
	const struct corio__loop_ext *ext;

	*stats = loop->stats;
	stats->tasks_unfinished = loop->unfinished;
	stats->submits = loop->reactor->stats.submits;
	stats->sq_full = loop->reactor->stats.sq_full;
	stats->cq_overflows = loop->reactor->stats.cq_overflows;
	stats->timers = loop->timers.len;
	stats->stalls = atomic_load(&loop->watch.stalls);
	for (ext = loop->exts; ext; ext = ext->next)
		if (ext->stats)
			ext->stats(loop, ext, stats);
	stats->posts = loop->posts_run;
	stats->wake_writes = atomic_load_explicit(
		&((struct corio_loop *)loop)->wake_writes,
		memory_order_relaxed);
}
