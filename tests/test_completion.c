/* SPDX-License-Identifier: MIT */
/*
 * tests/test_completion.c - completions (callback -> await), remote
 * resolution from other threads, corio_spawn_callback (await ->
 * callback), a small callback-style library ported both ways, and a
 * loop destroyed while a resolving thread is still writing its eventfd.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/completion.h>
#include <corio/runtime.h>
#include <corio/test.h>

corio_async(void, resolve_later, ((struct corio_completion *, c),
				  (int64_t, v)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_completion_resolve(self->c, self->v), 0);
	cr_assert_eq(corio_completion_resolve(self->c, 0), -EINVAL,
		     "resolved once; the first value stays");
corio_finally:
	corio_end();
}

Test(completion, resolve_on_the_loop_thread, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_completion c;
	int64_t a = 0, b = 0, late = 0;

	cr_assert_eq(corio_completion_init(&c, "answer", 0), 0);
	corio_spawn(loop, t_await_completion__start(NULL, &c, &a), NULL);
	corio_spawn(loop, t_await_completion__start(NULL, &c, &b), NULL);
	corio_spawn(loop, resolve_later__start(NULL, &c, 42), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(a, 42);
	cr_assert_eq(b, 42);
	cr_assert(corio_completion_is_resolved(&c));
	/* Already resolved: a later wait completes at once. */
	corio_spawn(loop, t_await_completion__start(NULL, &c, &late), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(late, 42);
	cr_assert_eq(corio_completion_destroy(&c), 0);
	cr_assert_eq(corio_completion_init(&c, NULL, 0x80), -EINVAL);
	t_loop_done(loop);
}

Test(completion, nobody_resolving_is_a_global_deadlock, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_completion c;
	struct corio_task *t;
	int64_t v = 0;
	int st;

	corio_completion_init(&c, "forgotten", 0);
	corio_spawn(loop, t_await_completion__start(NULL, &c, &v), &t);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL,
			      "t_await_completion");
	cr_assert_eq(corio_loop_deadlock(loop)->blocked[0].wait,
		     CORIO_WAIT_COMPLETION);
	cr_assert_eq(corio_completion_destroy(&c), -EBUSY);
	corio_task_cancel(t);
	corio_assert_finished(loop);
	corio_task_reap(t, &st);
	cr_assert_eq(corio_completion_destroy(&c), 0);
	t_loop_done(loop);
}

/* ---- a callback library running its callbacks on its own thread ----- */

struct fakelib_req {
	int x;
	void (*cb)(void *arg, int result);
	void *arg;
};

static void *fakelib_thread(void *p)
{
	struct fakelib_req *req = p;

	usleep(20000);	/* the "work" */
	req->cb(req->arg, req->x * 2);
	free(req);
	return NULL;
}

/* The library's API: doubles x on another thread, then calls cb. */
static int fakelib_double(int x, void (*cb)(void *, int), void *arg)
{
	struct fakelib_req *req = malloc(sizeof(*req));
	pthread_t th;

	if (!req)
		return -ENOMEM;
	*req = (struct fakelib_req){ x, cb, arg };
	if (pthread_create(&th, NULL, fakelib_thread, req)) {
		free(req);
		return -EAGAIN;
	}
	pthread_detach(th);
	return 0;
}

/* Callback -> await: the adapter is one completion. */
static void on_doubled(void *arg, int result)
{
	corio_completion_resolve_remote(arg, result);
}

corio_async(int, double_async, ((int, x)), (
	struct corio_completion done;
	int64_t v;
	int r;
))
{
	corio_begin();
	corio_completion_init(&self->done, "fakelib_double",
			      CORIO_COMPLETION_REMOTE);
	self->r = fakelib_double(self->x, on_doubled, &self->done);
	if (self->r < 0)
		corio_return(self->r);
	corio_await(self->v, corio_completion_wait, &self->done);
	corio_return((int)self->v);
corio_finally:
	/* Only once the value has arrived may the completion go away. */
	if (corio_completion_destroy(&self->done) == -EBUSY)
		abort();
	corio_end();
}

corio_async(int, sum_of_doubles, (), (
	int a, b;
))
{
	corio_begin();
	corio_await(self->a, double_async, 20);
	corio_await(self->b, double_async, 1);
	corio_return(self->a + self->b);
corio_finally:
	corio_end();
}

Test(completion, callback_api_on_another_thread_becomes_an_await,
     .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int got = 0;

	corio_spawn(loop, sum_of_doubles__start(NULL, &got), NULL);
	/* While the library's thread works nothing on the loop can wake the
	 * task, yet this is no deadlock: the completion is remote. */
	corio_assert_finished(loop);
	cr_assert_eq(got, 42);
	t_loop_done(loop);
}

Test(completion, remote_resolution_is_accepted_once, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_completion local, remote;
	int64_t v = 0;

	corio_completion_init(&local, NULL, 0);
	corio_completion_init(&remote, NULL, CORIO_COMPLETION_REMOTE);
	cr_assert_eq(corio_completion_resolve_remote(&local, 1), -EINVAL);
	cr_assert_eq(corio_completion_resolve_remote(&remote, 7), 0);
	cr_assert_eq(corio_completion_resolve_remote(&remote, 8), -EINVAL);
	cr_assert_eq(corio_completion_destroy(&remote), -EBUSY,
		     "its value is on the way");
	corio_spawn(loop, t_await_completion__start(NULL, &remote, &v), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(v, 7);
	cr_assert_eq(corio_completion_destroy(&remote), 0);
	cr_assert_eq(corio_completion_destroy(&local), 0);
	t_loop_done(loop);
}

/* ---- await -> callback ------------------------------------------------ */

struct report {
	int calls, status;
};

static void on_task_done(void *arg, int status)
{
	struct report *r = arg;

	r->calls++;
	r->status = status;
}

corio_async(int, maybe_fail, ((int, err)), ())
{
	corio_begin();
	corio_yield();
	if (self->err)
		corio_throw(self->err);
	corio_return(5);
corio_finally:
	corio_end();
}

Test(completion, spawn_callback_reports_success_and_failure, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct report ok = { 0, 1 }, bad = { 0, 0 };
	int value = 0;

	cr_assert_eq(corio_spawn_callback(loop, maybe_fail__start(NULL, 0,
			&value), on_task_done, &ok), 0);
	cr_assert_eq(corio_spawn_callback(loop, maybe_fail__start(NULL, -EIO,
			NULL), on_task_done, &bad), 0);
	cr_assert_eq(corio_spawn_callback(loop, maybe_fail__start(NULL, 0,
			NULL), NULL, NULL), -EINVAL);
	corio_assert_finished(loop);
	cr_assert_eq(ok.calls, 1);
	cr_assert_eq(ok.status, 0);
	cr_assert_eq(value, 5);
	cr_assert_eq(bad.calls, 1);
	cr_assert_eq(bad.status, -EIO);
	t_loop_done(loop);
}

/* The callback-style caller: the library's user keeps its callback shape
 * while the work inside is async code (double_async). */
static void on_double_done(void *arg, int status)
{
	on_task_done(arg, status);
}

Test(completion, ported_library_both_ways, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct report r = { 0, 1 };
	int result = 0;

	cr_assert_eq(corio_spawn_callback(loop, double_async__start(NULL, 50,
			&result), on_double_done, &r), 0);
	corio_assert_finished(loop);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(result, 100);
	t_loop_done(loop);
}

static void *wake_from_thread(void *loop)
{
	usleep(10000);
	corio_loop_wake(loop);
	return NULL;
}

corio_async(void, short_sleep, (), (int r;))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(50));
corio_finally:
	corio_end();
}

Test(completion, loop_wake_from_another_thread_is_harmless, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	pthread_t th;

	corio_spawn(loop, short_sleep__start(NULL), NULL);
	pthread_create(&th, NULL, wake_from_thread, loop);
	corio_assert_finished(loop);
	pthread_join(th, NULL);
	t_loop_done(loop);
}

/* ---- a callback task cancelled before its first step ---------------- */

struct early_cancel {
	struct report report;
	int value;
	int spawn_ret;
};

/* A message: spawn the callback task on the loop that runs it. */
static void spawn_callback_here(void *arg)
{
	struct early_cancel *e = arg;

	e->spawn_ret = corio_spawn_callback(corio_loop_current(),
			maybe_fail__start(NULL, 0, &e->value), on_task_done,
			&e->report);
}

Test(completion, spawn_callback_cancelled_before_it_ran, .timeout = 20)
{
	/* Each frame from the allocator, not from the loop's free lists
	 * (which destroy would release wholesale, hiding the leak). */
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_runtime *rt = NULL;
	struct t_gate g;
	struct early_cancel e = { .report = { 0, 1 }, .value = 0,
				  .spawn_ret = 1 };
	struct corio_loop *loop;
	int ret;

	/* Counted, so that a leak fails the test without LeakSanitizer. */
	t_alloc_counting(0);
	ret = corio_runtime_create(&rt, 1, &opts);
	if (ret == -EPERM || ret == -ENOSYS) {
		corio_set_allocator(NULL, NULL);
		cr_skip_test("io_uring unavailable");
	}
	cr_assert_eq(ret, 0, "corio_runtime_create: %s", corio_strerror(ret));
	loop = corio_runtime_loop(rt, 0);
	t_gate_init(&g);
	cr_assert_eq(corio_loop_post(loop, t_gate_hold, &g), 0);
	t_gate_wait_entered(&g);
	/* The loop is busy in the message: the spawn and the stop's cancel
	 * reach it in one batch, so the task is cancelled before its
	 * first step. */
	cr_assert_eq(corio_loop_post(loop, spawn_callback_here, &e), 0);
	cr_assert_eq(corio_runtime_stop(rt), 0);
	t_gate_open(&g);
	/* Ends the loop's thread: what it wrote is visible from here. */
	cr_assert_eq(corio_runtime_destroy(rt), 0);
	cr_assert_eq(e.spawn_ret, 0);
	cr_assert_eq(e.value, 0, "the work never ran");
	cr_assert_eq(e.report.calls, 1, "reported once all the same");
	cr_assert_eq(e.report.status, -ECANCELED);
	/* Its frame was released too: nothing of corio's is left. */
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0,
		     "%ld allocations leaked", atomic_load(&t_alloc_live));
	t_gate_destroy(&g);
}

/* ---- a resolver still writing the eventfd when the loop ends -------- */

/*
 * write(2) for the whole test program, to hold back one thread's writes:
 * in a thread that set hold_my_writes (its only write is the wake-up of
 * corio_completion_resolve_remote) it waits until the loop's owner has
 * returned from corio_loop_destroy, or 500 ms.  Every other write goes
 * straight to the kernel.
 */
static __thread bool hold_my_writes;
static _Atomic bool write_held, loop_destroyed;

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	int i;

	if (hold_my_writes) {
		atomic_store(&write_held, true);
		for (i = 0; i < 500 && !atomic_load(&loop_destroyed); i++)
			nap_ms(1);
	}
	return syscall(SYS_write, fd, buf, n);
}

struct held_resolver {
	struct corio_completion *c;
	int ret;
};

static void *resolve_held(void *arg)
{
	struct held_resolver *h = arg;

	hold_my_writes = true;
	h->ret = corio_completion_resolve_remote(h->c, 9);
	return NULL;
}

/* Another wake-up makes the loop take the value before that write. */
static void *wake_once_held(void *arg)
{
	while (!atomic_load(&write_held))
		nap_ms(1);
	cr_assert_eq(corio_loop_wake(arg), 0);
	return NULL;
}

Test(completion, destroy_waits_for_a_resolver_still_writing, .timeout = 20)
{
	struct corio_loop *loop = t_loop();
	struct corio_completion c;
	struct held_resolver h = { .c = &c, .ret = 1 };
	pthread_t resolver, waker;
	int64_t v = 0;

	cr_assert_eq(corio_completion_init(&c, "held", CORIO_COMPLETION_REMOTE),
		     0);
	corio_spawn(loop, t_await_completion__start(NULL, &c, &v), NULL);
	cr_assert_eq(pthread_create(&resolver, NULL, resolve_held, &h), 0);
	cr_assert_eq(pthread_create(&waker, NULL, wake_once_held, loop), 0);
	/* The value is delivered while its sender is still in its call. */
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(v, 9);
	cr_assert_eq(corio_completion_destroy(&c), 0);
	/* Must wait for the sender: its write would hit a closed (or
	 * reused) descriptor and its flag store freed memory. */
	cr_assert_eq(corio_loop_destroy(loop), 0);
	atomic_store(&loop_destroyed, true);
	pthread_join(resolver, NULL);
	pthread_join(waker, NULL);
	cr_assert_eq(h.ret, 0, "the resolver's eventfd write: %s",
		     corio_strerror(h.ret));
}
