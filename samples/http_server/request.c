/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/request.c - http_read_request(): the socket side of
 * reading requests.  Parsing is reader.c's, which never waits; here is
 * everything that does (recv, sending the responses and the 100
 * Continue), between calls to it, never inside one.
 */
#include <assert.h>
#include <string.h>

#include "http_server/http.h"

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

/*
 * Run the reader over the buffered bytes of @c.  Returns 1 when @req is
 * complete, 0 when every byte was taken and more are needed, or an HTTP_E*
 * error.
 */
static int feed(struct http_conn *c, struct http_request *req)
{
	uint32_t used;
	int r;

	assert(c->in_start <= c->in_end && c->in_end <= sizeof(c->in));
	r = http_reader_feed(&c->reader, req, c->in + c->in_start,
			     c->in_end - c->in_start, &used);
	if (r < 0)
		return r;
	assert(used <= c->in_end - c->in_start);
	c->in_start += used;
	/* Not complete: every byte was taken, and the callbacks copied
	 * what they need; the buffer is free for the next recv. */
	if (r == 0)
		c->in_start = c->in_end = 0;
	return r;
}

void http_conn_init(struct http_conn *c, int fd, int64_t idle_ns)
{
	c->fd = fd;
	c->idle_ns = idle_ns;
	c->in_start = c->in_end = c->out_len = 0;
	http_reader_init(&c->reader);
}

corio_async(int, http_read_request, ((struct http_conn *, c),
				     (struct http_request *, req)), (
	int64_t prev_deadline;	/* the caller's, while armed */
	bool armed;		/* our deadline is set */
	ssize_t n;
	int r;
	int flags;
))
{
	corio_begin();
	http_request_reset(self->req);
	for (;;) {
		if (self->c->in_start < self->c->in_end) {
			self->r = feed(self->c, self->req);
			if (self->r != 0)
				corio_return(self->r);
		}
		if (self->req->expect_continue) {
			self->req->expect_continue = false;
			if (http_out_room(self->c) < sizeof(continue_line)) {
				corio_await(self->r, http_flush, self->c);
				if (self->r < 0)
					corio_return(self->r);
			}
			memcpy(self->c->out + self->c->out_len, continue_line,
			       sizeof(continue_line) - 1);
			self->c->out_len += sizeof(continue_line) - 1;
		}
		/* About to wait for the client: it may be waiting for the
		 * answers to what it sent so far.  One send covers every
		 * request that was in the buffer. */
		self->flags = 0;
		if (self->c->out_len) {
			corio_await(self->r, http_flush, self->c);
			if (self->r < 0)
				corio_return(self->r);
			/* Its next request follows our answer: wait for
			 * data instead of trying first and failing. */
			self->flags = CORIO_RECV_POLL_FIRST;
		}
		/* The whole request must arrive within idle_ns of the first
		 * wait for it, so that a client sending a byte now and then
		 * cannot hold the connection forever. */
		if (!self->armed) {
			self->prev_deadline = corio_deadline_set(
				corio_now() + self->c->idle_ns);
			self->armed = true;
		}
		corio_await(self->n, corio_recv_retry, self->c->fd, self->c->in,
			    sizeof(self->c->in), self->flags);
		if (self->n <= 0)
			corio_return(self->n == 0 ?
				     http_reader_eof(&self->c->reader) :
				     (int)self->n);
		assert((size_t)self->n <= sizeof(self->c->in));
		self->c->in_start = 0;
		self->c->in_end = (uint32_t)self->n;
	}
corio_finally:
	/* On every way out, cancellation included. */
	if (self->armed)
		corio_deadline_set(self->prev_deadline);
	corio_end();
}
