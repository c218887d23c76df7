#include <corio/await.h>

async int f(void)
{
	struct local { int a; } s = {1}; // expect-error: corio-local-type

	await corio_yield();
	return s.a;
}
