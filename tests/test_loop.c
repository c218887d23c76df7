/* SPDX-License-Identifier: MIT */
/*
 * tests/test_loop.c - the loop itself: one per thread, owner-thread checks,
 * the setup ladder's rungs, stop, stall detection, statistics.
 */
#include "testutil.h"

#include <criterion/redirect.h>

#include <liburing.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <corio/async.h>

Test(loop, one_loop_per_thread, .timeout = 10)
{
	struct corio_loop *loop = t_loop(), *second = (void *)1;

	cr_assert_eq(corio_loop_current(), loop);
	cr_assert_eq(corio_loop_create(&second, NULL), -EBUSY);
	cr_assert_null(second);
	t_loop_done(loop);
	cr_assert_null(corio_loop_current());
	loop = t_loop();	/* a new one may be created afterwards */
	t_loop_done(loop);
}

static void *run_from_other_thread(void *loop)
{
	intptr_t r = corio_loop_run(loop);

	r = r * 1000 + corio_loop_destroy(loop);
	return (void *)r;
}

Test(loop, other_threads_are_refused_with_eperm, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	pthread_t th;
	void *r;

	pthread_create(&th, NULL, run_from_other_thread, loop);
	pthread_join(th, &r);
	cr_assert_eq((intptr_t)r, -EPERM * 1000 - EPERM);
	t_loop_done(loop);
}

Test(loop, backend_description_names_the_backend, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	const char *desc = corio_loop_backend(loop);
	const char *env = getenv("CORIO_BACKEND");

	if (env && !strcmp(env, "epoll"))
		cr_assert(!strncmp(desc, "epoll (", 7), "%s", desc);
	else if (t_on_epoll(loop))	/* io_uring is unavailable here */
		cr_assert(strstr(desc, "io_uring unavailable: "), "%s", desc);
	else
		cr_assert(!strncmp(desc, "io_uring (", 10), "%s", desc);
	t_loop_done(loop);
}

corio_async(int, nap, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(1));
	corio_return(self->r + 1);
corio_finally:
	corio_end();
}

/* Each rung of the setup ladder, forced, must run the same program. */
static void run_with_flags(unsigned flags)
{
	struct corio_loop_opts opts = { .ring_flags = flags };
	struct corio_loop *loop = t_loop_opts(&opts);
	int r = 0;

	t_skip_on_epoll(loop, "the io_uring setup ladder");

	corio_spawn(loop, nap__start(NULL, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 1);
	t_loop_done(loop);
}

Test(loop, ladder_rung_defer_taskrun, .timeout = 10)
{
	run_with_flags(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
}

Test(loop, ladder_rung_coop_taskrun, .timeout = 10)
{
	run_with_flags(IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
}

Test(loop, ladder_rung_plain, .timeout = 10)
{
	run_with_flags(IORING_SETUP_CLAMP);
}

Test(loop, unknown_setup_flag_is_an_error_not_a_crash, .timeout = 10)
{
	struct corio_loop_opts opts = { .ring_flags = 1u << 30,
					.backend = CORIO_LOOP_BACKEND_URING };
	struct corio_loop *loop = NULL;

	cr_assert_eq(corio_loop_create(&loop, &opts), -EINVAL);
	cr_assert_null(loop);
	/* Without forcing io_uring: a bad flag is still the caller's
	 * mistake, not a reason to fall back to epoll. */
	opts.backend = CORIO_LOOP_BACKEND_AUTO;
	unsetenv("CORIO_BACKEND");
	cr_assert_eq(corio_loop_create(&loop, &opts), -EINVAL);
	cr_assert_null(loop);
	cr_assert_neq(corio_loop_unavailable_reason()[0], '\0');
}

corio_async(void, forever, (), (
	int r;
))
{
	corio_begin();
	for (;;)
		corio_await(self->r, corio_sleep, CORIO_SEC(3600));
corio_finally:
	corio_end();
}

corio_async(void, stopper, ((struct corio_loop *, loop)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(5));
	corio_loop_stop(self->loop);
corio_finally:
	corio_end();
}

Test(loop, stop_returns_and_run_resumes_later, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	int64_t start = corio_now();
	int st = 0;

	corio_spawn(loop, forever__start(NULL), &t);
	corio_spawn(loop, stopper__start(NULL, loop), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_lt(corio_now() - start, CORIO_SEC(5),
		     "stop must not wait for the next timer");
	cr_assert_not(corio_task_is_done(t));
	corio_task_cancel(t);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(st, -ECANCELED);
	t_loop_done(loop);
}

Test(loop, operations_outside_a_task_fail_with_eperm, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	ssize_t n = 0;
	int r = 0;
	char c;

	cr_assert_eq(corio_sleep__start(NULL, 1, &r), CORIO_READY);
	cr_assert_eq(r, -EPERM);
	cr_assert_eq(corio_read__start(NULL, 0, &c, 1, -1, &n), CORIO_READY);
	cr_assert_eq(n, -EPERM);
	t_loop_done(loop);
}

Test(loop, stats_count_what_happened, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats stats;
	int r = 0;

	corio_spawn(loop, nap__start(NULL, &r), NULL);
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.tasks_live, 1);
	cr_assert_eq(stats.tasks_spawned, 1);
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_loop_stats(loop, &stats);
	cr_assert_gt(stats.iterations, 0);
	cr_assert_eq(stats.ops_inflight, 0);
	cr_assert_eq(stats.timers, 0);
	t_loop_done(loop);
}

/* The reason names the cause (or the sysctl, where that is set). */
static void assert_seccomp_reason(const char *text)
{
	cr_assert(strstr(text, "seccomp") || strstr(text, "io_uring_disabled"),
		  "%s", text);
}

Test(loop, io_uring_refused_by_seccomp_is_eperm_with_a_reason,
     .timeout = 10)
{
	struct corio_loop *loop = (void *)1;

	t_refuse_syscall(__NR_io_uring_setup, EPERM);
	/* Forced, io_uring's refusal is the answer. */
	setenv("CORIO_BACKEND", "uring", 1);
	cr_assert_eq(corio_loop_create(&loop, NULL), -EPERM);
	cr_assert_null(loop);
	assert_seccomp_reason(corio_loop_unavailable_reason());
	cr_assert_null(corio_loop_current());
}

Test(loop, io_uring_refused_by_seccomp_falls_back_to_epoll, .timeout = 10)
{
	struct corio_loop *loop = NULL;
	int r = 0;

	t_refuse_syscall(__NR_io_uring_setup, EPERM);
	unsetenv("CORIO_BACKEND");
	cr_assert_eq(corio_loop_create(&loop, NULL), 0, "%s",
		     corio_loop_unavailable_reason());
	cr_assert(!strncmp(corio_loop_backend(loop),
			   "epoll (io_uring unavailable: ", 29), "%s",
		  corio_loop_backend(loop));
	assert_seccomp_reason(corio_loop_backend(loop));
	/* The reason stays available after the fallback. */
	assert_seccomp_reason(corio_loop_unavailable_reason());
	corio_spawn(loop, nap__start(NULL, &r), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 1);
	t_loop_done(loop);
}

Test(loop, kernel_without_io_uring_is_enosys_with_a_reason, .timeout = 10)
{
	struct corio_loop *loop = (void *)1;

	t_refuse_syscall(__NR_io_uring_setup, ENOSYS);
	setenv("CORIO_BACKEND", "uring", 1);
	cr_assert_eq(corio_loop_create(&loop, NULL), -ENOSYS);
	cr_assert(strstr(corio_loop_unavailable_reason(),
			 "no io_uring support"), "%s",
		  corio_loop_unavailable_reason());
	/* Not forced: epoll takes over. */
	unsetenv("CORIO_BACKEND");
	cr_assert_eq(corio_loop_create(&loop, NULL), 0);
	cr_assert(strstr(corio_loop_backend(loop), "no io_uring support"),
		  "%s", corio_loop_backend(loop));
	t_loop_done(loop);
}

Test(loop, create_and_destroy_release_every_descriptor, .timeout = 30)
{
	struct rlimit lim = { 64, 64 };
	int i;

	/* With 64 descriptors, a loop leaking even one fails within 64. */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	for (i = 0; i < 300; i++)
		t_loop_done(t_loop());
}

corio_async(void, blocks_the_loop, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	usleep(200000);	/* the mistake: a blocking call inside a task */
	corio_await(self->r, corio_sleep, 1);
corio_finally:
	corio_end();
}

corio_async(void, busy_but_polite, ((int, n)), (
	int i;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_yield();
corio_finally:
	corio_end();
}

Test(loop, stall_watchdog_names_the_blocking_task, .timeout = 10,
     .init = cr_redirect_stderr)
{
	struct corio_loop_opts opts = { .stall_ms = 30 };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_loop_stats stats;
	struct corio_task *t;
	char text[1024] = "";
	size_t n;

	corio_spawn(loop, busy_but_polite__start(NULL, 100000), NULL);
	corio_spawn(loop, blocks_the_loop__start(NULL), &t);
	corio_task_set_name(t, "offender");
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.stalls, 1, "one step blocked; yields are fine");
	fflush(stderr);
	n = fread(text, 1, sizeof(text) - 1, cr_get_redirected_stderr());
	text[n] = '\0';
	cr_assert(strstr(text, "loop stalled: task #2 \"offender\""), "%s",
		  text);
	cr_assert(strstr(text, "in blocks_the_loop() at"), "%s", text);
	cr_assert(strstr(text, "test_loop.c:"), "%s", text);
	corio_task_reap(t, &(int){ 0 });
	t_loop_done(loop);
}
