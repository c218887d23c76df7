/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/request.c - http_parser's callbacks turned into one
 * awaitable call, http_read_request().
 *
 * The callbacks run inside http_parser_execute(), synchronously, and only
 * record: they copy the pieces they are handed into the request and
 * return.  On on_message_complete they pause the parser, so that
 * http_parser_execute() returns right after the request's last byte and
 * leaves the next pipelined request in the receive buffer for the next
 * call.  Everything that waits (recv, sending the responses) happens in
 * http_read_request, between calls to the parser, never inside one.
 */
#include <string.h>
#include <strings.h>

#include "http_server/http.h"

/* http_request.last: the callback that ran last, to tell a new header
 * line from the continuation of a split one. */
enum { LAST_NONE, LAST_URL, LAST_FIELD, LAST_VALUE };

#define CONTINUE_TOKEN "100-continue"
static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static struct http_request *req_of(http_parser *p)
{
	return p->data;
}

/*
 * Append @len bytes to @s, the piece of @req->text being assembled
 * (always its last one: a piece's callbacks come one after another).  A
 * piece growing past @max stops the parser with @err.
 */
static int append(struct http_request *req, struct http_slice *s,
		  const char *at, size_t len, uint32_t max, int err)
{
	if (len > max - s->len) {
		req->err = err;
		return -1;
	}
	if (s->len == 0)
		s->off = req->used;
	memcpy(req->text + req->used, at, len);
	req->used += (uint32_t)len;
	s->len += (uint32_t)len;
	return 0;
}

/* Room left for the head (URL and headers) of @req. */
static uint32_t head_room(const struct http_request *req)
{
	return HTTP_HEAD_MAX - req->used;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);

	req->last = LAST_URL;
	return append(req, &req->url, at, len, HTTP_URL_MAX, HTTP_EURL);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);
	struct http_header *h;

	if (req->last != LAST_FIELD) {
		if (req->nheaders == HTTP_HEADERS_MAX) {
			req->err = HTTP_EHEAD;
			return -1;
		}
		req->headers[req->nheaders++] = (struct http_header){ 0 };
		req->last = LAST_FIELD;
	}
	h = &req->headers[req->nheaders - 1];
	if (len > head_room(req)) {
		req->err = HTTP_EHEAD;
		return -1;
	}
	return append(req, &h->name, at, len, HTTP_HEAD_MAX, HTTP_EHEAD);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);

	req->last = LAST_VALUE;
	if (len > head_room(req)) {
		req->err = HTTP_EHEAD;
		return -1;
	}
	return append(req, &req->headers[req->nheaders - 1].value, at, len,
		      HTTP_HEAD_MAX, HTTP_EHEAD);
}

/* The whole head is in: take the method and version, split the target. */
static int on_headers_complete(http_parser *p)
{
	struct http_request *req = req_of(p);
	struct http_parser_url u;
	const char *expect;
	uint32_t len;
	bool http11;

	req->method = p->method;
	req->major = p->http_major;
	req->minor = p->http_minor;
	http11 = req->major > 1 || (req->major == 1 && req->minor >= 1);
	http_parser_url_init(&u);
	if (http_parser_parse_url(http_str(req, req->url), req->url.len,
				  p->method == HTTP_CONNECT, &u) != 0) {
		req->err = HTTP_EBADREQ;
		return -1;	/* not 1 or 2, which mean "skip the body" */
	}
	if (u.field_set & (1u << UF_PATH)) {
		req->path.off = req->url.off + u.field_data[UF_PATH].off;
		req->path.len = u.field_data[UF_PATH].len;
	}
	/* HTTP/1.1 requires Host (RFC 9112, 3.2). */
	if (http11 && !http_header_get(req, "host", &len)) {
		req->err = HTTP_EBADREQ;
		return -1;
	}
	/* Refuse a body that cannot fit before it is sent. */
	if ((p->flags & F_CONTENTLENGTH) &&
	    p->content_length > HTTP_BODY_MAX) {
		req->err = HTTP_EBODY;
		return -1;
	}
	/* The client waits for a 100 before sending its body (1.1 only):
	 * http_read_request sends it before waiting for the body. */
	expect = http_header_get(req, "expect", &len);
	req->expect_continue = expect && http11 &&
			       len == sizeof(CONTINUE_TOKEN) - 1 &&
			       strncasecmp(expect, CONTINUE_TOKEN, len) == 0 &&
			       ((p->flags & F_CHUNKED) ||
				((p->flags & F_CONTENTLENGTH) &&
				 p->content_length > 0));
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);

	return append(req, &req->body, at, len, HTTP_BODY_MAX, HTTP_EBODY);
}

static int on_message_complete(http_parser *p)
{
	struct http_request *req = req_of(p);

	req->complete = true;
	/* After an upgrade (or CONNECT), what follows is another protocol,
	 * which this server does not speak. */
	req->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	/* Stop right after this request: the bytes behind it are the next
	 * request, for the next http_read_request. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/*
 * Run the parser over the buffered bytes of @c.  Returns 1 when @req is
 * complete, 0 when every byte was taken and more are needed, or an HTTP_E*
 * error.
 */
static int feed(struct http_conn *c, struct http_request *req)
{
	size_t len = c->in_end - c->in_start, n;
	enum http_errno e;

	c->parser.data = req;
	n = http_parser_execute(&c->parser, &settings, c->in + c->in_start,
				len);
	c->in_start += (uint32_t)n;
	e = HTTP_PARSER_ERRNO(&c->parser);
	if (e == HPE_PAUSED && req->complete) {
		http_parser_pause(&c->parser, 0);
		return 1;
	}
	if (e != HPE_OK)
		return req->err ? req->err : HTTP_EBADREQ;
	if (n != len)
		return HTTP_EBADREQ;
	/* The parser keeps the request's state, and the callbacks copied
	 * its pieces: the buffer is free for the next recv. */
	c->in_start = c->in_end = 0;
	return 0;
}

/* The peer closed: fine between requests, not inside one. */
static int at_eof(struct http_conn *c)
{
	http_parser_execute(&c->parser, &settings, NULL, 0);
	return HTTP_PARSER_ERRNO(&c->parser) == HPE_OK ? 0 : -ECONNABORTED;
}

static void request_reset(struct http_request *req)
{
	req->complete = false;
	req->keep_alive = false;
	req->expect_continue = false;
	req->last = LAST_NONE;
	req->err = 0;
	req->url = req->path = req->body = (struct http_slice){ 0 };
	req->nheaders = 0;
	req->used = 0;
}

void http_conn_init(struct http_conn *c, int fd, int64_t idle_ns)
{
	c->fd = fd;
	c->idle_ns = idle_ns;
	c->in_start = c->in_end = c->out_len = 0;
	http_parser_init(&c->parser, HTTP_REQUEST);
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
	request_reset(self->req);
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
			corio_return(self->n == 0 ? at_eof(self->c) :
				     (int)self->n);
		self->c->in_start = 0;
		self->c->in_end = (uint32_t)self->n;
	}
corio_finally:
	/* On every way out, cancellation included. */
	if (self->armed)
		corio_deadline_set(self->prev_deadline);
	corio_end();
}

int http_error_status(int err)
{
	switch (err) {
	case HTTP_EBADREQ:
		return 400;
	case HTTP_EBODY:
		return 413;
	case HTTP_EURL:
		return 414;
	case HTTP_EHEAD:
		return 431;
	default:
		return 0;
	}
}

const char *http_header_get(const struct http_request *req, const char *name,
			    uint32_t *len)
{
	size_t n = strlen(name);
	unsigned i;

	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (h->name.len == n &&
		    strncasecmp(http_str(req, h->name), name, n) == 0) {
			*len = h->value.len;
			return http_str(req, h->value);
		}
	}
	return NULL;
}
