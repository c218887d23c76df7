/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/net.c - socket set-up that never blocks: address parsing,
 * listening and bound sockets, and which network capabilities the loop's
 * backend offers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/internal.h"
#include "reactor/reactor.h"

unsigned corio__net_caps(struct corio_loop *loop)
{
	if (loop->no_multishot)
		return 0;
	return corio__reactor_caps(loop->reactor);
}

int corio_sockaddr_parse(const char *host, int port,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	if (!host || !ss || !len || port < 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static int set_opt(int fd, int level, int name, int on)
{
	return setsockopt(fd, level, name, &on, sizeof(on)) < 0 ? -errno : 0;
}

#define KNOWN_LISTEN_FLAGS (CORIO_LISTEN_REUSEPORT | \
			    CORIO_LISTEN_NO_REUSEADDR | CORIO_LISTEN_V6ONLY)

/* A socket of @type bound to @host:@port with the options of @opts. */
static int bound_socket(int type, const char *host, int port,
			const struct corio_listen_opts *opts)
{
	unsigned flags = opts ? opts->flags : 0;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, ret;

	if (flags & ~KNOWN_LISTEN_FLAGS)
		return -EINVAL;
	ret = corio_sockaddr_parse(host, port, &ss, &len);
	if (ret)
		return ret;
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!(flags & CORIO_LISTEN_NO_REUSEADDR))
		ret = set_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (!ret && (flags & CORIO_LISTEN_REUSEPORT))
		ret = set_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	/* Say it either way: the system default (bindv6only) varies. */
	if (!ret && ss.ss_family == AF_INET6)
		ret = set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
			      !!(flags & CORIO_LISTEN_V6ONLY));
	if (!ret && bind(fd, (struct sockaddr *)&ss, len) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int do_listen(int fd, const struct corio_listen_opts *opts)
{
	int backlog = opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN;
	int ret;

	if (fd < 0)
		return fd;
	if (listen(fd, backlog) == 0)
		return fd;
	ret = -errno;
	close(fd);
	return ret;
}

int corio_tcp_listen(const char *host, int port,
		     const struct corio_listen_opts *opts)
{
	return do_listen(bound_socket(SOCK_STREAM, host, port, opts), opts);
}

int corio_udp_bind(const char *host, int port,
		   const struct corio_listen_opts *opts)
{
	return bound_socket(SOCK_DGRAM, host, port, opts);
}

/* sockaddr_un for @path ('@': abstract); its length, or -errno. */
int corio__unix_addr(const char *path, struct sockaddr_un *un)
{
	size_t n;

	if (!path || !*path)
		return -EINVAL;
	n = strlen(path);
	/* A path needs its terminating NUL; an abstract name does not. */
	if (n >= sizeof(un->sun_path) + (path[0] == '@'))
		return -ENAMETOOLONG;
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, n);
	if (path[0] == '@') {
		un->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (int)sizeof(*un);
}

int corio_unix_listen(const char *path, const struct corio_listen_opts *opts)
{
	struct sockaddr_un un;
	int fd, len, ret;

	if (opts && (opts->flags & ~KNOWN_LISTEN_FLAGS))
		return -EINVAL;
	len = corio__unix_addr(path, &un);
	if (len < 0)
		return len;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, (socklen_t)len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return do_listen(fd, opts);
}

int corio_socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EINVAL;
}
