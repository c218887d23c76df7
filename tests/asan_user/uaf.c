/* SPDX-License-Identifier: MIT */
/*
 * tests/asan_user/uaf.c - a user program with a bug corio's frame cache
 * would hide: it keeps a pointer to a frame and reads it after the task
 * has finished.  Built with -fsanitize=address against a libcorio built
 * without, it must be reported (tests/check_asan_user.sh).
 */
#include <stdio.h>

#include <corio.h>
#include <corio/async.h>

static struct corio_frame *kept;	/* the bug: outlives the frame */

corio_async(int, work, (), (
	int r;
))
{
	corio_begin();
	kept = &self->hdr;
	corio_await(self->r, corio_sleep, CORIO_US(10));
	corio_return(1);
corio_finally:
	corio_end();
}

int main(void)
{
	struct corio_loop *loop;
	int result = 0, ret;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "corio_loop_create: %s\n", corio_strerror(ret));
		return 2;
	}
	corio_spawn(loop, work__start(NULL, &result), NULL);
	if (corio_loop_run(loop) < 0 || result != 1)
		return 2;
	/* The frame was released when the task finished. */
	printf("line %u\n", kept->line);
	return corio_loop_destroy(loop) ? 2 : 0;
}
