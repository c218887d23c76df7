#include <corio/await.h>

typedef async int not_a_function;	// expect-error: corio-async-type
typedef async int no_prototype();	// expect-error: corio-async-type
typedef async int (*varargs)(int, ...);	// expect-error: corio-variadic

async int f(void)
{
	await corio_yield();
	return 0;
}
