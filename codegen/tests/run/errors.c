/*
 * Error propagation through three levels: the leaf throws, every level's
 * cleanup section runs innermost first, and the error becomes the task's
 * status.  A second task shows the same functions finishing normally.
 */
#include <errno.h>
#include <stdio.h>
#include <corio/await.h>

async int leaf(int fail)
{
	await corio_yield();
	if (fail)
		corio_throw(-EIO);
	return 7;
corio_finally:
	printf("leaf cleanup (fail=%d, error %d)\n", fail, corio_frame_error());
}

async int middle(int fail)
{
	int v = await leaf(fail);

	printf("middle got %d\n", v);
	return v + 1;
corio_finally:
	printf("middle cleanup%s\n", corio_frame_error() == -EIO ?
	       ", unwinding -EIO" : "");
}

async int top(int fail)
{
	char *buf = NULL;
	int v;

	buf = (char *)1;        /* stands for an owned resource */
	v = await middle(fail);
	printf("top got %d\n", v);
	return v * 10;
corio_finally:
	printf("top cleanup, releasing %s\n", buf ? "buf" : "nothing");
}

int main(void)
{
	struct corio_loop *loop;
	struct corio_task *ok, *bad;
	int r_ok = 0, r_bad = 0, s_ok = 1, s_bad = 1;

	if (corio_loop_create(&loop, NULL) < 0)
		return 77;
	corio_spawn(loop, top__start(NULL, 0, &r_ok), &ok);
	if (corio_loop_run(loop) < 0)
		return 3;
	corio_spawn(loop, top__start(NULL, 1, &r_bad), &bad);
	if (corio_loop_run(loop) < 0)
		return 3;
	corio_task_reap(ok, &s_ok);
	corio_task_reap(bad, &s_bad);
	printf("ok: result=%d status=%d\n", r_ok, s_ok);
	printf("bad: result=%d status=%s\n", r_bad,
	       s_bad == -EIO ? "-EIO" : "unexpected");
	return corio_loop_destroy(loop) == 0 ? 0 : 4;
}
