/* SPDX-License-Identifier: MIT */
/*
 * runtime/core/explore.h - the schedule a loop runs under while it is
 * explored (explore.c), and the driver's view of it (explore_run.c).
 *
 * The loop asks the schedule at each point where FIFO order would otherwise
 * decide: which ready task runs (corio__explore_run_ready replaces the
 * scheduler's batch), whether an await that completed at once yields
 * (corio__explore_done, from corio__op_done), which of the timers due at the
 * same instant fires first (corio__explore_timer) and in which order the
 * completions of one reap are handed out (corio__explore_cqes).  Each such
 * decision with more than one option is numbered; a schedule is the list of
 * choices, drawn from a seed (RANDOM) or departing from choice 0 at listed
 * decisions (BOUNDED).  Nothing here runs unless loop->explore is set.
 */
#ifndef CORIO_CORE_EXPLORE_H
#define CORIO_CORE_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "corio/explore.h"

struct corio_loop;
struct corio_task;
struct corio__cqe;

/* Departures a BOUNDED schedule lists at most. */
#define CORIO__EXPLORE_MAX_DEV 16

/* One departure from FIFO: decision @at takes option @choice (> 0). */
struct corio__explore_dev {
	uint32_t at;
	uint32_t choice;
};

struct corio__explore {
	/* The schedule. */
	unsigned mode;			/* enum corio_explore_mode */
	uint64_t rng;			/* RANDOM: splitmix64 state */
	uint32_t yield_p;		/* RANDOM: P(spurious yield) * 2^32 */
	struct corio__explore_dev dev[CORIO__EXPLORE_MAX_DEV]; /* BOUNDED,
					 * by increasing @at */
	unsigned ndev, next_dev;
	uint16_t *counts;		/* BOUNDED: options of each decision
					 * of this run (saturated at 65535) */
	uint32_t counts_cap;
	bool counts_lost;		/* a decision past what counts holds */
	bool yields;			/* spurious yields wanted */
	bool allow_io;
	bool cleanup;			/* unwinding what is left: FIFO, no
					 * decisions, no yields */
	/* What happened. */
	uint32_t decisions;		/* decisions with two or more options */
	uint64_t steps, max_steps;
	uint64_t hash;			/* FNV-1a of the events */
	FILE *trace;			/* or NULL */
	/* The first failure of the schedule. */
	enum corio_explore_failure failure;
	char *message;			/* the driver's buffer */
	size_t message_len;
};

/* splitmix64: the next output of the generator whose state is *@s. */
uint64_t corio__explore_next64(uint64_t *s);

/* Start a schedule: counters, hash and failure reset (the mode, the
 * departures or the seed are set by the caller). */
void corio__explore_reset(struct corio__explore *x, uint64_t seed);

/* Record the schedule's first failure (later ones are dropped) and stop
 * the loop. */
void corio__explore_failed(struct corio_loop *loop,
			   enum corio_explore_failure f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The hooks (see above). */
void corio__explore_run_ready(struct corio_loop *loop, unsigned budget);
struct corio_task *corio__explore_timer(struct corio_loop *loop,
					struct corio_task *first);
void corio__explore_cqes(struct corio_loop *loop, struct corio__cqe *c,
			 unsigned n);
/* corio__explore_done is declared in internal.h, beside corio__op_done. */

#endif /* CORIO_CORE_EXPLORE_H */
