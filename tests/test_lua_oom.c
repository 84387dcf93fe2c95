// test_lua_oom.c: allocation failures everywhere. The Nth allocation fails
// (rlc_alloc_fail_after) for every N through creating a reward, loading its
// script and scoring samples: each step either works or reports an error,
// nothing crashes, and with allocation restored everything works again.
#include <string.h>  // strlen

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

static const char *src =
    "function reward(s)\n"
    "  local t = {}\n"
    "  for w in s.completion:gmatch('%S+') do t[#t + 1] = w:upper() end\n"
    "  return {score = rlc.math.grade(s.completion, s.answer) and 1 or 0, words = #t}\n"
    "end\n";

int main(void) {
    rlc_log_set_level(RLC_LOG_OFF);
    rlc_sample sample = {.completion = "so the total is \\boxed{\\frac{1}{2}} apples", .answer = "0.5"};
    rlc_reward_func f = {.source = src, .name = "oom", .weight = 1.0};
    rlc_reward_config cfg = {&f, 1, rlc_lua_default_limits(), -1.0};
    int created = 0, scored_ok = 0, first_full = -1;
    for (long n = 0; n < 4000; n++) {
        rlc_alloc_fail_after(n);
        rlc_reward *r = NULL;
        rlc_status st = rlc_reward_create(&cfg, NULL, &r);
        if (st == RLC_OK) {
            created++;
            rlc_reward_result res;
            for (int k = 0; k < 3; k++) {
                rlc_reward_score(r, &sample, &res);
                CHECK(res.score == 1.0 || (res.failed && res.score == -1.0));
                scored_ok += !res.failed;
            }
            if (first_full < 0 && !res.failed) first_full = (int)n;
        } else {
            CHECK_MSG(st == RLC_ERR_NOMEM || st == RLC_ERR_LUA, "n=%ld: %s", n, rlc_status_name(st));
        }
        rlc_reward_free(r);
        rlc_alloc_fail_after(-1);
        if (first_full >= 0 && n > first_full + 50) break;
    }
    printf("reward created under %d failure points; first fully working at allocation %d\n", created,
           first_full);
    CHECK(created > 0 && first_full > 0);
    // and afterwards everything works
    rlc_reward *r = NULL;
    CHECK_OK(rlc_reward_create(&cfg, NULL, &r));
    if (r) {
        rlc_reward_result res;
        rlc_reward_score(r, &sample, &res);
        CHECK(res.score == 1.0 && !res.failed);
        rlc_reward_free(r);
    }
    return test_finish("test_lua_oom");
}
