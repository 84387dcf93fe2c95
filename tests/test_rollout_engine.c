// test_rollout_engine.c: the rollout engine on the real stories260K model
// with its tokenizer and a real Lua reward: every requested sample comes
// back exactly once with its tokens, behaviour log-probs (checked against a
// fresh forward pass), policy versions, decoded text cut at the stop string,
// and the reward the script gives that text; bad requests are refused.
#include <math.h>
#include <string.h>

#include "actor/generate.h"
#include "actor/tokenizer.h"
#include "core/core.h"
#include "rollout/engine.h"
#include "test.h"

#define MAX_EMIT 64

typedef struct {
    uint64_t prompt_id;
    uint32_t index, n;
    int32_t tokens[128];
    float logprobs[128];
    int32_t versions[128];
    double reward;
    rlc_finish_reason finish;
    int n_components;
    double lily;  // the script's named component
} emitted;

static emitted got[MAX_EMIT];
static int n_got;

static void on_emit(void *ud, const rlc_msg_trajectory *t) {
    if (n_got == MAX_EMIT) return;
    emitted *g = &got[n_got++];
    g->prompt_id = t->prompt_id;
    g->index = t->sample_index;
    g->n = t->n_tokens;
    memcpy(g->tokens, t->tokens, sizeof(int32_t) * t->n_tokens);
    memcpy(g->logprobs, t->logprobs, sizeof(float) * t->n_tokens);
    memcpy(g->versions, t->versions, sizeof(int32_t) * t->n_tokens);
    g->reward = t->reward;
    g->finish = t->finish;
    g->n_components = (int)t->n_components;
    g->lily = t->n_components == 1 && strcmp(t->components[0].name, "lily") == 0 ? t->components[0].value : -1;
}

// The reward: 1 for each "Lily" in the completion, plus 0.5 when the
// example's name field appears; as a table with a named component.
static const char *reward_src =
    "function reward(s)\n"
    "  local n = 0\n"
    "  for _ in string.gmatch(s.completion, 'Lily') do n = n + 1 end\n"
    "  local bonus = (s.example and string.find(s.completion, s.example.name, 1, true)) and 0.5 or 0\n"
    "  return {score = n + bonus, lily = n}\n"
    "end\n";

static double expected_reward(const char *text, const char *name) {
    double n = 0;
    for (const char *p = text; (p = strstr(p, "Lily")); p += 4) n++;
    return n + (strstr(text, name) ? 0.5 : 0);
}

int main(void) {
    kernels_set_threads(2);
    char path[1024];
    actor_model *m = NULL;
    tok_tokenizer *tk = NULL;
    CHECK_OK(actor_model_load(test_data(path, sizeof path, "models/stories260K/stories260K.bin"), &m));
    CHECK_OK(tok_load(test_data(path, sizeof path, "models/stories260K/tok512.bin"), &tk));
    if (!m || !tk) return test_finish("test_rollout_engine");

    rlc_reward_func fn = {.source = reward_src, .name = "lily", .weight = 1.0};
    rollout_config cfg = {.n_slots = 6, .max_seq = 160, .reward_threads = 2, .worker_id = "w1"};
    cfg.reward.funcs = &fn;
    cfg.reward.n_funcs = 1;
    rollout_engine *e = NULL;
    CHECK_OK(rollout_engine_create(m, tk, &cfg, &e));
    if (!e) return test_finish("test_rollout_engine");

    // Three prompts x 4 samples on 6 slots: groups queue for slots.
    const char *texts[3] = {"Once upon a time", "Lily and Tom", "The cat"};
    const char *stop[1] = {"."};
    rlc_proto_kv metadata[2] = {{"answer", "none"}, {"example", "{\"name\": \"Tom\"}"}};
    int32_t *prompts[3];
    size_t n_prompt[3];
    for (int p = 0; p < 3; p++) {
        int *ids;
        CHECK_OK(tok_encode(tk, texts[p], strlen(texts[p]), TOK_ENCODE_ADD_SPECIAL, &ids, &n_prompt[p]));
        prompts[p] = ids;
        rlc_msg_prompt_request req = {.prompt_id = 100 + p, .tokens = ids, .n_tokens = (uint32_t)n_prompt[p], .n = 4,
                                      .metadata = metadata, .n_metadata = 2};
        req.sampling = (rlc_proto_sampling){.temperature = 1.0, .top_p = 0.95, .max_new_tokens = 40 + 20 * p,
                                            .seed = 7, .stop = p == 2 ? stop : NULL, .n_stop = p == 2 ? 1 : 0};
        CHECK_OK(rollout_engine_submit(e, &req));
    }

    // Bad requests change nothing.
    int32_t bad_tok[2] = {1, 9999};
    rlc_msg_prompt_request bad = {.prompt_id = 9, .tokens = bad_tok, .n_tokens = 2, .n = 1};
    bad.sampling.max_new_tokens = 4;
    CHECK(rollout_engine_submit(e, &bad) == RLC_ERR_ARG);
    bad.n_tokens = 1, bad.n = 7;
    CHECK(rollout_engine_submit(e, &bad) == RLC_ERR_LIMIT);
    bad.n = 1, bad.sampling.max_new_tokens = 500;
    CHECK(rollout_engine_submit(e, &bad) == RLC_ERR_LIMIT);
    rlc_proto_kv bad_meta = {"example", "{not json"};
    bad.sampling.max_new_tokens = 4, bad.metadata = &bad_meta, bad.n_metadata = 1;
    CHECK(rollout_engine_submit(e, &bad) == RLC_ERR_BAD_MESSAGE);

    int pending = 1, steps = 0;
    while (pending > 0 && steps < 1000) {
        if (steps == 10) rollout_engine_set_version(e, 1);  // a weight swap mid-run
        CHECK_OK(rollout_engine_step(e, on_emit, NULL, &pending));
        steps++;
    }
    CHECK_MSG(n_got == 12, "emitted %d trajectories, expected 12", n_got);

    // Each (prompt, sample) once; texts, rewards, log-probs checked.
    int seen[3][4] = {{0}};
    int saw_v0 = 0, saw_v1 = 0;
    actor_kv *kv = NULL;
    CHECK_OK(actor_kv_create(actor_model_config(m), 1, 200, 200, &kv));
    float *logits = rlc_malloc(sizeof(float) * 200 * 512);
    for (int i = 0; i < n_got; i++) {
        emitted *g = &got[i];
        int p = (int)g->prompt_id - 100;
        CHECK(p >= 0 && p < 3 && g->index < 4);
        if (p < 0 || p >= 3 || g->index >= 4) continue;
        seen[p][g->index]++;
        CHECK(g->n >= 1 && g->n <= (uint32_t)(40 + 20 * p));
        CHECK(g->n_components == 1);  // one function: its named components only
        for (uint32_t t = 0; t < g->n; t++) {
            saw_v0 |= g->versions[t] == 0;
            saw_v1 |= g->versions[t] == 1;
        }
        // Behaviour log-probs against a fresh forward over prompt + completion.
        int seq[256], n = 0;
        for (size_t k = 0; k < n_prompt[p]; k++) seq[n++] = prompts[p][k];
        for (uint32_t k = 0; k < g->n; k++) seq[n++] = g->tokens[k];
        int slots[256] = {0};
        actor_kv_clear(kv, 0);
        CHECK_OK(actor_forward(m, kv, seq, slots, n - 1, NULL, logits));
        double worst = 0;
        for (uint32_t k = 0; k < g->n; k++) {
            const float *row = logits + (size_t)(n_prompt[p] - 1 + k) * 512;
            double lp = row[g->tokens[k]] - kernels_logsumexp(row, 512);
            if (fabs(lp - g->logprobs[k]) > worst) worst = fabs(lp - g->logprobs[k]);
        }
        CHECK_MSG(worst < 1e-4, "prompt %d sample %u: behaviour log-prob off by %g", p, g->index, worst);
        // The text the reward saw: the decoded completion, cut at the stop string.
        char *text;
        size_t len;
        CHECK_OK(tok_decode(tk, g->tokens, g->n, TOK_DECODE_SKIP_SPECIAL, &text, &len));
        if (p == 2 && g->finish == RLC_FINISH_STOP) {
            char *dot = strchr(text, '.');
            CHECK_MSG(dot != NULL, "stopped sample without the stop string: %s", text);
            if (dot) *dot = '\0';
        }
        double want = expected_reward(text, "Tom");
        CHECK(g->lily == floor(want));
        CHECK_MSG(fabs(g->reward - want) < 1e-9, "prompt %d sample %u: reward %g, expected %g for \"%s\"", p,
                  g->index, g->reward, want, text);
        rlc_free(text);
    }
    for (int p = 0; p < 3; p++)
        for (int k = 0; k < 4; k++) CHECK_MSG(seen[p][k] == 1, "prompt %d sample %d emitted %d times", p, k, seen[p][k]);
    CHECK(saw_v0 && saw_v1);
    rollout_stats st;
    rollout_engine_stats(e, &st);
    CHECK(st.prompts == 3 && st.samples == 12 && st.reward_failures == 0);
    printf("rollout engine: %lld samples, %lld tokens, %.3f s generating, %.4f s in rewards\n", st.samples, st.tokens,
           st.generate_s, st.reward_s);
    rlc_free(logits);
    actor_kv_free(kv);
    for (int p = 0; p < 3; p++) rlc_free(prompts[p]);
    rollout_engine_free(e);
    tok_free(tk);
    actor_model_free(m);
    return test_finish("test_rollout_engine");
}
