/* SPDX-License-Identifier: MIT */
/*
 * tests/test_runtime.c - several loops on several threads: spawning on a
 * chosen loop and in turn, messages between loops (order, one wake-up per
 * burst), awaiting a task of another loop, deadlock detection per loop,
 * stopping while busy, idle loops that sleep, spawning from many threads.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>

#include <corio/async.h>
#include <corio/runtime.h>

/* A runtime, or skip the test when io_uring is unavailable. */
static struct corio_runtime *t_runtime(unsigned n)
{
	struct corio_runtime *rt = NULL;
	int ret = corio_runtime_create(&rt, n, NULL);

	if (ret == -EPERM || ret == -ENOSYS)
		cr_skip_test("io_uring unavailable");
	cr_assert_eq(ret, 0, "corio_runtime_create: %s", corio_strerror(ret));
	return rt;
}

static void t_runtime_done(struct corio_runtime *rt)
{
	int ret = corio_runtime_destroy(rt);

	cr_assert_eq(ret, 0, "corio_runtime_destroy: %s", corio_strerror(ret));
}

/* ---------------------------------------------------------------------- */
/* Running something on a loop's thread from the test's thread.           */

struct on_loop {
	void (*fn)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void on_loop_run(void *arg)
{
	struct on_loop *o = arg;

	o->fn(o->arg);
	pthread_mutex_lock(&o->lock);
	o->done = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

/* Run @fn(@arg) on @loop's thread and wait for it. */
static void t_on_loop(struct corio_loop *loop, void (*fn)(void *), void *arg)
{
	struct on_loop o = { .fn = fn, .arg = arg, .done = false };

	pthread_mutex_init(&o.lock, NULL);
	pthread_cond_init(&o.cond, NULL);
	cr_assert_eq(corio_loop_post(loop, on_loop_run, &o), 0);
	pthread_mutex_lock(&o.lock);
	while (!o.done)
		pthread_cond_wait(&o.cond, &o.lock);
	pthread_mutex_unlock(&o.lock);
	pthread_cond_destroy(&o.cond);
	pthread_mutex_destroy(&o.lock);
}

static void read_stats(void *arg)
{
	corio_loop_stats(corio_loop_current(), arg);
}

static void t_stats(struct corio_runtime *rt, unsigned i,
		    struct corio_loop_stats *st)
{
	t_on_loop(corio_runtime_loop(rt, i), read_stats, st);
}

/* ---------------------------------------------------------------------- */
/* Spawning.                                                              */

struct where {
	struct corio_runtime *rt;
	_Atomic int index;	/* the loop the task ran on */
	_Atomic int runs;
};

corio_async(void, note_where, ((struct where *, w)), ())
{
	corio_begin();
	corio_yield();
	atomic_store(&self->w->index, corio_runtime_self(self->w->rt));
	atomic_fetch_add(&self->w->runs, 1);
corio_finally:
	corio_end();
}

static struct corio_frame *start_note_where(void *arg)
{
	return note_where__start(NULL, arg);
}

Test(runtime, spawn_on_each_loop, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(3);
	struct where w[3];
	unsigned i;

	cr_assert_eq(corio_runtime_nloops(rt), 3);
	cr_assert_null(corio_runtime_loop(rt, 3));
	cr_assert_eq(corio_runtime_self(rt), -1, "the test thread is not one");
	for (i = 0; i < 3; i++) {
		cr_assert_not_null(corio_runtime_loop(rt, i));
		w[i] = (struct where){ .rt = rt, .index = -1 };
		cr_assert_eq(corio_runtime_spawn(rt, (int)i, start_note_where,
						 &w[i], "where"), (int)i);
	}
	cr_assert_eq(corio_runtime_wait(rt), 0);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(atomic_load(&w[i].index), (int)i);
		cr_assert_eq(atomic_load(&w[i].runs), 1);
	}
	t_runtime_done(rt);
}

Test(runtime, round_robin, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(3);
	struct where w[9];
	int per_loop[3] = { 0 }, i, got;

	for (i = 0; i < 9; i++) {
		w[i] = (struct where){ .rt = rt, .index = -1 };
		got = corio_runtime_spawn(rt, CORIO_ANY_LOOP, start_note_where,
					  &w[i], NULL);
		cr_assert(got >= 0 && got < 3, "spawn: %d", got);
		/* In turn: consecutive spawns from one thread differ. */
		cr_assert_eq(got, i % 3);
	}
	cr_assert_eq(corio_runtime_wait(rt), 0);
	for (i = 0; i < 9; i++)
		per_loop[atomic_load(&w[i].index)]++;
	for (i = 0; i < 3; i++)
		cr_assert_eq(per_loop[i], 3, "loop %d ran %d", i, per_loop[i]);
	t_runtime_done(rt);
}

Test(runtime, bad_arguments, .timeout = 20)
{
	struct corio_runtime *rt = NULL;
	struct corio_completion *none = NULL;

	cr_assert_eq(corio_runtime_create(&rt, 0, NULL), -EINVAL);
	cr_assert_null(rt);
	cr_assert_eq(corio_runtime_create(&rt, 100000, NULL), -EINVAL);
	cr_assert_eq(corio_runtime_create(NULL, 1, NULL), -EINVAL);
	rt = t_runtime(2);
	cr_assert_eq(corio_runtime_spawn(rt, 2, start_note_where, NULL, NULL),
		     -EINVAL);
	cr_assert_eq(corio_runtime_spawn(rt, -2, start_note_where, NULL,
					 NULL), -EINVAL);
	cr_assert_eq(corio_runtime_spawn(rt, 0, NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(corio_runtime_spawn(NULL, 0, start_note_where, NULL,
					 NULL), -EINVAL);
	cr_assert_eq(corio_runtime_spawn_notify(rt, 0, start_note_where,
						NULL, NULL, none), -EINVAL);
	cr_assert_eq(corio_loop_post(NULL, read_stats, NULL), -EINVAL);
	cr_assert_eq(corio_loop_post(corio_runtime_loop(rt, 0), NULL, NULL),
		     -EINVAL);
	cr_assert_eq(corio_runtime_wait(NULL), -EINVAL);
	cr_assert_eq(corio_runtime_stop(NULL), -EINVAL);
	cr_assert_eq(corio_runtime_destroy(NULL), -EINVAL);
	cr_assert_eq(corio_runtime_nloops(NULL), 0);
	t_runtime_done(rt);
}

/* A frame that cannot be made: the spawn reports -ENOMEM. */
static struct corio_frame *start_nothing(void *arg)
{
	(void)arg;
	return NULL;
}

corio_async(int, call_nothing, ((struct corio_runtime *, rt)), (
	int status;
))
{
	corio_begin();
	corio_await(self->status, corio_run_on, self->rt, 1, start_nothing,
		    NULL);
	corio_return(self->status);
corio_finally:
	corio_end();
}

struct call_nothing_arg {
	struct corio_runtime *rt;
	int status;
};

static struct corio_frame *start_call_nothing(void *arg)
{
	struct call_nothing_arg *a = arg;

	return call_nothing__start(NULL, a->rt, &a->status);
}

Test(runtime, start_function_fails, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct call_nothing_arg a = { .rt = rt, .status = 1 };

	cr_assert_eq(corio_runtime_spawn(rt, 1, start_nothing, NULL, NULL), 1);
	cr_assert_eq(corio_runtime_spawn(rt, 0, start_call_nothing, &a, NULL),
		     0);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(a.status, -ENOMEM);
	t_runtime_done(rt);
}

/* ---------------------------------------------------------------------- */
/* Messages: order and one wake-up per burst.                             */

#define BURST 1000

struct seq_log {
	_Atomic int next[4];	/* per producer: the next value expected */
	_Atomic int bad;	/* values out of order */
	_Atomic int total;
};

struct seq_msg {
	struct seq_log *log;
	int producer, value;
};

static struct seq_msg msgs[4][BURST];

static void seq_check(void *arg)
{
	struct seq_msg *m = arg;
	int want = atomic_load(&m->log->next[m->producer]);

	if (m->value != want)
		atomic_fetch_add(&m->log->bad, 1);
	atomic_store(&m->log->next[m->producer], m->value + 1);
	atomic_fetch_add(&m->log->total, 1);
}

struct producer {
	struct corio_loop *loop;
	struct seq_log *log;
	int id;
	_Atomic int errors;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	int i;

	for (i = 0; i < BURST; i++) {
		struct seq_msg *m = &msgs[p->id][i];

		*m = (struct seq_msg){ .log = p->log, .producer = p->id,
				       .value = i };
		if (corio_loop_post(p->loop, seq_check, m) < 0)
			atomic_fetch_add(&p->errors, 1);
	}
	return NULL;
}

Test(runtime, post_order_and_one_wake_per_burst, .timeout = 20)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats st;
	struct producer p[4];
	pthread_t th[4];
	struct seq_log log;
	int i;

	memset(&log, 0, sizeof(log));
	/* Four threads post while the loop does not run: one burst. */
	for (i = 0; i < 4; i++) {
		p[i] = (struct producer){ .loop = loop, .log = &log, .id = i };
		cr_assert_eq(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(atomic_load(&p[i].errors), 0);
	}
	corio_loop_stats(loop, &st);
	cr_assert_eq(st.wake_writes, 1, "4000 messages, %llu eventfd writes",
		     (unsigned long long)st.wake_writes);
	cr_assert_eq(st.posts, 0, "nothing runs before the loop does");
	/* No task: the loop runs the messages, then returns. */
	cr_assert_eq(corio_loop_run(loop), 0);
	corio_loop_stats(loop, &st);
	cr_assert_eq(st.posts, 4 * BURST);
	cr_assert_eq(atomic_load(&log.total), 4 * BURST);
	cr_assert_eq(atomic_load(&log.bad), 0, "each sender's order is kept");
	/* The next burst needs a wake-up of its own. */
	p[0].id = 0;
	memset(&log, 0, sizeof(log));
	produce(&p[0]);
	corio_loop_stats(loop, &st);
	cr_assert_eq(st.wake_writes, 2);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(atomic_load(&log.total), BURST);
	cr_assert_eq(atomic_load(&log.bad), 0);
	t_loop_done(loop);
}

/* A task on one loop posts a burst to another loop. */
corio_async(void, post_burst, ((struct producer *, p)), ())
{
	corio_begin();
	produce(self->p);
corio_finally:
	corio_end();
}

static struct corio_frame *start_post_burst(void *arg)
{
	return post_burst__start(NULL, arg);
}

Test(runtime, cross_loop_post_order, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct corio_loop_stats before, after;
	struct seq_log log;
	struct producer p = { .loop = NULL, .log = &log, .id = 0 };
	int round;

	p.loop = corio_runtime_loop(rt, 1);
	for (round = 0; round < 3; round++) {
		memset(&log, 0, sizeof(log));
		t_stats(rt, 1, &before);
		cr_assert_eq(corio_runtime_spawn(rt, 0, start_post_burst, &p,
						 NULL), 0);
		cr_assert_eq(corio_runtime_wait(rt), 0);
		/* Everything queued before this message has run. */
		t_stats(rt, 1, &after);
		cr_assert_eq(atomic_load(&log.total), BURST);
		cr_assert_eq(atomic_load(&log.bad), 0);
		cr_assert_eq(atomic_load(&p.errors), 0);
		/* At most one write per message, and the burst shares them
		 * while the receiver is busy: print how many it took. */
		cr_assert_leq(after.wake_writes - before.wake_writes,
			      (uint64_t)BURST + 2);
		fprintf(stderr, "round %d: %d messages, %llu eventfd writes\n", round,
			    BURST, (unsigned long long)(after.wake_writes -
							before.wake_writes));
	}
	t_runtime_done(rt);
}

/* ---------------------------------------------------------------------- */
/* Awaiting across loops.                                                 */

struct square {
	struct corio_runtime *rt;
	int64_t in, out;
	int ran_on;
	int fail;		/* throw this instead */
};

corio_async(void, square_later, ((struct square *, sq)), (
	int slept;
))
{
	corio_begin();
	corio_await(self->slept, corio_sleep, CORIO_MS(5));
	self->sq->ran_on = corio_runtime_self(self->sq->rt);
	if (self->sq->fail)
		corio_throw(self->sq->fail);
	self->sq->out = self->sq->in * self->sq->in;
corio_finally:
	corio_end();
}

static struct corio_frame *start_square(void *arg)
{
	return square_later__start(NULL, arg);
}

struct caller {
	struct corio_runtime *rt;
	int target;
	struct square sq;
	int status;
	int notified;
	int caller_on;
};

/* On loop 0: ask loop @target for a square, both ways. */
corio_async(void, ask_square, ((struct caller *, c)), (
	struct corio_completion done;
	int64_t v;
	bool armed;
))
{
	corio_begin();
	self->c->caller_on = corio_runtime_self(self->c->rt);
	/* The convenience. */
	corio_await(self->c->status, corio_run_on, self->c->rt,
		    self->c->target, start_square, &self->c->sq);
	if (self->c->status < 0)
		corio_return_void();
	/* By hand: a remote completion resolved with the task's status. */
	self->c->sq.in++;
	cr_assert_eq(corio_completion_init(&self->done, "square",
					   CORIO_COMPLETION_REMOTE), 0);
	self->armed = true;
	cr_assert_eq(corio_runtime_spawn_notify(self->c->rt, self->c->target,
						start_square, &self->c->sq,
						"square", &self->done),
		     self->c->target);
	corio_await(self->v, corio_completion_wait, &self->done);
	self->c->notified = (int)self->v;
corio_finally:
	if (self->armed)
		cr_assert_eq(corio_completion_destroy(&self->done), 0);
	corio_end();
}

static struct corio_frame *start_ask_square(void *arg)
{
	return ask_square__start(NULL, arg);
}

Test(runtime, await_across_loops, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct caller c = { .rt = rt, .target = 1,
			    .sq = { .rt = rt, .in = 7, .ran_on = -1 },
			    .status = 1, .notified = 1, .caller_on = -1 };

	cr_assert_eq(corio_runtime_spawn(rt, 0, start_ask_square, &c, NULL),
		     0);
	/* Loop 0 has nothing but a wait on loop 1's answer, twice: it is
	 * not a deadlock. */
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(c.caller_on, 0);
	cr_assert_eq(c.status, 0);
	cr_assert_eq(c.notified, 0);
	cr_assert_eq(c.sq.ran_on, 1);
	cr_assert_eq(c.sq.out, 64);
	t_runtime_done(rt);
}

Test(runtime, await_on_own_loop_and_failure, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct caller same = { .rt = rt, .target = 0,
			       .sq = { .rt = rt, .in = 3 }, .status = 1 };
	struct caller fail = { .rt = rt, .target = 1,
			       .sq = { .rt = rt, .in = 3, .fail = -EIO },
			       .status = 1 };

	corio_runtime_spawn(rt, 0, start_ask_square, &same, NULL);
	corio_runtime_spawn(rt, 0, start_ask_square, &fail, NULL);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(same.status, 0);
	cr_assert_eq(same.sq.ran_on, 0);
	cr_assert_eq(same.sq.out, 16);
	cr_assert_eq(fail.status, -EIO, "the other task's error: %d",
		     fail.status);
	cr_assert_eq(fail.sq.ran_on, 1);
	t_runtime_done(rt);
}

/* ---------------------------------------------------------------------- */
/* Deadlock detection, per loop.                                          */

struct remote_event {
	struct corio_runtime *rt;
	struct corio_event ev;
	struct corio_loop *home;
	int result;
};

/* Runs on the home loop: the awaited event arrives from elsewhere. */
static void set_event(void *arg)
{
	struct remote_event *r = arg;

	corio_event_set(&r->ev);
	corio_loop_external_ref(r->home, -1);
}

corio_async(void, post_later, ((struct remote_event *, r)), (
	int slept;
))
{
	corio_begin();
	corio_await(self->slept, corio_sleep, CORIO_MS(10));
	cr_assert_eq(corio_loop_post(self->r->home, set_event, self->r), 0);
corio_finally:
	corio_end();
}

static struct corio_frame *start_post_later(void *arg)
{
	return post_later__start(NULL, arg);
}

corio_async(void, wait_for_message, ((struct remote_event *, r)), ())
{
	corio_begin();
	self->r->home = corio_loop_current();
	corio_event_init(&self->r->ev, "from loop 1");
	/* Declared: a message from another loop will set it. */
	corio_loop_external_ref(self->r->home, 1);
	cr_assert_eq(corio_runtime_spawn(self->r->rt, 1, start_post_later,
					 self->r, NULL), 1);
	corio_await(self->r->result, corio_event_wait, &self->r->ev);
	corio_event_destroy(&self->r->ev);
corio_finally:
	corio_end();
}

static struct corio_frame *start_wait_for_message(void *arg)
{
	return wait_for_message__start(NULL, arg);
}

Test(runtime, declared_message_is_no_deadlock, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct remote_event r = { .rt = rt, .result = 1 };

	cr_assert_eq(corio_runtime_spawn(rt, 0, start_wait_for_message, &r,
					 NULL), 0);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(r.result, 0);
	t_runtime_done(rt);
}

/* A message already queued is a waker on its way: no deadlock. */
struct queued_event {
	struct corio_event ev;
	int result;
};

static void set_queued_event(void *arg)
{
	struct queued_event *q = arg;

	corio_event_set(&q->ev);
}

corio_async(void, wait_queued_event, ((struct queued_event *, q)), ())
{
	corio_begin();
	corio_await(self->q->result, corio_event_wait, &self->q->ev);
corio_finally:
	corio_end();
}

Test(runtime, queued_message_is_no_deadlock, .timeout = 20)
{
	struct corio_loop *loop = t_loop();
	struct queued_event q = { .result = 1 };

	cr_assert_eq(corio_event_init(&q.ev, "set by a message"), 0);
	corio_spawn(loop, wait_queued_event__start(NULL, &q), NULL);
	/* Queued before the task waits: when the loop finds nothing ready,
	 * no I/O and no timer, the message is still on its way. */
	cr_assert_eq(corio_loop_post(loop, set_queued_event, &q), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(q.result, 0);
	cr_assert_eq(corio_event_destroy(&q.ev), 0);
	t_loop_done(loop);
}

struct stuck {
	struct corio_event ev;
	int result;
	_Atomic int cleaned;
};

/* Waits for an event nobody can set: a deadlock of its loop alone. */
corio_async(void, wait_forever, ((struct stuck *, s)), ())
{
	corio_begin();
	corio_event_init(&self->s->ev, "never set");
	corio_await(self->s->result, corio_event_wait, &self->s->ev);
corio_finally:
	corio_event_destroy(&self->s->ev);
	atomic_fetch_add(&self->s->cleaned, 1);
	corio_end();
}

static struct corio_frame *start_wait_forever(void *arg)
{
	return wait_forever__start(NULL, arg);
}

Test(runtime, deadlock_of_one_loop, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct stuck s = { .result = 1 };
	struct where w = { .rt = rt, .index = -1 };

	cr_assert_eq(corio_runtime_spawn(rt, 1, start_wait_forever, &s, NULL),
		     1);
	cr_assert_eq(corio_runtime_wait(rt), -EDEADLK);
	cr_assert_eq(atomic_load(&s.cleaned), 1, "cancelled, unwound");
	/* The loop went on. */
	cr_assert_eq(corio_runtime_spawn(rt, 1, start_note_where, &w, NULL),
		     1);
	cr_assert_eq(corio_runtime_wait(rt), -EDEADLK, "the first error");
	cr_assert_eq(atomic_load(&w.index), 1);
	cr_assert_eq(corio_runtime_destroy(rt), -EDEADLK);
}

/* ---------------------------------------------------------------------- */
/* Stopping, idle loops, teardown.                                        */

struct busy {
	struct corio_runtime *rt;
	_Atomic int started, cleaned;
	int status;
	struct square sq;
};

corio_async(void, spin, ((struct busy *, b)), ())
{
	corio_begin();
	atomic_fetch_add(&self->b->started, 1);
	for (;;)
		corio_yield();
corio_finally:
	atomic_fetch_add(&self->b->cleaned, 1);
	corio_end();
}

corio_async(void, nap, ((struct busy *, b)), (
	int slept;
))
{
	corio_begin();
	atomic_fetch_add(&self->b->started, 1);
	corio_await(self->slept, corio_sleep, CORIO_SEC(3600));
corio_finally:
	atomic_fetch_add(&self->b->cleaned, 1);
	corio_end();
}

/* Waits on another loop's nap: cancelled, it waits for that to end. */
corio_async(void, call_nap, ((struct busy *, b)), ())
{
	corio_begin();
	atomic_fetch_add(&self->b->started, 1);
	corio_await(self->b->status, corio_run_on, self->b->rt, 1,
		    start_square, &self->b->sq);
corio_finally:
	atomic_fetch_add(&self->b->cleaned, 1);
	corio_end();
}

static struct corio_frame *start_spin(void *arg)
{
	return spin__start(NULL, arg);
}

static struct corio_frame *start_nap(void *arg)
{
	return nap__start(NULL, arg);
}

static struct corio_frame *start_call_nap(void *arg)
{
	return call_nap__start(NULL, arg);
}

static void count_started(void *arg)
{
	(void)arg;
}

Test(runtime, stop_while_busy, .timeout = 30)
{
	struct corio_runtime *rt = t_runtime(2);
	struct busy b = { .status = 1 };
	int i, spawned = 0;

	b.rt = rt;
	b.sq = (struct square){ .rt = rt, .in = 2 };
	for (i = 0; i < 2; i++) {
		cr_assert_geq(corio_runtime_spawn(rt, i, start_spin, &b, NULL),
			      0);
		cr_assert_geq(corio_runtime_spawn(rt, i, start_nap, &b, NULL),
			      0);
		spawned += 2;
	}
	cr_assert_eq(corio_runtime_spawn(rt, 0, start_call_nap, &b, NULL), 0);
	spawned++;
	/* Every task has started once each loop has run this message:
	 * loop 0's spawns were queued before it (so was loop 1's square). */
	t_on_loop(corio_runtime_loop(rt, 0), count_started, NULL);
	t_on_loop(corio_runtime_loop(rt, 1), count_started, NULL);
	cr_assert_eq(corio_runtime_stop(rt), 0);
	cr_assert_eq(corio_runtime_stop(rt), 0, "twice is fine");
	cr_assert_eq(corio_runtime_spawn(rt, 0, start_spin, &b, NULL),
		     -ESHUTDOWN);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(atomic_load(&b.cleaned), spawned,
		     "%d of %d unwound", atomic_load(&b.cleaned), spawned);
	fprintf(stderr, "started before the stop: %d of %d\n",
		    atomic_load(&b.started), spawned);
	t_runtime_done(rt);
}

Test(runtime, stop_before_the_task_ran, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct t_gate g;
	struct busy b = { .status = 1 };

	t_gate_init(&g);
	cr_assert_eq(corio_loop_post(corio_runtime_loop(rt, 1), t_gate_hold,
				     &g), 0);
	t_gate_wait_entered(&g);
	/* Loop 1 is busy in the message: the spawn and the stop reach it
	 * together, so the task is cancelled before its first step. */
	cr_assert_eq(corio_runtime_spawn(rt, 1, start_spin, &b, NULL), 1);
	cr_assert_eq(corio_runtime_stop(rt), 0);
	t_gate_open(&g);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(atomic_load(&b.started), 0, "it never ran");
	/* Its frame was released all the same (AddressSanitizer checks). */
	t_runtime_done(rt);
	t_gate_destroy(&g);
}

static struct corio_frame *start_trivial(void *arg)
{
	return note_where__start(NULL, arg);
}

Test(runtime, idle_loop_sleeps_and_stays, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct corio_loop_stats a, b;
	struct where w[200];
	int i;

	t_stats(rt, 1, &a);
	/* Loop 0 works; loop 1 has no task and nothing to wake it. */
	for (i = 0; i < 200; i++) {
		w[i] = (struct where){ .rt = rt, .index = -1 };
		cr_assert_eq(corio_runtime_spawn(rt, 0, start_trivial, &w[i],
						 NULL), 0);
		cr_assert_eq(corio_runtime_wait(rt), 0);
	}
	t_stats(rt, 1, &b);
	/* Asleep meanwhile: only the two stats messages woke it. */
	cr_assert_leq(b.iterations - a.iterations, 2,
		      "idle loop iterated %llu times",
		      (unsigned long long)(b.iterations - a.iterations));
	cr_assert_eq(b.tasks_live, 0);
	/* And it did not exit: it still takes work. */
	w[0].index = -1;
	cr_assert_eq(corio_runtime_spawn(rt, 1, start_trivial, &w[0], NULL),
		     1);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(atomic_load(&w[0].index), 1);
	t_runtime_done(rt);
}

Test(runtime, create_and_destroy_unused, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(4);

	cr_assert_eq(corio_runtime_wait(rt), 0, "nothing spawned");
	t_runtime_done(rt);
}

/* A task calling the blocking functions of its own runtime is refused. */
struct self_call {
	struct corio_runtime *rt;
	int wait, destroy;
};

corio_async(void, call_blocking_api, ((struct self_call *, s)), ())
{
	corio_begin();
	self->s->wait = corio_runtime_wait(self->s->rt);
	self->s->destroy = corio_runtime_destroy(self->s->rt);
corio_finally:
	corio_end();
}

static struct corio_frame *start_call_blocking_api(void *arg)
{
	return call_blocking_api__start(NULL, arg);
}

Test(runtime, blocking_calls_from_a_loop_are_refused, .timeout = 20)
{
	struct corio_runtime *rt = t_runtime(2);
	struct self_call s = { .rt = rt, .wait = 1, .destroy = 1 };

	corio_runtime_spawn(rt, 1, start_call_blocking_api, &s, NULL);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(s.wait, -EPERM);
	cr_assert_eq(s.destroy, -EPERM);
	t_runtime_done(rt);
}

/* ---------------------------------------------------------------------- */
/* Spawning from many threads, and from tasks to other loops.             */

#define SPAWNERS 6
#define PER_SPAWNER 400

static _Atomic int tally;

corio_async(void, count_one, ((void *, unused)), ())
{
	corio_begin();
	atomic_fetch_add(&tally, 1);
corio_finally:
	corio_end();
}

static struct corio_frame *start_count_one(void *arg)
{
	return count_one__start(NULL, arg);
}

struct spawner {
	struct corio_runtime *rt;
	_Atomic int errors;
};

static void *spawn_many(void *arg)
{
	struct spawner *s = arg;
	int i;

	for (i = 0; i < PER_SPAWNER; i++)
		if (corio_runtime_spawn(s->rt, CORIO_ANY_LOOP, start_count_one,
					NULL, "count") < 0)
			atomic_fetch_add(&s->errors, 1);
	return NULL;
}

/* A chain hopping from loop to loop, each link spawning the next. */
struct hop {
	struct corio_runtime *rt;
	_Atomic int left;
	_Atomic int errors;
};

static struct corio_frame *start_hop(void *arg);

corio_async(void, hop_once, ((struct hop *, h)), ())
{
	corio_begin();
	if (atomic_fetch_sub(&self->h->left, 1) > 1) {
		int me = corio_runtime_self(self->h->rt);
		int n = (int)corio_runtime_nloops(self->h->rt);

		if (corio_runtime_spawn(self->h->rt, (me + 1) % n, start_hop,
					self->h, "hop") < 0)
			atomic_fetch_add(&self->h->errors, 1);
	}
corio_finally:
	corio_end();
}

static struct corio_frame *start_hop(void *arg)
{
	return hop_once__start(NULL, arg);
}

Test(runtime, spawn_from_many_threads, .timeout = 60)
{
	struct corio_runtime *rt = t_runtime(3);
	struct spawner s = { .rt = rt };
	struct hop h = { .rt = rt, .left = 300 };
	pthread_t th[SPAWNERS];
	int i;

	atomic_store(&tally, 0);
	cr_assert_eq(corio_runtime_spawn(rt, 0, start_hop, &h, "hop"), 0);
	for (i = 0; i < SPAWNERS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, spawn_many, &s), 0);
	for (i = 0; i < SPAWNERS; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(corio_runtime_wait(rt), 0);
	cr_assert_eq(atomic_load(&s.errors), 0);
	cr_assert_eq(atomic_load(&tally), SPAWNERS * PER_SPAWNER);
	cr_assert_eq(atomic_load(&h.left), 0);
	cr_assert_eq(atomic_load(&h.errors), 0);
	t_runtime_done(rt);
}
