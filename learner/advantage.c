// advantage.c: GRPO / Dr.GRPO, RLOO and REINFORCE++-baseline advantages over
// contiguous groups of samples, and DAPO's all-equal group filter; the
// per-token REINFORCE++ returns and DAPO's overlong penalty.
//
// Group means are computed relative to the group's first score,
// mean = r_0 + mean(r_i - r_0), so that a group of identical scores has
// centred values of exactly 0 (and an advantage of exactly 0), whatever the
// scores' binary representation.
#include "advantage.h"

#include <math.h>  // sqrt, isfinite

rlc_status adv_check_groups(int nseq, const int *groups, int ngroups) {
    if (nseq < 0) return rlc_errorf(RLC_ERR_ARG, "advantage: nseq %d < 0", nseq);
    if (ngroups < 0) return rlc_errorf(RLC_ERR_ARG, "advantage: ngroups %d < 0", ngroups);
    if (ngroups == 0) {
        if (nseq != 0) return rlc_errorf(RLC_ERR_ARG, "advantage: %d samples in 0 groups", nseq);
        return RLC_OK;
    }
    if (!groups) return rlc_errorf(RLC_ERR_ARG, "advantage: groups is NULL");
    if (groups[0] != 0) return rlc_errorf(RLC_ERR_ARG, "advantage: groups[0] = %d, not 0", groups[0]);
    for (int g = 0; g < ngroups; g++)
        if (groups[g + 1] <= groups[g])
            return rlc_errorf(RLC_ERR_ARG, "advantage: group %d is empty or reversed ([%d, %d))", g,
                              groups[g], groups[g + 1]);
    if (groups[ngroups] != nseq)
        return rlc_errorf(RLC_ERR_ARG, "advantage: groups[%d] = %d, not nseq = %d", ngroups,
                          groups[ngroups], nseq);
    return RLC_OK;
}

static rlc_status check_arrays(const double *scores, const double *adv, int nseq) {
    if (nseq > 0 && (!scores || !adv))
        return rlc_errorf(RLC_ERR_ARG, "advantage: %s is NULL", scores ? "adv" : "scores");
    for (int i = 0; i < nseq; i++)
        if (!isfinite(scores[i]))
            return rlc_errorf(RLC_ERR_ARG, "advantage: scores[%d] = %g is not finite", i, scores[i]);
    return RLC_OK;
}

// The centred scores of a group, c_i = (r_i - r_0) - mean(r - r_0) = r_i - mean,
// written to out (n) (which may alias r: r_0 is read first); returns the sum
// of squares of the c_i.
static double centre_group(const double *r, int n, double *out) {
    double r0 = r[0], d = 0;
    for (int i = 0; i < n; i++) d += r[i] - r0;
    double dm = d / n, ss = 0;
    for (int i = 0; i < n; i++) {
        double c = (r[i] - r0) - dm;
        out[i] = c;
        ss += c * c;
    }
    return ss;
}

rlc_status adv_grpo(const double *scores, int nseq, const int *groups, int ngroups, double eps,
                    int norm_by_std, double *adv) {
    RLC_TRY(adv_check_groups(nseq, groups, ngroups));
    RLC_TRY(check_arrays(scores, adv, nseq));
    if (!(eps >= 0) || !isfinite(eps)) return rlc_errorf(RLC_ERR_ARG, "adv_grpo: eps %g must be >= 0", eps);
    for (int g = 0; g < ngroups; g++) {
        int b = groups[g], n = groups[g + 1] - b;
        const double *r = scores + b;
        if (n == 1) {  // verl: mean 0, std 1
            adv[b] = norm_by_std ? r[0] / (1.0 + eps) : r[0];
            continue;
        }
        double ss = centre_group(r, n, adv + b);
        if (norm_by_std) {
            double sd = sqrt(ss / (n - 1));  // torch.std: unbiased
            for (int i = 0; i < n; i++) adv[b + i] /= sd + eps;
        }
    }
    return RLC_OK;
}

rlc_status adv_rloo(const double *scores, int nseq, const int *groups, int ngroups, double *adv) {
    RLC_TRY(adv_check_groups(nseq, groups, ngroups));
    RLC_TRY(check_arrays(scores, adv, nseq));
    for (int g = 0; g < ngroups; g++) {
        int b = groups[g], n = groups[g + 1] - b;
        const double *r = scores + b;
        if (n == 1) {
            adv[b] = r[0];
            continue;
        }
        centre_group(r, n, adv + b);
        for (int i = 0; i < n; i++) adv[b + i] = adv[b + i] * n / (n - 1);
    }
    return RLC_OK;
}

rlc_status adv_rpp_baseline(const double *scores, const int *lengths, int nseq, const int *groups,
                            int ngroups, double *adv) {
    RLC_TRY(adv_check_groups(nseq, groups, ngroups));
    RLC_TRY(check_arrays(scores, adv, nseq));
    if (nseq > 0 && !lengths) return rlc_errorf(RLC_ERR_ARG, "adv_rpp_baseline: lengths is NULL");
    double ntok = 0;
    for (int i = 0; i < nseq; i++) {
        if (lengths[i] < 0)
            return rlc_errorf(RLC_ERR_ARG, "adv_rpp_baseline: lengths[%d] = %d < 0", i, lengths[i]);
        ntok += lengths[i];
    }
    if (ntok < 2)
        return rlc_errorf(RLC_ERR_ARG,
                          "adv_rpp_baseline: %.0f response tokens; whitening needs at least 2", ntok);
    // Group-mean subtraction (a group of one: mean 0), token-weighted sums.
    double s1 = 0;
    for (int g = 0; g < ngroups; g++) {
        int b = groups[g], n = groups[g + 1] - b;
        const double *r = scores + b;
        if (n == 1) {
            adv[b] = r[0];
        } else {
            centre_group(r, n, adv + b);
        }
        for (int i = 0; i < n; i++) s1 += (double)lengths[b + i] * adv[b + i];
    }
    double mu = s1 / ntok, s2 = 0;
    for (int i = 0; i < nseq; i++) s2 += (double)lengths[i] * (adv[i] - mu) * (adv[i] - mu);
    double var = s2 / (ntok - 1);  // masked_var, unbiased
    double inv = 1.0 / sqrt(var + 1e-8);
    for (int i = 0; i < nseq; i++) adv[i] = (adv[i] - mu) * inv;
    return RLC_OK;
}

// One backward scan of every sequence's discounted returns (verl's loop:
// G = r_t + gamma G; returns[t] = G; G *= mask[t]). pass 0 sums G - ref over
// the unmasked tokens (ref: the first unmasked return met), pass 1 sums
// (G - mu)^2, pass 2 writes the whitened advantages (0 on masked tokens).
typedef struct rpp_pass {
    double ref, mu, inv, s1, s2;
    long n;
} rpp_pass;

static void rpp_scan(const rl_seqs *s, const float *r, double gamma, int pass, rpp_pass *p, float *adv) {
    for (int i = 0; i < s->nseq; i++) {
        double G = 0;
        for (int t = s->offsets[i + 1] - 1; t >= s->offsets[i]; t--) {
            G = (double)r[t] + gamma * G;
            int in = !s->mask || s->mask[t];
            if (pass == 0 && in) {
                if (p->n == 0) p->ref = G;
                p->s1 += G - p->ref;
                p->n++;
            } else if (pass == 1 && in) {
                p->s2 += (G - p->mu) * (G - p->mu);
            } else if (pass == 2) {
                adv[t] = in ? (float)((G - p->mu) * p->inv) : 0.0f;
            }
            if (!in) G = 0;
        }
    }
}

rlc_status adv_rpp_tokens(const rl_seqs *s, const float *token_rewards, double gamma, float *adv) {
    RLC_TRY(rl_seqs_check(s));
    int T = rl_seqs_tokens(s);
    if (T > 0 && (!token_rewards || !adv))
        return rlc_errorf(RLC_ERR_ARG, "adv_rpp_tokens: %s is NULL", token_rewards ? "adv" : "token_rewards");
    if (T > 0 && (const void *)token_rewards == (const void *)adv)
        return rlc_errorf(RLC_ERR_ARG, "adv_rpp_tokens: adv aliases token_rewards");
    if (!(gamma >= 0 && gamma <= 1)) return rlc_errorf(RLC_ERR_ARG, "adv_rpp_tokens: gamma %g outside [0, 1]", gamma);
    for (int t = 0; t < T; t++)
        if (!isfinite(token_rewards[t]))
            return rlc_errorf(RLC_ERR_ARG, "adv_rpp_tokens: token_rewards[%d] = %g is not finite", t,
                              (double)token_rewards[t]);
    rpp_pass p = {0, 0, 0, 0, 0, 0};
    rpp_scan(s, token_rewards, gamma, 0, &p, adv);
    if (p.n < 2)
        return rlc_errorf(RLC_ERR_ARG, "adv_rpp_tokens: %ld response tokens; whitening needs at least 2", p.n);
    p.mu = p.ref + p.s1 / (double)p.n;
    rpp_scan(s, token_rewards, gamma, 1, &p, adv);
    double var = p.s2 / (double)(p.n - 1);  // masked_var, unbiased
    p.inv = 1.0 / sqrt(var + 1e-8);
    rpp_scan(s, token_rewards, gamma, 2, &p, adv);
    return RLC_OK;
}

double adv_overlong_penalty(long length, long max_len, long buffer, double factor) {
    if (buffer <= 0) return 0.0;
    double exceed = (double)length - (double)(max_len - buffer);
    double p = -exceed / (double)buffer * factor;
    return p < 0 ? p : 0.0;
}

rlc_status adv_dapo_keep(const double *scores, int nseq, const int *groups, int ngroups,
                         unsigned char *keep, int *kept) {
    RLC_TRY(adv_check_groups(nseq, groups, ngroups));
    if (nseq > 0 && !scores) return rlc_errorf(RLC_ERR_ARG, "adv_dapo_keep: scores is NULL");
    if (ngroups > 0 && !keep) return rlc_errorf(RLC_ERR_ARG, "adv_dapo_keep: keep is NULL");
    int k = 0;
    for (int g = 0; g < ngroups; g++) {
        int b = groups[g], n = groups[g + 1] - b, same = 1;
        for (int i = 1; i < n; i++) same &= scores[b + i] == scores[b];
        keep[g] = (unsigned char)(n == 1 || !same);
        k += keep[g];
    }
    if (kept) *kept = k;
    return RLC_OK;
}

adv_summary adv_summarize(const double *x, int n) {
    adv_summary s = {0, 0, 0, 0};
    if (n <= 0 || !x) return s;
    s.min = s.max = x[0];
    double sum = 0;
    for (int i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < s.min) s.min = x[i];
        if (x[i] > s.max) s.max = x[i];
    }
    s.mean = sum / n;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.std = sqrt(ss / n);
    return s;
}
