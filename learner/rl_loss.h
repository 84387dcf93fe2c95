// rl_loss.h: the learner's per-token RL losses and their gradients: the PPO
// clipped surrogate (clip-higher, dual clip) or GSPO's sequence-level ratio,
// with the decoupled objective for off-policy data (AReaL), KL to a frozen reference (k1, k2, k3/low_var_kl,
// abs) in the loss or in the reward, the entropy bonus, and the loss
// aggregation modes (token-mean, seq-mean-token-mean, seq-mean-token-sum,
// seq-mean-token-sum-norm). The formulas are verl's core_algos.py; the
// decoupled importance weight is AReaL's. docs/algorithms.md is the reference.
//
// Every loss returns its value AND its gradient with respect to each token's
// log-prob (and entropy), which is what actor_train_backward takes. Inputs are
// float arrays (what the trainer produces); every computation runs in double
// and the returned losses are double, so a central finite difference of the
// returned loss over exactly representable float inputs is a float64 check
// (tests/test_rl_loss.c). Gradients are written as float.
//
// A batch is a list of sequences over flat token arrays: sequence i is tokens
// [offsets[i], offsets[i+1]), and mask selects the tokens that enter the loss
// (response tokens). A packed trainer row fits directly: offsets = its
// cu_seqlens, mask = "has a target and is a response token". A sequence must
// not be split across two calls (the seq-mean modes count its tokens).
//
// Gradient buffers are ADDED to (+=), so the policy, KL and entropy terms sum
// into one dL/dlogprob: zero them before the first term (rl_loss_compute does
// all three and zeroes first). Masked tokens get nothing added.
//
// No function here allocates; none keeps a pointer after it returns. Bad
// arguments give RLC_ERR_ARG with a message naming the argument, and nothing
// is written.
#ifndef RLC_LEARNER_RL_LOSS_H
#define RLC_LEARNER_RL_LOSS_H

#include "core/status.h"  // rlc_status

// ---- batches of sequences ----------------------------------------------------

typedef struct rl_seqs {
    int nseq;                    // sequences (0 is allowed: every loss is 0)
    const int *offsets;          // (nseq + 1) offsets[0] == 0, non-decreasing;
                                 // T = offsets[nseq] tokens in all
    const unsigned char *mask;   // (T) nonzero: the token is in the loss; NULL: every token
} rl_seqs;

// T, the number of tokens of the batch (offsets[nseq]; 0 for nseq == 0).
int rl_seqs_tokens(const rl_seqs *s);
// RLC_OK when s is well formed (see the field comments).
rlc_status rl_seqs_check(const rl_seqs *s);
// Unmasked tokens of the batch, and sequences with at least one of them.
void rl_seqs_count(const rl_seqs *s, long *tokens, long *seqs);

// Per-sequence value -> per-token array: out[t] = seq_val[i] on the unmasked
// tokens of sequence i, 0 on masked ones (verl's `scores.unsqueeze(-1) *
// response_mask`). seq_val (nseq), out (T).
rlc_status rl_seqs_broadcast(const rl_seqs *s, const double *seq_val, float *out);
// Per-token -> per-sequence: out[i] = sum of tok[t] over the unmasked tokens
// of sequence i (verl's `token_level_rewards.sum(-1)`). tok (T), out (nseq).
rlc_status rl_seqs_sum(const rl_seqs *s, const float *tok, double *out);
// An outcome reward as a token-level reward, as verl's reward managers place
// it: out[t] = seq_reward[i] on the LAST unmasked token of sequence i, 0
// elsewhere (a sequence without unmasked tokens gets nothing). seq_reward
// (nseq), out (T).
rlc_status rl_seqs_place_outcome(const rl_seqs *s, const double *seq_reward, float *out);

// ---- aggregation -------------------------------------------------------------

typedef enum {
    RL_AGG_TOKEN_MEAN = 0,          // sum_t l_t / N                 (DAPO; verl's default)
    RL_AGG_SEQ_MEAN_TOKEN_MEAN,     // sum_i (sum_t l_it / n_i) / S  (original GRPO)
    RL_AGG_SEQ_MEAN_TOKEN_SUM,      // sum_i sum_t l_it / S
    RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM, // sum_i sum_t l_it / (S * norm) (Dr.GRPO)
    RL_AGG_COUNT
} rl_agg_mode;

// How a loss matrix becomes one number, over the whole optimizer step:
// N = unmasked tokens of the step, S = sequences of the step with at least
// one unmasked token, n_i = unmasked tokens of sequence i. A call over one
// micro-batch returns its share of the step's loss, so that the micro-batch
// losses (and gradients) of a step add up to the loss of the whole step: pass
// the step's N and S (all micro-batches, all ranks) in global_tokens and
// global_seqs. Values <= 0 mean "this call's own batch is the whole step".
typedef struct rl_agg {
    rl_agg_mode mode;
    double global_tokens;  // N for token-mean; <= 0: the batch's own count
    double global_seqs;    // S for the seq-mean modes; <= 0: the batch's own count
    double norm;           // seq-mean-token-sum-norm: the constant normalizer,
                           // e.g. the maximum response length; must be > 0
} rl_agg;

// "token-mean", "seq-mean-token-mean", "seq-mean-token-sum",
// "seq-mean-token-sum-norm" <-> the mode. RLC_ERR_CONFIG names the known ones.
rlc_status rl_agg_parse(const char *name, rl_agg_mode *out);
const char *rl_agg_name(rl_agg_mode m);

// Aggregates a per-token value: returns sum_t w_t * x_t over unmasked tokens,
// with w_t the mode's weight, and adds scale * w_t into grad[t] (grad may be
// NULL). x (T), grad (T or NULL). RLC_ERR_ARG for a bad batch or settings
// (global counts smaller than the batch's own, norm <= 0 for the norm mode).
rlc_status rl_agg_apply(const rl_agg *a, const rl_seqs *s, const float *x, double scale,
                        double *out, float *grad);

// ---- policy loss: PPO clipped surrogate, dual clip, decoupled objective --------

// Which ratio the clipped surrogate takes.
typedef enum {
    RL_POLICY_VANILLA = 0,  // per-token ratio pi_theta / pi_prox (PPO, GRPO, DAPO)   ("vanilla")
    RL_POLICY_GSPO,         // GSPO's sequence-level ratio, GSPO-token form           ("gspo")
    RL_POLICY_COUNT
} rl_policy_kind;

// "vanilla", "gspo" <-> the kind; RLC_ERR_CONFIG names the known ones.
rlc_status rl_policy_kind_parse(const char *name, rl_policy_kind *out);
const char *rl_policy_kind_name(rl_policy_kind k);

typedef enum {
    RL_IS_TRUNCATE = 0,  // w = min(pi_prox / pi_behav, C)   (truncated IS)
    RL_IS_MASK,          // w = pi_prox / pi_behav, or 0 when above C (AReaL's filter)
} rl_is_mode;

typedef struct rl_policy_config {
    double clip_low;      // eps_low: the ratio is clipped below at 1 - clip_low; in [0, 1)
    double clip_high;     // eps_high: clipped above at 1 + clip_high; >= 0 (DAPO: 0.28)
    double clip_ratio_c;  // dual clip: for A < 0 the loss is at most -A * c; c > 1,
                          // or 0 to turn the dual clip off
    double is_cap;        // C of the behaviour importance weight (decoupled objective);
                          // > 0, or 0 for no cap
    rl_is_mode is_mode;
    rl_policy_kind kind;  // vanilla (the default, 0) or GSPO (see rl_policy_loss)
} rl_policy_config;

// verl's actor defaults: clip 0.2 / 0.2, clip_ratio_c 3.0; is_cap 5.0 truncating
// (algorithm.is_cap's default; the experiment's clip_high default is DAPO's 0.28).
rl_policy_config rl_policy_defaults(void);

typedef struct rl_policy_stats {
    double loss;            // sum_t w_t l_t: this batch's share of the step's policy loss
    long tokens;            // unmasked tokens of the batch (the weight of the means below)
    double clipfrac;        // verl pg_clipfrac: share of tokens with -A clip(r) > -A r
    double clipfrac_lower;  // verl pg_clipfrac_lower: share with A < 0 and the dual clip active
    double ppo_kl;          // verl ppo_kl: mean of (prox - logp), the log-ratio clamped to +-20
    double is_mean;         // mean behaviour weight w as applied (1 without behav_logp)
    double is_capped;       // share of tokens whose raw weight exceeded C
    double behav_kl;        // mean of (behav - prox): how far the data's policy lies behind
    double seq_ratio;       // GSPO: mean sequence ratio s_i over the sequences with tokens
                            // (as applied, after the clamp); 0 for vanilla
    long seqs;              // GSPO: those sequences (the weight of seq_ratio); 0 for vanilla
} rl_policy_stats;

// The policy loss over the unmasked tokens, with r = exp(clamp(logp - prox, -20, 20)):
//
//   l1 = -A r,  l2 = -A clip(r, 1 - clip_low, 1 + clip_high),  l = max(l1, l2)
//   A < 0 and c > 0:  l = min(l, -A c)                         (dual clip)
//   l *= w,  w = min(exp(prox - behav), C)  (or AReaL's mask), w a constant
//
// aggregated with `agg`. dL/dlogprob = w_agg * w * (-A r) where l1 is the
// active branch and the clamp is inactive, 0 elsewhere (a clipped token has
// no gradient). It is added into dlogp.
//   logp (T)        log-probs under the policy being trained
//   prox_logp (T)   the proximal ("old") log-probs: the learner's recompute
//                   before this update's first step; for on-policy data the
//                   behaviour log-probs themselves
//   behav_logp (T)  the behaviour log-probs the worker sampled with, or NULL:
//                   w = 1 (standard PPO against prox_logp)
//   adv (T)         per-token advantages (rl_seqs_broadcast)
//   stats           may be NULL; dlogp (T) may be NULL (loss only)
//
// With c->kind == RL_POLICY_GSPO (Zheng et al. 2025, verl's
// compute_policy_loss_gspo) the ratio is the sequence's, in GSPO-token form:
//
//   log s_i = min(mean over sequence i's unmasked tokens of (logp - prox), 10)
//   r_t     = sg[s_i] * exp(logp_t - sg[logp_t])   (value s_i; dr_t/dlogp_t = s_i)
//   l1 = -A_t r_t,  l2 = -A_t clip(r_t, 1 - clip_low, 1 + clip_high),  l = max(l1, l2)
//   l *= w  (the behaviour weight, per token, as above)
//
// so dL/dlogp_t = w_agg * w * (-A_t s_i) where l1 is active and the clamp is
// not, else 0. There is no dual clip (clip_ratio_c is ignored; clipfrac_lower
// is 0) and ppo_kl is the unclamped mean of (prox - logp), as in verl. With
// A constant over a sequence and w = 1 this is the gradient of GSPO's
// sequence objective (d s_i / d logp_t = s_i / n_i, summed over n_i tokens).
// A sequence must not be split across calls.
rlc_status rl_policy_loss(const rl_policy_config *c, const rl_agg *agg, const rl_seqs *s,
                          const float *logp, const float *prox_logp, const float *behav_logp,
                          const float *adv, rl_policy_stats *stats, float *dlogp);

// ---- KL to the reference model ---------------------------------------------------

typedef enum {
    RL_KL_K1 = 0,  // logp - ref                                  ("kl", "k1")
    RL_KL_ABS,     // |logp - ref|                                ("abs")
    RL_KL_K2,      // 0.5 (logp - ref)^2                          ("mse", "k2")
    RL_KL_K3,      // exp(ref - logp) - (ref - logp) - 1, the log-ratio clamped to
                   // +-20 and the result to [-10, 10]            ("low_var_kl", "k3")
    RL_KL_COUNT
} rl_kl_estimator;

// verl's names ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3") -> the
// estimator; rl_kl_name gives the first name of each. RLC_ERR_CONFIG otherwise.
rlc_status rl_kl_parse(const char *name, rl_kl_estimator *out);
const char *rl_kl_name(rl_kl_estimator e);

// One token's estimate, and d(estimate)/d(logp) in *dkl (may be NULL): 1;
// sign(logp - ref) (0 at 0); logp - ref; 1 - exp(ref - logp) (0 where a
// clamp is active).
double rl_kl_token(rl_kl_estimator e, double logp, double ref, double *dkl);

typedef struct rl_kl_stats {
    double loss;    // coef * the aggregated estimate: this batch's share
    double kl_mean; // mean estimate over the unmasked tokens
    long tokens;
} rl_kl_stats;

// KL in the loss (verl use_kl_loss): coef * agg(kl_t), with its gradient added
// into dlogp. logp (T), ref_logp (T), stats may be NULL, dlogp (T) may be NULL.
// coef >= 0.
rlc_status rl_kl_loss(rl_kl_estimator e, double coef, const rl_agg *agg, const rl_seqs *s,
                      const float *logp, const float *ref_logp, rl_kl_stats *stats, float *dlogp);

// KL in the reward (verl apply_kl_penalty): token_rewards[t] -= coef * kl_t on
// the unmasked tokens, with kl_t from the log-probs the data was sampled with
// (old_logp) and the reference. Nothing is differentiated. token_rewards (T)
// in and out; old_logp (T), ref_logp (T); kl_mean (may be NULL): the mean kl_t
// over the unmasked tokens (what verl's adaptive controller is fed).
rlc_status rl_kl_penalize_rewards(rl_kl_estimator e, double coef, const rl_seqs *s,
                                  const float *old_logp, const float *ref_logp,
                                  float *token_rewards, double *kl_mean);

// verl's AdaptiveKLController (Ziegler et al. 2019): the next coefficient,
// coef * (1 + clip(kl / target - 1, -0.2, 0.2) * n_steps / horizon).
// target > 0 and horizon > 0, else coef unchanged.
double rl_kl_adaptive_coef(double coef, double current_kl, double target, double n_steps,
                           double horizon);

// ---- entropy bonus -------------------------------------------------------------

typedef struct rl_entropy_stats {
    double loss;          // -coef * the aggregated entropy: this batch's share
    double entropy_mean;  // mean entropy over the unmasked tokens
    long tokens;
} rl_entropy_stats;

// L = -coef * agg(entropy_t); dL/dentropy_t = -coef * w_t is added into
// dentropy. entropy (T), stats may be NULL, dentropy (T) may be NULL.
rlc_status rl_entropy_loss(double coef, const rl_agg *agg, const rl_seqs *s, const float *entropy,
                           rl_entropy_stats *stats, float *dentropy);

// ---- the whole actor loss ----------------------------------------------------------

typedef struct rl_loss_config {
    rl_policy_config policy;
    rl_agg agg;                 // shared by the three terms, as in verl
    int use_kl_loss;            // 1: + kl_coef * agg(kl) (GRPO); 0: no KL term here
    rl_kl_estimator kl_type;
    double kl_coef;
    double entropy_coef;        // - entropy_coef * agg(entropy); 0: off
} rl_loss_config;

// verl's defaults: rl_policy_defaults, token-mean, KL loss off (low_var_kl,
// coef 0.001 when turned on), entropy_coef 0.
rl_loss_config rl_loss_defaults(void);

typedef struct rl_loss_inputs {
    const float *logp;        // (T) under the policy being trained
    const float *prox_logp;   // (T) proximal / old log-probs
    const float *behav_logp;  // (T) or NULL: behaviour log-probs (decoupled objective)
    const float *ref_logp;    // (T) reference log-probs; needed when use_kl_loss
    const float *adv;         // (T) advantages
    const float *entropy;     // (T) needed when entropy_coef != 0
} rl_loss_inputs;

typedef struct rl_loss_stats {
    double loss;  // policy + kl + entropy terms
    rl_policy_stats policy;
    rl_kl_stats kl;           // zeros when use_kl_loss is 0
    rl_entropy_stats entropy; // zeros when entropy_coef is 0
} rl_loss_stats;

// The actor loss of verl's dp_actor: policy_loss - entropy_coef * entropy +
// kl_coef * kl. Zeroes dlogp (T) and dentropy (T, or NULL when entropy_coef
// is 0) over all T tokens, then adds each term's gradient. stats may be NULL.
rlc_status rl_loss_compute(const rl_loss_config *c, const rl_seqs *s, const rl_loss_inputs *in,
                           rl_loss_stats *stats, float *dlogp, float *dentropy);

#endif
