// logprob.h: the fused lm_head + log-softmax + gather + entropy. For n rows
// x (n, C) and the lm_head w (V, C) it gives each row's log-probability of
// its target id and the entropy of its distribution, walking the vocabulary
// in chunks of vocab_chunk ids with an online log-sum-exp, so that the
// (n, V) logits never exist at once; the backward walks the same chunks,
// recomputing each chunk's logits.
//
// Memory: the scratch holds one chunk of logits and the running statistics,
// n * (min(vocab_chunk, V) + 4) floats (actor_logprob_scratch_floats). For
// Qwen (V = 151,936) and n = 4096 tokens, a chunk of 8192 ids is 128 MiB
// where the whole logits would be 2.3 GiB.
#ifndef RLC_ACTOR_LOGPROB_H
#define RLC_ACTOR_LOGPROB_H

#include <stddef.h>  // size_t

#include "kernels/kernels.h"  // kernels_backend (with the training ops)

// Floats of scratch the calls below need.
size_t actor_logprob_scratch_floats(int n, int V, int vocab_chunk);

// logprob (n) = log softmax(x w^T)[target]; entropy (n, or NULL) =
// -sum p log p; lse (n) = log sum exp(x w^T), kept for the backward.
// targets (n) in [0, V). scratch: actor_logprob_scratch_floats(n, V, vocab_chunk).
void actor_logprob_forward(kernels_backend be, float *logprob, float *entropy, float *lse,
                           const float *x, const float *w, const int *targets, int n, int C,
                           int V, int vocab_chunk, float *scratch);

// Backward given dlogprob (n) and dentropy (n, or NULL), the forward's lse
// and entropy (entropy may be NULL when dentropy is): dx (n, C) += dL/dx;
// dw (V, C) += dL/dw (NULL: skipped).
void actor_logprob_backward(kernels_backend be, float *dx, float *dw, const float *dlogprob,
                            const float *dentropy, const float *x, const float *w,
                            const int *targets, const float *lse, const float *entropy, int n,
                            int C, int V, int vocab_chunk, float *scratch);

#endif
