/* SPDX-License-Identifier: MIT */
/*
 * sleep_sort - sorts integers by sleeping on them: one task per number
 * sleeps until a common start time plus number * 10 ms, then appends its
 * number to the output.
 *
 *	sleep_sort [N...]	(no arguments: a built-in list)
 *
 * Equal numbers get exactly the same deadline, so they come out in input
 * order only because corio fires timers with equal deadlines in the order
 * they were armed.  The program checks that the output is sorted and that
 * equal numbers kept their order, and fails if not.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <corio.h>
#include <corio/async.h>

/* Sleep per unit of value. */
#define STEP CORIO_MS(10)

/* Largest max - min accepted: at most 10 s of sleeping. */
#define MAX_SPAN 1000

/*
 * Head start before the smallest number wakes.  Every task must have armed
 * its timer before the first one fires: tasks start in batches, and a
 * number armed after a larger one already fired would come out too late.
 */
#define LEAD CORIO_MS(50)

/* One input number and where it stood, to check that the sort is stable. */
struct entry {
	long value;
	int index;
};

/* Shared by all sleepers; lives in main. */
struct sorter {
	struct entry *out;	/* numbers in wake-up order */
	int n;			/* entries in @out so far */
	int64_t start;		/* when the smallest number wakes */
	long min;		/* smallest input number */
};

corio_async_static(int, sleeper, ((struct sorter *, s), (struct entry, e)), (
	int slept;
))
{
	corio_begin();
	/* An absolute deadline, so equal numbers really tie. */
	corio_await(self->slept, corio_sleep_until,
		    self->s->start + (self->e.value - self->s->min) * STEP);
	if (self->slept < 0)
		corio_return(self->slept);
	self->s->out[self->s->n++] = self->e;
	corio_return(0);
corio_finally:
	corio_end();
}

static const long builtin[] = { 5, 3, 9, 1, 3, 0, 7, 2, 8, 3, 6, 4, 1, 0 };

static int parse(int argc, char **argv, struct entry *in)
{
	int i;

	for (i = 0; i < argc; i++) {
		char *end;

		errno = 0;
		in[i].value = strtol(argv[i], &end, 10);
		in[i].index = i;
		if (errno || end == argv[i] || *end) {
			fprintf(stderr, "sleep_sort: not an integer: '%s'\n",
				argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* Sorted, and equal values in input order? */
static bool sorted_stably(const struct entry *out, int n)
{
	int i;

	for (i = 1; i < n; i++) {
		if (out[i - 1].value > out[i].value)
			return false;
		if (out[i - 1].value == out[i].value &&
		    out[i - 1].index > out[i].index)
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct sorter s = { 0 };
	struct corio_loop *loop;
	struct corio_task *t;
	struct entry *in;
	long max;
	int i, n, ret, status = 1;

	n = argc > 1 ? argc - 1 : (int)(sizeof(builtin) / sizeof(builtin[0]));
	in = calloc((size_t)n, sizeof(*in));
	s.out = calloc((size_t)n, sizeof(*s.out));
	if (!in || !s.out) {
		fprintf(stderr, "sleep_sort: out of memory\n");
		goto out_free;
	}
	if (argc > 1) {
		if (parse(argc - 1, argv + 1, in) < 0)
			goto out_free;
	} else {
		for (i = 0; i < n; i++)
			in[i] = (struct entry){ builtin[i], i };
	}
	s.min = max = in[0].value;
	for (i = 1; i < n; i++) {
		if (in[i].value < s.min)
			s.min = in[i].value;
		if (in[i].value > max)
			max = in[i].value;
	}
	/* Compared as doubles: max - min may not fit in a long. */
	if ((double)max - (double)s.min > MAX_SPAN) {
		fprintf(stderr, "sleep_sort: the numbers span more than %d "
			"(%d s of sleeping)\n", MAX_SPAN, MAX_SPAN / 100);
		goto out_free;
	}

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "sleep_sort: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		goto out_free;
	}
	s.start = corio_now() + LEAD;
	/* Spawned in input order: that is the order equal deadlines fire. */
	for (i = 0; i < n; i++) {
		ret = corio_spawn(loop, sleeper__start(NULL, &s, in[i], NULL),
				  &t);
		if (ret < 0) {
			fprintf(stderr, "sleep_sort: spawn: %s\n",
				corio_strerror(ret));
			break;
		}
		/* Nobody joins a sleeper: it is released when it ends. */
		corio_task_detach(t);
	}
	/* Even after a failed spawn, the loop must run the tasks it has
	 * before it can be destroyed. */
	ret = corio_loop_run(loop);
	if (ret < 0)
		fprintf(stderr, "sleep_sort: loop: %s\n", corio_strerror(ret));
	for (i = 0; i < s.n; i++)
		printf("%s%ld", i ? " " : "", s.out[i].value);
	printf("\n");
	if (ret == 0 && s.n != n)
		fprintf(stderr, "sleep_sort: %d of %d numbers woke up\n", s.n,
			n);
	else if (ret == 0 && !sorted_stably(s.out, s.n))
		fprintf(stderr, "sleep_sort: output not sorted stably\n");
	else if (ret == 0)
		status = 0;
	ret = corio_loop_destroy(loop);
	if (ret < 0) {
		fprintf(stderr, "sleep_sort: destroy: %s\n",
			corio_strerror(ret));
		status = 1;
	}
out_free:
	free(s.out);
	free(in);
	return status;
}
