// grpo_train.c: the update of a GRPO step: ppo_epochs passes over the
// minibatches (whole groups); per minibatch, row by row: forward, rl_loss
// with the minibatch's token and sequence counts, backward into one
// gradient; then clipping and one AdamW step. Statistics are token-weighted
// means over every forward.
#include <math.h>    // isfinite
#include <string.h>  // memcpy, memset

#include "grpo_internal.h"

// ---- the policy: the CPU trainer, or the GPU one when t->gpu ---------------------------

rlc_status grpo_policy_forward(grpo_trainer *t, const actor_batch *b, float *logp, float *ent) {
    if (t->gpu) return actor_gpu_train_forward(t->gpu, b, logp, ent);
    return actor_train_forward(t->fwd, b, logp, ent);
}

static rlc_status policy_backward(grpo_trainer *t, const float *dlogp, const float *dent) {
    if (t->gpu) return actor_gpu_train_backward(t->gpu, dlogp, dent);
    return actor_train_backward(t->fwd, dlogp, dent, t->grads);
}

static rlc_status policy_zero_grads(grpo_trainer *t) {
    if (t->gpu) return actor_gpu_grads_zero(t->gpu);
    memset(t->grads, 0, t->params->numel * sizeof(float));
    return RLC_OK;
}

// Clipping and one AdamW step. On the GPU the new weights are then copied
// into the policy's parameters, where weight sync, evaluation and
// checkpoints read them.
// With data-parallel ranks the gradient is first summed over them.
static rlc_status policy_update(grpo_trainer *t, double lr, optim_step_result *res) {
    if (lrn_dp_world(t->dp) > 1) {
        if (t->gpu) {
            void *kc;
            float *g;
            RLC_TRY(actor_gpu_grads_device(t->gpu, &kc, &g));
            RLC_TRY(lrn_dp_allreduce_device(t->dp, kc, g, actor_gpu_numel(t->gpu)));
        } else {
            RLC_TRY(lrn_dp_allreduce_sum(t->dp, t->grads, t->params->numel));
        }
    }
    if (!t->gpu) return optim_adamw_step(t->opt, t->params->data, t->grads, lr, res);
    const optim_adamw_config *o = &t->cfg.adamw;
    double norm;
    RLC_TRY(actor_gpu_adamw_step(t->gpu, lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->max_grad_norm, &norm));
    res->grad_norm = norm;
    res->skipped = !isfinite(norm);
    double coef = o->max_grad_norm > 0 ? o->max_grad_norm / (norm + 1e-6) : 1.0;  // as optim_adamw_step
    res->clip_coef = coef < 1 ? coef : 1.0;
    if (res->skipped) {
        t->gpu_skipped++;
        return RLC_OK;
    }
    return actor_gpu_params_download(t->gpu, t->params);
}

// ---- training -------------------------------------------------------------------------

// Sums over the training forwards; the means are token-weighted.
typedef struct train_acc {
    double tokens;                // policy-loss tokens (the weight of the means)
    double clip, clip_lower, ppo_kl, is_mean, is_capped, behav_kl, entropy;
    double kl, kl_tokens;
    double seq_ratio, seqs;       // GSPO: sum of the sequence ratios and their count
    double loss, pg_loss, gn_sum, gn_max;
    long opt_steps, skipped, fwd_tokens;
} train_acc;

// Copies the step arrays of row b's samples (samples s0 + idx[k]) into the
// row buffers.
static void gather_row(grpo_trainer *t, const actor_batch *b, const int *idx, int s0, const float *prox,
                       int use_behav, int use_ref) {
    for (int k = 0; k < b->n_seqs; k++) {
        int i = s0 + idx[k], o = t->soff[i], at = b->cu_seqlens[k];
        size_t len = (size_t)(t->soff[i + 1] - o), bytes = len * sizeof(float);
        memcpy(t->r_prox + at, prox + o, bytes);
        if (use_behav) memcpy(t->r_behav + at, t->behav + o, bytes);
        if (use_ref) memcpy(t->r_ref + at, t->refl + o, bytes);
        memcpy(t->r_adv + at, t->adv_tok + o, bytes);
        memcpy(t->r_mask + at, t->pmask + o, len);
    }
}

// The sums of a minibatch, as doubles, in and out of one all-reduce.
enum { ACC_SUMS = 16 };
static void acc_pack(const train_acc *a, double v[ACC_SUMS]) {
    const double x[ACC_SUMS] = {a->tokens, a->clip, a->clip_lower, a->ppo_kl, a->is_mean, a->is_capped,
                                a->behav_kl, a->entropy, a->kl, a->kl_tokens, a->seq_ratio, a->seqs,
                                a->loss, a->pg_loss, (double)a->fwd_tokens, 0};
    memcpy(v, x, sizeof x);
}
static void acc_unpack(train_acc *a, const double v[ACC_SUMS]) {
    a->tokens = v[0], a->clip = v[1], a->clip_lower = v[2], a->ppo_kl = v[3], a->is_mean = v[4];
    a->is_capped = v[5], a->behav_kl = v[6], a->entropy = v[7], a->kl = v[8], a->kl_tokens = v[9];
    a->seq_ratio = v[10], a->seqs = v[11], a->loss = v[12], a->pg_loss = v[13], a->fwd_tokens = (long)v[14];
}

// a += b over the sums (not the optimizer's counts).
static void acc_add(train_acc *a, const train_acc *b) {
    double x[ACC_SUMS], y[ACC_SUMS];
    acc_pack(a, x);
    acc_pack(b, y);
    for (int i = 0; i < ACC_SUMS; i++) x[i] += y[i];
    acc_unpack(a, x);
}

static void accumulate(train_acc *a, const rl_loss_stats *ls, const float *ent, const unsigned char *mask, int T) {
    double w = (double)ls->policy.tokens;
    a->tokens += w;
    a->clip += w * ls->policy.clipfrac;
    a->clip_lower += w * ls->policy.clipfrac_lower;
    a->ppo_kl += w * ls->policy.ppo_kl;
    a->is_mean += w * ls->policy.is_mean;
    a->is_capped += w * ls->policy.is_capped;
    a->behav_kl += w * ls->policy.behav_kl;
    a->kl += (double)ls->kl.tokens * ls->kl.kl_mean;
    a->kl_tokens += (double)ls->kl.tokens;
    a->seq_ratio += (double)ls->policy.seqs * ls->policy.seq_ratio;
    a->seqs += (double)ls->policy.seqs;
    for (int p = 0; p < T; p++)
        if (mask[p]) a->entropy += ent[p];
}

// One minibatch: samples [s0, s1): forward, loss and backward row by row
// with the minibatch's token and sequence counts, then clipping and AdamW.
static rlc_status train_minibatch(grpo_trainer *t, int s0, int s1, int use_behav, double norm, double lr,
                                  train_acc *a) {
    long N = 0, S = 0;
    for (int i = s0; i < s1; i++) {
        N += t->resp[i];
        S += t->resp[i] > 0;
    }
    if (N == 0) return RLC_OK;
    RLC_TRY(grpo_pack(t, s0, s1));
    rl_loss_config lc = t->cfg.loss;
    lc.agg.global_tokens = (double)N;
    lc.agg.global_seqs = (double)S;
    if (lc.agg.norm <= 0) lc.agg.norm = norm;
    int ent = lc.entropy_coef != 0;
    const float *prox = use_behav ? t->prox : t->behav;  // k == 0: the behaviour log-probs are the old ones
    RLC_TRY(policy_zero_grads(t));
    train_acc mb;  // this minibatch's sums (over every rank's rows once reduced)
    memset(&mb, 0, sizeof mb);
    for (int r = 0; r < batch_packer_rows(t->packer); r++) {
        if (!grpo_row_mine(t, r)) continue;
        const actor_batch *b = batch_packer_row(t->packer, r);
        int n;
        const int *idx = batch_packer_row_samples(t->packer, r, &n);
        RLC_TRY(grpo_policy_forward(t, b, t->r_logp, t->r_ent));
        gather_row(t, b, idx, s0, prox, use_behav, lc.use_kl_loss);
        rl_seqs rs = {.nseq = b->n_seqs, .offsets = b->cu_seqlens, .mask = t->r_mask};
        rl_loss_inputs in = {.logp = t->r_logp, .prox_logp = t->r_prox, .behav_logp = use_behav ? t->r_behav : NULL,
                             .ref_logp = lc.use_kl_loss ? t->r_ref : NULL, .adv = t->r_adv, .entropy = t->r_ent};
        rl_loss_stats ls;
        RLC_TRY(rl_loss_compute(&lc, &rs, &in, &ls, t->r_dlogp, ent ? t->r_dent : NULL));
        RLC_TRY(policy_backward(t, t->r_dlogp, ent ? t->r_dent : NULL));
        mb.loss += ls.loss;
        mb.pg_loss += ls.policy.loss;
        accumulate(&mb, &ls, t->r_ent, t->r_mask, b->n_tokens);
        mb.fwd_tokens += b->n_tokens;
    }
    if (lrn_dp_world(t->dp) > 1) {
        double v[ACC_SUMS];
        acc_pack(&mb, v);
        RLC_TRY(lrn_dp_allreduce_sum_f64(t->dp, v, ACC_SUMS));
        acc_unpack(&mb, v);
    }
    optim_step_result res;
    RLC_TRY(policy_update(t, lr, &res));
    a->opt_steps++;
    a->skipped += res.skipped;
    acc_add(a, &mb);
    if (isfinite(res.grad_norm)) {
        a->gn_sum += res.grad_norm;
        if (res.grad_norm > a->gn_max) a->gn_max = res.grad_norm;
    }
    return RLC_OK;
}

// The epochs: each splits the groups evenly into the minibatches.
rlc_status grpo_train(grpo_trainer *t, int ns, int ng, int use_behav, grpo_stats *st) {
    const grpo_config *c = &t->cfg;
    int norm = 1, M = c->minibatches < ng ? c->minibatches : ng;
    for (int i = 0; i < ns; i++)
        if (t->resp[i] > norm) norm = t->resp[i];
    double lr = optim_schedule_lr(&c->schedule, t->steps);
    train_acc a;
    memset(&a, 0, sizeof a);
    for (int e = 0; e < c->ppo_epochs; e++)
        for (int m = 0; m < M; m++) {
            int g0 = (int)((long)m * ng / M), g1 = (int)((long)(m + 1) * ng / M);
            RLC_TRY(train_minibatch(t, t->goff[g0], t->goff[g1], use_behav, norm, lr, &a));
        }
    st->lr = lr;
    st->optimizer_steps = a.opt_steps;
    st->skipped_steps = a.skipped;
    st->tokens = a.fwd_tokens;
    long applied = a.opt_steps - a.skipped;
    if (a.opt_steps > 0) {
        st->loss = a.loss / a.opt_steps;
        st->pg_loss = a.pg_loss / a.opt_steps;
    }
    if (applied > 0) st->grad_norm = a.gn_sum / applied;
    st->grad_norm_max = a.gn_max;
    if (a.tokens > 0) {
        st->clipfrac = a.clip / a.tokens;
        st->clipfrac_lower = a.clip_lower / a.tokens;
        st->approx_kl = a.ppo_kl / a.tokens;
        st->is_mean = a.is_mean / a.tokens;
        st->is_capped = a.is_capped / a.tokens;
        st->behav_kl = a.behav_kl / a.tokens;
        st->entropy = a.entropy / a.tokens;
    }
    if (a.kl_tokens > 0) st->kl = a.kl / a.kl_tokens;
    if (a.seqs > 0) st->seq_ratio = a.seq_ratio / a.seqs;
    st->updated = applied > 0;
    return RLC_OK;
}

