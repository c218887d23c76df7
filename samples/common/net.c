/* SPDX-License-Identifier: MIT */
/*
 * samples/common/net.c - port parsing, loopback listeners and the
 * descriptor limit for the network samples.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net.h"

int sample_parse_port(const char *arg, uint16_t *port)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v > 65535 || arg[0] == '-')
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* A listener on 127.0.0.1:@port; @reuseport: share the port. */
static int listen_tcp(uint16_t port, int reuseport)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd, one = 1, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				     sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, SAMPLE_BACKLOG) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int sample_listen_tcp(uint16_t port)
{
	return listen_tcp(port, 0);
}

int sample_listen_tcp_shared(uint16_t port)
{
	return listen_tcp(port, 1);
}

int sample_local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -errno;
	return ntohs(sin.sin_port);
}

int sample_raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = want;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_max = want;	/* only root may do this */
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return 0;
	/* Not allowed past the hard limit: take as much as it lets us. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return -EPERM;
}
