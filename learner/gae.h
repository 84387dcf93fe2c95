// gae.h: Generalized Advantage Estimation for PPO with a critic, as verl's
// compute_gae_advantage_return (core_algos.py), and its masked_whiten.
//
// A batch is an rl_seqs (rl_loss.h): sequence i is tokens [offsets[i],
// offsets[i+1]) and mask selects its response tokens (in the learner's
// position layout: the position that predicts each completion token). Per
// sequence, walking its response tokens t backwards (masked-out positions
// are skipped: they carry the next value and advantage through, as verl's
// masked loop does):
//
//   delta_t = r_t + gamma * V_{t+1} - V_t         (V after the last token = 0)
//   A_t     = delta_t + gamma * lam * A_{t+1}     (A after the last token = 0)
//   R_t     = A_t + V_t                           (the critic's target)
//
// then the advantages are whitened over every response token of the batch:
// mean, unbiased variance, A = (A - mean) / sqrt(var + 1e-8). r_t is the
// token-level reward: the outcome score on the last response token
// (rl_seqs_place_outcome), minus kl_coef * kl_t per token when the KL is in
// the reward (rl_kl_penalize_rewards). docs/algorithms.md, "PPO with a critic".
//
// Everything runs in double and is written as float. Nothing allocates.
// Bad arguments give RLC_ERR_ARG naming the argument, and nothing is written.
#ifndef RLC_LEARNER_GAE_H
#define RLC_LEARNER_GAE_H

#include "core/status.h"  // rlc_status
#include "rl_loss.h"      // rl_seqs

// Advantages and returns (not whitened). rewards (T), values (T): the
// token-level rewards and the critic's old values; adv (T), returns (T):
// written on the masked tokens, 0 elsewhere. gamma and lam in [0, 1].
rlc_status gae_compute(const rl_seqs *s, const float *rewards, const float *values, double gamma, double lam,
                       float *adv, float *returns);

// verl's masked_whiten in place: x = (x - mean) * rsqrt(var + 1e-8) over the
// masked tokens, var the unbiased variance; other tokens stay as they are.
// RLC_ERR_ARG when fewer than 2 tokens are masked (verl raises too). mean and
// std (may be NULL): the statistics used (std = sqrt(var)).
rlc_status gae_whiten(const rl_seqs *s, float *x, double *mean, double *std);

#endif
