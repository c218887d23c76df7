/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/framing.c - the strict check of a request's bytes
 * against RFC 9112's grammar, run ahead of http_parser.
 *
 * Where a request ends is decided twice on the way to this server: by a
 * proxy in front and by us.  Any byte sequence the two read differently
 * (a bare LF as line end, "Transfer-Encoding : chunked", a folded line,
 * garbage where a chunk's CRLF belongs) lets a client hide a second
 * request inside the first.  http_parser as Debian builds it accepts all
 * of these, so this checker walks the same bytes first and refuses
 * anything outside the grammar:
 *
 *	request-line	method SP request-target SP "HTTP/" DIGIT "." DIGIT
 *			CRLF, after at most a few empty lines
 *	field-line	1*tchar ":" *(VCHAR / obs-text / SP / HTAB) CRLF;
 *			no space before the colon, no obs-fold, no NUL/CTL
 *	chunk		1*16HEXDIG [BWS ";" ext] CRLF data CRLF
 *	trailers	field-lines, then CRLF
 *
 * Only CRLF ends a line (bare LF is refused: RFC 9112 2.2 allows either
 * choice; a server behind proxies should not guess).  The checker knows
 * the body's length only from the parser (http_framing_body): it does not
 * read Content-Length itself, it makes sure both sides stop at the same
 * byte (reader.c compares).
 *
 * Byte at a time: the head is small and bounded, and a body of known
 * length is skipped in one step.
 */
#include <assert.h>

#include "http_server/http.h"

enum {
	FR_START,		/* before the request line */
	FR_START_LF,		/* CR of an empty line before it */
	FR_METHOD,
	FR_TARGET_START,
	FR_TARGET,
	FR_VERSION,		/* in "HTTP/d.d", at vpos */
	FR_LINE_LF,		/* CR ending a line with content */
	FR_FIELD_START,		/* a field line or the section's end */
	FR_NAME,
	FR_VALUE,
	FR_SECTION_LF,		/* CR of the empty line ending a section */
	FR_WAIT_BODY,		/* head done; http_framing_body is due */
	FR_BODY,		/* Content-Length body, @left bytes due */
	FR_CHUNK_SIZE,
	FR_CHUNK_BWS,		/* blanks after the size */
	FR_CHUNK_EXT,
	FR_CHUNK_SIZE_LF,
	FR_CHUNK_DATA,		/* @left bytes of data due */
	FR_CHUNK_DATA_CR,
	FR_CHUNK_DATA_LF,
	FR_DONE,		/* the request ended; reset before more */
};

/* Empty lines tolerated before a request line (RFC 9112 2.2 says to
 * ignore at least one: a client may end a body with an extra CRLF). */
#define EMPTY_LINES_MAX 4
/* A request line beyond this is a target beyond HTTP_URL_MAX: the room
 * for a method name and " HTTP/1.1\r\n". */
#define REQUEST_LINE_MAX (HTTP_URL_MAX + 64)
/* Header section bytes as sent, OWS and line ends included; what is
 * kept of it (HTTP_HEAD_MAX) is checked by reader.c. */
#define HEAD_SECTION_MAX (2 * HTTP_HEAD_MAX)
/* Trailers are checked, then dropped: bounded all the same. */
#define TRAILER_SECTION_MAX HTTP_HEAD_MAX
/* A chunk-size line, extensions included. */
#define CHUNK_LINE_MAX 256
/* 16 hex digits hold any uint64_t: leading zeros up to there. */
#define CHUNK_DIGITS_MAX 16

static const char version_prefix[] = "HTTP/";

/* RFC 9110 5.6.2: token characters. */
static bool is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z'))
		return true;
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* field-vchar / SP / HTAB (RFC 9110 5.5): no NUL, CR, LF, other CTL. */
static bool is_value_char(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Chunk extensions: the same bytes (quoted strings stay on one line). */
#define is_ext_char is_value_char

void http_framing_reset(struct http_framing *fr)
{
	*fr = (struct http_framing){ .state = FR_START };
}

bool http_framing_is_idle(const struct http_framing *fr)
{
	return fr->state == FR_START;
}

void http_framing_body(struct http_framing *fr, bool chunked, uint64_t length)
{
	assert(fr->state == FR_WAIT_BODY);
	fr->line_len = 0;
	if (chunked) {
		fr->state = FR_CHUNK_SIZE;
		fr->digits = 0;
		fr->left = 0;
	} else {
		fr->state = length ? FR_BODY : FR_DONE;
		fr->left = length;
	}
}

/* After the last chunk: the trailer section, field lines as in the
 * head, bounded on their own. */
static void trailers_start(struct http_framing *fr)
{
	fr->state = FR_FIELD_START;
	fr->trailer = true;
	fr->line_len = 0;
	fr->section_len = 0;
}

/* One byte of "HTTP/d.d" CRLF after the target.  Only major version 1
 * is spoken (any minor: RFC 9110 2.5); another is 505, not 400. */
static int version_byte(struct http_framing *fr, unsigned char ch)
{
	unsigned pos = fr->vpos++;

	if (pos < sizeof(version_prefix) - 1)
		return ch == (unsigned char)version_prefix[pos] ?
		       HTTP_FRAME_MORE : HTTP_EBADREQ;
	switch (pos) {
	case sizeof(version_prefix) - 1:	/* major */
		if (ch < '0' || ch > '9')
			return HTTP_EBADREQ;
		return ch == '1' ? HTTP_FRAME_MORE : HTTP_EVERSION;
	case sizeof(version_prefix):
		return ch == '.' ? HTTP_FRAME_MORE : HTTP_EBADREQ;
	case sizeof(version_prefix) + 1:	/* minor */
		return ch >= '0' && ch <= '9' ? HTTP_FRAME_MORE :
		       HTTP_EBADREQ;
	default:
		if (ch != '\r')
			return HTTP_EBADREQ;
		fr->state = FR_LINE_LF;
		return HTTP_FRAME_MORE;
	}
}

/*
 * One byte of the head or trailers.  Returns HTTP_FRAME_MORE, HEAD or
 * END, or an HTTP_E* error.
 */
static int field_byte(struct http_framing *fr, unsigned char ch)
{
	uint32_t max = fr->trailer ? TRAILER_SECTION_MAX : HEAD_SECTION_MAX;

	if (++fr->section_len > max)
		return HTTP_EHEAD;
	switch (fr->state) {
	case FR_START:
		if (ch == '\r') {
			fr->state = FR_START_LF;
			return HTTP_FRAME_MORE;
		}
		if (!is_tchar(ch))
			return HTTP_EBADREQ;
		fr->state = FR_METHOD;
		fr->line_len = 1;
		return HTTP_FRAME_MORE;
	case FR_START_LF:
		if (ch != '\n' || ++fr->line_len > EMPTY_LINES_MAX)
			return HTTP_EBADREQ;
		fr->state = FR_START;
		return HTTP_FRAME_MORE;
	case FR_FIELD_START:
		fr->line_len = 0;
		if (ch == '\r') {
			fr->state = FR_SECTION_LF;
			return HTTP_FRAME_MORE;
		}
		/* SP or HTAB here is obs-fold (or blanks before the first
		 * field): refused, RFC 9112 5.2 and 2.2. */
		if (!is_tchar(ch))
			return HTTP_EBADREQ;
		fr->state = FR_NAME;
		return HTTP_FRAME_MORE;
	case FR_SECTION_LF:
		if (ch != '\n')
			return HTTP_EBADREQ;
		if (fr->trailer) {
			fr->state = FR_DONE;
			return HTTP_FRAME_END;
		}
		fr->state = FR_WAIT_BODY;
		return HTTP_FRAME_HEAD;
	case FR_LINE_LF:
		if (ch != '\n')
			return HTTP_EBADREQ;
		fr->state = FR_FIELD_START;
		return HTTP_FRAME_MORE;
	}
	/* Inside a line. */
	if (fr->state <= FR_VERSION && ++fr->line_len > REQUEST_LINE_MAX)
		return HTTP_EURL;
	switch (fr->state) {
	case FR_METHOD:
		if (ch == ' ')
			fr->state = FR_TARGET_START;
		else if (!is_tchar(ch))
			return HTTP_EBADREQ;
		return HTTP_FRAME_MORE;
	case FR_TARGET_START:
	case FR_TARGET:
		if (ch == ' ' && fr->state == FR_TARGET) {
			fr->state = FR_VERSION;
			fr->vpos = 0;
		} else if (ch > 0x20 && ch < 0x7f) {
			/* The limit is checked here, at its exact byte, and
			 * not only as http_parser hands the target over in
			 * pieces: where those pieces end depends on how the
			 * bytes arrived, and the answer must not. */
			if (++fr->target_len > HTTP_URL_MAX)
				return HTTP_EURL;
			fr->state = FR_TARGET;
		} else {
			return HTTP_EBADREQ;
		}
		return HTTP_FRAME_MORE;
	case FR_VERSION:
		return version_byte(fr, ch);
	case FR_NAME:
		/* Space before the colon is refused (RFC 9112 5.1): some
		 * proxies drop it, and "Transfer-Encoding :" then means
		 * chunked to one side only. */
		if (ch == ':')
			fr->state = FR_VALUE;
		else if (!is_tchar(ch))
			return HTTP_EBADREQ;
		return HTTP_FRAME_MORE;
	case FR_VALUE:
		if (ch == '\r')
			fr->state = FR_LINE_LF;
		else if (!is_value_char(ch))
			return HTTP_EBADREQ;
		return HTTP_FRAME_MORE;
	default:
		assert(!"not a field state");
		return HTTP_EBADREQ;
	}
}

/* One byte of a chunk-size line or of the CRLF after chunk data. */
static int chunk_byte(struct http_framing *fr, unsigned char ch)
{
	int v;

	if (fr->state <= FR_CHUNK_SIZE_LF && ++fr->line_len > CHUNK_LINE_MAX)
		return HTTP_EBADREQ;
	switch (fr->state) {
	case FR_CHUNK_SIZE:
		v = http_hex_digit(ch);
		if (v >= 0) {
			if (++fr->digits > CHUNK_DIGITS_MAX)
				return HTTP_EBADREQ;
			fr->left = fr->left << 4 | (uint64_t)v;
			return HTTP_FRAME_MORE;
		}
		if (fr->digits == 0)
			return HTTP_EBADREQ;
		/* The size is known: refuse a body that cannot fit before
		 * it is sent. */
		if (fr->left > HTTP_BODY_MAX - fr->body_len)
			return HTTP_EBODY;
		fr->state = FR_CHUNK_BWS;
		/* fall through */
	case FR_CHUNK_BWS:
		if (ch == ' ' || ch == '\t')
			return HTTP_FRAME_MORE;
		if (ch == ';')
			fr->state = FR_CHUNK_EXT;
		else if (ch == '\r')
			fr->state = FR_CHUNK_SIZE_LF;
		else
			return HTTP_EBADREQ;
		return HTTP_FRAME_MORE;
	case FR_CHUNK_EXT:
		if (ch == '\r')
			fr->state = FR_CHUNK_SIZE_LF;
		else if (!is_ext_char(ch))
			return HTTP_EBADREQ;
		return HTTP_FRAME_MORE;
	case FR_CHUNK_SIZE_LF:
		if (ch != '\n')
			return HTTP_EBADREQ;
		if (fr->left == 0) {		/* last-chunk */
			trailers_start(fr);
			return HTTP_FRAME_MORE;
		}
		fr->body_len += fr->left;
		fr->state = FR_CHUNK_DATA;
		return HTTP_FRAME_MORE;
	case FR_CHUNK_DATA_CR:
		if (ch != '\r')
			return HTTP_EBADREQ;
		fr->state = FR_CHUNK_DATA_LF;
		return HTTP_FRAME_MORE;
	case FR_CHUNK_DATA_LF:
		if (ch != '\n')
			return HTTP_EBADREQ;
		fr->state = FR_CHUNK_SIZE;
		fr->line_len = 0;
		fr->digits = 0;
		fr->left = 0;
		return HTTP_FRAME_MORE;
	default:
		assert(!"not a chunk state");
		return HTTP_EBADREQ;
	}
}

int http_framing_scan(struct http_framing *fr, const char *buf, uint32_t len,
		      uint32_t *n)
{
	uint32_t i = 0, k;
	int r = HTTP_FRAME_MORE;

	/* The reader resets a finished request and sets up the body
	 * before it scans on. */
	assert(fr->state != FR_DONE && fr->state != FR_WAIT_BODY);
	while (i < len && r == HTTP_FRAME_MORE) {
		if (fr->state == FR_BODY || fr->state == FR_CHUNK_DATA) {
			/* Data: skipped whole, up to what is due. */
			k = fr->left < len - i ? (uint32_t)fr->left : len - i;
			i += k;
			fr->left -= k;
			if (fr->left)
				break;
			if (fr->state == FR_BODY) {
				fr->state = FR_DONE;
				r = HTTP_FRAME_END;
			} else {
				fr->state = FR_CHUNK_DATA_CR;
			}
			continue;
		}
		if (fr->state >= FR_CHUNK_SIZE)
			r = chunk_byte(fr, (unsigned char)buf[i]);
		else
			r = field_byte(fr, (unsigned char)buf[i]);
		if (r < 0)
			break;
		i++;
	}
	*n = i;
	return r;
}
