/* SPDX-License-Identifier: MIT */
/*
 * tests/test_alloc.c - allocation failures: every one becomes -ENOMEM for
 * someone, and nothing leaks.  The allocator hook fails the Nth
 * allocation; a sweep over N covers every allocation a scenario makes.
 */
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>

#include <corio/async.h>

static struct t_log log_;

corio_async(int, inner, ((int, v)), (
	int slept;
))
{
	corio_begin();
	corio_await(self->slept, corio_sleep, CORIO_US(10));
	corio_return(self->v * 2);
corio_finally:
	t_log_add(&log_, "inner:%d", self->hdr.err);
	corio_end();
}

corio_async(int, outer, ((int, v)), (
	int a, b;
))
{
	corio_begin();
	corio_await(self->a, inner, self->v);
	corio_await(self->b, inner, self->a);
	corio_return(self->b);
corio_finally:
	t_log_add(&log_, "outer:%d", self->hdr.err);
	corio_end();
}

/*
 * Create a loop that allocates each object separately, run two tasks
 * through nested calls, destroy.  Returns what went wrong first (0 when
 * nothing did); whatever happens, every allocation is released.
 */
static int scenario(int *results)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_task *t[2] = { NULL, NULL };
	struct corio_loop *loop;
	int ret, i, st, first = 0;

	ret = corio_loop_create(&loop, &opts);
	if (ret == -EPERM || ret == -ENOSYS)
		cr_skip_test("%s", corio_loop_unavailable_reason());
	if (ret < 0)
		return ret;
	for (i = 0; i < 2; i++) {
		ret = corio_spawn(loop, outer__start(NULL, i + 1, &results[i]),
				  &t[i]);
		if (ret < 0 && !first)
			first = ret;
	}
	ret = corio_loop_run(loop);
	cr_assert_eq(ret, 0, "run: %s", corio_strerror(ret));
	for (i = 0; i < 2; i++) {
		if (!t[i])
			continue;
		cr_assert_eq(corio_task_reap(t[i], &st), 0);
		if (st < 0 && !first)
			first = st;
	}
	cr_assert_eq(corio_loop_destroy(loop), 0);
	return first;
}

Test(alloc, every_allocation_failure_is_enomem_and_nothing_leaks,
     .timeout = 60)
{
	long n, total;
	int results[2], ret;

	/* Count the allocations of a clean run. */
	t_alloc_counting(0);
	ret = scenario(results);
	cr_assert_eq(ret, 0);
	cr_assert_eq(results[0], 4);
	cr_assert_eq(results[1], 8);
	cr_assert_eq(t_alloc_live, 0, "leak in the clean run");
	total = t_alloc_count;
	cr_assert_gt(total, 6);
	for (n = 1; n <= total; n++) {
		memset(&log_, 0, sizeof(log_));
		results[0] = results[1] = 0;
		t_alloc_counting(n);
		ret = scenario(results);
		cr_assert(ret == 0 || ret == -ENOMEM,
			  "allocation %ld: %s", n, corio_strerror(ret));
		cr_assert_eq(t_alloc_live, 0, "allocation %ld failed: %ld "
			     "allocations leaked", n, t_alloc_live);
	}
	corio_set_allocator(NULL, NULL);
}

Test(alloc, a_failed_child_start_unwinds_the_caller, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	struct corio_task *t;
	int result = -1, st = 0;

	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	cr_assert_eq(corio_spawn(loop, outer__start(NULL, 1, &result), &t), 0);
	/* The next allocation is the first child's frame. */
	t_alloc_fail_at = t_alloc_count + 1;
	memset(&log_, 0, sizeof(log_));
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(st, -ENOMEM);
	cr_assert_eq(result, -1);
	cr_assert_str_eq(log_.buf, "outer:-12");
	t_loop_done(loop);
	cr_assert_eq(t_alloc_live, 0);
	corio_set_allocator(NULL, NULL);
}

Test(alloc, failed_spawn_releases_the_root_frame, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	struct corio_frame *root;
	struct corio_task *t = (void *)1;
	int result;

	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	root = outer__start(NULL, 1, &result);
	cr_assert_not_null(root);
	t_alloc_fail_at = t_alloc_count + 1;	/* the task record */
	cr_assert_eq(corio_spawn(loop, root, &t), -ENOMEM);
	cr_assert_null(t);
	t_loop_done(loop);
	cr_assert_eq(t_alloc_live, 0);
	corio_set_allocator(NULL, NULL);
}

/* ---- the frame cache ------------------------------------------------- */

/*
 * Allocations made by 100 spawns and joins after a warm-up: about 200
 * (a task and a frame each) when every object is its own allocation, 0
 * when they come from the loop's cache.  A spawn from outside any task
 * and a reap keep the measure free of anything but tasks and frames.
 */
static long allocs_per_100_spawns(void)
{
	struct corio_loop *loop;
	struct corio_task *t;
	long before;
	int i, st, round;

	t_alloc_counting(0);
	loop = t_loop();
	for (round = 0; round < 2; round++) {
		before = atomic_load(&t_alloc_count);
		for (i = 0; i < 100; i++) {
			cr_assert_eq(corio_spawn(loop, inner__start(NULL, i,
						 NULL), &t), 0);
			cr_assert_eq(corio_loop_run(loop), 0);
			cr_assert_eq(corio_task_reap(t, &st), 0);
		}
	}
	t_loop_done(loop);
	corio_set_allocator(NULL, NULL);
	return atomic_load(&t_alloc_count) - before;
}

Test(alloc, no_cache_in_the_environment_turns_the_cache_off, .timeout = 10)
{
	cr_assert_eq(setenv("CORIO_NO_CACHE", "1", 1), 0);
	cr_assert_geq(allocs_per_100_spawns(), 200);
}

Test(alloc, the_cache_stays_on_otherwise, .timeout = 10)
{
#ifdef T_ASAN
	/* AddressSanitizer in the process turns it off, always. */
	cr_assert_eq(setenv("CORIO_NO_CACHE", "0", 1), 0);
	cr_assert_geq(allocs_per_100_spawns(), 200);
#else
	cr_assert_eq(unsetenv("CORIO_NO_CACHE"), 0);
	cr_assert_eq(allocs_per_100_spawns(), 0);
	cr_assert_eq(setenv("CORIO_NO_CACHE", "0", 1), 0);
	cr_assert_eq(allocs_per_100_spawns(), 0);
	cr_assert_eq(setenv("CORIO_NO_CACHE", "", 1), 0);
	cr_assert_eq(allocs_per_100_spawns(), 0);
#endif
}
