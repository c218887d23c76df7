/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/completion.c - one-shot completions for callback code, their
 * resolution from other threads, and tasks that report to a callback.
 *
 * A remote resolution stores the value in the completion, pushes the
 * completion on the loop's lock-free stack and writes the loop's eventfd;
 * the loop keeps a read armed on that eventfd, so its single wait returns,
 * and it applies the queued resolutions on its own thread.  Only the
 * push (a compare-and-swap) and the eventfd write happen off the loop.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/remote.h"
#include "core/scope.h"
#include "reactor/reactor.h"

#include "corio/async.h"

enum { PENDING, RESOLVED };

int corio_completion_init(struct corio_completion *c, const char *name,
			  unsigned flags)
{
	struct corio_loop *loop = corio__tls_loop;
	int ret;

	if (!loop || (flags & ~CORIO_COMPLETION_REMOTE))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	ret = corio__sync_register(&c->sync, CORIO_WAIT_COMPLETION, name,
				   "completion");
	if (ret)
		return ret;
	c->loop = loop;
	if (flags & CORIO_COMPLETION_REMOTE) {
		/* Until the value arrives, a wake-up may come from outside:
		 * the deadlock detector must not call the waiters stuck. */
		c->remote = CORIO__REMOTE_PENDING;
		loop->dl.external_refs++;
		/* Another thread resolves it: never a scope's. */
		c->sync.scope = 0;
	}
	return 0;
}

int corio_completion_destroy(struct corio_completion *c)
{
	int remote = CORIO__REMOTE_PENDING;

	if (c->sync.head)
		return -EBUSY;
	/*
	 * Never resolved: withdraw the waker, once.  The exchange races
	 * with corio_completion_resolve_remote()'s: whichever comes first
	 * wins, so a resolution after this fails with -ECANCELED instead
	 * of queueing the completion and decrementing the count again.
	 */
	if (atomic_compare_exchange_strong(corio__remote_state(c), &remote,
					   CORIO__REMOTE_WITHDRAWN))
		corio__external_ref_put(c->loop);
	else if (remote == CORIO__REMOTE_SENT)
		return -EBUSY;	/* its value is on its way */
	return corio__sync_unregister(&c->sync);
}

/* Apply a resolution on the loop's thread. */
static int resolve(struct corio_completion *c, int64_t value)
{
	int ret = corio__scope_use(&c->sync);

	if (ret)
		return ret;
	if (c->state == RESOLVED)
		return -EINVAL;
	c->state = RESOLVED;
	c->value = value;
	corio__sync_resume_all(&c->sync, value);
	return 0;
}

int corio_completion_resolve(struct corio_completion *c, int64_t value)
{
	return resolve(c, value);
}

int corio_completion_resolve_remote(struct corio_completion *c, int64_t value)
{
	struct corio_loop *loop = c->loop;
	int expected = CORIO__REMOTE_PENDING;

	/* Exactly one remote resolution per completion, and none after a
	 * destroy (which already withdrew the waker). */
	if (!atomic_compare_exchange_strong(corio__remote_state(c), &expected,
					    CORIO__REMOTE_SENT))
		return expected == CORIO__REMOTE_WITHDRAWN ? -ECANCELED :
							     -EINVAL;
	c->value = value;
	return corio__remote_push(loop, c);
}

int corio__remote_push(struct corio_loop *loop, struct corio_completion *c)
{
	struct corio_completion *head;
	int ret;

	/* From the push on, the loop may deliver @c, its task may end and
	 * its owner destroy the loop while this thread has yet to write the
	 * eventfd: corio_loop_destroy waits until we are out.  Counted
	 * before the push, whose release makes the count visible to the
	 * drain that takes @c. */
	atomic_fetch_add_explicit(&loop->remote_senders, 1,
				  memory_order_relaxed);
	head = atomic_load_explicit(&loop->remote_head, memory_order_relaxed);
	do {
		c->remote_next = head;
		/* release (seq_cst: see corio__remote_drain): the value and
		 * link are visible before the push */
	} while (!atomic_compare_exchange_weak_explicit(&loop->remote_head,
			&head, c, memory_order_seq_cst, memory_order_relaxed));
	ret = corio__loop_wake_once(loop);
	/* release: our last use of @loop comes before its destruction */
	atomic_fetch_sub_explicit(&loop->remote_senders, 1,
				  memory_order_release);
	return ret;
}

void corio__remote_quiesce(struct corio_loop *loop)
{
	/* A sender in its window runs a few instructions and one eventfd
	 * write: yield to it rather than sleep. */
	while (atomic_load_explicit(&loop->remote_senders,
				    memory_order_acquire))
		sched_yield();
}

void corio__remote_drain(struct corio_loop *loop)
{
	struct corio_completion *c, *fifo = NULL, *next;

	/*
	 * Once per iteration of the loop, whichever comes first: the wait
	 * phase seeing wake_pending, or the eventfd read.  Messages that
	 * arrive later wait for the next iteration, so the tasks a message
	 * spawned run before the messages sent after it (a stop).  Skipping
	 * loses nothing: wake_pending stays set for a later sender.
	 */
	if (loop->remote_drained == loop->stats.iterations)
		return;
	loop->remote_drained = loop->stats.iterations;
	/* Before taking the queue: a sender that pushes after the exchange
	 * below finds the flag clear and writes the eventfd again.  The
	 * flag store, this exchange, the sender's push and its flag
	 * exchange are all sequentially consistent: with weaker orders
	 * both sides could miss each other (a store-buffering pattern). */
	atomic_store(&loop->wake_pending, 0);
	/* also acquire: pairs with the release of each push */
	c = atomic_exchange_explicit(&loop->remote_head, NULL,
				     memory_order_seq_cst);
	for (; c; c = next) {	/* the stack is newest first: reverse it */
		next = c->remote_next;
		c->remote_next = fifo;
		fifo = c;
	}
	for (c = fifo; c; c = next) {
		next = c->remote_next;
		c->remote_next = NULL;
		if (atomic_load_explicit(corio__remote_state(c),
					 memory_order_relaxed) ==
		    CORIO__REMOTE_POST)
			corio__post_run(loop, c);
		else
			corio__remote_deliver(loop, c);
	}
}

void corio__remote_deliver(struct corio_loop *loop, struct corio_completion *c)
{
	assert(atomic_load(corio__remote_state(c)) == CORIO__REMOTE_SENT);
	corio__external_ref_put(loop);
	resolve(c, c->value);
	atomic_store(corio__remote_state(c), CORIO__REMOTE_DELIVERED);
	if (c->on_delivered)
		c->on_delivered(c);
}

int corio_completion_is_resolved(const struct corio_completion *c)
{
	return c->state == RESOLVED;
}

struct corio_frame *corio_completion_wait__start(struct corio_frame *parent,
						 struct corio_completion *c,
						 int64_t *result)
{
	struct corio_frame *early;
	struct corio_task *t;
	int ret;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_I64);
	if (early)
		return early;
	ret = corio__scope_use(&c->sync);
	if (ret)
		return corio__op_done(t, ret);
	if (c->state == RESOLVED)
		return corio__op_done(t, c->value);
	return corio__sync_wait(&c->sync, t, NULL);
}

static int arm_wake(struct corio_loop *loop)
{
	return corio__source_start(loop, &loop->wake_src,
		&(struct corio__io){ .opcode = CORIO__OP_READ,
			.fd = loop->wake_fd, .addr = &loop->wake_buf,
			.len = sizeof(loop->wake_buf), .off = -1 });
}

/* The eventfd read completed: run what other threads queued, read again.
 * A background source: it alone never keeps a stalled loop waiting. */
static void wake_arrived(struct corio__source *src, int32_t res,
			 uint32_t flags, uint16_t bid)
{
	struct corio_loop *loop = src->loop;

	(void)res, (void)flags, (void)bid;
	corio__remote_drain(loop);
	if (!loop->closing)
		(void)arm_wake(loop);
}

int corio__remote_init(struct corio_loop *loop)
{
	int err;

	loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wake_fd < 0)
		return -errno;
	loop->wake_src.on_cqe = wake_arrived;
	loop->wake_src.background = true;
	err = arm_wake(loop);
	if (err) {
		close(loop->wake_fd);
		loop->wake_fd = -1;
	}
	return err;
}

int corio_loop_wake(struct corio_loop *loop)
{
	uint64_t one = 1;

	if (write(loop->wake_fd, &one, sizeof(one)) == sizeof(one))
		return 0;
	/* EAGAIN: the counter is saturated, so the loop wakes anyway. */
	return errno == EAGAIN ? 0 : -errno;
}

int corio__loop_wake_once(struct corio_loop *loop)
{
	int ret;

	/* Pairs with the store in corio__remote_drain: whoever sets the
	 * flag first after a drain writes; the others ride on that write. */
	if (atomic_exchange(&loop->wake_pending, 1))
		return 0;
	atomic_fetch_add_explicit(&loop->wake_writes, 1, memory_order_relaxed);
	ret = corio_loop_wake(loop);
	if (ret < 0)	/* nothing on its way: let the next sender try */
		atomic_store(&loop->wake_pending, 0);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Async code reporting to a callback.                                    */

typedef void (*done_fn)(void *arg, int status);

corio_async_static(void, callback_runner, ((struct corio_frame *, root),
					   (done_fn, done), (void *, arg)), (
	bool started;
))
{
	corio_begin();
	self->started = true;	/* the await owns @root from here */
	corio_await_frame(self->root);
corio_finally:
	/* Cancelled before it first ran: @root never started, so nothing
	 * else releases it. */
	if (!self->started)
		corio_frame_free(self->root);
	/* Reached on success and on failure alike: report either way. */
	self->done(self->arg, self->hdr.err);
	corio_end();
}

int corio_spawn_callback(struct corio_loop *loop, struct corio_frame *root,
			 void (*done)(void *arg, int status), void *arg)
{
	struct corio_frame *runner;
	struct corio_task *t;
	int ret;

	if (!done) {
		corio_frame_free(root);
		return -EINVAL;
	}
	if (!root)
		return -ENOMEM;
	runner = callback_runner__start(NULL, root, done, arg);
	if (!runner) {
		corio_frame_free(root);
		return -ENOMEM;
	}
	ret = corio_spawn_at(loop, runner, __FILE__, __LINE__, &t);
	if (ret < 0) {
		corio_frame_free(root);	/* the runner went with the spawn */
		return ret;
	}
	/* Reports name the work, not the adapter around it. */
	corio_task_set_name(t, root->info->name);
	corio_task_detach(t);
	return 0;
}
