/* Typed results: structs, pointers, floating point, function pointers. */
#include <stdio.h>
#include <corio/await.h>

struct point {
	int x, y;
};

typedef int (*unary)(int);

static int negate(int v)
{
	return -v;
}

static async struct point make_point(int x, int y)
{
	struct point p = {x, y};

	await corio_yield();
	return p;
}

static async const char *name_of(int v)
{
	static const char *const names[] = {"zero", "one", "two"};

	await corio_yield();
	return v >= 0 && v < 3 ? names[v] : "many";
}

static async double half(int v)
{
	await corio_yield();
	return v / 2.0;
}

static async unary pick(void)
{
	await corio_yield();
	return negate;
}

static async void scale(struct point *p, int by)
{
	await corio_yield();
	p->x *= by;
	p->y *= by;
}

async int test_main(void)
{
	struct point p = await make_point(3, 4);
	unary f = await pick();

	await scale(&p, 2);
	printf("p=(%d,%d) %s %s %.1f f=%d\n", p.x, p.y, await name_of(1),
	       await name_of(7), await half(p.x), f(p.y));
	return (await make_point(p.y, 0)).x + f(1);
}
