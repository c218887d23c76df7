#include <alloca.h>
#include <corio/await.h>

async int f(int n)
{
	char *p = alloca(n); // expect-error: corio-alloca

	await corio_yield();
	return p[0];
}
