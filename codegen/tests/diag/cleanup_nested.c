#include <corio/await.h>

async int f(int v)
{
	if (v) {
corio_finally: // expect-error: corio-cleanup
		;
	}
	await corio_yield();
	return v;
}
