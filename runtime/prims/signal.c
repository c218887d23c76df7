/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/signal.c - signals delivered to tasks through a signalfd read on
 * the loop's ring.
 *
 * One signalfd per loop covers every signal some task awaited; one read
 * is armed while any task waits.  Each signal number has its queue of
 * waiters (a primitive in the loop's registry); a signal nobody awaits is
 * remembered in a bit mask for the next await.
 */
#define _GNU_SOURCE /* sigabbrev_np */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "prims/internal.h"
#include "reactor/reactor.h"

#include "corio/signal.h"

int corio_signal_block(int signo)
{
	sigset_t set;

	if (signo <= 0 || signo >= CORIO__NSIG)
		return -EINVAL;
	sigemptyset(&set);
	sigaddset(&set, signo);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * A loop's signals, made at its first corio_signal: one signalfd covering
 * every signal awaited so far, the read armed on it, and one wait queue
 * per signal number.
 */
struct corio__signals {
	struct corio__loop_ext ext;	/* first: the loop hands &ext back */
	int fd;				/* signalfd, or -1 before the first */
	uint64_t mask;			/* signals it covers (bit = number) */
	uint64_t pending;		/* arrived while nobody waited */
	bool armed;			/* @src's read is in flight */
	struct corio__source src;	/* that read (a background source) */
	struct corio__sync waiters[CORIO__NSIG];
	unsigned char buf[128];		/* one struct signalfd_siginfo */
};

/* Add @signo to the signalfd, creating it on first use. */
static int watch(struct corio__signals *sg, int signo)
{
	sigset_t set;
	int fd, i;

	if (sg->mask & (1ull << signo))
		return 0;
	sigemptyset(&set);
	for (i = 1; i < CORIO__NSIG; i++)
		if ((sg->mask & (1ull << i)) || i == signo)
			sigaddset(&set, i);
	fd = signalfd(sg->fd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	sg->fd = fd;
	sg->mask |= 1ull << signo;
	return 0;
}

static bool awaited(const struct corio__signals *sg)
{
	int i;

	for (i = 1; i < CORIO__NSIG; i++)
		if (sg->waiters[i].head)
			return true;
	return false;
}

static void signal_arrived(struct corio__source *src, int32_t res,
			   uint32_t flags, uint16_t bid);

/* Read one struct signalfd_siginfo; signal_arrived gets it. */
static int arm(struct corio_loop *loop, struct corio__signals *sg)
{
	int err = corio__source_start(loop, &sg->src,
		&(struct corio__io){ .opcode = CORIO__OP_READ, .fd = sg->fd,
			.addr = sg->buf, .len = sizeof(sg->buf), .off = -1 });

	sg->armed = !err;
	return err;
}

/*
 * A background source, not counted in flight: the deadlock check sees the
 * waiters in the signal queues instead (CORIO_WAIT_SIGNAL), so a read left
 * armed after its waiters went away hides nothing.
 */
static void signal_arrived(struct corio__source *src, int32_t res,
			   uint32_t flags, uint16_t bid)
{
	struct corio__signals *sg = (struct corio__signals *)(void *)
		((char *)src - offsetof(struct corio__signals, src));
	const struct signalfd_siginfo *si = (const void *)sg->buf;
	int signo;

	(void)flags, (void)bid;
	sg->armed = false;
	if (res == (int)sizeof(*si)) {
		signo = (int)si->ssi_signo;
		if (signo > 0 && signo < CORIO__NSIG) {
			if (!sg->waiters[signo].head)
				sg->pending |= 1ull << signo;
			corio__sync_resume_all(&sg->waiters[signo], signo);
		}
	}
	/* -EAGAIN and the like: nothing read; try again while needed. */
	if (!src->loop->closing && awaited(sg))
		(void)arm(src->loop, sg);
}

/* corio_loop_destroy, after the read's final completion. */
static void signals_destroy(struct corio_loop *loop,
			    struct corio__loop_ext *ext)
{
	struct corio__signals *sg = (struct corio__signals *)ext;
	int i;

	for (i = 0; i < CORIO__NSIG; i++)
		corio__sync_unregister(&sg->waiters[i]);
	if (sg->fd >= 0)
		close(sg->fd);
	loop->signals = NULL;
	corio__free(sg);
}

static struct corio__signals *signals_of(struct corio_loop *loop)
{
	struct corio__signals *sg = loop->signals;
	int i;

	if (sg)
		return sg;
	sg = corio__malloc(sizeof(*sg));
	if (!sg)
		return NULL;
	memset(sg, 0, sizeof(*sg));
	sg->fd = -1;
	sg->src.on_cqe = signal_arrived;
	sg->src.background = true;
	/* sigabbrev_np: static strings ("INT"), unlike strsignal's. */
	for (i = 0; i < CORIO__NSIG; i++)
		corio__sync_register(&sg->waiters[i], CORIO_WAIT_SIGNAL,
				     sigabbrev_np(i), "signal");
	sg->ext.destroy = signals_destroy;
	corio__loop_ext_add(loop, &sg->ext);
	loop->signals = sg;
	return sg;
}

struct corio_frame *corio_signal__start(struct corio_frame *parent, int signo,
					int *result)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio__signals *sg;
	struct corio_frame *early;
	struct corio_task *t;
	int err;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	if (signo <= 0 || signo >= CORIO__NSIG)
		return corio__op_done(t, -EINVAL);
	sg = signals_of(loop);
	if (!sg)
		return corio__op_done(t, -ENOMEM);
	err = watch(sg, signo);
	if (err)
		return corio__op_done(t, err);
	if (sg->pending & (1ull << signo)) {
		sg->pending &= ~(1ull << signo);
		return corio__op_done(t, signo);
	}
	if (!sg->armed) {
		err = arm(loop, sg);
		if (err)
			return corio__op_done(t, err);
	}
	return corio__sync_wait(&sg->waiters[signo], t, NULL);
}
