// generate.h: batched generation with continuous batching over KV-cache
// slots, and the sampler.
#ifndef RLC_ACTOR_GENERATE_H
#define RLC_ACTOR_GENERATE_H

#include <stdint.h>  // uint64_t

#include "core/status.h"
#include "gpu_model.h"  // actor_gpu_model
#include "model.h"

typedef struct actor_sampling {
    float temperature;   // 0: greedy (argmax)
    int top_k;           // 0: off
    float top_p;         // 1: off
    uint64_t seed;       // per-sequence RNG seed
    int max_new_tokens;  // stop with reason "length" after this many
} actor_sampling;

actor_sampling actor_sampling_default(void);  // T=1, top_k=0, top_p=1, seed=0, 256 tokens

typedef enum {
    ACTOR_FINISH_NONE = 0,  // still running
    ACTOR_FINISH_STOP,      // an eos id, or the callback asked to stop (stop string)
    ACTOR_FINISH_LENGTH,    // max_new_tokens, or the slot's max_seq reached
} actor_finish;

// The sampler on one row of raw logits (V). Returns the token and writes its
// log-probability under the tempered distribution, log_softmax(logits / T)
// at temperature T > 0 (before top-k and top-p), and under the raw logits
// when greedy (T = 0). The learner divides its logits by the same T (verl's
// and TRL's convention), so this is the behaviour log-prob it compares with.
// `rng` is a 64-bit state, advanced in place.
// scratch: 2 * V floats/ints of workspace (see actor_sampler_scratch_bytes).
int actor_sample(const float *logits, int V, const actor_sampling *s, uint64_t *rng, void *scratch,
                 float *logprob);
size_t actor_sampler_scratch_bytes(int V);

typedef struct actor_gen actor_gen;

// Called for every sampled token. Return non-zero to finish that sequence now
// (e.g. a stop string matched); `finish` is the reason already decided by
// the generator (eos or length) or ACTOR_FINISH_NONE.
typedef int (*actor_gen_cb)(void *ud, int seq_id, int token, float logprob, actor_finish finish);

// n_slots sequences at once, each at most max_seq positions.
rlc_status actor_gen_create(actor_model *m, int n_slots, int max_seq, actor_gen **out);
// The same generator with its forward on a GPU model (actor/gpu_model.h,
// borrowed: it must outlive the generator and be used by no one else while
// the generator runs). gpu must have been created from m's configuration
// with at least n_slots slots, max_seq positions per slot and max_tokens
// >= actor_gen_batch_tokens(n_slots). m still gives the configuration (eos
// ids, vocabulary); its weights are not read. No CPU cache is allocated;
// the logits come back to the host and are sampled there exactly as on the
// CPU. A failed forward or cache copy on the device fails actor_gen_step
// (RLC_ERR_CUDA); the generator is then unusable.
rlc_status actor_gen_create_gpu(actor_model *m, actor_gpu_model *gpu, int n_slots, int max_seq,
                                actor_gen **out);
// The most tokens one step packs (decode tokens plus a prompt chunk): the
// max_tokens a GPU model for actor_gen_create_gpu needs.
int actor_gen_batch_tokens(int n_slots);
void actor_gen_free(actor_gen *g);
// Queues a prompt (copied). The sequence joins the batch at the next step if
// a slot is free, or when one frees up. *seq_id numbers sequences from 0.
rlc_status actor_gen_add(actor_gen *g, const int *prompt, int n_prompt, const actor_sampling *s,
                         int *seq_id);
// Queues n_samples samples of one prompt as a group that shares its
// prefill: the group joins when n_samples slots are free, the prompt is
// prefilled once and its cache copied into the other slots. Sample i gets
// its own RNG stream derived from s->seed and i. Sequence ids are
// *first_seq_id .. *first_seq_id + n_samples - 1. RLC_ERR_LIMIT when
// n_samples exceeds the slots.
// The RNG seed of sample i of a group queued with seed `seed` (never 0).
uint64_t actor_sample_seed(uint64_t seed, int i);
rlc_status actor_gen_add_group(actor_gen *g, const int *prompt, int n_prompt, int n_samples,
                               const actor_sampling *s, int *first_seq_id);
// The policy version of the weights in use. Set it when the model's weights
// are swapped between steps (actor_model_swap_params); a callback reads it to
// tag each token with the version that produced it.
void actor_gen_set_version(actor_gen *g, int version);
int actor_gen_version(const actor_gen *g);
// Runs one step: prefills sequences that just joined and decodes one token for
// every running sequence. *n_pending: sequences running or queued afterwards.
rlc_status actor_gen_step(actor_gen *g, actor_gen_cb cb, void *ud, int *n_pending);
// Timing counters since creation.
void actor_gen_stats(const actor_gen *g, long long *prefill_tokens, double *prefill_s,
                     long long *decode_tokens, double *decode_s);

#endif
