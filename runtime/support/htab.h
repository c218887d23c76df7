/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/htab.h - the runtime's one hash table: intrusive chains keyed by
 * a 64-bit integer (an id, a topic, a task's address), grown at load 1 and
 * shrunk below 1/8, so lookups stay O(1) whatever the number of entries.
 * The entries are the caller's (embed a struct corio__hnode); the table
 * owns only its bucket array.  Several entries may share a key.
 */
#ifndef CORIO_HTAB_H
#define CORIO_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct corio__hnode {
	struct corio__hnode *next;	/* in its bucket */
	uint64_t key;
};

struct corio__htab {
	struct corio__hnode **b;	/* buckets; NULL before the first
					 * insert */
	size_t n;			/* a power of two, or 0 */
	size_t count;			/* entries */
	size_t min;			/* buckets at the first insert, never
					 * fewer (a power of two; 0: 16) */
};

/* The bucket of @key among @n (a power of two).  Keys that are slab
 * addresses carry no information in their low bits: multiply first. */
static inline size_t corio__hash_slot(uint64_t key, size_t n)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (n - 1);
}

/* Allocate @min buckets now (a power of two), so that no later insert can
 * fail.  Returns 0 or -ENOMEM. */
int corio__htab_init(struct corio__htab *t, size_t min);

/*
 * Insert @e (its key set).  Returns 0, or -ENOMEM when the table has no
 * buckets yet and none can be allocated; a later growth that fails only
 * makes chains longer.
 */
int corio__htab_insert(struct corio__htab *t, struct corio__hnode *e);

/* The first entry with @key, or NULL. */
static inline struct corio__hnode *corio__htab_find(const struct corio__htab *t,
						     uint64_t key)
{
	struct corio__hnode *e;

	if (!t->n)
		return NULL;
	for (e = t->b[corio__hash_slot(key, t->n)]; e; e = e->next)
		if (e->key == key)
			return e;
	return NULL;
}

/* Take out @e, which is in @t: O(its chain). */
void corio__htab_remove(struct corio__htab *t, struct corio__hnode *e);

/* Release the buckets (the entries are the caller's); @t is empty after. */
void corio__htab_free(struct corio__htab *t);

#endif /* CORIO_HTAB_H */
