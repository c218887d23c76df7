/* SPDX-License-Identifier: MIT */
/*
 * Synchronous stand-ins for the runtime operations the oracle cases await:
 * a sleep or a yield changes nothing a single task can observe.
 */
#include <corio/await.h>

int corio_sleep(int64_t ns)
{
	(void)ns;
	return 0;
}

int corio_sleep_until(int64_t when)
{
	(void)when;
	return 0;
}

void corio_yield(void)
{
}

/* The macro DSL's triple() (dsl_triple.c), synchronously. */
int triple(int v);

int triple(int v)
{
	return v * 3;
}

/* The macro DSL's bump() (dsl_triple.c), synchronously. */
void bump(int *counter);

void bump(int *counter)
{
	(*counter)++;
}

/* Nothing fails in the synchronous build. */
int corio_frame_error(void)
{
	return 0;
}
