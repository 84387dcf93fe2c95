// model.c: loading and creating models: the config, the flat parameter
// buffer and the backend they run on.
#include <math.h>    // sqrtf, logf, cosf
#include <stdint.h>  // uint64_t
#include <string.h>  // strstr

#include "core/core.h"
#include "llama2c.h"  // actor_llama2c_load
#include "model_internal.h"
#include "weights.h"  // actor_weights_load

static rlc_status model_alloc(const actor_config *c, actor_model **out) {
    RLC_TRY(actor_config_validate(c, c->model_type));
    actor_model *m = rlc_calloc(1, sizeof *m);
    if (!m) return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the model");
    m->cfg = *c;
    m->be = kernels_cpu();
    m->inv_freq = rlc_malloc(sizeof(float) * (size_t)(c->head_dim / 2));
    if (!m->inv_freq) {
        rlc_free(m);
        return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the model");
    }
    actor_config_rope_freqs(c, m->inv_freq);
    *out = m;
    return RLC_OK;
}

rlc_status actor_model_create(const actor_config *c, actor_model **out) {
    actor_model *m;
    RLC_TRY(model_alloc(c, &m));
    rlc_status s = actor_params_create(&m->cfg, &m->params);
    if (s != RLC_OK) {
        actor_model_free(m);
        return s;
    }
    *out = m;
    return RLC_OK;
}

rlc_status actor_model_load(const char *path, actor_model **out) {
    *out = NULL;
    actor_config cfg;
    actor_params params;
    rlc_status s;
    if (rlc_is_dir(path)) {
        char cfg_path[4096];
        RLC_TRY(rlc_path_join(cfg_path, sizeof cfg_path, path, "config.json"));
        RLC_TRY(actor_config_load(cfg_path, &cfg));
        RLC_TRY(actor_params_create(&cfg, &params));
        s = actor_weights_load(path, &cfg, &params);
    } else {
        s = actor_llama2c_load(path, &cfg, &params);
        if (s != RLC_OK) return s;
    }
    if (s != RLC_OK) {
        actor_params_free(&params);
        return s;
    }
    actor_model *m;
    s = model_alloc(&cfg, &m);
    if (s != RLC_OK) {
        actor_params_free(&params);
        return s;
    }
    m->params = params;
    *out = m;
    return RLC_OK;
}

void actor_model_free(actor_model *m) {
    if (!m) return;
    actor_params_free(&m->params);
    rlc_free(m->inv_freq);
    rlc_free(m);
}

const actor_config *actor_model_config(const actor_model *m) { return &m->cfg; }

actor_params *actor_model_params(actor_model *m) { return &m->params; }

rlc_status actor_model_swap_params(actor_model *m, actor_params *p) {
    if (p->numel != m->params.numel || p->n_tensors != m->params.n_tensors)
        return rlc_errorf(RLC_ERR_ARG, "swap params: %zu floats in %d tensors, the model has %zu in %d",
                          p->numel, p->n_tensors, m->params.numel, m->params.n_tensors);
    actor_params tmp = m->params;
    m->params = *p;
    *p = tmp;
    return RLC_OK;
}

// splitmix64: a small, well-mixed generator for reproducible initialisation.
static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float uniform01(uint64_t *state) { return ((splitmix64(state) >> 40) + 0.5f) / 16777216.0f; }

void actor_model_init_random(actor_model *m, unsigned long long seed, float std) {
    uint64_t state = seed;
    const actor_params *p = &m->params;
    for (int t = 0; t < p->n_tensors; t++) {
        const actor_tensor_info *ti = &p->tensors[t];
        float *w = p->data + ti->offset;
        int is_norm = strstr(ti->name, "norm") != NULL;
        for (size_t i = 0; i < ti->numel; i++) {
            if (is_norm) {
                w[i] = 1.0f;
                continue;
            }
            // Box-Muller on two uniforms in (0, 1).
            float u1 = uniform01(&state), u2 = uniform01(&state);
            w[i] = std * sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
        }
    }
}
