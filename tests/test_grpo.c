// test_grpo.c: the GRPO update step (learner/grpo.h) on a tiny random model,
// with real components throughout: behaviour log-probs from the KV-cached
// decoder (the worker's path), the packed trainer, rl_loss, advantages and
// AdamW.
//   (a) wiring: one step with an SGD-like AdamW (eps huge, so the update is
//       -lr/eps * g) moves every tensor along the gradient of
//       J = (1/N) sum_t A_t log p_t, checked against central differences of
//       J computed with the decoder;
//   (b) one step (2 epochs x 2 minibatches, KL, entropy, stale data with IS
//       weights) with rows of 512 tokens and of 20 tokens: same parameters;
//   (c) staleness: lags above k are dropped and counted, and the result is
//       the same bytes as a step given only the fresh data; k = 0 with
//       behaviour == current: ratio 1, IS weight 1, nothing clipped; the IS
//       cap applies;
//   (d) DAPO: groups with equal rewards are dropped; all equal: no update;
//   (e) learning: repeated steps reward completions that contain a target
//       token; its probability rises; after the first step, a step
//       allocates nothing (every allocation fails and the step still works);
//   (f) the algorithms: REINFORCE++'s per-token advantages are the whitened
//       returns (mean 0, unbiased variance 1 over the completion tokens;
//       gamma < 1 raises them toward a rewarded completion's end); GSPO at
//       ratio 1 makes the same update as the vanilla loss, and a second
//       epoch moves the sequence ratios and clips; the dapo preset's
//       overlong penalty changes the scores as the formula says.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>  // malloc, free
#include <string.h>

#include "actor/model.h"      // actor_model_create, actor_forward, actor_kv
#include "core/core.h"        // rlc_status_name, rlc_last_error, json
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/advantage.h"      // adv_overlong_penalty, adv_summarize
#include "learner/grpo.h"
#include "learner/grpo_internal.h"  // the step's per-token advantages (t->adv_tok), white-box
#include "test.h"

#define VOCAB 40
#define MAXG 8
#define MAXN 4
#define MAXP 6
#define MAXC 8
#define TARGET 7

#include "tiny_policy.h"  // tiny_model, seq_probs, rnd, g_kv


// ---- hand-made groups --------------------------------------------------------------------

typedef struct dataset {
    sample s[MAXG][MAXN];
    int ng, n[MAXG];
    rlc_msg_trajectory tr[MAXG][MAXN];
    grpo_group groups[MAXG];
    rlc_proto_component comp[MAXG][MAXN];
} dataset;

static double rnd_unit(void) { return (rnd() & 0xFFFFFF) / (double)0x1000000; }

// ng groups of n samples; each group shares a prompt; completion tokens
// avoid TARGET; rewards are 0 / 1 at random (each group mixed).
static void make_data(dataset *d, int ng, int n) {
    memset(d, 0, sizeof *d);
    d->ng = ng;
    for (int g = 0; g < ng; g++) {
        d->n[g] = n;
        int32_t prompt[MAXP];
        int P = draw_prompt(prompt);
        for (int i = 0; i < n; i++) {
            sample *s = &d->s[g][i];
            draw_completion(s, prompt, P, TARGET);
            s->reward = (i == 0) ? 1.0 : (i == 1) ? 0.0 : (double)(rnd() & 1);
        }
    }
}

// Behaviour log-probs from the model (plus uniform noise in [-noise, noise])
// and every token at version v.
static void set_behaviour(dataset *d, actor_model *m, int v, double noise) {
    for (int g = 0; g < d->ng; g++)
        for (int i = 0; i < d->n[g]; i++) {
            sample *s = &d->s[g][i];
            double lp[MAXC];
            seq_probs(m, s->prompt, s->P, s->comp, s->C, TARGET, lp, NULL);
            for (int j = 0; j < s->C; j++) {
                double x = lp[j] + noise * (2 * rnd_unit() - 1);
                s->lp[j] = (float)(x < 0 ? x : 0);
                s->ver[j] = v;
            }
        }
}

// The views grpo_step reads.
static void views(dataset *d) {
    for (int g = 0; g < d->ng; g++) {
        for (int i = 0; i < d->n[g]; i++) {
            sample *s = &d->s[g][i];
            d->tr[g][i] = (rlc_msg_trajectory){.worker_id = "w0", .prompt_id = (uint64_t)g, .sample_index = (uint32_t)i,
                                               .prompt_tokens = s->prompt, .n_prompt_tokens = (uint32_t)s->P,
                                               .tokens = s->comp, .logprobs = s->lp, .versions = s->ver,
                                               .n_tokens = (uint32_t)s->C, .reward = s->reward};
        }
        d->groups[g] = (grpo_group){.trajs = d->tr[g], .n = d->n[g]};
    }
}

// An AdamW whose first update is -lr/eps * g to a relative 1e-4 (|g| << eps):
// plain SGD with step eta, no clipping, no decay.
static void sgd_like(grpo_config *c, double eta) {
    c->adamw.eps = 1e4;
    c->schedule.lr = eta * 1e4;
    c->adamw.weight_decay = 0;
    c->adamw.max_grad_norm = 0;
}

static actor_params *P(actor_model *m) { return actor_model_params(m); }

// ---- (a) the update follows the gradient of the surrogate ---------------------------------

// J = (1/N) sum over completion tokens of A_i log p_t, A_i GRPO's advantage.
static double surrogate(actor_model *m, const dataset *d, const double adv[MAXG][MAXN]) {
    double J = 0;
    long N = 0;
    for (int g = 0; g < d->ng; g++)
        for (int i = 0; i < d->n[g]; i++) {
            const sample *s = &d->s[g][i];
            double lp[MAXC];
            seq_probs(m, s->prompt, s->P, s->comp, s->C, TARGET, lp, NULL);
            for (int j = 0; j < s->C; j++) J += adv[g][i] * lp[j];
            N += s->C;
        }
    return J / (double)N;
}

static void hand_grpo_advantages(const dataset *d, double adv[MAXG][MAXN]) {
    for (int g = 0; g < d->ng; g++) {
        int n = d->n[g];
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += d->s[g][i].reward / n;
        for (int i = 0; i < n; i++) var += (d->s[g][i].reward - mean) * (d->s[g][i].reward - mean) / (n - 1);
        for (int i = 0; i < n; i++) adv[g][i] = (d->s[g][i].reward - mean) / (sqrt(var) + 1e-6);
    }
}

static void test_wiring(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 1;
    static dataset d;
    make_data(&d, 4, 4);
    actor_model *m = tiny_model(11), *m0 = tiny_model(11);
    if (!m || !m0) return;
    set_behaviour(&d, m, 0, 0.0);
    views(&d);
    grpo_config c;
    grpo_config_default(&c);
    const double eta = 0.05;
    sgd_like(&c, eta);
    c.micro_batch_tokens = 256;
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    if (!t) return;
    grpo_stats st;
    CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &st));
    CHECK(st.updated == 1 && st.version == 1 && grpo_trainer_version(t) == 1);
    CHECK(st.trained_trajectories == 16 && st.trained_groups == 4 && st.optimizer_steps == 1);
    CHECK_MSG(st.clipfrac == 0 && fabs(st.approx_kl) < 1e-5, "clipfrac %g approx_kl %g", st.clipfrac, st.approx_kl);

    // the update against central differences of J at the old parameters
    double adv[MAXG][MAXN];
    hand_grpo_advantages(&d, adv);
    actor_params *p = P(m), *p0 = P(m0);
    double worst = 0, gmax = 0;
    int worst_t = -1, checked = 0;
    for (int k = 0; k < p->n_tensors; k++) {
        const actor_tensor_info *ti = &p->tensors[k];
        size_t best = ti->offset;
        for (size_t e = ti->offset; e < ti->offset + ti->numel; e++)
            if (fabs(p->data[e] - p0->data[e]) > fabs(p->data[best] - p0->data[best])) best = e;
        double g = (double)(p->data[best] - p0->data[best]) / eta;  // = dJ/dtheta
        const float h = 1e-2f, x = p0->data[best];
        p0->data[best] = x + h;
        double jp = surrogate(m0, &d, adv);
        p0->data[best] = x - h;
        double jm = surrogate(m0, &d, adv);
        p0->data[best] = x;
        double fd = (jp - jm) / (2.0 * (double)h);
        double err = fabs(fd - g) / (1e-4 + fabs(fd));
        if (err > worst) worst = err, worst_t = k;
        if (fabs(g) > gmax) gmax = fabs(g);
        checked++;
    }
    CHECK_MSG(worst < 3e-2, "update vs central difference: worst relative error %.3g in %s", worst,
              worst_t >= 0 ? p->tensors[worst_t].name : "?");
    CHECK(gmax > 1e-3);  // the gradient is not trivially zero
    printf("(a) %d tensors: update / eta vs central difference of J, worst rel err %.2e (max |g| %.3g)\n", checked,
           worst, gmax);

    // first order: J went up; positive-advantage completions gained log-prob overall
    double J1 = surrogate(m, &d, adv), J0 = surrogate(m0, &d, adv);
    CHECK_MSG(J1 > J0, "J %g -> %g", J0, J1);
    double up = 0, down = 0;
    for (int g = 0; g < d.ng; g++)
        for (int i = 0; i < d.n[g]; i++) {
            sample *s = &d.s[g][i];
            double a[MAXC], b[MAXC], sa = 0, sb = 0;
            seq_probs(m0, s->prompt, s->P, s->comp, s->C, TARGET, a, NULL);
            seq_probs(m, s->prompt, s->P, s->comp, s->C, TARGET, b, NULL);
            for (int j = 0; j < s->C; j++) sa += a[j], sb += b[j];
            if (adv[g][i] > 0) up += sb - sa;
            else if (adv[g][i] < 0) down += sb - sa;
        }
    CHECK_MSG(up > 0 && down < 0, "log-prob change of positive-advantage completions %g, negative %g", up, down);
    printf("(a) J %.6f -> %.6f; sum log-prob change: A > 0 %+.4f, A < 0 %+.4f\n", J0, J1, up, down);
    grpo_trainer_free(t);
    actor_model_free(m);
    actor_model_free(m0);
}

// ---- (b) micro-batch budget does not change the step -------------------------------------------

static void test_microbatch(rl_agg_mode mode) {
    g_rng = 0x9E3779B97F4A7C15ull * 2;
    static dataset d;
    make_data(&d, 4, 4);
    actor_model *a = tiny_model(21), *b = tiny_model(21);
    if (!a || !b) return;
    set_behaviour(&d, a, 3, 1.0);
    for (int g = 0; g < d.ng; g++)  // half the data one version behind (k = 1)
        for (int i = 0; i < d.n[g]; i += 2)
            for (int j = 0; j < d.s[g][i].C; j++) d.s[g][i].ver[j] = 2;
    views(&d);
    grpo_config c;
    grpo_config_default(&c);
    sgd_like(&c, 0.05);
    c.ppo_epochs = 2;
    c.minibatches = 2;
    c.max_staleness = 1;
    c.loss.policy.is_cap = 2.0;
    c.loss.kl_coef = 0.05;
    c.loss.entropy_coef = 0.01;
    c.loss.agg.mode = mode;
    grpo_trainer *ta = NULL, *tb = NULL;
    c.micro_batch_tokens = 512;
    CHECK_OK(grpo_trainer_create(a, NULL, &c, 3, &ta));
    c.micro_batch_tokens = 20;
    CHECK_OK(grpo_trainer_create(b, NULL, &c, 3, &tb));
    if (!ta || !tb) return;
    grpo_stats sa, sb;
    CHECK_OK(grpo_step(ta, d.groups, d.ng, 3, &sa));
    CHECK_OK(grpo_step(tb, d.groups, d.ng, 3, &sb));
    CHECK(sa.optimizer_steps == 4 && sb.optimizer_steps == 4 && sa.tokens == sb.tokens);
    CHECK_MSG(sa.is_capped > 0 && sa.is_capped < 1, "is_capped %g", sa.is_capped);
    CHECK(sa.staleness[0] == 8 && sa.staleness[1] == 8 && sa.dropped_stale == 0);
    size_t worst = 0;
    double wabs = 0;
    size_t n = P(a)->numel;
    test_rel_l2(P(b)->data, P(a)->data, n, &worst, &wabs);
    double moved = 0;
    actor_model *ref = tiny_model(21);
    for (size_t i = 0; ref && i < n; i++) moved = fmax(moved, fabs(P(a)->data[i] - P(ref)->data[i]));
    CHECK_MSG(wabs <= 1e-5, "%s: rows of 512 vs 20 tokens: max |diff| %.3g at %zu (largest update %.3g)",
              rl_agg_name(mode), wabs, worst, moved);
    CHECK_MSG(fabs(sa.loss - sb.loss) <= 1e-6 * (1 + fabs(sa.loss)), "loss %.9g vs %.9g", sa.loss, sb.loss);
    CHECK_MSG(fabs(sa.grad_norm - sb.grad_norm) <= 1e-5 * sa.grad_norm, "grad norm %.9g vs %.9g", sa.grad_norm,
              sb.grad_norm);
    printf("(b) %s: 2 epochs x 2 minibatches, rows of 512 vs 20 tokens: max |param diff| %.2e (largest update "
           "%.3g), loss %.6f / %.6f, kl %.3g, is_capped %.3f\n", rl_agg_name(mode), wabs, moved, sa.loss, sb.loss,
           sa.kl, sa.is_capped);
    actor_model_free(ref);
    grpo_trainer_free(ta);
    grpo_trainer_free(tb);
    actor_model_free(a);
    actor_model_free(b);
}

// ---- (c) staleness -----------------------------------------------------------------------------

static void test_staleness(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 3;
    static dataset d, fresh;
    make_data(&d, 4, 4);
    actor_model *a = tiny_model(31), *b = tiny_model(31);
    if (!a || !b) return;
    const int u = 5;
    set_behaviour(&d, a, u, 0.2);
    // group 1: sample 2 at lag 3 (dropped); sample 3 mixed versions 4 and 3 (lag 2: kept)
    for (int j = 0; j < d.s[1][2].C; j++) d.s[1][2].ver[j] = 2;
    for (int j = 0; j < d.s[1][3].C; j++) d.s[1][3].ver[j] = j < 2 ? 4 : 3;
    // group 2: every sample at lag 4 (the group disappears)
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < d.s[2][i].C; j++) d.s[2][i].ver[j] = 1;
    // group 3: sample 1 claims version 6 (from the future: dropped)
    d.s[3][1].ver[0] = 6;
    views(&d);
    // the same data without what must be dropped
    fresh = d;
    fresh.ng = 3;
    fresh.s[1][2] = fresh.s[1][3];
    fresh.n[1] = 3;
    fresh.s[2][0] = d.s[3][0], fresh.s[2][1] = d.s[3][2], fresh.s[2][2] = d.s[3][3];
    fresh.n[2] = 3;
    views(&fresh);

    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 1e-2;
    c.max_staleness = 2;
    c.micro_batch_tokens = 64;
    grpo_trainer *ta = NULL, *tb = NULL;
    CHECK_OK(grpo_trainer_create(a, NULL, &c, u, &ta));
    CHECK_OK(grpo_trainer_create(b, NULL, &c, u, &tb));
    if (!ta || !tb) return;
    grpo_stats sa, sb;
    CHECK_OK(grpo_step(ta, d.groups, d.ng, u, &sa));
    CHECK_OK(grpo_step(tb, fresh.groups, fresh.ng, u, &sb));
    CHECK_MSG(sa.dropped_stale == 5 && sa.dropped_future == 1, "dropped %ld stale, %ld future", sa.dropped_stale,
              sa.dropped_future);
    CHECK(sa.trajectories == 16 && sa.trained_trajectories == 10 && sa.trained_groups == 3);
    CHECK_MSG(sa.staleness[0] == 9 && sa.staleness[1] == 0 && sa.staleness[2] == 1 && sa.staleness[3] == 1 &&
              sa.staleness[4] == 4, "histogram %ld %ld %ld %ld %ld", sa.staleness[0], sa.staleness[1],
              sa.staleness[2], sa.staleness[3], sa.staleness[4]);
    CHECK(sb.dropped_stale == 0 && sb.trained_trajectories == 10);
    CHECK_MSG(memcmp(P(a)->data, P(b)->data, P(a)->numel * sizeof(float)) == 0,
              "the step with stale data differs from the step without it");
    CHECK(sa.updated && grpo_trainer_version(ta) == u + 1);
    // a second step at the old version is refused
    CHECK(grpo_step(ta, d.groups, d.ng, u, &sa) == RLC_ERR_ARG);
    grpo_trainer_free(ta);
    grpo_trainer_free(tb);
    printf("(c) k = 2 at u = 5: dropped %ld stale + %ld future of %ld; same bytes as the fresh-only step\n",
           sa.dropped_stale, sa.dropped_future, sa.trajectories);

    // k = 0, behaviour from the current weights: ratio 1, weight 1, no clipping
    make_data(&d, 4, 4);
    set_behaviour(&d, a, u + 1, 0.0);
    views(&d);
    c.max_staleness = 0;
    for (int rp = 0; rp < 2; rp++) {
        c.recompute_proximal = rp;
        grpo_trainer *t = NULL;
        actor_model *m = tiny_model(31);
        if (!m) return;
        memcpy(P(m)->data, P(a)->data, P(m)->numel * sizeof(float));
        CHECK_OK(grpo_trainer_create(m, NULL, &c, u + 1, &t));
        grpo_stats s;
        if (t) CHECK_OK(grpo_step(t, d.groups, d.ng, u + 1, &s));
        CHECK_MSG(s.clipfrac == 0 && fabs(s.approx_kl) < 1e-5 && fabs(s.is_mean - 1) < 1e-5 && s.is_capped == 0 &&
                  fabs(s.behav_kl) < 1e-5,
                  "recompute_proximal %d: clipfrac %g approx_kl %g is_mean %.9f behav_kl %g", rp, s.clipfrac,
                  s.approx_kl, s.is_mean, s.behav_kl);
        if (rp == 0) CHECK_MSG(fabs(s.is_mean - 1.0) < 1e-12 && s.prox_s == 0, "is_mean %.17g prox_s %g", s.is_mean, s.prox_s);
        printf("(c) k = 0, behaviour = current, recompute_proximal %d: clipfrac %g, approx_kl %.2e, IS weight %.7f\n",
               rp, s.clipfrac, s.approx_kl, s.is_mean);
        grpo_trainer_free(t);
        actor_model_free(m);
    }
    // k = 1 and the data one version behind, its log-probs 1 nat below the
    // policy: every weight e > C = 2 is capped
    for (int g = 0; g < d.ng; g++)
        for (int i = 0; i < d.n[g]; i++)
            for (int j = 0; j < d.s[g][i].C; j++) d.s[g][i].lp[j] -= 1.0f, d.s[g][i].ver[j] = u;
    c.max_staleness = 1;
    c.loss.policy.is_cap = 2.0;
    c.recompute_proximal = 0;
    grpo_trainer *t = NULL;
    actor_model *m = tiny_model(31);
    if (!m) return;
    memcpy(P(m)->data, P(a)->data, P(m)->numel * sizeof(float));
    CHECK_OK(grpo_trainer_create(m, NULL, &c, u + 1, &t));
    grpo_stats s = {0};
    if (t) CHECK_OK(grpo_step(t, d.groups, d.ng, u + 1, &s));
    CHECK_MSG(s.is_capped == 1 && fabs(s.is_mean - 2) < 1e-6 && fabs(s.behav_kl + 1) < 1e-4 && s.prox_s > 0,
              "is_capped %g is_mean %g behav_kl %g", s.is_capped, s.is_mean, s.behav_kl);
    grpo_trainer_free(t);
    // the same data at lag 0 (k = 1): the worker's log-probs are the proximal
    // ones; no recompute, weight 1
    for (int g = 0; g < d.ng; g++)
        for (int i = 0; i < d.n[g]; i++)
            for (int j = 0; j < d.s[g][i].C; j++) d.s[g][i].ver[j] = u + 1;
    memcpy(P(m)->data, P(a)->data, P(m)->numel * sizeof(float));
    t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, u + 1, &t));
    if (t) CHECK_OK(grpo_step(t, d.groups, d.ng, u + 1, &s));
    CHECK_MSG(s.prox_s == 0 && s.is_mean == 1 && s.is_capped == 0, "prox_s %g is_mean %g", s.prox_s, s.is_mean);
    grpo_trainer_free(t);
    actor_model_free(m);
    actor_model_free(a);
    actor_model_free(b);
}

// ---- (d) DAPO dynamic sampling ------------------------------------------------------------------

static void test_dapo(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 4;
    static dataset d;
    make_data(&d, 3, 4);
    for (int i = 0; i < 4; i++) d.s[0][i].reward = 1, d.s[1][i].reward = 0;
    actor_model *m = tiny_model(41), *m0 = tiny_model(41);
    if (!m || !m0) return;
    set_behaviour(&d, m, 0, 0.0);
    views(&d);
    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 1e-2;
    c.dynamic_sampling = 1;
    c.micro_batch_tokens = 64;
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    if (!t) return;
    grpo_stats s;
    CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &s));
    CHECK_MSG(s.filtered_groups == 2 && s.filtered_trajectories == 8 && s.trained_groups == 1 &&
              s.trained_trajectories == 4 && s.updated, "filtered %ld groups / %ld trajectories, trained %ld",
              s.filtered_groups, s.filtered_trajectories, s.trained_trajectories);
    CHECK_MSG(fabs(s.reward_mean - (4 + d.s[2][0].reward + d.s[2][1].reward + d.s[2][2].reward + d.s[2][3].reward) / 12) <
              1e-12, "reward mean %g (over every fresh trajectory, before the filter)", s.reward_mean);
    // nothing but equal groups: no update, the version stays
    memcpy(P(m0)->data, P(m)->data, P(m)->numel * sizeof(float));
    d.ng = 2;
    set_behaviour(&d, m, 1, 0.0);
    views(&d);
    CHECK_OK(grpo_step(t, d.groups, d.ng, 1, &s));
    CHECK_MSG(s.filtered_groups == 2 && !s.updated && s.version == 1 && grpo_trainer_version(t) == 1,
              "filtered %ld updated %d version %lld / %lld", s.filtered_groups, s.updated, (long long)s.version,
              (long long)grpo_trainer_version(t));
    CHECK(memcmp(P(m0)->data, P(m)->data, P(m)->numel * sizeof(float)) == 0);
    printf("(d) DAPO: 2 of 3 groups filtered; all-equal batch: no update (version stays %lld)\n", (long long)s.version);
    grpo_trainer_free(t);
    actor_model_free(m);
    actor_model_free(m0);
}

// ---- (d2) a baseline brought by the caller, advantages handed back --------------------------------

// Group 0 brings a Reinforce-Ada baseline (8 rewards drawn: mean 0.25, std
// sqrt(1.5/7)), group 1 none, group 2 is from the future (dropped). adv_out
// gives each trajectory's advantage: group 0 against the baseline, group 1
// against its own statistics, group 2 NaN; for GRPO, Dr.GRPO and RLOO.
static void test_baseline(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 5;
    static dataset d;
    make_data(&d, 3, 4);
    static const double r0[4] = {0, 1, 0, 1}, r1[4] = {1, 0, 0, 0};
    for (int i = 0; i < 4; i++) d.s[0][i].reward = r0[i], d.s[1][i].reward = r1[i];
    const double bm = 0.25, bs = sqrt(1.5 / 7);
    for (int kind = 0; kind < 3; kind++) {
        actor_model *m = tiny_model(43);
        if (!m) return;
        set_behaviour(&d, m, 0, 0.0);
        for (int i = 0; i < 4; i++) d.s[2][i].ver[0] = 7;  // a version the learner never made
        views(&d);
        double out[3][4];
        for (int g = 0; g < 3; g++) {
            for (int i = 0; i < 4; i++) out[g][i] = -99;
            d.groups[g].adv_out = out[g];
        }
        d.groups[0].base_n = 8, d.groups[0].base_mean = bm, d.groups[0].base_std = bs;
        grpo_config c;
        grpo_config_default(&c);
        c.adv = kind == 0 ? GRPO_ADV_GRPO : kind == 1 ? GRPO_ADV_DRGRPO : GRPO_ADV_RLOO;
        c.micro_batch_tokens = 64;
        grpo_trainer *t = NULL;
        CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
        if (!t) return;
        grpo_stats s;
        CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &s));
        CHECK(s.dropped_future == 4 && s.trained_trajectories == 8);
        // group 1 by hand: mean 0.25, std 0.5 (unbiased: sqrt(0.75/3))
        double worst = 0;
        for (int i = 0; i < 4; i++) {
            double a0 = r0[i] - bm, a1 = r1[i] - 0.25;
            if (kind == 0) a0 /= bs + 1e-6, a1 /= 0.5 + 1e-6;
            if (kind == 2) a0 *= 8.0 / 7, a1 *= 4.0 / 3;
            double e = fmax(fabs(out[0][i] - a0), fabs(out[1][i] - a1));
            if (e > worst) worst = e;
            CHECK_MSG(isnan(out[2][i]), "group 2 (dropped) trajectory %d: %g", i, out[2][i]);
        }
        CHECK_MSG(worst < 1e-12, "%s: adv_out max abs error %.3g (group 0: %g %g %g %g)", grpo_adv_name(c.adv), worst,
                  out[0][0], out[0][1], out[0][2], out[0][3]);
        grpo_trainer_free(t);
        actor_model_free(m);
        for (int g = 0; g < 3; g++) d.groups[g] = (grpo_group){0};
    }
    printf("(d2) caller's baseline: GRPO, Dr.GRPO and RLOO against the prompt's statistics; adv_out by trajectory\n");
}

// ---- (e) learning ---------------------------------------------------------------------------------

// Mean p(TARGET | prefix) over every completion position of the data.
static double target_prob(actor_model *m, const dataset *d) {
    double sum = 0;
    long n = 0;
    static float logits[(MAXP + MAXC) * VOCAB];
    for (int g = 0; g < d->ng; g++)
        for (int i = 0; i < d->n[g]; i++) {
            const sample *s = &d->s[g][i];
            int tok[MAXP + MAXC], slot[MAXP + MAXC] = {0};
            for (int k = 0; k < s->P; k++) tok[k] = s->prompt[k];
            for (int k = 0; k < s->C; k++) tok[s->P + k] = s->comp[k];
            actor_kv_clear(g_kv, 0);
            CHECK_OK(actor_forward(m, g_kv, tok, slot, s->P + s->C, NULL, logits));
            for (int j = 0; j < s->C; j++) {
                const float *l = logits + (size_t)(s->P + j - 1) * VOCAB;
                double mx = l[0], z = 0;
                for (int v = 1; v < VOCAB; v++) mx = fmax(mx, l[v]);
                for (int v = 0; v < VOCAB; v++) z += exp(l[v] - mx);
                sum += exp(l[TARGET] - mx) / z;
                n++;
            }
        }
    return sum / (double)n;
}

static void test_learning(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 5;
    static dataset d;
    make_data(&d, 8, 4);
    // samples 0 and 1 of each group contain the target token (reward 1)
    for (int g = 0; g < d.ng; g++)
        for (int i = 0; i < 4; i++) {
            sample *s = &d.s[g][i];
            s->reward = i < 2;
            if (i < 2) s->comp[rnd() % (uint32_t)s->C] = TARGET;
        }
    actor_model *m = tiny_model(51);
    if (!m) return;
    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 1e-2;
    c.micro_batch_tokens = 128;
    c.minibatches = 2;
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    if (!t) return;
    double p0 = target_prob(m, &d);
    grpo_stats s = {0};
    for (int step = 0; step < 20; step++) {
        set_behaviour(&d, m, step, 0.0);  // on-policy: the data's log-probs under the current weights
        views(&d);
        if (step > 0) rlc_alloc_fail_after(0);  // steady state: a step allocates nothing
        CHECK_OK(grpo_step(t, d.groups, d.ng, step, &s));
        rlc_alloc_fail_after(-1);
    }
    double p1 = target_prob(m, &d);
    CHECK_MSG(p1 > 5 * p0 && p1 > 0.07, "p(target) %.4f -> %.4f", p0, p1);
    CHECK(s.version == 20 && s.updated && s.reward_mean == 0.5 && s.accuracy == 0.5);
    printf("(e) 20 steps: p(target token) %.4f -> %.4f (loss %.4f, entropy %.3f, grad norm %.3f, %.0f tok/s)\n", p0,
           p1, s.loss, s.entropy, s.grad_norm, s.tokens_per_s);
    grpo_trainer_free(t);
    actor_model_free(m);
}

// ---- (f) the algorithms -------------------------------------------------------------------------------

// REINFORCE++ on the tiny model: adv_tok (position layout) over the
// completion tokens has mean 0 and unbiased variance 1/(1 + 1e-8/var); with
// gamma = 1 every token of a sample holds (r_i - mu) / sd, mu and sd
// token-weighted from the rewards and lengths; with gamma = 0.5 a rewarded
// completion's advantages rise toward its end.
static void test_reinforce_pp(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 7;
    static dataset d;
    make_data(&d, 3, 4);
    actor_model *m = tiny_model(71);
    if (!m) return;
    set_behaviour(&d, m, 0, 0.0);
    views(&d);
    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 1e-3;
    c.micro_batch_tokens = 64;
    c.adv = GRPO_ADV_RPP;
    for (int pass = 0; pass < 3; pass++) {  // gamma 1, gamma 0.5, gamma 1 with the KL in the reward
        c.gamma = pass == 1 ? 0.5 : 1.0;
        c.loss.kl_coef = pass == 2 ? 0.1 : 0;
        c.kl_in_reward = pass == 2;
        grpo_trainer *t = NULL;
        CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
        if (!t) break;
        grpo_stats st;
        CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &st));
        // the completion tokens' advantages, sample by sample (P >= 2: every one trains)
        double sum = 0, sq = 0, N = 0, mu = 0, want_sq = 0;
        for (int g = 0; g < d.ng; g++)
            for (int i = 0; i < d.n[g]; i++) mu += d.s[g][i].reward * d.s[g][i].C, N += d.s[g][i].C;
        mu /= N;
        for (int g = 0; g < d.ng; g++)
            for (int i = 0; i < d.n[g]; i++) want_sq += d.s[g][i].C * (d.s[g][i].reward - mu) * (d.s[g][i].reward - mu);
        double sd = sqrt(want_sq / (N - 1) + 1e-8), worst = 0;
        int k = 0, rising = 1;
        for (int g = 0; g < d.ng; g++)
            for (int i = 0; i < d.n[g]; i++, k++) {
                const sample *sm = &d.s[g][i];
                int pos0 = t->soff[k] + sm->P - 1;  // the position that predicts completion token 0
                for (int j = 0; j < sm->C; j++) {
                    double a = t->adv_tok[pos0 + j];
                    CHECK(t->pmask[pos0 + j]);
                    sum += a, sq += a * a;
                    if (pass == 0) worst = fmax(worst, fabs(a - (sm->reward - mu) / sd));
                    if (pass == 1 && j > 0 && sm->reward > 0) rising &= a > t->adv_tok[pos0 + j - 1];
                }
            }
        double mean = sum / N, var = (sq - N * mean * mean) / (N - 1);
        CHECK_MSG(fabs(mean) < 1e-6 && fabs(var - 1) < 1e-5 && st.updated,
                  "REINFORCE++ gamma %g: token mean %.3g, unbiased var %.8f, updated %d", c.gamma, mean, var, st.updated);
        if (pass == 0) CHECK_MSG(worst < 1e-5, "REINFORCE++ gamma 1: worst |A - (r - mu) / sd| %.3g", worst);
        if (pass == 1) CHECK_MSG(rising, "REINFORCE++ gamma 0.5: a rewarded completion's advantages do not rise");
        if (pass == 2) CHECK(grpo_trainer_reference(t) != NULL && fabs(st.kl) < 1e-4);  // ref == policy: kl ~ 0
        printf("(f) REINFORCE++ gamma %.1f%s: %.0f tokens, advantage mean %.1e, unbiased var %.7f%s\n", c.gamma,
               pass == 2 ? " (KL in the reward)" : "", N, mean, var,
               pass == 0 ? ", each token (r - mu) / sd" : pass == 1 ? ", rising toward a rewarded completion's end" : "");
        grpo_trainer_free(t);
        actor_model_free(m);
        m = tiny_model(71);  // the same start for the second pass
        if (!m) return;
    }
    actor_model_free(m);
}

// GSPO: at ratio 1 (k = 0, behaviour == current) and one epoch the sequence
// ratio is 1 and each token's gradient -A s_i w_i equals the vanilla -A r_t w_i:
// the same update. With two epochs the second sees s_i != 1 and GSPO's narrow
// clip (3e-4 / 4e-4) acts.
static void test_gspo(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 8;
    static dataset d;
    make_data(&d, 3, 4);
    actor_model *a = tiny_model(81), *b = tiny_model(81), *m0 = tiny_model(81);
    if (!a || !b || !m0) return;
    set_behaviour(&d, a, 0, 0.0);
    views(&d);
    grpo_config c;
    grpo_config_default(&c);
    sgd_like(&c, 0.05);
    c.micro_batch_tokens = 64;
    c.loss.agg.mode = RL_AGG_SEQ_MEAN_TOKEN_MEAN;
    grpo_trainer *ta = NULL, *tb = NULL;
    CHECK_OK(grpo_trainer_create(a, NULL, &c, 0, &ta));
    c.loss.policy.kind = RL_POLICY_GSPO;
    CHECK_OK(grpo_trainer_create(b, NULL, &c, 0, &tb));
    grpo_stats sa, sb;
    if (ta) CHECK_OK(grpo_step(ta, d.groups, d.ng, 0, &sa));
    if (tb) CHECK_OK(grpo_step(tb, d.groups, d.ng, 0, &sb));
    size_t n = P(a)->numel;
    float *da = malloc(n * sizeof *da), *db = malloc(n * sizeof *db);
    for (size_t i = 0; da && db && i < n; i++) {
        da[i] = P(a)->data[i] - P(m0)->data[i];
        db[i] = P(b)->data[i] - P(m0)->data[i];
    }
    double wabs = 0, rel = da && db ? test_rel_l2(db, da, n, NULL, &wabs) : 1;
    CHECK_MSG(rel < 1e-4 && fabs(sb.seq_ratio - 1) < 1e-5 && sb.clipfrac == 0 && sa.seq_ratio == 0,
              "GSPO vs vanilla at ratio 1: update rel L2 %.3g, seq_ratio %.8f, clipfrac %g", rel, sb.seq_ratio,
              sb.clipfrac);
    printf("(f) GSPO at ratio 1: update vs vanilla rel L2 %.2e, seq_ratio %.8f\n", rel, sb.seq_ratio);
    grpo_trainer_free(tb);
    tb = NULL;
    memcpy(P(b)->data, P(m0)->data, n * sizeof(float));
    c.ppo_epochs = 2;
    c.loss.policy.clip_low = 3e-4, c.loss.policy.clip_high = 4e-4;
    CHECK_OK(grpo_trainer_create(b, NULL, &c, 0, &tb));
    if (tb) CHECK_OK(grpo_step(tb, d.groups, d.ng, 0, &sb));
    CHECK_MSG(fabs(sb.seq_ratio - 1) > 1e-5 && sb.clipfrac > 0 && sb.optimizer_steps == 2,
              "GSPO 2 epochs: seq_ratio %.8f clipfrac %g", sb.seq_ratio, sb.clipfrac);
    json_t *j = grpo_stats_json(&sb);
    CHECK(j && json_is_number(json_object_get(j, "seq_ratio")) && json_is_number(json_object_get(j, "overlong_mean")));
    json_decref(j);
    printf("(f) GSPO 2 epochs: mean seq ratio %.6f, clipfrac %.3f\n", sb.seq_ratio, sb.clipfrac);
    free(da), free(db);
    grpo_trainer_free(ta);
    grpo_trainer_free(tb);
    actor_model_free(a);
    actor_model_free(b);
    actor_model_free(m0);
}

// The dapo preset from the experiment (max_new_tokens 8: overlong_buffer 2):
// a completion of L tokens gets min(0, -(L - 6) / 2) added to its reward
// before the group advantages; the statistics show the penalty and the
// advantages are GRPO's of the penalised scores.
static void test_dapo_preset(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 9;
    static dataset d;
    make_data(&d, 3, 4);
    const int lens[3][4] = {{3, 8, 6, 7}, {8, 4, 7, 5}, {5, 6, 8, 3}};
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < 4; i++) {
            sample *sm = &d.s[g][i];
            for (int j = sm->C; j < lens[g][i]; j++) sm->comp[j] = 2 + (int32_t)(rnd() % 5);
            sm->C = lens[g][i];
        }
    actor_model *m = tiny_model(91);
    if (!m) return;
    set_behaviour(&d, m, 0, 0.0);
    views(&d);
    rlc_exp *e = NULL;
    const char *ov[] = {"algorithm.name=dapo", "sampling.max_new_tokens=8", "algorithm.micro_batch_tokens=64",
                        "algorithm.lr=1e-3"};
    CHECK_OK(rlc_exp_defaults(ov, 4, &e));
    grpo_config c;
    grpo_config_default(&c);
    if (e) CHECK_OK(grpo_config_from_exp(e, &c));
    rlc_exp_free(e);
    CHECK(c.overlong_buffer == 2 && c.max_new_tokens == 8 && c.overlong_penalty == 1.0 && c.dynamic_sampling &&
          c.loss.agg.mode == RL_AGG_TOKEN_MEAN && c.loss.policy.clip_high == 0.28);
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    grpo_stats st;
    if (t) CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &st));
    double score[12], adv[12], pen_sum = 0;
    int hit = 0;
    for (int g = 0; g < 3; g++) {
        double mean = 0, var = 0;
        for (int i = 0; i < 4; i++) {
            int L = d.s[g][i].C;
            double p = L > 6 ? -(L - 6) / 2.0 : 0.0;
            CHECK(adv_overlong_penalty(L, 8, 2, 1.0) == p);
            score[4 * g + i] = d.s[g][i].reward + p;
            pen_sum += p, hit += p < 0;
            mean += score[4 * g + i] / 4;
        }
        for (int i = 0; i < 4; i++) var += (score[4 * g + i] - mean) * (score[4 * g + i] - mean) / 3;
        for (int i = 0; i < 4; i++) adv[4 * g + i] = (score[4 * g + i] - mean) / (sqrt(var) + 1e-6);
    }
    adv_summary sm = adv_summarize(adv, 12);
    double absmax = fmax(fabs(sm.min), fabs(sm.max));
    CHECK_MSG(st.trained_trajectories == 12 && fabs(st.overlong_mean - pen_sum / 12) < 1e-12 &&
                  fabs(st.overlong_frac - hit / 12.0) < 1e-12,
              "overlong mean %g (want %g), frac %g (want %g)", st.overlong_mean, pen_sum / 12, st.overlong_frac,
              hit / 12.0);
    CHECK_MSG(fabs(st.adv_mean - sm.mean) < 1e-9 && fabs(st.adv_std - sm.std) < 1e-9 && fabs(st.adv_absmax - absmax) < 1e-9,
              "advantages mean %g std %g max %g, want %g %g %g", st.adv_mean, st.adv_std, st.adv_absmax, sm.mean, sm.std,
              absmax);
    printf("(f) dapo preset: overlong buffer 2 of 8, mean penalty %.4f on %d of 12, advantages as GRPO's of the "
           "penalised scores (std %.4f)\n", st.overlong_mean, hit, st.adv_std);
    grpo_trainer_free(t);
    actor_model_free(m);
}

// algorithm.name and the presets: each sets only what the experiment left unset.
static void test_presets(void) {
    struct {
        const char *ov[4];
        int n;
    } cases[] = {
        {{"algorithm.name=reinforce++"}, 1},
        {{"algorithm.name=reinforce++-baseline"}, 1},
        {{"algorithm.name=grpo", "algorithm.advantage=reinforce++", "algorithm.gamma=0.9"}, 3},
        {{"algorithm.name=dapo"}, 1},
        {{"algorithm.name=dapo", "algorithm.clip_high=0.3", "algorithm.dynamic_sampling=false",
          "algorithm.overlong_buffer=0"}, 4},
        {{"algorithm.name=drgrpo", "sampling.max_new_tokens=512"}, 2},
        {{"algorithm.name=drgrpo", "algorithm.loss_agg_norm=100", "algorithm.norm_adv_by_std=true"}, 3},
        {{"algorithm.name=gspo"}, 1},
        {{"algorithm.name=gspo", "algorithm.clip_low=0.2", "algorithm.loss_agg=token-mean"}, 3},
        {{"algorithm.name=grpo", "algorithm.policy_loss=gspo"}, 2},
    };
    grpo_config c[10];
    for (int k = 0; k < 10; k++) {
        rlc_exp *e = NULL;
        CHECK_OK(rlc_exp_defaults(cases[k].ov, cases[k].n, &e));
        grpo_config_default(&c[k]);
        if (e) CHECK_OK(grpo_config_from_exp(e, &c[k]));
        rlc_exp_free(e);
    }
    CHECK(c[0].adv == GRPO_ADV_RPP && c[0].gamma == 1.0 && c[0].loss.policy.kind == RL_POLICY_VANILLA);
    CHECK(c[1].adv == GRPO_ADV_RPP_BASELINE);
    CHECK(c[2].adv == GRPO_ADV_RPP && c[2].gamma == 0.9);
    // dapo: 0.2 / 0.28, token-mean, dynamic sampling, overlong buffer 1024 / 4 (factor 1)
    CHECK(c[3].loss.policy.clip_low == 0.2 && c[3].loss.policy.clip_high == 0.28 &&
          c[3].loss.agg.mode == RL_AGG_TOKEN_MEAN && c[3].dynamic_sampling == 1 && c[3].overlong_buffer == 256 &&
          c[3].overlong_penalty == 1.0 && c[3].max_new_tokens == 1024 && c[3].adv == GRPO_ADV_GRPO);
    CHECK_MSG(c[4].loss.policy.clip_high == 0.3 && c[4].dynamic_sampling == 0 && c[4].overlong_buffer == 0,
              "dapo with explicit keys: clip_high %g dynamic %d buffer %d", c[4].loss.policy.clip_high,
              c[4].dynamic_sampling, c[4].overlong_buffer);
    // drgrpo: no std, seq-mean-token-sum-norm over max_new_tokens
    CHECK(c[5].adv == GRPO_ADV_DRGRPO && c[5].loss.agg.mode == RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM &&
          c[5].loss.agg.norm == 512);
    CHECK(c[6].adv == GRPO_ADV_GRPO && c[6].loss.agg.norm == 100 &&
          c[6].loss.agg.mode == RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM);
    // gspo: the sequence ratio, 3e-4 / 4e-4, seq-mean-token-mean; clip_low set to its
    // default value 0.2 explicitly is kept
    CHECK(c[7].loss.policy.kind == RL_POLICY_GSPO && c[7].loss.policy.clip_low == 3e-4 &&
          c[7].loss.policy.clip_high == 4e-4 && c[7].loss.agg.mode == RL_AGG_SEQ_MEAN_TOKEN_MEAN &&
          c[7].adv == GRPO_ADV_GRPO && c[7].overlong_buffer == 0 && c[7].dynamic_sampling == 0);
    CHECK(c[8].loss.policy.kind == RL_POLICY_GSPO && c[8].loss.policy.clip_low == 0.2 &&
          c[8].loss.policy.clip_high == 4e-4 && c[8].loss.agg.mode == RL_AGG_TOKEN_MEAN);
    CHECK(c[9].loss.policy.kind == RL_POLICY_GSPO && c[9].loss.policy.clip_low == 0.2);
    // bad values are refused, naming the key
    const char *bad[][2] = {{"algorithm.name=gspo", "algorithm.policy_loss=gpg"},
                            {"algorithm.name=reinforce++", "algorithm.gamma=1.5"},
                            {"algorithm.name=dapo", "algorithm.overlong_buffer=2000"},
                            {"algorithm.name=grpo", "algorithm.overlong_penalty=-1"},
                            {"algorithm.name=reinforce", "algorithm.gamma=1"}};
    for (int k = 0; k < 5; k++) {
        rlc_exp *e = NULL;
        grpo_config x;
        grpo_config_default(&x);
        CHECK_OK(rlc_exp_defaults(bad[k], 2, &e));
        if (e) CHECK_MSG(grpo_config_from_exp(e, &x) == RLC_ERR_CONFIG, "%s %s accepted", bad[k][0], bad[k][1]);
        rlc_exp_free(e);
    }
}

// ---- the rest: estimators, KL in the reward, config, JSON ---------------------------------------

static void test_misc(void) {
    g_rng = 0x9E3779B97F4A7C15ull * 6;
    static dataset d;
    make_data(&d, 2, 4);
    actor_model *m = tiny_model(61);
    if (!m) return;
    set_behaviour(&d, m, 0, 0.0);
    d.s[0][0].reward = 1, d.s[0][1].reward = 0, d.s[0][2].reward = 0, d.s[0][3].reward = 0;
    d.comp[0][0] = (rlc_proto_component){"correct", 1.0};
    views(&d);
    d.tr[0][1].components = &d.comp[0][0];  // "correct" = 1 although its reward is 0
    d.tr[0][1].n_components = 1;
    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 1e-3;
    c.micro_batch_tokens = 64;
    c.adv = GRPO_ADV_RLOO;
    c.loss.kl_coef = 0.1;
    c.kl_in_reward = 1;
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    grpo_stats s;
    if (t) CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &s));
    // RLOO: 4/3 (1 - 1/4) = 1 for the lone reward in group 0 (the KL penalty is ~0: ref == policy)
    CHECK_MSG(fabs(s.adv_absmax - 1.0) < 1e-3 && fabs(s.kl) < 1e-4 && grpo_trainer_reference(t) != NULL,
              "RLOO max |A| %g, kl %g", s.adv_absmax, s.kl);
    double acc = 2;  // group 0: samples 0 and 1 ("correct"); group 1 by reward
    for (int i = 0; i < 4; i++) acc += d.s[1][i].reward >= 1.0;
    CHECK_MSG(fabs(s.accuracy - acc / 8) < 1e-12, "accuracy %g, want %g", s.accuracy, acc / 8);
    json_t *j = grpo_stats_json(&s);
    CHECK(j && json_is_array(json_object_get(j, "staleness")) && json_is_number(json_object_get(j, "kl")) &&
          json_integer_value(json_object_get(j, "version")) == 1);
    json_decref(j);
    grpo_trainer_free(t);

    c.adv = GRPO_ADV_RPP_BASELINE;
    c.loss.kl_coef = 0;
    t = NULL;
    set_behaviour(&d, m, 1, 0.0);
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 1, &t));
    if (t) CHECK_OK(grpo_step(t, d.groups, d.ng, 1, &s));
    CHECK_MSG(grpo_trainer_reference(t) == NULL && s.updated && fabs(s.adv_mean) < 0.5, "updated %d adv mean %g",
              s.updated, s.adv_mean);
    // a token outside the vocabulary is refused before anything changes
    set_behaviour(&d, m, 2, 0.0);
    d.s[1][2].comp[0] = VOCAB + 3;
    CHECK(grpo_step(t, d.groups, d.ng, 2, &s) == RLC_ERR_ARG && grpo_trainer_version(t) == 2);
    grpo_trainer_free(t);
    actor_model_free(m);

    // out of memory at every allocation of create and of a first step: a
    // clean error, nothing leaked (ASan), the weights and version untouched
    m = tiny_model(62);
    if (!m) return;
    d.s[1][2].comp[0] = 5;
    set_behaviour(&d, m, 0, 0.0);
    views(&d);
    c.loss.kl_coef = 0.1;
    int created = 0, stepped = 0;
    for (long n = 0; n < 200 && !stepped; n++) {
        t = NULL;
        rlc_alloc_fail_after(n);
        rlc_status st = grpo_trainer_create(m, NULL, &c, 0, &t);
        if (st == RLC_OK) {
            created = 1;
            st = grpo_step(t, d.groups, d.ng, 0, &s);
            stepped = st == RLC_OK;
            CHECK(st == RLC_OK || (st == RLC_ERR_NOMEM && grpo_trainer_version(t) == 0));
        } else {
            CHECK(st == RLC_ERR_NOMEM && t == NULL);
        }
        rlc_alloc_fail_after(-1);
        grpo_trainer_free(t);
    }
    CHECK(created && stepped);
    actor_model_free(m);

    // the experiment's keys
    rlc_exp *e = NULL;
    const char *ov[] = {"algorithm.name=rloo", "algorithm.batch_prompts=32", "algorithm.minibatch_prompts=8",
                        "algorithm.loss_agg=seq-mean-token-mean", "algorithm.kl_estimator=k2"};
    CHECK_OK(rlc_exp_defaults(ov, 5, &e));
    grpo_config_default(&c);
    if (e) CHECK_OK(grpo_config_from_exp(e, &c));
    CHECK(c.adv == GRPO_ADV_RLOO && c.minibatches == 4 && c.loss.agg.mode == RL_AGG_SEQ_MEAN_TOKEN_MEAN &&
          c.loss.kl_type == RL_KL_K2 && c.loss.policy.clip_high == 0.28 && c.schedule.lr == 1e-6);
    rlc_exp_free(e);
    const char *ov2[] = {"algorithm.name=grpo", "algorithm.norm_adv_by_std=false"};
    CHECK_OK(rlc_exp_defaults(ov2, 2, &e));
    grpo_config_default(&c);
    if (e) CHECK_OK(grpo_config_from_exp(e, &c));
    CHECK(c.adv == GRPO_ADV_DRGRPO);
    rlc_exp_free(e);
    const char *ov4[] = {"algorithm.advantage=reinforce++-baseline", "algorithm.is_mode=mask",
                         "algorithm.micro_batch_tokens=512", "algorithm.name=dapo"};
    CHECK_OK(rlc_exp_defaults(ov4, 4, &e));
    grpo_config_default(&c);
    if (e) CHECK_OK(grpo_config_from_exp(e, &c));
    CHECK(c.adv == GRPO_ADV_RPP_BASELINE && c.loss.policy.is_mode == RL_IS_MASK && c.micro_batch_tokens == 512 &&
          c.dynamic_sampling == 1);
    rlc_exp_free(e);
    const char *ov3[] = {"algorithm.name=ppo"};
    CHECK_OK(rlc_exp_defaults(ov3, 1, &e));
    grpo_config_default(&c);
    if (e) CHECK_OK(grpo_config_from_exp(e, &c));  // PPO with a critic (learner/ppo.c)
    CHECK(c.ppo.enabled && c.ppo.gamma == 1 && c.ppo.lam == 1 && c.ppo.critic.cliprange_value == 0.5 &&
          c.ppo.critic.schedule.lr == 1e-5 && c.ppo.critic.adamw.weight_decay == 0.01);
    rlc_exp_free(e);
}

int main(void) {
    kernels_set_threads(2);
    actor_model *m = tiny_model(1);
    if (!m) return test_finish("test_grpo");
    CHECK_OK(actor_kv_create(actor_model_config(m), 1, MAXP + MAXC, MAXP + MAXC, &g_kv));
    actor_model_free(m);
    if (!g_kv) return test_finish("test_grpo");
    test_wiring();
    test_microbatch(RL_AGG_TOKEN_MEAN);
    test_microbatch(RL_AGG_SEQ_MEAN_TOKEN_MEAN);
    test_staleness();
    test_dapo();
    test_baseline();
    test_learning();
    test_misc();
    test_reinforce_pp();
    test_gspo();
    test_dapo_preset();
    test_presets();
    actor_kv_free(g_kv);
    return test_finish("test_grpo");
}
