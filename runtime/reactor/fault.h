/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor/fault.h - fault injection at the reactor boundary, for tests.
 *
 * With CORIO_FAULTS (or corio_loop_opts.faults) set, the loop's backend is
 * wrapped in a reactor that makes completions come back short, as -EINTR,
 * -EAGAIN, -ENOBUFS or -ECANCELED, late and out of order, and ends
 * multishot operations early, all drawn from a seeded generator.  Off, the
 * wrapper does not exist and costs nothing.  docs/design.md section 14
 * explains the faults.
 */
#ifndef CORIO_FAULT_H
#define CORIO_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct corio_loop_opts;
struct corio__reactor;

/* Fault kinds; each has its own rate. */
enum corio__fault_kind {
	CORIO__FAULT_SHORT,	/* a transfer asked for fewer bytes */
	CORIO__FAULT_EINTR,	/* -EINTR, the operation not run */
	CORIO__FAULT_EAGAIN,	/* -EAGAIN, not run */
	CORIO__FAULT_ENOBUFS,	/* -ENOBUFS, not run */
	CORIO__FAULT_ECANCELED,	/* -ECANCELED, not run */
	CORIO__FAULT_DELAY,	/* a real completion held back */
	CORIO__FAULT_MULTISHOT,	/* a multishot ended early */
	CORIO__FAULT_KINDS
};

/* What CORIO_FAULTS or corio_loop_opts.faults asked for. */
struct corio__fault_cfg {
	uint64_t seed;
	uint8_t rate[CORIO__FAULT_KINDS];	/* percent of eligible events */
	bool on;				/* any rate above 0 */
};

/*
 * Read the fault specification: @opts->faults when set, else the
 * environment variable CORIO_FAULTS.  Unset, empty or "off" leaves
 * @cfg->on false.  Returns 0, or -EINVAL with @why filled in.
 */
int corio__fault_config(const struct corio_loop_opts *opts,
			struct corio__fault_cfg *cfg, char *why,
			size_t whylen);

/*
 * Wrap the backend *@r in an injecting reactor (which then owns it) and
 * append what it injects to @desc.  Returns 0 or -ENOMEM (*@r untouched).
 */
int corio__fault_wrap(struct corio__reactor **r,
		      const struct corio__fault_cfg *cfg,
		      char *desc, size_t desclen);

/* Faults injected so far by the reactor @r, per kind (all 0 without injection). */
void corio__fault_counts(const struct corio__reactor *r,
			 uint64_t counts[CORIO__FAULT_KINDS]);

#endif /* CORIO_FAULT_H */
