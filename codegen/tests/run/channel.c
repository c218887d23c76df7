/*
 * Generated code with the runtime's synchronisation primitives: a
 * producer and a consumer on a rendezvous channel, and two tasks taking
 * turns on a mutex while they yield inside the critical section.
 */
#include <errno.h>
#include <stdio.h>
#include <corio/await.h>

static struct corio_chan chan;
static struct corio_mutex lock;
static int shared, inside;

async int producer(int count)
{
	for (int v = 1; v <= count; v++) {
		int ret = await corio_chan_send(&chan, &v);

		if (ret < 0)
			return ret;
	}
	return corio_chan_close(&chan);
}

async int consumer(void)
{
	int v, sum = 0, ret;

	while ((ret = await corio_chan_recv(&chan, &v)) == 0) {
		printf("got %d\n", v);
		sum += v;
	}
	printf("consumer done: %s, sum %d\n",
	       ret == -EPIPE ? "closed" : "error", sum);
	return sum;
}

async int bump(int times)
{
	for (int i = 0; i < times; i++) {
		if (await corio_mutex_lock(&lock) < 0)
			return -1;
		inside++;
		await corio_yield();    /* the other task must wait */
		if (inside != 1)
			printf("mutual exclusion broken\n");
		shared++;
		inside--;
		corio_mutex_unlock(&lock);
	}
	return 0;
}

int main(void)
{
	struct corio_loop *loop;
	struct corio_task *t[4];
	int r[4] = {0}, s[4] = {0};

	if (corio_loop_create(&loop, NULL) < 0)
		return 77;
	if (corio_chan_init(&chan, sizeof(int), 0, "numbers") < 0 ||
	    corio_mutex_init(&lock, "shared") < 0)
		return 3;
	corio_spawn(loop, consumer__start(NULL, &r[0]), &t[0]);
	corio_spawn(loop, producer__start(NULL, 5, &r[1]), &t[1]);
	corio_spawn(loop, bump__start(NULL, 50, &r[2]), &t[2]);
	corio_spawn(loop, bump__start(NULL, 50, &r[3]), &t[3]);
	if (corio_loop_run(loop) < 0)
		return 3;
	for (int i = 0; i < 4; i++)
		corio_task_reap(t[i], &s[i]);
	printf("sum=%d producer=%d shared=%d statuses=%d,%d,%d,%d\n", r[0],
	       r[1], shared, s[0], s[1], s[2], s[3]);
	corio_chan_destroy(&chan);
	corio_mutex_destroy(&lock);
	return corio_loop_destroy(loop) == 0 ? 0 : 4;
}
