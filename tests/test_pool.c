/* SPDX-License-Identifier: MIT */
/*
 * tests/test_pool.c - corio_blocking: calls run on worker threads while
 * the loop goes on; the thread count is bounded and the queue visible;
 * cancellation waits for the call; pending calls are not deadlocks.
 */
#include "testutil.h"

#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

static _Atomic int concurrent, most_concurrent;

/* Sleeps @arg milliseconds on a worker thread, returns @arg * 10. */
static intptr_t slow_call(void *arg)
{
	intptr_t ms = (intptr_t)arg;
	int now = atomic_fetch_add(&concurrent, 1) + 1;
	int seen = atomic_load(&most_concurrent);

	while (now > seen &&
	       !atomic_compare_exchange_weak(&most_concurrent, &seen, now))
		;
	usleep((useconds_t)ms * 1000);
	atomic_fetch_sub(&concurrent, 1);
	return ms * 10;
}

corio_async(intptr_t, offload, ((intptr_t, ms)), (
	intptr_t r;
))
{
	corio_begin();
	corio_await(self->r, corio_blocking, slow_call, (void *)self->ms);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static int ticks;

corio_async(void, ticker, ((int, n)), (
	int i, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_sleep, CORIO_MS(5));
		ticks++;
	}
corio_finally:
	corio_end();
}

Test(pool, blocking_calls_run_beside_the_loop, .timeout = 20)
{
	struct corio_loop_opts opts = { .blocking_threads = 4 };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_loop_stats stats;
	intptr_t r[8];
	int64_t start = corio_now();
	int i;

	atomic_store(&most_concurrent, 0);
	ticks = 0;
	for (i = 0; i < 8; i++)
		corio_spawn(loop, offload__start(NULL, 100, &r[i]), NULL);
	corio_spawn(loop, ticker__start(NULL, 20), NULL);
	/* Nothing on the loop can wake the offloaded tasks, yet this is
	 * no deadlock: their calls are running. */
	corio_assert_finished(loop);
	for (i = 0; i < 8; i++)
		cr_assert_eq(r[i], 1000);
	cr_assert_eq(atomic_load(&most_concurrent), 4, "bounded by 4 threads");
	cr_assert_geq(corio_now() - start, CORIO_MS(200), "two waves of 4");
	cr_assert_eq(ticks, 20, "the loop kept running meanwhile");
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.blocking_threads, 4);
	cr_assert_eq(stats.blocking_queued, 0);
	cr_assert_eq(stats.blocking_running, 0);
	t_loop_done(loop);
}

corio_async(void, watch_queue, ((struct corio_loop *, loop)), (
	struct corio_loop_stats st;
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(30));
	corio_loop_stats(self->loop, &self->st);
	cr_assert_eq(self->st.blocking_threads, 1);
	cr_assert_eq(self->st.blocking_running, 1);
	cr_assert_eq(self->st.blocking_queued, 2, "the queue depth is visible");
corio_finally:
	corio_end();
}

Test(pool, queue_depth_is_visible, .timeout = 20)
{
	struct corio_loop_opts opts = { .blocking_threads = 1 };
	struct corio_loop *loop = t_loop_opts(&opts);
	intptr_t r[3];
	int i;

	for (i = 0; i < 3; i++)
		corio_spawn(loop, offload__start(NULL, 100, &r[i]), NULL);
	corio_spawn(loop, watch_queue__start(NULL, loop), NULL);
	corio_assert_finished(loop);
	t_loop_done(loop);
}

/* The call writes into the task's frame after a delay: cancellation must
 * not release the frame before it returns. */
static intptr_t write_late(void *arg)
{
	usleep(50000);
	memset(arg, 'x', 64);
	return 0;
}

corio_async(intptr_t, fill_frame, ((intptr_t *, seen)), (
	char buf[64];
	intptr_t r;
))
{
	corio_begin();
	corio_await(self->r, corio_blocking, write_late, self->buf);
	*self->seen = self->r;
	corio_await_void(corio_yield);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(pool, cancellation_waits_for_the_call, .timeout = 20)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	intptr_t r = 7, seen = 7;
	int status = 0;

	corio_spawn(loop, fill_frame__start(NULL, &seen, &r), &victim);
	corio_spawn(loop, t_cancel_and_join__start(NULL, victim, &status), NULL);
	corio_assert_finished(loop);
	/* Under ASan a release before the write would be a report.  The
	 * call ran: its result is the task's to see (nothing it returned,
	 * an fd say, is lost), and the cancellation takes effect at the
	 * next await. */
	cr_assert_eq(seen, 0, "the finished call's result is seen");
	cr_assert_eq(status, -ECANCELED);
	cr_assert_eq(r, 7, "a cancelled task stores no result");
	t_loop_done(loop);
}
