/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/graph.c - the wait-for graph: cycle checks, the quiescence
 * deadlock report, and its text and DOT forms.
 *
 * A stackless task waits on one thing at a time, so "who waits for whom"
 * is a graph with out-degree at most one along joins and mutex owners: a
 * cycle check is a walk, not a search.  Channels, semaphores and events
 * have no owner, so a deadlock through them shows up only at quiescence,
 * when nothing at all can wake the loop's tasks any more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deadlock.h"
#include "core/internal.h"
#include "core/proxy.h"
#include "core/trace.h"
#include "reactor/opdef.h"
#include "support/text.h"

const char *corio_wait_kind_name(enum corio_wait_kind kind)
{
	static const char *const names[] = {
		[CORIO_WAIT_NONE] = "nothing",
		[CORIO_WAIT_IO] = "io",
		[CORIO_WAIT_SLEEP] = "sleep",
		[CORIO_WAIT_JOIN] = "join",
		[CORIO_WAIT_CHAN_SEND] = "channel send",
		[CORIO_WAIT_CHAN_RECV] = "channel receive",
		[CORIO_WAIT_MUTEX] = "mutex",
		[CORIO_WAIT_SEM] = "semaphore",
		[CORIO_WAIT_EVENT] = "event",
		[CORIO_WAIT_WAITGROUP] = "wait group",
		[CORIO_WAIT_COMPLETION] = "completion",
		[CORIO_WAIT_GROUP] = "group",
		[CORIO_WAIT_BLOCKING] = "blocking call",
		[CORIO_WAIT_SIGNAL] = "signal",
		[CORIO_WAIT_BUS_RECV] = "bus receive",
		[CORIO_WAIT_BUS_PUBLISH] = "bus publish",
		[CORIO_WAIT_SELECT] = "select",
	};

	if ((unsigned)kind < sizeof(names) / sizeof(names[0]))
		return names[kind];
	return "?";
}

static enum corio_wait_kind wait_kind(const struct corio_task *t)
{
	if (t->state != CORIO__WAITING)
		return CORIO_WAIT_NONE;
	switch (t->wait) {
	case CORIO__WAIT_IO:
		return CORIO_WAIT_IO;
	case CORIO__WAIT_SLEEP:
		return CORIO_WAIT_SLEEP;
	case CORIO__WAIT_JOIN:
		return CORIO_WAIT_JOIN;
	case CORIO__WAIT_SYNC:
		return (enum corio_wait_kind)corio__task_queue(t)->kind;
	default:
		return CORIO_WAIT_NONE;
	}
}

/* Per kind of primitive, what writes its state for reports (set by the
 * layer that defines it: core does not call up). */
static corio__sync_state_fn *state_fns[CORIO_WAIT_BUS_PUBLISH + 1];

void corio__sync_state_set(enum corio_wait_kind kind, corio__sync_state_fn *fn)
{
	if ((unsigned)kind < sizeof(state_fns) / sizeof(state_fns[0]))
		state_fns[kind] = fn;
}

/* The task @t waits for directly, through a join or a mutex owner. */
static struct corio_task *waits_on_task(const struct corio_task *t)
{
	switch (wait_kind(t)) {
	case CORIO_WAIT_JOIN:
		return corio__task_joined(t);
	case CORIO_WAIT_MUTEX:
		/* struct corio__sync is the mutex's first member. */
		return ((const struct corio_mutex *)
			corio__task_queue(t))->owner;
	default:
		return NULL;
	}
}

void corio_task_describe(const struct corio_task *t,
			 struct corio_task_info *info)
{
	static const char *const states[] = {
		[CORIO__READY] = "ready", [CORIO__RUNNING] = "running",
		[CORIO__WAITING] = "waiting", [CORIO__DONE] = "done",
	};
	const struct corio_loop *loop = corio__tls_loop;
	struct corio_task *target = waits_on_task(t);

	*info = (struct corio_task_info){
		.id = t->id,
		.name = t->name,
		.state = t->state <= CORIO__DONE && states[t->state] ?
			 states[t->state] : "?",
		.wait = wait_kind(t),
		.object_task = target ? target->id : 0,
		.spawn_file = t->file,
		.spawn_line = t->line,
		.parent = t->parent_id,
	};
	if (t->top) {
		info->await_fn = t->top->info->name;
		info->await_file = t->top->info->file;
		info->await_line = t->top->line;
	}
	if (t->state == CORIO__WAITING && loop)
		info->wait_ns = (int64_t)((uint32_t)(loop->now >> 20) -
					   t->wait_since) << 20;
	switch (info->wait) {
	case CORIO_WAIT_IO:
		info->object = corio__op_name(t->op);
		break;
	case CORIO_WAIT_JOIN:
		info->object = target->name;
		break;
	case CORIO_WAIT_MUTEX: {
		const struct corio_mutex *m =
			(const struct corio_mutex *)corio__task_queue(t);

		info->object = m->sync.name;
		info->holder_file = m->file;
		info->holder_line = m->line;
		break;
	}
	case CORIO_WAIT_NONE:
	case CORIO_WAIT_SLEEP:
		break;
	default: {
		const struct corio__sync *q = corio__task_queue(t);

		info->object = q->name;
		if (q->kind < sizeof(state_fns) / sizeof(state_fns[0]) &&
		    state_fns[q->kind])
			state_fns[q->kind](q, info->object_state,
					   sizeof(info->object_state));
		break;
	}
	}
}

size_t corio_task_frames(const struct corio_task *t,
			 struct corio_frame_site *sites, size_t max)
{
	const struct corio_frame *f;
	size_t depth = 0;

	for (f = t->top; f; f = f->parent, depth++)
		if (depth < max)
			sites[depth] = (struct corio_frame_site){
				.fn = f->info->name,
				.file = f->info->file,
				.line = f->line,
			};
	return depth;
}

/*
 * Store in @v (room for CORIO_REPORT_FRAMES) the chain of @t as reports
 * show it: the innermost CORIO_REPORT_FRAMES - 1 frames and the root.
 * Sets info->frames, nframes and depth.  O(depth).
 */
static void fill_chain(const struct corio_task *t, struct corio_frame_site *v,
		       struct corio_task_info *info)
{
	const struct corio_frame *f;
	size_t n;

	info->depth = corio_task_frames(t, v, CORIO_REPORT_FRAMES);
	n = info->depth < CORIO_REPORT_FRAMES ? info->depth :
	    CORIO_REPORT_FRAMES;
	if (info->depth > n) {	/* the last entry is the root */
		for (f = t->top; f->parent; f = f->parent)
			;
		v[n - 1] = (struct corio_frame_site){
			.fn = f->info->name, .file = f->info->file,
			.line = f->line,
		};
	}
	info->frames = v;
	info->nframes = n;
}

/* fill_chain() into a block of its own, freed with the report (none when
 * memory runs out). */
static void keep_frames(const struct corio_task *t,
			struct corio_task_info *info)
{
	struct corio_frame_site *v;

	if (!t->top)
		return;
	v = corio__malloc(sizeof(*v) * CORIO_REPORT_FRAMES);
	if (v)
		fill_chain(t, v, info);
}

/* ---------------------------------------------------------------------- */
/* Reports.                                                               */

void corio__report_free(struct corio_deadlock_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ncycle; i++)
		corio__free((void *)r->cycle[i].frames);
	for (i = 0; i < r->nblocked; i++)
		corio__free((void *)r->blocked[i].frames);
	corio__free(r->cycle);
	corio__free(r->blocked);
	corio__free(r);
}

void corio__deadlock_free(struct corio_loop *loop)
{
	corio__report_free(loop->dl.report);
	loop->dl.report = NULL;
}

const struct corio_deadlock_report *corio_loop_deadlock(
	const struct corio_loop *loop)
{
	return loop->dl.report;
}

static int by_id(const void *a, const void *b)
{
	const struct corio_task_info *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/*
 * A report of @kind from @cycle (in waits-for order) and the @blocked
 * tasks, with each task's chain of frames.  The cycle is rotated to start
 * at its lowest id and the others are sorted by id, so the same deadlock
 * always reads the same.  NULL when out of memory; a list that cannot be
 * allocated is left empty.
 */
struct corio_deadlock_report *corio__report_make(
	struct corio_loop *loop, enum corio_deadlock_kind kind,
	struct corio_task **cycle, size_t ncycle,
	struct corio_task **blocked, size_t nblocked)
{
	struct corio_deadlock_report *r;
	size_t i, low = 0;

	r = corio__malloc(sizeof(*r));
	if (!r)
		return NULL;
	*r = (struct corio_deadlock_report){
		.kind = kind,
		.external_refs = loop->dl.external_refs,
	};
	for (i = 1; i < ncycle; i++)
		if (cycle[i]->id < cycle[low]->id)
			low = i;
	if (ncycle) {
		r->cycle = corio__malloc(sizeof(*r->cycle) * ncycle);
		if (r->cycle) {
			r->ncycle = ncycle;
			for (i = 0; i < ncycle; i++) {
				struct corio_task *t =
					cycle[(low + i) % ncycle];

				corio_task_describe(t, &r->cycle[i]);
				keep_frames(t, &r->cycle[i]);
			}
		}
	}
	if (nblocked) {
		r->blocked = corio__malloc(sizeof(*r->blocked) * nblocked);
		if (r->blocked) {
			r->nblocked = nblocked;
			for (i = 0; i < nblocked; i++) {
				corio_task_describe(blocked[i],
						    &r->blocked[i]);
				keep_frames(blocked[i], &r->blocked[i]);
			}
			qsort(r->blocked, nblocked, sizeof(*r->blocked),
			      by_id);
		}
	}
	return r;
}

/* corio__report_make() as @loop's report; out of memory, none. */
static void make_report(struct corio_loop *loop, enum corio_deadlock_kind kind,
			struct corio_task **cycle, size_t ncycle,
			struct corio_task **blocked, size_t nblocked)
{
	corio__deadlock_free(loop);
	loop->dl.report = corio__report_make(loop, kind, cycle, ncycle,
					     blocked, nblocked);
}

static void print_report(const struct corio_deadlock_report *r)
{
	size_t need = corio_deadlock_format(r, NULL, 0);
	char *text = malloc(need + 1);

	if (!text) {
		fputs("corio: DEADLOCK (report too large to print)\n", stderr);
		return;
	}
	corio_deadlock_format(r, text, need + 1);
	fputs(text, stderr);
	free(text);
}

void corio__report_apply(struct corio_loop *loop,
			 const struct corio_deadlock_report *r)
{
	if (loop->dl.policy == CORIO_DEADLOCK_RETURN)
		return;
	if (r)
		print_report(r);
	else
		fputs("corio: DEADLOCK (no memory for the report)\n", stderr);
	if (loop->dl.policy == CORIO_DEADLOCK_ABORT)
		abort();
}

/* Apply the loop's policy to the report just made. */
static void apply_policy(struct corio_loop *loop)
{
	corio__trace_deadlock(loop);
	corio__report_apply(loop, loop->dl.report);
}

/* Report the cycle: @t, then @from and what it waits for, back to @t. */
static void record_cycle(struct corio_loop *loop, struct corio_task *t,
			 struct corio_task *from, size_t n)
{
	struct corio_task **cycle, *w;

	cycle = corio__malloc(sizeof(*cycle) * (n + 1));
	if (cycle) {
		size_t i = 0;

		cycle[i++] = t;
		for (w = from; w != t; w = waits_on_task(w))
			cycle[i++] = w;
		make_report(loop, CORIO_DEADLOCK_AWAIT_CYCLE, cycle, i, NULL,
			    0);
		corio__free(cycle);
	}
	apply_policy(loop);
}

void corio__deadlock_owner_ended(struct corio_loop *loop, struct corio_task *t,
				 struct corio__sync *m, const char *file,
				 unsigned line)
{
	struct corio_task **waiters, *w;
	struct corio_deadlock_report *r;
	size_t n = 0;

	/* Without a printed report, a line on stderr says it all the same. */
	if (!loop->dl.check || loop->dl.policy == CORIO_DEADLOCK_RETURN)
		corio__warn("task #%llu \"%s\" ended owning mutex \"%s\" "
			    "(locked at %s:%u); its next owner gets "
			    "-EOWNERDEAD", (unsigned long long)t->id, t->name,
			    m->name, file ? file : "?", line);
	if (!loop->dl.check)
		return;
	for (w = m->head; w; w = w->next)
		n++;
	waiters = corio__malloc(sizeof(*waiters) * (n ? n : 1));
	if (!waiters)
		n = 0;
	for (n = 0, w = m->head; waiters && w; w = w->next)
		waiters[n++] = w;
	r = corio__report_make(loop, CORIO_DEADLOCK_OWNER_DEAD, &t, 1,
			       waiters, n);
	corio__free(waiters);
	if (r && r->ncycle) {	/* what the ended task left held */
		r->cycle[0].wait = CORIO_WAIT_MUTEX;
		r->cycle[0].object = m->name;
		r->cycle[0].holder_file = file;
		r->cycle[0].holder_line = line;
	}
	corio__deadlock_free(loop);
	loop->dl.report = r;
	corio__report_apply(loop, r);
}

bool corio__would_deadlock(struct corio_loop *loop, struct corio_task *t,
			   enum corio__wait wait, void *obj)
{
	struct corio_task *from, *w;
	size_t n = 0, limit = loop->stats.tasks_live + 1;
	bool found;

	if (!loop->dl.check)
		return false;
	/* See @t as already waiting, so the walk and the report show the
	 * wait it is about to start; undone before returning. */
	t->state = CORIO__WAITING;
	t->wait = (uint8_t)wait;
	if (wait == CORIO__WAIT_JOIN)
		t->on.joined = obj;
	else
		t->on.queue = obj;
	t->wait_since = (uint32_t)(loop->now >> 20);
	from = waits_on_task(t);
	w = from;

	/* Without a cycle elsewhere (each was refused when it would have
	 * closed) the walk ends; the limit is a guard, not a case. */
	while (w && w != t && n++ < limit)
		w = waits_on_task(w);
	found = w == t;
	if (found)
		record_cycle(loop, t, from, n);
	t->state = CORIO__RUNNING;
	t->wait = CORIO__WAIT_NONE;
	t->on.queue = NULL;
	return found;
}

/* Append @t and, transitively, the tasks joining it. */
static size_t add_blocked(struct corio_task **v, size_t n, size_t cap,
			  struct corio_task *t)
{
	for (; t && n < cap; t = t->joiner)
		v[n++] = t;
	return n;
}

void corio__fail_waits(struct corio_loop *loop, struct corio_task **v,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct corio_task *t = v[i];

		if (t->state != CORIO__WAITING)
			continue;
		if (t->wait == CORIO__WAIT_SYNC) {
			corio__sync_abort(loop, t, -EDEADLK);
		} else if (t->wait == CORIO__WAIT_JOIN) {
			corio__task_joined(t)->joiner = NULL;
			corio__task_resume(loop, t, -EDEADLK);
		}
	}
}

/* Does a task await a signal (an outside waker)?  Only asked once the
 * loop is stalled: a walk of the registry is cheap enough then. */
static bool signal_awaited(const struct corio_loop *loop)
{
	const struct corio__sync *s;

	for (s = loop->syncs.next; s != &loop->syncs; s = s->next)
		if (s->kind == CORIO_WAIT_SIGNAL && s->head)
			return true;
	return false;
}

bool corio__deadlock_global(struct corio_loop *loop)
{
	struct corio_task **v;
	struct corio__sync *s;
	size_t n = 0, cap = loop->unfinished;
	bool stop = true;

	/* Someone outside can still wake a task: keep waiting for it. */
	if (loop->dl.external_refs || signal_awaited(loop))
		return false;
	if (!loop->dl.check)
		return true;
	v = corio__malloc(sizeof(*v) * (cap ? cap : 1));
	/* Every waiting task waits on a primitive or, through joins, on a
	 * task that does: I/O and timers would have kept the loop busy. */
	for (s = loop->syncs.next; v && s != &loop->syncs; s = s->next) {
		struct corio_task *t;

		for (t = s->head; t; t = t->next)
			if (!corio__task_is_proxy(t))
				n = add_blocked(v, n, cap, t->joiner);
	}
	/* The joiners first, then the waiters themselves (a waiter's own
	 * next link is in use while collecting, so walk again). */
	for (s = loop->syncs.next; v && s != &loop->syncs; s = s->next) {
		struct corio_task *t;

		/* A select's stand-ins: its task is on the select's own
		 * queue (proxy.h). */
		for (t = s->head; t && n < cap; t = t->next)
			if (!corio__task_is_proxy(t))
				v[n++] = t;
	}
	make_report(loop, CORIO_DEADLOCK_GLOBAL, NULL, 0, v, v ? n : 0);
	apply_policy(loop);
	if (v && loop->dl.policy == CORIO_DEADLOCK_REPORT_CONTINUE) {
		corio__fail_waits(loop, v, n);
		stop = false;
	}
	corio__free(v);
	return stop;
}

/*
 * Every live task: the running one, the ready queue, the parked list,
 * each primitive's waiters and the zombies.  Returns a sorted array the
 * caller frees, or NULL when out of memory; *@n is its length.
 */
static struct corio_task **all_tasks(struct corio_loop *loop, size_t *n)
{
	size_t cap = loop->stats.tasks_live, k = 0;
	struct corio_task **v, *t;
	struct corio__sync *s;
	unsigned q;

	v = corio__malloc(sizeof(*v) * (cap ? cap : 1));
	if (!v)
		return NULL;
	if (loop->current && k < cap)
		v[k++] = loop->current;
	for (q = 0; q < CORIO__RUNQS; q++)
		for (t = loop->sched.ready[q].head; t && k < cap; t = t->next)
			v[k++] = t;
	for (t = loop->parked; t && k < cap; t = t->next)
		v[k++] = t;
	for (s = loop->syncs.next; s != &loop->syncs; s = s->next)
		for (t = s->head; t && k < cap; t = t->next)
			if (!corio__task_is_proxy(t))
				v[k++] = t;
	for (t = loop->zombies; t && k < cap; t = t->next)
		v[k++] = t;
	*n = k;
	return v;
}

static int by_task_id(const void *a, const void *b)
{
	const struct corio_task *x = *(struct corio_task *const *)a;
	const struct corio_task *y = *(struct corio_task *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Text for one task, as in reports. */
static size_t format_task(const struct corio_task_info *i, char *buf,
			  size_t len);

int corio_loop_dump(struct corio_loop *loop, FILE *f)
{
	struct corio_task **v;
	size_t n = 0, i;
	int ret = 0;

	v = all_tasks(loop, &n);
	if (!v)
		return -ENOMEM;
	qsort(v, n, sizeof(*v), by_task_id);
	if (fprintf(f, "corio: %zu live task%s\n", n, n == 1 ? "" : "s") < 0)
		ret = -EIO;
	for (i = 0; i < n && !ret; i++) {
		struct corio_frame_site sites[CORIO_REPORT_FRAMES];
		struct corio_task_info info;
		char line[1024], *text = line;
		size_t need;

		corio_task_describe(v[i], &info);
		if (v[i]->top)
			fill_chain(v[i], sites, &info);
		/* Whole, however long its chain and its names: a line cut
		 * short would hide the frames that matter. */
		need = format_task(&info, line, sizeof(line));
		if (need >= sizeof(line)) {
			text = corio__malloc(need + 1);
			if (!text) {
				ret = -ENOMEM;
				break;
			}
			format_task(&info, text, need + 1);
		}
		if (v[i]->state == CORIO__DONE &&
		    fprintf(f, "  #%llu \"%s\" finished with %d, not joined, "
			    "spawned at %s:%u\n",
			    (unsigned long long)info.id, info.name,
			    v[i]->status, info.spawn_file, info.spawn_line) < 0)
			ret = -EIO;
		else if (v[i]->state != CORIO__DONE && fputs(text, f) < 0)
			ret = -EIO;
		if (text != line)
			corio__free(text);
	}
	corio__free(v);
	return ret ? ret : (int)n;
}

int corio_loop_external_ref(struct corio_loop *loop, int delta)
{
	int64_t n = (int64_t)loop->dl.external_refs + delta;

	if (n < 0 || n > INT32_MAX)
		return -EINVAL;
	loop->dl.external_refs = (uint32_t)n;
	return (int)n;
}

/* ---------------------------------------------------------------------- */
/* Text and DOT.                                                          */

/* The chain of frames: innermost ("at"), then its callers. */
static void put_frames(char *buf, size_t len, size_t *off,
		       const struct corio_task_info *i)
{
	size_t k;

	if (!i->nframes) {
		if (i->await_file)
			corio__put(buf, len, off, "\n     at %s:%u in %s()",
			    i->await_file, i->await_line, i->await_fn);
		return;
	}
	for (k = 0; k < i->nframes; k++) {
		const struct corio_frame_site *f = &i->frames[k];

		if (k && k == i->nframes - 1 && i->depth > i->nframes)
			corio__put(buf, len, off,
			    "\n     ... %zu frames left out",
			    i->depth - i->nframes);
		corio__put(buf, len, off, "\n     %s %s:%u in %s()",
		    k ? "called from" : "at", f->file, f->line, f->fn);
	}
}

static void put_task(char *buf, size_t len, size_t *off,
		     const struct corio_task_info *i)
{
	bool ended = !strcmp(i->state, "done");

	corio__put(buf, len, off, "  #%llu \"%s\" %s",
	    (unsigned long long)i->id, i->name, i->state);
	if (ended && i->wait != CORIO_WAIT_NONE) {
		/* An owner-ended report's task: what it left held. */
		corio__put(buf, len, off, ", ended holding %s \"%s\"",
		    corio_wait_kind_name(i->wait),
		    i->object ? i->object : "?");
		if (i->holder_file)
			corio__put(buf, len, off, " (locked at %s:%u)",
			    i->holder_file, i->holder_line);
	} else if (i->wait != CORIO_WAIT_NONE) {
		corio__put(buf, len, off, " %.3fs on %s",
		    (double)i->wait_ns / 1e9, corio_wait_kind_name(i->wait));
		if (i->object)
			corio__put(buf, len, off, " \"%s\"", i->object);
		if (i->object_state[0])
			corio__put(buf, len, off, " (%s)", i->object_state);
		if (i->object_task)
			corio__put(buf, len, off, " %s #%llu",
			    i->wait == CORIO_WAIT_JOIN ? "=" : "held by",
			    (unsigned long long)i->object_task);
		if (i->holder_file)
			corio__put(buf, len, off, " (locked at %s:%u)",
			    i->holder_file, i->holder_line);
	}
	put_frames(buf, len, off, i);
	corio__put(buf, len, off, "%s spawned at %s:%u",
	    i->nframes > 1 ? "\n    " : ",",
	    i->spawn_file ? i->spawn_file : "?", i->spawn_line);
	if (i->parent)
		corio__put(buf, len, off, " by #%llu\n",
		    (unsigned long long)i->parent);
	else
		corio__put(buf, len, off, " outside any task\n");
}

static size_t format_task(const struct corio_task_info *i, char *buf,
			  size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	put_task(buf, len, &off, i);
	return off;
}

size_t corio_deadlock_format(const struct corio_deadlock_report *r,
			     char *buf, size_t len)
{
	size_t off = 0, i;

	if (len)
		buf[0] = '\0';
	if (!r || r->kind == CORIO_DEADLOCK_NONE) {
		corio__put(buf, len, &off, "corio: no deadlock\n");
		return off;
	}
	switch (r->kind) {
	case CORIO_DEADLOCK_AWAIT_CYCLE:
		if (r->ncycle == 1)
			corio__put(buf, len, &off, "corio: DEADLOCK (await "
			    "cycle): a task waits for itself\n");
		else
			corio__put(buf, len, &off, "corio: DEADLOCK (await "
			    "cycle): %zu tasks wait for each other\n",
			    r->ncycle);
		break;
	case CORIO_DEADLOCK_OWNER_DEAD:
		corio__put(buf, len, &off, "corio: DEADLOCK (owner ended): a "
		    "task ended holding a mutex; its next owner gets "
		    "-EOWNERDEAD\n");
		break;
	case CORIO_DEADLOCK_SCOPE:
		corio__put(buf, len, &off, "corio: DEADLOCK (scope \"%s\"): "
		    "%zu task%s of the scope wait%s, and only %s could wake "
		    "%s\n", r->scope ? r->scope : "?", r->nblocked,
		    r->nblocked == 1 ? "" : "s", r->nblocked == 1 ? "s" : "",
		    r->nblocked == 1 ? "itself" : "they",
		    r->nblocked == 1 ? "it" : "them");
		break;
	default:
		corio__put(buf, len, &off, "corio: DEADLOCK (global): %zu "
		    "task%s wait and nothing can wake them\n", r->nblocked,
		    r->nblocked == 1 ? "" : "s");
		break;
	}
	for (i = 0; i < r->ncycle; i++)
		put_task(buf, len, &off, &r->cycle[i]);
	if (r->ncycle && r->nblocked)
		corio__put(buf, len, &off, "  %s:\n",
		    r->kind == CORIO_DEADLOCK_OWNER_DEAD ?
		    "tasks that waited for it" : "other blocked tasks");
	for (i = 0; i < r->nblocked; i++)
		put_task(buf, len, &off, &r->blocked[i]);
	if (r->kind == CORIO_DEADLOCK_GLOBAL)
		corio__put(buf, len, &off, "  outside wakers: %u\n",
		    r->external_refs);
	return off;
}

static int dot_task(FILE *f, const struct corio_task_info *i, bool in_cycle)
{
	int n = fprintf(f, "  t%llu [label=\"#%llu %s\\n%s %s\\n%s:%u\"%s];\n",
			(unsigned long long)i->id, (unsigned long long)i->id,
			i->name, i->state, corio_wait_kind_name(i->wait),
			i->await_file ? i->await_file : "?", i->await_line,
			in_cycle ? ", color=red" : "");

	if (n < 0)
		return -EIO;
	if (i->object_task)
		n = fprintf(f, "  t%llu -> t%llu [label=\"%s\"];\n",
			    (unsigned long long)i->id,
			    (unsigned long long)i->object_task,
			    corio_wait_kind_name(i->wait));
	else if (i->object)
		n = fprintf(f, "  t%llu -> \"%s\" [label=\"%s\"];\n",
			    (unsigned long long)i->id, i->object,
			    corio_wait_kind_name(i->wait));
	return n < 0 ? -EIO : 0;
}

int corio_deadlock_write_dot(const struct corio_deadlock_report *r, FILE *f)
{
	size_t i;
	int ret = 0;

	if (fprintf(f, "digraph corio_deadlock {\n  node [shape=box];\n") < 0)
		return -EIO;
	for (i = 0; r && i < r->ncycle && !ret; i++)
		ret = dot_task(f, &r->cycle[i], true);
	for (i = 0; r && i < r->nblocked && !ret; i++)
		ret = dot_task(f, &r->blocked[i], false);
	if (!ret && fprintf(f, "}\n") < 0)
		ret = -EIO;
	return ret;
}
