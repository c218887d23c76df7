/* SPDX-License-Identifier: MIT */
/*
 * samples/common/echo.h - the echo service run by echo_server and demo: a
 * sample_service (common/service.h) whose connection tasks send back
 * whatever they receive until the peer closes.
 *
 *	struct echo_server srv;
 *
 *	echo_server_init(&srv, listen_fd);
 *	sample_service_start(&srv.svc, loop);	spawns the accept task
 *	... corio_loop_run(loop) ...		until sample_service_stop()
 *	sample_service_finish(&srv.svc);	the accept task's status
 */
#ifndef SAMPLES_ECHO_H
#define SAMPLES_ECHO_H

#include <corio.h>

#include "common/service.h"

/* Size of the pool's buffers, and of a connection's own receive buffer
 * on a backend without buffer rings (epoll). */
#define ECHO_BUF 4096

struct echo_server {
	struct sample_service svc;	/* accept task and connections */
	struct corio_bufpool *pool;	/* shared by the connections; made
					 * and destroyed by the accept task */
};

/* Set up @srv to serve on the listening socket @listen_fd (taken over). */
void echo_server_init(struct echo_server *srv, int listen_fd);

#endif /* SAMPLES_ECHO_H */
