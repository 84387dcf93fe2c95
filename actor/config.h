// config.h: the model configuration, read from a Hugging Face config.json
// (Llama, Qwen2/2.5, Qwen3 families) or from a llama2.c .bin header.
#ifndef RLC_ACTOR_CONFIG_H
#define RLC_ACTOR_CONFIG_H

#include "core/status.h"

#define ACTOR_MAX_EOS 8

typedef enum {
    ACTOR_ARCH_LLAMA = 0,  // Llama-2/3, SmolLM2, TinyLlama ("llama"), and llama2.c
    ACTOR_ARCH_QWEN2,      // Qwen2 / Qwen2.5: q/k/v biases
    ACTOR_ARCH_QWEN3,      // Qwen3: q/k RMSNorm, explicit head_dim
} actor_arch;

typedef enum {
    ACTOR_ROPE_DEFAULT = 0,
    ACTOR_ROPE_LLAMA3,  // rope_scaling.rope_type == "llama3"
} actor_rope_type;

typedef struct actor_config {
    actor_arch arch;
    char model_type[32];     // as written in config.json ("llama", "qwen2", ...)
    int vocab_size;          // V: rows of the embedding
    int hidden_size;         // C
    int n_layers;            // L
    int n_heads;             // H
    int n_kv_heads;          // KV (divides H)
    int head_dim;            // D (Qwen3 may have H * D != C)
    int intermediate_size;   // I (MLP width)
    int max_position;        // max_position_embeddings
    float rms_eps;
    float rope_theta;
    actor_rope_type rope_type;
    float rope_factor;             // llama3 scaling
    float rope_low_freq_factor;
    float rope_high_freq_factor;
    int rope_original_max_pos;
    int tie_embeddings;      // lm_head shares embed_tokens
    int attn_bias;           // q/k/v projections have biases (Qwen2)
    int qk_norm;             // per-head RMSNorm on q and k (Qwen3)
    int bos_id;              // -1 when none
    int eos_ids[ACTOR_MAX_EOS];
    int n_eos;
} actor_config;

// Reads config.json. An unknown model_type or a missing or mistyped field is
// RLC_ERR_CONFIG with a message naming the file and the field.
rlc_status actor_config_load(const char *path, actor_config *out);

// Checks internal consistency (positive sizes, H % KV == 0, even D, ...).
rlc_status actor_config_validate(const actor_config *c, const char *what);

// RoPE inverse frequencies (D/2 entries) with the model's scaling applied.
void actor_config_rope_freqs(const actor_config *c, float *inv_freq);

int actor_config_is_eos(const actor_config *c, int token);

#endif
