/* SPDX-License-Identifier: MIT */
/*
 * tests/test_corpus.c - blocking bugs of real programs, as corio programs.
 *
 * Each bug comes from GoBench's GoKer suite of blocking bugs (T. Yuan, G.
 * Li, J. Lu, C. Liu, L. Li, J. Xue, "GoBench: A Benchmark Suite of
 * Real-World Go Concurrency Bugs", CGO 2021), itself drawn from the bugs
 * studied by T. Tu, X. Liu, L. Song, Y. Zhang, "Understanding Real-World
 * Concurrency Bugs in Go", ASPLOS 2019: Docker (moby), Kubernetes, etcd,
 * gRPC, CockroachDB, Hugo, Knative serving and Syncthing.  The project
 * and pull request are named at each bug; the program keeps its root cause
 * with corio's tasks, channels, mutexes, semaphores, events, wait groups,
 * groups and completions (Go's sync.Cond becomes an event or a
 * completion, a buffered channel used as a semaphore a semaphore).
 *
 * Every bug runs in five ways (docs/deadlocks.md has the table):
 *   bare           alone on its loop: the cycle check, the owner check or
 *                  the global check must report it;
 *   ticker, listener   in a scope, while a task outside it sleeps 1 ms in a
 *                  loop or waits in accept(2) on an idle socket, so the
 *                  loop never goes quiet: the cycle or owner check, or the
 *                  scope's, must report it;
 *   fixed, fixed_busy  the fix the project made, alone and in a busy
 *                  loop: every task ends and nothing is reported.
 */
#include "testutil.h"

#include <criterion/parameterized.h>
#include <criterion/redirect.h>

#include <corio/async.h>
#include <corio/test.h>

/* The version of the bug that runs: the bug, or its fix. */
static bool fixed;

/* ---- bookkeeping: the tasks and primitives of the bug that runs ------ */

#define MAX_TASKS 8
static struct corio_task *tasks[MAX_TASKS];
static int ntasks;

/* Spawn @root named @name, recorded for the cleanup; reports give the
 * caller's line as the spawn site. */
#define spawn_as(loop, root, name) \
	spawn_as_at((loop), (root), (name), __FILE__, __LINE__)
static void spawn_as_at(struct corio_loop *loop, struct corio_frame *root,
			const char *name, const char *file, int line)
{
	cr_assert_lt(ntasks, MAX_TASKS);
	cr_assert_eq(corio_spawn_at(loop, root, file, line, &tasks[ntasks]),
		     0);
	corio_task_set_name(tasks[ntasks++], name);
}

enum prim_kind { P_CHAN, P_MUTEX, P_SEM, P_EVENT, P_WG, P_GROUP, P_COMPL };
static struct {
	enum prim_kind kind;
	void *p;
} prims[12];
static int nprims;

static void keep(enum prim_kind kind, void *p, int ret)
{
	cr_assert_eq(ret, 0);
	prims[nprims].kind = kind;
	prims[nprims++].p = p;
}

#define CHAN(ch, cap, name) \
	keep(P_CHAN, (ch), corio_chan_init((ch), sizeof(int), (cap), (name)))
#define MUTEX(m, name) keep(P_MUTEX, (m), corio_mutex_init((m), (name)))
#define SEM(s, n, name) keep(P_SEM, (s), corio_sem_init((s), (n), (name)))
#define EVENT(e, name) keep(P_EVENT, (e), corio_event_init((e), (name)))
#define WAITGROUP(w, name) \
	keep(P_WG, (w), corio_waitgroup_init((w), (name)))
#define GROUP(g, name) keep(P_GROUP, (g), corio_group_init((g), (name), 0))
#define COMPLETION(c, name) \
	keep(P_COMPL, (c), corio_completion_init((c), (name), 0))

static void destroy_prims(void)
{
	int i;

	for (i = 0; i < nprims; i++) {
		void *p = prims[i].p;
		int r = 0;

		switch (prims[i].kind) {
		case P_CHAN: r = corio_chan_destroy(p); break;
		case P_MUTEX: r = corio_mutex_destroy(p); break;
		case P_SEM: r = corio_sem_destroy(p); break;
		case P_EVENT: r = corio_event_destroy(p); break;
		case P_WG: r = corio_waitgroup_destroy(p); break;
		case P_GROUP: r = corio_group_destroy(p); break;
		case P_COMPL: r = corio_completion_destroy(p); break;
		}
		cr_assert_eq(r, 0, "primitive %d: %s", i, corio_strerror(r));
	}
}

/* Lock @m into @r and remember it is held in @held. */
#define LOCK(r, m, held)						\
	do {								\
		corio_await(r, corio_mutex_lock, (m));			\
		if ((r) == 0 || (r) == -EOWNERDEAD)			\
			(held) = true;					\
	} while (0)
#define UNLOCK(m, held)							\
	do {								\
		if (held)						\
			corio_mutex_unlock(m);				\
		(held) = false;						\
	} while (0)

/* ==================================================================== */
/* Resource deadlocks: locks.                                            */
/* ==================================================================== */

/*
 * cockroach#584 (cockroachdb/cockroach pull 584), double locking.  The
 * gossip manager locks its mutex at the top of each round of its loop and
 * breaks out of the loop at shutdown without unlocking (defer cannot be
 * used inside the loop); every later Lock of the mutex waits forever.  In
 * corio the mutex outlives its owner: the owner check reports it.  Fix:
 * unlock before the break.
 */
static struct corio_mutex c584_mu;

corio_async(int, c584_manage, (), (
	int r, round;
))
{
	corio_begin();
	for (self->round = 0;; self->round++) {
		corio_await(self->r, corio_mutex_lock, &c584_mu);
		if (self->round == 2) {		/* stopping */
			if (fixed)
				corio_mutex_unlock(&c584_mu);
			break;
		}
		corio_mutex_unlock(&c584_mu);
		corio_yield();
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, c584_bootstrap, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_yield();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &c584_mu);
	corio_mutex_unlock(&c584_mu);
	corio_return(0);
corio_finally:
	corio_end();
}

static void c584(struct corio_loop *loop)
{
	MUTEX(&c584_mu, "gossip.mu");
	spawn_as(loop, c584_manage__start(NULL, NULL), "manage");
	spawn_as(loop, c584_bootstrap__start(NULL, NULL), "bootstrap");
}

/*
 * moby#7559 (moby/moby pull 7559), double locking.  The port allocator's
 * loop locks at the top of each iteration and takes a `continue` without
 * unlocking, so the next iteration locks the mutex it holds.  Fix: unlock
 * before the continue.
 */
static struct corio_mutex m7559_mu;

corio_async(int, m7559_proxy, (), (
	int r, i;
	bool held;
))
{
	corio_begin();
	for (self->i = 0; self->i < 3; self->i++) {
		LOCK(self->r, &m7559_mu, self->held);
		if (self->r < 0)
			corio_return(self->r);
		if (self->i == 1) {		/* port in use: next one */
			if (fixed)
				UNLOCK(&m7559_mu, self->held);
			continue;
		}
		UNLOCK(&m7559_mu, self->held);
	}
	corio_return(0);
corio_finally:
	UNLOCK(&m7559_mu, self->held);
	corio_end();
}

static void m7559(struct corio_loop *loop)
{
	MUTEX(&m7559_mu, "allocator.mu");
	spawn_as(loop, m7559_proxy__start(NULL, NULL), "proxy");
}

/*
 * moby#36114 (moby/moby pull 36114), double locking.  The service VM's
 * start path holds the svm lock and calls hotRemoveVHDsAtStart, which
 * locks it again.  Fix: the callee runs with the lock held by its caller.
 */
static struct corio_mutex m36114_mu;

corio_async(int, m36114_hot_remove_vhds, (), (
	int r;
))
{
	corio_begin();
	if (!fixed) {
		corio_await(self->r, corio_mutex_lock, &m36114_mu);
		if (self->r < 0)
			corio_return(self->r);
		corio_mutex_unlock(&m36114_mu);
	}
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, m36114_start, (), (
	int r;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &m36114_mu, self->held);
	corio_await(self->r, m36114_hot_remove_vhds);
	corio_return(self->r);
corio_finally:
	UNLOCK(&m36114_mu, self->held);
	corio_end();
}

static void m36114(struct corio_loop *loop)
{
	MUTEX(&m36114_mu, "svm.mu");
	spawn_as(loop, m36114_start__start(NULL, NULL), "svm_start");
}

/*
 * etcd#10492 (etcd-io/etcd pull 10492), double locking.  The lessor's
 * Renew holds the lessor lock while it calls the checkpointer callback,
 * which calls Checkpoint, which takes the lessor lock.  Fix: call the
 * checkpointer after unlocking.
 */
static struct corio_mutex e10492_mu;

corio_async(int, e10492_checkpoint, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, &e10492_mu);
	if (self->r < 0)
		corio_return(self->r);
	corio_mutex_unlock(&e10492_mu);
	corio_return(0);
corio_finally:
	corio_end();
}

/* The checkpointer the lessor was given: a callback into the lessor. */
corio_async(int, e10492_checkpointer, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, e10492_checkpoint);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, e10492_renew, (), (
	int r;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &e10492_mu, self->held);
	if (fixed)
		UNLOCK(&e10492_mu, self->held);
	corio_await(self->r, e10492_checkpointer);
	corio_return(self->r);
corio_finally:
	UNLOCK(&e10492_mu, self->held);
	corio_end();
}

static void e10492(struct corio_loop *loop)
{
	MUTEX(&e10492_mu, "lessor.mu");
	spawn_as(loop, e10492_renew__start(NULL, NULL), "renew");
}

/*
 * syncthing#4829 (syncthing/syncthing pull 4829), double locking.  A
 * method of the port mapping service locks its mutex, and on one path
 * locks it again before the unlock.  Fix: the second lock goes.
 */
static struct corio_mutex s4829_mu;

corio_async(int, s4829_update, ((bool, renew)), (
	int r;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &s4829_mu, self->held);
	if (self->renew && !fixed) {
		corio_await(self->r, corio_mutex_lock, &s4829_mu);
		if (self->r < 0)
			corio_return(self->r);
		corio_mutex_unlock(&s4829_mu);
	}
	corio_return(0);
corio_finally:
	UNLOCK(&s4829_mu, self->held);
	corio_end();
}

static void s4829(struct corio_loop *loop)
{
	MUTEX(&s4829_mu, "service.mu");
	spawn_as(loop, s4829_update__start(NULL, true, NULL), "update");
}

/*
 * Two tasks lock two mutexes in opposite orders, with a yield between
 * the locks so each takes its first: the AB-BA shape several bugs share.
 * @second_in_helper: the second lock is one call down, as in the
 * programs (it shows in the report's chain of frames).  The fix takes
 * them in the same order.
 */
corio_async(int, ab_second, ((struct corio_mutex *, m)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_mutex_lock, self->m);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, ab_locker, ((struct corio_mutex *, first),
			     (struct corio_mutex *, second)), (
	int r;
	bool held1, held2;
))
{
	corio_begin();
	LOCK(self->r, self->first, self->held1);
	corio_yield();
	corio_await(self->r, ab_second, self->second);
	if (self->r == 0)
		self->held2 = true;
	corio_yield();
	UNLOCK(self->second, self->held2);
	UNLOCK(self->first, self->held1);
	corio_return(self->r);
corio_finally:
	UNLOCK(self->second, self->held2);
	UNLOCK(self->first, self->held1);
	corio_end();
}

/* Spawn @a taking (@x, @y) and @b taking (@y, @x), or (@x, @y) fixed. */
static void ab_ba(struct corio_loop *loop, struct corio_mutex *x,
		  struct corio_mutex *y, const char *a, const char *b)
{
	spawn_as(loop, ab_locker__start(NULL, x, y, NULL), a);
	spawn_as(loop, ab_locker__start(NULL, fixed ? x : y, fixed ? y : x,
					NULL), b);
}

/*
 * cockroach#10214 (cockroachdb/cockroach pull 10214), AB-BA deadlock.
 * The store's sendQueuedHeartbeats holds coalescedMu and, through
 * reportUnreachable, takes a replica's raftMu; the replica's tick holds
 * raftMu and, through maybeCoalesceHeartbeat, takes coalescedMu.  Fix:
 * unlock coalescedMu before taking raftMu.
 */
static struct corio_mutex c10214_coalesced, c10214_raft;

static void c10214(struct corio_loop *loop)
{
	MUTEX(&c10214_coalesced, "store.coalescedMu");
	MUTEX(&c10214_raft, "replica.raftMu");
	ab_ba(loop, &c10214_coalesced, &c10214_raft, "send_heartbeats",
	      "tick");
}

/*
 * cockroach#7504 (cockroachdb/cockroach pull 7504), AB-BA deadlock.  The
 * lease manager's Release locks the lease state, then the table name
 * cache; AcquireByName locks the name cache, then a lease state.  Fix:
 * one order.
 */
static struct corio_mutex c7504_lease, c7504_names;

static void c7504(struct corio_loop *loop)
{
	MUTEX(&c7504_lease, "leaseState.mu");
	MUTEX(&c7504_names, "tableNameCache.mu");
	ab_ba(loop, &c7504_lease, &c7504_names, "release", "acquire_by_name");
}

/*
 * moby#4951 (moby/moby pull 4951), AB-BA deadlock.  The devicemapper's
 * global devices lock and a device's own lock are taken in both orders by
 * two operations.  Fix: one order.
 */
static struct corio_mutex m4951_devices, m4951_info;

static void m4951(struct corio_loop *loop)
{
	MUTEX(&m4951_devices, "devices.Lock");
	MUTEX(&m4951_info, "baseInfo.lock");
	ab_ba(loop, &m4951_devices, &m4951_info, "delete_device", "mount");
}

/*
 * kubernetes#30872 (kubernetes/kubernetes pull 30872), AB-BA deadlock.
 * The federated informer's ClustersSynced holds the informer lock and
 * asks the DeltaFIFO HasSynced (its lock); the FIFO's Pop holds the FIFO
 * lock and calls addCluster (the informer lock); Stop waits for the
 * informer lock too.  Fix: one order.
 */
static struct corio_mutex k30872_informer, k30872_fifo;

corio_async(int, k30872_stop, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &k30872_informer);
	if (self->r == 0)
		corio_mutex_unlock(&k30872_informer);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void k30872(struct corio_loop *loop)
{
	MUTEX(&k30872_informer, "federatedInformer.mu");
	MUTEX(&k30872_fifo, "DeltaFIFO.lock");
	ab_ba(loop, &k30872_fifo, &k30872_informer, "pop", "clusters_synced");
	spawn_as(loop, k30872_stop__start(NULL, NULL), "stop");
}

/* ==================================================================== */
/* Mixed deadlocks: a lock and a channel, a semaphore, a group...        */
/* ==================================================================== */

/*
 * kubernetes#10182 (kubernetes/kubernetes pull 10182), channel and lock.
 * The status manager's SetPodStatus holds podStatusesLock while it sends
 * on the unbuffered podStatusChannel; syncBatch, the only receiver, takes
 * podStatusesLock (DeletePodStatus) before it receives again.  Fix: send
 * after unlocking.
 */
static struct corio_mutex k10182_mu;
static struct corio_chan k10182_ch;

corio_async(int, k10182_set_status, ((int, v)), (
	int r;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &k10182_mu, self->held);
	if (fixed)
		UNLOCK(&k10182_mu, self->held);
	corio_await(self->r, corio_chan_send, &k10182_ch, &self->v);
	corio_return(self->r);
corio_finally:
	UNLOCK(&k10182_mu, self->held);
	corio_end();
}

corio_async(int, k10182_sync_batch, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, &k10182_ch, &self->v);
	corio_yield();			/* the second update locks meanwhile */
	corio_await(self->r, corio_mutex_lock, &k10182_mu);	/* delete */
	corio_mutex_unlock(&k10182_mu);
	corio_await(self->r, corio_chan_recv, &k10182_ch, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void k10182(struct corio_loop *loop)
{
	MUTEX(&k10182_mu, "podStatusesLock");
	CHAN(&k10182_ch, 0, "podStatusChannel");
	spawn_as(loop, k10182_sync_batch__start(NULL, NULL), "sync_batch");
	spawn_as(loop, k10182_set_status__start(NULL, 1, NULL), "set_status");
	spawn_as(loop, k10182_set_status__start(NULL, 2, NULL),
		 "set_status_2");
}

/*
 * kubernetes#1321 (kubernetes/kubernetes pull 1321), channel and lock.
 * The watch mux's distribute holds m.lock while it sends on a watcher's
 * result channel; the watcher's Stop must take m.lock to close that
 * channel, and nobody reads it any more.  Fix: distribute no longer
 * sends holding the lock, and a closed channel unblocks it.
 */
static struct corio_mutex k1321_mu;
static struct corio_chan k1321_result;

corio_async(int, k1321_distribute, (), (
	int r, v;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &k1321_mu, self->held);
	if (fixed)
		UNLOCK(&k1321_mu, self->held);
	corio_await(self->r, corio_chan_send, &k1321_result, &self->v);
	corio_return(self->r == -EPIPE ? 0 : self->r);
corio_finally:
	UNLOCK(&k1321_mu, self->held);
	corio_end();
}

corio_async(int, k1321_stop_watching, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &k1321_mu);
	corio_chan_close(&k1321_result);
	corio_mutex_unlock(&k1321_mu);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void k1321(struct corio_loop *loop)
{
	MUTEX(&k1321_mu, "mux.lock");
	CHAN(&k1321_result, 0, "watcher.result");
	spawn_as(loop, k1321_distribute__start(NULL, NULL), "distribute");
	spawn_as(loop, k1321_stop_watching__start(NULL, NULL),
		 "stop_watching");
}

/*
 * moby#28462 (moby/moby pull 28462), channel and lock.  The daemon's
 * StateChanged holds the container lock and, through
 * CloseMonitorChannel, sends on the health monitor's unbuffered stop
 * channel; the monitor takes the container lock (handleProbeResult)
 * before it receives.  Fix: close the channel instead of sending on it.
 */
static struct corio_mutex m28462_container;
static struct corio_chan m28462_stop;

corio_async(int, m28462_state_changed, (), (
	int r, v;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &m28462_container, self->held);
	if (fixed)
		self->r = corio_chan_close(&m28462_stop);
	else
		corio_await(self->r, corio_chan_send, &m28462_stop, &self->v);
	corio_return(self->r);
corio_finally:
	UNLOCK(&m28462_container, self->held);
	corio_end();
}

corio_async(int, m28462_monitor, (), (
	int r, v;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &m28462_container);
	corio_mutex_unlock(&m28462_container);
	corio_await(self->r, corio_chan_recv, &m28462_stop, &self->v);
	corio_return(self->r == -EPIPE ? 0 : self->r);
corio_finally:
	corio_end();
}

static void m28462(struct corio_loop *loop)
{
	MUTEX(&m28462_container, "container.Lock");
	CHAN(&m28462_stop, 0, "probe.stop");
	spawn_as(loop, m28462_state_changed__start(NULL, NULL),
		 "state_changed");
	spawn_as(loop, m28462_monitor__start(NULL, NULL), "monitor");
}

/*
 * grpc#1460 (grpc/grpc-go pull 1460), channel and lock.  The client
 * transport's keepalive goroutine waits on awakenKeepalive while holding
 * t.mu; NewStream must take t.mu to send on awakenKeepalive.  Fix: wait
 * after unlocking.
 */
static struct corio_mutex g1460_mu;
static struct corio_chan g1460_awaken;

corio_async(int, g1460_keepalive, (), (
	int r, v;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &g1460_mu, self->held);
	if (fixed)
		UNLOCK(&g1460_mu, self->held);
	corio_await(self->r, corio_chan_recv, &g1460_awaken, &self->v);
	corio_return(self->r);
corio_finally:
	UNLOCK(&g1460_mu, self->held);
	corio_end();
}

corio_async(int, g1460_new_stream, (), (
	int r, v;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &g1460_mu);
	corio_mutex_unlock(&g1460_mu);
	corio_await(self->r, corio_chan_send, &g1460_awaken, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void g1460(struct corio_loop *loop)
{
	MUTEX(&g1460_mu, "transport.mu");
	CHAN(&g1460_awaken, 0, "awakenKeepalive");
	spawn_as(loop, g1460_keepalive__start(NULL, NULL), "keepalive");
	spawn_as(loop, g1460_new_stream__start(NULL, NULL), "new_stream");
}

/*
 * etcd#6873 (etcd-io/etcd pull 6873), channel and lock.  The watch
 * broadcasts' stop holds wbs.mu, closes updatec and waits for donec; the
 * coalescing loop, which closes donec when it ends, took an update first
 * and needs wbs.mu to apply it.  Fix: wait for donec after unlocking.
 */
static struct corio_mutex e6873_mu;
static struct corio_chan e6873_update;
static struct corio_event e6873_done;

corio_async(int, e6873_update_fn, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_send, &e6873_update, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, e6873_stop, (), (
	int r;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &e6873_mu, self->held);
	corio_chan_close(&e6873_update);
	if (fixed)
		UNLOCK(&e6873_mu, self->held);
	corio_await(self->r, corio_event_wait, &e6873_done);
	corio_return(self->r);
corio_finally:
	UNLOCK(&e6873_mu, self->held);
	corio_end();
}

corio_async(int, e6873_coalesce_loop, (), (
	int r, v;
))
{
	corio_begin();
	for (;;) {
		corio_await(self->r, corio_chan_recv, &e6873_update, &self->v);
		if (self->r)
			break;
		corio_await(self->r, corio_mutex_lock, &e6873_mu);
		corio_mutex_unlock(&e6873_mu);
	}
	corio_event_set(&e6873_done);
	corio_return(0);
corio_finally:
	corio_end();
}

static void e6873(struct corio_loop *loop)
{
	MUTEX(&e6873_mu, "wbs.mu");
	CHAN(&e6873_update, 1, "wbs.updatec");
	EVENT(&e6873_done, "wbs.donec");
	spawn_as(loop, e6873_update_fn__start(NULL, NULL), "update");
	spawn_as(loop, e6873_stop__start(NULL, NULL), "stop");
	spawn_as(loop, e6873_coalesce_loop__start(NULL, NULL), "coalesce");
}

/*
 * kubernetes#6632 (kubernetes/kubernetes pull 6632), channel and lock.
 * The SPDY connection's WriteFrame holds writeLock and sends on resetChan,
 * which is full; the monitor must take writeLock to close resetChan.  Fix:
 * a task drains the channel.
 */
static struct corio_mutex k6632_write;
static struct corio_chan k6632_reset;

corio_async(int, k6632_write_frame, (), (
	int r, v;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &k6632_write, self->held);
	corio_await(self->r, corio_chan_send, &k6632_reset, &self->v);
	corio_return(self->r);
corio_finally:
	UNLOCK(&k6632_write, self->held);
	corio_end();
}

corio_async(int, k6632_monitor, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &k6632_write);
	corio_chan_close(&k6632_reset);
	corio_mutex_unlock(&k6632_write);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, k6632_drain, (), (
	int r, v;
))
{
	corio_begin();
	do
		corio_await(self->r, corio_chan_recv, &k6632_reset, &self->v);
	while (self->r == 0);
	corio_return(0);
corio_finally:
	corio_end();
}

static void k6632(struct corio_loop *loop)
{
	int v = 0;

	MUTEX(&k6632_write, "writeLock");
	CHAN(&k6632_reset, 1, "resetChan");
	cr_assert_eq(corio_chan_try_send(&k6632_reset, &v), 0, "full");
	spawn_as(loop, k6632_write_frame__start(NULL, NULL), "write_frame");
	spawn_as(loop, k6632_monitor__start(NULL, NULL), "monitor");
	if (fixed)
		spawn_as(loop, k6632_drain__start(NULL, NULL), "drain");
}

/*
 * etcd#7492 (etcd-io/etcd pull 7492), channel and lock.  The simple token
 * store assigns a token holding simpleTokensMu and hands it to the TTL
 * keeper over addSimpleTokenCh; on its tick, the keeper deletes expired
 * tokens, which takes simpleTokensMu, so it is not receiving.  Fix: hand
 * the token over after unlocking.
 */
static struct corio_mutex e7492_mu;
static struct corio_chan e7492_add;

corio_async(int, e7492_assign, (), (
	int r, v;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &e7492_mu, self->held);
	corio_await(self->r, corio_sleep, CORIO_MS(2));	/* assigning */
	if (fixed)
		UNLOCK(&e7492_mu, self->held);
	corio_await(self->r, corio_chan_send, &e7492_add, &self->v);
	corio_return(self->r);
corio_finally:
	UNLOCK(&e7492_mu, self->held);
	corio_end();
}

/* Receive tokens; on each 1 ms tick without one, delete expired ones. */
corio_async(int, e7492_keeper, (), (
	int r, v;
	int64_t prev;
))
{
	corio_begin();
	for (;;) {
		self->prev = corio_deadline_set(corio_now() + CORIO_MS(1));
		corio_await(self->r, corio_chan_recv, &e7492_add, &self->v);
		corio_deadline_set(self->prev);
		if (self->r != -ETIME)
			break;
		corio_await(self->r, corio_mutex_lock, &e7492_mu);
		corio_mutex_unlock(&e7492_mu);
	}
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void e7492(struct corio_loop *loop)
{
	MUTEX(&e7492_mu, "simpleTokensMu");
	CHAN(&e7492_add, 0, "addSimpleTokenCh");
	spawn_as(loop, e7492_keeper__start(NULL, NULL), "ttl_keeper");
	spawn_as(loop, e7492_assign__start(NULL, NULL), "assign");
}

/*
 * serving#2137 (knative/serving pull 2137), channel and lock.  The
 * breaker's activeRequests is a buffered channel used as a semaphore.  A
 * request holds its lock and waits to be accepted; the task that holds
 * the breaker's only slot runs the request's thunk, which needs that lock;
 * the task that would accept the request waits for a slot.  Fix: the
 * request releases its lock before waiting.
 */
static struct corio_mutex v2137_req;
static struct corio_sem v2137_active;
static struct corio_chan v2137_accepted;

corio_async(int, v2137_request, (), (
	int r, v;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &v2137_req, self->held);
	if (fixed)
		UNLOCK(&v2137_req, self->held);
	corio_await(self->r, corio_chan_recv, &v2137_accepted, &self->v);
	corio_return(self->r);
corio_finally:
	UNLOCK(&v2137_req, self->held);
	corio_end();
}

/* Maybe(): take a slot, run the thunk (the request's lock), give it back;
 * @accept: then accept the request. */
corio_async(int, v2137_maybe, ((bool, accept)), (
	int r, v;
	bool slot;
))
{
	corio_begin();
	corio_yield();
	if (self->accept)
		corio_yield();
	corio_await(self->r, corio_sem_acquire, &v2137_active);
	self->slot = self->r == 0;
	corio_await(self->r, corio_mutex_lock, &v2137_req);
	if (self->r == 0)
		corio_mutex_unlock(&v2137_req);
	corio_yield();
	if (self->slot)
		corio_sem_release(&v2137_active);
	self->slot = false;
	if (self->accept)
		corio_await(self->r, corio_chan_send, &v2137_accepted,
			    &self->v);
	corio_return(self->r);
corio_finally:
	if (self->slot)
		corio_sem_release(&v2137_active);
	corio_end();
}

static void v2137(struct corio_loop *loop)
{
	MUTEX(&v2137_req, "request.lock");
	SEM(&v2137_active, 1, "breaker.activeRequests");
	CHAN(&v2137_accepted, 0, "request.accepted");
	spawn_as(loop, v2137_request__start(NULL, NULL), "request");
	spawn_as(loop, v2137_maybe__start(NULL, false, NULL), "maybe_thunk");
	spawn_as(loop, v2137_maybe__start(NULL, true, NULL), "maybe_accept");
}

/*
 * cockroach#1055 (cockroachdb/cockroach pull 1055), lock and wait group.
 * The Stopper's Stop takes its lock and waits for the running tasks; a
 * task must take the same lock (SetStopped) to finish.  The Stopper's
 * tasks are a corio group here.  Fix: wait after unlocking.
 */
static struct corio_mutex c1055_mu;
static struct corio_group c1055_tasks;

corio_async(int, c1055_task, (), (
	int r;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_mutex_lock, &c1055_mu);
	corio_mutex_unlock(&c1055_mu);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, c1055_stop, (), (
	int r;
	bool held;
))
{
	corio_begin();
	LOCK(self->r, &c1055_mu, self->held);
	if (fixed)
		UNLOCK(&c1055_mu, self->held);
	corio_await(self->r, corio_group_wait_all, &c1055_tasks);
	corio_return(self->r);
corio_finally:
	UNLOCK(&c1055_mu, self->held);
	corio_end();
}

static void c1055(struct corio_loop *loop)
{
	MUTEX(&c1055_mu, "stopper.mu");
	GROUP(&c1055_tasks, "stopper.tasks");
	cr_assert_eq(corio_group_spawn(&c1055_tasks,
				       c1055_task__start(NULL, NULL)), 0);
	spawn_as(loop, c1055_stop__start(NULL, NULL), "stop");
}

/*
 * moby#25384 (moby/moby pull 25384), misused wait group.  The plugin
 * manager adds len(plugins) to the group once, then starts each plugin
 * and waits on the group inside the loop: the first wait needs every
 * Done, but only the first plugin has started.  Fix: wait after the loop.
 */
static struct corio_waitgroup m25384_group;

corio_async(int, m25384_enable, (), (
	int r;
))
{
	corio_begin();
	corio_waitgroup_done(&m25384_group);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, m25384_restore, ((int, n)), (
	int r, i;
))
{
	corio_begin();
	corio_waitgroup_add(&m25384_group, self->n);
	for (self->i = 0; self->i < self->n; self->i++) {
		spawn_as(corio_loop_current(),
			 m25384_enable__start(NULL, NULL), "enable");
		if (!fixed)
			corio_await(self->r, corio_waitgroup_wait,
				    &m25384_group);
	}
	if (fixed)
		corio_await(self->r, corio_waitgroup_wait, &m25384_group);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void m25384(struct corio_loop *loop)
{
	WAITGROUP(&m25384_group, "plugins");
	spawn_as(loop, m25384_restore__start(NULL, 2, NULL), "restore");
}

/* ==================================================================== */
/* Communication deadlocks: channels, conditions.                        */
/* ==================================================================== */

/*
 * kubernetes#5316 (kubernetes/kubernetes pull 5316), channel.  The
 * apiserver's finishRequest runs the request in a goroutine that sends
 * its result on an unbuffered channel; when the timeout comes first,
 * nobody ever receives and the sender waits forever.  Fix: a buffered
 * channel.
 */
static struct corio_chan k5316_result;

corio_async(int, k5316_fn, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(3));	/* slow request */
	corio_await(self->r, corio_chan_send, &k5316_result, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, k5316_finish_request, (), (
	int r, v;
	int64_t prev;
))
{
	corio_begin();
	spawn_as(corio_loop_current(), k5316_fn__start(NULL, NULL), "k5316_fn");
	self->prev = corio_deadline_set(corio_now() + CORIO_MS(1));
	corio_await(self->r, corio_chan_recv, &k5316_result, &self->v);
	corio_deadline_set(self->prev);
	corio_return(self->r == -ETIME ? 0 : self->r);	/* timed out */
corio_finally:
	corio_end();
}

static void k5316(struct corio_loop *loop)
{
	CHAN(&k5316_result, fixed ? 1 : 0, "finishRequest.ch");
	spawn_as(loop, k5316_finish_request__start(NULL, NULL),
		 "finish_request");
}

/*
 * grpc#660 (grpc/grpc-go pull 660), channel.  The benchmark client's
 * doCloseLoopUnary returns when told to stop, without draining the done
 * channel its worker sends on.  Fix: drain it.
 */
static struct corio_chan g660_stop, g660_done;

corio_async(int, g660_worker, (), (
	int r, v;
))
{
	corio_begin();
	corio_yield();
	corio_await(self->r, corio_chan_send, &g660_done, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, g660_close_loop, (), (
	int r, v;
))
{
	corio_begin();
	spawn_as(corio_loop_current(), g660_worker__start(NULL, NULL),
		 "g660_worker");
	corio_await(self->r, corio_chan_recv, &g660_stop, &self->v);
	if (fixed)
		corio_await(self->r, corio_chan_recv, &g660_done, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, g660_stopper, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_send, &g660_stop, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void g660(struct corio_loop *loop)
{
	CHAN(&g660_stop, 0, "bc.stop");
	CHAN(&g660_done, 0, "done");
	spawn_as(loop, g660_close_loop__start(NULL, NULL), "close_loop");
	spawn_as(loop, g660_stopper__start(NULL, NULL), "stopper");
}

/*
 * etcd#6857 (etcd-io/etcd pull 6857), channel.  The raft node's Status
 * sends a request on n.status, which only the run loop receives; after
 * Stop ended the run loop, Status waits forever.  Fix: Status gives up
 * when the node is done (here: the run loop closes the channel).
 */
static struct corio_chan e6857_stop, e6857_status;
static struct corio_event e6857_done;

corio_async(int, e6857_run, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, &e6857_stop, &self->v);
	if (fixed)
		corio_chan_close(&e6857_status);
	corio_event_set(&e6857_done);
	corio_return(0);
corio_finally:
	corio_end();
}

corio_async(int, e6857_stop_fn, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_send, &e6857_stop, &self->v);
	corio_await(self->r, corio_event_wait, &e6857_done);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, e6857_status_fn, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_event_wait, &e6857_done);
	corio_await(self->r, corio_chan_send, &e6857_status, &self->v);
	corio_return(self->r == -EPIPE ? 0 : self->r);
corio_finally:
	corio_end();
}

static void e6857(struct corio_loop *loop)
{
	CHAN(&e6857_stop, 0, "n.stop");
	CHAN(&e6857_status, 0, "n.status");
	EVENT(&e6857_done, "n.done");
	spawn_as(loop, e6857_run__start(NULL, NULL), "run");
	spawn_as(loop, e6857_stop_fn__start(NULL, NULL), "stop");
	spawn_as(loop, e6857_status_fn__start(NULL, NULL), "status");
}

/*
 * cockroach#2448 (cockroachdb/cockroach pull 2448), channel.  MultiRaft's
 * loop sends a second event on Events while the store's processRaft,
 * running the first event's callback, sends on callbackChan, which only
 * the MultiRaft loop receives.  Fix: the callback channel no longer
 * blocks its sender (here: one slot of buffer).
 */
static struct corio_chan c2448_events, c2448_callback;

corio_async(int, c2448_multiraft, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_send, &c2448_events, &self->v);
	corio_await(self->r, corio_chan_send, &c2448_events, &self->v);
	corio_await(self->r, corio_chan_recv, &c2448_callback, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, c2448_process_raft, (), (
	int r, v;
))
{
	corio_begin();
	corio_await(self->r, corio_chan_recv, &c2448_events, &self->v);
	corio_await(self->r, corio_chan_send, &c2448_callback, &self->v);
	corio_await(self->r, corio_chan_recv, &c2448_events, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void c2448(struct corio_loop *loop)
{
	CHAN(&c2448_events, 0, "multiraft.Events");
	CHAN(&c2448_callback, fixed ? 1 : 0, "callbackChan");
	spawn_as(loop, c2448_multiraft__start(NULL, NULL), "multiraft");
	spawn_as(loop, c2448_process_raft__start(NULL, NULL), "process_raft");
}

/*
 * moby#4395 (moby/moby pull 4395), channel.  The utility Go(f) runs f in
 * a goroutine that sends f's error on an unbuffered channel it returns;
 * callers that ignore the channel leave that goroutine waiting forever.
 * Fix: one slot of buffer.
 */
static struct corio_chan m4395_ch;

corio_async(int, m4395_go, (), (
	int r, v;
))
{
	corio_begin();
	self->v = 0;			/* f() */
	corio_await(self->r, corio_chan_send, &m4395_ch, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, m4395_caller, (), ())
{
	corio_begin();
	spawn_as(corio_loop_current(), m4395_go__start(NULL, NULL), "m4395_go");
	corio_return(0);		/* the channel is ignored */
corio_finally:
	corio_end();
}

static void m4395(struct corio_loop *loop)
{
	CHAN(&m4395_ch, fixed ? 1 : 0, "Go.ch");
	spawn_as(loop, m4395_caller__start(NULL, NULL), "caller");
}

/*
 * kubernetes#25331 (kubernetes/kubernetes pull 25331), channel.  etcd3's
 * watchChan run sends an error on resultChan after the watcher's consumer
 * called Stop and left; cancelling the context does not unblock it.  Fix:
 * the send gives up once stopped (here: Stop closes resultChan).
 */
static struct corio_chan k25331_result;

corio_async(int, k25331_run, (), (
	int r, v;
))
{
	corio_begin();
	corio_yield();
	self->v = -EIO;			/* an error happened */
	corio_await(self->r, corio_chan_send, &k25331_result, &self->v);
	corio_return(self->r == -EPIPE ? 0 : self->r);
corio_finally:
	corio_end();
}

corio_async(int, k25331_stop, (), ())
{
	corio_begin();
	if (fixed)
		corio_chan_close(&k25331_result);
	corio_return(0);
corio_finally:
	corio_end();
}

static void k25331(struct corio_loop *loop)
{
	CHAN(&k25331_result, 0, "wc.resultChan");
	spawn_as(loop, k25331_run__start(NULL, NULL), "watch_run");
	spawn_as(loop, k25331_stop__start(NULL, NULL), "watch_stop");
}

/*
 * moby#33293 (moby/moby pull 33293), channel.  containerWait sends the
 * wait's error on errC, which its caller has stopped reading.  Fix: errC
 * has room for the one error.
 */
static struct corio_chan m33293_errc;

corio_async(int, m33293_container_wait, (), (
	int r, v;
))
{
	corio_begin();
	self->v = -ENOENT;
	corio_await(self->r, corio_chan_send, &m33293_errc, &self->v);
	corio_return(self->r);
corio_finally:
	corio_end();
}

static void m33293(struct corio_loop *loop)
{
	CHAN(&m33293_errc, fixed ? 1 : 0, "errC");
	spawn_as(loop, m33293_container_wait__start(NULL, NULL),
		 "container_wait");
}

/*
 * moby#30408 (moby/moby pull 30408), condition variable.  A Wait on the
 * plugin's condition variable has no corresponding Signal on the error
 * path.  The condition is a corio event.  Fix: signal on every path.
 */
static struct corio_event m30408_cond;

corio_async(int, m30408_wait_ready, (), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_event_wait, &m30408_cond);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(int, m30408_activate, (), ())
{
	corio_begin();
	corio_yield();
	if (fixed)			/* the error path signals too */
		corio_event_set(&m30408_cond);
	corio_return(-EIO);
corio_finally:
	corio_end();
}

static void m30408(struct corio_loop *loop)
{
	EVENT(&m30408_cond, "plugin.activateWait");
	spawn_as(loop, m30408_wait_ready__start(NULL, NULL), "wait_ready");
	spawn_as(loop, m30408_activate__start(NULL, NULL), "activate");
}

/*
 * moby#29733 (moby/moby pull 29733), condition variable.  The plugin
 * waits on a condition variable that no path signals once activation has
 * failed.  The condition is a corio completion: one result, awaited.
 * Fix: resolve it on the failure too.
 */
static struct corio_completion m29733_activated;

corio_async(int, m29733_wait_active, (), (
	int64_t v;
))
{
	corio_begin();
	corio_await(self->v, corio_completion_wait, &m29733_activated);
	corio_return((int)self->v < 0 ? 0 : (int)self->v);
corio_finally:
	corio_end();
}

corio_async(int, m29733_activate, (), ())
{
	corio_begin();
	corio_yield();
	if (fixed)
		corio_completion_resolve(&m29733_activated, -EIO);
	corio_return(0);
corio_finally:
	corio_end();
}

static void m29733(struct corio_loop *loop)
{
	COMPLETION(&m29733_activated, "plugin.activated");
	spawn_as(loop, m29733_wait_active__start(NULL, NULL), "wait_active");
	spawn_as(loop, m29733_activate__start(NULL, NULL), "activate");
}

/* ==================================================================== */
/* The table and the runs.                                               */
/* ==================================================================== */

struct bug {
	const char *id;
	void (*setup)(struct corio_loop *loop);
	/* What reports it alone; in a scope of a busy loop, GLOBAL becomes
	 * SCOPE and the others stay. */
	enum corio_deadlock_kind kind;
	const char *names[3];		/* tasks the report names */
};

static const struct bug bugs[] = {
	{ "cockroach#584", c584, CORIO_DEADLOCK_OWNER_DEAD, { "manage" } },
	{ "moby#7559", m7559, CORIO_DEADLOCK_AWAIT_CYCLE, { "proxy" } },
	{ "moby#36114", m36114, CORIO_DEADLOCK_AWAIT_CYCLE, { "svm_start" } },
	{ "etcd#10492", e10492, CORIO_DEADLOCK_AWAIT_CYCLE, { "renew" } },
	{ "syncthing#4829", s4829, CORIO_DEADLOCK_AWAIT_CYCLE, { "update" } },
	{ "cockroach#10214", c10214, CORIO_DEADLOCK_AWAIT_CYCLE,
	  { "send_heartbeats", "tick" } },
	{ "cockroach#7504", c7504, CORIO_DEADLOCK_AWAIT_CYCLE,
	  { "release", "acquire_by_name" } },
	{ "moby#4951", m4951, CORIO_DEADLOCK_AWAIT_CYCLE,
	  { "delete_device", "mount" } },
	{ "kubernetes#30872", k30872, CORIO_DEADLOCK_AWAIT_CYCLE,
	  { "pop", "clusters_synced" } },
	{ "kubernetes#10182", k10182, CORIO_DEADLOCK_GLOBAL,
	  { "sync_batch", "set_status_2" } },
	{ "kubernetes#1321", k1321, CORIO_DEADLOCK_GLOBAL,
	  { "distribute", "stop_watching" } },
	{ "moby#28462", m28462, CORIO_DEADLOCK_GLOBAL,
	  { "state_changed", "monitor" } },
	{ "grpc#1460", g1460, CORIO_DEADLOCK_GLOBAL,
	  { "keepalive", "new_stream" } },
	{ "etcd#6873", e6873, CORIO_DEADLOCK_GLOBAL, { "stop", "coalesce" } },
	{ "kubernetes#6632", k6632, CORIO_DEADLOCK_GLOBAL,
	  { "write_frame", "monitor" } },
	{ "etcd#7492", e7492, CORIO_DEADLOCK_GLOBAL,
	  { "ttl_keeper", "assign" } },
	{ "serving#2137", v2137, CORIO_DEADLOCK_GLOBAL,
	  { "request", "maybe_thunk", "maybe_accept" } },
	{ "cockroach#1055", c1055, CORIO_DEADLOCK_GLOBAL,
	  { "stop", "c1055_task" } },
	{ "moby#25384", m25384, CORIO_DEADLOCK_GLOBAL, { "restore" } },
	{ "kubernetes#5316", k5316, CORIO_DEADLOCK_GLOBAL, { "k5316_fn" } },
	{ "grpc#660", g660, CORIO_DEADLOCK_GLOBAL, { "g660_worker" } },
	{ "etcd#6857", e6857, CORIO_DEADLOCK_GLOBAL, { "status" } },
	{ "cockroach#2448", c2448, CORIO_DEADLOCK_GLOBAL,
	  { "multiraft", "process_raft" } },
	{ "moby#4395", m4395, CORIO_DEADLOCK_GLOBAL, { "m4395_go" } },
	{ "kubernetes#25331", k25331, CORIO_DEADLOCK_GLOBAL,
	  { "watch_run" } },
	{ "moby#33293", m33293, CORIO_DEADLOCK_GLOBAL, { "container_wait" } },
	{ "moby#30408", m30408, CORIO_DEADLOCK_GLOBAL, { "wait_ready" } },
	{ "moby#29733", m29733, CORIO_DEADLOCK_GLOBAL, { "wait_active" } },
};

#define NBUGS (sizeof(bugs) / sizeof(bugs[0]))

static struct corio_scope *scope;
static struct t_bg bg;

/*
 * Outside the scope: stop what keeps the loop busy once the scope's
 * tasks are all gone (ended, or unwound after a report), so the run can
 * end.  It looks once per millisecond.
 */
corio_async(int, bg_stopper, (), (
	int r;
))
{
	corio_begin();
	while (corio_scope_tasks(scope))
		corio_await(self->r, corio_sleep, CORIO_MS(1));
	t_bg_stop(&bg);
	corio_return(0);
corio_finally:
	corio_end();
}

/* A loop running @b (its fix if @fix), in a scope of a loop kept busy by
 * @busy unless it is T_BG_NONE. */
static struct corio_loop *start(const struct bug *b, bool fix,
				enum t_bg_kind busy)
{
	struct corio_loop *loop = t_loop();

	fixed = fix;
	ntasks = nprims = 0;
	scope = NULL;
	bg = (struct t_bg){ .fd = -1 };
	cr_log_info("%s%s", b->id, fix ? " (fixed)" : "");
	if (busy != T_BG_NONE) {
		cr_assert_eq(corio_scope_create(loop, b->id, &scope), 0);
		cr_assert_eq(corio_scope_enter(scope), 0);
	}
	b->setup(loop);
	if (busy != T_BG_NONE) {
		cr_assert_eq(corio_scope_exit(scope), 0);
		t_bg_start(loop, &bg, busy);
		corio_spawn(loop, bg_stopper__start(NULL, NULL), NULL);
	}
	return loop;
}

/* Cancel what is left, run it to its end, release everything. */
static void finish(struct corio_loop *loop)
{
	int i, st;

	for (i = 0; i < ntasks; i++)
		corio_task_cancel(tasks[i]);
	corio_assert_finished(loop);
	t_bg_done(&bg);
	for (i = 0; i < ntasks; i++)
		cr_assert_eq(corio_task_reap(tasks[i], &st), 0);
	destroy_prims();
	if (scope)
		cr_assert_eq(corio_scope_destroy(scope), 0);
	t_loop_done(loop);
}

static void run_bug(const struct bug *b, enum t_bg_kind busy)
{
	struct corio_loop *loop = start(b, false, busy);
	enum corio_deadlock_kind want = b->kind;

	if (busy != T_BG_NONE && want == CORIO_DEADLOCK_GLOBAL)
		want = CORIO_DEADLOCK_SCOPE;
	switch (b->names[2] ? 3 : b->names[1] ? 2 : 1) {
	case 1:
		corio_assert_deadlock(loop, want, b->names[0]);
		break;
	case 2:
		corio_assert_deadlock(loop, want, b->names[0], b->names[1]);
		break;
	default:
		corio_assert_deadlock(loop, want, b->names[0], b->names[1],
				      b->names[2]);
		break;
	}
	if (busy != T_BG_NONE && want == CORIO_DEADLOCK_SCOPE)
		cr_assert_not(corio_task_is_done(bg.task),
			      "found while the loop was busy");
	finish(loop);
}

static void run_fixed(const struct bug *b, enum t_bg_kind busy)
{
	struct corio_loop *loop = start(b, true, busy);

	corio_assert_finished(loop);
	finish(loop);
}

/* Every bug, by index into bugs[]. */
static struct criterion_test_params bug_params(void)
{
	static int idx[NBUGS];
	size_t i;

	for (i = 0; i < NBUGS; i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, NBUGS);
}

/* The reports go to stderr under no policy but RETURN, which prints a
 * warning for an ended mutex owner: keep it out of the test's output. */
ParameterizedTestParameters(corpus, bare) { return bug_params(); }
ParameterizedTest(int *i, corpus, bare, .timeout = 10,
		  .init = cr_redirect_stderr)
{
	run_bug(&bugs[*i], T_BG_NONE);
}

ParameterizedTestParameters(corpus, ticker) { return bug_params(); }
ParameterizedTest(int *i, corpus, ticker, .timeout = 10,
		  .init = cr_redirect_stderr)
{
	run_bug(&bugs[*i], T_BG_TICKER);
}

ParameterizedTestParameters(corpus, listener) { return bug_params(); }
ParameterizedTest(int *i, corpus, listener, .timeout = 10,
		  .init = cr_redirect_stderr)
{
	run_bug(&bugs[*i], T_BG_LISTENER);
}

ParameterizedTestParameters(corpus, fixed) { return bug_params(); }
ParameterizedTest(int *i, corpus, fixed, .timeout = 10)
{
	run_fixed(&bugs[*i], T_BG_NONE);
}

ParameterizedTestParameters(corpus, fixed_busy) { return bug_params(); }
ParameterizedTest(int *i, corpus, fixed_busy, .timeout = 10)
{
	run_fixed(&bugs[*i], T_BG_TICKER);
}

/* At least 20 bugs, and the table in docs/deadlocks.md lists them all. */
Test(corpus, the_table_in_the_docs_lists_every_bug)
{
	char path[4096], *text = NULL;
	const char *slash = strrchr(__FILE__, '/');
	size_t len = 0, i;
	FILE *f;

	cr_assert_geq(NBUGS, 20);
	snprintf(path, sizeof(path), "%.*s/../docs/deadlocks.md",
		 slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".");
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	cr_assert_gt(getdelim(&text, &len, '\0', f), 0);
	fclose(f);
	for (i = 0; i < NBUGS; i++) {
		char cell[64];

		snprintf(cell, sizeof(cell), "| %s |", bugs[i].id);
		cr_expect(strstr(text, cell), "%s is not in %s", bugs[i].id,
			  path);
	}
	free(text);
}
