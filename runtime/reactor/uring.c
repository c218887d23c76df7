/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/uring.c - the io_uring backend, the only file that
 * includes <liburing.h>.
 *
 * user_data of every SQE is the tag the loop gave the operation (even),
 * or INTERNAL_TAG for the requests this backend makes on its own behalf
 * (cancellations, a refused opcode's no-op), whose completions are not
 * reported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <liburing.h>

#include "corio/io.h"
#include "corio/loop.h"
#include "reactor/reactor.h"
#include "support/slab.h"

#define INTERNAL_TAG 1ull	/* user_data of the backend's own requests */

struct uring_reactor {
	struct corio__reactor base;	/* first: the loop holds &base */
	struct io_uring ring;
	unsigned setup_flags;	/* the flags setup accepted */
	/* Opcodes (below 64) the kernel supports, probed at setup, for the
	 * operations that are newer than the ring itself. */
	uint64_t ops_supported;
	unsigned caps;		/* CORIO__CAP_*, derived from the probe */
};

/* Longest transfer one SQE can express (len is 32 bits), as read(2). */
#define MAX_RW 0x7ffff000u

static const struct {
	unsigned flags;
	const char *name;
} ladder[] = {
	/* Task work runs only when the loop waits, on the loop's thread. */
	{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	  "SINGLE_ISSUER|DEFER_TASKRUN" },
	/* Older kernels: no interrupting IPIs for task work at least. */
	{ IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
	  "COOP_TASKRUN" },
	{ 0, "no flags" },
};

static void explain_unavailable(int err, char *why, size_t whylen)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int disabled = 0;

	if (f) {
		if (fscanf(f, "%d", &disabled) != 1)
			disabled = 0;
		fclose(f);
	}
	if (err == -ENOSYS)
		snprintf(why, whylen, "io_uring is unavailable: the kernel "
			 "has no io_uring support (io_uring_setup: ENOSYS)");
	else if (disabled)
		snprintf(why, whylen, "io_uring is unavailable: disabled by "
			 "sysctl kernel.io_uring_disabled=%d", disabled);
	else if (err == -EPERM)
		snprintf(why, whylen, "io_uring is unavailable: "
			 "io_uring_setup was refused (EPERM), typically by a "
			 "seccomp filter such as a container's default "
			 "profile");
	else if (err == -ENOMEM)
		snprintf(why, whylen, "io_uring setup failed: out of memory "
			 "(ENOMEM); on kernels before 5.12 raise the locked "
			 "memory limit (ulimit -l)");
	else
		snprintf(why, whylen, "io_uring setup failed: %s",
			 strerror(-err));
}

static const struct corio__reactor_ops uring_ops;

/*
 * Which opcodes this kernel supports, once at setup.  If the probe itself
 * fails (out of memory), every opcode counts as supported and the kernel
 * answers for itself.
 */
static uint64_t probe_ops(struct io_uring *ring)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	uint64_t ops = 0;
	int i;

	if (!p)
		return ~0ull;
	for (i = 0; i < 64; i++)
		if (io_uring_opcode_supported(p, i))
			ops |= 1ull << i;
	io_uring_free_probe(p);
	return ops;
}

/*
 * The multishot and zero-copy capabilities.  SEND_ZC arrived in 6.0,
 * after multishot accept (5.19), buffer rings (5.19) and multishot recv
 * (6.0): the probe only lists opcodes, so its presence stands for all
 * three.
 */
static unsigned caps_of(uint64_t ops)
{
	if (ops == ~0ull || !(ops >> IORING_OP_SEND_ZC & 1))
		return 0;
	return CORIO__CAP_ACCEPT_MULTI | CORIO__CAP_BUF_RING |
	       CORIO__CAP_SEND_ZC;
}

int corio__uring_create(struct corio__reactor **out,
			  const struct corio_loop_opts *opts,
			  char *desc, size_t desclen, char *why, size_t whylen)
{
	unsigned entries = opts && opts->ring_entries ? opts->ring_entries : 1024;
	struct uring_reactor *r;
	const char *name = "custom";
	size_t i;
	int ret = -EINVAL;

	r = corio__malloc(sizeof(*r));
	if (!r) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	for (i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		struct io_uring_params p = { 0 };

		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		if (opts && opts->ring_flags) {
			p.flags |= opts->ring_flags;
		} else {
			p.flags |= ladder[i].flags;
			name = ladder[i].name;
		}
		/* Completions can outnumber submissions (cancellations,
		 * bursts): a CQ four times the SQ rarely overflows. */
		p.cq_entries = entries * 4;
		ret = io_uring_queue_init_params(entries, &r->ring, &p);
		if (ret == 0) {
			r->setup_flags = p.flags;
			snprintf(desc, desclen, "io_uring (%s, sq %u, cq %u)",
				 name, p.sq_entries, p.cq_entries);
			break;
		}
		/* Only "this kernel does not know a flag" moves down the
		 * ladder; anything else is the answer. */
		if (ret != -EINVAL || (opts && opts->ring_flags))
			break;
	}
	if (ret < 0) {
		explain_unavailable(ret, why, whylen);
		corio__free(r);
		return ret;
	}
	r->base.ops = &uring_ops;
	r->ops_supported = probe_ops(&r->ring);
	r->caps = caps_of(r->ops_supported);
	/* Registering the ring fd saves an fdget per enter; optional. */
	(void)io_uring_register_ring_fd(&r->ring);
	*out = &r->base;
	return 0;
}

static void uring_destroy(struct corio__reactor *base)
{
	struct uring_reactor *r = (struct uring_reactor *)base;
	if (!r)
		return;
	io_uring_queue_exit(&r->ring);
	corio__free(r);
}

/* An SQE, submitting a full queue first; NULL only if that fails too. */
static struct io_uring_sqe *get_sqe(struct uring_reactor *r, unsigned need)
{
	if (io_uring_sq_space_left(&r->ring) < need) {
		r->base.stats.sq_full++;
		r->base.stats.submits++;
		io_uring_submit(&r->ring);
	}
	return io_uring_get_sqe(&r->ring);
}

/* Does the kernel support @op (probed at setup)? */
static bool op_supported(const struct uring_reactor *r, int op)
{
	return op >= 64 || (r->ops_supported >> op & 1);
}

static uint32_t clamp_len(uint64_t len)
{
	return len > MAX_RW ? MAX_RW : (uint32_t)len;
}

/*
 * ---- one function per opcode, named by the uring_prep column of opdef.h:
 * fill @sqe for @io.  0, or -errno with the SQE untouched (uring_start
 * gives it back as a no-op).
 */

static int uring_prep_nop(struct uring_reactor *r, struct io_uring_sqe *sqe,
			  const struct corio__io *io)
{
	(void)r, (void)io;
	io_uring_prep_nop(sqe);
	return 0;
}

static int uring_prep_read(struct uring_reactor *r, struct io_uring_sqe *sqe,
			   const struct corio__io *io)
{
	(void)r;
	io_uring_prep_read(sqe, io->fd, io->addr, clamp_len(io->len),
			   (uint64_t)io->off);
	return 0;
}

static int uring_prep_write(struct uring_reactor *r, struct io_uring_sqe *sqe,
			    const struct corio__io *io)
{
	(void)r;
	io_uring_prep_write(sqe, io->fd, io->addr, clamp_len(io->len),
			    (uint64_t)io->off);
	return 0;
}

static int uring_prep_readv(struct uring_reactor *r, struct io_uring_sqe *sqe,
			    const struct corio__io *io)
{
	(void)r;
	io_uring_prep_readv(sqe, io->fd, io->addr, (unsigned)io->len,
			    (uint64_t)io->off);
	return 0;
}

static int uring_prep_writev(struct uring_reactor *r,
			     struct io_uring_sqe *sqe,
			     const struct corio__io *io)
{
	(void)r;
	io_uring_prep_writev(sqe, io->fd, io->addr, (unsigned)io->len,
			     (uint64_t)io->off);
	return 0;
}

static int uring_prep_recv(struct uring_reactor *r, struct io_uring_sqe *sqe,
			   const struct corio__io *io)
{
	(void)r;
	io_uring_prep_recv(sqe, io->fd, io->addr, clamp_len(io->len),
			   (int)(io->op_flags &
				 ~(uint32_t)CORIO_RECV_POLL_FIRST));
	if (io->op_flags & (uint32_t)CORIO_RECV_POLL_FIRST)
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	return 0;
}

static int uring_prep_send(struct uring_reactor *r, struct io_uring_sqe *sqe,
			   const struct corio__io *io)
{
	(void)r;
	io_uring_prep_send(sqe, io->fd, io->addr, clamp_len(io->len),
			   (int)io->op_flags);
	return 0;
}

static int uring_prep_accept(struct uring_reactor *r,
			     struct io_uring_sqe *sqe,
			     const struct corio__io *io)
{
	(void)r;
	io_uring_prep_accept(sqe, io->fd, io->addr, io->addr2,
			     (int)io->op_flags);
	return 0;
}

static int uring_prep_connect(struct uring_reactor *r,
			      struct io_uring_sqe *sqe,
			      const struct corio__io *io)
{
	(void)r;
	io_uring_prep_connect(sqe, io->fd, io->addr, (socklen_t)io->len);
	return 0;
}

/* uring_start took two SQEs when the close cancels first. */
static int uring_prep_close(struct uring_reactor *r, struct io_uring_sqe *sqe,
			    const struct corio__io *io)
{
	(void)r;
	io_uring_prep_close(sqe, io->fd);
	return 0;
}

static int uring_prep_openat(struct uring_reactor *r,
			     struct io_uring_sqe *sqe,
			     const struct corio__io *io)
{
	(void)r;
	io_uring_prep_openat(sqe, io->fd, io->addr, (int)io->op_flags,
			     io->mode);
	return 0;
}

static int uring_prep_fsync(struct uring_reactor *r, struct io_uring_sqe *sqe,
			    const struct corio__io *io)
{
	(void)r;
	io_uring_prep_fsync(sqe, io->fd,
			    io->op_flags ? IORING_FSYNC_DATASYNC : 0);
	return 0;
}

static int uring_prep_statx(struct uring_reactor *r, struct io_uring_sqe *sqe,
			    const struct corio__io *io)
{
	(void)r;
	io_uring_prep_statx(sqe, io->fd, io->addr, (int)io->op_flags,
			    io->mode, io->addr2);
	return 0;
}

static int uring_prep_poll(struct uring_reactor *r, struct io_uring_sqe *sqe,
			   const struct corio__io *io)
{
	(void)r;
	io_uring_prep_poll_add(sqe, io->fd, io->op_flags);
	return 0;
}

static int uring_prep_recvmsg(struct uring_reactor *r,
			      struct io_uring_sqe *sqe,
			      const struct corio__io *io)
{
	(void)r;
	io_uring_prep_recvmsg(sqe, io->fd, io->addr, (unsigned)io->op_flags);
	return 0;
}

static int uring_prep_sendmsg(struct uring_reactor *r,
			      struct io_uring_sqe *sqe,
			      const struct corio__io *io)
{
	(void)r;
	io_uring_prep_sendmsg(sqe, io->fd, io->addr, (unsigned)io->op_flags);
	return 0;
}

static int uring_prep_shutdown(struct uring_reactor *r,
			       struct io_uring_sqe *sqe,
			       const struct corio__io *io)
{
	(void)r;
	io_uring_prep_shutdown(sqe, io->fd, (int)io->op_flags);
	return 0;
}

static int uring_prep_send_zc(struct uring_reactor *r,
			      struct io_uring_sqe *sqe,
			      const struct corio__io *io)
{
	if (!(r->caps & CORIO__CAP_SEND_ZC))
		return -EOPNOTSUPP;
	io_uring_prep_send_zc(sqe, io->fd, io->addr, clamp_len(io->len),
			      (int)io->op_flags, 0);
	return 0;
}

static int uring_prep_accept_multi(struct uring_reactor *r,
				   struct io_uring_sqe *sqe,
				   const struct corio__io *io)
{
	if (!(r->caps & CORIO__CAP_ACCEPT_MULTI))
		return -EOPNOTSUPP;
	io_uring_prep_multishot_accept(sqe, io->fd, NULL, NULL,
				       (int)io->op_flags);
	return 0;
}

static int uring_prep_recv_multi(struct uring_reactor *r,
				 struct io_uring_sqe *sqe,
				 const struct corio__io *io)
{
	if (!(r->caps & CORIO__CAP_BUF_RING))
		return -EOPNOTSUPP;
	/* Length 0: each chunk fills at most one whole buffer. */
	io_uring_prep_recv_multishot(sqe, io->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = (uint16_t)io->len;
	return 0;
}

/* The file-system operations are newer than the ring: probed at setup. */
static int uring_prep_fallocate(struct uring_reactor *r,
				struct io_uring_sqe *sqe,
				const struct corio__io *io)
{
	if (!op_supported(r, IORING_OP_FALLOCATE))
		return -EOPNOTSUPP;
	io_uring_prep_fallocate(sqe, io->fd, (int)io->mode, (off_t)io->off,
				(off_t)io->len);
	return 0;
}

static int uring_prep_unlinkat(struct uring_reactor *r,
			       struct io_uring_sqe *sqe,
			       const struct corio__io *io)
{
	if (!op_supported(r, IORING_OP_UNLINKAT))
		return -EOPNOTSUPP;
	io_uring_prep_unlinkat(sqe, io->fd, io->addr, (int)io->op_flags);
	return 0;
}

static int uring_prep_renameat(struct uring_reactor *r,
			       struct io_uring_sqe *sqe,
			       const struct corio__io *io)
{
	if (!op_supported(r, IORING_OP_RENAMEAT))
		return -EOPNOTSUPP;
	/* io.c passes the new directory fd in .len, as uint32_t. */
	io_uring_prep_renameat(sqe, io->fd, io->addr, (int)(uint32_t)io->len,
			       io->addr2, io->op_flags);
	return 0;
}

static int uring_prep_mkdirat(struct uring_reactor *r,
			      struct io_uring_sqe *sqe,
			      const struct corio__io *io)
{
	if (!op_supported(r, IORING_OP_MKDIRAT))
		return -EOPNOTSUPP;
	io_uring_prep_mkdirat(sqe, io->fd, io->addr, io->mode);
	return 0;
}

static int uring_prep_splice(struct uring_reactor *r,
			     struct io_uring_sqe *sqe,
			     const struct corio__io *io)
{
	if (!op_supported(r, IORING_OP_SPLICE))
		return -EOPNOTSUPP;
	/* corio registers no files, and splice(2) knows no such flag. */
	if (io->op_flags & SPLICE_F_FD_IN_FIXED)
		return -EINVAL;
	io_uring_prep_splice(sqe, io->fd, io->off, io->fd2, io->off2,
			     clamp_len(io->len), io->op_flags);
	return 0;
}

/*
 * The hot path: a switch generated from opdef.h, whose cases the compiler
 * inlines (each prep function has this one caller), as the hand-written
 * switch it replaces.
 */
static int uring_start(struct corio__reactor *base, uint64_t tag,
		       const struct corio__io *io)
{
	struct uring_reactor *r = (struct uring_reactor *)base;
	struct io_uring_sqe *sqe;
	bool cancel_first = io->opcode == CORIO__OP_CLOSE &&
			    (io->op_flags & CORIO__CLOSE_CANCEL_FIRST);
	int err;

	sqe = get_sqe(r, cancel_first ? 2 : 1);
	if (!sqe)
		return -EAGAIN;
	if (cancel_first) {
		/* Cancel whatever is in flight on the fd, then close it: a
		 * hard link runs the close whatever the cancel found. */
		io_uring_prep_cancel_fd(sqe, io->fd, IORING_ASYNC_CANCEL_ALL);
		sqe->flags |= IOSQE_IO_HARDLINK;
		io_uring_sqe_set_data64(sqe, INTERNAL_TAG);
		sqe = io_uring_get_sqe(&r->ring);
	}
	switch (io->opcode) {
#define X(op, name, target, faults, fill, prep, ...)			\
	case CORIO__OP_##op:						\
		err = prep(r, sqe, io);					\
		break;
	CORIO__OPS(X)
#undef X
	default:
		err = -EINVAL;
		break;
	}
	if (err) {
		/* An unknown opcode, or one this kernel lacks: the SQE goes
		 * back as a harmless no-op. */
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, INTERNAL_TAG);
		return err;
	}
	io_uring_sqe_set_data64(sqe, tag);
	return 0;
}

/* IORING_ASYNC_CANCEL_ALL: a multishot may have several SQEs in flight. */
static void uring_cancel(struct corio__reactor *base, uint64_t tag)
{
	struct uring_reactor *r = (struct uring_reactor *)base;
	struct io_uring_sqe *sqe = get_sqe(r, 1);

	if (!sqe)
		return;	/* cannot happen: get_sqe drained a full SQ */
	io_uring_prep_cancel64(sqe, tag, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, INTERNAL_TAG);
}

static int uring_poll(struct corio__reactor *base, int64_t timeout_ns)
{
	struct uring_reactor *r = (struct uring_reactor *)base;
	struct io_uring_cqe *cqe;
	int ret;

	if (timeout_ns == 0) {
		/* Tasks are ready: submit and collect, never sleep. */
		ret = io_uring_submit_and_get_events(&r->ring);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ns / 1000000000,
			.tv_nsec = timeout_ns % 1000000000,
		};

		ret = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1,
			timeout_ns > 0 ? &ts : NULL, NULL);
	}
	r->base.stats.submits++;
	/* -EBUSY/-EAGAIN: the CQ is full; reaping makes room. */
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY &&
	    ret != -EAGAIN)
		return ret;
	return 0;
}

static uint16_t cqe_flags(const struct io_uring_cqe *cqe, uint16_t *bid)
{
	uint16_t flags = 0;

	if (cqe->flags & IORING_CQE_F_MORE)
		flags |= CORIO__CQE_MORE;
	if (cqe->flags & IORING_CQE_F_NOTIF)
		flags |= CORIO__CQE_NOTIF;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		flags |= CORIO__CQE_BUFFER;
		*bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	}
	return flags;
}

static unsigned uring_reap(struct corio__reactor *base,
			   struct corio__cqe *out, unsigned max)
{
	struct uring_reactor *r = (struct uring_reactor *)base;
	struct io_uring_cqe *cqe;
	unsigned head, seen, n = 0;

	for (;;) {
		seen = 0;
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);

			if (n == max)
				break;
			seen++;
			if (ud & INTERNAL_TAG)
				continue;
			out[n].tag = ud;
			out[n].res = cqe->res;
			out[n].bid = 0;
			out[n].flags = cqe_flags(cqe, &out[n].bid);
			n++;
		}
		io_uring_cq_advance(&r->ring, seen);
		if (n == max || !io_uring_cq_has_overflow(&r->ring))
			return n;
		/* Completions waiting in the kernel's overflow list: flush
		 * them into the CQ and keep reaping; none is lost. */
		r->base.stats.cq_overflows++;
		io_uring_get_events(&r->ring);
	}
}

static unsigned uring_caps(struct corio__reactor *base)
{
	return ((struct uring_reactor *)base)->caps;
}

/*
 * The ring's memory is shared with the kernel and must be page-aligned:
 * mmap it (liburing 2.3 has no io_uring_setup_buf_ring to do this).
 */
static int uring_bufring_create(struct corio__reactor *base,
				struct corio__bufring *br)
{
	struct uring_reactor *r = (struct uring_reactor *)base;
	struct io_uring_buf_reg reg = { 0 };
	struct io_uring_buf_ring *ring;
	size_t bytes = br->nbufs * sizeof(struct io_uring_buf);
	uint32_t i;
	int mask, ret;

	if (!(r->caps & CORIO__CAP_BUF_RING))
		return -EOPNOTSUPP;
	ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (ring == MAP_FAILED)
		return -ENOMEM;
	reg.ring_addr = (uint64_t)(uintptr_t)ring;
	reg.ring_entries = br->nbufs;
	reg.bgid = br->bgid;
	ret = io_uring_register_buf_ring(&r->ring, &reg, 0);
	if (ret < 0) {
		munmap(ring, bytes);
		return ret;
	}
	io_uring_buf_ring_init(ring);
	mask = io_uring_buf_ring_mask(br->nbufs);
	for (i = 0; i < br->nbufs; i++)
		io_uring_buf_ring_add(ring, br->bufs + (size_t)i * br->buf_size,
				      br->buf_size, (unsigned short)i, mask,
				      (int)i);
	/* Publishes the tail with a release store: the kernel sees the
	 * entries written above before the new tail. */
	io_uring_buf_ring_advance(ring, (int)br->nbufs);
	br->ring = ring;
	br->ring_bytes = bytes;
	return 0;
}

static void uring_bufring_put(struct corio__reactor *base,
			      struct corio__bufring *br, uint16_t bid)
{
	(void)base;
	io_uring_buf_ring_add(br->ring, br->bufs + (size_t)bid * br->buf_size,
			      br->buf_size, bid,
			      io_uring_buf_ring_mask(br->nbufs), 0);
	io_uring_buf_ring_advance(br->ring, 1);
}

static void uring_bufring_destroy(struct corio__reactor *base,
				  struct corio__bufring *br)
{
	struct uring_reactor *r = (struct uring_reactor *)base;

	if (!br->ring)
		return;
	io_uring_unregister_buf_ring(&r->ring, br->bgid);
	munmap(br->ring, br->ring_bytes);
	br->ring = NULL;
}

static const struct corio__reactor_ops uring_ops = {
	.start = uring_start,
	.cancel = uring_cancel,
	.poll = uring_poll,
	.reap = uring_reap,
	.destroy = uring_destroy,
	.caps = uring_caps,
	.bufring_create = uring_bufring_create,
	.bufring_put = uring_bufring_put,
	.bufring_destroy = uring_bufring_destroy,
};
