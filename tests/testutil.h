/* SPDX-License-Identifier: MIT */
/*
 * tests/testutil.h - helpers shared by the Criterion tests (t_ prefix).
 */
#ifndef CORIO_TESTUTIL_H
#define CORIO_TESTUTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corio.h>

/* T_ASAN: built with AddressSanitizer (tests that measure memory scale
 * down or skip what ASan's quarantine distorts). */
#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif

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

/* Async function (testutil.c): await @c; the result is its value. */
struct corio_frame *t_await_completion__start(struct corio_frame *parent,
					      struct corio_completion *c,
					      int64_t *result);

/*
 * Async function (testutil.c): receive an int on @in, then send it on
 * @out; the result is the first failure or 0.  Two of these on crossed
 * channels wait for each other forever.
 */
struct corio_frame *t_ping__start(struct corio_frame *parent,
				  struct corio_chan *in, struct corio_chan *out,
				  int *result);

/* Open fds of this process, for leak checks (testutil.c). */
int t_count_fds(void);

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

/*
 * Await a single operation into @res again while its failure is transient
 * (corio_retry_delay: -EINTR, -EAGAIN, -ENOBUFS, an unasked -ECANCELED), as
 * a POSIX caller retries: tests of other things then hold under
 * CORIO_FAULTS.
 */
#define t_await_retry(res, ...)						\
	do {								\
		corio_await(res, __VA_ARGS__);				\
	} while ((res) < 0 && corio_retry_delay((res), 0, 0) >= 0)

/*
 * A counting allocator for corio (corio_set_allocator), which fails the
 * t_alloc_fail_at-th allocation (1-based; 0 = none).  t_alloc_count counts
 * the attempts and t_alloc_live the allocations not yet released; the
 * counters are atomic because a runtime's threads allocate too.
 * t_alloc_counting(n) resets them and installs it; corio_set_allocator(
 * NULL, NULL) removes it.
 */
extern _Atomic long t_alloc_fail_at, t_alloc_count, t_alloc_live;
void t_alloc_counting(long fail_at);

/*
 * Holds a loop inside a message (corio_loop_post(loop, t_gate_hold, g))
 * until the test opens the gate, so that what the test posts meanwhile
 * reaches the loop in one batch.
 */
struct t_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool entered, open;
};
void t_gate_init(struct t_gate *g);
void t_gate_hold(void *gate);			/* the message */
void t_gate_wait_entered(struct t_gate *g);	/* the loop is held */
void t_gate_open(struct t_gate *g);
void t_gate_destroy(struct t_gate *g);

/*
 * Something that keeps a loop busy for as long as a test runs, as a real
 * program's other work does (testutil.c): a task that sleeps 1 ms in a
 * loop (T_BG_TICKER), or one that waits in accept(2) on an idle listening
 * socket on 127.0.0.1 (T_BG_LISTENER).  Start it outside any scope.
 */
enum t_bg_kind { T_BG_NONE, T_BG_TICKER, T_BG_LISTENER };
struct t_bg {
	enum t_bg_kind kind;
	struct corio_task *task;
	int fd;
	uint64_t ticks;		/* T_BG_TICKER: sleeps done */
};
void t_bg_start(struct corio_loop *loop, struct t_bg *bg,
		enum t_bg_kind kind);
/* Cancel it (the loop's next run lets it end); then, after that run,
 * reap it and close what it used. */
void t_bg_stop(struct t_bg *bg);
void t_bg_done(struct t_bg *bg);

#endif /* CORIO_TESTUTIL_H */
