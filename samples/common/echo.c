/* SPDX-License-Identifier: MIT */
/*
 * samples/common/echo.c - the echo service: a sample_service (service.c)
 * whose connection tasks echo what they receive.
 *
 * The service takes connections from an acceptor (one multishot
 * accept) and every connection reads through a buffer pool shared by all
 * of them (one multishot recv each): the kernel picks a buffer as data
 * arrives, the connection sends straight from it and gives it back.  On a
 * backend without multishot operations both fall back to one accept or
 * recv per message, the recv into a buffer allocated once data is there:
 * an idle connection holds no buffer on either path.
 *
 * A cancelled connection only runs its cleanup section, where nothing can
 * be awaited, so it closes its socket with close(2) there.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>

#include "common/echo.h"

/* The pool shared by every connection: 1 MiB, whatever their number (a
 * connection holds a buffer only between a receive and its echo).  256
 * buffers measured cheaper than 1024 at 500 connections: the kernel picks
 * buffers in turn, and fewer of them stay in the cache. */
#define POOL_BUFS 256
#define POOL_BUF_SIZE ECHO_BUF

/* Every idle connection holds this frame: @closing first fills the hole
 * after @fd (docs/design.md, "Memory per connection"). */
corio_async_static(int, echo_conn, ((struct echo_server *, srv),
				    (int, fd)), (
	int closing;		/* the fd being closed */
	struct sample_link link;	/* in the service's list */
	struct corio_reader *rd;
	struct corio_buf b;	/* borrowed from the pool, or empty */
	ssize_t n;
))
{
	corio_begin();
	if (!sample_service_enter(&self->srv->svc, &self->link))
		goto out;
	/* Echo each piece at once rather than wait for an ACK to merge it
	 * with the next one (Nagle). */
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		   sizeof(int));
	if (corio_reader_open(&self->rd, self->fd, self->srv->pool) < 0)
		goto out;
	for (;;) {
		/* Echo straight from the received buffer, then return it. */
		corio_await(self->n, corio_reader_borrow, self->rd, &self->b);
		if (self->n <= 0)	/* the peer closed, or reset */
			break;
		corio_await(self->n, corio_send_all, self->fd, self->b.data,
			    self->b.len, 0);
		corio_buf_release(&self->b);
		if (self->n < 0)
			break;
	}
	/* Before the close: the reader's receive holds the socket. */
	corio_reader_close(self->rd);
	self->rd = NULL;
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
	corio_buf_release(&self->b);
	if (self->rd)
		corio_reader_close(self->rd);
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}

static struct corio_frame *start_conn(void *arg, int fd)
{
	struct echo_server *srv = arg;

	return echo_conn__start(NULL, srv, fd, NULL);
}

/* In the accept task: the pool outlives it until its last reader. */
static int open_pool(void *arg)
{
	struct echo_server *srv = arg;

	return corio_bufpool_create(&srv->pool, POOL_BUFS, POOL_BUF_SIZE);
}

static void close_pool(void *arg)
{
	struct echo_server *srv = arg;

	corio_bufpool_destroy(srv->pool);
	srv->pool = NULL;
}

static const struct sample_service_ops echo_ops = {
	.start_conn = start_conn,
	.open = open_pool,
	.close = close_pool,
	.multishot = true,
	.name = "echo service",
};

void echo_server_init(struct echo_server *srv, int listen_fd)
{
	*srv = (struct echo_server){ .pool = NULL };
	sample_service_init(&srv->svc, listen_fd, &echo_ops, srv);
}
