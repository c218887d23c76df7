/* SPDX-License-Identifier: MIT */
/*
 * cp_await - samples/cp.c written with async/await: copy one file with
 * asynchronous I/O, cp_await SRC DST.
 *
 * A copy task opens both files and spawns WORKERS worker tasks.  Each
 * worker claims the next CHUNK-sized piece of the source, reads it into the
 * buffer in its frame and writes it at the same offset of the destination,
 * so up to WORKERS reads and writes are in flight at once.  The copy task
 * joins the workers, then fsyncs and closes.  Any error ends the program
 * with the path, the failing step and corio_strerror(), and exit status 1,
 * exactly as the macro-DSL version does.
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
#include <corio/await.h>

#define WORKERS 4
#define CHUNK (128 * 1024)

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
};

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

static async int worker(struct job *job)
{
	char buf[CHUNK];

	while (!job->err && job->next < job->end) {
		int64_t off = job->next;
		size_t got;
		ssize_t n = 0;

		job->next += CHUNK;
		/* Only an empty read means end of file: a short one is
		 * retried for the rest of the piece. */
		for (got = 0; got < CHUNK; got += (size_t)n) {
			n = await corio_read(job->src, buf + got, CHUNK - got,
					     off + (int64_t)got);
			if (n < 0) {
				fail(job, (int)n, job->src_path, "read");
				return (int)n;
			}
			if (n == 0) {
				int64_t at = off + (int64_t)got;

				if (at < job->end)
					job->end = at;
				break;
			}
		}
		if (!got)
			break;
		n = await corio_write_all(job->dst, buf, got, off);
		if (n < 0) {
			fail(job, (int)n, job->dst_path, "write");
			return (int)n;
		}
	}
	return 0;
}

static async int copy(struct job *job)
{
	struct corio_task *workers[WORKERS];
	struct statx src_st, dst_st;
	int nworkers, i, ret, fd;

	ret = await corio_openat(AT_FDCWD, job->src_path,
				 O_RDONLY | O_CLOEXEC, 0);
	if (ret < 0) {
		fail(job, ret, job->src_path, "open");
		goto out;
	}
	job->src = ret;
	ret = await corio_statx(job->src, "", AT_EMPTY_PATH,
				STATX_TYPE | STATX_MODE | STATX_INO, &src_st);
	if (ret < 0) {
		fail(job, ret, job->src_path, "stat");
		goto out;
	}
	if (S_ISDIR(src_st.stx_mode)) {
		fail(job, -EISDIR, job->src_path, "open");
		goto out;
	}
	/* Opening the destination truncates it: refuse if it is the
	 * source under another name, as cp(1) does. */
	ret = await corio_statx(AT_FDCWD, job->dst_path, 0,
				STATX_TYPE | STATX_INO, &dst_st);
	if (ret == 0 && dst_st.stx_dev_major == src_st.stx_dev_major &&
	    dst_st.stx_dev_minor == src_st.stx_dev_minor &&
	    dst_st.stx_ino == src_st.stx_ino) {
		job->same_file = true;
		fail(job, -EINVAL, job->dst_path, "open");
		goto out;
	}
	ret = await corio_openat(AT_FDCWD, job->dst_path,
				 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				 src_st.stx_mode & 0777);
	if (ret < 0) {
		fail(job, ret, job->dst_path, "open");
		goto out;
	}
	job->dst = ret;

	for (i = 0; i < WORKERS; i++) {
		ret = corio_spawn(corio_loop_current(),
				  worker__start(NULL, job, NULL), &workers[i]);
		if (ret < 0) {
			/* The workers already running finish the copy. */
			fail(job, ret, job->src_path, "spawn");
			break;
		}
	}
	nworkers = i;
	/* I/O errors are in the job already; a status tells more only when
	 * a worker failed as a whole (-ENOMEM starting a child). */
	for (i = 0; i < nworkers; i++) {
		ret = await corio_join(workers[i]);
		if (ret < 0)
			fail(job, ret, job->src_path, "copy");
	}
	if (job->err)
		goto out;

	ret = await corio_fsync(job->dst, 0);
	/* EINVAL: a special file (/dev/null...) that cannot be synced. */
	if (ret < 0 && ret != -EINVAL) {
		fail(job, ret, job->dst_path, "fsync");
		goto out;
	}
out:
	/* close(2) can report a write error that fsync did not. */
	if (job->dst >= 0) {
		fd = job->dst;
		job->dst = -1;
		ret = await corio_close(fd);
		if (ret < 0)
			fail(job, ret, job->dst_path, "close");
	}
	if (job->src >= 0) {
		fd = job->src;
		job->src = -1;
		await corio_close(fd);
	}
	return job->err;
corio_finally:
	/* Only when this frame fails as a whole: no awaits here. */
	if (job->dst >= 0)
		close(job->dst);
	if (job->src >= 0)
		close(job->src);
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

	if (argc != 3) {
		fprintf(stderr, "usage: cp SRC DST\n");
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
