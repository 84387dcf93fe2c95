// advantage.h: outcome-reward advantage estimators over groups of samples of
// the same prompt, as verl's core_algos.py computes them: GRPO (with or
// without the std division: Dr.GRPO), RLOO, REINFORCE++-baseline, and DAPO's
// dynamic-sampling filter (groups whose rewards are all equal carry no signal);
// the per-token REINFORCE++ (discounted returns, whitened over the batch) and
// DAPO's soft overlong penalty. docs/algorithms.md gives the formulas.
//
// A batch holds nseq samples, one scalar score each (the sum of the sample's
// token-level rewards: rl_seqs_sum), ordered so that each group (the samples
// of one prompt) is contiguous: group g is samples [groups[g], groups[g+1]),
// groups[0] == 0, groups[ngroups] == nseq, and no group is empty. The result
// is one advantage per sample; rl_seqs_broadcast (rl_loss.h) spreads it over
// the sample's response tokens.
//
// Everything runs in double. Nothing allocates. Bad arguments give
// RLC_ERR_ARG naming the argument, and nothing is written.
#ifndef RLC_LEARNER_ADVANTAGE_H
#define RLC_LEARNER_ADVANTAGE_H

#include "core/status.h"  // rlc_status
#include "rl_loss.h"      // rl_seqs

// RLC_OK when groups is a valid grouping of nseq samples (see above).
rlc_status adv_check_groups(int nseq, const int *groups, int ngroups);

// GRPO: adv_i = (r_i - mean_g) / (std_g + eps) with std_g torch.std's
// unbiased standard deviation of the group; with norm_by_std == 0 (Dr.GRPO),
// adv_i = r_i - mean_g. As verl, a group of one sample has mean 0 and std 1:
// its advantage is r / (1 + eps) (or r). A group whose scores are all equal
// gets exactly 0. eps >= 0 (verl: 1e-6).
// scores (nseq), adv (nseq); adv may alias scores.
rlc_status adv_grpo(const double *scores, int nseq, const int *groups, int ngroups, double eps,
                    int norm_by_std, double *adv);

// RLOO (leave-one-out baseline): for a group of n > 1,
// adv_i = r_i - mean of the other n - 1 scores = n / (n - 1) * (r_i - mean_g).
// A group of one keeps its raw score as the advantage (as verl).
// scores (nseq), adv (nseq); adv may alias scores.
rlc_status adv_rloo(const double *scores, int nseq, const int *groups, int ngroups, double *adv);

// REINFORCE++-baseline: subtract the group mean (a group of one: mean 0),
// then whiten over every response token of the batch (verl's masked_whiten):
// with a_i the centred score and n_i the response tokens of sample i,
//   mu = sum n_i a_i / N,  var = sum n_i (a_i - mu)^2 / (N - 1),  N = sum n_i,
//   adv_i = (a_i - mu) / sqrt(var + 1e-8).
// lengths (nseq) >= 0, with N >= 2 (verl raises otherwise); scores (nseq),
// adv (nseq); adv may alias scores.
rlc_status adv_rpp_baseline(const double *scores, const int *lengths, int nseq, const int *groups,
                            int ngroups, double *adv);

// REINFORCE++ (verl compute_reinforce_plus_plus_outcome_advantage): per
// token, not per sample, over a batch of sequences (rl_seqs, rl_loss.h; no
// groups). Within each sequence, from its last token back,
//   G_t = r_t + gamma * G_{t+1}   (G past the end = 0; the running return is
//                                  reset after each masked token, as verl does)
// then whitened over every unmasked token of the batch (masked_whiten):
//   mu = mean G,  var = sum (G - mu)^2 / (N - 1),  adv_t = (G_t - mu) / sqrt(var + 1e-8),
// N the unmasked tokens (N >= 2, else RLC_ERR_ARG: verl raises too); masked
// tokens get 0. mu is taken relative to the first unmasked return, so equal
// returns give exactly 0. token_rewards (T): the outcome score on each
// sequence's last response token (rl_seqs_place_outcome), minus
// kl_coef * kl_t when the KL is in the reward. gamma finite, in [0, 1].
// adv (T) must not alias token_rewards. Runs in double, allocates nothing.
rlc_status adv_rpp_tokens(const rl_seqs *s, const float *token_rewards, double gamma, float *adv);

// DAPO's soft overlong punishment (verl's DAPO reward manager): with L the
// response length, L_max the length limit, L_c = buffer,
//   penalty = min(0, -(L - (L_max - L_c)) / L_c * factor),
// added to the reward: 0 up to L_max - L_c tokens, then linear down to
// -factor at L_max. buffer <= 0 turns it off (returns 0).
double adv_overlong_penalty(long length, long max_len, long buffer, double factor);

// DAPO dynamic sampling: keep[g] = 0 when every score of group g is equal
// (its GRPO advantages are all 0: no gradient), 1 otherwise. A group of one
// sample is kept (as verl's DAPO trainer). Returns the kept count in *kept.
// scores (nseq), keep (ngroups); kept may be NULL.
rlc_status adv_dapo_keep(const double *scores, int nseq, const int *groups, int ngroups,
                         unsigned char *keep, int *kept);

// Batch statistics of a per-sample array (advantages, scores) for the
// metrics line: mean, population std, min, max. x (n); n == 0 gives zeros.
typedef struct adv_summary {
    double mean, std, min, max;
} adv_summary;
adv_summary adv_summarize(const double *x, int n);

#endif
