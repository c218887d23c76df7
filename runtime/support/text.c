/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/text.c - reports built piece by piece (text.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "support/text.h"

void corio__put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*off < len ? buf + *off : NULL,
		      *off < len ? len - *off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}
