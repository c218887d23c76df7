/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/http.h - an HTTP/1.1 server on http_parser, written
 * as sequential corio code.
 *
 * http_parser is a push parser: it calls on_url, on_header_field, ...
 * while it walks the bytes it is given.  Here those callbacks only fill a
 * struct http_request; a connection task reads requests one at a time:
 *
 *	for (;;) {
 *		r = await http_read_request(conn, req);	1: got one
 *		if (r <= 0)				0: peer closed
 *			break;				<0: -errno
 *		if (r == HTTP_READ_IDLE)		nothing buffered:
 *			return;				wait idle
 *		await http_route(srv, conn, req);
 *		if (!req->keep_alive)
 *			break;
 *	}
 *
 * The loop runs in http_serve (server.c) while the connection is busy,
 * with the request and the buffers; in between, the connection's own task
 * waits for the next request holding none, so an idle connection costs
 * no buffer.
 *
 * Files: framing.c (the strict RFC 9112 check of the bytes), reader.c
 * (parser callbacks and the socket-free parsing core), request.c
 * (http_read_request), response.c (response heads, the output buffer),
 * path.c (request path to a relative file name), resolve.c (opening it
 * without leaving the root), static.c (files under --root), server.c
 * (connection task, routing), main.c (options); the accept loop is
 * common/service.c.  tests/fuzz/ drives reader.c and path.c/resolve.c
 * with libFuzzer.
 */
#ifndef SAMPLES_HTTP_H
#define SAMPLES_HTTP_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <http_parser.h>

#include <corio.h>
#include <corio/async.h>

#include "common/service.h"

/* ---------------------------------------------------------------------- */
/* Limits.  Each protocol limit is a status the client gets, not a crash. */

#define HTTP_IN_BUF 8192	/* receive buffer of a busy connection */
#define HTTP_OUT_BUF 16384	/* responses waiting to be sent */
#define HTTP_URL_MAX 2048	/* longer request target: 414 */
#define HTTP_HEAD_MAX 8192	/* URL and header bytes: beyond, 431 */
#define HTTP_HEADERS_MAX 64	/* more header lines: 431 */
#define HTTP_BODY_MAX 8192	/* larger request body: 413 */
#define HTTP_PATH_MAX 1024	/* decoded file path under --root: 414 */

/* The receive pool of a loop's connections (corio_bufpool): 1 MiB
 * whatever their number.  A chunk is copied out as soon as it arrives
 * (into HTTP_IN_BUF), so buffers follow the bytes in flight. */
#define HTTP_POOL_BUFS 256
#define HTTP_POOL_BUF 4096
_Static_assert(HTTP_POOL_BUF <= HTTP_IN_BUF, "a chunk fits the buffer");

/*
 * Protocol errors travel as negative errnos like I/O errors do, so one
 * `r < 0` test covers both; http_error_status() maps the protocol ones to
 * the status sent before closing.  Any other errno closes silently.
 */
#define HTTP_EBADREQ (-EBADMSG)		/* malformed: 400 */
#define HTTP_EURL (-ENAMETOOLONG)	/* request target too long: 414 */
#define HTTP_EHEAD (-EMSGSIZE)		/* headers too large: 431 */
#define HTTP_EBODY (-EFBIG)		/* body too large: 413 */
#define HTTP_ECODING (-EOPNOTSUPP)	/* transfer coding unknown: 501 */
#define HTTP_EVERSION (-EPROTONOSUPPORT) /* not HTTP/1.x: 505 */

/* ---------------------------------------------------------------------- */
/* Requests.                                                              */

/* A run of bytes in http_request.text. */
struct http_slice {
	uint32_t off;
	uint32_t len;
};

struct http_header {
	struct http_slice name;
	struct http_slice value;
};

/*
 * One request, as the parser callbacks assemble it.  The callbacks copy
 * what they are given into @text: the parser's pointers point into the
 * receive buffer, which the next recv overwrites, and a URL or header may
 * arrive split across several reads.  @text holds two regions that cannot
 * spill into each other: the head (URL, header names and values) in
 * [0, HTTP_HEAD_MAX), filled up to @head_used, and the body in
 * [HTTP_HEAD_MAX, HTTP_HEAD_MAX + HTTP_BODY_MAX).  Trailer fields are
 * checked but not kept.  Valid from http_read_request's result 1 until
 * the next http_read_request on the same connection.
 */
struct http_request {
	unsigned method;		/* enum http_method */
	unsigned short major, minor;	/* HTTP version */
	bool keep_alive;		/* the connection may carry another
					 * request after this one */
	bool complete;			/* on_message_complete ran */
	bool expect_continue;		/* internal: a 100 Continue is due */
	bool head_done;			/* internal: on_headers_complete ran */
	bool body_open;			/* internal: the framing check is
					 * past the head; body bytes may come */
	uint8_t last;			/* internal: which callback ran last */
	int err;			/* internal: the HTTP_E* a callback
					 * stopped the parser with */
	struct http_slice url;		/* request target as sent */
	struct http_slice path;		/* its path part (still %-encoded) */
	struct http_header headers[HTTP_HEADERS_MAX];
	unsigned nheaders;
	struct http_slice body;		/* de-chunked body; off is always
					 * HTTP_HEAD_MAX */
	uint32_t head_used;		/* bytes of the head region in use,
					 * <= HTTP_HEAD_MAX */
	char text[HTTP_HEAD_MAX + HTTP_BODY_MAX];
};

/*
 * The value of header @name (case-insensitive) in @req and its length in
 * *@len, or NULL when absent.  Not NUL-terminated.
 */
const char *http_header_get(const struct http_request *req, const char *name,
			    uint32_t *len);

/* How many header lines of @req are named @name (case-insensitive). */
unsigned http_header_count(const struct http_request *req, const char *name);

/* The value of the hex digit @ch, or -1 (chunk sizes, %-escapes). */
static inline int http_hex_digit(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Pointer to the bytes of @s in @req. */
static inline const char *http_str(const struct http_request *req,
				   struct http_slice s)
{
	return req->text + s.off;
}

/* ---------------------------------------------------------------------- */
/* Reading requests without sockets.                                      */

/*
 * The strict check of the bytes of one request (framing.c), run ahead of
 * http_parser over the same bytes: http_parser (as Debian builds it, not
 * HTTP_PARSER_STRICT) accepts bare LF, a CR followed by any byte, space
 * before a field's colon, folded lines and any two bytes after chunk data,
 * each a way for a proxy in front and this server to see different
 * requests.  The check accepts only RFC 9112's grammar; the reader stops
 * at every point where the two must agree (end of head, end of message)
 * and refuses the request when they do not.  Internal: reader.c's.
 */
struct http_framing {
	uint8_t state;			/* enum in framing.c */
	uint8_t vpos;			/* position in "HTTP/1.1" */
	bool trailer;			/* field lines are trailers */
	uint32_t line_len;		/* bytes of the current line */
	uint32_t target_len;		/* bytes of the request target */
	uint32_t section_len;		/* bytes of the head or trailers */
	uint32_t digits;		/* chunk-size digits so far */
	uint64_t left;			/* body or chunk bytes still due */
	uint64_t body_len;		/* de-chunked body bytes so far */
};

/*
 * The parsing state of a request stream: http_parser and the framing
 * check, kept between reads and between pipelined requests.
 */
struct http_reader {
	http_parser parser;
	struct http_framing fr;
};

/* Set up @rd for the first request of a stream. */
void http_reader_init(struct http_reader *rd);

/* Make @req empty, for the next request on the stream. */
void http_request_reset(struct http_request *req);

/*
 * Parse the @len bytes at @buf, the next bytes of @rd's stream, into
 * @req (reset before its first byte).  Returns 1 when @req is complete:
 * *@used bytes of @buf were its last, the rest begin the next request;
 * 0 when all @len bytes were taken and the request needs more; or an
 * HTTP_E* error (the stream cannot go on).  Bytes may be split anywhere
 * between calls.  No I/O, no allocation: the server and the fuzzer
 * (tests/fuzz/) share it.
 */
int http_reader_feed(struct http_reader *rd, struct http_request *req,
		     const char *buf, uint32_t len, uint32_t *used);

/*
 * The stream of @rd ended.  Returns 0 when that is between requests,
 * -ECONNABORTED when inside one.
 */
int http_reader_eof(const struct http_reader *rd);

/* Results of http_framing_scan(), besides errors (HTTP_E*). */
enum {
	HTTP_FRAME_MORE,	/* every byte checked, the request goes on */
	HTTP_FRAME_HEAD,	/* the head ended at the last byte checked */
	HTTP_FRAME_END,		/* the request ended at the last byte */
};

/* Internal (reader.c): start checking a new request. */
void http_framing_reset(struct http_framing *fr);

/*
 * Internal (reader.c): check up to @len bytes at @buf.  Stops after the
 * byte that ends the head or the request; *@n is the number of bytes
 * checked.  Returns an HTTP_FRAME_* or an HTTP_E* error (*@n then counts
 * the bytes before the bad one).
 */
int http_framing_scan(struct http_framing *fr, const char *buf, uint32_t len,
		      uint32_t *n);

/*
 * Internal (reader.c): after HTTP_FRAME_HEAD, what follows the head: a
 * body of @length bytes, or a chunked one.
 */
void http_framing_body(struct http_framing *fr, bool chunked, uint64_t length);

/* Whether @fr is between requests (nothing of a next one seen). */
bool http_framing_is_idle(const struct http_framing *fr);

/* ---------------------------------------------------------------------- */
/* Connections.                                                           */

/*
 * The state of one connection, in its task's frame: all an idle
 * connection holds besides the reader.  The buffers (struct http_bufs,
 * server.c) are taken only while the connection has bytes to parse or
 * answers to send; @in and @out point into them meanwhile, NULL
 * otherwise.  Bytes in in[in_start, in_end) were received but not parsed
 * yet (pipelined requests); out[0, out_len) are responses not sent yet:
 * they leave in one send when the connection would otherwise wait for the
 * client.
 */
struct http_conn {
	int fd;				/* the socket; owned by the task */
	int64_t idle_ns;		/* longest wait for a request */
	int64_t wait_since;		/* when the first wait for the
					 * current request began, or -1 */
	struct http_reader reader;	/* state between requests and reads */
	struct corio_reader *rd;	/* receives from @fd; owned by the
					 * task */
	char *in;			/* HTTP_IN_BUF bytes, or NULL */
	char *out;			/* HTTP_OUT_BUF bytes, or NULL */
	uint32_t in_start, in_end;
	uint32_t out_len;
};

/* Set up @c for the socket @fd (does not take it over); no reader yet. */
void http_conn_init(struct http_conn *c, int fd, int64_t idle_ns);

/*
 * Set the calling task's deadline (corio_deadline_set) for the request
 * @c waits for: @c->idle_ns after the first wait for it began, now if
 * this is the first.  Returns the deadline it replaced, to restore once
 * the wait is over.
 */
int64_t http_conn_arm_deadline(struct http_conn *c);

/*
 * http_read_request: nothing buffered and nothing of a next request
 * seen; answers sent.  Wait for the next one without the buffers: borrow
 * its first chunk from @c->rd under http_conn_arm_deadline (server.c).
 */
#define HTTP_READ_IDLE 2

/*
 * Async function: read the next request of @c into @req; @c->in and
 * @c->out must be set.  Runs the parser over bytes already buffered first
 * (pipelining), and before waiting for more, sends the responses still
 * in @c->out (and a 100 Continue when the client asked for one).  Result:
 * 1 with @req complete, HTTP_READ_IDLE, 0 when the peer closed between
 * requests, or a negative errno: an HTTP_E* protocol error, -ECONNABORTED
 * (closed inside a request), -ETIME (the request took longer than
 * @c->idle_ns to arrive), or what the receive or send failed with.
 */
corio_async_decl(int, http_read_request, ((struct http_conn *, c),
	(struct http_request *, req)));

/*
 * The status to answer a protocol error @err (HTTP_E*) with, or 0 when
 * @err is no protocol error and the connection just closes.
 */
int http_error_status(int err);

/* ---------------------------------------------------------------------- */
/* Responses.                                                             */

/*
 * Append a response head to @c->out: status line, Server, Date,
 * Content-Type (when @ctype is not NULL), Content-Length @length, the
 * header lines @extra (each ending in CRLF; may be NULL), and Connection
 * when the default for @req's version does not hold.  @req may be NULL
 * (an error before any request was parsed: the connection closes).
 * Returns 0, or -ENOBUFS when @c->out lacks HTTP_HEAD_ROOM bytes or
 * @extra does not fit.
 */
#define HTTP_HEAD_ROOM 512
int http_put_head(struct http_conn *c, const struct http_request *req,
		  int status, const char *ctype, uint64_t length,
		  const char *extra);

/* Room left in @c->out. */
static inline uint32_t http_out_room(const struct http_conn *c)
{
	return HTTP_OUT_BUF - c->out_len;
}

/*
 * Async function: send @c->out and empty it.  Result: 0 or -errno;
 * -ETIME when the client read nothing for @c->idle_ns.
 */
corio_async_decl(int, http_flush, ((struct http_conn *, c)));

/*
 * Async function: respond with @status and the @len bytes at @body (none
 * for HEAD), flushing first when the output buffer is full.  @body must
 * stay valid until the function finishes.  Result: 0 or -errno.
 */
corio_async_decl(int, http_reply, ((struct http_conn *, c),
	(const struct http_request *, req), (int, status),
	(const char *, ctype), (const char *, body), (size_t, len)));

/*
 * Async function: a short text page for an error @status ("404 Not
 * Found\n"), with the header lines @extra (e.g. Allow for 405; may be
 * NULL).  Result: 0 or -errno.
 */
corio_async_decl(int, http_reply_error, ((struct http_conn *, c),
	(const struct http_request *, req), (int, status),
	(const char *, extra)));

/* ---------------------------------------------------------------------- */
/* Static files.                                                          */

/*
 * Decode the %-encoded request path @src (@len bytes) into @dst (@size
 * bytes) as a path relative to the root: leading slashes are dropped
 * after decoding, so "/%2fetc" is "etc" and never "/etc"; "index.html"
 * is appended to a path ending in '/'.  Returns 0, or the status to
 * refuse it with: 400 (not starting with '/', bad escape, NUL), 403 ("."
 * or ".." segment, decoded or not), 414 (too long).  Only names the
 * file: http_open_beneath() keeps the opening inside the root.
 */
int http_map_path(const char *src, uint32_t len, char *dst, size_t size);

/* How http_open_beneath() resolves a path (--resolve). */
enum http_resolve_mode {
	HTTP_RESOLVE_AUTO,	/* openat2(RESOLVE_BENEATH), or the walk
				 * when the kernel lacks openat2 */
	HTTP_RESOLVE_WALK,	/* always the walk */
};

/*
 * Open the relative path @path beneath the directory @root_fd with
 * @flags (O_RDONLY and the like; O_CREAT is not supported), following
 * symbolic links only while they stay beneath @root_fd: no "..", absolute
 * path or link target leads out of it, and no magic link (/proc) is
 * followed.  @mode picks openat2(RESOLVE_BENEATH) or the component walk
 * (O_PATH | O_NOFOLLOW per component, links read and resolved by hand).
 * Blocks: run it with corio_blocking.  Returns the new fd, or -EXDEV (it
 * would leave the root), -ELOOP (more than 40 links), -ENOENT, -ENOTDIR,
 * -EACCES, -ENAMETOOLONG, -EMFILE and what else open fails with.
 */
int http_open_beneath(int root_fd, const char *path, int flags,
		      enum http_resolve_mode mode);

/* The two ways http_open_beneath() has, apart (for the fuzzer and
 * tests): openat2() returns -ENOSYS where the kernel lacks it. */
int http_open_openat2(int root_fd, const char *path, int flags);
int http_open_walk(int root_fd, const char *path, int flags);

/*
 * http_open_beneath(@mode) without blocking, for the loop's thread: from
 * the kernel's caches only (openat2 RESOLVE_CACHED).  Returns the fd, or
 * -EAGAIN when only a blocking open can tell (not all cached, no openat2,
 * or @mode is HTTP_RESOLVE_WALK), or what http_open_beneath() fails with.
 */
int http_open_cached(int root_fd, const char *path, int flags,
		     enum http_resolve_mode mode);

/* The Content-Type for the file name @path, from its extension. */
const char *http_content_type(const char *path);

/*
 * Async function: answer GET or HEAD @req with the file under the
 * directory @root_fd it names, opened by http_open_beneath(@resolve) on
 * a worker thread.  Result: 0 (answered, maybe with an error
 * status) or -errno (the connection must close: the file shrank while
 * being sent, or sending failed).
 */
corio_async_decl(int, http_serve_file, ((struct http_conn *, c),
	(const struct http_request *, req), (int, root_fd),
	(enum http_resolve_mode, resolve)));

/* ---------------------------------------------------------------------- */
/* The server.                                                            */

/*
 * One server per loop: a sample_service (common/service.h) whose
 * connection tasks speak HTTP.  To run several loops, give each its own
 * struct http_server on its own SO_REUSEPORT listener
 * (sample_serve_loops in common/loops.h).
 */
struct http_server {
	struct sample_service svc;	/* accept task and connections */
	struct corio_bufpool *pool;	/* receive pool of the connections;
					 * made and destroyed by the accept
					 * task */
	struct http_bufs *spare;	/* buffers of busy connections, not
					 * in use (server.c) */
	unsigned nspare;		/* on @spare */
	int root_fd;			/* directory served, or -1; borrowed */
	enum http_resolve_mode resolve;	/* how files are opened in it */
	int64_t idle_ns;		/* idle connection timeout */
};

/*
 * Set up @srv to serve on @listen_fd (taken over), files from @root_fd
 * (or -1) opened the @resolve way; then run it as a sample_service.
 */
void http_server_init(struct http_server *srv, int listen_fd, int root_fd,
		      enum http_resolve_mode resolve, int64_t idle_ns);

/*
 * Async function: answer one complete request.  Result: 0, or -errno when
 * the connection must close without answering further.
 */
corio_async_decl(int, http_route, ((struct http_server *, srv),
	(struct http_conn *, c), (struct http_request *, req)));

#endif /* SAMPLES_HTTP_H */
