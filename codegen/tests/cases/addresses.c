/*
 * The address of a frame local next to a write of the same local in one
 * expression, unsequenced: defined C (taking an address reads no value),
 * and no compiler warns about it for a C local.  Reduced from Csmith seeds
 * 125, 173 (with const) and 38 (without), where gcc's -Wsequence-point
 * took `&corio_self->x` for a read of the field.
 */
#include <stdio.h>
#include <corio/await.h>

struct pair {
	int a, b;
};

static int peek(const int *p, int v)
{
	return *p * 10 + v;
}

static int peek_pair(const struct pair *p, int v)
{
	return p->a * 100 + p->b * 10 + v;
}

#define PEEK(p, v) peek(p, v)

async int apeek(const int *p, const int *q, int v)
{
	await corio_yield();
	return *p * 100 + *q * 10 + v;
}

async int param(int p)
{
	await corio_yield();            /* p lives in the frame */
	return peek(&p, p = 3);
}

async int test_main(void)
{
	int x = 1, r;
	struct pair pr = { 1, 2 }, other = { 3, 4 };

	await corio_yield();            /* x, pr and r live in the frame */
	r = peek(&x, x = 7);
	printf("call r=%d x=%d\n", r, x);
	r = await apeek(&x, &x, (x = 8));
	printf("await r=%d x=%d\n", r, x);
	r = peek(&(x), (x = 9) + 1);
	r += peek(& x, x++);
	printf("parens r=%d x=%d\n", r, x);
	r = PEEK(&x, x = 2);
	printf("macro r=%d x=%d\n", r, x);
	r = peek_pair(&pr, (pr = other).a);
	printf("struct r=%d pr=%d,%d\n", r, pr.a, pr.b);
	r += await param(5);
	printf("param r=%d\n", r);
	return r;
}
