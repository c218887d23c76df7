#include <corio/await.h>

async int f(int n)
{
	int buf[n]; // expect-error: corio-vla

	buf[0] = 1;
	await corio_yield();
	return buf[0];
}
