#include <corio/await.h>

async int g(int v);

async int f(int v)
{
	int a = v ?: await g(v); // expect-error: corio-await-context
	int b = _Generic(v, int: 1, default: await g(2)); // expect-error: corio-await-context

	return a + b;
}
