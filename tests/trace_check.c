/* SPDX-License-Identifier: MIT */
/*
 * tests/trace_check.c - check a trace file the way a viewer reads it:
 *	trace_check [--max-bytes N] [--dropped] [--min-slices N]
 *		    [--slice TEXT] FILE
 *
 * The file must be strict JSON (tests/tjson.c) in the trace-event format
 * corio writes: an object whose "traceEvents" is an array of events, each
 * with a one-letter "ph" corio uses and a "pid" >= 1; every event but
 * metadata has a "ts"; a complete slice ("X") has a "dur" >= 0; async
 * slices and flows have a "cat" and an "id"; every task track with a
 * slice is named by a "thread_name" event.  Options add:
 *   --max-bytes N   the file is at most N bytes;
 *   --dropped       its first event says that earlier events were dropped
 *                   (a size-limited trace that kept its last part);
 *   --min-slices N  it holds at least N complete slices;
 *   --slice TEXT    ... one of which has TEXT in its name.
 * Prints one line of counts; exit status 0 when every check holds, 1
 * with the first one that does not, 2 on bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tjson.h"

static const char *path;

static void fail(size_t at, const char *fmt, const char *what)
{
	fprintf(stderr, "trace_check: %s: event %zu: ", path, at);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	exit(1);
}

/* The tracks named by "thread_name" events, sorted: (pid, tid) pairs. */
struct track {
	double pid, tid;
};

static struct track *tracks;
static size_t ntracks;

static int track_cmp(const void *a, const void *b)
{
	const struct track *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* A viewer takes names from anywhere in the file: collect them first. */
static void collect_names(const struct tj *ev)
{
	size_t i;

	tracks = calloc(ev->n, sizeof(*tracks));
	if (!tracks) {
		fprintf(stderr, "trace_check: out of memory\n");
		exit(1);
	}
	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];
		const char *ph = tj_str(e, "ph"), *n = tj_str(e, "name");

		if (ph && n && !strcmp(ph, "M") && !strcmp(n, "thread_name"))
			tracks[ntracks++] = (struct track){
				tj_num(e, "pid", -1), tj_num(e, "tid", -1) };
	}
	qsort(tracks, ntracks, sizeof(*tracks), track_cmp);
}

static bool named(double pid, double tid)
{
	struct track key = { pid, tid };

	return bsearch(&key, tracks, ntracks, sizeof(*tracks), track_cmp);
}

static long number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "trace_check: not a count: '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long max_bytes = -1, min_slices = 0;
	const char *want = NULL;
	bool dropped = false;
	size_t i, slices = 0, flows = 0, async = 0, names = 0, hits = 0;
	double last_pid = -1, last_tid = -1;
	const struct tj *ev;
	struct tj *doc;
	struct stat st;
	char why[256];
	int a;

	for (a = 1; a < argc - 1; a++) {
		if (!strcmp(argv[a], "--max-bytes") && a + 2 < argc)
			max_bytes = number(argv[++a]);
		else if (!strcmp(argv[a], "--min-slices") && a + 2 < argc)
			min_slices = number(argv[++a]);
		else if (!strcmp(argv[a], "--slice") && a + 2 < argc)
			want = argv[++a];
		else if (!strcmp(argv[a], "--dropped"))
			dropped = true;
		else
			break;
	}
	if (a != argc - 1 || argv[a][0] == '-') {
		fprintf(stderr, "usage: trace_check [--max-bytes N] [--dropped] "
			"[--min-slices N] [--slice TEXT] FILE\n");
		return 2;
	}
	path = argv[a];
	if (stat(path, &st) < 0) {
		fprintf(stderr, "trace_check: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (max_bytes >= 0 && st.st_size > max_bytes) {
		fprintf(stderr, "trace_check: %s: %lld bytes, over %ld\n", path,
			(long long)st.st_size, max_bytes);
		return 1;
	}
	doc = tj_parse_file(path, why, sizeof(why));
	if (!doc) {
		fprintf(stderr, "trace_check: %s\n", why);
		return 1;
	}
	ev = tj_get(doc, "traceEvents");
	if (!ev || ev->type != TJ_ARR || !ev->n)
		fail(0, "%s", "no traceEvents array, or an empty one");
	collect_names(ev);
	if (dropped && strcmp(tj_str(&ev->v[0], "name") ?: "",
			      "trace: the events before are dropped"))
		fail(0, "%s", "the first event does not say that events were "
		     "dropped");
	for (i = 0; i < ev->n; i++) {
		const struct tj *e = &ev->v[i];
		const char *ph = tj_str(e, "ph"), *name = tj_str(e, "name");
		double pid = tj_num(e, "pid", -1), tid = tj_num(e, "tid", -1);

		if (e->type != TJ_OBJ || !ph || strlen(ph) != 1 ||
		    !strchr("XisfbenCM", ph[0]))
			fail(i, "%s", "not an event with a known \"ph\"");
		if (pid < 1)
			fail(i, "%s", "no \"pid\"");
		if (ph[0] == 'M') {
			names++;
			continue;
		}
		if (tj_num(e, "ts", -1) < 0)
			fail(i, "%s", "no \"ts\"");
		if (strchr("sfben", ph[0]) &&
		    (!tj_str(e, "cat") || tj_num(e, "id", -1) < 0))
			fail(i, "%s", "an async slice or flow without cat or id");
		if (ph[0] == 's' || ph[0] == 'f')
			flows++;
		if (strchr("ben", ph[0]))
			async++;
		if (ph[0] != 'X')
			continue;
		if (tj_num(e, "dur", -1) < 0)
			fail(i, "%s", "a slice without \"dur\"");
		slices++;
		if (want && name && strstr(name, want))
			hits++;
		/* Slices come in runs on one track: look a track up once. */
		if ((pid != last_pid || tid != last_tid) &&
		    !named(pid, tid))
			fail(i, "a slice on a track without a name (%s)",
			     name ? name : "?");
		last_pid = pid;
		last_tid = tid;
	}
	if ((long)slices < min_slices)
		fail(ev->n, "%s", "too few slices");
	if (want && !hits)
		fail(ev->n, "no slice named with '%s'", want);
	printf("trace_check: %s: %lld bytes, %zu events: %zu slices, %zu "
	       "async, %zu flow ends, %zu names\n", path,
	       (long long)st.st_size, ev->n, slices, async, flows, names);
	free(tracks);
	tj_free(doc);
	return 0;
}
