/* SPDX-License-Identifier: MIT */
/*
 * samples/common/shutdown.c - SIGINT/SIGTERM through a signalfd read by a
 * corio task.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/shutdown.h"

int sample_signals_open(void)
{
	sigset_t set;
	int err, fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked signals stay pending until the signalfd reads them. */
	err = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (err)
		return -err;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

corio_async(int, sample_stop_on_signal, ((int, sfd), (sample_stop_fn, stop),
					 (void *, arg)), (
	struct signalfd_siginfo si;
	ssize_t n;
	int ready;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->n, corio_read_retry, self->sfd, &self->si,
			    sizeof(self->si), -1);
		if (self->n != -EAGAIN)
			break;
		/* The kernel may hand a non-blocking file's EAGAIN back
		 * instead of waiting: wait for readiness, then read again. */
		corio_await(self->ready, corio_poll, self->sfd, POLLIN);
		if (self->ready < 0)
			corio_return(self->ready);
	}
	if (self->n < 0)
		corio_return((int)self->n);
	if (self->n != (ssize_t)sizeof(self->si))
		corio_return(-EIO);
	if (self->stop)
		self->stop(self->arg, (int)self->si.ssi_signo);
	corio_return((int)self->si.ssi_signo);
corio_finally:
	corio_end();
}

int sample_signals_wait(int sfd)
{
	struct signalfd_siginfo si;
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = read(sfd, &si, sizeof(si));
		if (n == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
		if (n >= 0)
			return -EIO;
		/* Another reader took it, or a stray wake-up: wait again. */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}
