// test_eval_compare.c: the paired comparison of two evaluations
// (learner/eval_compare.h): the exact sign test against binomial tails
// computed with Python's math.comb, the counts, mean change and paired
// standard error against values worked out by hand, and the reader of
// `rlc eval --out` files on real files, good and bad.
#include <math.h>    // fabs, sqrt, NAN
#include <stdio.h>   // fopen, fputs
#include <stdlib.h>  // system
#include <string.h>  // strstr

#include "core/core.h"
#include "learner/eval_compare.h"
#include "test.h"

#define WORK "test_eval_compare_work"

static void test_sign_test(void) {
    // min(1, 2 * sum_{j <= min(k, n-k)} C(n, j) / 2^n), from math.comb
    static const struct {
        int k, n;
        double p;
    } cases[] = {
        {18, 83, 2.1054542433593654e-07}, {65, 83, 2.1054542433593654e-07}, {0, 5, 0.0625},
        {1, 10, 0.021484375},             {5, 10, 1.0},                     {0, 1, 1.0},
        {300, 1000, 1.7665678007950136e-37},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double p = lrn_eval_sign_test(cases[i].k, cases[i].n);
        CHECK_MSG(fabs(p - cases[i].p) <= 1e-9 * cases[i].p, "sign test k %d n %d: %.17g, want %.17g", cases[i].k,
                  cases[i].n, p, cases[i].p);
    }
    CHECK(lrn_eval_sign_test(0, 0) == 1.0);  // nothing changed
}

static void test_compare(void) {
    // Greedy: example 1 and 3 fixed, 2 broken. d = {0, 1, -1, 1, 0}: mean 0.2,
    // sample variance (3 - 5 * 0.04) / 4 = 0.7, se sqrt(0.7 / 5); 2 of 3
    // changed better: p = min(1, 2 * (1 + 3) / 8) = 1.
    double a[] = {1, 0, 1, 0, 1}, b[] = {1, 1, 0, 1, 1};
    lrn_eval_paired r;
    CHECK_OK(lrn_eval_compare(a, b, 5, &r));
    CHECK(r.n == 5 && r.better == 2 && r.worse == 1);
    CHECK(fabs(r.mean_a - 0.6) < 1e-12 && fabs(r.mean_b - 0.8) < 1e-12 && fabs(r.diff - 0.2) < 1e-12);
    CHECK_MSG(fabs(r.se - sqrt(0.7 / 5)) < 1e-12, "se %.17g", r.se);
    CHECK(r.p_sign == 1.0);

    // Sampled accuracies: one example better by 0.5, one unchanged.
    double sa[] = {0.5, 0.25}, sb[] = {1.0, 0.25};
    CHECK_OK(lrn_eval_compare(sa, sb, 2, &r));
    CHECK(r.better == 1 && r.worse == 0 && fabs(r.diff - 0.25) < 1e-12);
    CHECK_MSG(fabs(r.se - 0.25) < 1e-12, "se %.17g", r.se);  // d = {0.5, 0}: variance 0.125, se sqrt(0.125 / 2)
    CHECK(r.p_sign == 1.0);                                    // 1 of 1: 2 * 1/2

    // One example: no spread to measure.
    CHECK_OK(lrn_eval_compare(a + 1, b + 1, 1, &r));  // 0 -> 1
    CHECK(r.better == 1 && r.se == 0);

    double bad[] = {0, 1.5}, nan_[] = {NAN, 0};
    CHECK(lrn_eval_compare(a, b, 0, &r) == RLC_ERR_ARG);
    CHECK(lrn_eval_compare(a, bad, 2, &r) == RLC_ERR_ARG && strstr(rlc_last_error(), "example 1"));
    CHECK(lrn_eval_compare(nan_, b, 2, &r) == RLC_ERR_ARG && strstr(rlc_last_error(), "example 0"));
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

// Reads `text` as an --out file of n examples; the status, and acc.
static rlc_status read_text(const char *text, int n, double *acc) {
    write_file(WORK "/out.jsonl", text);
    return lrn_eval_read_accuracy(WORK "/out.jsonl", n, acc);
}

static void test_read(void) {
    double acc[3];
    // What `rlc eval --out` writes (with sampled runs' several samples an
    // example, in the order they finish), and a blank line.
    const char *good = "{\"example\": 2, \"sample\": 0, \"correct\": true, \"tokens\": 5, \"finish\": \"stop\", "
                       "\"completion\": \"#### 4\"}\n"
                       "{\"example\": 0, \"sample\": 1, \"correct\": false, \"tokens\": 5, \"finish\": \"stop\", "
                       "\"completion\": \"#### 5\"}\n"
                       "\n"
                       "{\"example\": 0, \"sample\": 0, \"correct\": true, \"tokens\": 5, \"finish\": \"length\", "
                       "\"completion\": \"1 + \"}\n"
                       "{\"example\": 1, \"sample\": 0, \"correct\": false, \"tokens\": 5, \"finish\": \"stop\", "
                       "\"completion\": \"#### 5\"}\n";
    CHECK_OK(read_text(good, 3, acc));
    CHECK(acc[0] == 0.5 && acc[1] == 0 && acc[2] == 1);
    CHECK(read_text(good, 2, acc) == RLC_ERR_FORMAT);  // example 2 of 2 examples
    CHECK(strstr(rlc_last_error(), WORK "/out.jsonl:1") && strstr(rlc_last_error(), "example 2 is outside"));

    CHECK(read_text("{\"example\": 0, \"correct\": true}\n", 2, acc) == RLC_ERR_FORMAT);
    CHECK_MSG(strstr(rlc_last_error(), "no record for example 1"), "%s", rlc_last_error());
    CHECK(read_text("{\"example\": 0, \"correct\": true}\nnot json\n", 1, acc) == RLC_ERR_FORMAT);
    CHECK_MSG(strstr(rlc_last_error(), WORK "/out.jsonl:2"), "%s", rlc_last_error());
    CHECK(read_text("{\"example\": 0, \"correct\": 1}\n", 1, acc) == RLC_ERR_FORMAT);
    CHECK_MSG(strstr(rlc_last_error(), ":1") && strstr(rlc_last_error(), "\"correct\""), "%s", rlc_last_error());
    CHECK(read_text("{\"correct\": true}\n", 1, acc) == RLC_ERR_FORMAT);
    CHECK_MSG(strstr(rlc_last_error(), "example"), "%s", rlc_last_error());
    CHECK(read_text("{\"example\": -1, \"correct\": true}\n", 1, acc) == RLC_ERR_FORMAT);
    CHECK(read_text("", 1, acc) == RLC_ERR_FORMAT);  // empty: example 0 has no record
    CHECK(lrn_eval_read_accuracy(WORK "/missing.jsonl", 1, acc) == RLC_ERR_IO);
    CHECK_MSG(strstr(rlc_last_error(), "missing.jsonl"), "%s", rlc_last_error());
    CHECK(lrn_eval_read_accuracy(WORK "/out.jsonl", 0, acc) == RLC_ERR_ARG);
}

int main(void) {
    if (system("rm -rf " WORK " && mkdir -p " WORK) != 0) TEST_SKIP("cannot make " WORK);
    test_sign_test();
    test_compare();
    test_read();
    return test_finish("test_eval_compare");
}
