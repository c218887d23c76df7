/* SPDX-License-Identifier: MIT */
/*
 * samples/common/shutdown.h - stopping a server on SIGINT or SIGTERM.
 *
 * Signals arrive through a signalfd that a task reads with corio_read, so
 * the stop runs as ordinary loop code, between awaits, instead of in a
 * signal handler that could interrupt the loop anywhere:
 *
 *	sfd = sample_signals_open();	first thing in main, before threads
 *	...
 *	corio_spawn(loop, sample_stop_on_signal__start(NULL, sfd, stop_fn,
 *						      server, &signo), &t);
 */
#ifndef SAMPLES_SHUTDOWN_H
#define SAMPLES_SHUTDOWN_H

#include <corio.h>
#include <corio/async.h>

/*
 * Block SIGINT and SIGTERM in the calling thread, and so in every thread
 * it creates afterwards (hence: call it first), and return a non-blocking
 * close-on-exec signalfd that reads them, or -errno.
 */
int sample_signals_open(void);

/* Stops whatever @arg is; called from the task that read signal @signo. */
typedef void (*sample_stop_fn)(void *arg, int signo);

/*
 * Async function: wait for SIGINT or SIGTERM on the signalfd @sfd, then
 * call @stop(@arg, signo) if @stop is not NULL.  Result: the signal number,
 * or -errno from reading @sfd.  Cancel the task to stop waiting.
 */
corio_async_decl(int, sample_stop_on_signal, ((int, sfd),
	(sample_stop_fn, stop), (void *, arg)));

/*
 * Block the calling thread (one that runs no loop: the main thread of a
 * server whose loops run on a runtime's threads) until SIGINT or SIGTERM
 * arrives on the signalfd @sfd.  Returns the signal number, or -errno.
 */
int sample_signals_wait(int sfd);

#endif /* SAMPLES_SHUTDOWN_H */
