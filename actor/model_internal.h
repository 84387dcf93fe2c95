// model_internal.h: the model and KV-cache structs, shared by the actor's
// model.c, kv.c and forward.c. Not part of the public API.
#ifndef RLC_ACTOR_MODEL_INTERNAL_H
#define RLC_ACTOR_MODEL_INTERNAL_H

#include "model.h"

struct actor_model {
    actor_config cfg;
    actor_params params;
    kernels_backend be;
    float *inv_freq;  // (D/2) RoPE inverse frequencies, scaling applied
};

struct actor_kv {
    int n_slots, max_seq, max_tokens;
    int L, KV, D;
    float *k, *v;  // (L, n_slots, max_seq, KV, D)
    int *len;      // (n_slots) positions filled per slot
    // Activation scratch for one forward of at most max_tokens tokens (T).
    float *x;      // (T, C) residual stream
    float *xn;     // (T, max(C, H*D)) normalized input / projection output
    float *q;      // (T, H*D)
    float *kt;     // (T, KV*D) new keys
    float *vt;     // (T, KV*D) new values
    float *att;    // (T, H*D) attention output
    float *gate;   // (T, I)
    float *up;     // (T, I)
    int *pos;      // (T) position of each token
    int *rows;     // (T) indices of the tokens whose logits are wanted
    int *count;    // (n_slots) tokens per slot in the current call
};

#endif
