// rl_pool.h: the learner loop's copy of finished trajectories: the group of
// one prompt, grown round by round (Reinforce-Ada draws a prompt several
// times), then cut down to the samples that train. It owns everything it
// points to; the trajectories' prompt_tokens and components point into it.
#ifndef RLC_LEARNER_RL_POOL_H
#define RLC_LEARNER_RL_POOL_H

#include <stdint.h>  // uint64_t

#include "core/protocol.h"  // rlc_msg_trajectory
#include "core/status.h"
#include "server.h"         // lsrv_group, LSRV_MAX_COMPONENTS

typedef struct rl_pool {
    uint64_t prompt_id;            // the prompt's id (Reinforce-Ada: its first round's)
    int source;                    // data source (-1: unknown)
    int n, cap;                    // trajectories held, room
    rlc_msg_trajectory *trajs;     // (cap), [0, n) valid; token arrays owned
    rlc_proto_component *comps;    // (cap * LSRV_MAX_COMPONENTS)
    char (*comp_names)[48];        // same
    int32_t *prompt;               // (n_prompt), the first round's
    uint32_t n_prompt;
    // Reinforce-Ada (zero otherwise): the baseline of every sample drawn,
    // and what the cut left out
    int base_n;
    double base_mean, base_std;
    int drawn, rounds, exited, discarded;
} rl_pool;

// Appends the trajectories of g (copied; g stays the caller's). The pool's
// prompt is g's when it has none yet. RLC_ERR_NOMEM leaves the pool as it
// was before the call.
rlc_status rl_pool_append(rl_pool *p, const lsrv_group *g);

// Keeps the trajectories keep[0 .. n_keep) (ascending indices < n), in that
// order, and frees the others' arrays.
void rl_pool_cut(rl_pool *p, const int *keep, int n_keep);

// Frees everything and zeroes the pool.
void rl_pool_free(rl_pool *p);

#endif
