// optim.c: AdamW, global-norm clipping, the non-finite guard and the
// learning-rate schedules (see optim.h for the formulas).
#include "optim.h"

#include <math.h>    // cos, sqrt, pow, isfinite
#include <string.h>  // memcpy, strcmp

#include "core/alloc.h"  // rlc_calloc, rlc_malloc_aligned, rlc_free
#include "core/log.h"    // RLC_WARN

#define OPTIM_PI 3.14159265358979323846
// Elements per block: the unit of parallel work and of the norm's partial sums.
#define OPTIM_BLOCK 16384

// ---- schedules ------------------------------------------------------------------

double optim_schedule_lr(const optim_schedule *s, long step) {
    if (step < 0) step = 0;
    if (step < s->warmup_steps) return s->lr * (double)step / (double)s->warmup_steps;
    if (s->kind == OPTIM_SCHEDULE_CONSTANT) return s->lr;
    long span = s->total_steps - s->warmup_steps;
    double p = (double)(step - s->warmup_steps) / (double)(span > 1 ? span : 1);
    if (p > 1) p = 1;
    double r = s->min_lr_ratio, f;
    if (s->kind == OPTIM_SCHEDULE_COSINE) f = 0.5 * (1.0 + cos(OPTIM_PI * p));
    else f = 1.0 - p;
    return s->lr * (r + (1.0 - r) * f);
}

static const char *const schedule_names[] = {"constant", "cosine", "linear"};

rlc_status optim_schedule_parse(const char *name, optim_schedule_kind *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(name, schedule_names[i]) == 0) {
            *out = (optim_schedule_kind)i;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG, "unknown learning-rate schedule \"%s\" (known: constant, cosine, linear)",
                      name);
}

const char *optim_schedule_name(optim_schedule_kind k) {
    return (unsigned)k < 3 ? schedule_names[k] : "?";
}

// ---- blocks -----------------------------------------------------------------------

// A run of at most OPTIM_BLOCK elements inside one tensor.
typedef struct {
    size_t offset, n;
    int decay;
} optim_block;

// Splits the tensors of p into blocks; *out is NULL-safe to free. With
// decay_of == NULL every block has decay 0.
static rlc_status make_blocks(const actor_params *p, const unsigned char *decay_of, optim_block **out,
                              int *n_out) {
    size_t n = 0;
    for (int i = 0; i < p->n_tensors; i++) n += (p->tensors[i].numel + OPTIM_BLOCK - 1) / OPTIM_BLOCK;
    optim_block *b = rlc_calloc(n ? n : 1, sizeof *b);
    if (!b) return rlc_errorf(RLC_ERR_NOMEM, "optimizer: out of memory (%zu blocks)", n);
    size_t k = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const actor_tensor_info *t = &p->tensors[i];
        for (size_t at = 0; at < t->numel; at += OPTIM_BLOCK) {
            b[k].offset = t->offset + at;
            b[k].n = t->numel - at < OPTIM_BLOCK ? t->numel - at : OPTIM_BLOCK;
            b[k].decay = decay_of ? decay_of[i] : 0;
            k++;
        }
    }
    *out = b;
    *n_out = (int)k;
    return RLC_OK;
}

// Sum of squares per block into partial[], then added in block order.
static double blocks_norm(const optim_block *b, int n, const float *g, double *partial) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *x = g + b[i].offset;
        double s = 0;
        for (size_t j = 0; j < b[i].n; j++) s += (double)x[j] * (double)x[j];
        partial[i] = s;
    }
    double s = 0;
    for (int i = 0; i < n; i++) s += partial[i];
    return sqrt(s);
}

double optim_grad_norm(const actor_params *p, const float *g) {
    optim_block *b = NULL;
    int n = 0;
    if (make_blocks(p, NULL, &b, &n) != RLC_OK) return NAN;
    double *partial = rlc_calloc((size_t)(n ? n : 1), sizeof *partial);
    double norm = partial ? blocks_norm(b, n, g, partial) : NAN;
    rlc_free(partial);
    rlc_free(b);
    return norm;
}

// ---- AdamW --------------------------------------------------------------------------

struct optim_adamw {
    optim_adamw_config cfg;
    size_t numel;
    float *m, *v;             // (numel) each, carved from one allocation
    optim_block *blocks;      // (n_blocks)
    int n_blocks;
    double *partial;          // (n_blocks) norm partial sums
    unsigned char *decay;     // (n_tensors) 1: weight decay applies
    int n_tensors;
    long steps, skipped;
};

optim_adamw_config optim_adamw_defaults(void) {
    optim_adamw_config c = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01,
                            .max_grad_norm = 1.0, .decay_vectors = 0};
    return c;
}

static rlc_status check_config(const optim_adamw_config *c) {
    if (!(c->beta1 >= 0 && c->beta1 < 1)) return rlc_errorf(RLC_ERR_ARG, "AdamW: beta1 %g not in [0, 1)", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1)) return rlc_errorf(RLC_ERR_ARG, "AdamW: beta2 %g not in [0, 1)", c->beta2);
    if (!(c->eps >= 0 && isfinite(c->eps))) return rlc_errorf(RLC_ERR_ARG, "AdamW: eps %g must be >= 0", c->eps);
    if (!(c->weight_decay >= 0 && isfinite(c->weight_decay)))
        return rlc_errorf(RLC_ERR_ARG, "AdamW: weight_decay %g must be >= 0", c->weight_decay);
    if (isnan(c->max_grad_norm)) return rlc_errorf(RLC_ERR_ARG, "AdamW: max_grad_norm is NaN");
    return RLC_OK;
}

void optim_adamw_free(optim_adamw *o) {
    if (!o) return;
    rlc_free_aligned(o->m);
    rlc_free(o->blocks);
    rlc_free(o->partial);
    rlc_free(o->decay);
    rlc_free(o);
}

rlc_status optim_adamw_create(const optim_adamw_config *c, const actor_params *p, optim_adamw **out) {
    *out = NULL;
    RLC_TRY(check_config(c));
    optim_adamw *o = rlc_calloc(1, sizeof *o);
    if (!o) return rlc_errorf(RLC_ERR_NOMEM, "AdamW: out of memory");
    o->cfg = *c;
    o->numel = p->numel;
    o->n_tensors = p->n_tensors;
    o->decay = rlc_calloc((size_t)(p->n_tensors ? p->n_tensors : 1), 1);
    o->m = rlc_malloc_aligned(2 * p->numel * sizeof(float) + 64);
    if (!o->decay || !o->m) {
        optim_adamw_free(o);
        return rlc_errorf(RLC_ERR_NOMEM, "AdamW: out of memory for the moments (2 x %zu floats)", p->numel);
    }
    o->v = o->m + p->numel;
    memset(o->m, 0, 2 * p->numel * sizeof(float));
    for (int i = 0; i < p->n_tensors; i++) o->decay[i] = c->decay_vectors || p->tensors[i].ndim >= 2;
    rlc_status s = make_blocks(p, o->decay, &o->blocks, &o->n_blocks);
    if (s == RLC_OK) {
        o->partial = rlc_calloc((size_t)(o->n_blocks ? o->n_blocks : 1), sizeof *o->partial);
        if (!o->partial) s = rlc_errorf(RLC_ERR_NOMEM, "AdamW: out of memory");
    }
    if (s != RLC_OK) {
        optim_adamw_free(o);
        return s;
    }
    *out = o;
    return RLC_OK;
}

// The update of n elements (see optim.h). g is scaled by clip in place
// (clip 1 leaves it as it is). Branch-free so that it vectorizes: v is never
// negative, and sqrtf(fabsf(v)) tells the compiler so (no errno branch).
static void adamw_block(float *restrict p, float *restrict g, float *restrict m, float *restrict v, size_t n,
                        float clip, float decay_mul, float one_m_b1, float b2, float one_m_b2, float step_size,
                        float bc2_sqrt, float eps) {
    for (size_t j = 0; j < n; j++) {
        float gj = g[j] * clip;
        g[j] = gj;
        float mj = m[j] + one_m_b1 * (gj - m[j]);
        float vj = b2 * v[j] + one_m_b2 * gj * gj;
        m[j] = mj;
        v[j] = vj;
        p[j] = p[j] * decay_mul - step_size * (mj / (sqrtf(fabsf(vj)) / bc2_sqrt + eps));
    }
}

rlc_status optim_adamw_step(optim_adamw *o, float *params, float *grads, double lr,
                            optim_step_result *res) {
    optim_step_result r = {.grad_norm = 0, .clip_coef = 1, .skipped = 0};
    if (!(lr >= 0 && isfinite(lr))) return rlc_errorf(RLC_ERR_ARG, "AdamW: learning rate %g", lr);
    r.grad_norm = blocks_norm(o->blocks, o->n_blocks, grads, o->partial);
    if (!isfinite(r.grad_norm)) {
        o->skipped++;
        r.skipped = 1;
        RLC_WARN("AdamW: non-finite gradient (norm %g) at update %ld: update skipped, weights unchanged "
                 "(%ld skipped so far)", r.grad_norm, o->steps + 1, o->skipped);
        if (res) *res = r;
        return RLC_OK;
    }
    if (o->cfg.max_grad_norm > 0) {
        double coef = o->cfg.max_grad_norm / (r.grad_norm + 1e-6);
        if (coef < 1) r.clip_coef = coef;
    }
    o->steps++;
    const double t = (double)o->steps;
    const float b2 = (float)o->cfg.beta2, eps = (float)o->cfg.eps;
    const float one_m_b1 = (float)(1.0 - o->cfg.beta1), one_m_b2 = (float)(1.0 - o->cfg.beta2);
    const float step_size = (float)(lr / (1.0 - pow(o->cfg.beta1, t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(o->cfg.beta2, t));
    const float decay_mul = (float)(1.0 - lr * o->cfg.weight_decay);
    const float clip = (float)r.clip_coef;
    const optim_block *blocks = o->blocks;
#pragma omp parallel for schedule(static)
    for (int bi = 0; bi < o->n_blocks; bi++) {
        const size_t off = blocks[bi].offset;
        adamw_block(params + off, grads + off, o->m + off, o->v + off, blocks[bi].n, clip,
                    blocks[bi].decay ? decay_mul : 1.0f, one_m_b1, b2, one_m_b2, step_size, bc2_sqrt, eps);
    }
    if (res) *res = r;
    return RLC_OK;
}

long optim_adamw_steps(const optim_adamw *o) { return o->steps; }
long optim_adamw_skipped(const optim_adamw *o) { return o->skipped; }
const optim_adamw_config *optim_adamw_get_config(const optim_adamw *o) { return &o->cfg; }
int optim_adamw_decays(const optim_adamw *o, int tensor) {
    return tensor >= 0 && tensor < o->n_tensors && o->decay[tensor];
}
float *optim_adamw_m(optim_adamw *o) { return o->m; }
float *optim_adamw_v(optim_adamw *o) { return o->v; }
size_t optim_adamw_numel(const optim_adamw *o) { return o->numel; }
void optim_adamw_set_counts(optim_adamw *o, long steps, long skipped) {
    o->steps = steps;
    o->skipped = skipped;
}
