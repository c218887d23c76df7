/* Frame layout by liveness: locals of blocks never active together share
 * storage, locals no suspension can reach stay on the C stack, and every
 * value survives the awaits inside its own scope. */
#include <stdio.h>
#include <string.h>
#include <corio/await.h>

struct big {
	char bytes[65536];
};

static async int id(int v)
{
	await corio_yield();
	return v;
}

static int fill(char *p, int n, int v)
{
	memset(p, v, (size_t)n);
	return p[n - 1];
}

static async int branches(int which)
{
	int r;

	if (which) {
		char a[65536];

		fill(a, sizeof a, 1);
		r = await id(a[100]);
		r += a[65535];
	} else {
		struct big b;

		fill(b.bytes, sizeof b.bytes, 2);
		r = await id(b.bytes[7]);
		r += b.bytes[65535];
	}
	return r;
}

static async int loops(int n)
{
	int total = 0;

	for (int i = 0; i < n; i++)
		total += await id(i);
	for (int j = 0; j < n; j++) {
		int k = j * 2, *pk = &k;	/* address taken, in the frame */

		total += await id(*pk);
	}
	for (int i = 0; i < n; i++) {
		int sq = i * i, *p = &sq;	/* no await in scope: C stack */

		total += *p;
	}
	{
		long x = 40;

		x += await id(2);
		{
			char tmp[16] = "inner";

			total += (int)x + await id((int)strlen(tmp));
		}
		{
			double d = 1.5;

			total += (int)(d * 2) + await id((int)x);
		}
	}
	return total;
}

static async int jumps(int n)
{
	int out = 0;

	goto second;
first:
	{
		int a = n;

		out += await id(a);
		goto done;
	}
second:
	{
		int b = n * 10;

		out += await id(b);
		if (out < 100)
			goto first;
	}
done:
	switch (n) {
	case 1: {
		int c = await id(3);

		out += c;
		break;
	}
	default: {
		int d = await id(4);

		out += d;
		break;
	}
	}
	return out;
}

static async int outer_reads(int v)
{
	int seen = v;
	char label[8] = "done";

	{
		int tmp = await id(v + 1);

		seen += tmp;
	}
	printf("outer_reads: %s %d\n", label, seen);
	return seen;
}

/* x is declared after an await, but a goto back before that await and on
 * past the declaration still finds x's value: C keeps it for the whole
 * block, so the frame must too. */
static async int revisit(int n)
{
	int y = 0;

again:
	y += await id(1);
	if (y > 1)
		goto use;
	int x = 10 + n;
use:
	y += x;
	if (y < 40)
		goto again;
	return y;
}

/* Locals of the outermost block after the last await stay C locals. */
static async int tail_locals(int n)
{
	int got = await id(n);
	int twice = got * 2, *p = &twice;

	return *p + 1;
}

async int test_main(void)
{
	int s = await branches(1) + await branches(0);

	s += await loops(5);
	s += await jumps(1) + await jumps(7);
	s += await outer_reads(20);
	s += await revisit(3) + await tail_locals(4);
	printf("s=%d\n", s);
	return s;
}
