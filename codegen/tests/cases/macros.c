/* Frame variables passed through function-like macros. */
#include <assert.h>
#include <stdio.h>
#include <corio/await.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define SQUARE(v) ((v) * (v))

async int id(int v)
{
	await corio_yield();
	return v;
}

async int test_main(void)
{
	int a = await id(3), b = await id(7);
	int m = MAX(a, b);

	assert(m == 7);
	b = await id(b + 1);
	m = SQUARE(MAX(a, b)) + SQUARE(a);
	printf("m=%d\n", m);
	return m;
}
