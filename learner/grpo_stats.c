// grpo_stats.c: the GRPO step's statistics as a JSON object (one metrics line).
#include "grpo.h"

json_t *grpo_stats_json(const grpo_stats *s) {
    json_t *o = json_object(), *hist = json_array();
    if (!o || !hist) {
        json_decref(o);
        json_decref(hist);
        return NULL;
    }
    int bad = 0;
#define I(name) bad |= json_object_set_new(o, #name, json_integer((json_int_t)s->name))
#define R(name) bad |= json_object_set_new(o, #name, json_real(s->name))
    I(version); bad |= json_object_set_new(o, "updated", json_boolean(s->updated));
    I(groups); I(trajectories); I(dropped_stale); I(dropped_future); I(filtered_groups);
    I(filtered_trajectories); I(truncated); I(trained_groups); I(trained_trajectories);
    R(reward_mean); R(reward_std); R(accuracy); R(resp_len_mean); I(resp_len_max);
    R(adv_mean); R(adv_std); R(adv_absmax); R(overlong_mean); R(overlong_frac); R(seq_ratio);
    R(loss); R(pg_loss); R(kl); R(entropy); R(clipfrac); R(clipfrac_lower); R(approx_kl);
    R(is_mean); R(is_capped); R(behav_kl); R(grad_norm); R(grad_norm_max); R(lr);
    I(optimizer_steps); I(skipped_steps); I(train_tokens); I(tokens); R(tokens_per_s);
    R(ref_s); R(prox_s); R(train_s); R(total_s);
    R(vf_loss); R(vf_clipfrac); R(values_mean); R(returns_mean); R(vf_explained_var); R(critic_grad_norm);
    R(critic_lr); R(critic_s);
#undef I
#undef R
    int last = GRPO_STALE_BINS - 1;  // trailing empty bins are left out
    while (last > 0 && s->staleness[last] == 0) last--;
    for (int i = 0; i <= last; i++) bad |= json_array_append_new(hist, json_integer((json_int_t)s->staleness[i]));
    bad |= json_object_set_new(o, "staleness", hist);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
