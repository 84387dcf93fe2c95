// bench_cuda_attention.c: the CUDA attention family (kc_attention.h) in bf16
// at Qwen2.5 shapes (0.5B: 14 heads, 2 KV heads, D 64; 1.5B: 12 heads, 2 KV
// heads, D 128): the training forward and backward over a packed batch of
// 16384 tokens cut into documents of 1024 or 4096, in TFLOP/s, and decode
// over a KV cache at context 1024 for batch 1, 64 and 256, in GB/s of K and V
// read. FLOPs count the causal half of the score matrix: forward 4 * H * D *
// sum L (L + 1) / 2; backward 2.5 x forward (the usual convention; these
// kernels recompute P twice, so they do more). Prints a skip line and exits 0
// without a device.
//
//     bench_cuda_attention [--iters N]
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi, malloc
#include <string.h>  // strcmp
#include <time.h>    // clock_gettime

#include "core/core.h"        // rlc_last_error
#include "kernels/kernels.h"  // kernels_cuda_compiled

#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_attention.h"  // the ops timed
#include "kernels/cuda/kcuda.h"         // kc_open, kc_malloc, kc_sync

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    const char *name;
    int H, KV, D;
} shape;

static const shape shapes[] = {{"qwen2.5-0.5b", 14, 2, 64}, {"qwen2.5-1.5b", 12, 2, 128}};

// Device buffer of n bf16 values, small random numbers.
static void *rand_bf16(kc_ctx *c, size_t n) {
    kc_bf16 *h = malloc(n * sizeof *h);
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = kc_f32_to_bf16(((s >> 8) * (1.0f / 16777216.0f) - 0.5f) * 2.0f);
    }
    void *d = NULL;
    if (kc_malloc(c, &d, n * sizeof *h) == RLC_OK && kc_upload(c, d, h, n * sizeof *h) != RLC_OK) {
        kc_free(c, d);
        d = NULL;
    }
    free(h);
    return d;
}

static int bench_train(kc_ctx *c, const shape *sh, int T, int iters) {
    const int n = 16384, n_seqs = n / T, H = sh->H, KV = sh->KV, D = sh->D;
    const size_t nq = (size_t)n * H * D, nk = (size_t)n * KV * D;
    int cu[17];
    for (int s = 0; s <= n_seqs; s++) cu[s] = s * T;
    void *q = rand_bf16(c, nq), *k = rand_bf16(c, nk), *v = rand_bf16(c, nk), *dout = rand_bf16(c, nq);
    void *out = NULL, *dq = NULL, *dk = NULL, *dv = NULL, *scratch = NULL;
    float *lse = NULL, *delta = NULL;
    int *d_cu = NULL;
    int ok = q && k && v && dout && kc_malloc(c, &out, nq * 2) == RLC_OK && kc_malloc(c, &dq, nq * 2) == RLC_OK &&
             kc_malloc(c, &dk, nk * 2) == RLC_OK && kc_malloc(c, &dv, nk * 2) == RLC_OK &&
             kc_malloc(c, (void **)&lse, (size_t)n * H * 4) == RLC_OK &&
             kc_malloc(c, (void **)&delta, (size_t)n * H * 4) == RLC_OK &&
             kc_malloc(c, &scratch, kc_attention_backward_scratch_bytes(n, H, KV, D)) == RLC_OK &&
             kc_malloc(c, (void **)&d_cu, sizeof cu) == RLC_OK && kc_upload(c, d_cu, cu, sizeof cu) == RLC_OK;
    if (ok) {
        double flops = 4.0 * H * D * n_seqs * ((double)T * (T + 1) / 2);
        kc_attention_packed(c, KC_BF16, out, lse, q, k, v, d_cu, n_seqs, n, H, KV, D);  // warm-up
        ok = kc_sync(c) == RLC_OK;
        double t0 = now_s();
        for (int it = 0; it < iters && ok; it++)
            kc_attention_packed(c, KC_BF16, out, lse, q, k, v, d_cu, n_seqs, n, H, KV, D);
        ok = ok && kc_sync(c) == RLC_OK;
        double t_fwd = (now_s() - t0) / iters;
        kc_attention_packed_backward(c, KC_BF16, dq, dk, dv, delta, scratch, dout, q, k, v, out, lse, d_cu, n_seqs, n,
                                     H, KV, D);
        ok = ok && kc_sync(c) == RLC_OK;
        t0 = now_s();
        for (int it = 0; it < iters && ok; it++)
            kc_attention_packed_backward(c, KC_BF16, dq, dk, dv, delta, scratch, dout, q, k, v, out, lse, d_cu,
                                         n_seqs, n, H, KV, D);
        ok = ok && kc_sync(c) == RLC_OK;
        double t_bwd = (now_s() - t0) / iters;
        if (ok)
            printf("train  %-13s T=%-5d n=%d  fwd %7.3f ms %6.2f TFLOP/s   bwd %7.3f ms %6.2f TFLOP/s\n", sh->name, T,
                   n, t_fwd * 1e3, flops / t_fwd * 1e-12, t_bwd * 1e3, 2.5 * flops / t_bwd * 1e-12);
    }
    if (!ok) fprintf(stderr, "bench_cuda_attention: train %s T=%d: %s\n", sh->name, T, rlc_last_error());
    kc_free(c, q), kc_free(c, k), kc_free(c, v), kc_free(c, dout), kc_free(c, out), kc_free(c, dq);
    kc_free(c, dk), kc_free(c, dv), kc_free(c, lse), kc_free(c, delta), kc_free(c, scratch), kc_free(c, d_cu);
    return ok;
}

static int bench_decode(kc_ctx *c, const shape *sh, int batch, int ctx, int iters) {
    const int H = sh->H, KV = sh->KV, D = sh->D, max_seq = ctx;
    const size_t ncache = (size_t)batch * max_seq * KV * D, nq = (size_t)batch * H * D;
    int *slot = malloc(batch * sizeof *slot), *pos = malloc(batch * sizeof *pos);
    for (int i = 0; i < batch; i++) slot[i] = i, pos[i] = ctx - 1;
    void *kc = rand_bf16(c, ncache), *vc = rand_bf16(c, ncache), *q = rand_bf16(c, nq), *out = NULL;
    int *d_slot = NULL, *d_pos = NULL;
    int ok = kc && vc && q && kc_malloc(c, &out, nq * 2) == RLC_OK &&
             kc_malloc(c, (void **)&d_slot, batch * sizeof(int)) == RLC_OK &&
             kc_malloc(c, (void **)&d_pos, batch * sizeof(int)) == RLC_OK &&
             kc_upload(c, d_slot, slot, batch * sizeof(int)) == RLC_OK &&
             kc_upload(c, d_pos, pos, batch * sizeof(int)) == RLC_OK;
    if (ok) {
        kc_attention_decode(c, KC_BF16, out, q, kc, vc, d_slot, d_pos, batch, H, KV, D, max_seq);
        ok = kc_sync(c) == RLC_OK;
        double t0 = now_s();
        for (int it = 0; it < iters && ok; it++)
            kc_attention_decode(c, KC_BF16, out, q, kc, vc, d_slot, d_pos, batch, H, KV, D, max_seq);
        ok = ok && kc_sync(c) == RLC_OK;
        double t = (now_s() - t0) / iters, bytes = 2.0 * ncache * 2;  // K and V, bf16
        if (ok)
            printf("decode %-13s batch=%-4d ctx=%d  %8.1f us  %7.1f GB/s\n", sh->name, batch, ctx, t * 1e6,
                   bytes / t * 1e-9);
    }
    if (!ok) fprintf(stderr, "bench_cuda_attention: decode %s batch=%d: %s\n", sh->name, batch, rlc_last_error());
    kc_free(c, kc), kc_free(c, vc), kc_free(c, q), kc_free(c, out), kc_free(c, d_slot), kc_free(c, d_pos);
    free(slot), free(pos);
    return ok;
}
#endif

int main(int argc, char **argv) {
    int iters = 20;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
    if (iters < 1) iters = 1;
    if (!kernels_cuda_compiled()) {
        printf("bench_cuda_attention: skipped: no CUDA device\n");
        return 0;
    }
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    if (kc_open(0, &c) != RLC_OK) {
        printf("bench_cuda_attention: skipped: no CUDA device\n");
        return 0;
    }
    int ok = 1;
    for (int s = 0; s < 2; s++) {
        ok &= bench_train(c, &shapes[s], 1024, iters);
        ok &= bench_train(c, &shapes[s], 4096, iters);
    }
    static const int batches[] = {1, 64, 256};
    for (int s = 0; s < 2; s++)
        for (int b = 0; b < 3; b++) ok &= bench_decode(c, &shapes[s], batches[b], 1024, iters * 5);
    kc_close(c);
    return ok ? 0 : 1;
#else
    return 0;
#endif
}
