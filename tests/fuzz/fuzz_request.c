/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_request.c - libFuzzer over http_server's request reader
 * (samples/http_server/reader.c, framing.c): the parsing code the server
 * runs, without the socket.
 *
 * Input: one byte that seeds how the rest is cut, then the bytes a client
 * sends.  They are fed twice: whole, and in pieces of 1 to 64 bytes, each
 * piece in a buffer of its own that is freed as soon as the reader took
 * it (as the server's receive buffer is overwritten by the next recv), so
 * ASan sees any read past a piece or any pointer kept into one.  Checked:
 *
 *	- no memory error, no undefined behaviour, no assertion (reader.c
 *	  asserts its bounds at every copy);
 *	- every slice of a complete request lies in its region of text[];
 *	- the limits hold (URL, head, body, header count);
 *	- the cut does not matter: both feeds see the same requests (method,
 *	  target, headers, body) and end in the same result.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server/http.h"

/* Requests per input kept for the comparison; more are still parsed. */
#define MAX_SEEN 8

/* What one feed saw: a digest of each complete request, then the end. */
struct outcome {
	unsigned nreq;
	uint64_t digest[MAX_SEEN];
	int end;		/* last result: 0 (needs more) or HTTP_E* */
	int eof;		/* http_reader_eof at the end */
};

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void check_slice(const struct http_request *req, struct http_slice s,
			uint32_t lo, uint32_t hi)
{
	if (s.len == 0)
		return;
	assert(s.off >= lo && s.off <= hi && s.len <= hi - s.off);
	(void)req;
}

/* The invariants of a complete request; returns its digest. */
static uint64_t check_request(const struct http_request *req)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned i;

	assert(req->complete);
	assert(req->head_used <= HTTP_HEAD_MAX);
	assert(req->url.len > 0 && req->url.len <= HTTP_URL_MAX);
	assert(req->nheaders <= HTTP_HEADERS_MAX);
	assert(req->major == 1);
	check_slice(req, req->url, 0, req->head_used);
	check_slice(req, req->path, req->url.off, req->url.off + req->url.len);
	assert(req->body.off == HTTP_HEAD_MAX &&
	       req->body.len <= HTTP_BODY_MAX);
	h = mix(h, &req->method, sizeof(req->method));
	h = mix(h, &req->minor, sizeof(req->minor));
	h = mix(h, &req->keep_alive, sizeof(req->keep_alive));
	h = mix(h, http_str(req, req->url), req->url.len);
	for (i = 0; i < req->nheaders; i++) {
		check_slice(req, req->headers[i].name, 0, req->head_used);
		check_slice(req, req->headers[i].value, 0, req->head_used);
		assert(req->headers[i].name.len > 0);
		h = mix(h, http_str(req, req->headers[i].name),
			req->headers[i].name.len);
		h = mix(h, ":", 1);
		h = mix(h, http_str(req, req->headers[i].value),
			req->headers[i].value.len);
	}
	h = mix(h, http_str(req, req->body), req->body.len);
	/* Only a status the server knows how to send. */
	return h;
}

/* The next piece length, 1 to 64, from a xorshift state. */
static uint32_t next_cut(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return 1 + x % 64;
}

/*
 * Feed @data (@size bytes) to a fresh reader in pieces (@seed: 0 means one
 * piece) and record what came out in @out.
 */
static void run(const uint8_t *data, size_t size, uint32_t seed,
		struct http_request *req, struct outcome *out)
{
	struct http_reader rd;
	size_t pos = 0;
	uint32_t state = seed | 1, cut, used, off;
	char *piece;
	int r = 0;

	memset(out, 0, sizeof(*out));
	http_reader_init(&rd);
	http_request_reset(req);
	while (pos < size) {
		cut = seed ? next_cut(&state) : (uint32_t)(size - pos);
		if (cut > size - pos)
			cut = (uint32_t)(size - pos);
		/* Exactly the piece: ASan catches a read past it. */
		piece = malloc(cut);
		assert(piece);
		memcpy(piece, data + pos, cut);
		pos += cut;
		off = 0;
		do {
			used = UINT32_MAX;
			r = http_reader_feed(&rd, req, piece + off, cut - off,
					     &used);
			assert(r < 0 || used <= cut - off);
			if (r == 1) {
				if (out->nreq < MAX_SEEN)
					out->digest[out->nreq] =
						check_request(req);
				out->nreq++;
				http_request_reset(req);
				off += used;
			} else if (r == 0) {
				assert(used == cut - off);
			} else {
				assert(http_error_status(r) != 0);
			}
		} while (r == 1 && off < cut);
		free(piece);
		if (r < 0)
			break;
	}
	out->end = r == 1 ? 0 : r;
	out->eof = r < 0 ? 0 : http_reader_eof(&rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request req;	/* 16 KiB: not on the stack */
	struct outcome whole, cut;
	uint32_t seed;

	if (size < 1)
		return 0;
	seed = data[0] * 0x9e3779b9u + 1;
	run(data + 1, size - 1, 0, &req, &whole);
	run(data + 1, size - 1, seed, &req, &cut);
	if (whole.nreq != cut.nreq || whole.end != cut.end ||
	    whole.eof != cut.eof ||
	    memcmp(whole.digest, cut.digest, sizeof(whole.digest)) != 0) {
		fprintf(stderr, "cut changed the result: %u/%u requests, "
			"end %d/%d, eof %d/%d\n", whole.nreq, cut.nreq,
			whole.end, cut.end, whole.eof, cut.eof);
		abort();
	}
	return 0;
}
