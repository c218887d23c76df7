/* SPDX-License-Identifier: MIT */
/*
 * samples/common/loops.c - a service on one loop, or on several.
 *
 * On several loops the services share nothing: each has its own listener
 * and connections.  A service may only be touched from its own loop's
 * thread, so the main thread posts the stop to every loop;
 * corio_runtime_destroy() then waits for each loop's service task, and
 * each loop ends once its cancelled connections have unwound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <corio/async.h>
#include <corio/runtime.h>

#include "common/loops.h"
#include "common/net.h"
#include "common/shutdown.h"

/* The reason no loop could be made, as precise as the runtime says. */
static const char *loop_error(int err)
{
	return corio_loop_unavailable_reason()[0] ?
	       corio_loop_unavailable_reason() : corio_strerror(err);
}

static void stop_on_signal(void *arg, int signo)
{
	(void)signo;
	sample_service_stop(arg);
}

int sample_serve_one(const char *prog, struct sample_service *svc, int sfd)
{
	struct corio_task *watcher = NULL;
	struct corio_loop *loop;
	int ret, signo = 0, status = 1, lfd = svc->listen_fd;

	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", prog, loop_error(ret));
		close(svc->listen_fd);
		svc->listen_fd = -1;
		return 1;
	}
	ret = sample_service_start(svc, loop);
	if (ret == 0)
		ret = corio_spawn(loop,
			sample_stop_on_signal__start(NULL, sfd, stop_on_signal,
						     svc, &signo),
			&watcher);
	if (ret < 0) {
		fprintf(stderr, "%s: spawn: %s\n", prog, corio_strerror(ret));
		/* The accept task, if it exists, must end before destroy. */
		sample_service_stop(svc);
		corio_loop_run(loop);
		goto out_destroy;
	}
	svc->linked = watcher;
	printf("listening on 127.0.0.1:%d\n", sample_local_port(lfd));
	fflush(stdout);

	ret = corio_loop_run(loop);
	if (ret < 0) {
		fprintf(stderr, "%s: loop: %s\n", prog, corio_strerror(ret));
		goto out_destroy;
	}
	/* The watcher's status is -ECANCELED when accept failed first. */
	corio_task_reap(watcher, NULL);
	watcher = NULL;
	ret = sample_service_finish(svc);
	if (ret < 0)
		fprintf(stderr, "%s: accept: %s\n", prog, corio_strerror(ret));
	else
		status = 0;
out_destroy:
	if (watcher)
		corio_task_reap(watcher, NULL);
	sample_service_finish(svc);
	ret = corio_loop_destroy(loop);
	if (ret < 0) {
		fprintf(stderr, "%s: destroy: %s\n", prog,
			corio_strerror(ret));
		status = 1;
	}
	return status;
}

/* ---------------------------------------------------------------------- */
/* Several loops.                                                         */

struct loop_slot {
	struct sample_service *svc;	/* on its loop's thread only */
	int status;			/* 0, or why the service ended */
};

/*
 * The service of one loop: start it, then wait for its accept task,
 * which ends once sample_service_stop ran on this loop.  Joined here
 * rather than reaped by sample_service_finish: only a task can wait for
 * it.
 */
corio_async_static(void, serve, ((struct loop_slot *, ls)), (
	int status;
))
{
	corio_begin();
	self->ls->status = sample_service_start(self->ls->svc,
						corio_loop_current());
	if (self->ls->status < 0)
		corio_return_void();
	corio_await(self->status, corio_join, self->ls->svc->accept_task);
	self->ls->svc->accept_task = NULL;
	self->ls->status = self->status == -ECANCELED ? 0 : self->status;
corio_finally:
	corio_end();
}

static struct corio_frame *start_serve(void *arg)
{
	return serve__start(NULL, arg);
}

/* Posted to each loop: stop its service, on the thread that owns it. */
static void stop_service(void *arg)
{
	struct loop_slot *ls = arg;

	sample_service_stop(ls->svc);
}

int sample_serve_loops(const char *prog, unsigned nloops, uint16_t port,
		       int sfd, sample_setup_fn setup, void *arg)
{
	struct corio_runtime *rt;
	struct loop_slot *ls;
	unsigned i, opened = 0;
	int ret, status = 1;

	ls = calloc(nloops, sizeof(*ls));
	if (!ls) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	/* Every listener first: the port of the first (perhaps picked by
	 * the kernel) is the one the others bind. */
	for (i = 0; i < nloops; i++) {
		ret = sample_listen_tcp_shared(port);
		if (ret < 0) {
			fprintf(stderr, "%s: 127.0.0.1:%u: %s\n", prog, port,
				corio_strerror(ret));
			goto out_close;
		}
		ls[i].svc = setup(arg, i, ret);
		opened++;
		port = (uint16_t)sample_local_port(ret);
	}
	ret = corio_runtime_create(&rt, nloops, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", prog, loop_error(ret));
		goto out_close;
	}
	/* From here the services own the listeners. */
	opened = 0;
	for (i = 0; i < nloops; i++) {
		ret = corio_runtime_spawn(rt, (int)i, start_serve, &ls[i],
					  ls[i].svc->ops->name);
		if (ret < 0) {
			close(ls[i].svc->listen_fd);
			ls[i].svc->listen_fd = -1;
			ls[i].status = ret;
		}
	}
	printf("listening on 127.0.0.1:%u (%u loops)\n", port, nloops);
	fflush(stdout);
	ret = sample_signals_wait(sfd);
	if (ret < 0)
		fprintf(stderr, "%s: signalfd: %s\n", prog,
			corio_strerror(ret));
	for (i = 0; i < nloops; i++) {
		ret = corio_loop_post(corio_runtime_loop(rt, i), stop_service,
				      &ls[i]);
		/* -errno from the wake write: the stop is queued anyway. */
		if (ret == -ENOMEM) {
			fprintf(stderr, "%s: loop %u: cannot post the stop; "
				"stopping every task\n", prog, i);
			corio_runtime_stop(rt);
		}
	}
	ret = corio_runtime_destroy(rt);
	if (ret < 0) {
		fprintf(stderr, "%s: runtime: %s\n", prog,
			corio_strerror(ret));
		goto out_close;
	}
	status = 0;
	for (i = 0; i < nloops; i++) {
		if (ls[i].status < 0) {
			fprintf(stderr, "%s: loop %u: %s\n", prog, i,
				corio_strerror(ls[i].status));
			status = 1;
		}
	}
out_close:
	for (i = 0; i < opened; i++)
		close(ls[i].svc->listen_fd);
	free(ls);
	return status;
}
