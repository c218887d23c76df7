/* SPDX-License-Identifier: MIT */
/*
 * Runs a generated test case: spawns test_main() as a task on a fresh
 * loop, runs the loop to completion and prints the result and the task's
 * status.  Exit 77 means io_uring is unavailable (the test skips).
 */
#include <stdio.h>

#include <corio.h>

struct corio_frame *test_main__start(struct corio_frame *parent,
				     int *result);

int main(void)
{
	struct corio_loop *loop;
	struct corio_task *task;
	int result = -1, status = -1, ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "skip: %s\n", corio_loop_unavailable_reason());
		return 77;
	}
	ret = corio_spawn(loop, test_main__start(NULL, &result), &task);
	if (ret == 0)
		ret = corio_loop_run(loop);
	if (ret == 0)
		ret = corio_task_reap(task, &status);
	if (ret < 0) {
		fprintf(stderr, "harness: %s\n", corio_strerror(ret));
		return 3;
	}
	printf("result=%d status=%d\n", result, status);
	fflush(stdout);
	return corio_loop_destroy(loop) == 0 ? 0 : 4;
}
