#include <corio/await.h>

#define DECL(n) int n = 5

async int f(void)
{
	DECL(z); // expect-error: corio-macro-local

	await corio_yield();
	return z;
}
