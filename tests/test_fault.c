/* SPDX-License-Identifier: MIT */
/*
 * tests/test_fault.c - the fault injector (CORIO_FAULTS, runtime/reactor/fault.c):
 * the same seed gives the same faults, every kind happens, injected and
 * held completions count in flight until delivered and never arrive from
 * start, a cancelled task whose completion was injected or held completes
 * once, streams stay byte-exact through readers under every kind, and a
 * bad specification is refused.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <sys/socket.h>
#include <unistd.h>

#include <corio/async.h>

#include "reactor/fault.h"
#include "core/internal.h"

#define STREAM_LEN 200000

static struct corio_loop *fault_loop(const char *spec)
{
	struct corio_loop_opts o = { 0 };

	o.faults = spec;
	return t_loop_opts(&o);
}

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Send STREAM_LEN pattern bytes in pieces, then close the write side. */
corio_async(int, sender, ((int, fd)), (
	unsigned char buf[4096];
	size_t done;
	size_t i;
	ssize_t n;
))
{
	corio_begin();
	while (self->done < STREAM_LEN) {
		for (self->i = 0; self->i < sizeof self->buf; self->i++)
			self->buf[self->i] = pat(self->done + self->i);
		self->n = STREAM_LEN - self->done < sizeof self->buf ?
			  (ssize_t)(STREAM_LEN - self->done) :
			  (ssize_t)sizeof self->buf;
		corio_await(self->n, corio_send_all, self->fd, self->buf,
			    (size_t)self->n, 0);
		if (self->n < 0)
			corio_return((int)self->n);
		self->done += (size_t)self->n;
	}
	shutdown(self->fd, SHUT_WR);
	corio_return(0);
corio_finally:
	corio_end();
}

/*
 * Receive until end of stream, with plain recvs (@rd NULL) or a reader;
 * check every byte; log each raw result into @trace (its first @cap).
 */
corio_async(int, receiver, ((int, fd), (struct corio_reader *, rd),
			    (ssize_t *, trace), (size_t, cap)), (
	unsigned char buf[3000];
	size_t got;
	size_t i;
	size_t ops;
	ssize_t n;
))
{
	corio_begin();
	for (;;) {
		if (self->rd)
			corio_await(self->n, corio_reader_read, self->rd,
				    self->buf, sizeof self->buf);
		else
			corio_await(self->n, corio_recv, self->fd, self->buf,
				    sizeof self->buf, 0);
		if (self->ops < self->cap)
			self->trace[self->ops] = self->n;
		self->ops++;
		if (self->n == 0)
			break;
		if (self->n < 0) {
			/* What a POSIX caller retries; anything else fails. */
			cr_assert_geq(corio_retry_delay(self->n, 0, 0), 0,
				      "recv: %s", strerror((int)-self->n));
			continue;
		}
		for (self->i = 0; self->i < (size_t)self->n; self->i++)
			cr_assert_eq(self->buf[self->i],
				     pat(self->got + self->i), "byte %zu",
				     self->got + self->i);
		self->got += (size_t)self->n;
	}
	cr_assert_eq(self->got, STREAM_LEN);
	corio_return(0);
corio_finally:
	corio_end();
}

/*
 * Stream STREAM_LEN bytes over a socket pair under @spec; fill @trace with
 * the receiver's raw results and @counts with the faults injected.
 */
static void stream(const char *spec, bool reader, ssize_t *trace, size_t cap,
		   uint64_t counts[CORIO__FAULT_KINDS])
{
	struct corio_loop *loop = fault_loop(spec);
	struct corio_bufpool *pool = NULL;
	struct corio_reader *rd = NULL;
	struct corio_loop_stats st;
	int sv[2], r1 = 1, r2 = 1;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	if (reader) {
		cr_assert_eq(corio_bufpool_create(&pool, 16, 1024), 0);
		cr_assert_eq(corio_reader_open(&rd, sv[1], pool), 0);
	}
	corio_spawn(loop, sender__start(NULL, sv[0], &r1), NULL);
	corio_spawn(loop, receiver__start(NULL, sv[1], rd, trace, cap, &r2),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r1, 0, "sender: %s", strerror(-r1));
	cr_assert_eq(r2, 0);
	corio_loop_stats(loop, &st);
	if (!reader)	/* a reader keeps its multishot armed */
		cr_assert_eq(st.ops_inflight, 0);
	corio__fault_counts(loop->reactor, counts);
	if (reader) {
		cr_assert_eq(corio_reader_close(rd), 0);
		cr_assert_eq(corio_bufpool_destroy(pool), 0);
	}
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

/*
 * One task sends a message to itself over a socket pair and receives it
 * with plain recvs, 300 times, logging each raw result: every operation
 * finds its data or room at once, so the schedule is the same every run.
 */
corio_async(int, self_ping, ((int, a), (int, b), (ssize_t *, trace),
			     (size_t *, ntrace)), (
	char out[512];
	char in[512];
	size_t len;
	size_t got;
	int round;
	ssize_t n;
))
{
	corio_begin();
	for (self->round = 0; self->round < 300; self->round++) {
		self->len = 1 + (size_t)self->round % sizeof self->out;
		memset(self->out, 'a' + self->round % 26, self->len);
		corio_await(self->n, corio_send_all, self->a, self->out,
			    self->len, 0);
		cr_assert_eq(self->n, (ssize_t)self->len);
		for (self->got = 0; self->got < self->len;) {
			corio_await(self->n, corio_recv, self->b,
				    self->in + self->got,
				    self->len - self->got, 0);
			self->trace[(*self->ntrace)++] = self->n;
			if (self->n > 0)
				self->got += (size_t)self->n;
		}
		cr_assert_eq(memcmp(self->in, self->out, self->len), 0);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

static size_t ping_trace(const char *spec, ssize_t *trace,
			 uint64_t counts[CORIO__FAULT_KINDS])
{
	struct corio_loop *loop = fault_loop(spec);
	size_t n = 0;
	int sv[2], r = 1;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, self_ping__start(NULL, sv[0], sv[1], trace, &n, &r),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(r, 0);
	corio__fault_counts(loop->reactor, counts);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
	return n;
}

Test(fault, same_seed_same_faults, .timeout = 60)
{
	static ssize_t a[8192], b[8192], c[8192];
	uint64_t ca[CORIO__FAULT_KINDS], cb[CORIO__FAULT_KINDS],
		 cc[CORIO__FAULT_KINDS];
	size_t na, nb, nc;

	na = ping_trace("seed=42,rate=20,kinds=all", a, ca);
	nb = ping_trace("seed=42,rate=20,kinds=all", b, cb);
	cr_assert_eq(memcmp(ca, cb, sizeof(ca)), 0, "counts differ");
	cr_assert_eq(na, nb);
	cr_assert_eq(memcmp(a, b, na * sizeof(*a)), 0, "results differ");
	cr_assert_gt(ca[CORIO__FAULT_SHORT] + ca[CORIO__FAULT_EINTR], 0);
	nc = ping_trace("seed=43,rate=20,kinds=all", c, cc);
	cr_assert(nc != na || memcmp(a, c, na * sizeof(*a)),
		  "another seed, the same results");
}

Test(fault, every_kind_happens_stream_exact, .timeout = 60)
{
	static ssize_t trace[16];
	uint64_t counts[CORIO__FAULT_KINDS];
	struct corio_loop *loop = t_loop();
	bool multishot = !t_on_epoll(loop);
	int k;

	t_loop_done(loop);
	/* Plain recvs, then a reader (multishot where the backend has it). */
	stream("seed=3,rate=20,kinds=all", false, trace, 16, counts);
	for (k = 0; k < CORIO__FAULT_KINDS; k++)
		if (k != CORIO__FAULT_MULTISHOT)
			cr_assert_gt(counts[k], 0, "kind %d never injected", k);
	stream("seed=4,rate=20,kinds=all", true, trace, 16, counts);
	if (multishot)
		cr_assert_gt(counts[CORIO__FAULT_MULTISHOT], 0);
}

/* Await a recv on @fd and store the result. */
corio_async(int, recv_once, ((int, fd), (ssize_t *, out)), (
	char buf[16];
))
{
	corio_begin();
	corio_await(*self->out, corio_recv, self->fd, self->buf,
		    sizeof self->buf, 0);
	corio_return(0);
corio_finally:
	corio_end();
}

/* Runs right after recv_once started: the op is in flight, undelivered. */
corio_async(int, check_inflight, ((ssize_t *, seen)), (int unused;))
{
	struct corio_loop_stats st;

	corio_begin();
	corio_loop_stats(corio_loop_current(), &st);
	cr_assert_eq(st.ops_inflight, 1);
	cr_assert_eq(*self->seen, 12345, "delivered from start");
	corio_return(0);
corio_finally:
	corio_end();
}

Test(fault, injected_counts_in_flight, .timeout = 10)
{
	struct corio_loop *loop = fault_loop("seed=1,eintr=100");
	struct corio_loop_stats st;
	ssize_t got = 12345;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	corio_spawn(loop, recv_once__start(NULL, sv[1], &got, NULL), NULL);
	corio_spawn(loop, check_inflight__start(NULL, &got, NULL), NULL);
	/* Nothing else is in flight: if the injected completion did not
	 * count, the loop would call this a deadlock. */
	cr_assert_eq(corio_loop_run(loop), 0);
	cr_assert_eq(got, -EINTR);
	corio_loop_stats(loop, &st);
	cr_assert_eq(st.ops_inflight, 0);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

/*
 * Cancel @victim and join it: at once (in the step it started its op), or
 * after the injector has held a completion (@when_held).
 */
corio_async(int, cancel_victim, ((struct corio_task *, victim),
				 (bool, when_held)), (int r;))
{
	uint64_t counts[CORIO__FAULT_KINDS];

	corio_begin();
	while (self->when_held) {
		corio__fault_counts(corio_loop_current()->reactor, counts);
		if (counts[CORIO__FAULT_DELAY])
			break;
		corio_yield();
	}
	cr_assert_eq(corio_task_cancel(self->victim), 0);
	corio_await(self->r, corio_join, self->victim);
	corio_return(self->r);
corio_finally:
	corio_end();
}

/*
 * A cancelled task whose op was injected (never ran) or is marked to be
 * held while still in the kernel completes exactly once and unwinds.  One
 * whose op is held with its data (@when_held: the recv took effect) sees
 * the byte, as a cancel that lost the race does (docs/design.md, section
 * 13).  Nothing stays in flight either way.
 */
static void cancel_pending(const char *spec, bool when_held)
{
	struct corio_loop *loop = fault_loop(spec);
	struct corio_loop_stats st;
	struct corio_task *victim;
	ssize_t got = 12345;
	int sv[2], r = 1;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		     0);
	if (when_held)
		cr_assert_eq(write(sv[0], "x", 1), 1);
	corio_spawn(loop, recv_once__start(NULL, sv[1], &got, NULL), &victim);
	corio_spawn(loop, cancel_victim__start(NULL, victim, when_held, &r),
		    NULL);
	cr_assert_eq(corio_loop_run(loop), 0);
	if (when_held) {
		cr_assert_eq(got, 1, "the byte read is seen");
		cr_assert_eq(r, 0, "no await after it to unwind at");
	} else {
		cr_assert_eq(got, 12345, "nothing delivered");
		cr_assert_eq(r, -ECANCELED);
	}
	corio_loop_stats(loop, &st);
	cr_assert_eq(st.ops_inflight, 0);
	close(sv[0]);
	close(sv[1]);
	t_loop_done(loop);
}

Test(fault, cancel_of_held_completion, .timeout = 10)
{
	cancel_pending("seed=1,delay=100", true);
}

Test(fault, cancel_of_injected_error, .timeout = 10)
{
	cancel_pending("seed=1,eagain=100", false);
}

Test(fault, cancel_of_op_to_hold, .timeout = 10)
{
	cancel_pending("seed=1,delay=100", false);
}

Test(fault, bad_spec_refused)
{
	static const char *const bad[] = {
		"rate=101", "seed=x", "kinds=bogus", "eintr=60,eagain=60",
		"nonsense",
	};
	struct corio_loop_opts o = { 0 };
	struct corio_loop *loop;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.faults = bad[i];
		cr_assert_eq(corio_loop_create(&loop, &o), -EINVAL, "%s",
			     bad[i]);
		cr_assert(strstr(corio_loop_unavailable_reason(),
				 "CORIO_FAULTS"), "%s: %s", bad[i],
			  corio_loop_unavailable_reason());
	}
	/* "off" wins over the environment; the backend says nothing. */
	o.faults = "off";
	loop = t_loop_opts(&o);
	cr_assert_null(strstr(corio_loop_backend(loop), "faults"));
	t_loop_done(loop);
	o.faults = "seed=5,kinds=delay,short";
	loop = t_loop_opts(&o);
	cr_assert(strstr(corio_loop_backend(loop),
			 "faults (seed 5, short 10%, delay 10%)"), "%s",
		  corio_loop_backend(loop));
	t_loop_done(loop);
}
