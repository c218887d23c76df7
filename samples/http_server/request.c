/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/request.c - http_read_request(): the socket side of
 * reading requests.  Parsing is reader.c's, which never waits; here is
 * everything that does (receiving, sending the responses and the 100
 * Continue), between calls to it, never inside one.
 *
 * Bytes come through a corio_reader: a multishot receive into the
 * server's pool where the kernel has buffer rings, one recv per read
 * otherwise.  http_read_request copies them into the buffers of a busy
 * connection; an idle one borrows the first chunk of its next request
 * from the pool instead (server.c), and so needs no buffer of its own.
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

	assert(c->in && c->in_start <= c->in_end && c->in_end <= HTTP_IN_BUF);
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
	*c = (struct http_conn){ .fd = fd, .idle_ns = idle_ns,
				 .wait_since = -1 };
	http_reader_init(&c->reader);
}

/* The whole request must arrive within idle_ns of the first wait for it,
 * so that a client sending a byte now and then cannot hold the
 * connection forever. */
int64_t http_conn_arm_deadline(struct http_conn *c)
{
	if (c->wait_since < 0)
		c->wait_since = corio_now();
	return corio_deadline_set(c->wait_since + c->idle_ns);
}

corio_async(int, http_read_request, ((struct http_conn *, c),
				     (struct http_request *, req)), (
	int64_t prev_deadline;	/* the caller's, while armed */
	bool armed;		/* our deadline is set */
	ssize_t n;
	int r;
))
{
	corio_begin();
	http_request_reset(self->req);
	for (;;) {
		if (self->c->in_start < self->c->in_end) {
			self->r = feed(self->c, self->req);
			/* The next request's wait has not begun. */
			if (self->r > 0)
				self->c->wait_since = -1;
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
		if (self->c->out_len) {
			corio_await(self->r, http_flush, self->c);
			if (self->r < 0)
				corio_return(self->r);
		}
		/* Nothing of a next request yet: the caller waits for it
		 * without the buffers, not here. */
		if (http_framing_is_idle(&self->c->reader.fr))
			corio_return(HTTP_READ_IDLE);
		if (!self->armed) {
			self->prev_deadline = http_conn_arm_deadline(self->c);
			self->armed = true;
		}
		corio_await(self->n, corio_reader_read, self->c->rd,
			    self->c->in, HTTP_IN_BUF);
		if (self->n <= 0)
			corio_return(self->n == 0 ?
				     http_reader_eof(&self->c->reader) :
				     (int)self->n);
		assert((size_t)self->n <= HTTP_IN_BUF);
		self->c->in_start = 0;
		self->c->in_end = (uint32_t)self->n;
	}
corio_finally:
	/* On every way out, cancellation included. */
	if (self->armed)
		corio_deadline_set(self->prev_deadline);
	corio_end();
}
