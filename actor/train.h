// train.h: the training forward and backward of the transformer over packed
// sequences: several samples in one row of T tokens with document
// boundaries (no attention across samples), positions restarting per sample.
// The loss is left to the caller: the forward gives per-token log-probs of
// the targets (and entropies); the backward takes dL/dlogprob (and
// dL/dentropy) and accumulates parameter gradients into a flat buffer laid
// out like the parameters (actor_params).
#ifndef RLC_ACTOR_TRAIN_H
#define RLC_ACTOR_TRAIN_H

#include "core/status.h"
#include "model.h"

typedef struct actor_batch {
    int n_tokens;            // T
    int n_seqs;              // documents packed in the row
    const int *tokens;       // (T) input ids
    const int *cu_seqlens;   // (n_seqs + 1) document starts; cu_seqlens[n_seqs] == T
    const int *targets;      // (T) the id each position predicts; -1 where none
                             // (may be NULL for actor_train_forward_hidden)
} actor_batch;

typedef struct actor_trainer actor_trainer;

// Activation memory for batches of at most max_tokens tokens. The lm_head and
// log-softmax walk the vocabulary in chunks of vocab_chunk ids, so the
// [T x V] logits never exist at once (see actor_train_forward).
rlc_status actor_train_create(actor_model *m, int max_tokens, int vocab_chunk, actor_trainer **out);
void actor_train_free(actor_trainer *t);

// Forward over the batch; keeps what the backward needs. Errors (nothing
// changes, the previous forward stays usable): RLC_ERR_ARG for a bad batch
// (n_tokens outside [1, max_tokens], cu_seqlens not 0 ... n_tokens and
// non-decreasing, a token or target outside the vocabulary).
// logprobs (T): log p(target | prefix); entropy (T, or NULL): the entropy of
// each position's distribution. Positions with target -1 get 0.
rlc_status actor_train_forward(actor_trainer *t, const actor_batch *b, float *logprobs, float *entropy);

// Backward of the last forward: dlogprobs (T) = dL/dlogprob, dentropy (T or
// NULL) = dL/dentropy; adds dL/dparam into grads (numel of the parameter
// buffer, same offsets as actor_params). RLC_ERR_STATE before any forward.
// The parameters must not change between the forward and its backward.
rlc_status actor_train_backward(actor_trainer *t, const float *dlogprobs, const float *dentropy, float *grads);

// ---- the hidden states: a value model on the same trunk ----------------------

// Forward over the batch up to the final RMSNorm: hidden (T, C) = the
// normalised last hidden state of every position (what a Hugging Face
// *ForTokenClassification head reads); the lm_head is not run and b->targets
// is not read (may be NULL). Keeps what actor_train_backward_hidden needs.
// Errors as actor_train_forward.
rlc_status actor_train_forward_hidden(actor_trainer *t, const actor_batch *b, float *hidden);

// Backward of the last actor_train_forward_hidden: dhidden (T, C) = dL/dhidden;
// adds dL/dparam into grads (laid out like the parameters). Nothing is added
// to the lm_head (it takes no part); with tied embeddings the embedding gets
// its input gradient only. RLC_ERR_STATE when the last forward was not a
// hidden forward (and actor_train_backward after a hidden forward).
rlc_status actor_train_backward_hidden(actor_trainer *t, const float *dhidden, float *grads);

// ---- additions: options and memory queries ---------------------------------

typedef struct actor_train_options {
    int max_tokens;   // T: the most tokens one batch may hold
    int vocab_chunk;  // ids per lm_head chunk; <= 0 or >= V: the whole vocabulary
    int recompute;    // 1: keep only each layer's input during the forward and
                      // recompute the layer's activations in the backward
    float temperature;  // > 0: the log-probs (and entropies) are those of
                        // softmax(logits / temperature), the sampling
                        // temperature (verl, TRL); 0 or 1: the raw logits
} actor_train_options;

// actor_train_create with every option. Activation memory, in floats, for
// T = max_tokens, L layers, C hidden, H heads, KV kv heads, D head dim,
// HD = H*D, KD = KV*D, I MLP width, vc = min(vocab_chunk, V):
//   saved per layer: T * (2C + 2HD + 2KD + H + 2I), plus T * (HD + KD) with
//                    q/k norms (Qwen3); with recompute only T * C per layer
//                    plus one layer's set, shared;
//   scratch: T * (7C + 2HD + 2KD + 3I + H + 15) (plus T * (HD + KD) with q/k
//            norms) and T * vc for one chunk of logits (the chunked
//            log-softmax: the (T, V) logits never exist);
// each piece rounded up to 64 bytes. Qwen2.5-0.5B at T = 512, vc = 8192:
// 637 MiB saved + 61 MiB scratch (16 MiB of it the logits chunk, where the
// whole logits would be 297 MiB); with recompute 128 MiB in all.
// Everything is allocated here once; forward and backward allocate nothing.
rlc_status actor_train_create_opts(actor_model *m, const actor_train_options *o,
                                   actor_trainer **out);
// Bytes actor_train_create_opts would allocate for `c` and `o` (no allocation).
size_t actor_train_bytes_for(const actor_config *c, const actor_train_options *o);
// Bytes this trainer allocated.
size_t actor_train_bytes(const actor_trainer *t);

#endif
