/* Awaits where C evaluates lazily or in order: &&, ||, ?: and the comma. */
#include <stdio.h>
#include <corio/await.h>

static int calls;

async int id(int v)
{
	calls++;                /* counts which awaits really ran */
	await corio_yield();
	return v;
}

async void note(int v)
{
	await corio_yield();
	printf("note %d\n", v);
}

async int test_main(void)
{
	int a = 0, b, i;

	b = a && await id(1);                   /* right side skipped */
	printf("and-skip b=%d calls=%d\n", b, calls);
	b = (a + 1) && await id(5);
	printf("and-run b=%d calls=%d\n", b, calls);
	b = 1 || await id(2);                   /* right side skipped */
	printf("or-skip b=%d calls=%d\n", b, calls);
	b = await id(0) || await id(0) || await id(3);
	printf("or-chain b=%d calls=%d\n", b, calls);
	b = a ? await id(10) : await id(20);    /* one branch only */
	printf("cond b=%d calls=%d\n", b, calls);
	b = (await id(1) ? await id(2) ? 30 : 31 : 32) + 1;
	printf("nested cond b=%d calls=%d\n", b, calls);
	b = (a++, await id(a * 10));            /* left operand first */
	printf("comma b=%d a=%d calls=%d\n", b, a, calls);
	(void)(a && await id(99));              /* as a statement */
	a ? await note(1) : await note(2);      /* void ?: */
	if (a > 0 && await id(a) == 1 && !(await id(0) || 0))
		printf("if chain taken calls=%d\n", calls);
	i = 0;
	while (i < 5 && await id(i) != 3)
		i++;
	printf("while i=%d calls=%d\n", i, calls);
	for (i = 0; i < 4 || await id(0); i++)
		b += i > 2 ? await id(i) : i;
	printf("for b=%d calls=%d\n", b, calls);
	printf("args %d %d\n", a == 1 ? await id(7) : 0,
	       await id(a) && await id(8));
	return b + calls;
}
