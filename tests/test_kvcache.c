// test_kvcache.c: the KV cache and batched generation agree with plain full
// forwards. On the Hugging Face fixture models (tests/data/hf/) and on a
// random model of another shape (multi-query attention, odd sizes):
//   (a) decoding token by token, prefilling in chunks, and batches that mix
//       several slots' tokens (interleaved, some rows' logits not wanted) give
//       the logits of one full forward over each sequence;
//   (b) generating several prompts of different lengths together (greedy and
//       seeded sampling), with as many slots as prompts, with fewer slots (so
//       that sequences queue and reuse freed slots), and with prompts that
//       arrive while others decode, gives the tokens, log-probs and finish
//       reasons of generating each prompt alone;
//   (c) actor_kv_copy of a prefilled slot, then decoding, gives the logits of
//       prefilling again, and leaves the source slot intact;
//   (d) bad input to actor_forward (token outside the vocabulary, slot out of
//       range, past max_seq, more tokens than max_tokens) is an error that
//       changes nothing in the cache.
#include <stdint.h>  // uint64_t
#include <stdio.h>   // printf
#include <stdlib.h>  // malloc, free
#include <string.h>  // memset

#include "actor/generate.h"  // actor_gen_*, actor_sampling
#include "actor/model.h"     // actor_model_*, actor_kv_*, actor_forward
#include "core/core.h"       // rlc_status, rlc_last_error
#include "test.h"            // CHECK, CHECK_OK, test_rel_l2, test_source

// Same sums in another order or blocking: float32 rounding only.
#define KV_RTOL 1e-5
// Same computation in another slot: expected bit-identical, allow rounding.
#define COPY_RTOL 1e-6
#define LOGPROB_ATOL 1e-4

#define SEQ_LEN 40
#define MAX_SEQ 64
#define MAX_TOKENS 64

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static int rand_below(int n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (int)(rng_state % (uint64_t)n);
}

static void rand_tokens(int *t, int n, int V) {
    for (int i = 0; i < n; i++) t[i] = rand_below(V);
}

static void fill_int(int *a, int n, int v) {
    for (int i = 0; i < n; i++) a[i] = v;
}

// Forward of n tokens of one slot, appended after what the slot holds.
static rlc_status forward_slot(actor_model *m, actor_kv *kv, int slot, const int *toks, int n,
                               float *logits) {
    int slots[MAX_TOKENS + 1];
    fill_int(slots, n, slot);
    return actor_forward(m, kv, toks, slots, n, NULL, logits);
}

static double check_rel(const char *what, const char *name, const float *out, const float *ref,
                        size_t count, int V, double tol) {
    size_t worst = 0;
    double worst_abs = 0;
    double rel = test_rel_l2(out, ref, count, &worst, &worst_abs);
    printf("  %-12s %-34s rel l2 %.3e, worst |d| %.3e at (t=%zu, v=%zu): %.6f vs %.6f\n", name, what,
           rel, worst_abs, worst / (size_t)V, worst % (size_t)V, out[worst], ref[worst]);
    CHECK_MSG(rel < tol, "%s %s: rel l2 %.3e >= %.0e", name, what, rel, tol);
    return rel;
}

// ---- (a) incremental decoding against one full forward ----------------------

static void test_incremental(actor_model *m, const char *name) {
    const actor_config *c = actor_model_config(m);
    int V = c->vocab_size;
    int a[SEQ_LEN], b[SEQ_LEN];
    rand_tokens(a, SEQ_LEN, V);
    rand_tokens(b, SEQ_LEN, V);
    size_t rows = (size_t)SEQ_LEN * V;
    float *full_a = malloc(sizeof(float) * rows), *full_b = malloc(sizeof(float) * rows);
    float *out = malloc(sizeof(float) * rows), *tmp = malloc(sizeof(float) * MAX_TOKENS * V);
    actor_kv *kv = NULL;
    CHECK(full_a && full_b && out && tmp);
    rlc_status s;
    CHECK_OK(s = actor_kv_create(c, 3, MAX_SEQ, MAX_TOKENS, &kv));
    if (s != RLC_OK || !full_a || !full_b || !out || !tmp) goto done;

    // References: one full forward per sequence.
    CHECK_OK(forward_slot(m, kv, 0, a, SEQ_LEN, full_a));
    CHECK_OK(forward_slot(m, kv, 1, b, SEQ_LEN, full_b));

    // One token per call.
    actor_kv_clear(kv, 2);
    for (int t = 0; t < SEQ_LEN; t++) {
        CHECK_OK(s = forward_slot(m, kv, 2, &a[t], 1, out + (size_t)t * V));
        if (s != RLC_OK) goto done;
    }
    CHECK(actor_kv_len(kv, 2) == SEQ_LEN);
    check_rel("token by token vs full", name, out, full_a, rows, V, KV_RTOL);

    // Chunks of growing sizes: each chunk attends to the cached prefix.
    actor_kv_clear(kv, 2);
    for (int t = 0, k = 1, n = 0; t < SEQ_LEN; t += n, k++) {
        n = SEQ_LEN - t < k ? SEQ_LEN - t : k;
        CHECK_OK(s = forward_slot(m, kv, 2, &a[t], n, out + (size_t)t * V));
        if (s != RLC_OK) goto done;
    }
    check_rel("chunked prefill vs full", name, out, full_a, rows, V, KV_RTOL);

    // Mixed batches: slot 0 takes a in chunks of 3, slot 1 b one token at a
    // time (then in chunks of 5), interleaved in one call, only every other
    // row's logits wanted.
    actor_kv_clear(kv, 0);
    actor_kv_clear(kv, 1);
    int toks[MAX_TOKENS], slots[MAX_TOKENS], rowpos[MAX_TOKENS], rowseq[MAX_TOKENS];
    unsigned char want[MAX_TOKENS];
    float *out_b = malloc(sizeof(float) * rows);
    unsigned char *seen = calloc((size_t)2 * SEQ_LEN, 1);
    CHECK(out_b && seen);
    if (!out_b || !seen) {
        free(out_b);
        free(seen);
        goto done;
    }
    int na = 0, nb = 0, call = 0;
    while (na < SEQ_LEN || nb < SEQ_LEN) {
        int ka = SEQ_LEN - na < 3 ? SEQ_LEN - na : 3;
        int kb = nb < 20 ? 1 : (SEQ_LEN - nb < 5 ? SEQ_LEN - nb : 5);
        if (nb >= SEQ_LEN) kb = 0;
        int n = 0, ia = 0, ib = 0;
        while (ia < ka || ib < kb) {  // interleave a, b, a, b, ...
            if (ia < ka) {
                toks[n] = a[na + ia], slots[n] = 0, rowseq[n] = 0, rowpos[n] = na + ia, n++, ia++;
            }
            if (ib < kb) {
                toks[n] = b[nb + ib], slots[n] = 1, rowseq[n] = 1, rowpos[n] = nb + ib, n++, ib++;
            }
        }
        for (int i = 0; i < n; i++) want[i] = (unsigned char)((i + call) % 2 == 0);
        CHECK_OK(s = actor_forward(m, kv, toks, slots, n, want, tmp));
        if (s != RLC_OK) break;
        for (int i = 0, r = 0; i < n; i++) {
            if (!want[i]) continue;
            float *dst = (rowseq[i] ? out_b : out) + (size_t)rowpos[i] * V;
            memcpy(dst, tmp + (size_t)r++ * V, sizeof(float) * V);
            seen[rowseq[i] * SEQ_LEN + rowpos[i]] = 1;
        }
        na += ka, nb += kb, call++;
    }
    CHECK(actor_kv_len(kv, 0) == SEQ_LEN && actor_kv_len(kv, 1) == SEQ_LEN);
    // Rows not wanted were not written: compare the wanted ones only.
    for (int t = 0; t < SEQ_LEN; t++) {
        if (!seen[t]) memcpy(out + (size_t)t * V, full_a + (size_t)t * V, sizeof(float) * V);
        if (!seen[SEQ_LEN + t])
            memcpy(out_b + (size_t)t * V, full_b + (size_t)t * V, sizeof(float) * V);
    }
    check_rel("mixed batch, slot 0 vs full", name, out, full_a, rows, V, KV_RTOL);
    check_rel("mixed batch, slot 1 vs full", name, out_b, full_b, rows, V, KV_RTOL);
    free(out_b);
    free(seen);
done:
    actor_kv_free(kv);
    free(full_a);
    free(full_b);
    free(out);
    free(tmp);
}

// ---- (b) batched generation against each prompt alone -----------------------

#define N_PROMPTS 6
#define GEN_CAP 64

typedef struct {
    int tokens[N_PROMPTS][GEN_CAP];
    float logprobs[N_PROMPTS][GEN_CAP];
    int n[N_PROMPTS];
    actor_finish finish[N_PROMPTS];
    int bad_calls;  // callbacks for an unknown id or after a finish
} gen_result;

typedef struct {
    gen_result *r;
    int map[N_PROMPTS * 2];  // seq_id -> prompt index, -1 when unknown
} gen_ctx;

static int on_token(void *ud, int seq_id, int token, float logprob, actor_finish finish) {
    gen_ctx *ctx = ud;
    gen_result *r = ctx->r;
    if (seq_id < 0 || seq_id >= N_PROMPTS * 2 || ctx->map[seq_id] < 0) {
        r->bad_calls++;
        return 0;
    }
    int p = ctx->map[seq_id];
    if (r->finish[p] != ACTOR_FINISH_NONE || r->n[p] >= GEN_CAP) {
        r->bad_calls++;
        return 0;
    }
    r->tokens[p][r->n[p]] = token;
    r->logprobs[p][r->n[p]] = logprob;
    r->n[p]++;
    r->finish[p] = finish;
    return 0;
}

static const int prompt_lens[N_PROMPTS] = {7, 1, 20, 3, 12, 5};
static const int max_new[N_PROMPTS] = {24, 9, 30, 5, 17, 13};

// Runs the prompts listed in `order` (n of them) through one generator of
// n_slots slots. `late` prompts (the last n_late of order) are added only
// after 3 steps, while the others decode.
static void run_gen(actor_model *m, int prompts[N_PROMPTS][32], const actor_sampling *sp,
                    const int *order, int n, int n_late, int n_slots, gen_result *r) {
    memset(r, 0, sizeof *r);
    gen_ctx ctx = {.r = r};
    fill_int(ctx.map, N_PROMPTS * 2, -1);
    actor_gen *g = NULL;
    rlc_status s;
    CHECK_OK(s = actor_gen_create(m, n_slots, MAX_SEQ, &g));
    if (s != RLC_OK) return;
    int pending = 0, steps = 0;
    for (int k = 0; k < n; k++) {
        if (k == n - n_late) {
            for (int i = 0; i < 3; i++) {
                CHECK_OK(s = actor_gen_step(g, on_token, &ctx, &pending));
                if (s != RLC_OK) goto done;
            }
        }
        int p = order[k], id = -1;
        actor_sampling sk = sp[p];
        CHECK_OK(s = actor_gen_add(g, prompts[p], prompt_lens[p], &sk, &id));
        if (s != RLC_OK) goto done;
        CHECK(id >= 0 && id < N_PROMPTS * 2);
        if (id >= 0 && id < N_PROMPTS * 2) ctx.map[id] = p;
    }
    do {
        CHECK_OK(s = actor_gen_step(g, on_token, &ctx, &pending));
        if (s != RLC_OK) goto done;
    } while (pending > 0 && ++steps < 1000);
    CHECK(pending == 0);
done:
    actor_gen_free(g);
}

static void compare_gen(const char *name, const char *what, const gen_result *ref,
                        const gen_result *got, const int *order, int n) {
    int ok = got->bad_calls == 0;
    CHECK_MSG(got->bad_calls == 0, "%s %s: %d unexpected callbacks", name, what, got->bad_calls);
    for (int k = 0; k < n; k++) {
        int p = order[k];
        int same = got->n[p] == ref->n[p] && got->finish[p] == ref->finish[p];
        int first_bad = -1;
        double worst_lp = 0;
        for (int i = 0; i < ref->n[p] && i < got->n[p]; i++) {
            if (got->tokens[p][i] != ref->tokens[p][i] && first_bad < 0) first_bad = i;
            double d = fabs((double)got->logprobs[p][i] - ref->logprobs[p][i]);
            if (first_bad < 0 && d > worst_lp) worst_lp = d;
        }
        if (first_bad >= 0) same = 0;
        if (!same)
            printf("  %-12s %s: prompt %d differs: %d tokens (finish %d) vs alone %d (finish %d), "
                   "first different token at %d\n",
                   name, what, p, got->n[p], got->finish[p], ref->n[p], ref->finish[p], first_bad);
        CHECK_MSG(same, "%s %s: prompt %d differs from generating it alone", name, what, p);
        CHECK_MSG(worst_lp < LOGPROB_ATOL, "%s %s: prompt %d logprob differs by %.2e", name, what,
                  p, worst_lp);
        ok = ok && same && worst_lp < LOGPROB_ATOL;
    }
    printf("  %-12s %-34s %s\n", name, what, ok ? "same tokens as alone" : "MISMATCH");
}

static void test_batched_generation(actor_model *m, const char *name) {
    const actor_config *c = actor_model_config(m);
    int prompts[N_PROMPTS][32];
    for (int p = 0; p < N_PROMPTS; p++) rand_tokens(prompts[p], prompt_lens[p], c->vocab_size);
    static gen_result alone, got;  // large: keep off the stack
    const char *modes[] = {"greedy", "T=0.8 top-p=0.9", "T=1.2 top-k=20"};
    for (int mode = 0; mode < 3; mode++) {
        actor_sampling sp[N_PROMPTS];
        for (int p = 0; p < N_PROMPTS; p++) {
            sp[p] = actor_sampling_default();
            sp[p].max_new_tokens = max_new[p];
            sp[p].seed = 1000 + 17 * (uint64_t)p;
            if (mode == 0) sp[p].temperature = 0;
            if (mode == 1) sp[p].temperature = 0.8f, sp[p].top_p = 0.9f;
            if (mode == 2) sp[p].temperature = 1.2f, sp[p].top_k = 20;
        }
        // Each prompt alone, in its own one-slot generator.
        memset(&alone, 0, sizeof alone);
        for (int p = 0; p < N_PROMPTS; p++) {
            run_gen(m, prompts, sp, &p, 1, 0, 1, &got);
            alone.n[p] = got.n[p];
            alone.finish[p] = got.finish[p];
            memcpy(alone.tokens[p], got.tokens[p], sizeof got.tokens[p]);
            memcpy(alone.logprobs[p], got.logprobs[p], sizeof got.logprobs[p]);
            alone.bad_calls += got.bad_calls;
            CHECK_MSG(got.n[p] > 0 && got.finish[p] != ACTOR_FINISH_NONE,
                      "%s %s: prompt %d alone did not finish", name, modes[mode], p);
            CHECK_MSG(got.finish[p] == ACTOR_FINISH_STOP || got.n[p] == max_new[p],
                      "%s %s: prompt %d alone: %d tokens, finish %d", name, modes[mode], p,
                      got.n[p], got.finish[p]);
        }
        CHECK(alone.bad_calls == 0);
        int order[N_PROMPTS] = {0, 1, 2, 3, 4, 5};
        int reversed[N_PROMPTS] = {5, 4, 3, 2, 1, 0};
        char what[96];
        snprintf(what, sizeof what, "%s, 6 slots", modes[mode]);
        run_gen(m, prompts, sp, order, N_PROMPTS, 0, N_PROMPTS, &got);
        compare_gen(name, what, &alone, &got, order, N_PROMPTS);
        snprintf(what, sizeof what, "%s, 2 slots (queued)", modes[mode]);
        run_gen(m, prompts, sp, reversed, N_PROMPTS, 0, 2, &got);
        compare_gen(name, what, &alone, &got, reversed, N_PROMPTS);
        snprintf(what, sizeof what, "%s, 3 slots, 3 late", modes[mode]);
        run_gen(m, prompts, sp, order, N_PROMPTS, 3, 3, &got);
        compare_gen(name, what, &alone, &got, order, N_PROMPTS);
    }
}

// ---- (c) copying a prefilled slot --------------------------------------------

static void test_copy(actor_model *m, const char *name) {
    const actor_config *c = actor_model_config(m);
    int V = c->vocab_size;
    enum { NP = 12, NC = 10, NJUNK = 30 };
    int prompt[NP], cont[NC], junk[NJUNK];
    rand_tokens(prompt, NP, V);
    rand_tokens(cont, NC, V);
    rand_tokens(junk, NJUNK, V);
    float *ref = malloc(sizeof(float) * NC * V), *got = malloc(sizeof(float) * NC * V);
    float *pre = malloc(sizeof(float) * NJUNK * V), *two = malloc(sizeof(float) * 2 * V);
    actor_kv *kv = NULL;
    rlc_status s;
    CHECK(ref && got && pre && two);
    CHECK_OK(s = actor_kv_create(c, 4, MAX_SEQ, MAX_TOKENS, &kv));
    if (s != RLC_OK || !ref || !got || !pre || !two) goto done;

    // Reference: prefill in slot 3 and decode the continuation.
    CHECK_OK(forward_slot(m, kv, 3, prompt, NP, pre));
    for (int t = 0; t < NC; t++) CHECK_OK(forward_slot(m, kv, 3, &cont[t], 1, ref + (size_t)t * V));

    // Slot 0 prefilled; slot 1 holds a longer unrelated sequence, slot 2 a shorter one.
    CHECK_OK(forward_slot(m, kv, 0, prompt, NP, pre));
    CHECK_OK(forward_slot(m, kv, 1, junk, NJUNK, pre));
    CHECK_OK(forward_slot(m, kv, 2, junk, 3, pre));
    actor_kv_copy(kv, 1, 0);
    actor_kv_copy(kv, 2, 0);
    CHECK(actor_kv_len(kv, 1) == NP && actor_kv_len(kv, 2) == NP && actor_kv_len(kv, 0) == NP);

    // Slot 1 decodes alone; slots 0 and 2 decode together, one call per step.
    for (int t = 0; t < NC; t++) CHECK_OK(forward_slot(m, kv, 1, &cont[t], 1, got + (size_t)t * V));
    check_rel("copy over longer slot vs prefill", name, got, ref, (size_t)NC * V, V, COPY_RTOL);
    float *got2 = malloc(sizeof(float) * NC * V);
    CHECK(got2);
    if (!got2) goto done;
    for (int t = 0; t < NC; t++) {
        int toks[2] = {cont[t], cont[t]}, slots[2] = {0, 2};
        CHECK_OK(s = actor_forward(m, kv, toks, slots, 2, NULL, two));
        if (s != RLC_OK) break;
        memcpy(got + (size_t)t * V, two, sizeof(float) * V);
        memcpy(got2 + (size_t)t * V, two + V, sizeof(float) * V);
    }
    check_rel("source slot after copy vs prefill", name, got, ref, (size_t)NC * V, V, KV_RTOL);
    check_rel("copy over shorter slot vs prefill", name, got2, ref, (size_t)NC * V, V, KV_RTOL);
    free(got2);
done:
    actor_kv_free(kv);
    free(ref);
    free(got);
    free(pre);
    free(two);
}

// ---- (d) bad input -----------------------------------------------------------

#define N_SLOTS_BAD 3
#define MAX_SEQ_BAD 16
#define MAX_TOKENS_BAD 20

static void expect_error(actor_model *m, actor_kv *kv, const char *name, const char *what,
                         const int *toks, const int *slots, int n, float *logits) {
    int before[N_SLOTS_BAD], same = 1;
    for (int i = 0; i < N_SLOTS_BAD; i++) before[i] = actor_kv_len(kv, i);
    rlc_clear_error();
    rlc_status s = actor_forward(m, kv, toks, slots, n, NULL, logits);
    for (int i = 0; i < N_SLOTS_BAD; i++) same = same && actor_kv_len(kv, i) == before[i];
    printf("  %-12s bad input: %-28s -> %s: %s\n", name, what, rlc_status_name(s), rlc_last_error());
    CHECK_MSG(s != RLC_OK, "%s: %s accepted", name, what);
    CHECK_MSG(rlc_last_error()[0] != 0, "%s: %s: no error message", name, what);
    CHECK_MSG(same, "%s: %s changed a slot's length", name, what);
}

static void test_bad_input(actor_model *m, const char *name) {
    const actor_config *c = actor_model_config(m);
    int V = c->vocab_size;
    int seq[MAX_SEQ_BAD], big[MAX_TOKENS_BAD + 1], slots[MAX_TOKENS_BAD + 1];
    rand_tokens(seq, MAX_SEQ_BAD, V);
    rand_tokens(big, MAX_TOKENS_BAD + 1, V);
    float *logits = malloc(sizeof(float) * (MAX_TOKENS_BAD + 1) * V);
    float *ref = malloc(sizeof(float) * MAX_SEQ_BAD * V);
    actor_kv *kv = NULL;
    rlc_status s;
    CHECK(logits && ref);
    CHECK_OK(s = actor_kv_create(c, N_SLOTS_BAD, MAX_SEQ_BAD, MAX_TOKENS_BAD, &kv));
    if (s != RLC_OK || !logits || !ref) goto done;

    // Reference: the whole sequence in slot 2.
    CHECK_OK(forward_slot(m, kv, 2, seq, MAX_SEQ_BAD, ref));
    // Slot 0 holds 10 tokens, slot 1 holds 4.
    CHECK_OK(forward_slot(m, kv, 0, seq, 10, logits));
    CHECK_OK(forward_slot(m, kv, 1, seq, 4, logits));

    int t2[2] = {seq[10], V}, s2[2] = {0, 0};
    expect_error(m, kv, name, "token == vocab_size", t2, s2, 2, logits);
    t2[1] = -1;
    expect_error(m, kv, name, "token == -1", t2, s2, 2, logits);
    int t3[2] = {seq[4], seq[10]}, s3[2] = {1, N_SLOTS_BAD};
    expect_error(m, kv, name, "slot == n_slots", t3, s3, 2, logits);
    s3[1] = -1;
    expect_error(m, kv, name, "slot == -1", t3, s3, 2, logits);
    int t4[2] = {seq[4], V + 7}, s4[2] = {1, 0};  // valid slot-1 token, bad slot-0 token
    expect_error(m, kv, name, "bad token beside a good one", t4, s4, 2, logits);
    fill_int(slots, MAX_TOKENS_BAD + 1, 1);
    expect_error(m, kv, name, "n > max_tokens", big, slots, MAX_TOKENS_BAD + 1, logits);
    fill_int(slots, MAX_TOKENS_BAD, 0);
    expect_error(m, kv, name, "7 tokens past max_seq", big, slots, 7, logits);

    // Nothing was written: slot 0 continues exactly where it was, up to max_seq.
    CHECK_OK(s = forward_slot(m, kv, 0, &seq[10], MAX_SEQ_BAD - 10, logits));
    if (s == RLC_OK)
        check_rel("after errors, slot 0 vs full", name, logits, ref + (size_t)10 * V,
                  (size_t)(MAX_SEQ_BAD - 10) * V, V, KV_RTOL);
    CHECK(actor_kv_len(kv, 0) == MAX_SEQ_BAD);
    expect_error(m, kv, name, "1 token into a full slot", &seq[0], slots, 1, logits);
    CHECK_OK(s = forward_slot(m, kv, 1, &seq[4], 3, logits));
    if (s == RLC_OK)
        check_rel("after errors, slot 1 vs full", name, logits, ref + (size_t)4 * V, (size_t)3 * V,
                  V, KV_RTOL);
done:
    actor_kv_free(kv);
    free(logits);
    free(ref);
}

// ---- models ------------------------------------------------------------------

static void run_all(actor_model *m, const char *name) {
    test_incremental(m, name);
    test_batched_generation(m, name);
    test_copy(m, name);
    test_bad_input(m, name);
}

int main(void) {
    const char *fixtures[] = {"llama", "llama3_tied", "qwen2", "qwen3"};
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        char rel[256], dir[1024];
        snprintf(rel, sizeof rel, "tests/data/hf/%s", fixtures[i]);
        test_source(dir, sizeof dir, rel);
        actor_model *m = NULL;
        rlc_status s = actor_model_load(dir, &m);
        CHECK_OK(s);
        if (s != RLC_OK) continue;
        run_all(m, fixtures[i]);
        actor_model_free(m);
    }

    // A random model of another shape: multi-query attention (one KV head),
    // odd vocabulary and widths, three layers.
    actor_config c;
    memset(&c, 0, sizeof c);
    c.arch = ACTOR_ARCH_LLAMA;
    snprintf(c.model_type, sizeof c.model_type, "llama");
    c.vocab_size = 97;
    c.hidden_size = 48;
    c.n_layers = 3;
    c.n_heads = 6;
    c.n_kv_heads = 1;
    c.head_dim = 8;
    c.intermediate_size = 88;
    c.max_position = 256;
    c.rms_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.rope_type = ACTOR_ROPE_DEFAULT;
    c.bos_id = -1;
    c.n_eos = 0;
    actor_model *m = NULL;
    rlc_status s;
    CHECK_OK(s = actor_config_validate(&c, "test_kvcache random model"));
    if (s == RLC_OK) CHECK_OK(s = actor_model_create(&c, &m));
    if (s == RLC_OK) {
        actor_model_init_random(m, 1234, 0.2f);
        run_all(m, "random_mqa");
        actor_model_free(m);
    }
    return test_finish("test_kvcache");
}
