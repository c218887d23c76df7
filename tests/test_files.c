/* SPDX-License-Identifier: MIT */
/*
 * tests/test_files.c - the path operations (mkdirat, unlinkat, renameat),
 * fallocate and splice against a real file system: what they do, the errors the
 * kernel reports through them, and how they meet a task's deadline and
 * cancellation.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <corio/async.h>

/* A fresh directory under /tmp for each test; removed by rm_tree(). */
static void make_dir(char dir[static 32])
{
	strcpy(dir, "/tmp/corio-files-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tree(const char *dir)
{
	char cmd[96];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	cr_assert(n > 0 && (size_t)n < len, "path too long: %s/%s", dir, name);
}

/* Create @path holding @text, synchronously: test set-up, not under test. */
static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The text in @path, or "" if it does not exist. */
static const char *file_text(const char *path)
{
	static char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return "";
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Run one root task to completion on a fresh loop. */
static void run_one(struct corio_frame *root)
{
	struct corio_loop *loop = corio_loop_current();

	cr_assert_eq(corio_spawn(loop, root, NULL), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
}

/* Run the task @start(dir) on a fresh loop in a fresh directory; its
 * result. */
static int run_in_dir(struct corio_frame *(*start)(struct corio_frame *,
						   const char *, int *))
{
	struct corio_loop *loop = t_loop();
	char dir[32];
	int r = -1;

	make_dir(dir);
	run_one(start(NULL, dir, &r));
	rm_tree(dir);
	t_loop_done(loop);
	return r;
}

/* ---- mkdirat ---------------------------------------------------------- */

corio_async(int, mkdirs, ((const char *, dir)), (
	char a[64], nested[64], missing[64];
	int dfd, r;
	struct statx st;
))
{
	corio_begin();
	path_in(self->a, sizeof self->a, self->dir, "a");
	path_in(self->missing, sizeof self->missing, self->dir, "no/such");
	corio_await(self->r, corio_mkdirat, AT_FDCWD, self->a, 0750);
	cr_assert_eq(self->r, 0, "mkdirat: %s", corio_strerror(self->r));
	corio_await(self->r, corio_statx, AT_FDCWD, self->a, 0,
		    STATX_TYPE | STATX_MODE, &self->st);
	cr_assert_eq(self->r, 0);
	cr_assert(S_ISDIR(self->st.stx_mode));
	/* The umask can only take permissions away. */
	cr_assert_eq(self->st.stx_mode & ~0750 & 07777, 0);

	corio_await(self->r, corio_mkdir, self->a, 0700);
	cr_assert_eq(self->r, -EEXIST, "again: %s", corio_strerror(self->r));
	corio_await(self->r, corio_mkdir, self->missing, 0700);
	cr_assert_eq(self->r, -ENOENT, "missing parent: %s",
		     corio_strerror(self->r));

	/* Relative to a directory fd, which need not be the cwd. */
	corio_await(self->dfd, corio_openat, AT_FDCWD, self->a,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	cr_assert_geq(self->dfd, 0);
	corio_await(self->r, corio_mkdirat, self->dfd, "b", 0700);
	cr_assert_eq(self->r, 0);
	path_in(self->nested, sizeof self->nested, self->a, "b");
	cr_assert(is_dir(self->nested));
	/* A file descriptor that is not a directory. */
	corio_await(self->r, corio_mkdirat, 0x7fff, "c", 0700);
	cr_assert_eq(self->r, -EBADF, "bad dirfd: %s",
		     corio_strerror(self->r));
	corio_await(self->r, corio_close, self->dfd);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, mkdirat_creates_and_reports_eexist_enoent, .timeout = 10)
{
	cr_assert_eq(run_in_dir(mkdirs__start), 0);
}

/* ---- unlinkat ----------------------------------------------------------- */

corio_async(int, unlinks, ((const char *, dir)), (
	char f[64], d[64], inner[64];
	int dfd, r;
))
{
	corio_begin();
	path_in(self->f, sizeof self->f, self->dir, "f");
	path_in(self->d, sizeof self->d, self->dir, "d");
	path_in(self->inner, sizeof self->inner, self->d, "inner");
	put_file(self->f, "x");
	cr_assert_eq(mkdir(self->d, 0700), 0);
	put_file(self->inner, "y");

	/* Directories need AT_REMOVEDIR, files must not have it. */
	corio_await(self->r, corio_unlinkat, AT_FDCWD, self->d, 0);
	cr_assert_eq(self->r, -EISDIR, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_unlinkat, AT_FDCWD, self->f, AT_REMOVEDIR);
	cr_assert_eq(self->r, -ENOTDIR, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_rmdir, self->d);
	cr_assert_eq(self->r, -ENOTEMPTY, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_unlinkat, AT_FDCWD, self->f, 0x4000000);
	cr_assert_eq(self->r, -EINVAL, "unknown flag: %s",
		     corio_strerror(self->r));
	cr_assert(exists(self->f) && exists(self->d), "nothing removed yet");

	corio_await(self->r, corio_unlinkat, AT_FDCWD, self->f, 0);
	cr_assert_eq(self->r, 0);
	cr_assert(!exists(self->f));
	corio_await(self->r, corio_unlink, self->f);
	cr_assert_eq(self->r, -ENOENT, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_unlink, self->inner);
	cr_assert_eq(self->r, 0);
	/* Relative to a directory fd. */
	corio_await(self->dfd, corio_openat, AT_FDCWD, self->d,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	cr_assert_geq(self->dfd, 0);
	put_file(self->inner, "z");
	corio_await(self->r, corio_unlinkat, self->dfd, "inner", 0);
	cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	cr_assert(!exists(self->inner));
	corio_await_discard(corio_close, self->dfd);
	/* A bad pointer is the kernel's -EFAULT, not a crash. */
	corio_await(self->r, corio_unlink, NULL);
	cr_assert_eq(self->r, -EFAULT, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_unlinkat, AT_FDCWD, self->d, AT_REMOVEDIR);
	cr_assert_eq(self->r, 0);
	cr_assert(!exists(self->d));
	corio_await(self->r, corio_rmdir, self->d);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, unlinkat_removes_files_and_directories, .timeout = 10)
{
	int r = run_in_dir(unlinks__start);

	cr_assert_eq(r, -ENOENT, "rmdir of a removed directory: %d", r);
}

/* ---- renameat ----------------------------------------------------------- */

corio_async(int, renames, ((const char *, dir)), (
	char a[64], b[64], c[64], sub[64];
	int dfd, r;
))
{
	corio_begin();
	path_in(self->a, sizeof self->a, self->dir, "a");
	path_in(self->b, sizeof self->b, self->dir, "b");
	path_in(self->c, sizeof self->c, self->dir, "c");
	path_in(self->sub, sizeof self->sub, self->dir, "sub");
	put_file(self->a, "A");
	put_file(self->b, "B");

	/* NOREPLACE refuses an existing target and changes nothing. */
	corio_await(self->r, corio_renameat, AT_FDCWD, self->a, AT_FDCWD,
		    self->b, RENAME_NOREPLACE);
	cr_assert_eq(self->r, -EEXIST, "%s", corio_strerror(self->r));
	cr_assert_str_eq(file_text(self->a), "A");
	cr_assert_str_eq(file_text(self->b), "B");
	/* EXCHANGE swaps. */
	corio_await(self->r, corio_renameat, AT_FDCWD, self->a, AT_FDCWD,
		    self->b, RENAME_EXCHANGE);
	cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	cr_assert_str_eq(file_text(self->a), "B");
	cr_assert_str_eq(file_text(self->b), "A");
	/* Both at once make no sense. */
	corio_await(self->r, corio_renameat, AT_FDCWD, self->a, AT_FDCWD,
		    self->b, RENAME_EXCHANGE | RENAME_NOREPLACE);
	cr_assert_eq(self->r, -EINVAL, "%s", corio_strerror(self->r));
	/* EXCHANGE needs both names. */
	corio_await(self->r, corio_renameat, AT_FDCWD, self->a, AT_FDCWD,
		    self->c, RENAME_EXCHANGE);
	cr_assert_eq(self->r, -ENOENT, "%s", corio_strerror(self->r));

	/* A plain rename replaces the target atomically. */
	corio_await(self->r, corio_rename, self->a, self->b);
	cr_assert_eq(self->r, 0);
	cr_assert(!exists(self->a));
	cr_assert_str_eq(file_text(self->b), "B");
	corio_await(self->r, corio_rename, self->a, self->c);
	cr_assert_eq(self->r, -ENOENT, "%s", corio_strerror(self->r));

	/* Between two directory fds (the new one in another directory). */
	cr_assert_eq(mkdir(self->sub, 0700), 0);
	corio_await(self->dfd, corio_openat, AT_FDCWD, self->sub,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	cr_assert_geq(self->dfd, 0);
	corio_await(self->r, corio_renameat, AT_FDCWD, self->b, self->dfd,
		    "moved", RENAME_NOREPLACE);
	cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	path_in(self->c, sizeof self->c, self->sub, "moved");
	cr_assert_str_eq(file_text(self->c), "B");
	/* A directory cannot move into itself. */
	corio_await(self->r, corio_renameat, AT_FDCWD, self->sub, self->dfd,
		    "loop", 0);
	cr_assert_eq(self->r, -EINVAL, "%s", corio_strerror(self->r));
	corio_await_discard(corio_close, self->dfd);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(files, renameat_flags_and_errors, .timeout = 10)
{
	cr_assert_eq(run_in_dir(renames__start), 0);
}

/* ---- fallocate ---------------------------------------------------------- */

corio_async(int, fallocs, ((const char *, dir)), (
	char f[64], buf[4096];
	int fd, rd, r;
	ssize_t n;
	struct statx st;
))
{
	corio_begin();
	path_in(self->f, sizeof self->f, self->dir, "f");
	corio_await(self->fd, corio_openat, AT_FDCWD, self->f,
		    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(self->fd, 0);

	/* Mode 0 allocates and extends the size. */
	corio_await(self->r, corio_fallocate, self->fd, 0, 0, 1 << 20);
	cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_statx, self->fd, "", AT_EMPTY_PATH,
		    STATX_SIZE | STATX_BLOCKS, &self->st);
	cr_assert_eq(self->r, 0);
	cr_assert_eq(self->st.stx_size, 1 << 20);
	cr_assert_geq(self->st.stx_blocks * 512, 1 << 20);
	/* KEEP_SIZE allocates past the end without moving it. */
	corio_await(self->r, corio_fallocate, self->fd, FALLOC_FL_KEEP_SIZE,
		    1 << 20, 1 << 20);
	cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	corio_await(self->r, corio_statx, self->fd, "", AT_EMPTY_PATH,
		    STATX_SIZE, &self->st);
	cr_assert_eq(self->st.stx_size, 1 << 20);

	/* Punching a hole turns written data back into zeros. */
	memset(self->buf, 'x', sizeof self->buf);
	corio_await(self->n, corio_write, self->fd, self->buf,
		    sizeof self->buf, 8192);
	cr_assert_eq(self->n, (ssize_t)sizeof self->buf);
	corio_await(self->r, corio_fallocate, self->fd,
		    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 4096);
	cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	corio_await(self->n, corio_read, self->fd, self->buf,
		    sizeof self->buf, 8192);
	cr_assert_eq(self->n, (ssize_t)sizeof self->buf);
	cr_assert_eq(self->buf[0], 0);
	cr_assert_eq(self->buf[4095], 0);

	/* Bad ranges, a bad mode, a file not open for writing, a pipe. */
	corio_await(self->r, corio_fallocate, self->fd, 0, 0, 0);
	cr_assert_eq(self->r, -EINVAL, "len 0: %s", corio_strerror(self->r));
	corio_await(self->r, corio_fallocate, self->fd, 0, -4096, 4096);
	cr_assert_eq(self->r, -EINVAL, "off < 0: %s",
		     corio_strerror(self->r));
	corio_await(self->r, corio_fallocate, self->fd, FALLOC_FL_PUNCH_HOLE,
		    0, 4096);
	cr_assert_eq(self->r, -EOPNOTSUPP, "punch without keep-size: %s",
		     corio_strerror(self->r));
	corio_await(self->rd, corio_openat, AT_FDCWD, self->f,
		    O_RDONLY | O_CLOEXEC, 0);
	cr_assert_geq(self->rd, 0);
	corio_await(self->r, corio_fallocate, self->rd, 0, 0, 4096);
	cr_assert_eq(self->r, -EBADF, "read-only fd: %s",
		     corio_strerror(self->r));
	corio_await_discard(corio_close, self->rd);
	corio_await_discard(corio_close, self->fd);
	corio_await(self->r, corio_fallocate, self->fd, 0, 0, 4096);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, fallocate_allocates_punches_and_refuses_bad_ranges, .timeout = 10)
{
	int r = run_in_dir(fallocs__start);

	cr_assert_eq(r, -EBADF, "fallocate after close: %d", r);
}

corio_async(int, falloc_pipe, ((int, fd)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_fallocate, self->fd, 0, 0, 4096);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, fallocate_on_a_pipe_is_espipe, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int fds[2], r = 0;

	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	run_one(falloc_pipe__start(NULL, fds[1], &r));
	cr_assert_eq(r, -ESPIPE, "%s", corio_strerror(r));
	close(fds[0]);
	close(fds[1]);
	t_loop_done(loop);
}

/* ---- splice ------------------------------------------------------------- */

/* A blocking pipe holding @text (fewer bytes than a pipe holds). */
static void pipe_with(int fds[2], const char *text)
{
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	if (*text)
		cr_assert_eq(write(fds[1], text, strlen(text)),
			     (ssize_t)strlen(text));
}

/* A blocking pipe that holds one page, full: a writer has to wait. */
static void full_pipe(int fds[2])
{
	char page[4096];

	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	cr_assert_eq(fcntl(fds[1], F_SETPIPE_SZ, (int)sizeof page),
		     (int)sizeof page);
	memset(page, 'f', sizeof page);
	cr_assert_eq(write(fds[1], page, sizeof page), (ssize_t)sizeof page);
}

/*
 * Pipe to file, then file to file through a pipe: the bytes arrive, at
 * the offsets given, and a pipe whose writer is gone reads as 0.
 */
corio_async(int, splices, ((const char *, dir)), (
	char f[64], g[64];
	int p[2], q[2], fd, gd;
	ssize_t n;
))
{
	corio_begin();
	path_in(self->f, sizeof self->f, self->dir, "f");
	path_in(self->g, sizeof self->g, self->dir, "g");
	pipe_with(self->p, "hello, splice");
	pipe_with(self->q, "");
	corio_await(self->fd, corio_openat, AT_FDCWD, self->f,
		    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(self->fd, 0);
	corio_await(self->gd, corio_openat, AT_FDCWD, self->g,
		    O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(self->gd, 0);

	/* Pipe to file at offset 0: what the pipe holds, not @len. */
	corio_await(self->n, corio_splice, self->p[0], -1, self->fd, 0, 4096,
		    0);
	cr_assert_eq(self->n, 13, "pipe to file: %s",
		     corio_strerror((int)self->n));
	cr_assert_str_eq(file_text(self->f), "hello, splice");

	/* File (from offset 7) to pipe, pipe to file (its position). */
	corio_await(self->n, corio_splice, self->fd, 7, self->q[1], -1, 6,
		    SPLICE_F_MOVE);
	cr_assert_eq(self->n, 6, "file to pipe: %s",
		     corio_strerror((int)self->n));
	corio_await(self->n, corio_splice, self->q[0], -1, self->gd, -1, 4096,
		    0);
	cr_assert_eq(self->n, 6, "pipe to file: %s",
		     corio_strerror((int)self->n));
	cr_assert_str_eq(file_text(self->g), "splice");

	/* The writer gone and the pipe empty: end of input. */
	close(self->p[1]);
	corio_await(self->n, corio_splice, self->p[0], -1, self->fd, -1, 4096,
		    0);
	cr_assert_eq(self->n, 0, "end of input: %s",
		     corio_strerror((int)self->n));
	close(self->p[0]);
	close(self->q[0]);
	close(self->q[1]);
	corio_await_discard(corio_close, self->gd);
	corio_await_discard(corio_close, self->fd);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(files, splice_pipe_to_file_and_file_to_pipe, .timeout = 10)
{
	cr_assert_eq(run_in_dir(splices__start), 0);
}

corio_async(int, splice_errors, ((const char *, dir)), (
	char f[64];
	int p[2], fd, closed;
	ssize_t n;
))
{
	corio_begin();
	path_in(self->f, sizeof self->f, self->dir, "f");
	put_file(self->f, "data");
	pipe_with(self->p, "x");
	corio_await(self->fd, corio_openat, AT_FDCWD, self->f,
		    O_RDWR | O_CLOEXEC, 0);
	cr_assert_geq(self->fd, 0);

	/* Neither end a pipe. */
	corio_await(self->n, corio_splice, self->fd, 0, self->fd, 100, 4, 0);
	cr_assert_eq(self->n, -EINVAL, "two files: %s",
		     corio_strerror((int)self->n));
	/* No such fd, as input and as output. */
	corio_await(self->n, corio_splice, -1, -1, self->p[1], -1, 4, 0);
	cr_assert_eq(self->n, -EBADF, "fd -1: %s",
		     corio_strerror((int)self->n));
	corio_await(self->closed, corio_openat, AT_FDCWD, self->f,
		    O_RDONLY | O_CLOEXEC, 0);
	cr_assert_geq(self->closed, 0);
	corio_await_discard(corio_close, self->closed);
	corio_await(self->n, corio_splice, self->p[0], -1, self->closed, -1,
		    4, 0);
	cr_assert_eq(self->n, -EBADF, "closed fd: %s",
		     corio_strerror((int)self->n));
	/* An offset on the pipe end. */
	corio_await(self->n, corio_splice, self->p[0], 0, self->fd, 0, 4, 0);
	cr_assert_eq(self->n, -ESPIPE, "offset on a pipe: %s",
		     corio_strerror((int)self->n));
	/* Flags splice(2) does not know, io_uring's own among them. */
	corio_await(self->n, corio_splice, self->p[0], -1, self->fd, 0, 4,
		    0x100);
	cr_assert_eq(self->n, -EINVAL, "flag 0x100: %s",
		     corio_strerror((int)self->n));
	corio_await(self->n, corio_splice, self->p[0], -1, self->fd, 0, 4,
		    1u << 31);
	cr_assert_eq(self->n, -EINVAL, "flag 1 << 31: %s",
		     corio_strerror((int)self->n));
	/* Nothing was moved by any of them. */
	cr_assert_str_eq(file_text(self->f), "data");
	corio_await(self->n, corio_splice, self->p[0], -1, self->fd, 0, 4, 0);
	cr_assert_eq(self->n, 1, "%s", corio_strerror((int)self->n));
	/* Empty now: SPLICE_F_NONBLOCK answers instead of waiting. */
	corio_await(self->n, corio_splice, self->p[0], -1, self->fd, 0, 4,
		    SPLICE_F_NONBLOCK);
	cr_assert_eq(self->n, -EAGAIN, "nonblock: %s",
		     corio_strerror((int)self->n));
	close(self->p[0]);
	close(self->p[1]);
	corio_await_discard(corio_close, self->fd);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(files, splice_errors, .timeout = 10)
{
	cr_assert_eq(run_in_dir(splice_errors__start), 0);
}

/* Splice @len bytes from @in to @out (pipes or a file at offset 0). */
corio_async(ssize_t, splice_one, ((int, in), (int64_t, off_in), (int, out),
				  (size_t, len)), (
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_splice, self->in, self->off_in, self->out,
		    -1, self->len, 0);
	corio_return(self->n);
corio_finally:
	corio_end();
}

/*
 * The splicing task waits for the pipe, not the loop: for an empty input,
 * for a full output, and for a full output once the input has data (on
 * epoll it moves from the one end to the other).  @p and @q: input and
 * output pipes.
 */
corio_async(int, feed_and_drain, ((int *, p), (int *, q)), (
	char buf[4096 + 8];
	ssize_t n, got;
))
{
	corio_begin();
	/* The splice waits on the empty input; give it data. */
	corio_await(self->n, corio_write, self->p[1], "abcde", 5, -1);
	cr_assert_eq(self->n, 5);
	/* A turn of the loop: the splice finds the output full. */
	corio_await_discard(corio_sleep, CORIO_MS(5));
	/* Drain the output: the filler, then the five bytes. */
	for (self->got = 0; self->got < 4096 + 5; self->got += self->n) {
		corio_await(self->n, corio_read, self->q[0],
			    self->buf + self->got,
			    sizeof self->buf - (size_t)self->got, -1);
		cr_assert_gt(self->n, 0, "%s", corio_strerror((int)self->n));
	}
	cr_assert_eq(memcmp(self->buf + 4096, "abcde", 5), 0);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(files, splice_waits_for_either_end, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *t;
	ssize_t n = -1;
	int p[2], q[2], r = -1;

	pipe_with(p, "");
	full_pipe(q);
	cr_assert_eq(corio_spawn(loop, splice_one__start(NULL, p[0], -1, q[1],
							 64, &n), &t), 0);
	cr_assert_eq(corio_spawn(loop, feed_and_drain__start(NULL, p, q, &r),
				 NULL), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(n, 5, "%s", corio_strerror((int)n));
	cr_assert_eq(r, 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	t_loop_done(loop);
}

/* Read the filler out of a full pipe, freeing room for a splice. */
corio_async(int, drain_filler, ((int, fd)), (
	char buf[4096];
	ssize_t n;
))
{
	corio_begin();
	corio_await(self->n, corio_read, self->fd, self->buf, sizeof self->buf,
		    -1);
	corio_return(self->n == (ssize_t)sizeof self->buf ? 0 : -1);
corio_finally:
	corio_end();
}

Test(files, splice_from_a_file_waits_for_a_full_pipe, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	char dir[32], f[64], buf[8] = "";
	ssize_t n = -1;
	int q[2], fd, r = -1;

	make_dir(dir);
	path_in(f, sizeof f, dir, "f");
	put_file(f, "0123456789");
	fd = open(f, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	full_pipe(q);
	cr_assert_eq(corio_spawn(loop, splice_one__start(NULL, fd, 2, q[1], 3,
							 &n), NULL), 0);
	cr_assert_eq(corio_spawn(loop, drain_filler__start(NULL, q[0], &r),
				 NULL), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(n, 3, "%s", corio_strerror((int)n));
	cr_assert_eq(read(q[0], buf, sizeof buf), 3);
	cr_assert_str_eq(buf, "234");
	close(fd);
	close(q[0]);
	close(q[1]);
	rm_tree(dir);
	t_loop_done(loop);
}

/* A deadline ends a splice that waits, and nothing moves afterwards. */
corio_async(ssize_t, splice_late, ((int, in), (int, out)), (
	ssize_t n;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_MS(20));
	corio_await(self->n, corio_splice, self->in, -1, self->out, -1, 64, 0);
	corio_return(self->n);
corio_finally:
	corio_end();
}

Test(files, splice_deadline_gives_etime, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	char dir[32], f[64];
	ssize_t n = 0;
	int p[2], fd;

	make_dir(dir);
	path_in(f, sizeof f, dir, "f");
	put_file(f, "");
	fd = open(f, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	pipe_with(p, "");
	run_one(splice_late__start(NULL, p[0], fd, &n));
	cr_assert_eq(n, -ETIME, "%s", corio_strerror((int)n));
	/* Data written after the deadline stays in the pipe. */
	cr_assert_eq(write(p[1], "z", 1), 1);
	cr_assert_str_eq(file_text(f), "");
	close(p[0]);
	close(p[1]);
	close(fd);
	rm_tree(dir);
	t_loop_done(loop);
}

/* ---- bad pointers ------------------------------------------------------- */

/*
 * Every operation on a path answers a NULL path (or statx buffer) with the
 * kernel's -EFAULT, on both backends: epoll checks it once for all of them
 * (the PATH target in runtime/reactor/opdef.h).
 */
corio_async(int, null_paths, ((const char *, dir)), (
	char f[64];
	int r, fd;
	struct statx st;
))
{
	corio_begin();
	path_in(self->f, sizeof self->f, self->dir, "f");
	put_file(self->f, "x");
	corio_await(self->fd, corio_openat, AT_FDCWD, NULL, O_RDONLY, 0);
	cr_assert_eq(self->fd, -EFAULT, "openat: %s", corio_strerror(self->fd));
	corio_await(self->r, corio_statx, AT_FDCWD, NULL, 0, STATX_SIZE,
		    &self->st);
	cr_assert_eq(self->r, -EFAULT, "statx: %s", corio_strerror(self->r));
	corio_await(self->r, corio_statx, AT_FDCWD, self->f, 0, STATX_SIZE,
		    NULL);
	cr_assert_eq(self->r, -EFAULT, "statx buffer: %s",
		     corio_strerror(self->r));
	corio_await(self->r, corio_mkdir, NULL, 0700);
	cr_assert_eq(self->r, -EFAULT, "mkdir: %s", corio_strerror(self->r));
	corio_await(self->r, corio_rename, NULL, self->f);
	cr_assert_eq(self->r, -EFAULT, "rename from: %s",
		     corio_strerror(self->r));
	corio_await(self->r, corio_rename, self->f, NULL);
	cr_assert_eq(self->r, -EFAULT, "rename to: %s",
		     corio_strerror(self->r));
	cr_assert_str_eq(file_text(self->f), "x");
	corio_return(0);
corio_finally:
	corio_end();
}

Test(files, null_paths_are_efault, .timeout = 10)
{
	cr_assert_eq(run_in_dir(null_paths__start), 0);
}

/* ---- deadlines and cancellation ------------------------------------------ */

/* A deadline already past: -ETIME, and the kernel never sees the op. */
corio_async(int, unlink_late, ((const char *, path)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() - 1);
	corio_await(self->r, corio_unlink, self->path);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, past_deadline_gives_etime_and_does_nothing, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	char dir[32], f[64];
	int r = 0;

	make_dir(dir);
	path_in(f, sizeof f, dir, "f");
	put_file(f, "keep");
	run_one(unlink_late__start(NULL, f, &r));
	cr_assert_eq(r, -ETIME, "%s", corio_strerror(r));
	cr_assert_str_eq(file_text(f), "keep");
	rm_tree(dir);
	t_loop_done(loop);
}

/*
 * Flip a directory in and out of existence until the deadline stops the
 * task.  Some ops are in flight when it passes: -ETIME must mean the op
 * did not happen (a cancel that loses the race gives the real result), so
 * the directory is there exactly when the last successful op was mkdir.
 */
corio_async(int, flip_until_deadline, ((const char *, path),
				       (bool *, present)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_MS(20));
	for (;;) {
		if (*self->present)
			corio_await(self->r, corio_rmdir, self->path);
		else
			corio_await(self->r, corio_mkdir, self->path, 0700);
		if (self->r < 0)
			break;
		*self->present = !*self->present;
	}
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, deadline_in_flight_leaves_a_consistent_state, .timeout = 30)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats stats;
	char dir[32], d[64];
	bool present = false;
	int r = 0;

	make_dir(dir);
	path_in(d, sizeof d, dir, "d");
	run_one(flip_until_deadline__start(NULL, d, &present, &r));
	cr_assert_eq(r, -ETIME, "%s", corio_strerror(r));
	cr_assert_eq(is_dir(d), present, "directory %s, last op said %s",
		     is_dir(d) ? "present" : "absent",
		     present ? "present" : "absent");
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.timers, 0);
	rm_tree(dir);
	t_loop_done(loop);
}

/* A deadline far away does not fire, and its timer goes away. */
corio_async(int, mkdir_with_slack, ((const char *, path)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_SEC(10));
	corio_await(self->r, corio_mkdir, self->path, 0700);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(files, deadline_not_reached_is_disarmed, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_loop_stats stats;
	char dir[32], d[64];
	int r = -1;

	make_dir(dir);
	path_in(d, sizeof d, dir, "d");
	run_one(mkdir_with_slack__start(NULL, d, &r));
	cr_assert_eq(r, 0);
	cr_assert(is_dir(d));
	corio_loop_stats(loop, &stats);
	cr_assert_eq(stats.timers, 0);
	rm_tree(dir);
	t_loop_done(loop);
}

/* Rename back and forth until cancelled. */
corio_async(int, shuttle, ((const char *, a), (const char *, b)), (
	int r;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_rename, self->a, self->b);
		cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
		corio_await(self->r, corio_rename, self->b, self->a);
		cr_assert_eq(self->r, 0, "%s", corio_strerror(self->r));
	}
corio_finally:
	corio_end();
}

/* Cancel @victim once it has had @rounds turns, then join it. */
corio_async(int, cancel_later, ((struct corio_task *, victim),
				(int, rounds)), (
	int i, status;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->rounds; self->i++)
		corio_yield();
	corio_task_cancel(self->victim);
	corio_await(self->status, corio_join, self->victim);
	corio_return(self->status);
corio_finally:
	corio_end();
}

/*
 * Cancelling a task in the middle of renames: it unwinds with -ECANCELED
 * after the kernel is done with the op in flight, and the file is left
 * under exactly one of its names with its contents.
 */
Test(files, cancel_during_renames_leaves_one_name, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	char dir[32], a[64], b[64];
	int rounds, status;

	make_dir(dir);
	path_in(a, sizeof a, dir, "a");
	path_in(b, sizeof b, dir, "b");
	put_file(a, "data");
	for (rounds = 0; rounds < 8; rounds++) {
		status = 0;
		cr_assert_eq(corio_spawn(loop, shuttle__start(NULL, a, b, NULL),
					 &victim), 0);
		cr_assert_eq(corio_spawn(loop, cancel_later__start(NULL,
					 victim, rounds, &status), NULL), 0);
		cr_assert_eq(corio_loop_run(loop), 0);
		cr_assert_eq(status, -ECANCELED);
		cr_assert_neq(exists(a), exists(b), "round %d: a %d, b %d",
			      rounds, exists(a), exists(b));
		cr_assert_str_eq(file_text(exists(a) ? a : b), "data");
		/* Start the next round from a known name. */
		if (exists(b))
			cr_assert_eq(rename(b, a), 0);
	}
	rm_tree(dir);
	t_loop_done(loop);
}

/*
 * Cancelling a task whose splice waits on an empty pipe (on epoll, on
 * the end it waits on): it unwinds with -ECANCELED, and data written
 * afterwards stays in the pipe.
 */
Test(files, cancel_during_splice, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	struct corio_task *victim;
	char dir[32], f[64];
	int p[2], fd, status = 0;

	make_dir(dir);
	path_in(f, sizeof f, dir, "f");
	put_file(f, "");
	fd = open(f, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	pipe_with(p, "");
	cr_assert_eq(corio_spawn(loop, splice_one__start(NULL, p[0], -1, fd,
							 64, NULL), &victim), 0);
	cr_assert_eq(corio_spawn(loop, cancel_later__start(NULL, victim, 2,
							   &status), NULL), 0);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(status, -ECANCELED, "%s", corio_strerror(status));
	cr_assert_eq(write(p[1], "z", 1), 1);
	cr_assert_str_eq(file_text(f), "");
	close(p[0]);
	close(p[1]);
	close(fd);
	rm_tree(dir);
	t_loop_done(loop);
}

/* Outside a task the operations refuse with -EPERM, as every await does. */
Test(files, outside_a_task_is_eperm, .timeout = 10)
{
	struct corio_loop *loop = t_loop();
	int r = 0;

	corio_mkdir__start(NULL, "/tmp/corio-never", 0700, &r);
	cr_assert_eq(r, -EPERM);
	cr_assert(!exists("/tmp/corio-never"));
	t_loop_done(loop);
}
