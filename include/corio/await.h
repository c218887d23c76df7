/* SPDX-License-Identifier: MIT */
/*
 * corio/await.h - the keywords of coriogen's input language.
 *
 * A source file written with async/await is not C until the code generator
 * (codegen/coriogen, docs/codegen.md) has turned every async function into
 * a frame struct, a start function and a resume function:
 *
 *	#include <corio/await.h>
 *
 *	async int add_later(int a, int b)
 *	{
 *		int slept = await corio_sleep(CORIO_MS(1));
 *		return slept < 0 ? slept : a + b;
 *	corio_finally:		// optional cleanup section
 *		;
 *	}
 *
 * This header has four modes, chosen by macros:
 *   __CORIO_CODEGEN__  defined by coriogen while it parses the input:
 *                      `async` marks functions with an annotate attribute,
 *                      `await` expands to nothing, so every expression keeps
 *                      its exact source range.  The runtime's awaitable
 *                      operations are declared as async functions here so
 *                      the input type-checks.
 *   CORIO_GENERATED    defined at the top of coriogen's output: includes
 *                      corio.h and the helpers generated code uses.
 *   CORIO_SYNC_MODE    the differential oracle: async and await vanish and
 *                      the file compiles as plain synchronous C; the test
 *                      supplies synchronous stand-ins for the operations.
 *   none of these      compiling the untransformed input is a mistake:
 *                      stop with an #error that says what to do.
 *
 * CORIO_ASYNC and CORIO_AWAIT are aliases for code where the short words
 * clash with existing identifiers.  Identifiers starting with corio_ are
 * reserved inside async functions.
 */
#ifndef CORIO_AWAIT_H
#define CORIO_AWAIT_H

#if defined(__CORIO_CODEGEN__)

#include <corio.h>

/*
 * An attribute rather than a marker macro so that libclang reports it on
 * both prototypes and definitions.  `await` must stay object-like and
 * empty: a function-like macro would give every cursor in its argument the
 * range of the macro call.
 */
#define async __attribute__((annotate("corio_async")))
#define await
#define CORIO_ASYNC async
#define CORIO_AWAIT await

#elif defined(CORIO_GENERATED)

#include <corio.h>

/*
 * Prototypes of async functions in the user's own headers stay harmless:
 * coriogen only transforms the file it was given.  `await` is deliberately
 * left undefined: one that escaped the generator is a compile error.
 */
#define async
#define CORIO_ASYNC

/*
 * Internal, do not use: one await in generated code.  Starts the callee
 * with the call @start; unless it completed at once, records resume point
 * @n and hands the child (or the suspension) to the trampoline, which
 * resumes the frame at corio_resume_@n.  hdr.line feeds task reports; under
 * the generator's #line directives __LINE__ is the user's line.
 */
#define CORIO__GEN_AWAIT(n, start)					\
	do {								\
		corio_self->hdr.line = __LINE__;			\
		corio_child = (start);					\
		if (corio_child != CORIO_READY) {			\
			corio_self->hdr.state = (n);			\
			return corio__await_step(&corio_self->hdr,	\
						 corio_child);		\
		}							\
	corio_resume_##n:;						\
	} while (0)

#elif defined(CORIO_SYNC_MODE)

#include <corio.h>

#define async
#define await
#define CORIO_ASYNC
#define CORIO_AWAIT

#else

#error "this file must be transformed by coriogen (async/await input): \
build it with corio_add_async_sources() or run \
`coriogen IN.c -o OUT.c`, see docs/codegen.md"

#endif

#if defined(__CORIO_CODEGEN__) || defined(CORIO_SYNC_MODE)

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iovec;
struct sockaddr;
struct statx;
struct corio_task;
struct corio_chan;
struct corio_mutex;
struct corio_sem;
struct corio_event;
struct corio_waitgroup;
struct corio_group;
struct corio_completion;
struct msghdr;
struct corio_acceptor;
struct corio_reader;
struct corio_buf;

/*
 * The runtime's common awaitable operations as async functions: each NAME
 * here is awaited through NAME__start from corio.h, and clang checks the
 * call against the prototype.  An operation missing here still works
 * through its NAME__start: the parse takes NAME as implicitly declared
 * (returning int), which every operation not listed suits
 * (docs/codegen.md, section 1).  In CORIO_SYNC_MODE the test program
 * defines the ones it uses synchronously.
 */
async ssize_t corio_read(int fd, void *buf, size_t len, int64_t off);
async ssize_t corio_write(int fd, const void *buf, size_t len, int64_t off);
async ssize_t corio_readv(int fd, const struct iovec *iov, int iovcnt,
			  int64_t off);
async ssize_t corio_writev(int fd, const struct iovec *iov, int iovcnt,
			   int64_t off);
async ssize_t corio_recv(int fd, void *buf, size_t len, int flags);
async ssize_t corio_send(int fd, const void *buf, size_t len, int flags);
async int corio_accept(int fd, struct sockaddr *addr, socklen_t *addrlen,
		       int flags);
async int corio_connect(int fd, const struct sockaddr *addr,
			socklen_t addrlen);
async int corio_close(int fd);
async int corio_openat(int dfd, const char *path, int flags, mode_t mode);
async int corio_fsync(int fd, int datasync);
async int corio_statx(int dfd, const char *path, int flags, unsigned mask,
		      struct statx *buf);
async int corio_poll(int fd, unsigned events);
async ssize_t corio_write_all(int fd, const void *buf, size_t len,
			      int64_t off);
async ssize_t corio_send_all(int fd, const void *buf, size_t len, int flags);
async ssize_t corio_recv_retry(int fd, void *buf, size_t len, int flags);
async ssize_t corio_send_retry(int fd, const void *buf, size_t len, int flags);
async ssize_t corio_read_retry(int fd, void *buf, size_t len, int64_t off);
async ssize_t corio_write_retry(int fd, const void *buf, size_t len,
				int64_t off);
async int corio_accept_retry(int fd, struct sockaddr *addr, socklen_t *addrlen,
			     int flags);
async int corio_sleep(int64_t ns);
async int corio_sleep_until(int64_t when);
async int corio_join(struct corio_task *task);
async int corio_with_deadline(int64_t deadline, struct corio_frame *child);
async int corio_with_timeout(int64_t ns, struct corio_frame *child);
async void corio_yield(void);
async int corio_chan_send(struct corio_chan *ch, const void *elem);
async int corio_chan_recv(struct corio_chan *ch, void *elem);
async int corio_mutex_lock(struct corio_mutex *m);
async int corio_sem_acquire(struct corio_sem *s);
async int corio_event_wait(struct corio_event *e);
async int corio_waitgroup_wait(struct corio_waitgroup *wg);
async int corio_group_wait_all(struct corio_group *g);
async int corio_group_wait_n(struct corio_group *g, size_t n);
async int corio_group_wait_any(struct corio_group *g);
struct corio_select_case;
async int corio_select(struct corio_select_case *cases, size_t n);
async int64_t corio_completion_wait(struct corio_completion *c);
struct corio_remote;
async int64_t corio_remote_call(int (*start)(struct corio_remote *r,
					     void *arg), void *arg);
struct corio_bus;
async int corio_bus_publish(struct corio_bus *bus, uint64_t topic,
			    const void *msg);
async int corio_bus_next(struct corio_bus *bus, int64_t id, void *msg);
struct corio_periodic;
async int corio_periodic_next(struct corio_periodic *p);
async ssize_t corio_recvmsg(int fd, struct msghdr *msg, int flags);
async ssize_t corio_sendmsg(int fd, const struct msghdr *msg, int flags);
async int corio_shutdown(int fd, int how);
async ssize_t corio_recvfrom(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *addr, socklen_t *addrlen);
async ssize_t corio_sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t addrlen);
async ssize_t corio_send_zc(int fd, const void *buf, size_t len, int flags);
async int corio_tcp_connect(const char *host, int port, int64_t timeout_ns);
async int corio_unix_connect(const char *path);
async ssize_t corio_recv_exact(int fd, void *buf, size_t len);
async int corio_accept_next(struct corio_acceptor *acc);
async ssize_t corio_reader_read(struct corio_reader *rd, void *buf,
				size_t len);
async ssize_t corio_reader_borrow(struct corio_reader *rd,
				  struct corio_buf *buf);

/*
 * Fail the calling async function with @err (a negative errno): its
 * cleanup section runs, then its caller unwinds with the same error, up to
 * the task's status.  Statement only.  In CORIO_SYNC_MODE the test supplies
 * a stand-in.
 */
void corio_throw(int err);

/*
 * The error the calling async function is failing with: 0 normally, the
 * negative errno in a cleanup section reached through corio_throw, a
 * failed child or cancellation.  Async functions only.
 */
int corio_frame_error(void);

#ifdef __cplusplus
}
#endif

#endif /* __CORIO_CODEGEN__ || CORIO_SYNC_MODE */

#endif /* CORIO_AWAIT_H */
