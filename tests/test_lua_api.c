// test_lua_api.c: the prompt(example) and curriculum(state) calls: strings
// and chat messages, weights by source name and example indices, the sample
// fields reward(sample) sees, and the failures of each with their messages.
#include <string.h>  // strcmp

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

static int load(rlc_script *s, const char *src) {
    int id = -1;
    CHECK_OK(rlc_script_load(s, "api.lua", src, strlen(src), &id));
    return id;
}

static void test_prompt(rlc_script *s) {
    json_t *ex = json_pack("{s:s, s:i}", "question", "What is 2+2?", "level", 3);
    rlc_prompt_result p;
    rlc_script_error err;
    int id = load(s, "function prompt(ex) return 'Q: ' .. ex.question .. ' (level ' .. ex.level .. ')' end");
    CHECK(rlc_script_defines(s, id, "prompt") && !rlc_script_defines(s, id, "reward"));
    CHECK(rlc_script_prompt(s, id, ex, &p, &err) == RLC_SCRIPT_OK);
    CHECK(p.text && strcmp(p.text, "Q: What is 2+2? (level 3)") == 0);
    rlc_prompt_result_clear(&p);

    id = load(s, "function prompt(ex) return { {role='system', content='Think step by step.'},\n"
                 "  {role='user', content=ex.question} } end");
    CHECK(rlc_script_prompt(s, id, ex, &p, &err) == RLC_SCRIPT_OK);
    CHECK(!p.text && p.n_messages == 2);
    if (p.n_messages == 2) {
        CHECK(strcmp(p.messages[0].role, "system") == 0);
        CHECK(strcmp(p.messages[1].content, "What is 2+2?") == 0);
    }
    rlc_prompt_result_clear(&p);

    id = load(s, "function prompt(ex) return { {role='user'} } end");
    CHECK(rlc_script_prompt(s, id, ex, &p, &err) == RLC_SCRIPT_ERR_RESULT);
    CHECK_MSG(strstr(err.msg, "needs string fields role and content"), "%s", err.msg);
    id = load(s, "function prompt(ex) return 42 end");
    CHECK(rlc_script_prompt(s, id, ex, &p, &err) == RLC_SCRIPT_ERR_RESULT);
    CHECK_MSG(strstr(err.msg, "expected a string or a list of messages"), "%s", err.msg);
    id = load(s, "function reward(x) return 1 end");
    CHECK(rlc_script_prompt(s, id, ex, &p, &err) == RLC_SCRIPT_ERR_MISSING);
    json_decref(ex);
}

static void test_curriculum(rlc_script *s) {
    rlc_curriculum_source src[] = {{"gsm8k", 100, 0.9, 0.1, 0, 0}, {"math", 80, 0.3, 0.4, 0, 0}};
    rlc_curriculum_state st = {12, src, 2, NULL};
    rlc_curriculum_result r;
    rlc_script_error err;
    // weights: more where |advantage| is larger (a softmax, as DUMP does)
    int id = load(s,
                  "function curriculum(state)\n"
                  "  local w = {}\n"
                  "  for _, src in ipairs(state.sources) do w[src.name] = math.exp(src.mean_abs_adv / 0.1) end\n"
                  "  return w\n"
                  "end\n");
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK);
    CHECK(r.weights && !r.indices);
    if (r.weights) CHECK(r.weights[1] > r.weights[0] && r.weights[0] > 0);
    rlc_curriculum_result_clear(&r);

    id = load(s, "function curriculum(state) return {state.step, state.step + 1, 3} end");
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK);
    CHECK(r.indices && r.n_indices == 3 && r.indices[0] == 11 && r.indices[1] == 12 && r.indices[2] == 2);
    rlc_curriculum_result_clear(&r);

    id = load(s, "function curriculum(state) return {gsm8k = 1, mmlu = 2} end");
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_ERR_RESULT);
    CHECK_MSG(strstr(err.msg, "unknown source 'mmlu'"), "%s", err.msg);
    id = load(s, "function curriculum(state) return {gsm8k = 0} end");
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_ERR_RESULT);
    CHECK_MSG(strstr(err.msg, "all zero"), "%s", err.msg);
    id = load(s, "function curriculum(state) return {0, 1} end");
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_ERR_RESULT);
    CHECK_MSG(strstr(err.msg, "not an integer >= 1"), "%s", err.msg);
}

// The shipped curricula: uniform.lua and dump_ucb.lua (DUMP's UCB + softmax).
static void test_shipped_curricula(void) {
    char path[1024];
    rlc_script *s;
    CHECK_OK(rlc_script_create(NULL, &s));
    if (!s) return;
    int uni = -1, dump = -1;
    CHECK_OK(rlc_script_load_file(s, test_source(path, sizeof path, "scripts/curricula/uniform.lua"), &uni));
    CHECK_OK(rlc_script_load_file(s, test_source(path, sizeof path, "scripts/curricula/dump_ucb.lua"), &dump));
    // dump_ucb.lua counts a source by seen (samples since the run began)
    rlc_curriculum_source src[] = {{"easy", 400, 0.95, 0.05, 400, 380}, {"hard", 400, 0.40, 0.45, 400, 160}, {"new", 0, 0, 0, 0, 0}};
    rlc_curriculum_state st = {50, src, 3, NULL};
    rlc_curriculum_result r;
    rlc_script_error err;
    CHECK(rlc_script_curriculum(s, uni, &st, &r, &err) == RLC_SCRIPT_OK);
    CHECK(r.weights && r.weights[0] == 1 && r.weights[1] == 1 && r.weights[2] == 1);
    rlc_curriculum_result_clear(&r);
    // an unseen source is explored first
    CHECK_MSG(rlc_script_curriculum(s, dump, &st, &r, &err) == RLC_SCRIPT_OK, "%s", err.msg);
    CHECK(r.weights && r.weights[2] == 1 && r.weights[0] < 1e-10 && r.weights[1] < 1e-10);
    rlc_curriculum_result_clear(&r);
    // then the source with the larger mean |advantage| gets more weight
    st.n_sources = 2;
    CHECK(rlc_script_curriculum(s, dump, &st, &r, &err) == RLC_SCRIPT_OK);
    CHECK(r.weights && r.weights[1] == 1.0 && r.weights[0] < 0.05 && r.weights[0] > 0);
    if (r.weights) printf("dump_ucb weights: easy %.4f hard %.4f\n", r.weights[0], r.weights[1]);
    rlc_curriculum_result_clear(&r);
    rlc_script_free(s);
}

static void test_sample_fields(rlc_script *s) {
    json_t *ex = json_pack("{s:s, s:[i,i], s:{s:b}}", "id", "q7", "list", 1, 2, "meta", "hard", 1);
    rlc_sample sample = {.prompt = "P", .completion = "C", .answer = "A", .example = ex,
                         .finish_reason = "length", .num_tokens = 77};
    int id = load(s,
                  "function reward(s)\n"
                  "  assert(s.prompt == 'P' and s.completion == 'C' and s.answer == 'A')\n"
                  "  assert(s.finish_reason == 'length' and s.num_tokens == 77)\n"
                  "  assert(s.example.id == 'q7' and #s.example.list == 2 and s.example.meta.hard == true)\n"
                  "  return {score = 0.5, ok = true, n = s.num_tokens}\n"
                  "end\n");
    double score = 0;
    rlc_reward_result res = {0};
    rlc_script_error err;
    CHECK(rlc_script_reward(s, id, &sample, &score, &res, "f", &err) == RLC_SCRIPT_OK);
    CHECK(score == 0.5 && res.n_components == 2);
    CHECK(strcmp(res.components[0].name, "f.n") == 0 && res.components[0].value == 77);
    CHECK(strcmp(res.components[1].name, "f.ok") == 0 && res.components[1].value == 1);
    json_decref(ex);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    rlc_script *s;
    CHECK_OK(rlc_script_create(NULL, &s));
    if (!s) return test_finish("test_lua_api");
    test_prompt(s);
    test_curriculum(s);
    test_sample_fields(s);
    rlc_script_free(s);
    test_shipped_curricula();
    return test_finish("test_lua_api");
}
