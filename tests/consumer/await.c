/* SPDX-License-Identifier: MIT */
/*
 * consumer await - async/await code built against an installed corio: the
 * installed coriogen turns it into C, run by corio_add_async_sources()
 * (CMakeLists.txt) or through pkg-config's `coriogen` variable (Makefile).
 * A task awaits a child per number, each child sleeps before it answers;
 * main prints the sum.
 */
#include <stdio.h>

#include <corio.h>
#include <corio/await.h>

static async int twice(int x)
{
	int slept = await corio_sleep(CORIO_MS(1));

	return slept < 0 ? slept : 2 * x;
}

async int sum_twice(int n)
{
	int sum = 0;

	for (int i = 1; i <= n; i++) {
		int r = await twice(i);

		if (r < 0)
			return r;
		sum += r;
	}
	return sum;
}

int main(void)
{
	struct corio_loop *loop;
	int sum = 0, ret = corio_loop_create(&loop, NULL);

	if (ret < 0) {
		fprintf(stderr, "consumer await: %s (%s)\n", corio_strerror(ret),
			corio_loop_unavailable_reason());
		return 1;
	}
	corio_spawn(loop, sum_twice__start(NULL, 4, &sum), NULL);
	ret = corio_loop_run(loop);
	corio_loop_destroy(loop);
	if (ret || sum != 20)
		return 1;
	printf("ok await %d\n", sum);
	return 0;
}
