// test_gen_groups.c: the n samples of a prompt share one prefill. Each
// sample of a group must produce exactly what the same prompt produces when
// generated alone with that sample's seed (actor_sample_seed): the copied
// cache and the shared logits row change nothing. Groups queue first come
// first served when slots are short, and a group larger than the slots is
// refused. Also: the policy version tag and the weight pointer swap.
#include <math.h>
#include <string.h>

#include "actor/generate.h"
#include "core/core.h"
#include "test.h"

#define MAX_TOK 64
#define N_SEQ 16

typedef struct {
    int tokens[N_SEQ][MAX_TOK];
    float logprobs[N_SEQ][MAX_TOK];
    int n[N_SEQ];
    int versions[N_SEQ][MAX_TOK];
    actor_gen *g;
} record;

static int on_token(void *ud, int seq, int tok, float lp, actor_finish why) {
    record *r = ud;
    r->tokens[seq][r->n[seq]] = tok;
    r->logprobs[seq][r->n[seq]] = lp;
    r->versions[seq][r->n[seq]++] = actor_gen_version(r->g);
    return 0;
}

static void run_all(actor_gen *g, record *r) {
    int pending = 1;
    r->g = g;
    while (pending > 0) {
        rlc_status s = actor_gen_step(g, on_token, r, &pending);
        CHECK_OK(s);
        if (s != RLC_OK) return;
    }
}

static actor_model *tiny_model(void) {
    actor_config c = {0};
    snprintf(c.model_type, sizeof c.model_type, "llama");
    c.vocab_size = 61, c.hidden_size = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2;
    c.head_dim = 8, c.intermediate_size = 48, c.max_position = 256, c.rms_eps = 1e-5f;
    c.rope_theta = 10000.0f, c.bos_id = 1, c.n_eos = 1, c.eos_ids[0] = 60;
    actor_model *m = NULL;
    CHECK_OK(actor_model_create(&c, &m));
    if (m) actor_model_init_random(m, 7, 0.3f);
    return m;
}

int main(void) {
    kernels_set_threads(2);
    actor_model *m = tiny_model();
    if (!m) return test_finish("test_gen_groups");
    const int prompt[] = {1, 5, 9, 13, 2, 40, 33};
    const int n_prompt = 7, n_samples = 4;
    actor_sampling sp = actor_sampling_default();
    sp.temperature = 0.9f, sp.top_p = 0.95f, sp.seed = 1234, sp.max_new_tokens = 20;

    // The group, with 6 slots: one prefill, 4 copies.
    static record grouped, alone;
    actor_gen *g;
    CHECK_OK(actor_gen_create(m, 6, 64, &g));
    int first;
    CHECK_OK(actor_gen_add_group(g, prompt, n_prompt, n_samples, &sp, &first));
    CHECK(first == 0);
    run_all(g, &grouped);
    long long pt, dt;
    double ps, ds;
    actor_gen_stats(g, &pt, &ps, &dt, &ds);
    CHECK_MSG(pt == n_prompt, "prefilled %lld prompt tokens, expected %d (shared once)", pt, n_prompt);
    actor_gen_free(g);

    // Each sample alone, with its derived seed.
    CHECK_OK(actor_gen_create(m, 1, 64, &g));
    for (int i = 0; i < n_samples; i++) {
        actor_sampling si = sp;
        si.seed = actor_sample_seed(sp.seed, i);
        int id;
        CHECK_OK(actor_gen_add(g, prompt, n_prompt, &si, &id));
    }
    run_all(g, &alone);
    actor_gen_free(g);
    int distinct = 0;
    for (int i = 0; i < n_samples; i++) {
        CHECK_MSG(grouped.n[i] == alone.n[i], "sample %d: %d tokens grouped, %d alone", i, grouped.n[i], alone.n[i]);
        for (int t = 0; t < grouped.n[i] && t < alone.n[i]; t++) {
            if (grouped.tokens[i][t] != alone.tokens[i][t] ||
                fabsf(grouped.logprobs[i][t] - alone.logprobs[i][t]) > 1e-5f) {
                CHECK_MSG(0, "sample %d token %d: %d (%g) grouped vs %d (%g) alone", i, t, grouped.tokens[i][t],
                          grouped.logprobs[i][t], alone.tokens[i][t], alone.logprobs[i][t]);
                break;
            }
        }
        if (i > 0 && memcmp(grouped.tokens[i], grouped.tokens[0], sizeof(int) * MAX_TOK) != 0) distinct = 1;
    }
    CHECK_MSG(distinct, "all samples of the group are identical: the RNG streams are not independent");

    // Slots for one group at a time: two groups queue and both complete; a
    // group larger than the slots is refused.
    static record queued;
    CHECK_OK(actor_gen_create(m, 4, 64, &g));
    CHECK_OK(actor_gen_add_group(g, prompt, n_prompt, 4, &sp, &first));
    CHECK_OK(actor_gen_add_group(g, prompt + 1, n_prompt - 1, 3, &sp, &first));
    CHECK(first == 4);
    CHECK(actor_gen_add_group(g, prompt, n_prompt, 5, &sp, &first) == RLC_ERR_LIMIT);
    run_all(g, &queued);
    for (int i = 0; i < 4; i++)
        CHECK_MSG(memcmp(queued.tokens[i], grouped.tokens[i], sizeof(int) * (size_t)grouped.n[i]) == 0,
                  "queued run, sample %d differs", i);
    for (int i = 4; i < 7; i++) CHECK(queued.n[i] > 0);
    actor_gen_free(g);

    // Versions: tokens sampled after a weight swap between steps carry the
    // new version; a parameter set of another shape is refused.
    static record swapped;
    actor_params other;
    CHECK_OK(actor_params_create(actor_model_config(m), &other));
    memcpy(other.data, actor_model_params(m)->data, sizeof(float) * other.numel);
    for (size_t i = 0; i < other.numel; i++) other.data[i] *= 1.5f;
    actor_sampling greedy = sp;
    greedy.temperature = 0.0f;
    CHECK_OK(actor_gen_create(m, 2, 64, &g));
    CHECK_OK(actor_gen_add(g, prompt, n_prompt, &greedy, &first));
    swapped.g = g;
    int pending;
    for (int step = 0; step < 3; step++) CHECK_OK(actor_gen_step(g, on_token, &swapped, &pending));
    CHECK_OK(actor_model_swap_params(m, &other));
    actor_gen_set_version(g, 1);
    while (pending > 0 && actor_gen_step(g, on_token, &swapped, &pending) == RLC_OK) {}
    CHECK(swapped.versions[0][0] == 0 && swapped.versions[0][2] == 0);
    CHECK(swapped.n[0] > 3 && swapped.versions[0][3] == 1);
    actor_gen_free(g);
    actor_params bad;
    actor_config small = *actor_model_config(m);
    small.n_layers = 1;
    CHECK_OK(actor_params_create(&small, &bad));
    CHECK(actor_model_swap_params(m, &bad) == RLC_ERR_ARG);
    actor_params_free(&bad);
    actor_params_free(&other);
    actor_model_free(m);
    return test_finish("test_gen_groups");
}
