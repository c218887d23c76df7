#include <corio/await.h>

#define WAIT_TWICE(v) (await g(v) + await g(v))

async int g(int v);

async int f(void)
{
	return WAIT_TWICE(1); // expect-error: corio-await-in-macro
}
