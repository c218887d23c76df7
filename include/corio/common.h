/* SPDX-License-Identifier: MIT */
/*
 * corio/common.h - things every corio header needs: export markers, the
 * monotonic clock, error strings and the allocator hook.
 *
 * Errors are negative errno values everywhere, as in liburing and the kernel
 * (a CQE's res flows to the caller unchanged).  Fixed meanings:
 *   -ECANCELED  the task was cancelled      -ETIME    a deadline passed
 *   -EDEADLK    an await cycle / deadlock   -EINVAL   misuse of the API
 *   -EBUSY      object still in use         -ENOMEM   allocation failed
 *   -EPERM      called outside a task, or from the wrong thread
 */
#ifndef CORIO_COMMON_H
#define CORIO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols of libcorio are hidden unless marked with CORIO_EXTERN. */
#if defined(__GNUC__)
#define CORIO_EXTERN __attribute__((visibility("default")))
#else
#define CORIO_EXTERN
#endif

/* Absolute times are int64_t nanoseconds on CLOCK_MONOTONIC. */
#define CORIO_NO_DEADLINE INT64_MAX
#define CORIO_MS(n) ((int64_t)(n) * 1000000)
#define CORIO_US(n) ((int64_t)(n) * 1000)
#define CORIO_SEC(n) ((int64_t)(n) * 1000000000)

/*
 * Current time of the calling thread's loop clock in nanoseconds: the real
 * CLOCK_MONOTONIC, or the loop's virtual clock when it runs on one.
 */
CORIO_EXTERN int64_t corio_now(void);

/* A static description of @err (a negative errno or 0); never NULL. */
CORIO_EXTERN const char *corio_strerror(int err);

/* "MAJOR.MINOR.PATCH" of the library linked in. */
CORIO_EXTERN const char *corio_version_string(void);

/*
 * Replace the allocator under every allocation corio makes (frames, tasks,
 * loop tables).  @alloc returns NULL on failure; corio turns that into
 * -ENOMEM.  Passing NULL for both restores malloc/free.  Call it before any
 * loop exists; not thread-safe.
 */
CORIO_EXTERN void corio_set_allocator(void *(*alloc)(size_t size),
				      void (*release)(void *ptr));

#ifdef __cplusplus
}
#endif

#endif /* CORIO_COMMON_H */
