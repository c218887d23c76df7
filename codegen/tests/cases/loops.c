/* Awaits in loop conditions and increments, with break and continue. */
#include <stdio.h>
#include <corio/await.h>

async int id(int v)
{
	await corio_yield();
	return v;
}

async int test_main(void)
{
	int i = 0, n = 0, j;

	while (await id(i) < 10) {              /* while condition */
		i++;
		if (i == 3)
			continue;
		if (i == 8)
			break;
		n += i;
	}
	printf("while: i=%d n=%d\n", i, n);
	for (i = await id(0); i < await id(6); i += await id(2)) {
		if (i == 2)
			continue;               /* must still run the increment */
		n += i;
	}
	printf("for: i=%d n=%d\n", i, n);
	i = 0;
	do {
		i++;
		if (i == 2)
			continue;               /* must evaluate the condition */
		n -= i;
	} while (await id(i) < 5);
	printf("do: i=%d n=%d\n", i, n);
	for (i = 0; i < 3; i++) {               /* nested loops */
		for (j = 0; j < 3; j++) {
			if (j == i)
				continue;
			n += await id(i * j);
			if (n > 1000)
				break;
		}
	}
	printf("nested: n=%d\n", n);
	for (;;) {
		if (await id(n) > 0)
			break;
	}
	return n;
}
