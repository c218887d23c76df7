/* Locals whose type is spelled with a macro, typeof or __auto_type, and
 * __func__ inside an async function. */
#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <corio/await.h>

#define U32 unsigned
#define ALIGNED(n) __attribute__((aligned(n)))
#define WHERE() printf("in %s/%s\n", __func__, __PRETTY_FUNCTION__)

struct pt {
	int x, y;
};

static async int twice(int v)
{
	await corio_yield();
	WHERE();
	return 2 * v;
}

async int test_main(void)
{
	bool ok = true;
	U32 u = 7;
	alignas(16) char buf[16] = "hi";
	ALIGNED(8) int word = 3;
	_Alignas(double) char small[3] = "ab";
	static_assert(sizeof(U32) == 4, "U32");
	struct pt p = { 1, 2 };
	__typeof__(u) v = u + 1;
	__typeof__(p) *pp = &p;
	typeof(buf) copy;
	__auto_type w = v * 2;
	__auto_type q = &p;
	int s = await twice((int)v);

	__builtin_memcpy(copy, buf, sizeof copy);
	assert(s == 16);
	if (ok)
		s += (int)(u + w) + copy[0] + pp->y + q->x + word + small[1];
	printf("%d %d %d %s %zu\n", s, (int)((uintptr_t)buf % 16),
	       (int)((uintptr_t)&word % 8), __func__, sizeof __func__);
	WHERE();
	return s;
}
