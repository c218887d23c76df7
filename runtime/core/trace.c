/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/trace.c - recording a traced loop: each hook of trace.h
 * appends a fixed-size binary event to the loop's ring, on the loop's
 * thread, with a clock read and a few stores.  The JSON is made later, by
 * the file's writer thread (trace_file.c, trace_json.c).
 *
 * What the loop does not keep, the recorder keeps here: when the open
 * step and the current phase began, and how many completions the phase
 * handed out.  Rare events that carry text (deadlock reports, stalls) are
 * formatted at once and written under the file's lock instead: a ring
 * slot holds no text, and they may come from the watchdog's thread.
 */
#define _GNU_SOURCE /* gettid */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/trace_event.h"
#include "reactor/reactor.h"

static int64_t now(const struct corio__tracer *tr)
{
	return corio__clock_now() - tr->epoch;
}

static struct corio__tev *slot(struct corio__tracer *tr, unsigned i)
{
	return &tr->ring[(tr->head_local + i) % CORIO__TRACE_SLOTS];
}

/*
 * The ring is full: format it ourselves, and record that the loop waited
 * for it (a slice on the loop's track).  The wait is tracing's, not the
 * running task's: the stall watchdog must not blame the task for it.
 */
static __attribute__((noinline, cold)) void drain_full(
	struct corio__tracer *tr)
{
	struct corio_loop *loop = tr->loop;
	int64_t begin = now(tr);
	struct corio__tev *e;

	if (loop->watch.running)
		corio__watchdog_idle(loop);
	corio__trace_file_drain(tr);
	if (loop->watch.running && loop->current)
		corio__watchdog_publish(loop, loop->current);
	tr->tail_seen = atomic_load_explicit(&tr->tail, memory_order_acquire);
	e = slot(tr, 0);	/* room now: the ring is empty */
	e->ts = now(tr);
	e->task = 0;
	e->type = CORIO__TEV_DRAIN;
	e->u.phase.begin = begin;
	tr->head_local++;
	atomic_store_explicit(&tr->head, tr->head_local, memory_order_release);
}

/* Make room for @n slots: drain the ring ourselves when it is full. */
static void reserve(struct corio__tracer *tr, unsigned n)
{
	if (corio__likely(tr->head_local + n - tr->tail_seen <=
			  CORIO__TRACE_SLOTS))
		return;
	/* acquire: the consumer is done with the slots it released */
	tr->tail_seen = atomic_load_explicit(&tr->tail, memory_order_acquire);
	if (tr->head_local + n - tr->tail_seen > CORIO__TRACE_SLOTS)
		drain_full(tr);
}

/* Publish the @n slots written; wake the writer every half ring. */
static void commit(struct corio__tracer *tr, unsigned n)
{
	tr->head_local += n;
	/* release: the slots' contents before the new head */
	atomic_store_explicit(&tr->head, tr->head_local, memory_order_release);
	if (corio__unlikely(tr->head_local - tr->kick_at >=
			    CORIO__TRACE_SLOTS / 2)) {
		tr->kick_at = tr->head_local;
		corio__trace_file_kick(tr->file);
	}
}

/* A one-slot event, to fill in and commit(tr, 1). */
static struct corio__tev *event(struct corio__tracer *tr, uint8_t type,
				uint32_t task, int64_t ts)
{
	struct corio__tev *e;

	reserve(tr, 1);
	e = slot(tr, 0);
	e->ts = ts;
	e->task = task;
	e->type = type;
	e->kind = 0;
	e->op = 0;
	return e;
}

/* @t's track: its name (its root function's: static) and spawn site. */
static void record_spawn(struct corio__tracer *tr, const struct corio_task *t,
			 int64_t ts)
{
	struct corio__tev *e = event(tr, CORIO__TEV_SPAWN, t->id, ts);

	e->u.spawn.name = t->name;	/* the root's function: static */
	e->u.spawn.file = t->file;
	e->u.spawn.line = t->line;
	e->u.spawn.parent = t->parent_id;
	commit(tr, 1);
}

void corio__trace_rec_name(struct corio_loop *loop,
			   const struct corio_task *t)
{
	struct corio__tracer *tr = loop->trace;
	size_t len = strnlen(t->name, CORIO__TRACE_NAME_MAX);
	unsigned i, slots = (unsigned)((len + sizeof(struct corio__tev) - 1) /
				       sizeof(struct corio__tev));
	struct corio__tev *e;

	/* The name may be the task's own memory: copy it now, into the
	 * slots after the event. */
	reserve(tr, 1 + slots);
	e = slot(tr, 0);
	*e = (struct corio__tev){
		.ts = now(tr), .task = t->id, .type = CORIO__TEV_NAME,
		.op = (uint16_t)len,
		.u.spawn = { .file = t->file, .line = t->line },
	};
	for (i = 0; i < slots; i++) {
		size_t off = i * sizeof(*e);
		size_t n = len - off < sizeof(*e) ? len - off : sizeof(*e);

		memcpy(slot(tr, 1 + i), t->name + off, n);
	}
	commit(tr, 1 + slots);
}

/* What the suspended @t waits on, as the reports name it. */
static uint8_t wait_of(const struct corio_task *t, struct corio__tev *e)
{
	if (t->state != CORIO__WAITING)
		return CORIO_WAIT_NONE;	/* it queued itself: a yield */
	switch (t->wait) {
	case CORIO__WAIT_IO:
		e->op = t->op;
		return CORIO_WAIT_IO;
	case CORIO__WAIT_SLEEP:
		return CORIO_WAIT_SLEEP;
	case CORIO__WAIT_JOIN:
		e->u.step.detail = (int32_t)corio__task_joined(t)->id;
		return CORIO_WAIT_JOIN;
	case CORIO__WAIT_SYNC:
		return corio__task_queue(t)->kind;
	default:
		return CORIO_WAIT_NONE;
	}
}

void corio__trace_rec_step_end(struct corio_loop *loop,
			       const struct corio_task *t)
{
	struct corio__tracer *tr = loop->trace;
	const struct corio_frame *f = t->top;
	struct corio__tev *e = event(tr, CORIO__TEV_STEP, t->id, now(tr));

	e->u.step.begin = tr->step_begin;
	e->u.step.fn = f->info;
	e->u.step.line = f->state ? f->line : f->info->line;
	e->u.step.detail = 0;
	e->u.step.timer = t->timer_where ? t->timer_when - tr->epoch : -1;
	e->kind = wait_of(t, e);
	tr->step_begin = e->ts;
	commit(tr, 1);
}

void corio__trace_rec_step_done(struct corio_loop *loop,
				const struct corio_task *t,
				const struct corio_frame *root)
{
	struct corio__tracer *tr = loop->trace;
	struct corio__tev *e = event(tr, CORIO__TEV_DONE, t->id, now(tr));

	e->u.step.begin = tr->step_begin;
	e->u.step.fn = root->info;
	e->u.step.line = root->line;
	e->u.step.detail = root->err;
	/* Its end wakes its joiner (untraced): the arrow starts here. */
	e->u.step.timer = t->joiner ? (int64_t)t->joiner->id : -1;
	tr->step_begin = e->ts;
	commit(tr, 1);
}

/* End the current phase, if any, with the loop's counters, at @ts. */
static void phase_enter(struct corio__tracer *tr, struct corio_loop *loop,
			unsigned phase, int64_t ts)
{
	if (tr->phase != CORIO__TP_NONE) {
		struct corio__tev *e = event(tr, CORIO__TEV_PHASE, 0, ts);

		e->kind = tr->phase;
		e->u.phase.begin = tr->phase_begin;
		e->u.phase.inflight = loop->stats.ops_inflight;
		e->u.phase.ready = loop->sched.ready_count[0] +
				   loop->sched.ready_count[1];
		e->u.phase.timers = (uint32_t)loop->timers.len;
		e->u.phase.reaped = tr->reaped;
		commit(tr, 1);
	}
	tr->phase = (uint8_t)phase;
	tr->phase_begin = ts;
	tr->step_begin = ts;
	tr->reaped = 0;
}

void corio__trace_rec_phase(struct corio_loop *loop,
			    enum corio__trace_phase phase)
{
	struct corio__tracer *tr = loop->trace;

	phase_enter(tr, loop, phase, now(tr));
}

void corio__trace_rec_wake(struct corio_loop *loop,
			   const struct corio_task *t)
{
	struct corio__tracer *tr = loop->trace;
	const struct corio_task *w = loop->current;
	int64_t ts = now(tr), flow = ts;
	struct corio__tev *e;

	/* A task that queues itself (a yield) is recorded at its step's
	 * end (trace_json.c draws the arrow from there). */
	if (w == t)
		return;
	/* Never run: this is its spawn. */
	if (t->top && !t->top->state && !t->top->parent)
		record_spawn(tr, t, ts);
	if (w && w->state == CORIO__DONE) {
		/* Its last step was recorded, and its end wakes its joiner:
		 * the arrow starts inside that step all the same. */
		flow = tr->step_begin - 1;
	} else if (!w && tr->phase == CORIO__TP_NONE) {
		/* Outside the run (a spawn before it): a phase of its own
		 * holds the arrow's start. */
		phase_enter(tr, loop, CORIO__TP_OUTSIDE, ts);
	}
	e = event(tr, CORIO__TEV_WAKE, t->id, ts);
	e->u.wake.flow_ts = flow;
	e->u.wake.waker = w ? w->id : 0;
	e->u.wake.phase = tr->phase;
	commit(tr, 1);
}

void corio__trace_rec_io(struct corio_loop *loop, const struct corio_task *t,
			 const struct corio__io *io)
{
	struct corio__tracer *tr = loop->trace;
	struct corio__tev *e = event(tr, CORIO__TEV_IO, t->id, now(tr));

	e->op = io->opcode;
	e->u.io.fd = io->fd;
	e->u.io.len = io->len;
	commit(tr, 1);
}

void corio__trace_rec_io_done(struct corio_loop *loop,
			      const struct corio_task *t, int32_t res)
{
	struct corio__tracer *tr = loop->trace;
	struct corio__tev *e = event(tr, CORIO__TEV_IO_DONE, t->id, now(tr));

	e->op = t->op;
	e->u.io.res = res;
	tr->reaped++;
	commit(tr, 1);
}

void corio__trace_rec_source(struct corio_loop *loop,
			     struct corio__source *src,
			     const struct corio__io *io)
{
	struct corio__tracer *tr = loop->trace;
	struct corio__tev *e = event(tr, CORIO__TEV_SOURCE, 0, now(tr));

	/* Its completions carry no opcode: remember it for them. */
	src->trace_op = io->opcode;
	e->kind = src->background;
	e->op = io->opcode;
	e->u.io.src = (uint64_t)(uintptr_t)src;
	e->u.io.fd = io->fd;
	e->u.io.len = io->len;
	commit(tr, 1);
}

void corio__trace_rec_source_cqe(struct corio_loop *loop,
				 const struct corio__source *src, int32_t res,
				 uint32_t flags)
{
	struct corio__tracer *tr = loop->trace;
	struct corio__tev *e = event(tr, CORIO__TEV_SOURCE_CQE, 0, now(tr));

	e->kind = (uint8_t)(src->background |
			    (flags & CORIO__CQE_MORE ? 2 : 0));
	e->op = src->trace_op;
	e->u.io.src = (uint64_t)(uintptr_t)src;
	e->u.io.res = res;
	tr->reaped++;
	commit(tr, 1);
}

/* ---------------------------------------------------------------------- */
/* Rare events with text, written at once.                                */

/* An instant on the track of task @task (0: the loop's). */
static void instant(struct corio__jbuf *jb, const struct corio__tracer *tr,
		    uint32_t task, int64_t ts, const char *scope,
		    const char *name)
{
	corio__jb_event(jb, 'i', tr->pid, task, ts);
	corio__jb_raw(jb, ",\"s\":\"");
	corio__jb_raw(jb, scope);
	corio__jb_raw(jb, "\",\"cat\":\"report\",\"name\":");
	corio__jb_str(jb, name, 256);
}

/* The report as DOT text (malloc'd), or NULL. */
static char *report_dot(const struct corio_deadlock_report *r)
{
	char *dot = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&dot, &len);

	if (!f)
		return NULL;
	if (corio_deadlock_write_dot(r, f) < 0) {
		fclose(f);
		free(dot);
		return NULL;
	}
	if (fclose(f)) {
		free(dot);
		return NULL;
	}
	return dot;
}

static void mark_tasks(struct corio__jbuf *jb, const struct corio__tracer *tr,
		       int64_t ts, const struct corio_task_info *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		instant(jb, tr, (uint32_t)v[i].id, ts, "t", "deadlocked");
		corio__jb_raw(jb, "}");
	}
}

void corio__trace_rec_deadlock(struct corio_loop *loop)
{
	const struct corio_deadlock_report *r = loop->dl.report;
	struct corio__tracer *tr = loop->trace;
	int64_t ts = now(tr);
	char *text = NULL, *dot = NULL;
	struct corio__jbuf *jb;

	if (r) {
		size_t need = corio_deadlock_format(r, NULL, 0);

		text = malloc(need + 1);
		if (text)
			corio_deadlock_format(r, text, need + 1);
		dot = report_dot(r);
	}
	jb = corio__trace_file_lock(tr->file);
	if (jb) {
		instant(jb, tr, 0, ts, "p",
			r && r->kind == CORIO_DEADLOCK_AWAIT_CYCLE ?
			"deadlock: await cycle" :
			"deadlock: nothing can wake the waiting tasks");
		corio__jb_raw(jb, ",\"args\":{\"report\":");
		corio__jb_str(jb, text ? text : "(no report: out of memory)",
			      SIZE_MAX);
		if (dot) {
			corio__jb_raw(jb, ",\"dot\":");
			corio__jb_str(jb, dot, SIZE_MAX);
		}
		corio__jb_raw(jb, "}}");
		if (r) {
			mark_tasks(jb, tr, ts, r->cycle, r->ncycle);
			mark_tasks(jb, tr, ts, r->blocked, r->nblocked);
		}
		corio__trace_file_unlock(tr->file);
	}
	free(text);
	free(dot);
}

void corio__trace_rec_stall(struct corio_loop *loop, uint64_t id,
			    const char *name, const char *fn,
			    const char *file, unsigned line, int64_t ran_ns)
{
	struct corio__tracer *tr = loop->trace;
	struct corio__jbuf *jb = corio__trace_file_lock(tr->file);

	if (!jb)
		return;
	instant(jb, tr, (uint32_t)id, now(tr), "t", "stall");
	corio__jb_raw(jb, ",\"args\":{\"ran_ms\":");
	corio__jb_int(jb, ran_ns / 1000000);
	corio__jb_raw(jb, ",\"task\":");
	corio__jb_str(jb, name, 256);
	corio__jb_raw(jb, ",\"fn\":");
	corio__jb_str(jb, fn, 256);
	corio__jb_raw(jb, ",\"file\":");
	corio__jb_str(jb, file, 1024);
	corio__jb_raw(jb, ",\"line\":");
	corio__jb_int(jb, line);
	corio__jb_raw(jb, "}}");
	corio__trace_file_unlock(tr->file);
}

/* ---------------------------------------------------------------------- */
/* Opening and closing.                                                   */

int corio__trace_open(struct corio_loop *loop,
		      const struct corio_loop_opts *opts, char *why,
		      size_t whylen)
{
	const char *path = opts && opts->trace ? opts->trace :
			   getenv("CORIO_TRACE");
	const char *limit = opts && opts->trace_limit ? opts->trace_limit :
			    getenv("CORIO_TRACE_LIMIT");
	struct corio__tracer *tr;
	int ret;

	if (!path || !*path)
		return 0;
	tr = corio__malloc(sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	memset(tr, 0, sizeof(*tr));
	tr->ring = corio__malloc(CORIO__TRACE_SLOTS * sizeof(*tr->ring));
	if (!tr->ring) {
		corio__free(tr);
		return -ENOMEM;
	}
	tr->last_ready = tr->last_inflight = UINT64_MAX;
	tr->last_timers = tr->last_reaped = UINT64_MAX;
	snprintf(tr->desc, sizeof(tr->desc), "thread %d, %s", (int)gettid(),
		 loop->backend);
	ret = corio__trace_file_attach(tr, path, limit, why, whylen);
	if (ret < 0) {
		corio__free(tr->ring);
		corio__free(tr);
		return ret;
	}
	tr->loop = loop;
	loop->trace = tr;
	return 0;
}

void corio__trace_close(struct corio_loop *loop)
{
	struct corio__tracer *tr = loop->trace;

	if (!tr)
		return;
	phase_enter(tr, loop, CORIO__TP_NONE, now(tr));
	loop->trace = NULL;
	corio__trace_file_detach(tr);
	corio__trace_format_free(tr);
	corio__free(tr->ring);
	corio__free(tr);
}
