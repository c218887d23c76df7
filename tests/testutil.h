/* SPDX-License-Identifier: MIT */
/*
 * tests/testutil.h - helpers shared by the Criterion tests (t_ prefix).
 */
#ifndef CORIO_TESTUTIL_H
#define CORIO_TESTUTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <corio.h>

/*
 * A loop for this test, or skip the test with the reason when io_uring is
 * unavailable on this machine.
 */
static inline struct corio_loop *t_loop_opts(const struct corio_loop_opts *o)
{
	struct corio_loop *loop = NULL;
	int ret = corio_loop_create(&loop, o);

	if (ret == -EPERM || ret == -ENOSYS)
		cr_skip_test("%s", corio_loop_unavailable_reason());
	cr_assert_eq(ret, 0, "corio_loop_create: %s (%s)", corio_strerror(ret),
		     corio_loop_unavailable_reason());
	return loop;
}

static inline struct corio_loop *t_loop(void)
{
	return t_loop_opts(NULL);
}

/* Destroy @loop, asserting that nothing was left running. */
static inline void t_loop_done(struct corio_loop *loop)
{
	int ret = corio_loop_destroy(loop);

	cr_assert_eq(ret, 0, "corio_loop_destroy: %s", corio_strerror(ret));
}

/*
 * Async function (testutil.c): yield once so @victim reaches its await,
 * cancel it, join it; the result is its status (-ECANCELED).
 */
struct corio_frame *t_cancel_and_join__start(struct corio_frame *parent,
					     struct corio_task *victim,
					     int *result);

/*
 * Make system call @nr fail with @err in this (forked) test process, as a
 * container's seccomp profile or an old kernel does (testutil.c).
 */
void t_refuse_syscall(long nr, int err);

/* An order log: tests append short strings and compare the sequence. */
struct t_log {
	char buf[4096];
	size_t len;
};

static inline void t_log_add(struct t_log *log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void t_log_add(struct t_log *log, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (log->len && log->len < sizeof(log->buf) - 1)
		log->buf[log->len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(log->buf + log->len, sizeof(log->buf) - log->len, fmt,
		      ap);
	va_end(ap);
	if (n > 0)
		log->len += (size_t)n;
	if (log->len >= sizeof(log->buf))
		log->len = sizeof(log->buf) - 1;
}

/*
 * Does @loop run on the epoll backend (forced, or io_uring unavailable)?
 * Tests of io_uring mechanics (SQ and CQ sizes, ring flags) check them
 * only when this is false; semantics tests run on both.
 */
static inline bool t_on_epoll(const struct corio_loop *loop)
{
	return strncmp(corio_loop_backend(loop), "epoll", 5) == 0;
}

/* Skip an io_uring-only test when the suite runs on epoll. */
#define t_skip_on_epoll(loop, what)					\
	do {								\
		if (t_on_epoll(loop)) {					\
			t_loop_done(loop);				\
			cr_skip_test("%s: io_uring only, this run "	\
				     "is on epoll", what);		\
		}							\
	} while (0)

#endif /* CORIO_TESTUTIL_H */
