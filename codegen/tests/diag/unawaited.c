#include <corio/await.h>

async int g(int v);

async int f(void)
{
	int x = g(1); // expect-error: corio-unawaited-call

	await corio_yield();
	return x;
}

int h(void)
{
	return g(2); // expect-error: corio-unawaited-call
}
