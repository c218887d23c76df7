#include <corio/await.h>

async int g(void);

int f(void)
{
	return await g(); // expect-error: corio-await-outside
}
