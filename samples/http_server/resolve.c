/* SPDX-License-Identifier: MIT */
/*
 * samples/http_server/resolve.c - open a file beneath the root, so that
 * no name and no symbolic link leads out of it.
 *
 * openat(root_fd, path) alone is no fence: an absolute path ignores
 * root_fd, ".." climbs, and a link inside the root may point anywhere.
 * openat2() with RESOLVE_BENEATH has the kernel refuse all three (-EXDEV)
 * and is race-free against renames.  Where the kernel lacks it (before
 * 5.6: -ENOSYS), or with --resolve walk, the path is walked here one
 * component at a time:
 *
 *	each component	openat(dir, name, O_PATH | O_NOFOLLOW): never
 *			follows anything by itself
 *	a directory	pushed on a stack of open fds
 *	".."		pops the stack; above the root: -EXDEV
 *	a link		read (readlinkat) and its target walked in its
 *			place: absolute: -EXDEV; more than 40: -ELOOP
 *	the last one	openat(dir, name, flags | O_NOFOLLOW)
 *
 * Every step is relative to an fd already known to be beneath the root,
 * and ".." is the stack, never the file system's "..", so a directory
 * moved out of the root while being walked cannot take the walk along.
 * Links are followed as the kernel would (inside the root: nginx does
 * too), so both ways open the same files; tests/fuzz/ checks that.
 *
 * Both block (a directory or inode not in memory is read from disk), so
 * they run on a worker thread.  The loop first tries http_open_cached(),
 * openat2 with RESOLVE_CACHED, which never blocks: a file served before
 * opens without the round trip to a worker.
 */
#define _GNU_SOURCE	/* O_PATH */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http_server/http.h"

#define LINKS_MAX 40		/* the kernel's MAXSYMLINKS */
#define WALK_DEPTH_MAX 64	/* directories deep below the root */
/* -EAGAIN from openat2: a rename raced the lookup; try again a few times. */
#define OPENAT2_TRIES 8

/* openat2 is missing (-ENOSYS once): stop asking.  Shared by the loops. */
static atomic_bool no_openat2;

/* openat2 beneath @root_fd, with @resolve flags on top. */
static int openat2_beneath(int root_fd, const char *path, int flags,
			   uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve,
	};
	long fd;

	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	return fd >= 0 ? (int)fd : -errno;
}

int http_open_openat2(int root_fd, const char *path, int flags)
{
	int fd = -EAGAIN, i;

	for (i = 0; i < OPENAT2_TRIES && fd == -EAGAIN; i++)
		fd = openat2_beneath(root_fd, path, flags, 0);
	return fd;
}

int http_open_cached(int root_fd, const char *path, int flags,
		     enum http_resolve_mode mode)
{
	int fd;

	if (mode != HTTP_RESOLVE_AUTO ||
	    atomic_load_explicit(&no_openat2, memory_order_relaxed))
		return -EAGAIN;
	/* RESOLVE_CACHED: the kernel answers from its caches or says
	 * -EAGAIN, it never waits for a disk. */
	fd = openat2_beneath(root_fd, path, flags, RESOLVE_CACHED);
	/* A kernel without openat2 (-ENOSYS) or RESOLVE_CACHED (-EINVAL,
	 * before 5.12), or a rename race: the worker decides. */
	if (fd == -ENOSYS || fd == -EINVAL)
		return -EAGAIN;
	return fd;
}

/* The walk's state: the rest of the path and the directories so far. */
struct walk {
	int root_fd;
	int dirs[WALK_DEPTH_MAX];	/* owned; dirs[depth - 1] is current */
	unsigned depth;
	unsigned links;
	char rest[PATH_MAX];		/* still to walk, NUL-terminated */
	char tmp[PATH_MAX];
};

static int walk_dir(const struct walk *w)
{
	return w->depth ? w->dirs[w->depth - 1] : w->root_fd;
}

static void walk_release(struct walk *w)
{
	while (w->depth)
		close(w->dirs[--w->depth]);
}

/*
 * The link @fd (opened O_PATH | O_NOFOLLOW) stands in the path before
 * @after: walk its target, then @after.  Returns 0 or -errno.
 */
static int walk_link(struct walk *w, int fd, const char *after)
{
	size_t after_len = strlen(after);
	ssize_t n;

	if (++w->links > LINKS_MAX)
		return -ELOOP;
	n = readlinkat(fd, "", w->tmp, sizeof(w->tmp));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENOENT;
	if (w->tmp[0] == '/')
		return -EXDEV;
	if (after_len == 0) {
		if ((size_t)n >= sizeof(w->rest))
			return -ENAMETOOLONG;
		memcpy(w->rest, w->tmp, (size_t)n);
		w->rest[n] = '\0';
		return 0;
	}
	/* target "/" after: room for both, the slash and the NUL. */
	if ((size_t)n + 1 + after_len + 1 > sizeof(w->tmp))
		return -ENAMETOOLONG;
	w->tmp[n] = '/';
	memcpy(w->tmp + n + 1, after, after_len + 1);
	memcpy(w->rest, w->tmp, (size_t)n + 1 + after_len + 1);
	return 0;
}

int http_open_walk(int root_fd, const char *path, int flags)
{
	struct walk w = { .root_fd = root_fd };
	char name[NAME_MAX + 1];
	const char *p, *end;
	struct stat st;
	size_t len;
	bool last, trailing;
	int fd, r = -ENOENT;

	len = strlen(path);
	if (len == 0)
		return -ENOENT;
	if (path[0] == '/')
		return -EXDEV;
	if (len >= sizeof(w.rest))
		return -ENAMETOOLONG;
	memcpy(w.rest, path, len + 1);
	for (;;) {
		p = w.rest;
		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* Nothing left: the directory reached is the file. */
			r = openat(walk_dir(&w), ".", flags | O_CLOEXEC);
			r = r < 0 ? -errno : r;
			break;
		}
		end = strchrnul(p, '/');
		if ((size_t)(end - p) > NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, (size_t)(end - p));
		name[end - p] = '\0';
		trailing = *end == '/';
		while (*end == '/')
			end++;
		last = *end == '\0';
		/* From here, w.rest may be rewritten: keep the rest. */
		memmove(w.rest, end, strlen(end) + 1);
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (w.depth == 0) {
				r = -EXDEV;
				break;
			}
			close(w.dirs[--w.depth]);
			continue;
		}
		fd = openat(walk_dir(&w), name,
			    O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			break;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			/* "link/" must name a directory, as "link" followed
			 * by more does: keep the slash. */
			if (trailing && last) {
				w.rest[0] = '/';
				w.rest[1] = '\0';
			}
			r = walk_link(&w, fd, w.rest);
			close(fd);
			if (r < 0)
				break;
			continue;
		}
		if (last && !trailing) {
			close(fd);
			r = openat(walk_dir(&w), name,
				   flags | O_NOFOLLOW | O_CLOEXEC);
			r = r < 0 ? -errno : r;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			r = -ENOTDIR;
			break;
		}
		if (w.depth == WALK_DEPTH_MAX) {
			close(fd);
			r = -ENAMETOOLONG;
			break;
		}
		w.dirs[w.depth++] = fd;
	}
	walk_release(&w);
	return r;
}

int http_open_beneath(int root_fd, const char *path, int flags,
		      enum http_resolve_mode mode)
{
	int fd;

	if (mode == HTTP_RESOLVE_AUTO &&
	    !atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		fd = http_open_openat2(root_fd, path, flags);
		if (fd != -ENOSYS)
			return fd;
		atomic_store_explicit(&no_openat2, true,
				      memory_order_relaxed);
	}
	return http_open_walk(root_fd, path, flags);
}
