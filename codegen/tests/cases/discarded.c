/* Awaits whose value is discarded (comma operands, for clauses) leave
 * no statement without effect behind: no warning the source lacks. */
#include <stdio.h>
#include <corio/await.h>
static async int f(int v) { await corio_yield(); return v + 1; }
static async void g(void) { await corio_yield(); }
async int test_main(void)
{
	int i, j = 0, s = 0;
	for (i = 0; i < 3; i++, await f(i))
		s += i;
	for (i = 0; i < 3; await g(), i++)
		s += i;
	s = (await f(1), 5);
	(await g(), s++);
	j = (s++, await f(j));
	printf("%d %d %s\n", s, j, __func__);
	return s;
}
