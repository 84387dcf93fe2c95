// sft_internal.h: what sft.c and sft_data.c share: the tokenized dataset.
#ifndef RLC_LEARNER_SFT_INTERNAL_H
#define RLC_LEARNER_SFT_INTERNAL_H

#include <stddef.h>  // size_t

#include "actor/tokenizer.h"  // tok_tokenizer
#include "sft.h"              // sft_config

// Every sample's tokens back to back; sample i is tokens[offsets[i] ..
// offsets[i + 1]) with mask 1 on the tokens trained on.
typedef struct sft_dataset {
    int *tokens;            // (n_tokens)
    unsigned char *mask;    // (n_tokens)
    size_t n_tokens, cap_tokens;
    long *offsets;          // (n + 1)
    long n, cap;
    long skipped_prompt;    // prompt longer than max_prompt_tokens
    long skipped_empty;     // nothing left to train on
    long truncated;         // cut to micro_batch_tokens
    unsigned long long fingerprint;  // FNV-1a of tokens, masks and offsets
} sft_dataset;

// Reads and tokenizes every record of c->data_paths. eos: the id appended
// after a prompt/response response (-1: none). Errors (nothing stays
// allocated): RLC_ERR_IO, RLC_ERR_FORMAT "path:line: ...", RLC_ERR_NOMEM,
// RLC_ERR_ARG (text that is not UTF-8, a message without role or content).
rlc_status sft_data_load(sft_dataset *d, const sft_config *c, const tok_tokenizer *tok, int eos);
void sft_data_free(sft_dataset *d);

#endif
