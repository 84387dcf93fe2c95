// test_math_grading.c: rlc.math against math-verify on the grading corpus
// (tests/data/grading/corpus.jsonl, made by scripts/make_grading_corpus.py).
// Passes when the verdicts agree on at least 99% of the pairs; prints every
// disagreement (docs/grading.md explains those where rlc is right).
#include <stdio.h>   // fopen, fgets
#include <string.h>  // strcmp

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

int main(void) {
    char path[1024];
    test_source(path, sizeof path, "tests/data/grading/corpus.jsonl");
    FILE *f = fopen(path, "r");
    if (!f) TEST_SKIP("no corpus at %s", path);
    static char line[1 << 16];
    long n = 0, agree = 0, lineno = 0;
    double t0 = rlc_now();
    while (fgets(line, sizeof line, f)) {
        lineno++;
        json_t *j;
        if (rlc_json_load_buffer(line, strlen(line), "corpus.jsonl", &j) != RLC_OK) {
            CHECK_MSG(0, "line %ld: %s", lineno, rlc_last_error());
            continue;
        }
        if (lineno == 1) {
            const char *magic = json_string_value(json_object_get(j, "magic"));
            CHECK_MSG(magic && strcmp(magic, "rlc-grading-corpus") == 0 &&
                          json_integer_value(json_object_get(j, "version")) == 1,
                      "corpus header: expected magic rlc-grading-corpus version 1 "
                      "(regenerate with scripts/make_grading_corpus.py)");
            json_decref(j);
            continue;
        }
        const char *ref = json_string_value(json_object_get(j, "ref"));
        const char *text = json_string_value(json_object_get(j, "text"));
        const char *rule = json_string_value(json_object_get(j, "rule"));
        int verdict = json_is_true(json_object_get(j, "verdict"));
        if (!ref || !text) {
            CHECK_MSG(0, "line %ld: missing ref or text", lineno);
            json_decref(j);
            continue;
        }
        char ans[512];
        rlc_math_extract(text, ans, sizeof ans);
        int got = rlc_math_grade(text, ref);
        n++;
        if (got == verdict) {
            agree++;
        } else {
            printf("disagree line %ld [%s] ref=%s | extracted=%s | rlc=%d math-verify=%d | %s\n", lineno,
                   rule ? rule : "?", ref, ans, got, verdict, text);
        }
        json_decref(j);
    }
    fclose(f);
    double rate = n ? (double)agree / (double)n : 0;
    printf("agreement with math-verify: %ld of %ld (%.2f%%), %.0f pairs/s\n", agree, n, 100 * rate,
           (double)n / (rlc_now() - t0));
    CHECK_MSG(n > 1000, "corpus too small: %ld pairs", n);
    CHECK_MSG(rate >= 0.99, "agreement %.4f < 0.99", rate);
    return test_finish("test_math_grading");
}
