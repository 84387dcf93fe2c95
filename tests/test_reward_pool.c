// test_reward_pool.c: the reward thread pool under load: 2 and 4 threads give
// the same scores as one, failures (a budget overrun on every 7th sample, a
// script error on every 11th) are scored with the failure score and counted
// once per reason, across several batches.
#include <string.h>  // strcmp

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

#define N 1200

static const char *src =
    "function reward(s)\n"
    "  local i = s.example.i\n"
    "  if i % 7 == 0 then while true do end end\n"
    "  if i % 11 == 0 then error('eleven') end\n"
    "  local t = {}\n"
    "  for w in s.completion:gmatch('%d+') do t[#t + 1] = tonumber(w) end\n"
    "  return (rlc.math.grade(s.completion, s.answer) and 1 or 0) + #t / 100\n"
    "end\n";

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    static json_t *ex[N];
    static char text[N][96], ans[N][16];
    static rlc_sample samples[N];
    for (int i = 0; i < N; i++) {
        ex[i] = json_pack("{s:i}", "i", i);
        snprintf(text[i], sizeof text[i], "She has %d apples and buys %d more, so \\boxed{%d}.", i, i % 5,
                 i + i % 5 + (i % 3 == 0));
        snprintf(ans[i], sizeof ans[i], "%d", i + i % 5);
        samples[i] = (rlc_sample){.completion = text[i], .answer = ans[i], .example = ex[i], .num_tokens = 20};
    }
    rlc_reward_func f = {.source = src, .name = "load", .weight = 1.0};
    rlc_lua_limits lim = {200000, 16u << 20, 30.0};  // the wall limit generous: only the instruction budget may fail a call
    rlc_reward_config cfg = {&f, 1, lim, -1.0};
    static rlc_reward_result ref[N], got[N];
    long expect_fail = 0, expect_budget = 0;
    for (int i = 0; i < N; i++) {
        expect_budget += i % 7 == 0;
        expect_fail += i % 7 == 0 || i % 11 == 0;
    }
    for (int threads = 1; threads <= 4; threads *= 2) {
        rlc_reward_errors *errs = rlc_reward_errors_create();
        rlc_reward_pool *pool = NULL;
        CHECK_OK(rlc_reward_pool_create(&cfg, threads, errs, &pool));
        if (!pool) break;
        double t0 = rlc_now();
        for (int batch = 0; batch < 3; batch++) rlc_reward_pool_score(pool, samples, N, threads == 1 ? ref : got);
        double dt = rlc_now() - t0;
        printf("%d thread(s): %d samples x 3 batches in %.3f s\n", threads, N, dt);
        if (threads > 1)
            for (int i = 0; i < N; i++)
                CHECK_MSG(got[i].score == ref[i].score && got[i].failed == ref[i].failed,
                          "sample %d: %g vs %g", i, got[i].score, ref[i].score);
        long fails = 0;
        for (int i = 0; i < N; i++) fails += (threads == 1 ? ref : got)[i].failed;
        CHECK_MSG(fails == expect_fail, "%ld failures, expected %ld", fails, expect_fail);
        CHECK(rlc_reward_errors_total(errs) == 3 * expect_fail);
        rlc_script_error err;
        long count;
        int reasons = 0;
        for (int k = 0; rlc_reward_errors_get(errs, k, &err, &count); k++) {
            reasons++;
            if (err.kind == RLC_SCRIPT_ERR_BUDGET) CHECK(count == 3 * expect_budget);
            printf("  %ld x %s: %s\n", count, rlc_script_fail_name(err.kind), err.msg);
        }
        CHECK_MSG(reasons == 2, "%d distinct reasons", reasons);
        rlc_reward_pool_free(pool);
        rlc_reward_errors_free(errs);
    }
    CHECK(ref[0].score == -1.0 && ref[1].score == 1.03 && ref[3].failed == 0);
    for (int i = 0; i < N; i++) json_decref(ex[i]);
    return test_finish("test_reward_pool");
}
