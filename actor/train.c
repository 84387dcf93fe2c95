// train.c: the training forward and backward over packed sequences (train.h).
// The forward runs the transformer over every token of the batch, positions
// restarting at 0 in each document and attention kept inside documents,
// saving per layer what the backward needs; the final norm and the chunked
// lm_head + log-softmax (logprob.h) run only on the rows that have a target.
// The backward walks the same steps in reverse and adds parameter gradients
// into a flat buffer laid out like the parameters. All activation memory is
// one block carved in actor_train_create_opts. Math matches forward.c.
#include <string.h>  // memcpy, memset

#include "core/core.h"               // rlc_malloc_aligned, rlc_errorf
#include "logprob.h"                 // actor_logprob_*
#include "model_internal.h"          // struct actor_model: cfg, params, be, inv_freq
#include "train.h"

// What one layer's backward reads. Without recompute every layer has its own
// set; with recompute only x_in is per layer and the rest is one shared set
// that the backward refills by running the layer's forward again.
typedef struct layer_acts {
    float *x_in;   // (T, C) the layer's input (residual stream)
    float *q_raw;  // (T, H*D) q projection before q_norm (Qwen3 only)
    float *k_raw;  // (T, KV*D) k projection before k_norm (Qwen3 only)
    float *q;      // (T, H*D) queries, normed and rotated
    float *k;      // (T, KV*D) keys, normed and rotated
    float *v;      // (T, KV*D) values
    float *att;    // (T, H*D) attention output
    float *lse;    // (T, H) attention log-sum-exp per row and head
    float *x_mid;  // (T, C) residual stream after attention
    float *gate;   // (T, I) gate projection
    float *up;     // (T, I) up projection
} layer_acts;

// What the last forward computed (the backward must match it).
enum { FORWARD_NONE = 0, FORWARD_LOGPROB, FORWARD_HIDDEN };

struct actor_trainer {
    actor_model *m;
    kernels_backend be;  // m's backend, with the training ops
    actor_train_options opt;
    int vc;  // vocabulary chunk in effect: min(vocab_chunk, V)
    // The last forward's batch.
    int T, n_seqs, n_valid, have_forward;  // have_forward: FORWARD_*
    int *tokens;   // (T) input ids
    int *targets;  // (T) target ids, -1 = none
    int *cu;       // (T + 1) document starts
    int *pos;      // (T) position within the document
    int *rows;     // (T) the rows with a target, in order (n_valid of them)
    int *tgt_v;    // (T) their targets
    layer_acts *acts;  // (L)
    float *x_final;    // (T, C) residual stream after the last layer
    float *xn;         // (T, C) normalized input / projection output (scratch)
    float *h;          // (T, I) swiglu output (scratch)
    // The rows with a target: final norm, log-softmax.
    float *xg_in;  // (T, C) their final residual
    float *xg;     // (T, C) after the final norm
    float *dxg;    // (T, C) gradient of xg
    float *lp_v, *ent_v, *lse_v;  // (T) log-prob, entropy, log-sum-exp per valid row
    float *dlp_v, *dent_v;        // (T) their incoming gradients
    float *lm_scratch;            // actor_logprob_scratch_floats(T, V, vc)
    // Backward scratch.
    float *dx;      // (T, C) gradient of the residual stream
    float *dxn;     // (T, C) gradient of a normalized input
    float *datt;    // (T, H*D) gradient of the attention output
    float *dq;      // (T, H*D)
    float *dk;      // (T, KV*D)
    float *dv;      // (T, KV*D)
    float *dq_raw;  // (T, H*D) through q_norm (Qwen3)
    float *dk_raw;  // (T, KV*D) through k_norm (Qwen3)
    float *dh;      // (T, I) gradient of the swiglu output, then of the gate
    float *dup;     // (T, I) gradient of the up projection
    float *delta;   // (T, H) attention backward scratch
    void *mem;      // the one block everything above points into
    size_t bytes;
};

// ---- memory --------------------------------------------------------------------

// Hands out 64-byte aligned pieces of one block; with base == NULL it only
// counts, so that the same code sizes and carves.
typedef struct {
    char *base;
    size_t off;
} carver;

static void *take(carver *cv, size_t n_floats) {
    size_t bytes = (n_floats * sizeof(float) + 63) & ~(size_t)63;
    void *p = cv->base ? cv->base + cv->off : NULL;
    cv->off += bytes;
    return p;
}

static int chunk_of(const actor_config *c, int vocab_chunk) {
    return vocab_chunk <= 0 || vocab_chunk > c->vocab_size ? c->vocab_size : vocab_chunk;
}

static void take_layer(carver *cv, const actor_config *c, size_t T, layer_acts *a, int with_x_in,
                       int with_rest) {
    size_t C = c->hidden_size, HD = (size_t)c->n_heads * c->head_dim;
    size_t KD = (size_t)c->n_kv_heads * c->head_dim, I = c->intermediate_size;
    if (with_x_in) a->x_in = take(cv, T * C);
    if (!with_rest) return;
    if (c->qk_norm) {
        a->q_raw = take(cv, T * HD);
        a->k_raw = take(cv, T * KD);
    }
    a->q = take(cv, T * HD);
    a->k = take(cv, T * KD);
    a->v = take(cv, T * KD);
    a->att = take(cv, T * HD);
    a->lse = take(cv, T * c->n_heads);
    a->x_mid = take(cv, T * C);
    a->gate = take(cv, T * I);
    a->up = take(cv, T * I);
}

// Lays out every buffer of `t` (sized for c and o) from cv.
static void carve(carver *cv, const actor_config *c, const actor_train_options *o, actor_trainer *t) {
    size_t T = o->max_tokens, C = c->hidden_size, H = c->n_heads;
    size_t HD = H * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    size_t I = c->intermediate_size;
    t->tokens = take(cv, T);
    t->targets = take(cv, T);
    t->cu = take(cv, T + 1);
    t->pos = take(cv, T);
    t->rows = take(cv, T);
    t->tgt_v = take(cv, T);
    for (int l = 0; l < c->n_layers; l++) {
        take_layer(cv, c, T, &t->acts[l], 1, !o->recompute || l == 0);
        if (o->recompute && l > 0) {  // share layer 0's set
            float *x_in = t->acts[l].x_in;
            t->acts[l] = t->acts[0];
            t->acts[l].x_in = x_in;
        }
    }
    t->x_final = take(cv, T * C);
    t->xn = take(cv, T * C);
    t->h = take(cv, T * I);
    t->xg_in = take(cv, T * C);
    t->xg = take(cv, T * C);
    t->dxg = take(cv, T * C);
    t->lp_v = take(cv, T);
    t->ent_v = take(cv, T);
    t->lse_v = take(cv, T);
    t->dlp_v = take(cv, T);
    t->dent_v = take(cv, T);
    t->lm_scratch = take(cv, actor_logprob_scratch_floats((int)T, c->vocab_size, o->vocab_chunk));
    t->dx = take(cv, T * C);
    t->dxn = take(cv, T * C);
    t->datt = take(cv, T * HD);
    t->dq = take(cv, T * HD);
    t->dk = take(cv, T * KD);
    t->dv = take(cv, T * KD);
    if (c->qk_norm) {
        t->dq_raw = take(cv, T * HD);
        t->dk_raw = take(cv, T * KD);
    }
    t->dh = take(cv, T * I);
    t->dup = take(cv, T * I);
    t->delta = take(cv, T * H);
}

size_t actor_train_bytes_for(const actor_config *c, const actor_train_options *o) {
    actor_trainer t;
    memset(&t, 0, sizeof t);
    carver cv = {NULL, 0};
    // The layers as carve() takes them, then the rest of the layout (pieces
    // are rounded one by one, so the order does not change the sum).
    for (int l = 0; l < c->n_layers; l++) {
        layer_acts tmp;
        take_layer(&cv, c, (size_t)o->max_tokens, &tmp, 1, !o->recompute || l == 0);
    }
    actor_config c0 = *c;
    c0.n_layers = 0;
    carve(&cv, &c0, o, &t);
    return cv.off;
}

size_t actor_train_bytes(const actor_trainer *t) { return t->bytes; }

rlc_status actor_train_create_opts(actor_model *m, const actor_train_options *o,
                                   actor_trainer **out) {
    *out = NULL;
    const actor_config *c = &m->cfg;
    if (o->max_tokens <= 0)
        return rlc_errorf(RLC_ERR_ARG, "train: max_tokens must be positive (got %d)", o->max_tokens);
    if (!(o->temperature >= 0.0f && o->temperature <= 1e6f))
        return rlc_errorf(RLC_ERR_ARG, "train: temperature %g is not in [0, 1e6]", (double)o->temperature);
    kernels_backend be = m->be;
    if (!be.ops->matmul_backward)
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "train: backend %s has no training ops", be.ops->name);
    actor_trainer *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "train: cannot allocate the trainer");
    t->acts = rlc_calloc((size_t)c->n_layers, sizeof *t->acts);
    size_t bytes = actor_train_bytes_for(c, o);
    t->mem = t->acts ? rlc_malloc_aligned(bytes) : NULL;
    if (!t->mem) {
        actor_train_free(t);
        return rlc_errorf(RLC_ERR_NOMEM, "train: cannot allocate %zu bytes of activations for %d tokens",
                          bytes, o->max_tokens);
    }
    carver cv = {t->mem, 0};
    carve(&cv, c, o, t);
    t->m = m;
    t->be = be;
    t->opt = *o;
    t->vc = chunk_of(c, o->vocab_chunk);
    t->bytes = cv.off;
    *out = t;
    return RLC_OK;
}

rlc_status actor_train_create(actor_model *m, int max_tokens, int vocab_chunk, actor_trainer **out) {
    actor_train_options o = {.max_tokens = max_tokens, .vocab_chunk = vocab_chunk};
    return actor_train_create_opts(m, &o, out);
}

void actor_train_free(actor_trainer *t) {
    if (!t) return;
    rlc_free_aligned(t->mem);
    rlc_free(t->acts);
    rlc_free(t);
}

// ---- forward ---------------------------------------------------------------------

static rlc_status check_batch(const actor_trainer *t, const actor_batch *b) {
    int T = b->n_tokens, V = t->m->cfg.vocab_size;
    if (T <= 0 || T > t->opt.max_tokens)
        return rlc_errorf(RLC_ERR_ARG, "train: batch of %d tokens (must be 1 .. max_tokens %d)", T,
                          t->opt.max_tokens);
    if (b->n_seqs <= 0 || b->n_seqs > T)
        return rlc_errorf(RLC_ERR_ARG, "train: %d documents for %d tokens", b->n_seqs, T);
    if (b->cu_seqlens[0] != 0 || b->cu_seqlens[b->n_seqs] != T)
        return rlc_errorf(RLC_ERR_ARG, "train: cu_seqlens must run from 0 to n_tokens %d (got %d .. %d)",
                          T, b->cu_seqlens[0], b->cu_seqlens[b->n_seqs]);
    for (int s = 0; s < b->n_seqs; s++)
        if (b->cu_seqlens[s + 1] < b->cu_seqlens[s])
            return rlc_errorf(RLC_ERR_ARG, "train: cu_seqlens decreases at document %d", s);
    for (int i = 0; i < T; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= V)
            return rlc_errorf(RLC_ERR_ARG, "train: token %d at index %d is outside the vocabulary (%d)",
                              b->tokens[i], i, V);
        if (b->targets && (b->targets[i] < -1 || b->targets[i] >= V))
            return rlc_errorf(RLC_ERR_ARG, "train: target %d at index %d is outside the vocabulary (%d)",
                              b->targets[i], i, V);
    }
    return RLC_OK;
}

static void load_batch(actor_trainer *t, const actor_batch *b) {
    int T = b->n_tokens;
    t->T = T;
    t->n_seqs = b->n_seqs;
    memcpy(t->tokens, b->tokens, sizeof(int) * (size_t)T);
    if (b->targets) memcpy(t->targets, b->targets, sizeof(int) * (size_t)T);
    else
        for (int i = 0; i < T; i++) t->targets[i] = -1;
    memcpy(t->cu, b->cu_seqlens, sizeof(int) * (size_t)(b->n_seqs + 1));
    for (int s = 0; s < b->n_seqs; s++)
        for (int i = b->cu_seqlens[s]; i < b->cu_seqlens[s + 1]; i++) t->pos[i] = i - b->cu_seqlens[s];
    t->n_valid = 0;
    for (int i = 0; i < T; i++)
        if (t->targets[i] >= 0) {
            t->rows[t->n_valid] = i;
            t->tgt_v[t->n_valid++] = t->targets[i];
        }
}

// One layer: a->x_in to x_out, filling a. x_out == NULL stops after the
// MLP's gate and up projections (all the backward needs: recompute).
static void layer_forward(actor_trainer *t, int l, const layer_acts *a, float *x_out) {
    const actor_model *m = t->m;
    const actor_config *c = &m->cfg;
    const actor_layer_params *w = &m->params.layers[l];
    const kernels_ops *ops = t->be.ops;
    void *ctx = t->be.ctx;
    int T = t->T, C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int I = c->intermediate_size;
    float *xn = t->xn;

    ops->rmsnorm(ctx, xn, a->x_in, w->attn_norm, T, C, c->rms_eps);
    ops->matmul(ctx, c->qk_norm ? a->q_raw : a->q, xn, w->wq, w->bq, T, C, H * D);
    ops->matmul(ctx, c->qk_norm ? a->k_raw : a->k, xn, w->wk, w->bk, T, C, KV * D);
    ops->matmul(ctx, a->v, xn, w->wv, w->bv, T, C, KV * D);
    if (c->qk_norm) {
        ops->rmsnorm(ctx, a->q, a->q_raw, w->q_norm, T * H, D, c->rms_eps);
        ops->rmsnorm(ctx, a->k, a->k_raw, w->k_norm, T * KV, D, c->rms_eps);
    }
    ops->rope(ctx, a->q, t->pos, m->inv_freq, T, H, D);
    ops->rope(ctx, a->k, t->pos, m->inv_freq, T, KV, D);
    ops->attention_packed(ctx, a->att, a->lse, a->q, a->k, a->v, t->cu, t->n_seqs, T, H, KV, D);
    ops->matmul(ctx, xn, a->att, w->wo, NULL, T, H * D, C);
    ops->add(ctx, a->x_mid, a->x_in, xn, (size_t)T * C);

    ops->rmsnorm(ctx, xn, a->x_mid, w->mlp_norm, T, C, c->rms_eps);
    ops->matmul(ctx, a->gate, xn, w->w_gate, NULL, T, C, I);
    ops->matmul(ctx, a->up, xn, w->w_up, NULL, T, C, I);
    if (!x_out) return;
    ops->swiglu(ctx, t->h, a->gate, a->up, (size_t)T * I);
    ops->matmul(ctx, xn, t->h, w->w_down, NULL, T, I, C);
    ops->add(ctx, x_out, a->x_mid, xn, (size_t)T * C);
}

// x (n, C) *= 1 / temperature, when there is one.
static void scale_rows(const actor_trainer *t, float *x, int n) {
    float T = t->opt.temperature;
    if (T <= 0.0f || T == 1.0f) return;
    float inv_t = 1.0f / T;
    size_t len = (size_t)n * (size_t)t->m->cfg.hidden_size;
    for (size_t i = 0; i < len; i++) x[i] *= inv_t;
}

// The embedding and every layer over the loaded batch: x_final.
static void trunk_forward(actor_trainer *t) {
    const actor_model *m = t->m;
    int L = m->cfg.n_layers;
    t->be.ops->embedding(t->be.ctx, t->acts[0].x_in, m->params.embed, t->tokens, t->T, m->cfg.hidden_size);
    for (int l = 0; l < L; l++)
        layer_forward(t, l, &t->acts[l], l + 1 < L ? t->acts[l + 1].x_in : t->x_final);
}

rlc_status actor_train_forward(actor_trainer *t, const actor_batch *b, float *logprobs,
                               float *entropy) {
    RLC_TRY(check_batch(t, b));
    load_batch(t, b);
    const actor_model *m = t->m;
    const actor_config *c = &m->cfg;
    const kernels_ops *ops = t->be.ops;
    void *ctx = t->be.ctx;
    int T = t->T, C = c->hidden_size, nv = t->n_valid;

    trunk_forward(t);
    for (int r = 0; r < nv; r++)
        memcpy(t->xg_in + (size_t)r * C, t->x_final + (size_t)t->rows[r] * C, sizeof(float) * (size_t)C);
    if (nv > 0) {
        ops->rmsnorm(ctx, t->xg, t->xg_in, m->params.final_norm, nv, C, c->rms_eps);
        scale_rows(t, t->xg, nv);  // logits / T = (xg / T) w^T
        actor_logprob_forward(t->be, t->lp_v, t->ent_v, t->lse_v, t->xg, m->params.lm_head, t->tgt_v,
                              nv, C, c->vocab_size, t->vc, t->lm_scratch);
    }
    memset(logprobs, 0, sizeof(float) * (size_t)T);
    if (entropy) memset(entropy, 0, sizeof(float) * (size_t)T);
    for (int r = 0; r < nv; r++) {
        logprobs[t->rows[r]] = t->lp_v[r];
        if (entropy) entropy[t->rows[r]] = t->ent_v[r];
    }
    t->have_forward = FORWARD_LOGPROB;
    return RLC_OK;
}

rlc_status actor_train_forward_hidden(actor_trainer *t, const actor_batch *b, float *hidden) {
    RLC_TRY(check_batch(t, b));
    load_batch(t, b);
    const actor_config *c = &t->m->cfg;
    trunk_forward(t);
    t->be.ops->rmsnorm(t->be.ctx, hidden, t->x_final, t->m->params.final_norm, t->T, c->hidden_size,
                       c->rms_eps);
    t->have_forward = FORWARD_HIDDEN;
    return RLC_OK;
}

// ---- backward --------------------------------------------------------------------

// The gradient slot of parameter tensor p (NULL stays NULL).
static float *grad_of(const actor_trainer *t, float *grads, const float *p) {
    return p ? grads + (p - t->m->params.data) : NULL;
}

// One layer: t->dx holds dL/d(layer output) and becomes dL/d(a->x_in).
static void layer_backward(actor_trainer *t, int l, const layer_acts *a, float *grads) {
    const actor_model *m = t->m;
    const actor_config *c = &m->cfg;
    const actor_layer_params *w = &m->params.layers[l];
    const kernels_ops *ops = t->be.ops;
    void *ctx = t->be.ctx;
    int T = t->T, C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int I = c->intermediate_size;
    float eps = c->rms_eps;
    float *xn = t->xn, *dx = t->dx, *dxn = t->dxn;

    // MLP: out = x_mid + down(silu(gate(xn2)) * up(xn2)), xn2 = norm(x_mid).
    ops->rmsnorm(ctx, xn, a->x_mid, w->mlp_norm, T, C, eps);
    ops->swiglu(ctx, t->h, a->gate, a->up, (size_t)T * I);
    ops->matmul_backward(ctx, t->dh, grad_of(t, grads, w->w_down), NULL, dx, t->h, w->w_down, T, I,
                         C, 0);
    ops->swiglu_backward(ctx, t->dh, t->dup, t->dh, a->gate, a->up, (size_t)T * I);
    ops->matmul_backward(ctx, dxn, grad_of(t, grads, w->w_gate), NULL, t->dh, xn, w->w_gate, T, C,
                         I, 0);
    ops->matmul_backward(ctx, dxn, grad_of(t, grads, w->w_up), NULL, t->dup, xn, w->w_up, T, C, I,
                         1);
    ops->rmsnorm_backward(ctx, dx, grad_of(t, grads, w->mlp_norm), dxn, a->x_mid, w->mlp_norm, T, C,
                          eps, 1);

    // Attention: x_mid = x_in + o(attention(rope(q), rope(k), v)), q, k, v from norm(x_in).
    ops->matmul_backward(ctx, t->datt, grad_of(t, grads, w->wo), NULL, dx, a->att, w->wo, T, H * D,
                         C, 0);
    ops->attention_packed_backward(ctx, t->dq, t->dk, t->dv, t->delta, t->datt, a->q, a->k, a->v,
                                   a->att, a->lse, t->cu, t->n_seqs, T, H, KV, D);
    ops->rope_backward(ctx, t->dq, t->pos, m->inv_freq, T, H, D);
    ops->rope_backward(ctx, t->dk, t->pos, m->inv_freq, T, KV, D);
    float *dq = t->dq, *dk = t->dk;
    if (c->qk_norm) {
        ops->rmsnorm_backward(ctx, t->dq_raw, grad_of(t, grads, w->q_norm), t->dq, a->q_raw,
                              w->q_norm, T * H, D, eps, 0);
        ops->rmsnorm_backward(ctx, t->dk_raw, grad_of(t, grads, w->k_norm), t->dk, a->k_raw,
                              w->k_norm, T * KV, D, eps, 0);
        dq = t->dq_raw;
        dk = t->dk_raw;
    }
    ops->rmsnorm(ctx, xn, a->x_in, w->attn_norm, T, C, eps);
    ops->matmul_backward(ctx, dxn, grad_of(t, grads, w->wq), grad_of(t, grads, w->bq), dq, xn, w->wq,
                         T, C, H * D, 0);
    ops->matmul_backward(ctx, dxn, grad_of(t, grads, w->wk), grad_of(t, grads, w->bk), dk, xn, w->wk,
                         T, C, KV * D, 1);
    ops->matmul_backward(ctx, dxn, grad_of(t, grads, w->wv), grad_of(t, grads, w->bv), t->dv, xn,
                         w->wv, T, C, KV * D, 1);
    ops->rmsnorm_backward(ctx, dx, grad_of(t, grads, w->attn_norm), dxn, a->x_in, w->attn_norm, T, C,
                          eps, 1);
}

// t->dx holds dL/d(x_final): every layer in reverse, then the embedding.
static void trunk_backward(actor_trainer *t, float *grads) {
    const actor_model *m = t->m;
    for (int l = m->cfg.n_layers - 1; l >= 0; l--) {
        if (t->opt.recompute) layer_forward(t, l, &t->acts[l], NULL);
        layer_backward(t, l, &t->acts[l], grads);
    }
    t->be.ops->embedding_backward(t->be.ctx, grad_of(t, grads, m->params.embed), t->dx, t->tokens, t->T,
                                  m->cfg.hidden_size);
}

rlc_status actor_train_backward(actor_trainer *t, const float *dlogprobs, const float *dentropy,
                                float *grads) {
    if (t->have_forward != FORWARD_LOGPROB)
        return rlc_errorf(RLC_ERR_STATE, "train: backward without a log-prob forward");
    const actor_model *m = t->m;
    const actor_config *c = &m->cfg;
    const kernels_ops *ops = t->be.ops;
    void *ctx = t->be.ctx;
    int T = t->T, C = c->hidden_size, nv = t->n_valid;

    // lm_head and final norm, on the rows with a target; the others get 0.
    memset(t->dx, 0, sizeof(float) * (size_t)T * C);
    if (nv > 0) {
        for (int r = 0; r < nv; r++) {
            t->dlp_v[r] = dlogprobs[t->rows[r]];
            if (dentropy) t->dent_v[r] = dentropy[t->rows[r]];
        }
        memset(t->dxg, 0, sizeof(float) * (size_t)nv * C);
        actor_logprob_backward(t->be, t->dxg, grad_of(t, grads, m->params.lm_head), t->dlp_v,
                               dentropy ? t->dent_v : NULL, t->xg, m->params.lm_head, t->tgt_v,
                               t->lse_v, t->ent_v, nv, C, c->vocab_size, t->vc, t->lm_scratch);
        scale_rows(t, t->dxg, nv);  // back through xg / T
        ops->rmsnorm_backward(ctx, t->dxn, grad_of(t, grads, m->params.final_norm), t->dxg, t->xg_in,
                              m->params.final_norm, nv, C, c->rms_eps, 0);
        for (int r = 0; r < nv; r++)
            memcpy(t->dx + (size_t)t->rows[r] * C, t->dxn + (size_t)r * C, sizeof(float) * (size_t)C);
    }
    trunk_backward(t, grads);
    return RLC_OK;
}

rlc_status actor_train_backward_hidden(actor_trainer *t, const float *dhidden, float *grads) {
    if (t->have_forward != FORWARD_HIDDEN)
        return rlc_errorf(RLC_ERR_STATE, "train: hidden backward without a hidden forward");
    const actor_model *m = t->m;
    const actor_config *c = &m->cfg;
    // The final norm over every row (writes dx whole); the lm_head is not involved.
    t->be.ops->rmsnorm_backward(t->be.ctx, t->dx, grad_of(t, grads, m->params.final_norm), dhidden, t->x_final,
                                m->params.final_norm, t->T, c->hidden_size, c->rms_eps, 0);
    trunk_backward(t, grads);
    return RLC_OK;
}
