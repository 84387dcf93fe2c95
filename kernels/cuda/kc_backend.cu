// kc_backend.cu: the op table of kernels/kernels.h on the GPU: every entry
// forwards to the float32 instantiation of its kc_ op family, so the CPU
// reference and the CUDA path can be swapped (and compared) behind one
// interface. Pointers are device memory; ctx is the kc_ctx.
#include "kc_attention.h"
#include "kc_gemm.h"
#include "kc_internal.cuh"
#include "kc_logprob.h"
#include "kc_ops.h"

// ---- the float32 entries ----------------------------------------------------

static void t_matmul(void *ctx, float *out, const float *x, const float *w, const float *bias, int n, int d_in,
                     int d_out) {
    kc_matmul((kc_ctx *)ctx, KC_F32, out, x, w, bias, n, d_in, d_out);
}
static void t_embedding(void *ctx, float *out, const float *table, const int *ids, int n, int C) {
    kc_embedding((kc_ctx *)ctx, KC_F32, out, table, ids, n, C);
}
static void t_rmsnorm(void *ctx, float *out, const float *x, const float *w, int n, int C, float eps) {
    kc_rmsnorm((kc_ctx *)ctx, KC_F32, out, x, w, n, C, eps);
}
static void t_rope(void *ctx, float *x, const int *pos, const float *inv_freq, int n, int H, int D) {
    kc_rope((kc_ctx *)ctx, KC_F32, x, pos, inv_freq, n, H, D);
}
static void t_attention(void *ctx, float *out, const float *q, const float *k_cache, const float *v_cache,
                        const int *slot, const int *pos, int n, int H, int KV, int D, int max_seq) {
    kc_attention_decode((kc_ctx *)ctx, KC_F32, out, q, k_cache, v_cache, slot, pos, n, H, KV, D, max_seq);
}
static void t_swiglu(void *ctx, float *out, const float *gate, const float *up, size_t n) {
    kc_swiglu((kc_ctx *)ctx, KC_F32, out, gate, up, n);
}
static void t_add(void *ctx, float *out, const float *a, const float *b, size_t n) {
    kc_add((kc_ctx *)ctx, KC_F32, out, a, b, n);
}
static void t_softmax(void *ctx, float *x, int n, int V) { kc_softmax((kc_ctx *)ctx, KC_F32, x, n, V); }
static void t_log_softmax(void *ctx, float *out, const float *x, int n, int V) {
    kc_log_softmax((kc_ctx *)ctx, KC_F32, out, x, n, V);
}
static void t_matmul_backward(void *ctx, float *dx, float *dw, float *db, const float *dout, const float *x,
                              const float *w, int n, int d_in, int d_out, int accumulate) {
    kc_matmul_backward((kc_ctx *)ctx, KC_F32, dx, dw, db, dout, x, w, n, d_in, d_out, accumulate);
}
static void t_embedding_backward(void *ctx, float *dtable, const float *dout, const int *ids, int n, int C) {
    kc_embedding_backward((kc_ctx *)ctx, KC_F32, dtable, dout, ids, n, C);
}
static void t_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                               const float *w, int n, int C, float eps, int accumulate) {
    kc_rmsnorm_backward((kc_ctx *)ctx, KC_F32, dx, dw, dout, x, w, n, C, eps, accumulate);
}
static void t_rope_backward(void *ctx, float *dx, const int *pos, const float *inv_freq, int n, int H, int D) {
    kc_rope_backward((kc_ctx *)ctx, KC_F32, dx, pos, inv_freq, n, H, D);
}
static void t_attention_packed(void *ctx, float *out, float *lse, const float *q, const float *k,
                               const float *v, const int *cu_seqlens, int n_seqs, int n, int H, int KV, int D) {
    kc_attention_packed((kc_ctx *)ctx, KC_F32, out, lse, q, k, v, cu_seqlens, n_seqs, n, H, KV, D);
}
// The op table's backward has no scratch argument: the dK/dV accumulators come
// from the context's workspace when they fit (32 MiB), else the op is recorded
// as failed (use kc_attention_packed_backward with a scratch buffer instead).
static void t_attention_packed_backward(void *ctx, float *dq, float *dk, float *dv, float *delta,
                                        const float *dout, const float *q, const float *k, const float *v,
                                        const float *out, const float *lse, const int *cu_seqlens, int n_seqs,
                                        int n, int H, int KV, int D) {
    kc_ctx *c = (kc_ctx *)ctx;
    if (kc_attention_backward_scratch_bytes(n, H, KV, D) > c->workspace_bytes) {
        kc_record(c, cudaErrorMemoryAllocation, "attention_packed_backward (scratch larger than the workspace)");
        return;
    }
    kc_attention_packed_backward(c, KC_F32, dq, dk, dv, delta, c->workspace, dout, q, k, v, out, lse,
                                 cu_seqlens, n_seqs, n, H, KV, D);
}
static void t_swiglu_backward(void *ctx, float *dgate, float *dup, const float *dout, const float *gate,
                              const float *up, size_t n) {
    kc_swiglu_backward((kc_ctx *)ctx, KC_F32, dgate, dup, dout, gate, up, n);
}
static void t_logprob_chunk(void *ctx, float *stats, const float *logits, const int *targets, int v0, int n,
                            int vc) {
    kc_logprob_chunk((kc_ctx *)ctx, KC_F32, stats, logits, targets, v0, n, vc);
}
static void t_logprob_finish(void *ctx, float *logprob, float *entropy, float *lse, const float *stats, int n) {
    kc_logprob_finish((kc_ctx *)ctx, logprob, entropy, lse, stats, n);
}
static void t_logprob_chunk_backward(void *ctx, float *dlogits, const float *logits, const int *targets,
                                     const float *lse, const float *entropy, const float *dlogprob,
                                     const float *dentropy, int v0, int n, int vc) {
    kc_logprob_chunk_backward((kc_ctx *)ctx, KC_F32, dlogits, logits, targets, lse, entropy, dlogprob, dentropy,
                              v0, n, vc);
}

static const kernels_ops cuda_ops = {
    .name = "cuda",
    .matmul = t_matmul,
    .embedding = t_embedding,
    .rmsnorm = t_rmsnorm,
    .rope = t_rope,
    .attention = t_attention,
    .swiglu = t_swiglu,
    .add = t_add,
    .softmax = t_softmax,
    .log_softmax = t_log_softmax,
    .matmul_backward = t_matmul_backward,
    .embedding_backward = t_embedding_backward,
    .rmsnorm_backward = t_rmsnorm_backward,
    .rope_backward = t_rope_backward,
    .attention_packed = t_attention_packed,
    .attention_packed_backward = t_attention_packed_backward,
    .swiglu_backward = t_swiglu_backward,
    .logprob_chunk = t_logprob_chunk,
    .logprob_finish = t_logprob_finish,
    .logprob_chunk_backward = t_logprob_chunk_backward,
};

// ---- launchers --------------------------------------------------------------

extern "C" rlc_status kernels_cuda_open(int device, kernels_backend *out) {
    out->ops = NULL;
    out->ctx = NULL;
    kc_ctx *c;
    RLC_TRY(kc_open(device, &c));
    out->ops = &cuda_ops;
    out->ctx = c;
    return RLC_OK;
}

extern "C" void kernels_cuda_close(kernels_backend *b) {
    if (!b) return;
    kc_close((kc_ctx *)b->ctx);
    b->ops = NULL;
    b->ctx = NULL;
}
