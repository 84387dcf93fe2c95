// batching.h: token-budget micro-batches for gradient accumulation.
//
// A step's samples (each a prompt + response token list with a loss mask) are
// packed, in order and first-fit, into rows of at most max_tokens tokens; each
// row is one actor_batch (documents delimited by cu_seqlens, targets -1 where
// nothing is predicted). The step's loss is the mean over every unmasked
// target of the whole step, so each row's dL/dlogprob is -1 / N with N the
// step's target count (batch_packer_targets), not the row's: accumulating the
// rows' gradients gives exactly the gradient of the step's mean.
#ifndef RLC_LEARNER_BATCHING_H
#define RLC_LEARNER_BATCHING_H

#include "actor/train.h"  // actor_batch
#include "core/status.h"  // rlc_status

typedef struct batch_sample {
    const int *tokens;               // (n) prompt then response
    const unsigned char *loss_mask;  // (n) 1: the token is trained on (predicted from
                                     // the tokens before it); NULL: all but the first
    int n;
} batch_sample;

typedef struct batch_packer batch_packer;

// A packer for rows of at most max_tokens tokens. Its buffers grow to the
// largest step seen and are then reused (no allocation in steady state).
rlc_status batch_packer_create(int max_tokens, batch_packer **out);
void batch_packer_free(batch_packer *p);  // NULL is fine

// Packs n samples (replacing the previous packing): each sample goes into the
// first row, in creation order, with room for it, else into a new row.
// Targets: position i of a sample predicts tokens[i + 1] when loss_mask[i + 1]
// is set, otherwise -1; the last position of each sample is -1. Samples of
// 0 tokens are left out. The samples' token arrays are copied.
// RLC_ERR_ARG: a sample longer than max_tokens (the message gives its index
// and length; truncate before packing). RLC_ERR_NOMEM. On error the packer
// holds no rows.
rlc_status batch_packer_pack(batch_packer *p, const batch_sample *s, int n);

int batch_packer_rows(const batch_packer *p);
// Row i (0 <= i < rows); borrowed, valid until the next pack.
const actor_batch *batch_packer_row(const batch_packer *p, int i);
// The samples of row i, by index into the packed array, in row order (*n of them).
const int *batch_packer_row_samples(const batch_packer *p, int i, int *n);
long batch_packer_tokens(const batch_packer *p);   // tokens over all rows
long batch_packer_targets(const batch_packer *p);  // targets != -1 over all rows: N

// The negative log-likelihood part of one row: returns -sum(logprobs[t]) over
// the row's targets, and sets dlogprobs[t] = -scale there (0 elsewhere), so
// that with scale = 1 / N the row's backward adds its share of dL/dparam for
// L = -(1/N) sum over the step of log p(target).
double batch_nll(const actor_batch *b, const float *logprobs, double scale, float *dlogprobs);

#endif
