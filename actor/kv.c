// kv.c: the KV cache and the activation scratch of the forward pass. All of
// it is allocated once here; forward calls allocate nothing.
#include <string.h>  // memcpy, memset

#include "core/core.h"
#include "model_internal.h"

static void *scratch(size_t count, size_t elem, int *failed) {
    void *p = rlc_malloc_aligned(count * elem);
    if (!p) *failed = 1;
    return p;
}

rlc_status actor_kv_create(const actor_config *c, int n_slots, int max_seq, int max_tokens,
                           actor_kv **out) {
    *out = NULL;
    if (n_slots <= 0 || max_seq <= 0 || max_tokens <= 0)
        return rlc_errorf(RLC_ERR_ARG, "kv cache: n_slots (%d), max_seq (%d) and max_tokens (%d) must be positive",
                          n_slots, max_seq, max_tokens);
    actor_kv *kv = rlc_calloc(1, sizeof *kv);
    if (!kv) return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the kv cache");
    kv->n_slots = n_slots;
    kv->max_seq = max_seq;
    kv->max_tokens = max_tokens;
    kv->L = c->n_layers;
    kv->KV = c->n_kv_heads;
    kv->D = c->head_dim;
    size_t T = (size_t)max_tokens, C = (size_t)c->hidden_size;
    size_t HD = (size_t)c->n_heads * c->head_dim, KVD = (size_t)c->n_kv_heads * c->head_dim;
    size_t cache = (size_t)kv->L * n_slots * max_seq * KVD;
    int failed = 0;
    kv->k = scratch(cache, sizeof(float), &failed);
    kv->v = scratch(cache, sizeof(float), &failed);
    kv->len = rlc_calloc((size_t)n_slots, sizeof(int));
    kv->count = rlc_calloc((size_t)n_slots, sizeof(int));
    failed |= !kv->len || !kv->count;
    kv->x = scratch(T * C, sizeof(float), &failed);
    kv->xn = scratch(T * (C > HD ? C : HD), sizeof(float), &failed);
    kv->q = scratch(T * HD, sizeof(float), &failed);
    kv->kt = scratch(T * KVD, sizeof(float), &failed);
    kv->vt = scratch(T * KVD, sizeof(float), &failed);
    kv->att = scratch(T * HD, sizeof(float), &failed);
    kv->gate = scratch(T * (size_t)c->intermediate_size, sizeof(float), &failed);
    kv->up = scratch(T * (size_t)c->intermediate_size, sizeof(float), &failed);
    kv->pos = scratch(T, sizeof(int), &failed);
    kv->rows = scratch(T, sizeof(int), &failed);
    if (failed) {
        actor_kv_free(kv);
        return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate a kv cache of %d slots x %d positions (%.1f MiB)",
                          n_slots, max_seq, 2.0 * cache * sizeof(float) / 1048576.0);
    }
    *out = kv;
    return RLC_OK;
}

void actor_kv_free(actor_kv *kv) {
    if (!kv) return;
    float *bufs[] = {kv->k, kv->v, kv->x, kv->xn, kv->q, kv->kt, kv->vt, kv->att, kv->gate, kv->up};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rlc_free_aligned(bufs[i]);
    rlc_free_aligned(kv->pos);
    rlc_free_aligned(kv->rows);
    rlc_free(kv->len);
    rlc_free(kv->count);
    rlc_free(kv);
}

int actor_kv_len(const actor_kv *kv, int slot) { return kv->len[slot]; }
int actor_kv_slots(const actor_kv *kv) { return kv->n_slots; }
int actor_kv_max_seq(const actor_kv *kv) { return kv->max_seq; }
void actor_kv_clear(actor_kv *kv, int slot) { kv->len[slot] = 0; }

void actor_kv_copy(actor_kv *kv, int dst, int src) {
    if (dst == src) return;
    size_t row = (size_t)kv->KV * kv->D;             // floats per position
    size_t slot_stride = (size_t)kv->max_seq * row;  // floats per slot
    size_t layer_stride = (size_t)kv->n_slots * slot_stride;
    size_t bytes = (size_t)kv->len[src] * row * sizeof(float);
    for (int l = 0; l < kv->L; l++) {
        size_t base = (size_t)l * layer_stride;
        memcpy(kv->k + base + dst * slot_stride, kv->k + base + src * slot_stride, bytes);
        memcpy(kv->v + base + dst * slot_stride, kv->v + base + src * slot_stride, bytes);
    }
    kv->len[dst] = kv->len[src];
}
