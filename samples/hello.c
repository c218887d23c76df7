/* SPDX-License-Identifier: MIT */
/*
 * hello - the smallest corio program: two tasks take turns printing, one
 * sleeps between lines, and main joins nothing but reads their statuses.
 */
#include <stdio.h>
#include <stdlib.h>

#include <corio.h>
#include <corio/async.h>

corio_async(int, greet, ((const char *, who), (int, times)), (
	int i;
	int slept;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->times; self->i++) {
		printf("hello, %s (%d)\n", self->who, self->i + 1);
		corio_await(self->slept, corio_sleep, CORIO_MS(10));
	}
	corio_return(self->times);
corio_finally:
	corio_end();
}

int main(void)
{
	struct corio_task *a, *b;
	struct corio_loop *loop;
	int na = 0, nb = 0, sa, sb, ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "hello: %s\n", corio_loop_unavailable_reason());
		return 1;
	}
	corio_spawn(loop, greet__start(NULL, "world", 3, &na), &a);
	corio_spawn(loop, greet__start(NULL, "corio", 2, &nb), &b);
	ret = corio_loop_run(loop);
	if (ret == 0 && corio_task_reap(a, &sa) == 0 &&
	    corio_task_reap(b, &sb) == 0)
		printf("done: %d + %d greetings, status %d/%d, on %s\n", na, nb,
		       sa, sb, corio_loop_backend(loop));
	corio_loop_destroy(loop);
	return ret == 0 ? 0 : 1;
}
