/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/internal.h - the loop and task records and the corio__ functions
 * shared between runtime files.  Nothing here is public.
 */
#ifndef CORIO_INTERNAL_H
#define CORIO_INTERNAL_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "corio.h"
#include "corio/completion.h"
#include "corio/graph.h"
#include "corio/pool.h"
#include "corio/sync.h"
#include "support/htab.h"
#include "support/list.h"
#include "support/slab.h"
#include "core/timer_wheel.h"

#define CORIO__UNUSED __attribute__((unused))
#define corio__likely(x) __builtin_expect(!!(x), 1)
#define corio__unlikely(x) __builtin_expect(!!(x), 0)

/* Task states. */
enum corio__task_state {
	CORIO__READY = 1,	/* in the ready queue */
	CORIO__RUNNING,		/* its frames are executing now */
	CORIO__WAITING,		/* suspended on what @wait says */
	CORIO__DONE,		/* finished: @status is final */
};

/* What a waiting task waits on. */
enum corio__wait {
	CORIO__WAIT_NONE = 0,
	CORIO__WAIT_IO,		/* an io_uring operation (@op names it) */
	CORIO__WAIT_SLEEP,	/* its timer */
	CORIO__WAIT_JOIN,	/* another task (@on.joined) */
	CORIO__WAIT_SYNC,	/* a wait queue (@on.queue): a primitive of
				 * corio/sync.h, a completion, a group...;
				 * @via.elem the element of a channel or bus
				 * operation */
};

/* Width of the result slot an operation writes (task @result). */
enum corio__result_kind {
	CORIO__RES_NONE = 0,
	CORIO__RES_INT,		/* int * */
	CORIO__RES_SSIZE,	/* ssize_t * */
	CORIO__RES_I64,		/* int64_t * */
};

#define CORIO__LINE_MAX		0x7fffffu	/* task @line: larger clamps */
#define CORIO__MUTEXES_MANY	0xffu		/* task @mutexes: saturated */

/* Task flags. */
#define CORIO__T_CANCELLED	0x01u	/* cancellation requested */
#define CORIO__T_CANCEL_SENT	0x02u	/* ASYNC_CANCEL submitted for its op */
#define CORIO__T_TIMED_OUT	0x04u	/* its deadline cancelled the op */
#define CORIO__T_DETACHED	0x08u	/* release when done */
#define CORIO__T_UNWIND		0x10u	/* woken by its cancellation with
					 * nothing handed over: -ECANCELED is
					 * injected when it next runs */
#define CORIO__T_PARKED		0x20u	/* on the loop's parked list */
#define CORIO__T_SLEEP_DEADLINE	0x40u	/* WAIT_SLEEP: the task deadline, not
					 * the sleep, set the timer */
#define CORIO__T_WATCHED	0x80u	/* watchers await its end (taskwatch.c):
					 * finish() calls corio__task_ended */

/*
 * A task.  It waits on one thing at a time (a stackless chain suspends only
 * in its innermost frame), so the state of the operation it awaits lives
 * here: awaiting allocates nothing.  Records come from the loop's slab.
 */
struct corio_task {
	struct corio_frame *top;	/* innermost frame: the one running,
					 * or suspended in its await (kept
					 * at every call and return); NULL
					 * once done */
	struct corio_task *next;	/* ready-queue link while READY */
	const char *name;		/* for reports; never NULL */
	const char *file;		/* spawn site */
	struct corio_task *joiner;	/* task awaiting our end, or NULL */
	/* What it waits on, one member per state (corio__task_on_*
	 * assert the state in debug builds). */
	union {
		struct corio_task *joined;	/* WAIT_JOIN */
		struct corio__sync *queue;	/* WAIT_SYNC */
		intptr_t fd_counted;	/* WAIT_IO: 1 + the fd it counts in
					 * the loop's fd_ops, or 0 */
		struct corio_task *zombie_prev;	/* DONE, on loop->zombies */
	} on;
	void *result;			/* where the awaited op's result goes,
					 * of @result_kind; may be NULL */
	union {
		void *elem;		/* WAIT_SYNC: see enum corio__wait */
		struct corio_task *parked_prev;	/* CORIO__T_PARKED (waits
					 * other than WAIT_SYNC) */
	} via;
	int64_t deadline;		/* corio_deadline_set, or NO_DEADLINE */
	/* The task's timer (timer.c), valid while @timer_where is not 0. */
	struct corio_task *timer_next;	/* in a wheel slot or the run */
	union {
		struct corio_task *timer_prev;	/* in a wheel slot or the run */
		size_t timer_index;		/* in the late heap */
	};
	union {
		int64_t timer_when;	/* its deadline, while armed */
		int32_t status;		/* when DONE (no timer then): 0 or
					 * -errno */
	};
	uint32_t id;			/* unique among live tasks (wraps
					 * after 2^32 spawns) */
	uint32_t parent_id;		/* the task that spawned it, or 0 */
	/* The spawn site's line, whether it belongs to a scope (scope.c
	 * keeps which), and the mutexes the task owns (sync.c: one that
	 * ends owning any passes them on).  Packed in one word so the
	 * record stays at 120 bytes; CORIO__MUTEXES_MANY saturates the
	 * count (the registry is searched at the end then). */
	uint32_t line : 23;
	uint32_t scoped : 1;
	uint32_t mutexes : 8;
	uint32_t wait_since;		/* WAITING: loop->now >> 20 (units of
					 * ~1 ms) when the wait began */
	uint8_t state;			/* enum corio__task_state */
	uint8_t wait;			/* enum corio__wait while WAITING */
	uint8_t result_kind;		/* enum corio__result_kind */
	uint8_t flags;			/* CORIO__T_* */
	uint8_t op;			/* WAIT_IO: enum corio__opcode */
	uint8_t runq;			/* its ready queue: 2 * its priority
					 * (enum corio_priority), + 1 when
					 * it has no deadline; sits in what
					 * was padding */
	uint16_t timer_where;		/* 0: not armed; CORIO__TW_LATE: in
					 * the late heap; else 1 + its list */
};

/* The task @t joins; it is waiting in a join. */
static inline struct corio_task *corio__task_joined(const struct corio_task *t)
{
	assert(t->state == CORIO__WAITING && t->wait == CORIO__WAIT_JOIN);
	return t->on.joined;
}

/* The wait queue @t is on; it is waiting on one. */
static inline struct corio__sync *corio__task_queue(const struct corio_task *t)
{
	assert(t->state == CORIO__WAITING && t->wait == CORIO__WAIT_SYNC);
	return t->on.queue;
}

/* The element of @t's channel or bus operation; it is waiting on one. */
static inline void *corio__task_elem(const struct corio_task *t)
{
	assert(t->state == CORIO__WAITING && t->wait == CORIO__WAIT_SYNC);
	return t->via.elem;
}

struct corio__reactor;
struct corio__fault;
struct corio__tracer;

/*
 * The ready queues: two per priority level, ready[2 * prio] for tasks with
 * a deadline (sorted by it, equal deadlines FIFO) and ready[2 * prio + 1]
 * for the others (FIFO).  Lower index runs first, subject to the aging
 * rule in task.c.  Linked through the tasks' @next.
 */
#define CORIO__RUNQS (2 * CORIO_PRIO_LEVELS)
#define CORIO__RUNQ_DEFAULT (2 * CORIO_PRIO_NORMAL + 1)	/* no deadline */
struct corio__runq {
	struct corio_task *head;
	struct corio_task *tail;
};

/* The scheduler's state (task.c). */
struct corio__sched {
	struct corio__runq ready[CORIO__RUNQS];	/* READY tasks */
	uint32_t ready_mask;		/* bit q: ready[q] is not empty; never
					 * CORIO__RUNQ_DEFAULT's bit (its
					 * head says): 0 in the common case */
	uint32_t ready_count[2];	/* tasks in ready[0..3] (HIGH and
					 * NORMAL), in ready[4..7] (LOW and
					 * IDLE): index runq / 4 */
	uint32_t steps;			/* task steps run while two or more
					 * queues held tasks (wraps) */
	uint32_t ready_since[CORIO__RUNQS]; /* while two or more queues
					 * hold tasks: @steps when ready[q]
					 * last ran or began to wait */
};

/* The deadlock detector's state (graph.c). */
struct corio__deadlock_state {
	struct corio_deadlock_report *report;	/* last report, or NULL */
	int policy;			/* enum corio_deadlock_policy */
	bool check;			/* not CORIO_LOOP_NO_DEADLOCK_CHECK */
	uint32_t external_refs;		/* declared wakers outside the loop */
};

/* The stall watchdog's view of the step running now (watchdog.c). */
struct corio__watch {
	_Atomic uint64_t seq;		/* odd while the fields change */
	_Atomic uint64_t idle_seq;	/* seq published between steps */
	/* Published under @seq; atomic (relaxed) because the watchdog
	 * thread reads them while the loop may be writing: a torn read is
	 * then discarded by the seq check, but must not be a data race. */
	_Atomic uint64_t id;
	_Atomic(const char *) name, fn, file;
	_Atomic unsigned line;
	int64_t threshold_ns;		/* 0: no watchdog */
	_Atomic uint64_t stalls;	/* steps reported */
	_Atomic int quit;
	bool running;
	pthread_t thread;
};

struct corio__io;
struct corio__source;
/*
 * A source's callback: one completion of its operation (@flags are
 * CORIO__CQE_*, reactor.h).  Runs on the loop's thread.
 */
typedef void corio__source_fn(struct corio__source *src, int32_t res,
			      uint32_t flags, uint16_t bid);

/*
 * An operation whose completions go to a callback instead of waking one
 * task: multishot accept and receive, and the loop's own reads of its
 * eventfd and signalfd.  Embedded in the object that owns it, which must
 * outlive the final completion (dispatch.c).
 */
struct corio__source {
	corio__source_fn *on_cqe;
	struct corio_loop *loop;
	uint32_t inflight;		/* started, final completion not seen */
	bool background;		/* not counted in ops_inflight: it alone
					 * must not keep a stalled loop waiting
					 * (the eventfd and signalfd reads) */
	uint8_t trace_op;		/* its opcode, while traced (trace.c) */
	struct corio__link link;	/* in loop->sources while in flight */
};

/*
 * State an upper layer keeps per loop (the blocking pool, the signals).
 * It registers once; the loop calls back for its statistics and at
 * corio_loop_destroy, after the sources' final completions, so that core
 * never names the layers above it.  Embed it first in that state.
 */
struct corio__loop_ext {
	void (*destroy)(struct corio_loop *loop, struct corio__loop_ext *ext);
	void (*stats)(const struct corio_loop *loop,
		      const struct corio__loop_ext *ext,
		      struct corio_loop_stats *stats);	/* or NULL */
	struct corio__loop_ext *next;
};

/* loop.c: register @ext with @loop (once). */
void corio__loop_ext_add(struct corio_loop *loop, struct corio__loop_ext *ext);

struct corio_loop {
	struct corio__reactor *reactor;
	struct corio__sched sched;	/* the ready queues (task.c) */
	struct corio_task *current;	/* the RUNNING task, or NULL */
	uint8_t slow;			/* CORIO__SLOW_*: which rare features
					 * are on, so that a hot path tests
					 * them all at once; kept by
					 * corio__loop_slow_sync() */
	struct corio__tracer *trace;	/* the trace it writes (trace.c), or
					 * NULL: every hook tests it */
	struct corio_task *zombies;	/* DONE, not yet joined or detached */
	struct corio_task *parked;	/* waiting on I/O, a timer or a join:
					 * linked through @next and, back,
					 * @via.parked_prev */
	struct corio__timers timers;	/* armed timers (timer_wheel.h) */
	struct corio__slab slab;
	pthread_t owner;
	uint32_t next_id;
	uint32_t run_batch;
	uint64_t unfinished;		/* spawned, not yet DONE */
	struct corio__sync syncs;	/* registry of live primitives */
	struct corio__deadlock_state dl;	/* the detector's (graph.c) */
	struct corio__scopes *scopes;	/* scope.c: NULL until the first
					 * corio_scope_create */
	int64_t now;			/* clock at the last wait's end: cheap
					 * timestamps for reports */
	bool virtual_clock;		/* CORIO_LOOP_VIRTUAL_CLOCK */
	int64_t vnow;			/* the virtual clock's time */
	_Atomic(struct corio_completion *) remote_head; /* resolved from
					 * other threads, newest first */
	struct corio__watch watch;	/* the stall watchdog, if enabled */
	struct corio__pool *pool;	/* corio_blocking's threads (prims/pool.c),
					 * or NULL */
	struct corio__loop_ext *exts;	/* upper layers' state, newest first */
	/* Set by the layer that counts t->mutexes (prims/sync.c): a task
	 * ended owning some; pass them on. */
	void (*abandon)(struct corio_loop *loop, struct corio_task *t);
	/* Set by the layer that gives frames their groups (prims/group.c):
	 * a frame with CORIO__FRAME_OWNER finished (core/frame_end.h). */
	bool (*frame_end)(struct corio_loop *loop, struct corio_task *t,
			  struct corio_frame *f);
	struct corio__groups *groups;	/* prims/group.c's, or NULL */
	struct corio__list sources;	/* struct corio__source in flight,
					 * newest first (drained at
					 * destroy) */
	bool closing;			/* corio_loop_destroy is draining them:
					 * sources do not re-arm */
	struct corio__signals *signals;	/* prims/signal.c's, or NULL */
	unsigned blocking_threads;	/* most worker threads */
	int wake_fd;			/* eventfd other threads write */
	uint64_t wake_buf;		/* target of the armed eventfd read */
	struct corio__source wake_src;	/* that read (completion.c) */
	uint32_t *fd_ops;		/* operations in flight per fd */
	uint32_t fd_ops_len;
	bool fd_ops_lossy;		/* a count was lost: always cancel */
	struct corio_loop_stats stats;
	bool running;			/* inside corio_loop_run */
	bool stop;			/* corio_loop_stop was called */
	char backend[256];	/* room for a fallback's reason */
	struct corio__htab taskwatch;	/* watchers of task ends
					 * (taskwatch.c) */
	/* Messages from other threads (post.c, runtime.c). */
	_Atomic int wake_pending;	/* the eventfd was written and the
					 * queue not drained since: a later
					 * sender need not write it again */
	_Atomic uint64_t posts_pending;	/* posted, not yet run: outside
					 * wakers already on their way */
	_Atomic uint64_t wake_writes;	/* eventfd writes by senders */
	_Atomic unsigned remote_senders; /* threads in corio__remote_push:
					 * destroy waits for them */
	uint32_t remote_abandoned;	/* tickets whose waiter left while a
					 * resolver was sending the value
					 * (remote.c): the loop lives on
					 * until they arrive */
	uint64_t posts_run;		/* messages run on this loop */
	uint64_t remote_drained;	/* the iteration that last drained the
					 * messages (completion.c) */
	bool hold;			/* a runtime's loop: keep running,
					 * asleep, with no task left */
	bool no_multishot;		/* CORIO_LOOP_NO_MULTISHOT */
	uint16_t next_bgid;		/* buffer group ids handed out */
	/* explore.c: the schedule this loop runs under, or NULL (FIFO). */
	struct corio__explore *explore;
	/* lockgraph.c: where mutexes report the order they are taken in,
	 * or NULL (off); the loop's own with CORIO_LOOP_LOCK_ORDER, else
	 * an exploration's, shared by its loops. */
	struct corio__lockgraph *lockgraph;
	bool lock_order;		/* CORIO_LOOP_LOCK_ORDER */
};

/*
 * Rare features the hot paths must notice, as bits of loop->slow: a path
 * that would test several of them one after another tests the byte once
 * (it shares a cache line with @current and @trace) and goes to a slow
 * path that looks at each.  The bits only mirror the features' own state
 * (the pointers and the flag named); that state stays the truth.
 */
enum corio__slow {
	CORIO__SLOW_EXPLORE	= 1u << 0,	/* loop->explore */
	CORIO__SLOW_LOCKGRAPH	= 1u << 1,	/* loop->lockgraph */
	CORIO__SLOW_TRACE	= 1u << 2,	/* loop->trace */
	CORIO__SLOW_WATCH	= 1u << 3,	/* loop->watch.running */
};

/* The CORIO__SLOW_* bits @loop's features call for. */
static inline uint8_t corio__loop_slow_of(const struct corio_loop *loop)
{
	return (uint8_t)((loop->explore ? CORIO__SLOW_EXPLORE : 0) |
			 (loop->lockgraph ? CORIO__SLOW_LOCKGRAPH : 0) |
			 (loop->trace ? CORIO__SLOW_TRACE : 0) |
			 (loop->watch.running ? CORIO__SLOW_WATCH : 0));
}

/*
 * Bring loop->slow up to date.  Call it wherever one of the features above
 * is turned on or off; assert(corio__loop_slow_ok(loop)) checks it was.
 */
static inline void corio__loop_slow_sync(struct corio_loop *loop)
{
	loop->slow = corio__loop_slow_of(loop);
}

/* Does loop->slow match the features?  For assert() and tests. */
static inline bool corio__loop_slow_ok(const struct corio_loop *loop)
{
	return loop->slow == corio__loop_slow_of(loop);
}

/* The calling thread's loop (one per thread). */
extern __thread struct corio_loop *corio__tls_loop
	__attribute__((tls_model("initial-exec")));

/* corio_current_task(), inline for the runtime's own hot paths (a mutex's
 * unlock asks on every call). */
static inline struct corio_task *corio__current_task(void)
{
	struct corio_loop *loop = corio__tls_loop;

	return loop ? loop->current : NULL;
}

/* task.c */
void corio__task_wake(struct corio_loop *loop, struct corio_task *t);
/*
 * Resume the waiting @t with @res as the result of what it awaits: disarm
 * its timer, store @res, queue it.  Its wait is satisfied from here on: a
 * cancellation that comes before it runs lets it see @res and takes
 * effect at its next await (the cancel-safety rule, docs/design.md).
 */
void corio__task_resume(struct corio_loop *loop, struct corio_task *t,
			int64_t res);
/*
 * Resume the waiting @t, cancelled before anything was handed to it: it
 * unwinds with -ECANCELED from the await it is suspended in.
 */
void corio__task_resume_unwind(struct corio_loop *loop, struct corio_task *t);
void corio__task_suspend(struct corio_task *t, enum corio__wait wait);
void corio__run_ready(struct corio_loop *loop, unsigned budget);
/* explore.c: take the ready @t out of its queue and run one step of it. */
void corio__task_run_picked(struct corio_loop *loop, struct corio_task *t);
/* The ready queue @t belongs in (see the comment of ready[]). */
static inline unsigned corio__runq_of(const struct corio_task *t)
{
	/* Kept in @runq rather than computed: wake-ups read one byte. */
	return t->runq;
}
/* Is any task ready? */
static inline bool corio__ready_any(const struct corio_loop *loop)
{
	return loop->sched.ready[CORIO__RUNQ_DEFAULT].head ||
	       loop->sched.ready_mask;
}
void corio__zombies_release(struct corio_loop *loop);
/* Ask every task of @loop that is ready or waiting to cancel (from outside
 * any task: the running one is not seen). */
void corio__tasks_cancel_all(struct corio_loop *loop);
void corio__zombies_report(struct corio_loop *loop);
struct corio_frame *corio__op_no_task(void *result,
				     enum corio__result_kind kind);
struct corio_frame *corio__op_cancelled(struct corio_loop *loop,
					struct corio_task *t);
bool corio__op_past_deadline(struct corio_task *t);

/* Has @t's deadline passed?  Then -ETIME is stored as the op's result. */
static inline bool corio__op_expired(struct corio_task *t)
{
	/* Most tasks have no deadline: no clock read for them. */
	return t->deadline != CORIO_NO_DEADLINE && corio__op_past_deadline(t);
}

/*
 * timer.c: arm the task's single timer (re-arming moves it; -ENOMEM only
 * for a deadline in the current tick or the past), disarm it, fire the due
 * ones.  loop->timers.len counts the armed timers.
 */
int corio__timer_arm(struct corio_loop *loop, struct corio_task *t,
		     int64_t when);
void corio__timer_remove(struct corio_loop *loop, struct corio_task *t);
/* Disarm @t's timer, if armed (inline: every wake-up passes here). */
static inline void corio__timer_disarm(struct corio_loop *loop,
				       struct corio_task *t)
{
	if (t->timer_where)
		corio__timer_remove(loop, t);
}
void corio__timers_fire(struct corio_loop *loop, int64_t now);
/* When to call corio__timers_fire next, if loop->timers.len: at most
 * 65 us past the nearest deadline (timers due close together share one
 * wakeup), sometimes earlier (a wheel slot starts; nothing fires). */
int64_t corio__timers_next(const struct corio_loop *loop);
/* The nearest deadline exactly, or a lower bound when it is still in a
 * wheel slot (firing there moves the slot to the run, and the next call
 * is exact): the virtual clock's next instant, never rounded. */
int64_t corio__timers_next_exact(const struct corio_loop *loop);
void corio__timers_destroy(struct corio_loop *loop);
/* Are the timer structures consistent?  For assert() and tests. */
bool corio__timers_check(const struct corio_loop *loop);
int64_t corio__clock_now(void);	/* CLOCK_MONOTONIC, always */
/* The loop's clock: virtual with CORIO_LOOP_VIRTUAL_CLOCK, else real. */
int64_t corio__loop_now(const struct corio_loop *loop);

/*
 * dispatch.c: start @io for @src (its completions go to src->on_cqe),
 * counted in flight unless src->background.  0 or -errno (nothing
 * started).  Cancel: ask it to end; its final completion still comes.
 */
int corio__source_start(struct corio_loop *loop, struct corio__source *src,
			const struct corio__io *io);
void corio__source_cancel(struct corio_loop *loop, struct corio__source *src);
/* dispatch.c: hand every completion the backend has to its task or
 * source; returns how many. */
unsigned corio__loop_reap(struct corio_loop *loop);
/* dispatch.c: cancel the sources in flight and reap their final
 * completions (bounded), for corio_loop_destroy. */
void corio__sources_drain(struct corio_loop *loop);

/*
 * op.c: start @io for the calling task and suspend it until its completion
 * (its result stored through @result of @kind).  The start function of
 * every awaitable I/O operation ends here.
 */
struct corio_frame *corio__io_await(const struct corio__io *io, void *result,
				    enum corio__result_kind kind);
/* op.c: a completion for @t's operation arrived with @res. */
void corio__io_complete(struct corio_loop *loop, struct corio_task *t,
			int32_t res);
/*
 * op.c: cancel @t's operation in flight (its completion wakes the task);
 * @deadline when the task's deadline, not corio_task_cancel, asked.
 */
void corio__io_cancel(struct corio_loop *loop, struct corio_task *t,
		      bool deadline);

/* op.c: SEND_ZC's result arrived (@res); its notification will follow. */
void corio__io_more(struct corio_loop *loop, struct corio_task *t,
		    int32_t res);
/* op.c: SEND_ZC's notification: complete with the result kept. */
void corio__io_notified(struct corio_loop *loop, struct corio_task *t);

/* waitq.c: take @t out of the primitive it waits on and resume it with
 * @err as the wait's result; 0: it was cancelled, and unwinds. */
void corio__sync_abort(struct corio_loop *loop, struct corio_task *t, int err);
/* waitq.c: add @s to the loop's registry (empty queue, @name or @fallback). */
int corio__sync_register(struct corio__sync *s, enum corio_wait_kind kind,
			 const char *name, const char *fallback);
/* waitq.c: leave the registry; -EBUSY while tasks wait. */
int corio__sync_unregister(struct corio__sync *s);
/* waitq.c: resume every waiter of @q with @res (corio__task_resume), in
 * arrival order.  Returns how many. */
int corio__sync_resume_all(struct corio__sync *q, int64_t res);
/* The first waiter of @q, taken off the queue, or NULL (inline: every
 * hand-off starts here). */
static inline struct corio_task *corio__sync_pop(struct corio__sync *q)
{
	struct corio_task *t = q->head;

	if (t) {
		q->head = t->next;
		if (!q->head)
			q->tail = NULL;
		t->next = NULL;
	}
	return t;
}
/* waitq.c: suspend @t on @q (deadline armed); the start function's marker. */
struct corio_frame *corio__sync_wait(struct corio__sync *q,
				     struct corio_task *t, void *arg);
/* waitq.c: suspend @t on @q with no deadline (uninterruptible waits). */
struct corio_frame *corio__sync_wait_untimed(struct corio__sync *q,
					     struct corio_task *t);
/* completion.c: apply the resolutions other threads queued. */
void corio__remote_drain(struct corio_loop *loop);
/* completion.c: create the eventfd other threads wake the loop through
 * and arm its read.  0 or -errno. */
int corio__remote_init(struct corio_loop *loop);
/*
 * graph.c: would @t, starting to wait (@wait, @obj: the joined task or the
 * mutex), close a cycle of tasks waiting for each other through joins and
 * mutex owners?  On true the cycle becomes the loop's deadlock report and
 * the policy applies; @t is left running either way.
 */
bool corio__would_deadlock(struct corio_loop *loop, struct corio_task *t,
			   enum corio__wait wait, void *obj);
/* graph.c: the loop is stalled with tasks left; apply the policy.  Returns
 * true when corio_loop_run must return -EDEADLK. */
bool corio__deadlock_global(struct corio_loop *loop);
void corio__deadlock_free(struct corio_loop *loop);

/* watchdog.c: publish the step starting for @t, or that none runs. */
void corio__watchdog_publish(struct corio_loop *loop, struct corio_task *t);
void corio__watchdog_idle(struct corio_loop *loop);
int corio__watchdog_start(struct corio_loop *loop, unsigned ms);
void corio__watchdog_stop(struct corio_loop *loop);

/*
 * Store @res as the result of the operation @t awaits, in the width its
 * slot has.  Inline: every operation ends here.
 */
static inline void corio__task_deliver(struct corio_task *t, int64_t res)
{
	void *slot = t->result;

	if (!slot)
		return;
	switch (t->result_kind) {
	case CORIO__RES_INT:
		*(int *)slot = (int)res;
		break;
	case CORIO__RES_SSIZE:
		*(ssize_t *)slot = (ssize_t)res;
		break;
	case CORIO__RES_I64:
		*(int64_t *)slot = res;
		break;
	default:
		break;
	}
}

/* explore.c: the awaiting @t's operation completed at once; the schedule
 * may have it yield first.  CORIO_READY or CORIO_SUSPENDED. */
struct corio_frame *corio__explore_done(struct corio_loop *loop,
					struct corio_task *t);

/* An operation that completed at once: store @res, tell the awaiter. */
static inline struct corio_frame *corio__op_done(struct corio_task *t,
						 int64_t res)
{
	struct corio_loop *loop = corio__tls_loop;

	corio__task_deliver(t, res);
	assert(corio__loop_slow_ok(loop));
	if (corio__unlikely(loop->slow & CORIO__SLOW_EXPLORE))
		return corio__explore_done(loop, t);
	return CORIO_READY;
}

/*
 * Common prologue of an awaitable operation: returns NULL when the operation
 * should go ahead for the task stored in *@taskp (its result slot is set);
 * otherwise the marker the start function returns at once (no task: -EPERM
 * stored; task cancelled: it is queued to unwind).  Inline: it is on the
 * path of every await.
 */
static inline struct corio_frame *corio__op_prologue(
	struct corio_task **taskp, void *result, enum corio__result_kind kind)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_task *t = loop ? loop->current : NULL;

	*taskp = t;
	if (corio__unlikely(!t))
		return corio__op_no_task(result, kind);
	t->result = result;
	t->result_kind = (uint8_t)kind;
	if (corio__unlikely(t->flags & CORIO__T_CANCELLED))
		return corio__op_cancelled(loop, t);
	return NULL;
}

/*
 * taskwatch.c: callbacks run when a task ends, without a field in the task
 * record: a per-loop hash keyed by the task holds the watchers and the
 * task's CORIO__T_WATCHED flag says a lookup is worth doing.  The watcher
 * is the caller's storage (embed it); @ended is called once, from the
 * loop's thread, after the task's status is final and before its record is
 * released; the watcher is already unlinked then.
 */
struct corio__task_watcher {
	struct corio__hnode h;		/* in the loop's table: key @task */
	struct corio_task *task;	/* watched task; NULL when unlinked */
	void (*ended)(struct corio__task_watcher *w);
};
/* Watch @t's end.  Returns 0, -ESRCH (@t has ended), -ENOMEM. */
int corio__task_watch(struct corio_loop *loop, struct corio_task *t,
		      struct corio__task_watcher *w);
/* Stop watching (no-op when not watching). */
void corio__task_unwatch(struct corio_loop *loop,
			 struct corio__task_watcher *w);
/* task.c calls this from finish() when @t has CORIO__T_WATCHED. */
void corio__task_ended(struct corio_loop *loop, struct corio_task *t);
/* loop.c: free the registry (watchers left are the caller's). */
void corio__taskwatch_destroy(struct corio_loop *loop);

/* Misuse from a runtime entry point: message on stderr. */
void corio__warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * completion.c: queue @c (a remote resolution or a message) for @loop's
 * thread and wake it; from any thread.  0 or -errno from the eventfd
 * write (@c is queued all the same).
 */
int corio__remote_push(struct corio_loop *loop, struct corio_completion *c);
/* completion.c: wait until no other thread is inside
 * corio__remote_push() for @loop (before its eventfd is closed). */
void corio__remote_quiesce(struct corio_loop *loop);
/* completion.c: wake @loop unless a wake-up is already on its way (one
 * eventfd write per burst of messages).  0 or -errno. */
int corio__loop_wake_once(struct corio_loop *loop);
/* post.c: value of a queued completion's remote field that marks a posted
 * message; run it on the loop's thread (corio__remote_drain). */
#define CORIO__REMOTE_POST 4
void corio__post_run(struct corio_loop *loop, struct corio_completion *c);

#endif /* CORIO_INTERNAL_H */
