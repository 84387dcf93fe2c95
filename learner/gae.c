// gae.c: GAE advantages and returns, and the masked whitening (gae.h).
#include <math.h>  // sqrt, isfinite

#include "core/core.h"  // rlc_errorf
#include "gae.h"

rlc_status gae_compute(const rl_seqs *s, const float *rewards, const float *values, double gamma, double lam,
                       float *adv, float *returns) {
    RLC_TRY(rl_seqs_check(s));
    if (!rewards || !values || !adv || !returns)
        return rlc_errorf(RLC_ERR_ARG, "gae_compute: %s is NULL",
                          !rewards ? "rewards" : !values ? "values" : !adv ? "adv" : "returns");
    if (!(gamma >= 0 && gamma <= 1) || !(lam >= 0 && lam <= 1))
        return rlc_errorf(RLC_ERR_ARG, "gae_compute: gamma %g and lam %g must be in [0, 1]", gamma, lam);
    for (int i = 0; i < s->nseq; i++) {
        double next_v = 0, next_a = 0;  // after the last response token
        for (int t = s->offsets[i + 1] - 1; t >= s->offsets[i]; t--) {
            if (s->mask && !s->mask[t]) {
                adv[t] = returns[t] = 0;
                continue;
            }
            double v = values[t];
            double delta = rewards[t] + gamma * next_v - v;
            double a = delta + gamma * lam * next_a;
            adv[t] = (float)a;
            returns[t] = (float)(a + v);
            next_v = v;
            next_a = a;
        }
    }
    return RLC_OK;
}

rlc_status gae_whiten(const rl_seqs *s, float *x, double *mean, double *std) {
    RLC_TRY(rl_seqs_check(s));
    if (!x) return rlc_errorf(RLC_ERR_ARG, "gae_whiten: x is NULL");
    int T = rl_seqs_tokens(s);
    double n = 0, sum = 0;
    for (int t = 0; t < T; t++)
        if (!s->mask || s->mask[t]) n++, sum += x[t];
    if (n < 2) return rlc_errorf(RLC_ERR_ARG, "gae_whiten: %g masked tokens (at least 2 are needed)", n);
    double mu = sum / n, ss = 0;
    for (int t = 0; t < T; t++)
        if (!s->mask || s->mask[t]) ss += (x[t] - mu) * (x[t] - mu);
    double var = ss / (n - 1), inv = 1 / sqrt(var + 1e-8);
    for (int t = 0; t < T; t++)
        if (!s->mask || s->mask[t]) x[t] = (float)((x[t] - mu) * inv);
    if (mean) *mean = mu;
    if (std) *std = sqrt(var);
    return RLC_OK;
}
