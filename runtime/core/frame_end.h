/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/frame_end.h - frames that own tasks.
 *
 * A frame may own objects whose tasks keep pointers into it (the members
 * of a task group it initialised, corio/group.h).  Such a frame carries
 * CORIO__FRAME_OWNER, and when it finishes, however it finishes, the
 * trampoline hands it to the layer that owns those objects before
 * releasing it: that layer may keep the frame (CORIO__FRAME_ENDED) and
 * suspend the task until the tasks that use the frame have ended.  The
 * trampoline then calls it again instead of resuming the frame.  Frames
 * without the flag pay one test of a word the trampoline already reads.
 *
 * The hook is a function pointer so that core calls nothing above it:
 * the layer that sets CORIO__FRAME_OWNER registers its hook first.
 */
#ifndef CORIO_FRAME_END_H
#define CORIO_FRAME_END_H

#include <stdbool.h>

#include "core/internal.h"

/* Frame flags above the public ones (corio/frame.h): the runtime's own. */
#define CORIO__FRAME_OWNER	0x100u	/* its end goes through the hook */
#define CORIO__FRAME_ENDED	0x200u	/* finished, kept by the hook: never
					 * resume it again */

/*
 * @f, a frame of @t with CORIO__FRAME_OWNER, has finished (f->err says
 * how).  Returns false when @f may be released now (the hook has cleared
 * CORIO__FRAME_OWNER or left nothing for a later call), or true after
 * suspending @t (CORIO__FRAME_ENDED set on @f): the trampoline keeps @f
 * as the task's top frame and calls the hook again when @t next runs.
 */
typedef bool corio__frame_end_fn(struct corio_loop *loop,
				 struct corio_task *t, struct corio_frame *f);

/* Install @fn as the hook (the same one from every thread; idempotent). */
void corio__frame_end_register(corio__frame_end_fn *fn);

/* task.c: @f (CORIO__FRAME_OWNER) finished; see corio__frame_end_fn. */
bool corio__frame_end(struct corio_loop *loop, struct corio_task *t,
		      struct corio_frame *f);

#endif /* CORIO_FRAME_END_H */
