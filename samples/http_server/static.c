/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/static.c - files under the --root directory.
 *
 * A request path is decoded and checked before it reaches the file
 * system: no "." or ".." segment survives, so a path cannot climb out of
 * the root however it is encoded ("/%2e%2e/", "/a/..%2f..").  Symbolic
 * links inside the root are followed, as nginx does by default: whoever
 * placed them there trusted their target.  The file is read with
 * corio_read straight into the connection's output buffer, behind its
 * head: a small file leaves in the same send as the head.
 */
#define _GNU_SOURCE	/* struct statx */
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_server/http.h"

#define INDEX_FILE "index.html"

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

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
	size_t n = 0;
	uint32_t i = 0;
	int hi, lo;
	char ch;

	/* An absolute-form target without a path ("http://host") means
	 * the root. */
	if (len > 0 && src[0] != '/')
		return 400;
	/* Leading slashes: the path is relative to the root. */
	while (i < len && src[i] == '/')
		i++;
	for (; i < len; i++) {
		ch = src[i];
		if (ch == '%') {
			if (len - i < 3)
				return 400;
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return 400;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\0')
			return 400;
		if (n + 1 >= size)
			return 414;
		dst[n++] = ch;
	}
	if (has_dot_segment(dst, n))
		return 403;
	if (n == 0 || dst[n - 1] == '/') {
		if (n + sizeof(INDEX_FILE) > size)
			return 414;
		memcpy(dst + n, INDEX_FILE, sizeof(INDEX_FILE) - 1);
		n += sizeof(INDEX_FILE) - 1;
	}
	dst[n] = '\0';
	return 0;
}

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "css", "text/css" },
	{ "js", "text/javascript" },
	{ "json", "application/json" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "ico", "image/x-icon" },
	{ "webp", "image/webp" },
	{ "pdf", "application/pdf" },
	{ "wasm", "application/wasm" },
};

const char *http_content_type(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot && (!slash || dot > slash)) {
		for (i = 0; i < sizeof(content_types) /
				sizeof(content_types[0]); i++)
			if (strcasecmp(dot + 1, content_types[i].ext) == 0)
				return content_types[i].type;
	}
	return "application/octet-stream";
}

/* The status for a failed open of a mapped path. */
static int open_status(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
		return 404;
	case -EACCES:
	case -EPERM:
	case -ELOOP:
		return 403;
	case -ENAMETOOLONG:
		return 414;
	default:
		return 500;
	}
}

corio_async(int, http_serve_file, ((struct http_conn *, c),
				   (const struct http_request *, req),
				   (int, root_fd)), (
	char path[HTTP_PATH_MAX];
	struct statx st;
	uint64_t off;
	ssize_t n;
	int fd;
	int status;
	int r;
))
{
	corio_begin();
	self->fd = -1;
	self->status = http_map_path(http_str(self->req, self->req->path),
				     self->req->path.len, self->path,
				     sizeof(self->path));
	if (self->status)
		goto refuse;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	corio_await(self->r, corio_openat, self->root_fd, self->path,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	if (self->r < 0) {
		self->status = open_status(self->r);
		goto refuse;
	}
	self->fd = self->r;
	corio_await(self->r, corio_statx, self->fd, "", AT_EMPTY_PATH,
		    STATX_TYPE | STATX_SIZE, &self->st);
	if (self->r < 0) {
		self->status = 500;
		goto refuse;
	}
	if (!S_ISREG(self->st.stx_mode)) {
		self->status = S_ISDIR(self->st.stx_mode) ? 404 : 403;
		goto refuse;
	}
	/* A regular file: io_uring must wait for the disk, not answer
	 * -EAGAIN, so the read goes back to blocking mode. */
	if (fcntl(self->fd, F_SETFL, 0) < 0) {
		self->status = 500;
		goto refuse;
	}
	if (http_out_room(self->c) < HTTP_HEAD_ROOM) {
		corio_await(self->r, http_flush, self->c);
		if (self->r < 0)
			corio_return(self->r);
	}
	http_put_head(self->c, self->req, 200,
		      http_content_type(self->path), self->st.stx_size, NULL);
	if (self->req->method == HTTP_HEAD)
		goto done;
	for (self->off = 0; self->off < self->st.stx_size;
	     self->off += (uint64_t)self->n) {
		if (http_out_room(self->c) == 0) {
			corio_await(self->r, http_flush, self->c);
			if (self->r < 0)
				corio_return(self->r);
		}
		corio_await(self->n, corio_read_retry, self->fd,
			    self->c->out + self->c->out_len,
			    self->st.stx_size - self->off <
				    http_out_room(self->c) ?
				    self->st.stx_size - self->off :
				    http_out_room(self->c),
			    (int64_t)self->off);
		/* The head promised stx_size bytes: a file that shrank (or
		 * fails) leaves no way but to close the connection. */
		if (self->n <= 0)
			corio_return(self->n < 0 ? (int)self->n : -EIO);
		self->c->out_len += (uint32_t)self->n;
	}
	goto done;
refuse:
	corio_await(self->r, http_reply_error, self->c, self->req,
		    self->status, NULL);
	if (self->r < 0)
		corio_return(self->r);
done:
	if (self->fd >= 0) {
		self->r = self->fd;
		self->fd = -1;
		corio_await_discard(corio_close, self->r);
	}
	corio_return(0);
corio_finally:
	if (self->fd >= 0)
		close(self->fd);
	corio_end();
}
