/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/loops.c - the server on several loops (--loops N).
 *
 * A runtime runs N loops on N threads.  Each loop has a struct http_server
 * of its own on a listener of its own, all bound to the same port with
 * SO_REUSEPORT: the kernel spreads the connections over the listeners,
 * and a connection stays on the loop that accepted it, so the loops share
 * nothing but the root directory's descriptor (read-only).
 *
 * The main thread runs no loop: it waits for SIGINT or SIGTERM, then posts
 * http_server_stop to every loop, since a server may only be touched from
 * its own loop's thread.  corio_runtime_destroy() then waits for each
 * loop's service task, and each loop ends once its cancelled connections
 * have unwound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <corio/runtime.h>

#include "common/net.h"
#include "common/shutdown.h"
#include "http_server/http.h"

struct loop_service {
	struct http_server srv;		/* on its loop's thread only */
	int status;			/* 0, or why the service ended */
};

/*
 * The service of one loop: start the server, then wait for its accept
 * task, which ends once http_server_stop ran on this loop.  Joined here
 * rather than reaped by http_server_finish: only a task can wait for it.
 */
corio_async_static(void, serve, ((struct loop_service *, ls)), (
	int status;
))
{
	corio_begin();
	self->ls->status = http_server_start(&self->ls->srv,
					     corio_loop_current());
	if (self->ls->status < 0)
		corio_return_void();
	corio_await(self->status, corio_join, self->ls->srv.accept_task);
	self->ls->srv.accept_task = NULL;
	self->ls->status = self->status == -ECANCELED ? 0 : self->status;
corio_finally:
	corio_end();
}

static struct corio_frame *start_serve(void *arg)
{
	return serve__start(NULL, arg);
}

/* Posted to each loop: stop its server, on the thread that owns it. */
static void stop_service(void *arg)
{
	struct loop_service *ls = arg;

	http_server_stop(&ls->srv);
}

int http_serve_loops(unsigned nloops, uint16_t port, int root_fd, int sfd,
		     int64_t idle_ns)
{
	struct loop_service *ls;
	struct corio_runtime *rt;
	unsigned i, opened = 0;
	int ret, status = 1;

	ls = calloc(nloops, sizeof(*ls));
	if (!ls) {
		fprintf(stderr, "http_server: out of memory\n");
		return 1;
	}
	/* Every listener first: the port of the first (perhaps picked by
	 * the kernel) is the one the others bind. */
	for (i = 0; i < nloops; i++) {
		ret = http_listen(port, true);
		if (ret < 0) {
			fprintf(stderr, "http_server: 127.0.0.1:%u: %s\n",
				port, corio_strerror(ret));
			goto out_close;
		}
		http_server_init(&ls[i].srv, ret, root_fd, idle_ns);
		opened++;
		port = (uint16_t)sample_local_port(ret);
	}
	ret = corio_runtime_create(&rt, nloops, NULL);
	if (ret < 0) {
		fprintf(stderr, "http_server: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		goto out_close;
	}
	/* From here the services own the listeners. */
	opened = 0;
	for (i = 0; i < nloops; i++) {
		ret = corio_runtime_spawn(rt, (int)i, start_serve, &ls[i],
					  "http service");
		if (ret < 0) {
			close(ls[i].srv.listen_fd);
			ls[i].srv.listen_fd = -1;
			ls[i].status = ret;
		}
	}
	printf("listening on 127.0.0.1:%u (%u loops)\n", port, nloops);
	fflush(stdout);
	ret = sample_signals_wait(sfd);
	if (ret < 0)
		fprintf(stderr, "http_server: signalfd: %s\n",
			corio_strerror(ret));
	for (i = 0; i < nloops; i++) {
		ret = corio_loop_post(corio_runtime_loop(rt, i), stop_service,
				      &ls[i]);
		/* -errno from the wake write: the stop is queued anyway. */
		if (ret == -ENOMEM) {
			fprintf(stderr, "http_server: loop %u: cannot post "
				"the stop; stopping every task\n", i);
			corio_runtime_stop(rt);
		}
	}
	ret = corio_runtime_destroy(rt);
	if (ret < 0) {
		fprintf(stderr, "http_server: runtime: %s\n",
			corio_strerror(ret));
		goto out_close;
	}
	status = 0;
	for (i = 0; i < nloops; i++) {
		if (ls[i].status < 0) {
			fprintf(stderr, "http_server: loop %u: %s\n", i,
				corio_strerror(ls[i].status));
			status = 1;
		}
	}
out_close:
	for (i = 0; i < opened; i++)
		close(ls[i].srv.listen_fd);
	free(ls);
	return status;
}
