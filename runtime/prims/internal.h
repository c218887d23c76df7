/* SPDX-License-Identifier: MIT */
/*
 * runtime/prims/internal.h - what the primitives share.  Nothing here is
 * public; nothing below this layer includes it.
 */
#ifndef CORIO_PRIMS_INTERNAL_H
#define CORIO_PRIMS_INTERNAL_H

#include "core/internal.h"

#define CORIO__NSIG 64		/* signal numbers corio_signal takes */

/* sync.c: @t ended owning mutexes (t->mutexes): report it, and release
 * each to its next waiter, who gets -EOWNERDEAD.  The loop's abandon
 * hook. */
void corio__mutexes_abandon(struct corio_loop *loop, struct corio_task *t);

#endif /* CORIO_PRIMS_INTERNAL_H */
