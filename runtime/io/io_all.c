/* SPDX-License-Identifier: MIT */
/*
 * runtime/io/io_all.c - write_all and send_all: loops over short transfers
 * and transient failures (corio_retry_delay), written with the macro DSL
 * like any user coroutine.  The retry is inline rather than a call of
 * corio_send_retry: the common path awaits the operation, no extra frame.
 */
#include <errno.h>

#include "corio.h"
#include "corio/async.h"
#include "io/retry.h"

corio_async(ssize_t, corio_write_all, ((int, fd), (const void *, buf),
					(size_t, len), (int64_t, off)), (
	size_t done;
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	while (self->done < self->len) {
		corio_await(self->n, corio_write, self->fd,
			    (const char *)self->buf + self->done,
			    self->len - self->done,
			    self->off < 0 ? -1 : self->off + (int64_t)self->done);
		if (self->n < 0) {
			CORIO__RETRY_STEP(0);
			continue;
		}
		self->attempt = 0;
		if (self->n == 0)	/* no progress: would loop forever */
			corio_return(-EIO);
		self->done += (size_t)self->n;
	}
	corio_return((ssize_t)self->len);
corio_finally:
	corio_end();
}

corio_async(ssize_t, corio_send_all, ((int, fd), (const void *, buf),
				       (size_t, len), (int, flags)), (
	size_t done;
	ssize_t n;
	CORIO__RETRY_FIELDS
))
{
	corio_begin();
	while (self->done < self->len) {
		corio_await(self->n, corio_send, self->fd,
			    (const char *)self->buf + self->done,
			    self->len - self->done, self->flags);
		if (self->n < 0) {
			CORIO__RETRY_STEP(self->flags);
			continue;
		}
		self->attempt = 0;
		if (self->n == 0)
			corio_return(-EIO);
		self->done += (size_t)self->n;
	}
	corio_return((ssize_t)self->len);
corio_finally:
	corio_end();
}
