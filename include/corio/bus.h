/* SPDX-License-Identifier: MIT */
/*
 * corio/bus.h - a publish/subscribe event bus whose subscriptions never
 * outlive their owners.
 *
 *	struct corio_bus *bus;
 *	corio_bus_create(&bus, sizeof(struct reading), "sensors");
 *
 *	// in a task: the subscription belongs to the task and goes away
 *	// with it, however it ends
 *	self->id = corio_bus_subscribe(self->bus, TOPIC_TEMP, NULL);
 *	for (;;) {
 *		corio_await(self->r, corio_bus_next, self->bus, self->id,
 *			    &self->reading);
 *		if (self->r < 0)
 *			break;
 *		...
 *	}
 *
 *	// anywhere: a callback owned by a token the user releases
 *	struct corio_bus_owner *owner;
 *	corio_bus_owner_create(&owner);
 *	corio_bus_subscribe(bus, TOPIC_TEMP, &(struct corio_bus_sub_opts){
 *		.owner = owner, .fn = on_reading, .arg = widget });
 *	...
 *	corio_bus_owner_release(owner);	// every subscription of it is gone
 *
 * Topics are 64-bit integers, not strings: publishing then costs a hash
 * of one integer and no string compare or copy, and a topic never needs
 * storage of its own beyond the live subscriptions.  Applications with
 * named topics keep an enum, or intern their names once.
 *
 * Weak subscriptions.  Every subscription has an owner: a task (by default
 * the calling one) or a struct corio_bus_owner token.  When the task ends
 * or the token's last reference is released, the bus drops the
 * subscription, so a forgotten unsubscribe cannot make the bus grow or call
 * into a dead object; the bus never keeps an owner alive.  Explicit
 * unsubscribe works too, also from a handler while the bus delivers.
 *
 * Two kinds of subscribers:
 *  - callback subscribers (opts.fn): called synchronously by the publish,
 *    in subscription order, on the publisher's thread and task;
 *  - queue subscribers (no fn): events are copied into a bounded queue of
 *    the subscription, and tasks take them with corio_bus_next.  What a
 *    full queue does is the subscription's policy (enum corio_bus_policy).
 *
 * Every subscription receives the events published after it was made and
 * before it was dropped, in publication order (a callback that publishes
 * makes an exception, see corio_bus_try_publish).  Subscriptions are
 * identified by positive 64-bit ids that are never reused, so a stale id
 * gives -ENOENT rather than another subscriber.  Messages are copied
 * (msg_size bytes, fixed per bus); a pointer inside one is the caller's
 * business.  All functions are for the loop's own thread.
 */
#ifndef CORIO_BUS_H
#define CORIO_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_bus;
struct corio_bus_owner;
struct corio_task;

/* What a queue subscriber's full queue does with a new event. */
enum corio_bus_policy {
	/* Discard the oldest queued event to make room (latest data wins;
	 * the publisher never waits).  The default. */
	CORIO_BUS_DROP_OLDEST = 0,
	/* Discard the new event (the queue keeps the oldest). */
	CORIO_BUS_DROP_NEWEST,
	/* Nothing is lost: corio_bus_publish waits for room in every
	 * back-pressure queue of the topic, corio_bus_try_publish fails with
	 * -EAGAIN.  A slow subscriber then slows its publishers, never more
	 * (a deadline or cancellation still ends their wait). */
	CORIO_BUS_BACKPRESSURE,
};

/* Callback subscriber: @msg (msg_size bytes) is valid during the call. */
typedef void (*corio_bus_fn)(void *arg, uint64_t topic, const void *msg);

struct corio_bus_sub_opts {
	struct corio_bus_owner *owner;	/* owning token, or NULL: the task */
	struct corio_task *task;	/* owning task when @owner is NULL;
					 * NULL: the calling task */
	corio_bus_fn fn;		/* callback subscriber, or NULL: a
					 * queue read with corio_bus_next */
	void *arg;			/* passed to @fn */
	size_t capacity;		/* queue slots (queue subscribers);
					 * 0 = 64 */
	enum corio_bus_policy policy;	/* queue subscribers */
};

/* Default queue capacity and the deepest publish-from-a-handler nesting. */
#define CORIO_BUS_DEFAULT_CAPACITY 64
#define CORIO_BUS_MAX_DEPTH 16

/* ---------------------------------------------------------------------- */
/* The bus.                                                               */

/*
 * Create a bus carrying messages of @msg_size bytes (0: bare
 * notifications).  @name (kept, not copied; NULL allowed) names its waits
 * in deadlock reports.  Needs a loop on the calling thread.  Returns 0 with
 * *@busp set, -EINVAL (no loop, @busp NULL), -ENOMEM.
 */
CORIO_EXTERN int corio_bus_create(struct corio_bus **busp, size_t msg_size,
				  const char *name);

/*
 * Drop every subscription and free the bus.  Returns 0; -EBUSY while it
 * delivers (from a handler) or tasks wait on it in corio_bus_next or
 * corio_bus_publish (nothing is freed); -EINVAL for NULL.
 */
CORIO_EXTERN int corio_bus_destroy(struct corio_bus *bus);

/* ---------------------------------------------------------------------- */
/* Owners.                                                                */

/*
 * Create an owner token with one reference.  Returns 0 with *@ownerp set,
 * -EINVAL (@ownerp NULL), -ENOMEM.  A token may own subscriptions on
 * several buses.
 */
CORIO_EXTERN int corio_bus_owner_create(struct corio_bus_owner **ownerp);

/* Take another reference to @owner.  Returns @owner. */
CORIO_EXTERN struct corio_bus_owner *corio_bus_owner_ref(
	struct corio_bus_owner *owner);

/*
 * Drop a reference.  The last one drops every subscription the token owns
 * (safe from a handler during delivery: the dropped ones see no further
 * event) and frees it.  Returns the references left (0: freed), -EINVAL
 * for NULL.
 */
CORIO_EXTERN int corio_bus_owner_release(struct corio_bus_owner *owner);

/* ---------------------------------------------------------------------- */
/* Subscriptions.                                                         */

/*
 * Subscribe to @topic with @opts (NULL: a queue subscriber with the
 * defaults, owned by the calling task).  A subscription made while the bus
 * delivers sees only later events.  Returns the subscription id (> 0);
 * -EINVAL (bus NULL, unknown policy, no owner: outside a task without
 * @opts->owner or @opts->task); -ESRCH (the owning task has ended);
 * -ENOMEM.
 */
CORIO_EXTERN int64_t corio_bus_subscribe(struct corio_bus *bus,
					 uint64_t topic,
					 const struct corio_bus_sub_opts *opts);

/*
 * Drop subscription @id now; events still queued are discarded, tasks
 * waiting in corio_bus_next on it get -ENOENT.  Safe from a handler during
 * delivery (the subscription sees no further event, the current one
 * included if it was not reached yet).  Returns 0, -ENOENT (no such
 * subscription, or already dropped), -EINVAL (bus NULL).
 */
CORIO_EXTERN int corio_bus_unsubscribe(struct corio_bus *bus, int64_t id);

/* ---------------------------------------------------------------------- */
/* Publishing.                                                            */

/*
 * Publish @msg on @topic without waiting: call every callback subscriber
 * and queue the message for every queue subscriber (full queues apply
 * their policy).  All or nothing: when a back-pressure queue of the topic
 * is full nobody receives it.  A handler may publish (depth-first: the
 * nested event reaches the remaining subscribers of the outer one first).
 * Returns the number of subscriptions that received it (0: none; a
 * drop-newest queue that discarded it does not count);
 * -EAGAIN (a back-pressure queue is full); -ELOOP (handlers nested
 * publishes deeper than CORIO_BUS_MAX_DEPTH); -EINVAL (bus NULL, @msg
 * NULL with a non-zero message size).
 */
CORIO_EXTERN int corio_bus_try_publish(struct corio_bus *bus, uint64_t topic,
				       const void *msg);

/*
 * Awaitable: publish as corio_bus_try_publish, waiting while back-pressure
 * queues of the topic are full.  @msg must stay valid until the await
 * completes (a frame field is fine).  *@result: the number of receivers;
 * -ETIME (the task's deadline passed first; nothing was published),
 * -ELOOP, -EINVAL, -EPERM (outside a task).
 */
CORIO_EXTERN struct corio_frame *corio_bus_publish__start(
	struct corio_frame *parent, struct corio_bus *bus, uint64_t topic,
	const void *msg, int *result);

/* ---------------------------------------------------------------------- */
/* Receiving (queue subscribers).                                         */

/*
 * Awaitable: take the next event of subscription @id into @msg (msg_size
 * bytes, valid until the await completes), waiting for one if the queue
 * is empty.  Several tasks may wait on one subscription: each event goes
 * to one of them, first come first served.  *@result: 0; -ENOENT (no such
 * subscription, or dropped while waiting); -EINVAL (a callback
 * subscription); -ETIME; -EPERM (outside a task).
 */
CORIO_EXTERN struct corio_frame *corio_bus_next__start(
	struct corio_frame *parent, struct corio_bus *bus, int64_t id,
	void *msg, int *result);

/* Take the next event without waiting: 0, -EAGAIN (queue empty), -ENOENT,
 * -EINVAL (a callback subscription, bus NULL). */
CORIO_EXTERN int corio_bus_try_next(struct corio_bus *bus, int64_t id,
				    void *msg);

/* ---------------------------------------------------------------------- */
/* Counters.                                                              */

struct corio_bus_stats {
	uint64_t subscribers;	/* live subscriptions */
	uint64_t peak_subscribers; /* most at once since creation */
	uint64_t topics;	/* topics with a live subscription */
	uint64_t published;	/* successful publishes */
	uint64_t delivered;	/* callback calls plus events queued */
	uint64_t dropped;	/* events discarded by full queues */
	uint64_t lapsed;	/* subscriptions dropped because their
				 * owner went away */
	uint64_t unsubscribed;	/* dropped by corio_bus_unsubscribe */
};

/* Fill *@stats.  Returns 0, -EINVAL (NULL argument). */
CORIO_EXTERN int corio_bus_stats(const struct corio_bus *bus,
				 struct corio_bus_stats *stats);

struct corio_bus_sub_stats {
	size_t queued;		/* events waiting in the queue */
	size_t capacity;	/* queue slots (0: callback) */
	uint64_t delivered;	/* received so far (called or queued) */
	uint64_t dropped;	/* discarded by the overflow policy */
};

/* Fill *@stats for subscription @id.  Returns 0, -ENOENT, -EINVAL. */
CORIO_EXTERN int corio_bus_sub_stats(const struct corio_bus *bus, int64_t id,
				     struct corio_bus_sub_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_BUS_H */
