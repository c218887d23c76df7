/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/trace_event.h - what the three parts of tracing share:
 * trace.c records binary events on the loop's thread, trace_json.c turns
 * them into Chrome/Perfetto trace-event JSON, trace_file.c owns the files
 * and the thread that writes them.
 *
 * Each traced loop has a ring of CORIO__TRACE_SLOTS fixed-size events
 * with one producer (the loop's thread) and one consumer at a time (whoever
 * holds the file's lock: its writer thread, or the loop's thread itself
 * when its ring is full).  Nothing is dropped: a full ring is drained by
 * the loop before it records more.
 */
#ifndef CORIO_TRACE_EVENT_H
#define CORIO_TRACE_EVENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/trace.h"
#include "support/htab.h"

/* Events per ring (48 bytes each: 768 KiB per loop); a power of two. */
#define CORIO__TRACE_SLOTS 16384u
/* The writer thread's period when no ring asks for it sooner (ns). */
#define CORIO__TRACE_PERIOD_NS 100000000
/* Longest task name a trace keeps (longer ones are cut). */
#define CORIO__TRACE_NAME_MAX 128u

enum corio__tev_type {
	CORIO__TEV_SPAWN = 1,	/* a task's track: name, spawn site */
	CORIO__TEV_NAME,	/* a renamed task; its text follows in the
				 * next slots (@op bytes) */
	CORIO__TEV_STEP,	/* a step that ended in a suspension */
	CORIO__TEV_DONE,	/* a step that ended the task */
	CORIO__TEV_WAKE,	/* a task was queued to run */
	CORIO__TEV_PHASE,	/* a loop phase ended; with the counters */
	CORIO__TEV_IO,		/* a task's operation started */
	CORIO__TEV_IO_DONE,	/* ... and completed */
	CORIO__TEV_SOURCE,	/* a source's operation started */
	CORIO__TEV_SOURCE_CQE,	/* ... one of its completions */
	CORIO__TEV_DRAIN,	/* the loop drained its full ring itself */
};

/*
 * One binary event.  @ts is when it happened (for STEP, DONE and PHASE:
 * when the step or phase ended), in ns since the file's epoch.  Pointers
 * are to static strings only (function names, files, opcode names): the
 * event is formatted later, on another thread.
 */
struct corio__tev {
	int64_t ts;
	uint32_t task;		/* the task's id, 0 for none */
	uint8_t type;		/* enum corio__tev_type */
	uint8_t kind;		/* STEP: enum corio_wait_kind it waits on
				 * (NONE: it yielded); PHASE: enum
				 * corio__trace_phase;
				 * SOURCE*: true for a background source;
				 * SOURCE_CQE: + 2 when more follow */
	uint16_t op;		/* STEP, IO*, SOURCE*: the opcode;
				 * NAME: the text's length */
	union {
		struct {	/* STEP, DONE */
			int64_t begin;
			const struct corio_fninfo *fn;	/* the frame it
					 * stopped in; DONE: the root */
			int64_t timer;	/* STEP: its timer's deadline;
					 * DONE: the id of the joiner its
					 * end wakes; or -1 */
			uint32_t line;	/* the await's line */
			int32_t detail;	/* JOIN: the task joined;
					 * DONE: the status */
		} step;
		struct {	/* WAKE */
			int64_t flow_ts;	/* where its arrow starts:
						 * inside the waker's step or
						 * the loop's phase */
			uint32_t waker;		/* task id; 0: the loop */
			uint8_t phase;		/* the loop's phase then */
		} wake;
		struct {	/* SPAWN, NAME */
			const char *name;	/* SPAWN only */
			const char *file;	/* the spawn site */
			uint32_t line;
			uint32_t parent;	/* SPAWN: the spawning task */
		} spawn;
		struct {	/* PHASE; DRAIN: begin only */
			int64_t begin;
			uint64_t inflight;	/* ops in flight at its end */
			uint32_t ready;		/* tasks ready at its end */
			uint32_t timers;	/* timers armed at its end */
			uint32_t reaped;	/* completions handed out */
		} phase;
		struct {	/* IO, IO_DONE, SOURCE, SOURCE_CQE */
			uint64_t src;		/* SOURCE*: the source */
			uint64_t len;		/* IO, SOURCE */
			int32_t fd;		/* IO, SOURCE */
			int32_t res;		/* *_DONE, SOURCE_CQE */
		} io;
	} u;
};

_Static_assert(sizeof(struct corio__tev) == 48, "a ring slot is 48 bytes");

struct corio__trace_file;

/*
 * A traced loop's state.  The first part belongs to the loop's thread;
 * @tail and what follows to whoever holds the file's lock.
 */
struct corio__tracer {
	struct corio__tev *ring;	/* CORIO__TRACE_SLOTS events */
	_Atomic uint64_t head;		/* slots committed (release: the
					 * slots are written before) */
	uint64_t head_local;		/* @head, as the producer knows it */
	uint64_t tail_seen;		/* @tail when last read */
	uint64_t kick_at;		/* @head_local when the writer was last
					 * asked to drain */
	int64_t epoch;			/* the file's clock origin */
	struct corio__trace_file *file;
	struct corio_loop *loop;	/* the loop traced */
	uint32_t pid;			/* the loop's process track */
	/* The loop as traced so far. */
	uint8_t phase;			/* enum corio__trace_phase */
	int64_t phase_begin;
	uint32_t reaped;		/* completions in this phase */
	int64_t step_begin;		/* when the next step begins, at the
					 * latest: the last step's end, or the
					 * RUN phase's start */

	/* The consumer's, under the file's lock. */
	_Atomic uint64_t tail;		/* slots formatted (release: done
					 * reading them) */
	struct corio__tracer *next;	/* in the file's list */
	uint64_t last_ready, last_inflight, last_timers, last_reaped;
					/* counters as last written: only
					 * changes are */
	struct corio__htab tasks;	/* the live tasks as traced so far
					 * (trace_json.c: struct
					 * trace_task), to name their tracks
					 * again at the start of a window
					 * segment (trace_file.c) */
	uint32_t sleeping;		/* of them, those whose sleep slice
					 * is open, closed by their next
					 * wake-up */
	char desc[sizeof(((struct corio_loop *)0)->backend) + 32];
					/* what the process track says */
};

/*
 * The JSON being written to a file: a buffer that goes to the file when
 * full (trace_file.c), between the events of a document whose first
 * event has no comma before it.
 */
struct corio__jbuf {
	char *buf;
	size_t len, cap;
	bool first;			/* no event written yet */
	struct corio__trace_file *file;
};

/* trace_file.c: write the buffer out (errors are reported there once). */
void corio__jb_flush(struct corio__jbuf *jb);

/* trace_json.c: the pieces of JSON. */
void corio__jb_mem_slow(struct corio__jbuf *jb, const char *s, size_t n);
/* Append @n bytes (inline: every piece of every event comes here). */
static inline void corio__jb_mem(struct corio__jbuf *jb, const char *s,
				 size_t n)
{
	if (corio__likely(jb->len + n <= jb->cap)) {
		memcpy(jb->buf + jb->len, s, n);
		jb->len += n;
		return;
	}
	corio__jb_mem_slow(jb, s, n);
}
/* Append @s as it is: for a literal, the length is a constant. */
static inline void corio__jb_raw(struct corio__jbuf *jb, const char *s)
{
	corio__jb_mem(jb, s, strlen(s));
}
void corio__jb_str(struct corio__jbuf *jb, const char *s, size_t max);
void corio__jb_int(struct corio__jbuf *jb, int64_t v);
/* Open an event: separator, '{', "ph", "pid", "tid", "ts" (tid < 0: none). */
void corio__jb_event(struct corio__jbuf *jb, char ph, uint32_t pid,
		     int64_t tid, int64_t ts);
/*
 * Write the binary event at @tr's slot @at (and the slots that belong to
 * it, all below @end) as JSON.  Returns the slots it used.
 */
unsigned corio__trace_format(struct corio__tracer *tr, uint64_t at,
			     uint64_t end, struct corio__jbuf *jb);
/* Free what formatting @tr allocated. */
void corio__trace_format_free(struct corio__tracer *tr);
/* The metadata events naming the process track of @tr (@tr->desc). */
void corio__trace_format_process(struct corio__tracer *tr,
				 struct corio__jbuf *jb);
/* The process track of @tr and the tracks of its live tasks, named again:
 * the first events of a window segment. */
void corio__trace_format_tracks(struct corio__tracer *tr,
				struct corio__jbuf *jb);

/* trace_file.c */
/*
 * Attach @tr to the file at @path, opening it when no loop has it open:
 * sets @tr's file, pid and epoch and writes the process track's names
 * (@tr->desc).  @limit is the file's size limit as CORIO_TRACE_LIMIT
 * spells it (NULL or "": none), taken from the first loop that names the
 * path.  0 or -errno (-EINVAL: @limit is not a size), with @why filled in.
 */
int corio__trace_file_attach(struct corio__tracer *tr, const char *path,
			     const char *limit, char *why, size_t whylen);
/* Drain @tr and detach it; the last one out completes the file. */
void corio__trace_file_detach(struct corio__tracer *tr);
/* Ask the writer thread to drain the rings now (any thread, no lock). */
void corio__trace_file_kick(struct corio__trace_file *f);
/* Drain @tr's ring now, from the loop's thread. */
void corio__trace_file_drain(struct corio__tracer *tr);
/* Take the file's lock to write events directly (rare ones that carry
 * text: deadlocks, stalls); NULL when nothing can be written. */
struct corio__jbuf *corio__trace_file_lock(struct corio__trace_file *f);
void corio__trace_file_unlock(struct corio__trace_file *f);

#endif /* CORIO_TRACE_EVENT_H */
