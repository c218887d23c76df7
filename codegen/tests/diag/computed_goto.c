#include <corio/await.h>

async int f(int n)
{
	void *where = n ? &&one : &&two; // expect-error: corio-computed-goto

	goto *where; // expect-error: corio-computed-goto
one:
	await corio_yield();
two:
	return n;
}
