// kc_logprob.h: the language-model head fused with log-softmax, the gather of
// the target's log-prob and the entropy, forward and backward, chunked over
// the vocabulary so that (tokens x vocab) logits never exist: only one
// (n x chunk) float32 tile at a time. The chunk ops have the semantics of
// kernels.h's logprob_chunk, logprob_finish and logprob_chunk_backward.
#ifndef RLC_KC_LOGPROB_H
#define RLC_KC_LOGPROB_H

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// One vocabulary chunk: logits (n, vc) of dtype dt for ids [v0, v0 + vc);
// targets (n) in [0, V); stats (n, 4) float32: running max, sum exp(l - m),
// sum exp(l - m) * (l - m), the target's logit; v0 == 0 starts them afresh.
void kc_logprob_chunk(kc_ctx *c, kc_dtype dt, float *stats, const void *logits, const int *targets, int v0,
                      int n, int vc);
// lse (n), logprob (n) = target logit - lse, entropy (n), all float32.
void kc_logprob_finish(kc_ctx *c, float *logprob, float *entropy, float *lse, const float *stats, int n);
// dlogits (n, vc) = dlogprob * (onehot(target) - p) + dentropy * (-p * (log p
// + entropy)), p = exp(logits - lse); dentropy may be NULL. dlogits may alias
// logits.
void kc_logprob_chunk_backward(kc_ctx *c, kc_dtype dt, void *dlogits, const void *logits, const int *targets,
                               const float *lse, const float *entropy, const float *dlogprob,
                               const float *dentropy, int v0, int n, int vc);

// Scratch of the fused head for n tokens and a vocabulary chunk, in bytes; pass
// the chunk the ops will use (V when their chunk is <= 0 or > V).
size_t kc_lm_head_scratch_bytes(int n, int chunk);
// h (n, C) and w (V, C) of dtype dt: for every chunk of `chunk` vocabulary
// rows, logits = h @ w_chunk^T into scratch (float32), folded into stats
// (n, 4); then logprob, entropy, lse (n) float32.
void kc_lm_head_logprob(kc_ctx *c, kc_dtype dt, float *logprob, float *entropy, float *lse, float *stats,
                        const void *h, const void *w, const int *targets, int n, int C, int V, int chunk,
                        void *scratch);
// Backward, recomputing each chunk's logits: dh (n, C) float32 = dL/dh (+=
// when accumulate; float32 in both dtypes, so the vocabulary chunks add up
// without a bf16 rounding each); dw (V, C) float32 += dL/dw (NULL: skipped). dlogprob (n) and
// dentropy (n, or NULL) are float32.
void kc_lm_head_logprob_backward(kc_ctx *c, kc_dtype dt, float *dh, float *dw, const void *h, const void *w,
                                 const int *targets, const float *lse, const float *entropy,
                                 const float *dlogprob, const float *dentropy, int n, int C, int V, int chunk,
                                 void *scratch, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
