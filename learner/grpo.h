// grpo.h: the GRPO update step: groups of finished trajectories in, one
// policy update out, with no sockets. The learner's loop (learner/learner.h)
// collects the groups and calls grpo_step; everything numeric is here:
//
//   1. staleness: a trajectory whose oldest token version v lags the current
//      version u by more than max_staleness k (u - v > k) is dropped and
//      counted; the lags of every trajectory received form a histogram;
//   2. DAPO dynamic sampling (optional): groups whose rewards are all equal
//      are dropped and counted (their advantages are all 0);
//   3. samples: prompt + completion tokens, the loss on the completion;
//      a completion that does not fit micro_batch_tokens is cut (counted);
//   4. no-grad forwards over token-budget rows (learner/batching.h): the
//      reference log-probs (KL) and, when k > 0 and some trajectory lags, the
//      proximal log-probs of the current policy (the decoupled objective: the
//      ratio is taken against them, and each token is weighted by
//      min(pi_prox / pi_behav, C)); otherwise (k == 0, or every trajectory at
//      lag 0) the worker's behaviour log-probs are the old log-probs: the data
//      comes from the current weights, so they equal a recompute up to float
//      rounding (the KV-cached decoder and the packed trainer sum in
//      different orders). recompute_proximal forces the recompute (a worker
//      whose numerics differ from the learner's, e.g. bf16 rollouts);
//   5. scores (the reward, plus DAPO's overlong penalty when on, minus the
//      KL penalty when KL is in the reward), advantages per group (GRPO,
//      Dr.GRPO, RLOO, REINFORCE++-baseline; against the group's own
//      baseline when it brings one, grpo_group.base_n: Reinforce-Ada) or per
//      token (REINFORCE++: discounted returns whitened over the batch)
//      (learner/advantage.h), handed back per trajectory in
//      grpo_group.adv_out when asked (the curriculum's statistics); with PPO
//      instead the critic's values, GAE advantages and returns per token, and
//      ppo_epochs passes of critic updates over the same minibatches
//      (learner/ppo.c);
//   6. ppo_epochs passes, each over `minibatches` minibatches of whole
//      groups; per minibatch: forward, loss and dL/dlogp (learner/rl_loss.h)
//      and backward row by row, the loss normalised over the whole
//      minibatch (token-mean divides by the minibatch's completion tokens, not
//      a row's), then clipping and one AdamW step (learner/optim.h);
//   7. the policy version becomes u + 1.
// docs/algorithms.md ("GRPO step") describes the knobs.
//
// Memory: the rows' buffers and the gradient are allocated at create; the
// per-step buffers grow to the largest step seen and are then reused, so a
// step in steady state allocates nothing.
#ifndef RLC_LEARNER_GRPO_H
#define RLC_LEARNER_GRPO_H

#include <stdint.h>  // int64_t

#include "actor/model.h"     // actor_model
#include "core/json.h"       // json_t
#include "core/protocol.h"   // rlc_msg_trajectory
#include "core/status.h"     // rlc_status
#include "critic.h"          // critic, critic_config
#include "dp.h"              // lrn_dp
#include "optim.h"           // optim_adamw_config, optim_schedule, optim_adamw
#include "reward/reward.h"   // rlc_exp
#include "rl_loss.h"         // rl_loss_config

// ---- configuration ------------------------------------------------------------

typedef enum {
    GRPO_ADV_GRPO = 0,      // (r - mean) / (std + eps) per group          ("grpo")
    GRPO_ADV_DRGRPO,        // r - mean per group (Dr.GRPO: no std)        ("drgrpo")
    GRPO_ADV_RLOO,          // r - mean of the others                      ("rloo")
    GRPO_ADV_RPP_BASELINE,  // r - mean, whitened over the batch's tokens  ("reinforce++-baseline")
    GRPO_ADV_RPP,           // REINFORCE++: per-token discounted returns, whitened over
                            // the batch's tokens (no group baseline)  ("reinforce++")
    GRPO_ADV_COUNT
} grpo_adv_kind;

// The names above <-> the kind; RLC_ERR_CONFIG lists the known names.
rlc_status grpo_adv_parse(const char *name, grpo_adv_kind *out);
const char *grpo_adv_name(grpo_adv_kind k);

// PPO with a critic (algorithm.name = "ppo"): GAE advantages from a value
// model trained beside the policy (learner/ppo.c, learner/critic.h,
// learner/gae.h). docs/algorithms.md, "PPO with a critic".
typedef struct grpo_ppo_config {
    int enabled;              // 1: GAE + critic; the advantage estimator `adv` is not used
    double gamma, lam;        // GAE's discount and lambda (verl's algorithm.gamma / lam: 1, 1)
    const char *critic_path;  // a folder to start the critic from; NULL / "": the policy's weights
                              // (borrowed: read by grpo_trainer_create only)
    critic_config critic;     // the value model's optimizer and value clip
} grpo_ppo_config;

typedef struct grpo_config {
    optim_schedule schedule;    // lr, warm-up, decay; the schedule advances once per grpo_step
    optim_adamw_config adamw;   // betas, eps, weight decay, max_grad_norm (clipping)
    int micro_batch_tokens;     // tokens of one forward/backward row (>= 2)
    int vocab_chunk;            // lm_head chunk of the log-softmax (<= 0: whole vocabulary)
    int recompute;              // activation recomputation in the policy's backward
    int cuda;                   // 1: the policy's forward/backward (training and proximal log-probs)
                                // and AdamW run on CUDA device cuda_device (model.device), the new
                                // weights copied back into the policy after every optimizer step;
                                // the reference model and PPO's critic stay on the CPU. 0: the CPU
    int cuda_device;            // cuda:N's N
    int cuda_bf16;              // on CUDA: 1 computes in bfloat16 (model.dtype "bf16"), 0 in float32
    int ppo_epochs;             // passes over the step's data (>= 1)
    int minibatches;            // optimizer steps per epoch; the groups are split evenly
                                // (capped at the number of groups)
    rl_loss_config loss;        // policy clip (clip_low, clip_high, clip_ratio_c), the
                                // decoupled IS cap (policy.is_cap, policy.is_mode),
                                // aggregation, KL estimator and coefficient, entropy_coef.
                                // loss.use_kl_loss is derived: kl_coef > 0 and !kl_in_reward.
                                // agg.global_* are set per minibatch; agg.norm <= 0 for
                                // seq-mean-token-sum-norm means the step's longest completion.
    int kl_in_reward;           // 1: reward -= kl_coef * sum_t kl_t (old vs reference)
                                // instead of the KL term in the loss
    grpo_adv_kind adv;
    double adv_eps;             // GRPO's eps in (std + eps)
    int dynamic_sampling;       // DAPO: drop the groups whose rewards are all equal
    int max_staleness;          // k: a trajectory of version v joins only if u - v <= k
    int recompute_proximal;     // 1: recompute the proximal log-probs even when k == 0 or
                                // every trajectory is at lag 0
    double accuracy_threshold;  // a trajectory is correct when reward >= this (see grpo_stats)
    grpo_ppo_config ppo;        // PPO with a critic (off by default)
    double gamma;               // REINFORCE++: discount of the per-token returns, in [0, 1]
    int overlong_buffer;        // DAPO soft overlong penalty: L_c tokens (0: off)
    double overlong_penalty;    // its factor: reward += min(0, -(L - (L_max - L_c)) / L_c * factor)
    int max_new_tokens;         // L_max: sampling.max_new_tokens
    double temperature;         // sampling.temperature: the policy's and the reference's
                                // log-probs are log_softmax(logits / T), as the rollout
                                // samples (verl, TRL); 0 (greedy) counts as 1
} grpo_config;

// lr 1e-6 constant (no warm-up, total_steps 1000), AdamW (0.9, 0.999, 1e-8,
// weight decay 0, max_grad_norm 1), micro_batch_tokens 2048, vocab_chunk
// 4096, 1 epoch, 1 minibatch, clip 0.2 / 0.28, dual clip and IS cap as
// rl_policy_defaults (3, 5, truncate), vanilla policy loss, token-mean, KL
// off (k3), entropy 0, GRPO with eps 1e-6, no dynamic sampling,
// max_staleness 0, accuracy threshold 1.0, gamma 1, no overlong penalty
// (factor 1, max_new_tokens 1024), temperature 1: the experiment defaults
// (docs/config.md).
void grpo_config_default(grpo_config *c);

// Fills c (after grpo_config_default) from an experiment: algorithm.name
// (grpo, dapo, drgrpo, gspo: the group estimator; rloo; reinforce++: the
// per-token REINFORCE++; reinforce++-baseline; ppo: GAE with a critic, +
// algorithm.gamma, algorithm.lam and the critic.* keys:
// grpo_ppo_config_from_exp. The presets dapo, drgrpo and gspo were applied
// to the experiment's unset keys when it was loaded: reward.h), steps (the schedule's total),
// batch_prompts / minibatch_prompts (minibatches = ceil of the ratio),
// ppo_epochs, lr, lr_warmup_steps, weight_decay, adam_beta1, adam_beta2,
// max_grad_norm, clip_low, clip_high, kl_coef, kl_estimator, entropy_coef,
// loss_agg, norm_adv_by_std (false: Dr.GRPO), dynamic_sampling,
// max_staleness, model.gradient_checkpointing, algorithm.lr_schedule,
// min_lr_ratio, adam_eps, micro_batch_tokens, vocab_chunk, clip_ratio_c,
// is_cap, is_mode (truncate, mask), kl_in_reward, loss_agg_norm, advantage
// (grpo_adv_parse's names: any but its default "grpo" overrides the name's
// estimator), adv_eps, recompute_proximal, accuracy_threshold, gamma,
// policy_loss (vanilla, gspo), overlong_buffer, overlong_penalty,
// sampling.max_new_tokens, sampling.temperature, model.device (cuda,
// cuda_device) and model.dtype (cuda_bf16).
// RLC_ERR_CONFIG names the key; RLC_ERR_UNSUPPORTED for model.device cuda in
// a build without CUDA (kernels_cuda_require's message).
rlc_status grpo_config_from_exp(const rlc_exp *e, grpo_config *c);

// The PPO part of c from an experiment (after the policy's fields):
// algorithm.gamma, algorithm.lam, critic.path, critic.lr,
// critic.lr_warmup_steps, critic.weight_decay, critic.max_grad_norm,
// critic.cliprange_value; the critic's schedule kind, floor, total steps,
// betas, eps, rows and recomputation follow the policy's. RLC_ERR_CONFIG
// names the key.
rlc_status grpo_ppo_config_from_exp(const rlc_exp *e, grpo_config *c);

// RLC_OK, or RLC_ERR_CONFIG naming the first bad field.
rlc_status grpo_config_check(const grpo_config *c);

// ---- one step ---------------------------------------------------------------------

// One group: the n trajectories of one prompt (borrowed for the call).
// Optional, zero when unused:
//   base_n > 0: the baseline of the GRPO, Dr.GRPO and RLOO estimators is
//     base_mean and base_std (unbiased) of base_n rewards drawn for the
//     prompt, not the group's own (Reinforce-Ada: every sample drawn, of
//     which these n were kept; learner/ada.h). RLOO's baseline is then the
//     mean of the other base_n - 1. REINFORCE++-baseline ignores it.
//   adv_out (n): filled by grpo_step with the advantage each trajectory
//     trained with, the mean over its completion tokens (the advantage is
//     one per trajectory, broadcast); NaN for a trajectory not trained on
//     (stale, from the future, DAPO-filtered, no completion token in a row,
//     nothing trained this step). Set to NaN once the arguments are
//     checked, so a step that fails later leaves NaN or the values so far.
typedef struct grpo_group {
    const rlc_msg_trajectory *trajs;  // (n)
    int n;
    int base_n;                       // 0: the group's own statistics
    double base_mean, base_std;
    double *adv_out;                  // (n) or NULL
} grpo_group;

#define GRPO_STALE_BINS 16  // staleness histogram: lags 0 .. 14, and >= 15 in the last bin

typedef struct grpo_stats {
    int64_t version;          // the policy version after the step: u + 1, or u when nothing was trained
    int updated;              // 1: at least one optimizer step was applied
    // what came in and what was left out
    long groups, trajectories;       // received
    long dropped_stale;              // u - v > k
    long dropped_future;             // a token of a version after u (one the learner never made)
    long filtered_groups;            // DAPO: all-equal groups dropped
    long filtered_trajectories;      // their trajectories
    long truncated;                  // completions cut to fit micro_batch_tokens
    long trained_groups, trained_trajectories;
    long staleness[GRPO_STALE_BINS]; // received trajectories (not the future ones) by u - v
    // the data (over the trajectories within the staleness bound, before the DAPO filter)
    double reward_mean, reward_std;  // population std
    double accuracy;                 // share correct: a reward component named "correct" or
                                     // "accuracy" >= 0.5 when the trajectory has one,
                                     // else reward >= accuracy_threshold
    double resp_len_mean;            // completion tokens, as received
    long resp_len_max;
    // advantages (per trained trajectory; REINFORCE++: the mean over its tokens)
    double adv_mean, adv_std, adv_absmax;
    double overlong_mean;    // DAPO overlong penalty added to the reward, mean per trained trajectory
    double overlong_frac;    // share of trained trajectories it penalised
    double seq_ratio;        // GSPO: mean sequence ratio s_i over every training forward (0: vanilla)
    // training: token-weighted means over every forward of every epoch and minibatch
    double loss;             // mean over the optimizer steps of the minibatch loss
    double pg_loss;          // its policy part
    double kl;               // KL estimate to the reference (the loss's, or the reward's
                             // over the old log-probs); 0 without a reference
    double entropy;          // mean entropy of the trained tokens
    double clipfrac, clipfrac_lower;
    double approx_kl;        // mean of (old - current) log-prob (verl's ppo_kl)
    double is_mean;          // mean decoupled IS weight applied (1 when k == 0)
    double is_capped;        // share of tokens whose IS weight hit the cap C
    double behav_kl;         // mean of (behaviour - proximal): how far the data lags
    double grad_norm;        // mean over the optimizer steps, before clipping
    double grad_norm_max;
    double lr;
    long optimizer_steps, skipped_steps;  // skipped: non-finite gradient, no change
    long train_tokens;       // completion tokens trained on (each counted once)
    long tokens;             // tokens through forward + backward, all epochs
    double tokens_per_s;     // tokens / train_s
    double ref_s, prox_s, train_s, total_s;  // time in the reference and proximal
                                             // forwards, in training, in the whole step
    // PPO's critic (zeros without PPO); over the response tokens of the step
    double vf_loss;           // mean over the critic's optimizer steps of the minibatch value loss
    double vf_clipfrac;       // share of tokens where the clipped value loss was the larger
    double values_mean;       // mean old value V (the critic before this step's updates)
    double returns_mean;      // mean GAE return R = A + V
    double vf_explained_var;  // 1 - var(R - V) / var(R) with the old values
    double critic_grad_norm;  // mean over the critic's optimizer steps, before clipping
    double critic_lr;
    double critic_s;          // time in the critic's forwards and updates
} grpo_stats;

typedef struct grpo_trainer grpo_trainer;

// A trainer for `policy` (borrowed; updated in place by grpo_step). The
// reference model is needed when loss.kl_coef > 0: `ref` when given
// (borrowed, frozen, same configuration: e.g. the base model loaded again
// on a resume), else a copy of the policy's weights made now. version is
// the policy's current version (0 for a fresh run). Allocates the
// optimizer state, the gradient, the trainers' activations and the rows'
// buffers. With c->cuda the policy's weights are uploaded to a GPU trainer
// (actor/gpu_train.h), which holds the activations, gradient and moments;
// the host keeps the parameters (updated after every optimizer step) and an
// optimizer whose moments grpo_trainer_sync_host fills for checkpoints.
// RLC_ERR_CONFIG (a bad setting, named), RLC_ERR_ARG (ref of
// another shape), RLC_ERR_NOMEM, RLC_ERR_CUDA / RLC_ERR_UNSUPPORTED (c->cuda:
// the device cannot be opened, the message names it; a build without
// CUDA); nothing stays allocated on error.
rlc_status grpo_trainer_create(actor_model *policy, actor_model *ref, const grpo_config *c,
                               int64_t version, grpo_trainer **out);
void grpo_trainer_free(grpo_trainer *t);  // NULL is fine; frees the copied reference

// One update from the trajectories of n_groups groups at current version u
// (the version that grpo_trainer_version reports). stats may be NULL.
// Trajectories are read only during the call. When nothing is left to train
// on (everything stale or filtered, no completion tokens) no optimizer step
// is taken and the version stays u (stats->updated = 0).
// Errors: RLC_ERR_ARG for u different from the trainer's version, or a bad
// trajectory (NULL arrays, a token outside the vocabulary, a non-finite
// reward or log-prob; the message names group and index), RLC_ERR_LIMIT
// for a step of more than INT_MAX tokens, RLC_ERR_NOMEM when a step buffer
// cannot grow: all before any weight changes. A failure inside a forward
// or backward after the first optimizer step leaves the weights partly
// updated and the version unchanged.
rlc_status grpo_step(grpo_trainer *t, const grpo_group *groups, int n_groups, int64_t u,
                     grpo_stats *stats);

// Data-parallel ranks (learner/dp.h; borrowed, NULL or world 1: alone).
// With world > 1 every rank calls grpo_step with the same groups and
// version; the packed rows of every no-grad pass and every minibatch are
// dealt round-robin (row i to rank i % world), the no-grad log-probs, the
// gradient (before clipping and AdamW) and the loss statistics are summed
// over the ranks (lrn_dp_allreduce_sum; on CUDA the device gradient through
// NCCL), and each rank applies the same update. The loss is aggregated with
// the whole minibatch's token and sequence counts, so the result equals
// the single-process step up to the order of the float sums. PPO's critic
// is sharded the same way: its values' pass and its minibatch rows are
// dealt round-robin, the values summed, its gradient (trunk and head) and
// value-loss statistics summed before its AdamW step (always on the CPU:
// lrn_dp_allreduce_sum, also when the policy uses NCCL). adv_out and the
// stats are filled on every rank alike. Always RLC_OK; a collective's
// errors (RLC_ERR_LIMIT naming a dead rank, ...) come out of grpo_step.
rlc_status grpo_trainer_set_dp(grpo_trainer *t, lrn_dp *dp);

int64_t grpo_trainer_version(const grpo_trainer *t);
long grpo_trainer_steps(const grpo_trainer *t);  // grpo_steps that updated (the schedule's step)
// Restores version and step count on a resume (with the optimizer's moments
// restored through grpo_trainer_optim).
void grpo_trainer_set_position(grpo_trainer *t, int64_t version, long steps);
optim_adamw *grpo_trainer_optim(grpo_trainer *t);         // borrowed, for checkpoints
// On CUDA (grpo_config.cuda) the optimizer's state lives on the device:
// sync_host copies the AdamW moments and step count into
// grpo_trainer_optim's (call before saving a checkpoint); reload uploads the
// policy's parameters after they changed on the host (a resume). AdamW's
// moments cannot be uploaded (actor/gpu_train.h has no such call): after a
// resume on CUDA they start from zero, with a warning. Both do nothing on
// the CPU. RLC_ERR_CUDA on a failed copy.
rlc_status grpo_trainer_sync_host(grpo_trainer *t);
rlc_status grpo_trainer_reload(grpo_trainer *t);
actor_model *grpo_trainer_reference(grpo_trainer *t);     // borrowed; NULL without KL
critic *grpo_trainer_critic(grpo_trainer *t);             // borrowed; NULL without PPO
const grpo_config *grpo_trainer_config(const grpo_trainer *t);
// The GPU trainer (model.device cuda; borrowed), NULL on the CPU: its device
// master weights are the source of the NCCL weight broadcast.
struct actor_gpu_trainer *grpo_trainer_gpu(grpo_trainer *t);

// The stats as a new JSON object (the caller owns it; NULL when out of
// memory): every field above under its own name, staleness as an array.
json_t *grpo_stats_json(const grpo_stats *s);

#endif
