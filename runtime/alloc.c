/* SPDX-License-Identifier: MIT */
/*
 * runtime/alloc.c - the allocator hook under every corio allocation.
 */
#include <stdlib.h>

#include "corio/common.h"
#include "slab.h"

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
