/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor.h - the internal contract between the loop and its I/O
 * backend.  reactor_uring.c implements it and is the only file that
 * includes <liburing.h>; reactor_epoll.c implements it with epoll;
 * reactor.c chooses.
 */
#ifndef CORIO_REACTOR_H
#define CORIO_REACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "opdef.h"

struct corio_loop;
struct corio_loop_opts;
struct corio_task;
struct corio__reactor;

/* One operation to start, in backend-neutral terms. */
struct corio__io {
	uint8_t opcode;		/* enum corio__opcode */
	int fd;
	void *addr;		/* buffer, iovec array, sockaddr or path */
	uint64_t len;		/* bytes, iovec count, or socklen */
	int64_t off;		/* file offset, -1 = file position */
	uint32_t op_flags;	/* recv/send/accept/open/statx/poll flags */
	void *addr2;		/* accept: socklen_t *; statx: struct statx * */
	uint32_t mode;		/* openat mode; statx mask */
};

/* op_flags of CORIO__OP_CLOSE: cancel the fd's operations first. */
#define CORIO__CLOSE_CANCEL_FIRST 1u

/*
 * A backend: a table of operations and its state.  Every backend's state
 * struct starts with a struct corio__reactor, so the loop can hold any of
 * them through this one type.  The indirection costs one indirect call per
 * operation, next to a system call's worth of work in the kernel.
 */
struct corio__reactor_ops {
	/*
	 * Queue @io on behalf of @task (the completion is reported for
	 * @task through corio__io_complete()).  Never fails for lack of
	 * queue space: a full queue is submitted first.  Returns 0 or
	 * -errno (the operation did not start).
	 */
	int (*start)(struct corio_loop *loop, struct corio__reactor *r,
		     struct corio_task *task, const struct corio__io *io);
	/*
	 * Ask for @task's operation in flight to be cancelled.  Its
	 * completion still arrives (with -ECANCELED or its real result).
	 */
	void (*cancel)(struct corio_loop *loop, struct corio__reactor *r,
		       struct corio_task *task);
	/*
	 * Keep a read armed on the loop's eventfd (loop->wake_fd): when
	 * another thread writes it, the wait returns and the backend calls
	 * corio__remote_drain() and arms the read again.  It is not counted
	 * as an operation in flight: it alone must not keep a stalled loop
	 * waiting.  Returns 0 or -errno.
	 */
	int (*arm_wake)(struct corio_loop *loop, struct corio__reactor *r);
	/*
	 * Arm a read of one struct signalfd_siginfo from loop->sig_fd into
	 * loop->sig_buf; its completion goes to corio__signal_arrived().
	 * Not counted in flight: the deadlock check asks
	 * corio__signal_awaited() instead, so a read left armed after its
	 * waiters went away hides nothing.  0 or -errno.
	 */
	int (*arm_signal)(struct corio_loop *loop, struct corio__reactor *r);
	/*
	 * Submit everything queued and wait for completions: at most
	 * @timeout_ns (0 = do not wait, < 0 = until one arrives).  Every
	 * completion is handed to corio__io_complete().  0 or -errno.
	 */
	int (*poll)(struct corio_loop *loop, struct corio__reactor *r,
		    int64_t timeout_ns);
	/* Release the backend; operations still in flight are dropped. */
	void (*destroy)(struct corio__reactor *r);
};

struct corio__reactor {
	const struct corio__reactor_ops *ops;
};

/*
 * Set up a backend for @loop.  Writes a one-line description of what was
 * obtained into @desc.  Returns 0 or -errno; on failure @why says why.
 */
int corio__reactor_create(struct corio__reactor **out,
			  const struct corio_loop_opts *opts,
			  char *desc, size_t desclen,
			  char *why, size_t whylen);

/* The io_uring backend (reactor_uring.c); same contract. */
int corio__uring_create(struct corio__reactor **out,
			const struct corio_loop_opts *opts,
			char *desc, size_t desclen, char *why, size_t whylen);

/*
 * The epoll backend (reactor_epoll.c); same contract.  @opts' io_uring
 * fields are ignored.
 */
int corio__epoll_create(struct corio__reactor **out,
			const struct corio_loop_opts *opts,
			char *desc, size_t desclen, char *why, size_t whylen);

static inline void corio__reactor_destroy(struct corio__reactor *r)
{
	if (r)
		r->ops->destroy(r);
}

static inline int corio__reactor_start(struct corio_loop *loop,
				       struct corio__reactor *r,
				       struct corio_task *task,
				       const struct corio__io *io)
{
	return r->ops->start(loop, r, task, io);
}

static inline void corio__reactor_cancel(struct corio_loop *loop,
					 struct corio__reactor *r,
					 struct corio_task *task)
{
	r->ops->cancel(loop, r, task);
}

static inline int corio__reactor_arm_wake(struct corio_loop *loop,
					  struct corio__reactor *r)
{
	return r->ops->arm_wake(loop, r);
}

static inline int corio__reactor_arm_signal(struct corio_loop *loop,
					    struct corio__reactor *r)
{
	return r->ops->arm_signal(loop, r);
}

static inline int corio__reactor_poll(struct corio_loop *loop,
				      struct corio__reactor *r,
				      int64_t timeout_ns)
{
	return r->ops->poll(loop, r, timeout_ns);
}

#endif /* CORIO_REACTOR_H */
