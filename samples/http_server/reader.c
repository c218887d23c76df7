/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/reader.c - the parsing core: http_parser's
 * callbacks and the strict framing check (framing.c) over the same
 * bytes, without sockets.
 *
 * The callbacks run inside http_parser_execute(), synchronously, and only
 * record: they copy the pieces they are handed into the request and
 * return.  On on_message_complete they pause the parser, so that
 * http_parser_execute() returns right after the request's last byte and
 * leaves the next pipelined request for the next call.
 *
 * http_reader_feed() hands the parser exactly the bytes the framing check
 * accepted, in runs that end where the check says the head or the request
 * ends; at each such point the parser must have reached the same place.
 * Two readings of one byte stream are how requests get smuggled, so a
 * disagreement is a 400, never a guess.
 *
 * Copies into http_request.text: every one goes through head_append() or
 * body_append(), whose bounds are computed as "room = end - used" with
 * used <= end asserted, and compared in size_t: nothing can wrap.
 */
#include <assert.h>
#include <string.h>
#include <strings.h>

#include "http_server/http.h"

/* http_request.last: the callback that ran last, to tell a new header
 * line from the continuation of a split one. */
enum { LAST_NONE, LAST_URL, LAST_FIELD, LAST_VALUE };

#define CONTINUE_TOKEN "100-continue"
#define CHUNKED_TOKEN "chunked"

static struct http_request *req_of(http_parser *p)
{
	return p->data;
}

static int fail(struct http_request *req, int err)
{
	if (!req->err)
		req->err = err;
	return -1;
}

/*
 * Append @len bytes to @s, the piece of the head being assembled (always
 * the last one: a piece's callbacks come one after another).  The piece
 * may not grow past @max, nor the head past HTTP_HEAD_MAX: either stops
 * the parser with @err.
 */
static int head_append(struct http_request *req, struct http_slice *s,
		       const char *at, size_t len, uint32_t max, int err)
{
	size_t room;

	assert(req->head_used <= HTTP_HEAD_MAX);
	assert(s->len <= max);
	room = HTTP_HEAD_MAX - req->head_used;
	if (len > room || len > max - s->len)
		return fail(req, err);
	if (len == 0)
		return 0;
	if (s->len == 0)
		s->off = req->head_used;
	/* The piece is the last one in the head: it grows in place. */
	assert(s->off + s->len == req->head_used);
	assert(req->head_used + len <= HTTP_HEAD_MAX);
	memcpy(req->text + req->head_used, at, len);
	req->head_used += (uint32_t)len;
	s->len += (uint32_t)len;
	return 0;
}

/* Append @len bytes to the body; beyond HTTP_BODY_MAX, 413. */
static int body_append(struct http_request *req, const char *at, size_t len)
{
	assert(req->body.off == HTTP_HEAD_MAX);
	assert(req->body.len <= HTTP_BODY_MAX);
	if (len > HTTP_BODY_MAX - req->body.len)
		return fail(req, HTTP_EBODY);
	assert(HTTP_HEAD_MAX + req->body.len + len <= sizeof(req->text));
	memcpy(req->text + HTTP_HEAD_MAX + req->body.len, at, len);
	req->body.len += (uint32_t)len;
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_request *req = req_of(p);

	/* One request per reset: a second would mix into this one. */
	if (req->last != LAST_NONE || req->head_done)
		return fail(req, HTTP_EBADREQ);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);

	req->last = LAST_URL;
	return head_append(req, &req->url, at, len, HTTP_URL_MAX, HTTP_EURL);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);
	struct http_header *h;

	/* Trailer fields (after a chunked body) are checked by the framing
	 * and dropped: none of them may change how the request is read. */
	if (req->head_done)
		return 0;
	if (req->last != LAST_FIELD) {
		if (req->nheaders == HTTP_HEADERS_MAX)
			return fail(req, HTTP_EHEAD);
		req->headers[req->nheaders++] = (struct http_header){ 0 };
		req->last = LAST_FIELD;
	}
	h = &req->headers[req->nheaders - 1];
	return head_append(req, &h->name, at, len, HTTP_HEAD_MAX, HTTP_EHEAD);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);

	if (req->head_done)
		return 0;
	/* A value always follows its name. */
	if (req->nheaders == 0 || (req->last != LAST_FIELD &&
				   req->last != LAST_VALUE))
		return fail(req, HTTP_EBADREQ);
	req->last = LAST_VALUE;
	return head_append(req, &req->headers[req->nheaders - 1].value, at,
			   len, HTTP_HEAD_MAX, HTTP_EHEAD);
}

/* @s (@len bytes) without the blanks around it. */
static const char *trim(const char *s, uint32_t *len)
{
	while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	while (*len && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	return s;
}

static bool token_is(const char *s, uint32_t len, const char *token)
{
	return len == strlen(token) && strncasecmp(s, token, len) == 0;
}

/*
 * Check the Transfer-Encoding lines of @req (RFC 9112 6.1, 6.3): only
 * "chunked", once, is understood.  Returns 0 (none, or exactly chunked),
 * HTTP_EBADREQ (chunked not last, or twice: the length cannot be known;
 * or Transfer-Encoding on HTTP/1.0, which had none), or HTTP_ECODING
 * (another coding before chunked: 501).
 */
static int check_transfer_encoding(const struct http_request *req,
				   bool *chunked)
{
	bool last_chunked = false, seen = false, other = false;
	uint32_t i, len, n;
	const char *v, *item;
	int chunks = 0;

	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (!token_is(http_str(req, h->name), h->name.len,
			      "transfer-encoding"))
			continue;
		v = http_str(req, h->value);
		len = h->value.len;
		while (len) {
			/* One list element, up to the next comma. */
			for (n = 0; n < len && v[n] != ','; n++)
				;
			item = v;
			v += n < len ? n + 1 : n;
			len -= n < len ? n + 1 : n;
			item = trim(item, &n);
			if (n == 0)	/* empty elements do not count */
				continue;
			seen = true;
			last_chunked = token_is(item, n, CHUNKED_TOKEN);
			if (last_chunked)
				chunks++;
			else
				other = true;
		}
		seen = true;
	}
	*chunked = false;
	if (!seen)
		return 0;
	if (req->major == 1 && req->minor == 0)
		return HTTP_EBADREQ;
	if (!last_chunked || chunks > 1)
		return HTTP_EBADREQ;
	if (other)
		return HTTP_ECODING;
	*chunked = true;
	return 0;
}

/*
 * Whether the Host value @s (@len bytes) can be uri-host [":" port] (RFC
 * 3986 3.2.2): reg-name, IPv4 or "[...]" characters only.  No space, "/",
 * "@", "?" or "#": such a value names a different server to whoever
 * splits it another way.
 */
static bool host_value_ok(const char *s, uint32_t len)
{
	uint32_t i;
	char ch;

	s = trim(s, &len);
	for (i = 0; i < len; i++) {
		ch = s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (!strchr("-._~%!$&'()*+,;=:[]", ch) || ch == '\0')
			return false;
	}
	return true;
}

/*
 * The head as a whole: what RFC 9112 says a server must refuse, and a
 * cross-check of what http_parser understood against the header lines
 * as kept.  Returns 0 or an HTTP_E*.
 */
static int check_head(http_parser *p, struct http_request *req)
{
	bool http11 = req->major == 1 && req->minor >= 1, chunked;
	unsigned hosts = http_header_count(req, "host");
	unsigned lengths = http_header_count(req, "content-length");
	const char *host;
	uint32_t len;
	int r;

	/* The framing check let only major version 1 through. */
	if (req->major != 1)
		return HTTP_EVERSION;
	/* Host: exactly once on HTTP/1.1, at most once before, and a
	 * valid value (RFC 9112 3.2): two could name two different
	 * servers to two readers. */
	if (hosts > 1 || (http11 && hosts == 0))
		return HTTP_EBADREQ;
	host = http_header_get(req, "host", &len);
	if (host && !host_value_ok(host, len))
		return HTTP_EBADREQ;
	r = check_transfer_encoding(req, &chunked);
	if (r)
		return r;
	/* Both lengths: refused (RFC 9112 6.3 allows this or reading it
	 * chunked and closing; a front end may have used the other). */
	if (chunked && lengths)
		return HTTP_EBADREQ;
	if (lengths > 1)
		return HTTP_EBADREQ;
	/* http_parser must have read the same framing from the same lines. */
	if (chunked != !!(p->flags & F_CHUNKED) ||
	    (lengths == 1) != !!(p->flags & F_CONTENTLENGTH))
		return HTTP_EBADREQ;
	/* Refuse a body that cannot fit before it is sent. */
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_BODY_MAX)
		return HTTP_EBODY;
	return 0;
}

/* The whole head is in: take the method and version, split the target. */
static int on_headers_complete(http_parser *p)
{
	struct http_request *req = req_of(p);
	struct http_parser_url u;
	const char *expect;
	uint32_t len;
	int r;

	req->head_done = true;
	req->method = p->method;
	req->major = p->http_major;
	req->minor = p->http_minor;
	if (req->url.len == 0)
		return fail(req, HTTP_EBADREQ);
	http_parser_url_init(&u);
	if (http_parser_parse_url(http_str(req, req->url), req->url.len,
				  p->method == HTTP_CONNECT, &u) != 0)
		return fail(req, HTTP_EBADREQ);	/* not 1 or 2: "no body" */
	if (u.field_set & (1u << UF_PATH)) {
		assert((uint32_t)u.field_data[UF_PATH].off +
		       u.field_data[UF_PATH].len <= req->url.len);
		req->path.off = req->url.off + u.field_data[UF_PATH].off;
		req->path.len = u.field_data[UF_PATH].len;
	}
	r = check_head(p, req);
	if (r)
		return fail(req, r);
	/* The client waits for a 100 before sending its body (1.1 only):
	 * http_read_request sends it before waiting for the body. */
	expect = http_header_get(req, "expect", &len);
	req->expect_continue = expect && req->minor >= 1 &&
			       token_is(expect, len, CONTINUE_TOKEN) &&
			       ((p->flags & F_CHUNKED) ||
				((p->flags & F_CONTENTLENGTH) &&
				 p->content_length > 0));
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = req_of(p);

	/* Body bytes where the framing check still sees the head: the two
	 * disagree on where the head ends. */
	if (!req->body_open)
		return fail(req, HTTP_EBADREQ);
	return body_append(req, at, len);
}

static int on_chunk_header(http_parser *p)
{
	struct http_request *req = req_of(p);

	return req->body_open ? 0 : fail(req, HTTP_EBADREQ);
}

static int on_message_complete(http_parser *p)
{
	struct http_request *req = req_of(p);

	if (!req->head_done)
		return fail(req, HTTP_EBADREQ);
	req->complete = true;
	/* After an upgrade (or CONNECT), what follows is another protocol,
	 * which this server does not speak. */
	req->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	/* Stop right after this request: the bytes behind it are the next
	 * request, for the next call. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_chunk_header = on_chunk_header,
	.on_message_complete = on_message_complete,
};

void http_reader_init(struct http_reader *rd)
{
	http_parser_init(&rd->parser, HTTP_REQUEST);
	http_framing_reset(&rd->fr);
}

void http_request_reset(struct http_request *req)
{
	req->complete = false;
	req->keep_alive = false;
	req->expect_continue = false;
	req->head_done = false;
	req->body_open = false;
	req->last = LAST_NONE;
	req->err = 0;
	req->url = req->path = (struct http_slice){ 0 };
	req->body = (struct http_slice){ .off = HTTP_HEAD_MAX };
	req->nheaders = 0;
	req->head_used = 0;
}

/*
 * The framing check stopped at @fr_result after the last of @n bytes,
 * and the parser took @taken of them.  Returns 1 (the request is
 * complete), 0 (it goes on) or an HTTP_E*.
 */
static int agree(struct http_reader *rd, struct http_request *req,
		 int fr_result, size_t n, size_t taken)
{
	http_parser *p = &rd->parser;
	enum http_errno e = HTTP_PARSER_ERRNO(p);

	if (e != HPE_OK && !(e == HPE_PAUSED && req->complete))
		return req->err ? req->err : HTTP_EBADREQ;
	/* The parser stops early only when the request is complete. */
	if (taken != n)
		return HTTP_EBADREQ;
	if (req->complete) {
		/* A request without a body (or an upgrade) ends with its
		 * head; any other ends where the framing says. */
		if (fr_result != HTTP_FRAME_END &&
		    !(fr_result == HTTP_FRAME_HEAD && !req->body_open))
			return HTTP_EBADREQ;
		http_parser_pause(p, 0);
		http_framing_reset(&rd->fr);
		return 1;
	}
	switch (fr_result) {
	case HTTP_FRAME_MORE:
		return 0;
	case HTTP_FRAME_HEAD:
		/* Go on with the body the parser found; it has one (no
		 * body would have completed the request). */
		if (!req->head_done ||
		    !(p->flags & (F_CHUNKED | F_CONTENTLENGTH)) ||
		    (!(p->flags & F_CHUNKED) && p->content_length == 0))
			return HTTP_EBADREQ;
		http_framing_body(&rd->fr, p->flags & F_CHUNKED,
				  p->content_length);
		req->body_open = true;
		return 0;
	default:	/* the framing ended the request, the parser not */
		return HTTP_EBADREQ;
	}
}

int http_reader_feed(struct http_reader *rd, struct http_request *req,
		     const char *buf, uint32_t len, uint32_t *used)
{
	uint32_t off = 0, n;
	size_t taken;
	int fr, r;

	while (off < len) {
		fr = http_framing_scan(&rd->fr, buf + off, len - off, &n);
		assert(n <= len - off && (fr < 0 || n > 0));
		rd->parser.data = req;
		/* No bytes would tell http_parser the stream ended. */
		taken = n ? http_parser_execute(&rd->parser, &settings,
						buf + off, n) : 0;
		if (fr < 0) {
			/* The bytes before the bad one went to the parser too:
			 * whichever error comes first in the stream is the
			 * one reported, however the bytes were cut. */
			r = agree(rd, req, HTTP_FRAME_MORE, n, taken);
			return r < 0 ? r : fr;
		}
		r = agree(rd, req, fr, n, taken);
		off += n;
		if (r) {
			*used = off;
			return r;
		}
	}
	*used = len;
	return 0;
}

int http_reader_eof(const struct http_reader *rd)
{
	return http_framing_is_idle(&rd->fr) ? 0 : -ECONNABORTED;
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
	case HTTP_ECODING:
		return 501;
	case HTTP_EVERSION:
		return 505;
	default:
		return 0;
	}
}

const char *http_header_get(const struct http_request *req, const char *name,
			    uint32_t *len)
{
	unsigned i;

	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (token_is(http_str(req, h->name), h->name.len, name)) {
			*len = h->value.len;
			return http_str(req, h->value);
		}
	}
	return NULL;
}

unsigned http_header_count(const struct http_request *req, const char *name)
{
	unsigned i, n = 0;

	for (i = 0; i < req->nheaders; i++)
		n += token_is(http_str(req, req->headers[i].name),
			      req->headers[i].name.len, name);
	return n;
}
