/* SPDX-License-Identifier: MIT */
/*
 * corio/graph.h - what every task waits for, and deadlock reports.
 *
 * The loop knows, for each task, what it awaits (a task, a mutex and its
 * owner, a channel, an I/O operation, a timer...), where (the file:line of
 * the await) and since when.  Two detectors use it:
 *
 *  - an eager cycle check when a task joins another or waits for a mutex:
 *    a task awaits one thing at a time, so the check walks one chain, with
 *    no allocation, and the await that would close a cycle fails with
 *    -EDEADLK (CORIO_DEADLOCK_AWAIT_CYCLE);
 *  - a quiescence check: nothing is ready, no I/O is in flight, no timer is
 *    armed and nobody outside the loop was declared able to wake a task
 *    (corio_loop_external_ref), yet tasks still wait: they never will
 *    (CORIO_DEADLOCK_GLOBAL).
 *
 * Either way the loop keeps a report, readable as a struct, as text and as
 * a Graphviz graph, and applies its policy (struct corio_loop_opts).
 */
#ifndef CORIO_GRAPH_H
#define CORIO_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;
struct corio_task;

/* What a task waits on. */
enum corio_wait_kind {
	CORIO_WAIT_NONE = 0,	/* ready or running */
	CORIO_WAIT_IO,		/* an io_uring operation */
	CORIO_WAIT_SLEEP,	/* a timer */
	CORIO_WAIT_JOIN,	/* another task's end */
	CORIO_WAIT_CHAN_SEND,	/* room in a channel, or a receiver */
	CORIO_WAIT_CHAN_RECV,	/* an element of a channel */
	CORIO_WAIT_MUTEX,	/* a mutex (which has an owner) */
	CORIO_WAIT_SEM,		/* a semaphore permit */
	CORIO_WAIT_EVENT,	/* an event */
	CORIO_WAIT_WAITGROUP,	/* a wait group's count to reach zero */
	CORIO_WAIT_COMPLETION,	/* a completion to be resolved */
	CORIO_WAIT_GROUP,	/* members of a task group to finish */
	CORIO_WAIT_BLOCKING,	/* a call on a worker thread (corio_blocking) */
	CORIO_WAIT_SIGNAL,	/* a signal (corio_signal) */
	CORIO_WAIT_BUS_RECV,	/* an event of a bus subscription */
	CORIO_WAIT_BUS_PUBLISH,	/* room in a bus subscriber's queue */
	CORIO_WAIT_SELECT,	/* one of several alternatives (corio_select) */
};

/* "io", "sleep", "join", "channel send", ... */
CORIO_EXTERN const char *corio_wait_kind_name(enum corio_wait_kind kind);

enum corio_deadlock_kind {
	CORIO_DEADLOCK_NONE = 0,
	CORIO_DEADLOCK_AWAIT_CYCLE,	/* joins and mutex owners close a cycle
					 * (a task that joins itself or locks
					 * a mutex it holds is a cycle of one) */
	CORIO_DEADLOCK_GLOBAL,		/* nothing can ever wake the waiters */
	CORIO_DEADLOCK_OWNER_DEAD,	/* a task ended holding a mutex: the
					 * report's first task (done), then
					 * the waiters the mutex passed to */
	CORIO_DEADLOCK_SCOPE,		/* every task of a scope waits for
					 * another of them (corio/scope.h) */
};

/* What the loop does when it finds a deadlock. */
enum corio_deadlock_policy {
	/*
	 * Keep the report (corio_loop_deadlock).  A cycle fails the await
	 * that would close it with -EDEADLK; a global deadlock makes
	 * corio_loop_run return -EDEADLK with the tasks left as they are
	 * (cancel them and run again to clean up).  The default.
	 */
	CORIO_DEADLOCK_RETURN = 0,
	/*
	 * Print the report on stderr and carry on: a cycle fails its await
	 * with -EDEADLK; in a global deadlock every blocked wait fails with
	 * -EDEADLK, so the tasks can unwind.
	 */
	CORIO_DEADLOCK_REPORT_CONTINUE,
	/* Print the report on stderr and abort(). */
	CORIO_DEADLOCK_ABORT,
};

/* One frame of a task's chain of async calls. */
struct corio_frame_site {
	const char *fn;			/* the async function */
	const char *file;		/* file:line of the await it is in */
	unsigned line;
};

/* One task as the report sees it.  Strings are static or the user's. */
struct corio_task_info {
	uint64_t id;
	const char *name;
	const char *state;		/* "waiting", "ready", "done"... */
	enum corio_wait_kind wait;
	const char *object;		/* name of what it waits on, or NULL */
	char object_state[48];		/* what that object holds, e.g.
					 * "capacity 0, 0 queued", or "" */
	uint64_t object_task;		/* the joined task or mutex owner, or 0 */
	const char *holder_file;	/* where the mutex owner locked it */
	unsigned holder_line;
	const char *await_fn;		/* the function suspended in the await */
	const char *await_file;		/* file:line of that await */
	unsigned await_line;
	int64_t wait_ns;		/* how long it has waited */
	const char *spawn_file;		/* where it was spawned, and by whom */
	unsigned spawn_line;
	uint64_t parent;		/* spawning task id, 0 = outside tasks */
	/* The chain of async calls, innermost first (frames[0] is the
	 * await_* frame), root last, as far as @nframes; @depth counts the
	 * whole chain, and when it is larger the frames between the
	 * innermost CORIO_REPORT_FRAMES - 1 and the root were left out.
	 * Owned by the report; NULL from corio_task_describe. */
	const struct corio_frame_site *frames;
	size_t nframes;
	size_t depth;
};

/* The most frames a report keeps per task (see corio_task_info). */
#define CORIO_REPORT_FRAMES 32

struct corio_deadlock_report {
	enum corio_deadlock_kind kind;
	size_t ncycle;			/* the cycle, lowest task id first */
	struct corio_task_info *cycle;
	size_t nblocked;		/* other blocked tasks, by id */
	struct corio_task_info *blocked;
	unsigned external_refs;		/* declared outside wakers */
	const char *scope;		/* CORIO_DEADLOCK_SCOPE: its name */
};

/* The deadlock report of the loop's current or last run, or NULL when it
 * found none (each corio_loop_run starts without one). */
CORIO_EXTERN const struct corio_deadlock_report *corio_loop_deadlock(
	const struct corio_loop *loop);

/*
 * Write @r as text into @buf (always terminated when @len > 0).  Returns the
 * length the whole text needs, as snprintf does.
 */
CORIO_EXTERN size_t corio_deadlock_format(const struct corio_deadlock_report *r,
					  char *buf, size_t len);

/* Write @r as a Graphviz DOT digraph to @f.  Returns 0 or -EIO. */
CORIO_EXTERN int corio_deadlock_write_dot(const struct corio_deadlock_report *r,
					  FILE *f);

/*
 * Declare (@delta > 0) or withdraw (@delta < 0) wakers outside the loop
 * (another thread, a signal handler) that may wake one of its tasks, so the
 * quiescence check does not report a deadlock while they exist.  Returns the
 * new count, or -EINVAL when it would drop below zero.
 */
CORIO_EXTERN int corio_loop_external_ref(struct corio_loop *loop, int delta);

/*
 * Write every live task of @loop (running, ready, waiting, and finished but
 * not yet joined) with what it waits on and where (its chain of async
 * calls, as reports show it), one per task, by id, to @f.  Returns the
 * number of tasks, or -EIO, -ENOMEM.
 */
CORIO_EXTERN int corio_loop_dump(struct corio_loop *loop, FILE *f);

/* Fill *@info with what @task is doing now (without its chain of frames:
 * info->frames is NULL; corio_task_frames gives it). */
CORIO_EXTERN void corio_task_describe(const struct corio_task *task,
				      struct corio_task_info *info);

/*
 * Store the chain of async calls of @task, innermost frame first, in
 * @sites (at most @max of them; @sites may be NULL when @max is 0).
 * Returns the depth of the whole chain (0 for a finished task).
 */
CORIO_EXTERN size_t corio_task_frames(const struct corio_task *task,
				      struct corio_frame_site *sites,
				      size_t max);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_GRAPH_H */
