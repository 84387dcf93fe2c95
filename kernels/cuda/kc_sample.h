// kc_sample.h: token sampling on the GPU, one row of logits per sequence:
// greedy, temperature, top-k and top-p, as actor_sample (actor/generate.h)
// with the same xorshift64* generator per row; the log-prob written is
// log_softmax(logits / T) at the chosen id (the raw log-softmax when greedy),
// the behaviour log-prob the learner compares with, as actor_sample.
#ifndef RLC_KC_SAMPLE_H
#define RLC_KC_SAMPLE_H

#include <stdint.h>  // uint64_t

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// Scratch for n rows of V logits, in bytes.
size_t kc_sample_scratch_bytes(int n, int V);
// logits (n, V) of dtype dt; temperature, top_p (n) float32 and top_k (n)
// int, per row (temperature <= 0: argmax; top_k <= 0 or >= V: off; top_p >=
// 1: off); rng (n) the per-row states, advanced in place. Writes ids (n) and
// logprob (n). All device memory.
void kc_sample(kc_ctx *c, kc_dtype dt, int *ids, float *logprob, const void *logits, int n, int V,
               const float *temperature, const int *top_k, const float *top_p, uint64_t *rng, void *scratch);

#ifdef __cplusplus
}
#endif

#endif
