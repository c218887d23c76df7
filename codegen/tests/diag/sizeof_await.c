#include <corio/await.h>

async int g(int v);

async int f(void)
{
	return sizeof(await g(1)); // expect-error: corio-await-context
}
