// grpo_config.c: the GRPO step's configuration: defaults, the experiment's
// algorithm.* keys, checks, and the advantage estimator's names.
#include <limits.h>  // INT_MAX
#include <math.h>    // isfinite
#include <stdio.h>   // snprintf
#include <string.h>  // memset, strcmp

#include "core/core.h"        // rlc_errorf, rlc_clear_error
#include "grpo.h"
#include "kernels/kernels.h"  // kernels_cuda_require

static const char *const adv_names[GRPO_ADV_COUNT] = {"grpo", "drgrpo", "rloo", "reinforce++-baseline",
                                                       "reinforce++"};

rlc_status grpo_adv_parse(const char *name, grpo_adv_kind *out) {
    for (int k = 0; name && k < GRPO_ADV_COUNT; k++)
        if (strcmp(name, adv_names[k]) == 0) {
            *out = (grpo_adv_kind)k;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG, "unknown advantage estimator \"%s\" (grpo, drgrpo, rloo, reinforce++, "
                      "reinforce++-baseline)",
                      name ? name : "(null)");
}

const char *grpo_adv_name(grpo_adv_kind k) { return k >= 0 && k < GRPO_ADV_COUNT ? adv_names[k] : "?"; }

void grpo_config_default(grpo_config *c) {
    memset(c, 0, sizeof *c);
    c->schedule = (optim_schedule){.kind = OPTIM_SCHEDULE_CONSTANT, .lr = 1e-6, .total_steps = 1000};
    c->adamw = optim_adamw_defaults();
    c->adamw.weight_decay = 0.0;
    c->micro_batch_tokens = 2048;
    c->vocab_chunk = 4096;
    c->ppo_epochs = 1;
    c->minibatches = 1;
    c->loss = rl_loss_defaults();
    c->loss.policy.clip_high = 0.28;
    c->loss.kl_coef = 0.0;
    c->loss.kl_type = RL_KL_K3;
    c->loss.use_kl_loss = 0;
    c->adv = GRPO_ADV_GRPO;
    c->adv_eps = 1e-6;
    c->accuracy_threshold = 1.0;
    c->ppo.gamma = c->ppo.lam = 1.0;
    critic_config_default(&c->ppo.critic);
    c->gamma = 1.0;
    c->overlong_penalty = 1.0;
    c->max_new_tokens = 1024;
    c->temperature = 1.0;
    c->cuda_bf16 = 1;
}

// model.device and model.dtype: where the policy trains.
static rlc_status device_from_exp(const rlc_exp *e, grpo_config *c) {
    const char *device, *dtype;
    int ordinal;
    RLC_TRY(rlc_exp_get_string(e, "model.device", &device));
    RLC_TRY(rlc_exp_get_string(e, "model.dtype", &dtype));
    RLC_TRY(rlc_exp_parse_device(device, &ordinal));
    c->cuda = ordinal >= 0;
    c->cuda_device = ordinal >= 0 ? ordinal : 0;
    c->cuda_bf16 = strcmp(dtype, "fp32") != 0;
    if (!c->cuda) return RLC_OK;
    char what[96];
    snprintf(what, sizeof what, "model.device \"%s\"", device);
    return kernels_cuda_require(what);
}

// A parse of algorithm.<key>: on failure the message names the key.
#define TRY_KEY(expr, key)                                                              \
    do {                                                                                \
        rlc_status s_ = (expr);                                                         \
        if (s_ != RLC_OK) return rlc_error_wrap(s_, "experiment: algorithm.%s", key);   \
    } while (0)

// algorithm.name -> the advantage estimator (the presets dapo, drgrpo, gspo
// were applied to the experiment's keys when it was loaded).
static rlc_status name_estimator(const char *name, int norm_std, grpo_adv_kind *adv) {
    static const char *const group_names[] = {"grpo", "dapo", "drgrpo", "gspo"};
    for (size_t i = 0; i < sizeof group_names / sizeof *group_names; i++)
        if (strcmp(name, group_names[i]) == 0) {
            *adv = norm_std ? GRPO_ADV_GRPO : GRPO_ADV_DRGRPO;
            return RLC_OK;
        }
    if (strcmp(name, "rloo") == 0) *adv = GRPO_ADV_RLOO;
    else if (strcmp(name, "reinforce++") == 0) *adv = GRPO_ADV_RPP;
    else if (strcmp(name, "reinforce++-baseline") == 0) *adv = GRPO_ADV_RPP_BASELINE;
    else if (strcmp(name, "ppo") == 0) *adv = GRPO_ADV_GRPO;  // unused: GAE replaces the estimator
    else
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: algorithm.name \"%s\" (grpo, dapo, drgrpo, gspo, ppo, "
                          "rloo, reinforce++, reinforce++-baseline)", name);
    return RLC_OK;
}

rlc_status grpo_config_from_exp(const rlc_exp *e, grpo_config *c) {
    const char *name, *kl, *agg, *sched = optim_schedule_name(c->schedule.kind), *adv = NULL,
               *is_mode = NULL;
    long long steps, batch, mb, epochs, warmup, stale, mbt = c->micro_batch_tokens, chunk = c->vocab_chunk;
    double lr, wd, b1, b2, clip, lo, hi, klc, ent;
    int norm_std, dyn, recompute;
    RLC_TRY(rlc_exp_get_string(e, "algorithm.name", &name));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.steps", &steps));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.batch_prompts", &batch));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.minibatch_prompts", &mb));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.ppo_epochs", &epochs));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.lr", &lr));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.lr_warmup_steps", &warmup));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.weight_decay", &wd));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adam_beta1", &b1));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adam_beta2", &b2));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.max_grad_norm", &clip));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.clip_low", &lo));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.clip_high", &hi));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.kl_coef", &klc));
    RLC_TRY(rlc_exp_get_string(e, "algorithm.kl_estimator", &kl));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.entropy_coef", &ent));
    RLC_TRY(rlc_exp_get_string(e, "algorithm.loss_agg", &agg));
    RLC_TRY(rlc_exp_get_bool(e, "algorithm.norm_adv_by_std", &norm_std));
    RLC_TRY(rlc_exp_get_bool(e, "algorithm.dynamic_sampling", &dyn));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.max_staleness", &stale));
    RLC_TRY(rlc_exp_get_bool(e, "model.gradient_checkpointing", &recompute));
    RLC_TRY(rlc_exp_get_string(e, "algorithm.lr_schedule", &sched));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.min_lr_ratio", &c->schedule.min_lr_ratio));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adam_eps", &c->adamw.eps));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.micro_batch_tokens", &mbt));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.vocab_chunk", &chunk));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.clip_ratio_c", &c->loss.policy.clip_ratio_c));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.is_cap", &c->loss.policy.is_cap));
    RLC_TRY(rlc_exp_get_bool(e, "algorithm.kl_in_reward", &c->kl_in_reward));
    RLC_TRY(rlc_exp_get_string(e, "algorithm.is_mode", &is_mode));
    RLC_TRY(rlc_exp_get_string(e, "algorithm.advantage", &adv));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adv_eps", &c->adv_eps));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.loss_agg_norm", &c->loss.agg.norm));
    RLC_TRY(rlc_exp_get_bool(e, "algorithm.recompute_proximal", &c->recompute_proximal));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.accuracy_threshold", &c->accuracy_threshold));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.gamma", &c->gamma));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.overlong_penalty", &c->overlong_penalty));

    const char *policy;
    long long buf, max_new;
    RLC_TRY(rlc_exp_get_string(e, "algorithm.policy_loss", &policy));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.overlong_buffer", &buf));
    RLC_TRY(rlc_exp_get_int(e, "sampling.max_new_tokens", &max_new));
    TRY_KEY(rl_policy_kind_parse(policy, &c->loss.policy.kind), "policy_loss");
    if (buf < 0 || buf > INT_MAX || max_new < 0 || max_new > INT_MAX)
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: algorithm.overlong_buffer %lld / sampling.max_new_tokens "
                          "%lld out of range", buf, max_new);
    c->overlong_buffer = (int)buf;
    c->max_new_tokens = (int)max_new;
    RLC_TRY(rlc_exp_get_number(e, "sampling.temperature", &c->temperature));
    if (!(c->temperature >= 0 && c->temperature <= 1e6))
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: sampling.temperature %g is not in [0, 1e6]", c->temperature);
    if (c->temperature == 0) c->temperature = 1.0;  // greedy rollouts: the raw log-probs
    RLC_TRY(name_estimator(name, norm_std, &c->adv));
    if (strcmp(name, "ppo") == 0) c->ppo.enabled = 1;  // GAE with a critic (learner/ppo.c)
    // algorithm.advantage other than its default "grpo" overrides the name's estimator
    if (adv && strcmp(adv, "grpo") != 0) {
        TRY_KEY(grpo_adv_parse(adv, &c->adv), "advantage");
        if (c->adv == GRPO_ADV_GRPO && !norm_std) c->adv = GRPO_ADV_DRGRPO;
    }
    if (is_mode) {
        if (strcmp(is_mode, "truncate") == 0) c->loss.policy.is_mode = RL_IS_TRUNCATE;
        else if (strcmp(is_mode, "mask") == 0) c->loss.policy.is_mode = RL_IS_MASK;
        else return rlc_errorf(RLC_ERR_CONFIG, "experiment: algorithm.is_mode \"%s\" (truncate or mask)", is_mode);
    }
    if (batch < 1 || mb < 1)
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: algorithm.batch_prompts %lld and minibatch_prompts %lld "
                          "must be at least 1", batch, mb);
    TRY_KEY(optim_schedule_parse(sched, &c->schedule.kind), "lr_schedule");
    TRY_KEY(rl_kl_parse(kl, &c->loss.kl_type), "kl_estimator");
    TRY_KEY(rl_agg_parse(agg, &c->loss.agg.mode), "loss_agg");
    c->schedule.lr = lr;
    c->schedule.warmup_steps = (long)warmup;
    c->schedule.total_steps = (long)steps;
    c->adamw.weight_decay = wd;
    c->adamw.beta1 = b1;
    c->adamw.beta2 = b2;
    c->adamw.max_grad_norm = clip;
    c->micro_batch_tokens = (int)mbt;
    c->vocab_chunk = (int)chunk;
    c->recompute = recompute;
    c->ppo_epochs = (int)epochs;
    c->minibatches = (int)((batch + mb - 1) / mb);
    c->loss.policy.clip_low = lo;
    c->loss.policy.clip_high = hi;
    c->loss.kl_coef = klc;
    c->loss.entropy_coef = ent;
    c->dynamic_sampling = dyn;
    c->max_staleness = (int)stale;
    RLC_TRY(grpo_ppo_config_from_exp(e, c));
    RLC_TRY(device_from_exp(e, c));
    return grpo_config_check(c);
}

rlc_status grpo_config_check(const grpo_config *c) {
    const rl_policy_config *p = &c->loss.policy;
    if (!(c->schedule.lr >= 0 && isfinite(c->schedule.lr)))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: learning rate %g", c->schedule.lr);
    if (c->schedule.warmup_steps < 0 || !(c->schedule.min_lr_ratio >= 0 && c->schedule.min_lr_ratio <= 1))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: lr_warmup_steps must be >= 0 and min_lr_ratio in [0, 1]");
    if (c->micro_batch_tokens < 2)
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: micro_batch_tokens %d must be at least 2", c->micro_batch_tokens);
    if (c->ppo_epochs < 1) return rlc_errorf(RLC_ERR_CONFIG, "GRPO: ppo_epochs %d must be at least 1", c->ppo_epochs);
    if (c->minibatches < 1)
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: minibatches %d must be at least 1", c->minibatches);
    if (!(p->clip_low >= 0 && p->clip_low < 1) || !(p->clip_high >= 0 && isfinite(p->clip_high)))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: clip_low %g must be in [0, 1) and clip_high %g >= 0", p->clip_low,
                          p->clip_high);
    if (p->clip_ratio_c != 0 && !(p->clip_ratio_c > 1 && isfinite(p->clip_ratio_c)))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: clip_ratio_c %g must be > 1 (or 0: no dual clip)", p->clip_ratio_c);
    if (!(p->is_cap >= 0 && isfinite(p->is_cap)))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: is_cap %g must be >= 0 (0: no cap)", p->is_cap);
    if (!(c->loss.kl_coef >= 0 && isfinite(c->loss.kl_coef)))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: kl_coef %g must be >= 0", c->loss.kl_coef);
    if (!isfinite(c->loss.entropy_coef))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: entropy_coef %g", c->loss.entropy_coef);
    if (c->loss.agg.mode < 0 || c->loss.agg.mode >= RL_AGG_COUNT)
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: loss aggregation mode %d", (int)c->loss.agg.mode);
    if (c->loss.kl_type < 0 || c->loss.kl_type >= RL_KL_COUNT)
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: KL estimator %d", (int)c->loss.kl_type);
    if (c->adv < 0 || c->adv >= GRPO_ADV_COUNT) return rlc_errorf(RLC_ERR_CONFIG, "GRPO: advantage estimator %d", (int)c->adv);
    if (!(c->adv_eps >= 0 && isfinite(c->adv_eps))) return rlc_errorf(RLC_ERR_CONFIG, "GRPO: adv_eps %g", c->adv_eps);
    if (c->max_staleness < 0)
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: max_staleness %d must be >= 0", c->max_staleness);
    if (!isfinite(c->accuracy_threshold))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: accuracy_threshold %g", c->accuracy_threshold);
    if (!(c->gamma >= 0 && c->gamma <= 1))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: gamma %g must be in [0, 1]", c->gamma);
    if (p->kind < 0 || p->kind >= RL_POLICY_COUNT)
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: policy loss kind %d", (int)p->kind);
    if (c->overlong_buffer < 0 || (c->overlong_buffer > 0 && c->overlong_buffer > c->max_new_tokens) ||
        !(c->overlong_penalty >= 0 && isfinite(c->overlong_penalty)))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO: overlong_buffer %d must be in [0, max_new_tokens = %d] and "
                          "overlong_penalty %g >= 0", c->overlong_buffer, c->max_new_tokens, c->overlong_penalty);
    if (c->cuda && (c->cuda_device < 0 || c->adamw.decay_vectors))
        return rlc_errorf(RLC_ERR_CONFIG, "GRPO on CUDA: device %d must be >= 0, and AdamW decays 2-D tensors only "
                          "(decay_vectors %d)", c->cuda_device, c->adamw.decay_vectors);
    return RLC_OK;
}
