// rl_loss.c: the policy (PPO / decoupled PPO / GSPO), KL and entropy losses with
// their per-token gradients, and loss aggregation. Inputs float, arithmetic
// double (see rl_loss.h).
//
// Every loss walks the batch sequence by sequence: a sequence's unmasked
// tokens share one aggregation weight w_i (1/N, 1/(n_i S), 1/S or
// 1/(S norm)), so the loss is sum_i w_i sum_t l_it and dL/dx_t = w_i dl_t/dx_t.
#include "rl_loss.h"

#include <math.h>    // exp, fabs, isfinite
#include <string.h>  // strcmp, memset

#define IN_LOSS(s, t) (!(s)->mask || (s)->mask[t])

// ---- batches ------------------------------------------------------------------

int rl_seqs_tokens(const rl_seqs *s) { return s && s->nseq > 0 ? s->offsets[s->nseq] : 0; }

rlc_status rl_seqs_check(const rl_seqs *s) {
    if (!s) return rlc_errorf(RLC_ERR_ARG, "rl_seqs is NULL");
    if (s->nseq < 0) return rlc_errorf(RLC_ERR_ARG, "rl_seqs: nseq %d < 0", s->nseq);
    if (s->nseq == 0) return RLC_OK;
    if (!s->offsets) return rlc_errorf(RLC_ERR_ARG, "rl_seqs: offsets is NULL");
    if (s->offsets[0] != 0) return rlc_errorf(RLC_ERR_ARG, "rl_seqs: offsets[0] = %d, not 0", s->offsets[0]);
    for (int i = 0; i < s->nseq; i++)
        if (s->offsets[i + 1] < s->offsets[i])
            return rlc_errorf(RLC_ERR_ARG, "rl_seqs: offsets[%d] = %d < offsets[%d] = %d", i + 1,
                              s->offsets[i + 1], i, s->offsets[i]);
    return RLC_OK;
}

static long seq_count(const rl_seqs *s, int i) {
    long n = 0;
    for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) n += IN_LOSS(s, t) ? 1 : 0;
    return n;
}

void rl_seqs_count(const rl_seqs *s, long *tokens, long *seqs) {
    long nt = 0, ns = 0;
    for (int i = 0; s && i < s->nseq; i++) {
        long n = seq_count(s, i);
        nt += n;
        ns += n > 0;
    }
    if (tokens) *tokens = nt;
    if (seqs) *seqs = ns;
}

// A batch check plus "these (T) arrays are present".
static rlc_status check_arrays(const char *fn, const rl_seqs *s, int n, const void *const *arrs,
                               const char *const *names) {
    rlc_status st = rl_seqs_check(s);
    if (st != RLC_OK) return rlc_error_wrap(st, "%s", fn);
    if (rl_seqs_tokens(s) == 0) return RLC_OK;
    for (int k = 0; k < n; k++)
        if (!arrs[k]) return rlc_errorf(RLC_ERR_ARG, "%s: %s is NULL", fn, names[k]);
    return RLC_OK;
}

rlc_status rl_seqs_broadcast(const rl_seqs *s, const double *seq_val, float *out) {
    RLC_TRY(rl_seqs_check(s));
    if (s->nseq > 0 && (!seq_val || !out))
        return rlc_errorf(RLC_ERR_ARG, "rl_seqs_broadcast: %s is NULL", seq_val ? "out" : "seq_val");
    for (int i = 0; i < s->nseq; i++)
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++)
            out[t] = IN_LOSS(s, t) ? (float)seq_val[i] : 0.0f;
    return RLC_OK;
}

rlc_status rl_seqs_sum(const rl_seqs *s, const float *tok, double *out) {
    RLC_TRY(rl_seqs_check(s));
    if (s->nseq > 0 && (!tok || !out))
        return rlc_errorf(RLC_ERR_ARG, "rl_seqs_sum: %s is NULL", tok ? "out" : "tok");
    for (int i = 0; i < s->nseq; i++) {
        double sum = 0;
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++)
            if (IN_LOSS(s, t)) sum += tok[t];
        out[i] = sum;
    }
    return RLC_OK;
}

rlc_status rl_seqs_place_outcome(const rl_seqs *s, const double *seq_reward, float *out) {
    RLC_TRY(rl_seqs_check(s));
    if (s->nseq > 0 && (!seq_reward || !out))
        return rlc_errorf(RLC_ERR_ARG, "rl_seqs_place_outcome: %s is NULL", seq_reward ? "out" : "seq_reward");
    for (int i = 0; i < s->nseq; i++) {
        int last = -1;
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            out[t] = 0.0f;
            if (IN_LOSS(s, t)) last = t;
        }
        if (last >= 0) out[last] = (float)seq_reward[i];
    }
    return RLC_OK;
}

// ---- aggregation ---------------------------------------------------------------

static const char *const agg_names[RL_AGG_COUNT] = {
    "token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"};

rlc_status rl_agg_parse(const char *name, rl_agg_mode *out) {
    for (int m = 0; name && m < RL_AGG_COUNT; m++)
        if (strcmp(name, agg_names[m]) == 0) {
            *out = (rl_agg_mode)m;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG,
                      "unknown loss_agg_mode \"%s\" (token-mean, seq-mean-token-mean, "
                      "seq-mean-token-sum, seq-mean-token-sum-norm)",
                      name ? name : "(null)");
}

const char *rl_agg_name(rl_agg_mode m) {
    return m >= 0 && m < RL_AGG_COUNT ? agg_names[m] : "?";
}

// The step's counts resolved for one call.
typedef struct agg_ctx {
    rl_agg_mode mode;
    double n_tok;  // N
    double n_seq;  // S
    double norm;
    long local_tokens;
} agg_ctx;

static rlc_status agg_prepare(const char *fn, const rl_agg *a, const rl_seqs *s, agg_ctx *c) {
    if (!a) return rlc_errorf(RLC_ERR_ARG, "%s: agg is NULL", fn);
    if ((int)a->mode < 0 || a->mode >= RL_AGG_COUNT)
        return rlc_errorf(RLC_ERR_ARG, "%s: unknown aggregation mode %d", fn, (int)a->mode);
    if (isnan(a->global_tokens) || isnan(a->global_seqs))
        return rlc_errorf(RLC_ERR_ARG, "%s: global_tokens / global_seqs is NaN", fn);
    long nt, ns;
    rl_seqs_count(s, &nt, &ns);
    c->mode = a->mode;
    c->local_tokens = nt;
    c->n_tok = a->global_tokens > 0 ? a->global_tokens : (double)nt;
    c->n_seq = a->global_seqs > 0 ? a->global_seqs : (double)ns;
    c->norm = a->norm;
    if (c->n_tok < (double)nt)
        return rlc_errorf(RLC_ERR_ARG, "%s: global_tokens %g < the batch's %ld unmasked tokens", fn,
                          a->global_tokens, nt);
    if (c->n_seq < (double)ns)
        return rlc_errorf(RLC_ERR_ARG, "%s: global_seqs %g < the batch's %ld sequences with tokens", fn,
                          a->global_seqs, ns);
    if (a->mode == RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM && !(a->norm > 0 && isfinite(a->norm)))
        return rlc_errorf(RLC_ERR_ARG, "%s: seq-mean-token-sum-norm needs norm > 0 (got %g)", fn, a->norm);
    return RLC_OK;
}

// w_i, the weight of each unmasked token of a sequence with n_i of them.
static double agg_weight(const agg_ctx *c, long n_i) {
    if (n_i == 0) return 0;
    switch (c->mode) {
    case RL_AGG_TOKEN_MEAN: return 1.0 / c->n_tok;
    case RL_AGG_SEQ_MEAN_TOKEN_MEAN: return 1.0 / ((double)n_i * c->n_seq);
    case RL_AGG_SEQ_MEAN_TOKEN_SUM: return 1.0 / c->n_seq;
    case RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM: return 1.0 / (c->n_seq * c->norm);
    default: return 0;
    }
}

static void add_grad(float *g, int t, double v) {
    if (g) g[t] = (float)((double)g[t] + v);
}

rlc_status rl_agg_apply(const rl_agg *a, const rl_seqs *s, const float *x, double scale,
                        double *out, float *grad) {
    const void *arrs[] = {x};
    const char *names[] = {"x"};
    RLC_TRY(check_arrays("rl_agg_apply", s, 1, arrs, names));
    agg_ctx c;
    RLC_TRY(agg_prepare("rl_agg_apply", a, s, &c));
    double total = 0;
    for (int i = 0; i < s->nseq; i++) {
        double w = agg_weight(&c, seq_count(s, i));
        double sum = 0;
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            if (!IN_LOSS(s, t)) continue;
            sum += x[t];
            add_grad(grad, t, scale * w);
        }
        total += w * sum;
    }
    if (out) *out = total;
    return RLC_OK;
}

// ---- policy loss -----------------------------------------------------------------

rl_policy_config rl_policy_defaults(void) {
    rl_policy_config c = {.clip_low = 0.2, .clip_high = 0.2, .clip_ratio_c = 3.0, .is_cap = 5.0,
                          .is_mode = RL_IS_TRUNCATE};
    return c;
}

static rlc_status policy_check(const rl_policy_config *c) {
    if (!c) return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: config is NULL");
    if (!(c->clip_low >= 0 && c->clip_low < 1))
        return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: clip_low %g outside [0, 1)", c->clip_low);
    if (!(c->clip_high >= 0) || !isfinite(c->clip_high))
        return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: clip_high %g must be >= 0", c->clip_high);
    if (!(c->clip_ratio_c == 0 || c->clip_ratio_c > 1))
        return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: clip_ratio_c %g must be > 1 (or 0: no dual clip)",
                          c->clip_ratio_c);
    if (!(c->is_cap >= 0))
        return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: is_cap %g must be > 0 (or 0: no cap)", c->is_cap);
    if (c->is_mode != RL_IS_TRUNCATE && c->is_mode != RL_IS_MASK)
        return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: unknown is_mode %d", (int)c->is_mode);
    if ((int)c->kind < 0 || c->kind >= RL_POLICY_COUNT)
        return rlc_errorf(RLC_ERR_ARG, "rl_policy_loss: unknown policy loss kind %d", (int)c->kind);
    return RLC_OK;
}

static const char *const policy_names[RL_POLICY_COUNT] = {"vanilla", "gspo"};

rlc_status rl_policy_kind_parse(const char *name, rl_policy_kind *out) {
    for (int k = 0; name && k < RL_POLICY_COUNT; k++)
        if (strcmp(name, policy_names[k]) == 0) {
            *out = (rl_policy_kind)k;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG, "unknown policy loss \"%s\" (vanilla, gspo)", name ? name : "(null)");
}

const char *rl_policy_kind_name(rl_policy_kind k) {
    return k >= 0 && k < RL_POLICY_COUNT ? policy_names[k] : "?";
}

static rlc_status policy_prepare(const rl_policy_config *c, const rl_agg *agg, const rl_seqs *s,
                                 const float *logp, const float *prox, const float *adv, agg_ctx *ac) {
    RLC_TRY(policy_check(c));
    const void *arrs[] = {logp, prox, adv};
    const char *names[] = {"logp", "prox_logp", "adv"};
    RLC_TRY(check_arrays("rl_policy_loss", s, 3, arrs, names));
    return agg_prepare("rl_policy_loss", agg, s, ac);
}

// One token of the surrogate: returns l (before the behaviour weight), sets
// *dl = dl/dlogp and the clip flags.
static double policy_token(const rl_policy_config *c, double logp, double prox, double a, double *dl,
                           int *clipped, int *clipped_lower, double *log_ratio) {
    double lr = logp - prox;
    double lrc = lr < -20.0 ? -20.0 : lr > 20.0 ? 20.0 : lr;  // verl clamps for stability
    double r = exp(lrc);
    double lo = 1.0 - c->clip_low, hi = 1.0 + c->clip_high;
    double rc = r < lo ? lo : r > hi ? hi : r;
    double l1 = -a * r, l2 = -a * rc, l;
    int grad = 1;
    *clipped = l2 > l1;  // verl's pg_clipfrac condition
    if (*clipped) {
        l = l2;  // the clipped ratio is a constant here
        grad = 0;
    } else {
        l = l1;  // ties happen inside [lo, hi], where both branches agree
    }
    *clipped_lower = 0;
    if (a < 0 && c->clip_ratio_c > 0) {
        double l3 = -a * c->clip_ratio_c;
        if (l > l3) {
            l = l3;
            grad = 0;
            *clipped_lower = 1;
        }
    }
    if (lr < -20.0 || lr > 20.0) grad = 0;  // the clamp passes no gradient
    *dl = grad ? -a * r : 0.0;
    *log_ratio = lrc;
    return l;
}

// The behaviour weight of token t as applied (1 without behav_logp), with
// its statistics: *bkl += behav - prox, *ncap += 1 when above the cap.
static double behav_weight(const rl_policy_config *c, const float *prox_logp, const float *behav_logp, int t,
                           double *bkl, long *ncap) {
    if (!behav_logp) return 1.0;
    double d = (double)prox_logp[t] - (double)behav_logp[t], w = exp(d);
    *bkl += -d;
    if (c->is_cap > 0 && w > c->is_cap) {
        w = c->is_mode == RL_IS_TRUNCATE ? c->is_cap : 0.0;
        (*ncap)++;
    }
    return w;
}

// What a policy loss adds up over the tokens of a batch, and the stats it makes.
typedef struct policy_acc {
    double loss, kl, is_sum, bkl;
    long tokens, nclip, nclip_lower, ncap;
} policy_acc;

// One unmasked token: its weighted loss and gradient, behaviour weight isw,
// clip flags and log-ratio (log pi_prox - log pi_theta, for ppo_kl).
static void policy_acc_token(policy_acc *a, float *dlogp, int t, double w, double isw, double l, double dl, int cl,
                             int cll, double neg_lr) {
    a->loss += w * isw * l;
    add_grad(dlogp, t, w * isw * dl);
    a->tokens++;
    a->nclip += cl;
    a->nclip_lower += cll;
    a->kl += neg_lr;
    a->is_sum += isw;
}

static void policy_acc_stats(const policy_acc *a, rl_policy_stats *stats) {
    memset(stats, 0, sizeof *stats);
    stats->loss = a->loss;
    stats->tokens = a->tokens;
    stats->is_mean = 1.0;
    if (a->tokens > 0) {
        double n = (double)a->tokens;
        stats->clipfrac = a->nclip / n;
        stats->clipfrac_lower = a->nclip_lower / n;
        stats->ppo_kl = a->kl / n;
        stats->is_mean = a->is_sum / n;
        stats->is_capped = a->ncap / n;
        stats->behav_kl = a->bkl / n;
    }
}

// GSPO (verl compute_policy_loss_gspo): the sequence's ratio s_i on every
// token, straight-through per token (see rl_policy_loss in rl_loss.h).
static rlc_status policy_loss_gspo(const rl_policy_config *c, const agg_ctx *ac, const rl_seqs *s,
                                   const float *logp, const float *prox_logp, const float *behav_logp,
                                   const float *adv, rl_policy_stats *stats, float *dlogp) {
    policy_acc acc = {0};
    double ratio_sum = 0;
    long seqs = 0;
    double lo = 1.0 - c->clip_low, hi = 1.0 + c->clip_high;
    for (int i = 0; i < s->nseq; i++) {
        long n = seq_count(s, i);
        if (n == 0) continue;
        double w = agg_weight(ac, n), m = 0;
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++)
            if (IN_LOSS(s, t)) m += (double)logp[t] - (double)prox_logp[t];
        m /= (double)n;
        int clamped = m > 10.0;  // verl clamps log s_i at 10; the clamp passes no gradient
        double ratio = exp(clamped ? 10.0 : m);
        double rc = ratio < lo ? lo : ratio > hi ? hi : ratio;
        ratio_sum += ratio;
        seqs++;
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            if (!IN_LOSS(s, t)) continue;
            double a = adv[t], l1 = -a * ratio, l2 = -a * rc;
            int cl = l2 > l1;
            double l = cl ? l2 : l1, dl = cl || clamped ? 0.0 : -a * ratio;
            double isw = behav_weight(c, prox_logp, behav_logp, t, &acc.bkl, &acc.ncap);
            policy_acc_token(&acc, dlogp, t, w, isw, l, dl, cl, 0, (double)prox_logp[t] - (double)logp[t]);
        }
    }
    if (stats) {
        policy_acc_stats(&acc, stats);
        stats->seqs = seqs;
        stats->seq_ratio = seqs > 0 ? ratio_sum / (double)seqs : 0;
    }
    return RLC_OK;
}

rlc_status rl_policy_loss(const rl_policy_config *c, const rl_agg *agg, const rl_seqs *s,
                          const float *logp, const float *prox_logp, const float *behav_logp,
                          const float *adv, rl_policy_stats *stats, float *dlogp) {
    agg_ctx ac;
    RLC_TRY(policy_prepare(c, agg, s, logp, prox_logp, adv, &ac));
    if (c->kind == RL_POLICY_GSPO)
        return policy_loss_gspo(c, &ac, s, logp, prox_logp, behav_logp, adv, stats, dlogp);
    policy_acc a = {0};
    for (int i = 0; i < s->nseq; i++) {
        double w = agg_weight(&ac, seq_count(s, i));
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            if (!IN_LOSS(s, t)) continue;
            double dl, lrc;
            int cl, cll;
            double l = policy_token(c, logp[t], prox_logp[t], adv[t], &dl, &cl, &cll, &lrc);
            double isw = behav_weight(c, prox_logp, behav_logp, t, &a.bkl, &a.ncap);
            policy_acc_token(&a, dlogp, t, w, isw, l, dl, cl, cll, -lrc);
        }
    }
    if (stats) policy_acc_stats(&a, stats);
    return RLC_OK;
}

// ---- KL ---------------------------------------------------------------------------

static const char *const kl_names[RL_KL_COUNT] = {"k1", "abs", "k2", "low_var_kl"};

rlc_status rl_kl_parse(const char *name, rl_kl_estimator *out) {
    static const struct {
        const char *name;
        rl_kl_estimator e;
    } table[] = {{"kl", RL_KL_K1},  {"k1", RL_KL_K1},         {"abs", RL_KL_ABS}, {"mse", RL_KL_K2},
                 {"k2", RL_KL_K2}, {"low_var_kl", RL_KL_K3}, {"k3", RL_KL_K3}};
    for (size_t k = 0; name && k < sizeof table / sizeof table[0]; k++)
        if (strcmp(name, table[k].name) == 0) {
            *out = table[k].e;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG, "unknown KL estimator \"%s\" (kl/k1, abs, mse/k2, low_var_kl/k3)",
                      name ? name : "(null)");
}

const char *rl_kl_name(rl_kl_estimator e) { return e >= 0 && e < RL_KL_COUNT ? kl_names[e] : "?"; }

double rl_kl_token(rl_kl_estimator e, double logp, double ref, double *dkl) {
    double d = logp - ref, v, g;
    switch (e) {
    case RL_KL_K1:
        v = d;
        g = 1;
        break;
    case RL_KL_ABS:
        v = fabs(d);
        g = d > 0 ? 1 : d < 0 ? -1 : 0;
        break;
    case RL_KL_K2:
        v = 0.5 * d * d;
        g = d;
        break;
    case RL_KL_K3: {
        double k = -d;  // ref - logp
        int inner = k >= -20.0 && k <= 20.0;
        double kc = k < -20.0 ? -20.0 : k > 20.0 ? 20.0 : k;
        double ek = exp(kc);
        v = ek - kc - 1.0;
        g = inner ? 1.0 - ek : 0.0;  // d/dlogp of exp(ref - logp) - (ref - logp) - 1
        if (v > 10.0) {              // the outer clamp; v >= 0 always
            v = 10.0;
            g = 0.0;
        }
        break;
    }
    default:
        v = 0;
        g = 0;
        break;
    }
    if (dkl) *dkl = g;
    return v;
}

static rlc_status kl_check(const char *fn, rl_kl_estimator e, double coef) {
    if ((int)e < 0 || e >= RL_KL_COUNT) return rlc_errorf(RLC_ERR_ARG, "%s: unknown KL estimator %d", fn, (int)e);
    if (!(coef >= 0) || !isfinite(coef)) return rlc_errorf(RLC_ERR_ARG, "%s: coef %g must be >= 0", fn, coef);
    return RLC_OK;
}

static rlc_status kl_prepare(rl_kl_estimator e, double coef, const rl_agg *agg, const rl_seqs *s,
                             const float *logp, const float *ref, agg_ctx *ac) {
    RLC_TRY(kl_check("rl_kl_loss", e, coef));
    const void *arrs[] = {logp, ref};
    const char *names[] = {"logp", "ref_logp"};
    RLC_TRY(check_arrays("rl_kl_loss", s, 2, arrs, names));
    return agg_prepare("rl_kl_loss", agg, s, ac);
}

rlc_status rl_kl_loss(rl_kl_estimator e, double coef, const rl_agg *agg, const rl_seqs *s,
                      const float *logp, const float *ref_logp, rl_kl_stats *stats, float *dlogp) {
    agg_ctx ac;
    RLC_TRY(kl_prepare(e, coef, agg, s, logp, ref_logp, &ac));
    double agg_kl = 0, sum = 0;
    long tokens = 0;
    for (int i = 0; i < s->nseq; i++) {
        double w = agg_weight(&ac, seq_count(s, i));
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            if (!IN_LOSS(s, t)) continue;
            double g, v = rl_kl_token(e, logp[t], ref_logp[t], &g);
            agg_kl += w * v;
            sum += v;
            tokens++;
            add_grad(dlogp, t, coef * w * g);
        }
    }
    if (stats) {
        stats->loss = coef * agg_kl;
        stats->kl_mean = tokens ? sum / (double)tokens : 0.0;
        stats->tokens = tokens;
    }
    return RLC_OK;
}

rlc_status rl_kl_penalize_rewards(rl_kl_estimator e, double coef, const rl_seqs *s,
                                  const float *old_logp, const float *ref_logp,
                                  float *token_rewards, double *kl_mean) {
    RLC_TRY(kl_check("rl_kl_penalize_rewards", e, coef));
    const void *arrs[] = {old_logp, ref_logp, token_rewards};
    const char *names[] = {"old_logp", "ref_logp", "token_rewards"};
    RLC_TRY(check_arrays("rl_kl_penalize_rewards", s, 3, arrs, names));
    double sum = 0;
    long tokens = 0;
    int T = rl_seqs_tokens(s);
    for (int t = 0; t < T; t++) {
        if (!IN_LOSS(s, t)) continue;
        double v = rl_kl_token(e, old_logp[t], ref_logp[t], NULL);
        token_rewards[t] = (float)((double)token_rewards[t] - coef * v);
        sum += v;
        tokens++;
    }
    if (kl_mean) *kl_mean = tokens ? sum / (double)tokens : 0.0;
    return RLC_OK;
}

double rl_kl_adaptive_coef(double coef, double current_kl, double target, double n_steps,
                           double horizon) {
    if (!(target > 0) || !(horizon > 0)) return coef;
    double err = current_kl / target - 1.0;
    err = err < -0.2 ? -0.2 : err > 0.2 ? 0.2 : err;
    return coef * (1.0 + err * n_steps / horizon);
}

// ---- entropy ----------------------------------------------------------------------

rlc_status rl_entropy_loss(double coef, const rl_agg *agg, const rl_seqs *s, const float *entropy,
                           rl_entropy_stats *stats, float *dentropy) {
    if (!isfinite(coef)) return rlc_errorf(RLC_ERR_ARG, "rl_entropy_loss: coef %g is not finite", coef);
    double v;
    rlc_status st = rl_agg_apply(agg, s, entropy, -coef, &v, dentropy);
    if (st != RLC_OK) return rlc_error_wrap(st, "rl_entropy_loss");
    if (stats) {
        long tokens;
        rl_seqs_count(s, &tokens, NULL);
        double sum = 0;
        for (int t = 0, T = rl_seqs_tokens(s); t < T; t++)
            if (IN_LOSS(s, t)) sum += entropy[t];
        stats->loss = -coef * v;
        stats->entropy_mean = tokens ? sum / (double)tokens : 0.0;
        stats->tokens = tokens;
    }
    return RLC_OK;
}

// ---- the whole actor loss ------------------------------------------------------------

rl_loss_config rl_loss_defaults(void) {
    rl_loss_config c;
    memset(&c, 0, sizeof c);
    c.policy = rl_policy_defaults();
    c.agg.mode = RL_AGG_TOKEN_MEAN;
    c.use_kl_loss = 0;
    c.kl_type = RL_KL_K3;
    c.kl_coef = 0.001;
    c.entropy_coef = 0.0;
    return c;
}

rlc_status rl_loss_compute(const rl_loss_config *c, const rl_seqs *s, const rl_loss_inputs *in,
                           rl_loss_stats *stats, float *dlogp, float *dentropy) {
    if (!c || !in) return rlc_errorf(RLC_ERR_ARG, "rl_loss_compute: %s is NULL", c ? "inputs" : "config");
    // Every check before anything is written.
    agg_ctx ac;
    RLC_TRY(policy_prepare(&c->policy, &c->agg, s, in->logp, in->prox_logp, in->adv, &ac));
    int T = rl_seqs_tokens(s);
    if (c->use_kl_loss) RLC_TRY(kl_prepare(c->kl_type, c->kl_coef, &c->agg, s, in->logp, in->ref_logp, &ac));
    int use_ent = c->entropy_coef != 0;
    if (use_ent) {
        if (!isfinite(c->entropy_coef))
            return rlc_errorf(RLC_ERR_ARG, "rl_loss_compute: entropy_coef %g is not finite", c->entropy_coef);
        if (T > 0 && !in->entropy) return rlc_errorf(RLC_ERR_ARG, "rl_loss_compute: entropy is NULL");
        if (T > 0 && dlogp && !dentropy)
            return rlc_errorf(RLC_ERR_ARG, "rl_loss_compute: entropy_coef != 0 needs dentropy");
    }
    if (dlogp) memset(dlogp, 0, (size_t)T * sizeof *dlogp);
    if (dentropy) memset(dentropy, 0, (size_t)T * sizeof *dentropy);

    rl_loss_stats st;
    memset(&st, 0, sizeof st);
    RLC_TRY(rl_policy_loss(&c->policy, &c->agg, s, in->logp, in->prox_logp, in->behav_logp, in->adv,
                           &st.policy, dlogp));
    st.loss = st.policy.loss;
    if (c->use_kl_loss) {
        RLC_TRY(rl_kl_loss(c->kl_type, c->kl_coef, &c->agg, s, in->logp, in->ref_logp, &st.kl, dlogp));
        st.loss += st.kl.loss;
    }
    if (use_ent) {
        RLC_TRY(rl_entropy_loss(c->entropy_coef, &c->agg, s, in->entropy, &st.entropy, dentropy));
        st.loss += st.entropy.loss;
    }
    if (stats) *stats = st;
    return RLC_OK;
}
