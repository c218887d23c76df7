/* SPDX-License-Identifier: MIT */
/*
 * corio/sync.h - channels, mutexes, semaphores, events and wait groups
 * for the tasks of one loop.
 *
 * Every primitive records who waits on it, and mutexes record their owner,
 * so the loop can tell what each task waits for: a wait that would close an
 * await cycle (through joins and mutex owners) fails at once with -EDEADLK,
 * and a loop whose tasks all wait on primitives nobody can signal any more
 * reports a deadlock instead of hanging (corio/graph.h).
 *
 * The structs are the caller's storage (embed them anywhere that outlives
 * their use); their fields are private.  Initialise before use and destroy
 * after.  Waits honour the task's deadline (corio_deadline_set) with -ETIME
 * and cancellation.  All functions are for the loop's own thread.
 *
 * Every wait is cancel-safe: an element, permit or lock handed to a task
 * is its own even when the task is cancelled before it runs; the await
 * returns it and the cancellation takes effect at the task's next await
 * (docs/design.md, section 13).
 */
#ifndef CORIO_SYNC_H
#define CORIO_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_task;

/* Private: what every primitive shares, so reports can name it. */
struct corio__sync {
	struct corio__sync *next, *prev;	/* the loop's registry */
	struct corio_task *head, *tail;		/* FIFO of waiting tasks */
	const char *name;			/* for reports; never NULL */
	uint8_t kind;				/* enum corio_wait_kind */
	uint32_t scope;				/* its scope's id, or 0
						 * (corio/scope.h) */
};

/* ---------------------------------------------------------------------- */
/* Channels.                                                              */

struct corio_chan {
	struct corio__sync sync;	/* private: receivers wait here */
	struct corio__sync senders;	/* private: senders wait here */
	unsigned char *buf;		/* private: ring of elements */
	size_t elem_size, cap, len, head;
	int closed, unbounded;
};

/* Capacity that grows without bound (sends never wait). */
#define CORIO_CHAN_UNBOUNDED SIZE_MAX

/*
 * Initialise a channel of @elem_size-byte elements holding up to
 * @capacity of them: 0 makes every send wait for a receiver (a
 * rendezvous), CORIO_CHAN_UNBOUNDED never makes a sender wait.  An
 * @elem_size of 0 makes a channel of signals: it carries a count, and
 * sends and receives take NULL for the element.  @name (kept, not
 * copied; NULL allowed) appears in reports.  Must be called on a thread
 * with a loop.  Returns 0, -EINVAL (@capacity too large for @elem_size,
 * no loop), -ENOMEM.
 */
CORIO_EXTERN int corio_chan_init(struct corio_chan *ch, size_t elem_size,
				 size_t capacity, const char *name);

/*
 * Release a channel.  Returns 0, or -EBUSY while tasks wait on it
 * (nothing is released).
 */
CORIO_EXTERN int corio_chan_destroy(struct corio_chan *ch);

/*
 * Close the channel: waiting senders fail with -EPIPE, waiting receivers
 * too once no element is left; later sends fail with -EPIPE and later
 * receives drain what is buffered, then fail with -EPIPE.  Returns 0, or
 * -EPIPE if it was already closed.
 */
CORIO_EXTERN int corio_chan_close(struct corio_chan *ch);

/* Send without waiting: 0, -EAGAIN (no room, no receiver), -EPIPE. */
CORIO_EXTERN int corio_chan_try_send(struct corio_chan *ch, const void *elem);

/* Receive without waiting: 0, -EAGAIN (nothing to take), -EPIPE (closed
 * and drained). */
CORIO_EXTERN int corio_chan_try_recv(struct corio_chan *ch, void *elem);

/* Elements buffered now. */
CORIO_EXTERN size_t corio_chan_len(const struct corio_chan *ch);

/*
 * Awaitable: send *@elem (copied before the await completes; @elem may be
 * a frame field).  *@result: 0, -EPIPE (closed), -ETIME, -EDEADLK.
 */
CORIO_EXTERN struct corio_frame *corio_chan_send__start(
	struct corio_frame *parent, struct corio_chan *ch, const void *elem,
	int *result);

/*
 * Awaitable: receive into *@elem, which must stay valid until the await
 * completes.  *@result: 0, -EPIPE (closed and drained), -ETIME.
 */
CORIO_EXTERN struct corio_frame *corio_chan_recv__start(
	struct corio_frame *parent, struct corio_chan *ch, void *elem,
	int *result);

/* ---------------------------------------------------------------------- */
/* Mutexes: owned by the task that locked them.                           */

struct corio_mutex {
	struct corio__sync sync;	/* private */
	struct corio_task *owner;	/* private */
	const char *file;		/* private: where the owner locked it */
	uint32_t line;
	uint32_t abandoned;		/* private: its owner ended holding it */
};

/* Initialise; @name may be NULL.  Returns 0, or -EINVAL (no loop), -ENOMEM
 * (CORIO_LOOP_LOCK_ORDER: the loop's first mutex allocates its graph). */
CORIO_EXTERN int corio_mutex_init(struct corio_mutex *m, const char *name);

/* Release.  Returns 0, or -EBUSY while it is locked or awaited. */
CORIO_EXTERN int corio_mutex_destroy(struct corio_mutex *m);

/*
 * Awaitable: lock @m for the calling task; waiters get it in FIFO order.
 * *@result: 0; -EOWNERDEAD when the previous owner ended (returned, failed
 * or was cancelled) without unlocking: the caller owns @m all the same,
 * and what @m guards may be half-updated; -EDEADLK when the caller
 * already holds it or when waiting would close a cycle (its owner waits,
 * through joins and other mutexes, for the caller); -ETIME.
 * Cancel-safe: a lock handed over is the task's even when it is cancelled
 * before it runs (it sees 0 and unwinds at its next await, where its
 * cleanup section unlocks).
 */
CORIO_EXTERN struct corio_frame *corio_mutex_lock__start(
	struct corio_frame *parent, struct corio_mutex *m, int *result);

/* Lock without waiting: 0, -EOWNERDEAD (locked; see corio_mutex_lock),
 * -EBUSY (held), -EPERM (outside a task). */
CORIO_EXTERN int corio_mutex_trylock(struct corio_mutex *m);

/*
 * Unlock; the first waiter becomes the owner.  Returns 0, or -EPERM when
 * the calling task is not the owner.
 */
CORIO_EXTERN int corio_mutex_unlock(struct corio_mutex *m);

/* The owning task, or NULL. */
CORIO_EXTERN struct corio_task *corio_mutex_owner(const struct corio_mutex *m);

/* ---------------------------------------------------------------------- */
/* Semaphores.                                                            */

struct corio_sem {
	struct corio__sync sync;	/* private */
	uint64_t count;			/* private */
};

/* Initialise with @count permits.  Returns 0, or -EINVAL (no loop). */
CORIO_EXTERN int corio_sem_init(struct corio_sem *s, uint64_t count,
				const char *name);
/* Release.  Returns 0, or -EBUSY while awaited. */
CORIO_EXTERN int corio_sem_destroy(struct corio_sem *s);
/* Awaitable: take a permit.  *@result: 0, -ETIME. */
CORIO_EXTERN struct corio_frame *corio_sem_acquire__start(
	struct corio_frame *parent, struct corio_sem *s, int *result);
/* Take a permit without waiting: 0 or -EAGAIN. */
CORIO_EXTERN int corio_sem_try_acquire(struct corio_sem *s);
/* Give a permit back (to the first waiter, if any).  Returns 0. */
CORIO_EXTERN int corio_sem_release(struct corio_sem *s);

/* ---------------------------------------------------------------------- */
/* Events: a flag tasks wait to see set.                                  */

struct corio_event {
	struct corio__sync sync;	/* private */
	int set;			/* private */
};

/* Initialise, not set.  Returns 0, or -EINVAL (no loop). */
CORIO_EXTERN int corio_event_init(struct corio_event *e, const char *name);
/* Release.  Returns 0, or -EBUSY while awaited. */
CORIO_EXTERN int corio_event_destroy(struct corio_event *e);
/* Set the flag and wake every waiter.  Returns the number woken. */
CORIO_EXTERN int corio_event_set(struct corio_event *e);
/* Clear the flag. */
CORIO_EXTERN void corio_event_clear(struct corio_event *e);
/* Wake the waiters without setting the flag.  Returns the number woken. */
CORIO_EXTERN int corio_event_notify(struct corio_event *e);
/* Awaitable: wait until the flag is set (at once if it is) or a notify.
 * *@result: 0, -ETIME. */
CORIO_EXTERN struct corio_frame *corio_event_wait__start(
	struct corio_frame *parent, struct corio_event *e, int *result);

/* ---------------------------------------------------------------------- */
/* Wait groups: wait until a count of pending jobs drops to zero.         */

struct corio_waitgroup {
	struct corio__sync sync;	/* private */
	int64_t count;			/* private */
};

/* Initialise at zero.  Returns 0, or -EINVAL (no loop). */
CORIO_EXTERN int corio_waitgroup_init(struct corio_waitgroup *wg,
				      const char *name);
/* Release.  Returns 0, or -EBUSY while awaited. */
CORIO_EXTERN int corio_waitgroup_destroy(struct corio_waitgroup *wg);
/* Add @n (> 0) pending jobs.  Returns 0 or -EINVAL. */
CORIO_EXTERN int corio_waitgroup_add(struct corio_waitgroup *wg, int64_t n);
/* One job is done; at zero every waiter wakes.  Returns 0, or -EINVAL
 * when the count is already zero. */
CORIO_EXTERN int corio_waitgroup_done(struct corio_waitgroup *wg);
/* Awaitable: wait for the count to reach zero.  *@result: 0, -ETIME. */
CORIO_EXTERN struct corio_frame *corio_waitgroup_wait__start(
	struct corio_frame *parent, struct corio_waitgroup *wg, int *result);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SYNC_H */
