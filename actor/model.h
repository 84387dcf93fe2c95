// model.h: the decoder-only transformer (Llama / Qwen2 / Qwen3) on the CPU
// float32 path, its KV cache and the batched forward pass.
#ifndef RLC_ACTOR_MODEL_H
#define RLC_ACTOR_MODEL_H

#include "config.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "params.h"

typedef struct actor_model actor_model;

// Loads a model from `path`: a directory holding config.json and
// model.safetensors (or model.safetensors.index.json with shards), or a
// llama2.c .bin checkpoint. On failure nothing is allocated and the message
// names the file and the tensor or field at fault.
rlc_status actor_model_load(const char *path, actor_model **out);
// A model of configuration `c` with zeroed weights (fill them through
// actor_model_params), for random-weight benchmarks and tests.
rlc_status actor_model_create(const actor_config *c, actor_model **out);
void actor_model_free(actor_model *m);

const actor_config *actor_model_config(const actor_model *m);
actor_params *actor_model_params(actor_model *m);
// Exchanges the model's parameters with *p (same configuration: same table):
// the pointer swap of double-buffered flat weights. Between forward calls
// only; the caller owns what comes back in *p.
rlc_status actor_model_swap_params(actor_model *m, actor_params *p);
// Fills every weight with N(0, std^2) (norm weights with 1) from `seed`.
void actor_model_init_random(actor_model *m, unsigned long long seed, float std);

// The KV cache: n_slots independent sequences of at most max_seq positions,
// plus the activation scratch for forward calls of at most max_tokens tokens.
// Memory: 2 * L * n_slots * max_seq * KV * D floats for K and V.
typedef struct actor_kv actor_kv;

rlc_status actor_kv_create(const actor_config *c, int n_slots, int max_seq, int max_tokens,
                           actor_kv **out);
void actor_kv_free(actor_kv *kv);
int actor_kv_len(const actor_kv *kv, int slot);  // positions filled in slot
int actor_kv_slots(const actor_kv *kv);
int actor_kv_max_seq(const actor_kv *kv);
void actor_kv_clear(actor_kv *kv, int slot);
// Copies the filled positions of src into dst (the n samples of a prompt
// share its prefill).
void actor_kv_copy(actor_kv *kv, int dst, int src);

// One forward pass over n tokens drawn from any number of slots.
// tokens (n), slots (n): the tokens of one slot appear in order; each token is
// placed at the slot's next position, so a slot's K/V grows by its count.
// want_logits (n, or NULL for every token): rows wanted in `logits`.
// logits (n_wanted, V): raw logits of the wanted tokens, in order.
// Errors (nothing changes in the cache): a token outside the vocabulary, a
// slot out of range, a slot past max_seq, n > max_tokens.
rlc_status actor_forward(actor_model *m, actor_kv *kv, const int *tokens, const int *slots, int n,
                         const unsigned char *want_logits, float *logits);

#endif
