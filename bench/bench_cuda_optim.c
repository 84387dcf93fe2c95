// bench_cuda_optim.c: the GPU optimizer step and sampler. AdamW (kc_sumsq +
// kc_adamw with the bf16 copy) over a Qwen2.5-0.5B-shaped parameter table
// (494M parameters; halved until master, grads, m, v and the bf16 copy fit),
// in effective GB/s at 34 bytes per parameter (the norm reads grads, 4; the
// update reads master, grad, m, v, 16, and writes master, m, v, 12, and
// bf16, 2). Sampling in rows/s at V = 151936 for batches 1, 64 and 256,
// greedy and T = 1 with top-k 50 and top-p 0.9, f32 and bf16 logits.
//
//     bench_cuda_optim [--steps N]
// Without a CUDA build or device it prints a skip line and exits 0.
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp, memset

#include "actor/params.h"
#include "core/core.h"  // rlc_now, rlc_malloc
#include "kernels/kernels.h"  // kernels_cuda_compiled

#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_optim.h"
#include "kernels/cuda/kc_sample.h"
#include "kernels/cuda/kcuda.h"

static actor_config qwen05b(void) {
    actor_config c;
    memset(&c, 0, sizeof c);
    c.arch = ACTOR_ARCH_QWEN2;
    c.attn_bias = 1, c.tie_embeddings = 1;
    c.vocab_size = 151936, c.hidden_size = 896, c.intermediate_size = 4864, c.n_layers = 24;
    c.n_heads = 14, c.n_kv_heads = 2, c.head_dim = 64;
    return c;
}

static int bench_adamw(kc_ctx *c, int steps) {
    actor_config cfg = qwen05b();
    actor_params P;
    if (actor_params_create(&cfg, &P) != RLC_OK) {
        fprintf(stderr, "bench_cuda_optim: %s\n", rlc_last_error());
        return 1;
    }
    int n_seg = P.n_tensors;
    long *off = rlc_malloc((n_seg + 1) * sizeof(long));
    unsigned char *dec = rlc_malloc(n_seg);
    for (int s = 0; s < n_seg; s++) off[s] = (long)P.tensors[s].offset, dec[s] = P.tensors[s].ndim >= 2;
    size_t n = P.numel;
    off[n_seg] = (long)n;
    actor_params_free(&P);

    float *buf = NULL;
    kc_bf16 *bf = NULL;
    while (n > 0) {  // as many parameters as fit: the first tensors of the table
        if (kc_malloc(c, (void **)&buf, 4 * n * sizeof(float)) == RLC_OK &&
            kc_malloc(c, (void **)&bf, n * sizeof(kc_bf16)) == RLC_OK)
            break;
        kc_free(c, buf), buf = NULL;
        n /= 2;
        while (n_seg > 1 && off[n_seg - 1] >= (long)n) n_seg--;
        off[n_seg] = (long)n;
    }
    long *d_off = NULL;
    unsigned char *d_dec = NULL;
    double *sumsq = NULL;
    if (!buf || kc_malloc(c, (void **)&d_off, (n_seg + 1) * sizeof(long)) != RLC_OK ||
        kc_malloc(c, (void **)&d_dec, n_seg) != RLC_OK || kc_malloc(c, (void **)&sumsq, sizeof(double)) != RLC_OK) {
        fprintf(stderr, "bench_cuda_optim: %s\n", rlc_last_error());
        return 1;
    }
    kc_upload(c, d_off, off, (n_seg + 1) * sizeof(long));
    kc_upload(c, d_dec, dec, n_seg);
    float *master = buf, *grad = buf + n, *m = buf + 2 * n, *v = buf + 3 * n;
    kc_memset(c, buf, 0, 4 * n * sizeof(float));
    kc_adamw_args a = {.lr = 1e-5f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f,
                       .max_grad_norm = 1.0f, .step = 1};
    double t0 = 0;
    for (int s = -1; s < steps; s++) {  // step -1 warms up
        if (s == 0) {
            kc_sync(c);
            t0 = rlc_now();
        }
        kc_memset(c, sumsq, 0, sizeof(double));
        kc_sumsq(c, sumsq, grad, n);
        kc_adamw(c, master, m, v, grad, bf, n, d_off, d_dec, n_seg, sumsq, &a);
        a.step++;
    }
    rlc_status st = kc_sync(c);
    double dt = (rlc_now() - t0) / steps;
    if (st != RLC_OK) fprintf(stderr, "bench_cuda_optim: %s\n", rlc_last_error());
    else
        printf("adamw: %zu params (%d tensors), %.3f ms/step, %.1f GB/s effective (34 B/param)\n", n, n_seg,
               dt * 1e3, 34.0 * n / dt / 1e9);
    kc_free(c, buf), kc_free(c, bf), kc_free(c, d_off), kc_free(c, d_dec), kc_free(c, sumsq);
    rlc_free(off), rlc_free(dec);
    return st != RLC_OK;
}

static int bench_sample(kc_ctx *c, kc_dtype dt, int n, int greedy, int iters) {
    const int V = 151936;
    size_t cells = (size_t)n * V;
    void *logits = NULL, *scratch = NULL, *lp = NULL, *ids = NULL, *temp = NULL, *tk = NULL, *tp = NULL, *rng = NULL;
    if (kc_malloc(c, &logits, cells * kc_dtype_size(dt)) != RLC_OK ||
        kc_malloc(c, &scratch, kc_sample_scratch_bytes(n, V)) != RLC_OK || kc_malloc(c, &lp, n * 4) != RLC_OK ||
        kc_malloc(c, &ids, n * 4) != RLC_OK || kc_malloc(c, &temp, n * 4) != RLC_OK || kc_malloc(c, &tk, n * 4) != RLC_OK ||
        kc_malloc(c, &tp, n * 4) != RLC_OK || kc_malloc(c, &rng, n * 8) != RLC_OK) {
        fprintf(stderr, "bench_cuda_optim: %s\n", rlc_last_error());
        return 1;
    }
    float *h = rlc_malloc(cells * sizeof(float)), *ht = rlc_malloc(n * sizeof(float)), *hp = rlc_malloc(n * sizeof(float));
    int *hk = rlc_malloc(n * sizeof(int));
    uint64_t *hr = rlc_malloc(n * sizeof(uint64_t)), s = 88172645463325252ull;
    for (size_t i = 0; i < cells; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        h[i] = (float)((s >> 40) & 0xffff) / 4096.0f - 8.0f;  // [-8, 8)
    }
    for (int i = 0; i < n; i++) ht[i] = greedy ? 0.0f : 1.0f, hk[i] = 50, hp[i] = 0.9f, hr[i] = 1234567ull + i;
    kc_upload(c, temp, ht, n * 4), kc_upload(c, tk, hk, n * 4), kc_upload(c, tp, hp, n * 4), kc_upload(c, rng, hr, n * 8);
    if (dt == KC_F32) {
        kc_upload(c, logits, h, cells * 4);
    } else {  // through a float32 staging buffer, converted on the device
        void *f = NULL;
        if (kc_malloc(c, &f, cells * 4) == RLC_OK) {
            kc_upload(c, f, h, cells * 4);
            kc_convert(c, logits, KC_BF16, f, KC_F32, cells);
            kc_sync(c);
            kc_free(c, f);
        }
    }
    double t0 = 0;
    for (int it = -1; it < iters; it++) {
        if (it == 0) {
            kc_sync(c);
            t0 = rlc_now();
        }
        kc_sample(c, dt, ids, lp, logits, n, V, temp, tk, tp, rng, scratch);
    }
    rlc_status st = kc_sync(c);
    double el = (rlc_now() - t0) / iters;
    if (st != RLC_OK) fprintf(stderr, "bench_cuda_optim: %s\n", rlc_last_error());
    else
        printf("sample %-4s %-22s batch %3d: %8.1f us/call, %10.0f rows/s\n", kc_dtype_name(dt),
               greedy ? "greedy" : "T=1 top-k 50 top-p 0.9", n, el * 1e6, n / el);
    kc_free(c, logits), kc_free(c, scratch), kc_free(c, lp), kc_free(c, ids), kc_free(c, temp), kc_free(c, tk);
    kc_free(c, tp), kc_free(c, rng);
    rlc_free(h), rlc_free(ht), rlc_free(hp), rlc_free(hk), rlc_free(hr);
    return st != RLC_OK;
}
#endif

int main(int argc, char **argv) {
    int steps = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_cuda_optim [--steps N]\n");
            return 2;
        }
    }
    if (steps < 1) steps = 1;
    if (!kernels_cuda_compiled()) {
        printf("bench_cuda_optim: skipped: no CUDA device\n");
        return 0;
    }
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    if (kc_open(0, &c) != RLC_OK) {
        printf("bench_cuda_optim: skipped: no CUDA device\n");
        return 0;
    }
    int rc = bench_adamw(c, steps);
    const int batches[3] = {1, 64, 256};
    for (int dt = KC_F32; dt <= KC_BF16; dt++)
        for (int greedy = 1; greedy >= 0; greedy--)
            for (int b = 0; b < 3; b++) rc |= bench_sample(c, (kc_dtype)dt, batches[b], greedy, 20);
    kc_close(c);
    return rc;
#else
    return 0;
#endif
}
