/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/slab.h - per-loop size-class free lists for frames and tasks.
 *
 * Objects come from 64 KiB chunks carved into one size class each and go
 * back to their class's free list; chunks return to the allocator only when
 * the loop is destroyed.  Spawning or awaiting after warm-up therefore never
 * calls malloc.  Classes are 8-byte steps up to 512 bytes, 16-byte steps up
 * to 1 KiB, then four steps per power of two up to 64 KiB; larger objects
 * use the allocator directly.
 */
#ifndef CORIO_SLAB_H
#define CORIO_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORIO__SLAB_CLASSES 120
#define CORIO__SLAB_MAX 65536

struct corio__slab_chunk;

struct corio__slab {
	void *free[CORIO__SLAB_CLASSES];	/* intrusive free lists */
	struct corio__slab_chunk *chunks;	/* every chunk, to release */
	size_t chunk_bytes;			/* total held in chunks */
	bool bypass;	/* every object straight from the allocator, so
			 * AddressSanitizer and valgrind see each one */
};

void corio__slab_init(struct corio__slab *slab, bool bypass);
void corio__slab_destroy(struct corio__slab *slab);
/* An uninitialised object of @size bytes, or NULL (out of memory). */
void *corio__slab_alloc(struct corio__slab *slab, size_t size);
/* Return @ptr, which was allocated with the same @size. */
void corio__slab_free(struct corio__slab *slab, void *ptr, size_t size);

/* alloc.c: the allocator hook (corio_set_allocator). */
void *corio__malloc(size_t size);
void corio__free(void *ptr);

/*
 * alloc.c: make the array *@v of *@len elements of @elem bytes (indexed
 * by fd, say) hold index @need: its length doubles from @first (or from
 * *@len) until it does, the new elements zeroed.  Returns 0, or -ENOMEM
 * with the array unchanged.
 */
int corio__grow(void **v, uint32_t *len, size_t elem, uint32_t need,
		uint32_t first);

#endif /* CORIO_SLAB_H */
