/* SPDX-License-Identifier: MIT */
/*
 * echo_load.c - closed-loop load generator for TCP echo servers.
 *
 * Usage: echo_load [-c CONNS] [-d SECONDS] [-s MSGSIZE] [-p PORT]
 *                  [-w WARMUP_SECONDS] [-P SERVER_PID] [-r TRIPS]
 * Defaults: 50 connections, 5 s measured, 64-byte messages, port 7000,
 * 1 s warm-up. Only ever connects to 127.0.0.1.
 *
 * One thread, one epoll set. Each connection keeps exactly one message in
 * flight: send it, wait for the whole echo, check it byte for byte, record
 * the round-trip latency, send the next. Connections are opened in batches
 * and a batch only starts once every connection of the previous one got its
 * first echo back, so the server has accepted them and its listen backlog
 * never holds more than one batch. The loops start when all are connected.
 *
 * Counting starts after the warm-up. With -P, the server's utime+stime
 * (/proc/PID/stat, clock ticks) is sampled exactly when the measured window
 * opens and closes and printed as server_cpu_ticks, so that its CPU time
 * per request excludes connection set-up, warm-up and teardown.
 *
 * Pacing (-R RPS): instead of sending its next message as soon as the
 * echo is back, each connection sends on a schedule, so that all of them
 * together offer RPS requests per second, spread evenly over the
 * connections and over time (a connection late on its schedule sends at
 * once).  Below the server's capacity the queue stays short, so the CPU
 * time per request can be compared across connection counts at the same
 * load, without the delayed-ACK timers and queueing that a saturating
 * closed loop over thousands of connections adds.
 *
 * Churn (-r TRIPS): once set up, each connection closes after TRIPS round
 * trips and a new one takes its place, so that the server keeps accepting
 * and closing while the load runs. Closes alternate between graceful
 * (shutdown for writing, wait for the server's EOF, close) and abortive
 * (SO_LINGER 0: a reset). A failed reconnection counts as an error.
 *
 * Prints name=value lines: conns, requests, rps, p50_us, p99_us, errors
 * (with -P also server_cpu_ticks and, of those, server_user_ticks; with -r
 * also opened, closed_graceful and closed_reset, counted over the whole
 * run). Exit status: 0 on success, 1
 * if any error was seen (short or wrong echo, dropped connection, data
 * after a graceful close), 2 on bad usage or when the connections could
 * not be established.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS	512
#define CONNECT_BATCH	64
/* A batch that is not fully connected and echoed by then is a failure */
#define BATCH_TIMEOUT_NS	(10 * NS_PER_S)
#define NS_PER_S	1000000000ull
#define RX_CHUNK	65536
#define MAX_MSG_SIZE	(64 << 20)
/*
 * Every request is sent from a different offset of one random pattern, so
 * an echo that repeats an old message or mixes up connections is caught
 * without per-connection buffers.
 */
#define PATTERN_SLACK	251

/*
 * Log-linear latency histogram over nanoseconds: values below 2^SUB_BITS
 * are exact, above that each power of two is split into 2^SUB_BITS buckets
 * (under 1.6% error). Covers all of uint64_t in about 30 KiB.
 */
#define SUB_BITS	6
#define SUB_COUNT	(1u << SUB_BITS)
#define HIST_BUCKETS	((64 - SUB_BITS + 1) * SUB_COUNT)

enum phase { CONNECTING, WARMUP, MEASURING, DONE };

struct conn {
	int fd;
	bool connected;
	bool ready;		/* got its first echo back */
	bool want_out;		/* EPOLLOUT is in the interest set */
	bool corrupt;		/* current echo differs from what was sent */
	bool closing;		/* -r: shut down for writing, awaiting EOF */
	uint32_t seq;
	uint32_t trips;		/* -r: round trips on this connection */
	uint32_t closes;	/* -r: closes of this slot, graceful if even */
	size_t sent;
	size_t recvd;
	uint64_t t_start;
	uint64_t due;		/* -R: when its next message is due */
};

static struct {
	long conns, duration, size, port, warmup;
	pid_t server_pid;
	long churn;		/* -r: round trips per connection, 0 = off */
	long rate;		/* -R: requests per second, 0 = closed loop */
} opt = { 50, 5, 64, 7000, 1, 0, 0, 0 };

static struct conn *conns;
static int ep;
static unsigned char *pattern;
static unsigned char rxbuf[RX_CHUNK];
static enum phase phase = CONNECTING;
static long launched, ready, alive;
static uint64_t requests, errors;
static uint64_t opened, closed_graceful, closed_reset;
static uint64_t hist[HIST_BUCKETS], hist_count;
/* -R: connections waiting for their next send, a min-heap on due. */
static struct conn **paced;
static long npaced;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static unsigned int hist_index(uint64_t v)
{
	unsigned int e;

	if (v < SUB_COUNT)
		return v;
	e = 63 - __builtin_clzll(v);
	return (e - SUB_BITS + 1) * SUB_COUNT +
	       (unsigned int)(v >> (e - SUB_BITS)) - SUB_COUNT;
}

/* Middle of the range of values that land in bucket i */
static double hist_value(unsigned int i)
{
	unsigned int shift;

	if (i < SUB_COUNT)
		return i;
	shift = i / SUB_COUNT - 1;
	return (double)((uint64_t)(SUB_COUNT + i % SUB_COUNT) << shift) +
	       (double)((1ull << shift) - 1) / 2;
}

static void hist_add(uint64_t v)
{
	hist[hist_index(v)]++;
	hist_count++;
}

/* Value at fraction per_10k / 10000 of the recorded samples */
static double hist_percentile(unsigned int per_10k)
{
	uint64_t rank = (hist_count * per_10k + 9999) / 10000;
	uint64_t seen = 0;

	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= rank)
			return hist_value(i);
	}
	return 0;
}

static const unsigned char *message(const struct conn *c)
{
	return pattern + ((c - conns) * 7 + c->seq) % PATTERN_SLACK;
}

static int set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_fail(struct conn *c, const char *why, int err)
{
	/* Before its first echo a failure means we could not connect */
	if (!c->ready) {
		fprintf(stderr, "echo_load: connection %ld: %s: %s\n",
			(long)(c - conns), why,
			err ? strerror(err) : "closed by the server");
		exit(2);
	}
	/* The first few say what went wrong; the count says how often. */
	if (errors++ < 10)
		fprintf(stderr, "echo_load: connection %ld: %s: %s\n",
			(long)(c - conns), why,
			err ? strerror(err) : "unexpected end or data");
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	alive--;
}

/* Sends what the socket takes; EPOLLOUT is wanted only while blocked. */
static int send_some(struct conn *c)
{
	bool blocked = false;
	ssize_t n;

	while (c->sent < (size_t)opt.size) {
		n = send(c->fd, message(c) + c->sent, opt.size - c->sent,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				conn_fail(c, "send", errno);
				return -1;
			}
			blocked = true;
			break;
		}
		c->sent += n;
	}
	if (blocked != c->want_out) {
		c->want_out = blocked;
		set_events(c, EPOLLIN | (blocked ? EPOLLOUT : 0));
	}
	return 0;
}

static bool due_before(long a, long b)
{
	return paced[a]->due < paced[b]->due;
}

static void paced_swap(long a, long b)
{
	struct conn *t = paced[a];

	paced[a] = paced[b];
	paced[b] = t;
}

static void paced_push(struct conn *c)
{
	long i = npaced++;

	paced[i] = c;
	while (i > 0 && due_before(i, (i - 1) / 2)) {
		paced_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct conn *paced_pop(void)
{
	struct conn *top = paced[0];
	long i = 0, l;

	paced[0] = paced[--npaced];
	while ((l = 2 * i + 1) < npaced) {
		if (l + 1 < npaced && due_before(l + 1, l))
			l++;
		if (!due_before(l, i))
			break;
		paced_swap(i, l);
		i = l;
	}
	return top;
}

static void begin_request(struct conn *c)
{
	c->seq++;
	c->sent = 0;
	c->recvd = 0;
	c->corrupt = false;
	c->t_start = now_ns();
	send_some(c);
}

static void conn_recycle(struct conn *c);

static void finish_request(struct conn *c)
{
	uint64_t t = now_ns();

	if (c->corrupt)
		errors++;
	else if (phase == MEASURING) {
		hist_add(t - c->t_start);
		requests++;
	}
	if (!c->ready) {
		c->ready = true;
		ready++;
	}
	/* Idle until every connection is up: see start_load() */
	if (phase == CONNECTING)
		return;
	if (opt.churn && ++c->trips >= (uint32_t)opt.churn) {
		conn_recycle(c);
		return;
	}
	if (opt.rate) {
		/* Its next turn: every connection sends once per
		 * conns / rate seconds. */
		c->due += (uint64_t)opt.conns * NS_PER_S / opt.rate;
		if (c->due > t) {
			paced_push(c);
			return;
		}
	}
	begin_request(c);
}

/* -R: sends what is due by @now; returns the next due time, or 0. */
static uint64_t send_due(uint64_t now)
{
	while (npaced && paced[0]->due <= now) {
		struct conn *c = paced_pop();

		if (c->fd >= 0)
			begin_request(c);
	}
	return npaced ? paced[0]->due : 0;
}

/*
 * Connections only start their loops once all of them are established, so
 * the server accepts while it is otherwise idle: with thousands of busy
 * connections a thread-per-connection server may not get around to
 * accepting the next batch for many seconds.
 */
static void start_load(void)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < opt.conns; i++) {
		if (conns[i].fd < 0)
			continue;
		if (!opt.rate) {
			begin_request(&conns[i]);
			continue;
		}
		/* Spread the first sends evenly over one period. */
		conns[i].due = t0 + (uint64_t)i * NS_PER_S / opt.rate;
		paced_push(&conns[i]);
	}
}

static int conn_open(struct conn *c);

/* -r: the server answered our shutdown; open the slot's next connection */
static void on_closing_readable(struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, 0);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, "recv after shutdown", errno);
		return;
	}
	if (n > 0) {
		conn_fail(c, "data after shutdown", 0);
		return;
	}
	close(c->fd);
	closed_graceful++;
	conn_open(c);
}

static void on_readable(struct conn *c)
{
	size_t want = opt.size - c->recvd;
	ssize_t n;

	if (c->closing) {
		on_closing_readable(c);
		return;
	}
	/* Level-triggered: one recv per wakeup, epoll tells if more is left */
	n = recv(c->fd, rxbuf, want < RX_CHUNK ? want : RX_CHUNK, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, "recv", errno);
		return;
	}
	if (n == 0) {
		conn_fail(c, "recv", 0);
		return;
	}
	if (memcmp(rxbuf, message(c) + c->recvd, n) != 0)
		c->corrupt = true;
	c->recvd += n;
	if (c->recvd == (size_t)opt.size)
		finish_request(c);
}

static void on_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(c, "connect", err);
		return;
	}
	c->connected = true;
	set_events(c, EPOLLIN);
	begin_request(c);
}

static void handle_event(struct conn *c, uint32_t events)
{
	if (c->fd < 0)
		return;
	if (!c->connected) {
		on_connected(c);
		return;
	}
	if ((events & EPOLLOUT) && c->sent < (size_t)opt.size &&
	    send_some(c) < 0)
		return;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(c);
}

/*
 * Opens slot @c's connection: a non-blocking connect, watched for EPOLLOUT
 * until it completes. 0, or -1 once conn_fail() has dealt with it.
 */
static int conn_open(struct conn *c)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(opt.port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->connected = false;
	c->closing = false;
	c->want_out = false;
	c->trips = 0;
	opened++;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(c, "socket", errno);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(c, "connect", errno);
		return -1;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(c, "epoll_ctl", errno);
		return -1;
	}
	return 0;
}

/* -r: close @c, gracefully or with a reset in turn, and replace it. */
static void conn_recycle(struct conn *c)
{
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };

	if (c->closes++ % 2 == 0) {
		/* The server must answer our FIN with its own (EOF here):
		 * on_closing_readable() takes it from there. */
		if (shutdown(c->fd, SHUT_WR) < 0)
			conn_fail(c, "shutdown", errno);
		else
			c->closing = true;
		return;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_close,
		   sizeof(abort_close));
	close(c->fd);
	closed_reset++;
	conn_open(c);
}

static void launch_batch(void)
{
	for (int i = 0; i < CONNECT_BATCH && launched < opt.conns; i++) {
		alive++;
		conn_open(&conns[launched++]);
	}
}

/*
 * utime + stime of a process in clock ticks, -1 if it cannot be read;
 * *@user gets utime alone.
 */
static long long read_cpu_ticks(pid_t pid, long long *user)
{
	unsigned long long utime, stime;
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u"
			 " %llu %llu", &utime, &stime) != 2)
		return -1;
	*user = (long long)utime;
	return utime + stime;
}

static long parse_num(const char *s, long min, long max, char flag)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "echo_load: -%c wants %ld..%ld, got '%s'\n",
			flag, min, max, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:d:s:p:w:P:r:R:")) != -1) {
		switch (ch) {
		case 'c':
			opt.conns = parse_num(optarg, 1, 1000000, ch);
			break;
		case 'd':
			opt.duration = parse_num(optarg, 1, 86400, ch);
			break;
		case 's':
			opt.size = parse_num(optarg, 1, MAX_MSG_SIZE, ch);
			break;
		case 'p':
			opt.port = parse_num(optarg, 1, 65535, ch);
			break;
		case 'w':
			opt.warmup = parse_num(optarg, 0, 86400, ch);
			break;
		case 'P':
			opt.server_pid = parse_num(optarg, 1, INT32_MAX, ch);
			break;
		case 'r':
			opt.churn = parse_num(optarg, 1, INT32_MAX, ch);
			break;
		case 'R':
			opt.rate = parse_num(optarg, 1, 100000000, ch);
			break;
		default:
			fprintf(stderr, "usage: echo_load [-c CONNS] "
				"[-d SECONDS] [-s MSGSIZE] [-p PORT] "
				"[-w WARMUP_SECONDS] [-P SERVER_PID] "
				"[-r TRIPS] [-R RPS]\n");
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "echo_load: unexpected argument '%s'\n",
			argv[optind]);
		exit(2);
	}
}

static void setup(void)
{
	struct rlimit rl;
	uint64_t x = 88172645463325252ull;

	signal(SIGPIPE, SIG_IGN);
	/* 5000 connections need more fds than the usual soft limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)opt.conns + 16) {
			fprintf(stderr, "echo_load: %ld connections need more "
				"than the fd limit of %llu\n", opt.conns,
				(unsigned long long)rl.rlim_cur);
			exit(2);
		}
	}
	conns = calloc(opt.conns, sizeof(*conns));
	paced = calloc(opt.conns, sizeof(*paced));
	pattern = malloc(opt.size + PATTERN_SLACK);
	if (!conns || !paced || !pattern) {
		fprintf(stderr, "echo_load: out of memory\n");
		exit(2);
	}
	for (long i = 0; i < opt.size + PATTERN_SLACK; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pattern[i] = x >> 56;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("echo_load: epoll_create1");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	uint64_t now, deadline, t_begin = 0, t_end = 0;
	long long cpu_begin = 0, cpu_end = 0, user_begin = 0, user_end = 0;
	uint64_t wake, due;
	int n, timeout_ms;

	parse_args(argc, argv);
	setup();

	launch_batch();
	deadline = now_ns() + BATCH_TIMEOUT_NS;
	while (phase != DONE) {
		now = now_ns();
		wake = deadline;
		if (npaced && (due = send_due(now)) && due < wake)
			wake = due;
		timeout_ms = wake > now ?
			     (int)((wake - now + 999999) / 1000000) : 0;
		n = epoll_wait(ep, evs, MAX_EVENTS, timeout_ms);
		if (n < 0 && errno != EINTR) {
			perror("echo_load: epoll_wait");
			return 2;
		}
		for (int i = 0; i < n; i++)
			handle_event(evs[i].data.ptr, evs[i].events);

		now = now_ns();
		if (phase == CONNECTING && ready == launched) {
			if (launched < opt.conns) {
				launch_batch();
				deadline = now + BATCH_TIMEOUT_NS;
				continue;
			}
			phase = WARMUP;
			start_load();
			now = now_ns();
			deadline = now + opt.warmup * NS_PER_S;
		}
		if (alive == 0) {
			fprintf(stderr, "echo_load: every connection died\n");
			break;
		}
		if (now < deadline)
			continue;
		switch (phase) {
		case CONNECTING:
			fprintf(stderr, "echo_load: %ld of %ld connections "
				"not echoing after %llu s\n", launched - ready,
				opt.conns, BATCH_TIMEOUT_NS / NS_PER_S);
			return 2;
		case WARMUP:
			/* Completions are counted from here on */
			if (opt.server_pid)
				cpu_begin = read_cpu_ticks(opt.server_pid,
							   &user_begin);
			t_begin = now_ns();
			phase = MEASURING;
			deadline = t_begin + opt.duration * NS_PER_S;
			break;
		case MEASURING:
			t_end = now_ns();
			if (opt.server_pid)
				cpu_end = read_cpu_ticks(opt.server_pid,
							 &user_end);
			phase = DONE;
			break;
		case DONE:
			break;
		}
	}
	if (phase != DONE) {
		t_end = now_ns();
		if (opt.server_pid)
			cpu_end = read_cpu_ticks(opt.server_pid, &user_end);
	}
	if (opt.server_pid && (cpu_begin < 0 || cpu_end < 0)) {
		fprintf(stderr, "echo_load: cannot read /proc/%d/stat\n",
			(int)opt.server_pid);
		errors++;
	}

	printf("conns=%ld\n", opt.conns);
	printf("requests=%llu\n", (unsigned long long)requests);
	printf("rps=%.0f\n", t_end > t_begin && t_begin ?
	       requests * (double)NS_PER_S / (t_end - t_begin) : 0.0);
	printf("p50_us=%.1f\n", hist_percentile(5000) / 1000);
	printf("p99_us=%.1f\n", hist_percentile(9900) / 1000);
	printf("errors=%llu\n", (unsigned long long)errors);
	if (opt.server_pid) {
		printf("server_cpu_ticks=%lld\n", cpu_end - cpu_begin);
		printf("server_user_ticks=%lld\n", user_end - user_begin);
	}
	if (opt.churn) {
		printf("opened=%llu\n", (unsigned long long)opened);
		printf("closed_graceful=%llu\n",
		       (unsigned long long)closed_graceful);
		printf("closed_reset=%llu\n", (unsigned long long)closed_reset);
	}
	return errors ? 1 : 0;
}
