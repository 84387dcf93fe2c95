// test_advantage.c: learner/advantage.h against values worked out by hand
// (in the comments) and against tests/data/rl_loss/fixtures.json, written by
// scripts/make_rl_loss_fixtures.py with verl's code in PyTorch: the group
// estimators, REINFORCE++'s per-token returns and whitening, and DAPO's
// overlong penalty.
#include <jansson.h>  // json_t
#include <math.h>     // fabs, sqrt, NAN
#include <stdio.h>    // printf, snprintf
#include <stdlib.h>   // malloc, free

#include "core/json.h"          // rlc_json_load_file
#include "learner/advantage.h"  // adv_*
#include "test.h"

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

static void test_grpo_hand(void) {
    // One group {1, 0, 0, 1}: mean 0.5; squared deviations 4 x 0.25 = 1;
    // unbiased var 1 / 3, std 0.5773503; adv = +-0.5 / (0.5773503 + 1e-6) = +-0.8660239.
    double r[4] = {1, 0, 0, 1}, a[4];
    int groups[2] = {0, 4};
    CHECK_OK(adv_grpo(r, 4, groups, 1, 1e-6, 1, a));
    double want = 0.5 / (sqrt(1.0 / 3.0) + 1e-6);
    CHECK(NEAR(want, 0.8660239, 1e-7));
    CHECK(NEAR(a[0], want, 1e-12) && NEAR(a[1], -want, 1e-12));
    CHECK(NEAR(a[2], -want, 1e-12) && NEAR(a[3], want, 1e-12));
    // Dr.GRPO: no std division: +-0.5.
    CHECK_OK(adv_grpo(r, 4, groups, 1, 1e-6, 0, a));
    CHECK(a[0] == 0.5 && a[1] == -0.5 && a[2] == -0.5 && a[3] == 0.5);

    // Three groups: {2, 4, 9} (mean 5, deviations -3, -1, 4, squares 9 + 1 + 16 = 26,
    // var 13, std 3.6055513), {0.7} alone (verl: mean 0, std 1 -> 0.7 / (1 + eps)),
    // {0.1, 0.1, 0.1} (all equal: exactly 0 even though 0.1 is not a binary fraction).
    double r2[7] = {2, 4, 9, 0.7, 0.1, 0.1, 0.1}, a2[7];
    int g2[4] = {0, 3, 4, 7};
    CHECK_OK(adv_grpo(r2, 7, g2, 3, 1e-6, 1, a2));
    double sd = sqrt(13.0);
    CHECK(NEAR(sd, 3.6055513, 1e-7));
    CHECK(NEAR(a2[0], -3 / (sd + 1e-6), 1e-12));
    CHECK(NEAR(a2[1], -1 / (sd + 1e-6), 1e-12));
    CHECK(NEAR(a2[2], 4 / (sd + 1e-6), 1e-12));
    CHECK(NEAR(a2[3], 0.7 / (1 + 1e-6), 1e-15));
    CHECK(a2[4] == 0 && a2[5] == 0 && a2[6] == 0);
    CHECK_OK(adv_grpo(r2, 7, g2, 3, 1e-6, 0, a2));
    CHECK(NEAR(a2[0], -3, 1e-12) && NEAR(a2[2], 4, 1e-12) && a2[3] == 0.7 && a2[5] == 0);

    // In place (adv aliasing scores).
    double r3[4] = {1, 0, 0, 1};
    CHECK_OK(adv_grpo(r3, 4, groups, 1, 1e-6, 1, r3));
    CHECK(NEAR(r3[0], want, 1e-12) && NEAR(r3[1], -want, 1e-12));
}

static void test_rloo_hand(void) {
    // {1, 0, 0, 1}: A_0 = 1 - mean(0, 0, 1) = 2/3, A_1 = 0 - mean(1, 0, 1) = -2/3
    // (= n/(n-1) (r - mean) = 4/3 * +-0.5). A group of one keeps its score: 3.
    double r[5] = {1, 0, 0, 1, 3}, a[5];
    int groups[3] = {0, 4, 5};
    CHECK_OK(adv_rloo(r, 5, groups, 2, a));
    CHECK(NEAR(a[0], 2.0 / 3, 1e-12) && NEAR(a[1], -2.0 / 3, 1e-12));
    CHECK(NEAR(a[2], -2.0 / 3, 1e-12) && NEAR(a[3], 2.0 / 3, 1e-12));
    CHECK(a[4] == 3);
    // {5, 1, 3}: A_0 = 5 - 2 = 3, A_1 = 1 - 4 = -3, A_2 = 3 - 3 = 0.
    double r2[3] = {5, 1, 3}, a2[3];
    int g2[2] = {0, 3};
    CHECK_OK(adv_rloo(r2, 3, g2, 1, a2));
    CHECK(NEAR(a2[0], 3, 1e-12) && NEAR(a2[1], -3, 1e-12) && NEAR(a2[2], 0, 1e-12));
}

static void test_rpp_hand(void) {
    // Groups {1, 0} and {2, 0}: centred {0.5, -0.5} and {1, -1}; response
    // lengths {1, 1, 2, 2}, so the tokens hold 0.5, -0.5, 1, 1, -1, -1: N = 6,
    // mean 0, unbiased var (0.25 + 0.25 + 1 + 1 + 1 + 1) / 5 = 0.9;
    // adv = a / sqrt(0.9 + 1e-8): 0.5 -> 0.5270463, 1 -> 1.0540925.
    double r[4] = {1, 0, 2, 0}, a[4];
    int len[4] = {1, 1, 2, 2}, groups[3] = {0, 2, 4};
    CHECK_OK(adv_rpp_baseline(r, len, 4, groups, 2, a));
    double s = sqrt(0.9 + 1e-8);
    CHECK(NEAR(0.5 / s, 0.5270463, 1e-7));
    CHECK(NEAR(a[0], 0.5 / s, 1e-12) && NEAR(a[1], -0.5 / s, 1e-12));
    CHECK(NEAR(a[2], 1 / s, 1e-12) && NEAR(a[3], -1 / s, 1e-12));
    // Token weighting moves the mean: groups {1, 0} with lengths {3, 1}: tokens
    // 0.5 x3, -0.5 x1: mean 0.25; var (3 * 0.0625 + 0.5625) / 3 = 0.25; adv = (a - 0.25) / 0.5.
    double r2[2] = {1, 0}, a2[2];
    int l2[2] = {3, 1}, g2[2] = {0, 2};
    CHECK_OK(adv_rpp_baseline(r2, l2, 2, g2, 1, a2));
    CHECK(NEAR(a2[0], 0.25 / sqrt(0.25 + 1e-8), 1e-12));
    CHECK(NEAR(a2[1], -0.75 / sqrt(0.25 + 1e-8), 1e-12));
}

static void test_dapo_hand(void) {
    // {1, 1} all equal: drop; {0, 1}: keep; {0.5} alone: keep (verl); {0, 0, 0}: drop.
    double r[8] = {1, 1, 0, 1, 0.5, 0, 0, 0};
    int groups[5] = {0, 2, 4, 5, 8}, kept = -1;
    unsigned char keep[4];
    CHECK_OK(adv_dapo_keep(r, 8, groups, 4, keep, &kept));
    CHECK(keep[0] == 0 && keep[1] == 1 && keep[2] == 1 && keep[3] == 0);
    CHECK(kept == 2);
    // Dropped groups are exactly the ones whose GRPO advantages are all 0.
    double a[8];
    CHECK_OK(adv_grpo(r, 8, groups, 4, 1e-6, 1, a));
    CHECK(a[0] == 0 && a[1] == 0 && a[5] == 0 && a[6] == 0 && a[7] == 0 && a[2] != 0);
}

static void test_summary(void) {
    // {1, 2, 3, 6}: mean 3, population var (4 + 1 + 0 + 9) / 4 = 3.5.
    double x[4] = {1, 2, 3, 6};
    adv_summary s = adv_summarize(x, 4);
    CHECK(s.mean == 3 && s.min == 1 && s.max == 6 && NEAR(s.std, sqrt(3.5), 1e-12));
    s = adv_summarize(x, 0);
    CHECK(s.mean == 0 && s.std == 0);
}

static void test_errors(void) {
    double r[4] = {1, 0, 0, 1}, a[4] = {7, 7, 7, 7};
    int len[4] = {1, 0, 0, 0};
    int bad0[2] = {1, 4};        // groups[0] != 0
    int empty[3] = {0, 0, 4};    // an empty group
    int short_[2] = {0, 3};      // does not cover nseq
    int ok[2] = {0, 4};
    CHECK(adv_grpo(r, 4, bad0, 1, 1e-6, 1, a) == RLC_ERR_ARG);
    CHECK(adv_grpo(r, 4, empty, 2, 1e-6, 1, a) == RLC_ERR_ARG);
    CHECK(adv_grpo(r, 4, short_, 1, 1e-6, 1, a) == RLC_ERR_ARG);
    CHECK(adv_grpo(r, 4, NULL, 1, 1e-6, 1, a) == RLC_ERR_ARG);
    CHECK(adv_grpo(r, 4, ok, 1, -1.0, 1, a) == RLC_ERR_ARG);
    CHECK(adv_grpo(r, -1, ok, 1, 1e-6, 1, a) == RLC_ERR_ARG);
    CHECK(adv_rloo(r, 4, empty, 2, a) == RLC_ERR_ARG);
    double nan_r[4] = {1, NAN, 0, 1};
    CHECK(adv_grpo(nan_r, 4, ok, 1, 1e-6, 1, a) == RLC_ERR_ARG);
    CHECK(strstr(rlc_last_error(), "scores[1]") != NULL);
    // REINFORCE++-baseline needs two response tokens to whiten.
    CHECK(adv_rpp_baseline(r, len, 4, ok, 1, a) == RLC_ERR_ARG);
    int neg[4] = {1, -1, 1, 1};
    CHECK(adv_rpp_baseline(r, neg, 4, ok, 1, a) == RLC_ERR_ARG);
    CHECK(a[0] == 7 && a[1] == 7 && a[2] == 7 && a[3] == 7);  // nothing written
    // Empty batch: fine, nothing to do.
    int zero[1] = {0};
    CHECK_OK(adv_grpo(NULL, 0, zero, 0, 1e-6, 1, NULL));
    CHECK_OK(adv_check_groups(0, NULL, 0));
}

// ---- the fixture -----------------------------------------------------------------

static double *fx_doubles(const json_t *o, const char *key, int *n) {
    json_t *arr = json_object_get(o, key);
    if (!json_is_array(arr)) return NULL;
    size_t len = json_array_size(arr);
    double *v = malloc((len ? len : 1) * sizeof *v);
    for (size_t i = 0; i < len; i++) v[i] = json_number_value(json_array_get(arr, i));
    if (n) *n = (int)len;
    return v;
}

// Worst |got - want| / max(|want|, 1e-3) over the array must be <= 1e-5.
static void check_close(const char *what, const double *got, const double *want, int n) {
    double worst = 0;
    int wi = 0;
    for (int i = 0; i < n; i++) {
        double den = fabs(want[i]) > 1e-3 ? fabs(want[i]) : 1e-3;
        double e = fabs(got[i] - want[i]) / den;
        if (e > worst) worst = e, wi = i;
    }
    CHECK_MSG(worst <= 1e-5, "%s: worst rel err %.3g at [%d]: got %.10g want %.10g", what, worst, wi,
              n ? got[wi] : 0.0, n ? want[wi] : 0.0);
    printf("fixture %-14s max rel err %.2e over %d values\n", what, worst, n);
}

// REINFORCE++ against verl's loop and masked_whiten, gamma 1, 0.9 and 0.
static void fixture_rpp(const json_t *c) {
    int nseq = (int)json_integer_value(json_object_get(c, "nseq")), noff = 0, T = 0;
    double *offd = fx_doubles(c, "offsets", &noff), *maskd = fx_doubles(c, "mask", NULL);
    double *rd = fx_doubles(c, "token_rewards", &T);
    int ok = offd && maskd && rd && noff == nseq + 1 && noff <= 64 && (int)offd[nseq] == T;
    CHECK_MSG(ok, "reinforce_pp: bad fixture case");
    int off[64];
    unsigned char *mask = malloc(T ? T : 1);
    float *r = malloc((T ? T : 1) * sizeof *r), *adv = malloc((T ? T : 1) * sizeof *adv);
    double *got = malloc((T ? T : 1) * sizeof *got);
    json_t *cases = json_object_get(c, "cases");
    for (int i = 0; ok && i < noff; i++) off[i] = (int)offd[i];
    for (int t = 0; ok && t < T; t++) mask[t] = maskd[t] != 0, r[t] = (float)rd[t];  // exact: float32 inputs
    rl_seqs s = {nseq, off, mask};
    for (size_t k = 0; ok && k < json_array_size(cases); k++) {
        json_t *e = json_array_get(cases, k);
        double gamma = json_number_value(json_object_get(e, "gamma"));
        int n = 0;
        double *want = fx_doubles(e, "adv", &n);
        CHECK(want && n == T);
        if (want && n == T) {
            CHECK_OK(adv_rpp_tokens(&s, r, gamma, adv));
            for (int t = 0; t < T; t++) got[t] = adv[t];
            char what[32];
            snprintf(what, sizeof what, "rpp gamma %.2g", gamma);
            check_close(what, got, want, T);
        }
        free(want);
    }
    free(offd), free(maskd), free(rd), free(mask), free(r), free(adv), free(got);
}

static void fixture_overlong(const json_t *cases) {
    CHECK(json_array_size(cases) >= 5);
    double worst = 0;
    for (size_t k = 0; k < json_array_size(cases); k++) {
        json_t *e = json_array_get(cases, k);
        double p = adv_overlong_penalty((long)json_integer_value(json_object_get(e, "length")),
                                        (long)json_integer_value(json_object_get(e, "max_len")),
                                        (long)json_integer_value(json_object_get(e, "buffer")),
                                        json_number_value(json_object_get(e, "factor")));
        double want = json_number_value(json_object_get(e, "penalty"));
        worst = fmax(worst, fabs(p - want));
        CHECK_MSG(fabs(p - want) <= 1e-12, "overlong case %zu: %.12g, want %.12g", k, p, want);
    }
    printf("fixture %-14s max abs err %.2e over %zu cases\n", "overlong", worst, json_array_size(cases));
}

static void test_fixture(void) {
    char path[1024];
    test_source(path, sizeof path, "tests/data/rl_loss/fixtures.json");
    json_t *doc = NULL;
    CHECK_OK(rlc_json_load_file(path, &doc));
    if (!doc) return;
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    CHECK_MSG(fmt && strcmp(fmt, "rlc-rl-loss-fixture") == 0 &&
                  json_integer_value(json_object_get(doc, "version")) == 2,
              "%s: not an rlc-rl-loss-fixture version 2 (regenerate with scripts/make_rl_loss_fixtures.py)",
              path);
    json_t *c = json_object_get(doc, "advantage");
    json_t *ex = json_object_get(c, "expect");
    int nseq = 0, ng1 = 0, nl = 0;
    double *scores = fx_doubles(c, "scores", &nseq);
    double *gd = fx_doubles(c, "groups", &ng1);
    double *ld = fx_doubles(c, "lengths", &nl);
    CHECK(scores && gd && ld && nl == nseq && ng1 >= 2);
    if (!scores || !gd || !ld) {
        free(scores), free(gd), free(ld);
        json_decref(doc);
        return;
    }
    int ngroups = ng1 - 1;
    int *groups = malloc(ng1 * sizeof *groups), *lengths = malloc(nseq * sizeof *lengths);
    for (int i = 0; i < ng1; i++) groups[i] = (int)gd[i];
    for (int i = 0; i < nseq; i++) lengths[i] = (int)ld[i];
    double eps = json_number_value(json_object_get(c, "eps"));
    double *a = malloc(nseq * sizeof *a);
    const char *names[] = {"grpo", "drgrpo", "rloo", "rpp_baseline"};
    for (int k = 0; k < 4; k++) {
        int n = 0;
        double *want = fx_doubles(ex, names[k], &n);
        CHECK(want && n == nseq);
        if (!want || n != nseq) continue;
        if (k == 0) CHECK_OK(adv_grpo(scores, nseq, groups, ngroups, eps, 1, a));
        if (k == 1) CHECK_OK(adv_grpo(scores, nseq, groups, ngroups, eps, 0, a));
        if (k == 2) CHECK_OK(adv_rloo(scores, nseq, groups, ngroups, a));
        if (k == 3) CHECK_OK(adv_rpp_baseline(scores, lengths, nseq, groups, ngroups, a));
        check_close(names[k], a, want, nseq);
        free(want);
    }
    int nk = 0;
    double *keep_want = fx_doubles(ex, "dapo_keep", &nk);
    CHECK(keep_want && nk == ngroups);
    if (keep_want && nk == ngroups) {
        unsigned char *keep = malloc(ngroups);
        int kept;
        CHECK_OK(adv_dapo_keep(scores, nseq, groups, ngroups, keep, &kept));
        int same = 1;
        for (int g = 0; g < ngroups; g++) same &= keep[g] == (keep_want[g] != 0);
        CHECK_MSG(same, "dapo_keep differs from the fixture");
        free(keep);
    }
    free(keep_want);
    free(a), free(groups), free(lengths), free(scores), free(gd), free(ld);
    fixture_rpp(json_object_get(doc, "reinforce_pp"));
    fixture_overlong(json_object_get(doc, "overlong"));
    json_decref(doc);
}

// REINFORCE++ by hand. Two sequences, rewards on their last tokens:
//   seq 0: tokens {0, 0, 1}, seq 1: tokens {0, 2} (all unmasked).
// gamma = 1: returns {1, 1, 1}, {2, 2}: mean 7/5 = 1.4; squared deviations
//   3 x 0.16 + 2 x 0.36 = 1.2; unbiased var 1.2 / 4 = 0.3; adv = (G - 1.4) / sqrt(0.3 + 1e-8):
//   -0.4 / 0.5477226 = -0.7302967 (x3), 0.6 / 0.5477226 = 1.0954451 (x2).
// gamma = 0.5: returns {0.25, 0.5, 1}, {1, 2}: mean 4.75 / 5 = 0.95; deviations
//   -0.7, -0.45, 0.05, 0.05, 1.05; squares 0.49 + 0.2025 + 0.0025 + 0.0025 + 1.1025 = 1.8;
//   var 0.45, std 0.6708204: adv_0 = -0.7 / 0.6708204 = -1.0434984.
// A masked token resets the running return (verl): seq {0, [5], 1} with the middle
// masked gives returns {1 + ... } = G_2 = 1, G_1 masked, G_0 = 0 + gamma * 0 = 0.
static void test_rpp_tokens_hand(void) {
    int off[3] = {0, 3, 5};
    float r[5] = {0, 0, 1, 0, 2}, a[5];
    rl_seqs s = {2, off, NULL};
    CHECK_OK(adv_rpp_tokens(&s, r, 1.0, a));
    double sd = sqrt(0.3 + 1e-8);
    for (int t = 0; t < 3; t++) CHECK_MSG(NEAR(a[t], -0.4 / sd, 1e-6), "a[%d] %g", t, a[t]);
    for (int t = 3; t < 5; t++) CHECK_MSG(NEAR(a[t], 0.6 / sd, 1e-6), "a[%d] %g", t, a[t]);
    CHECK(NEAR(-0.4 / sd, -0.7302967, 1e-7) && NEAR(0.6 / sd, 1.0954451, 1e-7));
    CHECK_OK(adv_rpp_tokens(&s, r, 0.5, a));
    CHECK_MSG(NEAR(a[0], -0.7 / sqrt(0.45 + 1e-8), 1e-6) && NEAR(a[0], -1.0434984, 1e-6), "gamma 0.5: a[0] %g",
              a[0]);
    // equal to the baseline variant with groups of one when gamma = 1 and the
    // reward sits on the last token (every token of a sample holds its score)
    double sc[2] = {1, 2}, ab[2];
    int lens[2] = {3, 2}, g1[3] = {0, 1, 2};
    CHECK_OK(adv_rpp_baseline(sc, lens, 2, g1, 2, ab));
    CHECK_OK(adv_rpp_tokens(&s, r, 1.0, a));
    CHECK(NEAR(a[0], ab[0], 1e-6) && NEAR(a[4], ab[1], 1e-6));
    // the reset after a masked token, and masked tokens get 0
    unsigned char m[5] = {1, 0, 1, 1, 1};
    float r2[5] = {0, 5, 1, 0, 2};
    rl_seqs sm = {2, off, m};
    CHECK_OK(adv_rpp_tokens(&sm, r2, 1.0, a));
    // unmasked returns {0, 1}, {2, 2}: mean 1.25, squares 1.5625 + 0.0625 + 0.5625 x 2 = 2.75,
    // var 2.75 / 3; G_0 = 0 (reset by the masked token, not 5 + 1)
    double sd2 = sqrt(2.75 / 3 + 1e-8);
    CHECK_MSG(a[1] == 0 && NEAR(a[0], -1.25 / sd2, 1e-6) && NEAR(a[2], -0.25 / sd2, 1e-6), "masked: %g %g %g",
              a[0], a[1], a[2]);
    // equal returns: exactly 0; too few tokens, bad gamma, aliasing: RLC_ERR_ARG
    float rc[5] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
    CHECK_OK(adv_rpp_tokens(&s, rc, 0.0, a));
    CHECK(a[0] == 0 && a[2] == 0 && a[4] == 0);
    int off1[2] = {0, 1};
    rl_seqs one = {1, off1, NULL};
    CHECK(adv_rpp_tokens(&one, r, 1.0, a) == RLC_ERR_ARG);
    CHECK(adv_rpp_tokens(&s, r, 1.5, a) == RLC_ERR_ARG);
    CHECK(adv_rpp_tokens(&s, r, NAN, a) == RLC_ERR_ARG);
    CHECK(adv_rpp_tokens(&s, r, 1.0, r) == RLC_ERR_ARG);
}

// DAPO's overlong penalty, L_max = 100, L_c = 20: 0 up to 80 tokens, then
// -(L - 80) / 20: -0.05 at 81, -0.5 at 90, -1 at 100; factor 0.5 halves it;
// L_c = 0 is off.
static void test_overlong_hand(void) {
    CHECK(adv_overlong_penalty(10, 100, 20, 1.0) == 0 && adv_overlong_penalty(80, 100, 20, 1.0) == 0);
    CHECK(NEAR(adv_overlong_penalty(81, 100, 20, 1.0), -0.05, 1e-15));
    CHECK(NEAR(adv_overlong_penalty(90, 100, 20, 1.0), -0.5, 1e-15));
    CHECK(NEAR(adv_overlong_penalty(100, 100, 20, 1.0), -1.0, 1e-15));
    CHECK(NEAR(adv_overlong_penalty(100, 100, 20, 0.5), -0.5, 1e-15));
    CHECK(adv_overlong_penalty(100, 100, 0, 1.0) == 0);
}

int main(void) {
    test_grpo_hand();
    test_rloo_hand();
    test_rpp_hand();
    test_dapo_hand();
    test_rpp_tokens_hand();
    test_overlong_hand();
    test_summary();
    test_errors();
    test_fixture();
    return test_finish("test_advantage");
}
