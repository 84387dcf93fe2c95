// bench_cuda_train.c: training throughput of the GPU step (actor/gpu_train.h)
// on random-weight models of the Qwen2.5-0.5B shape (hidden 896, 24 layers,
// 14 heads, 2 KV heads, MLP 4864, vocabulary 151936, tied, q/k/v biases) and
// the Qwen2.5-1.5B shape (1536, 28 layers, 12 heads, 2 KV heads, MLP 8960),
// bf16, documents of 1024 tokens packed into one batch (8 by default), with
// and without activation recomputation. Per case it prints the forward,
// backward and optimizer times, training tokens/s (forward + backward) and
// MFU:
//   model FLOPs = 6 x N x tokens + attention (causal, per document:
//                 3 x 4 x L x H x D x sum over documents of len (len + 1) / 2),
//   N = the parameters that take part in matmuls (all of them when tied; the
//       embedding table is left out when untied: a lookup is no matmul),
//   MFU = model FLOPs / s over the device's dense bf16 peak, picked from the
//         device name (H100 SXM 989 TFLOP/s, ...; printed); recomputation's
//         extra forward is not counted (it is hardware work, not model work),
// and the seconds of one AdamW step over all parameters. Without a CUDA
// device (or backend) it prints "bench_cuda_train: skipped: no CUDA device"
// and exits 0.
//
// usage: bench_cuda_train [--docs N] [--seq N] [--steps N] [--chunk IDS] [--f32]
//                         [--only 0.5b|1.5b]
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi, malloc
#include <string.h>  // strcmp, strstr
#include <time.h>    // clock_gettime

#include "actor/gpu_train.h"  // actor_gpu_*
#include "actor/model.h"      // actor_model_create, actor_model_init_random
#include "core/core.h"        // rlc_status, rlc_last_error
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static actor_config qwen_config(int hidden, int layers, int heads, int inter) {
    actor_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.model_type, sizeof c.model_type, "qwen2");
    c.arch = ACTOR_ARCH_QWEN2;
    c.attn_bias = 1;
    c.tie_embeddings = 1;
    c.rms_eps = 1e-6f;
    c.rope_theta = 1000000.0f;
    c.max_position = 32768;
    c.bos_id = -1;
    c.vocab_size = 151936;
    c.hidden_size = hidden;
    c.n_layers = layers;
    c.n_heads = heads;
    c.n_kv_heads = 2;
    c.head_dim = hidden / heads;
    c.intermediate_size = inter;
    return c;
}

// The dense bf16 peak of the device (TFLOP/s) from its name; 0 when unknown.
static double peak_tflops(const char *name, const char **label) {
    static const struct {
        const char *match;
        double tflops;
        const char *label;
    } peaks[] = {
        {"H100 PCIe", 756, "H100 PCIe, 756 TFLOP/s"},
        {"H100 NVL", 835, "H100 NVL, 835 TFLOP/s"},
        {"H100", 989, "H100 SXM, 989 TFLOP/s"},
        {"H200", 989, "H200, 989 TFLOP/s"},
        {"H800", 989, "H800, 989 TFLOP/s"},
        {"B200", 2250, "B200, 2250 TFLOP/s"},
        {"A100", 312, "A100, 312 TFLOP/s"},
        {"A800", 312, "A800, 312 TFLOP/s"},
        {"L40S", 362, "L40S, 362 TFLOP/s"},
        {"RTX 4090", 165, "RTX 4090, 165 TFLOP/s (float32 accumulation)"},
    };
    for (size_t i = 0; i < sizeof peaks / sizeof *peaks; i++)
        if (strstr(name, peaks[i].match)) {
            *label = peaks[i].label;
            return peaks[i].tflops;
        }
    *label = "unknown device: no peak, MFU not computed";
    return 0;
}

typedef struct {
    int docs, seq, steps, chunk, bf16;
    double peak;  // TFLOP/s, 0: unknown
} bench_opts;

static int report(const char *what, rlc_status s) {
    if (s == RLC_OK) return 0;
    printf("  %s: %s: %s\n", what, rlc_status_name(s), rlc_last_error());
    return 1;
}

static void run_case(const char *name, const actor_config *c, const bench_opts *o, int recompute) {
    int T = o->docs * o->seq;
    printf("%s, %s, %d x %d tokens, vocab chunk %d%s:\n", name, o->bf16 ? "bf16" : "f32", o->docs, o->seq, o->chunk,
           recompute ? ", recompute" : "");
    actor_model *m = NULL;
    if (report("model", actor_model_create(c, &m))) return;
    actor_model_init_random(m, 1234, 0.02f);
    const actor_params *p = actor_model_params(m);
    double n_params = 0;
    for (int i = 0; i < p->n_tensors; i++) n_params += (double)p->tensors[i].numel;
    double n_matmul = n_params - (c->tie_embeddings ? 0 : (double)c->vocab_size * c->hidden_size);
    actor_gpu_trainer *t = NULL;
    double t0 = now();
    rlc_status s = actor_gpu_trainer_create(m, 0, o->bf16, T, o->chunk, recompute, &t);
    double t_create = now() - t0;
    actor_model_free(m);  // the trainer keeps its own copy
    if (report("trainer", s)) return;
    size_t state = 0, total = actor_gpu_train_bytes(t, &state);
    printf("  %.0fM parameters; device memory %.2f GiB state (%.1f bytes/parameter) + %.2f GiB activations "
           "(%.1f KiB/token); created in %.1f s\n",
           n_params / 1e6, state / 1073741824.0, state / n_params, (total - state) / 1073741824.0,
           (total - state) / 1024.0 / T, t_create);

    int *tokens = malloc(sizeof(int) * (size_t)T), *targets = malloc(sizeof(int) * (size_t)T);
    int *cu = malloc(sizeof(int) * (size_t)(o->docs + 1));
    float *lp = malloc(sizeof(float) * (size_t)T), *dlp = malloc(sizeof(float) * (size_t)T);
    if (!tokens || !targets || !cu || !lp || !dlp) {
        printf("  out of host memory\n");
        goto done;
    }
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < T; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        tokens[i] = (int)(x % (unsigned long long)c->vocab_size);
    }
    int n_valid = 0;
    double att = 0;
    for (int d = 0; d <= o->docs; d++) cu[d] = d * o->seq;
    for (int i = 0; i < T; i++) {
        targets[i] = (i + 1) % o->seq ? tokens[i + 1] : -1;
        n_valid += targets[i] >= 0;
    }
    for (int i = 0; i < T; i++) dlp[i] = targets[i] >= 0 ? -1.0f / (float)n_valid : 0.0f;
    att = 4.0 * c->n_layers * c->n_heads * c->head_dim * o->docs * ((double)o->seq * (o->seq + 1) / 2);
    double flops = 6.0 * n_matmul * T + 3.0 * att;
    actor_batch b = {T, o->docs, tokens, cu, targets};

    printf("  %-5s %10s %10s %10s %12s %8s %16s\n", "step", "fwd ms", "bwd ms", "adamw ms", "tokens/s", "MFU",
           "tokens/s w/ opt");
    for (int step = 0; step <= o->steps; step++) {  // step 0 warms up
        double norm = 0;
        if (report("zero", actor_gpu_grads_zero(t))) break;
        double a = now();
        if (report("forward", actor_gpu_train_forward(t, &b, lp, NULL))) break;
        double f = now();
        if (report("backward", actor_gpu_train_backward(t, dlp, NULL))) break;
        double g = now();
        if (report("adamw", actor_gpu_adamw_step(t, 1e-5, 0.9, 0.95, 1e-8, 0.1, 1.0, &norm))) break;
        double h = now();
        double tps = T / (g - a);
        char mfu[32] = "-";
        if (o->peak > 0) snprintf(mfu, sizeof mfu, "%.1f%%", 100.0 * flops / (g - a) / (o->peak * 1e12));
        printf("  %-5s %10.1f %10.1f %10.1f %12.0f %8s %16.0f\n", step ? "" : "warm", 1e3 * (f - a), 1e3 * (g - f),
               1e3 * (h - g), tps, mfu, T / (h - a));
        if (step == o->steps)
            printf("  steady state: %.0f tokens/s, %.1f TFLOP/s model, %s MFU, %.3f s per optimizer step "
                   "(grad norm %.3f)\n",
                   tps, flops / (g - a) / 1e12, mfu, h - g, norm);
    }
done:
    free(tokens), free(targets), free(cu), free(lp), free(dlp);
    actor_gpu_trainer_free(t);
}

int main(int argc, char **argv) {
    bench_opts o = {.docs = 8, .seq = 1024, .steps = 3, .chunk = 8192, .bf16 = 1, .peak = 0};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--docs") && i + 1 < argc) o.docs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seq") && i + 1 < argc) o.seq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) o.steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) o.chunk = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--f32")) o.bf16 = 0;
        else {
            fprintf(stderr, "usage: bench_cuda_train [--docs N] [--seq N] [--steps N] [--chunk IDS] [--f32] "
                            "[--only 0.5b|1.5b]\n");
            return 2;
        }
    }
    if (o.docs < 1 || o.seq < 2 || o.steps < 1) {
        fprintf(stderr, "bench_cuda_train: --docs >= 1, --seq >= 2, --steps >= 1\n");
        return 2;
    }
    char buf[4096];
    int n = 0;
    if (!kernels_cuda_compiled() || kernels_cuda_query(&n, buf, sizeof buf) != RLC_OK || n == 0) {
        printf("bench_cuda_train: skipped: no CUDA device\n");
        return 0;
    }
    // "cuda:0 NAME, sm_XY, ..." : the name of device 0.
    char name[256] = "?";
    const char *at = strstr(buf, "cuda:0 "), *end = at ? strstr(at, ", sm_") : NULL;
    if (at && end && end - at - 7 < (long)sizeof name) {
        memcpy(name, at + 7, (size_t)(end - at - 7));
        name[end - at - 7] = '\0';
    }
    const char *label;
    o.peak = peak_tflops(name, &label);
    printf("device: %s; bf16 dense peak: %s\n", name, label);
    struct {
        const char *name;
        actor_config c;
    } shapes[] = {
        {"0.5b", qwen_config(896, 24, 14, 4864)},
        {"1.5b", qwen_config(1536, 28, 12, 8960)},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        if (only && strcmp(only, shapes[k].name)) continue;
        char title[64];
        snprintf(title, sizeof title, "Qwen2.5-%s shape", shapes[k].name);
        for (int rc = 0; rc <= 1; rc++) run_case(title, &shapes[k].c, &o, rc);
    }
    return 0;
}
