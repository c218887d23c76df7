/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/opdef.h - the operations corio hands to its backend: one table,
 * CORIO__OPS, from which every per-opcode fact is generated.
 *
 * Each row is
 *	X(OP, name, target, faults, fill,
 *	  uring_prep, ep_kind, ep_wait, ep_prep, ep_run)
 * and each consumer expands the columns it needs, pasting the tokens
 * onto names of its own:
 *
 *   OP		the opcode, CORIO__OP_<OP>
 *   name	its name in reports ("read"), corio__op_name()
 *   target	FD: the operation works on io->fd as an open file, so a
 *		corio_close() of that fd must cancel it first (io.c); PATH:
 *		on the path io->addr, relative to the directory fd io->fd
 *		(a NULL path is -EFAULT, as the kernel says: epoll.c);
 *		OTHER: neither (nop, close)
 *   faults	what CORIO_FAULTS may do to it besides delaying it (every
 *		operation can be delayed): SHORT, fail it with a transient
 *		error or shorten its length; ERR, fail it only; DELAY, nothing
 *		else (fault.c)
 *   fill	what the kernel writes into the caller's memory, for valgrind:
 *		NONE, BUF (addr, len bytes), IOV (addr, len iovecs), SOCKADDR
 *		(addr, *addr2 bytes), STATX (addr2) (io.c)
 *   uring_prep	uring.c's function that fills the SQE
 *   ep_kind	how epoll.c runs it: NOW (the call at start), TRY
 *		(the call at start; on EAGAIN wait and run again), WAIT (wait
 *		first), NONE (not on epoll: -EOPNOTSUPP)
 *   ep_wait	the readiness it waits for on epoll: EPOLLIN, EPOLLOUT or 0
 *   ep_prep, ep_run  epoll.c's functions: adjust the operation
 *		before it starts (or NULL), and the system call
 *
 * Adding an opcode is one row here plus its functions in the two
 * backends (only uring.c may include <liburing.h>).  The order of
 * the rows is the enum's; the operations are internal, so it is free.
 */
#ifndef CORIO_OPDEF_H
#define CORIO_OPDEF_H

#define CORIO__OPS(X)							\
	X(NOP, nop, OTHER, DELAY, NONE,					\
	  uring_prep_nop, NOW, 0, NULL, run_nop)			\
	X(READ, read, FD, SHORT, BUF,					\
	  uring_prep_read, TRY, EPOLLIN, prep_rw, run_rw)		\
	X(WRITE, write, FD, SHORT, NONE,				\
	  uring_prep_write, TRY, EPOLLOUT, prep_rw, run_rw)		\
	X(READV, readv, FD, ERR, IOV,					\
	  uring_prep_readv, TRY, EPOLLIN, prep_rw, run_rw)		\
	X(WRITEV, writev, FD, ERR, NONE,				\
	  uring_prep_writev, TRY, EPOLLOUT, prep_rw, run_rw)		\
	X(RECV, recv, FD, SHORT, BUF,					\
	  uring_prep_recv, TRY, EPOLLIN, prep_recv, run_recv)		\
	X(SEND, send, FD, SHORT, NONE,					\
	  uring_prep_send, TRY, EPOLLOUT, prep_send, run_send)		\
	X(ACCEPT, accept, FD, ERR, SOCKADDR,				\
	  uring_prep_accept, TRY, EPOLLIN, prep_accept, run_accept)	\
	X(CONNECT, connect, FD, DELAY, NONE,				\
	  uring_prep_connect, TRY, EPOLLOUT, NULL, run_connect)		\
	X(CLOSE, close, OTHER, DELAY, NONE,				\
	  uring_prep_close, NOW, 0, NULL, run_close)			\
	X(OPENAT, openat, PATH, DELAY, NONE,				\
	  uring_prep_openat, NOW, 0, NULL, run_openat)			\
	X(FSYNC, fsync, FD, DELAY, NONE,				\
	  uring_prep_fsync, NOW, 0, NULL, run_fsync)			\
	X(STATX, statx, PATH, DELAY, STATX,				\
	  uring_prep_statx, NOW, 0, NULL, run_statx)			\
	X(POLL, poll, FD, DELAY, NONE,					\
	  uring_prep_poll, WAIT, 0, prep_poll, run_poll)		\
	X(RECVMSG, recvmsg, FD, ERR, NONE,				\
	  uring_prep_recvmsg, TRY, EPOLLIN, prep_msg, run_recvmsg)	\
	X(SENDMSG, sendmsg, FD, ERR, NONE,				\
	  uring_prep_sendmsg, TRY, EPOLLOUT, prep_msg, run_sendmsg)	\
	X(SHUTDOWN, shutdown, FD, DELAY, NONE,				\
	  uring_prep_shutdown, NOW, 0, NULL, run_shutdown)		\
	/* Without the capability io.c sends plainly: never on epoll. */ \
	X(SEND_ZC, send_zc, FD, SHORT, NONE,				\
	  uring_prep_send_zc, NONE, 0, NULL, NULL)			\
	/* Multishot: completions go to a source (core/source.c). */	\
	X(ACCEPT_MULTI, accept_multishot, FD, DELAY, NONE,		\
	  uring_prep_accept_multi, NONE, 0, NULL, NULL)			\
	X(RECV_MULTI, recv_multishot, FD, DELAY, NONE,			\
	  uring_prep_recv_multi, NONE, 0, NULL, NULL)			\
	X(FALLOCATE, fallocate, FD, DELAY, NONE,			\
	  uring_prep_fallocate, NOW, 0, NULL, run_fallocate)		\
	X(UNLINKAT, unlinkat, PATH, DELAY, NONE,			\
	  uring_prep_unlinkat, NOW, 0, NULL, run_unlinkat)		\
	X(RENAMEAT, renameat, PATH, DELAY, NONE,			\
	  uring_prep_renameat, NOW, 0, NULL, run_renameat)		\
	X(MKDIRAT, mkdirat, PATH, DELAY, NONE,				\
	  uring_prep_mkdirat, NOW, 0, NULL, run_mkdirat)		\
	X(SPLICE, splice, FD, SHORT, NONE,				\
	  uring_prep_splice, TRY, EPOLLIN, prep_splice, run_splice)

enum corio__opcode {
#define CORIO__OP_ENUM(op, ...) CORIO__OP_##op,
	CORIO__OPS(CORIO__OP_ENUM)
#undef CORIO__OP_ENUM
	CORIO__OP_COUNT
};

/* "read", "recv", ... for reports; "?" for an unknown code. */
const char *corio__op_name(unsigned opcode);

#endif /* CORIO_OPDEF_H */
