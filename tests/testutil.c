/* SPDX-License-Identifier: MIT */
/*
 * tests/testutil.c - async helpers shared by the Criterion tests.
 */
#include "testutil.h"

#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

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

corio_async(int64_t, t_await_completion, ((struct corio_completion *, c)), (
	int64_t v;
))
{
	corio_begin();
	corio_await(self->v, corio_completion_wait, self->c);
	corio_return(self->v);
corio_finally:
	corio_end();
}

corio_async(int, t_ping, ((struct corio_chan *, in),
			   (struct corio_chan *, out)), (
	int v, r;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, self->in, &self->v);
	if (self->r)
		corio_return(self->r);
	corio_await(self->r, corio_chan_send, self->out, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

_Atomic long t_alloc_fail_at, t_alloc_count, t_alloc_live;

static void *counting_alloc(size_t size)
{
	void *p;

	if (atomic_fetch_add(&t_alloc_count, 1) + 1 ==
	    atomic_load(&t_alloc_fail_at))
		return NULL;
	p = malloc(size);
	if (p)
		atomic_fetch_add(&t_alloc_live, 1);
	return p;
}

static void counting_free(void *p)
{
	if (p)
		atomic_fetch_sub(&t_alloc_live, 1);
	free(p);
}

void t_alloc_counting(long fail_at)
{
	atomic_store(&t_alloc_fail_at, fail_at);
	atomic_store(&t_alloc_count, 0);
	atomic_store(&t_alloc_live, 0);
	corio_set_allocator(counting_alloc, counting_free);
}

void t_gate_init(struct t_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->entered = g->open = false;
}

void t_gate_hold(void *gate)
{
	struct t_gate *g = gate;

	pthread_mutex_lock(&g->lock);
	g->entered = true;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

void t_gate_wait_entered(struct t_gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->entered)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

void t_gate_open(struct t_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void t_gate_destroy(struct t_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

/* Sleep 1 ms at a time until cancelled. */
corio_async(int, t_ticker, ((struct t_bg *, bg)), (
	int r;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_sleep, CORIO_MS(1));
		self->bg->ticks++;
	}
corio_finally:
	corio_end();
}

/* Accept connections that never come, until cancelled. */
corio_async(int, t_listener, ((int, fd)), (
	int r;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_accept, self->fd, NULL, NULL, 0);
		if (self->r >= 0)
			close(self->r);
	}
corio_finally:
	corio_end();
}

void t_bg_start(struct corio_loop *loop, struct t_bg *bg, enum t_bg_kind kind)
{
	*bg = (struct t_bg){ .kind = kind, .fd = -1 };
	if (kind == T_BG_TICKER) {
		cr_assert_eq(corio_spawn(loop, t_ticker__start(NULL, bg, NULL),
					 &bg->task), 0);
		corio_task_set_name(bg->task, "ticker");
	} else if (kind == T_BG_LISTENER) {
		bg->fd = corio_tcp_listen("127.0.0.1", 0, NULL);
		cr_assert_geq(bg->fd, 0, "listen: %s", corio_strerror(bg->fd));
		cr_assert_eq(corio_spawn(loop, t_listener__start(NULL, bg->fd,
								 NULL),
					 &bg->task), 0);
		corio_task_set_name(bg->task, "listener");
	}
}

void t_bg_stop(struct t_bg *bg)
{
	if (bg->task)
		corio_task_cancel(bg->task);
}

void t_bg_done(struct t_bg *bg)
{
	int st;

	if (bg->task) {
		cr_assert(corio_task_is_done(bg->task), "%s still runs",
			  corio_task_name(bg->task));
		corio_task_reap(bg->task, &st);
	}
	bg->task = NULL;
	if (bg->fd >= 0)
		close(bg->fd);
	bg->fd = -1;
}
