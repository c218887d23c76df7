/*
 * Out of memory while starting a child: the awaiting frame unwinds with
 * -ENOMEM, every frame of the chain runs its cleanup section exactly once,
 * and the task's status is -ENOMEM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <corio/await.h>

static int failing;             /* the allocator is limited while set */
static int allowed = 50;        /* allocations left before refusing */
static long started, cleaned;

static void *test_alloc(size_t size)
{
	if (failing && allowed-- <= 0)
		return NULL;
	return malloc(size);
}

async int dive(int depth);

async int dive(int depth)
{
	int below;

	started++;
	if (depth == 0)
		return 0;
	below = await dive(depth - 1);
	return below + 1;
corio_finally:
	cleaned++;
}

async int top(void)
{
	int r;

	failing = 1;    /* every frame is an allocation: 50 more, then none */
	r = await dive(1000000);
	printf("not reached: %d\n", r);
	return r;
corio_finally:
	failing = 0;
	cleaned++;
}

int main(void)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	struct corio_task *t;
	int r = 0, status = 0;

	corio_set_allocator(test_alloc, free);
	if (corio_loop_create(&loop, &opts) < 0)
		return 77;
	corio_spawn(loop, top__start(NULL, &r), &t);
	if (corio_loop_run(loop) < 0)
		return 3;
	corio_task_reap(t, &status);
	printf("status=%s\n", status == -ENOMEM ? "-ENOMEM" : "unexpected");
	printf("every started frame cleaned up: %s\n",
	       cleaned == started + 1 ? "yes" : "no");
	printf("several levels deep: %s\n", started > 10 ? "yes" : "no");
	return corio_loop_destroy(loop) == 0 ? 0 : 4;
}
