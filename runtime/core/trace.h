/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/trace.h - the hooks through which the loop reports what it
 * does to a trace file (CORIO_TRACE, corio_loop_opts.trace), and opening
 * and closing a loop's trace.
 *
 * Every hook is an inline test of loop->trace, NULL unless the loop is
 * traced: untraced, an event costs one predictable branch and a load from
 * a line the caller already touches.  The recording functions behind them
 * (trace.c) append a fixed-size binary event to the loop's ring; another
 * thread turns the rings into Chrome/Perfetto JSON (trace_file.c).
 */
#ifndef CORIO_TRACE_H
#define CORIO_TRACE_H

#include "core/internal.h"

struct corio__io;

/* The loop's phases as a trace shows them, on the loop's own track. */
enum corio__trace_phase {
	CORIO__TP_NONE = 0,	/* outside corio_loop_run */
	CORIO__TP_OUTSIDE,	/* a wake-up outside corio_loop_run (a task
				 * spawned before the run): encloses its
				 * flow arrow */
	CORIO__TP_RUN,		/* run ready tasks */
	CORIO__TP_MESSAGES,	/* messages from other threads */
	CORIO__TP_WAIT,		/* submit and wait */
	CORIO__TP_REAP,		/* hand the completions out */
	CORIO__TP_TIMERS,	/* fire due timers */
	CORIO__TP_COUNT,
};

/*
 * Start tracing @loop when @opts->trace, or else the CORIO_TRACE
 * environment variable, names a file ("" or unset: no trace).  Loops
 * naming the same file share it, one process track each.  Returns 0 or
 * -errno (the file cannot be opened or created, -ENOMEM); @why then says
 * why, naming the file.
 */
int corio__trace_open(struct corio_loop *loop,
		      const struct corio_loop_opts *opts, char *why,
		      size_t whylen);
/* Write out what @loop's ring still holds and stop tracing it (no-op when
 * it is not traced).  The file is complete once no loop traces it. */
void corio__trace_close(struct corio_loop *loop);

/* The recording functions; call them through the hooks below. */
void corio__trace_rec_name(struct corio_loop *loop,
			   const struct corio_task *t);
void corio__trace_rec_step_end(struct corio_loop *loop,
			       const struct corio_task *t);
void corio__trace_rec_step_done(struct corio_loop *loop,
				const struct corio_task *t,
				const struct corio_frame *root);
void corio__trace_rec_wake(struct corio_loop *loop,
			   const struct corio_task *t);
void corio__trace_rec_phase(struct corio_loop *loop,
			    enum corio__trace_phase phase);
void corio__trace_rec_io(struct corio_loop *loop, const struct corio_task *t,
			 const struct corio__io *io);
void corio__trace_rec_io_done(struct corio_loop *loop,
			      const struct corio_task *t, int32_t res);
void corio__trace_rec_source(struct corio_loop *loop,
			     struct corio__source *src,
			     const struct corio__io *io);
void corio__trace_rec_source_cqe(struct corio_loop *loop,
				 const struct corio__source *src, int32_t res,
				 uint32_t flags);
void corio__trace_rec_deadlock(struct corio_loop *loop);
void corio__trace_rec_stall(struct corio_loop *loop, uint64_t id,
			    const char *name, const char *fn,
			    const char *file, unsigned line, int64_t ran_ns);

/* @t was renamed (corio_task_set_name). */
static inline void corio__trace_name(struct corio_loop *loop,
				     const struct corio_task *t)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_name(loop, t);
}

/*
 * The step of @t ended in a suspension: @t->top is where it awaits.  A
 * step has no hook where it begins: it began when the one before it
 * ended, or its phase began (the scheduler's few ns between two steps
 * count in the second), which saves a branch per step untraced.
 */
static inline void corio__trace_step_end(struct corio_loop *loop,
					 const struct corio_task *t)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_step_end(loop, t);
}

/* The step of @t ended with its root frame @root finished (root->err is
 * the task's status); @t is not released yet. */
static inline void corio__trace_step_done(struct corio_loop *loop,
					  const struct corio_task *t,
					  const struct corio_frame *root)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_step_done(loop, t, root);
}

/*
 * @t was queued to run.  Last in the wake-up.  Two wake-ups have no hook
 * (task.c: wake_untraced), as the end of the step that makes them records
 * them: the running task queueing itself (a yield: a step that ends
 * ready) and a task's end waking its joiner.  The first wake-up of a task
 * is its spawn, which this records too: a spawn costs one branch, not two.
 */
static inline void corio__trace_wake(struct corio_loop *loop,
				     const struct corio_task *t)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_wake(loop, t);
}

/* The loop enters @phase (CORIO__TP_NONE: leaves corio_loop_run). */
static inline void corio__trace_phase(struct corio_loop *loop,
				      enum corio__trace_phase phase)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_phase(loop, phase);
}

/* @io was started for @t. */
static inline void corio__trace_io(struct corio_loop *loop,
				   const struct corio_task *t,
				   const struct corio__io *io)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_io(loop, t, io);
}

/* @t's operation completed with @res. */
static inline void corio__trace_io_done(struct corio_loop *loop,
					const struct corio_task *t,
					int32_t res)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_io_done(loop, t, res);
}

/* @io was started for the source @src. */
static inline void corio__trace_source(struct corio_loop *loop,
				       struct corio__source *src,
				       const struct corio__io *io)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_source(loop, src, io);
}

/* A completion of @src (CORIO__CQE_MORE in @flags: not its last). */
static inline void corio__trace_source_cqe(struct corio_loop *loop,
					   const struct corio__source *src,
					   int32_t res, uint32_t flags)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_source_cqe(loop, src, res, flags);
}

/* loop->dl.report was just made (or could not be: NULL). */
static inline void corio__trace_deadlock(struct corio_loop *loop)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_deadlock(loop);
}

/* The stall watchdog's thread reports a step of task #@id that has run
 * @ran_ns without awaiting (resumed in @fn at @file:@line). */
static inline void corio__trace_stall(struct corio_loop *loop, uint64_t id,
				      const char *name, const char *fn,
				      const char *file, unsigned line,
				      int64_t ran_ns)
{
	if (corio__unlikely(loop->trace))
		corio__trace_rec_stall(loop, id, name, fn, file, line, ran_ns);
}

#endif /* CORIO_TRACE_H */
