/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/server.c - the task of one connection, and the
 * routes.  The accept task is common/service.c's.
 *
 * A connection is idle or busy.  Idle, its task borrows the first chunk
 * of the next request from the server's pool and holds its socket, reader
 * and parser state only.  The chunk makes it busy: it calls http_serve,
 * which takes the request and the receive and output buffers, and returns
 * once nothing is left to parse or send.  Memory thus follows the busy
 * connections, not the open ones (docs/design.md, "Memory per
 * connection").
 *
 * Stopping cancels the tasks rather than asking them to finish: a
 * connection may wait for a client that sends nothing.  A cancelled task
 * only runs its cleanup section, which cannot await, so it closes the
 * socket with close(2): nothing is in flight on it any more.
 */
#include <assert.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
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
		corio_await(self->n, corio_reader_read, self->c->rd,
			    self->c->in, HTTP_IN_BUF);
		self->total += self->n > 0 ? (size_t)self->n : 0;
	} while (self->n > 0 && self->total < LINGER_BYTES);
	corio_deadline_set(self->prev_deadline);
	corio_return(0);
corio_finally:
	corio_end();
}

/* Spare buffers kept for the next busy connection, at most (2.6 MiB). */
#define SPARE_MAX 64

/*
 * The buffers of a busy connection.  Not in http_serve's frame: frames
 * start zeroed, and a keep-alive connection goes idle between requests,
 * so every request would clear these 41 KiB (0.4 us here, for a GET
 * /hello that costs the server about 6 us).  Up to SPARE_MAX spare ones
 * wait on the server's list until the service stops.
 */
struct http_bufs {
	struct http_bufs *next;		/* in http_server.spare */
	struct http_request req;
	char in[HTTP_IN_BUF];
	char out[HTTP_OUT_BUF];
};

static struct http_bufs *bufs_get(struct http_server *srv)
{
	struct http_bufs *b = srv->spare;

	if (b) {
		srv->spare = b->next;
		srv->nspare--;
	} else {
		b = malloc(sizeof(*b));
	}
	return b;
}

static void bufs_put(struct http_server *srv, struct http_bufs *b)
{
	if (!b)
		return;
	/* Stopping: the list was or is about to be freed (close_pool). */
	if (srv->svc.stopping || srv->nspare == SPARE_MAX) {
		free(b);
		return;
	}
	b->next = srv->spare;
	srv->spare = b;
	srv->nspare++;
}

/*
 * Async function: serve the busy connection @c, starting with the bytes
 * lent in @chunk (released here), until it is idle again (result 1:
 * nothing left to parse, every answer sent) or must close (result 0).
 */
corio_async_static(int, http_serve, ((struct http_server *, srv),
				     (struct http_conn *, c),
				     (struct corio_buf *, chunk)), (
	struct http_bufs *b;
	int status;
	int r;
	bool linger;		/* we close first: drain before closing */
))
{
	corio_begin();
	self->b = bufs_get(self->srv);
	if (!self->b)
		corio_return(0);
	assert(self->chunk->len <= sizeof(self->b->in));
	memcpy(self->b->in, self->chunk->data, self->chunk->len);
	self->c->in = self->b->in;
	self->c->out = self->b->out;
	self->c->in_start = 0;
	self->c->in_end = (uint32_t)self->chunk->len;
	self->c->out_len = 0;
	corio_buf_release(self->chunk);
	for (;;) {
		corio_await(self->r, http_read_request, self->c, &self->b->req);
		if (self->r == HTTP_READ_IDLE)
			corio_return(1);
		if (self->r == 0)	/* the client closed */
			goto flush;
		if (self->r < 0)
			break;
		corio_await(self->r, http_route, self->srv, self->c,
			    &self->b->req);
		if (self->r < 0)	/* cannot answer any more */
			corio_return(0);
		if (!self->b->req.keep_alive)
			goto close_first;
	}
	/* A protocol error gets its status; I/O errors, idle timeouts and a
	 * client gone mid-request just close. */
	self->status = http_error_status(self->r);
	if (!self->status)
		corio_return(0);
	corio_await(self->r, http_reply_error, self->c, NULL, self->status,
		    NULL);
	if (self->r < 0)
		corio_return(0);
close_first:
	self->linger = true;
flush:
	if (self->c->out_len) {
		corio_await(self->r, http_flush, self->c);
		if (self->r < 0)
			corio_return(0);
	}
	if (self->linger)
		corio_await_discard(drain_peer, self->c);
	corio_return(0);
corio_finally:
	self->c->in = self->c->out = NULL;
	corio_buf_release(self->chunk);
	bufs_put(self->srv, self->b);
	corio_end();
}

/* Every idle connection holds this frame, and no other: it awaits the
 * reader itself rather than through a helper, whose frame would be 72
 * bytes more. */
corio_async_static(int, http_conn_task, ((struct http_server *, srv),
					 (int, fd)), (
	int closing;		/* the fd being closed */
	int r;
	int64_t prev_deadline;	/* while waiting idle */
	ssize_t n;
	struct sample_link link;	/* in the service's list */
	struct corio_buf chunk;	/* first bytes of a request, or empty */
	struct http_conn conn;
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
	if (corio_reader_open(&self->conn.rd, self->fd, self->srv->pool) < 0)
		goto out;
	do {
		self->prev_deadline = http_conn_arm_deadline(&self->conn);
		corio_await(self->n, corio_reader_borrow, self->conn.rd,
			    &self->chunk);
		corio_deadline_set(self->prev_deadline);
		/* Closed between requests, idle too long or failed: just
		 * close. */
		if (self->n <= 0)
			break;
		corio_await(self->r, http_serve, self->srv, &self->conn,
			    &self->chunk);
	} while (self->r > 0);
	/* Before the close: the reader's receive holds the socket. */
	corio_reader_close(self->conn.rd);
	self->conn.rd = NULL;
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
	corio_buf_release(&self->chunk);
	if (self->conn.rd)
		corio_reader_close(self->conn.rd);
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

/* In the accept task: the pool outlives it until its last reader. */
static int open_pool(void *arg)
{
	struct http_server *srv = arg;

	return corio_bufpool_create(&srv->pool, HTTP_POOL_BUFS,
				    HTTP_POOL_BUF);
}

static void close_pool(void *arg)
{
	struct http_server *srv = arg;
	struct http_bufs *b;

	while ((b = srv->spare)) {
		srv->spare = b->next;
		free(b);
	}
	srv->nspare = 0;
	corio_bufpool_destroy(srv->pool);
	srv->pool = NULL;
}

static const struct sample_service_ops http_ops = {
	.start_conn = start_conn,
	.open = open_pool,
	.close = close_pool,
	.name = "http service",
};

void http_server_init(struct http_server *srv, int listen_fd, int root_fd,
		      enum http_resolve_mode resolve, int64_t idle_ns)
{
	*srv = (struct http_server){ .root_fd = root_fd, .resolve = resolve,
				     .idle_ns = idle_ns };
	sample_service_init(&srv->svc, listen_fd, &http_ops, srv);
}
