// value_loss.h: the critic's clipped value loss, as verl's compute_value_loss
// (core_algos.py, after TRL's PPO trainer), with its gradient.
//
// Per response token t, with v_t the critic's current value, v_old_t its
// value when the data was scored, R_t the GAE return (gae.h) and c the value
// clip range:
//
//   vclip_t = clip(v_t, v_old_t - c, v_old_t + c)
//   l_t     = max((v_t - R_t)^2, (vclip_t - R_t)^2)
//   L       = 0.5 * agg(l)                         (agg: rl_agg, as the policy)
//   clipfrac = share of tokens where (vclip - R)^2 > (v - R)^2
//
// dL/dv_t = 0.5 * w_t * 2 (v_t - R_t) where the unclipped term is the max,
// and 0 where the clipped term wins with v outside the clip range (vclip is
// then a constant). Ties ((v - R)^2 == (vclip - R)^2) take the unclipped
// branch, as torch.max's gradient would split them; they only happen inside
// the clip range, where both branches are equal anyway.
//
// Runs in double; the gradient is ADDED (+=) into dv (float). Nothing
// allocates. Bad arguments give RLC_ERR_ARG, and nothing is written.
#ifndef RLC_LEARNER_VALUE_LOSS_H
#define RLC_LEARNER_VALUE_LOSS_H

#include "core/status.h"  // rlc_status
#include "rl_loss.h"      // rl_seqs, rl_agg

typedef struct value_loss_stats {
    double loss;      // 0.5 * agg(l): this batch's share of the step's loss
    double clipfrac;  // over the batch's masked tokens
    long tokens;      // masked tokens
} value_loss_stats;

// v (T), v_old (T), returns (T); cliprange c >= 0 (verl's cliprange_value,
// default 0.5; a huge c turns clipping off). stats may be NULL; dv (T) may be
// NULL (no gradient).
rlc_status value_loss_compute(const rl_agg *agg, const rl_seqs *s, const float *v, const float *v_old,
                              const float *returns, double cliprange, value_loss_stats *stats, float *dv);

#endif
