// kernels.h: the op table. Every numeric op of the model goes through one
// small table of function pointers plus a context pointer (as ggml_backend_i),
// so that the CPU float32 reference and the CUDA path share one interface.
// All tensors are row-major float32 unless a comment says otherwise; shapes
// are given in the comment of each op.
#ifndef RLC_KERNELS_H
#define RLC_KERNELS_H

#include <stddef.h>  // size_t

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kernels_ops {
    const char *name;

    // out (n, d_out) = x (n, d_in) @ w (d_out, d_in)^T + bias (d_out, or NULL).
    // out must not alias x.
    void (*matmul)(void *ctx, float *out, const float *x, const float *w, const float *bias, int n,
                   int d_in, int d_out);
    // out (n, C) = table (V, C) rows ids (n). Ids are checked by the caller.
    void (*embedding)(void *ctx, float *out, const float *table, const int *ids, int n, int C);
    // out (n, C) = x (n, C) / sqrt(mean(x^2) + eps) * w (C). out may alias x.
    void (*rmsnorm)(void *ctx, float *out, const float *x, const float *w, int n, int C, float eps);
    // Rotates x (n, H, D) in place, rotate-half layout (Hugging Face): for
    // i < D/2 the pair (x[i], x[i + D/2]) turns by angle pos[i] * inv_freq[i]
    // (inv_freq has D/2 entries, already scaled by the model's rope settings).
    void (*rope)(void *ctx, float *x, const int *pos, const float *inv_freq, int n, int H, int D);
    // Causal grouped-query attention over a KV cache.
    // q (n, H, D); k_cache, v_cache (n_slots, max_seq, KV, D) for one layer;
    // token i reads slot[i] at positions [0, pos[i]] (its own K/V already
    // stored at pos[i]); out (n, H, D). Query head h uses KV head h / (H / KV).
    void (*attention)(void *ctx, float *out, const float *q, const float *k_cache,
                      const float *v_cache, const int *slot, const int *pos, int n, int H, int KV,
                      int D, int max_seq);
    // out (n) = silu(gate (n)) * up (n). out may alias gate.
    void (*swiglu)(void *ctx, float *out, const float *gate, const float *up, size_t n);
    // out (n) = a (n) + b (n). out may alias a.
    void (*add)(void *ctx, float *out, const float *a, const float *b, size_t n);
    // Row-wise over x (n, V): softmax in place; log-softmax into out (may alias x).
    void (*softmax)(void *ctx, float *x, int n, int V);
    void (*log_softmax)(void *ctx, float *out, const float *x, int n, int V);
} kernels_ops;

typedef struct kernels_backend {
    const kernels_ops *ops;
    void *ctx;  // backend state (NULL for the CPU)
} kernels_backend;

// The CPU float32 backend (OpenBLAS sgemm + OpenMP). Always available.
kernels_backend kernels_cpu(void);

// Threads used by OpenBLAS and by the OpenMP loops; n <= 0 picks the number of
// online cores. Returns the count in effect.
int kernels_set_threads(int n);
int kernels_get_threads(void);

// Sampling helpers on one row of logits x (V).
int kernels_argmax(const float *x, int V);
// log(sum(exp(x))) computed stably.
float kernels_logsumexp(const float *x, int V);

// CUDA: whether this build has the CUDA backend and how many devices it sees.
// Writes a one-line description per device into buf (NUL-terminated).
// RLC_ERR_UNSUPPORTED when the build has no CUDA; RLC_ERR_CUDA with the
// driver's message when the runtime fails (no driver, no device).
rlc_status kernels_cuda_query(int *n_devices, char *buf, size_t cap);
int kernels_cuda_compiled(void);

#ifdef __cplusplus
}
#endif

#endif
