/* SPDX-License-Identifier: MIT */
/*
 * cp - copy one file with asynchronous I/O: cp [--read-write] SRC DST.
 *
 * A copy task opens both files and spawns WORKERS worker tasks.  Each
 * worker claims the next piece of the source and copies it to the same
 * offset of the destination, so up to WORKERS pieces are in flight at once
 * and land in whatever order the kernel finishes them.  The copy task
 * joins the workers, then fsyncs and closes.  Any error ends the program
 * with the path, the failing step and corio_strerror(), and exit status 1.
 *
 * A piece is copied inside the kernel when it can be: copy_file_range(2)
 * moves the data from one file's pages to the other's without passing it
 * through user memory (one copy instead of a read's and a write's).  It is
 * a blocking call, so it runs on the loop's worker threads (corio_blocking)
 * in OFFLOAD_PIECE-sized pieces.  Where the kernel cannot do that (another
 * file system on older kernels, special files, files like those in /proc
 * that report size 0) the pieces are read into a frame buffer and written
 * with corio_read and corio_write_all, CHUNK bytes at a time; --read-write
 * copies every file that way.
 * bench/files.sh measures both against coreutils cp.
 */
#define _GNU_SOURCE	/* struct statx */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#define WORKERS 4
#define CHUNK (128 * 1024)		/* per read and write */
#define OFFLOAD_PIECE (8 << 20)	/* per copy_file_range job */

/* Everything the copy task and its workers share; lives in main. */
struct job {
	const char *src_path;
	const char *dst_path;
	int src;		/* fds, -1 when not open */
	int dst;
	int64_t next;		/* offset of the next piece to claim */
	int64_t end;		/* where the source ended: the first empty
				 * read seen; INT64_MAX until then */
	int err;		/* first error, 0 if none */
	const char *err_path;	/* the file @err is about */
	const char *err_step;	/* "read", "write"... */
	bool same_file;		/* DST is SRC under another name */
	bool offload;		/* try copy_file_range; cleared when the
				 * kernel says it cannot */
	bool read_write;	/* --read-write: never try it */
};

/* One copy_file_range job for a worker thread: the piece at @off. */
struct offload {
	int src, dst;
	int64_t off;
	size_t len;
};

/*
 * Runs on a worker thread: copy the piece, retrying short copies.  Bytes
 * copied (fewer only at end of file), or -errno.  A failure after some
 * progress is reported too: the piece is copied again from its start by
 * whatever comes next, which is harmless, while calling it the end of the
 * file would not be.
 */
static intptr_t offload_copy(void *arg)
{
	struct offload *o = arg;
	size_t done = 0;

	while (done < o->len) {
		loff_t in = o->off + (loff_t)done, out = in;
		ssize_t n = copy_file_range(o->src, &in, o->dst, &out,
					    o->len - done, 0);

		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (intptr_t)done;
}

/* Errors that say "not this way", not "this copy failed". */
static bool offload_unsupported(intptr_t err)
{
	return err == -EXDEV || err == -EINVAL || err == -EOPNOTSUPP ||
	       err == -ENOSYS || err == -EBADF;
}

/* Record the first error only: later ones are its consequences. */
static void fail(struct job *job, int err, const char *path,
		 const char *step)
{
	if (job->err)
		return;
	job->err = err;
	job->err_path = path;
	job->err_step = step;
}

/* Copy the CHUNK at @off with a read and a write; 0 or -errno. */
corio_async_static(int, copy_chunk, ((struct job *, job), (int64_t, off)), (
	size_t got;		/* bytes of it read so far */
	ssize_t n;
	char buf[CHUNK];
))
{
	corio_begin();
	/* Only an empty read means end of file: a short one is retried for
	 * the rest of the chunk. */
	for (self->got = 0; self->got < CHUNK; self->got += (size_t)self->n) {
		corio_await(self->n, corio_read_retry, self->job->src,
			    self->buf + self->got, CHUNK - self->got,
			    self->off + (int64_t)self->got);
		if (self->n < 0) {
			fail(self->job, (int)self->n, self->job->src_path,
			     "read");
			corio_return((int)self->n);
		}
		if (self->n == 0) {
			int64_t at = self->off + (int64_t)self->got;

			if (at < self->job->end)
				self->job->end = at;
			break;
		}
	}
	if (!self->got)
		corio_return(0);
	corio_await(self->n, corio_write_all, self->job->dst, self->buf,
		    self->got, self->off);
	if (self->n < 0) {
		fail(self->job, (int)self->n, self->job->dst_path, "write");
		corio_return((int)self->n);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async_static(int, worker, ((struct job *, job)), (
	struct offload req;	/* the worker thread's, while it runs */
	intptr_t n;
	int64_t off, piece, at;
	int r;
))
{
	corio_begin();
	while (!self->job->err && self->job->next < self->job->end) {
		self->off = self->job->next;
		self->piece = self->job->offload ? OFFLOAD_PIECE : CHUNK;
		self->job->next += self->piece;
		if (self->job->offload) {
			self->req = (struct offload){
				self->job->src, self->job->dst, self->off,
				(size_t)self->piece };
			corio_await(self->n, corio_blocking, offload_copy,
				    &self->req);
			if (self->n >= 0) {
				/* Short: the end of the file. */
				self->at = self->off + (int64_t)self->n;
				if (self->n < self->piece &&
				    self->at < self->job->end)
					self->job->end = self->at;
				continue;
			}
			if (!offload_unsupported(self->n)) {
				fail(self->job, (int)self->n,
				     self->job->src_path, "copy_file_range");
				corio_return((int)self->n);
			}
			/* This piece and every later one the slow way. */
			self->job->offload = false;
		}
		/* A piece claimed for offload is copied CHUNK by CHUNK. */
		for (self->at = self->off;
		     !self->job->err && self->at < self->off + self->piece &&
		     self->at < self->job->end; self->at += CHUNK) {
			corio_await(self->r, copy_chunk, self->job, self->at);
			if (self->r < 0)
				corio_return(self->r);
		}
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async_static(int, copy, ((struct job *, job)), (
	struct corio_task *workers[WORKERS];
	struct statx src_st;
	struct statx dst_st;
	int nworkers;
	int i;
	int ret;
	int fd;
))
{
	corio_begin();
	corio_await(self->ret, corio_openat, AT_FDCWD, self->job->src_path,
		    O_RDONLY | O_CLOEXEC, 0);
	if (self->ret < 0) {
		fail(self->job, self->ret, self->job->src_path, "open");
		goto out;
	}
	self->job->src = self->ret;
	corio_await(self->ret, corio_statx, self->job->src, "",
		    AT_EMPTY_PATH,
		    STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE,
		    &self->src_st);
	if (self->ret < 0) {
		fail(self->job, self->ret, self->job->src_path, "stat");
		goto out;
	}
	if (S_ISDIR(self->src_st.stx_mode)) {
		fail(self->job, -EISDIR, self->job->src_path, "open");
		goto out;
	}
	/* Size 0 may be a file made up as it is read (/proc): only the
	 * read path sees its contents. */
	self->job->offload = !self->job->read_write &&
			     S_ISREG(self->src_st.stx_mode) &&
			     self->src_st.stx_size > 0;
	/* Opening the destination truncates it: refuse if it is the
	 * source under another name, as cp(1) does. */
	corio_await(self->ret, corio_statx, AT_FDCWD, self->job->dst_path, 0,
		    STATX_TYPE | STATX_INO, &self->dst_st);
	if (self->ret == 0 &&
	    self->dst_st.stx_dev_major == self->src_st.stx_dev_major &&
	    self->dst_st.stx_dev_minor == self->src_st.stx_dev_minor &&
	    self->dst_st.stx_ino == self->src_st.stx_ino) {
		self->job->same_file = true;
		fail(self->job, -EINVAL, self->job->dst_path, "open");
		goto out;
	}
	corio_await(self->ret, corio_openat, AT_FDCWD, self->job->dst_path,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    self->src_st.stx_mode & 0777);
	if (self->ret < 0) {
		fail(self->job, self->ret, self->job->dst_path, "open");
		goto out;
	}
	self->job->dst = self->ret;

	for (self->i = 0; self->i < WORKERS; self->i++) {
		self->ret = corio_spawn(corio_loop_current(),
					worker__start(NULL, self->job, NULL),
					&self->workers[self->i]);
		if (self->ret < 0) {
			/* The workers already running finish the copy. */
			fail(self->job, self->ret, self->job->src_path,
			     "spawn");
			break;
		}
	}
	self->nworkers = self->i;
	/* I/O errors are in the job already; a status tells more only
	 * when a worker failed as a whole (-ENOMEM starting a child). */
	for (self->i = 0; self->i < self->nworkers; self->i++) {
		corio_await(self->ret, corio_join, self->workers[self->i]);
		if (self->ret < 0)
			fail(self->job, self->ret, self->job->src_path,
			     "copy");
	}
	if (self->job->err)
		goto out;

	corio_await(self->ret, corio_fsync, self->job->dst, 0);
	/* EINVAL: a special file (/dev/null...) that cannot be synced. */
	if (self->ret < 0 && self->ret != -EINVAL) {
		fail(self->job, self->ret, self->job->dst_path, "fsync");
		goto out;
	}
out:
	/* close(2) can report a write error that fsync did not. */
	if (self->job->dst >= 0) {
		self->fd = self->job->dst;
		self->job->dst = -1;
		corio_await(self->ret, corio_close, self->fd);
		if (self->ret < 0)
			fail(self->job, self->ret, self->job->dst_path,
			     "close");
	}
	if (self->job->src >= 0) {
		self->fd = self->job->src;
		self->job->src = -1;
		corio_await_discard(corio_close, self->fd);
	}
	corio_return(self->job->err);
corio_finally:
	/* Only when this frame fails as a whole: no awaits here. */
	if (self->job->dst >= 0)
		close(self->job->dst);
	if (self->job->src >= 0)
		close(self->job->src);
	corio_end();
}

int main(int argc, char **argv)
{
	struct job job = {
		.src = -1,
		.dst = -1,
		.end = INT64_MAX,
	};
	struct corio_loop *loop;
	struct corio_task *t;
	int ret, status;

	/* --read-write: never copy_file_range (to compare, and to test). */
	if (argc == 4 && strcmp(argv[1], "--read-write") == 0) {
		job.read_write = true;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: cp [--read-write] SRC DST\n");
		return 2;
	}
	job.src_path = argv[1];
	job.dst_path = argv[2];
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "cp: %s\n",
			corio_loop_unavailable_reason()[0] ?
			corio_loop_unavailable_reason() : corio_strerror(ret));
		return 1;
	}
	ret = corio_spawn(loop, copy__start(NULL, &job, NULL), &t);
	if (ret == 0)
		ret = corio_loop_run(loop);
	if (ret == 0 && corio_task_reap(t, &status) == 0 && status < 0)
		ret = status;
	if (ret < 0)
		fprintf(stderr, "cp: %s\n", corio_strerror(ret));
	else if (job.same_file)
		fprintf(stderr, "cp: '%s' and '%s' are the same file\n",
			job.src_path, job.dst_path);
	else if (job.err)
		fprintf(stderr, "cp: %s: %s: %s\n", job.err_path, job.err_step,
			corio_strerror(job.err));
	if (corio_loop_destroy(loop) < 0 && ret == 0)
		ret = -EBUSY;
	return ret < 0 || job.err ? 1 : 0;
}
