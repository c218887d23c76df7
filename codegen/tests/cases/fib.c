/* Recursion: each level awaits two children; results flow up. */
#include <stdio.h>
#include <corio/await.h>

async int fib(int n);

async int fib(int n)
{
	if (n < 2)
		return n;
	return await fib(n - 1) + await fib(n - 2);
}

async int test_main(void)
{
	int total = 0;

	for (int i = 0; i < 15; i++) {
		int r = await fib(i);

		printf("fib(%d) = %d\n", i, r);
		total += r;
	}
	return total;
}
