// test_rl_loss.c: learner/rl_loss.h: every clip branch, the decoupled
// weights, each aggregation mode and each KL estimator against values worked
// out by hand (in the comments); GSPO's sequence ratio (clip, clamp, the
// behaviour weight, no dual clip) by hand; every gradient against central
// finite differences in float64 (GSPO's with a constant advantage per
// sequence, where its straight-through gradient is the true one); and
// tests/data/rl_loss/fixtures.json, written by scripts/make_rl_loss_fixtures.py
// from verl's formulas in PyTorch (autograd gradients), to 1e-5 relative.
//
// Finite differences: the functions take float arrays and compute in double,
// so the test puts every input on a grid of 2^-12 and steps by h = 2^-10;
// x +- h is then exactly representable in float and the returned double loss
// is a float64 function of exact inputs.
#include <jansson.h>  // json_t
#include <math.h>     // exp, log, fabs
#include <stdint.h>   // uint64_t
#include <stdlib.h>   // malloc, free
#include <string.h>   // memset, strcmp

#include "core/json.h"        // rlc_json_load_file
#include "learner/rl_loss.h"  // rl_*
#include "test.h"

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

static rl_agg agg_of(rl_agg_mode m) {
    rl_agg a = {.mode = m, .global_tokens = 0, .global_seqs = 0, .norm = 0};
    return a;
}

// ---- one token: every clip branch ---------------------------------------------------

typedef struct branch_case {
    const char *what;
    double ratio, adv, clip_high, c;
    int l1;              // 1: the unclipped branch l1 = -A r is active: loss -A r, grad -A r
    double loss;         // else: the constant clipped loss (gradient 0)
    int clipped, lower;  // verl's pg_clipfrac and pg_clipfrac_lower conditions
} branch_case;

static void test_clip_branches(void) {
    // eps_low = 0.2 everywhere; a single token with token-mean, so w = 1.
    // r = exp(logp - old) from float inputs, so the l1 expectations use that r.
    const branch_case cases[] = {
        // A > 0, r = 1.5 > 1 + 0.2: l = -A * 1.2 = -1.2, clipped, no gradient.
        {"A>0 above 1+eps_high", 1.5, 1.0, 0.2, 3.0, 0, -1.2, 1, 0},
        // A > 0, r = 0.5 < 0.8: l1 = -0.5 > l2 = -0.8, so l = -0.5, grad -A r = -0.5.
        {"A>0 below 1-eps_low", 0.5, 1.0, 0.2, 3.0, 1, 0, 0, 0},
        // A < 0, r = 0.5 < 0.8: l1 = 0.5 < l2 = 0.8: clipped, l = 0.8, no gradient.
        {"A<0 below 1-eps_low", 0.5, -1.0, 0.2, 3.0, 0, 0.8, 1, 0},
        // A < 0, r = 1.1 inside: l = 1.1, grad -A r = 1.1.
        {"A<0 inside", 1.1, -1.0, 0.2, 3.0, 1, 0, 0, 0},
        // A < 0, r = 2 above 1.2 but below c = 3: l1 = 2 > l2 = 1.2: l = 2, grad 2.
        {"A<0 above 1+eps_high, below c", 2.0, -1.0, 0.2, 3.0, 1, 0, 0, 0},
        // A = -0.5, r = 4 > c = 3: l = min(2, 0.5 * 3 = 1.5) = 1.5, dual clip, no gradient.
        {"A<0 dual clip", 4.0, -0.5, 0.2, 3.0, 0, 1.5, 0, 1},
        // Dual clip off (c = 0): l = 0.5 * 4 = 2, grad 2.
        {"A<0 no dual clip", 4.0, -0.5, 0.2, 0.0, 1, 0, 0, 0},
        // Clip-higher: r = 1.25 with eps_high 0.28 is inside: l = -2 * 1.25 = -2.5, grad -2.5;
        {"A>0 clip-higher inside", 1.25, 2.0, 0.28, 3.0, 1, 0, 0, 0},
        // with eps_high 0.2 it is clipped: l = -2 * 1.2 = -2.4.
        {"A>0 clip-higher 0.2", 1.25, 2.0, 0.2, 3.0, 0, -2.4, 1, 0},
        // A = 0: no loss, no gradient.
        {"A=0", 1.7, 0.0, 0.2, 3.0, 1, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const branch_case *bc = &cases[k];
        float old = -1.0f, logp = (float)(-1.0 + log(bc->ratio)), adv = (float)bc->adv;
        double r = exp((double)logp - (double)old);  // the float-rounded ratio
        rl_policy_config pc = rl_policy_defaults();
        pc.clip_high = bc->clip_high;
        pc.clip_ratio_c = bc->c;
        int off[2] = {0, 1};
        rl_seqs s = {1, off, NULL};
        rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
        rl_policy_stats st;
        float g = 0;
        CHECK_OK(rl_policy_loss(&pc, &a, &s, &logp, &old, NULL, &adv, &st, &g));
        double want_loss = bc->l1 ? -bc->adv * r : bc->loss, want_grad = bc->l1 ? -bc->adv * r : 0.0;
        CHECK_MSG(NEAR(st.loss, want_loss, 1e-6), "%s: loss %.9g want %.9g", bc->what, st.loss, want_loss);
        CHECK_MSG(NEAR(g, want_grad, 1e-6), "%s: grad %.9g want %.9g", bc->what, g, want_grad);
        CHECK_MSG(st.clipfrac == bc->clipped, "%s: clipfrac %g", bc->what, st.clipfrac);
        CHECK_MSG(st.clipfrac_lower == bc->lower, "%s: clipfrac_lower %g", bc->what, st.clipfrac_lower);
        CHECK(st.tokens == 1 && st.is_mean == 1.0);
        CHECK(NEAR(st.ppo_kl, -log(r), 1e-7));  // verl ppo_kl = mean(old - logp)
    }
    // The clamp of the log-ratio at +-20: r = e^20 (not e^25), no gradient.
    float old = -30.0f, logp = -5.0f, adv = 1.0f, g = 0;
    rl_policy_config pc = rl_policy_defaults();
    pc.clip_high = 1e12;
    int off[2] = {0, 1};
    rl_seqs s = {1, off, NULL};
    rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
    rl_policy_stats st;
    CHECK_OK(rl_policy_loss(&pc, &a, &s, &logp, &old, NULL, &adv, &st, &g));
    CHECK(NEAR(st.loss / -exp(20.0), 1.0, 1e-12) && g == 0 && st.ppo_kl == -20.0);
}

// ---- the decoupled objective -----------------------------------------------------

static void test_decoupled(void) {
    // Two tokens, A = 1, r = 1.1 (inside the clip range): per-token loss -1.1,
    // gradient -1.1. Behaviour weights: token 0 has prox - behav = log 3 (w = 3),
    // token 1 has prox - behav = log 0.5 (w = 0.5).
    //   truncate at C = 2: loss = (2 * -1.1 + 0.5 * -1.1) / 2 = -1.375,
    //                      grads /2: -1.1, -0.275
    //   mask above C = 2:  loss = (0 + 0.5 * -1.1) / 2 = -0.275; grads 0, -0.275
    //   no cap:            loss = (3 * -1.1 + 0.5 * -1.1) / 2 = -1.925
    float prox[2] = {-1.0f, -2.0f};
    float logp[2] = {(float)(-1.0 + log(1.1)), (float)(-2.0 + log(1.1))};
    float behav[2] = {(float)(-1.0 - log(3.0)), (float)(-2.0 - log(0.5))};
    float adv[2] = {1, 1};
    double r0 = exp((double)logp[0] - prox[0]), r1 = exp((double)logp[1] - prox[1]);
    double w0 = exp((double)prox[0] - behav[0]), w1 = exp((double)prox[1] - behav[1]);
    CHECK(NEAR(w0, 3, 1e-6) && NEAR(w1, 0.5, 1e-6));
    int off[2] = {0, 2};
    rl_seqs s = {1, off, NULL};
    rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
    rl_policy_config pc = rl_policy_defaults();
    rl_policy_stats st;
    float g[2];

    pc.is_cap = 2.0;
    pc.is_mode = RL_IS_TRUNCATE;
    memset(g, 0, sizeof g);
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, behav, adv, &st, g));
    CHECK(NEAR(st.loss, (2 * -r0 + w1 * -r1) / 2, 1e-6) && NEAR(st.loss, -1.375, 1e-6));
    CHECK(NEAR(g[0], -r0, 1e-6) && NEAR(g[1], w1 * -r1 / 2, 1e-6));
    CHECK(st.is_capped == 0.5 && NEAR(st.is_mean, (2 + w1) / 2, 1e-6));
    CHECK(NEAR(st.behav_kl, ((double)behav[0] - prox[0] + behav[1] - prox[1]) / 2, 1e-6));

    pc.is_mode = RL_IS_MASK;
    memset(g, 0, sizeof g);
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, behav, adv, &st, g));
    CHECK(NEAR(st.loss, -0.275, 1e-6) && g[0] == 0 && NEAR(g[1], -0.275, 1e-6));

    pc.is_cap = 0;  // no cap
    memset(g, 0, sizeof g);
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, behav, adv, &st, g));
    CHECK(NEAR(st.loss, (w0 * -r0 + w1 * -r1) / 2, 1e-6) && NEAR(st.loss, -1.925, 1e-6));

    // prox == behav (k = 0, on-policy): w = 1, exactly standard PPO.
    float g2[2] = {0, 0};
    rl_policy_stats st2;
    memset(g, 0, sizeof g);
    pc = rl_policy_defaults();
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, prox, adv, &st, g));
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, NULL, adv, &st2, g2));
    CHECK(st.loss == st2.loss && g[0] == g2[0] && g[1] == g2[1] && st.is_mean == 1.0);
}

// ---- aggregation on 3 sequences with masks ---------------------------------------------

// Sequences of 2, 3 and 4 tokens, x = 1..9:
//   seq 0: x = 1, 2          (both in: sum 3, n 2)
//   seq 1: x = 3, [4], 5     (middle masked: sum 8, n 2)
//   seq 2: x = [6], 7, 8, 9  (first masked: sum 24, n 3)
// N = 7, S = 3.
static const int agg_off[4] = {0, 2, 5, 9};
static const unsigned char agg_mask[9] = {1, 1, 1, 0, 1, 0, 1, 1, 1};
static const float agg_x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_aggregation(void) {
    rl_seqs s = {3, agg_off, agg_mask};
    long nt, ns;
    rl_seqs_count(&s, &nt, &ns);
    CHECK(nt == 7 && ns == 3 && rl_seqs_tokens(&s) == 9);
    struct {
        rl_agg_mode m;
        double norm, want;
        double w[3];  // the weight of each sequence's tokens
    } cases[] = {
        // token-mean: 35 / 7 = 5, every token 1/7.
        {RL_AGG_TOKEN_MEAN, 0, 5.0, {1.0 / 7, 1.0 / 7, 1.0 / 7}},
        // seq-mean-token-mean: (3/2 + 8/2 + 24/3) / 3 = 13.5 / 3 = 4.5; weights 1/6, 1/6, 1/9.
        {RL_AGG_SEQ_MEAN_TOKEN_MEAN, 0, 4.5, {1.0 / 6, 1.0 / 6, 1.0 / 9}},
        // seq-mean-token-sum: 35 / 3; weights 1/3.
        {RL_AGG_SEQ_MEAN_TOKEN_SUM, 0, 35.0 / 3, {1.0 / 3, 1.0 / 3, 1.0 / 3}},
        // seq-mean-token-sum-norm, norm 4: 35 / (3 * 4) = 2.9166667; weights 1/12.
        {RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM, 4, 35.0 / 12, {1.0 / 12, 1.0 / 12, 1.0 / 12}},
    };
    for (int k = 0; k < 4; k++) {
        rl_agg a = agg_of(cases[k].m);
        a.norm = cases[k].norm;
        double v;
        float g[9] = {0};
        CHECK_OK(rl_agg_apply(&a, &s, agg_x, 1.0, &v, g));
        CHECK_MSG(NEAR(v, cases[k].want, 1e-12), "%s: %.12g want %.12g", rl_agg_name(cases[k].m), v,
                  cases[k].want);
        for (int t = 0; t < 9; t++) {
            int seq = t < 2 ? 0 : t < 5 ? 1 : 2;
            double want = agg_mask[t] ? cases[k].w[seq] : 0.0;
            CHECK_MSG(NEAR(g[t], want, 1e-7), "%s: grad[%d] %g want %g", rl_agg_name(cases[k].m), t, g[t],
                      want);
        }
        // Split into micro-batches {seq 0, seq 1} and {seq 2} with the step's
        // N and S: the parts add up to the whole, loss and gradient.
        rl_agg ag = a;
        ag.global_tokens = 7;
        ag.global_seqs = 3;
        int off_a[3] = {0, 2, 5}, off_b[2] = {0, 4};
        rl_seqs sa = {2, off_a, agg_mask}, sb = {1, off_b, agg_mask + 5};
        double va, vb;
        float ga[5] = {0}, gb[4] = {0};
        CHECK_OK(rl_agg_apply(&ag, &sa, agg_x, 1.0, &va, ga));
        CHECK_OK(rl_agg_apply(&ag, &sb, agg_x + 5, 1.0, &vb, gb));
        CHECK_MSG(NEAR(va + vb, cases[k].want, 1e-12), "%s split: %.12g", rl_agg_name(cases[k].m), va + vb);
        for (int t = 0; t < 9; t++) CHECK(NEAR(t < 5 ? ga[t] : gb[t - 5], g[t], 1e-9));
    }
    // A global token count bigger than the batch's: token-mean over N = 14: 2.5.
    rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
    a.global_tokens = 14;
    double v;
    CHECK_OK(rl_agg_apply(&a, &s, agg_x, 1.0, &v, NULL));
    CHECK(NEAR(v, 2.5, 1e-12));
    // A fully masked sequence does not count in S: mask seq 1 entirely,
    // seq-mean-token-mean = (3/2 + 24/3) / 2 = 4.75.
    unsigned char m2[9] = {1, 1, 0, 0, 0, 0, 1, 1, 1};
    rl_seqs s2 = {3, agg_off, m2};
    a = agg_of(RL_AGG_SEQ_MEAN_TOKEN_MEAN);
    CHECK_OK(rl_agg_apply(&a, &s2, agg_x, 1.0, &v, NULL));
    CHECK(NEAR(v, 4.75, 1e-12));
    // The broadcast / sum / outcome helpers on the same batch.
    double seqv[3] = {0.5, -1, 2}, sums[3];
    float tok[9];
    CHECK_OK(rl_seqs_broadcast(&s, seqv, tok));
    CHECK(tok[0] == 0.5f && tok[2] == -1 && tok[3] == 0 && tok[5] == 0 && tok[8] == 2);
    CHECK_OK(rl_seqs_sum(&s, agg_x, sums));
    CHECK(sums[0] == 3 && sums[1] == 8 && sums[2] == 24);
    // Outcome rewards on the last unmasked token of each sequence.
    unsigned char m3[9] = {1, 1, 1, 1, 0, 0, 1, 1, 0};
    rl_seqs s3 = {3, agg_off, m3};
    CHECK_OK(rl_seqs_place_outcome(&s3, seqv, tok));
    float want_tok[9] = {0, 0.5f, 0, -1, 0, 0, 0, 2, 0};
    CHECK(memcmp(tok, want_tok, sizeof tok) == 0);
}

// ---- KL estimators ------------------------------------------------------------------

static void test_kl(void) {
    // logp = -1, ref = -1.5 (logp - ref = 0.5):
    //   k1 0.5 (grad 1); abs 0.5 (grad 1); k2 0.5 * 0.25 = 0.125 (grad 0.5);
    //   k3: ref - logp = -0.5: e^-0.5 + 0.5 - 1 = 0.1065307 (grad 1 - e^-0.5 = 0.3934693).
    // logp = -2, ref = -1 (logp - ref = -1):
    //   k1 -1 (grad 1); abs 1 (grad -1); k2 0.5 (grad -1);
    //   k3: ref - logp = 1: e - 1 - 1 = 0.7182818 (grad 1 - e = -1.7182818).
    struct {
        rl_kl_estimator e;
        double logp, ref, v, g;
    } cases[] = {
        {RL_KL_K1, -1, -1.5, 0.5, 1},          {RL_KL_ABS, -1, -1.5, 0.5, 1},
        {RL_KL_K2, -1, -1.5, 0.125, 0.5},      {RL_KL_K3, -1, -1.5, 0.1065307, 0.3934693},
        {RL_KL_K1, -2, -1, -1, 1},             {RL_KL_ABS, -2, -1, 1, -1},
        {RL_KL_K2, -2, -1, 0.5, -1},           {RL_KL_K3, -2, -1, 0.7182818, -1.7182818},
        // k3 clamps: ref - logp = 5: e^5 - 6 = 142.4 -> 10, grad 0;
        // ref - logp = -25: clamped to -20: e^-20 + 19 -> 10, grad 0.
        {RL_KL_K3, -6, -1, 10, 0},             {RL_KL_K3, -1, -26, 10, 0},
        // abs at 0: grad 0 (torch's sign(0)).
        {RL_KL_ABS, -1, -1, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double g, v = rl_kl_token(cases[k].e, cases[k].logp, cases[k].ref, &g);
        CHECK_MSG(NEAR(v, cases[k].v, 1e-7) && NEAR(g, cases[k].g, 1e-7), "%s(%g, %g) = %.9g, grad %.9g",
                  rl_kl_name(cases[k].e), cases[k].logp, cases[k].ref, v, g);
    }
    // In the loss: coef 0.1, token-mean over the two k3 tokens of above:
    // 0.1 * (0.1065307 + 0.7182818) / 2 = 0.04124063; grads 0.1 * g / 2.
    float logp[2] = {-1, -2}, ref[2] = {-1.5f, -1}, g[2] = {0, 0};
    int off[2] = {0, 2};
    rl_seqs s = {1, off, NULL};
    rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
    rl_kl_stats st;
    CHECK_OK(rl_kl_loss(RL_KL_K3, 0.1, &a, &s, logp, ref, &st, g));
    CHECK(NEAR(st.loss, 0.04124063, 1e-8) && NEAR(st.kl_mean, 0.41240625, 1e-7));
    CHECK(NEAR(g[0], 0.1 * 0.3934693 / 2, 1e-8) && NEAR(g[1], 0.1 * -1.7182818 / 2, 1e-8));
    // In the reward: token rewards {0, 1} minus 0.5 * k1 {0.5, -1} = {-0.25, 1.5}; mean kl -0.25.
    float tr[2] = {0, 1};
    double klm;
    CHECK_OK(rl_kl_penalize_rewards(RL_KL_K1, 0.5, &s, logp, ref, tr, &klm));
    CHECK(tr[0] == -0.25f && tr[1] == 1.5f && klm == -0.25);
    // Names.
    rl_kl_estimator e;
    CHECK_OK(rl_kl_parse("low_var_kl", &e));
    CHECK(e == RL_KL_K3);
    CHECK_OK(rl_kl_parse("mse", &e));
    CHECK(e == RL_KL_K2);
    CHECK(rl_kl_parse("full", &e) == RLC_ERR_CONFIG);
    // Adaptive controller: kl 0.15 vs target 0.1: error clipped to 0.2;
    // 0.05 * (1 + 0.2 * 100 / 1000) = 0.051.
    CHECK(NEAR(rl_kl_adaptive_coef(0.05, 0.15, 0.1, 100, 1000), 0.051, 1e-15));
    CHECK(NEAR(rl_kl_adaptive_coef(0.05, 0.09, 0.1, 100, 1000), 0.05 * (1 - 0.1 * 0.1), 1e-15));
}

// ---- entropy and the whole loss -----------------------------------------------------

static void test_entropy_and_total(void) {
    // Entropy bonus, coef 0.01, seq-mean-token-mean on the aggregation batch
    // with x as entropies: L = -0.01 * 4.5 = -0.045; dL/dH = -0.01 * w.
    rl_seqs s = {3, agg_off, agg_mask};
    rl_agg a = agg_of(RL_AGG_SEQ_MEAN_TOKEN_MEAN);
    rl_entropy_stats es;
    float g[9] = {0};
    CHECK_OK(rl_entropy_loss(0.01, &a, &s, agg_x, &es, g));
    CHECK(NEAR(es.loss, -0.045, 1e-12) && NEAR(es.entropy_mean, 5.0, 1e-12) && es.tokens == 7);
    CHECK(NEAR(g[0], -0.01 / 6, 1e-9) && g[3] == 0 && NEAR(g[8], -0.01 / 9, 1e-9));

    // rl_loss_compute = policy + kl + entropy, gradients summed, buffers zeroed first.
    float logp[9], prox[9], ref[9], adv[9];
    for (int t = 0; t < 9; t++) {
        logp[t] = -0.5f - 0.125f * t;
        prox[t] = logp[t] + (t % 3 - 1) * 0.25f;
        ref[t] = logp[t] - 0.375f;
        adv[t] = (t % 2) ? 1.0f : -0.5f;
    }
    rl_loss_config c = rl_loss_defaults();
    c.agg = a;
    c.use_kl_loss = 1;
    c.kl_coef = 0.05;
    c.entropy_coef = 0.01;
    rl_loss_inputs in = {.logp = logp, .prox_logp = prox, .ref_logp = ref, .adv = adv, .entropy = agg_x};
    rl_loss_stats st;
    float dl[9], de[9];
    for (int t = 0; t < 9; t++) dl[t] = de[t] = 99;  // must be zeroed
    CHECK_OK(rl_loss_compute(&c, &s, &in, &st, dl, de));
    rl_policy_stats ps;
    rl_kl_stats ks;
    float dl2[9] = {0}, de2[9] = {0};
    CHECK_OK(rl_policy_loss(&c.policy, &a, &s, logp, prox, NULL, adv, &ps, dl2));
    CHECK_OK(rl_kl_loss(c.kl_type, c.kl_coef, &a, &s, logp, ref, &ks, dl2));
    CHECK_OK(rl_entropy_loss(c.entropy_coef, &a, &s, agg_x, &es, de2));
    CHECK(NEAR(st.loss, ps.loss + ks.loss + es.loss, 1e-15));
    CHECK(st.policy.loss == ps.loss && st.kl.loss == ks.loss && st.entropy.loss == es.loss);
    CHECK(memcmp(dl, dl2, sizeof dl) == 0 && memcmp(de, de2, sizeof de) == 0);
    CHECK(dl[3] == 0 && de[5] == 0);

    // Defaults are verl's.
    rl_loss_config d = rl_loss_defaults();
    CHECK(d.policy.clip_low == 0.2 && d.policy.clip_high == 0.2 && d.policy.clip_ratio_c == 3.0);
    CHECK(d.agg.mode == RL_AGG_TOKEN_MEAN && !d.use_kl_loss && d.kl_type == RL_KL_K3 && d.kl_coef == 0.001);
    rl_agg_mode m;
    CHECK_OK(rl_agg_parse("seq-mean-token-sum-norm", &m));
    CHECK(m == RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM);
    CHECK(rl_agg_parse("token-sum", &m) == RLC_ERR_CONFIG);
}

// ---- bad arguments: a status, a message, nothing written ----------------------------

static void test_errors(void) {
    float x[9] = {0}, g[9];
    for (int t = 0; t < 9; t++) g[t] = 42;
    rl_policy_config pc = rl_policy_defaults();
    rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
    int bad_off[4] = {0, 5, 2, 9}, off1[4] = {1, 2, 5, 9};
    rl_seqs dec = {3, bad_off, NULL}, nz = {3, off1, NULL}, ok = {3, agg_off, agg_mask};
    CHECK(rl_policy_loss(&pc, &a, &dec, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    CHECK(strstr(rlc_last_error(), "offsets[2]") != NULL);
    CHECK(rl_policy_loss(&pc, &a, &nz, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    CHECK(rl_policy_loss(&pc, &a, &ok, x, NULL, NULL, x, NULL, g) == RLC_ERR_ARG);
    CHECK(strstr(rlc_last_error(), "prox_logp") != NULL);
    rl_agg ga = a;
    ga.global_tokens = 5;  // fewer than the batch's 7
    CHECK(rl_policy_loss(&pc, &ga, &ok, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    rl_agg na = agg_of(RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM);  // norm 0
    CHECK(rl_policy_loss(&pc, &na, &ok, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    rl_agg um = agg_of((rl_agg_mode)17);
    CHECK(rl_policy_loss(&pc, &um, &ok, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    rl_policy_config bad = pc;
    bad.clip_low = 1.0;
    CHECK(rl_policy_loss(&bad, &a, &ok, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    bad = pc;
    bad.clip_ratio_c = 0.5;
    CHECK(rl_policy_loss(&bad, &a, &ok, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    bad = pc;
    bad.is_cap = -1;
    CHECK(rl_policy_loss(&bad, &a, &ok, x, x, NULL, x, NULL, g) == RLC_ERR_ARG);
    CHECK(rl_kl_loss(RL_KL_K3, -0.1, &a, &ok, x, x, NULL, g) == RLC_ERR_ARG);
    CHECK(rl_kl_loss((rl_kl_estimator)9, 0.1, &a, &ok, x, x, NULL, g) == RLC_ERR_ARG);
    CHECK(rl_entropy_loss(0.1, &a, &ok, NULL, NULL, g) == RLC_ERR_ARG);
    rl_loss_config c = rl_loss_defaults();
    c.entropy_coef = 0.01;
    rl_loss_inputs in = {.logp = x, .prox_logp = x, .adv = x, .entropy = x};
    CHECK(rl_loss_compute(&c, &ok, &in, NULL, g, NULL) == RLC_ERR_ARG);  // no dentropy
    c = rl_loss_defaults();
    c.use_kl_loss = 1;
    CHECK(rl_loss_compute(&c, &ok, &in, NULL, g, NULL) == RLC_ERR_ARG);  // no ref_logp
    int same = 1;
    for (int t = 0; t < 9; t++) same &= g[t] == 42;
    CHECK_MSG(same, "a failing call wrote into the gradient");
    // An empty batch is fine: loss 0.
    rl_seqs empty = {0, NULL, NULL};
    rl_policy_stats st;
    CHECK_OK(rl_policy_loss(&pc, &a, &empty, NULL, NULL, NULL, NULL, &st, NULL));
    CHECK(st.loss == 0 && st.tokens == 0);
}

// ---- GSPO by hand ------------------------------------------------------------------

// Three sequences, token-mean (w = 1/6), clip 0.2 / 0.28, dual clip c = 3 (ignored):
//   seq 0: log-ratios {0.1, 0.3}, A {1, 0.5}: s = e^0.2 = 1.2214028 inside [0.8, 1.28]:
//          l = {-s, -0.5 s}, dL/dlogp = {-s, -0.5 s} / 6 = {-0.2035671, -0.1017836};
//   seq 1: log-ratios {0.5, 0.5, 0.5}, A {1, -1, 2}: s = e^0.5 = 1.6487213 > 1.28:
//          A > 0 clipped (l = -1.28, -2.56, no gradient), A < 0: l = s, grad s / 6 = 0.2747869;
//   seq 2: log-ratio 1.5, A = -1: s = e^1.5 = 4.4816891 > c = 3, but GSPO has no dual
//          clip: l = s, grad s / 6 = 0.7469482.
//   L = (-1.5 s0 - 1.28 + s1 - 2.56 + s2) / 6 = 0.0763844; clipfrac 2/6; seq_ratio
//   (s0 + s1 + s2) / 3 = 2.4506044; ppo_kl = -(0.1 + 0.3 + 1.5 + 1.5) / 6 = -0.5666667.
static void test_gspo_hand(void) {
    int off[4] = {0, 2, 5, 6};
    float logp[6] = {0.1f, 0.3f, 0.5f, 0.5f, 0.5f, 1.5f}, prox[6] = {0}, adv[6] = {1, 0.5f, 1, -1, 2, -1};
    rl_seqs s = {3, off, NULL};
    rl_policy_config pc = rl_policy_defaults();
    pc.clip_high = 0.28;
    pc.kind = RL_POLICY_GSPO;
    rl_agg a = agg_of(RL_AGG_TOKEN_MEAN);
    float g[6] = {0};
    rl_policy_stats st;
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, NULL, adv, &st, g));
    const double want_g[6] = {-0.2035671, -0.1017836, 0, 0.2747869, 0, 0.7469482};
    for (int t = 0; t < 6; t++) CHECK_MSG(NEAR(g[t], want_g[t], 1e-6), "gspo dL/dlogp[%d] = %.7f, want %.7f", t, g[t], want_g[t]);
    CHECK_MSG(NEAR(st.loss, 0.0763844, 1e-6) && NEAR(st.clipfrac, 2.0 / 6, 1e-12) && st.clipfrac_lower == 0 &&
                  NEAR(st.seq_ratio, 2.4506044, 1e-6) && st.seqs == 3 && NEAR(st.ppo_kl, -0.5666667, 1e-6),
              "gspo loss %.7f clipfrac %g lower %g seq_ratio %.7f seqs %ld ppo_kl %.7f", st.loss, st.clipfrac,
              st.clipfrac_lower, st.seq_ratio, st.seqs, st.ppo_kl);
    // the vanilla loss on the same tokens dual-clips seq 2's token, and reports no seq ratio
    pc.kind = RL_POLICY_VANILLA;
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, NULL, adv, &st, NULL));
    CHECK(st.clipfrac_lower > 0 && st.seqs == 0 && st.seq_ratio == 0);
    pc.kind = RL_POLICY_GSPO;

    // the behaviour weight multiplies each token: behav = prox - log 2 gives w = 2
    // (below the cap 5): twice the loss and gradients
    float behav[6], g2[6] = {0};
    for (int t = 0; t < 6; t++) behav[t] = prox[t] - (float)log(2.0);
    CHECK_OK(rl_policy_loss(&pc, &a, &s, logp, prox, behav, adv, &st, g2));
    CHECK_MSG(NEAR(st.loss, 2 * 0.0763844, 3e-6) && NEAR(st.is_mean, 2, 1e-6), "gspo with w = 2: loss %.7f is_mean %g",
              st.loss, st.is_mean);
    for (int t = 0; t < 6; t++) CHECK(NEAR(g2[t], 2 * want_g[t], 3e-6));

    // a mean log-ratio of 11 is clamped at 10: s = e^10, and the clamp passes no gradient
    float lp2[2] = {11.0f, 11.0f}, px2[2] = {0, 0}, ad2[2] = {-1, -1}, g3[2] = {0, 0};
    int off2[2] = {0, 2};
    rl_seqs s2 = {1, off2, NULL};
    CHECK_OK(rl_policy_loss(&pc, &a, &s2, lp2, px2, NULL, ad2, &st, g3));
    CHECK_MSG(NEAR(st.loss, exp(10.0), 1e-6 * exp(10.0)) && g3[0] == 0 && g3[1] == 0,
              "clamped: loss %g grad %g", st.loss, g3[0]);

    // names
    rl_policy_kind k;
    CHECK(rl_policy_kind_parse("gspo", &k) == RLC_OK && k == RL_POLICY_GSPO);
    CHECK(rl_policy_kind_parse("vanilla", &k) == RLC_OK && k == RL_POLICY_VANILLA);
    CHECK(rl_policy_kind_parse("gpg", &k) == RLC_ERR_CONFIG);
    CHECK(strcmp(rl_policy_kind_name(RL_POLICY_GSPO), "gspo") == 0);
    pc.kind = (rl_policy_kind)7;
    CHECK(rl_policy_loss(&pc, &a, &s, logp, prox, NULL, adv, &st, NULL) == RLC_ERR_ARG);
}

// ---- finite differences in float64 --------------------------------------------------

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
// An integer in [lo, hi], as a multiple of 2^-12.
static float grid(int lo, int hi) {
    return (float)(lo + (int)(rng_next() % (uint64_t)(hi - lo + 1))) / 4096.0f;
}

#define FD_T 40
#define FD_H (1.0 / 1024)  // the step; a kink closer than 3h skips the token

static double total_loss(const rl_loss_config *c, const rl_seqs *s, const rl_loss_inputs *in) {
    rl_loss_stats st;
    rlc_status r = rl_loss_compute(c, s, in, &st, NULL, NULL);
    return r == RLC_OK ? st.loss : NAN;
}

// The slope of the total loss in *x, by the fourth-order central difference
// (8 (L(x+h) - L(x-h)) - (L(x+2h) - L(x-2h))) / 12h, whose O(h^4) truncation
// error (~1e-12 relative here) leaves the comparison to the float rounding of
// the gradient. x +- h and x +- 2h are exact floats on the 2^-12 grid.
static double fd_slope(const rl_loss_config *c, const rl_seqs *s, const rl_loss_inputs *in, float *x) {
    float keep = *x;
    double l[4];
    const double steps[4] = {FD_H, -FD_H, 2 * FD_H, -2 * FD_H};
    for (int k = 0; k < 4; k++) {
        *x = (float)(keep + steps[k]);
        l[k] = total_loss(c, s, in);
    }
    *x = keep;
    return (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * FD_H);
}

// Is logp[t] within 3h of a kink of the KL estimator e?
static int near_kl_kink(rl_kl_estimator e, const rl_loss_inputs *in, int t) {
    double d = (double)in->logp[t] - in->ref_logp[t], m = 3 * FD_H;
    if (e == RL_KL_ABS && fabs(d) < m) return 1;
    if (e == RL_KL_K3) {
        double lo = rl_kl_token(RL_KL_K3, in->logp[t] - m, in->ref_logp[t], NULL);
        double hi = rl_kl_token(RL_KL_K3, in->logp[t] + m, in->ref_logp[t], NULL);
        if ((lo < 10) != (hi < 10)) return 1;
    }
    return 0;
}

// Is x within 3h of a kink of the loss in logp at token t?
static int near_kink(const rl_loss_config *c, const rl_loss_inputs *in, int t) {
    double lr = (double)in->logp[t] - in->prox_logp[t], m = 3 * FD_H;
    if (fabs(lr - log(1 - c->policy.clip_low)) < m || fabs(lr - log(1 + c->policy.clip_high)) < m) return 1;
    if (c->policy.clip_ratio_c > 0 && fabs(lr - log(c->policy.clip_ratio_c)) < m) return 1;
    return c->use_kl_loss && near_kl_kink(c->kl_type, in, t);
}

static void fd_check(const char *what, rl_loss_config *c, int with_behav) {
    // 4 sequences of 12, 8, 0 and 20 tokens, about a quarter masked.
    int off[5] = {0, 12, 20, 20, FD_T};
    unsigned char mask[FD_T];
    float logp[FD_T], prox[FD_T], behav[FD_T], ref[FD_T], adv[FD_T], ent[FD_T];
    for (int t = 0; t < FD_T; t++) {
        mask[t] = rng_next() % 4 != 0;
        logp[t] = grid(-4 * 4096, -64);
        prox[t] = logp[t] + grid(-2200, 2200);  // ratios about 0.58 .. 1.7
        if (rng_next() % 8 == 0) prox[t] = logp[t] - 5200.0f / 4096;  // r ~ 3.6: dual clip when A < 0
        behav[t] = prox[t] + grid(-3000, 3000);
        ref[t] = logp[t] + grid(-6000, 6000);
        if (t == 3) ref[t] = logp[t] + 5.0f;  // k3 clamped at 10
        adv[t] = grid(-8192, 8192);
        ent[t] = grid(0, 4 * 4096);
        if (t % 16 == 1) {  // sure cases of the dual clip: r ~ 3.6, A < 0
            mask[t] = 1;
            prox[t] = logp[t] - 5200.0f / 4096;
            adv[t] = -0.25f - grid(0, 4096);
        }
    }
    rl_seqs s = {4, off, mask};
    rl_loss_inputs in = {.logp = logp, .prox_logp = prox, .behav_logp = with_behav ? behav : NULL,
                         .ref_logp = ref, .adv = adv, .entropy = ent};
    float dl[FD_T], de[FD_T];
    rl_loss_stats st;
    CHECK_OK(rl_loss_compute(c, &s, &in, &st, dl, de));
    double worst = 0, worst_e = 0;
    int checked = 0, wi = -1;
    for (int t = 0; t < FD_T; t++) {
        if (!mask[t]) {
            CHECK_MSG(dl[t] == 0 && de[t] == 0, "%s: masked token %d has a gradient", what, t);
            continue;
        }
        if (near_kink(c, &in, t)) continue;
        double fd = fd_slope(c, &s, &in, &logp[t]);
        double err = fabs(fd - dl[t]) / fmax(fabs(fd), 1e-6);
        if (err > worst) worst = err, wi = t;
        if (getenv("RLC_TEST_VERBOSE") && err > 1e-6) printf("  t %d fd %.10g g %.10g\n", t, fd, dl[t]);
        checked++;
        if (c->entropy_coef != 0) {
            fd = fd_slope(c, &s, &in, &ent[t]);
            double err_e = fabs(fd - de[t]) / fmax(fabs(fd), 1e-6);
            if (err_e > worst_e) worst_e = err_e;
        }
    }
    CHECK_MSG(worst <= 1e-5 && worst_e <= 1e-5, "%s: finite differences: worst rel err %.3g (token %d), entropy %.3g",
              what, worst, wi, worst_e);
    CHECK_MSG(checked >= FD_T / 2, "%s: only %d tokens checked", what, checked);
    // The batch must exercise the clipped branches, not only the smooth one.
    CHECK_MSG(st.policy.clipfrac > 0, "%s: no token clipped", what);
    CHECK_MSG(c->policy.clip_ratio_c == 0 || st.policy.clipfrac_lower > 0, "%s: no dual clip", what);
    printf("fd %-42s %2d tokens (clipped %.2f, dual %.2f), worst rel err dlogp %.2e, dentropy %.2e\n", what,
           checked, st.policy.clipfrac, st.policy.clipfrac_lower, worst, worst_e);
}

// GSPO: with one advantage per sequence and no behaviour weight, its
// straight-through gradient -A s_i w_i per token equals the true derivative
// of the loss (d s_i / d logp_t = s_i / n_i, over n_i tokens), so central
// differences check it; sequences whose mean log-ratio lies within 3h of a
// clip bound are skipped. Eight sequences of 1..12 tokens, a third masked.
static void fd_check_gspo(rl_agg_mode mode, rl_kl_estimator kl) {
    enum { NS = 8, GT = 64 };
    int off[NS + 1] = {0};
    for (int i = 0; i < NS; i++) off[i + 1] = off[i] + 1 + (int)(rng_next() % 12);
    int T = off[NS];
    unsigned char mask[GT];
    float logp[GT], prox[GT], ref[GT], adv[GT], ent[GT];
    for (int i = 0; i < NS; i++) {
        float a = grid(-8192, 8192), shift = grid(-600, 600);  // per-sequence advantage and mean log-ratio
        for (int t = off[i]; t < off[i + 1]; t++) {
            mask[t] = rng_next() % 3 != 0;
            logp[t] = grid(-4 * 4096, -64);
            prox[t] = logp[t] - shift + grid(-400, 400);
            ref[t] = logp[t] + grid(-3000, 3000);
            adv[t] = a;
            ent[t] = grid(0, 4 * 4096);
        }
    }
    rl_loss_config c = rl_loss_defaults();
    c.policy.kind = RL_POLICY_GSPO;
    c.policy.clip_low = 0.05, c.policy.clip_high = 0.08;
    c.agg.mode = mode;
    c.agg.norm = 16;
    c.use_kl_loss = 1, c.kl_type = kl, c.kl_coef = 0.1, c.entropy_coef = 0.01;
    rl_seqs s = {NS, off, mask};
    rl_loss_inputs in = {.logp = logp, .prox_logp = prox, .ref_logp = ref, .adv = adv, .entropy = ent};
    float dl[GT], de[GT];
    rl_loss_stats st;
    CHECK_OK(rl_loss_compute(&c, &s, &in, &st, dl, de));
    double worst = 0;
    int checked = 0, wi = -1, inside = 0, outside = 0;
    for (int i = 0; i < NS; i++) {
        double m = 0;
        int n = 0;
        for (int t = off[i]; t < off[i + 1]; t++)
            if (mask[t]) m += (double)logp[t] - prox[t], n++;
        if (n == 0) continue;
        m /= n;
        if (fabs(m - log(1 - c.policy.clip_low)) < 3 * FD_H || fabs(m - log(1 + c.policy.clip_high)) < 3 * FD_H) continue;
        int in_clip = m > log(1 - c.policy.clip_low) && m < log(1 + c.policy.clip_high);
        inside += in_clip, outside += !in_clip;
        for (int t = off[i]; t < off[i + 1]; t++) {
            if (!mask[t] || near_kl_kink(kl, &in, t)) continue;
            double fd = fd_slope(&c, &s, &in, &logp[t]);
            double err = fabs(fd - dl[t]) / fmax(fabs(fd), 1e-6);
            if (err > worst) worst = err, wi = t;
            checked++;
        }
    }
    CHECK_MSG(worst <= 1e-5, "gspo/%s/%s: finite differences: worst rel err %.3g (token %d)", rl_agg_name(mode),
              rl_kl_name(kl), worst, wi);
    CHECK_MSG(checked >= T / 3 && inside > 0 && outside > 0, "gspo/%s: %d tokens checked, %d sequences inside the clip, %d outside",
              rl_agg_name(mode), checked, inside, outside);
    printf("fd gspo/%-34s %2d tokens (%d seqs inside the clip, %d outside), worst rel err dlogp %.2e\n",
           rl_agg_name(mode), checked, inside, outside, worst);
}

static void test_finite_differences(void) {
    const rl_kl_estimator kls[4] = {RL_KL_K1, RL_KL_ABS, RL_KL_K2, RL_KL_K3};
    for (int m = 0; m < RL_AGG_COUNT; m++) {
        for (int variant = 0; variant < 4; variant++) {
            rl_loss_config c = rl_loss_defaults();
            c.agg.mode = (rl_agg_mode)m;
            c.agg.norm = 32;
            c.agg.global_tokens = variant == 1 ? 50 : 0;
            c.agg.global_seqs = variant == 1 ? 6 : 0;
            c.policy.clip_high = variant >= 2 ? 0.28 : 0.2;
            c.policy.clip_ratio_c = variant == 3 ? 0 : 3.0;
            c.policy.is_mode = variant == 2 ? RL_IS_MASK : RL_IS_TRUNCATE;
            c.use_kl_loss = variant != 0;
            c.kl_type = kls[(m + variant) % 4];
            c.kl_coef = 0.1;
            c.entropy_coef = variant == 0 ? 0 : 0.01;
            char what[96];
            snprintf(what, sizeof what, "%s/%s%s%s", rl_agg_name(c.agg.mode),
                     c.use_kl_loss ? rl_kl_name(c.kl_type) : "nokl", variant >= 1 ? "/decoupled" : "",
                     variant == 3 ? "/nodual" : "");
            fd_check(what, &c, variant >= 1);
        }
    }
    for (int m = 0; m < RL_AGG_COUNT; m++) fd_check_gspo((rl_agg_mode)m, kls[m]);
}

// ---- the PyTorch fixture ----------------------------------------------------------------

static double *fx_doubles(const json_t *o, const char *key, int *n) {
    json_t *arr = json_object_get(o, key);
    if (!json_is_array(arr)) return NULL;
    size_t len = json_array_size(arr);
    double *v = malloc((len ? len : 1) * sizeof *v);
    for (size_t i = 0; i < len; i++) v[i] = json_number_value(json_array_get(arr, i));
    if (n) *n = (int)len;
    return v;
}

static float *fx_floats(const json_t *o, const char *key, int n) {
    int len = -1;
    double *d = fx_doubles(o, key, &len);
    if (!d || len != n) {
        free(d);
        return NULL;
    }
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (int i = 0; i < n; i++) v[i] = (float)d[i];  // exact: the inputs were drawn in float32
    free(d);
    return v;
}

static double num(const json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

// Worst |got - want| / max(|want|, floor) <= 1e-5, the worst element printed.
static void close_arr(const char *name, const char *what, const double *got, const double *want, int n,
                      double floor) {
    double worst = 0;
    int wi = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / fmax(fabs(want[i]), floor);
        if (e > worst) worst = e, wi = i;
    }
    CHECK_MSG(worst <= 1e-5, "%s %s: worst rel err %.3g at [%d]: got %.10g want %.10g", name, what, worst, wi,
              n ? got[wi] : 0.0, n ? want[wi] : 0.0);
    if (getenv("RLC_TEST_VERBOSE")) printf("  %s %s: %.2e\n", name, what, worst);
}

static double max_abs(const double *x, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static void fixture_loss_case(const json_t *c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    int nseq = (int)num(c, "nseq"), noff = 0;
    double *offd = fx_doubles(c, "offsets", &noff);
    if (!offd || noff != nseq + 1) {
        CHECK_MSG(0, "%s: bad offsets", name);
        free(offd);
        return;
    }
    int *off = malloc(noff * sizeof *off);
    for (int i = 0; i < noff; i++) off[i] = (int)offd[i];
    int T = off[nseq];
    double *maskd = fx_doubles(c, "mask", NULL);
    unsigned char *mask = malloc(T);
    for (int t = 0; t < T; t++) mask[t] = maskd[t] != 0;
    float *logp = fx_floats(c, "logp", T), *prox = fx_floats(c, "prox_logp", T);
    float *behav = fx_floats(c, "behav_logp", T), *ref = fx_floats(c, "ref_logp", T);
    float *adv = fx_floats(c, "adv", T), *ent = fx_floats(c, "entropy", T);
    json_t *ex = json_object_get(c, "expect"), *ag = json_object_get(c, "agg"), *po = json_object_get(c, "policy");
    double *want_dl = fx_doubles(ex, "dlogp", NULL), *want_de = fx_doubles(ex, "dentropy", NULL);
    CHECK(logp && prox && behav && ref && adv && ent && want_dl && want_de);
    if (logp && prox && behav && ref && adv && ent && want_dl && want_de) {
        rl_loss_config cfg = rl_loss_defaults();
        CHECK_OK(rl_agg_parse(json_string_value(json_object_get(ag, "mode")), &cfg.agg.mode));
        cfg.agg.global_tokens = num(ag, "global_tokens");
        cfg.agg.global_seqs = num(ag, "global_seqs");
        cfg.agg.norm = num(ag, "norm");
        cfg.policy.clip_low = num(po, "clip_low");
        cfg.policy.clip_high = num(po, "clip_high");
        cfg.policy.clip_ratio_c = num(po, "clip_ratio_c");
        cfg.policy.is_cap = num(po, "is_cap");
        const char *ism = json_string_value(json_object_get(po, "is_mode"));
        cfg.policy.is_mode = ism && strcmp(ism, "mask") == 0 ? RL_IS_MASK : RL_IS_TRUNCATE;
        const char *kind = json_string_value(json_object_get(po, "loss"));
        if (kind) CHECK_OK(rl_policy_kind_parse(kind, &cfg.policy.kind));
        const char *klt = json_string_value(json_object_get(c, "kl_type"));
        cfg.use_kl_loss = klt && klt[0];
        if (cfg.use_kl_loss) CHECK_OK(rl_kl_parse(klt, &cfg.kl_type));
        cfg.kl_coef = num(c, "kl_coef");
        cfg.entropy_coef = num(c, "entropy_coef");
        rl_seqs s = {nseq, off, mask};
        rl_loss_inputs in = {.logp = logp, .prox_logp = prox,
                             .behav_logp = num(c, "use_behav") != 0 ? behav : NULL,
                             .ref_logp = ref, .adv = adv, .entropy = ent};
        float *dl = malloc(T * sizeof *dl), *de = malloc(T * sizeof *de);
        rl_loss_stats st;
        CHECK_OK(rl_loss_compute(&cfg, &s, &in, &st, dl, de));
        double got[8] = {st.loss, st.policy.loss, st.kl.loss, st.entropy.loss, st.policy.clipfrac,
                         st.policy.clipfrac_lower, st.policy.ppo_kl, st.policy.seq_ratio};
        double want[8] = {num(ex, "loss"), num(ex, "policy_loss"), num(ex, "kl_loss"), num(ex, "entropy_loss"),
                          num(ex, "clipfrac"), num(ex, "clipfrac_lower"), num(ex, "ppo_kl"), num(ex, "seq_ratio")};
        close_arr(name, "loss/policy/kl/entropy/clipfrac/lower/ppo_kl/seq_ratio", got, want, 8, 1e-6);
        double *gd = malloc(T * sizeof *gd);
        for (int t = 0; t < T; t++) gd[t] = dl[t];
        close_arr(name, "dlogp", gd, want_dl, T, 1e-3 * max_abs(want_dl, T));
        for (int t = 0; t < T; t++) gd[t] = de[t];
        close_arr(name, "dentropy", gd, want_de, T, fmax(1e-3 * max_abs(want_de, T), 1e-12));
        printf("fixture %-24s loss %.9f (want %.9f)\n", name, st.loss, want[0]);
        free(gd), free(dl), free(de);
    }
    free(offd), free(off), free(maskd), free(mask), free(logp), free(prox), free(behav), free(ref);
    free(adv), free(ent), free(want_dl), free(want_de);
}

static void fixture_kl_reward(const json_t *c) {
    int nseq = (int)num(c, "nseq"), noff = 0;
    double *offd = fx_doubles(c, "offsets", &noff);
    double *maskd = fx_doubles(c, "mask", NULL), *seq_reward = fx_doubles(c, "seq_reward", NULL);
    if (!offd || noff != nseq + 1 || !maskd || !seq_reward) {
        CHECK_MSG(0, "kl_in_reward: bad case");
        free(offd), free(maskd), free(seq_reward);
        return;
    }
    int off[64];
    for (int i = 0; i < noff && i < 64; i++) off[i] = (int)offd[i];
    int T = off[nseq];
    unsigned char *mask = malloc(T);
    for (int t = 0; t < T; t++) mask[t] = maskd[t] != 0;
    float *old = fx_floats(c, "old_logp", T), *ref = fx_floats(c, "ref_logp", T);
    rl_seqs s = {nseq, off, mask};
    json_t *cases = json_object_get(c, "cases");
    float *tr = malloc(T * sizeof *tr);
    double *trd = malloc(T * sizeof *trd), *sc = malloc(nseq * sizeof *sc);
    for (size_t k = 0; old && ref && k < json_array_size(cases); k++) {
        json_t *e = json_array_get(cases, k);
        rl_kl_estimator est;
        CHECK_OK(rl_kl_parse(json_string_value(json_object_get(e, "kl_type")), &est));
        CHECK_OK(rl_seqs_place_outcome(&s, seq_reward, tr));
        double klm;
        CHECK_OK(rl_kl_penalize_rewards(est, num(e, "coef"), &s, old, ref, tr, &klm));
        CHECK_OK(rl_seqs_sum(&s, tr, sc));
        double *want_tr = fx_doubles(e, "token_rewards", NULL), *want_sc = fx_doubles(e, "seq_scores", NULL);
        for (int t = 0; t < T; t++) trd[t] = tr[t];
        close_arr("kl_in_reward", "token_rewards", trd, want_tr, T, 1e-3);
        close_arr("kl_in_reward", "seq_scores", sc, want_sc, nseq, 1e-3);
        double wk = num(e, "kl_mean");
        close_arr("kl_in_reward", "kl_mean", &klm, &wk, 1, 1e-6);
        free(want_tr), free(want_sc);
    }
    free(tr), free(trd), free(sc), free(old), free(ref), free(mask), free(offd), free(maskd), free(seq_reward);
}

static void test_fixture(void) {
    char path[1024];
    test_source(path, sizeof path, "tests/data/rl_loss/fixtures.json");
    json_t *doc = NULL;
    CHECK_OK(rlc_json_load_file(path, &doc));
    if (!doc) return;
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    int ok = fmt && strcmp(fmt, "rlc-rl-loss-fixture") == 0 &&
             json_integer_value(json_object_get(doc, "version")) == 2;
    CHECK_MSG(ok, "%s: not an rlc-rl-loss-fixture version 2 (regenerate with scripts/make_rl_loss_fixtures.py)",
              path);
    json_t *cases = json_object_get(doc, "loss_cases");
    CHECK(json_array_size(cases) >= 9);  // six vanilla, three GSPO
    for (size_t k = 0; ok && k < json_array_size(cases); k++) fixture_loss_case(json_array_get(cases, k));
    if (ok) fixture_kl_reward(json_object_get(doc, "kl_reward"));
    json_decref(doc);
}

int main(void) {
    test_clip_branches();
    test_decoupled();
    test_aggregation();
    test_kl();
    test_entropy_and_total();
    test_errors();
    test_gspo_hand();
    test_finite_differences();
    test_fixture();
    return test_finish("test_rl_loss");
}
