/* Generated code awaits functions written with the macro DSL. */
#include <stdio.h>
#include <corio/await.h>

/* Defined with corio_async() in harness/dsl_triple.c. */
async int triple(int v);

/* Also from dsl_triple.c, known here by its start function only: the
 * argument count tells that it has no result slot. */
void bump(int *counter);
#ifndef CORIO_SYNC_MODE
struct corio_frame *bump__start(struct corio_frame *parent, int *counter);
#endif

async int test_main(void)
{
	int x = await triple(4);
	int y = await triple(x) + await triple(1);
	int n = 0;

	await bump(&n);
	await bump(&n);
	printf("x=%d y=%d n=%d\n", x, y, n);
	return x + y + n;
}
