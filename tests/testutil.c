/* SPDX-License-Identifier: MIT */
/*
 * tests/testutil.c - async helpers shared by the Criterion tests.
 */
#include "testutil.h"

#include <corio/async.h>

/* Yield once (so @victim reaches its await), cancel it, join it. */
corio_async(int, t_cancel_and_join, ((struct corio_task *, victim)), (
	int status;
))
{
	corio_begin();
	corio_yield();
	corio_task_cancel(self->victim);
	corio_await(self->status, corio_join, self->victim);
	corio_return(self->status);
corio_finally:
	corio_end();
}
