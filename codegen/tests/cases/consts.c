/* const wherever C allows it: members, whole objects, typedefs, results. */
#pragma GCC diagnostic ignored "-Wignored-qualifiers"
#include <stdio.h>
#include <corio/await.h>

struct rec {
	int a;
	const int id;
};

struct outer {
	struct rec inner[2];
	const char *const tag;
};

typedef const int cint;
typedef const struct rec crec;

static async const int bump(int v)
{
	await corio_yield();
	return v + 1;
}

static async struct rec make(int a, int id)
{
	struct rec r = { a, id };

	await corio_yield();
	return r;
}

static async crec make_const(int a)
{
	await corio_yield();
	return (struct rec){ a, a * 10 };
}

static async int sum(struct rec r, const struct outer o, cint k)
{
	await corio_yield();
	return r.a + r.id + o.inner[1].id + k;
}

async int test_main(void)
{
	struct rec r = { 1, 2 };
	const struct rec cr = { 3, 4 };
	struct outer o = { { { 5, 6 }, { 7, 8 } }, "outer" };
	struct rec many[2] = { { 9, 10 }, { 11, 12 } };
	cint k = await bump(40);
	const int j = await bump(k);
	struct rec m = await make(13, 14);
	crec c = await make_const(15);
	struct rec pick = j > 0 ? await make(16, 17) : r;
	int s = await sum(r, o, k);

	printf("%d %d %s %d %d %d %d %d %d %d %d\n", cr.id, o.inner[0].id, o.tag,
	       many[1].id, k, j, m.id, c.id, pick.id, s, await bump(r.id));
	return s + cr.a;
}
