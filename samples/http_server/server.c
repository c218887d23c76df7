/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/server.c - the task of one connection, and the
 * routes.  The accept task is common/service.c's.
 *
 * Stopping cancels the tasks rather than asking them to finish: a
 * connection may wait for a client that sends nothing.  A cancelled task
 * only runs its cleanup section, which cannot await, so it closes the
 * socket with close(2): nothing is in flight on it any more.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_server/http.h"

/* Closing while the client still sends: read and drop its bytes for at
 * most this long (and this much) first.  Closing a socket with unread
 * data sends a reset, which can destroy the answer before the client
 * read it: the 400 of a malformed request, say. */
#define LINGER_NS CORIO_MS(2000)
#define LINGER_BYTES (256 * 1024)

static const char hello[] = "Hello, world!\n";

/* ---------------------------------------------------------------------- */
/* Routes.                                                                */

static bool path_is(const struct http_request *req, const char *path)
{
	size_t n = strlen(path);

	return req->path.len == n &&
	       memcmp(http_str(req, req->path), path, n) == 0;
}

static bool get_or_head(const struct http_request *req)
{
	return req->method == HTTP_GET || req->method == HTTP_HEAD;
}

/*
 *	GET|HEAD /hello		"Hello, world!\n"
 *	POST /echo		the request body back
 *	GET|HEAD /...		a file under --root, when there is one
 */
corio_async(int, http_route, ((struct http_server *, srv),
			      (struct http_conn *, c),
			      (struct http_request *, req)), (
	int r;
))
{
	corio_begin();
	if (path_is(self->req, "/hello")) {
		if (!get_or_head(self->req))
			goto not_allowed;
		corio_await(self->r, http_reply, self->c, self->req, 200,
			    "text/plain", hello, sizeof(hello) - 1);
	} else if (path_is(self->req, "/echo")) {
		if (self->req->method != HTTP_POST) {
			corio_await(self->r, http_reply_error, self->c,
				    self->req, 405, "Allow: POST\r\n");
			corio_return(self->r);
		}
		corio_await(self->r, http_reply, self->c, self->req, 200,
			    "application/octet-stream",
			    http_str(self->req, self->req->body),
			    self->req->body.len);
	} else if (self->srv->root_fd >= 0) {
		if (!get_or_head(self->req))
			goto not_allowed;
		corio_await(self->r, http_serve_file, self->c, self->req,
			    self->srv->root_fd, self->srv->resolve);
	} else {
		corio_await(self->r, http_reply_error, self->c, self->req,
			    404, NULL);
	}
	corio_return(self->r);
not_allowed:
	corio_await(self->r, http_reply_error, self->c, self->req, 405,
		    "Allow: GET, HEAD\r\n");
	corio_return(self->r);
corio_finally:
	corio_end();
}

/* ---------------------------------------------------------------------- */
/* Connections.                                                           */

/*
 * Async function: the server closes first.  Send FIN, then drop what the
 * client still sends until it closes too (or LINGER_NS/LINGER_BYTES),
 * so that closing cannot reset the connection under the last answer.
 */
corio_async_static(int, drain_peer, ((struct http_conn *, c)), (
	int64_t prev_deadline;
	size_t total;
	ssize_t n;
))
{
	corio_begin();
	if (shutdown(self->c->fd, SHUT_WR) < 0)
		corio_return(0);
	self->prev_deadline = corio_deadline_set(corio_now() + LINGER_NS);
	do {
		corio_await(self->n, corio_recv_retry, self->c->fd, self->c->in,
			    sizeof(self->c->in), 0);
		self->total += self->n > 0 ? (size_t)self->n : 0;
	} while (self->n > 0 && self->total < LINGER_BYTES);
	corio_deadline_set(self->prev_deadline);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async_static(int, http_conn_task, ((struct http_server *, srv),
					 (int, fd)), (
	struct sample_link link;	/* in the service's list */
	struct http_conn conn;
	struct http_request req;
	int closing;		/* the fd being closed */
	int status;
	int r;
	bool linger;		/* we close first: drain before closing */
))
{
	corio_begin();
	if (!sample_service_enter(&self->srv->svc, &self->link))
		goto out;
	/* Answers leave as soon as they are complete, not when an ACK
	 * comes back (Nagle). */
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		   sizeof(int));
	http_conn_init(&self->conn, self->fd, self->srv->idle_ns);
	for (;;) {
		corio_await(self->r, http_read_request, &self->conn,
			    &self->req);
		if (self->r == 0)	/* the client closed */
			goto flush;
		if (self->r < 0)
			break;
		corio_await(self->r, http_route, self->srv, &self->conn,
			    &self->req);
		if (self->r < 0)	/* cannot answer any more */
			goto out;
		if (!self->req.keep_alive)
			goto close_first;
	}
	/* A protocol error gets its status; I/O errors, idle timeouts and a
	 * client gone mid-request just close. */
	self->status = http_error_status(self->r);
	if (!self->status)
		goto out;
	corio_await(self->r, http_reply_error, &self->conn, NULL,
		    self->status, NULL);
	if (self->r < 0)
		goto out;
close_first:
	self->linger = true;
flush:
	if (self->conn.out_len) {
		corio_await(self->r, http_flush, &self->conn);
		if (self->r < 0)
			goto out;
	}
	if (self->linger)
		corio_await_discard(drain_peer, &self->conn);
out:
	/* Forget the fd before awaiting its close: if the task is cancelled
	 * meanwhile, the cleanup section must not close the number again
	 * (it may belong to another file by then). */
	self->closing = self->fd;
	self->fd = -1;
	corio_await_discard(corio_close, self->closing);
	corio_return(0);
corio_finally:
	sample_service_leave(&self->link);
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

/* ---------------------------------------------------------------------- */
/* The service.                                                           */

static struct corio_frame *start_conn(void *arg, int fd)
{
	return http_conn_task__start(NULL, arg, fd, NULL);
}

static const struct sample_service_ops http_ops = {
	.start_conn = start_conn,
	.name = "http service",
};

void http_server_init(struct http_server *srv, int listen_fd, int root_fd,
		      enum http_resolve_mode resolve, int64_t idle_ns)
{
	*srv = (struct http_server){ .root_fd = root_fd, .resolve = resolve,
				     .idle_ns = idle_ns };
	sample_service_init(&srv->svc, listen_fd, &http_ops, srv);
}
