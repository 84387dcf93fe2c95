// test_ada.c: Reinforce-Ada's pure logic (learner/ada.h) on cases worked out
// by hand: the exit rules of both variants round by round, the fallback
// after the last round, the cut to n with its class balance (and the fill
// from the other class), and the baseline over every sample drawn.
#include <math.h>  // fabs, sqrt

#include "core/core.h"
#include "learner/ada.h"
#include "test.h"

static const ada_config balanced = {ADA_MODE_BALANCED, 4, 3, 4, 1.0};  // n 4: tp 2, tn 2
static const ada_config positive = {ADA_MODE_POSITIVE, 4, 3, 4, 1.0};

static void test_parse_and_check(void) {
    ada_mode m;
    CHECK_OK(ada_mode_parse("balanced", &m));
    CHECK(m == ADA_MODE_BALANCED && strcmp(ada_mode_name(m), "balanced") == 0);
    CHECK_OK(ada_mode_parse("positive", &m));
    CHECK(m == ADA_MODE_POSITIVE);
    CHECK_OK(ada_mode_parse("off", &m));
    CHECK(m == ADA_MODE_OFF);
    CHECK(ada_mode_parse("balance", &m) == RLC_ERR_CONFIG);
    CHECK(strstr(rlc_last_error(), "positive"));
    CHECK_OK(ada_config_check(&balanced));
    ada_config c = balanced;
    c.rounds = 0;
    CHECK(ada_config_check(&c) == RLC_ERR_CONFIG);
    c = balanced, c.per_round = 1;  // 3 rounds x 1 < 4
    CHECK(ada_config_check(&c) == RLC_ERR_CONFIG && strstr(rlc_last_error(), "fewer"));
    c = balanced, c.threshold = NAN;
    CHECK(ada_config_check(&c) == RLC_ERR_CONFIG);
}

static void test_exit_rules(void) {
    // round 1: one positive of 4. balanced needs 2 + 2: active; positive: exits.
    double r1[4] = {0, 1, 0, 0};
    CHECK(ada_check(&balanced, r1, 4, 1) == ADA_ACTIVE);
    CHECK(ada_check(&positive, r1, 4, 1) == ADA_EXITED);
    // round 2 adds {0, 0, 1, 0}: 2 positives, 6 negatives: balanced exits
    double r2[8] = {0, 1, 0, 0, 0, 0, 1, 0};
    CHECK(ada_check(&balanced, r2, 8, 2) == ADA_EXITED);
    // all negative: active until the last round, then the fallback
    double z[12] = {0};
    CHECK(ada_check(&balanced, z, 8, 2) == ADA_ACTIVE);
    CHECK(ada_check(&positive, z, 8, 2) == ADA_ACTIVE);
    CHECK(ada_check(&balanced, z, 12, 3) == ADA_FALLBACK);
    CHECK(ada_check(&positive, z, 12, 3) == ADA_FALLBACK);
    // all positive: positive exits at once (no signal, as in the paper's pos
    // variant); balanced waits for 2 negatives
    double p[4] = {1, 1, 1, 1};
    CHECK(ada_check(&positive, p, 4, 1) == ADA_EXITED);
    CHECK(ada_check(&balanced, p, 4, 1) == ADA_ACTIVE);
    // positive with fewer than n samples does not exit: m = 2 < n = 4
    ada_config small = positive;
    small.per_round = 2;
    double r3[2] = {1, 0};
    CHECK(ada_check(&small, r3, 2, 1) == ADA_ACTIVE);
    CHECK(ada_check(&small, r1, 4, 2) == ADA_EXITED);
    // threshold: reward 0.7 is negative at 1.0 and positive at 0.5
    double f[4] = {0.7, 0.7, 0.0, 0.0};
    ada_config half = balanced;
    CHECK(ada_check(&half, f, 4, 1) == ADA_ACTIVE);
    half.threshold = 0.5;
    CHECK(ada_check(&half, f, 4, 1) == ADA_EXITED);
    // odd n = 5: tp 3, tn 2
    ada_config five = balanced;
    five.n = 5;
    double o[6] = {1, 1, 0, 0, 0, 1};
    CHECK(ada_check(&five, o, 5, 1) == ADA_ACTIVE);
    CHECK(ada_check(&five, o, 6, 2) == ADA_EXITED);
}

static void check_keep(const int *keep, int n, const int *want, const char *what) {
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= keep[i] == want[i];
    CHECK_MSG(ok, "%s: kept %d %d %d %d", what, keep[0], keep[1], keep[2], keep[3]);
}

static void test_cut_and_baseline(void) {
    int keep[8];
    ada_cut cut;
    // 8 drawn {0,1,0,0, 0,0,1,0}: 2 positives (1, 6), keep both and the first
    // 2 negatives (0, 2). Baseline: mean 2/8 = 0.25;
    // std = sqrt((2 * 0.75^2 + 6 * 0.25^2) / 7) = sqrt(1.5 / 7) = 0.46291005
    double r2[8] = {0, 1, 0, 0, 0, 0, 1, 0};
    CHECK_OK(ada_select(&balanced, r2, 8, keep, &cut));
    CHECK(cut.n_keep == 4 && cut.pos_kept == 2 && cut.base_n == 8);
    check_keep(keep, 4, (int[]){0, 1, 2, 6}, "balanced");
    CHECK_MSG(fabs(cut.base_mean - 0.25) < 1e-15 && fabs(cut.base_std - 0.46291005) < 1e-8, "mean %g std %.9f",
              cut.base_mean, cut.base_std);
    // positive-focused, 1 positive in 4: it and the first 3 negatives (everything)
    double r1[4] = {0, 1, 0, 0};
    CHECK_OK(ada_select(&positive, r1, 4, keep, &cut));
    CHECK(cut.n_keep == 4 && cut.pos_kept == 1);
    check_keep(keep, 4, (int[]){0, 1, 2, 3}, "positive");
    // too few negatives: 12 drawn, 11 positives (index 5 negative): the
    // negative and 3 positives 0, 1, 2 (the positives fill the negatives' share)
    double many[12] = {1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1};
    CHECK_OK(ada_select(&balanced, many, 12, keep, &cut));
    CHECK(cut.n_keep == 4 && cut.pos_kept == 3);
    check_keep(keep, 4, (int[]){0, 1, 2, 5}, "fill with positives");
    // mean 11/12, std = sqrt((11 (1/12)^2 + (11/12)^2) / 11) = sqrt(11/12 / 11) = sqrt(1/12)
    CHECK(fabs(cut.base_mean - 11.0 / 12) < 1e-15 && fabs(cut.base_std - sqrt(1.0 / 12)) < 1e-12);
    // all equal (fallback): the first 4, mean exactly 0.3, std exactly 0
    double eq[12];
    for (int i = 0; i < 12; i++) eq[i] = 0.3;
    CHECK_OK(ada_select(&balanced, eq, 12, keep, &cut));
    CHECK(cut.n_keep == 4 && cut.pos_kept == 0 && cut.base_mean == 0.3 && cut.base_std == 0.0);
    check_keep(keep, 4, (int[]){0, 1, 2, 3}, "all equal");
    // fewer than n drawn (a fallback of a short run): all of them
    double two[2] = {1, 0};
    CHECK_OK(ada_select(&balanced, two, 2, keep, &cut));
    CHECK(cut.n_keep == 2 && cut.pos_kept == 1 && fabs(cut.base_std - sqrt(0.5)) < 1e-12);
    // one sample: std 0
    CHECK_OK(ada_select(&balanced, two, 1, keep, &cut));
    CHECK(cut.n_keep == 1 && cut.base_std == 0 && cut.base_mean == 1);
    // bad arguments
    CHECK(ada_select(&balanced, two, 0, keep, &cut) == RLC_ERR_ARG);
    CHECK(ada_select(&balanced, NULL, 2, keep, &cut) == RLC_ERR_ARG);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    test_parse_and_check();
    test_exit_rules();
    test_cut_and_baseline();
    return test_finish("test_ada");
}
