/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/text.h - reports built piece by piece into a caller's
 * buffer (the deadlock and lock-order reports, the loop's dump).
 */
#ifndef CORIO_TEXT_H
#define CORIO_TEXT_H

#include <stddef.h>

/*
 * snprintf into @buf (@len bytes) at *@off, and advance *@off by the full
 * length, written or not: after a series of calls *@off is the size the
 * whole text needs, so a caller whose buffer was short knows how much to
 * ask for.  Nothing is written past @len; the text is NUL-terminated while
 * it fits.  Cannot fail (an encoding error adds nothing).
 */
void corio__put(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* CORIO_TEXT_H */
