/* Awaits inside user switch bodies, after goto labels, in void helpers. */
#include <stdio.h>
#include <corio/await.h>

async int id(int v)
{
	await corio_yield();
	return v;
}

async void count(int *counter, int by)
{
	await corio_yield();
	*counter += by;
}

async int classify(int v)
{
	int r = 0;

	switch (v % 4) {
	case 0:
		r = await id(100);
		break;
	case 1: {
		int k = await id(v);

		r = k * 2;
		break;
	}
	case 2:
		for (int i = 0; i < v; i++)
			r += await id(i);
		/* fall through */
	default:
		r += await id(1);
	}
	return r;
}

async int test_main(void)
{
	int tries = 0, total = 0;

again:
	tries += await id(1);
	if (tries < 3)
		goto again;
	for (int v = 0; v < 8; v++)
		total += await classify(v);
	await count(&total, 1000);
	printf("tries=%d total=%d\n", tries, total);
	return total;
}
