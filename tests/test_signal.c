/* SPDX-License-Identifier: MIT */
/*
 * tests/test_signal.c - corio_signal: signals as events on the ring.
 */
#include "testutil.h"

#include <signal.h>

#include <corio/async.h>
#include <corio/test.h>

corio_async(int, wait_usr1, (), (
	int signo;
))
{
	corio_begin();
	corio_await(self->signo, corio_signal, SIGUSR1);
	corio_return(self->signo);
corio_finally:
	corio_end();
}

corio_async(void, raise_later, ((int, signo)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(10));
	raise(self->signo);	/* to this thread, which blocks it */
corio_finally:
	corio_end();
}

Test(signal, every_waiter_gets_the_signal, .timeout = 10)
{
	struct corio_loop *loop;
	int a = 0, b = 0;

	cr_assert_eq(corio_signal_block(SIGUSR1), 0);
	loop = t_loop();
	corio_spawn(loop, wait_usr1__start(NULL, &a), NULL);
	corio_spawn(loop, wait_usr1__start(NULL, &b), NULL);
	corio_spawn(loop, raise_later__start(NULL, SIGUSR1), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(a, SIGUSR1);
	cr_assert_eq(b, SIGUSR1);
	t_loop_done(loop);
}

corio_async(int, signal_with_deadline, ((int, signo)), (
	int r;
))
{
	corio_begin();
	corio_deadline_set(corio_now() + CORIO_MS(20));
	corio_await(self->r, corio_signal, self->signo);
	corio_return(self->r);
corio_finally:
	corio_end();
}

corio_async(void, raise_after, ((int, ms), (int, signo)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	raise(self->signo);
corio_finally:
	corio_end();
}

corio_async(int, await_after, ((int, ms), (int, signo)), (
	int r;
))
{
	corio_begin();
	corio_await(self->r, corio_sleep, CORIO_MS(self->ms));
	corio_await(self->r, corio_signal, self->signo);
	corio_return(self->r);
corio_finally:
	corio_end();
}

Test(signal, a_signal_nobody_awaits_is_kept_for_the_next_await,
     .timeout = 10)
{
	struct corio_loop *loop;
	int timed_out = 0, usr2 = 0, late = 0;

	corio_signal_block(SIGUSR1);
	corio_signal_block(SIGUSR2);
	loop = t_loop();
	/* SIGUSR1 joins the signalfd, then its only waiter gives up... */
	corio_spawn(loop, signal_with_deadline__start(NULL, SIGUSR1,
						      &timed_out), NULL);
	/* ...while SIGUSR2's waiter keeps the read armed. */
	corio_spawn(loop, await_after__start(NULL, 0, SIGUSR2, &usr2), NULL);
	corio_spawn(loop, raise_after__start(NULL, 40, SIGUSR1), NULL);
	corio_spawn(loop, raise_after__start(NULL, 60, SIGUSR2), NULL);
	/* SIGUSR1 came at 40 ms with nobody waiting; awaited at 100 ms. */
	corio_spawn(loop, await_after__start(NULL, 100, SIGUSR1, &late), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(timed_out, -ETIME);
	cr_assert_eq(usr2, SIGUSR2);
	cr_assert_eq(late, SIGUSR1);
	t_loop_done(loop);
}

Test(signal, waiting_for_a_signal_is_not_a_deadlock, .timeout = 10)
{
	struct corio_loop *loop;
	int r = 0, bad = 0;

	corio_signal_block(SIGUSR1);
	loop = t_loop();
	corio_spawn(loop, signal_with_deadline__start(NULL, SIGUSR1, &r),
		    NULL);
	corio_spawn(loop, signal_with_deadline__start(NULL, 99, &bad), NULL);
	corio_assert_finished(loop);
	cr_assert_eq(r, -ETIME);
	cr_assert_eq(bad, -EINVAL);
	cr_assert_eq(corio_signal_block(0), -EINVAL);
	t_loop_done(loop);
}
