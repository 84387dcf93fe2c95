// rl.h: a reinforcement-learning run: the learner's loop. It walks the data
// (with the curriculum), renders and tokenizes prompts, hands them to the
// rollout workers through the server, collects groups of n trajectories,
// runs a GRPO step when a batch is ready (trajectories older than
// max_staleness versions never enter), publishes the new weights, appends a
// metrics line per step to OUT/metrics.jsonl, evaluates on a held-out set,
// and saves checkpoints (and resumes from them). With Reinforce-Ada
// (algorithm.adaptive_sampling) a prompt is sampled in rounds until its exit
// rule holds, then cut to group_size (learner/ada.h); the curriculum script,
// if any, sets the sources' weights before the first prompt and every
// curriculum.every steps, from statistics that include the advantage each
// sample trained with.
//
// `rlc train` runs it with K rollout workers as threads in the same process
// (inproc sockets, weights through an in-process board; rl_options.spawn
// starts them); `rlc learner` runs it alone, bound to a tcp endpoint, for
// `rlc rollout` processes anywhere (weights then go as checksummed chunks).
#ifndef RLC_LEARNER_RL_H
#define RLC_LEARNER_RL_H

#include <signal.h>  // sig_atomic_t

#include "core/board.h"   // rlc_board
#include "core/dist.h"    // dist_env
#include "core/status.h"
#include "reward/reward.h"  // rlc_exp

typedef struct rl_options {
    const char *exp_path;                // the experiment (Lua)
    const char *const *overrides;        // "a.b=value"
    int n_overrides;
    int resume;                          // continue from OUT's newest checkpoint
    long stop_after;                     // stop after this many steps of this run (0: algorithm.steps)
    const char *endpoint;                // overrides rollout.endpoint (rlc learner --bind)
    volatile sig_atomic_t *stop;         // set by a signal handler: save and stop
    int quiet;                           // no progress line
    // Local workers: called once the server is bound, with the endpoint, the
    // zmq context to share (inproc) and the weight board; and at the end,
    // after the workers were told to shut down. The learner never includes
    // rollout/: the caller (the CLI) starts them.
    rlc_status (*spawn)(void *ud, const rlc_exp *exp, const char *endpoint, void *zctx, rlc_board *board);
    void (*join)(void *ud);
    void *ud;
    // Data-parallel learner ranks (learner/dp.h, learner/rl_dp.h): NULL or
    // world 1: this process alone. world > 1: rank 0 runs the loop above and
    // sends every step's groups to the other ranks, which train on their
    // share of each minibatch; those ranks start no server and no workers
    // (spawn is not called), write no files and return when rank 0 is done.
    const dist_env *dist;
} rl_options;

// The run; on a rank other than 0 of o->dist, rl_dp_serve.
rlc_status rl_run(const rl_options *o);

#endif
