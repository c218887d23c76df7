/* SPDX-License-Identifier: MIT */
/*
 * The differential oracle's side: the same test case compiled with
 * CORIO_SYNC_MODE (await is a plain call), run synchronously, printing what
 * async_main.c prints for a task that finished normally.
 */
#include <stdio.h>

int test_main(void);

int main(void)
{
	int result = test_main();

	printf("result=%d status=0\n", result);
	return 0;
}
