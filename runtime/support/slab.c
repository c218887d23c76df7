/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/slab.c - size-class free lists; see slab.h.
 */
#include <stdint.h>

#include "support/slab.h"

#define CHUNK_BYTES 65536u

struct corio__slab_chunk {
	struct corio__slab_chunk *next;
	/* objects follow, 16-byte aligned */
	_Alignas(16) unsigned char data[];
};

/*
 * Class index for @size (1..CORIO__SLAB_MAX) and the class's object size.
 * Up to 512 bytes classes are 8 bytes apart (frames are small and many);
 * a type that needs 16-byte alignment has a size that is a multiple of 16,
 * so its class is exactly its size and every object in a chunk stays
 * 16-byte aligned.
 */
static unsigned size_class(size_t size, size_t *objsize)
{
	unsigned e, k;
	size_t step;

	if (size <= 512) {
		unsigned c = size ? (unsigned)((size + 7) / 8) : 1;

		*objsize = (size_t)c * 8;
		return c - 1;				/* 0..63 */
	}
	if (size <= 1024) {
		unsigned c = (unsigned)((size + 15) / 16);

		*objsize = (size_t)c * 16;
		return 64 + (c - 33);			/* 64..95 */
	}
	/* size in (2^e, 2^(e+1)]: four classes of 2^(e-2) bytes each. */
	e = 63u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
	step = (size_t)1 << (e - 2);
	k = (unsigned)((size - ((size_t)1 << e) + step - 1) / step);
	*objsize = ((size_t)1 << e) + k * step;
	return 96 + (e - 10) * 4 + (k - 1);		/* 96..119 */
}

void corio__slab_init(struct corio__slab *slab, bool bypass)
{
	*slab = (struct corio__slab){ .bypass = bypass };
}

void corio__slab_destroy(struct corio__slab *slab)
{
	struct corio__slab_chunk *c = slab->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		corio__free(c);
	}
	corio__slab_init(slab, slab->bypass);
}

/* Carve a new chunk into class @cls; false when out of memory. */
static bool refill(struct corio__slab *slab, unsigned cls, size_t objsize)
{
	size_t n = CHUNK_BYTES / objsize, i;
	struct corio__slab_chunk *c;

	if (n < 8)
		n = 8;
	c = corio__malloc(sizeof(*c) + n * objsize);
	if (!c)
		return false;
	c->next = slab->chunks;
	slab->chunks = c;
	slab->chunk_bytes += sizeof(*c) + n * objsize;
	/* Thread the objects so that lower addresses are handed out first. */
	for (i = n; i-- > 0;) {
		void **obj = (void **)(void *)(c->data + i * objsize);

		*obj = slab->free[cls];
		slab->free[cls] = obj;
	}
	return true;
}

void *corio__slab_alloc(struct corio__slab *slab, size_t size)
{
	size_t objsize;
	unsigned cls;
	void **obj;

	if (slab->bypass || size > CORIO__SLAB_MAX)
		return corio__malloc(size);
	cls = size_class(size, &objsize);
	if (!slab->free[cls] && !refill(slab, cls, objsize))
		return NULL;
	obj = slab->free[cls];
	slab->free[cls] = *obj;
	return obj;
}

void corio__slab_free(struct corio__slab *slab, void *ptr, size_t size)
{
	size_t objsize;
	unsigned cls;

	if (!ptr)
		return;
	if (slab->bypass || size > CORIO__SLAB_MAX) {
		corio__free(ptr);
		return;
	}
	cls = size_class(size, &objsize);
	*(void **)ptr = slab->free[cls];
	slab->free[cls] = ptr;
}
