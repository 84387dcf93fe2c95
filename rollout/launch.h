// launch.h: rollout workers configured from an experiment: as threads in the
// learner's process (`rlc train`), or as a process of their own
// (`rlc rollout`). Each worker loads its own copy of the model.
#ifndef RLC_ROLLOUT_LAUNCH_H
#define RLC_ROLLOUT_LAUNCH_H

#include <signal.h>  // sig_atomic_t

#include "core/board.h"
#include "core/status.h"
#include "reward/reward.h"  // rlc_exp

typedef struct rollout_pool rollout_pool;

// Starts rollout.workers threads connected to `endpoint` (sharing zctx, and
// taking weights from `board` when given), each generating on model.device
// (on CUDA each holds its own GPU copy of the model and its own cache). Returns once every worker has
// loaded its model. On failure *out is NULL, unless some threads were
// already running: then it is set, and rollout_pool_join must still be called.
rlc_status rollout_pool_start(const rlc_exp *exp, const char *endpoint, void *zctx, rlc_board *board,
                              rollout_pool **out);
// Waits for the threads (they end when the learner sends Shutdown) and frees.
void rollout_pool_join(rollout_pool *p);

// One worker in this process for a learner at `endpoint`, until the learner
// shuts it down or *stop is set. device (or NULL: model.device) is where it
// generates: "cpu", "cuda" or "cuda:N" (rollout_worker_create's errors).
rlc_status rollout_serve(const rlc_exp *exp, const char *endpoint, const char *worker_id, const char *device,
                         volatile sig_atomic_t *stop);

#endif
