// gpu_model.h: the decoder (actor/model.h) for inference on one GPU, built
// from the CUDA backend's op families (kernels/cuda/kc_*.h): the weights and
// a KV cache in device memory, a forward pass over n tokens from any number
// of cache slots (prefill chunks and decode tokens mixed), and a decode step
// that samples on the device so that only ids and log-probs reach the host.
// Decode steps run as CUDA graphs, one per batch-size bucket.
//
// This header is plain C and compiles in every build; without RLC_HAVE_CUDA
// every call fails with RLC_ERR_UNSUPPORTED and a message that says so.
//
// Threads: a model belongs to one thread at a time (its stream, its staging
// buffers and the capture of its graphs are not shared).
#ifndef RLC_ACTOR_GPU_MODEL_H
#define RLC_ACTOR_GPU_MODEL_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t

#include "core/status.h"
#include "model.h"   // actor_model
#include "params.h"  // actor_params

// Storage dtype of weights, activations and the KV cache (the values are
// kc_dtype's, kernels/cuda/kcuda.h). Norms, softmax, GEMMs and logits are
// float32 in both.
typedef enum {
    ACTOR_GPU_F32 = 0,   // the reference mode, checked against the CPU forward
    ACTOR_GPU_BF16 = 1,  // 2 bytes per parameter and per cached K/V value
} actor_gpu_dtype;

// The batch sizes whose decode steps are captured as graphs; a decode of n
// tokens runs at the smallest bucket >= n, padded with rows whose results
// are ignored (they write only to the cache's scratch slot).
#define ACTOR_GPU_N_BUCKETS 9
#define ACTOR_GPU_MAX_BUCKET 256

typedef struct actor_gpu_model actor_gpu_model;

// Opens device `device` and copies the model there: its weights (converted to
// bf16 or kept float32) and RoPE frequencies; allocates the KV cache, n_slots
// sequences of max_seq positions plus one scratch slot, (L, n_slots + 1,
// max_seq, KV, D) for K and for V, zeroed; and the activations of a forward
// of max_tokens tokens. All device memory is allocated here; forward and
// decode calls allocate nothing (the first decode at a bucket captures its
// graph). The model `m` is only read; it may be freed afterwards.
// RLC_ERR_ARG (bad sizes), RLC_ERR_NOMEM (device memory: the message says
// how much), RLC_ERR_CUDA (no such device, a failed call),
// RLC_ERR_UNSUPPORTED (a build without CUDA). On failure *out is NULL and
// nothing is left allocated.
rlc_status actor_gpu_model_create(const actor_model *m, int device, actor_gpu_dtype dtype, int n_slots,
                                  int max_seq, int max_tokens, actor_gpu_model **out);
void actor_gpu_model_free(actor_gpu_model *g);  // NULL is fine

// Re-uploads the weights from `p` (weight sync: a table of the model's
// configuration, e.g. the learner's new parameters), converting to the
// model's dtype. The cache and the captured graphs stay valid (the device
// buffers do not move). RLC_ERR_ARG when p's size is not the model's.
rlc_status actor_gpu_model_load_params(actor_gpu_model *g, const actor_params *p);

// Weight sync by NCCL broadcast (rollout.weight_sync): a float32 staging
// buffer of the parameter table's size (n_params floats, laid out like
// actor_params), allocated on the first call and kept until free (4 bytes
// per parameter on top of the weights), and the model's CUDA context (a
// kc_ctx *, made current on this thread), on whose stream the broadcast into
// the staging buffer is ordered with the decode steps. *n_floats (or NULL):
// the buffer's length. RLC_ERR_CUDA / RLC_ERR_NOMEM (device memory).
rlc_status actor_gpu_model_staging(actor_gpu_model *g, void **kc, float **staging, size_t *n_floats);
// The staging buffer's contents become the weights (a device-to-device
// copy, or a conversion to bf16 with kc_convert), ordered on the model's
// stream after the broadcast that filled it; waits for it. The cache and the
// captured graphs stay valid. RLC_ERR_STATE without a staging buffer,
// RLC_ERR_CUDA for a failed copy (the weights are then unspecified).
rlc_status actor_gpu_model_load_staging(actor_gpu_model *g);

// Decode steps as CUDA graphs: on (the default) or off (eager launches of the
// same kernels at the same padded shapes, so both give identical results).
// Turning them off frees the graphs captured so far.
void actor_gpu_model_set_graphs(actor_gpu_model *g, int on);

// Device memory in bytes: weights, KV cache (scratch slot included), and
// everything else (activations, logits, sampling scratch, input staging).
void actor_gpu_model_memory(const actor_gpu_model *g, size_t *weights, size_t *kv_cache, size_t *other);
// Rows of logits the device buffer holds (forward calls wanting more rows are
// computed in chunks of this many and need a host destination).
int actor_gpu_model_logit_rows(const actor_gpu_model *g);
// The device logits of the last call: (rows, V) float32, row r is the r-th
// wanted token (decode: token r). Valid until the next call; NULL before the
// first one or without CUDA.
const float *actor_gpu_model_logits(const actor_gpu_model *g);

// One forward pass over n tokens: tokens (n), slots (n), pos (n) on the
// host. Token i is placed at position pos[i] of slot slots[i]: its K/V are
// stored there and it attends over positions [0, pos[i]] of that slot, so
// the positions before it must have been filled by this or an earlier call
// (the tokens of one slot appear in order of position). Positions are the
// caller's to track; the cache keeps no lengths.
// want_logits (n, or NULL for every token) selects the rows of `logits`
// (n_wanted, V) float32 on the host, in order; logits may be NULL to leave
// them on the device (actor_gpu_model_logits), then at most
// actor_gpu_model_logit_rows rows may be wanted. A call wanting every row
// with n <= ACTOR_GPU_MAX_BUCKET is a decode step and runs as a graph.
// Errors (nothing launched, the cache unchanged): RLC_ERR_ARG for n outside
// [1, max_tokens], a token outside the vocabulary, a slot or position out of
// range; RLC_ERR_LIMIT for too many rows wanted with logits NULL;
// RLC_ERR_CUDA for a failed launch (the cache is then unspecified).
rlc_status actor_gpu_forward(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                             const unsigned char *want_logits, float *logits);

// A decode step and sampling on the device: the forward of n tokens (as
// actor_gpu_forward with every row wanted, as a graph) and kc_sample on the
// n rows of logits. Per row: temperature (<= 0 greedy), top_k (<= 0 off),
// top_p (>= 1 off) as actor_sample (actor/generate.h); each array may be
// NULL (greedy, off, off). rng (n) the per-row xorshift64* states, advanced
// in place (may be NULL when every row is greedy). Writes ids (n) and
// logprobs (n, or NULL), the raw log-softmax at the chosen id. n is at most
// actor_gpu_model_logit_rows. Errors as actor_gpu_forward.
rlc_status actor_gpu_decode_sample(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                                   const float *temperature, const int *top_k, const float *top_p, uint64_t *rng,
                                   int *ids, float *logprobs);

// Copies positions [0, n_pos) of slot src into slot dst in every layer (the
// samples of one prompt share its prefill). RLC_ERR_ARG for a bad slot or
// n_pos outside [0, max_seq].
rlc_status actor_gpu_kv_copy(actor_gpu_model *g, int dst, int src, int n_pos);

#endif
