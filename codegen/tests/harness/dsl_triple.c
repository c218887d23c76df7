/* SPDX-License-Identifier: MIT */
/*
 * An async function written with the macro DSL, linked into every oracle
 * case: generated code awaits it like any other async function.
 */
#include <corio.h>
#include <corio/async.h>

corio_async(int, triple, ((int, v)), (
	int unused;
))
{
	corio_begin();
	corio_yield();
	corio_return(self->v * 3);
corio_finally:
	corio_end();
}

/* A void DSL function whose last parameter is a pointer: awaited by a
 * case that only sees its start function. */
corio_async(void, bump, ((int *, counter)), ())
{
	corio_begin();
	corio_yield();
	(*self->counter)++;
corio_finally:
	corio_end();
}
