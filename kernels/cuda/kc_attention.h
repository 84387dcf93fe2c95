// kc_attention.h: causal grouped-query attention on the GPU.
// - Training, over packed variable-length documents (kernels.h's
//   attention_packed and its backward): flash-attention-style tiles with an
//   online softmax; no (T x T) score matrix is ever in memory.
// - Decode, over the KV cache (kernels.h's attention): many sequences of
//   different lengths in one launch, the cache split across blocks for long
//   contexts.
// q, k, v, out and their gradients have dtype dt; lse and delta are float32.
// Head dims up to 256 (multiples of 8 are the fast ones).
#ifndef RLC_KC_ATTENTION_H
#define RLC_KC_ATTENTION_H

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// q (n, H, D), k, v (n, KV, D), rope applied; document s is rows
// [cu_seqlens[s], cu_seqlens[s + 1]) (device int array (n_seqs + 1)); token i
// of document s attends to keys [cu_seqlens[s], i]. out (n, H, D); lse (n, H)
// float32, the log-sum-exp of each row's scaled scores. Scale 1/sqrt(D);
// query head h reads KV head h / (H / KV).
void kc_attention_packed(kc_ctx *c, kc_dtype dt, void *out, float *lse, const void *q, const void *k,
                         const void *v, const int *cu_seqlens, int n_seqs, int n, int H, int KV, int D);

// Float32 scratch the backward needs (the dK and dV accumulators of grouped
// query heads), in bytes.
size_t kc_attention_backward_scratch_bytes(int n, int H, int KV, int D);
// Given dout (n, H, D) and the forward's q, k, v, out, lse: dq (n, H, D),
// dk, dv (n, KV, D) are written (=). delta (n, H) float32 is scratch
// (rowsum(dout * out)); scratch has kc_attention_backward_scratch_bytes.
void kc_attention_packed_backward(kc_ctx *c, kc_dtype dt, void *dq, void *dk, void *dv, float *delta,
                                  void *scratch, const void *dout, const void *q, const void *k,
                                  const void *v, const void *out, const float *lse, const int *cu_seqlens,
                                  int n_seqs, int n, int H, int KV, int D);

// Decode: q (n, H, D); k_cache, v_cache (n_slots, max_seq, KV, D) of one
// layer; token i reads slot[i] at positions [0, pos[i]] (its own K/V already
// stored at pos[i]); out (n, H, D). slot and pos are device int arrays (n).
void kc_attention_decode(kc_ctx *c, kc_dtype dt, void *out, const void *q, const void *k_cache,
                         const void *v_cache, const int *slot, const int *pos, int n, int H, int KV, int D,
                         int max_seq);

// Writes k, v (n, KV, D) of new tokens into the caches at (slot[i], pos[i]).
void kc_kv_store(kc_ctx *c, kc_dtype dt, void *k_cache, void *v_cache, const void *k, const void *v,
                 const int *slot, const int *pos, int n, int KV, int D, int max_seq);

#ifdef __cplusplus
}
#endif

#endif
