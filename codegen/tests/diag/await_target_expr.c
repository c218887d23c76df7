#include <corio/await.h>

struct pair {
	int a, b;
};

async struct pair g(void);

async int f(int v)
{
	int x = await v; // expect-error: corio-await-target
	int y = await g().a; // expect-error: corio-await-target

	return x + y;
}
