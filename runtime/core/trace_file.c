/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/trace_file.c - trace files: one per path for the whole
 * process, shared by every loop that names it, and the thread that turns
 * their rings into JSON and writes it.
 *
 * A file is a JSON document from the first loop that opens it until the
 * last one that uses it is destroyed; its tail ("]}") is then written and
 * the file closed.  A loop created later with the same path continues
 * the same document: the tail is overwritten, so a program that runs
 * loops one after another (each test, each variant of a benchmark) gets
 * them all in one file, and the file is complete whenever no loop traces.
 * A program that exits with loops alive still gets a complete file: an
 * atexit handler drains the rings and writes the tail.  A forked process
 * never writes into its parent's files: the copies of the parent's loops
 * trace nothing, and a loop it traces to a path its parent traced to
 * writes PATH.PID instead.
 *
 * A size limit (CORIO_TRACE_LIMIT) either stops the trace when the file
 * reaches it ("256M,first"), or keeps only its last part ("256M"): the
 * events then go to two unnamed segment files next to the trace, each at
 * most half the limit, written in turn, and the older one is emptied when
 * the current one is full.  Every segment begins with the names of the
 * tracks live at its start, so that the tasks of a segment are named even
 * when their spawn was in a segment dropped since.  The trace file itself
 * is then written only when complete: the head, an instant saying from
 * when events are kept, the two segments, the tail.
 *
 * Locking: files_lock guards the registry and each file's refs (opening,
 * the last close); a file's own lock guards its rings' consumer side, its
 * buffer and its descriptor.  Order: files_lock, then a file's lock.
 * The loop's thread takes a file's lock only when its ring is full or
 * for a rare event; the writer thread holds it while it formats.
 *
 * Memory: each file keeps its registry entry (path, offsets) for the
 * life of the process, with plain malloc: it is process state, not a
 * loop's, and outlives every loop.
 */
#define _GNU_SOURCE /* copy_file_range, O_TMPFILE, mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/trace_event.h"

#define BUF_BYTES 65536u
/* The smallest size limit: each segment must hold more than track names. */
#define LIMIT_MIN (64u << 10)
/* A trace that stops at its limit stops this much before it: room for
 * the event saying so and an ordinary event (deadlock reports, rare and
 * long, may still go past). */
#define LIMIT_MARGIN 4096
/* A trace without limit that grows past this gets a hint, once. */
#define HINT_BYTES ((off_t)1 << 30)

static const char head[] = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
static const char tail[] = "\n]}\n";

struct corio__trace_file {
	struct corio__trace_file *next;	/* in the registry */
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* the writer thread sleeps on it */
	_Atomic int kicked;		/* a ring asked for a drain */
	struct corio__jbuf jb;		/* JSON on its way to @fd */
	struct corio__tracer *tracers;	/* the loops attached */
	unsigned refs;			/* loops attached (files_lock) */
	uint32_t next_pid;		/* process tracks handed out */
	int fd;				/* -1 while no loop traces */
	int out;			/* where events go: @fd, or the
					 * current segment of a window */
	int err;			/* the first write error, or 0: the
					 * rest of the trace is dropped */
	off_t written;			/* bytes in @out (tail excluded) */
	off_t check_at;			/* @written + buffered bytes at which
					 * limit_check() must run */
	uint64_t limit;			/* bytes; 0: no limit */
	char limit_text[32];		/* as the user wrote it */
	bool keep_first;		/* at the limit: stop (else keep the
					 * last @limit bytes: a window) */
	bool full;			/* stopped at the limit */
	struct {			/* a window (@limit, !@keep_first) */
		int seg[2];		/* segment files; -1: none yet */
		off_t len[2];		/* bytes in the one not current */
		int64_t begin[2];	/* when each began (ns) */
		unsigned cur;		/* the current one */
		unsigned swaps;		/* 2 and more: events were dropped */
	} win;
	off_t end;			/* the file's size once complete */
	bool complete;			/* it holds a whole document of ours
					 * that ends at @end */
	bool exited;			/* completed by the atexit handler, or
					 * inherited: write nothing more */
	bool inherited;			/* the parent process's, copied by
					 * fork(): it has no writer thread
					 * here, and is not ours to write */
	bool quit;			/* the writer thread must end */
	pthread_t thread;
	int64_t epoch;			/* clock origin of its timestamps */
};

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct corio__trace_file *files;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;	/* and atfork */

/* Report the first write error, once; the trace stops there. */
static void write_failed(struct corio__trace_file *f, int err)
{
	if (f->err)
		return;
	f->err = err;
	fprintf(stderr, "corio: cannot write the trace file %s: %s; the rest "
		"of the trace is dropped\n", f->path, strerror(-err));
}

void corio__jb_flush(struct corio__jbuf *jb)
{
	struct corio__trace_file *f = jb->file;
	size_t off = 0;

	while (off < jb->len && !f->err) {
		ssize_t n = pwrite(f->out, jb->buf + off, jb->len - off,
				   f->written);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			write_failed(f, n < 0 ? -errno : -EIO);
			break;
		}
		off += (size_t)n;
		f->written += n;
	}
	jb->len = 0;
}

static bool windowed(const struct corio__trace_file *f)
{
	return f->limit && !f->keep_first;
}

static int64_t trace_now(const struct corio__trace_file *f)
{
	return corio__clock_now() - f->epoch;
}

/* Events go to @fd from @at on, the next without a comma before it. */
static void set_out(struct corio__trace_file *f, int fd, off_t at)
{
	corio__jb_flush(&f->jb);
	f->out = fd;
	f->written = at;
	f->jb.first = at == 0;
}

/*
 * A window's current segment is full: empty the older one and make it
 * current, starting with the names of every live track.
 */
static void window_next(struct corio__trace_file *f)
{
	struct corio__tracer *tr;
	unsigned next = f->win.cur ^ 1;
	off_t seg = (off_t)(f->limit / 2);

	corio__jb_flush(&f->jb);
	f->win.len[f->win.cur] = f->written;
	if (f->err)
		return;
	if (ftruncate(f->win.seg[next], 0) < 0) {
		write_failed(f, -errno);
		return;
	}
	f->win.cur = next;
	f->win.begin[next] = trace_now(f);
	f->win.swaps++;
	set_out(f, f->win.seg[next], 0);
	for (tr = f->tracers; tr; tr = tr->next)
		corio__trace_format_tracks(tr, &f->jb);
	/* More live tracks than half the limit holds: each segment keeps
	 * some events all the same (the file is then larger). */
	f->check_at = (off_t)f->jb.len + LIMIT_MIN / 2 > seg ?
		      (off_t)f->jb.len + LIMIT_MIN / 2 : seg;
}

/* A trace that stops at its limit reached it. */
static void limit_reached(struct corio__trace_file *f)
{
	int64_t ts = trace_now(f);

	corio__jb_event(&f->jb, 'i', f->next_pid, -1, ts);
	corio__jb_raw(&f->jb, ",\"s\":\"g\",\"cat\":\"trace\",\"name\":"
		      "\"trace: the limit is reached, the rest is not traced\","
		      "\"args\":{\"limit\":");
	corio__jb_int(&f->jb, (int64_t)f->limit);
	corio__jb_raw(&f->jb, "}}");
	corio__jb_flush(&f->jb);
	f->full = true;
	fprintf(stderr, "corio: the trace file %s reached its limit of %s "
		"after %.3f s; the rest is not traced\n", f->path,
		f->limit_text, (double)ts / 1e9);
}

/*
 * The file grew to @f->check_at: start a window's next segment, stop a
 * trace at its limit (returns true: drop the events), or give the hint.
 */
static bool limit_check(struct corio__trace_file *f)
{
	if (windowed(f)) {
		window_next(f);
		return false;
	}
	if (f->limit) {
		limit_reached(f);
		return true;
	}
	fprintf(stderr, "corio: the trace file %s has passed 1 GiB; "
		"CORIO_TRACE_LIMIT=SIZE keeps only its last SIZE bytes\n",
		f->path);
	f->check_at = (off_t)INT64_MAX;
	return false;
}

/* Format what @tr's ring holds (dropped once the file failed or stopped
 * at its limit). */
static void drain(struct corio__trace_file *f, struct corio__tracer *tr)
{
	uint64_t at = atomic_load_explicit(&tr->tail, memory_order_relaxed);
	/* acquire: pairs with the producer's release of @head */
	uint64_t end = atomic_load_explicit(&tr->head, memory_order_acquire);

	if (f->err || f->exited || f->full)
		at = end;
	while (at < end) {
		if (corio__unlikely(f->written + (off_t)f->jb.len >=
				    f->check_at) && limit_check(f)) {
			at = end;	/* stopped at the limit */
			break;
		}
		at += corio__trace_format(tr, at, end, &f->jb);
	}
	/* release: the slots are read before the producer may reuse them */
	atomic_store_explicit(&tr->tail, at, memory_order_release);
}

static void drain_all(struct corio__trace_file *f)
{
	struct corio__tracer *tr;

	for (tr = f->tracers; tr; tr = tr->next)
		drain(f, tr);
}

static void *writer(void *arg)
{
	struct corio__trace_file *f = arg;
	struct timespec until;

	pthread_mutex_lock(&f->lock);
	while (!f->quit) {
		atomic_store_explicit(&f->kicked, 0, memory_order_relaxed);
		drain_all(f);
		corio__jb_flush(&f->jb);	/* the file is current */
		if (f->quit || atomic_load_explicit(&f->kicked,
						    memory_order_relaxed))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += CORIO__TRACE_PERIOD_NS;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->wake, &f->lock, &until);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Copy the first @len bytes of @from to the file's output. */
static void copy_segment(struct corio__trace_file *f, int from, off_t len)
{
	off_t in = 0;
	ssize_t n;

	while (in < len && !f->err) {
		n = copy_file_range(from, &in, f->out, &f->written,
				    (size_t)(len - in), 0);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			      errno == ENOSYS || errno == EOPNOTSUPP)) {
			/* No copy in the kernel: through the buffer. */
			n = pread(from, f->jb.buf,
				  len - in < (off_t)f->jb.cap ?
				  (size_t)(len - in) : f->jb.cap, in);
			if (n > 0) {
				f->jb.len = (size_t)n;
				in += n;
				corio__jb_flush(&f->jb);
				continue;
			}
		}
		write_failed(f, n < 0 ? -errno : -EIO);
	}
}

/*
 * A window's document: the head, the instant saying from when events are
 * kept (when some were dropped), the older segment, the current one, the
 * tail.  A loop that attaches later goes on in the current segment.
 */
static void window_complete(struct corio__trace_file *f)
{
	unsigned cur = f->win.cur, old = cur ^ 1, i;
	bool dropped = f->win.swaps >= 2, comma = dropped;

	corio__jb_flush(&f->jb);
	f->win.len[cur] = f->written;
	if (f->err)
		return;
	if (ftruncate(f->fd, 0) < 0) {
		write_failed(f, -errno);
		return;
	}
	set_out(f, f->fd, 0);
	corio__jb_raw(&f->jb, head);
	if (dropped) {
		corio__jb_event(&f->jb, 'i', f->next_pid, -1,
				f->win.begin[old]);
		corio__jb_raw(&f->jb, ",\"s\":\"g\",\"cat\":\"trace\",\"name\":"
			      "\"trace: the events before are dropped\","
			      "\"args\":{\"limit\":");
		corio__jb_int(&f->jb, (int64_t)f->limit);
		corio__jb_raw(&f->jb, "}}");
	}
	for (i = 0; i < 2; i++) {
		unsigned k = i ? cur : old;

		if (!f->win.len[k])
			continue;
		if (comma)
			corio__jb_raw(&f->jb, ",");
		corio__jb_flush(&f->jb);
		copy_segment(f, f->win.seg[k], f->win.len[k]);
		comma = true;
	}
	corio__jb_raw(&f->jb, tail);
	corio__jb_flush(&f->jb);
	if (dropped && !f->err)
		fprintf(stderr, "corio: the trace file %s holds the last %.3f s "
			"(CORIO_TRACE_LIMIT=%s); the events before were "
			"dropped\n", f->path,
			(double)(trace_now(f) - f->win.begin[old]) / 1e9,
			f->limit_text);
	set_out(f, f->win.seg[cur], f->win.len[cur]);
}

/*
 * Write the tail: the document is complete.  A loop that attaches later
 * continues it from where the tail starts (reopen()).
 */
static void complete(struct corio__trace_file *f)
{
	struct stat st;
	off_t body;

	if (windowed(f)) {
		window_complete(f);
		return;
	}

	corio__jb_flush(&f->jb);
	body = f->written;
	corio__jb_raw(&f->jb, tail);
	corio__jb_flush(&f->jb);
	if (f->err)
		return;
	f->end = f->written;
	f->written = body;
	f->complete = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* The program exits with loops still traced: complete their files. */
static void complete_at_exit(void)
{
	struct corio__trace_file *f;

	pthread_mutex_lock(&files_lock);
	for (f = files; f; f = f->next) {
		if (!f->refs || f->exited)
			continue;
		pthread_mutex_lock(&f->lock);
		drain_all(f);
		complete(f);
		f->exited = true;
		pthread_mutex_unlock(&f->lock);
	}
	pthread_mutex_unlock(&files_lock);
}

/*
 * fork() takes every lock first, so that the child finds the files in a
 * consistent state; the child keeps them only as the parent's (see the
 * top of the file).
 */
static void fork_prepare(void)
{
	struct corio__trace_file *f;

	pthread_mutex_lock(&files_lock);
	for (f = files; f; f = f->next)
		pthread_mutex_lock(&f->lock);
}

static void fork_parent(void)
{
	struct corio__trace_file *f;

	for (f = files; f; f = f->next)
		pthread_mutex_unlock(&f->lock);
	pthread_mutex_unlock(&files_lock);
}

static void fork_child(void)
{
	struct corio__trace_file *f;

	for (f = files; f; f = f->next) {
		f->inherited = true;
		f->exited = true;
		f->jb.len = 0;	/* the parent writes what it buffered */
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		for (unsigned i = 0; i < 2; i++) {
			if (f->win.seg[i] >= 0)
				close(f->win.seg[i]);
			f->win.seg[i] = -1;
		}
		pthread_mutex_unlock(&f->lock);
	}
	pthread_mutex_unlock(&files_lock);
}

static void register_handlers(void)
{
	atexit(complete_at_exit);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static struct corio__trace_file *file_find(const char *path)
{
	struct corio__trace_file *f;

	for (f = files; f && strcmp(f->path, path); f = f->next)
		;
	return f;
}

static struct corio__trace_file *file_new(const char *path,
					  const struct corio__trace_file *lim)
{
	struct corio__trace_file *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	if (!f)
		return NULL;
	f->limit = lim->limit;
	f->keep_first = lim->keep_first;
	memcpy(f->limit_text, lim->limit_text, sizeof(f->limit_text));
	f->win.seg[0] = f->win.seg[1] = -1;
	f->path = strdup(path);
	f->jb.buf = malloc(BUF_BYTES);
	if (!f->path || !f->jb.buf) {
		free(f->path);
		free(f->jb.buf);
		free(f);
		return NULL;
	}
	f->jb.cap = BUF_BYTES;
	f->jb.file = f;
	f->fd = -1;
	f->out = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	f->next = files;
	files = f;
	return f;
}

/*
 * Reopen a document this process completed, to continue it: only when
 * the file is still exactly as we left it.  Returns the fd or -1.
 */
static int reopen(struct corio__trace_file *f)
{
	struct stat st;
	int fd;

	if (!f->complete)
		return -1;
	fd = open(f->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size != f->end ||
	    lseek(fd, f->written, SEEK_SET) != f->written) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A new document: no error, no event, a clock that starts now. */
static void document_new(struct corio__trace_file *f)
{
	f->err = 0;
	f->full = false;
	f->jb.len = 0;
	f->next_pid = 0;
	f->epoch = corio__clock_now();
}

/*
 * An unnamed file for a window's segment, in the directory of the trace
 * (where there is room for it).  The fd or -errno.
 */
static int segment_open(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s",
				  (int)(slash - path) + (slash == path),
				  path) >= sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd >= 0 ? fd : -errno;
	/* A file system without O_TMPFILE: a named file, unlinked. */
	if ((size_t)snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir),
			     "/.corio-trace-XXXXXX") >= sizeof(dir))
		return -ENAMETOOLONG;
	fd = mkostemp(dir, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(dir);
	return fd;
}

/* Open the trace file of a window, and its segments the first time. */
static int window_open(struct corio__trace_file *f, char *why, size_t whylen)
{
	bool first = f->win.seg[0] < 0;
	int ret, i;

	f->fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC |
		     (first ? O_TRUNC : 0), 0644);
	if (f->fd < 0)
		return -errno;
	if (!first)
		return 0;
	for (i = 0; i < 2; i++) {
		f->win.seg[i] = ret = segment_open(f->path);
		if (ret < 0) {
			snprintf(why, whylen, "trace file %s: cannot create "
				 "its segments (CORIO_TRACE_LIMIT) in its "
				 "directory: %s", f->path, strerror(-ret));
			if (i)
				close(f->win.seg[0]);
			f->win.seg[0] = -1;
			close(f->fd);
			f->fd = -1;
			return ret;
		}
	}
	document_new(f);
	f->win.cur = 0;
	f->win.swaps = 0;
	f->win.begin[0] = 0;
	set_out(f, f->win.seg[0], 0);
	f->check_at = (off_t)(f->limit / 2);
	return 0;
}

/* Open the trace file to continue its document, or to start one. */
static int plain_open(struct corio__trace_file *f)
{
	f->fd = reopen(f);
	if (f->fd >= 0) {
		f->out = f->fd;
		return 0;
	}
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0)
		return -errno;
	document_new(f);
	set_out(f, f->fd, 0);
	corio__jb_raw(&f->jb, head);
	f->jb.first = true;
	f->check_at = f->limit ? (off_t)f->limit - LIMIT_MARGIN : HINT_BYTES;
	return 0;
}

/* Open @f's file and start its writer thread.  0 or -errno. */
static int file_open(struct corio__trace_file *f, char *why, size_t whylen)
{
	sigset_t all, old;
	int ret;

	*why = '\0';
	ret = windowed(f) ? window_open(f, why, whylen) : plain_open(f);
	if (ret < 0) {
		if (!*why)
			snprintf(why, whylen, "cannot open the trace file "
				 "%s: %s", f->path, strerror(-ret));
		return ret;
	}
	f->complete = false;
	f->exited = false;
	f->quit = false;
	/* The thread takes no signal: a program may count on the loop's
	 * thread (its signalfd) for them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&f->thread, NULL, writer, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(why, whylen, "trace file %s: cannot start its writer "
			 "thread: %s", f->path, strerror(-ret));
		close(f->fd);
		f->fd = -1;
		f->out = -1;
		return ret;
	}
	pthread_once(&atexit_once, register_handlers);
	return 0;
}

/*
 * Parse a size limit into @lim: "" or "0" (none), a number of bytes with
 * an optional K, M or G (binary), then optionally ",first".  0 or -EINVAL.
 */
static int parse_limit(const char *text, struct corio__trace_file *lim)
{
	unsigned long long v;
	char *end;

	lim->limit = 0;
	lim->keep_first = false;
	if (!text || !*text)
		return 0;
	if (strlen(text) >= sizeof(lim->limit_text) || *text < '0' ||
	    *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	switch (*end) {
	case 'K': case 'k': v = v > (1ull << 53) ? 0 : v << 10; end++; break;
	case 'M': case 'm': v = v > (1ull << 43) ? 0 : v << 20; end++; break;
	case 'G': case 'g': v = v > (1ull << 33) ? 0 : v << 30; end++; break;
	}
	if (!strcmp(end, ",first"))
		lim->keep_first = true;
	else if (*end)
		return -EINVAL;
	if (errno || (v && v < LIMIT_MIN) || v > (1ull << 62))
		return -EINVAL;
	lim->limit = v;
	snprintf(lim->limit_text, sizeof(lim->limit_text), "%s", text);
	return 0;
}

int corio__trace_file_attach(struct corio__tracer *tr, const char *path,
			     const char *limit, char *why, size_t whylen)
{
	struct corio__trace_file *f, lim;
	char own[PATH_MAX + 16];
	int ret = 0;

	if (parse_limit(limit, &lim) < 0) {
		snprintf(why, whylen, "trace file %s: the size limit '%.40s' "
			 "is not a size of at least 64K, like 256M (keep the "
			 "last 256 MiB) or 256M,first (stop there)", path,
			 limit);
		return -EINVAL;
	}
	pthread_mutex_lock(&files_lock);
	f = file_find(path);
	if (f && f->inherited) {
		/* The parent's document: this process writes its own. */
		if ((size_t)snprintf(own, sizeof(own), "%s.%d", path,
				     (int)getpid()) >= sizeof(own)) {
			snprintf(why, whylen, "trace file %s: name too long",
				 path);
			ret = -ENAMETOOLONG;
			goto out;
		}
		path = own;
		f = file_find(path);
	}
	if (!f)
		f = file_new(path, &lim);
	if (!f) {
		snprintf(why, whylen, "trace file %s: out of memory", path);
		ret = -ENOMEM;
		goto out;
	}
	if (!f->refs) {
		ret = file_open(f, why, whylen);
		if (ret)
			goto out;
	}
	f->refs++;
	pthread_mutex_lock(&f->lock);
	tr->file = f;
	tr->pid = ++f->next_pid;
	tr->epoch = f->epoch;
	tr->next = f->tracers;
	f->tracers = tr;
	corio__trace_format_process(tr, &f->jb);
	pthread_mutex_unlock(&f->lock);
out:
	pthread_mutex_unlock(&files_lock);
	return ret;
}

void corio__trace_file_detach(struct corio__tracer *tr)
{
	struct corio__trace_file *f = tr->file;
	struct corio__tracer **p;
	bool last;

	pthread_mutex_lock(&files_lock);
	pthread_mutex_lock(&f->lock);
	drain(f, tr);
	for (p = &f->tracers; *p != tr; p = &(*p)->next)
		;
	*p = tr->next;
	last = --f->refs == 0;
	if (last)
		f->quit = true;
	pthread_mutex_unlock(&f->lock);
	if (last && !f->inherited) {
		pthread_cond_signal(&f->wake);
		pthread_join(f->thread, NULL);
		if (!f->exited)
			complete(f);
		close(f->fd);
		f->fd = -1;
	}
	pthread_mutex_unlock(&files_lock);
}

void corio__trace_file_kick(struct corio__trace_file *f)
{
	atomic_store_explicit(&f->kicked, 1, memory_order_relaxed);
	pthread_cond_signal(&f->wake);
}

void corio__trace_file_drain(struct corio__tracer *tr)
{
	struct corio__trace_file *f = tr->file;

	pthread_mutex_lock(&f->lock);
	drain(f, tr);
	pthread_mutex_unlock(&f->lock);
}

struct corio__jbuf *corio__trace_file_lock(struct corio__trace_file *f)
{
	pthread_mutex_lock(&f->lock);
	if (!f->err && !f->exited && !f->full &&
	    !(f->written + (off_t)f->jb.len >= f->check_at && limit_check(f)))
		return &f->jb;
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

void corio__trace_file_unlock(struct corio__trace_file *f)
{
	pthread_mutex_unlock(&f->lock);
}
