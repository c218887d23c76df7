/* SPDX-License-Identifier: MIT */
/*
 * corio/frame.h - the frame ABI shared by the macro DSL, the code generator
 * and the runtime's own awaitable operations.
 *
 * Every invocation of an async function is a heap frame that starts with
 * struct corio_frame.  A frame never moves, so pointers to its fields stay
 * valid across awaits.  The function's state machine is its resume function:
 *
 *	struct corio_frame *resume(struct corio_frame *self);
 *
 * which runs from the current resume point to the next suspension and returns
 *	NULL             the frame has finished (result stored, err set),
 *	CORIO_SUSPENDED  the task waits on an event source (I/O, timer, join...),
 *	another frame    run that frame next: a child it just started, or itself
 *	                 again (after recording an error to unwind with).
 *
 * A trampoline in the runtime loops on that, so a chain of awaits runs at a
 * constant C stack depth and a child that finishes without suspending costs
 * no trip through the ready queue.
 *
 * Starting a call.  An async function `T f(A a, B b)` is entered through
 *
 *	struct corio_frame *f__start(struct corio_frame *parent, A a, B b,
 *				     T *result);
 *
 * (no @result parameter when T is void).  It allocates and fills the frame
 * without running it.  @result may be NULL to discard the value; otherwise
 * the child writes it there before finishing, which is usually a field of
 * the parent's frame.  f__start returns
 *	a new frame       the parent returns it from resume (the trampoline
 *	                  runs it),
 *	NULL              allocation failed: the parent unwinds with -ENOMEM,
 *	CORIO_SUSPENDED   f is a runtime operation that registered the calling
 *	                  task with an event source; the parent suspends, and
 *	                  the operation stores *result before it is resumed,
 *	CORIO_READY       the operation completed at once and stored *result.
 * Runtime operations (corio_read, corio_sleep, corio_join...) keep their
 * state in the task, so awaiting them allocates nothing.
 *
 * Errors and unwinding.  Values travel in results (by convention a negative
 * errno for int and ssize_t results, as in liburing).  A frame that fails as
 * a whole (cancellation, -ENOMEM when starting a child, an explicit throw)
 * sets err and runs its cleanup section; when it finishes with err != 0 its
 * parent is resumed at CORIO_STATE_UNWIND with the same err, so the error
 * climbs the chain running every cleanup section and ends as the task's
 * status (what corio_join returns).
 */
#ifndef CORIO_FRAME_H
#define CORIO_FRAME_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_frame;

typedef struct corio_frame *(*corio_resume_fn)(struct corio_frame *self);

/* Static description of one async function, shared by all its frames. */
struct corio_fninfo {
	corio_resume_fn resume;	/* the state machine */
	const char *name;	/* function name, for reports */
	const char *file;	/* source file of the definition */
	uint32_t line;		/* line of the definition */
	uint32_t frame_size;	/* sizeof the whole frame struct */
};

/* The common header; first member of every frame. */
struct corio_frame {
	const struct corio_fninfo *info;	/* set by corio_frame_alloc */
	struct corio_frame *parent;	/* resumed when this frame finishes;
					 * NULL for a task's root frame */
	uint32_t state;		/* resume point: 0 = not started */
	int32_t err;		/* 0, or -errno the frame fails with */
	uint32_t line;		/* source line of the current await */
	uint32_t flags;		/* CORIO_FRAME_* */
};

/* Resume point that means "jump to the cleanup section". */
#define CORIO_STATE_UNWIND UINT32_MAX

/* flags: the frame is running its cleanup section (no awaits allowed).
 * Bits 0x100 and up are the runtime's own: set only CORIO_FRAME_*, and
 * with |=. */
#define CORIO_FRAME_FINALLY 0x1u

/* Markers returned by start functions and resume functions. */
#define CORIO_SUSPENDED ((struct corio_frame *)(uintptr_t)1)
#define CORIO_READY ((struct corio_frame *)(uintptr_t)2)

/*
 * Allocate a zeroed frame of info->frame_size bytes from the calling
 * thread's loop, with its info and parent set.  For start functions.
 * Returns NULL when memory runs out or no loop exists on this thread.
 */
CORIO_EXTERN struct corio_frame *corio_frame_alloc(
	const struct corio_fninfo *info, struct corio_frame *parent);

/*
 * Release a frame that was allocated but never handed to the runtime (a
 * start function that fails after allocating).  Frames that ran are
 * released by the runtime.
 */
CORIO_EXTERN void corio_frame_free(struct corio_frame *frame);

/*
 * Report an ABI violation (await inside a cleanup section, resume of a
 * finished frame) naming the function and line, then abort.  These are
 * programming errors that cannot be returned to anyone.
 */
CORIO_EXTERN void corio_frame_misuse(const struct corio_frame *frame,
				     const char *what);

/*
 * Internal, do not call: what an awaiting frame returns from its resume
 * function after calling a start function that gave @child.
 */
static inline struct corio_frame *corio__await_step(struct corio_frame *self,
						    struct corio_frame *child)
{
	if (child == 0) {
		self->err = -12; /* -ENOMEM without <errno.h> */
		self->state = CORIO_STATE_UNWIND;
		return self;
	}
	return child;	/* a new frame, or CORIO_SUSPENDED */
}

/*
 * Internal, do not call: make @child (a frame from f__start(NULL, ...))
 * a child of @self, so awaiting it runs it as a call.
 */
static inline struct corio_frame *corio__adopt(struct corio_frame *self,
					       struct corio_frame *child)
{
	if (child)
		child->parent = self;
	return child;
}

#ifdef __cplusplus
}
#endif

#endif /* CORIO_FRAME_H */
