/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/response.c - response heads and the output buffer.
 *
 * Responses are appended to the connection's output buffer and leave in
 * one send when the connection is about to wait for the client (see
 * http_read_request): pipelined requests get their answers in one
 * segment, and a small file leaves together with its head.  Heads are
 * assembled with memcpy rather than snprintf: this is the hot path.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_server/http.h"

#define SERVER_NAME "corio"

/* The Date header's value, formatted at most once a second (per thread:
 * each loop runs on its own). */
static _Thread_local struct {
	time_t when;
	char text[40];
	size_t len;
} date_cache;

static const char *http_date(size_t *len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != date_cache.when || !date_cache.len) {
		gmtime_r(&now, &tm);
		/* The C locale's names are the ones RFC 9110 requires. */
		date_cache.len = strftime(date_cache.text,
					  sizeof(date_cache.text),
					  "%a, %d %b %Y %H:%M:%S GMT", &tm);
		date_cache.when = now;
	}
	*len = date_cache.len;
	return date_cache.text;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put(p, lit, sizeof(lit) - 1)

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(p, tmp + sizeof(tmp) - n, n);
}

int http_put_head(struct http_conn *c, const struct http_request *req,
		  int status, const char *ctype, uint64_t length,
		  const char *extra)
{
	size_t extra_len = extra ? strlen(extra) : 0, n;
	const char *s;
	char *p;

	/* HTTP_HEAD_ROOM covers the fixed lines, the reason phrase and a
	 * content type; @extra comes on top. */
	if (http_out_room(c) < HTTP_HEAD_ROOM ||
	    extra_len > http_out_room(c) - HTTP_HEAD_ROOM)
		return -ENOBUFS;
	p = c->out + c->out_len;
	p = PUT_LIT(p, "HTTP/1.1 ");
	p = put_u64(p, (uint64_t)status);
	*p++ = ' ';
	s = http_status_str((enum http_status)status);
	p = put(p, s, strlen(s));
	p = PUT_LIT(p, "\r\nServer: " SERVER_NAME "\r\nDate: ");
	s = http_date(&n);
	p = put(p, s, n);
	if (ctype) {
		p = PUT_LIT(p, "\r\nContent-Type: ");
		p = put(p, ctype, strlen(ctype));
	}
	p = PUT_LIT(p, "\r\nContent-Length: ");
	p = put_u64(p, length);
	p = PUT_LIT(p, "\r\n");
	if (extra)
		p = put(p, extra, extra_len);
	/* HTTP/1.1 keeps the connection unless told; 1.0 closes unless
	 * told. */
	if (!req || !req->keep_alive)
		p = PUT_LIT(p, "Connection: close\r\n");
	else if (req->major == 1 && req->minor == 0)
		p = PUT_LIT(p, "Connection: keep-alive\r\n");
	p = PUT_LIT(p, "\r\n");
	c->out_len = (uint32_t)(p - c->out);
	return 0;
}

/*
 * Async function: send @len bytes at @buf on @c.  A client that reads
 * nothing for @c->idle_ns gets dropped, as one that sends nothing does:
 * the send fails with -ETIME.  Result: 0 or -errno.
 */
corio_async_static(int, send_idle, ((struct http_conn *, c),
				    (const char *, buf), (size_t, len)), (
	int64_t prev_deadline;
	ssize_t n;
))
{
	corio_begin();
	self->prev_deadline = corio_deadline_set(corio_now() +
						 self->c->idle_ns);
	corio_await(self->n, corio_send_all, self->c->fd, self->buf,
		    self->len, 0);
	corio_deadline_set(self->prev_deadline);
	corio_return(self->n < 0 ? (int)self->n : 0);
corio_finally:
	corio_end();
}

corio_async(int, http_flush, ((struct http_conn *, c)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, send_idle, self->c, self->c->out,
		    self->c->out_len);
	if (self->r == 0)
		self->c->out_len = 0;
	corio_return(self->r);
corio_finally:
	corio_end();
}

/* Whether a response to @req carries no body. */
static bool bodiless(const struct http_request *req, int status)
{
	return (req && req->method == HTTP_HEAD) || status == 204 ||
	       status == 304 || status < 200;
}

corio_async(int, http_reply, ((struct http_conn *, c),
			      (const struct http_request *, req),
			      (int, status), (const char *, ctype),
			      (const char *, body), (size_t, len)), (
	int r;
))
{
	corio_begin();
	if (http_out_room(self->c) < HTTP_HEAD_ROOM) {
		corio_await(self->r, http_flush, self->c);
		if (self->r < 0)
			corio_return(self->r);
	}
	http_put_head(self->c, self->req, self->status, self->ctype,
		      self->len, NULL);
	if (bodiless(self->req, self->status))
		corio_return(0);
	if (self->len <= http_out_room(self->c)) {
		memcpy(self->c->out + self->c->out_len, self->body,
		       self->len);
		self->c->out_len += (uint32_t)self->len;
		corio_return(0);
	}
	/* Too big to copy: the head first, then the body from where it
	 * is. */
	corio_await(self->r, http_flush, self->c);
	if (self->r < 0)
		corio_return(self->r);
	corio_await(self->r, send_idle, self->c, self->body, self->len);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, http_reply_error, ((struct http_conn *, c),
				    (const struct http_request *, req),
				    (int, status), (const char *, extra)), (
	char page[64];
	int len;
	int r;
))
{
	corio_begin();
	self->len = snprintf(self->page, sizeof(self->page), "%d %s\n",
			     self->status,
			     http_status_str((enum http_status)self->status));
	/* snprintf counts what did not fit too: never copy past page. */
	if (self->len < 0 || (size_t)self->len >= sizeof(self->page))
		self->len = (int)sizeof(self->page) - 1;
	if (http_out_room(self->c) < HTTP_HEAD_ROOM + strlen(self->extra ?
							self->extra : "") +
				      sizeof(self->page)) {
		corio_await(self->r, http_flush, self->c);
		if (self->r < 0)
			corio_return(self->r);
	}
	http_put_head(self->c, self->req, self->status, "text/plain",
		      (uint64_t)self->len, self->extra);
	if (!bodiless(self->req, self->status)) {
		memcpy(self->c->out + self->c->out_len, self->page,
		       (size_t)self->len);
		self->c->out_len += (uint32_t)self->len;
	}
	corio_return(0);
corio_finally:
	corio_end();
}
