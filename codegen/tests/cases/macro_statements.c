/* Statements written as macros are copied as the macro call. */
#include <stdio.h>
#include <corio/await.h>

#define SWAP(a, b) do { int t_ = (a); (a) = (b); (b) = t_; } while (0)
#define TWO(x) x++; x++
#define FOREACH(i, n) for ((i) = 0; (i) < (n); (i)++)
#define LOG(x) do { printf("log %d\n", (x)); } while (0)

async int id(int v)
{
	await corio_yield();
	return v;
}

async int test_main(void)
{
	int a = 1, b = 2, i, s = 0;

	SWAP(a, b);             /* its own local stays a C local */
	a = await id(a);
	TWO(s);                 /* two statements, copied once */
	FOREACH(i, 3) {         /* a loop macro around code without awaits */
		s += i;
		LOG(s);
	}
	for (i = 0; i < 3; i++) {
		if (i == 1)
			continue;
		LOG(i);
		s += await id(i);
	}
	printf("a=%d b=%d s=%d\n", a, b, s);
	return s;
}
