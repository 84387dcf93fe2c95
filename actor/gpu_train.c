// gpu_train.c: the training step on the GPU (gpu_train.h). The forward and
// backward are train.c's, step for step, with every op replaced by its CUDA
// family (kc_ops.h, kc_gemm.h, kc_attention.h, kc_logprob.h) over device
// buffers of the compute dtype; AdamW is kc_optim.h's. Parameters,
// gradients and moments live in one device block, activations in another,
// both carved at create; a step allocates nothing. The rows with a target
// are gathered for the final norm and the fused lm_head with kc_embedding
// (a row gather) and their gradient scattered back with kc_embedding_backward.
#include "gpu_train.h"

#include <math.h>    // isfinite, sqrt
#include <stdio.h>   // snprintf
#include <string.h>  // memset, memcpy

#include "core/core.h"       // rlc_errorf, rlc_calloc, RLC_WARN
#include "model_internal.h"  // struct actor_model: cfg, params, inv_freq

#ifndef RLC_HAVE_CUDA

// ---- builds without the CUDA backend -------------------------------------------

static rlc_status no_cuda(const char *fn) {
    return rlc_errorf(RLC_ERR_UNSUPPORTED,
                      "%s: this build has no CUDA backend (configure with -DRLC_CUDA=ON where nvcc is installed)",
                      fn);
}

rlc_status actor_gpu_trainer_create(const actor_model *m, int device, int bf16, int max_tokens, int vocab_chunk,
                                    int recompute, actor_gpu_trainer **out) {
    (void)m, (void)device, (void)bf16, (void)max_tokens, (void)vocab_chunk, (void)recompute;
    *out = NULL;
    return no_cuda("actor_gpu_trainer_create");
}
void actor_gpu_trainer_free(actor_gpu_trainer *t) { (void)t; }
rlc_status actor_gpu_train_set_temperature(actor_gpu_trainer *t, float temperature) {
    (void)t, (void)temperature;
    return no_cuda("actor_gpu_train_set_temperature");
}
rlc_status actor_gpu_train_forward(actor_gpu_trainer *t, const actor_batch *b, float *logprobs_host,
                                   float *entropy_host) {
    (void)t, (void)b, (void)logprobs_host, (void)entropy_host;
    return no_cuda("actor_gpu_train_forward");
}
rlc_status actor_gpu_train_backward(actor_gpu_trainer *t, const float *dlogprobs_host,
                                    const float *dentropy_host) {
    (void)t, (void)dlogprobs_host, (void)dentropy_host;
    return no_cuda("actor_gpu_train_backward");
}
size_t actor_gpu_numel(const actor_gpu_trainer *t) {
    (void)t;
    return 0;
}
rlc_status actor_gpu_grads_download(actor_gpu_trainer *t, float *grads_host) {
    (void)t, (void)grads_host;
    return no_cuda("actor_gpu_grads_download");
}
rlc_status actor_gpu_grads_zero(actor_gpu_trainer *t) {
    (void)t;
    return no_cuda("actor_gpu_grads_zero");
}
rlc_status actor_gpu_grads_device(actor_gpu_trainer *t, void **kc, float **grad) {
    (void)t;
    *kc = NULL;
    *grad = NULL;
    return no_cuda("actor_gpu_grads_device");
}
rlc_status actor_gpu_params_device(actor_gpu_trainer *t, void **kc, const float **master) {
    (void)t;
    *kc = NULL;
    *master = NULL;
    return no_cuda("actor_gpu_params_device");
}
rlc_status actor_gpu_adamw_step(actor_gpu_trainer *t, double lr, double beta1, double beta2, double eps,
                                double weight_decay, double max_grad_norm, double *grad_norm_out) {
    (void)t, (void)lr, (void)beta1, (void)beta2, (void)eps, (void)weight_decay, (void)max_grad_norm;
    if (grad_norm_out) *grad_norm_out = NAN;
    return no_cuda("actor_gpu_adamw_step");
}
long actor_gpu_adamw_steps(const actor_gpu_trainer *t) {
    (void)t;
    return 0;
}
rlc_status actor_gpu_moments_upload(actor_gpu_trainer *t, const float *m_host, const float *v_host, long steps) {
    (void)t, (void)m_host, (void)v_host, (void)steps;
    return no_cuda("actor_gpu_moments_upload");
}
rlc_status actor_gpu_params_download(actor_gpu_trainer *t, actor_params *p) {
    (void)t, (void)p;
    return no_cuda("actor_gpu_params_download");
}
rlc_status actor_gpu_params_upload(actor_gpu_trainer *t, const actor_params *p) {
    (void)t, (void)p;
    return no_cuda("actor_gpu_params_upload");
}
rlc_status actor_gpu_moments_download(actor_gpu_trainer *t, float *m_host, float *v_host) {
    (void)t, (void)m_host, (void)v_host;
    return no_cuda("actor_gpu_moments_download");
}
size_t actor_gpu_train_bytes(const actor_gpu_trainer *t, size_t *state) {
    (void)t;
    if (state) *state = 0;
    return 0;
}

#else  // RLC_HAVE_CUDA

#include "kernels/cuda/kc_attention.h"  // kc_attention_packed(_backward)
#include "kernels/cuda/kc_gemm.h"       // kc_matmul(_backward)
#include "kernels/cuda/kc_logprob.h"    // kc_lm_head_logprob(_backward)
#include "kernels/cuda/kc_ops.h"        // kc_embedding, kc_rmsnorm, kc_rope, kc_swiglu, kc_add
#include "kernels/cuda/kc_optim.h"      // kc_sumsq, kc_adamw
#include "kernels/cuda/kcuda.h"         // kc_ctx, kc_malloc, kc_upload, kc_convert

#define NO_TENSOR ((size_t)-1)
#define DEVICE_ALIGN 256  // bytes: every carved piece starts on this boundary

// Where each tensor of one layer sits in the flat buffers (in elements), or
// NO_TENSOR where the architecture has none (biases of Llama, q/k norms).
typedef struct layer_offsets {
    size_t attn_norm, wq, bq, wk, bk, wv, bv, wo, q_norm, k_norm, mlp_norm, w_gate, w_up, w_down;
} layer_offsets;

// What one layer's backward reads (train.c's layer_acts, on the device, in
// the compute dtype unless float32 is said). With recompute only x_in is per
// layer; the rest is one shared set that the backward refills.
typedef struct layer_acts {
    void *x_in;   // (T, C) the layer's input (residual stream)
    void *q_raw;  // (T, H*D) q projection before q_norm (Qwen3 only)
    void *k_raw;  // (T, KV*D) k projection before k_norm (Qwen3 only)
    void *q;      // (T, H*D) queries, normed and rotated
    void *k;      // (T, KV*D) keys, normed and rotated
    void *v;      // (T, KV*D) values
    void *att;    // (T, H*D) attention output
    float *lse;   // (T, H) float32 attention log-sum-exp per row and head
    void *x_mid;  // (T, C) residual stream after attention
    void *gate;   // (T, I) gate projection
    void *up;     // (T, I) up projection
} layer_acts;

struct actor_gpu_trainer {
    kc_ctx *kc;
    kc_dtype dt;  // the compute dtype
    size_t esz;   // its bytes per element
    actor_config cfg;
    int max_tokens, vc, recompute;
    float inv_temp;  // 1 / the sampling temperature: xg is scaled by it before the lm_head
    size_t numel;  // floats in the flat buffers (actor_params' numel)
    size_t off_embed, off_final_norm, off_lm_head;
    layer_offsets *lw;  // (L)

    // Device state: one block.
    void *state_mem;
    size_t state_bytes;
    float *master;  // (numel) float32 master weights
    float *grad;    // (numel) float32 gradients
    float *m, *v;   // (numel) float32 AdamW moments
    kc_bf16 *wbf;   // (numel) bfloat16 compute copy (bf16 mode), else NULL
    void *wc;       // the weights the forward reads: wbf or master

    // Device activations: one block.
    void *act_mem;
    size_t act_bytes;
    float *inv_freq;           // (D/2) RoPE inverse frequencies
    long *seg_off;             // (n_seg + 1) the tensors as AdamW segments
    unsigned char *seg_decay;  // (n_seg) 1: decayed (2-D tensors)
    int n_seg;
    double *sumsq;   // (1) the gradient's squared norm
    int *d_tokens;   // (T) input ids
    int *d_cu;       // (T + 1) document starts
    int *d_pos;      // (T) position within the document
    int *d_rows;     // (T) the rows with a target (n_valid of them)
    int *d_tgt;      // (T) their targets
    layer_acts *acts;  // (L) host array of device pointers
    void *x_final;     // (T, C) residual stream after the last layer
    void *xn;          // (T, C) normalized input / projection output (scratch)
    void *h;           // (T, I) swiglu output (scratch)
    void *xg_in;       // (T, C) final residual of the rows with a target
    void *xg;          // (T, C) after the final norm
    void *dxg;         // (T, C) gradient of xg
    float *lp_v, *ent_v, *lse_v;  // (T) float32 per valid row
    float *dlp_v, *dent_v;        // (T) float32 their incoming gradients
    float *stats;                 // (T, 4) float32 lm_head running statistics
    void *lm_scratch;             // kc_lm_head_scratch_bytes(T, vc)
    void *dx;        // (T, C) gradient of the residual stream
    void *dxn;       // (T, C) gradient of a normalized input
    void *datt;      // (T, H*D) gradient of the attention output
    void *dq;        // (T, H*D)
    void *dk;        // (T, KV*D)
    void *dv;        // (T, KV*D)
    void *dq_raw;    // (T, H*D) through q_norm (Qwen3)
    void *dk_raw;    // (T, KV*D) through k_norm (Qwen3)
    void *dh;        // (T, I) gradient of the swiglu output, then of the gate
    void *dup;       // (T, I) gradient of the up projection
    float *dx_f32;   // (T, C) float32 scatter target of the head's gradient (bf16 mode)
    float *delta;    // (T, H) float32 attention backward scratch
    void *att_scratch;  // kc_attention_backward_scratch_bytes(T, H, KV, D)

    // Host staging (one allocation).
    int *h_pos, *h_rows, *h_tgt;          // (T)
    float *h_lp, *h_ent, *h_dlp, *h_dent;  // (T)

    // The last forward's batch.
    int T, n_seqs, n_valid, have_forward;
    long steps, skipped;
};

// ---- memory ------------------------------------------------------------------

// Hands out aligned pieces of one device block; with base == NULL it only
// counts, so that the same code sizes and carves.
typedef struct {
    char *base;
    size_t off;
} carver;

static void *take(carver *cv, size_t bytes) {
    size_t at = (cv->off + DEVICE_ALIGN - 1) & ~(size_t)(DEVICE_ALIGN - 1);
    cv->off = at + bytes;
    return cv->base ? cv->base + at : NULL;
}

static void take_layer(carver *cv, const actor_gpu_trainer *t, layer_acts *a, int with_x_in, int with_rest) {
    const actor_config *c = &t->cfg;
    size_t T = (size_t)t->max_tokens, e = t->esz, C = (size_t)c->hidden_size;
    size_t HD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    size_t I = (size_t)c->intermediate_size;
    if (with_x_in) a->x_in = take(cv, T * C * e);
    if (!with_rest) return;
    if (c->qk_norm) {
        a->q_raw = take(cv, T * HD * e);
        a->k_raw = take(cv, T * KD * e);
    }
    a->q = take(cv, T * HD * e);
    a->k = take(cv, T * KD * e);
    a->v = take(cv, T * KD * e);
    a->att = take(cv, T * HD * e);
    a->lse = take(cv, T * (size_t)c->n_heads * sizeof(float));
    a->x_mid = take(cv, T * C * e);
    a->gate = take(cv, T * I * e);
    a->up = take(cv, T * I * e);
}

// Lays out every activation buffer of t from cv (t->acts must exist).
static void carve_acts(carver *cv, actor_gpu_trainer *t) {
    const actor_config *c = &t->cfg;
    size_t T = (size_t)t->max_tokens, e = t->esz, C = (size_t)c->hidden_size, H = (size_t)c->n_heads;
    size_t HD = H * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    size_t I = (size_t)c->intermediate_size, f = sizeof(float);
    t->inv_freq = take(cv, (size_t)(c->head_dim / 2) * f);
    t->seg_off = take(cv, (size_t)(t->n_seg + 1) * sizeof(long));
    t->seg_decay = take(cv, (size_t)t->n_seg);
    t->sumsq = take(cv, sizeof(double));
    t->d_tokens = take(cv, T * sizeof(int));
    t->d_cu = take(cv, (T + 1) * sizeof(int));
    t->d_pos = take(cv, T * sizeof(int));
    t->d_rows = take(cv, T * sizeof(int));
    t->d_tgt = take(cv, T * sizeof(int));
    for (int l = 0; l < c->n_layers; l++) {
        take_layer(cv, t, &t->acts[l], 1, !t->recompute || l == 0);
        if (t->recompute && l > 0) {  // share layer 0's set
            void *x_in = t->acts[l].x_in;
            t->acts[l] = t->acts[0];
            t->acts[l].x_in = x_in;
        }
    }
    t->x_final = take(cv, T * C * e);
    t->xn = take(cv, T * C * e);
    t->h = take(cv, T * I * e);
    t->xg_in = take(cv, T * C * e);
    t->xg = take(cv, T * C * e);
    t->dxg = take(cv, T * C * e);
    t->lp_v = take(cv, T * f);
    t->ent_v = take(cv, T * f);
    t->lse_v = take(cv, T * f);
    t->dlp_v = take(cv, T * f);
    t->dent_v = take(cv, T * f);
    t->stats = take(cv, T * 4 * f);
    t->lm_scratch = take(cv, kc_lm_head_scratch_bytes(t->max_tokens, t->vc));
    t->dx = take(cv, T * C * e);
    t->dxn = take(cv, T * C * e);
    t->datt = take(cv, T * HD * e);
    t->dq = take(cv, T * HD * e);
    t->dk = take(cv, T * KD * e);
    t->dv = take(cv, T * KD * e);
    if (c->qk_norm) {
        t->dq_raw = take(cv, T * HD * e);
        t->dk_raw = take(cv, T * KD * e);
    }
    t->dh = take(cv, T * I * e);
    t->dup = take(cv, T * I * e);
    if (t->dt == KC_BF16) t->dx_f32 = take(cv, T * C * f);
    t->delta = take(cv, T * H * f);
    t->att_scratch =
        take(cv, kc_attention_backward_scratch_bytes(t->max_tokens, c->n_heads, c->n_kv_heads, c->head_dim));
}

static void carve_state(carver *cv, actor_gpu_trainer *t) {
    size_t n = t->numel;
    t->master = take(cv, n * sizeof(float));
    t->grad = take(cv, n * sizeof(float));
    t->m = take(cv, n * sizeof(float));
    t->v = take(cv, n * sizeof(float));
    t->wbf = t->dt == KC_BF16 ? take(cv, n * sizeof(kc_bf16)) : NULL;
}

// ---- errors ------------------------------------------------------------------

// Re-raises the current error with "gpu_train: <what>: " in front.
static rlc_status reraise(rlc_status s, const char *what) {
    char why[768];
    snprintf(why, sizeof why, "%s", rlc_last_error());
    return rlc_errorf(s, "gpu_train: %s: %s", what, why);
}

// Waits for the device; the first failed launch since the last sync, named.
static rlc_status synced(actor_gpu_trainer *t, const char *what) {
    rlc_status s = kc_sync(t->kc);
    return s == RLC_OK ? RLC_OK : reraise(s, what);
}

// ---- create / free -------------------------------------------------------------

static size_t offset_of(const actor_params *p, const float *x) {
    return x ? (size_t)(x - p->data) : NO_TENSOR;
}

static void take_offsets(actor_gpu_trainer *t, const actor_params *p) {
    t->off_embed = offset_of(p, p->embed);
    t->off_final_norm = offset_of(p, p->final_norm);
    t->off_lm_head = offset_of(p, p->lm_head);
    for (int l = 0; l < t->cfg.n_layers; l++) {
        const actor_layer_params *w = &p->layers[l];
        layer_offsets *o = &t->lw[l];
        o->attn_norm = offset_of(p, w->attn_norm);
        o->wq = offset_of(p, w->wq);
        o->bq = offset_of(p, w->bq);
        o->wk = offset_of(p, w->wk);
        o->bk = offset_of(p, w->bk);
        o->wv = offset_of(p, w->wv);
        o->bv = offset_of(p, w->bv);
        o->wo = offset_of(p, w->wo);
        o->q_norm = offset_of(p, w->q_norm);
        o->k_norm = offset_of(p, w->k_norm);
        o->mlp_norm = offset_of(p, w->mlp_norm);
        o->w_gate = offset_of(p, w->w_gate);
        o->w_up = offset_of(p, w->w_up);
        o->w_down = offset_of(p, w->w_down);
    }
}

// The tensors of p as AdamW segments (learner/optim.c's decay rule: 2-D
// tensors only). Segments are contiguous, so each takes the padding after
// its tensor (zero in weights, gradients and moments: it stays zero).
static rlc_status upload_segments(actor_gpu_trainer *t, const actor_params *p) {
    int n = p->n_tensors;
    long *off = rlc_calloc((size_t)n + 1, sizeof *off);
    unsigned char *decay = rlc_calloc((size_t)n, 1);
    rlc_status s = RLC_OK;
    if (!off || !decay) s = rlc_errorf(RLC_ERR_NOMEM, "gpu_train: out of memory for the segment table");
    for (int i = 0; s == RLC_OK && i < n; i++) {
        off[i] = (long)p->tensors[i].offset;
        decay[i] = p->tensors[i].ndim >= 2;
        if (i > 0 && off[i] < off[i - 1])
            s = rlc_errorf(RLC_ERR_ARG, "gpu_train: the parameter table is not in offset order (tensor %s)",
                           p->tensors[i].name);
    }
    if (s == RLC_OK && n > 0 && off[0] != 0)
        s = rlc_errorf(RLC_ERR_ARG, "gpu_train: the parameter table does not start at offset 0");
    if (s == RLC_OK) {
        off[n] = (long)p->numel;
        s = kc_upload(t->kc, t->seg_off, off, ((size_t)n + 1) * sizeof *off);
        if (s == RLC_OK) s = kc_upload(t->kc, t->seg_decay, decay, (size_t)n);
        if (s != RLC_OK) s = reraise(s, "uploading the segment table");
    }
    rlc_free(off);
    rlc_free(decay);
    return s;
}

// The master weights from host floats, and the compute copy from them.
static rlc_status upload_weights(actor_gpu_trainer *t, const float *host) {
    rlc_status s = kc_upload(t->kc, t->master, host, t->numel * sizeof(float));
    if (s != RLC_OK) return reraise(s, "uploading the weights");
    if (t->wbf) kc_convert(t->kc, t->wbf, KC_BF16, t->master, KC_F32, t->numel);
    return RLC_OK;
}

static rlc_status check_config(const actor_config *c, int max_tokens) {
    if (max_tokens <= 0)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: max_tokens must be positive (got %d)", max_tokens);
    if (c->head_dim <= 0 || c->head_dim % 2 || c->head_dim > 256)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: head_dim %d (the attention kernels take even head dims up to 256)",
                          c->head_dim);
    return RLC_OK;
}

rlc_status actor_gpu_trainer_create(const actor_model *m, int device, int bf16, int max_tokens, int vocab_chunk,
                                    int recompute, actor_gpu_trainer **out) {
    *out = NULL;
    const actor_config *c = &m->cfg;
    const actor_params *p = &m->params;
    RLC_TRY(check_config(c, max_tokens));
    actor_gpu_trainer *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "gpu_train: cannot allocate the trainer");
    t->cfg = *c;
    t->dt = bf16 ? KC_BF16 : KC_F32;
    t->esz = bf16 ? sizeof(kc_bf16) : sizeof(float);
    t->max_tokens = max_tokens;
    t->vc = vocab_chunk <= 0 || vocab_chunk > c->vocab_size ? c->vocab_size : vocab_chunk;
    t->recompute = recompute ? 1 : 0;
    t->inv_temp = 1.0f;
    t->numel = p->numel;
    t->n_seg = p->n_tensors;
    t->lw = rlc_calloc((size_t)c->n_layers, sizeof *t->lw);
    t->acts = rlc_calloc((size_t)c->n_layers, sizeof *t->acts);
    t->h_pos = rlc_malloc((size_t)max_tokens * (3 * sizeof(int) + 4 * sizeof(float)));
    if (!t->lw || !t->acts || !t->h_pos) {
        actor_gpu_trainer_free(t);
        return rlc_errorf(RLC_ERR_NOMEM, "gpu_train: out of host memory for %d tokens", max_tokens);
    }
    t->h_rows = t->h_pos + max_tokens;
    t->h_tgt = t->h_rows + max_tokens;
    t->h_lp = (float *)(t->h_tgt + max_tokens);
    t->h_ent = t->h_lp + max_tokens;
    t->h_dlp = t->h_ent + max_tokens;
    t->h_dent = t->h_dlp + max_tokens;
    take_offsets(t, p);

    rlc_status s = kc_open(device, &t->kc);
    if (s != RLC_OK) {
        char what[64];
        snprintf(what, sizeof what, "opening CUDA device %d", device);
        s = reraise(s, what);
        actor_gpu_trainer_free(t);
        return s;
    }
    carver cv = {NULL, 0};
    carve_state(&cv, t);
    t->state_bytes = cv.off;
    s = kc_malloc(t->kc, &t->state_mem, t->state_bytes);
    if (s == RLC_OK) {
        cv = (carver){t->state_mem, 0};
        carve_state(&cv, t);
        t->wc = t->wbf ? (void *)t->wbf : (void *)t->master;
        cv = (carver){NULL, 0};
        carve_acts(&cv, t);
        t->act_bytes = cv.off;
        s = kc_malloc(t->kc, &t->act_mem, t->act_bytes);
        if (s == RLC_OK) {
            cv = (carver){t->act_mem, 0};
            carve_acts(&cv, t);
        }
    }
    if (s != RLC_OK) {
        char what[160];
        snprintf(what, sizeof what, "cannot allocate %.2f GiB of state + %.2f GiB of activations on device %d",
                 t->state_bytes / 1073741824.0, t->act_bytes / 1073741824.0, device);
        s = reraise(s, what);
        actor_gpu_trainer_free(t);
        return s;
    }
    s = upload_weights(t, p->data);
    if (s == RLC_OK) s = kc_memset(t->kc, t->grad, 0, t->numel * sizeof(float));
    if (s == RLC_OK) s = kc_memset(t->kc, t->m, 0, t->numel * sizeof(float));
    if (s == RLC_OK) s = kc_memset(t->kc, t->v, 0, t->numel * sizeof(float));
    if (s == RLC_OK) s = kc_upload(t->kc, t->inv_freq, m->inv_freq, (size_t)(c->head_dim / 2) * sizeof(float));
    if (s == RLC_OK) s = upload_segments(t, p);
    if (s == RLC_OK) s = synced(t, "initialising the trainer");
    if (s != RLC_OK) {
        actor_gpu_trainer_free(t);
        return s;
    }
    *out = t;
    return RLC_OK;
}

rlc_status actor_gpu_train_set_temperature(actor_gpu_trainer *t, float temperature) {
    if (!(temperature >= 0.0f && temperature <= 1e6f))
        return rlc_errorf(RLC_ERR_ARG, "train: temperature %g is not in [0, 1e6]", (double)temperature);
    t->inv_temp = temperature > 0.0f ? 1.0f / temperature : 1.0f;
    return RLC_OK;
}

void actor_gpu_trainer_free(actor_gpu_trainer *t) {
    if (!t) return;
    if (t->kc) {
        kc_free(t->kc, t->act_mem);
        kc_free(t->kc, t->state_mem);
        kc_close(t->kc);
    }
    rlc_free(t->h_pos);
    rlc_free(t->acts);
    rlc_free(t->lw);
    rlc_free(t);
}

size_t actor_gpu_numel(const actor_gpu_trainer *t) { return t->numel; }

size_t actor_gpu_train_bytes(const actor_gpu_trainer *t, size_t *state) {
    if (state) *state = t->state_bytes;
    return t->state_bytes + t->act_bytes;
}

// ---- forward -------------------------------------------------------------------

// The compute-dtype weight at element offset off (NULL for an absent tensor).
static const void *W(const actor_gpu_trainer *t, size_t off) {
    return off == NO_TENSOR ? NULL : (const void *)((const char *)t->wc + off * t->esz);
}

// The float32 gradient slot at element offset off (NULL for an absent tensor).
static float *G(const actor_gpu_trainer *t, size_t off) { return off == NO_TENSOR ? NULL : t->grad + off; }

// train.c's check_batch: nothing changes when it fails.
static rlc_status check_batch(const actor_gpu_trainer *t, const actor_batch *b) {
    int T = b->n_tokens, V = t->cfg.vocab_size;
    if (T <= 0 || T > t->max_tokens)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: batch of %d tokens (must be 1 .. max_tokens %d)", T,
                          t->max_tokens);
    if (b->n_seqs <= 0 || b->n_seqs > T)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: %d documents for %d tokens", b->n_seqs, T);
    if (b->cu_seqlens[0] != 0 || b->cu_seqlens[b->n_seqs] != T)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: cu_seqlens must run from 0 to n_tokens %d (got %d .. %d)", T,
                          b->cu_seqlens[0], b->cu_seqlens[b->n_seqs]);
    for (int s = 0; s < b->n_seqs; s++)
        if (b->cu_seqlens[s + 1] < b->cu_seqlens[s])
            return rlc_errorf(RLC_ERR_ARG, "gpu_train: cu_seqlens decreases at document %d", s);
    for (int i = 0; i < T; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= V)
            return rlc_errorf(RLC_ERR_ARG, "gpu_train: token %d at index %d is outside the vocabulary (%d)",
                              b->tokens[i], i, V);
        if (b->targets && (b->targets[i] < -1 || b->targets[i] >= V))
            return rlc_errorf(RLC_ERR_ARG, "gpu_train: target %d at index %d is outside the vocabulary (%d)",
                              b->targets[i], i, V);
    }
    return RLC_OK;
}

// Positions, the rows with a target and their targets on the host; then the
// batch to the device.
static rlc_status load_batch(actor_gpu_trainer *t, const actor_batch *b) {
    int T = b->n_tokens;
    t->T = T;
    t->n_seqs = b->n_seqs;
    for (int s = 0; s < b->n_seqs; s++)
        for (int i = b->cu_seqlens[s]; i < b->cu_seqlens[s + 1]; i++) t->h_pos[i] = i - b->cu_seqlens[s];
    t->n_valid = 0;
    for (int i = 0; b->targets && i < T; i++)
        if (b->targets[i] >= 0) {
            t->h_rows[t->n_valid] = i;
            t->h_tgt[t->n_valid++] = b->targets[i];
        }
    size_t si = sizeof(int);
    rlc_status s = kc_upload(t->kc, t->d_tokens, b->tokens, (size_t)T * si);
    if (s == RLC_OK) s = kc_upload(t->kc, t->d_cu, b->cu_seqlens, (size_t)(b->n_seqs + 1) * si);
    if (s == RLC_OK) s = kc_upload(t->kc, t->d_pos, t->h_pos, (size_t)T * si);
    if (s == RLC_OK && t->n_valid > 0) s = kc_upload(t->kc, t->d_rows, t->h_rows, (size_t)t->n_valid * si);
    if (s == RLC_OK && t->n_valid > 0) s = kc_upload(t->kc, t->d_tgt, t->h_tgt, (size_t)t->n_valid * si);
    return s == RLC_OK ? RLC_OK : reraise(s, "uploading the batch");
}

// One layer: a->x_in to x_out, filling a. x_out == NULL stops after the
// MLP's gate and up projections (all the backward needs: recompute).
static void layer_forward(actor_gpu_trainer *t, int l, const layer_acts *a, void *x_out) {
    const actor_config *c = &t->cfg;
    const layer_offsets *w = &t->lw[l];
    kc_ctx *kc = t->kc;
    kc_dtype dt = t->dt;
    int T = t->T, C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int I = c->intermediate_size;
    float eps = c->rms_eps;
    void *xn = t->xn;

    kc_rmsnorm(kc, dt, xn, a->x_in, W(t, w->attn_norm), T, C, eps);
    kc_matmul(kc, dt, c->qk_norm ? a->q_raw : a->q, xn, W(t, w->wq), W(t, w->bq), T, C, H * D);
    kc_matmul(kc, dt, c->qk_norm ? a->k_raw : a->k, xn, W(t, w->wk), W(t, w->bk), T, C, KV * D);
    kc_matmul(kc, dt, a->v, xn, W(t, w->wv), W(t, w->bv), T, C, KV * D);
    if (c->qk_norm) {
        kc_rmsnorm(kc, dt, a->q, a->q_raw, W(t, w->q_norm), T * H, D, eps);
        kc_rmsnorm(kc, dt, a->k, a->k_raw, W(t, w->k_norm), T * KV, D, eps);
    }
    kc_rope(kc, dt, a->q, t->d_pos, t->inv_freq, T, H, D);
    kc_rope(kc, dt, a->k, t->d_pos, t->inv_freq, T, KV, D);
    kc_attention_packed(kc, dt, a->att, a->lse, a->q, a->k, a->v, t->d_cu, t->n_seqs, T, H, KV, D);
    kc_matmul(kc, dt, xn, a->att, W(t, w->wo), NULL, T, H * D, C);
    kc_add(kc, dt, a->x_mid, a->x_in, xn, (size_t)T * C);

    kc_rmsnorm(kc, dt, xn, a->x_mid, W(t, w->mlp_norm), T, C, eps);
    kc_matmul(kc, dt, a->gate, xn, W(t, w->w_gate), NULL, T, C, I);
    kc_matmul(kc, dt, a->up, xn, W(t, w->w_up), NULL, T, C, I);
    if (!x_out) return;
    kc_swiglu(kc, dt, t->h, a->gate, a->up, (size_t)T * I);
    kc_matmul(kc, dt, xn, t->h, W(t, w->w_down), NULL, T, I, C);
    kc_add(kc, dt, x_out, a->x_mid, xn, (size_t)T * C);
}

// The embedding and every layer over the loaded batch: x_final.
static void trunk_forward(actor_gpu_trainer *t) {
    int L = t->cfg.n_layers;
    kc_embedding(t->kc, t->dt, t->acts[0].x_in, W(t, t->off_embed), t->d_tokens, t->T, t->cfg.hidden_size);
    for (int l = 0; l < L; l++) layer_forward(t, l, &t->acts[l], l + 1 < L ? t->acts[l + 1].x_in : t->x_final);
}

rlc_status actor_gpu_train_forward(actor_gpu_trainer *t, const actor_batch *b, float *logprobs_host,
                                   float *entropy_host) {
    RLC_TRY(kc_bind(t->kc));
    RLC_TRY(check_batch(t, b));
    t->have_forward = 0;
    RLC_TRY(load_batch(t, b));
    const actor_config *c = &t->cfg;
    int T = t->T, C = c->hidden_size, nv = t->n_valid;

    trunk_forward(t);
    if (nv > 0) {
        // Gather the rows with a target (an embedding lookup into x_final),
        // then the final norm and the fused lm_head + log-softmax on them.
        kc_embedding(t->kc, t->dt, t->xg_in, t->x_final, t->d_rows, nv, C);
        kc_rmsnorm(t->kc, t->dt, t->xg, t->xg_in, W(t, t->off_final_norm), nv, C, c->rms_eps);
        if (t->inv_temp != 1.0f) kc_scale(t->kc, t->dt, t->xg, t->inv_temp, (size_t)nv * C);  // logits / T
        kc_lm_head_logprob(t->kc, t->dt, t->lp_v, t->ent_v, t->lse_v, t->stats, t->xg, W(t, t->off_lm_head),
                           t->d_tgt, nv, C, c->vocab_size, t->vc, t->lm_scratch);
    }
    RLC_TRY(synced(t, "forward"));
    rlc_status s = RLC_OK;
    if (nv > 0 && logprobs_host) s = kc_download(t->kc, t->h_lp, t->lp_v, (size_t)nv * sizeof(float));
    if (s == RLC_OK && nv > 0 && entropy_host)
        s = kc_download(t->kc, t->h_ent, t->ent_v, (size_t)nv * sizeof(float));
    if (s != RLC_OK) return reraise(s, "downloading the log-probs");
    if (logprobs_host) {
        memset(logprobs_host, 0, sizeof(float) * (size_t)T);
        for (int r = 0; r < nv; r++) logprobs_host[t->h_rows[r]] = t->h_lp[r];
    }
    if (entropy_host) {
        memset(entropy_host, 0, sizeof(float) * (size_t)T);
        for (int r = 0; r < nv; r++) entropy_host[t->h_rows[r]] = t->h_ent[r];
    }
    t->have_forward = 1;
    return RLC_OK;
}

// ---- backward ------------------------------------------------------------------

// One layer: t->dx holds dL/d(layer output) and becomes dL/d(a->x_in).
static void layer_backward(actor_gpu_trainer *t, int l, const layer_acts *a) {
    const actor_config *c = &t->cfg;
    const layer_offsets *w = &t->lw[l];
    kc_ctx *kc = t->kc;
    kc_dtype dt = t->dt;
    int T = t->T, C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int I = c->intermediate_size;
    float eps = c->rms_eps;
    void *xn = t->xn, *dx = t->dx, *dxn = t->dxn;

    // MLP: out = x_mid + down(silu(gate(xn2)) * up(xn2)), xn2 = norm(x_mid).
    kc_rmsnorm(kc, dt, xn, a->x_mid, W(t, w->mlp_norm), T, C, eps);
    kc_swiglu(kc, dt, t->h, a->gate, a->up, (size_t)T * I);
    kc_matmul_backward(kc, dt, t->dh, G(t, w->w_down), NULL, dx, t->h, W(t, w->w_down), T, I, C, 0);
    kc_swiglu_backward(kc, dt, t->dh, t->dup, t->dh, a->gate, a->up, (size_t)T * I);
    kc_matmul_backward(kc, dt, dxn, G(t, w->w_gate), NULL, t->dh, xn, W(t, w->w_gate), T, C, I, 0);
    kc_matmul_backward(kc, dt, dxn, G(t, w->w_up), NULL, t->dup, xn, W(t, w->w_up), T, C, I, 1);
    kc_rmsnorm_backward(kc, dt, dx, G(t, w->mlp_norm), dxn, a->x_mid, W(t, w->mlp_norm), T, C, eps, 1);

    // Attention: x_mid = x_in + o(attention(rope(q), rope(k), v)), q, k, v from norm(x_in).
    kc_matmul_backward(kc, dt, t->datt, G(t, w->wo), NULL, dx, a->att, W(t, w->wo), T, H * D, C, 0);
    kc_attention_packed_backward(kc, dt, t->dq, t->dk, t->dv, t->delta, t->att_scratch, t->datt, a->q, a->k,
                                 a->v, a->att, a->lse, t->d_cu, t->n_seqs, T, H, KV, D);
    kc_rope_backward(kc, dt, t->dq, t->d_pos, t->inv_freq, T, H, D);
    kc_rope_backward(kc, dt, t->dk, t->d_pos, t->inv_freq, T, KV, D);
    void *dq = t->dq, *dk = t->dk;
    if (c->qk_norm) {
        kc_rmsnorm_backward(kc, dt, t->dq_raw, G(t, w->q_norm), t->dq, a->q_raw, W(t, w->q_norm), T * H, D, eps,
                            0);
        kc_rmsnorm_backward(kc, dt, t->dk_raw, G(t, w->k_norm), t->dk, a->k_raw, W(t, w->k_norm), T * KV, D,
                            eps, 0);
        dq = t->dq_raw;
        dk = t->dk_raw;
    }
    kc_rmsnorm(kc, dt, xn, a->x_in, W(t, w->attn_norm), T, C, eps);
    kc_matmul_backward(kc, dt, dxn, G(t, w->wq), G(t, w->bq), dq, xn, W(t, w->wq), T, C, H * D, 0);
    kc_matmul_backward(kc, dt, dxn, G(t, w->wk), G(t, w->bk), dk, xn, W(t, w->wk), T, C, KV * D, 1);
    kc_matmul_backward(kc, dt, dxn, G(t, w->wv), G(t, w->bv), t->dv, xn, W(t, w->wv), T, C, KV * D, 1);
    kc_rmsnorm_backward(kc, dt, dx, G(t, w->attn_norm), dxn, a->x_in, W(t, w->attn_norm), T, C, eps, 1);
}

// t->dx holds dL/d(x_final): every layer in reverse, then the embedding.
static void trunk_backward(actor_gpu_trainer *t) {
    for (int l = t->cfg.n_layers - 1; l >= 0; l--) {
        if (t->recompute) layer_forward(t, l, &t->acts[l], NULL);
        layer_backward(t, l, &t->acts[l]);
    }
    kc_embedding_backward(t->kc, t->dt, G(t, t->off_embed), t->dx, t->d_tokens, t->T, t->cfg.hidden_size);
}

// dL/d(x_final) into t->dx: the lm_head and the final norm on the rows with a
// target, scattered back (an embedding backward into a zeroed (T, C)); the
// other rows get 0.
static rlc_status head_backward(actor_gpu_trainer *t, int with_entropy) {
    const actor_config *c = &t->cfg;
    int T = t->T, C = c->hidden_size, nv = t->n_valid;
    size_t TC = (size_t)T * C;
    if (nv == 0) return kc_memset(t->kc, t->dx, 0, TC * t->esz);
    // dh in float32 (the vocabulary chunks add up unrounded), then in dt for
    // the final norm's backward; dx_f32 is free until the scatter below
    float *dh = t->dt == KC_BF16 ? t->dx_f32 : (float *)t->dxg;
    kc_lm_head_logprob_backward(t->kc, t->dt, dh, G(t, t->off_lm_head), t->xg, W(t, t->off_lm_head), t->d_tgt,
                                t->lse_v, t->ent_v, t->dlp_v, with_entropy ? t->dent_v : NULL, nv, C,
                                c->vocab_size, t->vc, t->lm_scratch, 0);
    if (t->inv_temp != 1.0f) kc_scale(t->kc, KC_F32, dh, t->inv_temp, (size_t)nv * C);  // back through xg / T
    if (t->dt == KC_BF16) kc_convert(t->kc, t->dxg, KC_BF16, t->dx_f32, KC_F32, (size_t)nv * C);
    kc_rmsnorm_backward(t->kc, t->dt, t->dxn, G(t, t->off_final_norm), t->dxg, t->xg_in, W(t, t->off_final_norm),
                        nv, C, c->rms_eps, 0);
    float *scatter = t->dt == KC_BF16 ? t->dx_f32 : (float *)t->dx;
    RLC_TRY(kc_memset(t->kc, scatter, 0, TC * sizeof(float)));
    kc_embedding_backward(t->kc, t->dt, scatter, t->dxn, t->d_rows, nv, C);
    if (t->dt == KC_BF16) kc_convert(t->kc, t->dx, KC_BF16, t->dx_f32, KC_F32, TC);
    return RLC_OK;
}

rlc_status actor_gpu_train_backward(actor_gpu_trainer *t, const float *dlogprobs_host,
                                    const float *dentropy_host) {
    RLC_TRY(kc_bind(t->kc));
    if (!t->have_forward)
        return rlc_errorf(RLC_ERR_STATE, "gpu_train: backward without a forward (or the weights changed since)");
    int nv = t->n_valid;
    rlc_status s = RLC_OK;
    if (nv > 0) {
        for (int r = 0; r < nv; r++) {
            t->h_dlp[r] = dlogprobs_host[t->h_rows[r]];
            if (dentropy_host) t->h_dent[r] = dentropy_host[t->h_rows[r]];
        }
        s = kc_upload(t->kc, t->dlp_v, t->h_dlp, (size_t)nv * sizeof(float));
        if (s == RLC_OK && dentropy_host) s = kc_upload(t->kc, t->dent_v, t->h_dent, (size_t)nv * sizeof(float));
    }
    if (s == RLC_OK) s = head_backward(t, dentropy_host != NULL);
    if (s != RLC_OK) return reraise(s, "backward");
    trunk_backward(t);
    return synced(t, "backward");
}

// ---- gradients, optimizer, weights ---------------------------------------------

rlc_status actor_gpu_grads_download(actor_gpu_trainer *t, float *grads_host) {
    RLC_TRY(kc_bind(t->kc));
    rlc_status s = kc_download(t->kc, grads_host, t->grad, t->numel * sizeof(float));
    return s == RLC_OK ? synced(t, "downloading the gradients") : reraise(s, "downloading the gradients");
}

rlc_status actor_gpu_grads_zero(actor_gpu_trainer *t) {
    RLC_TRY(kc_bind(t->kc));
    rlc_status s = kc_memset(t->kc, t->grad, 0, t->numel * sizeof(float));
    return s == RLC_OK ? synced(t, "zeroing the gradients") : reraise(s, "zeroing the gradients");
}

rlc_status actor_gpu_grads_device(actor_gpu_trainer *t, void **kc, float **grad) {
    RLC_TRY(kc_bind(t->kc));
    *kc = t->kc;
    *grad = t->grad;
    return RLC_OK;
}

rlc_status actor_gpu_params_device(actor_gpu_trainer *t, void **kc, const float **master) {
    RLC_TRY(kc_bind(t->kc));
    *kc = t->kc;
    *master = t->master;
    return RLC_OK;
}

static rlc_status check_adamw(double lr, double beta1, double beta2, double eps, double weight_decay,
                              double max_grad_norm) {
    if (!(lr >= 0 && isfinite(lr))) return rlc_errorf(RLC_ERR_ARG, "gpu_train: AdamW learning rate %g", lr);
    if (!(beta1 >= 0 && beta1 < 1)) return rlc_errorf(RLC_ERR_ARG, "gpu_train: AdamW beta1 %g not in [0, 1)", beta1);
    if (!(beta2 >= 0 && beta2 < 1)) return rlc_errorf(RLC_ERR_ARG, "gpu_train: AdamW beta2 %g not in [0, 1)", beta2);
    if (!(eps >= 0 && isfinite(eps))) return rlc_errorf(RLC_ERR_ARG, "gpu_train: AdamW eps %g must be >= 0", eps);
    if (!(weight_decay >= 0 && isfinite(weight_decay)))
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: AdamW weight_decay %g must be >= 0", weight_decay);
    if (isnan(max_grad_norm)) return rlc_errorf(RLC_ERR_ARG, "gpu_train: AdamW max_grad_norm is NaN");
    return RLC_OK;
}

rlc_status actor_gpu_adamw_step(actor_gpu_trainer *t, double lr, double beta1, double beta2, double eps,
                                double weight_decay, double max_grad_norm, double *grad_norm_out) {
    RLC_TRY(kc_bind(t->kc));
    if (grad_norm_out) *grad_norm_out = NAN;
    RLC_TRY(check_adamw(lr, beta1, beta2, eps, weight_decay, max_grad_norm));
    rlc_status s = kc_memset(t->kc, t->sumsq, 0, sizeof(double));
    if (s != RLC_OK) return reraise(s, "AdamW");
    kc_sumsq(t->kc, t->sumsq, t->grad, t->numel);
    // The step is t + 1 if the norm is finite; kc_adamw changes nothing otherwise.
    kc_adamw_args a = {.lr = (float)lr,
                       .beta1 = (float)beta1,
                       .beta2 = (float)beta2,
                       .eps = (float)eps,
                       .weight_decay = (float)weight_decay,
                       .max_grad_norm = (float)max_grad_norm,
                       .step = t->steps + 1};
    kc_adamw(t->kc, t->master, t->m, t->v, t->grad, t->wbf, t->numel, t->seg_off, t->seg_decay, t->n_seg, t->sumsq,
             &a);
    t->have_forward = 0;  // the weights changed under the saved activations
    double sumsq = NAN;
    s = kc_download(t->kc, &sumsq, t->sumsq, sizeof sumsq);
    if (s != RLC_OK) return reraise(s, "AdamW: reading the gradient norm");
    RLC_TRY(synced(t, "AdamW"));
    double norm = sqrt(sumsq);
    if (grad_norm_out) *grad_norm_out = norm;
    if (!isfinite(norm)) {
        t->skipped++;
        RLC_WARN("gpu_train: non-finite gradient (norm %g) at update %ld: update skipped, weights unchanged "
                 "(%ld skipped so far)", norm, t->steps + 1, t->skipped);
        return RLC_OK;
    }
    t->steps++;
    return RLC_OK;
}

long actor_gpu_adamw_steps(const actor_gpu_trainer *t) { return t->steps; }

rlc_status actor_gpu_params_download(actor_gpu_trainer *t, actor_params *p) {
    RLC_TRY(kc_bind(t->kc));
    if (p->numel != t->numel)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: parameter buffer of %zu floats for a trainer of %zu", p->numel,
                          t->numel);
    rlc_status s = kc_download(t->kc, p->data, t->master, t->numel * sizeof(float));
    return s == RLC_OK ? synced(t, "downloading the weights") : reraise(s, "downloading the weights");
}

rlc_status actor_gpu_params_upload(actor_gpu_trainer *t, const actor_params *p) {
    RLC_TRY(kc_bind(t->kc));
    if (p->numel != t->numel)
        return rlc_errorf(RLC_ERR_ARG, "gpu_train: parameter buffer of %zu floats for a trainer of %zu", p->numel,
                          t->numel);
    t->have_forward = 0;
    RLC_TRY(upload_weights(t, p->data));
    return synced(t, "uploading the weights");
}

rlc_status actor_gpu_moments_download(actor_gpu_trainer *t, float *m_host, float *v_host) {
    RLC_TRY(kc_bind(t->kc));
    rlc_status s = kc_download(t->kc, m_host, t->m, t->numel * sizeof(float));
    if (s == RLC_OK) s = kc_download(t->kc, v_host, t->v, t->numel * sizeof(float));
    return s == RLC_OK ? synced(t, "downloading the moments") : reraise(s, "downloading the moments");
}

rlc_status actor_gpu_moments_upload(actor_gpu_trainer *t, const float *m_host, const float *v_host, long steps) {
    if (steps < 0) return rlc_errorf(RLC_ERR_ARG, "gpu_train: negative step count %ld", steps);
    rlc_status s = kc_bind(t->kc);
    if (s == RLC_OK) s = kc_upload(t->kc, t->m, m_host, t->numel * sizeof(float));
    if (s == RLC_OK) s = kc_upload(t->kc, t->v, v_host, t->numel * sizeof(float));
    if (s != RLC_OK) return reraise(s, "uploading the moments");
    t->steps = steps;
    return synced(t, "uploading the moments");
}

#endif  // RLC_HAVE_CUDA
