#include <corio/await.h>

int plain(int v)
{
	corio_throw(-1); // expect-error: corio-throw-context
	return v + corio_frame_error(); // expect-error: corio-throw-context
}

async int f(int v)
{
	await corio_yield();
	return v > 0 ? (corio_throw(-1), 1) : 0; // expect-error: corio-throw-context
}
