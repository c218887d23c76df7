/*
 * Cancellation while suspended in a leaf: a second task cancels the first
 * while its innermost frame sleeps; every level's cleanup section runs,
 * innermost first, and the task ends with -ECANCELED.
 */
#include <errno.h>
#include <stdio.h>
#include <corio/await.h>

async int nap(void)
{
	int r = await corio_sleep(CORIO_SEC(10));

	printf("nap woke: %d (not expected)\n", r);
	return r;
corio_finally:
	printf("nap cleanup\n");
}

async int middle(void)
{
	int r = await nap();

	printf("middle after nap (not expected)\n");
	return r;
corio_finally:
	printf("middle cleanup\n");
}

async int top(void)
{
	int r = await middle();

	return r;
corio_finally:
	printf("top cleanup\n");
}

async int canceller(struct corio_task *victim)
{
	await corio_sleep(CORIO_MS(2));
	printf("cancelling\n");
	return corio_task_cancel(victim);
}

int main(void)
{
	struct corio_loop *loop;
	struct corio_task *victim, *killer;
	int r_victim = 0, r_killer = -1, s_victim = 0, s_killer = -1;

	if (corio_loop_create(&loop, NULL) < 0)
		return 77;
	corio_spawn(loop, top__start(NULL, &r_victim), &victim);
	corio_spawn(loop, canceller__start(NULL, victim, &r_killer), &killer);
	if (corio_loop_run(loop) < 0)
		return 3;
	corio_task_reap(victim, &s_victim);
	corio_task_reap(killer, &s_killer);
	printf("victim: status=%s\n",
	       s_victim == -ECANCELED ? "-ECANCELED" : "unexpected");
	printf("canceller: result=%d status=%d\n", r_killer, s_killer);
	return corio_loop_destroy(loop) == 0 ? 0 : 4;
}
