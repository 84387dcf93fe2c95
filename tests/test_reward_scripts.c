// test_reward_scripts.c: the shipped reward scripts (scripts/rewards/) on real
// samples: GSM8K test solutions and MATH-500 solutions score 1 as completions
// of their own problems and 0 with a wrong final answer; format.lua and
// length.lua (DAPO's soft overlong penalty) on exact cases; weighted sums.
#include <math.h>    // fabs
#include <string.h>  // strrchr

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

#define N_RECORDS 60

static rlc_reward *make(const char *script, rlc_reward_errors *errs) {
    char path[1024];
    test_source(path, sizeof path, script);
    rlc_reward_func f = {.path = path, .weight = 1.0};
    rlc_reward_config cfg = {&f, 1, rlc_lua_default_limits(), 0.0};
    rlc_reward *r = NULL;
    CHECK_OK(rlc_reward_create(&cfg, errs, &r));
    return r;
}

static double score(rlc_reward *r, const rlc_sample *s) {
    rlc_reward_result res;
    rlc_reward_score(r, s, &res);
    CHECK_MSG(!res.failed, "a shipped script failed");
    return res.score;
}

// Reads up to max JSONL records.
static int read_jsonl(const char *path, json_t **recs, int max) {
    char *buf;
    size_t len;
    if (rlc_read_file(path, &buf, &len) != RLC_OK) return 0;
    int n = 0;
    for (char *p = buf; *p && n < max;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l && rlc_json_load_buffer(p, l, path, &recs[n]) == RLC_OK) n++;
        p += l + (e != NULL);
    }
    rlc_free(buf);
    return n;
}

static void test_gsm8k(void) {
    char path[1024];
    json_t *recs[N_RECORDS];
    int n = read_jsonl(test_data(path, sizeof path, "gsm8k/test.jsonl"), recs, N_RECORDS);
    CHECK_MSG(n == N_RECORDS, "read %d GSM8K records", n);
    rlc_reward *r = make("scripts/rewards/gsm8k.lua", NULL);
    rlc_reward *c = make("scripts/rewards/combined.lua", NULL);
    if (!r || !c) return;
    int right = 0, wrong = 0;
    for (int i = 0; i < n; i++) {
        const char *sol = json_string_value(json_object_get(recs[i], "answer"));
        rlc_sample s = {.prompt = json_string_value(json_object_get(recs[i], "question")),
                        .completion = sol, .answer = sol, .example = recs[i], .num_tokens = 200};
        right += score(r, &s) == 1.0;
        // the same solution with the final number changed
        char bad[8192];
        const char *h = strstr(sol, "####");
        snprintf(bad, sizeof bad, "%.*s#### %ld", (int)(h - sol), sol, strtol(h + 4, NULL, 10) + 1);
        s.completion = bad;
        wrong += score(r, &s) == 0.0;
        // combined: accuracy 1, no <think> format, no overlong penalty at 200 tokens
        s.completion = sol;
        rlc_reward_result res;
        rlc_reward_score(c, &s, &res);
        CHECK_MSG(res.score == 1.0 && res.n_components == 3, "combined: %g with %d components", res.score,
                  res.n_components);
    }
    printf("gsm8k.lua: %d of %d solutions score 1, %d of %d altered ones score 0\n", right, n, wrong, n);
    CHECK(right == n && wrong == n);
    rlc_reward_free(r);
    rlc_reward_free(c);
    for (int i = 0; i < n; i++) json_decref(recs[i]);
}

static void test_math(void) {
    char path[1024];
    json_t *recs[N_RECORDS];
    int n = read_jsonl(test_data(path, sizeof path, "math/math500_test.jsonl"), recs, N_RECORDS);
    CHECK_MSG(n == N_RECORDS, "read %d MATH-500 records", n);
    rlc_reward *r = make("scripts/rewards/math.lua", NULL);
    if (!r) return;
    int right = 0, wrong = 0;
    for (int i = 0; i < n; i++) {
        const char *sol = json_string_value(json_object_get(recs[i], "solution"));
        const char *ans = json_string_value(json_object_get(recs[i], "answer"));
        rlc_sample s = {.completion = sol, .answer = ans, .example = recs[i], .num_tokens = -1};
        double v = score(r, &s);
        if (v != 1.0) printf("  math.lua scored %g: answer %s\n", v, ans);
        right += v == 1.0;
        s.completion = "so the answer is $\\boxed{\\frac{123}{457}}$";
        wrong += score(r, &s) == 0.0;
    }
    printf("math.lua: %d of %d solutions score 1, %d of %d wrong answers score 0\n", right, n, wrong, n);
    CHECK(right >= n - 1 && wrong == n);
    rlc_reward_free(r);
    for (int i = 0; i < n; i++) json_decref(recs[i]);
}

static void test_format_length(void) {
    rlc_reward *f = make("scripts/rewards/format.lua", NULL);
    rlc_reward *l = make("scripts/rewards/length.lua", NULL);
    if (!f || !l) return;
    static const struct {
        const char *text;
        double want;
    } fcases[] = {
        {"<think>2+2 is 4</think> The answer is 4.", 1},
        {"  <think>\nstep\n</think>\n\\boxed{4}", 1},
        {"The answer is 4.", 0},
        {"<think>no answer after</think>   ", 0},
        {"<think>a</think><think>b</think> 4", 0},
        {"4 <think>late</think> 4", 0},
    };
    for (size_t i = 0; i < sizeof fcases / sizeof fcases[0]; i++) {
        rlc_sample s = {.completion = fcases[i].text, .num_tokens = -1};
        double v = score(f, &s);
        CHECK_MSG(v == fcases[i].want, "format.lua(%s) = %g, want %g", fcases[i].text, v, fcases[i].want);
    }
    // L_max 1024, buffer 256: no penalty up to 768 tokens, then linear down to -1 at 1024
    static const struct {
        long n;
        double want;
    } lcases[] = {{0, 0}, {768, 0}, {769, -1.0 / 256}, {896, -0.5}, {1024, -1.0}};
    for (size_t i = 0; i < sizeof lcases / sizeof lcases[0]; i++) {
        rlc_sample s = {.completion = "x", .num_tokens = lcases[i].n};
        double v = score(l, &s);
        CHECK_MSG(fabs(v - lcases[i].want) < 1e-12, "length.lua(%ld) = %g, want %g", lcases[i].n, v,
                  lcases[i].want);
    }
    rlc_reward_free(f);
    rlc_reward_free(l);
}

// Several scripts with weights: the score is the weighted sum, each function's
// score is a component, and a failing function counts as the failure score.
static void test_weighted(void) {
    char p1[1024], p2[1024], p3[1024];
    rlc_reward_func funcs[] = {
        {.path = test_source(p1, sizeof p1, "scripts/rewards/gsm8k.lua"), .weight = 1.0},
        {.path = test_source(p2, sizeof p2, "scripts/rewards/format.lua"), .weight = 0.5},
        {.path = test_source(p3, sizeof p3, "scripts/rewards/length.lua"), .weight = 2.0},
        {.source = "function reward(s) error('always') end", .name = "broken", .weight = 1.0},
    };
    rlc_reward_errors *errs = rlc_reward_errors_create();
    rlc_reward_config cfg = {funcs, 4, rlc_lua_default_limits(), -0.25};
    rlc_reward *r = NULL;
    CHECK_OK(rlc_reward_create(&cfg, errs, &r));
    if (!r) return;
    rlc_sample s = {.completion = "<think>9*2</think> #### 18", .answer = "#### 18", .num_tokens = 896};
    rlc_reward_result res;
    for (int i = 0; i < 5; i++) rlc_reward_score(r, &s, &res);
    double want = 1.0 * 1 + 0.5 * 1 + 2.0 * -0.5 + 1.0 * -0.25;
    CHECK_MSG(fabs(res.score - want) < 1e-12, "weighted sum %g, want %g", res.score, want);
    CHECK(res.failed == 1 && res.n_components == 4);
    CHECK(strcmp(res.components[0].name, "gsm8k") == 0 && res.components[0].value == 1);
    CHECK(strcmp(res.components[3].name, "broken") == 0 && res.components[3].value == -0.25);
    rlc_script_error err;
    long count = 0;
    CHECK(rlc_reward_errors_get(errs, 0, &err, &count) && count == 5);
    CHECK_MSG(strstr(err.msg, "[broken] broken.lua:1: always") != NULL, "reason: %s", err.msg);
    CHECK(!rlc_reward_errors_get(errs, 1, NULL, NULL));
    rlc_reward_free(r);
    rlc_reward_errors_free(errs);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    char path[1024];
    if (!rlc_file_exists(test_data(path, sizeof path, "gsm8k/test.jsonl"))) TEST_SKIP("no data at %s", path);
    test_gsm8k();
    test_math();
    test_format_length();
    test_weighted();
    return test_finish("test_reward_scripts");
}
