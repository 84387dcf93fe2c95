// tiny_policy.h: the tiny random Llama that the learner-step tests
// (test_grpo.c, test_ppo.c) train, the KV-cached decoder's log-probs they
// check the updates against, their random numbers and their random groups. Header-only (each
// test is one file); the including test defines VOCAB, MAXP and MAXC (the
// most prompt and completion tokens of a sample) first, and creates g_kv
// (one KV-cache slot) before calling seq_probs.
#ifndef RLC_TESTS_TINY_POLICY_H
#define RLC_TESTS_TINY_POLICY_H

#include <math.h>    // exp, log, fmax
#include <stdint.h>  // int32_t, uint64_t
#include <stdio.h>   // snprintf
#include <string.h>  // memset

#include "actor/model.h"  // actor_model_create, actor_forward, actor_kv
#include "test.h"

// A 2-layer Llama of hidden size 32 over VOCAB ids, weights N(0, 0.3^2).
static actor_model *tiny_model(unsigned long long seed) {
    actor_config c = {0};
    snprintf(c.model_type, sizeof c.model_type, "llama");
    c.vocab_size = VOCAB, c.hidden_size = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2;
    c.head_dim = 8, c.intermediate_size = 48, c.max_position = 64, c.rms_eps = 1e-5f;
    c.rope_theta = 10000.0f, c.bos_id = 1, c.n_eos = 1, c.eos_ids[0] = 0;
    actor_model *m = NULL;
    CHECK_OK(actor_model_create(&c, &m));
    if (m) actor_model_init_random(m, seed, 0.3f);
    return m;
}

static actor_kv *g_kv;  // one slot, for seq_probs

// Under m, by the KV-cached decoder, in double: lp[j] = log p(comp[j] |
// prompt, comp[<j]) and pt[j] = p(target | the same prefix); either may be NULL.
static void seq_probs(actor_model *m, const int32_t *prompt, int P, const int32_t *comp, int C, int target,
                      double *lp, double *pt) {
    int tok[MAXP + MAXC], slot[MAXP + MAXC];
    static float logits[(MAXP + MAXC) * VOCAB];
    for (int i = 0; i < P; i++) tok[i] = prompt[i];
    for (int i = 0; i < C; i++) tok[P + i] = comp[i];
    memset(slot, 0, sizeof slot);
    actor_kv_clear(g_kv, 0);
    rlc_status s = actor_forward(m, g_kv, tok, slot, P + C, NULL, logits);
    if (s != RLC_OK) {
        CHECK_OK(s);
        return;
    }
    for (int j = 0; j < C; j++) {
        const float *l = logits + (size_t)(P + j - 1) * VOCAB;
        double mx = l[0], sum = 0;
        for (int v = 1; v < VOCAB; v++) mx = fmax(mx, l[v]);
        for (int v = 0; v < VOCAB; v++) sum += exp((double)l[v] - mx);
        if (lp) lp[j] = (double)l[comp[j]] - mx - log(sum);
        if (pt) pt[j] = exp((double)l[target] - mx) / sum;
    }
}

// xorshift64: the tests' fixed stream of random numbers.
static uint64_t g_rng = 88172645463325252ull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

// One completion (prompt + completion tokens, behaviour log-probs and
// versions, reward) of the hand-made groups the tests train on.
typedef struct sample {
    int32_t prompt[MAXP], comp[MAXC], ver[MAXC];
    float lp[MAXC];
    int P, C;
    double reward;
} sample;

// A random prompt of 2..MAXP ids in 2..VOCAB-1; returns its length.
static int draw_prompt(int32_t prompt[MAXP]) {
    int P = 2 + (int)(rnd() % (MAXP - 1));
    for (int i = 0; i < P; i++) prompt[i] = 2 + (int32_t)(rnd() % (VOCAB - 2));
    return P;
}

// s gets the prompt and a random completion of 3..MAXC ids in 2..VOCAB-1
// that avoids `target`; the reward is left to the caller.
static void draw_completion(sample *s, const int32_t prompt[MAXP], int P, int target) {
    s->P = P;
    memcpy(s->prompt, prompt, sizeof s->prompt);
    s->C = 3 + (int)(rnd() % (MAXC - 2));
    for (int j = 0; j < s->C; j++) {
        int32_t v;
        do v = 2 + (int32_t)(rnd() % (VOCAB - 2)); while (v == target);
        s->comp[j] = v;
    }
}

#endif
