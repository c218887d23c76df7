/* SPDX-License-Identifier: MIT */
/*
 * The macro-DSL half of bench_await.c: the same trivial child and awaiting
 * loop as bench/micro.c, for a side-by-side figure.
 */
#include <corio.h>
#include <corio/async.h>

corio_async_decl(void, dsl_awaiter, ((long, n)));

corio_async_static(int, dsl_trivial, ((int, x)), ())
{
	corio_begin();
	corio_return(self->x + 1);
corio_finally:
	corio_end();
}

corio_async(void, dsl_awaiter, ((long, n)), (
	long i;
	int acc;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_await(self->acc, dsl_trivial, self->acc);
corio_finally:
	corio_end();
}
