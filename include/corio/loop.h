/* SPDX-License-Identifier: MIT */
/*
 * corio/loop.h - the event loop: one per thread, one io_uring each (or
 * an epoll instance where io_uring is unavailable: see opts.backend).
 *
 * An iteration runs a bounded batch of ready tasks, submits every prepared
 * operation and waits in a single io_uring_enter (the nearest timer is the
 * wait's timeout), reaps all completions, then fires due timers.
 */
#ifndef CORIO_LOOP_H
#define CORIO_LOOP_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_loop;

struct corio_loop_opts {
	unsigned ring_entries;	/* submission queue size; 0 = 1024 (the
				 * completion queue is four times larger) */
	unsigned run_batch;	/* steps run per iteration before I/O is
				 * polled, unless more tasks were ready when
				 * it began (each of those runs once);
				 * 0 = 128.  Tasks of LOW and IDLE priority
				 * (corio/task.h) do not count there */
	unsigned ring_flags;	/* 0 = the setup ladder; otherwise exactly
				 * these IORING_SETUP_* flags (for tests) */
	unsigned flags;		/* CORIO_LOOP_* */
	unsigned deadlock_policy; /* enum corio_deadlock_policy (graph.h):
				 * 0 = return -EDEADLK with a report */
	unsigned blocking_threads; /* most worker threads for corio_blocking
				 * (corio/pool.h); 0 = 4 */
	unsigned stall_ms;	/* > 0: a watchdog thread reports on stderr a
				 * task step that runs this long without
				 * awaiting (a blocking call in a task) */
	unsigned backend;	/* CORIO_LOOP_BACKEND_*; 0 = as the
				 * CORIO_BACKEND environment variable says */
	const char *faults;	/* fault injection for tests (see below);
				 * NULL = as the CORIO_FAULTS environment
				 * variable says; "off" = none */
	const char *trace;	/* a trace file to write (see below); NULL =
				 * as the CORIO_TRACE environment variable
				 * says; "" = none */
	const char *trace_limit; /* the trace file's size limit (see below);
				 * NULL = as CORIO_TRACE_LIMIT says; "" =
				 * none */
};

/*
 * trace: write what the loop does to the file at this path, as
 * Chrome/Perfetto trace-event JSON (open it at ui.perfetto.dev or in
 * chrome://tracing, or draw it with tools/corio-trace-render): one track
 * per task, named with its spawn site; a slice per step, from resume to
 * suspension, named after the function and line of the await it stopped
 * at; a flow arrow from what woke the task (a task's step, or the loop's
 * phase that reaped a completion or fired a timer); each I/O operation and
 * each sleep as an async slice (opcode, fd, result); the loop's phases;
 * counters (ready tasks, operations in flight, timers, completions per
 * wait); deadlock and stall reports as instant events.
 *
 * Loops that name the same file share it, one process track each; the
 * file is complete once the last of them is destroyed (or at exit), and a
 * loop created later continues it.  Each loop records into a ring of
 * fixed-size events (768 KiB) that a thread of corio's formats and writes
 * in the background; when the ring is full the loop writes it out itself,
 * so nothing is lost.  A forked process writes PATH.PID, not its
 * parent's file.
 *
 * trace_limit: a busy server writes tens of MB of trace per second.  "256M"
 * (a size in bytes, K, M or G; at least 64K) keeps only the last 256 MiB or
 * so, like a flight recorder: the events go to two unnamed files in the
 * trace's directory, written in turn, and the trace file is written when
 * complete, starting with an instant that says from when events are kept.
 * "256M,first" instead stops tracing when the file reaches the limit (an
 * instant says when).  The first loop that names a file sets its limit.
 * A limit that is not a size makes corio_loop_create fail with -EINVAL.
 * Without a limit, a trace that passes 1 GiB gets a hint on stderr.  A file that cannot be opened makes
 * corio_loop_create fail with its -errno (corio_loop_unavailable_reason()
 * names the file); one that cannot be written (a full disk) gets a message
 * on stderr, and the rest of the trace is dropped.  Untraced, each event
 * costs one predictable branch.  docs/tracing.md says more.
 */

/*
 * faults: make the loop's I/O misbehave the way the kernel may, to test
 * that a program survives it.  A comma-separated list:
 *
 *	seed=N          the generator's seed (default 1): the same seed and
 *	                the same schedule give the same faults
 *	rate=P          percent (0..100) for each kind listed (default 10)
 *	kinds=K,K,...   the kinds (default all):
 *	  short         a read, write, recv or send moves fewer bytes (its
 *	                length is cut before it starts: no data is lost)
 *	  eintr, eagain, enobufs, ecanceled
 *	                a transfer or accept completes with that error
 *	                without having run (their rates add up to <= 100)
 *	  delay         a completion arrives one to three loop iterations
 *	                late, after later ones
 *	  multishot     a multishot accept or receive ends early (-ECANCELED,
 *	                or -ENOBUFS for a receive) and must be armed again
 *	  all           every kind
 *	K=P             one kind's own rate
 *
 * e.g. CORIO_FAULTS="seed=7,rate=20,kinds=short,eintr,eagain,delay".
 * corio's own helpers (corio_send_all, corio_recv_exact, corio_write_all,
 * acceptors, readers, corio_recv_retry...) survive every kind; code that
 * awaits single operations sees the errors as it would from the kernel.
 * An invalid list makes corio_loop_create fail with -EINVAL, and
 * corio_loop_unavailable_reason() says why.  Unset, injection costs one
 * predictable branch per completion.
 */

/*
 * backend: the I/O backend.  AUTO (0) reads the environment variable
 * CORIO_BACKEND ("uring" or "epoll"); when it is unset or empty, io_uring
 * is used, and epoll when io_uring_setup fails with EPERM (seccomp,
 * kernel.io_uring_disabled), ENOSYS (no io_uring in the kernel) or EINVAL
 * (too old a kernel; not when @ring_flags were given).  URING and EPOLL
 * force one backend, whatever the environment says.  On epoll, file I/O,
 * openat, statx, fsync and close run on the loop's thread and block it
 * while they run (corio_blocking takes such work off the loop), and
 * @ring_entries and @ring_flags are ignored.
 */
#define CORIO_LOOP_BACKEND_AUTO 0u
#define CORIO_LOOP_BACKEND_URING 1u
#define CORIO_LOOP_BACKEND_EPOLL 2u

/*
 * flags: allocate every frame and task from the allocator instead of the
 * loop's size-class free lists (slower; lets fault injection and memory
 * checkers see each allocation).  Also on when the environment variable
 * CORIO_NO_CACHE is set to anything but "" or "0" (to run a program
 * unchanged under a memory checker), and always when AddressSanitizer is
 * in the process: libcorio built with it, or only the program (its
 * runtime is looked up when the loop is created), so that a frame used
 * after its release is reported rather than read from recycled memory.
 */
#define CORIO_LOOP_NO_CACHE 0x1u
/*
 * flags: skip the deadlock bookkeeping that costs anything (the eager
 * cycle walk and the reports).  A loop that can never wake its tasks still
 * returns -EDEADLK, without a report.  For measuring what detection costs.
 */
#define CORIO_LOOP_NO_DEADLOCK_CHECK 0x2u
/*
 * flags: run on a virtual clock.  corio_now() on the loop's thread reads
 * it; it starts at CORIO_VIRTUAL_CLOCK_START, whatever the real time, and
 * whenever no task is ready and no completion has arrived, it jumps to the
 * next deadline instead of waiting for it.  Timer-heavy tests then take no
 * wall time and see the same events in the same order, at the same
 * virtual times, on every run.
 *
 * Its resolution is the nanosecond: a sleep or a deadline fires exactly
 * at its deadline, never rounded (the real clock shares wake-ups between
 * timers due within 65 us).  Deadlines fire in deadline order, equal ones
 * in the order they were armed; all the deadlines of one instant fire
 * before the tasks they wake run, and the clock moves on only when no
 * task is ready.  So a deadline 1 ns after an event set by a task that
 * sleeps until then never fires first.  I/O still takes real time: a loop
 * with I/O in flight and no timer waits for the I/O.
 */
#define CORIO_LOOP_VIRTUAL_CLOCK 0x4u
/* corio_now() of a new loop on the virtual clock (1 s, so that no
 * deadline computed back from it goes negative). */
#define CORIO_VIRTUAL_CLOCK_START INT64_C(1000000000)

/*
 * Use one-shot accept and recv even where the backend offers multishot
 * operations, buffer rings and zero-copy send (corio/net.h falls back to
 * what a backend without them does): for tests and comparisons.
 */
#define CORIO_LOOP_NO_MULTISHOT 0x80u

/*
 * flags: record the order in which each task takes corio mutexes, and
 * report on stderr, once, every cycle among those orders: a potential
 * deadlock, even in a run that did not deadlock (corio/lockorder.h).
 */
#define CORIO_LOOP_LOCK_ORDER 0x100u

/*
 * Create a loop owned by the calling thread; it becomes the thread's
 * current loop (frames started on this thread come from it).  @opts may be
 * NULL.  Returns 0 and stores the loop in *@loopp, or -ENOMEM, -EBUSY (the
 * thread already has a loop), -EINVAL (CORIO_BACKEND or @opts->backend
 * names no backend; corio_loop_unavailable_reason() lists the valid ones),
 * -ENOSYS / -EPERM (io_uring was forced but is unavailable: not built into
 * the kernel, disabled by kernel.io_uring_disabled, or refused by a
 * seccomp filter; corio_loop_unavailable_reason() says which), -errno
 * from opening the trace file (@opts->trace or CORIO_TRACE, e.g. -ENOENT,
 * -EACCES, -EISDIR; corio_loop_unavailable_reason() names the file) or
 * another -errno from io_uring_setup or epoll_create1.
 */
CORIO_EXTERN int corio_loop_create(struct corio_loop **loopp,
				   const struct corio_loop_opts *opts);

/*
 * A sentence explaining why the last corio_loop_create() on this thread
 * failed, or failed to set up io_uring and fell back to epoll; "" if
 * neither happened.
 */
CORIO_EXTERN const char *corio_loop_unavailable_reason(void);

/*
 * Run until every task has finished or corio_loop_stop() is called.
 * Returns 0; -EDEADLK when tasks remain but nothing can ever wake them (no
 * ready task, no I/O in flight, no timer); -EBUSY when called from inside
 * one of this loop's own tasks (a nested loop is refused, with a message on
 * stderr naming the task); -EPERM from another thread than the owner.
 */
CORIO_EXTERN int corio_loop_run(struct corio_loop *loop);

/* Make corio_loop_run() return after the current iteration. */
CORIO_EXTERN void corio_loop_stop(struct corio_loop *loop);

/*
 * Destroy @loop and everything it owns.  Returns 0, or -EBUSY (nothing is
 * destroyed) while tasks are unfinished; finished tasks that were never
 * joined are released.  -EPERM from another thread than the owner.
 */
CORIO_EXTERN int corio_loop_destroy(struct corio_loop *loop);

/* The calling thread's loop, or NULL. */
CORIO_EXTERN struct corio_loop *corio_loop_current(void);

/*
 * The backend that was obtained, e.g.
 * "io_uring (SINGLE_ISSUER|DEFER_TASKRUN, sq 256, cq 1024)",
 * "epoll (epoll_pwait2, ns timeouts)" when forced, or
 * "epoll (io_uring unavailable: <reason>)" after a fallback.
 */
CORIO_EXTERN const char *corio_loop_backend(const struct corio_loop *loop);

/* Statistics, for tests and benchmarks. */
struct corio_loop_stats {
	uint64_t tasks_live;	/* spawned and not yet released */
	uint64_t tasks_unfinished; /* spawned and not yet finished */
	uint64_t tasks_spawned;
	uint64_t iterations;
	uint64_t submits;	/* io_uring_enter calls that submitted */
	uint64_t ops_inflight;	/* operations whose completion is pending */
	uint64_t cq_overflows;	/* times the CQ overflowed (then drained) */
	uint64_t sq_full;	/* times the SQ was full and flushed early */
	uint64_t timers;	/* armed timers */
	uint64_t cancels;	/* cancel requests sent to the kernel */
	uint64_t stalls;	/* steps the stall watchdog reported */
	uint64_t blocking_threads; /* worker threads started */
	uint64_t blocking_queued; /* corio_blocking calls waiting for one */
	uint64_t blocking_running; /* ... and running now */
	uint64_t posts;		/* messages run (corio_loop_post) */
	uint64_t wake_writes;	/* eventfd writes by senders of messages and
				 * remote resolutions: one per burst */
};

/* Fill *@stats with @loop's counters. */
CORIO_EXTERN void corio_loop_stats(const struct corio_loop *loop,
				   struct corio_loop_stats *stats);

/* ---------------------------------------------------------------------- */
/* From other threads.                                                    */

/*
 * Wake @loop from any thread: its wait returns and it runs an iteration.
 * Returns 0 or -errno from writing the loop's eventfd.
 */
CORIO_EXTERN int corio_loop_wake(struct corio_loop *loop);

/*
 * Queue @fn(@arg) to run on @loop's thread, from any thread (including
 * @loop's own and from inside a task).  Messages run in the order they
 * were queued, between the loop's iterations and outside any task: @fn may
 * spawn tasks, resolve completions and post, but must not block.  A loop
 * that is not running runs its queued messages when corio_loop_run() is
 * next called (which returns once they and every task are done).  @loop
 * must outlive the call and the message.
 * Returns 0, -EINVAL (@loop or @fn NULL), -ENOMEM, or -errno from writing
 * the wake eventfd (the message is then queued all the same).
 */
CORIO_EXTERN int corio_loop_post(struct corio_loop *loop,
				 void (*fn)(void *arg), void *arg);


/*
 * The deadlock detector's corio_loop_deadlock(), corio_loop_external_ref()
 * and corio_loop_dump() are declared with the reports in corio/graph.h.
 */

#ifdef __cplusplus
}
#endif

#endif /* CORIO_LOOP_H */
