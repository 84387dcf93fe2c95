// weights.h: model weights from and to Hugging Face safetensors checkpoints,
// by the parameter table of actor/params.h.
#ifndef RLC_ACTOR_WEIGHTS_H
#define RLC_ACTOR_WEIGHTS_H

#include "config.h"
#include "core/status.h"
#include "params.h"

// Fills `p` (created for `cfg` with actor_params_create) from `dir`: its
// model.safetensors, or the shards listed in model.safetensors.index.json.
// F32, BF16, F16 and F64 tensors are converted to float32. Every tensor of
// the table must be present with the table's shape; tensors the table does
// not hold (rotary_emb.inv_freq, lm_head.weight of a tied model) are ignored.
// RLC_ERR_IO (no checkpoint there), RLC_ERR_FORMAT (a bad file, a missing
// tensor or a wrong shape: the message names the file, the tensor, and the
// expected and found shapes), RLC_ERR_UNSUPPORTED (an integer dtype).
// On failure the contents of p->data are unspecified; p stays allocated.
rlc_status actor_weights_load(const char *dir, const actor_config *cfg, actor_params *p);

// Writes every tensor of the table to `path` (a single safetensors file, F32,
// Hugging Face names; a tied model stores only the embedding), atomically
// (a temporary file renamed over `path`).
rlc_status actor_weights_save(const char *path, const actor_params *p);

#endif
