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
} actor_batch;

typedef struct actor_trainer actor_trainer;

// Activation memory for batches of at most max_tokens tokens. The lm_head and
// log-softmax walk the vocabulary in chunks of vocab_chunk ids, so the
// [T x V] logits never exist at once (see actor_train_forward).
rlc_status actor_train_create(actor_model *m, int max_tokens, int vocab_chunk, actor_trainer **out);
void actor_train_free(actor_trainer *t);

// Forward over the batch; keeps what the backward needs.
// logprobs (T): log p(target | prefix); entropy (T, or NULL): the entropy of
// each position's distribution. Positions with target -1 get 0.
rlc_status actor_train_forward(actor_trainer *t, const actor_batch *b, float *logprobs, float *entropy);

// Backward of the last forward: dlogprobs (T) = dL/dlogprob, dentropy (T or
// NULL) = dL/dentropy; adds dL/dparam into grads (numel of the parameter
// buffer, same offsets as actor_params).
rlc_status actor_train_backward(actor_trainer *t, const float *dlogprobs, const float *dentropy, float *grads);

#endif
