/* SPDX-License-Identifier: MIT */
/*
 * tests/test_http.c - samples/http_server run for real: each test starts
 * the binary on a free port with a fresh --root, speaks HTTP to it over
 * loopback with blocking sockets, then stops it with SIGTERM and expects
 * exit status 0 (under ASan, a leak or a memory error fails that too).
 */
#define _GNU_SOURCE	/* memmem */
#include "testutil.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HTTP_SERVER_BIN
#error "HTTP_SERVER_BIN: the path of the http_server binary"
#endif

/* Blocking calls fail after this long instead of hanging the test. */
#define IO_TIMEOUT_S 10

static const char hello[] = "Hello, world!\n";

/* ---------------------------------------------------------------------- */
/* The server process.                                                    */

struct server {
	pid_t pid;
	uint16_t port;
	char dir[64];		/* temp dir: dir/root is served, dir/secret
				 * lies outside it */
	char root[96];
};

static struct server srv;

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void make_root(void)
{
	char path[256];

	strcpy(srv.dir, "/tmp/corio-http-XXXXXX");
	cr_assert_not_null(mkdtemp(srv.dir));
	snprintf(srv.root, sizeof(srv.root), "%s/root", srv.dir);
	cr_assert_eq(mkdir(srv.root, 0755), 0);
	snprintf(path, sizeof(path), "%s/secret", srv.dir);
	write_file(path, "SECRET\n", 7);
	snprintf(path, sizeof(path), "%s/a.txt", srv.root);
	write_file(path, "file body\n", 10);
	snprintf(path, sizeof(path), "%s/sub", srv.root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/index.html", srv.root);
	write_file(path, "<p>index</p>\n", 13);
}

/*
 * Start the server with @extra_args (NULL-terminated), read its port.
 * $HTTP_SERVER_WRAPPER (words split at spaces) runs it under a tool such
 * as valgrind, whose error exit status then fails stop_server().
 */
static void start_server_args(const char *const *extra_args)
{
	static char wrapper[512];
	const char *argv[48];
	const char *env = getenv("HTTP_SERVER_WRAPPER");
	int pipefd[2], n = 0;
	char line[128], *word, *save;
	FILE *out;

	if (env && *env) {
		snprintf(wrapper, sizeof(wrapper), "%s", env);
		for (word = strtok_r(wrapper, " ", &save); word && n < 32;
		     word = strtok_r(NULL, " ", &save))
			argv[n++] = word;
	}
	argv[n++] = HTTP_SERVER_BIN;
	argv[n++] = "--port";
	argv[n++] = "0";
	make_root();
	argv[n++] = "--root";
	argv[n++] = srv.root;
	while (extra_args && *extra_args)
		argv[n++] = *extra_args++;
	argv[n] = NULL;
	cr_assert_eq(pipe(pipefd), 0);
	srv.pid = fork();
	cr_assert_geq(srv.pid, 0);
	if (srv.pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	cr_assert_not_null(out);
	if (!fgets(line, sizeof(line), out)) {
		int status;

		waitpid(srv.pid, &status, 0);
		srv.pid = 0;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			cr_skip_test("http_server could not start (no "
				     "io_uring?)");
		cr_assert_fail("http_server said nothing (status %d)",
			       status);
	}
	fclose(out);
	cr_assert_eq(sscanf(line, "listening on 127.0.0.1:%hu", &srv.port), 1,
		     "unexpected first line: %s", line);
}

static void start_server(void)
{
	start_server_args(NULL);
}

/* @sig, and the server must exit 0 (with connections still open). */
static void stop_server_with(int sig)
{
	char cmd[160];
	int status;

	if (srv.pid <= 0)
		return;
	cr_assert_eq(kill(srv.pid, sig), 0);
	cr_assert_eq(waitpid(srv.pid, &status, 0), srv.pid);
	srv.pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv.dir);
	cr_expect_eq(system(cmd), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "http_server ended with status %#x", status);
}

static void stop_server(void)
{
	stop_server_with(SIGTERM);
}

TestSuite(http, .init = start_server, .fini = stop_server, .timeout = 60);

/* ---------------------------------------------------------------------- */
/* A small client.                                                        */

struct client {
	int fd;
	size_t len;		/* bytes in buf not consumed yet */
	size_t cap;
	char *buf;		/* grows to hold the largest response */
};

struct response {
	int status;
	long content_length;	/* -1: none */
	char head[4096];	/* NUL-terminated */
	char *body;		/* malloc'd, NUL-terminated; free_response */
	size_t body_len;
};

static struct client *client_open(void)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(srv.port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	struct client *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->cap = 16384;
	c->buf = malloc(c->cap);
	cr_assert_not_null(c->buf);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->fd, 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
		     "connect: %s", strerror(errno));
	return c;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c->buf);
	free(c);
}

static void send_bytes(struct client *c, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		cr_assert_gt(n, 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void send_str(struct client *c, const char *s)
{
	send_bytes(c, s, strlen(s));
}

/* Receive more into c->buf: bytes received, 0 at EOF. */
static ssize_t fill(struct client *c)
{
	ssize_t n;

	if (c->len == c->cap) {
		c->cap *= 2;
		c->buf = realloc(c->buf, c->cap);
		cr_assert_not_null(c->buf);
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	cr_assert_geq(n, 0, "recv: %s", strerror(errno));
	c->len += (size_t)n;
	return n;
}

static void consume(struct client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* The value of header @name in @r's head (lower case), or NULL. */
static const char *header(const struct response *r, const char *name,
			  char *val, size_t size)
{
	const char *p = r->head;
	size_t n = strlen(name), i;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			for (i = 0; i + 1 < size && p[i] != '\r'; i++)
				val[i] = p[i];
			val[i] = '\0';
			return val;
		}
	}
	return NULL;
}

/* Read one response; @head_only: the request was HEAD (no body). */
static void read_response(struct client *c, struct response *r,
			  bool head_only)
{
	char *end, val[64];
	size_t head_len;

	memset(r, 0, sizeof(*r));
	for (;;) {
		end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end)
			break;
		cr_assert_gt(fill(c), 0, "EOF inside a response head");
	}
	head_len = (size_t)(end - c->buf) + 4;
	cr_assert_lt(head_len, sizeof(r->head));
	memcpy(r->head, c->buf, head_len);
	r->head[head_len] = '\0';
	consume(c, head_len);
	cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1,
		     "bad status line: %s", r->head);
	r->content_length = header(r, "content-length", val, sizeof(val)) ?
			    atol(val) : -1;
	cr_assert_geq(r->content_length, 0, "no Content-Length: %s", r->head);
	r->body_len = head_only ? 0 : (size_t)r->content_length;
	while (c->len < r->body_len)
		cr_assert_gt(fill(c), 0, "EOF inside a body");
	r->body = malloc(r->body_len + 1);
	cr_assert_not_null(r->body);
	memcpy(r->body, c->buf, r->body_len);
	r->body[r->body_len] = '\0';
	consume(c, r->body_len);
}

static void free_response(struct response *r)
{
	free(r->body);
	r->body = NULL;
}

/* The server must close: EOF with nothing more received. */
static void expect_eof(struct client *c)
{
	cr_assert_eq(c->len, 0, "unexpected bytes before close");
	cr_assert_eq(fill(c), 0, "server did not close: %.*s", (int)c->len,
		     c->buf);
}

/* One request on a new connection; returns the status, fills @r. */
static int roundtrip(const char *request, struct response *r)
{
	struct client *c = client_open();

	send_str(c, request);
	read_response(c, r, strncmp(request, "HEAD ", 5) == 0);
	client_close(c);
	return r->status;
}

/* "@line HTTP/1.1" with a Host header, on a new connection. */
static int simple(const char *line, struct response *r)
{
	char req[256];

	snprintf(req, sizeof(req), "%s HTTP/1.1\r\nHost: t\r\n\r\n", line);
	return roundtrip(req, r);
}

static void expect_hello(const struct response *r)
{
	char val[64];

	cr_assert_eq(r->status, 200, "%s", r->head);
	cr_assert_eq(r->body_len, sizeof(hello) - 1);
	cr_assert_str_eq(r->body, hello);
	cr_assert_not_null(header(r, "content-type", val, sizeof(val)));
	cr_assert_str_eq(val, "text/plain");
	cr_assert_not_null(header(r, "date", val, sizeof(val)));
}

/* ---------------------------------------------------------------------- */
/* Requests and responses.                                                */

Test(http, get_hello)
{
	struct response r;

	roundtrip("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	expect_hello(&r);
	free_response(&r);
}

Test(http, query_string_ignored_by_routing)
{
	struct response r;

	simple("GET /hello?name=x&y=%20", &r);
	expect_hello(&r);
	free_response(&r);
}

Test(http, keep_alive_serves_many_requests)
{
	struct client *c = client_open();
	struct response r;
	int i;

	for (i = 0; i < 100; i++) {
		send_str(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
		read_response(c, &r, false);
		expect_hello(&r);
		cr_assert_null(strstr(r.head, "Connection: close"));
		free_response(&r);
	}
	client_close(c);
}

Test(http, pipelined_requests_in_one_write_answered_in_order)
{
	static const char *const paths[] = { "/hello", "/a.txt", "/nope",
					     "/sub/", "/hello" };
	static const int want[] = { 200, 200, 404, 200, 200 };
	static const char *const bodies[] = { hello, "file body\n",
		"404 Not Found\n", "<p>index</p>\n", hello };
	struct client *c = client_open();
	char batch[8192];
	size_t len = 0;
	struct response r;
	int i, round;

	/* 3 rounds of the 5 paths: 15 requests in a single send. */
	for (round = 0; round < 3; round++)
		for (i = 0; i < 5; i++)
			len += (size_t)snprintf(batch + len,
				sizeof(batch) - len,
				"GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
	send_bytes(c, batch, len);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 5; i++) {
			read_response(c, &r, false);
			cr_assert_eq(r.status, want[i], "request %d: %s",
				     round * 5 + i, r.head);
			cr_assert_str_eq(r.body, bodies[i]);
			free_response(&r);
		}
	/* Nothing more than the 15 answers. */
	cr_assert_eq(c->len, 0);
	client_close(c);
}

Test(http, request_split_into_one_byte_writes)
{
	static const char req[] =
		"GET /hello HTTP/1.1\r\nHost: example.org\r\n"
		"User-Agent: test_http split\r\nAccept: */*\r\n\r\n"
		"POST /echo HTTP/1.1\r\nHost: t\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n7\r\n, split\r\n0\r\n\r\n";
	struct client *c = client_open();
	struct response r;
	size_t i;

	/* TCP_NODELAY: every byte leaves as a segment of its own, so the
	 * server sees the URL, header names and values, and the chunks
	 * cut anywhere. */
	for (i = 0; i < sizeof(req) - 1; i++)
		send_bytes(c, req + i, 1);
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	read_response(c, &r, false);
	cr_assert_eq(r.status, 200, "%s", r.head);
	cr_assert_str_eq(r.body, "hello, split");
	free_response(&r);
	client_close(c);
}

Test(http, head_sends_length_but_no_body)
{
	struct client *c = client_open();
	struct response r;

	send_str(c, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"
		    "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(c, &r, true);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.content_length, (long)sizeof(hello) - 1);
	free_response(&r);
	read_response(c, &r, true);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.content_length, 10);
	free_response(&r);
	/* Had a HEAD answer carried a body, this would read it instead. */
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	client_close(c);
}

Test(http, method_not_allowed)
{
	struct response r;
	char val[64];

	cr_assert_eq(simple("DELETE /hello", &r), 405);
	cr_assert_not_null(header(&r, "allow", val, sizeof(val)));
	cr_assert_str_eq(val, "GET, HEAD");
	free_response(&r);
	cr_assert_eq(roundtrip("PUT /a.txt HTTP/1.1\r\nHost: t\r\n"
			       "Content-Length: 1\r\n\r\nx", &r), 405);
	free_response(&r);
	cr_assert_eq(simple("GET /echo", &r), 405);
	cr_assert_str_eq(header(&r, "allow", val, sizeof(val)), "POST");
	free_response(&r);
}

Test(http, post_echoes_body)
{
	static const char req[] = "POST /echo HTTP/1.1\r\nHost: t\r\n"
		"Content-Length: 11\r\n\r\nhello\0world";
	struct client *c = client_open();
	struct response r;

	/* Binary-safe: the body holds a NUL. */
	send_bytes(c, req, sizeof(req) - 1);
	read_response(c, &r, false);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 11);
	cr_assert(memcmp(r.body, "hello\0world", 11) == 0);
	free_response(&r);
	client_close(c);
}

/* ---------------------------------------------------------------------- */
/* Static files.                                                          */

/* Serve a file of @size pseudo-random bytes; compare byte for byte. */
static void check_file(size_t size, const char *name, const char *ctype)
{
	char path[256], req[256], val[64];
	unsigned char *data = malloc(size + 1);
	struct client *c;
	struct response r;
	size_t i;

	cr_assert_not_null(data);
	for (i = 0; i < size; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	snprintf(path, sizeof(path), "%s/%s", srv.root, name);
	write_file(path, data, size);
	snprintf(req, sizeof(req), "GET /%s HTTP/1.1\r\nHost: t\r\n\r\n", name);
	c = client_open();
	/* Twice on one connection: the keep-alive state after a file. */
	send_str(c, req);
	send_str(c, req);
	for (i = 0; i < 2; i++) {
		read_response(c, &r, false);
		cr_assert_eq(r.status, 200, "%s: %s", name, r.head);
		cr_assert_eq(r.body_len, size, "%s", name);
		cr_assert(memcmp(r.body, data, size) == 0,
			  "%s: content differs", name);
		cr_assert_str_eq(header(&r, "content-type", val, sizeof(val)),
				 ctype);
		free_response(&r);
	}
	client_close(c);
	free(data);
}

Test(http, static_files_byte_exact)
{
	check_file(0, "empty.bin", "application/octet-stream");
	check_file(1, "one.txt", "text/plain; charset=utf-8");
	check_file(16383, "odd.png", "image/png");
	check_file(16384, "buffer.html", "text/html; charset=utf-8");
	check_file(100003, "big.css", "text/css");
	check_file(1 << 20, "mib.JS", "text/javascript");
}

Test(http, directory_index)
{
	struct response r;

	cr_assert_eq(simple("GET /sub/", &r), 200);
	cr_assert_str_eq(r.body, "<p>index</p>\n");
	free_response(&r);
	/* A directory without the slash is no file. */
	cr_assert_eq(simple("GET /sub", &r), 404);
	free_response(&r);
}

Test(http, percent_encoded_name)
{
	struct response r;
	char path[256];

	snprintf(path, sizeof(path), "%s/a b.txt", srv.root);
	write_file(path, "spaced\n", 7);
	cr_assert_eq(simple("GET /a%20b.txt", &r), 200);
	cr_assert_str_eq(r.body, "spaced\n");
	free_response(&r);
}

Test(http, missing_file_is_404)
{
	struct response r;

	cr_assert_eq(simple("GET /no/such/file", &r),
		     404);
	cr_assert_str_eq(r.body, "404 Not Found\n");
	free_response(&r);
	cr_assert_eq(simple("GET /a.txt/x", &r), 404);
	free_response(&r);
}

Test(http, path_traversal_refused)
{
	static const char *const attempts[] = {
		"/../secret", "/%2e%2e/secret", "/%2E%2E/secret",
		"/sub/../../secret", "/..%2fsecret", "/sub/..%2F..%2Fsecret",
		"/./a.txt", "/a.txt%00", "/%zz", "/%2",
		"http://x/../secret",
	};
	struct response r;
	char req[256];
	size_t i;

	for (i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
			 attempts[i]);
		roundtrip(req, &r);
		cr_assert(r.status == 400 || r.status == 403 ||
			  r.status == 404, "%s: %s", attempts[i], r.head);
		cr_assert_null(strstr(r.body, "SECRET"), "%s", attempts[i]);
		free_response(&r);
	}
}

/* ---------------------------------------------------------------------- */
/* Bad requests and limits.                                               */

/* @request must get @status, then the connection closes. */
static void expect_refused(const char *request, size_t len, int status)
{
	struct client *c = client_open();
	struct response r;
	char val[64];

	send_bytes(c, request, len);
	read_response(c, &r, false);
	cr_assert_eq(r.status, status, "%.40s...: %s", request, r.head);
	cr_assert_str_eq(header(&r, "connection", val, sizeof(val)), "close");
	free_response(&r);
	expect_eof(c);
	client_close(c);
}

Test(http, malformed_requests_get_400_and_close)
{
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n",
		"GET /hello HTTP/x.1\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
		"GET /he llo HTTP/1.1\r\nHost: t\r\n\r\n",
		("POST /echo HTTP/1.1\r\nHost: t\r\n"
		 "Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
		"\x01\x02\x03\r\n\r\n",
		/* Request smuggling: which length would a proxy use? */
		("GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
		 "Content-Length: 2\r\n\r\nab"),
		("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], strlen(bad[i]), 400);
}

Test(http, answers_before_a_malformed_request_are_kept)
{
	struct client *c = client_open();
	struct response r;

	send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
		    "BAD REQUEST\r\n\r\n");
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	read_response(c, &r, false);
	cr_assert_eq(r.status, 400);
	free_response(&r);
	expect_eof(c);
	client_close(c);
}

Test(http, oversized_header_refused)
{
	size_t n = 64 * 1024;
	char *req = malloc(n + 64);
	int len;

	cr_assert_not_null(req);
	len = sprintf(req, "GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: ");
	memset(req + len, 'a', n);
	memcpy(req + len + n, "\r\n\r\n", 4);
	expect_refused(req, (size_t)len + n + 4, 431);
	free(req);
}

Test(http, too_many_headers_refused)
{
	char req[8192];
	size_t len = (size_t)sprintf(req, "GET /hello HTTP/1.1\r\nHost: t\r\n");
	int i;

	for (i = 0; i < 100; i++)
		len += (size_t)sprintf(req + len, "X-%d: v\r\n", i);
	len += (size_t)sprintf(req + len, "\r\n");
	expect_refused(req, len, 431);
}

Test(http, oversized_url_refused)
{
	size_t n = 10000;
	char *req = malloc(n + 64);
	int len;

	cr_assert_not_null(req);
	req[0] = '\0';
	len = sprintf(req, "GET /");
	memset(req + len, 'u', n);
	len += (int)n;
	len += sprintf(req + len, " HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_refused(req, (size_t)len, 414);
	free(req);
}

Test(http, oversized_body_refused)
{
	size_t n = 100000;
	char *req = malloc(n + 128);
	int len;

	cr_assert_not_null(req);
	len = sprintf(req, "POST /echo HTTP/1.1\r\nHost: t\r\n"
			   "Content-Length: %zu\r\n\r\n", n);
	memset(req + len, 'b', n);
	expect_refused(req, (size_t)len + n, 413);
	free(req);
}

Test(http, http11_without_host_refused)
{
	static const char req[] = "GET /hello HTTP/1.1\r\n\r\n";

	expect_refused(req, sizeof(req) - 1, 400);
}

Test(http, oversized_body_refused_before_it_is_sent)
{
	static const char req[] = "POST /echo HTTP/1.1\r\nHost: t\r\n"
		"Content-Length: 1000000\r\n\r\n";

	/* Only the head: the answer must not wait for the body. */
	expect_refused(req, sizeof(req) - 1, 413);
}

Test(http, expect_100_continue)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct client *c = client_open();
	struct response r;

	send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
		    "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	/* The body goes only after the 100, as a client that waits does. */
	while (c->len < sizeof(cont) - 1)
		cr_assert_gt(fill(c), 0);
	cr_assert(memcmp(c->buf, cont, sizeof(cont) - 1) == 0, "%.*s",
		  (int)c->len, c->buf);
	consume(c, sizeof(cont) - 1);
	send_str(c, "hello");
	read_response(c, &r, false);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello");
	free_response(&r);
	client_close(c);
}

Test(http, pipelined_batch_larger_than_the_buffers)
{
	enum { N = 600 };
	struct client *c = client_open();
	char *batch = malloc(N * 64);
	size_t len = 0;
	struct response r;
	int i;

	/* ~25 KiB of requests: requests straddle receive buffers, and the
	 * answers (~75 KiB) overflow the output buffer mid-batch. */
	cr_assert_not_null(batch);
	for (i = 0; i < N; i++)
		len += (size_t)sprintf(batch + len,
			"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n",
			i % 3 ? "hello" : "a.txt");
	send_bytes(c, batch, len);
	free(batch);
	for (i = 0; i < N; i++) {
		read_response(c, &r, false);
		cr_assert_eq(r.status, 200, "request %d: %s", i, r.head);
		cr_assert_str_eq(r.body, i % 3 ? hello : "file body\n",
				 "request %d", i);
		free_response(&r);
	}
	client_close(c);
}

Test(http, client_closing_mid_request_is_no_error)
{
	struct client *c = client_open();

	send_str(c, "GET /hello HTTP/1.1\r\nHost: ");
	client_close(c);
	/* The server goes on serving (and exits 0 in .fini). */
	c = client_open();
	send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	{
		struct response r;

		read_response(c, &r, false);
		expect_hello(&r);
		free_response(&r);
	}
	client_close(c);
}

/* ---------------------------------------------------------------------- */
/* Connection management.                                                 */

Test(http, connection_close_honoured)
{
	struct client *c = client_open();
	struct response r;
	char val[64];

	/* The second request must not be answered. */
	send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n"
		    "Connection: close\r\n\r\n"
		    "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(c, &r, false);
	expect_hello(&r);
	cr_assert_str_eq(header(&r, "connection", val, sizeof(val)), "close");
	free_response(&r);
	expect_eof(c);
	client_close(c);
}

Test(http, http10_closes_unless_keep_alive)
{
	struct client *c = client_open();
	struct response r;
	char val[64];

	send_str(c, "GET /hello HTTP/1.0\r\n\r\n");
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	expect_eof(c);
	client_close(c);

	c = client_open();
	send_str(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	read_response(c, &r, false);
	expect_hello(&r);
	cr_assert_str_eq(header(&r, "connection", val, sizeof(val)),
			 "keep-alive");
	free_response(&r);
	send_str(c, "GET /hello HTTP/1.0\r\n\r\n");
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	expect_eof(c);
	client_close(c);
}

Test(http, many_concurrent_connections)
{
	enum { N = 300 };
	struct client **c = calloc(N, sizeof(*c));
	struct response r;
	int i, round;

	cr_assert_not_null(c);
	for (i = 0; i < N; i++)
		c[i] = client_open();
	/* Every connection has a request in flight at once, twice. */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++)
			send_str(c[i], i % 2 ?
				 "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" :
				 "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
		for (i = N - 1; i >= 0; i--) {
			read_response(c[i], &r, false);
			cr_assert_eq(r.status, 200);
			cr_assert_str_eq(r.body, i % 2 ? hello : "file body\n");
			free_response(&r);
		}
	}
	/* Half are closed by us; the rest stay open across SIGTERM. */
	for (i = 0; i < N; i += 2)
		client_close(c[i]);
	for (i = 1; i < N; i += 2) {
		free(c[i]->buf);	/* the fds close at exit, after .fini */
		free(c[i]);
	}
	free(c);
}

Test(http, connect_refused_then_closed)
{
	static const char req[] = "CONNECT example.org:443 HTTP/1.1\r\n"
		"Host: example.org:443\r\n\r\ntunnelled bytes";

	/* What follows CONNECT is no HTTP: answer, then close. */
	expect_refused(req, sizeof(req) - 1, 405);
}

Test(http, upgrade_is_answered_then_closed)
{
	struct client *c = client_open();
	struct response r;

	send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
		    "Upgrade: websocket\r\n\r\nnot http any more");
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	expect_eof(c);
	client_close(c);
}

/* No suite-wide server here: this one needs a short idle timeout. */
Test(http_idle, idle_connection_closed, .timeout = 60)
{
	static const char *const args[] = { "--idle-timeout", "1", NULL };
	struct client *c;

	start_server_args(args);
	c = client_open();
	/* recv returns 0 when the server gives up (SO_RCVTIMEO fails the
	 * test if it never does). */
	expect_eof(c);
	client_close(c);
	stop_server();
}

Test(http, sigint_stops_with_connections_open)
{
	struct client *c = client_open();
	struct response r;

	send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	read_response(c, &r, false);
	expect_hello(&r);
	free_response(&r);
	/* The connection waits in recv for a next request. */
	stop_server_with(SIGINT);
	client_close(c);
}

Test(http, stop_while_sending_a_large_file)
{
	enum { SIZE = 16 << 20 };
	struct client *c;
	char path[256];
	char *data = calloc(1, SIZE);

	cr_assert_not_null(data);
	snprintf(path, sizeof(path), "%s/large.bin", srv.root);
	write_file(path, data, SIZE);
	free(data);
	c = client_open();
	send_str(c, "GET /large.bin HTTP/1.1\r\nHost: t\r\n\r\n");
	/* Once the answer started, read no more: the server ends up in a
	 * send that cannot complete, and the stop cancels it. */
	cr_assert_gt(fill(c), 0);
	stop_server();
	client_close(c);
}

Test(http_idle, slow_request_closed, .timeout = 60)
{
	static const char *const args[] = { "--idle-timeout", "1", NULL };
	struct client *c;
	char byte;
	int i;

	start_server_args(args);
	c = client_open();
	send_str(c, "GET /hello HTTP/1.1\r\n");
	/* A header line every 100 ms: each byte is progress, but the
	 * request as a whole takes longer than the idle timeout.  The loop
	 * bound (20 s) is only a backstop. */
	for (i = 0; i < 200; i++) {
		if (send(c->fd, "X: y\r\n", 6, MSG_NOSIGNAL) < 0)
			break;
		if (recv(c->fd, &byte, 1, MSG_DONTWAIT) == 0)
			break;
		usleep(100 * 1000);
	}
	cr_assert_lt(i, 200, "the server never closed a slow request");
	client_close(c);
	stop_server();
}

/* ---------------------------------------------------------------------- */
/* Several loops (--loops N).                                             */

/* Many connections, each with requests in flight at once: SO_REUSEPORT
 * spreads them over both loops' listeners.  Half stay open across the
 * SIGTERM, which must stop the server on every loop (exit 0, no hang). */
Test(http_loops, two_loops_serve_and_stop, .timeout = 60)
{
	static const char *const args[] = { "--loops", "2", NULL };
	enum { N = 200 };
	struct client **c;
	struct response r;
	const char *wrapper = getenv("HTTP_SERVER_WRAPPER");
	int i, round;

	/* valgrind holds its one big lock through io_uring_enter, so a
	 * thread waiting there starves the other loops (liburing issue
	 * 657): under a wrapper, run the loops on epoll. */
	if (wrapper && *wrapper)
		cr_assert_eq(setenv("CORIO_BACKEND", "epoll", 1), 0);
	start_server_args(args);
	c = calloc(N, sizeof(*c));
	cr_assert_not_null(c);
	for (i = 0; i < N; i++)
		c[i] = client_open();
	for (round = 0; round < 3; round++) {
		for (i = 0; i < N; i++)
			send_str(c[i], i % 2 ?
				 "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" :
				 "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
		for (i = N - 1; i >= 0; i--) {
			read_response(c[i], &r, false);
			cr_assert_eq(r.status, 200);
			cr_assert_str_eq(r.body, i % 2 ? hello : "file body\n");
			free_response(&r);
		}
	}
	for (i = 0; i < N; i += 2)
		client_close(c[i]);
	stop_server();
	for (i = 1; i < N; i += 2)
		client_close(c[i]);
	free(c);
}

/* The exit status of http_server run with @args (stderr silenced). */
static int run_status(const char *const *args)
{
	const char *argv[8] = { HTTP_SERVER_BIN };
	int n = 1, status;
	pid_t pid;

	while (*args && n < 7)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %#x", status);
	return WEXITSTATUS(status);
}

Test(http_loops, bad_loop_counts_refused, .timeout = 30)
{
	static const char *const bad[] = { "0", "-1", "x", "2x", "65",
					   "99999999999999999999", "" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { "--port", "0", "--loops", bad[i],
				       NULL };

		cr_expect_eq(run_status(args), 2, "--loops '%s'", bad[i]);
	}
}
