// params.h: the parameter table. All parameters of a model live in one
// contiguous float32 buffer (so that weight sync is one copy); this table
// gives each tensor's Hugging Face name, shape and offset in that buffer.
#ifndef RLC_ACTOR_PARAMS_H
#define RLC_ACTOR_PARAMS_H

#include <stddef.h>  // size_t

#include "config.h"
#include "core/status.h"

#define ACTOR_MAX_NAME 96

typedef struct actor_tensor_info {
    char name[ACTOR_MAX_NAME];  // e.g. "model.layers.3.self_attn.q_proj.weight"
    int ndim;                   // 1 or 2
    int shape[2];               // rows, cols (shape[1] = 1 for vectors)
    size_t offset;              // in floats, into the flat buffer
    size_t numel;
} actor_tensor_info;

// Pointers into the flat buffer, one per tensor kind. Per-layer tensors are
// arrays of L pointers. Absent tensors (biases of Llama, q/k norms of Qwen2,
// lm_head when tied) are NULL.
typedef struct actor_layer_params {
    float *attn_norm;   // (C)
    float *wq, *bq;     // (H*D, C), (H*D)
    float *wk, *bk;     // (KV*D, C), (KV*D)
    float *wv, *bv;     // (KV*D, C), (KV*D)
    float *wo;          // (C, H*D)
    float *q_norm;      // (D)
    float *k_norm;      // (D)
    float *mlp_norm;    // (C)
    float *w_gate;      // (I, C)
    float *w_up;        // (I, C)
    float *w_down;      // (C, I)
} actor_layer_params;

typedef struct actor_params {
    float *data;                 // the flat buffer (owned)
    size_t numel;                // floats in data
    actor_tensor_info *tensors;  // n_tensors entries (owned)
    int n_tensors;
    float *embed;                // (V, C)
    float *final_norm;           // (C)
    float *lm_head;              // (V, C); == embed when tied
    actor_layer_params *layers;  // (L) (owned)
} actor_params;

// Builds the table for `c` and allocates the zeroed flat buffer.
rlc_status actor_params_create(const actor_config *c, actor_params *out);
void actor_params_free(actor_params *p);
// The entry named `name`, or NULL.
const actor_tensor_info *actor_params_find(const actor_params *p, const char *name);

#endif
