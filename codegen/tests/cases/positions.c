/* await in every expression position the generator supports. */
#include <stdio.h>
#include <corio/await.h>

async int id(int v)
{
	await corio_sleep(0);
	return v;
}

async void say(const char *what, int v)
{
	await corio_yield();
	printf("%s %d\n", what, v);
}

static int plus(int a, int b)
{
	return a + b;
}

async int test_main(void)
{
	int x = await id(1);                    /* initialiser */
	int y;

	y = await id(2);                        /* assignment */
	x += await id(3) * await id(4);         /* arithmetic */
	printf("x=%d y=%d\n", x, y);
	printf("call=%d\n", plus(await id(5), await id(6)));    /* arguments */
	await say("void", await id(7));         /* nested await */
	if (await id(0))                        /* if condition */
		printf("not reached\n");
	else if (await id(1) == 1)
		printf("else-if taken\n");
	switch (await id(2)) {                  /* switch condition */
	case 1:
		printf("case 1\n");
		break;
	case 2:
		printf("case 2\n");
		/* fall through */
	default:
		printf("default\n");
	}
	y = await id(1) ? 10 : 20;              /* await in the condition */
	x = (await id(1) > 0) && y > 5;         /* await in the left operand */
	printf("y=%d x=%d\n", y, x);
	(void)await id(99);
	return await id(x) + y;                 /* return */
}
