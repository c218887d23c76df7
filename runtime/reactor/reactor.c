/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/reactor.c - choosing the loop's I/O backend.
 *
 * opts->backend wins; else the CORIO_BACKEND environment variable; else
 * io_uring, with epoll when io_uring cannot be set up at all here (EPERM:
 * seccomp or the sysctl; ENOSYS: no io_uring; EINVAL: a kernel too old for
 * the flags every rung of the ladder needs).  Other failures (ENOMEM,
 * EMFILE) are real and reported: falling back would hide them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corio/loop.h"
#include "reactor/fault.h"
#include "reactor/reactor.h"

#define VALID "valid values are \"uring\" and \"epoll\", or unset for " \
	      "io_uring with an epoll fallback"

/* The backend asked for, or -EINVAL with @why filled in. */
static int requested(const struct corio_loop_opts *opts, char *why,
		     size_t whylen)
{
	const char *env;

	if (opts && opts->backend) {
		if (opts->backend == CORIO_LOOP_BACKEND_URING ||
		    opts->backend == CORIO_LOOP_BACKEND_EPOLL)
			return (int)opts->backend;
		snprintf(why, whylen, "corio_loop_opts.backend = %u names no "
			 "backend (CORIO_LOOP_BACKEND_AUTO, _URING or _EPOLL)",
			 opts->backend);
		return -EINVAL;
	}
	env = getenv("CORIO_BACKEND");
	if (!env || !*env)
		return CORIO_LOOP_BACKEND_AUTO;
	if (!strcmp(env, "uring"))
		return CORIO_LOOP_BACKEND_URING;
	if (!strcmp(env, "epoll"))
		return CORIO_LOOP_BACKEND_EPOLL;
	snprintf(why, whylen, "CORIO_BACKEND=\"%.64s\" names no backend: "
		 VALID, env);
	return -EINVAL;
}

/* May a failed io_uring setup (@err) fall back to epoll? */
static bool may_fall_back(int err, const struct corio_loop_opts *opts)
{
	if (err == -EPERM || err == -ENOSYS)
		return true;
	/* EINVAL with explicit ring flags is the caller's mistake. */
	return err == -EINVAL && !(opts && opts->ring_flags);
}

static int backend_create(struct corio__reactor **out,
			  const struct corio_loop_opts *opts,
			  char *desc, size_t desclen,
			  char *why, size_t whylen)
{
	static const char prefix[] = "io_uring is unavailable: ";
	const char *reason = why;
	int choice, ret;
	size_t len;

	choice = requested(opts, why, whylen);
	if (choice < 0)
		return choice;
	if (choice == CORIO_LOOP_BACKEND_EPOLL)
		return corio__epoll_create(out, opts, desc, desclen, why,
					   whylen);
	ret = corio__uring_create(out, opts, desc, desclen, why, whylen);
	if (ret == 0 || choice == CORIO_LOOP_BACKEND_URING ||
	    !may_fall_back(ret, opts))
		return ret;
	/* @why keeps io_uring's reason: corio_loop_unavailable_reason()
	 * still explains the choice after a successful fallback, and
	 * epoll's own follows it if epoll fails too. */
	len = strlen(why);
	snprintf(why + len, whylen - len, "; then ");
	ret = corio__epoll_create(out, opts, desc, desclen,
				  why + strlen(why), whylen - strlen(why));
	if (ret < 0)
		return ret;
	why[len] = '\0';
	if (!strncmp(reason, prefix, sizeof(prefix) - 1))
		reason += sizeof(prefix) - 1;
	snprintf(desc, desclen, "epoll (io_uring unavailable: %s)", reason);
	return 0;
}

int corio__reactor_create(struct corio__reactor **out,
			  const struct corio_loop_opts *opts,
			  char *desc, size_t desclen,
			  char *why, size_t whylen)
{
	struct corio__fault_cfg faults;
	int ret;

	ret = corio__fault_config(opts, &faults, why, whylen);
	if (ret < 0)
		return ret;
	ret = backend_create(out, opts, desc, desclen, why, whylen);
	/* Fault injection wraps whichever backend was obtained; without it
	 * nothing stands between the loop and the backend. */
	if (ret < 0 || !faults.on)
		return ret;
	ret = corio__fault_wrap(out, &faults, desc, desclen);
	if (ret < 0) {
		corio__reactor_destroy(*out);
		*out = NULL;
		snprintf(why, whylen, "out of memory for fault injection");
	}
	return ret;
}

static const char *const op_names[CORIO__OP_COUNT] = {
#define X(op, name, ...) [CORIO__OP_##op] = #name,
	CORIO__OPS(X)
#undef X
};

const char *corio__op_name(unsigned opcode)
{
	return opcode < CORIO__OP_COUNT ? op_names[opcode] : "?";
}

