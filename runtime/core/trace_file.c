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
	int err;			/* the first write error, or 0: the
					 * rest of the trace is dropped */
	off_t written;			/* bytes in the file, tail excluded */
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
		ssize_t n = write(f->fd, jb->buf + off, jb->len - off);

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

/* Format what @tr's ring holds (dropped once the file failed). */
static void drain(struct corio__trace_file *f, struct corio__tracer *tr)
{
	uint64_t at = atomic_load_explicit(&tr->tail, memory_order_relaxed);
	/* acquire: pairs with the producer's release of @head */
	uint64_t end = atomic_load_explicit(&tr->head, memory_order_acquire);

	if (f->err || f->exited)
		at = end;
	while (at < end)
		at += corio__trace_format(tr, at, end, &f->jb);
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

/*
 * Write the tail: the document is complete.  A loop that attaches later
 * continues it from where the tail starts (reopen()).
 */
static void complete(struct corio__trace_file *f)
{
	struct stat st;
	off_t body;

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

static struct corio__trace_file *file_new(const char *path)
{
	struct corio__trace_file *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	if (!f)
		return NULL;
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

/* Open @f's file and start its writer thread.  0 or -errno. */
static int file_open(struct corio__trace_file *f, char *why, size_t whylen)
{
	sigset_t all, old;
	int ret;

	f->fd = reopen(f);
	if (f->fd < 0) {
		f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
		if (f->fd < 0) {
			ret = -errno;
			snprintf(why, whylen, "cannot open the trace file "
				 "%s: %s", f->path, strerror(-ret));
			return ret;
		}
		f->err = 0;
		f->written = 0;
		f->jb.len = 0;
		f->jb.first = true;
		f->next_pid = 0;
		f->epoch = corio__clock_now();
		corio__jb_raw(&f->jb, head);
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
		return ret;
	}
	pthread_once(&atexit_once, register_handlers);
	return 0;
}

int corio__trace_file_attach(struct corio__tracer *tr, const char *path,
			     const char *desc, char *why, size_t whylen)
{
	struct corio__trace_file *f;
	char own[PATH_MAX + 16];
	int ret = 0;

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
		f = file_new(path);
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
	corio__trace_format_process(tr, desc, &f->jb);
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
	if (!f->err && !f->exited)
		return &f->jb;
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

void corio__trace_file_unlock(struct corio__trace_file *f)
{
	pthread_mutex_unlock(&f->lock);
}
