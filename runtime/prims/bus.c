/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/bus.c - the publish/subscribe bus (corio/bus.h).
 *
 * Two hash tables index the bus: subscriptions by id (for the API, so a
 * stale id is a lookup miss, never a dangling pointer) and topics by
 * number.  A topic holds its subscriptions in a list in subscription
 * order, which is the delivery order.
 *
 * Delivery walks that list while handlers run, and a handler may
 * unsubscribe, release an owner (dropping any number of subscriptions),
 * subscribe or publish.  So while any delivery is in progress (bus->depth >
 * 0) a dropped subscription is only marked dead and parked on the
 * graveyard: it stays linked in its topic, so the walk can step past it,
 * and it is freed when the outermost delivery ends.  A subscription made
 * during a delivery gets a birth sequence number at least that of the
 * event being delivered and is skipped by it.
 *
 * The owners are weak: a task owner is watched through the loop's task-end
 * registry (taskwatch.c), a token lists its subscriptions; either end
 * drops them, and neither is ever kept alive by the bus.
 */
#include <errno.h>
#include <string.h>

#include "support/htab.h"
#include "support/list.h"
#include "prims/internal.h"

#include "corio/async.h"
#include "corio/bus.h"

struct topic {
	struct corio__hnode h;			/* key: the topic number */
	struct corio__list subs;	/* struct sub by tlink, oldest
					 * first; dead ones stay until the
					 * sweep */
};

struct sub {
	struct corio__hnode h;		/* key: the id; unhashed when dead */
	struct corio__link tlink;	/* in the topic's list */
	struct corio__link olink;	/* in the owner token's list */
	struct sub *grave;		/* graveyard link while dead */
	struct corio_bus *bus;
	struct topic *topic;
	struct corio_bus_owner *owner;	/* token owner, or NULL */
	struct corio__task_watcher watch; /* task owner: watch.task */
	uint64_t born;			/* bus->seq when subscribed */
	corio_bus_fn fn;		/* callback, or NULL: a queue */
	void *arg;
	bool dead;
	uint8_t policy;			/* enum corio_bus_policy */
	uint64_t delivered, dropped;
	/* Queue subscribers only. */
	struct corio__sync recv;	/* tasks in corio_bus_next */
	struct corio__sync room;	/* publishers waiting for room */
	size_t cap, len, head;		/* ring of cap messages */
	unsigned char ring[];
};

struct corio_bus {
	struct corio__htab subs;		/* live subscriptions by id */
	struct corio__htab topics;		/* topics with subscriptions */
	struct sub *graveyard;		/* dead, freed when depth is 0 */
	size_t msg_size;
	const char *name;
	int64_t next_id;
	uint64_t seq;			/* events started delivering */
	unsigned depth;			/* deliveries in progress */
	struct corio_bus_stats stats;
};

struct corio_bus_owner {
	unsigned refs;
	struct corio__list subs;	/* live subscriptions it owns, by
					 * olink */
};

/* ---------------------------------------------------------------------- */
/* Dropping subscriptions.                                                */

static void topic_unlink(struct corio_bus *bus, struct sub *s)
{
	struct topic *tp = s->topic;

	corio__list_remove(&tp->subs, &s->tlink);
	if (corio__list_empty(&tp->subs)) {
		corio__htab_remove(&bus->topics, &tp->h);
		corio__free(tp);
		bus->stats.topics--;
	}
}

/* Detach @s from its owner, so the owner's end no longer reaches it. */
static void owner_unlink(struct sub *s)
{
	struct corio_bus_owner *o = s->owner;

	if (o) {
		corio__list_remove(&o->subs, &s->olink);
		s->owner = NULL;
	} else {
		corio__task_unwatch(corio__tls_loop, &s->watch);
	}
}

/*
 * Drop @s: it sees no further event.  Waiting receivers get -ENOENT;
 * waiting publishers retry (the queue that blocked them is gone).  Freed
 * now, or at the end of the outermost delivery in progress.
 */
static void drop(struct corio_bus *bus, struct sub *s)
{
	s->dead = true;
	corio__htab_remove(&bus->subs, &s->h);
	bus->stats.subscribers--;
	owner_unlink(s);
	if (!s->fn) {
		corio__sync_resume_all(&s->recv, -ENOENT);
		corio__sync_resume_all(&s->room, 0);
		corio__sync_unregister(&s->recv);
		corio__sync_unregister(&s->room);
	}
	if (bus->depth) {
		s->grave = bus->graveyard;
		bus->graveyard = s;
		return;
	}
	topic_unlink(bus, s);
	corio__free(s);
}

/* The outermost delivery ended: free what was dropped meanwhile. */
static void sweep(struct corio_bus *bus)
{
	struct sub *s;

	while ((s = bus->graveyard)) {
		bus->graveyard = s->grave;
		topic_unlink(bus, s);
		corio__free(s);
	}
}

/* The owning task ended (taskwatch.c). */
static void task_ended(struct corio__task_watcher *w)
{
	/* Through void *: the watcher sits inside a struct sub. */
	struct sub *s = (void *)((char *)w - offsetof(struct sub, watch));

	s->bus->stats.lapsed++;
	drop(s->bus, s);
}

/* ---------------------------------------------------------------------- */
/* The bus.                                                               */

int corio_bus_create(struct corio_bus **busp, size_t msg_size,
		     const char *name)
{
	struct corio_bus *bus;

	if (!busp)
		return -EINVAL;
	*busp = NULL;
	if (!corio__tls_loop)
		return -EINVAL;
	bus = corio__malloc(sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	*bus = (struct corio_bus){
		.msg_size = msg_size,
		.name = name ? name : "bus",
		.next_id = 1,
	};
	*busp = bus;
	return 0;
}

int corio_bus_destroy(struct corio_bus *bus)
{
	struct corio__hnode *e, *next;
	struct sub *s;
	size_t i;

	if (!bus)
		return -EINVAL;
	if (bus->depth)
		return -EBUSY;
	for (i = 0; i < bus->subs.n; i++)
		for (e = bus->subs.b[i]; e; e = e->next) {
			s = (struct sub *)e;
			if (!s->fn && (s->recv.head || s->room.head))
				return -EBUSY;
		}
	/* One pass over each table: drop() would rehash under our feet. */
	for (i = 0; i < bus->subs.n; i++)
		for (e = bus->subs.b[i]; e; e = next) {
			next = e->next;
			s = (struct sub *)e;
			owner_unlink(s);
			if (!s->fn) {
				corio__sync_unregister(&s->recv);
				corio__sync_unregister(&s->room);
			}
			corio__free(s);
		}
	for (i = 0; i < bus->topics.n; i++)
		for (e = bus->topics.b[i]; e; e = next) {
			next = e->next;
			corio__free(e);
		}
	corio__htab_free(&bus->subs);
	corio__htab_free(&bus->topics);
	corio__free(bus);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Owners.                                                                */

int corio_bus_owner_create(struct corio_bus_owner **ownerp)
{
	struct corio_bus_owner *o;

	if (!ownerp)
		return -EINVAL;
	o = corio__malloc(sizeof(*o));
	*ownerp = o;
	if (!o)
		return -ENOMEM;
	*o = (struct corio_bus_owner){ .refs = 1 };
	return 0;
}

struct corio_bus_owner *corio_bus_owner_ref(struct corio_bus_owner *owner)
{
	if (owner)
		owner->refs++;
	return owner;
}

int corio_bus_owner_release(struct corio_bus_owner *owner)
{
	struct sub *s;

	if (!owner)
		return -EINVAL;
	if (--owner->refs)
		return (int)owner->refs;
	while ((s = corio__list_first_entry(&owner->subs, struct sub,
					    olink))) {
		s->bus->stats.lapsed++;
		drop(s->bus, s);	/* unlinks it from owner->subs */
	}
	corio__free(owner);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Subscriptions.                                                         */

static struct sub *lookup(const struct corio_bus *bus, int64_t id)
{
	if (id <= 0)
		return NULL;
	return (struct sub *)corio__htab_find(&bus->subs, (uint64_t)id);
}

/* The topic record for @topic, created if needed; NULL: -ENOMEM. */
static struct topic *topic_get(struct corio_bus *bus, uint64_t topic)
{
	struct topic *tp =
		(struct topic *)corio__htab_find(&bus->topics, topic);

	if (tp)
		return tp;
	tp = corio__malloc(sizeof(*tp));
	if (!tp)
		return NULL;
	*tp = (struct topic){ .h.key = topic };
	if (corio__htab_insert(&bus->topics, &tp->h)) {
		corio__free(tp);
		return NULL;
	}
	bus->stats.topics++;
	return tp;
}

int64_t corio_bus_subscribe(struct corio_bus *bus, uint64_t topic,
			    const struct corio_bus_sub_opts *opts)
{
	static const struct corio_bus_sub_opts defaults;
	struct corio_loop *loop = corio__tls_loop;
	struct corio_task *task;
	size_t cap = 0, size = sizeof(struct sub);
	struct topic *tp;
	struct sub *s;
	int ret;

	if (!opts)
		opts = &defaults;
	if (!bus || !loop || (unsigned)opts->policy > CORIO_BUS_BACKPRESSURE)
		return -EINVAL;
	task = opts->owner ? NULL : opts->task ? opts->task : loop->current;
	if (!opts->owner && !task)
		return -EINVAL;
	if (task && task->state == CORIO__DONE)
		return -ESRCH;
	if (!opts->fn) {
		cap = opts->capacity ? opts->capacity
				     : CORIO_BUS_DEFAULT_CAPACITY;
		if (bus->msg_size && cap > (SIZE_MAX - size) / bus->msg_size)
			return -EINVAL;
		size += cap * bus->msg_size;
	}
	s = corio__malloc(size);
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->bus = bus;
	s->fn = opts->fn;
	s->arg = opts->arg;
	s->policy = (uint8_t)opts->policy;
	s->cap = cap;
	s->born = bus->seq;
	s->h.key = (uint64_t)bus->next_id;
	if (!s->fn) {
		ret = corio__sync_register(&s->recv, CORIO_WAIT_BUS_RECV,
					   bus->name, "bus");
		if (ret)
			goto err_free;
		corio__sync_register(&s->room, CORIO_WAIT_BUS_PUBLISH,
				     bus->name, "bus");
	}
	ret = -ENOMEM;
	tp = topic_get(bus, topic);
	if (!tp)
		goto err_unregister;
	if (corio__htab_insert(&bus->subs, &s->h))
		goto err_topic;
	if (task) {
		ret = corio__task_watch(loop, task, &s->watch);
		if (ret)
			goto err_unhash;
		s->watch.ended = task_ended;
	} else {
		s->owner = opts->owner;
		corio__list_push_front(&opts->owner->subs, &s->olink);
	}
	/* Append: delivery order is subscription order. */
	s->topic = tp;
	corio__list_push_back(&tp->subs, &s->tlink);
	bus->next_id++;
	if (++bus->stats.subscribers > bus->stats.peak_subscribers)
		bus->stats.peak_subscribers = bus->stats.subscribers;
	return (int64_t)s->h.key;

err_unhash:
	corio__htab_remove(&bus->subs, &s->h);
err_topic:
	if (corio__list_empty(&tp->subs)) {
		corio__htab_remove(&bus->topics, &tp->h);
		corio__free(tp);
		bus->stats.topics--;
	}
err_unregister:
	if (!s->fn) {
		corio__sync_unregister(&s->recv);
		corio__sync_unregister(&s->room);
	}
err_free:
	corio__free(s);
	return ret;
}

int corio_bus_unsubscribe(struct corio_bus *bus, int64_t id)
{
	struct sub *s;

	if (!bus)
		return -EINVAL;
	s = lookup(bus, id);
	if (!s)
		return -ENOENT;
	bus->stats.unsubscribed++;
	drop(bus, s);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Publishing.                                                            */

static unsigned char *slot(struct sub *s, size_t i)
{
	return s->ring + ((s->head + i) % s->cap) * s->bus->msg_size;
}

static void copy_msg(const struct corio_bus *bus, void *dst, const void *src)
{
	if (bus->msg_size)
		memcpy(dst, src, bus->msg_size);
}

/*
 * The first live back-pressure queue of @tp that is full, or NULL.
 * O(subscribers of the topic), as the delivery that follows; a count of
 * full queues per topic would make it O(1) at the price of bookkeeping on
 * every enqueue and dequeue.
 */
static struct sub *full_queue(struct topic *tp)
{
	struct sub *s;

	if (!tp)
		return NULL;
	corio__list_for_each(s, &tp->subs, struct sub, tlink)
		if (!s->dead && !s->fn && s->policy == CORIO_BUS_BACKPRESSURE &&
		    s->len == s->cap)
			return s;
	return NULL;
}

/*
 * Hand @msg to queue subscriber @s: a waiting receiver, else the queue.
 * Returns whether @s received it (false: the policy discarded it).
 */
static bool enqueue(struct corio_bus *bus, struct sub *s, const void *msg)
{
	struct corio_task *r = corio__sync_pop(&s->recv);

	if (r) {
		/* Receivers wait only while the queue is empty. */
		copy_msg(bus, corio__task_elem(r), msg);
		corio__task_resume(corio__tls_loop, r, 0);
	} else if (s->len < s->cap) {
		copy_msg(bus, slot(s, s->len), msg);
		s->len++;
	} else if (s->policy == CORIO_BUS_DROP_OLDEST) {
		copy_msg(bus, slot(s, 0), msg);	/* the oldest slot */
		s->head = (s->head + 1) % s->cap;
		s->dropped++;
		bus->stats.dropped++;
	} else {
		/* DROP_NEWEST, or a back-pressure queue that a handler of
		 * this very delivery filled after the room check. */
		s->dropped++;
		bus->stats.dropped++;
		return false;
	}
	s->delivered++;
	bus->stats.delivered++;
	return true;
}

int corio_bus_try_publish(struct corio_bus *bus, uint64_t topic,
			  const void *msg)
{
	struct topic *tp;
	struct sub *s;
	uint64_t seq;
	int n = 0;

	if (!bus || (!msg && bus->msg_size))
		return -EINVAL;
	if (bus->depth >= CORIO_BUS_MAX_DEPTH)
		return -ELOOP;
	tp = (struct topic *)corio__htab_find(&bus->topics, topic);
	if (full_queue(tp))
		return -EAGAIN;
	bus->stats.published++;
	if (!tp)
		return 0;
	seq = ++bus->seq;
	/*
	 * Handlers may drop any subscription, this topic included: dead
	 * ones stay linked until the sweep, so s->tlink.next stays valid.
	 * Subscriptions born during this delivery have born >= seq.
	 */
	bus->depth++;
	corio__list_for_each(s, &tp->subs, struct sub, tlink) {
		if (s->dead || s->born >= seq)
			continue;
		if (!s->fn) {
			n += enqueue(bus, s, msg);
			continue;
		}
		n++;
		s->delivered++;
		bus->stats.delivered++;
		s->fn(s->arg, topic, msg);
	}
	if (--bus->depth == 0)
		sweep(bus);
	return n;
}

/*
 * Internal op: wait until the back-pressure queue of @topic that is full
 * has room or goes away.  *@result: 0 (try again), -ETIME.
 */
static struct corio_frame *room__start(struct corio_frame *parent,
				       struct corio_bus *bus, uint64_t topic,
				       int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	struct sub *s;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	s = full_queue((struct topic *)corio__htab_find(&bus->topics, topic));
	if (!s)
		return corio__op_done(t, 0);
	return corio__sync_wait(&s->room, t, NULL);
}

corio_async_static(int, publish_wait, ((struct corio_bus *, bus),
				       (uint64_t, topic),
				       (const void *, msg)), (
	int r;
))
{
	corio_begin();
	for (;;) {
		self->r = corio_bus_try_publish(self->bus, self->topic,
						self->msg);
		if (self->r != -EAGAIN)
			corio_return(self->r);
		corio_await(self->r, room, self->bus, self->topic);
		if (self->r < 0)
			corio_return(self->r);
	}
corio_finally:
	corio_end();
}

struct corio_frame *corio_bus_publish__start(struct corio_frame *parent,
					     struct corio_bus *bus,
					     uint64_t topic, const void *msg,
					     int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	/* Most publishes find room: no frame for them. */
	ret = corio_bus_try_publish(bus, topic, msg);
	if (ret != -EAGAIN)
		return corio__op_done(t, ret);
	return publish_wait__start(parent, bus, topic, msg, result);
}

/* ---------------------------------------------------------------------- */
/* Receiving.                                                             */

int corio_bus_try_next(struct corio_bus *bus, int64_t id, void *msg)
{
	struct sub *s;
	bool was_full;

	if (!bus)
		return -EINVAL;
	s = lookup(bus, id);
	if (!s)
		return -ENOENT;
	if (s->fn || (!msg && bus->msg_size))
		return -EINVAL;
	if (!s->len)
		return -EAGAIN;
	was_full = s->len == s->cap;
	copy_msg(bus, msg, slot(s, 0));
	s->head = (s->head + 1) % s->cap;
	s->len--;
	/* Publishers retry; each checks every queue of its topic again. */
	if (was_full)
		corio__sync_resume_all(&s->room, 0);
	return 0;
}

struct corio_frame *corio_bus_next__start(struct corio_frame *parent,
					  struct corio_bus *bus, int64_t id,
					  void *msg, int *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	ret = corio_bus_try_next(bus, id, msg);
	if (ret != -EAGAIN)
		return corio__op_done(t, ret);
	/* An empty back-pressure queue with a receiver never blocks. */
	return corio__sync_wait(&lookup(bus, id)->recv, t, msg);
}

/* ---------------------------------------------------------------------- */
/* Counters.                                                              */

int corio_bus_stats(const struct corio_bus *bus, struct corio_bus_stats *stats)
{
	if (!bus || !stats)
		return -EINVAL;
	*stats = bus->stats;
	return 0;
}

int corio_bus_sub_stats(const struct corio_bus *bus, int64_t id,
			struct corio_bus_sub_stats *stats)
{
	const struct sub *s;

	if (!bus || !stats)
		return -EINVAL;
	s = lookup(bus, id);
	if (!s)
		return -ENOENT;
	*stats = (struct corio_bus_sub_stats){
		.queued = s->len,
		.capacity = s->cap,
		.delivered = s->delivered,
		.dropped = s->dropped,
	};
	return 0;
}
