/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/retry.h - the retry step shared by corio's own loops over single
 * operations (retry.c, io_all.c, net_async.c, the reader and acceptor
 * fallbacks).
 */
#ifndef CORIO_RETRY_H
#define CORIO_RETRY_H

/*
 * Inside an async function whose frame has `n` (the result that failed),
 * `int64_t wait`, `unsigned attempt` and `int slept`: return self->n unless
 * corio_retry_delay() calls it transient; else wait out the back-off
 * (returning -ETIME when the task's deadline passes there) and go on, to
 * retry.  self->attempt counts failures in a row: reset it on success.
 */
#define CORIO__RETRY_STEP(flags)					\
	do {								\
		self->wait = corio_retry_delay(self->n,			\
					       self->attempt++, (flags)); \
		if (self->wait < 0)					\
			corio_return(self->n);				\
		if (self->wait) {					\
			corio_await(self->slept, corio_sleep, self->wait); \
			if (self->slept < 0)				\
				corio_return(self->slept);		\
		}							\
	} while (0)

/* The frame fields CORIO__RETRY_STEP uses, besides the result `n`. */
#define CORIO__RETRY_FIELDS						\
	int64_t wait;							\
	unsigned attempt;						\
	int slept;

#endif /* CORIO_RETRY_H */
