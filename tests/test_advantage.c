// test_advantage.c: learner/advantage.h against values worked out by hand
// (in the comments) and against tests/data/rl_loss/fixtures.json, written by
// scripts/make_rl_loss_fixtures.py with verl's code in PyTorch.
#include <jansson.h>  // json_t
#include <math.h>     // fabs, sqrt, NAN
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

static void test_fixture(void) {
    char path[1024];
    test_source(path, sizeof path, "tests/data/rl_loss/fixtures.json");
    json_t *doc = NULL;
    CHECK_OK(rlc_json_load_file(path, &doc));
    if (!doc) return;
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    CHECK_MSG(fmt && strcmp(fmt, "rlc-rl-loss-fixture") == 0 &&
                  json_integer_value(json_object_get(doc, "version")) == 1,
              "%s: not an rlc-rl-loss-fixture version 1 (regenerate with scripts/make_rl_loss_fixtures.py)",
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
    json_decref(doc);
}

int main(void) {
    test_grpo_hand();
    test_rloo_hand();
    test_rpp_hand();
    test_dapo_hand();
    test_summary();
    test_errors();
    test_fixture();
    return test_finish("test_advantage");
}
