// value_loss.c: the clipped value loss and its gradient (value_loss.h).
#include <math.h>  // fmax, isfinite, isnan

#include "core/core.h"  // rlc_errorf
#include "value_loss.h"

// The aggregation weight of each masked token of a sequence with n_i of
// them, with N and S the step's counts (rl_agg's rules: values <= 0 mean the
// batch's own).
static double weight(const rl_agg *a, double N, double S, long n_i) {
    if (n_i == 0) return 0;
    switch (a->mode) {
    case RL_AGG_TOKEN_MEAN: return 1.0 / N;
    case RL_AGG_SEQ_MEAN_TOKEN_MEAN: return 1.0 / ((double)n_i * S);
    case RL_AGG_SEQ_MEAN_TOKEN_SUM: return 1.0 / S;
    default: return 1.0 / (S * a->norm);
    }
}

rlc_status value_loss_compute(const rl_agg *agg, const rl_seqs *s, const float *v, const float *v_old,
                              const float *returns, double cliprange, value_loss_stats *stats, float *dv) {
    RLC_TRY(rl_seqs_check(s));
    if (!agg || !v || !v_old || !returns)
        return rlc_errorf(RLC_ERR_ARG, "value_loss_compute: %s is NULL",
                          !agg ? "agg" : !v ? "v" : !v_old ? "v_old" : "returns");
    if (!(cliprange >= 0) || isnan(cliprange))
        return rlc_errorf(RLC_ERR_ARG, "value_loss_compute: cliprange %g must be >= 0", cliprange);
    if ((int)agg->mode < 0 || agg->mode >= RL_AGG_COUNT)
        return rlc_errorf(RLC_ERR_ARG, "value_loss_compute: unknown aggregation mode %d", (int)agg->mode);
    if (agg->mode == RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM && !(agg->norm > 0 && isfinite(agg->norm)))
        return rlc_errorf(RLC_ERR_ARG, "value_loss_compute: seq-mean-token-sum-norm needs norm > 0 (got %g)",
                          agg->norm);
    long nt, ns;
    rl_seqs_count(s, &nt, &ns);
    double N = agg->global_tokens > 0 ? agg->global_tokens : (double)nt;
    double S = agg->global_seqs > 0 ? agg->global_seqs : (double)ns;
    if (N < (double)nt || S < (double)ns)
        return rlc_errorf(RLC_ERR_ARG, "value_loss_compute: global counts (%g tokens, %g sequences) below the "
                          "batch's own (%ld, %ld)", N, S, nt, ns);
    double loss = 0;
    long clipped = 0;
    for (int i = 0; i < s->nseq; i++) {
        long n_i = 0;
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) n_i += !s->mask || s->mask[t];
        double w = weight(agg, N, S, n_i);
        for (int t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            if (s->mask && !s->mask[t]) continue;
            double vt = v[t], vo = v_old[t], R = returns[t];
            double vc = vt < vo - cliprange ? vo - cliprange : vt > vo + cliprange ? vo + cliprange : vt;
            double l1 = (vt - R) * (vt - R), l2 = (vc - R) * (vc - R);
            int use_clip = l2 > l1;
            clipped += use_clip;
            loss += 0.5 * w * (use_clip ? l2 : l1);
            // d(0.5 w l)/dv: through l1 always, through l2 only inside the clip range (there vc == v and
            // l2 == l1, so use_clip is 0 there): a clipped max has no gradient
            if (dv && !use_clip) dv[t] = (float)((double)dv[t] + w * (vt - R));
        }
    }
    if (stats) {
        stats->loss = loss;
        stats->clipfrac = nt > 0 ? (double)clipped / (double)nt : 0;
        stats->tokens = nt;
    }
    return RLC_OK;
}
