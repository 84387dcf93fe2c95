// ops_train.h: the CPU float32 training ops (backward ops in ops_backward.c;
// packed-sequence attention and the chunked log-softmax in ops_train.c).
// Internal to kernels/cpu: their contracts are the comments of the matching
// fields of kernels_ops in kernels/kernels.h.
//
// KERNELS_CPU_TRAIN_OPS lists them as designated initializers, so that the
// CPU op table (ops_cpu.c) carries them with one line.
#ifndef RLC_KERNELS_CPU_OPS_TRAIN_H
#define RLC_KERNELS_CPU_OPS_TRAIN_H

#include <stddef.h>  // size_t

#include "kernels/kernels.h"  // kernels_ops, kernels_backend

void kernels_cpu_matmul_backward(void *ctx, float *dx, float *dw, float *db, const float *dout,
                                 const float *x, const float *w, int n, int d_in, int d_out,
                                 int accumulate);
void kernels_cpu_embedding_backward(void *ctx, float *dtable, const float *dout, const int *ids,
                                    int n, int C);
void kernels_cpu_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout,
                                  const float *x, const float *w, int n, int C, float eps,
                                  int accumulate);
// Rotates x (n, H, D) in place by dir * pos * inv_freq (dir 1: the forward
// RoPE; -1: its transpose, the backward).
void kernels_cpu_rope_rotate(float *x, const int *pos, const float *inv_freq, int n, int H, int D, float dir);
void kernels_cpu_rope_backward(void *ctx, float *dx, const int *pos, const float *inv_freq, int n,
                               int H, int D);
void kernels_cpu_swiglu_backward(void *ctx, float *dgate, float *dup, const float *dout,
                                 const float *gate, const float *up, size_t n);
void kernels_cpu_attention_packed(void *ctx, float *out, float *lse, const float *q,
                                  const float *k, const float *v, const int *cu_seqlens,
                                  int n_seqs, int n, int H, int KV, int D);
void kernels_cpu_attention_packed_backward(void *ctx, float *dq, float *dk, float *dv,
                                           float *delta, const float *dout, const float *q,
                                           const float *k, const float *v, const float *out,
                                           const float *lse, const int *cu_seqlens, int n_seqs,
                                           int n, int H, int KV, int D);
void kernels_cpu_logprob_chunk(void *ctx, float *stats, const float *logits, const int *targets,
                               int v0, int n, int vc);
void kernels_cpu_logprob_finish(void *ctx, float *logprob, float *entropy, float *lse,
                                const float *stats, int n);
void kernels_cpu_logprob_chunk_backward(void *ctx, float *dlogits, const float *logits,
                                        const int *targets, const float *lse,
                                        const float *entropy, const float *dlogprob,
                                        const float *dentropy, int v0, int n, int vc);

#define KERNELS_CPU_TRAIN_OPS                                      \
    .matmul_backward = kernels_cpu_matmul_backward,                \
    .embedding_backward = kernels_cpu_embedding_backward,          \
    .rmsnorm_backward = kernels_cpu_rmsnorm_backward,              \
    .rope_backward = kernels_cpu_rope_backward,                    \
    .attention_packed = kernels_cpu_attention_packed,              \
    .attention_packed_backward = kernels_cpu_attention_packed_backward, \
    .swiglu_backward = kernels_cpu_swiglu_backward,                \
    .logprob_chunk = kernels_cpu_logprob_chunk,                    \
    .logprob_finish = kernels_cpu_logprob_finish,                  \
    .logprob_chunk_backward = kernels_cpu_logprob_chunk_backward


#endif
