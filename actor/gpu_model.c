// gpu_model.c: the decoder's forward on one GPU (gpu_model.h), the mirror of
// forward.c over the CUDA op families: embedding, then per layer RMSNorm,
// q/k/v projections (+ biases, + q/k norms), RoPE, K/V stored into the
// cache, attention over the cache, output projection and residual; RMSNorm,
// SwiGLU MLP and residual; then the final norm and the LM head into float32
// logits. Prefill and decode are the same launches; decode steps are padded
// to a bucket and captured as CUDA graphs.
//
// Device memory, allocated once in create (allocate once and carve):
//   weights  the parameter table's flat layout in the model's dtype, so that
//            weight sync is one upload (and a conversion for bf16);
//   kv       K then V, each (L, n_slots + 1, max_seq, KV, D); slot n_slots is
//            the scratch slot that padded rows write to;
//   arena    activations for T rows, float32 logits for R rows, the sampler's
//            scratch, RoPE frequencies and the per-call input/output block.
#include <string.h>  // memset, memcpy

#include "core/core.h"        // rlc_errorf, rlc_malloc, RLC_WARN
#include "gpu_model.h"
#include "model_internal.h"   // struct actor_model: cfg, params, inv_freq

#ifdef RLC_HAVE_CUDA

#include "kernels/cuda/kc_attention.h"  // kc_kv_store, kc_attention_decode
#include "kernels/cuda/kc_gemm.h"       // kc_matmul, kc_gemm
#include "kernels/cuda/kc_ops.h"        // kc_embedding, kc_rmsnorm, kc_rope, kc_swiglu, kc_add
#include "kernels/cuda/kc_sample.h"     // kc_sample
#include "kernels/cuda/kcuda.h"         // kc_ctx, device memory, graphs

_Static_assert((int)ACTOR_GPU_F32 == (int)KC_F32 && (int)ACTOR_GPU_BF16 == (int)KC_BF16,
               "actor_gpu_dtype mirrors kc_dtype");

static const int k_buckets[ACTOR_GPU_N_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

enum {
    GPU_ALIGN = 256,      // carve alignment of the arena, in bytes
    GPU_MIN_LOGIT_ROWS = 16,
    IO_ROW_BYTES = 44,    // per row of a call: see io_layout_for
};

// Device pointers of one layer's weights (NULL where the model has none).
typedef struct {
    const void *attn_norm;      // (C)
    const void *wq, *bq;        // (H*D, C), (H*D)
    const void *wk, *bk;        // (KV*D, C), (KV*D)
    const void *wv, *bv;        // (KV*D, C), (KV*D)
    const void *wo;             // (C, H*D)
    const void *q_norm;         // (D)
    const void *k_norm;         // (D)
    const void *mlp_norm;       // (C)
    const void *w_gate, *w_up;  // (I, C)
    const void *w_down;         // (C, I)
} gpu_layer;

// Byte offsets of the per-call arrays in the input/output block for a call of
// B rows. The host staging block and the device block share this layout, so
// one upload carries every input and one download every output:
//   [rng u64 (B)][ids (B)][logprob f32 (B)] | [tokens][slots][pos][rows]
//   [top_k][temperature f32][top_p f32]
// Decode graphs are captured with the pointers of their bucket's layout.
typedef struct {
    size_t rng, ids, logprob, tokens, slots, pos, rows, top_k, temp, top_p, end;
} io_layout;

static io_layout io_layout_for(int B) {
    size_t b = (size_t)B;
    io_layout io;
    io.rng = 0;
    io.ids = 8 * b;
    io.logprob = 12 * b;
    io.tokens = 16 * b;
    io.slots = 20 * b;
    io.pos = 24 * b;
    io.rows = 28 * b;
    io.top_k = 32 * b;
    io.temp = 36 * b;
    io.top_p = 40 * b;
    io.end = 44 * b;
    return io;
}

struct actor_gpu_model {
    kc_ctx *kc;
    kc_dtype dt;
    actor_config cfg;
    int n_slots, max_seq;
    int T;           // rows of the activations: max(max_tokens, the decode buckets in use)
    int R;           // rows of the logits
    int graphs_on;
    size_t n_params;  // floats of the parameter table

    void *weights;    // (n_params) dt, in the table's layout
    float *staging;   // (n_params) float32: NCCL weight sync lands here; NULL until asked for
    const void *embed, *final_norm, *lm_head;  // (V, C), (C), (V, C) (== embed when tied)
    gpu_layer *layers;                         // (L) host array of device pointers

    void *kv;                  // one allocation: k_cache then v_cache
    void *k_cache, *v_cache;   // (L, n_slots + 1, max_seq, KV, D) dt
    size_t kv_layer_bytes;     // bytes of one layer of one cache
    size_t kv_slot_bytes;      // bytes of one slot of one layer

    void *arena;               // one allocation, carved:
    void *x;                   // (T, C) residual stream
    void *xn;                  // (T, max(C, H*D)) normalized input / projection output
    void *q;                   // (T, H*D)
    void *kt, *vt;             // (T, KV*D) new keys and values
    void *att;                 // (T, H*D) attention output
    void *gate, *up;           // (T, I)
    float *logits;             // (R, V) float32
    void *sample_scratch;      // kc_sample_scratch_bytes(R, V)
    float *inv_freq;           // (D/2) float32
    unsigned char *io_dev;     // (T * IO_ROW_BYTES) per-call inputs and outputs
    unsigned char *io_host;    // host staging of the same size
    size_t arena_bytes;

    kc_graph *graph[ACTOR_GPU_N_BUCKETS];  // decode steps, captured on first use
    int have_logits;
};

static size_t align_up(size_t n) { return (n + GPU_ALIGN - 1) / GPU_ALIGN * GPU_ALIGN; }

// The smallest bucket >= n, or n itself past the largest bucket.
static int pad_bucket(int n) {
    for (int b = 0; b < ACTOR_GPU_N_BUCKETS; b++)
        if (k_buckets[b] >= n) return k_buckets[b];
    return n;
}

static int bucket_index(int n) {
    for (int b = 0; b < ACTOR_GPU_N_BUCKETS; b++)
        if (k_buckets[b] >= n) return b;
    return -1;
}

static const void *dev_tensor(const actor_gpu_model *g, const actor_params *p, const float *host) {
    if (!host) return NULL;
    return (const char *)g->weights + (size_t)(host - p->data) * kc_dtype_size(g->dt);
}

static void point_weights(actor_gpu_model *g, const actor_params *p) {
    g->embed = dev_tensor(g, p, p->embed);
    g->final_norm = dev_tensor(g, p, p->final_norm);
    g->lm_head = dev_tensor(g, p, p->lm_head);
    for (int l = 0; l < g->cfg.n_layers; l++) {
        const actor_layer_params *h = &p->layers[l];
        gpu_layer *d = &g->layers[l];
        d->attn_norm = dev_tensor(g, p, h->attn_norm);
        d->wq = dev_tensor(g, p, h->wq);
        d->bq = dev_tensor(g, p, h->bq);
        d->wk = dev_tensor(g, p, h->wk);
        d->bk = dev_tensor(g, p, h->bk);
        d->wv = dev_tensor(g, p, h->wv);
        d->bv = dev_tensor(g, p, h->bv);
        d->wo = dev_tensor(g, p, h->wo);
        d->q_norm = dev_tensor(g, p, h->q_norm);
        d->k_norm = dev_tensor(g, p, h->k_norm);
        d->mlp_norm = dev_tensor(g, p, h->mlp_norm);
        d->w_gate = dev_tensor(g, p, h->w_gate);
        d->w_up = dev_tensor(g, p, h->w_up);
        d->w_down = dev_tensor(g, p, h->w_down);
    }
}

// Carves the arena: each buffer's offset, then the total. With base NULL only
// the size is computed.
static size_t carve_arena(actor_gpu_model *g, unsigned char *base) {
    const actor_config *c = &g->cfg;
    size_t T = (size_t)g->T, R = (size_t)g->R, es = kc_dtype_size(g->dt);
    size_t C = (size_t)c->hidden_size, HD = (size_t)c->n_heads * c->head_dim;
    size_t KVD = (size_t)c->n_kv_heads * c->head_dim, I = (size_t)c->intermediate_size;
    size_t V = (size_t)c->vocab_size;
    size_t at = 0;
#define CARVE(field, type, bytes)                               \
    do {                                                        \
        if (base) g->field = (type)(void *)(base + at);         \
        at += align_up(bytes);                                  \
    } while (0)
    CARVE(x, void *, T * C * es);
    CARVE(xn, void *, T * (C > HD ? C : HD) * es);
    CARVE(q, void *, T * HD * es);
    CARVE(kt, void *, T * KVD * es);
    CARVE(vt, void *, T * KVD * es);
    CARVE(att, void *, T * HD * es);
    CARVE(gate, void *, T * I * es);
    CARVE(up, void *, T * I * es);
    CARVE(logits, float *, R * V * sizeof(float));
    CARVE(sample_scratch, void *, kc_sample_scratch_bytes(g->R, c->vocab_size));
    CARVE(inv_freq, float *, (size_t)(c->head_dim / 2) * sizeof(float));
    CARVE(io_dev, unsigned char *, T * IO_ROW_BYTES);
#undef CARVE
    return at;
}

// ---- weights ------------------------------------------------------------------

// Uploads the flat table into g->weights. bf16: float32 chunks go through
// the arena's buffers before inv_freq (idle between calls) and are converted
// on the device; the next chunk's upload is ordered after the previous
// conversion on the stream.
static rlc_status upload_weights(actor_gpu_model *g, const actor_params *p) {
    if (g->dt == KC_F32) return kc_upload(g->kc, g->weights, p->data, p->numel * sizeof(float));
    size_t chunk = (size_t)((unsigned char *)g->inv_freq - (unsigned char *)g->arena) / sizeof(float);
    for (size_t at = 0; at < p->numel; at += chunk) {
        size_t len = p->numel - at < chunk ? p->numel - at : chunk;
        RLC_TRY(kc_upload(g->kc, g->arena, p->data + at, len * sizeof(float)));
        kc_convert(g->kc, (char *)g->weights + at * sizeof(kc_bf16), KC_BF16, g->arena, KC_F32, len);
    }
    g->have_logits = 0;  // the arena's logits were overwritten
    return kc_sync(g->kc);
}

rlc_status actor_gpu_model_load_params(actor_gpu_model *g, const actor_params *p) {
    RLC_TRY(kc_bind(g->kc));
    if (p->numel != g->n_params || !p->data)
        return rlc_errorf(RLC_ERR_ARG, "gpu model: parameters of %zu floats, the model has %zu", p->numel,
                          g->n_params);
    rlc_status s = upload_weights(g, p);
    if (s != RLC_OK) return rlc_error_wrap(s, "gpu model: uploading the weights");
    return RLC_OK;
}

rlc_status actor_gpu_model_staging(actor_gpu_model *g, void **kc, float **staging, size_t *n_floats) {
    RLC_TRY(kc_bind(g->kc));
    if (!g->staging) {
        void *p = NULL;
        rlc_status s = kc_malloc(g->kc, &p, g->n_params * sizeof(float));
        if (s != RLC_OK) return rlc_error_wrap(s, "gpu model: a weight staging buffer of %zu bytes", g->n_params * sizeof(float));
        g->staging = p;
    }
    *kc = g->kc;
    *staging = g->staging;
    if (n_floats) *n_floats = g->n_params;
    return RLC_OK;
}

rlc_status actor_gpu_model_load_staging(actor_gpu_model *g) {
    RLC_TRY(kc_bind(g->kc));
    if (!g->staging) return rlc_errorf(RLC_ERR_STATE, "gpu model: no weight staging buffer (actor_gpu_model_staging)");
    kc_convert(g->kc, g->weights, g->dt, g->staging, KC_F32, g->n_params);
    rlc_status s = kc_sync(g->kc);
    if (s != RLC_OK) return rlc_error_wrap(s, "gpu model: installing the staged weights");
    return RLC_OK;
}

// ---- create / free --------------------------------------------------------------

void actor_gpu_model_free(actor_gpu_model *g) {
    if (!g) return;
    for (int b = 0; b < ACTOR_GPU_N_BUCKETS; b++) kc_graph_free(g->graph[b]);
    if (g->kc) {
        kc_free(g->kc, g->arena);
        kc_free(g->kc, g->kv);
        kc_free(g->kc, g->weights);
        kc_free(g->kc, g->staging);
        kc_close(g->kc);
    }
    rlc_free(g->io_host);
    rlc_free(g->layers);
    rlc_free(g);
}

static rlc_status check_sizes(const actor_config *c, actor_gpu_dtype dtype, int n_slots, int max_seq,
                              int max_tokens) {
    if (dtype != ACTOR_GPU_F32 && dtype != ACTOR_GPU_BF16)
        return rlc_errorf(RLC_ERR_ARG, "gpu model: unknown dtype %d", (int)dtype);
    if (n_slots <= 0 || max_seq <= 0 || max_tokens <= 0)
        return rlc_errorf(RLC_ERR_ARG, "gpu model: n_slots (%d), max_seq (%d) and max_tokens (%d) must be positive",
                          n_slots, max_seq, max_tokens);
    if (c->head_dim > 256 || c->head_dim % 2)
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "gpu model: head_dim %d (the attention kernels take even head dims up to 256)",
                          c->head_dim);
    return RLC_OK;
}

static rlc_status alloc_device(actor_gpu_model *g, void **p, size_t bytes, const char *what) {
    rlc_status s = kc_malloc(g->kc, p, bytes);
    if (s != RLC_OK) return rlc_error_wrap(s, "gpu model: %s (%.1f MiB)", what, bytes / 1048576.0);
    return RLC_OK;
}

static rlc_status setup(actor_gpu_model *g, const actor_model *m, int device) {
    const actor_config *c = &g->cfg;
    RLC_TRY(kc_open(device, &g->kc));
    g->layers = rlc_calloc((size_t)c->n_layers, sizeof *g->layers);
    if (!g->layers) return rlc_errorf(RLC_ERR_NOMEM, "gpu model: layer table");

    RLC_TRY(alloc_device(g, &g->weights, g->n_params * kc_dtype_size(g->dt), "weights"));
    point_weights(g, &m->params);

    size_t row = (size_t)c->n_kv_heads * c->head_dim * kc_dtype_size(g->dt);
    g->kv_slot_bytes = (size_t)g->max_seq * row;
    g->kv_layer_bytes = (size_t)(g->n_slots + 1) * g->kv_slot_bytes;
    size_t cache = (size_t)c->n_layers * g->kv_layer_bytes;
    RLC_TRY(alloc_device(g, &g->kv, 2 * cache, "KV cache"));
    g->k_cache = g->kv;
    g->v_cache = (char *)g->kv + cache;
    RLC_TRY(kc_memset(g->kc, g->kv, 0, 2 * cache));

    g->arena_bytes = carve_arena(g, NULL);
    RLC_TRY(alloc_device(g, &g->arena, g->arena_bytes, "activations and logits"));
    carve_arena(g, g->arena);
    g->io_host = rlc_calloc((size_t)g->T, IO_ROW_BYTES);
    if (!g->io_host) return rlc_errorf(RLC_ERR_NOMEM, "gpu model: host staging");

    RLC_TRY(upload_weights(g, &m->params));
    RLC_TRY(kc_upload(g->kc, g->inv_freq, m->inv_freq, (size_t)(c->head_dim / 2) * sizeof(float)));
    return kc_sync(g->kc);
}

rlc_status actor_gpu_model_create(const actor_model *m, int device, actor_gpu_dtype dtype, int n_slots,
                                  int max_seq, int max_tokens, actor_gpu_model **out) {
    *out = NULL;
    if (!m) return rlc_errorf(RLC_ERR_ARG, "gpu model: no model");
    const actor_config *c = &m->cfg;
    RLC_TRY(check_sizes(c, dtype, n_slots, max_seq, max_tokens));
    actor_gpu_model *g = rlc_calloc(1, sizeof *g);
    if (!g) return rlc_errorf(RLC_ERR_NOMEM, "gpu model: out of memory");
    g->dt = (kc_dtype)dtype;
    g->cfg = *c;
    g->n_slots = n_slots;
    g->max_seq = max_seq;
    g->n_params = m->params.numel;
    // Decode steps of up to n_slots tokens pad up to a bucket: the
    // activations hold the largest such bucket, the logits one decode step.
    int decode_rows = pad_bucket(n_slots);
    int graph_rows = decode_rows < ACTOR_GPU_MAX_BUCKET ? decode_rows : ACTOR_GPU_MAX_BUCKET;
    g->T = max_tokens > graph_rows ? max_tokens : graph_rows;
    g->R = decode_rows > GPU_MIN_LOGIT_ROWS ? decode_rows : GPU_MIN_LOGIT_ROWS;
    if (g->R > g->T) g->R = g->T;
    g->graphs_on = 1;
    rlc_status s = setup(g, m, device);
    if (s != RLC_OK) {
        actor_gpu_model_free(g);
        return s;
    }
    *out = g;
    return RLC_OK;
}

void actor_gpu_model_set_graphs(actor_gpu_model *g, int on) {
    g->graphs_on = on != 0;
    if (on) return;
    for (int b = 0; b < ACTOR_GPU_N_BUCKETS; b++) {
        kc_graph_free(g->graph[b]);
        g->graph[b] = NULL;
    }
}

void actor_gpu_model_memory(const actor_gpu_model *g, size_t *weights, size_t *kv_cache, size_t *other) {
    if (weights) *weights = g->n_params * kc_dtype_size(g->dt);
    if (kv_cache) *kv_cache = 2 * (size_t)g->cfg.n_layers * g->kv_layer_bytes;
    if (other) *other = g->arena_bytes;
}

int actor_gpu_model_logit_rows(const actor_gpu_model *g) { return g->R; }

const float *actor_gpu_model_logits(const actor_gpu_model *g) { return g->have_logits ? g->logits : NULL; }

// ---- the forward's launches ---------------------------------------------------------
// Everything below enqueues on the context's stream and touches no host
// memory, so that a decode step can be captured as a graph.

static void attention_block(actor_gpu_model *g, int l, int n, const int *slots, const int *pos) {
    const actor_config *c = &g->cfg;
    const gpu_layer *w = &g->layers[l];
    kc_ctx *k = g->kc;
    kc_dtype dt = g->dt;
    int C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    void *k_cache = (char *)g->k_cache + (size_t)l * g->kv_layer_bytes;
    void *v_cache = (char *)g->v_cache + (size_t)l * g->kv_layer_bytes;

    kc_rmsnorm(k, dt, g->xn, g->x, w->attn_norm, n, C, c->rms_eps);
    kc_matmul(k, dt, g->q, g->xn, w->wq, w->bq, n, C, H * D);
    kc_matmul(k, dt, g->kt, g->xn, w->wk, w->bk, n, C, KV * D);
    kc_matmul(k, dt, g->vt, g->xn, w->wv, w->bv, n, C, KV * D);
    if (c->qk_norm) {  // Qwen3: RMSNorm over each head's D features
        kc_rmsnorm(k, dt, g->q, g->q, w->q_norm, n * H, D, c->rms_eps);
        kc_rmsnorm(k, dt, g->kt, g->kt, w->k_norm, n * KV, D, c->rms_eps);
    }
    kc_rope(k, dt, g->q, pos, g->inv_freq, n, H, D);
    kc_rope(k, dt, g->kt, pos, g->inv_freq, n, KV, D);
    kc_kv_store(k, dt, k_cache, v_cache, g->kt, g->vt, slots, pos, n, KV, D, g->max_seq);
    kc_attention_decode(k, dt, g->att, g->q, k_cache, v_cache, slots, pos, n, H, KV, D, g->max_seq);
    kc_matmul(k, dt, g->xn, g->att, w->wo, NULL, n, H * D, C);
    kc_add(k, dt, g->x, g->x, g->xn, (size_t)n * C);
}

static void mlp_block(actor_gpu_model *g, int l, int n) {
    const actor_config *c = &g->cfg;
    const gpu_layer *w = &g->layers[l];
    kc_ctx *k = g->kc;
    kc_dtype dt = g->dt;
    int C = c->hidden_size, I = c->intermediate_size;

    kc_rmsnorm(k, dt, g->xn, g->x, w->mlp_norm, n, C, c->rms_eps);
    kc_matmul(k, dt, g->gate, g->xn, w->w_gate, NULL, n, C, I);
    kc_matmul(k, dt, g->up, g->xn, w->w_up, NULL, n, C, I);
    kc_swiglu(k, dt, g->gate, g->gate, g->up, (size_t)n * I);
    kc_matmul(k, dt, g->xn, g->gate, w->w_down, NULL, n, I, C);
    kc_add(k, dt, g->x, g->x, g->xn, (size_t)n * C);
}

// The residual stream of n tokens through every layer: x (n, C).
static void enqueue_layers(actor_gpu_model *g, int n, const int *tokens, const int *slots, const int *pos) {
    kc_embedding(g->kc, g->dt, g->x, g->embed, tokens, n, g->cfg.hidden_size);
    for (int l = 0; l < g->cfg.n_layers; l++) {
        attention_block(g, l, n, slots, pos);
        mlp_block(g, l, n);
    }
}

// logits (n_rows, V) float32 = lm_head(final_norm(x rows)): rows (device,
// n_rows) picks the rows of x (gathered by the embedding op with x as its
// table), NULL takes rows 0..n_rows-1.
static void enqueue_head(actor_gpu_model *g, int n_rows, const int *rows) {
    const actor_config *c = &g->cfg;
    int C = c->hidden_size;
    if (rows) {
        kc_embedding(g->kc, g->dt, g->xn, g->x, rows, n_rows, C);
        kc_rmsnorm(g->kc, g->dt, g->xn, g->xn, g->final_norm, n_rows, C, c->rms_eps);
    } else {
        kc_rmsnorm(g->kc, g->dt, g->xn, g->x, g->final_norm, n_rows, C, c->rms_eps);
    }
    kc_gemm(g->kc, g->dt, KC_F32, 0, 1, n_rows, c->vocab_size, C, 1.0f, g->xn, C, g->lm_head, C, 0.0f,
            g->logits, c->vocab_size);
}

// ---- calls ------------------------------------------------------------------------

static rlc_status check_batch(const actor_gpu_model *g, const int *tokens, const int *slots, const int *pos,
                              int n) {
    if (n <= 0 || n > g->T)
        return rlc_errorf(RLC_ERR_ARG, "gpu forward: %d tokens (1 to %d per call)", n, g->T);
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= g->cfg.vocab_size)
            return rlc_errorf(RLC_ERR_ARG, "gpu forward: token %d at index %d is outside the vocabulary (%d)",
                              tokens[i], i, g->cfg.vocab_size);
        if (slots[i] < 0 || slots[i] >= g->n_slots)
            return rlc_errorf(RLC_ERR_ARG, "gpu forward: slot %d at index %d is out of range (%d slots)", slots[i],
                              i, g->n_slots);
        if (pos[i] < 0 || pos[i] >= g->max_seq)
            return rlc_errorf(pos[i] < 0 ? RLC_ERR_ARG : RLC_ERR_LIMIT,
                              "gpu forward: position %d at index %d is outside slot %d's %d positions", pos[i], i,
                              slots[i], g->max_seq);
    }
    return RLC_OK;
}

#define IO_HOST(g, io, field, type) ((type *)(void *)((g)->io_host + (io).field))
#define IO_DEV(g, io, field, type) ((type *)(void *)((g)->io_dev + (io).field))

// Writes tokens, slots and pos of a call of B >= n rows into the host block;
// rows n..B-1 are padding: token 0 at position 0 of the scratch slot.
static void stage_tokens(actor_gpu_model *g, const io_layout *io, const int *tokens, const int *slots,
                         const int *pos, int n, int B) {
    int *t = IO_HOST(g, *io, tokens, int), *s = IO_HOST(g, *io, slots, int), *p = IO_HOST(g, *io, pos, int);
    memcpy(t, tokens, sizeof(int) * (size_t)n);
    memcpy(s, slots, sizeof(int) * (size_t)n);
    memcpy(p, pos, sizeof(int) * (size_t)n);
    for (int i = n; i < B; i++) {
        t[i] = 0;
        s[i] = g->n_slots;
        p[i] = 0;
    }
}

// Runs the forward of a decode step of B rows, every row's logits wanted:
// as the bucket's graph (captured on first use) when graphs are on and B is
// a bucket, otherwise as plain launches. The inputs are in the device block
// of B's layout. A capture that fails turns graphs off with a warning and
// the step runs eagerly.
static rlc_status run_decode(actor_gpu_model *g, int B) {
    io_layout io = io_layout_for(B);
    const int *tokens = IO_DEV(g, io, tokens, int), *slots = IO_DEV(g, io, slots, int);
    const int *pos = IO_DEV(g, io, pos, int);
    int b = bucket_index(B);
    if (g->graphs_on && b >= 0 && k_buckets[b] == B) {
        if (!g->graph[b]) {
            rlc_status s = kc_graph_begin(g->kc);
            if (s == RLC_OK) {
                enqueue_layers(g, B, tokens, slots, pos);
                enqueue_head(g, B, NULL);
                s = kc_graph_end(g->kc, &g->graph[b]);
            }
            if (s != RLC_OK) {
                RLC_WARN("gpu model: capturing the decode step at batch %d failed (%s); graphs are off",
                         B, rlc_last_error());
                (void)kc_sync(g->kc);  // drops what the failed capture recorded
                actor_gpu_model_set_graphs(g, 0);
                return run_decode(g, B);
            }
        }
        return kc_graph_launch(g->kc, g->graph[b]);
    }
    enqueue_layers(g, B, tokens, slots, pos);
    enqueue_head(g, B, NULL);
    return RLC_OK;
}

// A decode step's rows: the bucket of n, or n past the buckets (no graph).
static int decode_rows(const actor_gpu_model *g, int n) {
    int B = pad_bucket(n);
    return B <= g->R ? B : n;
}

// Every row wanted and n <= R: the decode path (padded, graph).
static rlc_status forward_decode(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                                 float *logits) {
    int B = decode_rows(g, n);
    io_layout io = io_layout_for(B);
    stage_tokens(g, &io, tokens, slots, pos, n, B);
    RLC_TRY(kc_upload(g->kc, g->io_dev + io.tokens, g->io_host + io.tokens, io.rows - io.tokens));
    RLC_TRY(run_decode(g, B));
    if (logits)
        RLC_TRY(kc_download(g->kc, logits, g->logits, (size_t)n * g->cfg.vocab_size * sizeof(float)));
    RLC_TRY(kc_sync(g->kc));
    g->have_logits = 1;
    return RLC_OK;
}

rlc_status actor_gpu_forward(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                             const unsigned char *want_logits, float *logits) {
    RLC_TRY(kc_bind(g->kc));
    RLC_TRY(check_batch(g, tokens, slots, pos, n));
    io_layout io = io_layout_for(n);
    int *rows = IO_HOST(g, io, rows, int);
    int n_out = 0;
    for (int i = 0; i < n; i++)
        if (!want_logits || want_logits[i]) rows[n_out++] = i;
    if (n_out == n && n <= g->R) return forward_decode(g, tokens, slots, pos, n, logits);
    if (!logits && n_out > g->R)
        return rlc_errorf(RLC_ERR_LIMIT, "gpu forward: %d rows of logits wanted, the device holds %d (pass a host buffer)",
                          n_out, g->R);

    stage_tokens(g, &io, tokens, slots, pos, n, n);
    RLC_TRY(kc_upload(g->kc, g->io_dev + io.tokens, g->io_host + io.tokens, io.top_k - io.tokens));
    g->have_logits = 0;
    enqueue_layers(g, n, IO_DEV(g, io, tokens, int), IO_DEV(g, io, slots, int), IO_DEV(g, io, pos, int));
    size_t V = (size_t)g->cfg.vocab_size;
    for (int r0 = 0; r0 < n_out; r0 += g->R) {
        int rr = n_out - r0 < g->R ? n_out - r0 : g->R;
        enqueue_head(g, rr, IO_DEV(g, io, rows, int) + r0);
        if (logits) RLC_TRY(kc_download(g->kc, logits + (size_t)r0 * V, g->logits, (size_t)rr * V * sizeof(float)));
    }
    RLC_TRY(kc_sync(g->kc));
    g->have_logits = n_out > 0 && n_out <= g->R;  // else only the last chunk is there
    return RLC_OK;
}

rlc_status actor_gpu_decode_sample(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                                   const float *temperature, const int *top_k, const float *top_p, uint64_t *rng,
                                   int *ids, float *logprobs) {
    RLC_TRY(kc_bind(g->kc));
    RLC_TRY(check_batch(g, tokens, slots, pos, n));
    if (n > g->R)
        return rlc_errorf(RLC_ERR_ARG, "gpu decode: %d rows, the logits hold %d", n, g->R);
    int B = decode_rows(g, n);
    io_layout io = io_layout_for(B);
    stage_tokens(g, &io, tokens, slots, pos, n, B);
    uint64_t *h_rng = IO_HOST(g, io, rng, uint64_t);
    int *h_top_k = IO_HOST(g, io, top_k, int);
    float *h_temp = IO_HOST(g, io, temp, float), *h_top_p = IO_HOST(g, io, top_p, float);
    for (int i = 0; i < n; i++) {
        h_rng[i] = rng ? rng[i] : 0;
        h_temp[i] = temperature ? temperature[i] : 0.0f;
        h_top_k[i] = top_k ? top_k[i] : 0;
        h_top_p[i] = top_p ? top_p[i] : 1.0f;
    }
    RLC_TRY(kc_upload(g->kc, g->io_dev, g->io_host, io.end));
    RLC_TRY(run_decode(g, B));
    kc_sample(g->kc, KC_F32, IO_DEV(g, io, ids, int), IO_DEV(g, io, logprob, float), g->logits, n,
              g->cfg.vocab_size, IO_DEV(g, io, temp, float), IO_DEV(g, io, top_k, int), IO_DEV(g, io, top_p, float),
              IO_DEV(g, io, rng, uint64_t), g->sample_scratch);
    RLC_TRY(kc_download(g->kc, g->io_host, g->io_dev, io.tokens));  // rng, ids, logprob
    RLC_TRY(kc_sync(g->kc));
    g->have_logits = 1;
    memcpy(ids, IO_HOST(g, io, ids, int), sizeof(int) * (size_t)n);
    if (logprobs) memcpy(logprobs, IO_HOST(g, io, logprob, float), sizeof(float) * (size_t)n);
    if (rng) memcpy(rng, h_rng, sizeof(uint64_t) * (size_t)n);
    return RLC_OK;
}

rlc_status actor_gpu_kv_copy(actor_gpu_model *g, int dst, int src, int n_pos) {
    RLC_TRY(kc_bind(g->kc));
    if (dst < 0 || dst >= g->n_slots || src < 0 || src >= g->n_slots)
        return rlc_errorf(RLC_ERR_ARG, "gpu kv copy: slots %d <- %d (%d slots)", dst, src, g->n_slots);
    if (n_pos < 0 || n_pos > g->max_seq)
        return rlc_errorf(RLC_ERR_ARG, "gpu kv copy: %d positions (max_seq %d)", n_pos, g->max_seq);
    if (dst == src || n_pos == 0) return RLC_OK;
    size_t n = (size_t)n_pos * g->cfg.n_kv_heads * g->cfg.head_dim;  // elements per layer
    for (int l = 0; l < g->cfg.n_layers; l++) {
        size_t base = (size_t)l * g->kv_layer_bytes;
        size_t to = base + (size_t)dst * g->kv_slot_bytes, from = base + (size_t)src * g->kv_slot_bytes;
        kc_convert(g->kc, (char *)g->k_cache + to, g->dt, (char *)g->k_cache + from, g->dt, n);
        kc_convert(g->kc, (char *)g->v_cache + to, g->dt, (char *)g->v_cache + from, g->dt, n);
    }
    return kc_sync(g->kc);
}

#else  // !RLC_HAVE_CUDA: every call says that this build has no CUDA backend.

static rlc_status no_cuda(const char *what) {
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: this build has no CUDA backend (configure where nvcc is found, RLC_CUDA=AUTO or ON)",
                      what);
}

rlc_status actor_gpu_model_create(const actor_model *m, int device, actor_gpu_dtype dtype, int n_slots,
                                  int max_seq, int max_tokens, actor_gpu_model **out) {
    (void)m, (void)device, (void)dtype, (void)n_slots, (void)max_seq, (void)max_tokens;
    *out = NULL;
    return no_cuda("actor_gpu_model_create");
}

void actor_gpu_model_free(actor_gpu_model *g) { (void)g; }

rlc_status actor_gpu_model_load_params(actor_gpu_model *g, const actor_params *p) {
    (void)g, (void)p;
    return no_cuda("actor_gpu_model_load_params");
}

rlc_status actor_gpu_model_staging(actor_gpu_model *g, void **kc, float **staging, size_t *n_floats) {
    (void)g;
    *kc = NULL;
    *staging = NULL;
    if (n_floats) *n_floats = 0;
    return no_cuda("actor_gpu_model_staging");
}

rlc_status actor_gpu_model_load_staging(actor_gpu_model *g) {
    (void)g;
    return no_cuda("actor_gpu_model_load_staging");
}

void actor_gpu_model_set_graphs(actor_gpu_model *g, int on) { (void)g, (void)on; }

void actor_gpu_model_memory(const actor_gpu_model *g, size_t *weights, size_t *kv_cache, size_t *other) {
    (void)g;
    if (weights) *weights = 0;
    if (kv_cache) *kv_cache = 0;
    if (other) *other = 0;
}

int actor_gpu_model_logit_rows(const actor_gpu_model *g) {
    (void)g;
    return 0;
}

const float *actor_gpu_model_logits(const actor_gpu_model *g) {
    (void)g;
    return NULL;
}

rlc_status actor_gpu_forward(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                             const unsigned char *want_logits, float *logits) {
    (void)g, (void)tokens, (void)slots, (void)pos, (void)n, (void)want_logits, (void)logits;
    return no_cuda("actor_gpu_forward");
}

rlc_status actor_gpu_decode_sample(actor_gpu_model *g, const int *tokens, const int *slots, const int *pos, int n,
                                   const float *temperature, const int *top_k, const float *top_p, uint64_t *rng,
                                   int *ids, float *logprobs) {
    (void)g, (void)tokens, (void)slots, (void)pos, (void)n, (void)temperature, (void)top_k, (void)top_p;
    (void)rng, (void)ids, (void)logprobs;
    return no_cuda("actor_gpu_decode_sample");
}

rlc_status actor_gpu_kv_copy(actor_gpu_model *g, int dst, int src, int n_pos) {
    (void)g, (void)dst, (void)src, (void)n_pos;
    return no_cuda("actor_gpu_kv_copy");
}

#endif
