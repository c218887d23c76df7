/* Compound literals whose address outlives an await live in the frame. */
#include <stdio.h>
#include <corio/await.h>
struct pt { int x, y; };
static async int f(int v) { await corio_yield(); return v + 1; }
static int sum(const int *v, int n) { int s = 0; while (n--) s += v[n]; return s; }
async int test_main(void)
{
	int k = 3;
	int *c = (int[]){ 10, 20, k };
	struct pt *pp = &(struct pt){ 1, await f(1) };
	int s = await f(0);
	const int *row = 0;
	struct pt v = (struct pt){ 5, 6 };
	for (int i = 0; i < 3; i++) {
		row = (const int[]){ i, i * 2, i * 3 };
		s += await f(row[1]) + (&(struct pt){ i, i }.y)[0];
		s += row[2] + sum((int[]){ i, await f(i) }, 2);
	}
	{
		int *q = (int[2]){ 7, 8 };	/* no await in this block */
		s += q[1];
	}
	s += c[1] + c[2] + pp->y + v.y;
	printf("%d\n", s);
	return s;
}
