#include <corio/await.h>

int plain(int v);

async int f(void)
{
	int x = await plain(1); // expect-error: corio-await-target

	return x;
}
