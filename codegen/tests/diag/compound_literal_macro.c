#include <corio/await.h>

struct pt {
	int x, y;
};

#define PT(a, b) (&(struct pt){ a, b })

async int f(int v)
{
	struct pt *p = PT(v, 2);	// expect-error: corio-compound-literal

	await corio_yield();
	return p->y;
}
