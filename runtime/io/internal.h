/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/internal.h - what the files of the I/O layer share.  Nothing
 * here is public; nothing below this layer includes it.
 */
#ifndef CORIO_IO_INTERNAL_H
#define CORIO_IO_INTERNAL_H

#include "core/internal.h"

/* net.c: the backend's CORIO__CAP_* less those the loop's flags
 * turn off (CORIO_LOOP_NO_MULTISHOT). */
unsigned corio__net_caps(struct corio_loop *loop);
/* net.c: fill *@un for @path ('@': abstract name); its length or
 * -EINVAL, -ENAMETOOLONG. */
struct sockaddr_un;
int corio__unix_addr(const char *path, struct sockaddr_un *un);

#endif /* CORIO_IO_INTERNAL_H */
