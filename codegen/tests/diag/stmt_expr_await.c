#include <corio/await.h>

async int g(int v);

async int f(void)
{
	int x = ({ int t = await g(1); t; }); // expect-error: corio-await-context

	return x;
}
