#include <corio/await.h>

#define NEXT (count + 1)

async int f(void)
{
	int count = 1;

	await corio_yield();
	return NEXT; // expect-error: corio-macro-local
}
