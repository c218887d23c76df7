/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/alloc.c - the allocator hook under every corio allocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "corio/common.h"
#include "support/slab.h"

static void *(*hook_alloc)(size_t);
static void (*hook_release)(void *);

void corio_set_allocator(void *(*alloc)(size_t), void (*release)(void *))
{
	hook_alloc = alloc;
	hook_release = release;
}

void *corio__malloc(size_t size)
{
	return hook_alloc ? hook_alloc(size) : malloc(size);
}

void corio__free(void *ptr)
{
	if (hook_release)
		hook_release(ptr);
	else
		free(ptr);
}

int corio__grow(void **v, uint32_t *len, size_t elem, uint32_t need,
		uint32_t first)
{
	uint32_t n = *len ? *len : first;
	char *nv;

	if (need < *len)
		return 0;
	while (n <= need) {
		if (n > UINT32_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	nv = corio__malloc(elem * n);
	if (!nv)
		return -ENOMEM;
	if (*len)
		memcpy(nv, *v, elem * *len);
	memset(nv + elem * *len, 0, elem * (n - *len));
	corio__free(*v);
	*v = nv;
	*len = n;
	return 0;
}
