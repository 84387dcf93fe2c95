// test_rl_pool.c: a prompt's pool of trajectories (learner/rl_pool.h): two
// rounds appended (the arrays grow and move), then the cut; every kept
// trajectory keeps its tokens, reward and named components, and points at
// the pool's prompt and component arrays.
#include <string.h>  // strcmp

#include "core/core.h"
#include "learner/rl_pool.h"
#include "test.h"

// A round of n trajectories: trajectory i of round `round` has reward
// 10 * round + i, tokens {round, i, i}, and components {"r": reward, "i": i}.
static void make_round(lsrv_traj *tr, int32_t tok[][3], int32_t ver[][3], float lp[][3], int n, int round) {
    for (int i = 0; i < n; i++) {
        memset(&tr[i], 0, sizeof tr[i]);
        tok[i][0] = round, tok[i][1] = i, tok[i][2] = i;
        for (int k = 0; k < 3; k++) ver[i][k] = 0, lp[i][k] = -0.5f * (float)k;
        tr[i] = (lsrv_traj){.sample_index = (uint32_t)i, .tokens = tok[i], .logprobs = lp[i], .versions = ver[i],
                            .n = 3, .reward = 10.0 * round + i, .n_components = 2};
        snprintf(tr[i].components[0].name, 48, "r");
        tr[i].components[0].value = tr[i].reward;
        snprintf(tr[i].components[1].name, 48, "i");
        tr[i].components[1].value = i;
    }
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    int32_t prompt[4] = {7, 8, 9, 10};
    rl_pool p = {.prompt_id = 1, .source = 0};
    enum { M = 6 };  // 6 per round: the first round fits the initial room (8), the second grows it
    lsrv_traj tr[M];
    int32_t tok[M][3], ver[M][3];
    float lp[M][3];
    for (int round = 0; round < 2; round++) {
        make_round(tr, tok, ver, lp, M, round);
        lsrv_group g = {.prompt_id = (uint64_t)(1 + round), .prompt = prompt, .n_prompt = 4, .n = M, .trajs = tr};
        CHECK_OK(rl_pool_append(&p, &g));
    }
    CHECK(p.n == 2 * M && p.cap >= 2 * M && p.n_prompt == 4);
    for (int i = 0; i < p.n; i++) {
        const rlc_msg_trajectory *t = &p.trajs[i];
        int round = i / M, k = i % M;
        CHECK_MSG(t->reward == 10.0 * round + k && t->tokens[0] == round && t->tokens[1] == k && t->n_tokens == 3,
                  "trajectory %d: reward %g tokens %d %d", i, t->reward, t->tokens[0], t->tokens[1]);
        CHECK(t->prompt_tokens == p.prompt && t->prompt_tokens[3] == 10);
        CHECK(t->n_components == 2 && strcmp(t->components[0].name, "r") == 0 && t->components[0].value == t->reward &&
              strcmp(t->components[1].name, "i") == 0 && t->components[1].value == k);
    }
    // keep 1, 4, 6, 11: rewards 1, 4, 10, 15
    const int keep[4] = {1, 4, 6, 11};
    const double want[4] = {1, 4, 10, 15};
    rl_pool_cut(&p, keep, 4);
    CHECK(p.n == 4);
    for (int i = 0; i < p.n; i++) {
        const rlc_msg_trajectory *t = &p.trajs[i];
        CHECK_MSG(t->reward == want[i] && t->tokens && t->tokens[0] == keep[i] / M && t->tokens[1] == keep[i] % M,
                  "kept %d: reward %g", i, t->reward);
        CHECK(t->components == p.comps + (size_t)i * LSRV_MAX_COMPONENTS);
        CHECK(strcmp(t->components[0].name, "r") == 0 && t->components[0].value == want[i] &&
              t->components[1].value == keep[i] % M);
        CHECK(t->prompt_tokens == p.prompt);
    }
    rl_pool_free(&p);
    CHECK(p.n == 0 && !p.trajs && !p.prompt);
    return test_finish("test_rl_pool");
}
