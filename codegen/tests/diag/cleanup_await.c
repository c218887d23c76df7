#include <corio/await.h>

async int f(void)
{
	await corio_yield();
	return 1;
corio_finally:
	await corio_yield(); // expect-error: corio-cleanup
}
