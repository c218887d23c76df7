/* SPDX-License-Identifier: MIT */
/*
 * hello_await - samples/hello.c written with async/await instead of the
 * macro DSL: two tasks take turns printing, each sleeping between lines.
 * Built through corio_add_async_sources(); see docs/codegen.md.
 */
#include <stdio.h>

#include <corio.h>
#include <corio/await.h>

async int greet(const char *who, int times)
{
	for (int i = 0; i < times; i++) {
		printf("hello, %s (%d)\n", who, i + 1);
		if (await corio_sleep(CORIO_MS(10)) < 0)
			return -1;
	}
	return times;
}

int main(void)
{
	struct corio_task *a, *b;
	struct corio_loop *loop;
	int na = 0, nb = 0, sa, sb, ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "hello_await: %s\n",
			corio_loop_unavailable_reason());
		return 1;
	}
	corio_spawn(loop, greet__start(NULL, "world", 3, &na), &a);
	corio_spawn(loop, greet__start(NULL, "corio", 2, &nb), &b);
	ret = corio_loop_run(loop);
	if (ret == 0 && corio_task_reap(a, &sa) == 0 &&
	    corio_task_reap(b, &sb) == 0)
		printf("done: %d + %d greetings, status %d/%d\n", na, nb, sa, sb);
	corio_loop_destroy(loop);
	return ret == 0 ? 0 : 1;
}
