// bench_cuda_gemm.c: bfloat16 GEMM throughput of the CUDA backend on the
// projection shapes of Qwen2.5-0.5B and 1.5B (qkv, o, gate+up, down) at
// 1024 * 8 tokens, forward (kc_matmul) and backward (kc_matmul_backward: dx
// and the float32 dw), in TFLOP/s and as a share of the device's dense bf16
// peak when the device name says what that is; then the fused lm_head +
// log-softmax (kc_lm_head_logprob and its backward) over the 151,936-id
// vocabulary in tokens/s. Prints a skip line and exits 0 without a device.
//
//     bench_cuda_gemm [--tokens N] [--iters N] [--chunk N] [--model 0.5b|1.5b]
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp, strstr

#include "core/core.h"        // rlc_now
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_gemm.h"
#include "kernels/cuda/kc_logprob.h"
#include "kernels/cuda/kcuda.h"
#endif

#ifdef RLC_HAVE_CUDA

typedef struct {
    const char *name;
    int hidden, intermediate, heads, kv_heads, head_dim, vocab;
} model_shape;

static const model_shape models[] = {
    {"Qwen2.5-0.5B", 896, 4864, 14, 2, 64, 151936},
    {"Qwen2.5-1.5B", 1536, 8960, 12, 2, 128, 151936},
};

// Dense bf16 tensor-core peak (TFLOP/s, no sparsity) guessed from the device
// name; 0 when unknown.
static double bf16_peak(const char *dev, const char **which) {
    static const struct {
        const char *key, *label;
        double tflops;
    } table[] = {
        {"H100 PCIe", "H100 PCIe", 756},  {"H100 NVL", "H100 NVL", 835}, {"H100", "H100 SXM", 989},
        {"GH200", "GH200", 989},          {"H200", "H200 SXM", 989},     {"B200", "B200", 2250},
        {"A100", "A100", 312},            {"L40S", "L40S", 362},         {"A10G", "A10G", 70},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strstr(dev, table[i].key)) {
            *which = table[i].label;
            return table[i].tflops;
        }
    *which = "unknown";
    return 0;
}

static double peak = 0;

static void report(const char *what, double flops, double seconds) {
    double tf = flops / seconds * 1e-12;
    if (peak > 0)
        printf("  %-34s %8.3f ms  %7.1f TFLOP/s  %5.1f%% of peak\n", what, seconds * 1e3, tf, 100.0 * tf / peak);
    else
        printf("  %-34s %8.3f ms  %7.1f TFLOP/s\n", what, seconds * 1e3, tf);
}

static void *dev_buf(kc_ctx *c, size_t bytes, int *ok) {
    void *p = NULL;
    if (kc_malloc(c, &p, bytes) != RLC_OK) {
        fprintf(stderr, "bench_cuda_gemm: %s\n", rlc_last_error());
        *ok = 0;
        return NULL;
    }
    kc_memset(c, p, 0x3c, bytes);  // bf16 0x3c3c and f32 0x3c3c3c3c are both ~0.0115
    return p;
}

// Seconds per call of the GEMMs of one projection, averaged over iters.
static int bench_proj(kc_ctx *c, const char *name, int T, int d_in, int d_out, int iters) {
    int ok = 1;
    void *x = dev_buf(c, (size_t)T * d_in * 2, &ok), *w = dev_buf(c, (size_t)d_out * d_in * 2, &ok);
    void *out = dev_buf(c, (size_t)T * d_out * 2, &ok), *dx = dev_buf(c, (size_t)T * d_in * 2, &ok);
    float *dw = dev_buf(c, (size_t)d_out * d_in * 4, &ok);
    if (ok) {
        for (int i = 0; i < 2; i++) kc_matmul(c, KC_BF16, out, x, w, NULL, T, d_in, d_out);
        ok = kc_sync(c) == RLC_OK;
        double t0 = rlc_now();
        for (int i = 0; i < iters; i++) kc_matmul(c, KC_BF16, out, x, w, NULL, T, d_in, d_out);
        ok = ok && kc_sync(c) == RLC_OK;
        double fwd = (rlc_now() - t0) / iters;
        for (int i = 0; i < 2; i++) kc_matmul_backward(c, KC_BF16, dx, dw, NULL, out, x, w, T, d_in, d_out, 0);
        ok = ok && kc_sync(c) == RLC_OK;
        t0 = rlc_now();
        for (int i = 0; i < iters; i++) kc_matmul_backward(c, KC_BF16, dx, dw, NULL, out, x, w, T, d_in, d_out, 0);
        ok = ok && kc_sync(c) == RLC_OK;
        double bwd = (rlc_now() - t0) / iters;
        char what[96];
        double flops = 2.0 * T * d_in * d_out;
        snprintf(what, sizeof what, "%s %dx%d fwd", name, d_in, d_out);
        report(what, flops, fwd);
        snprintf(what, sizeof what, "%s %dx%d bwd (dx, dw)", name, d_in, d_out);
        report(what, 2 * flops, bwd);
        if (!ok) fprintf(stderr, "bench_cuda_gemm: %s\n", rlc_last_error());
    }
    kc_free(c, x), kc_free(c, w), kc_free(c, out), kc_free(c, dx), kc_free(c, dw);
    return ok;
}

static int bench_head(kc_ctx *c, const model_shape *m, int T, int chunk, int iters) {
    int ok = 1, C = m->hidden, V = m->vocab;
    int vc = chunk > V ? V : chunk;
    void *h = dev_buf(c, (size_t)T * C * 2, &ok), *w = dev_buf(c, (size_t)V * C * 2, &ok);
    float *dh = dev_buf(c, (size_t)T * C * sizeof(float), &ok);  // float32
    float *dw = dev_buf(c, (size_t)V * C * 4, &ok);
    float *vecs = dev_buf(c, (size_t)T * 9 * 4, &ok);  // logprob, entropy, lse, dlogprob, dentropy, stats (4)
    void *scratch = dev_buf(c, kc_lm_head_scratch_bytes(T, vc), &ok);
    int *targets = dev_buf(c, (size_t)T * sizeof(int), &ok);
    if (ok) {
        kc_memset(c, targets, 0, (size_t)T * sizeof(int));
        float *lp = vecs, *ent = vecs + T, *lse = vecs + 2 * (size_t)T, *dlp = vecs + 3 * (size_t)T;
        float *dent = vecs + 4 * (size_t)T, *stats = vecs + 5 * (size_t)T;
        kc_lm_head_logprob(c, KC_BF16, lp, ent, lse, stats, h, w, targets, T, C, V, vc, scratch);
        ok = kc_sync(c) == RLC_OK;
        double t0 = rlc_now();
        for (int i = 0; i < iters; i++)
            kc_lm_head_logprob(c, KC_BF16, lp, ent, lse, stats, h, w, targets, T, C, V, vc, scratch);
        ok = ok && kc_sync(c) == RLC_OK;
        double fwd = (rlc_now() - t0) / iters;
        kc_lm_head_logprob_backward(c, KC_BF16, dh, dw, h, w, targets, lse, ent, dlp, dent, T, C, V, vc, scratch, 0);
        ok = ok && kc_sync(c) == RLC_OK;
        t0 = rlc_now();
        for (int i = 0; i < iters; i++)
            kc_lm_head_logprob_backward(c, KC_BF16, dh, dw, h, w, targets, lse, ent, dlp, dent, T, C, V, vc, scratch,
                                        0);
        ok = ok && kc_sync(c) == RLC_OK;
        double bwd = (rlc_now() - t0) / iters;
        double flops = 2.0 * T * (double)V * C;
        char what[96];
        snprintf(what, sizeof what, "lm_head %dx%d chunk %d fwd", C, V, vc);
        report(what, flops, fwd);
        printf("  %-34s %8.0f tokens/s\n", "", T / fwd);
        snprintf(what, sizeof what, "lm_head %dx%d chunk %d bwd", C, V, vc);
        report(what, 3 * flops, bwd);  // the logits again, dh and dw
        printf("  %-34s %8.0f tokens/s\n", "", T / bwd);
        if (!ok) fprintf(stderr, "bench_cuda_gemm: %s\n", rlc_last_error());
    }
    kc_free(c, h), kc_free(c, w), kc_free(c, dh), kc_free(c, dw), kc_free(c, vecs), kc_free(c, scratch);
    kc_free(c, targets);
    return ok;
}

static int bench_model(kc_ctx *c, const model_shape *m, int T, int chunk, int iters) {
    int C = m->hidden, qkv = (m->heads + 2 * m->kv_heads) * m->head_dim;
    printf("%s: %d tokens, hidden %d, intermediate %d, vocab %d (bf16, float32 accumulation)\n", m->name, T, C,
           m->intermediate, m->vocab);
    int ok = bench_proj(c, "qkv", T, C, qkv, iters);
    ok = ok && bench_proj(c, "o", T, m->heads * m->head_dim, C, iters);
    ok = ok && bench_proj(c, "gate+up", T, C, 2 * m->intermediate, iters);
    ok = ok && bench_proj(c, "down", T, m->intermediate, C, iters);
    ok = ok && bench_head(c, m, T, chunk, iters);
    return ok;
}

#endif  // RLC_HAVE_CUDA

int main(int argc, char **argv) {
    int tokens = 1024 * 8, iters = 10, chunk = 8192, which = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) chunk = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            i++;
            which = !strcmp(argv[i], "0.5b") ? 0 : !strcmp(argv[i], "1.5b") ? 1 : -2;
        } else which = -2;
        if (which == -2 || tokens <= 0 || iters <= 0 || chunk <= 0) {
            fprintf(stderr, "usage: bench_cuda_gemm [--tokens N] [--iters N] [--chunk N] [--model 0.5b|1.5b]\n");
            return 2;
        }
    }
    if (!kernels_cuda_compiled()) {
        printf("bench_cuda_gemm: skipped: no CUDA device (this build has no CUDA backend)\n");
        return 0;
    }
#ifdef RLC_HAVE_CUDA
    char devs[2048];
    int n_dev = 0;
    kc_ctx *c = NULL;
    if (kernels_cuda_query(&n_dev, devs, sizeof devs) != RLC_OK || n_dev == 0 || kc_open(0, &c) != RLC_OK) {
        printf("bench_cuda_gemm: skipped: no CUDA device\n");
        return 0;
    }
    char *nl = strchr(devs, '\n');
    if (nl) *nl = '\0';
    const char *label;
    peak = bf16_peak(devs, &label);
    printf("%s\n", devs);
    if (peak > 0)
        printf("assumed dense bf16 peak: %.0f TFLOP/s (%s, from the device name)\n", peak, label);
    else
        printf("dense bf16 peak: unknown for this device name; no ratio printed\n");
    int ok = 1;
    for (int m = 0; m < 2 && ok; m++)
        if (which < 0 || which == m) ok = bench_model(c, &models[m], tokens, chunk, iters);
    kc_close(c);
    return ok ? 0 : 1;
#else
    return 0;
#endif
}
