// config.c: model configurations from Hugging Face config.json (the Llama,
// Mistral, Qwen2/2.5 and Qwen3 families), their consistency checks and the
// RoPE inverse frequencies, computed the way transformers computes them.
#include "config.h"

#include <math.h>    // powf, M_PI
#include <stdio.h>   // snprintf
#include <string.h>  // memset, strcmp

#include "core/json.h"  // rlc_json_load_file, rlc_json_get_int, ...

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

// Per-family defaults, as the transformers config classes define them.
typedef struct {
    const char *model_type;
    actor_arch arch;
    int attn_bias;            // forced q/k/v biases (Qwen2)
    int qk_norm;              // q/k RMSNorm (Qwen3)
    double rms_eps;           // rms_norm_eps default
    long long max_position;   // max_position_embeddings default
    long long head_dim;       // head_dim default; 0 = hidden_size / heads
    long long bos, eos;       // token id defaults; -1 = none
} family;

static const family families[] = {
    {"llama", ACTOR_ARCH_LLAMA, 0, 0, 1e-6, 2048, 0, 1, 2},
    {"mistral", ACTOR_ARCH_LLAMA, 0, 0, 1e-6, 4096 * 32, 0, 1, 2},
    {"qwen2", ACTOR_ARCH_QWEN2, 1, 0, 1e-6, 32768, 0, -1, -1},
    {"qwen3", ACTOR_ARCH_QWEN3, 0, 1, 1e-6, 32768, 128, -1, -1},
};

static const family *find_family(const char *model_type) {
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcmp(families[i].model_type, model_type) == 0) return &families[i];
    return NULL;
}

// An int field that must fit in a positive int.
static rlc_status get_dim(const json_t *j, const char *key, const char *path, int *out) {
    long long v;
    RLC_TRY(rlc_json_get_int(j, key, path, &v));
    if (v <= 0 || v > (1LL << 30))
        return rlc_errorf(RLC_ERR_CONFIG, "%s: field \"%s\" must be a positive integer, got %lld",
                          path, key, v);
    *out = (int)v;
    return RLC_OK;
}

static rlc_status opt_dim(const json_t *j, const char *key, const char *path, long long def,
                          int *out) {
    if (json_object_get(j, key) && !json_is_null(json_object_get(j, key)))
        return get_dim(j, key, path, out);
    *out = (int)def;
    return RLC_OK;
}

static rlc_status read_sizes(const json_t *j, const char *path, const family *f, actor_config *c) {
    RLC_TRY(get_dim(j, "vocab_size", path, &c->vocab_size));
    RLC_TRY(get_dim(j, "hidden_size", path, &c->hidden_size));
    RLC_TRY(get_dim(j, "num_hidden_layers", path, &c->n_layers));
    RLC_TRY(get_dim(j, "num_attention_heads", path, &c->n_heads));
    RLC_TRY(opt_dim(j, "num_key_value_heads", path, c->n_heads, &c->n_kv_heads));
    long long hd = f->head_dim ? f->head_dim : c->hidden_size / c->n_heads;
    RLC_TRY(opt_dim(j, "head_dim", path, hd, &c->head_dim));
    RLC_TRY(get_dim(j, "intermediate_size", path, &c->intermediate_size));
    RLC_TRY(opt_dim(j, "max_position_embeddings", path, f->max_position, &c->max_position));
    double eps;
    RLC_TRY(rlc_json_opt_number(j, "rms_norm_eps", path, f->rms_eps, &eps));
    c->rms_eps = (float)eps;
    return RLC_OK;
}

// rope_scaling: null, or {"rope_type" (or "type"): "llama3", factor,
// low_freq_factor, high_freq_factor, original_max_position_embeddings}.
static rlc_status read_rope_scaling(const json_t *rs, const char *path, actor_config *c) {
    c->rope_type = ACTOR_ROPE_DEFAULT;
    if (!rs || json_is_null(rs)) return RLC_OK;
    if (!json_is_object(rs))
        return rlc_errorf(RLC_ERR_CONFIG, "%s: field \"rope_scaling\" must be an object or null",
                          path);
    const json_t *t = json_object_get(rs, "rope_type");
    if (!t) t = json_object_get(rs, "type");
    if (!json_is_string(t))
        return rlc_errorf(RLC_ERR_CONFIG, "%s: field \"rope_scaling.rope_type\" must be a string",
                          path);
    const char *type = json_string_value(t);
    if (strcmp(type, "default") == 0) return RLC_OK;
    if (strcmp(type, "llama3") != 0)
        return rlc_errorf(RLC_ERR_UNSUPPORTED,
                          "%s: rope_scaling type \"%s\" is not supported (only \"llama3\")", path,
                          type);
    char what[600];
    snprintf(what, sizeof what, "%s: rope_scaling", path);
    double factor, lo, hi;
    long long orig;
    RLC_TRY(rlc_json_get_number(rs, "factor", what, &factor));
    RLC_TRY(rlc_json_get_number(rs, "low_freq_factor", what, &lo));
    RLC_TRY(rlc_json_get_number(rs, "high_freq_factor", what, &hi));
    RLC_TRY(rlc_json_get_int(rs, "original_max_position_embeddings", what, &orig));
    if (factor <= 0 || lo <= 0 || hi <= lo || orig <= 0 || orig > (1LL << 30))
        return rlc_errorf(RLC_ERR_CONFIG,
                          "%s: rope_scaling needs factor > 0, 0 < low_freq_factor < "
                          "high_freq_factor and original_max_position_embeddings > 0",
                          path);
    c->rope_type = ACTOR_ROPE_LLAMA3;
    c->rope_factor = (float)factor;
    c->rope_low_freq_factor = (float)lo;
    c->rope_high_freq_factor = (float)hi;
    c->rope_original_max_pos = (int)orig;
    return RLC_OK;
}

// rope_theta and rope_scaling; newer transformers write both inside
// "rope_parameters" instead.
static rlc_status read_rope(const json_t *j, const char *path, actor_config *c) {
    const json_t *rp = json_object_get(j, "rope_parameters");
    if (json_is_object(rp)) {
        double theta;
        RLC_TRY(rlc_json_opt_number(rp, "rope_theta", path, 10000.0, &theta));
        c->rope_theta = (float)theta;
        return read_rope_scaling(rp, path, c);
    }
    double theta;
    RLC_TRY(rlc_json_opt_number(j, "rope_theta", path, 10000.0, &theta));
    if (!(theta > 0))
        return rlc_errorf(RLC_ERR_CONFIG, "%s: field \"rope_theta\" must be positive", path);
    c->rope_theta = (float)theta;
    return read_rope_scaling(json_object_get(j, "rope_scaling"), path, c);
}

// bos_token_id: int or null. eos_token_id: int, list of ints, or null.
static rlc_status read_special_ids(const json_t *j, const char *path, const family *f,
                                   actor_config *c) {
    long long bos;
    RLC_TRY(rlc_json_opt_int(j, "bos_token_id", path, f->bos, &bos));
    c->bos_id = (int)bos;
    c->n_eos = 0;
    const json_t *e = json_object_get(j, "eos_token_id");
    if (!e) {
        if (f->eos >= 0) c->eos_ids[c->n_eos++] = (int)f->eos;
        return RLC_OK;
    }
    if (json_is_null(e)) return RLC_OK;
    if (json_is_integer(e)) {
        c->eos_ids[c->n_eos++] = (int)json_integer_value(e);
        return RLC_OK;
    }
    if (!json_is_array(e))
        return rlc_errorf(RLC_ERR_CONFIG,
                          "%s: field \"eos_token_id\" must be an integer or a list of integers",
                          path);
    size_t i;
    const json_t *v;
    json_array_foreach(e, i, v) {
        if (!json_is_integer(v))
            return rlc_errorf(RLC_ERR_CONFIG,
                              "%s: field \"eos_token_id\" must be a list of integers", path);
        if (c->n_eos == ACTOR_MAX_EOS)
            return rlc_errorf(RLC_ERR_CONFIG, "%s: field \"eos_token_id\" has more than %d ids",
                              path, ACTOR_MAX_EOS);
        c->eos_ids[c->n_eos++] = (int)json_integer_value(v);
    }
    return RLC_OK;
}

// Options that change the architecture in ways the model does not implement
// are refused rather than silently ignored.
static rlc_status check_unsupported(const json_t *j, const char *path, const family *f,
                                    actor_config *c) {
    const json_t *act = json_object_get(j, "hidden_act");
    if (act && !(json_is_string(act) && strcmp(json_string_value(act), "silu") == 0))
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: hidden_act must be \"silu\"", path);
    int bias, mlp_bias, sliding;
    RLC_TRY(rlc_json_opt_bool(j, "attention_bias", path, 0, &bias));
    RLC_TRY(rlc_json_opt_bool(j, "mlp_bias", path, 0, &mlp_bias));
    RLC_TRY(rlc_json_opt_bool(j, "use_sliding_window", path, 0, &sliding));
    // Llama and Qwen3 attention_bias also adds an o_proj bias, which the
    // parameter table does not hold.
    if (bias && f->arch != ACTOR_ARCH_QWEN2)
        return rlc_errorf(RLC_ERR_UNSUPPORTED,
                          "%s: attention_bias=true (with an o_proj bias) is not supported for %s",
                          path, f->model_type);
    if (mlp_bias) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: mlp_bias=true is not supported", path);
    if (sliding)
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: use_sliding_window=true is not supported", path);
    if (strcmp(f->model_type, "mistral") == 0) {
        long long win;
        RLC_TRY(rlc_json_opt_int(j, "sliding_window", path, 0, &win));
        if (win > 0 && win < c->max_position)
            return rlc_errorf(RLC_ERR_UNSUPPORTED,
                              "%s: sliding_window=%lld (< max_position_embeddings) is not supported",
                              path, win);
    }
    return RLC_OK;
}

static rlc_status config_from_json(const json_t *j, const char *path, actor_config *c) {
    if (!json_is_object(j))
        return rlc_errorf(RLC_ERR_CONFIG, "%s: the top level must be a JSON object", path);
    const char *mt;
    RLC_TRY(rlc_json_get_string(j, "model_type", path, &mt));
    const family *f = find_family(mt);
    if (!f)
        return rlc_errorf(RLC_ERR_CONFIG,
                          "%s: unknown model_type \"%s\" (supported: llama, mistral, qwen2, qwen3)",
                          path, mt);
    snprintf(c->model_type, sizeof c->model_type, "%s", mt);
    c->arch = f->arch;
    c->attn_bias = f->attn_bias;
    c->qk_norm = f->qk_norm;
    RLC_TRY(read_sizes(j, path, f, c));
    RLC_TRY(read_rope(j, path, c));
    RLC_TRY(rlc_json_opt_bool(j, "tie_word_embeddings", path, 0, &c->tie_embeddings));
    RLC_TRY(read_special_ids(j, path, f, c));
    RLC_TRY(check_unsupported(j, path, f, c));
    return actor_config_validate(c, path);
}

rlc_status actor_config_load(const char *path, actor_config *out) {
    memset(out, 0, sizeof *out);
    json_t *j;
    RLC_TRY(rlc_json_load_file(path, &j));
    actor_config c;
    memset(&c, 0, sizeof c);
    rlc_status s = config_from_json(j, path, &c);
    json_decref(j);
    if (s == RLC_OK) *out = c;
    return s;
}

rlc_status actor_config_validate(const actor_config *c, const char *what) {
#define BAD(...) return rlc_errorf(RLC_ERR_CONFIG, __VA_ARGS__)
    if (c->vocab_size <= 0 || c->hidden_size <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->head_dim <= 0 || c->intermediate_size <= 0)
        BAD("%s: every size must be positive (V=%d C=%d L=%d H=%d KV=%d D=%d I=%d)", what,
            c->vocab_size, c->hidden_size, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim,
            c->intermediate_size);
    if (c->n_heads % c->n_kv_heads != 0)
        BAD("%s: num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", what,
            c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2 != 0) BAD("%s: head_dim (%d) must be even for RoPE", what, c->head_dim);
    // The largest matrix must be addressable with int rows x cols in floats.
    if ((long long)c->vocab_size * c->hidden_size > (1LL << 40) ||
        (long long)c->n_heads * c->head_dim > (1 << 24))
        BAD("%s: sizes too large", what);
    if (c->max_position <= 0) BAD("%s: max_position_embeddings must be positive", what);
    if (!(c->rms_eps > 0)) BAD("%s: rms_norm_eps must be positive", what);
    if (!(c->rope_theta > 0)) BAD("%s: rope_theta must be positive", what);
    if (c->n_eos < 0 || c->n_eos > ACTOR_MAX_EOS) BAD("%s: bad number of eos ids", what);
    if (c->bos_id >= c->vocab_size)
        BAD("%s: bos_token_id %d is outside the vocabulary (%d)", what, c->bos_id, c->vocab_size);
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] < 0 || c->eos_ids[i] >= c->vocab_size)
            BAD("%s: eos_token_id %d is outside the vocabulary (%d)", what, c->eos_ids[i],
                c->vocab_size);
    if (c->rope_type == ACTOR_ROPE_LLAMA3 &&
        !(c->rope_factor > 0 && c->rope_low_freq_factor > 0 &&
          c->rope_high_freq_factor > c->rope_low_freq_factor && c->rope_original_max_pos > 0))
        BAD("%s: inconsistent llama3 rope_scaling", what);
    return RLC_OK;
#undef BAD
}

// The llama3 blend mixes products and sums; keep them as separate float32
// roundings (no fused multiply-add) as PyTorch computes them.
#if defined(__GNUC__) && !defined(__clang__)
#define NO_FMA __attribute__((optimize("fp-contract=off")))
#else
#define NO_FMA
#endif

// transformers' _compute_llama3_parameters, elementwise in float32:
// low frequencies (long wavelengths) are divided by `factor`, high ones kept,
// and the band between blended smoothly.
NO_FMA static float llama3_scale(const actor_config *c, float inv_freq) {
    const float factor = c->rope_factor;
    const float lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
    const float old_len = (float)c->rope_original_max_pos;
    const float low_freq_wavelen = (float)((double)c->rope_original_max_pos / lo);
    const float high_freq_wavelen = (float)((double)c->rope_original_max_pos / hi);
    // torch evaluates `scalar / tensor` as reciprocal(tensor) * scalar.
    const float wavelen = (1.0f / inv_freq) * (float)(2.0 * M_PI);
    float f = wavelen > low_freq_wavelen ? inv_freq / factor : inv_freq;
    if (!(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen)) {
        float smooth = ((1.0f / wavelen) * old_len - lo) / (float)((double)hi - (double)lo);
        float a = (1.0f - smooth) * f;
        float b = a / factor;
        float d = smooth * f;
        f = b + d;
    }
    return f;
}

void actor_config_rope_freqs(const actor_config *c, float *inv_freq) {
    const int D = c->head_dim;
    const float theta = c->rope_theta;
    for (int i = 0; i < D / 2; i++) {
        float expo = (float)(2 * i) / (float)D;  // arange(0, D, 2).float() / D
        float f = 1.0f / powf(theta, expo);
        if (c->rope_type == ACTOR_ROPE_LLAMA3) f = llama3_scale(c, f);
        inv_freq[i] = f;
    }
}

int actor_config_is_eos(const actor_config *c, int token) {
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] == token) return 1;
    return 0;
}
