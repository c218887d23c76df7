#include <setjmp.h>
#include <corio/await.h>

async int f(void)
{
	jmp_buf env;

	if (setjmp(env)) // expect-error: corio-setjmp
		return 1;
	await corio_yield();
	return 0;
}
