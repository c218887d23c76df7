#include <corio/await.h>

typedef int plain_fn(int);
typedef async int async_fn(int);

async int f(plain_fn *p, async_fn *q)
{
	int a = await p(1);	// expect-error: corio-await-target
	int b = q(2);		// expect-error: corio-unawaited-call

	return a + b;
}
