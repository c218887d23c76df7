/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/epoll.c - the epoll backend, for kernels and sandboxes
 * without io_uring (chosen by reactor.c).
 *
 * io_uring performs an operation and reports its result; epoll only says
 * when a descriptor is ready.  This backend closes the gap the way
 * readiness loops do: it runs the system call itself, without blocking,
 * and when the call says EAGAIN it waits for readiness and runs it again.
 * Results are what that system call returned, as io_uring reports them.
 *
 * How each opcode proceeds is one row of the table in opdef.h, expanded
 * into opdefs[] here:
 *   EP_NOW   run the call at start; it may block the loop (regular-file
 *            I/O, openat, statx, fsync, close: epoll cannot wait for
 *            those; corio_blocking is the way to take them off the loop)
 *   EP_TRY   run the call at start, non-blocking; on -EAGAIN wait for the
 *            row's readiness and run it again (recv, send, accept,
 *            connect, read/write on pipes, sockets and devices)
 *   EP_WAIT  wait for readiness first, then run (poll; recv with
 *            CORIO_RECV_POLL_FIRST)
 *   EP_NONE  not on this backend: -EOPNOTSUPP (send_zc, the sources)
 *
 * Completions are never reported from start: a finished operation goes
 * to the done queue, which reap hands to the loop, oldest first.
 *
 * Each descriptor with waiters has a record (struct ep_fd) holding them in
 * FIFO order; epoll is registered for the union of their interests.
 * Interest is dropped lazily: when an event arrives that no waiter wants,
 * the registration shrinks (or goes), so level-triggered epoll never spins
 * and the common "recv, send, recv" sequence costs no epoll_ctl at all.
 */
#define _GNU_SOURCE /* preadv2, accept4, struct statx */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "corio/io.h"
#include "support/htab.h"
#include "support/list.h"
#include "support/slab.h"
#include "reactor/reactor.h"

#define MAX_EVENTS 256		/* events taken per epoll_wait */
#define MAX_RW 0x7ffff000u	/* longest transfer, as io_uring clamps */

/* Readiness bits a waiter may ask for (EPOLL* and POLL* agree on them). */
#define WAITABLE (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | \
		  EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | \
		  EPOLLRDHUP)
/* What poll(2) reports for a file that cannot wait (DEFAULT_POLLMASK). */
#define ALWAYS_READY (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)

enum ep_kind {
	EP_NONE = 0,		/* not on epoll: -EOPNOTSUPP */
	EP_NOW,			/* run at start, whatever it costs */
	EP_TRY,			/* run at start; on -EAGAIN wait, run again */
	EP_WAIT,		/* wait first, then run */
};

enum ep_state {
	EP_FREE = 0,		/* on the free list */
	EP_WAITING,		/* on its fd record's list */
	EP_DONE,		/* on the done queue with @res */
};

/* ep_op flags. */
#define OPF_PLAIN	0x01u	/* read/write: no RWF_NOWAIT (the file
				 * refused it, or may block anyway) */
#define OPF_GUARD	0x02u	/* blocking fd, no per-call non-blocking
				 * flag: poll(2) it before each run */
#define OPF_ANYPOS	0x04u	/* the fd cannot seek: offset ignored */
#define OPF_CONNECTING	0x08u	/* connect returned EINPROGRESS */
#define OPF_ALL		0x10u	/* MSG_WAITALL: run until @len is done */

/* One operation in flight. */
struct ep_op {
	struct corio__hnode h;		/* first: key = the tag (cancel
					 * finds the op of a tag) */
	struct corio__link link;	/* WAITING: in its fd's waiters;
					 * DONE: in the done queue; FREE: in
					 * the free list */
	struct corio__io io;		/* a copy: start's is a temporary */
	uint64_t progress;		/* bytes moved so far (MSG_WAITALL) */
	int64_t res;			/* DONE: the result */
	uint32_t events;		/* readiness it waits for ... */
	int wfd;			/* ... on this fd: io.fd, unless run
					 * moved it (splice waits on either
					 * end) */
	uint8_t state;			/* enum ep_state */
	uint8_t flags;			/* OPF_* */
};

/* A descriptor with waiters, or still registered in epoll. */
struct ep_fd {
	struct corio__list waiters;	/* struct ep_op, FIFO */
	uint32_t registered;		/* interest epoll has (a superset of
					 * the waiters' while it shrinks) */
	bool in_epoll;
};

struct ep_reactor {
	struct corio__reactor base;	/* first: the loop holds &base */
	int epfd;
	bool pwait2;			/* epoll_pwait2 works: ns timeouts */
	bool waited;			/* the last poll called epoll_wait
					 * (see ep_poll) */
	struct ep_fd *fds;		/* indexed by fd */
	uint32_t nfds;
	uint32_t nwaiting;		/* ops on some fd list ... */
	uint32_t nwaiting_fg;		/* ... not background ones */
	struct corio__list done;	/* struct ep_op with results, FIFO */
	struct corio__list free_ops;	/* recycled records, newest first */
	struct corio__htab ops;		/* tag -> op in flight */
	struct epoll_event events[MAX_EVENTS];
};

struct ep_opdef {
	uint8_t kind;			/* enum ep_kind */
	bool path;			/* io.addr is a path: NULL is -EFAULT,
					 * as io_uring reports it (glibc
					 * declares it non-null) */
	uint32_t events;		/* readiness awaited on -EAGAIN */
	/* Adjust @op before it starts; returns the kind to use. */
	uint8_t (*prep)(struct ep_op *op, uint8_t kind);
	/*
	 * The system call: its result, or -EAGAIN to wait (again) for
	 * @op->events.  @revents: what epoll reported, 0 at start.
	 */
	int64_t (*run)(struct ep_reactor *r, struct ep_op *op,
		       uint32_t revents);
};

static const struct ep_opdef opdefs[CORIO__OP_COUNT];

static int64_t neg_errno(void)
{
	return -(int64_t)errno;
}

static size_t clamp_len(uint64_t len)
{
	return len > MAX_RW ? MAX_RW : (size_t)len;
}

/* ---- tag -> operation (cancel must find the op) ----------------------- */

static void hash_add(struct ep_reactor *r, struct ep_op *op, uint64_t tag)
{
	op->h.key = tag;
	/* Cannot fail: the buckets exist from corio__epoll_create on. */
	corio__htab_insert(&r->ops, &op->h);
}

static struct ep_op *hash_find(const struct ep_reactor *r, uint64_t tag)
{
	return (struct ep_op *)corio__htab_find(&r->ops, tag);
}

/* ---- records ----------------------------------------------------------- */

/* A record, recycled when possible: the hot path does not allocate. */
static struct ep_op *op_get(struct ep_reactor *r)
{
	struct corio__link *l = corio__list_pop_front(&r->free_ops);
	struct ep_op *op;

	if (l)
		op = corio__list_entry(l, struct ep_op, link);
	else
		op = corio__malloc(sizeof(*op));
	if (op)
		memset(op, 0, sizeof(*op));
	return op;
}

static void op_put(struct ep_reactor *r, struct ep_op *op)
{
	op->state = EP_FREE;
	corio__list_push_front(&r->free_ops, &op->link);
}

/* @fd's record, growing the table; NULL on ENOMEM. */
static struct ep_fd *fd_record(struct ep_reactor *r, int fd)
{
	if ((uint32_t)fd >= r->nfds &&
	    corio__grow((void **)&r->fds, &r->nfds, sizeof(*r->fds),
			(uint32_t)fd, 64))
		return NULL;
	return &r->fds[fd];
}

/* Register @fd for exactly @events (ADD or MOD, whichever applies). */
static int fd_register(struct ep_reactor *r, int fd, struct ep_fd *f,
		       uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)fd };
	int ctl = f->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (epoll_ctl(r->epfd, ctl, fd, &ev) < 0) {
		/* The fd was closed behind our back and reopened (ENOENT),
		 * or is registered already through a record we dropped
		 * (EEXIST): the other verb is right. */
		if (errno != ENOENT && errno != EEXIST)
			return -errno;
		ctl = ctl == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (epoll_ctl(r->epfd, ctl, fd, &ev) < 0)
			return -errno;
	}
	f->in_epoll = true;
	f->registered = events;
	return 0;
}

/* Take @fd out of epoll (before a close, or when nobody waits). */
static void fd_unregister(struct ep_reactor *r, int fd, struct ep_fd *f)
{
	if (f->in_epoll)
		(void)epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
	f->in_epoll = false;
	f->registered = 0;
}

/* ---- the life of an operation ----------------------------------------- */

/* @op has its result: queue it for the next poll to deliver. */
static void finish(struct ep_reactor *r, struct ep_op *op, int64_t res)
{
	/* Bytes already moved are never dropped (MSG_WAITALL cut short). */
	if (res < 0 && op->progress)
		res = (int64_t)op->progress;
	op->res = res;
	op->state = EP_DONE;
	corio__list_push_back(&r->done, &op->link);
}

static void waiter_unlink(struct ep_reactor *r, struct ep_fd *f,
			  struct ep_op *op)
{
	corio__list_remove(&f->waiters, &op->link);
	r->nwaiting--;
	r->nwaiting_fg -= !op->io.background;
}

/* Make @op wait on op->wfd.  0, or -errno (-EPERM: the fd cannot wait). */
static int wait_on_fd(struct ep_reactor *r, struct ep_op *op)
{
	int fd = op->wfd;
	struct ep_fd *f;
	int err;

	if (fd < 0)
		return -EBADF;
	f = fd_record(r, fd);
	if (!f)
		return -ENOMEM;
	/* The first waiter always tells epoll: the fd may have been closed
	 * and reopened behind our back since the last one, which silently
	 * drops a registration (MOD then fails with ENOENT and we ADD). */
	if (corio__list_empty(&f->waiters)) {
		err = fd_register(r, fd, f, op->events);
		if (err)
			return err;
	} else if ((f->registered & op->events) != op->events) {
		err = fd_register(r, fd, f, f->registered | op->events);
		if (err)
			return err;
	}
	op->state = EP_WAITING;
	corio__list_push_back(&f->waiters, &op->link);
	r->nwaiting++;
	r->nwaiting_fg += !op->io.background;
	return 0;
}

/* Cancel every waiter of @fd's record (close with cancel first). */
static void cancel_waiters(struct ep_reactor *r, struct ep_fd *f)
{
	struct ep_op *op;

	while ((op = corio__list_first_entry(&f->waiters, struct ep_op,
					     link))) {
		waiter_unlink(r, f, op);
		finish(r, op, -ECANCELED);
	}
}

/* Make @op wait, or when its fd cannot wait finish it one way or another. */
static void wait_or_run(struct ep_reactor *r, struct ep_op *op)
{
	int err = wait_on_fd(r, op);

	if (err == -EPERM) {
		/* A regular file or a device without poll support: poll(2)
		 * calls it always ready, so run the call as it is. */
		op->flags = (uint8_t)((op->flags | OPF_PLAIN) & ~OPF_GUARD);
		finish(r, op, opdefs[op->io.opcode].run(r, op, ALWAYS_READY));
	} else if (err) {
		finish(r, op, err);
	}
}

static int ep_start(struct corio__reactor *base, uint64_t tag,
		    const struct corio__io *io)
{
	struct ep_reactor *r = (struct ep_reactor *)base;
	const struct ep_opdef *def;
	struct ep_op *op;
	int64_t res;
	uint8_t kind;

	if (io->opcode >= CORIO__OP_COUNT ||
	    opdefs[io->opcode].kind == EP_NONE)
		return -EOPNOTSUPP;
	def = &opdefs[io->opcode];
	op = op_get(r);
	if (!op)
		return -ENOMEM;
	op->io = *io;
	op->events = def->events;
	op->wfd = io->fd;
	if (def->path && !io->addr) {
		finish(r, op, -EFAULT);
		goto started;
	}
	kind = def->prep ? def->prep(op, def->kind) : def->kind;
	if (kind != EP_WAIT) {
		res = def->run(r, op, 0);
		if (kind == EP_NOW || res != -EAGAIN) {
			finish(r, op, res);
			goto started;
		}
	}
	wait_or_run(r, op);
started:
	hash_add(r, op, tag);
	return 0;
}

/* One operation per tag on this backend: no multishot. */
static void ep_cancel(struct corio__reactor *base, uint64_t tag)
{
	struct ep_reactor *r = (struct ep_reactor *)base;
	struct ep_op *op = hash_find(r, tag);

	/* Done already: its real result is on the done queue. */
	if (!op || op->state != EP_WAITING)
		return;
	waiter_unlink(r, &r->fds[op->wfd], op);
	finish(r, op, -ECANCELED);
}

/* ---- the system calls, one per row ------------------------------------- */

static int64_t run_nop(struct ep_reactor *r, struct ep_op *op,
		       uint32_t revents)
{
	(void)r, (void)op, (void)revents;
	return 0;
}

/* Is @fd ready for @events now?  Guards a call that could block. */
static bool ready_now(int fd, uint32_t events)
{
	struct pollfd p = { .fd = fd, .events = (short)events };

	return poll(&p, 1, 0) != 0;
}

/* A result of a transfer that may take several runs (MSG_WAITALL). */
static int64_t transferred(struct ep_op *op, ssize_t n, size_t want)
{
	if (n < 0)
		return neg_errno();
	op->progress += (uint64_t)n;
	if ((op->flags & OPF_ALL) && n > 0 && op->progress < want)
		return -EAGAIN;
	return (int64_t)op->progress;
}

/*
 * read, write, readv, writev.  Regular files, block devices and
 * directories run at once (OPF_PLAIN).  Other files try preadv2/pwritev2
 * with RWF_NOWAIT, which makes this one call non-blocking without touching
 * the descriptor's O_NONBLOCK (sockets, pipes, eventfds support it); a
 * file that refuses it (EOPNOTSUPP) is called plainly, guarded by poll(2)
 * when the descriptor is blocking.
 */
static uint8_t prep_rw(struct ep_op *op, uint8_t kind)
{
	struct stat st;

	if (fstat(op->io.fd, &st) < 0 || S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
		op->flags |= OPF_PLAIN;
		return EP_NOW;	/* or the call reports the fstat error */
	}
	return kind;
}

static int64_t run_rw(struct ep_reactor *r, struct ep_op *op,
		      uint32_t revents)
{
	const struct corio__io *io = &op->io;
	bool out = io->opcode == CORIO__OP_WRITE ||
		   io->opcode == CORIO__OP_WRITEV;
	struct iovec one, *iov = io->addr;
	int cnt = (int)io->len, fl;
	off_t off;
	ssize_t n;
	int flags;

	(void)r, (void)revents;
	if (io->opcode == CORIO__OP_READ || io->opcode == CORIO__OP_WRITE) {
		one.iov_base = io->addr;
		one.iov_len = clamp_len(io->len);
		iov = &one;
		cnt = 1;
	}
	for (;;) {
		if ((op->flags & OPF_GUARD) && !ready_now(io->fd, op->events))
			return -EAGAIN;
		flags = (op->flags & OPF_PLAIN) ? 0 : RWF_NOWAIT;
		off = (op->flags & OPF_ANYPOS) ? -1 : (off_t)io->off;
		n = out ? pwritev2(io->fd, iov, cnt, off, flags) :
			  preadv2(io->fd, iov, cnt, off, flags);
		if (n >= 0)
			return n;
		if (errno == ESPIPE && off != -1) {
			/* A pipe or socket: io_uring ignores the offset. */
			op->flags |= OPF_ANYPOS;
			continue;
		}
		if (errno == EOPNOTSUPP && flags) {
			op->flags |= OPF_PLAIN;
			fl = fcntl(io->fd, F_GETFL);
			if (fl >= 0 && !(fl & O_NONBLOCK))
				op->flags |= OPF_GUARD;
			continue;
		}
		return neg_errno();
	}
}

/*
 * recv and send: MSG_DONTWAIT makes the one call non-blocking.  A caller's
 * own MSG_DONTWAIT means "do not wait" (io_uring returns its -EAGAIN):
 * run once.  CORIO_RECV_POLL_FIRST: wait for data before the first try.
 */
static uint8_t prep_xfer(struct ep_op *op, uint8_t kind)
{
	op->io.op_flags &= ~(uint32_t)CORIO_RECV_POLL_FIRST &
			   ~(uint32_t)MSG_DONTWAIT;
	if (op->io.op_flags & MSG_WAITALL)
		op->flags |= OPF_ALL;
	return kind;
}

static uint8_t prep_recv(struct ep_op *op, uint8_t kind)
{
	uint32_t f = op->io.op_flags;

	kind = prep_xfer(op, kind);
	if (f & MSG_DONTWAIT)
		return EP_NOW;
	return (f & (uint32_t)CORIO_RECV_POLL_FIRST) ? EP_WAIT : kind;
}

static uint8_t prep_send(struct ep_op *op, uint8_t kind)
{
	uint32_t f = op->io.op_flags;

	kind = prep_xfer(op, kind);
	return (f & MSG_DONTWAIT) ? EP_NOW : kind;
}

static int64_t run_recv(struct ep_reactor *r, struct ep_op *op,
			uint32_t revents)
{
	size_t len = clamp_len(op->io.len);

	(void)r, (void)revents;
	return transferred(op, recv(op->io.fd, (char *)op->io.addr +
				    op->progress, len - op->progress,
				    (int)op->io.op_flags | MSG_DONTWAIT), len);
}

static int64_t run_send(struct ep_reactor *r, struct ep_op *op,
			uint32_t revents)
{
	size_t len = clamp_len(op->io.len);

	(void)r, (void)revents;
	return transferred(op, send(op->io.fd, (const char *)op->io.addr +
				    op->progress, len - op->progress,
				    (int)op->io.op_flags | MSG_DONTWAIT), len);
}

/*
 * accept4 has no per-call non-blocking flag and its own flags (the new
 * socket's SOCK_NONBLOCK, SOCK_CLOEXEC) pass through untouched.  A
 * non-blocking listener is tried directly; a blocking one is guarded by
 * poll(2) (another process sharing the listener can still win the race
 * and block the loop until the next connection: make shared listeners
 * non-blocking).
 */
static uint8_t prep_accept(struct ep_op *op, uint8_t kind)
{
	int fl = fcntl(op->io.fd, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK))
		op->flags |= OPF_GUARD;
	return kind;
}

static int64_t run_accept(struct ep_reactor *r, struct ep_op *op,
			  uint32_t revents)
{
	int fd;

	(void)r, (void)revents;
	if ((op->flags & OPF_GUARD) && !ready_now(op->io.fd, EPOLLIN))
		return -EAGAIN;
	fd = accept4(op->io.fd, op->io.addr, op->io.addr2,
		     (int)op->io.op_flags);
	return fd < 0 ? neg_errno() : fd;
}

/*
 * connect: non-blocking semantics (EINPROGRESS, wait writable, SO_ERROR).
 * A blocking socket is switched to O_NONBLOCK for the one connect(2) call
 * and switched back at once: nothing else can observe the flag meanwhile
 * unless another thread uses the socket being connected.
 */
static int64_t run_connect(struct ep_reactor *r, struct ep_op *op,
			   uint32_t revents)
{
	int fd = op->io.fd, fl, err = 0;
	socklen_t len = sizeof(err);
	int64_t res;

	(void)r, (void)revents;
	if (op->flags & OPF_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return neg_errno();
		return -(int64_t)err;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return neg_errno();
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return neg_errno();
	res = connect(fd, op->io.addr, (socklen_t)op->io.len) < 0 ?
	      neg_errno() : 0;
	if (!(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl);
	if (res == -EINPROGRESS) {
		op->flags |= OPF_CONNECTING;
		return -EAGAIN;
	}
	/* -EAGAIN (a full AF_UNIX backlog): wait writable, try again. */
	return res;
}

/* poll: readiness itself; the mask as io_uring's poll reports it. */
static uint8_t prep_poll(struct ep_op *op, uint8_t kind)
{
	op->events = op->io.op_flags & WAITABLE;
	return kind;
}

static int64_t run_poll(struct ep_reactor *r, struct ep_op *op,
			uint32_t revents)
{
	uint32_t m = revents & (op->events | EPOLLERR | EPOLLHUP);

	(void)r;
	return m ? (int64_t)m : -EAGAIN;
}

/*
 * close: waiters on the fd cannot be woken once it is closed (its epoll
 * registration goes with it), so they complete with -ECANCELED first, and
 * the fd leaves epoll before close(2) so that a recycled number never
 * inherits a stale registration.  The backend's own epoll fd is refused,
 * as io_uring refuses its ring's.
 */
static int64_t run_close(struct ep_reactor *r, struct ep_op *op,
			 uint32_t revents)
{
	int fd = op->io.fd;
	struct ep_fd *f;

	(void)revents;
	if (fd == r->epfd)
		return -EBADF;
	if (fd >= 0 && (uint32_t)fd < r->nfds) {
		f = &r->fds[fd];
		cancel_waiters(r, f);
		fd_unregister(r, fd, f);
	}
	return close(fd) < 0 ? neg_errno() : 0;
}

static int64_t run_openat(struct ep_reactor *r, struct ep_op *op,
			  uint32_t revents)
{
	int fd;

	(void)r, (void)revents;
	fd = openat(op->io.fd, op->io.addr, (int)op->io.op_flags,
		    (mode_t)op->io.mode);
	return fd < 0 ? neg_errno() : fd;
}

static int64_t run_fsync(struct ep_reactor *r, struct ep_op *op,
			 uint32_t revents)
{
	int ret;

	(void)r, (void)revents;
	ret = op->io.op_flags ? fdatasync(op->io.fd) : fsync(op->io.fd);
	return ret < 0 ? neg_errno() : 0;
}

static int64_t run_statx(struct ep_reactor *r, struct ep_op *op,
			 uint32_t revents)
{
	(void)r, (void)revents;
	if (!op->io.addr2)
		return -EFAULT;
	return statx(op->io.fd, op->io.addr, (int)op->io.op_flags,
		     op->io.mode, op->io.addr2) < 0 ? neg_errno() : 0;
}

/*
 * recvmsg and sendmsg: as recv and send, one call (a short transfer with
 * MSG_WAITALL is returned as it is: the message header cannot be resumed
 * part-way as a flat buffer can).
 */
static uint8_t prep_msg(struct ep_op *op, uint8_t kind)
{
	uint32_t f = op->io.op_flags;

	op->io.op_flags &= ~(uint32_t)MSG_DONTWAIT;
	return (f & MSG_DONTWAIT) ? EP_NOW : kind;
}

static int64_t run_recvmsg(struct ep_reactor *r, struct ep_op *op,
			   uint32_t revents)
{
	ssize_t n;

	(void)r, (void)revents;
	n = recvmsg(op->io.fd, op->io.addr,
		    (int)op->io.op_flags | MSG_DONTWAIT);
	return n < 0 ? neg_errno() : n;
}

static int64_t run_sendmsg(struct ep_reactor *r, struct ep_op *op,
			   uint32_t revents)
{
	ssize_t n;

	(void)r, (void)revents;
	n = sendmsg(op->io.fd, op->io.addr,
		    (int)op->io.op_flags | MSG_DONTWAIT | MSG_NOSIGNAL);
	return n < 0 ? neg_errno() : n;
}

static int64_t run_shutdown(struct ep_reactor *r, struct ep_op *op,
			    uint32_t revents)
{
	(void)r, (void)revents;
	return shutdown(op->io.fd, (int)op->io.op_flags) < 0 ?
	       neg_errno() : 0;
}

/*
 * The path and space operations: file-system calls, run at once (a NULL
 * path never gets here: ep_start answers it).  A NULL second path or
 * statx buffer is -EFAULT, as io_uring reports it.
 */
static int64_t run_fallocate(struct ep_reactor *r, struct ep_op *op,
			     uint32_t revents)
{
	(void)r, (void)revents;
	return fallocate(op->io.fd, (int)op->io.mode, (off_t)op->io.off,
			 (off_t)op->io.len) < 0 ? neg_errno() : 0;
}

static int64_t run_unlinkat(struct ep_reactor *r, struct ep_op *op,
			    uint32_t revents)
{
	(void)r, (void)revents;
	return unlinkat(op->io.fd, op->io.addr, (int)op->io.op_flags) < 0 ?
	       neg_errno() : 0;
}

static int64_t run_renameat(struct ep_reactor *r, struct ep_op *op,
			    uint32_t revents)
{
	(void)r, (void)revents;
	if (!op->io.addr2)
		return -EFAULT;
	/* io.c passes the new directory fd in .len, as io_uring does. */
	return renameat2(op->io.fd, op->io.addr, (int)(uint32_t)op->io.len,
			 op->io.addr2, op->io.op_flags) < 0 ? neg_errno() : 0;
}

static int64_t run_mkdirat(struct ep_reactor *r, struct ep_op *op,
			   uint32_t revents)
{
	(void)r, (void)revents;
	return mkdirat(op->io.fd, op->io.addr, (mode_t)op->io.mode) < 0 ?
	       neg_errno() : 0;
}

/*
 * splice: one end is a pipe, which SPLICE_F_NONBLOCK makes non-blocking
 * for this one call; the other is a file (never waits) or a socket.  A
 * blocking socket has no per-call flag, so it is checked with poll(2)
 * before each call (OPF_GUARD), as a blocking listener is.  The caller's
 * own SPLICE_F_NONBLOCK means "do not wait": run once, and -EAGAIN is the
 * answer, as on io_uring.  On EAGAIN the operation waits on the end that
 * blocks: the input until readable, else the output until writable.
 */
static bool is_blocking_socket(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && !(fl & O_NONBLOCK);
}

static uint8_t prep_splice(struct ep_op *op, uint8_t kind)
{
	if (is_blocking_socket(op->io.fd) || is_blocking_socket(op->io.fd2))
		op->flags |= OPF_GUARD;
	return (op->io.op_flags & SPLICE_F_NONBLOCK) ? EP_NOW : kind;
}

/* Point @op at the end of its splice that blocks; false if neither does. */
static bool splice_blocked(struct ep_op *op)
{
	struct pollfd p[2] = {
		{ .fd = op->io.fd, .events = POLLIN },
		{ .fd = op->io.fd2, .events = POLLOUT },
	};

	if (poll(p, 2, 0) < 0)
		return false;
	if (!p[0].revents) {
		op->wfd = op->io.fd;
		op->events = EPOLLIN;
		return true;
	}
	if (!p[1].revents) {
		op->wfd = op->io.fd2;
		op->events = EPOLLOUT;
		return true;
	}
	return false;
}

static int64_t run_splice(struct ep_reactor *r, struct ep_op *op,
			  uint32_t revents)
{
	const struct corio__io *io = &op->io;
	loff_t off_in = io->off, off_out = io->off2;
	ssize_t n;
	int err;

	(void)r, (void)revents;
	if ((op->flags & OPF_GUARD) && splice_blocked(op))
		return -EAGAIN;
	/* -1 is "no offset", as io_uring reads it. */
	n = splice(io->fd, io->off == -1 ? NULL : &off_in,
		   io->fd2, io->off2 == -1 ? NULL : &off_out,
		   clamp_len(io->len), io->op_flags | SPLICE_F_NONBLOCK);
	if (n >= 0)
		return n;
	err = errno;
	if (err == EAGAIN && !(io->op_flags & SPLICE_F_NONBLOCK) &&
	    !splice_blocked(op)) {
		/* Both ends ready a moment later (a race): read again when
		 * the input is. */
		op->wfd = io->fd;
		op->events = EPOLLIN;
	}
	return -(int64_t)err;
}

/*
 * The table, generated from opdef.h: each opcode's kind, the readiness it
 * waits for, and the functions above its row names.
 */
static const struct ep_opdef opdefs[CORIO__OP_COUNT] = {
#define PATH_FD		false
#define PATH_PATH	true
#define PATH_OTHER	false
#define X(op, name, target, faults, fill, uring, kind, wait, prep, run) \
	[CORIO__OP_##op] = { EP_##kind, PATH_##target, wait, prep, run },
	CORIO__OPS(X)
#undef X
};

/* ---- poll ---------------------------------------------------------------- */

/* Run @fd's waiters that @revents concerns, in FIFO order. */
static void fd_ready(struct ep_reactor *r, int fd, uint32_t revents)
{
	struct ep_fd *f;
	struct ep_op *op, *next;
	uint32_t want = 0;
	bool finished = false;
	int64_t res;

	if (fd < 0 || (uint32_t)fd >= r->nfds || !r->fds[fd].in_epoll)
		return;
	f = &r->fds[fd];
	for (op = corio__list_first_entry(&f->waiters, struct ep_op, link); op;
	     op = next) {
		next = corio__list_next_entry(op, struct ep_op, link);
		if (revents & (op->events | EPOLLERR | EPOLLHUP)) {
			res = opdefs[op->io.opcode].run(r, op, revents);
			if (res == -EAGAIN && op->wfd != fd) {
				/* It now waits on another fd (splice: the
				 * other end is the one that blocks). */
				waiter_unlink(r, f, op);
				wait_or_run(r, op);
				f = &r->fds[fd];	/* the table may move */
				continue;
			}
			if (res != -EAGAIN) {
				waiter_unlink(r, f, op);
				finish(r, op, res);
				finished = true;
				continue;
			}
		}
		want |= op->events;
	}
	/* The lazy shrink.  An event that served a waiter leaves the
	 * registration alone: the task usually waits again soon for the
	 * same thing.  An event that served nobody means the interest is
	 * stale: take the fd out when nobody waits (epoll reports errors
	 * and hang-ups whatever the mask), else narrow it to the waiters'. */
	if (finished)
		return;
	if (corio__list_empty(&f->waiters))
		fd_unregister(r, fd, f);
	else if (revents & ~want & WAITABLE)
		(void)fd_register(r, fd, f, want);
}

/* Wait up to @timeout_ns (< 0: no limit) for events; count or -errno. */
static int wait_events(struct ep_reactor *r, int64_t timeout_ns)
{
	int n;

#ifdef __NR_epoll_pwait2
	if (r->pwait2) {
		struct timespec ts = {
			.tv_sec = timeout_ns / 1000000000,
			.tv_nsec = timeout_ns % 1000000000,
		};

		n = (int)syscall(__NR_epoll_pwait2, r->epfd, r->events,
				 MAX_EVENTS, timeout_ns < 0 ? NULL : &ts,
				 NULL, 0);
		return n < 0 ? -errno : n;
	}
#endif
	{
		/* Milliseconds, rounded up: a wait cut short would wake
		 * before the timer is due and spin until it is. */
		int64_t ms = timeout_ns < 0 ? -1 :
			     (timeout_ns + 999999) / 1000000;

		n = epoll_wait(r->epfd, r->events, MAX_EVENTS,
			       ms > INT_MAX ? INT_MAX : (int)ms);
	}
	return n < 0 ? -errno : n;
}

static int ep_poll(struct corio__reactor *base, int64_t timeout_ns)
{
	struct ep_reactor *r = (struct ep_reactor *)base;
	bool skip = false;
	int n, i;

	/*
	 * Results are waiting: never sleep, and right after a wait do not
	 * even look.  Their tasks will soon wait again, and readiness
	 * collected before that finds nobody waiting (an event that costs
	 * an epoll_wait and then an epoll_ctl to take back).  Never two
	 * skips in a row: a task that always has results (file I/O in a
	 * loop) cannot starve the descriptors.
	 */
	if (!corio__list_empty(&r->done)) {
		timeout_ns = 0;
		skip = r->waited;
	}
	/* Tasks are ready and only background reads wait on descriptors:
	 * skip the system call. */
	if (timeout_ns == 0 && (skip || !r->nwaiting_fg)) {
		r->waited = false;
		return 0;
	}
	r->waited = true;
	n = wait_events(r, timeout_ns);
	r->base.stats.submits++;
	if (n < 0 && n != -EINTR)
		return n;
	for (i = 0; i < n; i++)
		fd_ready(r, (int)r->events[i].data.u64,
			 r->events[i].events);
	return 0;
}

static unsigned ep_reap(struct corio__reactor *base, struct corio__cqe *out,
			unsigned max)
{
	struct ep_reactor *r = (struct ep_reactor *)base;
	struct corio__link *l;
	struct ep_op *op;
	unsigned n = 0;

	while (n < max && (l = corio__list_pop_front(&r->done))) {
		op = corio__list_entry(l, struct ep_op, link);
		out[n++] = (struct corio__cqe){ .tag = op->h.key,
						.res = (int32_t)op->res };
		corio__htab_remove(&r->ops, &op->h);
		op_put(r, op);
	}
	return n;
}

static void ep_destroy(struct corio__reactor *base)
{
	struct ep_reactor *r = (struct ep_reactor *)base;
	struct ep_op *op;
	size_t i;

	if (!r)
		return;
	close(r->epfd);
	for (i = 0; i < r->ops.n; i++) {
		while ((op = (struct ep_op *)r->ops.b[i])) {
			r->ops.b[i] = op->h.next;
			corio__free(op);
		}
	}
	while ((op = corio__list_first_entry(&r->free_ops, struct ep_op,
					     link))) {
		corio__list_remove(&r->free_ops, &op->link);
		corio__free(op);
	}
	corio__htab_free(&r->ops);
	corio__free(r->fds);
	corio__free(r);
}

static const struct corio__reactor_ops epoll_ops = {
	.start = ep_start,
	.cancel = ep_cancel,
	.poll = ep_poll,
	.reap = ep_reap,
	.destroy = ep_destroy,
};

/* Does epoll_pwait2 work here (kernel 5.11+, and no seccomp filter)? */
static bool probe_pwait2(int epfd)
{
#ifdef __NR_epoll_pwait2
	struct timespec zero = { 0, 0 };
	struct epoll_event ev;

	return syscall(__NR_epoll_pwait2, epfd, &ev, 1, &zero, NULL, 0) >= 0;
#else
	(void)epfd;
	return false;
#endif
}

int corio__epoll_create(struct corio__reactor **out,
			const struct corio_loop_opts *opts,
			char *desc, size_t desclen, char *why, size_t whylen)
{
	struct ep_reactor *r;
	int err;

	(void)opts;	/* ring_entries and ring_flags are io_uring's */
	r = corio__malloc(sizeof(*r));
	if (!r)
		goto err_nomem;
	memset(r, 0, sizeof(*r));
	if (corio__htab_init(&r->ops, 64))
		goto err_free_reactor;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0) {
		err = -errno;
		snprintf(why, whylen, "epoll_create1 failed: %s",
			 strerror(-err));
		corio__htab_free(&r->ops);
		corio__free(r);
		return err;
	}
	r->pwait2 = probe_pwait2(r->epfd);
	r->base.ops = &epoll_ops;
	snprintf(desc, desclen, "epoll (%s)", r->pwait2 ?
		 "epoll_pwait2, ns timeouts" :
		 "epoll_wait, timeouts rounded up to 1 ms");
	*out = &r->base;
	return 0;

err_free_reactor:
	corio__free(r);
err_nomem:
	snprintf(why, whylen, "out of memory");
	return -ENOMEM;
}
