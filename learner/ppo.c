// ppo.c: PPO with a critic inside the GRPO step (grpo.h): the experiment
// keys, the critic's old values of every sample, token rewards, GAE
// advantages and returns (gae.h), and the critic's updates with the clipped
// value loss (value_loss.h) over the same minibatches as the policy's.
// docs/algorithms.md, "PPO with a critic".
//
// Data-parallel ranks (grpo_trainer_set_dp): the critic is sharded as the
// policy is. Row i of the values' pass and of every minibatch is computed
// by rank i % world; the values are summed over the ranks (each position
// written by one rank, 0 elsewhere: exact), so GAE, the returns and their
// statistics are the same on every rank. The value loss is aggregated with
// the minibatch's global counts; the critic's gradient (trunk and head) and
// its loss sums are summed before critic_step. The critic lives on the CPU
// (also when the policy trains on a GPU), so its sums always go through
// lrn_dp_allreduce_sum (ZeroMQ), never NCCL.
#include <math.h>    // isfinite, fabs
#include <string.h>  // memcpy, memset

#include "core/core.h"   // rlc_errorf, rlc_malloc, rlc_realloc, rlc_now
#include "gae.h"         // gae_compute, gae_whiten
#include "grpo_internal.h"
#include "value_loss.h"  // value_loss_compute

struct ppo_state {
    critic *cr;
    size_t cap;                     // step arrays' capacity in tokens
    float *values, *returns, *rew;  // (T of the step) position layout: old values, GAE returns, token rewards
    float *r_v, *r_vold, *r_ret, *r_dv;  // (micro_batch_tokens) one row: values, old values, returns, dL/dV
    unsigned char *r_mask;               // (micro_batch_tokens)
};

// ---- configuration -----------------------------------------------------------------

#define TRY_KEY(expr, key)                                                         \
    do {                                                                           \
        rlc_status s_ = (expr);                                                    \
        if (s_ != RLC_OK) return rlc_error_wrap(s_, "experiment: %s", key);        \
    } while (0)

rlc_status grpo_ppo_config_from_exp(const rlc_exp *e, grpo_config *c) {
    grpo_ppo_config *p = &c->ppo;
    critic_config *k = &p->critic;
    long long warmup;
    double lr, wd, clip, vclip;
    TRY_KEY(rlc_exp_get_number(e, "algorithm.gamma", &p->gamma), "algorithm.gamma");
    TRY_KEY(rlc_exp_get_number(e, "algorithm.lam", &p->lam), "algorithm.lam");
    TRY_KEY(rlc_exp_get_string(e, "critic.path", &p->critic_path), "critic.path");
    TRY_KEY(rlc_exp_get_number(e, "critic.lr", &lr), "critic.lr");
    TRY_KEY(rlc_exp_get_int(e, "critic.lr_warmup_steps", &warmup), "critic.lr_warmup_steps");
    TRY_KEY(rlc_exp_get_number(e, "critic.weight_decay", &wd), "critic.weight_decay");
    TRY_KEY(rlc_exp_get_number(e, "critic.max_grad_norm", &clip), "critic.max_grad_norm");
    TRY_KEY(rlc_exp_get_number(e, "critic.cliprange_value", &vclip), "critic.cliprange_value");
    critic_config_default(k);
    k->schedule = c->schedule;  // kind, floor and total steps as the policy's
    k->schedule.lr = lr;
    k->schedule.warmup_steps = (long)warmup;
    k->adamw = c->adamw;  // betas, eps as the policy's
    k->adamw.weight_decay = wd;
    k->adamw.max_grad_norm = clip;
    k->cliprange_value = vclip;
    k->micro_batch_tokens = c->micro_batch_tokens;
    k->recompute = c->recompute;
    if (!(p->gamma >= 0 && p->gamma <= 1) || !(p->lam >= 0 && p->lam <= 1))
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: algorithm.gamma %g and algorithm.lam %g must be in [0, 1]",
                          p->gamma, p->lam);
    if (!(lr >= 0 && isfinite(lr))) return rlc_errorf(RLC_ERR_CONFIG, "experiment: critic.lr %g must be >= 0", lr);
    if (warmup < 0) return rlc_errorf(RLC_ERR_CONFIG, "experiment: critic.lr_warmup_steps %lld must be >= 0", warmup);
    if (!(vclip >= 0 && isfinite(vclip)))
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: critic.cliprange_value %g must be >= 0", vclip);
    return RLC_OK;
}

// ---- create / free ---------------------------------------------------------------------

void ppo_free(struct ppo_state *p) {
    if (!p) return;
    critic_free(p->cr);
    float *b[] = {p->values, p->returns, p->rew, p->r_v, p->r_vold, p->r_ret, p->r_dv};
    for (size_t i = 0; i < sizeof b / sizeof *b; i++) rlc_free(b[i]);
    rlc_free(p->r_mask);
    rlc_free(p);
}

rlc_status ppo_create(grpo_trainer *t) {
    struct ppo_state *p = rlc_calloc(1, sizeof *p);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "PPO: out of memory");
    t->ppo = p;  // freed with the trainer, also on a failure below
    critic_config cc = t->cfg.ppo.critic;
    cc.micro_batch_tokens = t->cfg.micro_batch_tokens;
    cc.recompute = t->cfg.recompute;
    RLC_TRY(critic_create(t->policy, t->cfg.ppo.critic_path, &cc, &p->cr));
    t->cfg.ppo.critic_path = NULL;  // borrowed: not kept past create
    size_t T = (size_t)t->cfg.micro_batch_tokens;
    float **rows[] = {&p->r_v, &p->r_vold, &p->r_ret, &p->r_dv};
    int ok = 1;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) ok &= (*rows[i] = rlc_malloc(T * sizeof(float))) != NULL;
    ok &= (p->r_mask = rlc_malloc(T)) != NULL;
    if (!ok) return rlc_errorf(RLC_ERR_NOMEM, "PPO: out of memory for the critic's row buffers");
    return RLC_OK;
}

critic *ppo_critic(grpo_trainer *t) { return t->ppo ? t->ppo->cr : NULL; }

static rlc_status reserve(struct ppo_state *p, size_t n) {
    if (n <= p->cap) return RLC_OK;
    size_t c = p->cap ? p->cap : 64;
    while (c < n) c *= 2;
    float **b[] = {&p->values, &p->returns, &p->rew};
    for (size_t i = 0; i < sizeof b / sizeof *b; i++) {
        float *x = rlc_realloc(*b[i], c * sizeof(float));
        if (!x) return rlc_errorf(RLC_ERR_NOMEM, "PPO: out of memory for a step of %zu tokens", n);
        *b[i] = x;
    }
    p->cap = c;
    return RLC_OK;
}

// ---- values, rewards, advantages ------------------------------------------------------------

// The critic's values of every sample before this step's updates (position layout).
static rlc_status old_values(grpo_trainer *t, int ns) {
    struct ppo_state *p = t->ppo;
    RLC_TRY(grpo_pack(t, 0, ns));
    int dp = lrn_dp_world(t->dp) > 1;
    if (dp) memset(p->values, 0, (size_t)t->soff[ns] * sizeof(float));
    for (int r = 0; r < batch_packer_rows(t->packer); r++) {
        if (!grpo_row_mine(t, r)) continue;
        const actor_batch *b = batch_packer_row(t->packer, r);
        int n;
        const int *idx = batch_packer_row_samples(t->packer, r, &n);
        RLC_TRY(critic_forward(p->cr, b, p->r_v));
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            memcpy(p->values + t->soff[i], p->r_v + b->cu_seqlens[k],
                   (size_t)(t->soff[i + 1] - t->soff[i]) * sizeof(float));
        }
    }
    if (dp) RLC_TRY(lrn_dp_allreduce_sum(t->dp, p->values, (size_t)t->soff[ns]));
    return RLC_OK;
}

rlc_status ppo_advantages(grpo_trainer *t, int ns, const float *old, grpo_stats *st) {
    const grpo_config *c = &t->cfg;
    struct ppo_state *p = t->ppo;
    int T = t->soff[ns];
    double t0 = rlc_now();
    RLC_TRY(reserve(p, (size_t)(T ? T : 1)));
    RLC_TRY(old_values(t, ns));
    rl_seqs all = {.nseq = ns, .offsets = t->soff, .mask = t->pmask};
    // token rewards: the outcome on the last response token, minus kl_coef * kl_t per token
    for (int i = 0; i < ns; i++) t->score[i] = t->sel[i]->reward;
    RLC_TRY(rl_seqs_place_outcome(&all, t->score, p->rew));
    if (grpo_kl_needed(c) && c->kl_in_reward) {
        double kl_mean = 0;
        RLC_TRY(rl_kl_penalize_rewards(c->loss.kl_type, c->loss.kl_coef, &all, old, t->refl, p->rew, &kl_mean));
        st->kl = kl_mean;
    }
    RLC_TRY(gae_compute(&all, p->rew, p->values, c->ppo.gamma, c->ppo.lam, t->adv_tok, p->returns));
    // statistics over the response tokens, with the old values: explained variance of the returns
    double n = 0, sv = 0, sr = 0, srr = 0, se = 0, see = 0;
    for (int k = 0; k < T; k++) {
        if (!t->pmask[k]) continue;
        double v = p->values[k], R = p->returns[k];
        n++, sv += v, sr += R, srr += R * R, se += R - v, see += (R - v) * (R - v);
    }
    if (n > 0) {
        st->values_mean = sv / n;
        st->returns_mean = sr / n;
        double var_r = srr / n - st->returns_mean * st->returns_mean, var_e = see / n - (se / n) * (se / n);
        st->vf_explained_var = var_r > 1e-12 ? 1 - var_e / var_r : 0;
    }
    RLC_TRY(gae_whiten(&all, t->adv_tok, NULL, NULL));
    double sa = 0, saa = 0, amax = 0;
    for (int k = 0; k < T; k++) {
        if (!t->pmask[k]) continue;
        double a = t->adv_tok[k];
        sa += a, saa += a * a, amax = fabs(a) > amax ? fabs(a) : amax;
    }
    if (n > 0) {
        st->adv_mean = sa / n;
        double var = saa / n - st->adv_mean * st->adv_mean;
        st->adv_std = var > 0 ? sqrt(var) : 0;
        st->adv_absmax = amax;
    }
    st->critic_s += rlc_now() - t0;
    return RLC_OK;
}

// ---- critic updates ----------------------------------------------------------------------------

typedef struct critic_acc {
    double loss, clip, tokens, gn_sum;
    long steps, applied;
} critic_acc;

// Data-parallel ranks: the critic's gradient (trunk, then head) and this
// minibatch's loss sums (loss, clipped tokens, tokens) summed over the ranks.
static rlc_status critic_allreduce(grpo_trainer *t, double sums[3]) {
    if (lrn_dp_world(t->dp) <= 1) return RLC_OK;
    critic *cr = t->ppo->cr;
    float *head_g, *g = critic_grads(cr, &head_g);
    RLC_TRY(lrn_dp_allreduce_sum(t->dp, g, actor_model_params(critic_model(cr))->numel));
    RLC_TRY(lrn_dp_allreduce_sum(t->dp, head_g, (size_t)actor_model_config(critic_model(cr))->hidden_size + 1));
    return lrn_dp_allreduce_sum_f64(t->dp, sums, 3);
}

// One minibatch, samples [s0, s1): forward, value loss and backward row by
// row (this rank's rows) with the minibatch's counts, then one critic step.
static rlc_status critic_minibatch(grpo_trainer *t, int s0, int s1, double norm, double lr, critic_acc *a) {
    struct ppo_state *p = t->ppo;
    long N = 0, S = 0;
    for (int i = s0; i < s1; i++) N += t->resp[i], S += t->resp[i] > 0;
    if (N == 0) return RLC_OK;
    RLC_TRY(grpo_pack(t, s0, s1));
    rl_agg agg = t->cfg.loss.agg;  // verl: the critic aggregates as the actor does
    agg.global_tokens = (double)N;
    agg.global_seqs = (double)S;
    if (agg.norm <= 0) agg.norm = norm;
    double sums[3] = {0, 0, 0};  // loss, clipped tokens, tokens (over every rank's rows once reduced)
    for (int r = 0; r < batch_packer_rows(t->packer); r++) {
        if (!grpo_row_mine(t, r)) continue;
        const actor_batch *b = batch_packer_row(t->packer, r);
        int n;
        const int *idx = batch_packer_row_samples(t->packer, r, &n);
        RLC_TRY(critic_forward(p->cr, b, p->r_v));
        for (int k = 0; k < n; k++) {
            int i = s0 + idx[k], o = t->soff[i], at = b->cu_seqlens[k];
            size_t len = (size_t)(t->soff[i + 1] - o);
            memcpy(p->r_vold + at, p->values + o, len * sizeof(float));
            memcpy(p->r_ret + at, p->returns + o, len * sizeof(float));
            memcpy(p->r_mask + at, t->pmask + o, len);
        }
        rl_seqs rs = {.nseq = b->n_seqs, .offsets = b->cu_seqlens, .mask = p->r_mask};
        value_loss_stats vs;
        memset(p->r_dv, 0, (size_t)b->n_tokens * sizeof(float));
        RLC_TRY(value_loss_compute(&agg, &rs, p->r_v, p->r_vold, p->r_ret, t->cfg.ppo.critic.cliprange_value, &vs,
                                   p->r_dv));
        RLC_TRY(critic_backward(p->cr, p->r_dv));
        sums[0] += vs.loss;
        sums[1] += vs.clipfrac * (double)vs.tokens;
        sums[2] += (double)vs.tokens;
    }
    RLC_TRY(critic_allreduce(t, sums));
    optim_step_result res;
    RLC_TRY(critic_step(p->cr, lr, &res));
    a->steps++;
    a->loss += sums[0];
    a->clip += sums[1];
    a->tokens += sums[2];
    if (!res.skipped) a->applied++, a->gn_sum += res.grad_norm;
    return RLC_OK;
}

rlc_status ppo_train_critic(grpo_trainer *t, int ns, int ng, grpo_stats *st) {
    const grpo_config *c = &t->cfg;
    double t0 = rlc_now();
    int norm = 1, M = c->minibatches < ng ? c->minibatches : ng;
    for (int i = 0; i < ns; i++)
        if (t->resp[i] > norm) norm = t->resp[i];
    double lr = optim_schedule_lr(&c->ppo.critic.schedule, t->steps);
    critic_acc a;
    memset(&a, 0, sizeof a);
    for (int e = 0; e < c->ppo_epochs; e++)
        for (int m = 0; m < M; m++) {
            int g0 = (int)((long)m * ng / M), g1 = (int)((long)(m + 1) * ng / M);
            RLC_TRY(critic_minibatch(t, t->goff[g0], t->goff[g1], norm, lr, &a));
        }
    st->critic_lr = lr;
    if (a.steps > 0) st->vf_loss = a.loss / (double)a.steps;
    if (a.tokens > 0) st->vf_clipfrac = a.clip / a.tokens;
    if (a.applied > 0) st->critic_grad_norm = a.gn_sum / (double)a.applied;
    st->critic_s += rlc_now() - t0;
    return RLC_OK;
}
