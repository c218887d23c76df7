/* SPDX-License-Identifier: MIT */
/*
 * tests/test_bus.c - the event bus: ordering, topics, weak subscriptions
 * (task end, owner release, also during delivery), overflow policies,
 * back-pressure wake-ups, deadlines and cancellation of waits, misuse, and
 * a million abandoned subscribers against a naive strong registry.
 */
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/test.h>

static struct t_log log_;

/* A callback subscriber that logs "<name><msg>". */
struct logger {
	const char *name;
	struct corio_bus *bus;
	int64_t unsub;			/* unsubscribe this one when called */
	struct corio_bus_owner *release; /* release this owner when called */
	int64_t subscribe_topic;	/* > 0: subscribe a logger to it */
	struct logger *child;		/* ... this one */
	struct corio_bus_owner *kept;	/* the owner of that subscription */
	int republish;			/* > 0: publish it on topic 1 */
	int calls;
};

static void on_event(void *arg, uint64_t topic, const void *msg)
{
	struct logger *l = arg;
	int v = *(const int *)msg;

	(void)topic;
	l->calls++;
	t_log_add(&log_, "%s%d", l->name, v);
	if (l->unsub) {
		cr_assert_eq(corio_bus_unsubscribe(l->bus, l->unsub), 0);
		l->unsub = 0;
	}
	if (l->release) {
		cr_assert_eq(corio_bus_owner_release(l->release), 0);
		l->release = NULL;
	}
	if (l->subscribe_topic > 0) {
		struct corio_bus_owner *o;

		/* One made and released at once, one kept: neither sees
		 * the event being delivered. */
		cr_assert_eq(corio_bus_owner_create(&o), 0);
		cr_assert_gt(corio_bus_subscribe(l->bus,
			(uint64_t)l->subscribe_topic,
			&(struct corio_bus_sub_opts){ .owner = o,
				.fn = on_event, .arg = l->child }), 0);
		cr_assert_eq(corio_bus_owner_release(o), 0);
		cr_assert_eq(corio_bus_owner_create(&l->kept), 0);
		cr_assert_gt(corio_bus_subscribe(l->bus,
			(uint64_t)l->subscribe_topic,
			&(struct corio_bus_sub_opts){ .owner = l->kept,
				.fn = on_event, .arg = l->child }), 0);
		l->subscribe_topic = 0;
	}
	if (l->republish > 0) {
		int r = l->republish;

		l->republish = 0;
		cr_assert_geq(corio_bus_try_publish(l->bus, 1, &r), 0);
	}
}

static int64_t sub_cb(struct corio_bus *bus, uint64_t topic,
		      struct corio_bus_owner *o, struct logger *l)
{
	int64_t id = corio_bus_subscribe(bus, topic,
		&(struct corio_bus_sub_opts){ .owner = o, .fn = on_event,
					      .arg = l });

	cr_assert_gt(id, 0, "subscribe: %s", corio_strerror((int)id));
	l->bus = bus;
	return id;
}

static int pub(struct corio_bus *bus, uint64_t topic, int v)
{
	return corio_bus_try_publish(bus, topic, &v);
}

static void setup(struct corio_loop **loop, struct corio_bus **bus,
		  struct corio_bus_owner **o)
{
	*loop = t_loop();
	memset(&log_, 0, sizeof(log_));
	cr_assert_eq(corio_bus_create(bus, sizeof(int), "test bus"), 0);
	cr_assert_eq(corio_bus_owner_create(o), 0);
}

static struct corio_bus_stats stats(struct corio_bus *bus)
{
	struct corio_bus_stats st;

	cr_assert_eq(corio_bus_stats(bus, &st), 0);
	return st;
}

/* ---- delivery order and topics ------------------------------------- */

Test(bus, subscription_order_and_topics, .timeout = 10)
{
	struct logger a = { .name = "a" }, b = { .name = "b" }, c = { .name = "c" };
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;

	setup(&loop, &bus, &o);
	sub_cb(bus, 1, o, &a);
	sub_cb(bus, 1, o, &b);
	sub_cb(bus, 2, o, &c);
	cr_assert_eq(pub(bus, 1, 1), 2);
	cr_assert_eq(pub(bus, 2, 2), 1);
	cr_assert_eq(pub(bus, 1, 3), 2);
	cr_assert_eq(pub(bus, 3, 4), 0, "nobody listens on topic 3");
	cr_assert_str_eq(log_.buf, "a1 b1 c2 a3 b3");
	cr_assert_eq(stats(bus).topics, 2);
	cr_assert_eq(stats(bus).published, 4);
	cr_assert_eq(stats(bus).delivered, 5);
	/* A topic number is 64 bits wide: no truncation aliasing. */
	sub_cb(bus, (1ull << 40) | 1, o, &c);
	cr_assert_eq(pub(bus, 1, 5), 2);
	cr_assert_str_eq(log_.buf, "a1 b1 c2 a3 b3 a5 b5");
	cr_assert_eq(corio_bus_owner_release(o), 0);
	cr_assert_eq(stats(bus).subscribers, 0);
	cr_assert_eq(stats(bus).topics, 0);
	cr_assert_eq(stats(bus).lapsed, 4);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

Test(bus, nested_publish_from_a_handler, .timeout = 10)
{
	struct logger a = { .name = "a", .republish = 9 }, b = { .name = "b" };
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;

	setup(&loop, &bus, &o);
	sub_cb(bus, 1, o, &a);
	sub_cb(bus, 1, o, &b);
	/* Depth-first: b sees the nested event before the outer one. */
	cr_assert_eq(pub(bus, 1, 1), 2);
	cr_assert_str_eq(log_.buf, "a1 a9 b9 b1");
	cr_assert_eq(corio_bus_owner_release(o), 0);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

/* Publishes forever from its handler: the depth limit stops it. */
struct runaway {
	struct corio_bus *bus;
	int calls, eloop;
};

static void recurse(void *arg, uint64_t topic, const void *msg)
{
	struct runaway *st = arg;

	st->calls++;
	if (corio_bus_try_publish(st->bus, topic, msg) == -ELOOP)
		st->eloop++;
}

Test(bus, runaway_nesting_fails_with_eloop, .timeout = 10)
{
	struct runaway st = { 0 };
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	int v = 1;

	setup(&loop, &st.bus, &o);
	cr_assert_gt(corio_bus_subscribe(st.bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .fn = recurse, .arg = &st }), 0);
	cr_assert_eq(corio_bus_try_publish(st.bus, 1, &v), 1);
	cr_assert_eq(st.calls, CORIO_BUS_MAX_DEPTH);
	cr_assert_eq(st.eloop, 1);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(st.bus), 0);
	t_loop_done(loop);
}

/* ---- the subscriber list changing during delivery ------------------ */

Test(bus, unsubscribe_during_delivery, .timeout = 10)
{
	struct logger a = { .name = "a" }, b = { .name = "b" }, c = { .name = "c" }, d = { .name = "d" };
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int64_t ida, idb;

	setup(&loop, &bus, &o);
	ida = sub_cb(bus, 1, o, &a);
	idb = sub_cb(bus, 1, o, &b);
	sub_cb(bus, 1, o, &c);
	/* a drops b (not reached yet) and later itself. */
	a.unsub = idb;
	a.subscribe_topic = 1;		/* and subscribes d meanwhile */
	a.child = &d;
	cr_assert_eq(pub(bus, 1, 1), 2, "a and c");
	cr_assert_eq(corio_bus_unsubscribe(bus, idb), -ENOENT, "stale id");
	a.unsub = ida;
	cr_assert_eq(pub(bus, 1, 2), 3, "a, c and d (born during event 1)");
	cr_assert_eq(pub(bus, 1, 3), 2, "c and d");
	cr_assert_str_eq(log_.buf, "a1 c1 a2 c2 d2 c3 d3");
	cr_assert_eq(b.calls, 0);
	cr_assert_eq(stats(bus).unsubscribed, 2);
	/* d's token was kept by a; the one released at once left nothing. */
	cr_assert_eq(stats(bus).subscribers, 2);
	corio_bus_owner_release(a.kept);
	cr_assert_eq(stats(bus).subscribers, 1);
	corio_bus_owner_release(o);
	cr_assert_eq(stats(bus).subscribers, 0);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

Test(bus, owner_release_during_delivery, .timeout = 10)
{
	struct logger a = { .name = "a" }, b = { .name = "b" }, c = { .name = "c" }, d = { .name = "d" };
	struct corio_bus_owner *o, *victims;
	struct corio_loop *loop;
	struct corio_bus *bus;

	setup(&loop, &bus, &o);
	cr_assert_eq(corio_bus_owner_create(&victims), 0);
	sub_cb(bus, 1, o, &a);
	sub_cb(bus, 1, victims, &b);
	sub_cb(bus, 2, victims, &c);
	sub_cb(bus, 1, o, &d);
	/* Two references: the first release keeps them, the second drops
	 * both (one on another topic) from a's handler. */
	cr_assert_eq(corio_bus_owner_ref(victims), victims);
	cr_assert_eq(corio_bus_owner_release(victims), 1);
	a.release = victims;
	cr_assert_eq(pub(bus, 1, 1), 2, "a and d");
	cr_assert_eq(pub(bus, 2, 2), 0);
	cr_assert_str_eq(log_.buf, "a1 d1");
	cr_assert_eq(stats(bus).lapsed, 2);
	cr_assert_eq(stats(bus).subscribers, 2);
	cr_assert_eq(stats(bus).topics, 1);
	/* Releasing the handler's own owner from within it. */
	a.release = o;
	cr_assert_eq(pub(bus, 1, 3), 1, "a only: d was dropped first");
	cr_assert_eq(stats(bus).subscribers, 0);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

/* ---- queue subscribers and task owners ----------------------------- */

corio_async(void, reader, ((struct corio_bus *, bus), (uint64_t, topic),
			   (int, n), (int64_t *, idp)), (
	int64_t id;
	int i, v, r;
))
{
	corio_begin();
	self->id = corio_bus_subscribe(self->bus, self->topic, NULL);
	cr_assert_gt(self->id, 0);
	if (self->idp)
		*self->idp = self->id;
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_await(self->r, corio_bus_next, self->bus, self->id,
			    &self->v);
		if (self->r < 0) {
			t_log_add(&log_, "r%s", corio_strerror(self->r));
			corio_return_void();
		}
		t_log_add(&log_, "r%d", self->v);
	}
corio_finally:
	corio_end();
}

corio_async(void, writer, ((struct corio_bus *, bus), (uint64_t, topic),
			   (int, from), (int, n)), (
	int i, r;
))
{
	corio_begin();
	for (self->i = self->from; self->i < self->from + self->n; self->i++) {
		corio_await(self->r, corio_bus_publish, self->bus, self->topic,
			    &self->i);
		cr_assert_geq(self->r, 0, "publish: %s",
			      corio_strerror(self->r));
		t_log_add(&log_, "p%d", self->i);
	}
corio_finally:
	corio_end();
}

Test(bus, queue_subscriber_in_a_task, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;

	setup(&loop, &bus, &o);
	corio_spawn(loop, reader__start(NULL, bus, 5, 3, NULL), NULL);
	corio_spawn(loop, writer__start(NULL, bus, 5, 1, 3), NULL);
	corio_assert_finished(loop);
	/* The reader waits first: each event goes straight to it. */
	cr_assert_str_eq(log_.buf, "p1 p2 p3 r1 r2 r3");
	/* It ended without unsubscribing: the bus let go of it. */
	cr_assert_eq(stats(bus).subscribers, 0);
	cr_assert_eq(stats(bus).lapsed, 1);
	cr_assert_eq(pub(bus, 5, 4), 0);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

/* Subscribe with @policy and capacity 2, publish 1..5, drain. */
static void overflow(enum corio_bus_policy policy, const char *want,
		     int want_dropped, int want_eagain, int want_zero)
{
	struct corio_bus_sub_stats ss;
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int64_t id;
	int i, v, eagain = 0, zero = 0;

	setup(&loop, &bus, &o);
	id = corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .capacity = 2, .policy = policy });
	cr_assert_gt(id, 0);
	for (i = 1; i <= 5; i++) {
		int r = pub(bus, 1, i);

		if (r == -EAGAIN)
			eagain++;
		else if (r == 0)
			zero++;		/* discarded: nobody received it */
		else
			cr_assert_eq(r, 1);
	}
	cr_assert_eq(corio_bus_sub_stats(bus, id, &ss), 0);
	cr_assert_eq(ss.queued, 2);
	cr_assert_eq(ss.capacity, 2);
	cr_assert_eq(ss.dropped, (uint64_t)want_dropped);
	cr_assert_eq(stats(bus).dropped, (uint64_t)want_dropped);
	cr_assert_eq(eagain, want_eagain);
	cr_assert_eq(zero, want_zero);
	while (corio_bus_try_next(bus, id, &v) == 0)
		t_log_add(&log_, "%d", v);
	cr_assert_str_eq(log_.buf, want);
	cr_assert_eq(corio_bus_try_next(bus, id, &v), -EAGAIN);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_try_next(bus, id, &v), -ENOENT);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

Test(bus, drop_oldest_keeps_the_latest, .timeout = 10)
{
	overflow(CORIO_BUS_DROP_OLDEST, "4 5", 3, 0, 0);
}

Test(bus, drop_newest_keeps_the_first, .timeout = 10)
{
	overflow(CORIO_BUS_DROP_NEWEST, "1 2", 3, 0, 3);
}

Test(bus, backpressure_try_publish_says_eagain, .timeout = 10)
{
	overflow(CORIO_BUS_BACKPRESSURE, "1 2", 0, 3, 0);
}

corio_async(void, slow_reader, ((struct corio_bus *, bus), (int64_t, id),
				(int, n)), (
	int i, v, r;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++) {
		corio_yield();
		corio_yield();
		corio_await(self->r, corio_bus_next, self->bus, self->id,
			    &self->v);
		cr_assert_eq(self->r, 0);
		t_log_add(&log_, "r%d", self->v);
	}
corio_finally:
	corio_end();
}

Test(bus, backpressure_wakes_the_publisher, .timeout = 10)
{
	struct corio_bus_sub_stats ss;
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int64_t fast, slow;

	setup(&loop, &bus, &o);
	/* A drop-oldest queue of 1 never holds the publisher up; the
	 * back-pressure queue of 2 does. */
	fast = corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .capacity = 1 });
	slow = corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .capacity = 2,
		.policy = CORIO_BUS_BACKPRESSURE });
	corio_spawn(loop, writer__start(NULL, bus, 1, 1, 6), NULL);
	corio_spawn(loop, slow_reader__start(NULL, bus, slow, 6), NULL);
	corio_assert_finished(loop);
	/* p1 p2 fill the queue; p3 waits until r1 makes room, and so on:
	 * the publisher runs at most two events ahead. */
	cr_assert_str_eq(log_.buf, "p1 p2 r1 p3 r2 p4 r3 p5 r4 p6 r5 r6");
	cr_assert_eq(corio_bus_sub_stats(bus, slow, &ss), 0);
	cr_assert_eq(ss.dropped, 0);
	cr_assert_eq(ss.delivered, 6);
	cr_assert_eq(corio_bus_sub_stats(bus, fast, &ss), 0);
	cr_assert_eq(ss.dropped, 5, "the unread queue of 1 kept the last");
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

corio_async(void, drop_blocking_queue, ((struct corio_bus *, bus),
					(int64_t, id)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_str_eq(log_.buf, "", "the writer waits for room");
	cr_assert_eq(corio_bus_destroy(self->bus), -EBUSY,
		     "a publisher waits");
	cr_assert_eq(corio_bus_unsubscribe(self->bus, self->id), 0);
corio_finally:
	corio_end();
}

Test(bus, backpressure_queue_dropped_releases_the_publisher, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int64_t id;

	setup(&loop, &bus, &o);
	id = corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .capacity = 1,
		.policy = CORIO_BUS_BACKPRESSURE });
	cr_assert_eq(pub(bus, 1, 1), 1);
	corio_spawn(loop, writer__start(NULL, bus, 1, 2, 1), NULL);
	corio_spawn(loop, drop_blocking_queue__start(NULL, bus, id), NULL);
	corio_assert_finished(loop);
	/* It retried and found no subscriber left. */
	cr_assert_str_eq(log_.buf, "p2");
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

/* ---- deadlines, cancellation, dropped while waiting ---------------- */

corio_async(void, timed_next, ((struct corio_bus *, bus), (int64_t, id),
			       (int64_t, after), (int *, out)), (
	int v;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + self->after);
	corio_await(*self->out, corio_bus_next, self->bus, self->id,
		    &self->v);
corio_finally:
	corio_end();
}

corio_async(void, timed_publish, ((struct corio_bus *, bus),
				  (int64_t, after), (int *, out)), (
	int v;
))
{
	corio_begin();
	self->v = 42;
	corio_deadline_set(corio_now() + self->after);
	corio_await(*self->out, corio_bus_publish, self->bus, 1, &self->v);
corio_finally:
	corio_end();
}

Test(bus, deadlines_of_waits, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_VIRTUAL_CLOCK };
	struct corio_loop *loop = t_loop_opts(&opts);
	struct corio_bus_owner *o;
	struct corio_bus *bus;
	int64_t q, bp;
	int r1 = 1, r2 = 1, v;

	cr_assert_eq(corio_bus_create(&bus, sizeof(int), NULL), 0);
	cr_assert_eq(corio_bus_owner_create(&o), 0);
	q = corio_bus_subscribe(bus, 2, &(struct corio_bus_sub_opts){
		.owner = o });
	bp = corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .capacity = 1,
		.policy = CORIO_BUS_BACKPRESSURE });
	cr_assert_eq(pub(bus, 1, 7), 1);
	corio_spawn(loop, timed_next__start(NULL, bus, q, CORIO_MS(5), &r1),
		    NULL);
	corio_spawn(loop, timed_publish__start(NULL, bus, CORIO_MS(5), &r2),
		    NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r1, -ETIME);
	cr_assert_eq(r2, -ETIME);
	/* The timed-out publish left nothing behind. */
	cr_assert_eq(corio_bus_try_next(bus, bp, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(corio_bus_try_next(bus, bp, &v), -EAGAIN);
	cr_assert_eq(stats(bus).published, 1);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

corio_async(void, cancel_it, ((struct corio_task *, victim), (int *, out)),
	    ())
{
	corio_begin();
	corio_await(*self->out, t_cancel_and_join, self->victim);
corio_finally:
	corio_end();
}

Test(bus, cancel_a_waiting_subscriber_drops_its_subscription, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_task *victim;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int64_t id = 0;
	int status = 1;

	setup(&loop, &bus, &o);
	corio_spawn(loop, reader__start(NULL, bus, 1, 10, &id), &victim);
	corio_spawn(loop, cancel_it__start(NULL, victim, &status), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(status, -ECANCELED);
	cr_assert_gt(id, 0);
	cr_assert_eq(corio_bus_unsubscribe(bus, id), -ENOENT,
		     "the task's end dropped it");
	cr_assert_eq(stats(bus).lapsed, 1);
	cr_assert_eq(stats(bus).subscribers, 0);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

corio_async(void, unsubscribe_later, ((struct corio_bus *, bus),
				      (int64_t *, idp)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_bus_unsubscribe(self->bus, *self->idp), 0);
corio_finally:
	corio_end();
}

Test(bus, unsubscribe_wakes_the_waiting_reader, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int64_t id = 0;

	setup(&loop, &bus, &o);
	corio_spawn(loop, reader__start(NULL, bus, 1, 10, &id), NULL);
	corio_spawn(loop, unsubscribe_later__start(NULL, bus, &id), NULL);
	corio_assert_finished(loop);
	cr_assert_str_eq(log_.buf, "rNo such file or directory");
	cr_assert_eq(stats(bus).lapsed, 0, "explicit, not lapsed");
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

Test(bus, waiting_reader_without_publisher_is_a_deadlock, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_task *t;
	struct corio_loop *loop;
	struct corio_bus *bus;

	setup(&loop, &bus, &o);
	corio_spawn(loop, reader__start(NULL, bus, 1, 1, NULL), &t);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "reader");
	cr_assert_eq(corio_bus_destroy(bus), -EBUSY);
	corio_task_cancel(t);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(t, NULL), 0);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

corio_async(void, subscribe_then_wait, ((struct corio_bus *, bus),
				       (struct corio_event *, go)), (
	int r;
))
{
	corio_begin();
	cr_assert_gt(corio_bus_subscribe(self->bus, 1, NULL), 0);
	corio_await(self->r, corio_event_wait, self->go);
corio_finally:
	corio_end();
}

corio_async(void, destroy_then_go, ((struct corio_bus **, bus),
				    (struct corio_event *, go)), ())
{
	corio_begin();
	corio_yield();
	/* The subscriber is alive and not waiting on the bus. */
	cr_assert_eq(corio_bus_destroy(*self->bus), 0);
	*self->bus = NULL;
	corio_event_set(self->go);
corio_finally:
	corio_end();
}

Test(bus, destroying_the_bus_before_its_owners_go, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus, *other;
	struct corio_event go;

	setup(&loop, &bus, &o);
	cr_assert_eq(corio_bus_create(&other, sizeof(int), NULL), 0);
	/* One token on two buses; one task-owned subscription. */
	sub_cb(bus, 1, o, &(struct logger){ .name = "x" });
	sub_cb(other, 1, o, &(struct logger){ .name = "y" });
	cr_assert_eq(corio_event_init(&go, NULL), 0);
	corio_spawn(loop, subscribe_then_wait__start(NULL, bus, &go), NULL);
	corio_spawn(loop, destroy_then_go__start(NULL, &bus, &go), NULL);
	/* The task ends after its bus is gone: nothing may reach it. */
	corio_assert_finished(loop);
	cr_assert_null(bus);
	cr_assert_eq(stats(other).subscribers, 1);
	cr_assert_eq(corio_bus_owner_release(o), 0);
	cr_assert_eq(stats(other).subscribers, 0);
	cr_assert_eq(stats(other).lapsed, 1);
	cr_assert_eq(corio_bus_destroy(other), 0);
	cr_assert_eq(corio_event_destroy(&go), 0);
	t_loop_done(loop);
}

/* ---- misuse -------------------------------------------------------- */

corio_async(void, misuse_in_task, ((struct corio_bus *, bus)), (
	int64_t id;
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_bus_next, self->bus, 12345, &self->v);
	cr_assert_eq(self->r, -ENOENT);
	self->id = corio_bus_subscribe(self->bus, 1,
		&(struct corio_bus_sub_opts){ .fn = on_event });
	cr_assert_gt(self->id, 0);
	corio_await(self->r, corio_bus_next, self->bus, self->id, &self->v);
	cr_assert_eq(self->r, -EINVAL, "a callback subscription");
	corio_await(self->r, corio_bus_publish, NULL, 1, &self->v);
	cr_assert_eq(self->r, -EINVAL);
	cr_assert_eq(corio_bus_unsubscribe(self->bus, self->id), 0);
corio_finally:
	corio_end();
}

Test(bus, misuse_gets_clear_errors, .timeout = 10)
{
	struct corio_bus_owner *o;
	struct corio_loop *loop;
	struct corio_bus *bus;
	int v = 0, r = 1;

	cr_assert_eq(corio_bus_create(&bus, 4, NULL), -EINVAL, "no loop");
	setup(&loop, &bus, &o);
	cr_assert_eq(corio_bus_create(NULL, 4, NULL), -EINVAL);
	cr_assert_eq(corio_bus_subscribe(bus, 1, NULL), -EINVAL,
		     "outside a task, no owner");
	cr_assert_eq(corio_bus_subscribe(NULL, 1, &(struct corio_bus_sub_opts){
		.owner = o }), -EINVAL);
	cr_assert_eq(corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .policy = (enum corio_bus_policy)7 }), -EINVAL);
	cr_assert_eq(corio_bus_subscribe(bus, 1, &(struct corio_bus_sub_opts){
		.owner = o, .capacity = SIZE_MAX / 2 }), -EINVAL);
	cr_assert_eq(corio_bus_unsubscribe(bus, 0), -ENOENT);
	cr_assert_eq(corio_bus_unsubscribe(bus, -3), -ENOENT);
	cr_assert_eq(corio_bus_unsubscribe(NULL, 1), -EINVAL);
	cr_assert_eq(corio_bus_try_publish(bus, 1, NULL), -EINVAL);
	cr_assert_eq(corio_bus_try_publish(NULL, 1, &v), -EINVAL);
	cr_assert_eq(corio_bus_try_next(bus, 99, &v), -ENOENT);
	cr_assert_eq(corio_bus_stats(bus, NULL), -EINVAL);
	cr_assert_eq(corio_bus_owner_release(NULL), -EINVAL);
	cr_assert_eq(corio_bus_destroy(NULL), -EINVAL);
	/* Awaiting outside a task. */
	cr_assert_eq(corio_bus_next__start(NULL, bus, 1, &v, &r), CORIO_READY);
	cr_assert_eq(r, -EPERM);
	corio_spawn(loop, misuse_in_task__start(NULL, bus), NULL);
	corio_assert_finished(loop);
	corio_bus_owner_release(o);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

corio_async(void, ends_at_once, (), ())
{
	corio_begin();
corio_finally:
	corio_end();
}

Test(bus, subscribing_for_a_finished_task_is_refused, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	struct corio_bus *bus;

	cr_assert_eq(corio_bus_create(&bus, 0, NULL), 0);
	corio_spawn(loop, ends_at_once__start(NULL), &t);
	/* Owned by a task that has not run yet: fine, and dropped when it
	 * ends. */
	cr_assert_gt(corio_bus_subscribe(bus, 3, &(struct corio_bus_sub_opts){
		.task = t }), 0);
	cr_assert_eq(stats(bus).subscribers, 1);
	corio_assert_finished(loop);
	cr_assert_eq(stats(bus).subscribers, 0);
	cr_assert_eq(corio_bus_subscribe(bus, 3, &(struct corio_bus_sub_opts){
		.task = t }), -ESRCH);
	/* Zero-size messages are bare notifications. */
	cr_assert_eq(corio_bus_try_publish(bus, 3, NULL), 0);
	cr_assert_eq(corio_task_reap(t, NULL), 0);
	cr_assert_eq(corio_bus_destroy(bus), 0);
	t_loop_done(loop);
}

/* ---- a million abandoned subscribers ------------------------------- */

/*
 * Live bytes allocated through corio's allocator hook: the exact heap
 * footprint of the bus (and of the loop's slab), independent of how malloc
 * and the sanitizers cache freed memory.
 */
static size_t live_bytes, peak_bytes;

static void *count_alloc(size_t size)
{
	size_t *p = malloc(size + 16);

	if (!p)
		return NULL;
	p[0] = size;
	live_bytes += size;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
	return (char *)p + 16;
}

static void count_free(void *ptr)
{
	size_t *p;

	if (!ptr)
		return;
	p = (void *)((char *)ptr - 16);
	live_bytes -= p[0];
	free(p);
}

static long rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Subscribes (queue of 4, owned by this task), takes one event, ends. */
corio_async(void, lapsed_listener, ((struct corio_bus *, bus)), (
	int64_t id;
	long v;
	int r;
))
{
	corio_begin();
	self->id = corio_bus_subscribe(self->bus, 7,
		&(struct corio_bus_sub_opts){ .capacity = 4 });
	cr_assert_gt(self->id, 0);
	corio_await(self->r, corio_bus_next, self->bus, self->id, &self->v);
	cr_assert_eq(self->r, 0);
corio_finally:
	corio_end();	/* no unsubscribe: the bus must let go by itself */
}

static void count_cb(void *arg, uint64_t topic, const void *msg)
{
	(void)topic;
	(void)msg;
	(*(uint64_t *)arg)++;
}

/* The naive registry: strong references, so abandoned entries stay. */
struct naive_sub {
	uint64_t topic;
	corio_bus_fn fn;
	void *arg;
	size_t len;
	long queue[4];
};

struct naive_registry {
	struct naive_sub **subs;
	size_t n, cap;
};

static void naive_subscribe(struct naive_registry *r, uint64_t topic,
			    corio_bus_fn fn, void *arg)
{
	struct naive_sub *s = calloc(1, sizeof(*s));

	cr_assert_not_null(s);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->subs = realloc(r->subs, r->cap * sizeof(*r->subs));
		cr_assert_not_null(r->subs);
	}
	*s = (struct naive_sub){ .topic = topic, .fn = fn, .arg = arg };
	r->subs[r->n++] = s;
}

static void naive_publish(struct naive_registry *r, uint64_t topic, long v)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct naive_sub *s = r->subs[i];

		if (s->topic != topic)
			continue;
		if (s->fn)
			s->fn(s->arg, topic, &v);
		else if (s->len < 4)
			s->queue[s->len++] = v;
	}
}

struct churn {
	struct corio_bus *bus;
	size_t total, batch;
	uint64_t calls, max_subs;
	size_t first_peak;		/* heap peak after the first batch */
	struct corio_bus_owner *owners[500];
};

/*
 * Per batch: spawn batch/2 listener tasks and make batch/2 callback
 * subscriptions owned by tokens; let the listeners reach their await;
 * publish one event (all of them get it); let the listeners end; release
 * the tokens.  Nobody unsubscribes.
 */
corio_async(void, churn_driver, ((struct churn *, c)), (
	size_t i, j;
	long v;
))
{
	struct corio_bus_stats st;

	corio_begin();
	for (self->i = 0; self->i < self->c->total; self->i += self->c->batch) {
		for (self->j = 0; self->j < self->c->batch / 2; self->j++) {
			cr_assert_eq(corio_spawn(corio_loop_current(),
				lapsed_listener__start(NULL, self->c->bus),
				NULL), 0);
			cr_assert_eq(corio_bus_owner_create(
				&self->c->owners[self->j]), 0);
			cr_assert_gt(corio_bus_subscribe(self->c->bus, 7,
				&(struct corio_bus_sub_opts){
					.owner = self->c->owners[self->j],
					.fn = count_cb,
					.arg = &self->c->calls }), 0);
		}
		corio_yield();		/* the listeners run to their await */
		cr_assert_eq(corio_bus_stats(self->c->bus, &st), 0);
		if (st.subscribers > self->c->max_subs)
			self->c->max_subs = st.subscribers;
		self->v = (long)self->i;
		cr_assert_eq(corio_bus_try_publish(self->c->bus, 7, &self->v),
			     (int)self->c->batch, "the whole batch gets it");
		corio_yield();		/* the listeners take it and end */
		for (self->j = 0; self->j < self->c->batch / 2; self->j++)
			cr_assert_eq(corio_bus_owner_release(
				self->c->owners[self->j]), 0);
		if (self->i == 0)
			self->c->first_peak = peak_bytes;
	}
corio_finally:
	corio_end();
}

Test(bus, million_abandoned_subscribers_stay_bounded, .timeout = 120)
{
#ifdef T_ASAN
	const size_t total = 100000;	/* ASan: 10x fewer, same shape */
#else
	const size_t total = 1000000;
#endif
	struct churn c = { .total = total, .batch = 1000 };
	struct naive_registry naive = { 0 };
	size_t base_bytes, naive_bytes, i, j;
	uint64_t naive_calls = 0;
	long rss0, rss1, rss2;
	struct corio_bus_stats st;
	struct corio_loop *loop;

	corio_set_allocator(count_alloc, count_free);
	loop = t_loop();
	cr_assert_eq(corio_bus_create(&c.bus, sizeof(long), "churn"), 0);
	base_bytes = peak_bytes = live_bytes;
	rss0 = rss_kib();
	corio_spawn(loop, churn_driver__start(NULL, &c), NULL);
	corio_assert_finished(loop);
	rss1 = rss_kib();
	cr_assert_eq(corio_bus_stats(c.bus, &st), 0);
	cr_assert_eq(c.calls, total / 2, "every callback ran once");
	cr_assert_eq(st.lapsed, total);
	cr_assert_eq(st.subscribers, 0);
	cr_assert_eq(st.peak_subscribers, c.batch);
	cr_assert_eq(c.max_subs, c.batch);
	cr_assert_eq(corio_bus_destroy(c.bus), 0);
	t_loop_done(loop);
	corio_set_allocator(NULL, NULL);

	/* The same churn on a registry holding strong references. */
	for (i = 0; i < total; i += c.batch) {
		for (j = 0; j < c.batch / 2; j++) {
			naive_subscribe(&naive, 7, NULL, NULL);
			naive_subscribe(&naive, 7, count_cb, &naive_calls);
		}
		if (i % (100 * c.batch) == 0)	/* O(all ever): keep it rare */
			naive_publish(&naive, 7, (long)i);
	}
	rss2 = rss_kib();
	naive_bytes = naive.n * sizeof(struct naive_sub) +
		      naive.cap * sizeof(*naive.subs);
	printf("bus:   %zu subscribers abandoned, at most %llu live, heap "
	       "peak +%zu KiB (+%zu KiB after the first batch), RSS "
	       "+%ld KiB\n", total, (unsigned long long)c.max_subs,
	       (peak_bytes - base_bytes) / 1024,
	       (c.first_peak - base_bytes) / 1024, rss1 - rss0);
	printf("naive: %zu subscribers kept, heap >= %zu KiB, RSS +%ld KiB\n",
	       naive.n, naive_bytes / 1024, rss2 - rss1);
	cr_assert_eq(naive.n, total, "the naive registry kept them all");
	/* Bounded: the peak is set by one batch and does not grow with the
	 * number of batches (2x margin), far below the naive registry. */
	cr_assert_leq(peak_bytes - base_bytes,
		      2 * (c.first_peak - base_bytes));
	cr_assert_lt((peak_bytes - base_bytes) * 10, naive_bytes);
#ifndef T_ASAN
	/* ASan's quarantine holds freed memory back, so RSS says little
	 * there; the heap count above holds under ASan too. */
	cr_assert_lt((rss1 - rss0) * 4, rss2 - rss1);
#endif
	for (i = 0; i < naive.n; i++)
		free(naive.subs[i]);
	free(naive.subs);
}
