/* SPDX-License-Identifier: MIT */
/*
 * tests/testutil.c - async helpers shared by the Criterion tests.
 */
#include "testutil.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#include <corio/async.h>

void t_refuse_syscall(long nr, int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

/* Yield once (so @victim reaches its await), cancel it, join it. */
corio_async(int, t_cancel_and_join, ((struct corio_task *, victim)), (
	int status;
))
{
	corio_begin();
	corio_yield();
	corio_task_cancel(self->victim);
	corio_await(self->status, corio_join, self->victim);
	corio_return(self->status);
corio_finally:
	corio_end();
}
