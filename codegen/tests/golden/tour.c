/* A tour of the lowering; the golden output is reviewed by hand. */
#include <errno.h>
#include <stdio.h>
#include <corio/await.h>

struct point {
	int x, y;
};

async int step(int v);
static async void note(const char *what);

async int step(int v)
{
	await corio_yield();
	if (v < 0)
		corio_throw(-EINVAL);
	return v + 1;
}

static async void note(const char *what)
{
	await corio_sleep(0);
	puts(what);
}

async long tour(int n, const int weights[4], int (*pick)(int))
{
	struct point p = {1, 2};
	char tag[8] = "tour";
	long total = 0;
	int i = 0;

	while (await step(i) < n) {
		i++;
		if (i % 2)
			continue;
		total += weights[i % 4];
	}
	for (int j = 0; j < n; j += await step(1))
		total += pick(j);
	do {
		p.x += await step(p.y);
	} while (await step(p.x) < 10);
	switch (await step(n)) {
	case 1:
		await note(tag);
		break;
	default:
		total -= await step(-1);
	}
	if (n > 0 && await step(n) > 2)         /* only awaited when n > 0 */
		total++;
	return total + p.x;
corio_finally:
	printf("%s done\n", tag);
}
