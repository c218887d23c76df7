/* SPDX-License-Identifier: MIT */
/*
 * corio/select.h - one await over several alternatives.
 *
 * corio_select() waits until one of its cases can go ahead, lets exactly
 * that one go ahead, and says which: a channel receive or send, an event
 * set, a semaphore permit, a completion's value, readiness of an fd, or a
 * deadline.  The other cases are withdrawn with nothing taken: no element
 * left a channel for a case that lost, no permit was consumed, and the
 * loop needs no helper task per case.
 *
 * Example: a connection that reads or writes, whichever is ready, takes
 * its output from a channel, and closes after 30 s of silence.
 *
 *	for (;;) {
 *		unsigned want = self->out_len ? POLLIN | POLLOUT : POLLIN;
 *
 *		self->cases[0] = corio_case_poll(self->fd, want);
 *		self->cases[1] = corio_case_timeout(CORIO_SEC(30));
 *		self->n = 2;
 *		if (!self->out_len)	// room for the next message
 *			self->cases[self->n++] =
 *				corio_case_recv(self->outbox, &self->msg);
 *		corio_await(self->which, corio_select, self->cases, self->n);
 *		if (self->which == 1 || self->which < 0)
 *			break;		// idle, or -ECANCELED, -ETIME...
 *		if (self->which == 2) {	// a message to send: queue it
 *			... copy self->msg into self->out, set self->out_len
 *			continue;
 *		}
 *		// which == 0: cases[0].res is the poll result (revents)
 *		if (self->cases[0].res & POLLIN)
 *			... corio_recv: it will not wait
 *		if (self->cases[0].res & POLLOUT)
 *			... corio_send the pending output
 *	}
 *
 * With async/await: `which = await corio_select(cases, n);`.
 *
 * Rules:
 *  - Cases are tried in the order given: when several are ready, the
 *    first wins (put the one that must not starve first, or rotate).
 *  - The result is the index of the case that went ahead; its outcome is
 *    in its @res: what the operation alone would have returned (0 or
 *    -EPIPE for a channel, the value of a completion, the poll mask or
 *    -errno for an fd, 0 for a deadline).  A case of a channel that was
 *    closed goes ahead with -EPIPE, like the receive or send would.
 *  - Cancel-safe: when a case went ahead before a cancellation reached
 *    the task, the select returns it (its element is the task's), and the
 *    cancellation takes effect at the next await.
 *  - The task's deadline applies: -ETIME when it passes first.
 *  - At most one CORIO_SELECT_POLL case (the task waits on one operation
 *    of its own; list both events of one fd in one case, as above), and
 *    at most CORIO_SELECT_MAX cases.
 *  - The cases array and the elements must stay valid until the await
 *    completes (frame fields).
 */
#ifndef CORIO_SELECT_H
#define CORIO_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "frame.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corio_completion;

enum corio_select_kind {
	CORIO_SELECT_RECV = 1,	/* receive from @on.chan into @elem */
	CORIO_SELECT_SEND,	/* send *@elem on @on.chan */
	CORIO_SELECT_EVENT,	/* @on.event is set (or notified) */
	CORIO_SELECT_SEM,	/* take a permit of @on.sem */
	CORIO_SELECT_COMPLETION, /* @on.completion's value */
	CORIO_SELECT_POLL,	/* @on.fd is ready for @events (POLLIN...) */
	CORIO_SELECT_DEADLINE,	/* CLOCK_MONOTONIC reaches @on.deadline */
};

/* Most cases in one select. */
#define CORIO_SELECT_MAX 64

struct corio_select_case {
	unsigned kind;			/* enum corio_select_kind */
	unsigned events;		/* POLL: the events to wait for */
	union {
		struct corio_chan *chan;
		struct corio_event *event;
		struct corio_sem *sem;
		struct corio_completion *completion;
		int fd;
		int64_t deadline;	/* absolute, as corio_now() */
	} on;
	void *elem;			/* RECV: where the element goes; SEND:
					 * the element (NULL for zero-size
					 * elements) */
	int64_t res;			/* out: the outcome, when this case
					 * went ahead */
};

/*
 * Awaitable: wait until one of @cases (@n of them) can go ahead; *@result
 * is its index, its outcome in cases[index].res.  Errors in *@result:
 * -ETIME (the task's deadline passed), -EDEADLK (a deadlock policy ended
 * the wait), -EINVAL (@n is 0 or above CORIO_SELECT_MAX, an unknown kind,
 * a NULL object, a NULL element for a channel whose elements have a size,
 * more than one POLL case), -EXDEV (a primitive of a scope the caller is
 * not in: corio/scope.h), -ENOMEM; cancellation unwinds.  A task waiting
 * in a select is never durably blocked for its scope's check.
 */
CORIO_EXTERN struct corio_frame *corio_select__start(
	struct corio_frame *parent, struct corio_select_case *cases, size_t n,
	int *result);

/*
 * Cases: fill an array of struct corio_select_case with these.  They are
 * aggregate initialisations (no memset, nothing to copy through memory),
 * so that building the cases costs less than the select itself.
 */

/* Receive from @ch into @elem. */
static inline struct corio_select_case corio_case_recv(struct corio_chan *ch,
							void *elem)
{
	struct corio_select_case c = { CORIO_SELECT_RECV, 0, { ch }, elem, 0 };

	return c;
}

/* Send *@elem on @ch. */
static inline struct corio_select_case corio_case_send(struct corio_chan *ch,
							const void *elem)
{
	struct corio_select_case c = { CORIO_SELECT_SEND, 0, { ch },
				       (void *)(uintptr_t)elem, 0 };

	return c;
}

/* @e is set, or notified while the select waits. */
static inline struct corio_select_case corio_case_event(struct corio_event *e)
{
	struct corio_select_case c = { CORIO_SELECT_EVENT, 0, { 0 }, 0, 0 };

	c.on.event = e;
	return c;
}

/* Take a permit of @s. */
static inline struct corio_select_case corio_case_sem(struct corio_sem *s)
{
	struct corio_select_case c = { CORIO_SELECT_SEM, 0, { 0 }, 0, 0 };

	c.on.sem = s;
	return c;
}

/* @comp is resolved: res is its value. */
static inline struct corio_select_case corio_case_completion(
	struct corio_completion *comp)
{
	struct corio_select_case c = { CORIO_SELECT_COMPLETION, 0, { 0 }, 0,
				       0 };

	c.on.completion = comp;
	return c;
}

/* @fd is ready for @events (POLLIN, POLLOUT...): res is the poll mask. */
static inline struct corio_select_case corio_case_poll(int fd,
							unsigned events)
{
	struct corio_select_case c = { CORIO_SELECT_POLL, events, { 0 }, 0, 0 };

	c.on.fd = fd;
	return c;
}

/* The clock reaches @deadline (absolute, as corio_now()). */
static inline struct corio_select_case corio_case_deadline(int64_t deadline)
{
	struct corio_select_case c = { CORIO_SELECT_DEADLINE, 0, { 0 }, 0, 0 };

	c.on.deadline = deadline;
	return c;
}

/* @ns from now (when the case is made). */
static inline struct corio_select_case corio_case_timeout(int64_t ns)
{
	return corio_case_deadline(corio_now() + ns);
}

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SELECT_H */
