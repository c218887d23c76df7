#include <corio/await.h>

#define CHECK(x) do { if (!(x)) return -1; } while (0)
#define EACH(i) for (i = 0; i < 3; i++)
#define NEXT_IF(c) if (c) continue

async int id(int v);

async int f(void)
{
	int i = 0, s = 0;

	CHECK(i == 0); // expect-error: corio-macro-control
	EACH(i) { // expect-error: corio-macro-control
		s += await id(i);
	}
	for (i = 0; i < 3; i += await id(1)) {
		NEXT_IF(i == 1); // expect-error: corio-macro-control
		s++;
	}
	return s;
}
