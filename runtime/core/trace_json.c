/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/trace_json.c - a loop's binary trace events as Chrome /
 * Perfetto trace-event JSON (the "JSON Object Format" that Perfetto and
 * chrome://tracing open).
 *
 * A loop is a process track (pid: its number in the file).  Its thread
 * tracks are tid 0, the loop's phases, and one per task (tid: the task's
 * id), named after the task and its spawn site.  A step is a complete
 * event ("X") on its task's track, named after the function and line it
 * stopped at and what it awaits there.  A wake-up is a flow arrow ("s" in
 * the step or phase that woke the task, "f" in the task's next step).
 * Operations and sleeps are async slices ("b"/"e"), counters "C".
 *
 * Ids: a flow, an operation and a sleep are per task (a task has at most
 * one of each open), a multishot per source; the loop's number in the
 * high bits keeps the loops of one file apart.  All stay below 2^53, so
 * a JSON reader keeps them exact.
 *
 * Formatting is by hand rather than snprintf: it runs for every event of
 * a traced program, and the cost per event is part of what tracing costs.
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <string.h>

#include "core/trace_event.h"
#include "reactor/reactor.h"

/* What a step's id space holds, below the loop's number (bits 34+). */
#define ID_IO		(0ull << 32)
#define ID_SLEEP	(1ull << 32)
#define ID_SOURCE	(2ull << 32)

static uint64_t id_of(const struct corio__tracer *tr, uint64_t space,
		      uint64_t low)
{
	return (uint64_t)tr->pid << 34 | space | (low & 0xffffffffu);
}

/* Room for @n more bytes (the buffer is written out when short). */
static char *room(struct corio__jbuf *jb, size_t n)
{
	if (jb->len + n > jb->cap)
		corio__jb_flush(jb);
	return jb->buf + jb->len;
}

void corio__jb_mem_slow(struct corio__jbuf *jb, const char *s, size_t n)
{
	while (n) {
		size_t k = n < jb->cap / 2 ? n : jb->cap / 2;

		memcpy(room(jb, k), s, k);
		jb->len += k;
		s += k;
		n -= k;
	}
}

/*
 * Length of the UTF-8 sequence at @p (at most @left bytes), or 0 when it
 * is not one: JSON must be valid UTF-8, and names may be cut anywhere or
 * be any bytes a program chose.
 */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n, i;

	if (p[0] >= 0xf0 && p[0] < 0xf5)
		n = 4;
	else if (p[0] >= 0xe0)
		n = 3;
	else if (p[0] >= 0xc2)
		n = 2;
	else
		return 0;
	if (n > left || p[0] >= 0xf5)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and beyond U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

/* The inside of a JSON string: at most @max bytes of @s, escaped. */
static void jb_esc(struct corio__jbuf *jb, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "?");
	size_t i, n;

	for (i = 0; i < max && p[i]; i += n) {
		char *o;
		unsigned char c = p[i];

		/* The common case: a run of plain ASCII, copied at once. */
		for (n = 0; i + n < max && p[i + n] >= 0x20 &&
		     p[i + n] < 0x80 && p[i + n] != '"' && p[i + n] != '\\';
		     n++)
			;
		if (n) {
			corio__jb_mem(jb, (const char *)p + i, n);
			continue;
		}
		o = room(jb, 6);
		n = 1;
		if (c == '"' || c == '\\') {
			o[0] = '\\';
			o[1] = (char)c;
			jb->len += 2;
		} else if (c == '\n') {
			memcpy(o, "\\n", 2);
			jb->len += 2;
		} else if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			jb->len += 6;
		} else if (c < 0x80) {
			o[0] = (char)c;
			jb->len++;
		} else if ((n = utf8_len(p + i, strnlen((const char *)p + i,
							max - i)))) {
			memcpy(o, p + i, n);
			jb->len += n;
		} else {
			o[0] = '?';	/* not UTF-8: one byte replaced */
			jb->len++;
			n = 1;
		}
	}
}

void corio__jb_str(struct corio__jbuf *jb, const char *s, size_t max)
{
	corio__jb_raw(jb, "\"");
	jb_esc(jb, s, max);
	corio__jb_raw(jb, "\"");
}

void corio__jb_int(struct corio__jbuf *jb, int64_t v)
{
	/* Two digits per division: timestamps have ten or more. */
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	char tmp[24], *p = tmp + sizeof(tmp), *o = room(jb, sizeof(tmp));
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	while (u >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * u, 2);
	} else {
		*--p = (char)('0' + u);
	}
	if (v < 0)
		*--p = '-';
	memcpy(o, p, (size_t)(tmp + sizeof(tmp) - p));
	jb->len += (size_t)(tmp + sizeof(tmp) - p);
}

/* Nanoseconds as the format's microseconds, to the nanosecond. */
static void jb_us(struct corio__jbuf *jb, int64_t ns)
{
	int64_t frac;

	if (ns < 0) {
		corio__jb_raw(jb, "-");
		ns = -ns;
	}
	frac = ns % 1000;
	corio__jb_int(jb, ns / 1000);
	if (frac) {
		char *o = room(jb, 4);

		o[0] = '.';
		o[1] = (char)('0' + frac / 100);
		o[2] = (char)('0' + frac / 10 % 10);
		o[3] = (char)('0' + frac % 10);
		jb->len += 4;
	}
}

void corio__jb_event(struct corio__jbuf *jb, char ph, uint32_t pid,
		     int64_t tid, int64_t ts)
{
	if (jb->first)
		corio__jb_raw(jb, "\n{\"ph\":\"");
	else
		corio__jb_raw(jb, ",\n{\"ph\":\"");
	jb->first = false;
	corio__jb_mem(jb, &ph, 1);
	corio__jb_raw(jb, "\",\"pid\":");
	corio__jb_int(jb, pid);
	if (tid >= 0) {
		corio__jb_raw(jb, ",\"tid\":");
		corio__jb_int(jb, tid);
	}
	if (ts >= 0) {
		corio__jb_raw(jb, ",\"ts\":");
		jb_us(jb, ts);
	}
}

/* ,"name":"@name" */
static void jb_name(struct corio__jbuf *jb, const char *name)
{
	corio__jb_raw(jb, ",\"name\":");
	corio__jb_str(jb, name, 256);
}

/* ,"cat":"@cat","id":@id */
static void jb_cat_id(struct corio__jbuf *jb, const char *cat, uint64_t id)
{
	corio__jb_raw(jb, ",\"cat\":\"");
	corio__jb_raw(jb, cat);
	corio__jb_raw(jb, "\",\"id\":");
	corio__jb_int(jb, (int64_t)id);
}

/* The part of a path after its last '/': tracks stay readable. */
static const char *base(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "?";
}

/* A metadata event: @what ("thread_name"...) = @args (raw JSON). */
static void meta_begin(struct corio__jbuf *jb, uint32_t pid, int64_t tid,
		       const char *what)
{
	corio__jb_event(jb, 'M', pid, tid, -1);
	jb_name(jb, what);
	corio__jb_raw(jb, ",\"args\":{");
}

/*
 * The live tasks, as the events formatted so far tell: what names a
 * task's track (written again at the start of each window segment, whose
 * readers may never see the spawn), and whether its sleep slice is open.
 * Out of memory a task is left out: its track is not named again and its
 * sleeps are not drawn.
 */
struct trace_task {
	struct corio__hnode node;	/* key: the task's id */
	const char *name;		/* static, or @own */
	const char *file;		/* the spawn site */
	char *own;			/* a renamed task's copy of its name */
	uint32_t line;
	uint16_t name_max;		/* bytes of @name to use at most */
	bool sleeping;			/* its sleep slice is open */
};

static struct trace_task *task_find(const struct corio__tracer *tr,
				    uint32_t id)
{
	return (struct trace_task *)corio__htab_find(&tr->tasks, id);
}

static void task_add(struct corio__tracer *tr, uint32_t id, const char *name,
		     const char *file, uint32_t line)
{
	struct trace_task *t = corio__malloc(sizeof(*t));

	if (!t)
		return;
	*t = (struct trace_task){ .node.key = id, .name = name, .file = file,
				  .line = line, .name_max = 256 };
	if (corio__htab_insert(&tr->tasks, &t->node) < 0)
		corio__free(t);
}

static void task_free(struct corio__tracer *tr, struct trace_task *t)
{
	if (t->sleeping)
		tr->sleeping--;
	corio__free(t->own);
	corio__free(t);
}

/* A renamed task keeps a copy of its new name (@len bytes of @text). */
static void task_rename(struct corio__tracer *tr, uint32_t id,
			const char *text, size_t len)
{
	struct trace_task *t = task_find(tr, id);
	char *own;

	if (!t || !(own = corio__malloc(len + 1)))
		return;
	memcpy(own, text, len);
	own[len] = '\0';
	corio__free(t->own);
	t->own = own;
	t->name = own;
	t->name_max = (uint16_t)len;
}

static void task_drop(struct corio__tracer *tr, uint32_t id)
{
	struct trace_task *t = task_find(tr, id);

	if (t) {
		corio__htab_remove(&tr->tasks, &t->node);
		task_free(tr, t);
	}
}

void corio__trace_format_free(struct corio__tracer *tr)
{
	size_t i;

	for (i = 0; i < tr->tasks.n; i++) {
		struct corio__hnode *e = tr->tasks.b[i], *next;

		for (; e; e = next) {
			next = e->next;
			task_free(tr, (struct trace_task *)e);
		}
	}
	corio__htab_free(&tr->tasks);
}

/* A task's track: "name #id (file:line)" (@text: @len bytes of name). */
static void track_name(struct corio__tracer *tr, uint32_t task,
		       const char *text, size_t len, const char *file,
		       uint32_t line, struct corio__jbuf *jb)
{
	meta_begin(jb, tr->pid, task, "thread_name");
	corio__jb_raw(jb, "\"name\":\"");
	jb_esc(jb, text, len);
	corio__jb_raw(jb, " #");
	corio__jb_int(jb, task);
	corio__jb_raw(jb, " (");
	jb_esc(jb, base(file), 256);
	corio__jb_raw(jb, ":");
	corio__jb_int(jb, line);
	corio__jb_raw(jb, ")\"}}");
}

/* The metadata naming task @task's track and placing it. */
static void task_track(struct corio__tracer *tr, uint32_t task,
		       const char *text, size_t len, const char *file,
		       uint32_t line, struct corio__jbuf *jb)
{
	track_name(tr, task, text, len, file, line, jb);
	meta_begin(jb, tr->pid, task, "thread_sort_index");
	corio__jb_raw(jb, "\"sort_index\":");
	corio__jb_int(jb, task);
	corio__jb_raw(jb, "}}");
}

static void format_spawn(struct corio__tracer *tr, const struct corio__tev *e,
			 struct corio__jbuf *jb)
{
	task_track(tr, e->task, e->u.spawn.name, 256, e->u.spawn.file,
		   e->u.spawn.line, jb);
	task_add(tr, e->task, e->u.spawn.name, e->u.spawn.file,
		 e->u.spawn.line);
	/* Who spawned it: an instant at the start of its track. */
	corio__jb_event(jb, 'i', tr->pid, e->task, e->ts);
	corio__jb_raw(jb, ",\"s\":\"t\",\"cat\":\"task\"");
	jb_name(jb, "spawn");
	corio__jb_raw(jb, ",\"args\":{\"parent\":");
	corio__jb_int(jb, e->u.spawn.parent);
	corio__jb_raw(jb, "}}");
}

/* NAME: its text is in the slots after it, which may wrap. */
static unsigned format_name(struct corio__tracer *tr, uint64_t at,
			    uint64_t end, struct corio__jbuf *jb)
{
	const struct corio__tev *e = &tr->ring[at % CORIO__TRACE_SLOTS];
	char text[CORIO__TRACE_NAME_MAX];
	size_t len = e->op < sizeof(text) ? e->op : sizeof(text);
	unsigned slots = (unsigned)((len + sizeof(*e) - 1) / sizeof(*e));
	unsigned i;

	if (at + 1 + slots > end)	/* cannot happen: committed whole */
		return (unsigned)(end - at);
	for (i = 0; i < slots; i++) {
		size_t off = i * sizeof(*e);
		size_t n = len - off < sizeof(*e) ? len - off : sizeof(*e);

		memcpy(text + off, &tr->ring[(at + 1 + i) % CORIO__TRACE_SLOTS],
		       n);
	}
	track_name(tr, e->task, text, len, e->u.spawn.file, e->u.spawn.line,
		   jb);
	task_rename(tr, e->task, text, len);
	return 1 + slots;
}

/* The flow arrow's head: in the step starting at @begin (1 ns in, so it
 * binds to that step and not to one ending there). */
static void flow_end(struct corio__tracer *tr, const struct corio__tev *e,
		     struct corio__jbuf *jb)
{
	int64_t at = e->u.step.begin + 1 < e->ts ? e->u.step.begin + 1 :
		     e->ts;

	corio__jb_event(jb, 'f', tr->pid, e->task, at);
	corio__jb_raw(jb, ",\"bp\":\"e\"");
	jb_cat_id(jb, "wake", id_of(tr, 0, e->task));
	jb_name(jb, "wake");
	corio__jb_raw(jb, "}");
}

/* The arrow to the next step of task @woken starts at the end of the
 * step @e, which queued it (untraced wake-ups: trace.h). */
static void flow_start(struct corio__tracer *tr, const struct corio__tev *e,
		       uint32_t woken, struct corio__jbuf *jb)
{
	corio__jb_event(jb, 's', tr->pid, e->task,
			e->ts - 1 > e->u.step.begin ? e->ts - 1 :
			e->u.step.begin);
	jb_cat_id(jb, "wake", id_of(tr, 0, woken));
	jb_name(jb, "wake");
	corio__jb_raw(jb, "}");
}

/* The common part of a step's slice: its track, times, "name":"fn:line */
static void step_slice(struct corio__tracer *tr, const struct corio__tev *e,
		       struct corio__jbuf *jb)
{
	const struct corio_fninfo *fn = e->u.step.fn;

	corio__jb_event(jb, 'X', tr->pid, e->task, e->u.step.begin);
	corio__jb_raw(jb, ",\"dur\":");
	jb_us(jb, e->ts - e->u.step.begin);
	corio__jb_raw(jb, ",\"cat\":\"step\",\"name\":\"");
	jb_esc(jb, fn ? fn->name : "?", 256);
}

/* What a step stopped to await, for its name. */
static void step_what(const struct corio__tev *e, struct corio__jbuf *jb)
{
	switch (e->kind) {
	case CORIO_WAIT_NONE:
		corio__jb_raw(jb, "yield");
		break;
	case CORIO_WAIT_IO:
		corio__jb_raw(jb, corio__op_name(e->op));
		break;
	case CORIO_WAIT_JOIN:
		corio__jb_raw(jb, "join #");
		corio__jb_int(jb, (uint32_t)e->u.step.detail);
		break;
	default:
		corio__jb_raw(jb, corio_wait_kind_name(e->kind));
		break;
	}
}

static void format_step(struct corio__tracer *tr, const struct corio__tev *e,
			struct corio__jbuf *jb)
{
	const struct corio_fninfo *fn = e->u.step.fn;
	struct trace_task *t;

	step_slice(tr, e, jb);
	corio__jb_raw(jb, ":");
	corio__jb_int(jb, e->u.step.line);
	corio__jb_raw(jb, " ");
	step_what(e, jb);
	corio__jb_raw(jb, "\",\"args\":{\"at\":\"");
	jb_esc(jb, base(fn ? fn->file : NULL), 256);
	corio__jb_raw(jb, ":");
	corio__jb_int(jb, e->u.step.line);
	corio__jb_raw(jb, "\",\"waits\":\"");
	step_what(e, jb);
	corio__jb_raw(jb, "\",\"on\":\"");
	corio__jb_raw(jb, e->kind == CORIO_WAIT_NONE ? "ready" :
		      corio_wait_kind_name(e->kind));
	corio__jb_raw(jb, "\"");
	if (e->u.step.timer >= 0) {
		corio__jb_raw(jb, ",\"timer_in_us\":");
		jb_us(jb, e->u.step.timer - e->ts);
	}
	corio__jb_raw(jb, "}}");
	flow_end(tr, e, jb);
	if (e->kind == CORIO_WAIT_NONE)	/* it queued itself */
		flow_start(tr, e, e->task, jb);
	if (e->kind == CORIO_WAIT_SLEEP && (t = task_find(tr, e->task)) &&
	    !t->sleeping) {
		t->sleeping = true;
		tr->sleeping++;
		corio__jb_event(jb, 'b', tr->pid, e->task, e->ts);
		jb_cat_id(jb, "timer", id_of(tr, ID_SLEEP, e->task));
		jb_name(jb, "sleep");
		corio__jb_raw(jb, ",\"args\":{\"due_in_us\":");
		jb_us(jb, e->u.step.timer >= 0 ? e->u.step.timer - e->ts : 0);
		corio__jb_raw(jb, "}}");
	}
}

/* "@key":@v[,"error":"E..."]}} closing the args and the event: a
 * negative result is an errno, named. */
static void jb_result(struct corio__jbuf *jb, const char *key, int32_t v)
{
	const char *err = v < 0 ? strerrorname_np(-v) : NULL;

	corio__jb_raw(jb, "\"");
	corio__jb_raw(jb, key);
	corio__jb_raw(jb, "\":");
	corio__jb_int(jb, v);
	if (err) {
		corio__jb_raw(jb, ",\"error\":\"");
		corio__jb_raw(jb, err);
		corio__jb_raw(jb, "\"");
	}
	corio__jb_raw(jb, "}}");
}

static void format_done(struct corio__tracer *tr, const struct corio__tev *e,
			struct corio__jbuf *jb)
{
	step_slice(tr, e, jb);
	corio__jb_raw(jb, " returns\",\"args\":{");
	jb_result(jb, "status", e->u.step.detail);
	flow_end(tr, e, jb);
	if (e->u.step.timer >= 0)	/* its end wakes its joiner */
		flow_start(tr, e, (uint32_t)e->u.step.timer, jb);
	task_drop(tr, e->task);
}

static void format_wake(struct corio__tracer *tr, const struct corio__tev *e,
			struct corio__jbuf *jb)
{
	struct trace_task *t;

	corio__jb_event(jb, 's', tr->pid, e->u.wake.waker, e->u.wake.flow_ts);
	jb_cat_id(jb, "wake", id_of(tr, 0, e->task));
	jb_name(jb, "wake");
	corio__jb_raw(jb, "}");
	if (tr->sleeping && (t = task_find(tr, e->task)) && t->sleeping) {
		t->sleeping = false;
		tr->sleeping--;
		corio__jb_event(jb, 'e', tr->pid, e->task, e->ts);
		jb_cat_id(jb, "timer", id_of(tr, ID_SLEEP, e->task));
		jb_name(jb, "sleep");
		corio__jb_raw(jb, e->u.wake.phase == CORIO__TP_TIMERS ?
			      ",\"args\":{\"fired\":true}}" :
			      ",\"args\":{\"fired\":false}}");
	}
}

static const char *const phase_names[CORIO__TP_COUNT] = {
	[CORIO__TP_NONE] = "?",
	[CORIO__TP_OUTSIDE] = "outside the loop",
	[CORIO__TP_RUN] = "run ready tasks",
	[CORIO__TP_MESSAGES] = "messages",
	[CORIO__TP_WAIT] = "submit and wait",
	[CORIO__TP_REAP] = "reap completions",
	[CORIO__TP_TIMERS] = "fire timers",
};

/* A counter's new @value at @ts, written when it changed from *@last. */
static void counter(struct corio__tracer *tr, int64_t ts, const char *name,
		    const char *series, uint64_t value, uint64_t *last,
		    struct corio__jbuf *jb)
{
	if (value == *last)
		return;
	*last = value;
	corio__jb_event(jb, 'C', tr->pid, -1, ts);
	jb_name(jb, name);
	corio__jb_raw(jb, ",\"args\":{\"");
	corio__jb_raw(jb, series);
	corio__jb_raw(jb, "\":");
	corio__jb_int(jb, (int64_t)value);
	corio__jb_raw(jb, "}}");
}

static void format_phase(struct corio__tracer *tr, const struct corio__tev *e,
			 struct corio__jbuf *jb)
{
	unsigned p = e->kind < CORIO__TP_COUNT ? e->kind : CORIO__TP_NONE;

	corio__jb_event(jb, 'X', tr->pid, 0, e->u.phase.begin);
	corio__jb_raw(jb, ",\"dur\":");
	jb_us(jb, e->ts - e->u.phase.begin);
	corio__jb_raw(jb, ",\"cat\":\"loop\"");
	jb_name(jb, phase_names[p]);
	if (p == CORIO__TP_REAP) {
		corio__jb_raw(jb, ",\"args\":{\"completions\":");
		corio__jb_int(jb, e->u.phase.reaped);
		corio__jb_raw(jb, "}");
	}
	corio__jb_raw(jb, "}");
	counter(tr, e->ts, "tasks", "ready", e->u.phase.ready,
		&tr->last_ready, jb);
	counter(tr, e->ts, "ops", "in flight", e->u.phase.inflight,
		&tr->last_inflight, jb);
	counter(tr, e->ts, "timers", "armed", e->u.phase.timers,
		&tr->last_timers, jb);
	if (p == CORIO__TP_REAP)
		counter(tr, e->ts, "completions", "per wait",
			e->u.phase.reaped, &tr->last_reaped, jb);
}

/* ,"args":{"res":@res[,"error":"E..."]} */
static void jb_res(struct corio__jbuf *jb, int32_t res)
{
	corio__jb_raw(jb, ",\"args\":{");
	jb_result(jb, "res", res);
}

static void format_io(struct corio__tracer *tr, const struct corio__tev *e,
		      struct corio__jbuf *jb)
{
	bool source = e->type == CORIO__TEV_SOURCE ||
		      e->type == CORIO__TEV_SOURCE_CQE;
	uint64_t id = source ? id_of(tr, ID_SOURCE, e->u.io.src >> 3) :
		      id_of(tr, ID_IO, e->task);
	char ph = 'b';

	if (e->type == CORIO__TEV_IO_DONE)
		ph = 'e';
	else if (e->type == CORIO__TEV_SOURCE_CQE)
		ph = e->kind & 2 ? 'n' : 'e';
	corio__jb_event(jb, ph, tr->pid, e->task, e->ts);
	jb_cat_id(jb, "io", id);
	jb_name(jb, corio__op_name(e->op));
	if (ph != 'b') {
		jb_res(jb, e->u.io.res);
		return;
	}
	corio__jb_raw(jb, ",\"args\":{\"fd\":");
	corio__jb_int(jb, e->u.io.fd);
	if (e->u.io.len) {
		corio__jb_raw(jb, ",\"len\":");
		corio__jb_int(jb, (int64_t)e->u.io.len);
	}
	if (source)
		corio__jb_raw(jb, e->kind & 1 ? ",\"source\":\"background\"" :
			      ",\"source\":\"multishot\"");
	corio__jb_raw(jb, "}}");
}

unsigned corio__trace_format(struct corio__tracer *tr, uint64_t at,
			     uint64_t end, struct corio__jbuf *jb)
{
	const struct corio__tev *e = &tr->ring[at % CORIO__TRACE_SLOTS];

	switch (e->type) {
	case CORIO__TEV_SPAWN:
		format_spawn(tr, e, jb);
		break;
	case CORIO__TEV_NAME:
		return format_name(tr, at, end, jb);
	case CORIO__TEV_STEP:
		format_step(tr, e, jb);
		break;
	case CORIO__TEV_DONE:
		format_done(tr, e, jb);
		break;
	case CORIO__TEV_WAKE:
		format_wake(tr, e, jb);
		break;
	case CORIO__TEV_PHASE:
		format_phase(tr, e, jb);
		break;
	case CORIO__TEV_DRAIN:
		/* Inside the loop's phase slice, or a task's step. */
		corio__jb_event(jb, 'X', tr->pid, 0, e->u.phase.begin);
		corio__jb_raw(jb, ",\"dur\":");
		jb_us(jb, e->ts - e->u.phase.begin);
		corio__jb_raw(jb, ",\"cat\":\"trace\",\"name\":\"trace: the "
			      "loop writes its full ring\"}");
		break;
	default:
		format_io(tr, e, jb);
		break;
	}
	return 1;
}

void corio__trace_format_process(struct corio__tracer *tr,
				 struct corio__jbuf *jb)
{
	meta_begin(jb, tr->pid, -1, "process_name");
	corio__jb_raw(jb, "\"name\":\"loop ");
	corio__jb_int(jb, tr->pid);
	corio__jb_raw(jb, " (");
	jb_esc(jb, tr->desc, sizeof(tr->desc));
	corio__jb_raw(jb, ")\"}}");
	meta_begin(jb, tr->pid, -1, "process_sort_index");
	corio__jb_raw(jb, "\"sort_index\":");
	corio__jb_int(jb, tr->pid);
	corio__jb_raw(jb, "}}");
	meta_begin(jb, tr->pid, 0, "thread_name");
	corio__jb_raw(jb, "\"name\":\"loop\"}}");
	meta_begin(jb, tr->pid, 0, "thread_sort_index");
	corio__jb_raw(jb, "\"sort_index\":0}}");
}

void corio__trace_format_tracks(struct corio__tracer *tr,
				struct corio__jbuf *jb)
{
	size_t i;

	corio__trace_format_process(tr, jb);
	for (i = 0; i < tr->tasks.n; i++) {
		const struct corio__hnode *e;

		for (e = tr->tasks.b[i]; e; e = e->next) {
			const struct trace_task *t = (const void *)e;

			task_track(tr, (uint32_t)e->key, t->name, t->name_max,
				   t->file, t->line, jb);
		}
	}
}
