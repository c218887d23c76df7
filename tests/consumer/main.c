/* SPDX-License-Identifier: MIT */
/* consumer - uses an installed corio: a task sleeps, main prints 'ok'. */
#include <stdio.h>

#include <corio.h>
#include <corio/async.h>

corio_async(int, nap, (), (int r;))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(1));
	corio_return(self->r + 1);
corio_finally:
	corio_end();
}

int main(void)
{
	struct corio_loop *loop;
	int r = 0, ret = corio_loop_create(&loop, NULL);

	if (ret < 0) {
		/* No io_uring here: linking and starting is what we test. */
		printf("ok (%s)\n", corio_loop_unavailable_reason());
		return 0;
	}
	corio_spawn(loop, nap__start(NULL, &r), NULL);
	ret = corio_loop_run(loop);
	corio_loop_destroy(loop);
	if (ret || r != 1)
		return 1;
	printf("ok %s\n", corio_version_string());
	return 0;
}
