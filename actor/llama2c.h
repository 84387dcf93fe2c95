// llama2c.h: loading llama2.c legacy ("version 0") .bin checkpoints, such as
// stories260K, into an actor_config and actor_params.
//
// The file is a header of 7 int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means an unshared
// classifier follows) and then float32 weights in llama2.c order. llama2.c
// rotates interleaved pairs (2i, 2i+1) with RoPE; the rows of wq and wk are
// permuted into the Hugging Face rotate-half layout (i, i + D/2) on load, so
// the model computes exactly what llama2.c computes.
#ifndef RLC_ACTOR_LLAMA2C_H
#define RLC_ACTOR_LLAMA2C_H

#include "config.h"
#include "core/status.h"
#include "params.h"

// Loads `path`. On success *cfg is filled (arch llama, rms_eps 1e-5,
// rope_theta 10000, bos 1, eos {1, 2}) and *params holds the weights (the
// caller frees them with actor_params_free). On failure nothing is allocated:
// RLC_ERR_IO (cannot read), RLC_ERR_FORMAT (a bad header, or a file size that
// does not match the header exactly; the message names the file), RLC_ERR_NOMEM.
rlc_status actor_llama2c_load(const char *path, actor_config *cfg, actor_params *params);

// 1 when `path` looks like a llama2.c checkpoint: a regular file (not a
// directory), not safetensors, whose header gives sane positive dimensions
// and whose size matches them. 0 otherwise; never sets an error.
int actor_llama2c_detect(const char *path);

#endif
