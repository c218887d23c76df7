/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/misc.c - error strings and the version.
 */
#include <errno.h>
#include <string.h>

#include "corio/common.h"

#define CORIO__STR_(x) #x
#define CORIO__STR(x) CORIO__STR_(x)

const char *corio_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EDEADLK:
		return "deadlock: the await would never complete";
	case -ECANCELED:
		return "the task was cancelled";
	case -ETIME:
		return "the deadline passed";
	case -EOWNERDEAD:
		return "locked, but its previous owner ended without unlocking";
	default:
		/* strerror's table is static; the pointer stays valid. */
		return strerror(err < 0 ? -err : err);
	}
}

const char *corio_version_string(void)
{
	return CORIO__STR(CORIO_VERSION_MAJOR) "."
	       CORIO__STR(CORIO_VERSION_MINOR) "."
	       CORIO__STR(CORIO_VERSION_PATCH);
}
