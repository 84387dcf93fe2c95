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

    // ---- training: forward ops over packed sequences and backward ops ----
    // (kernels/cpu/ops_train.c, kernels/cpu/ops_backward.c; docs/training.md)
    // A packed batch holds n tokens of n_seqs documents: document s is rows
    // [cu_seqlens[s], cu_seqlens[s + 1]); cu_seqlens (n_seqs + 1) starts at 0,
    // never decreases and ends at n. No token attends across documents.
    // A backward op writes its input gradients ("=") or adds into them ("+=")
    // as its comment says; parameter gradients are always added into.

    // Backward of matmul (out = x @ w^T + bias) given dout (n, d_out):
    // dx (n, d_in) = dout @ w (+= when accumulate); dw (d_out, d_in) += dout^T @ x (n, d_in);
    // db (d_out) += column sums of dout. dx, dw, db may each be NULL (skipped).
    void (*matmul_backward)(void *ctx, float *dx, float *dw, float *db, const float *dout,
                            const float *x, const float *w, int n, int d_in, int d_out,
                            int accumulate);
    // Backward of embedding: row ids[i] of dtable (V, C) += row i of dout (n, C).
    // Repeated ids add up.
    void (*embedding_backward)(void *ctx, float *dtable, const float *dout, const int *ids, int n,
                               int C);
    // Backward of rmsnorm (out = x / sqrt(mean(x^2) + eps) * w) given dout (n, C):
    // dx (n, C) = dL/dx (+= when accumulate); dw (C) += dL/dw (NULL: skipped).
    // dx must not alias dout or x.
    void (*rmsnorm_backward)(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                             const float *w, int n, int C, float eps, int accumulate);
    // Backward of rope: dx (n, H, D) holds dL/d(rotated x) and becomes dL/dx in
    // place (each pair turned back by -pos[i] * inv_freq[k]).
    void (*rope_backward)(void *ctx, float *dx, const int *pos, const float *inv_freq, int n,
                          int H, int D);
    // Causal grouped-query attention within each document of a packed batch.
    // q (n, H, D), k, v (n, KV, D) (rope applied); token i of document s reads
    // keys [cu_seqlens[s], i]. out (n, H, D); lse (n, H): the log-sum-exp of
    // each row's scaled scores (kept for the backward). Query head h uses KV
    // head h / (H / KV); scores are scaled by 1/sqrt(D).
    void (*attention_packed)(void *ctx, float *out, float *lse, const float *q, const float *k,
                             const float *v, const int *cu_seqlens, int n_seqs, int n, int H,
                             int KV, int D);
    // Backward of attention_packed given dout (n, H, D) and the forward's q, k,
    // v, out and lse: dq (n, H, D), dk, dv (n, KV, D) are written (=).
    // delta (n, H) is scratch (rowsum(dout * out)).
    void (*attention_packed_backward)(void *ctx, float *dq, float *dk, float *dv, float *delta,
                                      const float *dout, const float *q, const float *k,
                                      const float *v, const float *out, const float *lse,
                                      const int *cu_seqlens, int n_seqs, int n, int H, int KV,
                                      int D);
    // Backward of swiglu (out = silu(gate) * up) given dout (n):
    // dgate (n) = dout * up * silu'(gate), dup (n) = dout * silu(gate) (=).
    // dgate may alias dout; dup may alias up.
    void (*swiglu_backward)(void *ctx, float *dgate, float *dup, const float *dout,
                            const float *gate, const float *up, size_t n);
    // One vocabulary chunk of the fused log-softmax + gather + entropy.
    // logits (n, vc): the logits of ids [v0, v0 + vc) for n rows; targets (n),
    // each in [0, V). stats (n, 4) per row: running max m, sum exp(l - m),
    // sum exp(l - m) * (l - m), target logit; the chunk with v0 == 0 starts
    // them afresh, later chunks update them (online log-sum-exp).
    void (*logprob_chunk)(void *ctx, float *stats, const float *logits, const int *targets, int v0,
                          int n, int vc);
    // After the last chunk: lse (n) = log sum exp over the vocabulary,
    // logprob (n) = target logit - lse, entropy (n) = -sum p log p.
    void (*logprob_finish)(void *ctx, float *logprob, float *entropy, float *lse,
                           const float *stats, int n);
    // Backward of one chunk: dlogits (n, vc) = dlogprob * (onehot(target) - p)
    // + dentropy * (-p * (log p + entropy)), p = exp(logits - lse); dentropy
    // may be NULL (0). dlogits may alias logits.
    void (*logprob_chunk_backward)(void *ctx, float *dlogits, const float *logits,
                                   const int *targets, const float *lse, const float *entropy,
                                   const float *dlogprob, const float *dentropy, int v0, int n,
                                   int vc);
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
// RLC_OK in a build with the CUDA backend; otherwise RLC_ERR_UNSUPPORTED with
// a message that starts with `what` (e.g. "model.device \"cuda\"") and says
// how to build with CUDA. Opens no device.
rlc_status kernels_cuda_require(const char *what);

#ifdef __cplusplus
}
#endif

#endif
