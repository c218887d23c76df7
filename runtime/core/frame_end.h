/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/frame_end.h - frames that own tasks.
 *
 * A frame may own objects whose tasks keep pointers into it (the members
 * of a task group it initialised, corio/group.h).  Such a frame carries
 * CORIO__FRAME_OWNER, and when it finishes, however it finishes, the
 * trampoline hands it to the layer that owns those objects before
 * releasing it, through the loop's frame_end hook: that layer may keep
 * the frame (CORIO__FRAME_ENDED) and suspend the task until the tasks
 * that use the frame have ended; the trampoline then calls the hook again
 * instead of resuming the frame.  Frames without the flag pay one test of
 * a word the trampoline reads anyway.
 *
 * The hook is the loop's, set by the layer that sets the flag (as the
 * mutexes set the abandon hook), so core names nothing above it.  It
 * returns false when the frame may be released now (the hook cleared
 * CORIO__FRAME_OWNER or left nothing for a later call), or true after
 * suspending the task with CORIO__FRAME_ENDED set on the frame, which
 * stays the task's top frame.
 */
#ifndef CORIO_FRAME_END_H
#define CORIO_FRAME_END_H

/* Frame flags above the public ones (corio/frame.h): the runtime's own. */
#define CORIO__FRAME_OWNER	0x100u	/* its end goes through the hook */
#define CORIO__FRAME_ENDED	0x200u	/* finished, kept by the hook: never
					 * resume it again */

#endif /* CORIO_FRAME_END_H */
