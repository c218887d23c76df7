/* SPDX-License-Identifier: MIT */
/*
 * samples/common/loops.h - run a server's sample_service until SIGINT or
 * SIGTERM: on a loop of the calling thread, or on N loops of a runtime,
 * each with a listener of its own on the same port (SO_REUSEPORT).
 *
 * Both print the one "listening on 127.0.0.1:PORT" line servers print at
 * start, prefix their error messages with @prog, and return the exit
 * status: 0 once every service stopped cleanly, else 1.
 */
#ifndef SAMPLES_LOOPS_H
#define SAMPLES_LOOPS_H

#include <stdint.h>

#include "common/service.h"

/*
 * Serve @svc (set up, not started; it owns its listener) on a loop of the
 * calling thread until a signal arrives on the signalfd @sfd.
 */
int sample_serve_one(const char *prog, struct sample_service *svc, int sfd);

/*
 * Set up the service of loop @i on the listener @listen_fd (taken over)
 * and return it; it lives until sample_serve_loops returns.
 */
typedef struct sample_service *(*sample_setup_fn)(void *arg, unsigned i,
						  int listen_fd);

/*
 * Serve on @nloops loops of a runtime, each loop with the service that
 * @setup(@arg, i, fd) made on a listener of its own bound to @port (0:
 * the port the kernel picks for the first).  The kernel spreads the
 * connections over the listeners, and a connection stays on the loop that
 * accepted it.  The calling thread runs no loop: it waits for a signal on
 * @sfd, then stops every service on its own loop's thread.
 */
int sample_serve_loops(const char *prog, unsigned nloops, uint16_t port,
		       int sfd, sample_setup_fn setup, void *arg);

#endif /* SAMPLES_LOOPS_H */
