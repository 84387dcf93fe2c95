// grpo.c: the GRPO trainer: create / free, and grpo_step, which runs the
// phases in order: select (staleness, DAPO filter), lay out the samples,
// the no-grad reference and proximal forwards, scores and advantages
// (grpo_data.c), then the epochs of minibatch updates (grpo_train.c).
#include <string.h>  // memcpy, memset

#include "core/core.h"  // rlc_errorf, rlc_malloc, rlc_now
#include "grpo_internal.h"

// ---- create / free ----------------------------------------------------------------

void grpo_trainer_free(grpo_trainer *t) {
    if (!t) return;
    actor_train_free(t->fwd);
    actor_gpu_trainer_free(t->gpu);
    actor_train_free(t->ref_fwd);
    if (t->own_ref) actor_model_free(t->ref);
    ppo_free(t->ppo);
    optim_adamw_free(t->opt);
    batch_packer_free(t->packer);
    rlc_free_aligned(t->grads);
    float *rows[] = {t->r_logp, t->r_ent, t->r_dlogp, t->r_dent, t->r_prox, t->r_behav, t->r_ref, t->r_adv,
                     t->behav, t->prox, t->refl, t->adv_tok, t->kl_rew};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) rlc_free(rows[i]);
    rlc_free(t->r_mask);
    rlc_free(t->tok);
    rlc_free(t->lmask);
    rlc_free(t->pmask);
    rlc_free((void *)t->sel);
    rlc_free(t->smp);
    rlc_free(t->soff);
    rlc_free(t->resp);
    rlc_free(t->gsrc);
    rlc_free(t->sidx);
    rlc_free(t->score);
    rlc_free(t->adv);
    rlc_free(t->pen);
    rlc_free(t->goff);
    rlc_free(t->keep);
    rlc_free(t);
}

// The frozen reference: `ref` (checked against the policy) or a copy of the
// policy's weights as they are now.
static rlc_status make_reference(grpo_trainer *t, actor_model *ref) {
    const actor_config *pc = actor_model_config(t->policy);
    if (ref) {
        const actor_config *rc = actor_model_config(ref);
        if (rc->vocab_size != pc->vocab_size || actor_model_params(ref)->numel != t->params->numel)
            return rlc_errorf(RLC_ERR_ARG, "GRPO: the reference model (vocab %d, %zu parameters) is not shaped like "
                              "the policy (vocab %d, %zu parameters)", rc->vocab_size,
                              actor_model_params(ref)->numel, pc->vocab_size, t->params->numel);
        t->ref = ref;
        return RLC_OK;
    }
    RLC_TRY(actor_model_create(pc, &t->ref));
    t->own_ref = 1;
    memcpy(actor_model_params(t->ref)->data, t->params->data, t->params->numel * sizeof(float));
    return RLC_OK;
}

// cfg.cuda: the policy's trainer on the GPU, from the policy's weights as
// they are now. The reference model and PPO's critic stay on the CPU.
static rlc_status create_gpu(grpo_trainer *t) {
    const grpo_config *c = &t->cfg;
    rlc_status s = actor_gpu_trainer_create(t->policy, c->cuda_device, c->cuda_bf16, c->micro_batch_tokens,
                                            c->vocab_chunk, c->recompute, &t->gpu);
    if (s == RLC_OK) s = actor_gpu_train_set_temperature(t->gpu, (float)c->temperature);
    if (s != RLC_OK) return rlc_error_wrap(s, "GRPO: the policy's trainer on model.device \"cuda:%d\"", c->cuda_device);
    RLC_INFO("GRPO: the policy trains on cuda:%d (%s%s)%s%s", c->cuda_device, c->cuda_bf16 ? "bf16" : "fp32",
             c->recompute ? ", recompute" : "", grpo_kl_needed(c) ? "; the reference model runs on the CPU" : "",
             c->ppo.enabled ? "; PPO's critic runs on the CPU" : "");
    return RLC_OK;
}

static rlc_status create(grpo_trainer *t, actor_model *ref) {
    const grpo_config *c = &t->cfg;
    size_t T = (size_t)c->micro_batch_tokens;
    actor_train_options to = {.max_tokens = c->micro_batch_tokens, .vocab_chunk = c->vocab_chunk,
                              .recompute = c->recompute, .temperature = (float)c->temperature};
    if (c->cuda) RLC_TRY(create_gpu(t));
    else RLC_TRY(actor_train_create_opts(t->policy, &to, &t->fwd));
    if (grpo_kl_needed(c)) {
        RLC_TRY(make_reference(t, ref));
        to.recompute = 1;  // forward only: keep one layer's activations, not all
        RLC_TRY(actor_train_create_opts(t->ref, &to, &t->ref_fwd));
    }
    RLC_TRY(optim_adamw_create(&c->adamw, t->params, &t->opt));
    if (c->ppo.enabled) RLC_TRY(ppo_create(t));  // the critic (learner/ppo.c)
    RLC_TRY(batch_packer_create(c->micro_batch_tokens, &t->packer));
    if (!t->gpu) t->grads = rlc_malloc_aligned(t->params->numel * sizeof(float));
    float **rows[] = {&t->r_logp, &t->r_ent, &t->r_dlogp, &t->r_dent, &t->r_prox, &t->r_behav, &t->r_ref, &t->r_adv};
    int ok = t->gpu || t->grads != NULL;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) ok &= (*rows[i] = rlc_malloc(T * sizeof(float))) != NULL;
    ok &= (t->r_mask = rlc_malloc(T)) != NULL;
    if (!ok) return rlc_errorf(RLC_ERR_NOMEM, "GRPO: out of memory for the row buffers (%zu tokens)", T);
    return RLC_OK;
}

rlc_status grpo_trainer_create(actor_model *policy, actor_model *ref, const grpo_config *c, int64_t version,
                               grpo_trainer **out) {
    *out = NULL;
    if (!policy || !c) return rlc_errorf(RLC_ERR_ARG, "grpo_trainer_create: %s is NULL", policy ? "config" : "policy");
    RLC_TRY(grpo_config_check(c));
    if (version < 0) return rlc_errorf(RLC_ERR_ARG, "grpo_trainer_create: version %lld < 0", (long long)version);
    grpo_trainer *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "GRPO: out of memory");
    t->cfg = *c;
    t->cfg.loss.use_kl_loss = grpo_kl_needed(c) && !c->kl_in_reward;
    t->policy = policy;
    t->params = actor_model_params(policy);
    t->V = actor_model_config(policy)->vocab_size;
    t->version = version;
    t->packed_s0 = t->packed_s1 = -1;
    rlc_status s = create(t, ref);
    if (s != RLC_OK) {
        grpo_trainer_free(t);
        return s;
    }
    *out = t;
    return RLC_OK;
}

rlc_status grpo_trainer_set_dp(grpo_trainer *t, lrn_dp *dp) {
    t->dp = dp;
    return RLC_OK;
}

int64_t grpo_trainer_version(const grpo_trainer *t) { return t->version; }
long grpo_trainer_steps(const grpo_trainer *t) { return t->steps; }
void grpo_trainer_set_position(grpo_trainer *t, int64_t version, long steps) {
    t->version = version;
    t->steps = steps;
}
optim_adamw *grpo_trainer_optim(grpo_trainer *t) { return t->opt; }

actor_gpu_trainer *grpo_trainer_gpu(grpo_trainer *t) { return t->gpu; }

rlc_status grpo_trainer_sync_host(grpo_trainer *t) {
    if (!t->gpu) return RLC_OK;
    if (optim_adamw_numel(t->opt) != actor_gpu_numel(t->gpu))
        return rlc_errorf(RLC_ERR_STATE, "GRPO: the optimizer holds %zu values, the GPU trainer %zu",
                          optim_adamw_numel(t->opt), actor_gpu_numel(t->gpu));
    RLC_TRY(actor_gpu_moments_download(t->gpu, optim_adamw_m(t->opt), optim_adamw_v(t->opt)));
    optim_adamw_set_counts(t->opt, actor_gpu_adamw_steps(t->gpu), t->gpu_skipped);
    return RLC_OK;
}

rlc_status grpo_trainer_reload(grpo_trainer *t) {
    if (!t->gpu) return RLC_OK;
    RLC_TRY(actor_gpu_params_upload(t->gpu, t->params));
    return actor_gpu_moments_upload(t->gpu, optim_adamw_m(t->opt), optim_adamw_v(t->opt), optim_adamw_steps(t->opt));
}
actor_model *grpo_trainer_reference(grpo_trainer *t) { return t->ref; }
critic *grpo_trainer_critic(grpo_trainer *t) { return ppo_critic(t); }
const grpo_config *grpo_trainer_config(const grpo_trainer *t) { return &t->cfg; }

// ---- the step ---------------------------------------------------------------------------

rlc_status grpo_step(grpo_trainer *t, const grpo_group *groups, int n_groups, int64_t u, grpo_stats *stats) {
    double t0 = rlc_now();
    grpo_stats st;
    memset(&st, 0, sizeof st);
    st.version = u;
    if (u != t->version)
        return rlc_errorf(RLC_ERR_ARG, "grpo_step: version %lld, but the policy is at version %lld",
                          (long long)u, (long long)t->version);
    if (n_groups < 0 || (n_groups > 0 && !groups))
        return rlc_errorf(RLC_ERR_ARG, "grpo_step: %d groups at %p", n_groups, (const void *)groups);
    st.groups = n_groups;
    for (int g = 0; g < n_groups; g++) st.trajectories += groups[g].n > 0 ? groups[g].n : 0;

    // select, filter, lay out
    int ng = 0;
    int64_t max_lag = 0;
    RLC_TRY(grpo_select(t, groups, n_groups, u, &st, &ng, &max_lag));
    if (t->cfg.dynamic_sampling) RLC_TRY(grpo_filter_groups(t, &ng, &st));
    int ns = t->goff[ng];
    long n_resp = 0;
    t->packed_s0 = t->packed_s1 = -1;  // the step's tokens are rewritten
    RLC_TRY(grpo_build_samples(t, ns, &st, &n_resp));
    st.trained_groups = ng;
    st.trained_trajectories = ns;
    st.train_tokens = n_resp;

    // batch-whitened advantages (REINFORCE++, REINFORCE++-baseline, PPO's GAE) need 2 tokens
    int whitened = t->cfg.adv == GRPO_ADV_RPP_BASELINE || t->cfg.adv == GRPO_ADV_RPP || t->ppo;
    if (n_resp >= (whitened ? 2 : 1)) {
        // reference and proximal log-probs (no gradient). The proximal
        // policy is the current one; when every trajectory came from it
        // (lag 0) the worker's log-probs are its log-probs already (up to
        // float rounding) and the recompute is skipped unless asked for.
        double t1 = rlc_now();
        if (t->ref) RLC_TRY(grpo_nograd_logprobs(t, t->ref_fwd, ns, t->refl));
        double t2 = rlc_now();
        int use_prox = (t->cfg.max_staleness > 0 && max_lag > 0) || t->cfg.recompute_proximal;
        if (use_prox) RLC_TRY(grpo_nograd_logprobs(t, NULL, ns, t->prox));
        double t3 = rlc_now();
        st.ref_s = t->ref ? t2 - t1 : 0;
        st.prox_s = use_prox ? t3 - t2 : 0;
        if (t->ppo) {  // the critic's values, GAE, then the critic's updates (as verl: before the actor's)
            RLC_TRY(ppo_advantages(t, ns, use_prox ? t->prox : t->behav, &st));
            RLC_TRY(ppo_train_critic(t, ns, ng, &st));
            // the curriculum's statistic: each sample's mean token advantage
            rl_seqs all = {.nseq = ns, .offsets = t->soff, .mask = t->pmask};
            RLC_TRY(rl_seqs_sum(&all, t->adv_tok, t->adv));
            for (int i = 0; i < ns; i++) t->adv[i] = t->resp[i] > 0 ? t->adv[i] / t->resp[i] : 0.0;
            grpo_export_advantages(t, ng);
        } else {
            RLC_TRY(grpo_advantages(t, ns, ng, use_prox ? t->prox : t->behav, &st));
        }
        double t4 = rlc_now();
        RLC_TRY(grpo_train(t, ns, ng, use_prox, &st));
        st.train_s = rlc_now() - t4;
        st.tokens_per_s = st.train_s > 0 ? (double)st.tokens / st.train_s : 0;
    } else {
        st.trained_groups = st.trained_trajectories = 0;
    }
    if (st.updated) {
        t->steps++;
        t->version = u + 1;
        st.version = t->version;
    }
    st.total_s = rlc_now() - t0;
    if (stats) *stats = st;
    return RLC_OK;
}

