// kc_reduce.h: the learner's reductions on the GPU: GRPO group statistics
// and advantages (learner/advantage.h's adv_grpo), and the masked loss
// aggregation over packed sequences (learner/rl_loss.h's modes) with the
// gradient each token's loss receives.
#ifndef RLC_KC_REDUCE_H
#define RLC_KC_REDUCE_H

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// Groups of group_size consecutive rewards (n_groups * group_size) float32:
// mean and unbiased std per group (n_groups) and adv = (r - mean) / (std +
// eps), or r - mean when norm_by_std == 0; a group of one has mean 0, std 1;
// a group of equal rewards gets exactly 0. mean and std may be NULL.
void kc_group_advantage(kc_ctx *c, float *adv, float *mean, float *std, const float *reward, int n_groups,
                        int group_size, float eps, int norm_by_std);

typedef enum {
    KC_AGG_TOKEN_MEAN = 0,           // sum_t l_t / N
    KC_AGG_SEQ_MEAN_TOKEN_MEAN,      // sum_i (sum_t l_it / n_i) / S
    KC_AGG_SEQ_MEAN_TOKEN_SUM,       // sum_i sum_t l_it / S
    KC_AGG_SEQ_MEAN_TOKEN_SUM_NORM,  // sum_i sum_t l_it / (S * norm)
} kc_agg_mode;

// loss (n) float32 per token over sequences cu_seqlens (n_seqs + 1), mask (n)
// (nonzero: in the loss; NULL: all). N, S and n_i as rl_loss.h (global_tokens
// and global_seqs > 0 replace this batch's N and S). Writes the aggregate to
// *out (one device float) and, when grad is not NULL, d out / d loss[t] (n).
void kc_loss_agg(kc_ctx *c, float *out, float *grad, const float *loss, const unsigned char *mask,
                 const int *cu_seqlens, int n_seqs, int n, kc_agg_mode mode, float norm, long global_tokens,
                 long global_seqs);

#ifdef __cplusplus
}
#endif

#endif
