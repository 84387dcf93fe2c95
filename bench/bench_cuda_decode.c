// bench_cuda_decode.c: decode throughput of the GPU model (actor/gpu_model.h)
// in bf16, with random weights of the Qwen2.5-0.5B and Qwen2.5-1.5B shapes
// (their config.json is written here and read back through the normal
// loader), at batch 1, 64 and 256 with ~512 tokens of context already in
// the cache, CUDA graphs on and off. A step is actor_gpu_decode_sample
// (forward, greedy sampling on the device, ids and log-probs to the host).
//
// Decode is bound by memory: a step reads every weight once (the tied
// embedding as the LM head) and each sequence's cached K/V. The floor per
// step is weight bytes + batch * KV bytes per sequence; the achieved GB/s is
// that divided by the step time, compared with the device's HBM bandwidth.
//
// usage: bench_cuda_decode [--steps N] [--ctx N] [--only-05b]
// Prints "bench_cuda_decode: skipped: no CUDA device" and exits 0 without one.
#include <stdio.h>   // printf, fopen
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp, strstr
#include <unistd.h>  // rmdir

#include "actor/gpu_model.h"  // actor_gpu_*
#include "actor/model.h"      // actor_model_create, actor_model_init_random
#include "core/core.h"        // rlc_now, rlc_path_join
#include "kernels/kernels.h"  // kernels_cuda_query

#ifdef RLC_HAVE_CUDA

enum { MAX_BATCH = 256, PREFILL_CHUNK = 512, WARMUP = 3 };

typedef struct {
    const char *name;
    int hidden, layers, heads, kv_heads, intermediate;
} bench_shape;

static const bench_shape k_shapes[] = {
    {"qwen2.5-0.5B-shape", 896, 24, 14, 2, 4864},
    {"qwen2.5-1.5B-shape", 1536, 28, 12, 2, 8960},
};

static int report(rlc_status s) {
    if (s == RLC_OK) return 0;
    fprintf(stderr, "bench_cuda_decode: %s: %s\n", rlc_status_name(s), rlc_last_error());
    return 1;
}

// The HBM bandwidth of the device named in `query` (kernels_cuda_query's
// text), in bytes/s, and which figure was taken; 0 when unknown.
static double peak_bandwidth(const char *query, const char **which) {
    if (strstr(query, "H200")) return *which = "H200 4.8 TB/s", 4.8e12;
    if (strstr(query, "H100") && strstr(query, "PCIe")) return *which = "H100 PCIe 2.0 TB/s", 2.0e12;
    if (strstr(query, "H100")) return *which = "H100 SXM 3.35 TB/s", 3.35e12;
    if (strstr(query, "A100") && strstr(query, "80GB")) return *which = "A100 80GB 2.0 TB/s", 2.0e12;
    if (strstr(query, "A100")) return *which = "A100 40GB 1.56 TB/s", 1.555e12;
    return *which = "unknown device: no HBM figure", 0.0;
}

static rlc_status load_shape(const bench_shape *sh, actor_model **out) {
    char dir[] = "/tmp/rlc_bench_cuda_XXXXXX", path[512];
    if (!mkdtemp(dir)) return rlc_errorf(RLC_ERR_IO, "mkdtemp failed");
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "config.json"));
    FILE *f = fopen(path, "w");
    if (!f) return rlc_errorf(RLC_ERR_IO, "%s: cannot write", path);
    fprintf(f,
            "{\"model_type\": \"qwen2\", \"architectures\": [\"Qwen2ForCausalLM\"],\n"
            " \"vocab_size\": 151936, \"hidden_size\": %d, \"intermediate_size\": %d,\n"
            " \"num_hidden_layers\": %d, \"num_attention_heads\": %d, \"num_key_value_heads\": %d,\n"
            " \"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,\n"
            " \"tie_word_embeddings\": true, \"bos_token_id\": 151643, \"eos_token_id\": 151643}\n",
            sh->hidden, sh->intermediate, sh->layers, sh->heads, sh->kv_heads);
    fclose(f);
    actor_config cfg;
    rlc_status s = actor_config_load(path, &cfg);
    remove(path);
    rmdir(dir);
    RLC_TRY(s);
    RLC_TRY(actor_model_create(&cfg, out));
    actor_model_init_random(*out, 1234, 0.02f);
    return RLC_OK;
}

// Fills slot 0 with ctx tokens by prefill and copies it into the other slots.
static rlc_status fill_context(actor_gpu_model *g, int vocab, int ctx, int n_slots) {
    static int tokens[PREFILL_CHUNK], slots[PREFILL_CHUNK], pos[PREFILL_CHUNK];
    static unsigned char want[PREFILL_CHUNK];  // no logits
    for (int at = 0; at < ctx; at += PREFILL_CHUNK) {
        int n = ctx - at < PREFILL_CHUNK ? ctx - at : PREFILL_CHUNK;
        for (int i = 0; i < n; i++) {
            tokens[i] = (int)((7919u * (unsigned)(at + i) + 13u) % (unsigned)vocab);
            slots[i] = 0;
            pos[i] = at + i;
        }
        RLC_TRY(actor_gpu_forward(g, tokens, slots, pos, n, want, NULL));
    }
    for (int s = 1; s < n_slots; s++) RLC_TRY(actor_gpu_kv_copy(g, s, 0, ctx));
    return RLC_OK;
}

// Decodes `steps` tokens for slots 0..batch-1 from position ctx; seconds per step.
static rlc_status time_decode(actor_gpu_model *g, int batch, int ctx, int steps, double *sec_per_step) {
    static int tokens[MAX_BATCH], slots[MAX_BATCH], pos[MAX_BATCH], ids[MAX_BATCH];
    static float lps[MAX_BATCH];
    for (int i = 0; i < batch; i++) tokens[i] = 100 + i, slots[i] = i;
    double t0 = 0;
    for (int s = 0; s < WARMUP + steps; s++) {
        if (s == WARMUP) t0 = rlc_now();
        for (int i = 0; i < batch; i++) pos[i] = ctx + s;
        RLC_TRY(actor_gpu_decode_sample(g, tokens, slots, pos, batch, NULL, NULL, NULL, NULL, ids, lps));
        memcpy(tokens, ids, sizeof(int) * (size_t)batch);
    }
    *sec_per_step = (rlc_now() - t0) / steps;
    return RLC_OK;
}

static rlc_status run_shape(const bench_shape *sh, int ctx, int steps, double peak) {
    actor_model *m = NULL;
    RLC_TRY(load_shape(sh, &m));
    const actor_config *c = actor_model_config(m);
    actor_gpu_model *g = NULL;
    rlc_status s = actor_gpu_model_create(m, 0, ACTOR_GPU_BF16, MAX_BATCH, ctx + WARMUP + steps + 1, PREFILL_CHUNK, &g);
    actor_model_free(m);
    RLC_TRY(s);
    size_t w_bytes, kv_bytes, other;
    actor_gpu_model_memory(g, &w_bytes, &kv_bytes, &other);
    // K and V of one sequence at the context length, read by every step.
    double kv_seq = 2.0 * c->n_layers * (double)ctx * c->n_kv_heads * c->head_dim * 2;
    printf("%s: %.0f M params, weights %.1f MiB bf16, KV cache %.1f MiB, other %.1f MiB; context %d\n", sh->name,
           w_bytes / 2 / 1e6, w_bytes / 1048576.0, kv_bytes / 1048576.0, other / 1048576.0, ctx);
    printf("  floor at batch 1: %.1f MB per token (weights %.1f MB + KV %.2f MB)\n", (w_bytes + kv_seq) / 1e6,
           w_bytes / 1e6, kv_seq / 1e6);
    s = fill_context(g, c->vocab_size, ctx, MAX_BATCH);
    const int batches[] = {1, 64, 256};
    for (int graphs = 1; graphs >= 0 && s == RLC_OK; graphs--) {
        actor_gpu_model_set_graphs(g, graphs);
        for (size_t b = 0; b < sizeof batches / sizeof batches[0] && s == RLC_OK; b++) {
            double sec;
            s = time_decode(g, batches[b], ctx, steps, &sec);
            if (s != RLC_OK) break;
            double bytes = w_bytes + batches[b] * kv_seq, gbs = bytes / sec / 1e9;
            printf("  batch %3d graphs %-3s  %8.3f ms/step  %10.1f tok/s  %7.1f GB/s", batches[b], graphs ? "on" : "off",
                   sec * 1e3, batches[b] / sec, gbs);
            if (peak > 0) printf("  %5.1f%% of HBM", 100.0 * bytes / sec / peak);
            printf("\n");
        }
    }
    actor_gpu_model_free(g);
    return s;
}

#endif  // RLC_HAVE_CUDA

int main(int argc, char **argv) {
    int steps = 32, ctx = 512, only_05b = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ctx") == 0 && i + 1 < argc) ctx = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only-05b") == 0) only_05b = 1;
        else {
            fprintf(stderr, "usage: bench_cuda_decode [--steps N] [--ctx N] [--only-05b]\n");
            return 2;
        }
    }
    if (steps < 1 || ctx < 1) {
        fprintf(stderr, "bench_cuda_decode: --steps and --ctx must be positive\n");
        return 2;
    }
    char query[4096];
    int n_dev = 0;
    if (!kernels_cuda_compiled() || kernels_cuda_query(&n_dev, query, sizeof query) != RLC_OK || n_dev == 0) {
        printf("bench_cuda_decode: skipped: no CUDA device\n");
        return 0;
    }
#ifdef RLC_HAVE_CUDA
    const char *which;
    double peak = peak_bandwidth(query, &which);
    printf("%sbandwidth reference: %s\n", query, which);
    int n_shapes = only_05b ? 1 : (int)(sizeof k_shapes / sizeof k_shapes[0]);
    for (int i = 0; i < n_shapes; i++)
        if (report(run_shape(&k_shapes[i], ctx, steps, peak))) return 1;
#else
    (void)only_05b;
#endif
    return 0;
}
