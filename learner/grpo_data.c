// grpo_data.c: the data side of a GRPO step: the staleness filter and its
// histogram, DAPO's group filter, the samples (tokens, masks, behaviour
// log-probs in the position layout), the no-grad forwards, and scores (with
// DAPO's overlong penalty) and advantages (per group, or per token for
// REINFORCE++). The step buffers grow here, to the largest step seen.
#include <limits.h>  // INT_MAX
#include <math.h>    // isfinite, fabs, sqrt
#include <string.h>  // memcpy, memset, strcmp

#include "advantage.h"  // adv_grpo, adv_rloo, adv_rpp_*, adv_overlong_penalty, adv_dapo_keep, adv_summarize
#include "core/core.h"  // rlc_errorf, rlc_realloc
#include "grpo_internal.h"

// ---- step buffers -------------------------------------------------------------------

// Grows the k buffers bufs[i] (elements of sz[i] bytes) that share *cap to n
// elements; *cap moves only when every buffer grew.
static int grow(void **bufs[], const size_t *sz, int k, size_t *cap, size_t n) {
    if (n <= *cap) return 1;
    size_t c = *cap ? *cap : 64;
    while (c < n) c *= 2;
    for (int i = 0; i < k; i++) {
        void *b = rlc_realloc(*bufs[i], c * sz[i]);
        if (!b) return 0;
        *bufs[i] = b;
    }
    *cap = c;
    return 1;
}

static rlc_status reserve_samples(grpo_trainer *t, size_t samples, size_t groups) {
    void **smp[] = {(void **)&t->sel, (void **)&t->smp, (void **)&t->soff, (void **)&t->resp,
                    (void **)&t->score, (void **)&t->adv, (void **)&t->pen, (void **)&t->sidx};
    const size_t smp_sz[] = {sizeof *t->sel, sizeof *t->smp, sizeof *t->soff, sizeof *t->resp,
                             sizeof *t->score, sizeof *t->adv, sizeof *t->pen, sizeof *t->sidx};
    void **grp[] = {(void **)&t->goff, (void **)&t->keep, (void **)&t->gsrc};
    const size_t grp_sz[] = {sizeof *t->goff, sizeof *t->keep, sizeof *t->gsrc};
    if (!grow(smp, smp_sz, 8, &t->cap_smp, samples + 1) || !grow(grp, grp_sz, 3, &t->cap_grp, groups + 1))
        return rlc_errorf(RLC_ERR_NOMEM, "GRPO: out of memory for a step of %zu trajectories", samples);
    return RLC_OK;
}

static rlc_status reserve_tokens(grpo_trainer *t, size_t tokens) {
    void **tok[] = {(void **)&t->tok, (void **)&t->lmask, (void **)&t->pmask, (void **)&t->behav,
                    (void **)&t->prox, (void **)&t->refl, (void **)&t->adv_tok, (void **)&t->kl_rew};
    const size_t sz[] = {sizeof(int), 1, 1, sizeof(float), sizeof(float), sizeof(float), sizeof(float),
                         sizeof(float)};
    if (!grow(tok, sz, 8, &t->cap_tok, tokens ? tokens : 1))
        return rlc_errorf(RLC_ERR_NOMEM, "GRPO: out of memory for a step of %zu tokens", tokens);
    return RLC_OK;
}

// ---- selection -------------------------------------------------------------------------

// The lag u - v of the oldest token (0 for an empty completion), or -1 when
// some token claims a version after u.
static int64_t lag_of(const rlc_msg_trajectory *tr, int64_t u) {
    if (tr->n_tokens == 0) return 0;
    int64_t lo = tr->versions[0], hi = lo;
    for (uint32_t i = 1; i < tr->n_tokens; i++) {
        if (tr->versions[i] < lo) lo = tr->versions[i];
        if (tr->versions[i] > hi) hi = tr->versions[i];
    }
    return hi > u ? -1 : u - lo;
}

static rlc_status check_traj(const grpo_trainer *t, const rlc_msg_trajectory *tr, int g, int i) {
    if ((tr->n_prompt_tokens && !tr->prompt_tokens) ||
        (tr->n_tokens && (!tr->tokens || !tr->logprobs || !tr->versions)))
        return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d trajectory %d: an array is NULL", g, i);
    if (!isfinite(tr->reward))
        return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d trajectory %d: reward %g is not finite", g, i, tr->reward);
    for (uint32_t k = 0; k < tr->n_prompt_tokens; k++)
        if (tr->prompt_tokens[k] < 0 || tr->prompt_tokens[k] >= t->V)
            return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d trajectory %d: prompt token %u = %d is outside the "
                              "vocabulary of %d", g, i, k, tr->prompt_tokens[k], t->V);
    for (uint32_t k = 0; k < tr->n_tokens; k++) {
        if (tr->tokens[k] < 0 || tr->tokens[k] >= t->V)
            return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d trajectory %d: token %u = %d is outside the "
                              "vocabulary of %d", g, i, k, tr->tokens[k], t->V);
        if (!isfinite(tr->logprobs[k]))
            return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d trajectory %d: log-prob %u is not finite", g, i, k);
    }
    return RLC_OK;
}

// Correct: a component "correct" / "accuracy" >= 0.5, else reward >= threshold.
static int is_correct(const rlc_msg_trajectory *tr, double threshold) {
    for (uint32_t k = 0; k < tr->n_components; k++) {
        const char *n = tr->components[k].name;
        if (n && (strcmp(n, "correct") == 0 || strcmp(n, "accuracy") == 0)) return tr->components[k].value >= 0.5;
    }
    return tr->reward >= threshold;
}

// Staleness filter: fills sel / goff with the trajectories within the bound
// (groups left empty disappear), the histogram and the data statistics.
// Returns the number of groups kept in *ng.
rlc_status grpo_select(grpo_trainer *t, const grpo_group *groups, int n_groups, int64_t u, grpo_stats *st, int *ng,
                       int64_t *max_lag) {
    long total = 0;
    for (int g = 0; g < n_groups; g++) {
        const grpo_group *gr = &groups[g];
        if (gr->n < 0 || (gr->n > 0 && !gr->trajs))
            return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d: %d trajectories at %p", g, gr->n,
                              (const void *)gr->trajs);
        if (gr->base_n < 0 || (gr->base_n > 0 && !(isfinite(gr->base_mean) && gr->base_std >= 0 &&
                                                    isfinite(gr->base_std))))
            return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d: baseline of %d rewards, mean %g, std %g", g,
                              gr->base_n, gr->base_mean, gr->base_std);
        total += gr->n;
    }
    RLC_TRY(reserve_samples(t, (size_t)total, (size_t)n_groups));
    t->in = groups;
    for (int g = 0; g < n_groups; g++)
        for (int i = 0; groups[g].adv_out && i < groups[g].n; i++) groups[g].adv_out[i] = NAN;
    int k = t->cfg.max_staleness, ns = 0, kept_groups = 0;
    *max_lag = 0;
    double rsum = 0, rsq = 0, lsum = 0;
    long correct = 0;
    t->goff[0] = 0;
    for (int g = 0; g < n_groups; g++) {
        for (int i = 0; i < groups[g].n; i++) {
            const rlc_msg_trajectory *tr = &groups[g].trajs[i];
            if (tr->n_tokens && !tr->versions)
                return rlc_errorf(RLC_ERR_ARG, "grpo_step: group %d trajectory %d: versions is NULL", g, i);
            int64_t lag = lag_of(tr, u);
            if (lag < 0) {
                st->dropped_future++;
                continue;
            }
            st->staleness[lag < GRPO_STALE_BINS - 1 ? lag : GRPO_STALE_BINS - 1]++;
            if (lag > k) {
                st->dropped_stale++;
                continue;
            }
            RLC_TRY(check_traj(t, tr, g, i));
            if (lag > *max_lag) *max_lag = lag;
            t->sidx[ns] = i;
            t->sel[ns++] = tr;
            rsum += tr->reward;
            rsq += tr->reward * tr->reward;
            lsum += tr->n_tokens;
            if ((long)tr->n_tokens > st->resp_len_max) st->resp_len_max = tr->n_tokens;
            correct += is_correct(tr, t->cfg.accuracy_threshold);
        }
        if (ns > t->goff[kept_groups]) {
            t->gsrc[kept_groups] = g;
            t->goff[++kept_groups] = ns;
        }
    }
    if (ns > 0) {
        st->reward_mean = rsum / ns;
        double var = rsq / ns - st->reward_mean * st->reward_mean;
        st->reward_std = var > 0 ? sqrt(var) : 0;
        st->accuracy = (double)correct / ns;
        st->resp_len_mean = lsum / ns;
    }
    *ng = kept_groups;
    return RLC_OK;
}

// DAPO dynamic sampling: drops the groups whose rewards are all equal,
// compacting sel / goff. *ng in and out.
rlc_status grpo_filter_groups(grpo_trainer *t, int *ng, grpo_stats *st) {
    int n = t->goff[*ng];
    if (n == 0) return RLC_OK;
    for (int i = 0; i < n; i++) t->score[i] = t->sel[i]->reward;
    RLC_TRY(adv_dapo_keep(t->score, n, t->goff, *ng, t->keep, NULL));
    int g_out = 0, s_out = 0;
    for (int g = 0; g < *ng; g++) {
        int a = t->goff[g], b = t->goff[g + 1];
        if (!t->keep[g]) {
            st->filtered_groups++;
            st->filtered_trajectories += b - a;
            continue;
        }
        for (int i = a; i < b; i++) {
            t->sidx[s_out] = t->sidx[i];
            t->sel[s_out++] = t->sel[i];
        }
        t->goff[g_out] = s_out - (b - a);
        t->gsrc[g_out] = t->gsrc[g];
        g_out++;
    }
    t->goff[g_out] = s_out;
    *ng = g_out;
    return RLC_OK;
}

// ---- samples ----------------------------------------------------------------------------

// Lays out the selected trajectories as samples: tokens, masks and the
// behaviour log-probs in the position layout. Completions are cut to fit a
// row; a prompt longer than a row leaves the sample empty (its reward still
// counts in its group). Returns the trained completion tokens in *n_resp.
rlc_status grpo_build_samples(grpo_trainer *t, int ns, grpo_stats *st, long *n_resp) {
    int mbt = t->cfg.micro_batch_tokens;
    size_t total = 0;
    for (int i = 0; i < ns; i++) {
        const rlc_msg_trajectory *tr = t->sel[i];
        size_t n = (size_t)tr->n_prompt_tokens + tr->n_tokens;
        total += n < (size_t)mbt ? n : (size_t)mbt;
    }
    if (total > INT_MAX)
        return rlc_errorf(RLC_ERR_LIMIT, "grpo_step: %zu tokens in one step (at most %d)", total, INT_MAX);
    RLC_TRY(reserve_tokens(t, total));
    int at = 0;
    long resp_total = 0;
    for (int i = 0; i < ns; i++) {
        const rlc_msg_trajectory *tr = t->sel[i];
        size_t np = tr->n_prompt_tokens, nc = tr->n_tokens;
        if (np + nc > (size_t)mbt) {
            st->truncated++;
            nc = np < (size_t)mbt ? (size_t)mbt - np : 0;
            if (np >= (size_t)mbt) np = 0;  // the prompt alone does not fit: an empty sample
        }
        int P = (int)np, C = (int)nc, n = P + C, resp = 0;  // n <= mbt
        t->soff[i] = at;
        for (int j = 0; j < P; j++) t->tok[at + j] = tr->prompt_tokens[j];
        for (int j = 0; j < C; j++) t->tok[at + P + j] = tr->tokens[j];
        memset(t->lmask + at, 0, np);
        memset(t->lmask + at + P, 1, nc);
        memset(t->pmask + at, 0, np + nc);
        memset(t->behav + at, 0, (np + nc) * sizeof(float));
        for (int j = 0; j < C; j++) {
            int pos = P + j - 1;  // the position that predicts completion token j
            if (pos < 0) continue;
            t->pmask[at + pos] = 1;
            t->behav[at + pos] = tr->logprobs[j];
            resp++;
        }
        t->smp[i] = (batch_sample){.tokens = t->tok + at, .loss_mask = t->lmask + at, .n = n};
        t->resp[i] = resp;
        resp_total += resp;
        at += n;
    }
    t->soff[ns] = at;
    *n_resp = resp_total;
    return RLC_OK;
}

// The batch of every sample as rl_seqs (position layout).
static rl_seqs all_seqs(const grpo_trainer *t, int ns) {
    return (rl_seqs){.nseq = ns, .offsets = t->soff, .mask = t->pmask};
}

// Packs samples [s0, s1) unless the packer holds them already.
rlc_status grpo_pack(grpo_trainer *t, int s0, int s1) {
    if (t->packed_s0 == s0 && t->packed_s1 == s1) return RLC_OK;
    t->packed_s0 = t->packed_s1 = -1;
    RLC_TRY(batch_packer_pack(t->packer, t->smp + s0, s1 - s0));
    t->packed_s0 = s0;
    t->packed_s1 = s1;
    return RLC_OK;
}

// A no-grad forward of `fwd` over every sample, the log-probs scattered
// into dst (position layout).
// With data-parallel ranks each computes its rows and the others' values
// arrive through the sum (each position is written by one rank, 0 elsewhere:
// the sum is exact).
rlc_status grpo_nograd_logprobs(grpo_trainer *t, actor_trainer *fwd, int ns, float *dst) {
    RLC_TRY(grpo_pack(t, 0, ns));
    int dp = lrn_dp_world(t->dp) > 1;
    if (dp) memset(dst, 0, (size_t)t->soff[ns] * sizeof(float));
    for (int r = 0; r < batch_packer_rows(t->packer); r++) {
        if (!grpo_row_mine(t, r)) continue;
        const actor_batch *b = batch_packer_row(t->packer, r);
        int n;
        const int *idx = batch_packer_row_samples(t->packer, r, &n);
        RLC_TRY(fwd ? actor_train_forward(fwd, b, t->r_logp, NULL) : grpo_policy_forward(t, b, t->r_logp, NULL));
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            memcpy(dst + t->soff[i], t->r_logp + b->cu_seqlens[k], (size_t)(t->soff[i + 1] - t->soff[i]) * sizeof(float));
        }
    }
    if (dp) RLC_TRY(lrn_dp_allreduce_sum(t->dp, dst, (size_t)t->soff[ns]));
    return RLC_OK;
}

// ---- scores and advantages -------------------------------------------------------------

// DAPO's soft overlong penalty, added to each score (the completion's length
// as received, L_max = max_new_tokens).
static void add_overlong(grpo_trainer *t, int ns, grpo_stats *st) {
    const grpo_config *c = &t->cfg;
    if (c->overlong_buffer <= 0 || ns == 0) return;
    double sum = 0;
    long hit = 0;
    for (int i = 0; i < ns; i++) {
        double p = adv_overlong_penalty(t->sel[i]->n_tokens, c->max_new_tokens, c->overlong_buffer,
                                        c->overlong_penalty);
        t->score[i] += p;
        sum += p;
        hit += p < 0;
    }
    st->overlong_mean = sum / ns;
    st->overlong_frac = (double)hit / ns;
}

// REINFORCE++: the outcome score on each completion's last token, plus the
// per-token KL penalty when it is in the reward (t->kl_rew), turned into
// whitened discounted returns in adv_tok; t->adv gets each sample's mean.
static rlc_status rpp_token_advantages(grpo_trainer *t, int ns, int kl_tok) {
    rl_seqs all = all_seqs(t, ns);
    int T = t->soff[ns];
    RLC_TRY(rl_seqs_place_outcome(&all, t->score, t->adv_tok));
    for (int p = 0; p < T; p++) t->kl_rew[p] = (kl_tok ? t->kl_rew[p] : 0.0f) + t->adv_tok[p];
    RLC_TRY(adv_rpp_tokens(&all, t->kl_rew, t->cfg.gamma, t->adv_tok));
    RLC_TRY(rl_seqs_sum(&all, t->adv_tok, t->adv));
    for (int i = 0; i < ns; i++) t->adv[i] = t->resp[i] > 0 ? t->adv[i] / t->resp[i] : 0.0;
    return RLC_OK;
}

// Groups that bring their own baseline (grpo_group.base_n > 0, Reinforce-Ada:
// the statistics of every sample drawn for the prompt) get the GRPO, Dr.GRPO
// or RLOO advantage against it instead of their own mean and std.
static void apply_group_baselines(grpo_trainer *t, int ng) {
    const grpo_config *c = &t->cfg;
    if (c->adv != GRPO_ADV_GRPO && c->adv != GRPO_ADV_DRGRPO && c->adv != GRPO_ADV_RLOO) return;
    for (int g = 0; g < ng; g++) {
        const grpo_group *gr = &t->in[t->gsrc[g]];
        if (gr->base_n <= 0) continue;
        double mean = gr->base_mean, std = gr->base_std, N = gr->base_n;
        for (int i = t->goff[g]; i < t->goff[g + 1]; i++) {
            double d = t->score[i] - mean;
            if (c->adv == GRPO_ADV_GRPO) t->adv[i] = d / (std + c->adv_eps);
            else if (c->adv == GRPO_ADV_DRGRPO) t->adv[i] = d;
            else t->adv[i] = N > 1 ? d * N / (N - 1) : t->score[i];  // r - mean of the other N - 1
        }
    }
}

// adv_out of the caller's groups: the mean over its completion tokens of the
// advantage each trained trajectory trained with (t->adv: one per sample for
// the group estimators, the token mean for REINFORCE++ and PPO's GAE).
void grpo_export_advantages(grpo_trainer *t, int ng) {
    for (int g = 0; g < ng; g++) {
        const grpo_group *gr = &t->in[t->gsrc[g]];
        if (!gr->adv_out) continue;
        for (int i = t->goff[g]; i < t->goff[g + 1]; i++)
            if (t->resp[i] > 0) gr->adv_out[t->sidx[i]] = t->adv[i];
    }
}

rlc_status grpo_advantages(grpo_trainer *t, int ns, int ng, const float *old, grpo_stats *st) {
    const grpo_config *c = &t->cfg;
    rl_seqs all = all_seqs(t, ns);
    for (int i = 0; i < ns; i++) t->score[i] = t->sel[i]->reward;
    add_overlong(t, ns, st);
    int kl_tok = grpo_kl_needed(c) && c->kl_in_reward;
    if (kl_tok) {
        // score = reward - coef * sum_t kl_t: verl's token-level penalty summed
        // (added to the reward directly, so an empty completion keeps its reward)
        memset(t->kl_rew, 0, (size_t)t->soff[ns] * sizeof(float));
        double kl_mean = 0;
        RLC_TRY(rl_kl_penalize_rewards(c->loss.kl_type, c->loss.kl_coef, &all, old, t->refl, t->kl_rew, &kl_mean));
        RLC_TRY(rl_seqs_sum(&all, t->kl_rew, t->pen));
        st->kl = kl_mean;
    }
    if (c->adv == GRPO_ADV_RPP) RLC_TRY(rpp_token_advantages(t, ns, kl_tok));
    if (kl_tok)
        for (int i = 0; i < ns; i++) t->score[i] += t->pen[i];
    switch (c->adv) {
    case GRPO_ADV_RPP: break;  // per token, above
    case GRPO_ADV_GRPO: RLC_TRY(adv_grpo(t->score, ns, t->goff, ng, c->adv_eps, 1, t->adv)); break;
    case GRPO_ADV_DRGRPO: RLC_TRY(adv_grpo(t->score, ns, t->goff, ng, c->adv_eps, 0, t->adv)); break;
    case GRPO_ADV_RLOO: RLC_TRY(adv_rloo(t->score, ns, t->goff, ng, t->adv)); break;
    default: RLC_TRY(adv_rpp_baseline(t->score, t->resp, ns, t->goff, ng, t->adv)); break;
    }
    apply_group_baselines(t, ng);
    grpo_export_advantages(t, ng);
    adv_summary sm = adv_summarize(t->adv, ns);
    st->adv_mean = sm.mean;
    st->adv_std = sm.std;
    st->adv_absmax = fabs(sm.min) > fabs(sm.max) ? fabs(sm.min) : fabs(sm.max);
    return c->adv == GRPO_ADV_RPP ? RLC_OK : rl_seqs_broadcast(&all, t->adv, t->adv_tok);
}

