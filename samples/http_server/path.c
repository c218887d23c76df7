/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/path.c - a request path as a file name relative to
 * --root.
 *
 * The path is decoded first and checked after: a check before decoding
 * misses what decoding produces ("/%2fetc/passwd" is "//etc/passwd", and
 * stripping the leading slash before decoding once let it through as the
 * absolute "/etc/passwd").  After decoding, every leading slash goes and
 * no "." or ".." segment may remain.  That only names the file: the
 * opening itself is http_open_beneath()'s (resolve.c), which the kernel
 * (or the walk) keeps inside the root whatever the name and the links on
 * the way say.  Two independent fences, each enough on its own.
 */
#include <string.h>

#include "http_server/http.h"

#define INDEX_FILE "index.html"

/* Whether the decoded @path (@len bytes) has a "." or ".." segment. */
static bool has_dot_segment(const char *path, size_t len)
{
	size_t i = 0, start, n;

	while (i <= len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if ((n == 1 && path[start] == '.') ||
		    (n == 2 && path[start] == '.' && path[start + 1] == '.'))
			return true;
		i++;
	}
	return false;
}

int http_map_path(const char *src, uint32_t len, char *dst, size_t size)
{
	size_t n = 0, skip = 0;
	uint32_t i;
	int hi, lo;
	char ch;

	if (size == 0)
		return 414;
	/* An absolute-form target without a path ("http://host") means
	 * the root; any other path is origin-form, "/...". */
	if (len > 0 && src[0] != '/')
		return 400;
	for (i = 0; i < len; i++) {
		ch = src[i];
		if (ch == '%') {
			if (len - i < 3)
				return 400;
			hi = http_hex_digit((unsigned char)src[i + 1]);
			lo = http_hex_digit((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return 400;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\0')
			return 400;
		/* Room for this byte and the NUL. */
		if (n >= size - 1)
			return 414;
		dst[n++] = ch;
	}
	/* Relative to the root: no leading slash, decoded or not. */
	while (skip < n && dst[skip] == '/')
		skip++;
	n -= skip;
	memmove(dst, dst + skip, n);
	if (has_dot_segment(dst, n))
		return 403;
	if (n == 0 || dst[n - 1] == '/') {
		if (sizeof(INDEX_FILE) > size - n)
			return 414;
		memcpy(dst + n, INDEX_FILE, sizeof(INDEX_FILE) - 1);
		n += sizeof(INDEX_FILE) - 1;
	}
	dst[n] = '\0';
	return 0;
}
