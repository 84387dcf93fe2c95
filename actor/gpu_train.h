// gpu_train.h: the training step on the GPU: the transformer's training
// forward and backward over packed sequences (the semantics of train.h's
// actor_train_forward / actor_train_backward, op for op) and AdamW over the
// flat parameter buffer (learner/optim.h's update), built from the CUDA
// backend's op families (kernels/cuda/kc_*.h). Plain C, compiled in every
// build; without the CUDA backend every call returns RLC_ERR_UNSUPPORTED.
//
// State on the device, allocated once at create (llm.c's "allocate once and
// carve"), every buffer laid out like actor_params (same offsets, padding
// included, so that weight sync and checkpoints are one copy each):
//   master weights   float32   4 bytes / parameter
//   gradients        float32   4
//   AdamW m, v       float32   8
//   compute copy     bfloat16  2   (bf16 mode; in float32 mode the forward
//                                  reads the master weights directly)
//   = 18 bytes per parameter in bf16 mode, 16 in float32 mode
//   (Qwen2.5-0.5B: 494M parameters -> 8.3 GiB; 1.5B: 1.54B -> 25.9 GiB).
//
// Activations for batches of at most max_tokens tokens T, in the compute
// dtype (2 bytes in bf16, 4 in f32) except the float32 log-sum-exps and
// statistics; L layers, C hidden, H heads, KV kv heads, D head dim, HD = H*D,
// KD = KV*D, I MLP width, vc the vocabulary chunk:
//   saved per layer:  T * (2C + 2HD + 2KD + 2I) elements + T * H floats,
//                     plus T * (HD + KD) with q/k norms (Qwen3);
//                     with recompute only T * C per layer (the layer's input)
//                     plus one layer's set, shared;
//   scratch:          T * (7C + 2HD + 2KD + 3I) elements (+ T * (HD + KD) with
//                     q/k norms), T * (9 + H) floats, T * C floats (bf16 mode),
//                     the attention backward's float32 scratch
//                     (kc_attention_backward_scratch_bytes) and the lm_head's
//                     one (T x vc) float32 logits tile: the (T x V) logits
//                     never exist.
// Qwen2.5-0.5B, bf16, T = 8192 (26.6 KiB per token and layer): 5.0 GiB saved
// without recompute, 0.5 GiB with it, plus 0.6 GiB of scratch at vc = 8192
// (0.25 GiB of it the logits tile); 1.5B: 10.5 GiB, 1.0 GiB, 0.9 GiB.
//
// Every call is on the trainer's own CUDA stream and returns after the device
// has finished (the forward hands back log-probs; the others check the
// recorded launch errors with kc_sync), so a failure is reported by the call
// that caused it. Not thread-safe: one trainer, one host thread at a time.
#ifndef RLC_ACTOR_GPU_TRAIN_H
#define RLC_ACTOR_GPU_TRAIN_H

#include <stddef.h>  // size_t

#include "core/status.h"  // rlc_status
#include "model.h"        // actor_model
#include "params.h"       // actor_params
#include "train.h"        // actor_batch

typedef struct actor_gpu_trainer actor_gpu_trainer;

// A trainer for m's configuration on CUDA device `device`: uploads m's
// weights as the float32 master copy (m is not kept: later changes to m do
// not reach the device; see actor_gpu_params_upload), zeroes gradients and
// moments. bf16: 1 computes in bfloat16 (activations, compute weights,
// activation gradients) with float32 accumulation, 0 in float32 throughout.
// vocab_chunk: vocabulary ids per lm_head tile (<= 0 or >= V: all of them).
// recompute: 1 keeps only each layer's input during the forward and runs the
// layer again in the backward. Errors: RLC_ERR_ARG (max_tokens <= 0, a
// configuration the kernels cannot take), RLC_ERR_CUDA (no such device, out
// of device memory: the message says how many bytes), RLC_ERR_NOMEM,
// RLC_ERR_UNSUPPORTED (a build without the CUDA backend). On error *out is
// NULL and nothing is left allocated.
rlc_status actor_gpu_trainer_create(const actor_model *m, int device, int bf16, int max_tokens, int vocab_chunk,
                                    int recompute, actor_gpu_trainer **out);
void actor_gpu_trainer_free(actor_gpu_trainer *t);  // NULL is fine
// The log-probs (and entropies) of the forwards that follow are those of
// softmax(logits / temperature), as actor_train_options.temperature (0 or
// 1: the raw logits). RLC_ERR_ARG outside [0, 1e6].
rlc_status actor_gpu_train_set_temperature(actor_gpu_trainer *t, float temperature);

// Forward over the batch, keeping what the backward needs; semantics and
// errors of actor_train_forward (RLC_ERR_ARG for a bad batch: nothing
// changes). logprobs_host (T, or NULL: not copied back), entropy_host (T, or
// NULL): host arrays; positions with target -1 get 0. RLC_ERR_CUDA when a
// kernel failed (the last forward is then unusable: RLC_ERR_STATE from the
// backward until the next forward succeeds).
rlc_status actor_gpu_train_forward(actor_gpu_trainer *t, const actor_batch *b, float *logprobs_host,
                                   float *entropy_host);

// Backward of the last forward: dlogprobs_host (T) = dL/dlogprob,
// dentropy_host (T, or NULL) = dL/dentropy, host arrays (entries of
// positions without a target are not read). Adds dL/dparam into the device
// gradient buffer. RLC_ERR_STATE without a successful forward since create,
// or after an optimizer step or a weight upload (the weights changed).
rlc_status actor_gpu_train_backward(actor_gpu_trainer *t, const float *dlogprobs_host,
                                    const float *dentropy_host);

// The gradient buffer: numel floats laid out like actor_params (padding 0).
size_t actor_gpu_numel(const actor_gpu_trainer *t);
rlc_status actor_gpu_grads_download(actor_gpu_trainer *t, float *grads_host);
rlc_status actor_gpu_grads_zero(actor_gpu_trainer *t);
// The device gradient buffer (numel floats, borrowed, valid until free) and
// the trainer's CUDA context (a kc_ctx *), for an in-place all-reduce of the
// gradients across data-parallel ranks (learner/dp.h) between the last
// backward and the optimizer step. RLC_ERR_UNSUPPORTED without CUDA.
rlc_status actor_gpu_grads_device(actor_gpu_trainer *t, void **kc, float **grad);

// One AdamW update of the master weights with the device gradients, as
// learner/optim.h's optim_adamw_step with decay_vectors 0: decay on 2-D
// tensors only, clipping to max_grad_norm by the global L2 norm (<= 0: no
// clipping), a non-finite norm skips the update (weights, moments and the
// step count unchanged; logged as a warning; still RLC_OK). Refreshes the
// compute copy. The gradients are left as they were (unclipped; zero them
// for the next step). grad_norm_out (or NULL): the norm before clipping.
// The call waits for the norm (one double) to keep the step count exact.
// RLC_ERR_ARG for a bad lr or hyper-parameter (nothing changes).
rlc_status actor_gpu_adamw_step(actor_gpu_trainer *t, double lr, double beta1, double beta2, double eps,
                                double weight_decay, double max_grad_norm, double *grad_norm_out);
long actor_gpu_adamw_steps(const actor_gpu_trainer *t);  // updates applied (t of bias correction)

// The device master weights (numel floats laid out like actor_params,
// borrowed, valid until free; read them, do not write) and the trainer's
// CUDA context (a kc_ctx *), made current on this thread: the source of the
// NCCL weight broadcast to the rollout workers (learner/wgroup.h).
// RLC_ERR_UNSUPPORTED without CUDA.
rlc_status actor_gpu_params_device(actor_gpu_trainer *t, void **kc, const float **master);

// The master weights into p->data (p created for the same configuration:
// RLC_ERR_ARG when p->numel differs), for checkpoints and weight sync.
rlc_status actor_gpu_params_download(actor_gpu_trainer *t, actor_params *p);
// The master weights (and the compute copy) from p->data, e.g. after loading
// a checkpoint; moments and the step count stay.
rlc_status actor_gpu_params_upload(actor_gpu_trainer *t, const actor_params *p);
// The AdamW moments into m_host, v_host (numel floats each), for checkpoints.
rlc_status actor_gpu_moments_download(actor_gpu_trainer *t, float *m_host, float *v_host);
// Restores the moments and the update count (a resumed checkpoint).
rlc_status actor_gpu_moments_upload(actor_gpu_trainer *t, const float *m_host, const float *v_host, long steps);

// Device bytes this trainer holds: the total; *state (or NULL) the
// parameters, gradients, moments and compute copy; the rest is activations.
size_t actor_gpu_train_bytes(const actor_gpu_trainer *t, size_t *state);

#endif
