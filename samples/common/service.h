/* SPDX-License-Identifier: MIT */
/*
 * samples/common/service.h - a TCP service on one loop: an accept task
 * that spawns one detached task per connection and keeps the list of the
 * live ones, so that stopping can cancel them.  The echo service and the
 * HTTP server are both one, with their own connection task.
 *
 *	struct sample_service svc;
 *
 *	sample_service_init(&svc, listen_fd, &ops, arg);
 *	sample_service_start(&svc, loop);	spawns the accept task
 *	... corio_loop_run(loop) ...		until sample_service_stop()
 *	sample_service_finish(&svc);		the accept task's status
 *
 * A connection task calls sample_service_enter() first thing and
 * sample_service_leave() in its cleanup section, and owns its fd: it
 * closes it however it ends.
 */
#ifndef SAMPLES_SERVICE_H
#define SAMPLES_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <corio.h>

/* Links the live connections; in the connection task's frame. */
struct sample_link {
	struct sample_link *prev;
	struct sample_link *next;
	struct corio_task *task;	/* the connection's task; NULL in the
					 * list head and once it left */
};

struct sample_service_ops {
	/*
	 * The frame of the task that serves the accepted socket @fd (it
	 * owns @fd from then on), as f__start(NULL, ...) returns it: NULL
	 * when out of memory, then the service closes @fd.
	 */
	struct corio_frame *(*start_conn)(void *arg, int fd);
	/* Optional: run by the accept task before it accepts (on the
	 * loop's thread); a -errno ends the service with that status. */
	int (*open)(void *arg);
	/* Optional: run in the accept task's cleanup after a successful
	 * @open; cannot await. */
	void (*close)(void *arg);
	/* Accept through an acceptor (one multishot accept where the
	 * backend has it) rather than one corio_accept per connection. */
	bool multishot;
	/* Names the service's task in corio's reports (sample_serve_loops
	 * spawns one per loop). */
	const char *name;
};

struct sample_service {
	int listen_fd;			/* owned from sample_service_init on;
					 * the accept task closes it */
	bool stopping;			/* sample_service_stop was called */
	struct corio_task *accept_task;	/* reaped by sample_service_finish */
	struct corio_task *linked;	/* also cancelled by
					 * sample_service_stop (a signal
					 * watcher); may be NULL */
	struct sample_link conns;	/* head of the live connections */
	uint64_t accepted;		/* connections accepted so far */
	const struct sample_service_ops *ops;
	void *arg;			/* passed to the ops */
};

/* Set up @svc to serve on the listening socket @listen_fd. */
void sample_service_init(struct sample_service *svc, int listen_fd,
			 const struct sample_service_ops *ops, void *arg);

/*
 * Spawn the accept task on @loop.  Returns 0, or the -errno of
 * corio_spawn (then @listen_fd is closed).
 */
int sample_service_start(struct sample_service *svc, struct corio_loop *loop);

/*
 * Stop serving: cancel the accept task (it closes the listener), every
 * connection task and @svc->linked.  Returns at once: the tasks finish
 * when the loop next runs them.  Calling it again does nothing.
 */
void sample_service_stop(struct sample_service *svc);

/*
 * After the loop ran out of tasks: reap the accept task.  Returns 0 when
 * it ended by sample_service_stop, else the -errno that made it fail.
 */
int sample_service_finish(struct sample_service *svc);

/*
 * From a connection task, before its first await: put @l in the list of
 * live connections.  Returns false when the service is already stopping
 * (the stop could not cancel a task it did not know): close and end.
 */
bool sample_service_enter(struct sample_service *svc, struct sample_link *l);

/* From the connection task's cleanup: leave the list, if in it. */
void sample_service_leave(struct sample_link *l);

#endif /* SAMPLES_SERVICE_H */
