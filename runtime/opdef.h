/* SPDX-License-Identifier: MIT */
/*
 * runtime/opdef.h - the operations corio hands to its backend, with names
 * for reports.
 */
#ifndef CORIO_OPDEF_H
#define CORIO_OPDEF_H

enum corio__opcode {
	CORIO__OP_NOP,
	CORIO__OP_READ,
	CORIO__OP_WRITE,
	CORIO__OP_READV,
	CORIO__OP_WRITEV,
	CORIO__OP_RECV,
	CORIO__OP_SEND,
	CORIO__OP_ACCEPT,
	CORIO__OP_CONNECT,
	CORIO__OP_CLOSE,
	CORIO__OP_OPENAT,
	CORIO__OP_FSYNC,
	CORIO__OP_STATX,
	CORIO__OP_POLL,
	CORIO__OP_RECVMSG,
	CORIO__OP_SENDMSG,
	CORIO__OP_SHUTDOWN,
	CORIO__OP_SEND_ZC,
	CORIO__OP_ACCEPT_MULTI,	/* sources only (reactor.h) */
	CORIO__OP_RECV_MULTI,	/* sources only: buffer ring @len */
	CORIO__OP_FALLOCATE,
	CORIO__OP_UNLINKAT,
	CORIO__OP_RENAMEAT,
	CORIO__OP_MKDIRAT,
	CORIO__OP_COUNT
};

/* "read", "recv", ... for reports; "?" for an unknown code. */
const char *corio__op_name(unsigned opcode);

#endif /* CORIO_OPDEF_H */
