/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/static.c - files under the --root directory.
 *
 * A request path is decoded and checked by http_map_path (path.c), then
 * opened by http_open_cached (resolve.c) on the loop or, when the kernel's
 * caches cannot tell, http_open_beneath on a worker thread
 * (corio_blocking): openat2's RESOLVE_BENEATH, or the walk, keeps every
 * step inside the root, symbolic links included; a link inside the root
 * that stays inside is followed, as nginx does by default.  The file is
 * read with corio_read straight into the connection's output buffer,
 * behind its head: a small file leaves in the same send as the head.
 */
#define _GNU_SOURCE	/* struct statx */
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_server/http.h"

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
	case -EXDEV:	/* it would leave the root */
		return 403;
	case -ENAMETOOLONG:
		return 414;
	default:
		return 500;
	}
}

/* An open on a worker thread.  The worker stores the fd here itself: a
 * task cancelled meanwhile never sees the result, its cleanup closes it. */
struct open_job {
	int root_fd;
	enum http_resolve_mode resolve;
	const char *path;
	int fd;			/* the result: an fd or -errno */
};

/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
#define OPEN_FLAGS (O_RDONLY | O_NOCTTY | O_NONBLOCK)

static intptr_t open_job_run(void *arg)
{
	struct open_job *job = arg;

	job->fd = http_open_beneath(job->root_fd, job->path, OPEN_FLAGS,
				    job->resolve);
	return job->fd;
}

corio_async(int, http_serve_file, ((struct http_conn *, c),
				   (const struct http_request *, req),
				   (int, root_fd),
				   (enum http_resolve_mode, resolve)), (
	char path[HTTP_PATH_MAX];
	struct open_job job;
	struct statx st;
	uint64_t off;
	intptr_t opened;
	ssize_t n;
	int fd;
	int status;
	int r;
))
{
	corio_begin();
	self->fd = -1;
	self->job.fd = -1;
	self->status = http_map_path(http_str(self->req, self->req->path),
				     self->req->path.len, self->path,
				     sizeof(self->path));
	if (self->status)
		goto refuse;
	/* From the kernel's caches on the loop; a worker when that cannot
	 * tell (a first request for the file, no openat2, --resolve walk). */
	self->opened = http_open_cached(self->root_fd, self->path, OPEN_FLAGS,
					self->resolve);
	if (self->opened >= 0) {
		self->fd = (int)self->opened;
	} else if (self->opened == -EAGAIN) {
		self->job = (struct open_job){ .root_fd = self->root_fd,
					       .resolve = self->resolve,
					       .path = self->path, .fd = -1 };
		corio_await(self->opened, corio_blocking, open_job_run,
			    &self->job);
		/* The fd is the frame's from here (closed on every way
		 * out). */
		self->fd = self->job.fd;
		self->job.fd = -1;
	}
	if (self->opened < 0) {
		self->status = open_status((int)self->opened);
		goto refuse;
	}
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
	if (self->job.fd >= 0)
		close(self->job.fd);
	corio_end();
}
