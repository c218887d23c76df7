/* Awaits in assorted expression positions; UTF-8 text; void returns. */
#include <stdio.h>
#include <corio/await.h>

struct pair {
	int a, b;
};

int g_val = 5;

async int id(int v)
{
	await corio_yield();
	return v;
}

async struct pair mk(int a)
{
	struct pair p = {a, a + 1};

	await corio_yield();
	return p;
}

async void nothing(void)
{
	await corio_yield();
}

async void ret_void(int v)
{
	if (v)
		return await nothing();
	printf("ret_void %d\n", v);
}

async int test_main(void)
{
	int arr[4] = {0};
	int s = 0;

	printf("héllo wörld %d\n", await id(1));        /* UTF-8 text */
	arr[await id(2)] = await id(7);
	s += -await id(3) + !await id(0);
	s += (long)await id(4);
	s += (await mk(10)).b;
	for (int i = await id(0), j = await id(2); i < j; i++)
		s += i;
	{
		int g_val = await id(100);	/* in the frame, beside the global */

		s += g_val;
	}
	s += g_val;
	await ret_void(0);
	await ret_void(1);
	switch (s) {
	case 0:
		break;
	default: {
		int q = await id(s);

		s = q + 1;
	}
	}
	printf("arr[2]=%d s=%d\n", arr[2], s);
	return s;
}
