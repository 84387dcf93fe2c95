// forward.c: the transformer forward pass over a batch of tokens from any
// number of KV-cache slots (prefill and decode are the same call).
#include <string.h>  // memset

#include "core/core.h"
#include "model_internal.h"

// Checks the whole batch and assigns positions before anything is written,
// so a rejected call leaves the cache as it was.
static rlc_status plan_batch(const actor_model *m, actor_kv *kv, const int *tokens, const int *slots,
                             int n) {
    if (n <= 0) return rlc_errorf(RLC_ERR_ARG, "forward: empty batch");
    if (n > kv->max_tokens)
        return rlc_errorf(RLC_ERR_ARG, "forward: %d tokens exceed the cache's max_tokens %d", n, kv->max_tokens);
    memset(kv->count, 0, sizeof(int) * (size_t)kv->n_slots);
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= m->cfg.vocab_size)
            return rlc_errorf(RLC_ERR_ARG, "forward: token %d at index %d is outside the vocabulary (%d)",
                              tokens[i], i, m->cfg.vocab_size);
        if (slots[i] < 0 || slots[i] >= kv->n_slots)
            return rlc_errorf(RLC_ERR_ARG, "forward: slot %d at index %d is out of range (%d slots)",
                              slots[i], i, kv->n_slots);
        int p = kv->len[slots[i]] + kv->count[slots[i]]++;
        if (p >= kv->max_seq)
            return rlc_errorf(RLC_ERR_LIMIT, "forward: slot %d would pass its max_seq of %d positions",
                              slots[i], kv->max_seq);
        kv->pos[i] = p;
    }
    return RLC_OK;
}

// Stores the new keys and values (n, KV*D) at their slots and positions.
static void store_kv(actor_kv *kv, int layer, const int *slots, int n) {
    size_t row = (size_t)kv->KV * kv->D;
    size_t slot_stride = (size_t)kv->max_seq * row;
    size_t base = (size_t)layer * kv->n_slots * slot_stride;
    for (int i = 0; i < n; i++) {
        size_t at = base + slots[i] * slot_stride + (size_t)kv->pos[i] * row;
        memcpy(kv->k + at, kv->kt + (size_t)i * row, row * sizeof(float));
        memcpy(kv->v + at, kv->vt + (size_t)i * row, row * sizeof(float));
    }
}

static void attention_block(actor_model *m, actor_kv *kv, int l, const int *slots, int n) {
    const actor_config *c = &m->cfg;
    const actor_layer_params *w = &m->params.layers[l];
    const kernels_ops *ops = m->be.ops;
    void *ctx = m->be.ctx;
    int C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    size_t cache_layer = (size_t)l * kv->n_slots * kv->max_seq * KV * D;

    ops->rmsnorm(ctx, kv->xn, kv->x, w->attn_norm, n, C, c->rms_eps);
    ops->matmul(ctx, kv->q, kv->xn, w->wq, w->bq, n, C, H * D);
    ops->matmul(ctx, kv->kt, kv->xn, w->wk, w->bk, n, C, KV * D);
    ops->matmul(ctx, kv->vt, kv->xn, w->wv, w->bv, n, C, KV * D);
    if (c->qk_norm) {  // Qwen3: RMSNorm over each head's D features
        ops->rmsnorm(ctx, kv->q, kv->q, w->q_norm, n * H, D, c->rms_eps);
        ops->rmsnorm(ctx, kv->kt, kv->kt, w->k_norm, n * KV, D, c->rms_eps);
    }
    ops->rope(ctx, kv->q, kv->pos, m->inv_freq, n, H, D);
    ops->rope(ctx, kv->kt, kv->pos, m->inv_freq, n, KV, D);
    store_kv(kv, l, slots, n);
    ops->attention(ctx, kv->att, kv->q, kv->k + cache_layer, kv->v + cache_layer, slots, kv->pos, n,
                   H, KV, D, kv->max_seq);
    ops->matmul(ctx, kv->xn, kv->att, w->wo, NULL, n, H * D, C);
    ops->add(ctx, kv->x, kv->x, kv->xn, (size_t)n * C);
}

static void mlp_block(actor_model *m, actor_kv *kv, int l, int n) {
    const actor_config *c = &m->cfg;
    const actor_layer_params *w = &m->params.layers[l];
    const kernels_ops *ops = m->be.ops;
    void *ctx = m->be.ctx;
    int C = c->hidden_size, I = c->intermediate_size;

    ops->rmsnorm(ctx, kv->xn, kv->x, w->mlp_norm, n, C, c->rms_eps);
    ops->matmul(ctx, kv->gate, kv->xn, w->w_gate, NULL, n, C, I);
    ops->matmul(ctx, kv->up, kv->xn, w->w_up, NULL, n, C, I);
    ops->swiglu(ctx, kv->gate, kv->gate, kv->up, (size_t)n * I);
    ops->matmul(ctx, kv->xn, kv->gate, w->w_down, NULL, n, I, C);
    ops->add(ctx, kv->x, kv->x, kv->xn, (size_t)n * C);
}

rlc_status actor_forward(actor_model *m, actor_kv *kv, const int *tokens, const int *slots, int n,
                         const unsigned char *want_logits, float *logits) {
    RLC_TRY(plan_batch(m, kv, tokens, slots, n));
    const actor_config *c = &m->cfg;
    const kernels_ops *ops = m->be.ops;
    void *ctx = m->be.ctx;
    int C = c->hidden_size;

    ops->embedding(ctx, kv->x, m->params.embed, tokens, n, C);
    for (int l = 0; l < c->n_layers; l++) {
        attention_block(m, kv, l, slots, n);
        mlp_block(m, kv, l, n);
    }
    for (int i = 0; i < n; i++) kv->len[slots[i]]++;

    // Final norm and lm_head only for the rows whose logits are wanted.
    int n_out = 0;
    for (int i = 0; i < n; i++)
        if (!want_logits || want_logits[i]) kv->rows[n_out++] = i;
    if (n_out == 0) return RLC_OK;
    for (int r = 0; r < n_out; r++)
        memcpy(kv->xn + (size_t)r * C, kv->x + (size_t)kv->rows[r] * C, sizeof(float) * (size_t)C);
    ops->rmsnorm(ctx, kv->xn, kv->xn, m->params.final_norm, n_out, C, c->rms_eps);
    ops->matmul(ctx, logits, kv->xn, m->params.lm_head, NULL, n_out, C, c->vocab_size);
    return RLC_OK;
}
