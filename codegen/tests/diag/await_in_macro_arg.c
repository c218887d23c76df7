#include <corio/await.h>

#define TWICE(v) ((v) * 2)

async int g(int v);

async int f(void)
{
	return TWICE(await g(1)); // expect-error: corio-await-in-macro
}
