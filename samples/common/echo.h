/* SPDX-License-Identifier: MIT */
/*
 * samples/common/echo.h - the echo service run by echo_server and demo: an
 * accept task that spawns one detached task per connection, each sending
 * back whatever it receives until the peer closes.
 *
 *	struct echo_server srv;
 *
 *	echo_server_init(&srv, listen_fd);
 *	echo_server_start(&srv, loop);		spawns the accept task
 *	... corio_loop_run(loop) ...		until echo_server_stop()
 *	echo_server_finish(&srv);		the accept task's status
 */
#ifndef SAMPLES_ECHO_H
#define SAMPLES_ECHO_H

#include <stdbool.h>
#include <stdint.h>

#include <corio.h>

/* Receive buffer of a connection, in its frame. */
#define ECHO_BUF 4096

/* Links the live connections, so that stopping can cancel them. */
struct echo_link {
	struct echo_link *prev;
	struct echo_link *next;
	struct corio_task *task;	/* the connection's task; NULL in the
					 * list head */
};

struct echo_server {
	int listen_fd;			/* owned from echo_server_init on;
					 * the accept task closes it */
	bool stopping;			/* echo_server_stop was called */
	struct corio_task *accept_task;	/* reaped by echo_server_finish */
	struct corio_task *linked;	/* also cancelled by echo_server_stop
					 * (a signal watcher); may be NULL */
	struct echo_link conns;		/* head of the live connections */
	uint64_t accepted;		/* connections accepted so far */
};

/* Set up @srv to serve on the listening socket @listen_fd. */
void echo_server_init(struct echo_server *srv, int listen_fd);

/*
 * Spawn the accept task on @loop.  Returns 0, or the -errno of
 * corio_spawn (then @listen_fd is closed).
 */
int echo_server_start(struct echo_server *srv, struct corio_loop *loop);

/*
 * Stop serving: cancel the accept task (it closes the listener), every
 * connection task and @srv->linked.  Returns at once: the tasks finish
 * when the loop next runs them.  Calling it again does nothing.
 */
void echo_server_stop(struct echo_server *srv);

/*
 * After the loop ran out of tasks: reap the accept task.  Returns 0 when
 * it ended by echo_server_stop, else the -errno that made accept fail.
 */
int echo_server_finish(struct echo_server *srv);

#endif /* SAMPLES_ECHO_H */
