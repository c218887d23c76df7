#include <corio/await.h>

async int f(void)
{
	await corio_yield();
	return 1;
corio_finally:
	return 2; // expect-error: corio-cleanup
}
