// test_cuda_model.c: the GPU inference model (actor/gpu_model.h) against the
// CPU decoder (actor_forward) on stories260K, in one process:
//   (a) a prompt's prefill and several decode steps: logits within rel L2
//       1e-4 in float32 and 3e-2 in bf16;
//   (b) greedy decoding on the GPU (sampling on the device) from BOS
//       reproduces llama2.c's expected text, as test_cli checks on the CPU;
//   (c) four slots of different lengths: a mixed prefill wanting the last row
//       of each, decode steps over subsets of the slots (padded buckets, so
//       the scratch slot is used), a KV copy, device sampling (greedy and
//       T=1) against actor_sample; graphs on and off give identical logits;
//   (d) weight refresh (load_params) from a random-weight model;
//   (e) bad calls are refused.
// Skipped (exit 77) without a CUDA build or a device.
#include <stdint.h>  // uint64_t
#include <stdlib.h>  // malloc, free
#include <string.h>  // memcmp, memcpy

#include "actor/generate.h"   // actor_sample
#include "actor/gpu_model.h"  // actor_gpu_*
#include "actor/model.h"      // actor_forward
#include "actor/tokenizer.h"  // tok_load, tok_stream
#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query
#include "test.h"

#ifdef RLC_HAVE_CUDA

enum { MAX_SEQ = 300, MAX_TOKENS = 64, N_SLOTS = 4 };

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static double log_softmax_at(const float *x, int n, int id) {
    double mx = x[0], sum = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    for (int i = 0; i < n; i++) sum += exp((double)x[i] - mx);
    return (double)x[id] - mx - log(sum);
}

static void check_close(const char *what, const float *gpu, const float *cpu, size_t n, double tol) {
    size_t worst = 0;
    double worst_abs = 0;
    double rel = test_rel_l2(gpu, cpu, n, &worst, &worst_abs);
    CHECK_MSG(rel <= tol, "%s: rel L2 %.3g > %.1g (worst |diff| %.3g at %zu: gpu %g cpu %g)", what, rel, tol,
              worst_abs, worst, gpu[worst], cpu[worst]);
}

static const char *dtype_name(actor_gpu_dtype dt) { return dt == ACTOR_GPU_BF16 ? "bf16" : "f32"; }

// (a) One slot: a prompt's prefill (every row's logits), then decode steps
// fed with the CPU's argmax.
static void prefill_decode(actor_model *m, actor_gpu_dtype dt, double tol) {
    const actor_config *c = actor_model_config(m);
    int V = c->vocab_size;
    const int prompt[] = {1, 403, 407, 261, 378, 395, 260, 459, 280};
    const int n = (int)(sizeof prompt / sizeof prompt[0]), steps = 8;
    actor_kv *kv = NULL;
    actor_gpu_model *g = NULL;
    CHECK_OK(actor_kv_create(c, 1, MAX_SEQ, MAX_TOKENS, &kv));
    CHECK_OK(actor_gpu_model_create(m, 0, dt, 1, MAX_SEQ, MAX_TOKENS, &g));
    float *cpu = malloc(sizeof(float) * (size_t)n * V), *gpu = malloc(sizeof(float) * (size_t)n * V);
    int slots[16] = {0}, pos[16];
    for (int i = 0; i < n; i++) pos[i] = i;
    if (!kv || !g) goto done;
    char what[96];
    CHECK_OK(actor_forward(m, kv, prompt, slots, n, NULL, cpu));
    CHECK_OK(actor_gpu_forward(g, prompt, slots, pos, n, NULL, gpu));
    snprintf(what, sizeof what, "%s prefill of %d tokens", dtype_name(dt), n);
    check_close(what, gpu, cpu, (size_t)n * V, tol);
    // The device copy of the logits is the same.
    const float *dev = actor_gpu_model_logits(g);
    CHECK(dev != NULL);
    int tok = argmax(cpu + (size_t)(n - 1) * V, V);
    for (int s = 0; s < steps; s++) {
        int p = n + s;
        CHECK_OK(actor_forward(m, kv, &tok, slots, 1, NULL, cpu));
        CHECK_OK(actor_gpu_forward(g, &tok, slots, &p, 1, NULL, gpu));
        snprintf(what, sizeof what, "%s decode step %d", dtype_name(dt), s);
        check_close(what, gpu, cpu, (size_t)V, tol);
        tok = argmax(cpu, V);
    }
    // Only the last row wanted, through the general path.
    unsigned char want[16] = {0};
    want[n - 1] = 1;
    actor_kv_clear(kv, 0);
    CHECK_OK(actor_forward(m, kv, prompt, slots, n, want, cpu));
    CHECK_OK(actor_gpu_forward(g, prompt, slots, pos, n, want, gpu));
    snprintf(what, sizeof what, "%s prefill, last row only", dtype_name(dt));
    check_close(what, gpu, cpu, (size_t)V, tol);
done:
    free(cpu);
    free(gpu);
    actor_gpu_model_free(g);
    actor_kv_free(kv);
}

// (b) Greedy decoding from BOS for 256 tokens, sampled on the device.
static void greedy_text(actor_model *m) {
    const actor_config *c = actor_model_config(m);
    char tok_path[1024], exp_path[1024];
    test_data(tok_path, sizeof tok_path, "models/stories260K/tok512.bin");
    test_data(exp_path, sizeof exp_path, "models/stories260K/expected_greedy_t0.txt");
    tok_tokenizer *tk = NULL;
    tok_stream *ts = NULL;
    actor_gpu_model *g = NULL;
    char *expected = NULL;
    size_t expected_len = 0, len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    CHECK_OK(rlc_read_file(exp_path, &expected, &expected_len));
    CHECK_OK(tok_load(tok_path, &tk));
    if (tk) CHECK_OK(tok_stream_create(tk, TOK_DECODE_SKIP_SPECIAL, &ts));
    CHECK_OK(actor_gpu_model_create(m, 0, ACTOR_GPU_F32, 1, MAX_SEQ, MAX_TOKENS, &g));
    if (!expected || !ts || !g) goto done;
    int tok = c->bos_id >= 0 ? c->bos_id : 1, slot = 0;
    const char *piece;
    size_t piece_len;
    CHECK_OK(tok_stream_push(ts, tok, &piece, &piece_len));  // unseen, as rlc generate
    for (int p = 0; p < 256; p++) {
        int id = -1;
        float lp = 0;
        rlc_status s = actor_gpu_decode_sample(g, &tok, &slot, &p, 1, NULL, NULL, NULL, NULL, &id, &lp);
        CHECK_OK(s);
        if (s != RLC_OK || actor_config_is_eos(c, id)) break;
        CHECK_MSG(lp <= 0.0f, "log-prob %g > 0 at step %d", lp, p);
        if (tok_stream_push(ts, id, &piece, &piece_len) != RLC_OK) break;
        if (len + piece_len + 2 < cap) memcpy(text + len, piece, piece_len), len += piece_len;
        tok = id;
    }
    if (tok_stream_flush(ts, &piece, &piece_len) == RLC_OK && len + piece_len + 2 < cap)
        memcpy(text + len, piece, piece_len), len += piece_len;
    text[len++] = '\n';
    text[len] = '\0';
    size_t i = 0;
    while (text[i] && text[i] == expected[i]) i++;
    CHECK_MSG(strcmp(text, expected) == 0, "GPU greedy text differs at byte %zu:\n got: %.60s\nwant: %.60s", i,
              text + i, expected + i);
done:
    free(text);
    rlc_free(expected);
    actor_gpu_model_free(g);
    tok_stream_free(ts);
    tok_free(tk);
}

// (c) Several slots of different lengths; the GPU with graphs on (g[0]) and
// off (g[1]) beside the CPU.
typedef struct {
    actor_model *m;
    actor_kv *kv;
    actor_gpu_model *g[2];
    int len[N_SLOTS];
    int V;
    float *cpu, *gpu[2];
} batch_run;

// One call of n tokens over slots (each slot's tokens in order of position)
// on the CPU and both GPU models; want NULL: every row.
static void batch_call(batch_run *b, const char *what, const int *tokens, const int *slots, int n,
                       const unsigned char *want) {
    int pos[MAX_TOKENS], count[N_SLOTS] = {0}, n_out = 0;
    for (int i = 0; i < n; i++) {
        pos[i] = b->len[slots[i]] + count[slots[i]]++;
        n_out += !want || want[i];
    }
    CHECK_OK(actor_forward(b->m, b->kv, tokens, slots, n, want, b->cpu));
    for (int k = 0; k < 2; k++) CHECK_OK(actor_gpu_forward(b->g[k], tokens, slots, pos, n, want, b->gpu[k]));
    for (int s = 0; s < N_SLOTS; s++) b->len[s] += count[s];
    size_t cnt = (size_t)n_out * b->V;
    check_close(what, b->gpu[0], b->cpu, cnt, 1e-4);
    CHECK_MSG(memcmp(b->gpu[0], b->gpu[1], cnt * sizeof(float)) == 0, "%s: graphs on and off differ", what);
}

static void batch_slots(actor_model *m) {
    const actor_config *c = actor_model_config(m);
    batch_run b = {.m = m, .V = c->vocab_size};
    CHECK_OK(actor_kv_create(c, N_SLOTS, MAX_SEQ, MAX_TOKENS, &b.kv));
    for (int k = 0; k < 2; k++) {
        CHECK_OK(actor_gpu_model_create(m, 0, ACTOR_GPU_F32, N_SLOTS, MAX_SEQ, MAX_TOKENS, &b.g[k]));
        b.gpu[k] = malloc(sizeof(float) * MAX_TOKENS * (size_t)b.V);
    }
    b.cpu = malloc(sizeof(float) * MAX_TOKENS * (size_t)b.V);
    void *scratch = malloc(actor_sampler_scratch_bytes(b.V));
    if (!b.kv || !b.g[0] || !b.g[1]) goto done;
    actor_gpu_model_set_graphs(b.g[1], 0);

    // Mixed prefill: slot lengths 3, 7, 1, 12 interleaved, last row of each wanted.
    const int plen[N_SLOTS] = {3, 7, 1, 12};
    int tokens[MAX_TOKENS], slots[MAX_TOKENS], n = 0;
    unsigned char want[MAX_TOKENS] = {0};
    for (int i = 0; i < 12; i++)
        for (int s = 0; s < N_SLOTS; s++)
            if (i < plen[s]) {
                tokens[n] = i == 0 ? 1 : (37 * i + 101 * s) % b.V;
                slots[n] = s;
                want[n] = i == plen[s] - 1;
                n++;
            }
    batch_call(&b, "mixed prefill", tokens, slots, n, want);
    int next[N_SLOTS];
    for (int r = 0, i = 0; i < n; i++)
        if (want[i]) next[slots[i]] = argmax(b.cpu + (size_t)r++ * b.V, b.V);

    // Decode steps over subsets: 4, 3 (bucket 4: one padded row), 2, 1, 4.
    const int subsets[][N_SLOTS + 1] = {{4, 0, 1, 2, 3}, {3, 0, 2, 3}, {2, 1, 3}, {1, 2}, {4, 0, 1, 2, 3}, {3, 1, 2, 3}};
    for (size_t t = 0; t < sizeof subsets / sizeof subsets[0]; t++) {
        int k = subsets[t][0];
        for (int i = 0; i < k; i++) slots[i] = subsets[t][1 + i], tokens[i] = next[slots[i]];
        char what[64];
        snprintf(what, sizeof what, "decode step %zu (%d slots)", t, k);
        batch_call(&b, what, tokens, slots, k, NULL);
        for (int i = 0; i < k; i++) next[slots[i]] = argmax(b.cpu + (size_t)i * b.V, b.V);
    }

    // Slot 2 takes slot 3's cache; then one step over all slots.
    actor_kv_copy(b.kv, 2, 3);
    for (int k = 0; k < 2; k++) CHECK_OK(actor_gpu_kv_copy(b.g[k], 2, 3, b.len[3]));
    b.len[2] = b.len[3];
    next[2] = next[3];
    for (int i = 0; i < N_SLOTS; i++) slots[i] = i, tokens[i] = next[i];
    batch_call(&b, "decode after kv copy", tokens, slots, N_SLOTS, NULL);
    CHECK_MSG(test_rel_l2(b.gpu[0] + 2 * (size_t)b.V, b.gpu[0] + 3 * (size_t)b.V, (size_t)b.V, NULL, NULL) < 1e-6,
              "copied slot 2 and its source slot 3 give different logits");
    for (int i = 0; i < N_SLOTS; i++) next[i] = argmax(b.cpu + (size_t)i * b.V, b.V);

    // Device sampling against actor_sample on the CPU's logits: greedy, then T=1.
    for (int mode = 0; mode < 2; mode++) {
        int pos[N_SLOTS], ids[N_SLOTS], ids1[N_SLOTS];
        float lps[N_SLOTS], lps1[N_SLOTS], temp[N_SLOTS], top_p[N_SLOTS];
        int top_k[N_SLOTS];
        uint64_t rng[N_SLOTS], rng1[N_SLOTS], rng_cpu[N_SLOTS];
        for (int i = 0; i < N_SLOTS; i++) {
            slots[i] = i, tokens[i] = next[i], pos[i] = b.len[i];
            temp[i] = mode ? 1.0f : 0.0f, top_k[i] = 0, top_p[i] = 1.0f;
            rng[i] = rng1[i] = rng_cpu[i] = actor_sample_seed(1234, i);
        }
        CHECK_OK(actor_forward(m, b.kv, tokens, slots, N_SLOTS, NULL, b.cpu));
        CHECK_OK(actor_gpu_decode_sample(b.g[0], tokens, slots, pos, N_SLOTS, temp, top_k, top_p, rng, ids, lps));
        CHECK_OK(actor_gpu_decode_sample(b.g[1], tokens, slots, pos, N_SLOTS, temp, top_k, top_p, rng1, ids1, lps1));
        for (int i = 0; i < N_SLOTS; i++) {
            b.len[i]++;
            actor_sampling sp = actor_sampling_default();
            sp.temperature = temp[i];
            float lp_cpu;
            int id_cpu = actor_sample(b.cpu + (size_t)i * b.V, b.V, &sp, &rng_cpu[i], scratch, &lp_cpu);
            CHECK_MSG(ids[i] == id_cpu, "sampling mode %d slot %d: gpu id %d, cpu %d", mode, i, ids[i], id_cpu);
            CHECK_MSG(ids[i] == ids1[i] && lps[i] == lps1[i], "sampling mode %d slot %d: graphs on and off differ",
                      mode, i);
            CHECK_MSG(fabs(lps[i] - lp_cpu) <= 1e-4, "sampling mode %d slot %d: gpu log-prob %g, cpu %g", mode, i,
                      lps[i], lp_cpu);
            double want_lp = log_softmax_at(b.cpu + (size_t)i * b.V, b.V, id_cpu);
            CHECK_MSG(fabs(lp_cpu - want_lp) <= 1e-4, "cpu log-prob %g, log-softmax %g", lp_cpu, want_lp);
            CHECK_MSG(rng[i] == rng_cpu[i], "sampling mode %d slot %d: rng states differ", mode, i);
            next[i] = ids[i];
        }
    }
done:
    free(scratch);
    free(b.cpu);
    for (int k = 0; k < 2; k++) {
        free(b.gpu[k]);
        actor_gpu_model_free(b.g[k]);
    }
    actor_kv_free(b.kv);
}

// (d) Weights refreshed from another model of the same configuration.
static void refresh_weights(actor_model *m, actor_gpu_dtype dt, double tol) {
    const actor_config *c = actor_model_config(m);
    int V = c->vocab_size;
    actor_model *r = NULL;
    actor_kv *kv = NULL;
    actor_gpu_model *g = NULL;
    CHECK_OK(actor_model_create(c, &r));
    CHECK_OK(actor_kv_create(c, 1, MAX_SEQ, MAX_TOKENS, &kv));
    CHECK_OK(actor_gpu_model_create(m, 0, dt, 1, MAX_SEQ, MAX_TOKENS, &g));
    const int prompt[] = {1, 50, 60, 70, 80};
    int n = 5, slots[5] = {0}, pos[5] = {0, 1, 2, 3, 4};
    float *cpu = malloc(sizeof(float) * 5 * (size_t)V), *gpu = malloc(sizeof(float) * 5 * (size_t)V);
    if (!r || !kv || !g) goto done;
    actor_model_init_random(r, 7, 0.05f);
    CHECK_OK(actor_gpu_model_load_params(g, actor_model_params(r)));
    CHECK_OK(actor_forward(r, kv, prompt, slots, n, NULL, cpu));
    CHECK_OK(actor_gpu_forward(g, prompt, slots, pos, n, NULL, gpu));
    char what[64];
    snprintf(what, sizeof what, "%s after load_params", dtype_name(dt));
    check_close(what, gpu, cpu, (size_t)n * V, tol);
done:
    free(cpu);
    free(gpu);
    actor_gpu_model_free(g);
    actor_kv_free(kv);
    actor_model_free(r);
}

// (e) Refused calls.
static void bad_calls(actor_model *m) {
    const actor_config *c = actor_model_config(m);
    actor_gpu_model *g = NULL;
    CHECK_OK(actor_gpu_model_create(m, 0, ACTOR_GPU_F32, 2, 16, 8, &g));
    if (!g) return;
    int tok = c->vocab_size, slot = 0, pos = 0, ok_tok = 1;
    CHECK(actor_gpu_forward(g, &tok, &slot, &pos, 1, NULL, NULL) == RLC_ERR_ARG);
    slot = 2;
    CHECK(actor_gpu_forward(g, &ok_tok, &slot, &pos, 1, NULL, NULL) == RLC_ERR_ARG);
    slot = 0, pos = 16;
    CHECK(actor_gpu_forward(g, &ok_tok, &slot, &pos, 1, NULL, NULL) == RLC_ERR_LIMIT);
    CHECK(actor_gpu_forward(g, &ok_tok, &slot, &pos, 0, NULL, NULL) == RLC_ERR_ARG);
    CHECK(actor_gpu_kv_copy(g, 0, 2, 1) == RLC_ERR_ARG);
    CHECK(actor_gpu_kv_copy(g, 0, 1, 17) == RLC_ERR_ARG);
    CHECK(actor_gpu_model_create(m, 0, ACTOR_GPU_F32, 0, 16, 8, &(actor_gpu_model *){NULL}) == RLC_ERR_ARG);
    actor_gpu_model_free(g);
}

#endif  // RLC_HAVE_CUDA

int main(void) {
    if (!kernels_cuda_compiled()) {
        actor_gpu_model *g = (actor_gpu_model *)1;
        CHECK(actor_gpu_model_create(NULL, 0, ACTOR_GPU_F32, 1, 16, 8, &g) == RLC_ERR_UNSUPPORTED);
        CHECK(g == NULL);
        if (test_failures) return test_finish("test_cuda_model");
        TEST_SKIP("this build has no CUDA backend");
    }
#ifdef RLC_HAVE_CUDA
    char buf[2048], path[1024];
    int n_dev = 0;
    rlc_status s = kernels_cuda_query(&n_dev, buf, sizeof buf);
    if (s != RLC_OK || n_dev == 0) TEST_SKIP("no CUDA device: %s", s != RLC_OK ? rlc_last_error() : "0 devices");
    actor_model *m = NULL;
    test_data(path, sizeof path, "models/stories260K/stories260K.bin");
    CHECK_OK(actor_model_load(path, &m));
    if (!m) return test_finish("test_cuda_model");
    prefill_decode(m, ACTOR_GPU_F32, 1e-4);
    prefill_decode(m, ACTOR_GPU_BF16, 3e-2);
    greedy_text(m);
    batch_slots(m);
    refresh_weights(m, ACTOR_GPU_F32, 1e-4);
    refresh_weights(m, ACTOR_GPU_BF16, 3e-2);
    bad_calls(m);
    actor_model_free(m);
#endif
    return test_finish("test_cuda_model");
}
