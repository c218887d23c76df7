/* SPDX-License-Identifier: MIT */
/*
 * deadlock - two tasks that deadlock through a mutex and a join, and the
 * report corio gives instead of hanging.
 *
 * "writer" locks the journal, then waits for "flusher" to finish; the
 * flusher needs the journal lock to flush.  The flusher's lock would close
 * the cycle, so it fails with -EDEADLK at once and the loop keeps the
 * report.  Then two tasks wait on channels nobody will ever send on: a
 * global deadlock, which makes the loop return -EDEADLK.
 *
 * Usage: deadlock [--dot]   (--dot: print the graphs in Graphviz format)
 * Exit status 1 after printing the reports (a deadlock is a bug).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <corio.h>
#include <corio/async.h>

static struct corio_mutex journal;
static struct corio_task *flusher;

corio_async(int, flush, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &journal);
	if (self->r == 0)
		corio_mutex_unlock(&journal);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, write_entry, (), (
	int r, status;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, &journal);
	/* Wait for the flush while holding the lock it needs. */
	corio_await(self->status, corio_join, flusher);
	corio_mutex_unlock(&journal);
	corio_return(self->status);
corio_finally:
	corio_end();
}

static struct corio_chan requests, replies;

corio_async(int, client, (), (
	int v, r;
))
{
	corio_begin();
	/* Waits for a reply before sending its request. */
	corio_await(self->r, corio_chan_recv, &replies, &self->v);
	corio_await(self->r, corio_chan_send, &requests, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, server, (), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, &requests, &self->v);
	corio_await(self->r, corio_chan_send, &replies, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void show(struct corio_loop *loop, int dot)
{
	const struct corio_deadlock_report *r = corio_loop_deadlock(loop);
	char text[4096];

	corio_deadlock_format(r, text, sizeof(text));
	fputs(text, stdout);
	if (dot)
		corio_deadlock_write_dot(r, stdout);
}

int main(int argc, char **argv)
{
	struct corio_task *writer, *c, *s;
	struct corio_loop *loop;
	int dot = argc > 1 && !strcmp(argv[1], "--dot");
	int wr = 0, fr = 0, ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "deadlock: %s\n",
			corio_loop_unavailable_reason());
		return 2;
	}
	corio_mutex_init(&journal, "journal");
	corio_spawn(loop, write_entry__start(NULL, &wr), &writer);
	corio_spawn(loop, flush__start(NULL, &fr), &flusher);
	corio_task_set_name(writer, "writer");
	corio_task_set_name(flusher, "flusher");
	ret = corio_loop_run(loop);
	printf("== 1. mutex + join: run returned %d, flusher's lock %s\n",
	       ret, corio_strerror(fr));
	show(loop, dot);
	corio_task_reap(writer, &ret);

	corio_chan_init(&requests, sizeof(int), 0, "requests");
	corio_chan_init(&replies, sizeof(int), 0, "replies");
	corio_spawn(loop, client__start(NULL, NULL), &c);
	corio_spawn(loop, server__start(NULL, NULL), &s);
	ret = corio_loop_run(loop);
	printf("\n== 2. channels: run returned %s\n", corio_strerror(ret));
	show(loop, dot);

	/* Clean up: cancel the stuck tasks, let them unwind, release all. */
	corio_task_cancel(c);
	corio_task_cancel(s);
	corio_loop_run(loop);
	corio_task_reap(c, &ret);
	corio_task_reap(s, &ret);
	corio_chan_destroy(&requests);
	corio_chan_destroy(&replies);
	corio_mutex_destroy(&journal);
	corio_loop_destroy(loop);
	return 1;
}
