// grpo_internal.h: the GRPO trainer's state and the phases of a step,
// shared by grpo.c (create, the step), grpo_data.c (selection, samples,
// no-grad forwards, advantages) and grpo_train.c (the minibatch updates).
#ifndef RLC_LEARNER_GRPO_INTERNAL_H
#define RLC_LEARNER_GRPO_INTERNAL_H

#include "actor/gpu_train.h"  // actor_gpu_trainer
#include "actor/train.h"      // actor_trainer
#include "batching.h"     // batch_packer, batch_sample
#include "dp.h"           // lrn_dp
#include "grpo.h"

struct grpo_trainer {
    grpo_config cfg;
    actor_model *policy;        // borrowed
    actor_params *params;       // borrowed from policy
    actor_model *ref;           // NULL without KL; owned when own_ref
    int own_ref;
    actor_trainer *fwd;         // the policy's forward / backward on the CPU; NULL on CUDA
    actor_gpu_trainer *gpu;     // cfg.cuda: the policy's forward / backward and AdamW on the GPU
                                // (the one flag of the GPU path); NULL on the CPU
    long gpu_skipped;           // cfg.cuda: AdamW steps skipped for a non-finite gradient
    actor_trainer *ref_fwd;     // the reference's forward (recompute: forward only)
    optim_adamw *opt;
    batch_packer *packer;
    float *grads;               // (numel) laid out like the parameters; NULL on CUDA (on the device)
    int V;
    int64_t version;
    long steps;                 // updates done: the schedule's step
    // one row, (micro_batch_tokens) each
    float *r_logp, *r_ent, *r_dlogp, *r_dent, *r_prox, *r_behav, *r_ref, *r_adv;
    unsigned char *r_mask;
    // one step, grown to the largest step seen. Token arrays are in sample
    // order, sample i at [soff[i], soff[i+1]); the "position layout" puts a
    // completion token's value at the position that predicts it (one before
    // the token), as actor_train_forward returns log-probs.
    size_t cap_tok, cap_smp, cap_grp;
    int *tok;                   // (T) prompt then kept completion tokens
    unsigned char *lmask;       // (T) packer loss mask: 1 on completion tokens
    unsigned char *pmask;       // (T) position layout: 1 where a completion token is predicted
    float *behav, *prox, *refl; // (T) position layout: behaviour, proximal, reference log-probs
    float *adv_tok, *kl_rew;    // (T) position layout: advantages, KL reward penalty
    const rlc_msg_trajectory **sel;  // (samples) the trajectories that train, group after group
    batch_sample *smp;          // (samples)
    int *soff;                  // (samples + 1)
    int *resp;                  // (samples) trained completion tokens (mask count)
    double *score, *adv, *pen;  // (samples)
    int *goff;                  // (groups + 1) group g is samples [goff[g], goff[g+1])
    unsigned char *keep;        // (groups)
    int *gsrc;                  // (groups) the caller's index of kept group g
    int *sidx;                  // (samples) the index of sample i in its caller's group
    const grpo_group *in;       // the caller's groups, during grpo_step only
    int packed_s0, packed_s1;   // the samples the packer holds now (-1: none)
    struct ppo_state *ppo;      // PPO's critic and its step buffers; NULL without PPO (ppo.c)
    lrn_dp *dp;                 // data-parallel ranks (borrowed); NULL: this process alone. With
                                // world > 1 rank r computes the rows r, r + world, ... of every
                                // pass and the gradients and statistics are summed (grpo_set_dp)
};

// Data parallelism: does this rank compute row `row` of a pass? Every row
// without a group.
static inline int grpo_row_mine(const grpo_trainer *t, int row) {
    return row % lrn_dp_world(t->dp) == lrn_dp_rank(t->dp);
}


static inline int grpo_kl_needed(const grpo_config *c) { return c->loss.kl_coef > 0; }

// Staleness filter: sel / goff get the trajectories within the bound (groups
// left empty disappear); fills the histogram and the data statistics.
// *ng: groups kept; *max_lag: the largest lag kept.
rlc_status grpo_select(grpo_trainer *t, const grpo_group *groups, int n_groups, int64_t u, grpo_stats *st, int *ng,
                       int64_t *max_lag);
// DAPO: drops the groups whose rewards are all equal. *ng in and out.
rlc_status grpo_filter_groups(grpo_trainer *t, int *ng, grpo_stats *st);
// Lays out the ns selected trajectories as samples; *n_resp: completion
// tokens to train on.
rlc_status grpo_build_samples(grpo_trainer *t, int ns, grpo_stats *st, long *n_resp);
// Packs samples [s0, s1) unless the packer holds them already.
rlc_status grpo_pack(grpo_trainer *t, int s0, int s1);
// A no-grad forward over every sample of fwd (the reference's), or of the
// policy when fwd is NULL (grpo_policy_forward); log-probs into dst
// (position layout).
rlc_status grpo_nograd_logprobs(grpo_trainer *t, actor_trainer *fwd, int ns, float *dst);
// The policy's forward over one row, on the CPU trainer or the GPU one:
// actor_train_forward's contract.
rlc_status grpo_policy_forward(grpo_trainer *t, const actor_batch *b, float *logp, float *ent);
// Scores (reward, minus the KL penalty in the reward, computed from `old`),
// advantages per group, and their per-token broadcast.
rlc_status grpo_advantages(grpo_trainer *t, int ns, int ng, const float *old, grpo_stats *st);
// Copies t->adv of the trained samples into the adv_out of their groups
// (grpo_group.adv_out, for the curriculum's statistics).
void grpo_export_advantages(grpo_trainer *t, int ng);
// The epochs of minibatch updates; use_behav: the proximal log-probs were
// recomputed (decoupled objective), else the behaviour ones are the old ones.
rlc_status grpo_train(grpo_trainer *t, int ns, int ng, int use_behav, grpo_stats *st);

// ---- PPO with a critic (ppo.c) --------------------------------------------------

// The critic (from cfg.ppo) and its row buffers. RLC_ERR_* as critic_create.
rlc_status ppo_create(grpo_trainer *t);
void ppo_free(struct ppo_state *p);  // NULL is fine
critic *ppo_critic(grpo_trainer *t);
// The old values of every sample (position layout), token rewards, GAE
// advantages into t->adv_tok (whitened) and returns; the statistics.
rlc_status ppo_advantages(grpo_trainer *t, int ns, const float *old, grpo_stats *st);
// ppo_epochs passes of critic updates over the minibatches grpo_train uses.
rlc_status ppo_train_critic(grpo_trainer *t, int ns, int ng, grpo_stats *st);

#endif
