/* SPDX-License-Identifier: MIT */
/*
 * conn_mem.c - memory per idle connection of a TCP echo server.
 *
 * Usage: conn_mem -p PORT -P SERVER_PID [-c CONNS] [-s MSGSIZE]
 *                 [-w WARMUP_TRIPS] [-b BATCH] [-H]
 * Defaults: 1000 connections, 64-byte messages, 1024 warm-up round trips,
 * batches of 64.  Only ever connects to 127.0.0.1.  With -H the server
 * speaks HTTP/1.1 (samples/http_server): a round trip is GET /hello on a
 * keep-alive connection, and the answer must be 200 "Hello, world!\n".
 *
 * Warm-up: one batch of connections makes WARMUP_TRIPS round trips in
 * all, as many at once as the measured batches will, and stays open (a
 * closed one would leave memory for the next ones to reuse), so that what
 * a server sets up once for all connections is in place and touched
 * before the first reading: a pool of receive buffers shared by every
 * connection, or buffers kept for the connections busy at once, cost the
 * same whatever the number of connections and are not counted.  Then the
 * server's VmRSS is read
 * (/proc/PID/status), CONNS connections are opened and each makes one
 * round trip with a message of its own (checked byte for byte), and
 * VmRSS is read again while they all stay open and idle:
 *
 *	bytes_per_conn = (rss_after - rss_before) * 1024 / CONNS
 *
 * Everything a server allocates for a connection happens before it sends
 * the echo (accept, spawn, first receive), so the second reading needs no
 * wait.  The same two instants also read Slab from /proc/meminfo: kernel
 * memory for both ends of each connection (two sockets, the server's
 * poll or io_uring request), system-wide and so noisy on a shared
 * machine; informative only.
 *
 * Connections are blocking sockets with a 10 s timeout on every call,
 * opened in batches: a batch connects and sends, then reads its echoes,
 * so the server's listen backlog never holds more than one batch.
 *
 * Prints name=value lines: conns, rss_before_kb, rss_after_kb,
 * bytes_per_conn, kernel_bytes_per_conn.  Exit status: 0, 1 on a wrong
 * or missing echo, 2 on bad usage or a failed connect, 77 (skip) when
 * the descriptor limit cannot be raised to CONNS + BATCH + 64.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define EXIT_SKIP	77
#define IO_TIMEOUT_S	10
#define MAX_MSG_SIZE	65536
/* Descriptors besides the connections: stdio, /proc files, slack. */
#define FD_SLACK	64
/* -H: the request, and room for its answer's head and body. */
#define HTTP_REQUEST	"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define HTTP_BODY	"Hello, world!\n"
#define HTTP_ANSWER_MAX	4096

static struct {
	long conns, size, port, warmup, batch;
	long server_pid;
	bool http;
} opt = { 1000, 64, 0, 1024, 64, 0, false };

static char *msg_out, *msg_in;

static void fail(int status, const char *what, int err)
{
	fprintf(stderr, "conn_mem: %s: %s\n", what, strerror(err));
	exit(status);
}

static long parse_num(const char *s, long min, long max, int ch)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "conn_mem: -%c wants %ld to %ld: '%s'\n", ch,
			min, max, s);
		exit(2);
	}
	return v;
}

/* The value of "@field:" in the kB-valued /proc file @path, or -1. */
static long read_kb(const char *path, const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static long server_rss_kb(void)
{
	char path[64];
	long kb;

	snprintf(path, sizeof(path), "/proc/%ld/status", opt.server_pid);
	kb = read_kb(path, "VmRSS");
	if (kb < 0) {
		fprintf(stderr, "conn_mem: no VmRSS in %s (server gone?)\n",
			path);
		exit(2);
	}
	return kb;
}

/*
 * Raise RLIMIT_NOFILE to hold every connection; past the hard limit
 * that needs CAP_SYS_RESOURCE.  Exits with EXIT_SKIP when it cannot.
 */
static void raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fail(2, "getrlimit", errno);
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		printf("skip: %ld connections need %llu descriptors, over "
		       "the limit (%s)\n", opt.conns, (unsigned long long)need,
		       strerror(errno));
		exit(EXIT_SKIP);
	}
}

/* The message of connection @i: each its own, so mix-ups show. */
static void fill_message(long i)
{
	for (long k = 0; k < opt.size; k++)
		msg_out[k] = (char)('a' + (i * 7 + k) % 26);
}

static int connect_one(void)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)opt.port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail(2, "socket", errno);
	/* SO_SNDTIMEO also bounds connect(). */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (errno != EINTR)
			fail(2, "connect", errno);
	}
	return fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;
	size_t off = 0;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail(1, "send", n < 0 ? errno : EPIPE);
		off += (size_t)n;
	}
}

/* Receive up to @len bytes into @buf: the count, never 0 (EOF fails). */
static size_t recv_some(int fd, char *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		fail(1, "reply", n < 0 ? errno : ECONNRESET);
	return (size_t)n;
}

static void send_message(int fd, long i)
{
	if (opt.http) {
		send_all(fd, HTTP_REQUEST, sizeof(HTTP_REQUEST) - 1);
		return;
	}
	fill_message(i);
	send_all(fd, msg_out, (size_t)opt.size);
}

static void wrong_reply(long i, const char *what)
{
	fprintf(stderr, "conn_mem: connection %ld: %s\n", i, what);
	exit(1);
}

/* Read the answer to GET /hello: a 200 with HTTP_BODY, nothing more. */
static void check_http(int fd, long i)
{
	static const char body[] = HTTP_BODY;
	char *end = NULL, *cl;
	size_t got = 0, want = 0;

	while (!end || got < want) {
		if (got == HTTP_ANSWER_MAX)
			wrong_reply(i, "answer too long");
		got += recv_some(fd, msg_in + got, HTTP_ANSWER_MAX - got);
		msg_in[got] = '\0';
		if (end || !(end = strstr(msg_in, "\r\n\r\n")))
			continue;
		cl = strcasestr(msg_in, "\r\nContent-Length:");
		if (strncmp(msg_in, "HTTP/1.1 200 ", 13) != 0 || !cl ||
		    cl > end)
			wrong_reply(i, "not a 200 with a length");
		want = (size_t)(end + 4 - msg_in) +
		       strtoul(cl + 17, NULL, 10);
	}
	if (got != want || want - (size_t)(end + 4 - msg_in) !=
			   sizeof(body) - 1 ||
	    memcmp(end + 4, body, sizeof(body) - 1) != 0)
		wrong_reply(i, "wrong body");
}

/* Read connection @i's reply and check it. */
static void check_echo(int fd, long i)
{
	size_t off = 0;

	if (opt.http) {
		check_http(fd, i);
		return;
	}
	while (off < (size_t)opt.size)
		off += recv_some(fd, msg_in + off, (size_t)opt.size - off);
	fill_message(i);
	if (memcmp(msg_in, msg_out, (size_t)opt.size) != 0)
		wrong_reply(i, "wrong echo");
}

/*
 * Round trips on one batch of connections at once; they stay open.
 * Returns the number of connections, in @fds.
 */
static long warm_up(int *fds)
{
	long n = opt.batch < opt.warmup ? opt.batch : opt.warmup;

	for (long i = 0; i < n; i++)
		fds[i] = connect_one();
	for (long t = 0; t < opt.warmup; t += n) {
		for (long i = 0; i < n; i++)
			send_message(fds[i], t + i);
		for (long i = 0; i < n; i++)
			check_echo(fds[i], t + i);
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: conn_mem -p PORT -P SERVER_PID [-c CONNS] "
		"[-s MSGSIZE] [-w WARMUP_TRIPS] [-b BATCH] [-H]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:s:p:P:w:b:H")) != -1) {
		switch (ch) {
		case 'c':
			opt.conns = parse_num(optarg, 1, 1 << 20, ch);
			break;
		case 's':
			opt.size = parse_num(optarg, 1, MAX_MSG_SIZE, ch);
			break;
		case 'p':
			opt.port = parse_num(optarg, 1, 65535, ch);
			break;
		case 'P':
			opt.server_pid = parse_num(optarg, 1, INT32_MAX, ch);
			break;
		case 'w':
			opt.warmup = parse_num(optarg, 0, 1 << 24, ch);
			break;
		case 'b':
			opt.batch = parse_num(optarg, 1, 4096, ch);
			break;
		case 'H':
			opt.http = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !opt.port || !opt.server_pid)
		usage();
}

int main(int argc, char **argv)
{
	long rss_before, rss_after, slab_before, slab_after, nwarm;
	int *fds, *warm;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile((rlim_t)(opt.conns + opt.batch + FD_SLACK));
	fds = calloc((size_t)opt.conns, sizeof(*fds));
	warm = calloc((size_t)opt.batch, sizeof(*warm));
	msg_out = malloc((size_t)opt.size);
	msg_in = malloc(opt.http ? HTTP_ANSWER_MAX + 1 : (size_t)opt.size);
	if (!fds || !warm || !msg_out || !msg_in)
		fail(2, "malloc", ENOMEM);

	nwarm = warm_up(warm);
	rss_before = server_rss_kb();
	slab_before = read_kb("/proc/meminfo", "Slab");
	for (long b = 0; b < opt.conns; b += opt.batch) {
		long end = b + opt.batch < opt.conns ? b + opt.batch :
						       opt.conns;

		for (long i = b; i < end; i++) {
			fds[i] = connect_one();
			send_message(fds[i], i);
		}
		for (long i = b; i < end; i++)
			check_echo(fds[i], i);
	}
	rss_after = server_rss_kb();
	slab_after = read_kb("/proc/meminfo", "Slab");

	printf("conns=%ld\n", opt.conns);
	printf("rss_before_kb=%ld\n", rss_before);
	printf("rss_after_kb=%ld\n", rss_after);
	printf("bytes_per_conn=%.1f\n",
	       (double)(rss_after - rss_before) * 1024 / (double)opt.conns);
	if (slab_before >= 0 && slab_after >= 0)
		printf("kernel_bytes_per_conn=%.1f\n",
		       (double)(slab_after - slab_before) * 1024 /
		       (double)opt.conns);
	for (long i = 0; i < opt.conns; i++)
		close(fds[i]);
	for (long i = 0; i < nwarm; i++)
		close(warm[i]);
	free(fds);
	free(warm);
	free(msg_out);
	free(msg_in);
	return 0;
}
