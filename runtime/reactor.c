/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor.c - choosing the loop's I/O backend.
 */
#include "internal.h"
#include "reactor.h"

int corio__reactor_create(struct corio__reactor **out,
			  const struct corio_loop_opts *opts,
			  char *desc, size_t desclen,
			  char *why, size_t whylen)
{
	return corio__uring_create(out, opts, desc, desclen, why, whylen);
}
