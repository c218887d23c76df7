/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/watchdog.c - the stall watchdog: reports a task step that keeps
 * the loop busy longer than a threshold (a blocking read(2), sleep(3) or a
 * long computation inside a task: nothing else runs meanwhile).
 *
 * The loop thread publishes each step it starts (task id, name, the
 * function and file:line it resumes at) under a sequence counter; a
 * separate thread samples it every half threshold.  A step still current
 * after the threshold is reported once, on stderr.  The watchdog only
 * reads what the loop published, all static strings and integers, so it
 * never touches a task that may be released under it.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "core/internal.h"
#include "core/trace.h"

void corio__watchdog_publish(struct corio_loop *loop, struct corio_task *t)
{
	struct corio__watch *w = &loop->watch;
	const struct corio_frame *f = t->top;
	uint64_t seq = atomic_load_explicit(&w->seq, memory_order_relaxed);

	/* Odd while the fields change, even when consistent (a seqlock). */
	atomic_store_explicit(&w->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&w->id, t->id, memory_order_relaxed);
	atomic_store_explicit(&w->name, t->name, memory_order_relaxed);
	atomic_store_explicit(&w->fn, f->info->name, memory_order_relaxed);
	atomic_store_explicit(&w->file, f->info->file, memory_order_relaxed);
	atomic_store_explicit(&w->line, f->state ? f->line : f->info->line,
			      memory_order_relaxed);
	atomic_store_explicit(&w->seq, seq + 2, memory_order_release);
}

void corio__watchdog_idle(struct corio_loop *loop)
{
	struct corio__watch *w = &loop->watch;
	uint64_t seq = atomic_load_explicit(&w->seq, memory_order_relaxed);

	/* An even number that no step has: "between steps". */
	atomic_store_explicit(&w->seq, seq + 2, memory_order_release);
	atomic_store_explicit(&w->idle_seq, seq + 2, memory_order_relaxed);
}

static void nap(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *watch(void *arg)
{
	struct corio_loop *loop = arg;
	struct corio__watch *w = &loop->watch;
	uint64_t seen = 0, reported = 0;
	int64_t since = 0, limit = w->threshold_ns;

	while (!atomic_load(&w->quit)) {
		uint64_t seq = atomic_load_explicit(&w->seq,
						    memory_order_acquire);
		int64_t now = corio__clock_now();

		nap(limit / 2);
		if (seq & 1 || seq != atomic_load(&w->seq) ||
		    seq == atomic_load(&w->idle_seq) || seq == reported) {
			continue;
		}
		if (seq != seen) {
			seen = seq;
			since = now;
			continue;
		}
		if (now - since >= limit) {
			uint64_t id = atomic_load_explicit(&w->id,
						memory_order_relaxed);
			const char *name = atomic_load_explicit(&w->name,
						memory_order_relaxed);
			const char *fn = atomic_load_explicit(&w->fn,
						memory_order_relaxed);
			const char *file = atomic_load_explicit(&w->file,
						memory_order_relaxed);
			unsigned line = atomic_load_explicit(&w->line,
						memory_order_relaxed);

			/* Fields changed meanwhile: the step ended.  The
			 * fence orders the reads above before this one. */
			atomic_thread_fence(memory_order_acquire);
			if (seq != atomic_load_explicit(&w->seq,
							memory_order_relaxed))
				continue;
			reported = seq;
			atomic_fetch_add(&w->stalls, 1);
			fprintf(stderr, "corio: loop stalled: task #%llu \"%s\" "
				"has run for %lld ms without awaiting, "
				"resumed in %s() at %s:%u\n",
				(unsigned long long)id, name,
				(long long)((now - since) / 1000000),
				fn, file, line);
			corio__trace_stall(loop, id, name, fn, file, line,
					   now - since);
		}
	}
	return NULL;
}

int corio__watchdog_start(struct corio_loop *loop, unsigned ms)
{
	struct corio__watch *w = &loop->watch;
	int ret;

	w->threshold_ns = (int64_t)ms * 1000000;
	ret = pthread_create(&w->thread, NULL, watch, loop);
	if (ret)
		return -ret;
	w->running = true;
	return 0;
}

void corio__watchdog_stop(struct corio_loop *loop)
{
	struct corio__watch *w = &loop->watch;

	if (!w->running)
		return;
	atomic_store(&w->quit, 1);
	pthread_join(w->thread, NULL);
	w->running = false;
}
