/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_path.c - libFuzzer over http_server's path mapping and
 * opening (samples/http_server/path.c, resolve.c).
 *
 * A tree is built once in a temporary directory: outside/secret next to
 * root/, and in root/ files, directories and symbolic links that stay
 * inside (sub/back -> ../a.txt, dirlink -> sub, self -> .) or try to leave
 * (up -> .., esc -> sub/../../outside, abs -> /etc, loop -> loop).
 *
 * Input: one byte of mode, then a path.  Mode bit 0 clear: the path is a
 * request path, mapped by http_map_path first (the server's way); set: it
 * goes to the openers as it is (absolute, "..", anything).  Whenever a
 * path is opened, checked:
 *
 *	- http_map_path's result is relative and has no "." or "..";
 *	- openat2(RESOLVE_BENEATH) and the walk agree: both fail, or both
 *	  open the same inode; the cached open (RESOLVE_CACHED), when it
 *	  answers at all, answers the same;
 *	- what was opened lies beneath root/ (its /proc/self/fd name).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_server/http.h"

static int root_fd = -1;
static char root_real[PATH_MAX];
static size_t root_real_len;

static void must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		abort();
	}
}

static void put_file(int dfd, const char *path, const char *text)
{
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);

	must(fd >= 0, path);
	must(write(fd, text, strlen(text)) == (ssize_t)strlen(text), path);
	close(fd);
}

/* Under @top (no chdir: the fuzzer's corpus paths are relative). */
static void build_tree(const char *top)
{
	static const char *const links[][2] = {
		{ "up", ".." },
		{ "abs", "/etc" },
		{ "loop", "loop" },
		{ "self", "." },
		{ "dirlink", "sub" },
		{ "esc", "sub/../../outside" },
		{ "sub/back", "../a.txt" },
		{ "sub/upup", "../.." },
		{ "sub/deep/home", "../../.." },
		{ "sub/deep/ok", "../index.html" },
		{ "sub/slash", "a.txt/" },
		{ "empty_dir_link", "sub/deep/" },
	};
	char path[PATH_MAX];
	int top_fd, dfd;
	size_t i;

	top_fd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	must(top_fd >= 0, top);
	must(mkdirat(top_fd, "outside", 0755) == 0, "outside");
	put_file(top_fd, "outside/secret", "SECRET\n");
	must(mkdirat(top_fd, "root", 0755) == 0, "root");
	dfd = openat(top_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	must(dfd >= 0, "root");
	put_file(dfd, "a.txt", "a\n");
	must(mkdirat(dfd, "sub", 0755) == 0, "sub");
	must(mkdirat(dfd, "sub/deep", 0755) == 0, "sub/deep");
	put_file(dfd, "sub/index.html", "<p>\n");
	put_file(dfd, "sub/deep/f.txt", "f\n");
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		must(symlinkat(links[i][1], dfd, links[i][0]) == 0,
		     links[i][0]);
	root_fd = dfd;
	close(top_fd);
	snprintf(path, sizeof(path), "%s/root", top);
	must(realpath(path, root_real) != NULL, path);
	root_real_len = strlen(root_real);
}

static char top[] = "/tmp/corio-fuzz-path-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* The tree goes when the fuzzer exits (libFuzzer ends with exit()). */
static void remove_tree(void)
{
	nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	must(mkdtemp(top) != NULL, "mkdtemp");
	atexit(remove_tree);
	build_tree(top);
	return 0;
}

/* Whether the open file @fd lies beneath root/. */
static bool beneath_root(int fd)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	must(n > 0, link);
	target[n] = '\0';
	return strncmp(target, root_real, root_real_len) == 0 &&
	       (target[root_real_len] == '\0' ||
		target[root_real_len] == '/');
}

/* The cached open on the loop: when it answers, the same answer. */
static void check_cached(const char *path, int full, const struct stat *st)
{
	int c = http_open_cached(root_fd, path, O_RDONLY | O_NONBLOCK,
				 HTTP_RESOLVE_AUTO);
	struct stat sc;

	if (c == -EAGAIN)
		return;
	if ((c >= 0) != (full >= 0)) {
		fprintf(stderr, "'%s': cached %d, openat2 %d\n", path, c,
			full);
		abort();
	}
	if (c < 0)
		return;
	must(fstat(c, &sc) == 0, "fstat");
	if (sc.st_dev != st->st_dev || sc.st_ino != st->st_ino) {
		fprintf(stderr, "'%s': cached and openat2 differ\n", path);
		abort();
	}
	close(c);
}

static void check_open(const char *path)
{
	int a = http_open_openat2(root_fd, path, O_RDONLY | O_NONBLOCK);
	int b = http_open_walk(root_fd, path, O_RDONLY | O_NONBLOCK);
	struct stat sa, sb;

	if (a == -ENOSYS) {	/* no openat2: the walk alone */
		a = b >= 0 ? dup(b) : b;
	}
	if ((a >= 0) != (b >= 0)) {
		fprintf(stderr, "'%s': openat2 %d, walk %d\n", path, a, b);
		abort();
	}
	if (a < 0) {
		check_cached(path, a, NULL);
		return;
	}
	must(fstat(a, &sa) == 0 && fstat(b, &sb) == 0, "fstat");
	check_cached(path, a, &sa);
	if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino) {
		fprintf(stderr, "'%s': openat2 and walk differ\n", path);
		abort();
	}
	if (!beneath_root(a) || !beneath_root(b)) {
		fprintf(stderr, "'%s' left the root\n", path);
		abort();
	}
	close(a);
	close(b);
}

/* Whether the relative @path has a "." or ".." segment. */
static bool has_dots(const char *path)
{
	const char *p = path, *end;
	size_t n;

	for (;;) {
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return true;
		if (!*end)
			return false;
		p = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char mapped[HTTP_PATH_MAX], raw[PATH_MAX + 16];

	if (size < 1 || size - 1 >= sizeof(raw))
		return 0;
	if (data[0] & 1) {
		memcpy(raw, data + 1, size - 1);
		raw[size - 1] = '\0';
		check_open(raw);
		return 0;
	}
	if (http_map_path((const char *)data + 1, (uint32_t)(size - 1),
			  mapped, sizeof(mapped)) != 0)
		return 0;
	assert(strlen(mapped) < sizeof(mapped));
	assert(mapped[0] != '/' && mapped[0] != '\0');
	assert(!has_dots(mapped));
	check_open(mapped);
	return 0;
}
