/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/reactor.h - the internal contract between the loop and its I/O
 * backend.  uring.c implements it and is the only file that
 * includes <liburing.h>; epoll.c implements it with epoll;
 * reactor.c chooses.
 */
#ifndef CORIO_REACTOR_H
#define CORIO_REACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reactor/opdef.h"

struct corio_loop_opts;
struct corio__reactor;
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
	bool background;	/* alone, it never makes a poll with timeout
				 * 0 enter the kernel: the loop's own reads
				 * of its eventfd and signalfd */
};

/* op_flags of CORIO__OP_CLOSE: cancel the fd's operations first. */
#define CORIO__CLOSE_CANCEL_FIRST 1u

/*
 * The contract is one-way.  The loop asks the backend to start, cancel
 * and wait, then takes the completions (struct corio__cqe) and dispatches
 * them itself; the backend calls nothing above it and knows neither tasks
 * nor the loop.  Every operation carries a tag chosen by the loop and
 * every completion reports it back.  Tags the loop chooses are even: odd
 * ones are the backend's own requests (cancellations), never reported.
 */
struct corio__cqe {
	uint64_t tag;		/* the operation's tag, as started */
	int32_t res;		/* as the system call would return it */
	uint16_t flags;		/* CORIO__CQE_* */
	uint16_t bid;		/* CORIO__CQE_BUFFER: the buffer filled */
};

/* Flags of a completion (backend-neutral). */
#define CORIO__CQE_MORE		0x1u	/* more completions will follow */
#define CORIO__CQE_BUFFER	0x2u	/* @bid names the buffer filled */
#define CORIO__CQE_NOTIF	0x4u	/* SEND_ZC: the kernel is done with
					 * the buffer (follows the result) */

/* What the backend counts for corio_loop_stats(); the loop reads it. */
struct corio__reactor_stats {
	uint64_t submits;	/* system calls that submitted or waited */
	uint64_t sq_full;	/* submissions forced by a full queue */
	uint64_t cq_overflows;	/* completions the kernel had to hold */
};

/*
 * A backend: a table of operations and its state.  Every backend's state
 * struct starts with a struct corio__reactor, so the loop can hold any of
 * them through this one type.  The indirection costs one indirect call per
 * operation, next to a system call's worth of work in the kernel.
 */
struct corio__reactor_ops {
	/*
	 * Queue @io under @tag.  Never fails for lack of queue space: a
	 * full queue is submitted first.  The multishot opcodes need their
	 * capability (CORIO__CAP_*).  Its completions carry @tag: one, or
	 * several with CORIO__CQE_MORE on all but the last.  Returns 0 or
	 * -errno (-EOPNOTSUPP: not on this backend or kernel; nothing
	 * started, nothing will be reported).
	 */
	int (*start)(struct corio__reactor *r, uint64_t tag,
		     const struct corio__io *io);
	/*
	 * Ask for the operations in flight under @tag to end.  Their
	 * completions still arrive (with -ECANCELED or their real results).
	 */
	void (*cancel)(struct corio__reactor *r, uint64_t tag);
	/*
	 * Submit everything queued and wait for completions: at most
	 * @timeout_ns (0 = do not wait, < 0 = until one arrives).  With 0
	 * the backend may return at once when only background operations
	 * (corio__io.background) are in flight.  Completions are then taken
	 * with @reap.  0 or -errno.
	 */
	int (*poll)(struct corio__reactor *r, int64_t timeout_ns);
	/*
	 * Move up to @max completions into @out, oldest first; returns how
	 * many.  Fewer than @max means none is left for now.
	 */
	unsigned (*reap)(struct corio__reactor *r, struct corio__cqe *out,
			 unsigned max);
	/* Release the backend; operations still in flight are dropped
	 * (the loop cancels and reaps the ones that matter first). */
	void (*destroy)(struct corio__reactor *r);
	/*
	 * The optional members below may be NULL: a backend without them has
	 * none of the CORIO__CAP_* capabilities, and the runtime falls back
	 * to one-shot operations.
	 *
	 * What this backend can do on this kernel (CORIO__CAP_*).
	 */
	unsigned (*caps)(struct corio__reactor *r);
	/* Register @br with the kernel and give it every buffer.  0 or
	 * -errno. */
	int (*bufring_create)(struct corio__reactor *r,
			      struct corio__bufring *br);
	/* Give buffer @bid of @br back to the kernel. */
	void (*bufring_put)(struct corio__reactor *r, struct corio__bufring *br,
			    uint16_t bid);
	/* Unregister @br; no operation may still select from it. */
	void (*bufring_destroy)(struct corio__reactor *r,
				struct corio__bufring *br);
};

/* Capabilities (ops->caps). */
#define CORIO__CAP_ACCEPT_MULTI	0x1u	/* CORIO__OP_ACCEPT_MULTI */
#define CORIO__CAP_BUF_RING	0x2u	/* buffer rings, CORIO__OP_RECV_MULTI
					 * (io.len is the buffer group) */
#define CORIO__CAP_SEND_ZC	0x4u	/* CORIO__OP_SEND_ZC */

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
	struct corio__reactor_stats stats;
};

/*
 * Set up a backend (fault injection wrapped around it when asked for).  Writes a one-line description of what was
 * obtained into @desc.  Returns 0 or -errno; on failure @why says why.
 */
int corio__reactor_create(struct corio__reactor **out,
			  const struct corio_loop_opts *opts,
			  char *desc, size_t desclen,
			  char *why, size_t whylen);

/* The io_uring backend (uring.c); same contract. */
int corio__uring_create(struct corio__reactor **out,
			const struct corio_loop_opts *opts,
			char *desc, size_t desclen, char *why, size_t whylen);

/*
 * The epoll backend (epoll.c); same contract.  @opts' io_uring
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

static inline int corio__reactor_start(struct corio__reactor *r,
				       uint64_t tag,
				       const struct corio__io *io)
{
	return r->ops->start(r, tag, io);
}

static inline void corio__reactor_cancel(struct corio__reactor *r,
					 uint64_t tag)
{
	r->ops->cancel(r, tag);
}

static inline int corio__reactor_poll(struct corio__reactor *r,
				      int64_t timeout_ns)
{
	return r->ops->poll(r, timeout_ns);
}

static inline unsigned corio__reactor_reap(struct corio__reactor *r,
					   struct corio__cqe *out,
					   unsigned max)
{
	return r->ops->reap(r, out, max);
}

/* The backend's capabilities, none when it does not say. */
static inline unsigned corio__reactor_caps(struct corio__reactor *r)
{
	return r->ops->caps ? r->ops->caps(r) : 0;
}

/*
 * Buffer rings: only for a backend whose caps() has CORIO__CAP_BUF_RING
 * (it has these members then).  The contracts are the members'.
 */
static inline int corio__reactor_bufring_create(struct corio__reactor *r,
						struct corio__bufring *br)
{
	return r->ops->bufring_create(r, br);
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
