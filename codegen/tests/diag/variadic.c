#include <corio/await.h>

async int f(int n, ...) // expect-error: corio-variadic
{
	await corio_yield();
	return n;
}
