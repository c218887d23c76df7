#include <corio/await.h>

int odd(int v);
struct corio_frame *odd__start(struct corio_frame *parent, int a, int b,
			       int *result);

async int f(void)
{
	return await odd(1); // expect-error: corio-await-target
}
