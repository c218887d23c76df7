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
struct corio__source;
struct corio__bufring;

/* One operation to start, in backend-neutral terms. */
struct corio__io {
	uint8_t opcode;		/* enum corio__opcode */
	int fd;
	void *addr;		/* buffer, iovec array, sockaddr or path */
	uint64_t len;		/* bytes, iovec count, or socklen */
	int64_t off;		/* file offset, -1 = file position */
	uint32_t op_flags;	/* recv/send/accept/open/statx/poll/splice
				 * flags */
	uint32_t mode;		/* openat mode; statx mask */
	void *addr2;		/* accept: socklen_t *; statx: struct statx * */
	int64_t off2;		/* splice: the output offset, -1 = none */
	int fd2;		/* splice: the output fd (fd is the input) */
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
	/*
	 * The optional members below may be NULL: a backend without them has
	 * none of the CORIO__CAP_* capabilities, and the runtime falls back
	 * to one-shot operations started through @start.
	 *
	 * What this backend can do on this kernel (CORIO__CAP_*).
	 */
	unsigned (*caps)(struct corio__reactor *r);
	/*
	 * Start @io (CORIO__OP_ACCEPT_MULTI or CORIO__OP_RECV_MULTI) for
	 * @src: each of its completions goes to src->on_cqe.  Counts one
	 * operation in flight until the completion without CORIO__CQE_MORE.
	 * @destroy cancels the sources still in flight and hands their final
	 * completions to their callbacks first: no multishot outlives the
	 * backend holding a file open.  0 or -errno (nothing started).
	 */
	int (*source_start)(struct corio_loop *loop, struct corio__reactor *r,
			    struct corio__source *src,
			    const struct corio__io *io);
	/* Ask for @src's operation to end; its final completion still
	 * arrives (usually -ECANCELED). */
	void (*source_cancel)(struct corio_loop *loop, struct corio__reactor *r,
			      struct corio__source *src);
	/* Register @br with the kernel and give it every buffer.  0 or
	 * -errno. */
	int (*bufring_create)(struct corio_loop *loop, struct corio__reactor *r,
			      struct corio__bufring *br);
	/* Give buffer @bid of @br back to the kernel. */
	void (*bufring_put)(struct corio__reactor *r, struct corio__bufring *br,
			    uint16_t bid);
	/* Unregister @br; no operation may still select from it. */
	void (*bufring_destroy)(struct corio__reactor *r,
				struct corio__bufring *br);
};

/* Capabilities (ops->caps). */
#define CORIO__CAP_ACCEPT_MULTI	0x1u	/* CORIO__OP_ACCEPT_MULTI sources */
#define CORIO__CAP_BUF_RING	0x2u	/* buffer rings, CORIO__OP_RECV_MULTI */
#define CORIO__CAP_SEND_ZC	0x4u	/* CORIO__OP_SEND_ZC */

/* Flags of a completion handed to a source (backend-neutral). */
#define CORIO__CQE_MORE		0x1u	/* more completions will follow */
#define CORIO__CQE_BUFFER	0x2u	/* @bid names the buffer filled */

struct corio__source;
typedef void corio__source_fn(struct corio__source *src, int32_t res,
			      uint32_t flags, uint16_t bid);

/*
 * An operation that completes more than once (multishot): its completions
 * go to a callback instead of waking one task.  Embedded in the object
 * that owns it (acceptor, reader), which must outlive the final completion.
 */
struct corio__source {
	corio__source_fn *on_cqe;	/* runs on the loop's thread */
	struct corio_loop *loop;
	uint32_t inflight;		/* operations started whose final
					 * completion has not arrived */
	struct corio__source *next, *prev; /* backend's list while in
					 * flight (drained at destroy) */
};

/*
 * A provided-buffer ring: @nbufs buffers of @buf_size bytes at @bufs, the
 * kernel picking one per received chunk.  Filled in by the owner except
 * @ring, which the backend owns.
 */
struct corio__bufring {
	void *ring;		/* backend: the shared ring memory */
	size_t ring_bytes;	/* backend: its mapping's size */
	char *bufs;		/* nbufs * buf_size bytes */
	uint32_t nbufs;		/* a power of two, at most 32768 */
	uint32_t buf_size;
	uint16_t bgid;		/* buffer group id, unique in the loop */
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

/* The backend's capabilities, none when it does not say. */
static inline unsigned corio__reactor_caps(struct corio__reactor *r)
{
	return r->ops->caps ? r->ops->caps(r) : 0;
}

/*
 * Sources and buffer rings: only for a backend whose caps() has
 * CORIO__CAP_ACCEPT_MULTI or CORIO__CAP_BUF_RING (it has these members
 * then).  The contracts are the members' (struct corio__reactor_ops).
 */
static inline int corio__reactor_source_start(struct corio_loop *loop,
					      struct corio__reactor *r,
					      struct corio__source *src,
					      const struct corio__io *io)
{
	return r->ops->source_start(loop, r, src, io);
}

static inline void corio__reactor_source_cancel(struct corio_loop *loop,
						struct corio__reactor *r,
						struct corio__source *src)
{
	r->ops->source_cancel(loop, r, src);
}

static inline int corio__reactor_bufring_create(struct corio_loop *loop,
						struct corio__reactor *r,
						struct corio__bufring *br)
{
	return r->ops->bufring_create(loop, r, br);
}

static inline void corio__reactor_bufring_put(struct corio__reactor *r,
					      struct corio__bufring *br,
					      uint16_t bid)
{
	r->ops->bufring_put(r, br, bid);
}

static inline void corio__reactor_bufring_destroy(struct corio__reactor *r,
						  struct corio__bufring *br)
{
	r->ops->bufring_destroy(r, br);
}

#endif /* CORIO_REACTOR_H */
