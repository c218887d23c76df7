/* SPDX-License-Identifier: MIT */
/*
 * corio/dns.h - asynchronous name resolution (c-ares on the corio loop).
 *
 * Part of the separate library corio_dns (pkg-config corio-dns, CMake
 * corio::dns), so that only programs that resolve names depend on c-ares.
 *
 *	struct corio_resolver_opts o = { .servers = "127.0.0.1:5353" };
 *	corio_resolver_create(&res, &o);          // once per loop
 *	...
 *	corio_await(self->n, corio_resolve, res, "example.test", "80",
 *		    AF_UNSPEC, &self->addrs);
 *	if (self->n > 0)
 *		connect to self->addrs->addr ...
 *	corio_addrinfo_free(self->addrs);
 *
 * A resolver wraps one c-ares channel: every resolve awaited through it
 * shares the channel's sockets.  While queries are pending a task of the
 * resolver ("corio_dns_driver") waits for the channel's sockets to become
 * readable and for its next timeout, so a task waiting for a name counts
 * as waiting on I/O: the loop never reports it as deadlocked.
 *
 * A resolver hands at most max_queries resolves (32 by default) to c-ares
 * at once; the others wait their turn, in order, inside the resolver.
 * c-ares 1.18 sends all queries to a server through one UDP socket the
 * moment it is asked: a burst of a thousand resolves would overflow the
 * receive buffers of that socket and of the server's (about 250 small
 * datagrams each by default), and every datagram lost costs c-ares's
 * first-try timeout, 5 s by default.  Paced so, 1,000 resolves against
 * dnsmasq on loopback take some 30-120 ms instead of 15 s and more
 * (bench/dns_burst.sh).  A sent query stops counting after 50 ms
 * (or the first-try timeout, if shorter) even unanswered, so a server
 * that drops some queries cannot hold the others back; c-ares still
 * retries the lost ones as configured.  A resolve's place is taken when
 * its query is sent, so a task deadline or a cancel that comes while it
 * waits sends nothing.
 *
 * All functions are for the thread of the loop the resolver was created
 * on.  Not for loops on CORIO_LOOP_VIRTUAL_CLOCK: c-ares times its retries
 * on the real clock, which a virtual clock's jumps do not advance.
 *
 * Errors.  c-ares statuses become negative errno values:
 *	ARES_ENOTFOUND                      -ENOENT       no such name
 *	ARES_ENODATA                        -ENODATA      no address of that
 *	                                                  family for the name
 *	ARES_ETIMEOUT                       -ETIMEDOUT    no server answered
 *	ARES_ECONNREFUSED                   -ECONNREFUSED no server reachable,
 *	                                                  or every server
 *	                                                  failed (c-ares
 *	                                                  1.18 reports
 *	                                                  SERVFAIL so)
 *	ARES_ESERVFAIL                      -EAGAIN       server failure
 *	ARES_EREFUSED                       -EACCES       server refused
 *	ARES_EFORMERR, EBADRESP, ENOTIMP    -EPROTO       bad exchange
 *	ARES_EBADNAME, EBADFAMILY, EBADFLAGS, EBADHINTS, EBADQUERY, ENONAME
 *	                                    -EINVAL
 *	ARES_ESERVICE                       -ESRCH        unknown service
 *	ARES_ENOMEM                         -ENOMEM
 *	ARES_ECANCELLED, EDESTRUCTION       -ECANCELED
 *	anything else (EOF, EFILE...)       -EIO
 * c-ares 1.18 never sends "localhost" to a server (RFC 6761): without the
 * "f" lookup it fails with -ECONNREFUSED.
 * -ETIMEDOUT (the DNS servers gave up) is distinct from -ETIME (the
 * awaiting task's own deadline passed first).  corio_resolve_strerror()
 * words these for name lookups.
 */
#ifndef CORIO_DNS_H
#define CORIO_DNS_H

#include <sys/socket.h>

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_resolver;

struct corio_resolver_opts {
	/* public: "HOST[:PORT],..." servers ("127.0.0.1:5353",
	 * "[::1]:53"); NULL = the servers of /etc/resolv.conf */
	const char *servers;
	/* public: "fb" (the hosts file, then DNS), "b" (DNS only), "f"
	 * (hosts file only); NULL = the system's order */
	const char *lookups;
	int timeout_ms;		/* public: first try's timeout; 0 = c-ares's
				 * default (5 s), doubled each round */
	int tries;		/* public: tries per server; 0 = default (4) */
	int max_queries;	/* public: resolves handed to c-ares at once,
				 * the others wait their turn; 0 = default
				 * (32).  More raises the rate against a far
				 * server, at the risk of lost datagrams. */
	unsigned flags;		/* public: CORIO_RESOLVER_* */
};

/*
 * flags: resolve names exactly as given, without appending the search
 * domains of resolv.conf (ARES_FLAG_NOSEARCH).
 */
#define CORIO_RESOLVER_NO_SEARCH 0x1u

/* One resolved address.  The list is one allocation: free the head. */
struct corio_addrinfo {
	struct corio_addrinfo *next;	/* read-only: next address or NULL */
	int family;			/* read-only: AF_INET or AF_INET6 */
	int socktype;			/* read-only: SOCK_* (0 = any) */
	int protocol;			/* read-only: IPPROTO_* (0 = any) */
	int ttl;			/* read-only: seconds (0 for hosts
					 * file and numeric names) */
	socklen_t addrlen;		/* read-only: bytes used in addr */
	struct sockaddr_storage addr;	/* read-only: address and port */
};

/*
 * Create a resolver on the calling thread's loop.  @opts may be NULL (the
 * system configuration).  Returns 0 and stores it in *@resp, or -EINVAL
 * (no loop on this thread, unknown flag, malformed servers or lookups,
 * negative timeout, tries or max_queries), -ENOMEM, or -errno from creating its
 * epoll instance; -EIO when c-ares cannot read its configuration.
 */
CORIO_EXTERN int corio_resolver_create(struct corio_resolver **resp,
				       const struct corio_resolver_opts *opts);

/*
 * Destroy @res.  Returns 0, -EBUSY (nothing is destroyed) while a task
 * awaits a resolve through it, -EPERM from another thread than its loop's.
 * Queries abandoned by cancelled tasks are dropped; the resolver's own
 * task, if still running, finishes on the loop's next iterations.
 */
CORIO_EXTERN int corio_resolver_destroy(struct corio_resolver *res);

/*
 * Awaitable: resolve @name (a host name or an address literal) to the
 * addresses of @family (AF_UNSPEC, AF_INET or AF_INET6), with the port of
 * @service ("443", "http"; NULL = port 0).  On success *@result is the
 * number of addresses (> 0) and *@list the list, which the caller frees
 * with corio_addrinfo_free().  Otherwise *@list is NULL and *@result is a
 * negative errno from the table above, or -EINVAL (@res or @name NULL,
 * @name empty or longer than 255 bytes, @list NULL, @family unsupported),
 * -EPERM (not @res's loop), -ETIME (the task's deadline passed first),
 * -ENOMEM (also when the resolver's task could not be started), or the
 * error of the resolver's own wait for its sockets, which ends every
 * pending query.  Address literals ("127.0.0.1", "::1") and, with the "f"
 * lookup, names in /etc/hosts are answered without a query (c-ares reads
 * the hosts file at each lookup); a literal of the other family than
 * @family gives -ENODATA.  @name and @service must stay valid until the
 * resolve returns: a resolve that waits for its place in the resolver's
 * window is sent later.
 *
 * Cancelling the task unwinds it as usual, at once: its query is
 * abandoned and the answer, if one still comes, is dropped.  c-ares 1.18
 * cannot cancel a single query, so an abandoned one keeps running until
 * it ends, unless no task awaits any query of @res any more: then all are
 * cancelled together.
 */
CORIO_EXTERN struct corio_frame *corio_resolve__start(
	struct corio_frame *parent, struct corio_resolver *res,
	const char *name, const char *service, int family,
	struct corio_addrinfo **list, int *result);

/* Free a list from corio_resolve.  NULL is ignored. */
CORIO_EXTERN void corio_addrinfo_free(struct corio_addrinfo *list);

/*
 * A static description of a corio_resolve result, worded for name lookup
 * where the errno text would mislead ("name not found" for -ENOENT);
 * corio_strerror()'s text for any other value.  Never NULL.
 */
CORIO_EXTERN const char *corio_resolve_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_DNS_H */
