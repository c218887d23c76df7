/* SPDX-License-Identifier: MIT */
/*
 * tests/test_remote.c - waits resolved from other threads: a remote
 * completion resolved after its destroy, and tickets (corio_remote_call),
 * whose waiter may leave before, during or after the resolution, ending
 * with 10,000 concurrent calls into a library that calls back on its own
 * threads, with random deadlines and cancellations, every value counted.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <corio/async.h>
#include <corio/completion.h>
#include <corio/test.h>

/* ---- a callback library with threads of its own -------------------- */

/*
 * worklib answers each request after its delay by calling its callback
 * on one of the library's threads, exactly once, as libraries with a
 * worker pool do.  Requests are never cancelled: a late answer is the
 * norm, not the exception.
 */
struct worklib_req {
	int64_t due;		/* CLOCK_MONOTONIC ns */
	int64_t value;
	void (*cb)(void *arg, int64_t value);
	void *arg;
};

struct worklib {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct worklib_req *heap;	/* min-heap on @due */
	size_t len, cap;
	bool quit;		/* answer what is queued, then stop */
	pthread_t th[4];
	_Atomic long calls;	/* callbacks made */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void heap_swap(struct worklib *w, size_t a, size_t b)
{
	struct worklib_req t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
}

/* Take the earliest request off the heap (not empty). */
static struct worklib_req heap_pop(struct worklib *w)
{
	struct worklib_req top = w->heap[0];
	size_t i = 0;

	w->heap[0] = w->heap[--w->len];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < w->len && w->heap[l].due < w->heap[m].due)
			m = l;
		if (l + 1 < w->len && w->heap[l + 1].due < w->heap[m].due)
			m = l + 1;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
	return top;
}

static void *worklib_thread(void *p)
{
	struct worklib *w = p;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct worklib_req req;

		if (!w->len) {
			if (w->quit)
				break;
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		if (w->heap[0].due > mono_ns()) {
			struct timespec ts = {
				w->heap[0].due / 1000000000,
				w->heap[0].due % 1000000000,
			};

			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
			continue;
		}
		req = heap_pop(w);
		pthread_mutex_unlock(&w->lock);
		req.cb(req.arg, req.value);
		atomic_fetch_add(&w->calls, 1);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void worklib_start(struct worklib *w)
{
	pthread_condattr_t ca;
	size_t i;

	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (i = 0; i < sizeof(w->th) / sizeof(w->th[0]); i++)
		cr_assert_eq(pthread_create(&w->th[i], NULL, worklib_thread, w),
			     0);
}

/* The library's API: call @cb(@arg, @value) after @delay_ns. */
static int worklib_submit(struct worklib *w, int64_t delay_ns, int64_t value,
			  void (*cb)(void *, int64_t), void *arg)
{
	size_t i;

	pthread_mutex_lock(&w->lock);
	if (w->len == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct worklib_req *h = realloc(w->heap, cap * sizeof(*h));

		if (!h) {
			pthread_mutex_unlock(&w->lock);
			return -ENOMEM;
		}
		w->heap = h;
		w->cap = cap;
	}
	i = w->len++;
	w->heap[i] = (struct worklib_req){ .due = mono_ns() + delay_ns,
					   .value = value, .cb = cb,
					   .arg = arg };
	for (; i && w->heap[(i - 1) / 2].due > w->heap[i].due; i = (i - 1) / 2)
		heap_swap(w, i, (i - 1) / 2);
	/* Only a new earliest request changes what a sleeper waits for. */
	if (!i)
		pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* Answer everything still queued, then join the threads. */
static void worklib_stop(struct worklib *w)
{
	size_t i;

	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < sizeof(w->th) / sizeof(w->th[0]); i++)
		pthread_join(w->th[i], NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->heap);
}

/* ---- the adapter: the porting guide's recipe ----------------------- */

struct call {
	struct worklib *lib;
	int64_t delay_ns, value;
	void (*drop)(void *arg, int64_t value);	/* or NULL */
	void *drop_arg;
};

/* The library's callback: its argument is the ticket, never the frame. */
static void on_answer(void *ticket, int64_t value)
{
	int ret = corio_remote_resolve(ticket, value);

	cr_assert(ret == 0 || ret == -ECANCELED, "resolve: %d", ret);
}

static int start_call(struct corio_remote *r, void *arg)
{
	struct call *c = arg;

	if (c->drop)
		corio_remote_on_drop(r, c->drop, c->drop_arg);
	return worklib_submit(c->lib, c->delay_ns, c->value, on_answer, r);
}

corio_async(int64_t, call_lib, ((struct call, c)), (
	int64_t v;
))
{
	corio_begin();
	/* @arg may point into this frame: only start_call reads it. */
	corio_await(self->v, corio_remote_call, start_call, &self->c);
	corio_return(self->v);
corio_finally:
	corio_end();
}

/* ---- small cases ---------------------------------------------------- */

struct late_resolve {
	struct corio_completion *c;
	int ret;
};

static void *resolve_from_thread(void *p)
{
	struct late_resolve *lr = p;

	lr->ret = corio_completion_resolve_remote(lr->c, 7);
	return NULL;
}

Test(remote, resolve_after_destroy_is_refused_and_counts_once, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_completion c, never;
	struct late_resolve lr = { .c = &c, .ret = 1 };
	struct corio_task *t;
	pthread_t th;
	int st;

	cr_assert_eq(corio_completion_init(&c, "late", CORIO_COMPLETION_REMOTE),
		     0);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 1);
	cr_assert_eq(corio_completion_destroy(&c), 0);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0);
	/* The callback fires after its waiter gave the completion up. */
	cr_assert_eq(pthread_create(&th, NULL, resolve_from_thread, &lr), 0);
	pthread_join(th, NULL);
	cr_assert_eq(lr.ret, -ECANCELED);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0,
		     "the count of outside wakers went down twice");
	/* So a real deadlock is still reported, not waited on forever. */
	cr_assert_eq(corio_completion_init(&never, "never", 0), 0);
	corio_spawn(loop, t_await_completion__start(NULL, &never, NULL), &t);
	corio_assert_deadlock(loop, CORIO_DEADLOCK_GLOBAL, "t_await_completion");
	corio_task_cancel(t);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(t, &st), 0);
	cr_assert_eq(corio_completion_destroy(&never), 0);
	cr_assert_eq(corio_completion_destroy(&c), 0, "destroy again");
	t_loop_done(loop);
}

static _Atomic long drops, drop_sum;

static void count_drop(void *arg, int64_t value)
{
	(void)arg;
	atomic_fetch_add(&drops, 1);
	atomic_fetch_add(&drop_sum, value);
}

Test(remote, value_from_another_thread, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct worklib lib;
	int64_t got = 0;

	worklib_start(&lib);
	corio_spawn(loop, call_lib__start(NULL, (struct call){
		.lib = &lib, .delay_ns = CORIO_MS(5), .value = 42 }, &got),
		NULL);
	/* Nothing on the loop can wake the task, yet no deadlock. */
	corio_assert_finished(loop);
	cr_assert_eq(got, 42);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0);
	t_loop_done(loop);
	worklib_stop(&lib);
	cr_assert_eq(atomic_load(&lib.calls), 1);
}

corio_async(int64_t, call_with_deadline, ((struct call, c), (int64_t, ns)), (
	int64_t v;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + self->ns);
	corio_await(self->v, corio_remote_call, start_call, &self->c);
	corio_return(self->v);
corio_finally:
	corio_end();
}

Test(remote, waiter_gone_before_the_callback, .timeout = 10)
{
	/* Frames from the allocator: a write into a released one is seen. */
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	struct worklib lib;
	int64_t got = 0;

	atomic_store(&drops, 0);
	atomic_store(&drop_sum, 0);
	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	worklib_start(&lib);
	corio_spawn(loop, call_with_deadline__start(NULL, (struct call){
		.lib = &lib, .delay_ns = CORIO_MS(50), .value = 9,
		.drop = count_drop }, CORIO_MS(1), &got), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(got, -ETIME);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0);
	/* The loop goes first; the answer comes later, to nobody. */
	t_loop_done(loop);
	worklib_stop(&lib);
	cr_assert_eq(atomic_load(&lib.calls), 1);
	cr_assert_eq(atomic_load(&drops), 1);
	cr_assert_eq(atomic_load(&drop_sum), 9);
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0, "%ld allocations leaked",
		     atomic_load(&t_alloc_live));
}

/* A start function that answers at once, on the loop's own thread. */
static struct corio_remote *held_ticket;

static int start_hold(struct corio_remote *r, void *arg)
{
	(void)arg;
	corio_remote_on_drop(r, count_drop, NULL);
	held_ticket = r;
	return 0;
}

corio_async(int64_t, call_held, (), (int64_t v;))
{
	corio_begin();
	corio_await(self->v, corio_remote_call, start_hold, NULL);
	corio_return(self->v);
corio_finally:
	corio_end();
}

/* Resolve the held ticket, then cancel its waiter before the loop has
 * taken the value off its queue: the value is in transit. */
corio_async(void, resolve_then_cancel, ((struct corio_task *, waiter)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_remote_resolve(held_ticket, 5), 0);
	cr_assert_eq(corio_task_cancel(self->waiter), 0);
corio_finally:
	corio_end();
}

Test(remote, waiter_gone_while_the_value_is_on_its_way, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	struct corio_task *waiter;
	int64_t got = 0;
	int st;

	atomic_store(&drops, 0);
	atomic_store(&drop_sum, 0);
	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	corio_spawn(loop, call_held__start(NULL, &got), &waiter);
	corio_spawn(loop, resolve_then_cancel__start(NULL, waiter), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(corio_task_reap(waiter, &st), 0);
	cr_assert_eq(st, -ECANCELED);
	cr_assert_eq(got, 0, "the cancelled waiter saw nothing");
	/* The run lasted until the value had arrived and was dropped. */
	cr_assert_eq(atomic_load(&drops), 1);
	cr_assert_eq(atomic_load(&drop_sum), 5);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0);
	t_loop_done(loop);
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0, "%ld allocations leaked",
		     atomic_load(&t_alloc_live));
}

/* The same, but the loop is stopped before the value arrives: destroy
 * takes it off the queue. */
corio_async(void, resolve_cancel_stop, ((struct corio_task *, waiter)), ())
{
	corio_begin();
	corio_yield();
	cr_assert_eq(corio_remote_resolve(held_ticket, 6), 0);
	cr_assert_eq(corio_task_cancel(self->waiter), 0);
	corio_yield();
	corio_loop_stop(corio_loop_current());
corio_finally:
	corio_end();
}

Test(remote, destroy_takes_a_value_still_queued, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	struct corio_task *waiter;
	int st;

	atomic_store(&drops, 0);
	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	corio_spawn(loop, call_held__start(NULL, NULL), &waiter);
	corio_spawn(loop, resolve_cancel_stop__start(NULL, waiter), NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert(corio_task_is_done(waiter));
	cr_assert_eq(corio_task_reap(waiter, &st), 0);
	t_loop_done(loop);
	cr_assert_eq(atomic_load(&drops), 1);
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0, "%ld allocations leaked",
		     atomic_load(&t_alloc_live));
}

static int start_fails(struct corio_remote *r, void *arg)
{
	(void)r, (void)arg;
	return -EAGAIN;
}

corio_async(int64_t, call_failing, (), (int64_t v;))
{
	corio_begin();
	corio_await(self->v, corio_remote_call, start_fails, NULL);
	corio_return(self->v);
corio_finally:
	corio_end();
}

Test(remote, start_failure_is_the_result, .timeout = 10)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	int64_t got = 0, none = 0;

	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	corio_spawn(loop, call_failing__start(NULL, &got), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(got, -EAGAIN);
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0);
	/* Outside a task: -EPERM, and no start function is called. */
	cr_assert_eq(corio_remote_call__start(NULL, start_fails, NULL, &none),
		     CORIO_READY);
	cr_assert_eq(none, -EPERM);
	t_loop_done(loop);
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0);
}

/* ---- 10,000 calls, random deadlines and cancellations --------------- */

#define N_CALLS 10000

struct stress {
	struct worklib lib;
	uint64_t rng;
	int64_t start[N_CALLS], delay[N_CALLS];
	int64_t deadline[N_CALLS];	/* < 0: none */
	bool submitted[N_CALLS], delivered[N_CALLS], timed_out[N_CALLS];
	bool unwound[N_CALLS];
	_Atomic int dropped[N_CALLS];
	_Atomic long dropped_on_loop, dropped_elsewhere;
	pthread_t loop_thread;
	struct corio_task *tasks[N_CALLS];
};

static struct stress *S;

static uint64_t rnd(struct stress *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static void stress_drop(void *arg, int64_t value)
{
	struct stress *s = arg;

	cr_assert(value >= 0 && value < N_CALLS);
	atomic_fetch_add(&s->dropped[value], 1);
	if (pthread_equal(pthread_self(), s->loop_thread))
		atomic_fetch_add(&s->dropped_on_loop, 1);
	else
		atomic_fetch_add(&s->dropped_elsewhere, 1);
}

static int stress_start(struct corio_remote *r, void *arg)
{
	int id = (int)(intptr_t)arg;

	S->submitted[id] = true;
	corio_remote_on_drop(r, stress_drop, S);
	return worklib_submit(&S->lib, S->delay[id], id, on_answer, r);
}

corio_async(void, stress_call, ((int, id)), (
	int64_t v;
	int r;
))
{
	corio_begin();
	/* Calls start over ~20 ms, so cancels meet every stage. */
	corio_await(self->r, corio_sleep, S->start[self->id]);
	if (S->deadline[self->id] >= 0)
		corio_deadline_set(corio_now() + S->deadline[self->id]);
	corio_await(self->v, corio_remote_call, stress_start,
		    (void *)(intptr_t)self->id);
	if (self->v == self->id)
		S->delivered[self->id] = true;
	else if (self->v == -ETIME)
		S->timed_out[self->id] = true;
	else
		cr_assert_fail("call %d: unexpected result %lld", self->id,
			       (long long)self->v);
corio_finally:
	if (self->hdr.err == -ECANCELED)
		S->unwound[self->id] = true;
	corio_end();
}

/* Cancel call @id at @when (loop time from the test's start): every
 * fifth call has one, at a random moment over ~30 ms, so cancels meet
 * calls before their start, during their wait and after their end,
 * however fast the machine runs the loop. */
corio_async(void, stress_cancel, ((int, id), (int64_t, ns)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->ns);
	corio_task_cancel(S->tasks[self->id]);
corio_finally:
	corio_end();
}

Test(remote, ten_thousand_calls_every_value_accounted, .timeout = 120)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_loop *loop;
	long delivered = 0, dropped = 0, submitted = 0, lost_deadline = 0;
	long cancelled = 0;
	int i, st;

	S = calloc(1, sizeof(*S));
	cr_assert(S);
	S->rng = 0x9e3779b97f4a7c15ull;
	S->loop_thread = pthread_self();
	for (i = 0; i < N_CALLS; i++) {
		S->start[i] = (int64_t)(rnd(S) % CORIO_MS(20));
		S->delay[i] = (int64_t)(rnd(S) % CORIO_MS(10));
		S->deadline[i] = rnd(S) % 3 == 0 ? -1 :
				 (int64_t)(rnd(S) % CORIO_MS(10));
	}
	t_alloc_counting(0);
	loop = t_loop_opts(&opts);
	worklib_start(&S->lib);
	for (i = 0; i < N_CALLS; i++)
		cr_assert_eq(corio_spawn(loop, stress_call__start(NULL, i),
					 &S->tasks[i]), 0);
	for (i = 0; i < N_CALLS; i += 5)
		cr_assert_eq(corio_spawn(loop, stress_cancel__start(NULL, i,
			(int64_t)(rnd(S) % CORIO_MS(30))), NULL), 0);
	corio_assert_finished(loop);
	for (i = 0; i < N_CALLS; i++) {
		cr_assert_eq(corio_task_reap(S->tasks[i], &st), 0);
		cr_assert(st == 0 || st == -ECANCELED, "status %d", st);
		cr_assert_eq(st == -ECANCELED, S->unwound[i]);
	}
	cr_assert_eq(corio_loop_external_ref(loop, 0), 0);
	/* The loop goes while answers for waiters that left are pending. */
	t_loop_done(loop);
	worklib_stop(&S->lib);
	for (i = 0; i < N_CALLS; i++) {
		int d = atomic_load(&S->dropped[i]);

		if (!S->submitted[i]) {
			cr_assert(!d && !S->delivered[i]);
			continue;
		}
		submitted++;
		/* Each value reached its waiter or was dropped, once. */
		cr_assert_eq(S->delivered[i] + d, 1, "call %d: delivered %d, "
			     "dropped %d", i, S->delivered[i], d);
		cr_assert_eq(d == 1, S->timed_out[i] || S->unwound[i],
			     "call %d: dropped %d, timed out %d, unwound %d",
			     i, d, S->timed_out[i], S->unwound[i]);
		delivered += S->delivered[i];
		dropped += d;
		lost_deadline += S->timed_out[i];
		cancelled += S->unwound[i];
	}
	cr_assert_eq(atomic_load(&S->lib.calls), submitted);
	cr_assert_eq(atomic_load(&S->dropped_on_loop) +
		     atomic_load(&S->dropped_elsewhere), dropped);
	cr_log_info("%ld calls: %ld delivered, %ld dropped (%ld timed out, "
		    "%ld cancelled; %ld dropped on the loop's thread)",
		    submitted, delivered, dropped, lost_deadline, cancelled,
		    atomic_load(&S->dropped_on_loop));
	/* How often each path is taken depends on the machine's load;
	 * the small tests above take each one for certain. */
	cr_assert_gt(delivered, 0);
	cr_assert_gt(dropped, 0);
	corio_set_allocator(NULL, NULL);
	cr_assert_eq(atomic_load(&t_alloc_live), 0, "%ld allocations leaked",
		     atomic_load(&t_alloc_live));
	free(S);
}

/* ---- allocation failures ---------------------------------------------- */

corio_async(void, resolve_held_soon, (), ())
{
	corio_begin();
	corio_yield();
	if (held_ticket)
		cr_assert_eq(corio_remote_resolve(held_ticket, 3), 0);
corio_finally:
	corio_end();
}

/* Every allocation fails in turn: the call reports -ENOMEM (or its
 * caller unwinds with it), the value is never lost silently, and
 * nothing leaks. */
Test(remote, allocation_failures_are_enomem, .timeout = 60)
{
	struct corio_loop_opts opts = { .flags = CORIO_LOOP_NO_CACHE };
	bool clean_run = false;
	long fail_at;

	for (fail_at = 1; !clean_run; fail_at++) {
		struct corio_loop *loop;
		struct corio_task *t = NULL;
		int64_t got = 1;
		int st = 0;

		cr_assert_lt(fail_at, 1000);
		atomic_store(&drops, 0);
		held_ticket = NULL;
		t_alloc_counting(fail_at);
		if (corio_loop_create(&loop, &opts) < 0)
			continue;
		/* The resolver first: without it the caller would wait for
		 * ever (a ticket is an outside waker, no deadlock). */
		if (corio_spawn(loop, resolve_held_soon__start(NULL), NULL) ||
		    corio_spawn(loop, call_held__start(NULL, &got), &t))
			t = NULL;
		cr_assert_eq(corio_loop_run(loop), 0);
		if (t)
			cr_assert_eq(corio_task_reap(t, &st), 0);
		cr_assert(got == 3 || got == -ENOMEM || st == -ENOMEM ||
			  !t, "fail at %ld: got %lld, status %d", fail_at,
			  (long long)got, st);
		/* A ticket handed out was resolved: received or dropped. */
		if (held_ticket)
			cr_assert_eq((got == 3) + atomic_load(&drops), 1);
		clean_run = atomic_load(&t_alloc_count) < fail_at;
		cr_assert_eq(corio_loop_destroy(loop), 0);
		corio_set_allocator(NULL, NULL);
		cr_assert_eq(atomic_load(&t_alloc_live), 0,
			     "fail at %ld: %ld allocations leaked", fail_at,
			     atomic_load(&t_alloc_live));
	}
}
