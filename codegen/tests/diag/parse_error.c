#include <corio/await.h>

async int f(void)
{
	int x = undeclared_thing; // expect-error: corio-parse

	await corio_yield();
	return x;
}
