/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/lockgraph.c - the lock-order graph: which lock each task held
 * when it took another, and the cycles that makes.
 *
 * Costs, with n mutexes held by all tasks together (a handful): taking a
 * mutex whose orders are known (none held, or the same order as last
 * time) is a scan of n entries and a store, inline (lockgraph.h);
 * releasing the newest is a decrement.  A new order costs a hash lookup
 * per mutex and a scan of the edges leaving the held one; only an edge
 * never seen before searches the graph for a cycle, O(mutexes + edges),
 * so a program that keeps to its orders pays the search once per pair.
 * bench/explore lockorder: 1.25x the CPU time of a lock and unlock with
 * tracking off, 1.35x with one mutex held around it.  Nodes and edges are
 * never freed before the graph: it remembers every order it saw.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "core/lockgraph.h"
#include "corio/lockorder.h"
#include "support/text.h"

#define NAME_MAX_LEN 48
#define TASK_MAX_LEN 32

struct corio__lock_edge;

struct corio__locknode {
	struct corio__hnode h;		/* in @nodes, key: the lock's address
					 * (several names may share one) */
	struct corio__locknode *next_all;	/* every node, to free */
	struct corio__lock_edge *out;		/* edges from this lock */
	struct corio__lock_edge *via;		/* search: how it was reached */
	uint32_t mark;			/* search: visited in search @mark */
	const char *name_ptr;		/* the name as last passed: most
					 * lookups compare this pointer only */
	char name[NAME_MAX_LEN];
};

struct corio__lock_edge {
	struct corio__lock_edge *next_out;	/* from the same lock */
	struct corio__locknode *from, *to;
	const char *held_file, *taken_file;	/* static strings (frame
						 * info) */
	uint32_t held_line, taken_line;
	uint32_t task_id;
	uint32_t schedule;
	char task[TASK_MAX_LEN];
};

struct cycle {
	size_t n;
	struct corio__lock_edge **edges;	/* the closing edge first */
};

struct corio__lockgraph {
	struct corio__lockgraph_hot hot; /* first: lockgraph.h reads it */
	struct corio__htab nodes;
	struct corio__locknode *all;
	struct cycle *cycles;
	size_t ncycles, cycles_cap;
	struct corio__locknode *last;	/* the node node_of() found last */
	struct corio__locknode **stack;	/* search: room for every node */
	size_t nnodes, stack_cap;
	uint32_t mark;
	uint32_t schedule;
	bool explored;			/* edges name their schedule */
	bool print;
	bool lost;			/* out of memory once: orders missing */
};

struct corio__lockgraph *corio__lockgraph_create(bool print)
{
	struct corio__lockgraph *g = corio__malloc(sizeof(*g));

	if (!g)
		return NULL;
	memset(g, 0, sizeof(*g));
	g->print = print;
	return g;
}

void corio__lockgraph_free(struct corio__lockgraph *g)
{
	struct corio__locknode *n, *next;
	struct corio__lock_edge *e, *enext;
	size_t i;

	if (!g)
		return;
	for (n = g->all; n; n = next) {
		next = n->next_all;
		for (e = n->out; e; e = enext) {
			enext = e->next_out;
			corio__free(e);
		}
		corio__free(n);
	}
	for (i = 0; i < g->ncycles; i++)
		corio__free(g->cycles[i].edges);
	corio__free(g->cycles);
	corio__free(g->hot.held);
	corio__free(g->stack);
	corio__htab_free(&g->nodes);
	corio__free(g);
}

void corio__lockgraph_attach(struct corio__lockgraph *g,
			     struct corio_loop *loop, uint32_t schedule)
{
	g->hot.nheld = 0;
	g->schedule = schedule;
	g->explored = true;
	loop->lockgraph = g;
	corio__loop_slow_sync(loop);
}

size_t corio__lockgraph_cycles(const struct corio__lockgraph *g)
{
	return g ? g->ncycles : 0;
}

/* ---------------------------------------------------------------------- */
/* Text.                                                                  */

static void put_cycle(const struct corio__lockgraph *g, const struct cycle *c,
		      char *buf, size_t len, size_t *off)
{
	size_t i;

	corio__put(buf, len, off, "corio: POTENTIAL DEADLOCK (lock order): %zu "
	    "mutexes taken in a cycle\n", c->n);
	for (i = 0; i < c->n; i++) {
		const struct corio__lock_edge *e = c->edges[i];

		corio__put(buf, len, off, "  \"%s\" -> \"%s\": task #%u \"%s\" "
		    "locked \"%s\" at %s:%u while holding \"%s\" (locked at "
		    "%s:%u)", e->from->name, e->to->name, e->task_id, e->task,
		    e->to->name, e->taken_file ? e->taken_file : "?",
		    e->taken_line, e->from->name,
		    e->held_file ? e->held_file : "?", e->held_line);
		if (g->explored)
			corio__put(buf, len, off, " in schedule %u",
			    e->schedule);
		corio__put(buf, len, off, "\n");
	}
}

size_t corio__lockgraph_format(const struct corio__lockgraph *g, size_t first,
			       char *buf, size_t len)
{
	size_t off = 0, i;

	if (len)
		buf[0] = '\0';
	for (i = first; g && i < g->ncycles; i++)
		put_cycle(g, &g->cycles[i], buf, len, &off);
	return off;
}

/* ---------------------------------------------------------------------- */
/* Cycles.                                                                */

/*
 * The new edge @e (from -> to) closes a cycle when @to reaches @from.
 * Depth first from @to, each node noting the edge it was reached by; the
 * cycle is then @e followed by the path to -> ... -> from.
 */
static void find_cycle(struct corio__lockgraph *g, struct corio__lock_edge *e)
{
	struct corio__locknode *n, *target = e->from;
	struct corio__lock_edge *x, **edges;
	size_t sp = 0, len = 1, i;
	struct cycle *c;

	if (g->stack_cap < g->nnodes) {
		struct corio__locknode **s;

		s = corio__malloc(sizeof(*s) * g->nnodes);

		if (!s) {
			g->lost = true;
			return;
		}
		corio__free(g->stack);
		g->stack = s;
		g->stack_cap = g->nnodes;
	}
	g->mark++;
	e->to->mark = g->mark;
	e->to->via = NULL;
	g->stack[sp++] = e->to;
	while (sp) {
		n = g->stack[--sp];
		if (n == target)
			goto found;
		for (x = n->out; x; x = x->next_out) {
			if (x->to->mark == g->mark)
				continue;
			x->to->mark = g->mark;
			x->to->via = x;
			g->stack[sp++] = x->to;	/* marked once: fits */
		}
	}
	return;
found:
	for (n = target; n->via; n = n->via->from)
		len++;
	if (g->ncycles == g->cycles_cap) {
		size_t cap = g->cycles_cap ? 2 * g->cycles_cap : 4;
		struct cycle *v = corio__malloc(sizeof(*v) * cap);

		if (!v)
			goto err_lost;
		if (g->ncycles)
			memcpy(v, g->cycles, sizeof(*v) * g->ncycles);
		corio__free(g->cycles);
		g->cycles = v;
		g->cycles_cap = cap;
	}
	edges = corio__malloc(sizeof(*edges) * len);
	if (!edges)
		goto err_lost;
	/* The path walks back from @from to @to: fill from the end. */
	edges[0] = e;
	i = len;
	for (n = target; n->via; n = n->via->from)
		edges[--i] = n->via;
	c = &g->cycles[g->ncycles++];
	c->n = len;
	c->edges = edges;
	if (g->print) {
		size_t need = 0;
		char text[2048];

		put_cycle(g, c, text, sizeof(text), &need);
		fputs(text, stderr);
	}
	return;
err_lost:
	g->lost = true;
}

/* ---------------------------------------------------------------------- */
/* Taking and releasing.                                                  */

/* The node of @lock under @name: the same address and the same name make
 * the same lock, in this run or a later one.  Nodes are never taken out of
 * @nodes, so a lock initialised again where it was finds its orders. */
static struct corio__locknode *node_of(struct corio__lockgraph *g,
				       const void *lock, const char *name)
{
	uint64_t key = (uint64_t)(uintptr_t)lock;
	struct corio__hnode *h;
	struct corio__locknode *n = g->last;

	/* The same lock again, under the same name string: no lookup. */
	if (n && n->h.key == key && n->name_ptr == name)
		return n;
	for (h = g->nodes.n ? g->nodes.b[corio__hash_slot(key, g->nodes.n)] :
	     NULL; h; h = h->next) {
		n = (struct corio__locknode *)h; /* h is its first member */
		if (h->key != key)
			continue;
		if (n->name_ptr == name ||
		    !strncmp(n->name, name, NAME_MAX_LEN - 1)) {
			n->name_ptr = name;
			return g->last = n;
		}
	}
	n = corio__malloc(sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->h.key = key;
	n->name_ptr = name;
	snprintf(n->name, sizeof(n->name), "%s", name);
	if (corio__htab_insert(&g->nodes, &n->h)) {
		corio__free(n);
		return NULL;
	}
	n->next_all = g->all;
	g->all = n;
	g->nnodes++;
	return g->last = n;
}

/* Add from -> to, unless known; a new edge may close a cycle.  @from is
 * held by @t: its mutex still says where @t locked it. */
static void add_edge(struct corio__lockgraph *g,
		     const struct corio__lockheld *from,
		     struct corio__locknode *to, const struct corio_task *t,
		     const struct corio_mutex *m)
{
	struct corio__lock_edge *e;

	for (e = from->node->out; e; e = e->next_out)
		if (e->to == to)
			return;
	e = corio__malloc(sizeof(*e));
	if (!e) {
		g->lost = true;
		return;
	}
	*e = (struct corio__lock_edge){
		.next_out = from->node->out,
		.from = from->node,
		.to = to,
		.held_file = from->m->file,
		.held_line = from->m->line,
		.taken_file = m->file,
		.taken_line = m->line,
		.task_id = t->id,
		.schedule = g->schedule,
	};
	snprintf(e->task, sizeof(e->task), "%s", t->name);
	from->node->out = e;
	find_cycle(g, e);
}

/* @t, holding @from, took @m: the order from -> m. */
static void add_order(struct corio__lockgraph *g, struct corio__lockheld *from,
		      const struct corio_mutex *m, const struct corio_task *t)
{
	struct corio__locknode *to;

	if (!from->node)
		from->node = node_of(g, from->m, from->m->sync.name);
	to = node_of(g, m, m->sync.name);
	if (!from->node || !to) {
		g->lost = true;
		return;
	}
	add_edge(g, from, to, t, m);
}

/* The cases lockgraph.h does not inline: other mutexes are held (by @t:
 * orders to add), or the array must grow. */
void corio__lock_taken_slow(struct corio_loop *loop,
			    const struct corio_mutex *m,
			    const struct corio_task *t, bool try)
{
	struct corio__lockgraph *g = loop->lockgraph;
	struct corio__lockgraph_hot *h = &g->hot;
	uint32_t i;

	for (i = 0; i < h->nheld && !try; i++) {
		struct corio__lockheld *from = &h->held[i];

		if (from->task != t || from->m == m ||
		    (from->after == m && from->after_name == m->sync.name))
			continue;
		add_order(g, from, m, t);
		from->after = m;
		from->after_name = m->sync.name;
	}
	if (h->nheld == h->held_cap &&
	    corio__grow((void **)&h->held, &h->held_cap, sizeof(*h->held),
			h->nheld, 16)) {
		g->lost = true;
		return;
	}
	h->held[h->nheld++] = (struct corio__lockheld){ .task = t, .m = m };
}

void corio__lock_released_slow(struct corio_loop *loop,
			       const struct corio_mutex *m,
			       const struct corio_task *t)
{
	struct corio__lockgraph_hot *h = &loop->lockgraph->hot;
	uint32_t i = h->nheld;

	/* From the newest: mutexes are mostly released in reverse order. */
	while (i-- > 0) {
		if (h->held[i].m == m && h->held[i].task == t) {
			h->held[i] = h->held[--h->nheld];
			return;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* The public reports.                                                    */

size_t corio_lock_order_cycles(const struct corio_loop *loop)
{
	return loop ? corio__lockgraph_cycles(loop->lockgraph) : 0;
}

int corio_lock_order_cycle(const struct corio_loop *loop, size_t i,
			   struct corio_lock_edge *out, size_t max)
{
	const struct corio__lockgraph *g = loop ? loop->lockgraph : NULL;
	const struct cycle *c;
	size_t k;

	if (!g || i >= g->ncycles)
		return -ENOENT;
	c = &g->cycles[i];
	for (k = 0; k < c->n && k < max; k++) {
		const struct corio__lock_edge *e = c->edges[k];

		out[k] = (struct corio_lock_edge){
			.held = e->from->name,
			.taken = e->to->name,
			.held_file = e->held_file,
			.held_line = e->held_line,
			.taken_file = e->taken_file,
			.taken_line = e->taken_line,
			.task_id = e->task_id,
			.task = e->task,
			.schedule = e->schedule,
		};
	}
	return (int)c->n;
}

size_t corio_lock_order_format(const struct corio_loop *loop, char *buf,
			       size_t len)
{
	return corio__lockgraph_format(loop ? loop->lockgraph : NULL, 0, buf,
				       len);
}
