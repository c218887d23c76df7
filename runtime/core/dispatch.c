/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/dispatch.c - the loop's side of the reactor contract: the tags
 * it gives operations, sources, and handing each completion the backend
 * reports to the task or source it belongs to.
 *
 * A tag is the address of the task awaiting the operation, or the address
 * of a struct corio__source with CORIO__TAG_SOURCE set.  A task is never
 * released while its operation is in flight (cancellation waits for the
 * original completion), and a source's owner keeps it until its final
 * completion, so a completion always finds its target.
 */
#include <errno.h>

#include "core/internal.h"
#include "core/explore.h"
#include "core/trace.h"
#include "reactor/reactor.h"

#define CORIO__TAG_SOURCE 2ull	/* or'ed into a source's address */

/* Completions taken from the backend per call. */
#define REAP_BATCH 64

static uint64_t source_tag(const struct corio__source *src)
{
	return (uint64_t)(uintptr_t)src | CORIO__TAG_SOURCE;
}

int corio__source_start(struct corio_loop *loop, struct corio__source *src,
			const struct corio__io *io)
{
	struct corio__io bg;
	int err;

	if (src->background && !io->background) {
		bg = *io;
		bg.background = true;
		io = &bg;
	}
	err = corio__reactor_start(loop->reactor, source_tag(src), io);
	if (err)
		return err;
	src->loop = loop;
	if (src->inflight++ == 0)
		corio__list_push_front(&loop->sources, &src->link);
	if (!src->background)
		loop->stats.ops_inflight++;
	corio__trace_source(loop, src, io);
	return 0;
}

void corio__source_cancel(struct corio_loop *loop, struct corio__source *src)
{
	loop->stats.cancels++;
	corio__reactor_cancel(loop->reactor, source_tag(src));
}

static void to_source(struct corio_loop *loop, struct corio__source *src,
		      const struct corio__cqe *c)
{
	corio__trace_source_cqe(loop, src, c->res, c->flags);
	if (!(c->flags & CORIO__CQE_MORE)) {
		if (!src->background)
			loop->stats.ops_inflight--;
		if (--src->inflight == 0)
			corio__list_remove(&loop->sources, &src->link);
	}
	/* Last: the callback may release the source. */
	src->on_cqe(src, c->res, c->flags, c->bid);
}

static void to_task(struct corio_loop *loop, struct corio_task *t,
		    const struct corio__cqe *c)
{
	if (c->flags & CORIO__CQE_MORE) {
		/* SEND_ZC's result; its notification follows and is the
		 * one that ends the operation. */
		corio__io_more(loop, t, c->res);
		return;
	}
	loop->stats.ops_inflight--;
	corio__trace_io_done(loop, t, c->res);
	if (c->flags & CORIO__CQE_NOTIF)
		corio__io_notified(loop, t);
	else
		corio__io_complete(loop, t, c->res);
}

unsigned corio__loop_reap(struct corio_loop *loop)
{
	struct corio__cqe c[REAP_BATCH];
	unsigned n, i, total = 0;

	do {
		n = corio__reactor_reap(loop->reactor, c, REAP_BATCH);
		/* An explored loop's schedule orders the batch. */
		if (corio__unlikely(loop->explore))
			corio__explore_cqes(loop, c, n);
		for (i = 0; i < n; i++) {
			if (c[i].tag & CORIO__TAG_SOURCE)
				to_source(loop, (struct corio__source *)
					  (uintptr_t)(c[i].tag &
						      ~CORIO__TAG_SOURCE),
					  &c[i]);
			else
				to_task(loop, (struct corio_task *)
					(uintptr_t)c[i].tag, &c[i]);
		}
		total += n;
	} while (n == REAP_BATCH);
	return total;
}

void corio__sources_drain(struct corio_loop *loop)
{
	struct corio__source *src;
	int tries;

	if (corio__list_empty(&loop->sources))
		return;
	loop->closing = true;
	corio__list_for_each(src, &loop->sources, struct corio__source, link)
		corio__source_cancel(loop, src);
	/* Bounded: a source whose cancel never completes is given up
	 * after about a second (its memory is then the owner's leak). */
	for (tries = 0; !corio__list_empty(&loop->sources) && tries < 100;
	     tries++) {
		if (corio__reactor_poll(loop->reactor, 10000000) < 0)
			break;
		corio__loop_reap(loop);
	}
}
