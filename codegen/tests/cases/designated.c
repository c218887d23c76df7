/* Designated and nested initialisers with awaits in any element. */
#include <stdio.h>
#include <corio/await.h>
struct pt { int x, y; };
struct box { struct pt a, b; int tag[3]; };
static async int f(int v) { await corio_yield(); return v + 1; }
async int test_main(void)
{
	int k = 2;
	struct pt p = { .y = await f(1) };
	int a[3] = { [1] = await f(2) };
	struct pt q[3] = { [1] = { .x = await f(3), .y = 4 }, { 5, await f(5) } };
	struct box b = { .b.y = await f(6), .tag = { [2] = await f(7), [0] = k ? await f(8) : 0 }, .a = { await f(9), 0 } };
	int s = 0;
	s = (struct pt){ .x = await f(10), .y = 1 }.x;
	printf("%d %d %d %d %d %d %d %d %d %d\n", p.x, p.y, a[1], q[1].x, q[2].y, b.b.y, b.tag[2], b.tag[0], b.a.x, s);
	return s;
}
