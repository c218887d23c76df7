/* SPDX-License-Identifier: MIT */
/*
 * runtime/dns/dns.c - corio_resolve: c-ares's callback API as one await.
 *
 * This file is the whole of libcorio_dns and uses only corio's public API,
 * as any program wrapping a callback library would.
 *
 * c-ares does no waiting of its own.  It tells us which sockets it wants
 * to read or write (the SOCK_STATE_CB option), and expects ares_process_fd
 * to be called when one is ready or when ares_timeout says a retry is due;
 * each query ends with a call of its callback.  Here:
 *
 *  - the sockets go into an epoll instance, so one corio_poll of the epoll
 *    fd waits for all of them however many there are, and a socket c-ares
 *    closes simply leaves the set (no fd-number reuse to race with);
 *  - a task per resolver, the driver, exists while queries are pending: it
 *    awaits that poll under a task deadline equal to ares_timeout, then
 *    calls ares_process_fd for the ready sockets, or once with no socket
 *    when the deadline passed (c-ares then handles its timeouts);
 *  - each corio_resolve owns a heap query record holding a completion; the
 *    c-ares callback fills the record and resolves the completion, which
 *    the resolving task awaits;
 *  - at most max_queries records are in c-ares at once (the window, see
 *    WINDOW_DEFAULT); the others wait in the resolver, in order, and the
 *    driver sends them as answers come or as sent ones stop counting.
 *
 * Ownership and cancellation.  c-ares 1.18 cannot cancel one query, so a
 * record may outlive the task that started it: a cancelled (or timed-out)
 * task marks its record abandoned and forgets it, and the callback, when
 * it eventually runs, frees the record and the answer.  The frame is never
 * referenced by c-ares; only the record is.  When no task awaits any query
 * any more, the remaining abandoned queries are cancelled as a whole
 * (ares_cancel), so the driver ends and the loop can finish.
 *
 * Deadlock detection needs no help: the driver always has its poll in
 * flight while it waits, which the loop counts as I/O in flight.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>
#include <corio/dns.h>

/* Longest name accepted: a DNS name is at most 255 bytes on the wire. */
#define NAME_MAX_LEN 255

/*
 * The window: how many resolves are handed to c-ares at once by default,
 * and how long each sent one counts against it at most.
 *
 * c-ares 1.18 sends every query to a server through one UDP socket the
 * moment it is asked, and its answers wait in that socket's receive
 * buffer until the driver runs.  A burst of resolves started in one pass
 * of the loop therefore lands all its queries in the server's socket at
 * once, and all their answers in ours: past about 250 small datagrams
 * (each costs some 750 bytes of the default 208 KiB buffer) the kernel
 * drops the rest, and each lost one costs a first-try timeout, 5 s by
 * default, after which the retries burst and overflow again.  32
 * resolves are at most 64 datagrams (A and AAAA) in either buffer: room
 * for larger answers and for the server's other clients.
 *
 * A query whose answer has not come within WINDOW_HOLD_MS is most likely
 * lost, and c-ares retries it on its own; it stops counting so that a
 * server that drops some queries cannot stall the others behind them.
 */
#define WINDOW_DEFAULT	32
#define WINDOW_HOLD_MS	50

/*
 * ares_library_init and _cleanup keep a plain reference count and are not
 * thread-safe, while loops on several threads may each create resolvers.
 */
static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;

/* A FIFO of queries: circular, with a head; a link off any list points
 * to itself, so unlinking twice is harmless. */
struct qlink {
	struct qlink *prev, *next;
};

struct corio_resolver {
	struct corio_loop *loop;	/* the loop it was created on */
	ares_channel channel;		/* valid until destroyed */
	int epfd;			/* c-ares's sockets and wake_fd */
	int wake_fd;			/* eventfd: re-read ares_timeout */
	struct corio_task *driver;	/* the driver task while it runs,
					 * else NULL; it clears this itself */
	int64_t driver_deadline;	/* when the driver's wait ends;
					 * valid while driver != NULL */
	unsigned pending;		/* queries whose callback is due */
	unsigned awaited;		/* ... of which a task still awaits */
	bool destroyed;			/* channel gone: the driver, still
					 * unwinding, frees the rest */
	bool files_only;		/* lookups "f": never asks a server */
	struct qlink waiting;		/* queries not yet given to c-ares,
					 * in arrival order */
	struct qlink window;		/* queries given to c-ares that still
					 * count against max_queries, oldest
					 * first */
	unsigned in_window;		/* length of window */
	unsigned max_queries;		/* window size, >= 1 */
	int64_t hold_ns;		/* longest time one query counts */
	int fail_err;			/* -errno given to the queries the
					 * driver ends because its wait failed;
					 * 0 otherwise */
};

/* Where a query is; it only moves down this list. */
enum query_state {
	QUERY_WAITING,		/* on res->waiting, not in c-ares */
	QUERY_COUNTED,		/* in c-ares, on res->window */
	QUERY_SENT,		/* in c-ares, no longer counted */
	QUERY_DONE,		/* c-ares has called back */
};

/*
 * One corio_resolve.  Owned by the awaiting frame until it is abandoned,
 * then by the c-ares callback.  Never freed while c-ares holds it (it is
 * the callback's argument until the callback has run).
 */
struct query {
	struct qlink link;		/* see enum query_state */
	struct corio_resolver *res;
	/* The arguments, for a query that waits for the window: the
	 * strings are the awaiting task's (a waiting query always has one,
	 * or it is unlinked and freed). */
	const char *name;
	const char *service;
	struct ares_addrinfo_hints hints;
	enum query_state state;
	int64_t sent_at;		/* loop clock; valid once sent */
	struct corio_completion done;	/* what the task awaits; valid until
					 * the frame lets go of the record */
	struct ares_addrinfo *ai;	/* the answer; valid once answered */
	int status;			/* ARES_*; valid once answered */
	int err;			/* -errno that replaces status, or 0 */
	bool answered;			/* the callback has run */
	bool abandoned;			/* no task will read the answer */
};

/* ---------------------------------------------------------------------- */
/* Query lists.                                                           */

static void qlist_init(struct qlink *head)
{
	head->prev = head->next = head;
}

static bool qlist_empty(const struct qlink *head)
{
	return head->next == head;
}

static void qlist_add_tail(struct qlink *head, struct qlink *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void qlist_del(struct qlink *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	qlist_init(l);
}

static struct query *qlist_first(const struct qlink *head)
{
	return (struct query *)(void *)((char *)head->next -
					offsetof(struct query, link));
}

/* ---------------------------------------------------------------------- */
/* Errors.                                                                */

/* The table in corio/dns.h. */
static int ares_errno(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOTFOUND:
		return -ENOENT;
	case ARES_ENODATA:
		return -ENODATA;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return -ECONNREFUSED;
	case ARES_ESERVFAIL:
		return -EAGAIN;
	case ARES_EREFUSED:
		return -EACCES;
	case ARES_EFORMERR:
	case ARES_EBADRESP:
	case ARES_ENOTIMP:
		return -EPROTO;
	case ARES_EBADNAME:
	case ARES_EBADFAMILY:
	case ARES_EBADFLAGS:
	case ARES_EBADHINTS:
	case ARES_EBADQUERY:
	case ARES_ENONAME:
	case ARES_EBADSTR:
		return -EINVAL;
	case ARES_ESERVICE:
		return -ESRCH;
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

const char *corio_resolve_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "name not found";
	case -ENODATA:
		return "name has no address of the requested family";
	case -ETIMEDOUT:
		return "no DNS server answered in time";
	case -ECONNREFUSED:
		return "DNS server unreachable";
	case -EAGAIN:
		return "DNS server failure";
	case -EACCES:
		return "DNS server refused the query";
	case -EPROTO:
		return "malformed DNS response";
	case -ESRCH:
		return "unknown service name";
	default:
		return corio_strerror(err);
	}
}

/* ---------------------------------------------------------------------- */
/* Sockets and time: the driver task.                                     */

/* c-ares opens, closes or changes interest in @fd. */
static void sock_state(void *data, ares_socket_t fd, int readable,
		       int writable)
{
	struct corio_resolver *res = data;
	struct epoll_event ev = { 0 };

	if (!readable && !writable) {	/* about to be closed */
		epoll_ctl(res->epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
	ev.data.fd = fd;
	/*
	 * If both fail (no memory for the epoll entry) the socket is never
	 * reported ready; its queries then end by timeout, not by a hang.
	 */
	if (epoll_ctl(res->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    errno == ENOENT)
		epoll_ctl(res->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * When the driver must next run: c-ares's next timeout or, while queries
 * wait for the window, the time its oldest query stops counting.
 * CORIO_NO_DEADLINE if neither.
 */
static int64_t next_wake(struct corio_resolver *res)
{
	int64_t when = CORIO_NO_DEADLINE, expiry;
	struct timeval tv;

	if (ares_timeout(res->channel, NULL, &tv))
		when = corio_now() + CORIO_SEC(tv.tv_sec) + CORIO_US(tv.tv_usec);
	if (!qlist_empty(&res->waiting) && !qlist_empty(&res->window)) {
		expiry = qlist_first(&res->window)->sent_at + res->hold_ns;
		if (expiry < when)
			when = expiry;
	}
	return when;
}

/* The query @q ends with @status and @ai; its task may read it now. */
static void query_complete(struct query *q, int status,
			   struct ares_addrinfo *ai)
{
	q->res->awaited--;
	q->state = QUERY_DONE;
	q->answered = true;
	q->status = status;
	q->ai = ai;
	corio_completion_resolve(&q->done, status);
}

/*
 * The driver's poll returned @ev: hand every ready socket to c-ares, or
 * let it process its timeouts when none is.  Query callbacks run from here.
 */
static void service(struct corio_resolver *res, int ev)
{
	struct epoll_event evs[16];
	bool handled = false;
	uint64_t count;
	int i, n;

	if (ev < 0 && ev != -ETIME) {
		/*
		 * The wait itself failed (no memory, a full submission
		 * queue): the queries could not be driven any further, so
		 * end them now with that error rather than spin on it.
		 */
		res->fail_err = ev;
		ares_cancel(res->channel);
		res->fail_err = 0;
		while (!qlist_empty(&res->waiting)) {
			struct query *q = qlist_first(&res->waiting);

			qlist_del(&q->link);
			q->err = ev;
			query_complete(q, ARES_ECANCELLED, NULL);
		}
		return;
	}
	/* More ready sockets than fit stay ready: the next poll is instant. */
	n = epoll_wait(res->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), 0);
	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		uint32_t e = evs[i].events;

		if (fd == res->wake_fd) {
			/* Only the wake-up matters, not the count. */
			ssize_t r = read(fd, &count, sizeof(count));

			(void)r;
			continue;
		}
		handled = true;
		ares_process_fd(res->channel,
			(e & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
			(e & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
	}
	if (!handled)
		ares_process_fd(res->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static void resolver_free(struct corio_resolver *res)
{
	close(res->wake_fd);
	close(res->epfd);
	free(res);
}

static void window_refill(struct corio_resolver *res);

/*
 * The driver: runs while queries are pending.  Its wait is the poll of the
 * epoll fd with the task deadline set to next_wake().  Nothing else wakes
 * it except wake_fd, written when a new query needs an earlier wake-up
 * than the one it sleeps towards.  Queries waiting for the window are
 * sent from here, after c-ares has returned: answers free places in the
 * window inside ares_process_fd, whose callbacks must not start queries.
 */
corio_async_static(void, corio_dns_driver, ((struct corio_resolver *, res)), (
	int ev;
))
{
	corio_begin();
	while (!self->res->destroyed && self->res->pending > 0) {
		self->res->driver_deadline = next_wake(self->res);
		corio_deadline_set(self->res->driver_deadline);
		corio_await(self->ev, corio_poll, self->res->epfd, POLLIN);
		corio_deadline_set(CORIO_NO_DEADLINE);
		if (self->res->destroyed)
			break;
		service(self->res, self->ev);
		window_refill(self->res);
	}
corio_finally:
	self->res->driver = NULL;
	if (self->res->destroyed)
		resolver_free(self->res);
	corio_end();
}

/* Make the driver's poll return so that it looks at the channel again. */
static void wake_driver(struct corio_resolver *res)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is full: the driver wakes anyway. */
	if (write(res->wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* A query was added while the driver runs: shorten its wait if needed. */
static void nudge_driver(struct corio_resolver *res)
{
	if (next_wake(res) < res->driver_deadline)
		wake_driver(res);
}

static int start_driver(struct corio_resolver *res)
{
	struct corio_frame *root = corio_dns_driver__start(NULL, res);
	struct corio_task *t;
	int ret;

	if (!root)
		return -ENOMEM;
	ret = corio_spawn(res->loop, root, &t);
	if (ret < 0)
		return ret;
	/* Detached, yet the pointer stays valid: the driver clears
	 * res->driver before it finishes. */
	corio_task_detach(t);
	res->driver = t;
	res->driver_deadline = CORIO_NO_DEADLINE;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Queries.                                                               */

static void on_answer(void *arg, int status, int timeouts,
		      struct ares_addrinfo *ai)
{
	struct query *q = arg;

	(void)timeouts;
	q->res->pending--;
	if (q->state == QUERY_COUNTED) {
		qlist_del(&q->link);
		q->res->in_window--;
	}
	q->state = QUERY_DONE;
	if (q->abandoned) {	/* the task went away: nobody reads this */
		if (ai)
			ares_freeaddrinfo(ai);
		free(q);
		return;
	}
	/*
	 * c-ares 1.18 starts every lookup with ECONNREFUSED as the status to
	 * report if nothing succeeds, so a miss in the hosts file alone
	 * would read "server unreachable" although no server was asked.
	 */
	if (status == ARES_ECONNREFUSED && q->res->files_only)
		status = ARES_ENOTFOUND;
	if (status == ARES_ECANCELLED && q->res->fail_err)
		q->err = q->res->fail_err;
	query_complete(q, status, ai);
}

/*
 * Hand @q to c-ares; @counted: it takes a place in the window.  Answers
 * from the hosts file or numeric names arrive right here (on_answer).
 */
static void query_send(struct corio_resolver *res, struct query *q,
		       bool counted)
{
	q->sent_at = corio_now();
	q->state = QUERY_SENT;
	if (counted) {
		q->state = QUERY_COUNTED;
		qlist_add_tail(&res->window, &q->link);
		res->in_window++;
	}
	res->pending++;
	ares_getaddrinfo(res->channel, q->name, q->service, &q->hints,
			 on_answer, q);
}

/*
 * Stop counting the queries that have been in the window for hold_ns,
 * then send waiting queries while there is room.  O(1) per query moved:
 * the window is in sending order and every query counts equally long.
 */
static void window_refill(struct corio_resolver *res)
{
	int64_t now = corio_now();
	struct query *q;

	while (!qlist_empty(&res->window)) {
		q = qlist_first(&res->window);
		if (now - q->sent_at < res->hold_ns)
			break;
		qlist_del(&q->link);
		q->state = QUERY_SENT;
		res->in_window--;
	}
	while (!qlist_empty(&res->waiting) &&
	       res->in_window < res->max_queries) {
		q = qlist_first(&res->waiting);
		qlist_del(&q->link);
		query_send(res, q, true);
	}
}

/*
 * The frame lets go of @q without reading it (cancelled, deadline).  If
 * the callback has not run, it will free the record; if that leaves
 * nothing any task awaits, the abandoned queries are cancelled at once.
 */
static void query_abandon(struct query *q)
{
	struct corio_resolver *res = q->res;

	corio_completion_destroy(&q->done);	/* its waiter has left */
	if (q->answered) {
		if (q->ai)
			ares_freeaddrinfo(q->ai);
		free(q);
		return;
	}
	res->awaited--;
	if (q->state == QUERY_WAITING) {	/* c-ares never saw it */
		qlist_del(&q->link);
		free(q);
	} else {
		q->abandoned = true;
	}
	if (res->awaited == 0 && res->pending > 0) {
		/* Runs on_answer for each (freeing them) before returning. */
		ares_cancel(res->channel);
		if (res->driver)
			wake_driver(res);	/* to see nothing pending */
	}
}

/* Copy c-ares's answer into one allocation.  Returns the count or -errno. */
static int copy_list(const struct ares_addrinfo *ai,
		     struct corio_addrinfo **list)
{
	const struct ares_addrinfo_node *node;
	struct corio_addrinfo *out;
	int n = 0, i = 0;

	for (node = ai ? ai->nodes : NULL; node; node = node->ai_next)
		n++;
	if (n == 0)
		return -ENODATA;
	out = calloc((size_t)n, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (node = ai->nodes; node; node = node->ai_next, i++) {
		size_t len = node->ai_addrlen;

		if (len > sizeof(out[i].addr))
			len = sizeof(out[i].addr);
		out[i].next = i + 1 < n ? &out[i + 1] : NULL;
		out[i].family = node->ai_family;
		out[i].socktype = node->ai_socktype;
		out[i].protocol = node->ai_protocol;
		out[i].ttl = node->ai_ttl;
		out[i].addrlen = (socklen_t)len;
		memcpy(&out[i].addr, node->ai_addr, len);
	}
	*list = out;
	return n;
}

/* Read the answer of @q into *@list and release @q.  Count or -errno. */
static int query_finish(struct query *q, struct corio_addrinfo **list)
{
	int ret = q->err ? q->err : ares_errno(q->status);

	if (ret == 0)
		ret = copy_list(q->ai, list);
	if (q->ai)
		ares_freeaddrinfo(q->ai);
	corio_completion_destroy(&q->done);
	free(q);
	return ret;
}

/* AF_INET or AF_INET6 if @name is an address literal, else AF_UNSPEC. */
static int literal_family(const char *name)
{
	unsigned char scratch[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, name, scratch) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, name, scratch) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

/* Start the c-ares query of one corio_resolve.  NULL and *@err on error. */
static struct query *query_start(struct corio_resolver *res, const char *name,
				 const char *service, int family, int *err)
{
	int literal = literal_family(name);
	struct query *q;

	/*
	 * c-ares 1.18 takes an address literal of another family than the
	 * one asked for (or any literal, under AF_UNSPEC) for a name and
	 * sends DNS queries for it.  A literal never leaves the process.
	 */
	if (literal != AF_UNSPEC && family != AF_UNSPEC && family != literal) {
		*err = -ENODATA;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = corio_completion_init(&q->done, "corio_resolve", 0);
	if (*err < 0) {
		free(q);
		return NULL;
	}
	qlist_init(&q->link);
	q->res = res;
	q->name = name;
	q->service = service;
	q->hints.ai_family = literal != AF_UNSPEC ? literal : family;
	res->awaited++;
	if (literal != AF_UNSPEC) {
		/* Answered without a datagram: it needs no place. */
		query_send(res, q, false);
	} else {
		/*
		 * Those that waited first go first.  Places freed by time
		 * are reclaimed by the driver alone, after it has read
		 * what arrived: a burst of resolves that keeps the loop
		 * from reading for longer than hold_ns must not count the
		 * answers already waiting in the socket as lost.
		 */
		if (qlist_empty(&res->waiting) &&
		    res->in_window < res->max_queries) {
			query_send(res, q, true);
		} else {
			q->state = QUERY_WAITING;
			qlist_add_tail(&res->waiting, &q->link);
		}
	}
	if (q->answered)
		return q;
	if (res->driver) {
		nudge_driver(res);
		return q;
	}
	*err = start_driver(res);
	if (*err < 0) {
		query_abandon(q);
		return NULL;
	}
	return q;
}

static int check_args(struct corio_resolver *res, const char *name,
		      int family, struct corio_addrinfo **list)
{
	if (!res || !name || !list)
		return -EINVAL;
	if (name[0] == '\0' || strnlen(name, NAME_MAX_LEN + 1) > NAME_MAX_LEN)
		return -EINVAL;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (corio_loop_current() != res->loop || res->destroyed)
		return -EPERM;
	return 0;
}

corio_async(int, corio_resolve, ((struct corio_resolver *, res),
				 (const char *, name), (const char *, service),
				 (int, family),
				 (struct corio_addrinfo **, list)), (
	struct query *q;	/* owned while non-NULL */
	int64_t woke;
	int err;
))
{
	corio_begin();
	if (self->list)
		*self->list = NULL;
	self->err = check_args(self->res, self->name, self->family,
			       self->list);
	if (self->err < 0)
		corio_return(self->err);
	self->q = query_start(self->res, self->name, self->service,
			      self->family, &self->err);
	if (!self->q)
		corio_return(self->err);
	if (!self->q->answered) {
		corio_await(self->woke, corio_completion_wait, &self->q->done);
		if (!self->q->answered)		/* -ETIME: the task deadline */
			corio_return((int)self->woke);	/* finally abandons */
	}
	self->err = query_finish(self->q, self->list);
	self->q = NULL;
	corio_return(self->err);
corio_finally:
	if (self->q)
		query_abandon(self->q);
	corio_end();
}

void corio_addrinfo_free(struct corio_addrinfo *list)
{
	free(list);
}

/* ---------------------------------------------------------------------- */
/* Resolvers.                                                             */

static void library_cleanup(void)
{
	pthread_mutex_lock(&library_lock);
	ares_library_cleanup();
	pthread_mutex_unlock(&library_lock);
}

static bool lookups_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 2)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != 'f' && s[i] != 'b')
			return false;
	return true;
}

static int check_opts(const struct corio_resolver_opts *o)
{
	if (o->flags & ~CORIO_RESOLVER_NO_SEARCH)
		return -EINVAL;
	if (o->timeout_ms < 0 || o->tries < 0 || o->max_queries < 0)
		return -EINVAL;
	if (o->lookups && !lookups_valid(o->lookups))
		return -EINVAL;
	if (o->servers && o->servers[0] == '\0')
		return -EINVAL;
	return 0;
}

/* Set up the channel of @res as @o says.  0 or -errno. */
static int channel_init(struct corio_resolver *res,
			const struct corio_resolver_opts *o)
{
	struct ares_options ao = { 0 };
	int mask = ARES_OPT_SOCK_STATE_CB, status;

	ao.sock_state_cb = sock_state;
	ao.sock_state_cb_data = res;
	if (o->timeout_ms) {
		ao.timeout = o->timeout_ms;
		mask |= ARES_OPT_TIMEOUTMS;
	}
	if (o->tries) {
		ao.tries = o->tries;
		mask |= ARES_OPT_TRIES;
	}
	if (o->lookups) {
		/* c-ares copies the string; it never writes through it. */
		ao.lookups = (char *)(uintptr_t)o->lookups;
		mask |= ARES_OPT_LOOKUPS;
	}
	if (o->flags & CORIO_RESOLVER_NO_SEARCH) {
		ao.flags = ARES_FLAG_NOSEARCH;
		mask |= ARES_OPT_FLAGS;
	}
	status = ares_init_options(&res->channel, &ao, mask);
	if (status != ARES_SUCCESS)
		return ares_errno(status);
	/*
	 * Replaces the resolv.conf servers before any query can use them,
	 * so a program (or a test) that names its servers never reaches
	 * the system's.
	 */
	if (o->servers) {
		status = ares_set_servers_ports_csv(res->channel, o->servers);
		if (status != ARES_SUCCESS) {
			ares_destroy(res->channel);
			return status == ARES_ENOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return 0;
}

int corio_resolver_create(struct corio_resolver **resp,
			  const struct corio_resolver_opts *opts)
{
	static const struct corio_resolver_opts defaults;
	const struct corio_resolver_opts *o = opts ? opts : &defaults;
	struct epoll_event ev = { .events = EPOLLIN };
	struct corio_resolver *res;
	int ret, status;

	if (!resp || !corio_loop_current())
		return -EINVAL;
	ret = check_opts(o);
	if (ret < 0)
		return ret;
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->loop = corio_loop_current();
	res->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (res->epfd < 0) {
		ret = -errno;
		goto err_free;
	}
	res->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (res->wake_fd < 0) {
		ret = -errno;
		goto err_close_epfd;
	}
	ev.data.fd = res->wake_fd;
	if (epoll_ctl(res->epfd, EPOLL_CTL_ADD, res->wake_fd, &ev) < 0) {
		ret = -errno;
		goto err_close_wake;
	}
	/* Reference-counted; a no-op on Linux, required by the contract. */
	pthread_mutex_lock(&library_lock);
	status = ares_library_init(ARES_LIB_INIT_ALL);
	pthread_mutex_unlock(&library_lock);
	if (status != ARES_SUCCESS) {
		ret = ares_errno(status);
		goto err_close_wake;
	}
	res->files_only = o->lookups && !strchr(o->lookups, 'b');
	qlist_init(&res->waiting);
	qlist_init(&res->window);
	res->max_queries = o->max_queries ? (unsigned)o->max_queries :
					    WINDOW_DEFAULT;
	/* A query stops counting when c-ares retries it, if sooner. */
	res->hold_ns = CORIO_MS(WINDOW_HOLD_MS);
	if (o->timeout_ms && o->timeout_ms < WINDOW_HOLD_MS)
		res->hold_ns = CORIO_MS(o->timeout_ms);
	ret = channel_init(res, o);
	if (ret < 0)
		goto err_library;
	*resp = res;
	return 0;

err_library:
	library_cleanup();
err_close_wake:
	close(res->wake_fd);
err_close_epfd:
	close(res->epfd);
err_free:
	free(res);
	return ret;
}

int corio_resolver_destroy(struct corio_resolver *res)
{
	if (!res)
		return -EINVAL;
	if (corio_loop_current() != res->loop)
		return -EPERM;
	if (res->awaited)
		return -EBUSY;
	/* Abandoned queries, if any, end here (their callbacks free them). */
	ares_destroy(res->channel);
	library_cleanup();
	res->destroyed = true;
	if (res->driver) {
		/* Its poll still refers to epfd: it frees the rest. */
		corio_task_cancel(res->driver);
		return 0;
	}
	resolver_free(res);
	return 0;
}
