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
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/internal.h"
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

/* Add @signo to the loop's signalfd, creating it on first use. */
static int watch(struct corio_loop *loop, int signo)
{
	sigset_t set;
	int fd, i;

	if (loop->sig_mask & (1ull << signo))
		return 0;
	sigemptyset(&set);
	for (i = 1; i < CORIO__NSIG; i++)
		if ((loop->sig_mask & (1ull << i)) || i == signo)
			sigaddset(&set, i);
	fd = signalfd(loop->sig_fd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	loop->sig_fd = fd;
	loop->sig_mask |= 1ull << signo;
	return 0;
}

bool corio__signal_awaited(const struct corio_loop *loop)
{
	int i;

	for (i = 1; i < CORIO__NSIG; i++)
		if (loop->sig_waiters && loop->sig_waiters[i].head)
			return true;
	return false;
}

static void signal_arrived(struct corio__source *src, int32_t res,
			   uint32_t flags, uint16_t bid);

/* Read one struct signalfd_siginfo; signal_arrived gets it. */
static int arm(struct corio_loop *loop)
{
	loop->sig_src.on_cqe = signal_arrived;
	loop->sig_src.background = true;
	return corio__source_start(loop, &loop->sig_src,
		&(struct corio__io){ .opcode = CORIO__OP_READ,
			.fd = loop->sig_fd, .addr = loop->sig_buf,
			.len = sizeof(loop->sig_buf), .off = -1 });
}

/*
 * Not counted in flight: the deadlock check asks corio__signal_awaited()
 * instead, so a read left armed after its waiters went away hides nothing.
 */
static void signal_arrived(struct corio__source *src, int32_t res,
			   uint32_t flags, uint16_t bid)
{
	struct corio_loop *loop = src->loop;
	const struct signalfd_siginfo *si = (const void *)loop->sig_buf;
	int signo;

	(void)flags, (void)bid;
	loop->sig_armed = false;
	if (res == (int)sizeof(*si)) {
		signo = (int)si->ssi_signo;
		if (signo > 0 && signo < CORIO__NSIG) {
			if (!loop->sig_waiters[signo].head)
				loop->sig_pending |= 1ull << signo;
			corio__sync_resume_all(&loop->sig_waiters[signo],
					       signo);
		}
	}
	/* -EAGAIN and the like: nothing read; try again while needed. */
	if (!loop->closing && corio__signal_awaited(loop) && arm(loop) == 0)
		loop->sig_armed = true;
}

static int waiters_init(struct corio_loop *loop)
{
	int i;

	if (loop->sig_waiters)
		return 0;
	loop->sig_waiters = corio__malloc(sizeof(*loop->sig_waiters) *
					  CORIO__NSIG);
	if (!loop->sig_waiters)
		return -ENOMEM;
	/* sigabbrev_np: static strings ("INT"), unlike strsignal's. */
	for (i = 0; i < CORIO__NSIG; i++)
		corio__sync_register(&loop->sig_waiters[i], CORIO_WAIT_SIGNAL,
				     sigabbrev_np(i), "signal");
	return 0;
}

void corio__signal_destroy(struct corio_loop *loop)
{
	int i;

	if (loop->sig_waiters) {
		for (i = 0; i < CORIO__NSIG; i++)
			corio__sync_unregister(&loop->sig_waiters[i]);
		corio__free(loop->sig_waiters);
		loop->sig_waiters = NULL;
	}
	if (loop->sig_fd >= 0)
		close(loop->sig_fd);
	loop->sig_fd = -1;
}

struct corio_frame *corio_signal__start(struct corio_frame *parent, int signo,
					int *result)
{
	struct corio_loop *loop = corio__tls_loop;
	struct corio_frame *early;
	struct corio_task *t;
	int err;

	(void)parent;
	early = corio__op_prologue(&t, result, CORIO__RES_INT);
	if (early)
		return early;
	if (signo <= 0 || signo >= CORIO__NSIG)
		return corio__op_done(t, -EINVAL);
	err = waiters_init(loop);
	if (!err)
		err = watch(loop, signo);
	if (err)
		return corio__op_done(t, err);
	if (loop->sig_pending & (1ull << signo)) {
		loop->sig_pending &= ~(1ull << signo);
		return corio__op_done(t, signo);
	}
	if (!loop->sig_armed) {
		err = arm(loop);
		if (err)
			return corio__op_done(t, err);
		loop->sig_armed = true;
	}
	return corio__sync_wait(&loop->sig_waiters[signo], t, NULL);
}
