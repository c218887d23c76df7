/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/htab.c - growing and shrinking the hash table of htab.h.
 */
#include <errno.h>
#include <string.h>

#include "support/htab.h"
#include "support/slab.h"

/* Rehash into @n buckets; on -ENOMEM keep the old ones. */
static int resize(struct corio__htab *t, size_t n)
{
	struct corio__hnode **b = corio__malloc(n * sizeof(*b)), *e, *next;
	size_t i;

	if (!b)
		return -ENOMEM;
	memset(b, 0, n * sizeof(*b));
	for (i = 0; i < t->n; i++)
		for (e = t->b[i]; e; e = next) {
			size_t j = corio__hash_slot(e->key, n);

			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	corio__free(t->b);
	t->b = b;
	t->n = n;
	return 0;
}

int corio__htab_init(struct corio__htab *t, size_t min)
{
	*t = (struct corio__htab){ .min = min };
	return resize(t, min);
}

int corio__htab_insert(struct corio__htab *t, struct corio__hnode *e)
{
	size_t i;

	if (!t->n && resize(t, t->min ? t->min : 16))
		return -ENOMEM;
	if (t->count >= t->n)
		resize(t, t->n * 2);	/* failure: longer chains */
	i = corio__hash_slot(e->key, t->n);
	e->next = t->b[i];
	t->b[i] = e;
	t->count++;
	return 0;
}

void corio__htab_remove(struct corio__htab *t, struct corio__hnode *e)
{
	struct corio__hnode **p = &t->b[corio__hash_slot(e->key, t->n)];
	size_t min = t->min ? t->min : 16;

	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	e->next = NULL;
	t->count--;
	if (t->n > min && t->count < t->n / 8)
		resize(t, t->n / 2);
}

void corio__htab_free(struct corio__htab *t)
{
	corio__free(t->b);
	t->b = NULL;
	t->n = t->count = 0;
}
