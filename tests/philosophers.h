/* SPDX-License-Identifier: MIT */
/*
 * tests/philosophers.h - five dining philosophers as a body for
 * corio_explore (tests/test_explore.c, bench/explore.c).
 *
 * Each philosopher locks its left fork, then its right one, eats (one
 * yield) and puts both down.  Taken in that naive order the forks can
 * deadlock, but only when every philosopher is preempted between its two
 * locks: in FIFO order an uncontended lock completes at once, so the run
 * always ends.  With @ordered each takes the lower-numbered fork first,
 * which makes the cycle impossible.
 */
#ifndef CORIO_TESTS_PHILOSOPHERS_H
#define CORIO_TESTS_PHILOSOPHERS_H

#include <errno.h>
#include <stdbool.h>

#include <corio.h>
#include <corio/async.h>

#define PHIL_N 5

struct phil_table {
	struct corio_mutex fork[PHIL_N];
	int meals;
	bool ordered;
};

static const char *const phil_fork_names[PHIL_N] = {
	"fork0", "fork1", "fork2", "fork3", "fork4",
};

corio_async(void, phil_dine, ((struct phil_table *, t), (int, i)), (
	int first, second, r;
))
{
	corio_begin();
	self->first = self->i;
	self->second = (self->i + 1) % PHIL_N;
	if (self->t->ordered && self->first > self->second) {
		self->first = self->second;
		self->second = self->i;
	}
	corio_await(self->r, corio_mutex_lock, &self->t->fork[self->first]);
	if (self->r)
		corio_throw(self->r);
	corio_await(self->r, corio_mutex_lock, &self->t->fork[self->second]);
	if (self->r) {
		corio_mutex_unlock(&self->t->fork[self->first]);
		corio_throw(self->r);
	}
	self->t->meals++;
	corio_yield();
	corio_mutex_unlock(&self->t->fork[self->second]);
	corio_mutex_unlock(&self->t->fork[self->first]);
corio_finally:
	corio_end();
}

static inline int phil_start(struct corio_loop *loop, void *arg)
{
	struct phil_table *t = arg;
	int i, err;

	t->meals = 0;
	for (i = 0; i < PHIL_N; i++) {
		err = corio_mutex_init(&t->fork[i], phil_fork_names[i]);
		if (err)
			return err;
	}
	for (i = 0; i < PHIL_N; i++) {
		err = corio_spawn(loop, phil_dine__start(NULL, t, i), NULL);
		if (err)
			return err;
	}
	return 0;
}

/* Every philosopher ate once; the forks are released. */
static inline int phil_finish(struct corio_loop *loop, void *arg, int run)
{
	struct phil_table *t = arg;
	int i;

	(void)loop;
	(void)run;
	for (i = 0; i < PHIL_N; i++)
		corio_mutex_destroy(&t->fork[i]);
	return t->meals == PHIL_N ? 0 : -EPROTO;
}

#endif /* CORIO_TESTS_PHILOSOPHERS_H */
