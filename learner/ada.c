// ada.c: Reinforce-Ada's exit rules, the cut to a group of n and the
// prompt-level baseline (see ada.h).
#include "ada.h"

#include <math.h>    // sqrt, isfinite
#include <string.h>  // strcmp

#include "core/core.h"  // rlc_errorf

static const char *const mode_names[] = {"off", "balanced", "positive"};

rlc_status ada_mode_parse(const char *name, ada_mode *out) {
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, mode_names[i]) == 0) {
            *out = (ada_mode)i;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG, "algorithm.adaptive_sampling: \"%s\" is not one of off, balanced, positive",
                      name ? name : "(null)");
}

const char *ada_mode_name(ada_mode m) { return m >= 0 && m <= ADA_MODE_POSITIVE ? mode_names[m] : "?"; }

rlc_status ada_config_check(const ada_config *c) {
    if (c->mode < ADA_MODE_OFF || c->mode > ADA_MODE_POSITIVE)
        return rlc_errorf(RLC_ERR_CONFIG, "algorithm.adaptive_sampling: unknown mode %d", (int)c->mode);
    if (c->n < 1) return rlc_errorf(RLC_ERR_CONFIG, "algorithm.group_size must be >= 1 (is %d)", c->n);
    if (c->rounds < 1) return rlc_errorf(RLC_ERR_CONFIG, "algorithm.ada_rounds must be >= 1 (is %d)", c->rounds);
    if (c->per_round < 1)
        return rlc_errorf(RLC_ERR_CONFIG, "algorithm.ada_samples_per_round must be >= 1 (is %d)", c->per_round);
    if ((long)c->rounds * c->per_round < c->n)
        return rlc_errorf(RLC_ERR_CONFIG, "Reinforce-Ada: ada_rounds (%d) x ada_samples_per_round (%d) draws fewer "
                          "than group_size (%d) samples", c->rounds, c->per_round, c->n);
    if (!isfinite(c->threshold))
        return rlc_errorf(RLC_ERR_CONFIG, "algorithm.ada_positive_threshold must be finite");
    return RLC_OK;
}

static int count_pos(const ada_config *c, const double *r, int count) {
    int p = 0;
    for (int i = 0; i < count; i++) p += r[i] >= c->threshold;
    return p;
}

ada_state ada_check(const ada_config *c, const double *rewards, int count, int rounds_done) {
    int pos = count_pos(c, rewards, count), neg = count - pos;
    int tp = (c->n + 1) / 2, tn = c->n - tp;
    int exited = c->mode == ADA_MODE_BALANCED ? pos >= tp && neg >= tn : pos >= 1 && count >= c->n;
    if (exited) return ADA_EXITED;
    return rounds_done >= c->rounds ? ADA_FALLBACK : ADA_ACTIVE;
}

rlc_status ada_select(const ada_config *c, const double *rewards, int count, int *keep, ada_cut *out) {
    if (count < 1 || !rewards || !keep || !out)
        return rlc_errorf(RLC_ERR_ARG, "ada_select: %d rewards at %p, keep %p", count, (const void *)rewards,
                          (const void *)keep);
    int pos = count_pos(c, rewards, count), neg = count - pos;
    int n = count < c->n ? count : c->n;
    int tp = (c->n + 1) / 2;
    // positives: their share, or more when the negatives cannot fill the rest
    int kp = pos < tp ? pos : tp;
    if (neg < n - kp) kp = n - neg;
    int kn = n - kp;
    int m = 0, p_left = kp, n_left = kn;
    for (int i = 0; i < count && m < n; i++) {
        int is_pos = rewards[i] >= c->threshold;
        if (is_pos && p_left > 0) p_left--, keep[m++] = i;
        else if (!is_pos && n_left > 0) n_left--, keep[m++] = i;
    }
    // mean relative to the first reward: equal rewards give exactly that reward
    double r0 = rewards[0], s = 0;
    for (int i = 0; i < count; i++) s += rewards[i] - r0;
    double mean = r0 + s / count, ss = 0;
    for (int i = 0; i < count; i++) ss += (rewards[i] - mean) * (rewards[i] - mean);
    *out = (ada_cut){.n_keep = m, .pos_kept = kp, .base_n = count, .base_mean = mean,
                     .base_std = count > 1 ? sqrt(ss / (count - 1)) : 0.0};
    return RLC_OK;
}
