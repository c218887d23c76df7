/* SPDX-License-Identifier: MIT */
/*
 * runtime/support/list.h - the runtime's one intrusive doubly linked list.
 *
 * The entries are the caller's: embed a struct corio__link and find the
 * entry again with corio__list_entry.  The list is NULL-terminated at both
 * ends (not circular), so a zeroed struct corio__list is an empty list and
 * a zeroed link is an unlinked one; every operation is O(1) and none can
 * fail.  A link is on at most one list at a time, and the caller knows
 * which: removal takes the list, because the first and last links have a
 * NULL neighbour there is nothing else to update.
 *
 * Lists that are only ever pushed at one end and popped at the other
 * through a single pointer (the ready queues, the wait queues, the
 * blocking pool's jobs) stay singly linked where they are: a prev pointer
 * would grow their records for nothing.
 */
#ifndef CORIO_LIST_H
#define CORIO_LIST_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

struct corio__link {
	struct corio__link *next;	/* towards last; NULL at the end */
	struct corio__link *prev;	/* towards first; NULL at the start */
};

struct corio__list {
	struct corio__link *first;	/* NULL when empty */
	struct corio__link *last;	/* NULL when empty */
};

/* The entry of type @type whose member @member is the link @l (not NULL).
 * Through void *: the entry is at least as aligned as its link. */
#define corio__list_entry(l, type, member) \
	((type *)(void *)((char *)(l) - offsetof(type, member)))

/* The entry after @e (of type @type, linked through @member), or NULL. */
#define corio__list_next_entry(e, type, member) \
	((e)->member.next ? corio__list_entry((e)->member.next, type, member) \
			  : NULL)

/* The first entry of @list, or NULL when it is empty. */
#define corio__list_first_entry(list, type, member) \
	((list)->first ? corio__list_entry((list)->first, type, member) : NULL)

/*
 * Walk @list from first to last with @e (a pointer to @type).  The body may
 * unlink @e only if it does not use the loop to go on from it; to remove
 * as it walks, keep the next entry first (see corio__list_next_entry).
 */
#define corio__list_for_each(e, list, type, member) \
	for ((e) = corio__list_first_entry(list, type, member); (e); \
	     (e) = corio__list_next_entry(e, type, member))

/* Whether @list has no links. */
static inline bool corio__list_empty(const struct corio__list *list)
{
	return !list->first;
}

/* Whether @l is on @list (the one list it could be on).  O(1). */
static inline bool corio__list_has(const struct corio__list *list,
				   const struct corio__link *l)
{
	return l->prev || list->first == l;
}

/* Append @l, not on any list, to @list: it becomes the last link. */
static inline void corio__list_push_back(struct corio__list *list,
					 struct corio__link *l)
{
	l->next = NULL;
	l->prev = list->last;
	if (list->last)
		list->last->next = l;
	else
		list->first = l;
	list->last = l;
}

/* Prepend @l, not on any list, to @list: it becomes the first link. */
static inline void corio__list_push_front(struct corio__list *list,
					  struct corio__link *l)
{
	l->prev = NULL;
	l->next = list->first;
	if (list->first)
		list->first->prev = l;
	else
		list->last = l;
	list->first = l;
}

/* Take @l, which is on @list, off it.  @l is left unlinked (both NULL). */
static inline void corio__list_remove(struct corio__list *list,
				      struct corio__link *l)
{
	assert(corio__list_has(list, l));
	if (l->prev)
		l->prev->next = l->next;
	else
		list->first = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		list->last = l->prev;
	l->next = l->prev = NULL;
}

/* Take the first link off @list and return it, or NULL when it is empty. */
static inline struct corio__link *corio__list_pop_front(struct corio__list *list)
{
	struct corio__link *l = list->first;

	if (l) {
		list->first = l->next;
		if (l->next)
			l->next->prev = NULL;
		else
			list->last = NULL;
		l->next = NULL;
	}
	return l;
}

#endif /* CORIO_LIST_H */
