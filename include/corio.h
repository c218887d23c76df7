/* SPDX-License-Identifier: MIT */
/*
 * corio.h - umbrella header of corio, a stackless async/await runtime for C
 * on Linux with an io_uring executor.  Include this; the parts are
 * self-contained too.
 */
#ifndef CORIO_H
#define CORIO_H

#include "corio/common.h"
#include "corio/frame.h"
#include "corio/task.h"
#include "corio/loop.h"
#include "corio/time.h"
#include "corio/io.h"
#include "corio/sync.h"
#include "corio/graph.h"
#include "corio/lockorder.h"
#include "corio/explore.h"
#include "corio/scope.h"
#include "corio/group.h"
#include "corio/select.h"
#include "corio/completion.h"
#include "corio/pool.h"
#include "corio/signal.h"
#include "corio/bus.h"
#include "corio/periodic.h"
#include "corio/runtime.h"
#include "corio/net.h"

#endif /* CORIO_H */
