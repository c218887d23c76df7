/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/fault.c - a reactor that wraps the real backend and injects
 * faults into what it reports: the test option behind CORIO_FAULTS.
 *
 * Every fault is one the kernel could produce, and none loses data:
 *
 * - short: a read, write, recv or send starts with a smaller length, so
 *   the kernel itself moves fewer bytes.  Nothing is consumed and hidden.
 * - eintr, eagain, enobufs, ecanceled: the operation is not started at all
 *   and completes with the error at the next poll.
 * - delay: a real completion is held back for one to three polls and then
 *   delivered after completions that arrived later (out of order).
 * - multishot: a multishot source is really cancelled after one of its
 *   completions; the kernel ends it with -ECANCELED, reported to a receive
 *   source half the time as -ENOBUFS.  The source must arm it again.
 *
 * It is a filter with the backend's own contract (reactor.h): the loop
 * counts an injected or held operation in flight from start to delivery
 * as any other, so the deadlock check sees no difference.  Decided
 * completions are reported by reap after a poll, never from start.  A cancel of a task
 * whose completion is already decided does not reach the backend: an
 * injected error becomes -ECANCELED (the operation never ran), a held real
 * result is delivered as it is (a cancel that lost the race).
 *
 * The draws come from one generator per loop, seeded from the seed and the
 * number of loops with faults alive when it was made: the same seed and the same schedule give the same
 * faults.  Bookkeeping is arrays scanned linearly: faulted operations are
 * a fraction of those in flight, and this is a test option.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "corio/loop.h"
#include "reactor/fault.h"
#include "reactor/reactor.h"
#include "support/slab.h"

/* A completion decided ahead of its delivery. */
struct pending {
	uint64_t tag;
	int32_t res;
	uint16_t flags;		/* a held completion's CORIO__CQE_* */
	uint16_t bid;
	uint32_t due;		/* first poll that may deliver it */
	bool injected;		/* the operation never ran */
};

/* A multishot operation whose completions pass through us. */
struct msrc {
	uint64_t tag;
	uint32_t inflight;	/* started, final completion not seen */
	uint8_t opcode;		/* CORIO__OP_ACCEPT_MULTI or _RECV_MULTI */
	bool cut;		/* we cancelled it; its final is ours */
};

/* Loops with fault injection alive in the process. */
static _Atomic uint64_t live_loops;

struct corio__fault {
	struct corio__reactor base;	/* first: the loop holds &base */
	struct corio__reactor_ops ops;	/* optional members as the inner's */
	struct corio__reactor *inner;
	struct corio__fault_cfg cfg;
	uint64_t rng;
	uint32_t polls;			/* poll calls so far */
	struct pending *pend;		/* injected and held completions */
	uint32_t npend, cappend;
	uint64_t *marked;		/* tags of real ops to hold */
	uint32_t nmarked, capmarked;
	struct msrc *srcs;		/* multishots in flight */
	uint32_t nsrcs, capsrcs;
	uint64_t counts[CORIO__FAULT_KINDS];
};

static const char *const kind_names[CORIO__FAULT_KINDS] = {
	[CORIO__FAULT_SHORT] = "short",
	[CORIO__FAULT_EINTR] = "eintr",
	[CORIO__FAULT_EAGAIN] = "eagain",
	[CORIO__FAULT_ENOBUFS] = "enobufs",
	[CORIO__FAULT_ECANCELED] = "ecanceled",
	[CORIO__FAULT_DELAY] = "delay",
	[CORIO__FAULT_MULTISHOT] = "multishot",
};

/* The error kinds, in the order one draw picks among them. */
static const int kind_errno[CORIO__FAULT_KINDS] = {
	[CORIO__FAULT_EINTR] = EINTR,
	[CORIO__FAULT_EAGAIN] = EAGAIN,
	[CORIO__FAULT_ENOBUFS] = ENOBUFS,
	[CORIO__FAULT_ECANCELED] = ECANCELED,
};

/* ---------------------------------------------------------------------- */
/* Configuration.                                                         */

static int kind_of(const char *s, size_t n)
{
	int k;

	for (k = 0; k < CORIO__FAULT_KINDS; k++)
		if (strlen(kind_names[k]) == n && !strncmp(s, kind_names[k], n))
			return k;
	return -1;
}

static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	char buf[24], *end;
	unsigned long long v;

	if (!n || n >= sizeof(buf) || *s == '-')
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * "seed=N,rate=P,kinds=K,K,...,KIND=P": items separated by commas; the
 * bare words after kinds= continue its list ("all" names every kind);
 * rate= (default 10) applies to the kinds listed, or to every kind when
 * none is; KIND=P sets one kind's rate, and alone ("delay=50") enables only
 * the kinds so named.
 */
static int parse(const char *spec, struct corio__fault_cfg *cfg, char *why,
		 size_t whylen)
{
	int8_t own[CORIO__FAULT_KINDS];	/* -1: not set by KIND=P */
	bool listed[CORIO__FAULT_KINDS] = { false }, any_listed = false;
	bool in_kinds = false, rate_given = false, any_own = false;
	uint64_t rate = 10, v;
	const char *p = spec;
	unsigned errsum = 0;
	int k;

	memset(own, -1, sizeof(own));
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t kn = eq ? (size_t)(eq - p) : n;
		const char *val = eq ? eq + 1 : NULL;
		size_t vn = eq ? n - kn - 1 : 0;

		if (eq && kn == 5 && !strncmp(p, "kinds", 5)) {
			in_kinds = true;
			p = val;
			n = vn;
			kn = vn;
			eq = NULL;
		}
		if (!eq && in_kinds && kn == 3 && !strncmp(p, "all", 3)) {
			for (k = 0; k < CORIO__FAULT_KINDS; k++)
				listed[k] = true;
			any_listed = true;
		} else if (!eq && in_kinds && (k = kind_of(p, kn)) >= 0) {
			listed[k] = any_listed = true;
		} else if (eq && kn == 4 && !strncmp(p, "seed", 4)) {
			in_kinds = false;
			if (parse_uint(val, vn, UINT64_MAX, &cfg->seed))
				goto bad;
		} else if (eq && kn == 4 && !strncmp(p, "rate", 4)) {
			in_kinds = false;
			if (parse_uint(val, vn, 100, &rate))
				goto bad;
			rate_given = true;
		} else if (eq && (k = kind_of(p, kn)) >= 0) {
			in_kinds = false;
			if (parse_uint(val, vn, 100, &v))
				goto bad;
			own[k] = (int8_t)v;
			any_own = true;
		} else {
			goto bad;
		}
		p += n;
		if (*p == ',')
			p++;
		continue;
bad:
		snprintf(why, whylen, "CORIO_FAULTS: cannot read \"%.*s\" (want "
			 "seed=N, rate=0..100, kinds=K,K,... with K among short, "
			 "eintr, eagain, enobufs, ecanceled, delay, multishot, "
			 "all, or K=0..100)", (int)(n > 64 ? 64 : n), p);
		return -EINVAL;
	}
	for (k = 0; k < CORIO__FAULT_KINDS; k++) {
		if (own[k] >= 0)
			cfg->rate[k] = (uint8_t)own[k];
		else if (any_listed ? listed[k] : rate_given || !any_own)
			cfg->rate[k] = (uint8_t)rate;
		if (kind_errno[k])
			errsum += cfg->rate[k];
		if (cfg->rate[k])
			cfg->on = true;
	}
	/* One draw picks at most one error: their rates share 100%. */
	if (errsum > 100) {
		snprintf(why, whylen, "CORIO_FAULTS: the rates of eintr, eagain, "
			 "enobufs and ecanceled add up to %u%%, above 100%%",
			 errsum);
		return -EINVAL;
	}
	return 0;
}

int corio__fault_config(const struct corio_loop_opts *opts,
			struct corio__fault_cfg *cfg, char *why,
			size_t whylen)
{
	const char *spec = opts && opts->faults ? opts->faults :
			   getenv("CORIO_FAULTS");

	memset(cfg, 0, sizeof(*cfg));
	if (!spec || !*spec || !strcmp(spec, "off"))
		return 0;
	return parse(spec, cfg, why, whylen);
}

/* ---------------------------------------------------------------------- */
/* Draws and bookkeeping.                                                 */

/* splitmix64: one 64-bit state, good enough spread for test draws. */
static uint64_t next_rand(struct corio__fault *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Does an event of @kind happen this time (at its configured rate)? */
static bool chance(struct corio__fault *f, int kind)
{
	return f->cfg.rate[kind] && next_rand(f) % 100 < f->cfg.rate[kind];
}

/* Room in an array of @size-byte elements, @used of them valid, for more
 * than @need. */
static bool reserve(void **arr, uint32_t *cap, uint32_t used, uint32_t need,
		    size_t size)
{
	uint32_t ncap = *cap ? *cap : 64;
	void *p;

	if (need < *cap)
		return true;
	while (ncap <= need)
		ncap *= 2;
	p = corio__malloc(ncap * size);
	if (!p)
		return false;
	if (used)
		memcpy(p, *arr, used * size);
	corio__free(*arr);
	*arr = p;
	*cap = ncap;
	return true;
}

static int find_pending(const struct corio__fault *f, uint64_t tag)
{
	uint32_t i;

	for (i = 0; i < f->npend; i++)
		if (f->pend[i].tag == tag)
			return (int)i;
	return -1;
}

/*
 * What may happen to each operation besides a delay: the faults column of
 * opdef.h.  Errors go to the transfers and accept, which callers already
 * expect to fail transiently; not to connect (a real -EINTR there leaves
 * the connection in progress), close (the fd would be gone or not), nor
 * file-system operations.  Shortening goes to the single-buffer transfers.
 */
#define FAULTS_DELAY	0u
#define FAULTS_ERR	1u	/* transient errors */
#define FAULTS_SHORT	3u	/* errors, and a shorter length */

static const uint8_t op_faults[CORIO__OP_COUNT] = {
#define X(op, name, target, faults, ...) [CORIO__OP_##op] = FAULTS_##faults,
	CORIO__OPS(X)
#undef X
};

static bool errors_apply(const struct corio__io *io)
{
	return io->opcode < CORIO__OP_COUNT &&
	       (op_faults[io->opcode] & FAULTS_ERR);
}

/* Can @io be shortened by its length alone?  Not MSG_WAITALL: its caller
 * asked for everything (op_flags of read and write are always 0). */
static bool short_applies(const struct corio__io *io)
{
	return io->opcode < CORIO__OP_COUNT &&
	       (op_faults[io->opcode] & FAULTS_SHORT) == FAULTS_SHORT &&
	       io->len > 1 && !(io->op_flags & MSG_WAITALL);
}

/*
 * Is @fd a byte stream, where a shorter transfer leaves the rest for the
 * next one?  A datagram would be truncated (its tail lost), and an eventfd
 * or signalfd refuses a short buffer: only regular files, pipes and stream
 * sockets qualify.  Two system calls, paid only when a short is drawn.
 */
static bool is_stream(int fd)
{
	struct stat st;
	int type;
	socklen_t len = sizeof(type);

	if (fstat(fd, &st) < 0)
		return false;
	if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))
		return true;
	return S_ISSOCK(st.st_mode) &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	       type == SOCK_STREAM;
}

/* An error to inject into @io, or 0. */
static int draw_error(struct corio__fault *f, const struct corio__io *io)
{
	unsigned u, acc = 0;
	int k;

	if (!errors_apply(io))
		return 0;
	u = (unsigned)(next_rand(f) % 100);
	for (k = 0; k < CORIO__FAULT_KINDS; k++) {
		if (!kind_errno[k])
			continue;
		acc += f->cfg.rate[k];
		if (u < acc) {
			f->counts[k]++;
			return kind_errno[k];
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The filter.                                                            */

static bool is_multishot(uint8_t opcode)
{
	return opcode == CORIO__OP_ACCEPT_MULTI ||
	       opcode == CORIO__OP_RECV_MULTI;
}

static struct msrc *find_src(struct corio__fault *f, uint64_t tag)
{
	uint32_t i;

	for (i = 0; i < f->nsrcs; i++)
		if (f->srcs[i].tag == tag)
			return &f->srcs[i];
	return NULL;
}

/* Follow a multishot's completions (untracked if out of memory). */
static void track_src(struct corio__fault *f, uint64_t tag, uint8_t opcode)
{
	struct msrc *m = find_src(f, tag);

	if (!m) {
		if (!reserve((void **)&f->srcs, &f->capsrcs, f->nsrcs,
			     f->nsrcs, sizeof(*f->srcs)))
			return;
		m = &f->srcs[f->nsrcs++];
		*m = (struct msrc){ .tag = tag };
	}
	m->opcode = opcode;
	m->inflight++;
}

static int fault_start(struct corio__reactor *base, uint64_t tag,
		       const struct corio__io *io)
{
	struct corio__fault *f = (struct corio__fault *)base;
	struct corio__io shorter;
	int err, ret;

	/* The loop's own eventfd and signalfd reads are left alone. */
	if (io->background)
		return f->inner->ops->start(f->inner, tag, io);
	if (is_multishot(io->opcode)) {
		ret = f->inner->ops->start(f->inner, tag, io);
		if (!ret)
			track_src(f, tag, io->opcode);
		return ret;
	}
	err = draw_error(f, io);
	if (err && reserve((void **)&f->pend, &f->cappend, f->npend,
			   f->npend + f->nmarked, sizeof(*f->pend))) {
		f->pend[f->npend++] = (struct pending){ .tag = tag,
			.res = -err, .due = f->polls + 1, .injected = true };
		return 0;
	}
	if (short_applies(io) && chance(f, CORIO__FAULT_SHORT) &&
	    is_stream(io->fd)) {
		shorter = *io;
		shorter.len = 1 + next_rand(f) % (io->len - 1);
		io = &shorter;
		f->counts[CORIO__FAULT_SHORT]++;
	}
	ret = f->inner->ops->start(f->inner, tag, io);
	/* Room for the held completion is taken now, and kept (pend has
	 * room for more than npend + nmarked): holding cannot fail. */
	if (!ret && chance(f, CORIO__FAULT_DELAY) &&
	    reserve((void **)&f->marked, &f->capmarked, f->nmarked,
		    f->nmarked, sizeof(*f->marked)) &&
	    reserve((void **)&f->pend, &f->cappend, f->npend,
		    f->npend + f->nmarked, sizeof(*f->pend)))
		f->marked[f->nmarked++] = tag;
	return ret;
}

/* Hold @c back when its operation was marked: true if taken. */
static bool hold(struct corio__fault *f, const struct corio__cqe *c)
{
	uint32_t i;

	if (c->flags & CORIO__CQE_MORE)
		return false;
	for (i = 0; i < f->nmarked; i++) {
		if (f->marked[i] != c->tag)
			continue;
		f->marked[i] = f->marked[--f->nmarked];
		f->pend[f->npend++] = (struct pending){ .tag = c->tag,
			.res = c->res, .flags = c->flags, .bid = c->bid,
			.due = f->polls + 1 + (uint32_t)(next_rand(f) % 3) };
		f->counts[CORIO__FAULT_DELAY]++;
		return true;
	}
	return false;
}

/*
 * A multishot's completion: end it early now and then (a real cancel,
 * so nothing is in flight twice and what the kernel had is still
 * reported), and report the end of a cut receive as a dry buffer ring
 * half the time.
 */
static void filter_multishot(struct corio__fault *f, struct msrc *m,
			     struct corio__cqe *c)
{
	if (c->flags & CORIO__CQE_MORE) {
		if (!m->cut && chance(f, CORIO__FAULT_MULTISHOT)) {
			m->cut = true;
			f->counts[CORIO__FAULT_MULTISHOT]++;
			f->inner->ops->cancel(f->inner, m->tag);
		}
		return;
	}
	if (m->cut && c->res == -ECANCELED &&
	    m->opcode == CORIO__OP_RECV_MULTI && (next_rand(f) & 1))
		c->res = -ENOBUFS;	/* as when the buffer ring runs dry */
	m->cut = false;
	if (--m->inflight == 0)
		*m = f->srcs[--f->nsrcs];
}

static void fault_cancel(struct corio__reactor *base, uint64_t tag)
{
	struct corio__fault *f = (struct corio__fault *)base;
	int i = find_pending(f, tag);

	if (i < 0) {
		f->inner->ops->cancel(f->inner, tag);
		return;
	}
	/* Decided already.  An operation that never ran was cancelled. */
	if (f->pend[i].injected)
		f->pend[i].res = -ECANCELED;
}

static int fault_poll(struct corio__reactor *base, int64_t timeout_ns)
{
	struct corio__fault *f = (struct corio__fault *)base;
	int ret;

	f->polls++;
	/* Decided completions wait for no event: never sleep on them. */
	if (f->npend)
		timeout_ns = 0;
	ret = f->inner->ops->poll(f->inner, timeout_ns);
	f->base.stats = f->inner->stats;	/* the loop reads ours */
	return ret;
}

/*
 * The backend's completions first, less the ones held; then the decided
 * completions that are due, newest first: held ones coming after
 * completions that arrived later is the reordering.
 */
static unsigned fault_reap(struct corio__reactor *base,
			   struct corio__cqe *out, unsigned max)
{
	struct corio__fault *f = (struct corio__fault *)base;
	unsigned n = 0, got, i, end, want;
	struct msrc *m;

	do {
		want = max - n;
		got = f->inner->ops->reap(f->inner, out + n, want);
		for (i = n, end = n + got; i < end; i++) {
			if (hold(f, &out[i]))
				continue;
			if ((m = find_src(f, out[i].tag)))
				filter_multishot(f, m, &out[i]);
			out[n++] = out[i];
		}
	} while (got == want && n < max);
	i = f->npend;
	while (i-- && n < max) {
		struct pending p = f->pend[i];

		if ((int32_t)(f->polls - p.due) < 0)
			continue;
		f->pend[i] = f->pend[--f->npend];
		out[n++] = (struct corio__cqe){ .tag = p.tag, .res = p.res,
						.flags = p.flags,
						.bid = p.bid };
	}
	return n;
}

static void fault_destroy(struct corio__reactor *base)
{
	struct corio__fault *f = (struct corio__fault *)base;

	f->inner->ops->destroy(f->inner);
	atomic_fetch_sub(&live_loops, 1);
	corio__free(f->pend);
	corio__free(f->marked);
	corio__free(f->srcs);
	corio__free(f);
}

static unsigned fault_caps(struct corio__reactor *base)
{
	struct corio__fault *f = (struct corio__fault *)base;

	return corio__reactor_caps(f->inner);
}

static int fault_bufring_create(struct corio__reactor *base,
				struct corio__bufring *br)
{
	struct corio__fault *f = (struct corio__fault *)base;

	return f->inner->ops->bufring_create(f->inner, br);
}

static void fault_bufring_put(struct corio__reactor *base,
			      struct corio__bufring *br, uint16_t bid)
{
	struct corio__fault *f = (struct corio__fault *)base;

	f->inner->ops->bufring_put(f->inner, br, bid);
}

static void fault_bufring_destroy(struct corio__reactor *base,
				  struct corio__bufring *br)
{
	struct corio__fault *f = (struct corio__fault *)base;

	f->inner->ops->bufring_destroy(f->inner, br);
}

/* ---------------------------------------------------------------------- */

int corio__fault_wrap(struct corio__reactor **r,
		      const struct corio__fault_cfg *cfg,
		      char *desc, size_t desclen)
{
	const struct corio__reactor_ops *in = (*r)->ops;
	struct corio__fault *f;
	size_t len;
	int k;

	f = corio__malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	memset(f, 0, sizeof(*f));
	f->inner = *r;
	f->cfg = *cfg;
	/* Loops alive together (a runtime's) draw differently; loops made
	 * one after another draw the same. */
	f->rng = cfg->seed ^ (atomic_fetch_add(&live_loops, 1) *
			      0xd1b54a32d192ed03ull);
	f->ops = (struct corio__reactor_ops){
		.start = fault_start,
		.cancel = fault_cancel,
		.poll = fault_poll,
		.reap = fault_reap,
		.destroy = fault_destroy,
		.caps = in->caps ? fault_caps : NULL,
		.bufring_create = in->bufring_create ? fault_bufring_create :
				  NULL,
		.bufring_put = in->bufring_put ? fault_bufring_put : NULL,
		.bufring_destroy = in->bufring_destroy ?
				   fault_bufring_destroy : NULL,
	};
	f->base.ops = &f->ops;
	*r = &f->base;
	len = strlen(desc);
	snprintf(desc + len, desclen - len, " + faults (seed %llu",
		 (unsigned long long)cfg->seed);
	for (k = 0; k < CORIO__FAULT_KINDS; k++) {
		len = strlen(desc);
		if (cfg->rate[k])
			snprintf(desc + len, desclen - len, ", %s %u%%",
				 kind_names[k], cfg->rate[k]);
	}
	len = strlen(desc);
	snprintf(desc + len, desclen - len, ")");
	return 0;
}

void corio__fault_counts(const struct corio__reactor *r,
			 uint64_t counts[CORIO__FAULT_KINDS])
{
	const struct corio__fault *f = (const struct corio__fault *)r;

	if (r && r->ops->start == fault_start)
		memcpy(counts, f->counts, sizeof(f->counts));
	else
		memset(counts, 0, sizeof(uint64_t) * CORIO__FAULT_KINDS);
}
