/* SPDX-License-Identifier: MIT */
/*
 * samples/common/net.h - socket and process set-up shared by the network
 * samples: a port argument, a loopback listener, the descriptor limit.
 * Plain synchronous calls, made before the loop runs.
 */
#ifndef SAMPLES_NET_H
#define SAMPLES_NET_H

#include <stdint.h>
#include <sys/resource.h>

/* Backlog of listening sockets; the kernel caps it at net.core.somaxconn. */
#define SAMPLE_BACKLOG 4096

/*
 * Parse a TCP port, 0 to 65535 (0: any free port), into *@port.
 * Returns 0, or -EINVAL.
 */
int sample_parse_port(const char *arg, uint16_t *port);

/*
 * A listening TCP socket bound to 127.0.0.1:@port, with SO_REUSEADDR (a
 * restarted server can bind while old connections sit in TIME_WAIT) and
 * a backlog of SAMPLE_BACKLOG.  Returns the fd (close-on-exec), or -errno.
 */
int sample_listen_tcp(uint16_t port);

/*
 * sample_listen_tcp() with SO_REUSEPORT as well: several sockets (one per
 * loop) listen on the same port and the kernel spreads the incoming
 * connections over them.  Returns the fd, or -errno.
 */
int sample_listen_tcp_shared(uint16_t port);

/* The local port @fd is bound to, or -errno. */
int sample_local_port(int fd);

/*
 * Make sure the process may open @want descriptors: raise the soft
 * RLIMIT_NOFILE, and the hard one too if allowed (root).  Returns 0, or
 * -errno (-EPERM: the hard limit is lower and cannot be raised; the soft
 * limit was raised to it).
 */
int sample_raise_nofile(rlim_t want);

#endif /* SAMPLES_NET_H */
