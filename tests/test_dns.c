/* SPDX-License-Identifier: MIT */
/*
 * tests/test_dns.c - corio_resolve end to end.
 *
 * Every test names its servers: a small DNS server written with corio,
 * listening on an ephemeral UDP port of 127.0.0.1 (or a bound socket that
 * nobody reads, for a server that never answers).  The resolv.conf
 * servers are never used and nothing leaves the machine.
 *
 * The server's zone (lower case, any class):
 *	a.test       A 10.0.0.1
 *	six.test     AAAA fd00::6
 *	both.test    A 10.0.0.2, AAAA fd00::2
 *	multi.test   A 10.0.1.1, 10.0.1.2, 10.0.1.3
 *	nN.test      A 10.1.N/256.N%256 (N < 65536)
 *	slow*.test   A 10.0.0.9, answered after the server's delay
 *	drop*.test   never answered
 *	fail.test    SERVFAIL
 *	tcp*.test    A 10.0.0.7, over TCP only: the UDP answer is truncated
 *	anything else NXDOMAIN; an existing name without records of the
 *	asked type gets an empty answer (NODATA).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include <corio/async.h>
#include <corio/dns.h>

/* ---------------------------------------------------------------------- */
/* The test DNS server.                                                   */

struct dns_server {
	int fd;
	char servers[64];	/* "127.0.0.1:PORT" for the resolver */
	int64_t delay_ns;	/* for slow*.test */
	unsigned queries;	/* datagrams received */
	unsigned answers;	/* replies sent */
	unsigned max_batch;	/* most datagrams waiting at one wake-up */
	struct corio_task *task;
	/* TCP, for truncated answers (tcp*.test): */
	int tfd;		/* listener on the same port, or -1 */
	unsigned tcp_queries;
	struct corio_task *conns[8];
	int nconns;
};

/* One resource record to put in a reply. */
struct rr {
	int type;		/* 1 = A, 28 = AAAA */
	unsigned char data[16];
};

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* The records of @name for @qtype; -1 for NXDOMAIN, -2 SERVFAIL, -3 drop. */
static int zone_lookup(const char *name, int qtype, struct rr *rr, int max)
{
	int n = 0, a = -1;
	unsigned k;

	(void)max;
	if (!strncmp(name, "drop", 4))
		return -3;
	if (!strcmp(name, "fail.test"))
		return -2;
	if (!strcmp(name, "a.test")) {
		a = 1;
	} else if (!strcmp(name, "both.test")) {
		a = 2;
		if (qtype == 28) {
			rr[0].type = 28;
			inet_pton(AF_INET6, "fd00::2", rr[0].data);
			return 1;
		}
	} else if (!strcmp(name, "six.test")) {
		if (qtype == 28) {
			rr[0].type = 28;
			inet_pton(AF_INET6, "fd00::6", rr[0].data);
			return 1;
		}
		return 0;
	} else if (!strcmp(name, "multi.test")) {
		if (qtype != 1)
			return 0;
		for (n = 0; n < 3; n++) {
			rr[n].type = 1;
			memcpy(rr[n].data, (unsigned char[]){ 10, 0, 1,
				(unsigned char)(n + 1) }, 4);
		}
		return 3;
	} else if (!strncmp(name, "slow", 4)) {
		a = 9;
	} else if (!strncmp(name, "tcp", 3)) {
		a = 7;
	} else if (sscanf(name, "n%u.test", &k) == 1 && k < 65536) {
		if (qtype != 1)
			return 0;
		rr[0].type = 1;
		memcpy(rr[0].data, (unsigned char[]){ 10, 1,
			(unsigned char)(k >> 8), (unsigned char)k }, 4);
		return 1;
	} else {
		return -1;
	}
	if (qtype != 1)
		return 0;
	rr[0].type = 1;
	memcpy(rr[0].data, (unsigned char[]){ 10, 0, 0, (unsigned char)a }, 4);
	return 1;
}

/*
 * Build the reply to the query @q of @len bytes into @out (512 bytes);
 * @tcp: it came over TCP.  Returns its length, 0 to stay silent
 * (malformed, or a drop name).
 */
static size_t dns_reply(const unsigned char *q, size_t len, unsigned char *out,
			bool *slow, bool tcp)
{
	char name[256];
	size_t pos = 12, nlen = 0, qend, o;
	struct rr rr[4];
	int n, qtype, i;

	if (len < 12 || (q[2] & 0x80))
		return 0;
	while (pos < len && q[pos]) {	/* labels, no compression */
		size_t l = q[pos++];

		if (l > 63 || pos + l > len || nlen + l + 1 >= sizeof(name))
			return 0;
		if (nlen)
			name[nlen++] = '.';
		for (; l; l--)
			name[nlen++] = (char)tolower(q[pos++]);
	}
	name[nlen] = '\0';
	qend = pos + 5;		/* the root label, qtype, qclass */
	if (qend > len)
		return 0;
	qtype = q[pos + 1] << 8 | q[pos + 2];
	n = zone_lookup(name, qtype, rr, 4);
	if (n == -3)
		return 0;
	*slow = !strncmp(name, "slow", 4);
	if (!tcp && !strncmp(name, "tcp", 3))
		n = 0;		/* "does not fit": set TC, no records */
	memcpy(out, q, qend);	/* id, question */
	out[2] = (unsigned char)(0x80 | (q[2] & 0x01));	/* QR, RD */
	if (!tcp && !strncmp(name, "tcp", 3))
		out[2] |= 0x02;				/* TC */
	out[3] = (unsigned char)(0x80 | (n == -1 ? 3 : n == -2 ? 2 : 0));
	put16(out + 4, 1);
	put16(out + 6, n > 0 ? (unsigned)n : 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	o = qend;
	for (i = 0; i < n; i++) {
		unsigned dlen = rr[i].type == 1 ? 4 : 16;

		put16(out + o, 0xc00c);		/* the question's name */
		put16(out + o + 2, (unsigned)rr[i].type);
		put16(out + o + 4, 1);
		memcpy(out + o + 6, (unsigned char[]){ 0, 0, 0, 60 }, 4);
		put16(out + o + 10, dlen);
		memcpy(out + o + 12, rr[i].data, dlen);
		o += 12 + dlen;
	}
	return o;
}

/* A delayed reply: its own task, so the server keeps serving meanwhile. */
corio_async_static(int, send_later, ((struct dns_server *, s),
				     (int64_t, delay)), (
	unsigned char buf[512];
	size_t len;
	struct sockaddr_storage to;
	socklen_t tolen;
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, self->delay);
	if (sendto(self->s->fd, self->buf, self->len, 0,
		   (struct sockaddr *)&self->to, self->tolen) > 0)
		self->s->answers++;
	corio_return(0);
corio_finally:
	corio_end();
}

/* The server: wait for datagrams with corio_poll, answer each. */
corio_async_static(int, dns_serve, ((struct dns_server *, s)), (
	int ev;
))
{
	unsigned char q[512], out[512];
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;
	size_t len;
	unsigned batch;
	bool slow;

	corio_begin();
	for (;;) {
		corio_await(self->ev, corio_poll, self->s->fd, POLLIN);
		if (self->ev < 0)
			corio_return(self->ev);
		for (batch = 1;; batch++) {
			fromlen = sizeof(from);
			n = recvfrom(self->s->fd, q, sizeof(q), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fromlen);
			if (n < 0)
				break;
			self->s->queries++;
			if (batch > self->s->max_batch)
				self->s->max_batch = batch;
			slow = false;
			len = dns_reply(q, (size_t)n, out, &slow, false);
			if (!len)
				continue;
			if (slow) {
				struct corio_frame *f = send_later__start(
					NULL, self->s, self->s->delay_ns, NULL);
				struct send_later__frame *sl = (void *)f;

				cr_assert(f);
				memcpy(sl->buf, out, len);
				sl->len = len;
				memcpy(&sl->to, &from, fromlen);
				sl->tolen = fromlen;
				cr_assert_eq(corio_spawn(corio_loop_current(),
							 f, NULL), 0);
				continue;
			}
			if (sendto(self->s->fd, out, len, 0,
				   (struct sockaddr *)&from, fromlen) > 0)
				self->s->answers++;
		}
	}
corio_finally:
	corio_end();
}

/* Read exactly @len bytes: @len, 0 at end of stream, or -errno. */
corio_async_static(ssize_t, read_exact, ((int, fd), (unsigned char *, buf),
					 (size_t, len)), (
	size_t have;
	ssize_t n;
))
{
	corio_begin();
	while (self->have < self->len) {
		corio_await(self->n, corio_recv, self->fd,
			    self->buf + self->have, self->len - self->have, 0);
		if (self->n <= 0)
			corio_return(self->n);
		self->have += (size_t)self->n;
	}
	corio_return((ssize_t)self->len);
corio_finally:
	corio_end();
}

/* One TCP connection: 2-byte length, query; reply likewise; repeat. */
corio_async_static(int, tcp_conn, ((struct dns_server *, s), (int, fd)), (
	unsigned char in[512];
	unsigned char out[514];
	size_t len;
	ssize_t n;
	bool slow;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->n, read_exact, self->fd, self->in, 2);
		if (self->n <= 0)
			break;
		self->len = (size_t)(self->in[0] << 8 | self->in[1]);
		if (self->len > sizeof(self->in))
			break;
		corio_await(self->n, read_exact, self->fd, self->in,
			    self->len);
		if (self->n <= 0)
			break;
		self->s->tcp_queries++;
		self->len = dns_reply(self->in, self->len, self->out + 2,
				      &self->slow, true);
		if (!self->len)
			continue;
		put16(self->out, (unsigned)self->len);
		corio_await(self->n, corio_send_all, self->fd, self->out,
			    self->len + 2, 0);
		if (self->n < 0)
			break;
		self->s->answers++;
	}
	corio_return(0);
corio_finally:
	close(self->fd);
	corio_end();
}

/* Accept TCP connections; each gets a tcp_conn task. */
corio_async_static(int, tcp_serve, ((struct dns_server *, s)), (
	int fd;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->fd, corio_accept, self->s->tfd, NULL, NULL,
			    SOCK_CLOEXEC);
		if (self->fd < 0)
			corio_return(self->fd);
		cr_assert_lt(self->s->nconns, 8);
		cr_assert_eq(corio_spawn(corio_loop_current(),
			tcp_conn__start(NULL, self->s, self->fd, NULL),
			&self->s->conns[self->s->nconns++]), 0);
	}
corio_finally:
	corio_end();
}

/* Bind a UDP socket to an ephemeral port of 127.0.0.1. */
static void server_bind(struct dns_server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(s->fd, 0);
	cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(s->servers, sizeof(s->servers), "127.0.0.1:%u",
		 ntohs(a.sin_port));
}

/* ---------------------------------------------------------------------- */
/* Test environment: a loop, a server, a resolver that uses only it.      */

struct env {
	struct corio_loop *loop;
	struct dns_server srv;
	struct corio_resolver *res;
};

/* The resolver of @e, asking @servers only. */
static void env_resolver(struct env *e, struct corio_resolver_opts o,
			 const char *servers)
{
	int ret;

	o.servers = servers;
	o.flags |= CORIO_RESOLVER_NO_SEARCH;
	if (!o.lookups)
		o.lookups = "b";
	ret = corio_resolver_create(&e->res, &o);
	cr_assert_eq(ret, 0, "corio_resolver_create: %s", corio_strerror(ret));
}

/* @serve: run the server task (else the socket is a black hole). */
static void env_start(struct env *e, struct corio_resolver_opts o, bool serve)
{
	memset(e, 0, sizeof(*e));
	e->loop = t_loop();
	server_bind(&e->srv);
	e->srv.delay_ns = CORIO_MS(30);
	if (serve)
		cr_assert_eq(corio_spawn(e->loop, dns_serve__start(NULL,
				&e->srv, NULL), &e->srv.task), 0);
	env_resolver(e, o, e->srv.servers);
}

static void env_finish(struct env *e)
{
	int ret;

	if (e->srv.task) {
		int status;

		cr_assert_eq(corio_task_reap(e->srv.task, &status), 0);
		cr_assert_eq(status, -ECANCELED);
	}
	if (e->res) {	/* else the test destroyed it already */
		ret = corio_resolver_destroy(e->res);
		cr_assert_eq(ret, 0, "corio_resolver_destroy: %s",
			     corio_strerror(ret));
	}
	if (e->srv.fd >= 0)
		close(e->srv.fd);
	t_loop_done(e->loop);
}

struct lookup {
	const char *name;
	const char *service;
	int family;
	int ret;
	struct corio_addrinfo *list;
	int64_t took_ns;
};

corio_async_static(int, do_lookup, ((struct corio_resolver *, res),
				    (struct lookup *, l)), (
	int64_t t0;
))
{
	corio_begin();
	self->t0 = corio_now();
	corio_await(self->l->ret, corio_resolve, self->res, self->l->name,
		    self->l->service, self->l->family, &self->l->list);
	self->l->took_ns = corio_now() - self->t0;
	corio_return(self->l->ret);
corio_finally:
	corio_end();
}

/* Run @n lookups one after the other, then stop the server. */
corio_async_static(int, run_script, ((struct env *, e),
				     (struct lookup *, ls), (int, n)), (
	int i;
	int status;
))
{
	corio_begin();
	for (self->i = 0; self->i < self->n; self->i++)
		corio_await_discard(do_lookup, self->e->res,
				    &self->ls[self->i]);
	if (self->e->srv.task) {
		corio_task_cancel(self->e->srv.task);
		corio_await(self->status, corio_join, self->e->srv.task);
		self->e->srv.task = NULL;
	}
	corio_return(0);
corio_finally:
	corio_end();
}

static void run_lookups(struct env *e, struct lookup *ls, int n)
{
	int ret;

	cr_assert_eq(corio_spawn(e->loop, run_script__start(NULL, e, ls, n,
							    NULL), NULL), 0);
	ret = corio_loop_run(e->loop);
	cr_assert_eq(ret, 0, "corio_loop_run: %s", corio_strerror(ret));
}

static void free_lookups(struct lookup *ls, int n)
{
	for (int i = 0; i < n; i++)
		corio_addrinfo_free(ls[i].list);
}

/* The address of @ai as text, and its port. */
static const char *addr_str(const struct corio_addrinfo *ai, char *buf,
			    int *port)
{
	const void *p;

	if (ai->family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&ai->addr;

		p = &s->sin_addr;
		*port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)&ai->addr;

		p = &s->sin6_addr;
		*port = ntohs(s->sin6_port);
	}
	return inet_ntop(ai->family, p, buf, INET6_ADDRSTRLEN);
}

/* Assert that @l succeeded with exactly the addresses @want (any order). */
static void expect_addrs(const struct lookup *l, const char *const *want,
			 int nwant, int port)
{
	char buf[INET6_ADDRSTRLEN];
	const struct corio_addrinfo *ai;
	int seen = 0, p;

	cr_assert_eq(l->ret, nwant, "%s: %d (%s)", l->name, l->ret,
		     corio_resolve_strerror(l->ret));
	for (ai = l->list; ai; ai = ai->next, seen++) {
		const char *s = addr_str(ai, buf, &p);
		int i;

		cr_assert(s);
		for (i = 0; i < nwant; i++)
			if (!strcmp(s, want[i]))
				break;
		cr_assert_lt(i, nwant, "%s: unexpected address %s", l->name, s);
		cr_assert_eq(p, port, "%s: port %d", l->name, p);
		cr_assert_eq(ai->addrlen, ai->family == AF_INET ?
			     sizeof(struct sockaddr_in) :
			     sizeof(struct sockaddr_in6));
	}
	cr_assert_eq(seen, nwant);
}

/* ---------------------------------------------------------------------- */
/* Answers.                                                               */

/* Lookups of the zone that the test server and dnsmasq answer alike. */
#define NZONE 5
static const struct lookup zone_lookups[NZONE] = {
	{ "a.test", "80", AF_INET, 0, NULL, 0 },
	{ "six.test", NULL, AF_INET6, 0, NULL, 0 },
	{ "both.test", "443", AF_UNSPEC, 0, NULL, 0 },
	{ "multi.test", NULL, AF_INET, 0, NULL, 0 },
	{ "A.TEST", NULL, AF_UNSPEC, 0, NULL, 0 },
};

static void expect_zone_answers(const struct lookup *ls)
{
	expect_addrs(&ls[0], (const char *[]){ "10.0.0.1" }, 1, 80);
	cr_assert_eq(ls[0].list->family, AF_INET);
	expect_addrs(&ls[1], (const char *[]){ "fd00::6" }, 1, 0);
	expect_addrs(&ls[2], (const char *[]){ "10.0.0.2", "fd00::2" }, 2, 443);
	expect_addrs(&ls[3], (const char *[]){ "10.0.1.1", "10.0.1.2",
					       "10.0.1.3" }, 3, 0);
	expect_addrs(&ls[4], (const char *[]){ "10.0.0.1" }, 1, 0);
}

Test(dns, answers_a_aaaa_and_several_records, .timeout = 10)
{
	struct lookup ls[NZONE];
	struct env e;

	memcpy(ls, zone_lookups, sizeof(ls));
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000 }, true);
	run_lookups(&e, ls, NZONE);
	expect_zone_answers(ls);
	cr_assert_eq(ls[0].list->ttl, 60);
	cr_assert_geq(e.srv.queries, 5);
	free_lookups(ls, NZONE);
	env_finish(&e);
}

Test(dns, missing_names_and_records, .timeout = 10)
{
	struct env e;
	struct lookup ls[] = {
		{ "nosuch.test", NULL, AF_INET, 0, NULL, 0 },
		{ "nosuch.test", NULL, AF_UNSPEC, 0, NULL, 0 },
		{ "six.test", NULL, AF_INET, 0, NULL, 0 },
		{ "fail.test", NULL, AF_INET, 0, NULL, 0 },
		{ "a.test", "no-such-service", AF_INET, 0, NULL, 0 },
	};

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000,
						   .tries = 1 }, true);
	run_lookups(&e, ls, 5);
	cr_assert_eq(ls[0].ret, -ENOENT, "%d", ls[0].ret);
	cr_assert_eq(ls[1].ret, -ENOENT, "%d", ls[1].ret);
	cr_assert_eq(ls[2].ret, -ENODATA, "%d", ls[2].ret);
	/* c-ares 1.18 reports a server that failed as unreachable. */
	cr_assert_eq(ls[3].ret, -ECONNREFUSED, "%d", ls[3].ret);
	cr_assert_eq(ls[4].ret, -ESRCH, "%d", ls[4].ret);
	for (int i = 0; i < 5; i++)
		cr_assert_null(ls[i].list);
	cr_assert_str_eq(corio_resolve_strerror(-ENOENT), "name not found");
	env_finish(&e);
}

Test(dns, hosts_file_and_numeric_names_send_no_query, .timeout = 10)
{
	struct env e;
	struct lookup ls[] = {
		{ "localhost", "7", AF_INET, 0, NULL, 0 },
		{ "127.0.0.1", NULL, AF_UNSPEC, 0, NULL, 0 },
		{ "::1", "22", AF_INET6, 0, NULL, 0 },
		{ "192.0.2.7", NULL, AF_INET, 0, NULL, 0 },
		{ "::1", NULL, AF_INET, 0, NULL, 0 },
		{ "10.0.0.1", NULL, AF_INET6, 0, NULL, 0 },
	};

	env_start(&e, (struct corio_resolver_opts){ .lookups = "fb" }, true);
	run_lookups(&e, ls, 6);
	expect_addrs(&ls[0], (const char *[]){ "127.0.0.1" }, 1, 7);
	expect_addrs(&ls[1], (const char *[]){ "127.0.0.1" }, 1, 0);
	expect_addrs(&ls[2], (const char *[]){ "::1" }, 1, 22);
	expect_addrs(&ls[3], (const char *[]){ "192.0.2.7" }, 1, 0);
	cr_assert_eq(ls[4].ret, -ENODATA, "%d", ls[4].ret);
	cr_assert_eq(ls[5].ret, -ENODATA, "%d", ls[5].ret);
	cr_assert_eq(e.srv.queries, 0, "%u queries", e.srv.queries);
	free_lookups(ls, 6);
	env_finish(&e);
}

Test(dns, file_only_lookups_never_ask_a_server, .timeout = 10)
{
	struct env e;
	struct lookup ls[] = {
		{ "a.test", NULL, AF_INET, 0, NULL, 0 },
		{ "localhost", NULL, AF_INET, 0, NULL, 0 },
	};

	env_start(&e, (struct corio_resolver_opts){ .lookups = "f" }, true);
	run_lookups(&e, ls, 2);
	cr_assert_eq(ls[0].ret, -ENOENT, "%d", ls[0].ret);
	expect_addrs(&ls[1], (const char *[]){ "127.0.0.1" }, 1, 0);
	cr_assert_eq(e.srv.queries, 0, "%u queries", e.srv.queries);
	free_lookups(ls, 2);
	env_finish(&e);
}

/* Resolve, then stop the UDP and TCP servers and their connections. */
corio_async_static(int, run_tcp, ((struct env *, e), (struct lookup *, ls),
				  (struct corio_task *, tcp_task)), (
	int i;
	int status;
))
{
	corio_begin();
	for (self->i = 0; self->i < 2; self->i++)
		corio_await_discard(do_lookup, self->e->res,
				    &self->ls[self->i]);
	corio_await(self->status, t_cancel_and_join, self->tcp_task);
	for (self->i = 0; self->i < self->e->srv.nconns; self->i++) {
		corio_task_cancel(self->e->srv.conns[self->i]);
		corio_await(self->status, corio_join,
			    self->e->srv.conns[self->i]);
	}
	corio_await(self->status, t_cancel_and_join, self->e->srv.task);
	self->e->srv.task = NULL;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, a_truncated_answer_is_retried_over_tcp, .timeout = 10)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct corio_task *tcp_task;
	struct env e;
	struct lookup ls[] = {
		{ "tcp.test", "53", AF_INET, 0, NULL, 0 },
		{ "tcp2.test", NULL, AF_UNSPEC, 0, NULL, 0 },
	};
	int one = 1;

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000 }, true);
	/* c-ares retries on the same port over TCP. */
	cr_assert_eq(getsockname(e.srv.fd, (struct sockaddr *)&a, &alen), 0);
	e.srv.tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(e.srv.tfd, 0);
	setsockopt(e.srv.tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(e.srv.tfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		cr_skip_test("TCP port %s busy", e.srv.servers);
	cr_assert_eq(listen(e.srv.tfd, 8), 0);
	cr_assert_eq(corio_spawn(e.loop, tcp_serve__start(NULL, &e.srv, NULL),
				 &tcp_task), 0);
	cr_assert_eq(corio_spawn(e.loop, run_tcp__start(NULL, &e, ls, tcp_task,
							NULL), NULL), 0);
	cr_assert_eq(corio_loop_run(e.loop), 0);
	expect_addrs(&ls[0], (const char *[]){ "10.0.0.7" }, 1, 53);
	expect_addrs(&ls[1], (const char *[]){ "10.0.0.7" }, 1, 0);
	cr_assert_geq(e.srv.tcp_queries, 2, "%u", e.srv.tcp_queries);
	close(e.srv.tfd);
	free_lookups(ls, 2);
	env_finish(&e);
}

/* ---------------------------------------------------------------------- */
/* Many at once.                                                          */

/*
 * A burst: @n lookups started in one pass of the loop, the way a program
 * resolving a list of hosts does.  More than the sockets' default receive
 * buffers hold (about 250 small datagrams) unless the resolver paces them.
 */
#define NBURST 1000

struct burst {
	struct lookup *ls;
	int n;
	struct corio_task **tasks;
	double ms;		/* until the last answer */
};

/* @n lookups of nI.@zone (I < @n) into @names. */
static void burst_init(struct burst *b, int n, const char *zone,
		       char (*names)[24], int family)
{
	b->ls = calloc((size_t)n, sizeof(*b->ls));
	b->tasks = calloc((size_t)n, sizeof(*b->tasks));
	cr_assert(b->ls && b->tasks);
	b->n = n;
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d.%s", i, zone);
		b->ls[i] = (struct lookup){ names[i], NULL, family, 0, NULL,
					    0 };
	}
}

static void burst_free(struct burst *b)
{
	free_lookups(b->ls, b->n);
	free(b->ls);
	free(b->tasks);
}

/* Run the burst, then stop the server task if there is one. */
corio_async_static(int, run_burst, ((struct env *, e), (struct burst *, b)), (
	int i;
	int status;
	int64_t t0;
))
{
	corio_begin();
	self->t0 = corio_now();
	for (self->i = 0; self->i < self->b->n; self->i++)
		cr_assert_eq(corio_spawn(corio_loop_current(),
			do_lookup__start(NULL, self->e->res,
					 &self->b->ls[self->i], NULL),
			&self->b->tasks[self->i]), 0);
	for (self->i = 0; self->i < self->b->n; self->i++)
		corio_await(self->status, corio_join,
			    self->b->tasks[self->i]);
	self->b->ms = (double)(corio_now() - self->t0) / 1e6;
	printf("dns: %d concurrent resolves took %.2f ms\n", self->b->n,
	       self->b->ms);
	if (self->e->srv.task) {
		corio_await(self->status, t_cancel_and_join,
			    self->e->srv.task);
		self->e->srv.task = NULL;
	}
	corio_return(0);
corio_finally:
	corio_end();
}

static void burst_run(struct env *e, struct burst *b)
{
	cr_assert_eq(corio_spawn(e->loop, run_burst__start(NULL, e, b, NULL),
				 NULL), 0);
	cr_assert_eq(corio_loop_run(e->loop), 0);
}

/* Assert that lookup @i of a burst of nI names got 10.1.I/256.I%256. */
static void expect_n_addr(const struct burst *b, int i)
{
	char want[INET_ADDRSTRLEN];

	snprintf(want, sizeof(want), "10.1.%d.%d", (i >> 8) & 255, i & 255);
	expect_addrs(&b->ls[i], (const char *[]){ want }, 1, 0);
}

/*
 * c-ares keeps its default first-try timeout of 5 s here: a datagram lost
 * to a full buffer would show as a run of 5 s and a retried query.
 */
Test(dns, a_thousand_concurrent_resolves_lose_no_datagram, .timeout = 30)
{
	static char names[NBURST][24];
	struct burst b;
	struct env e;
	int i;

	burst_init(&b, NBURST, "test", names, AF_INET);
	env_start(&e, (struct corio_resolver_opts){ 0 }, true);
	burst_run(&e, &b);
	for (i = 0; i < NBURST; i++)
		expect_n_addr(&b, i);
	printf("dns: server saw %u queries for %d names, at most %u at "
	       "once\n", e.srv.queries, NBURST, e.srv.max_batch);
	cr_assert_eq(e.srv.queries, NBURST, "%u queries: some were retried",
		     e.srv.queries);
	cr_assert_lt(b.ms, 2500, "%.1f ms", b.ms);
	burst_free(&b);
	env_finish(&e);
}

Test(dns, max_queries_bounds_the_queries_in_flight, .timeout = 10)
{
	static char names[40][24];
	struct burst b;
	struct env e;
	int i;

	/* Each resolve is one datagram (AF_INET), answered in turn. */
	burst_init(&b, 40, "test", names, AF_INET);
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000,
						   .max_queries = 3 }, true);
	burst_run(&e, &b);
	for (i = 0; i < 40; i++)
		expect_n_addr(&b, i);
	cr_assert_eq(e.srv.queries, 40, "%u", e.srv.queries);
	cr_assert_leq(e.srv.max_batch, 3, "%u at once", e.srv.max_batch);
	cr_assert_geq(e.srv.max_batch, 2, "%u at once", e.srv.max_batch);
	burst_free(&b);
	env_finish(&e);
}

/*
 * Every tenth name is dropped by the server, so that c-ares times out on
 * a hundred queries (1 s, one try).  The others must not wait for them:
 * a lost query gives up its place in the resolver's window long before.
 */
Test(dns, dropped_queries_do_not_hold_up_the_others, .timeout = 30)
{
	static char names[NBURST][24];
	int64_t slowest = 0;
	struct burst b;
	struct env e;
	int i, lost = 0;

	burst_init(&b, NBURST, "test", names, AF_INET);
	for (i = 0; i < NBURST; i += 10)
		snprintf(names[i], sizeof(names[i]), "drop%d.test", i);
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 1000,
						   .tries = 1 }, true);
	burst_run(&e, &b);
	for (i = 0; i < NBURST; i++) {
		if (i % 10 == 0) {
			cr_assert_eq(b.ls[i].ret, -ETIMEDOUT, "%s: %d",
				     names[i], b.ls[i].ret);
			lost++;
			continue;
		}
		expect_n_addr(&b, i);
		if (b.ls[i].took_ns > slowest)
			slowest = b.ls[i].took_ns;
	}
	printf("dns: %d dropped, the slowest answered resolve took %.1f ms\n",
	       lost, (double)slowest / 1e6);
	cr_assert_lt(slowest, CORIO_MS(700), "%.1f ms",
		     (double)slowest / 1e6);
	burst_free(&b);
	env_finish(&e);
}

/* ---------------------------------------------------------------------- */
/* Timeouts, deadlines, cancellation.                                     */

Test(dns, a_server_that_never_answers_times_out, .timeout = 10)
{
	struct env e;
	struct lookup ls[] = {
		{ "drop.test", NULL, AF_INET, 0, NULL, 0 },
		{ "drop2.test", NULL, AF_UNSPEC, 0, NULL, 0 },
	};

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 40,
						   .tries = 2 }, true);
	run_lookups(&e, ls, 2);
	cr_assert_eq(ls[0].ret, -ETIMEDOUT, "%d", ls[0].ret);
	cr_assert_eq(ls[1].ret, -ETIMEDOUT, "%d", ls[1].ret);
	/* Two tries per query: the retry is driven by the loop's timer. */
	cr_assert_geq(e.srv.queries, 2 + 4, "%u", e.srv.queries);
	printf("dns: timeout after %.1f ms (40 ms, 2 tries)\n",
	       (double)ls[0].took_ns / 1e6);
	env_finish(&e);
}

/* A lookup under a task deadline @after ns from now. */
corio_async_static(int, lookup_with_deadline, ((struct corio_resolver *, res),
					       (struct lookup *, l),
					       (int64_t, after)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + self->after);
	corio_await(self->l->ret, corio_resolve, self->res, self->l->name,
		    NULL, self->l->family, &self->l->list);
	corio_deadline_set(CORIO_NO_DEADLINE);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, the_task_deadline_ends_the_wait, .timeout = 10)
{
	struct env e;
	struct lookup l = { "drop.test", NULL, AF_INET, 0, NULL, 0 };
	int64_t t0;

	/* c-ares would wait 10 s: the deadline and the clean-up must not. */
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 10000 },
		  false);
	cr_assert_eq(corio_spawn(e.loop, lookup_with_deadline__start(NULL,
				e.res, &l, CORIO_MS(30), NULL), NULL), 0);
	t0 = corio_now();
	cr_assert_eq(corio_loop_run(e.loop), 0);
	cr_assert_eq(l.ret, -ETIME, "%d", l.ret);
	cr_assert_null(l.list);
	printf("dns: deadline of 30 ms, loop done after %.1f ms\n",
	       (double)(corio_now() - t0) / 1e6);
	env_finish(&e);
}

corio_async_static(int, cancel_one, ((struct env *, e),
				     (struct lookup *, ls)), (
	struct corio_task *victim, *other;
	int status;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    do_lookup__start(NULL, self->e->res, &self->ls[0], NULL),
		    &self->victim);
	corio_spawn(corio_loop_current(),
		    do_lookup__start(NULL, self->e->res, &self->ls[1], NULL),
		    &self->other);
	/* The victim's query is sent and its answer is on its way. */
	corio_await(self->status, t_cancel_and_join, self->victim);
	self->ls[0].ret = self->status;
	corio_await(self->status, corio_join, self->other);
	corio_task_cancel(self->e->srv.task);
	corio_await(self->status, corio_join, self->e->srv.task);
	self->e->srv.task = NULL;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, a_cancelled_resolve_drops_its_late_answer, .timeout = 10)
{
	struct env e;
	struct lookup ls[] = {
		{ "slow1.test", NULL, AF_INET, 0, NULL, 0 },
		{ "slow2.test", NULL, AF_INET, 0, NULL, 0 },
	};

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000 }, true);
	cr_assert_eq(corio_spawn(e.loop, cancel_one__start(NULL, &e, ls,
							   NULL), NULL), 0);
	cr_assert_eq(corio_loop_run(e.loop), 0);
	cr_assert_eq(ls[0].ret, -ECANCELED, "%d", ls[0].ret);
	cr_assert_null(ls[0].list);
	expect_addrs(&ls[1], (const char *[]){ "10.0.0.9" }, 1, 0);
	/* Both were answered: the victim's answer came after it left. */
	cr_assert_eq(e.srv.answers, 2, "%u", e.srv.answers);
	free_lookups(ls, 2);
	env_finish(&e);
}

corio_async_static(int, cancel_only, ((struct env *, e),
				      (struct lookup *, l)), (
	struct corio_task *victim;
	int status;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    do_lookup__start(NULL, self->e->res, self->l, NULL),
		    &self->victim);
	corio_await(self->status, t_cancel_and_join, self->victim);
	self->l->ret = self->status;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, cancelling_the_last_resolve_lets_the_loop_finish, .timeout = 10)
{
	struct env e;
	struct lookup l = { "drop.test", NULL, AF_UNSPEC, 0, NULL, 0 };
	int64_t t0;

	/* Nobody answers and c-ares would retry for 40 s. */
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 10000 },
		  false);
	cr_assert_eq(corio_spawn(e.loop, cancel_only__start(NULL, &e, &l,
							    NULL), NULL), 0);
	t0 = corio_now();
	cr_assert_eq(corio_loop_run(e.loop), 0);
	cr_assert_eq(l.ret, -ECANCELED, "%d", l.ret);
	printf("dns: cancelled resolve, loop done after %.1f ms\n",
	       (double)(corio_now() - t0) / 1e6);
	env_finish(&e);
}

corio_async_static(int, cancel_then_destroy, ((struct env *, e),
					     (struct lookup *, l),
					     (uint64_t *, live)), (
	struct corio_task *victim;
	int status;
	struct corio_loop_stats st;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    do_lookup__start(NULL, self->e->res, self->l, NULL),
		    &self->victim);
	corio_await(self->status, t_cancel_and_join, self->victim);
	self->l->ret = self->status;
	/* The resolver's task has not seen the cancel yet: it still runs. */
	corio_loop_stats(corio_loop_current(), &self->st);
	*self->live = self->st.tasks_live;
	cr_assert_eq(corio_resolver_destroy(self->e->res), 0);
	self->e->res = NULL;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, destroy_while_the_resolver_task_unwinds, .timeout = 10)
{
	struct env e;
	struct lookup l = { "drop.test", NULL, AF_INET, 0, NULL, 0 };
	uint64_t live = 0;

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 10000 },
		  false);
	cr_assert_eq(corio_spawn(e.loop, cancel_then_destroy__start(NULL, &e,
				&l, &live, NULL), NULL), 0);
	cr_assert_eq(corio_loop_run(e.loop), 0);
	cr_assert_eq(l.ret, -ECANCELED, "%d", l.ret);
	cr_assert_eq(live, 2, "%llu tasks live", (unsigned long long)live);
	env_finish(&e);
}

/* Four resolves through a window of one; the middle two never get in. */
corio_async_static(int, window_queue, ((struct env *, e),
				       (struct lookup *, ls)), (
	struct corio_task *t[4];
	int i;
	int status;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    do_lookup__start(NULL, self->e->res, &self->ls[0], NULL),
		    &self->t[0]);
	corio_spawn(corio_loop_current(),
		    lookup_with_deadline__start(NULL, self->e->res,
						&self->ls[1], CORIO_MS(10),
						NULL),
		    &self->t[1]);
	for (self->i = 2; self->i < 4; self->i++)
		corio_spawn(corio_loop_current(),
			    do_lookup__start(NULL, self->e->res,
					     &self->ls[self->i], NULL),
			    &self->t[self->i]);
	/* All four have started: one query sent, three waiting. */
	corio_await(self->ls[2].ret, t_cancel_and_join, self->t[2]);
	for (self->i = 0; self->i < 4; self->i++)
		if (self->i != 2)
			corio_await(self->status, corio_join,
				    self->t[self->i]);
	corio_await(self->status, t_cancel_and_join, self->e->srv.task);
	self->e->srv.task = NULL;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, a_resolve_waiting_for_the_window_ends_by_deadline_or_cancel,
     .timeout = 10)
{
	struct env e;
	struct lookup ls[] = {
		{ "slow1.test", NULL, AF_INET, 0, NULL, 0 },
		{ "a.test", NULL, AF_INET, 0, NULL, 0 },
		{ "n5.test", NULL, AF_INET, 0, NULL, 0 },
		{ "n6.test", NULL, AF_INET, 0, NULL, 0 },
	};

	/* slow1.test holds the only place for 30 ms, less than it may. */
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000,
						   .max_queries = 1 }, true);
	cr_assert_eq(corio_spawn(e.loop, window_queue__start(NULL, &e, ls,
							     NULL), NULL), 0);
	cr_assert_eq(corio_loop_run(e.loop), 0);
	expect_addrs(&ls[0], (const char *[]){ "10.0.0.9" }, 1, 0);
	cr_assert_eq(ls[1].ret, -ETIME, "%d", ls[1].ret);
	cr_assert_null(ls[1].list);
	cr_assert_eq(ls[2].ret, -ECANCELED, "%d", ls[2].ret);
	expect_addrs(&ls[3], (const char *[]){ "10.1.0.6" }, 1, 0);
	/* The two that left while waiting were never sent. */
	cr_assert_eq(e.srv.queries, 2, "%u queries", e.srv.queries);
	free_lookups(ls, 4);
	env_finish(&e);
}

/* ---------------------------------------------------------------------- */
/* Deadlock detection.                                                    */

corio_async_static(int, resolve_then_set, ((struct corio_resolver *, res),
					   (struct lookup *, l),
					   (struct corio_event *, ev)), ())
{
	corio_begin();
	corio_await(self->l->ret, corio_resolve, self->res, self->l->name,
		    NULL, self->l->family, &self->l->list);
	corio_event_set(self->ev);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async_static(int, wait_event, ((struct corio_event *, ev),
				     (int *, seen)), ())
{
	corio_begin();
	corio_await(*self->seen, corio_event_wait, self->ev);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, a_pending_query_is_not_a_deadlock, .timeout = 10)
{
	struct env e;
	struct corio_event ev;
	struct lookup l = { "drop.test", NULL, AF_INET, 0, NULL, 0 };
	int seen = 1, ret;

	/*
	 * A task waits on an event that only the resolving task sets, and
	 * the resolve waits on a server that never answers: no task is
	 * ready, yet the query's socket and timer can still end it.
	 */
	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 60,
						   .tries = 1 }, false);
	cr_assert_eq(corio_event_init(&ev, "dns-done"), 0);
	cr_assert_eq(corio_spawn(e.loop, wait_event__start(NULL, &ev, &seen,
							   NULL), NULL), 0);
	cr_assert_eq(corio_spawn(e.loop, resolve_then_set__start(NULL, e.res,
				&l, &ev, NULL), NULL), 0);
	ret = corio_loop_run(e.loop);
	cr_assert_eq(ret, 0, "corio_loop_run: %s", corio_strerror(ret));
	cr_assert_eq(l.ret, -ETIMEDOUT, "%d", l.ret);
	cr_assert_eq(seen, 0);
	cr_assert_eq(corio_event_destroy(&ev), 0);
	env_finish(&e);
}

/* ---------------------------------------------------------------------- */
/* Against dnsmasq.                                                       */

/*
 * A dnsmasq of the test's own on a free port of 127.0.0.1, with a fixed
 * configuration: no upstream server, no resolv.conf, no /etc/hosts.  It
 * answers from the host-record lines below and from a hosts file of
 * nI.test -> 10.1.I/256.I%256 (I < NBURST) written here, and NXDOMAIN
 * for any other name under .test.  .fini stops it.
 */
static struct dnsmasq {
	pid_t pid;		/* its supervisor; 0: not running */
	int wfd;		/* the supervisor's lifeline, valid with pid */
	char dir[64];		/* config, hosts file, log; "" if none */
	char servers[32];	/* "127.0.0.1:PORT" */
} dm;

/* The dnsmasq binary (in /usr/sbin, which a user's PATH may lack). */
static bool dnsmasq_find(char *path, size_t size)
{
	const char *env = getenv("PATH");
	char dirs[1024], *dir, *save;

	snprintf(dirs, sizeof(dirs), "%s:/usr/local/sbin:/usr/sbin:/sbin",
		 env ? env : "");
	for (dir = strtok_r(dirs, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, size, "%s/dnsmasq", dir);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/* A port of 127.0.0.1 that is free for UDP and TCP right now, or 0. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int u, t, port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u >= 0 && t >= 0 &&
	    bind(u, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(u, (struct sockaddr *)&a, &alen) == 0 &&
	    bind(t, (struct sockaddr *)&a, sizeof(a)) == 0)
		port = ntohs(a.sin_port);
	if (u >= 0)
		close(u);
	if (t >= 0)
		close(t);
	return port;
}

/* dnsmasq listens on TCP too, once its sockets are all bound. */
static bool dnsmasq_listening(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	cr_assert_geq(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void dnsmasq_write(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dm.dir, name);
	f = fopen(path, "w");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void dnsmasq_files(void)
{
	static char hosts[NBURST * 32 + 128], conf[512];
	size_t len = 0;
	int i;

	for (i = 0; i < NBURST; i++)
		len += (size_t)snprintf(hosts + len, sizeof(hosts) - len,
					"10.1.%d.%d n%d.test\n", i >> 8,
					i & 255, i);
	snprintf(hosts + len, sizeof(hosts) - len, "10.0.1.1 multi.test\n"
		 "10.0.1.2 multi.test\n10.0.1.3 multi.test\n");
	dnsmasq_write("hosts", hosts);
	snprintf(conf, sizeof(conf),
		 "no-resolv\nno-hosts\naddn-hosts=%s/hosts\n"
		 "local=/test/\n"
		 "host-record=a.test,10.0.0.1\n"
		 "host-record=six.test,fd00::6\n"
		 "host-record=both.test,10.0.0.2,fd00::2\n", dm.dir);
	dnsmasq_write("conf", conf);
}

/* Remove dm.dir and the files in it, if any. */
static void dnsmasq_remove_files(void)
{
	static const char *const files[] = { "hosts", "conf", "log" };
	char path[128];
	size_t i;

	if (!dm.dir[0])
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dm.dir, files[i]);
		unlink(path);
	}
	rmdir(dm.dir);
}

/*
 * The supervisor, a child of the test process: it runs dnsmasq and, once
 * @lifeline reads end-of-file, kills it and removes its files.  The
 * kernel closes the pipe however the test process ends (.fini, a crash,
 * Criterion's timeout); dnsmasq clears PR_SET_PDEATHSIG when it drops
 * its capabilities, so that could not do it.  Exits when dnsmasq does.
 * Forked before the test starts any thread.
 */
static void __attribute__((noreturn))
dnsmasq_supervise(const char *bin, char **argv, int lifeline)
{
	struct pollfd p = { .fd = lifeline, .events = POLLIN };
	pid_t pid = fork();

	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		execv(bin, argv);
		_exit(127);
	}
	for (;;) {
		if (poll(&p, 1, 50) != 0) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
			dnsmasq_remove_files();
			_exit(0);
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			_exit(1);
	}
}

/* Start dnsmasq on @port; true once it answers, false if it exited. */
static bool dnsmasq_try(const char *bin, int port)
{
	char conf[96], port_opt[32], user[64], log[96];
	struct passwd *pw = getpwuid(geteuid());
	int i, pfd[2];

	snprintf(conf, sizeof(conf), "--conf-file=%s/conf", dm.dir);
	snprintf(log, sizeof(log), "--log-facility=%s/log", dm.dir);
	snprintf(port_opt, sizeof(port_opt), "--port=%d", port);
	/* As root it would switch to "nobody", which may not exist. */
	snprintf(user, sizeof(user), "--user=%s", pw ? pw->pw_name : "root");
	/* Close-on-exec: only the test process holds the write end. */
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	dm.pid = fork();
	cr_assert_geq(dm.pid, 0);
	if (dm.pid == 0) {
		/* execv's argv is not const: no string literals in it. */
		char name[] = "dnsmasq", fg[] = "--keep-in-foreground",
		     listen[] = "--listen-address=127.0.0.1",
		     bind_opt[] = "--bind-interfaces", pid[] = "--pid-file=";
		char *argv[] = { name, conf, fg, port_opt, listen, bind_opt,
				 user, pid, log, NULL };

		close(pfd[1]);
		dnsmasq_supervise(bin, argv, pfd[0]);
	}
	close(pfd[0]);
	dm.wfd = pfd[1];
	for (i = 0; i < 500; i++) {
		if (waitpid(dm.pid, NULL, WNOHANG) == dm.pid) {
			close(dm.wfd);
			dm.pid = 0;
			return false;
		}
		if (dnsmasq_listening(port))
			return true;
		usleep(10000);
	}
	cr_assert_fail("dnsmasq did not answer within 5 s (log: %s/log)",
		       dm.dir);
	return false;
}

static void dnsmasq_start(void)
{
	char bin[256];
	int i, port = 0;

	if (!dnsmasq_find(bin, sizeof(bin)))
		cr_skip_test("dnsmasq is not installed (Debian package "
			     "dnsmasq-base)");
	strcpy(dm.dir, "/tmp/corio-test-dns.XXXXXX");
	cr_assert(mkdtemp(dm.dir), "mkdtemp: %s", strerror(errno));
	dnsmasq_files();
	/* Another process may take the free port before dnsmasq does. */
	for (i = 0; i < 5; i++) {
		port = free_port();
		if (port && dnsmasq_try(bin, port))
			break;
	}
	cr_assert_lt(i, 5, "dnsmasq would not start (log: %s/log)", dm.dir);
	snprintf(dm.servers, sizeof(dm.servers), "127.0.0.1:%d", port);
}

static void dnsmasq_stop(void)
{
	if (dm.pid > 0) {
		close(dm.wfd);		/* the supervisor stops dnsmasq */
		waitpid(dm.pid, NULL, 0);
		dm.pid = 0;
	}
	dnsmasq_remove_files();
	dm.dir[0] = '\0';
}

static void env_start_dnsmasq(struct env *e, struct corio_resolver_opts o)
{
	dnsmasq_start();
	memset(e, 0, sizeof(*e));
	e->srv.fd = -1;
	e->loop = t_loop();
	env_resolver(e, o, dm.servers);
}

Test(dns, dnsmasq_answers_records_and_misses, .timeout = 20,
     .fini = dnsmasq_stop)
{
	struct lookup ls[NZONE + 3] = {
		[NZONE] = { "N7.TEST", NULL, AF_UNSPEC, 0, NULL, 0 },
		{ "nosuch.test", NULL, AF_UNSPEC, 0, NULL, 0 },
		{ "six.test", NULL, AF_INET, 0, NULL, 0 },
	};
	struct env e;

	memcpy(ls, zone_lookups, sizeof(zone_lookups));
	env_start_dnsmasq(&e, (struct corio_resolver_opts){
		.timeout_ms = 2000, .tries = 1 });
	run_lookups(&e, ls, NZONE + 3);
	expect_zone_answers(ls);
	expect_addrs(&ls[NZONE], (const char *[]){ "10.1.0.7" }, 1, 0);
	cr_assert_eq(ls[NZONE + 1].ret, -ENOENT, "%d", ls[NZONE + 1].ret);
	cr_assert_eq(ls[NZONE + 2].ret, -ENODATA, "%d", ls[NZONE + 2].ret);
	free_lookups(ls, NZONE + 3);
	env_finish(&e);
}

/*
 * A and AAAA for each name: 2,000 queries, against a server that reads
 * one datagram per turn of its own loop.  c-ares's default first-try
 * timeout (5 s) stays: one lost datagram would show.
 */
Test(dns, a_thousand_concurrent_resolves_against_dnsmasq, .timeout = 60,
     .fini = dnsmasq_stop)
{
	static char names[NBURST][24];
	struct burst b;
	struct env e;
	int i;

	burst_init(&b, NBURST, "test", names, AF_UNSPEC);
	env_start_dnsmasq(&e, (struct corio_resolver_opts){ 0 });
	burst_run(&e, &b);
	for (i = 0; i < NBURST; i++)
		expect_n_addr(&b, i);
	cr_assert_lt(b.ms, 2500, "%.1f ms", b.ms);
	burst_free(&b);
	env_finish(&e);
}

/* ---------------------------------------------------------------------- */
/* Misuse.                                                                */

corio_async_static(int, bad_inputs, ((struct corio_resolver *, res),
				     (int *, rets)), (
	struct corio_addrinfo *list;
	char longname[300];
))
{
	corio_begin();
	memset(self->longname, 'a', sizeof(self->longname) - 1);
	self->list = (void *)1;
	corio_await(self->rets[0], corio_resolve, self->res, NULL, NULL,
		    AF_INET, &self->list);
	cr_assert_null(self->list);
	corio_await(self->rets[1], corio_resolve, self->res, "", NULL,
		    AF_INET, &self->list);
	corio_await(self->rets[2], corio_resolve, self->res, self->longname,
		    NULL, AF_INET, &self->list);
	corio_await(self->rets[3], corio_resolve, self->res, "a.test", NULL,
		    AF_UNIX, &self->list);
	corio_await(self->rets[4], corio_resolve, self->res, "a.test", NULL,
		    AF_INET, NULL);
	corio_await(self->rets[5], corio_resolve, NULL, "a.test", NULL,
		    AF_INET, &self->list);
	corio_await(self->rets[6], corio_resolve, self->res, "bad..name",
		    NULL, AF_INET, &self->list);
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, bad_input_is_einval, .timeout = 10)
{
	struct env e;
	struct corio_resolver *r = NULL;
	int rets[7], i;

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 500,
						   .tries = 1 }, false);
	cr_assert_eq(corio_spawn(e.loop, bad_inputs__start(NULL, e.res, rets,
							   NULL), NULL), 0);
	cr_assert_eq(corio_loop_run(e.loop), 0);
	for (i = 0; i < 6; i++)
		cr_assert_eq(rets[i], -EINVAL, "case %d: %d", i, rets[i]);
	/* c-ares refuses an empty label itself, before any query. */
	cr_assert_lt(rets[6], 0, "%d", rets[6]);

	cr_assert_eq(corio_resolver_create(NULL, NULL), -EINVAL);
	cr_assert_eq(corio_resolver_create(&r, &(struct corio_resolver_opts){
		.lookups = "x" }), -EINVAL);
	cr_assert_eq(corio_resolver_create(&r, &(struct corio_resolver_opts){
		.flags = 0x100 }), -EINVAL);
	cr_assert_eq(corio_resolver_create(&r, &(struct corio_resolver_opts){
		.timeout_ms = -1 }), -EINVAL);
	cr_assert_eq(corio_resolver_create(&r, &(struct corio_resolver_opts){
		.max_queries = -1 }), -EINVAL);
	cr_assert_eq(corio_resolver_create(&r, &(struct corio_resolver_opts){
		.servers = "" }), -EINVAL);
	cr_assert_eq(corio_resolver_create(&r, &(struct corio_resolver_opts){
		.servers = "no server here" }), -EINVAL);
	cr_assert_null(r);
	cr_assert_eq(corio_resolver_destroy(NULL), -EINVAL);
	env_finish(&e);
}

corio_async_static(int, destroy_while_awaited, ((struct env *, e),
						(struct lookup *, l),
						(int *, busy)), (
	struct corio_task *t;
	int status;
))
{
	corio_begin();
	corio_spawn(corio_loop_current(),
		    do_lookup__start(NULL, self->e->res, self->l, NULL),
		    &self->t);
	corio_yield();		/* the lookup is now pending */
	*self->busy = corio_resolver_destroy(self->e->res);
	corio_await(self->status, corio_join, self->t);
	corio_task_cancel(self->e->srv.task);
	corio_await(self->status, corio_join, self->e->srv.task);
	self->e->srv.task = NULL;
	corio_return(0);
corio_finally:
	corio_end();
}

Test(dns, destroy_is_refused_while_a_resolve_waits, .timeout = 10)
{
	struct env e;
	struct lookup l = { "slow.test", NULL, AF_INET, 0, NULL, 0 };
	int busy = 0;

	env_start(&e, (struct corio_resolver_opts){ .timeout_ms = 2000 }, true);
	cr_assert_eq(corio_spawn(e.loop, destroy_while_awaited__start(NULL,
				&e, &l, &busy, NULL), NULL), 0);
	cr_assert_eq(corio_loop_run(e.loop), 0);
	cr_assert_eq(busy, -EBUSY);
	expect_addrs(&l, (const char *[]){ "10.0.0.9" }, 1, 0);
	free_lookups(&l, 1);
	env_finish(&e);
}

/* ---------------------------------------------------------------------- */
/* Allocation failures.                                                   */


Test(dns, each_allocation_failing_in_turn_leaks_nothing, .timeout = 30)
{
	struct corio_loop_opts lo = { .flags = CORIO_LOOP_NO_CACHE };
	struct corio_resolver_opts o = { .timeout_ms = 20, .tries = 1,
					 .lookups = "b",
					 .flags = CORIO_RESOLVER_NO_SEARCH };
	struct dns_server hole;
	long n, driver_failed = 0;

	/* Fail the 1st, 2nd... allocation until a run needs no failure. */
	for (n = 1;; n++) {
		struct lookup l = { "drop.test", NULL, AF_INET, 0, NULL, 0 };
		struct corio_resolver *res;
		struct corio_loop *loop;
		struct corio_task *t;
		int ret, st;

		t_alloc_counting(n);
		ret = corio_loop_create(&loop, &lo);
		if (ret == -EPERM || ret == -ENOSYS)
			cr_skip_test("%s", corio_loop_unavailable_reason());
		if (ret == -ENOMEM) {
			cr_assert_eq(t_alloc_live, 0);
			continue;
		}
		cr_assert_eq(ret, 0);
		server_bind(&hole);
		o.servers = hole.servers;
		cr_assert_eq(corio_resolver_create(&res, &o), 0);
		ret = corio_spawn(loop, do_lookup__start(NULL, res, &l, NULL),
				  &t);
		if (ret == 0) {
			cr_assert_eq(corio_loop_run(loop), 0);
			cr_assert_eq(corio_task_reap(t, &st), 0);
			/* The task failed, or the resolve reported it. */
			cr_assert(st == -ENOMEM || (st == 0 &&
				  (l.ret == -ETIMEDOUT || l.ret == -ENOMEM)),
				  "n=%ld: status %d, resolve %d", n, st, l.ret);
			/* The resolver could not start its task: the query
			 * it had sent is abandoned and cancelled. */
			driver_failed += st == 0 && l.ret == -ENOMEM;
		} else {
			cr_assert_eq(ret, -ENOMEM);
		}
		cr_assert_eq(corio_resolver_destroy(res), 0);
		cr_assert_eq(corio_loop_destroy(loop), 0);
		close(hole.fd);
		cr_assert_eq(t_alloc_live, 0, "n=%ld: %ld leaked", n,
			     t_alloc_live);
		if (t_alloc_count < n)
			break;
	}
	corio_set_allocator(NULL, NULL);
	cr_assert_geq(driver_failed, 1);
	printf("dns: failed each of %ld allocations in turn\n", n - 1);
}
