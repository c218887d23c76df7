/* Locals of every shape live in the frame and survive suspensions. */
#include <stdio.h>
#include <string.h>
#include <corio/await.h>

struct point {
	int x, y;
};

typedef int (*binop)(int, int);

static int add(int a, int b)
{
	return a + b;
}

static int mul(int a, int b)
{
	return a * b;
}

async int twice(int v)
{
	await corio_yield();
	return v * 2;
}

async int fill(int *slot, int v)
{
	await corio_yield();
	*slot = v;
	return 0;
}

async int test_main(void)
{
	int a = 1, *pa = &a, arr[4] = {1, 2, 3, 4};
	const int limit = 3;
	char name[16] = "corio";
	struct point p = {3, 4};
	struct point *pp = &p;
	binop ops[2] = {add, mul};
	binop op = ops[1];
	int sum = 0;
	int i;

	/* Address-taken local written by a child after a suspension. */
	await fill(&a, 41);
	printf("a=%d via pointer=%d\n", a, *pa);
	for (i = 0; i < 4; i++)
		arr[i] = await twice(arr[i]);
	for (i = 0; i < 4; i++)
		sum += arr[i];
	printf("sum=%d limit=%d name=%s len=%zu\n", sum, limit, name,
	       strlen(name));
	p.x = await twice(p.x);
	printf("p=(%d,%d) pp->y=%d op=%d\n", p.x, pp->y, op(p.x, pp->y),
	       ops[0](1, 2));
	{
		int sum = 100;          /* shadows the outer sum */

		sum += await twice(5);
		{
			int sum = -1;   /* and again */

			sum -= await twice(1);
			printf("inner sum=%d\n", sum);
		}
		printf("middle sum=%d\n", sum);
	}
	printf("outer sum=%d\n", sum);
	return sum + a;
}
