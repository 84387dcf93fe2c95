// test_grad_model.c: the whole model's gradient against central finite
// differences of a float64 reference forward written here (embedding,
// RMSNorm, q/k/v with optional biases, optional q/k norm, rotate-half RoPE,
// causal GQA attention inside each document, SwiGLU MLP, final norm,
// lm_head, log-softmax, entropy). Tiny random models of four kinds: Llama
// untied, Qwen2 with biases and tied embeddings, Qwen3 with q/k norm,
// head_dim != hidden/heads and multi-query attention (untied and tied). The
// batch packs 3 documents (5, 2 and 6 tokens) with targets inside each
// document and -1 at document ends and on a masked prompt token.
//
// The loss is L = sum_i a_i logprob_i + b_i entropy_i with fixed random a, b,
// so the log-prob and the entropy gradients are both exercised. Checks:
//   - forward log-probs and entropies against float64: |d| < 1e-5 (1 + |ref|);
//   - for every tensor, 24 sampled elements (all when fewer):
//       max |grad - fd| / max|grad of the tensor| < MODEL_TOL (2e-5; measured worst 1.7e-6);
//   - recomputation and other vocabulary chunks give the same gradients
//     (bit-identical for recompute: same ops in the same order);
//   - a sampling temperature T gives the log-probs, entropies and gradients
//     of the model with its final norm scaled by 1 / T (the chain rule for
//     the norm's own gradient);
//   - a second backward adds the same gradient again; errors: backward
//     before forward is RLC_ERR_STATE, a bad batch RLC_ERR_ARG.
#include <math.h>    // exp, log, sqrt, cos, sin
#include <stdint.h>  // uint64_t
#include <string.h>  // memcpy, memcmp

#include "actor/model.h"  // actor_model_create, actor_model_params, actor_config_rope_freqs
#include "actor/train.h"  // actor_train_*
#include "core/core.h"    // rlc_malloc
#include "test.h"         // CHECK, CHECK_OK, test_finish

#define MODEL_TOL 2e-5
#define FWD_TOL 1e-5
#define FD_STEP 1e-5
#define N_SAMPLES 24

enum { T = 13, NS = 3 };
static const int cu[NS + 1] = {0, 5, 7, 13};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double urand(void) { return (double)(next_u64() >> 11) / 4503599627370496.0 - 1.0; }

// ---- the float64 reference --------------------------------------------------------

typedef struct {
    const actor_config *c;
    const actor_params *p;  // for the tensor offsets
    double *P;              // (numel) the parameters in float64
    double inv_freq[64];    // (D/2)
    int tokens[T], targets[T], pos[T];
    double a[T], b[T];              // loss weights
    const double *G;                // (T, C) hidden mode: L = sum G * final hidden; NULL: log-prob loss
    double logp[T], ent[T];         // outputs of the last run
    double *x, *xn, *q, *k, *v, *att, *tmp, *g, *u, *logits;  // scratch
} ref_model;

static const double *W(const ref_model *r, const float *p) {
    return p ? r->P + (p - r->p->data) : NULL;
}

static void d_matmul(double *out, const double *x, const double *w, const double *b, int n, int din,
                     int dout) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dout; j++) {
            double s = b ? b[j] : 0;
            for (int k = 0; k < din; k++) s += x[i * din + k] * w[j * din + k];
            out[i * dout + j] = s;
        }
}

static void d_rmsnorm(double *out, const double *x, const double *w, int n, int C, double eps) {
    for (int i = 0; i < n; i++) {
        double ss = 0;
        for (int k = 0; k < C; k++) ss += x[i * C + k] * x[i * C + k];
        double sc = 1 / sqrt(ss / C + eps);
        for (int k = 0; k < C; k++) out[i * C + k] = x[i * C + k] * sc * w[k];
    }
}

static void d_rope(const ref_model *r, double *x, int H, int D) {
    int half = D / 2;
    for (int i = 0; i < T; i++)
        for (int h = 0; h < H; h++)
            for (int k = 0; k < half; k++) {
                double *xh = x + ((size_t)i * H + h) * D;
                // the angle as the CPU path forms it: float position times float inv_freq
                double ang = (double)((float)r->pos[i] * (float)r->inv_freq[k]);
                double a = xh[k], b = xh[k + half];
                xh[k] = a * cos(ang) - b * sin(ang);
                xh[k + half] = b * cos(ang) + a * sin(ang);
            }
}

static void d_attention(ref_model *r) {
    const actor_config *c = r->c;
    int H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, group = H / KV;
    double scale = 1 / sqrt((double)D);
    for (int s = 0; s < NS; s++)
        for (int i = cu[s]; i < cu[s + 1]; i++)
            for (int h = 0; h < H; h++) {
                double sc[T], mx = -1e300, sum = 0;
                const double *qi = r->q + ((size_t)i * H + h) * D;
                for (int j = cu[s]; j <= i; j++) {
                    const double *kj = r->k + ((size_t)j * KV + h / group) * D;
                    double d = 0;
                    for (int e = 0; e < D; e++) d += qi[e] * kj[e];
                    sc[j] = d * scale;
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                for (int j = cu[s]; j <= i; j++) sum += exp(sc[j] - mx);
                double *o = r->att + ((size_t)i * H + h) * D;
                for (int e = 0; e < D; e++) o[e] = 0;
                for (int j = cu[s]; j <= i; j++) {
                    double pr = exp(sc[j] - mx) / sum;
                    const double *vj = r->v + ((size_t)j * KV + h / group) * D;
                    for (int e = 0; e < D; e++) o[e] += pr * vj[e];
                }
            }
}

static double ref_loss(void *ud) {
    ref_model *r = ud;
    const actor_config *c = r->c;
    const actor_params *p = r->p;
    int C = c->hidden_size, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int I = c->intermediate_size, V = c->vocab_size;
    double eps = c->rms_eps;
    for (int i = 0; i < T; i++)
        memcpy(r->x + i * C, W(r, p->embed) + (size_t)r->tokens[i] * C, sizeof(double) * C);
    for (int l = 0; l < c->n_layers; l++) {
        const actor_layer_params *w = &p->layers[l];
        d_rmsnorm(r->xn, r->x, W(r, w->attn_norm), T, C, eps);
        d_matmul(r->q, r->xn, W(r, w->wq), W(r, w->bq), T, C, H * D);
        d_matmul(r->k, r->xn, W(r, w->wk), W(r, w->bk), T, C, KV * D);
        d_matmul(r->v, r->xn, W(r, w->wv), W(r, w->bv), T, C, KV * D);
        if (c->qk_norm) {
            d_rmsnorm(r->q, r->q, W(r, w->q_norm), T * H, D, eps);
            d_rmsnorm(r->k, r->k, W(r, w->k_norm), T * KV, D, eps);
        }
        d_rope(r, r->q, H, D);
        d_rope(r, r->k, KV, D);
        d_attention(r);
        d_matmul(r->tmp, r->att, W(r, w->wo), NULL, T, H * D, C);
        for (int i = 0; i < T * C; i++) r->x[i] += r->tmp[i];
        d_rmsnorm(r->xn, r->x, W(r, w->mlp_norm), T, C, eps);
        d_matmul(r->g, r->xn, W(r, w->w_gate), NULL, T, C, I);
        d_matmul(r->u, r->xn, W(r, w->w_up), NULL, T, C, I);
        for (int i = 0; i < T * I; i++) r->g[i] = r->g[i] / (1 + exp(-r->g[i])) * r->u[i];
        d_matmul(r->tmp, r->g, W(r, w->w_down), NULL, T, I, C);
        for (int i = 0; i < T * C; i++) r->x[i] += r->tmp[i];
    }
    d_rmsnorm(r->xn, r->x, W(r, p->final_norm), T, C, eps);
    if (r->G) {  // the value-model trunk: a fixed linear function of the normalised hidden states
        double loss = 0;
        for (int i = 0; i < T * C; i++) loss += r->G[i] * r->xn[i];
        return loss;
    }
    d_matmul(r->logits, r->xn, W(r, p->lm_head), NULL, T, C, V);
    double loss = 0;
    for (int i = 0; i < T; i++) {
        r->logp[i] = r->ent[i] = 0;
        if (r->targets[i] < 0) continue;
        const double *l = r->logits + (size_t)i * V;
        double mx = -1e300, sum = 0, pl = 0;
        for (int j = 0; j < V; j++) mx = l[j] > mx ? l[j] : mx;
        for (int j = 0; j < V; j++) sum += exp(l[j] - mx);
        double lse = mx + log(sum);
        for (int j = 0; j < V; j++) pl += exp(l[j] - lse) * (l[j] - lse);
        r->logp[i] = l[r->targets[i]] - lse;
        r->ent[i] = -pl;
        loss += r->a[i] * r->logp[i] + r->b[i] * r->ent[i];
    }
    return loss;
}

static void ref_init(ref_model *r, const actor_config *c, const actor_params *p) {
    memset(r, 0, sizeof *r);
    r->c = c;
    r->p = p;
    r->P = rlc_malloc(sizeof(double) * p->numel);
    for (size_t i = 0; i < p->numel; i++) r->P[i] = p->data[i];
    float f[64];
    actor_config_rope_freqs(c, f);
    for (int k = 0; k < c->head_dim / 2; k++) r->inv_freq[k] = f[k];
    size_t wide = (size_t)c->hidden_size;
    if ((size_t)c->n_heads * c->head_dim > wide) wide = (size_t)c->n_heads * c->head_dim;
    if ((size_t)c->intermediate_size > wide) wide = c->intermediate_size;
    if ((size_t)c->vocab_size > wide) wide = c->vocab_size;
    double **bufs[] = {&r->x, &r->xn, &r->q, &r->k, &r->v, &r->att, &r->tmp, &r->g, &r->u, &r->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) *bufs[i] = rlc_malloc(sizeof(double) * T * wide);
}

static void ref_free(ref_model *r) {
    double *bufs[] = {r->P, r->x, r->xn, r->q, r->k, r->v, r->att, r->tmp, r->g, r->u, r->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) rlc_free(bufs[i]);
}

// ---- the cases --------------------------------------------------------------------

static actor_config tiny_config(actor_arch arch, int tied) {
    actor_config c;
    memset(&c, 0, sizeof c);
    c.arch = arch;
    snprintf(c.model_type, sizeof c.model_type, "%s",
             arch == ACTOR_ARCH_LLAMA ? "llama" : arch == ACTOR_ARCH_QWEN2 ? "qwen2" : "qwen3");
    c.vocab_size = 37;
    c.hidden_size = 16;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 4;
    c.intermediate_size = 24;
    c.max_position = 64;
    c.rms_eps = 1e-6f;
    c.rope_theta = arch == ACTOR_ARCH_LLAMA ? 10000.0f : 1000000.0f;
    c.tie_embeddings = tied;
    c.attn_bias = arch == ACTOR_ARCH_QWEN2;
    c.qk_norm = arch == ACTOR_ARCH_QWEN3;
    if (arch == ACTOR_ARCH_QWEN3) c.head_dim = 8, c.n_kv_heads = 1;  // H*D != C; multi-query
    c.bos_id = -1;
    return c;
}

// Random weights large enough that every path matters; norms around 1.
static void init_weights(actor_model *m) {
    actor_params *p = actor_model_params(m);
    actor_model_init_random(m, next_u64(), 0.35f);
    for (int t = 0; t < p->n_tensors; t++) {
        const actor_tensor_info *ti = &p->tensors[t];
        if (strstr(ti->name, "norm"))
            for (size_t i = 0; i < ti->numel; i++) p->data[ti->offset + i] = (float)(1 + 0.3 * urand());
    }
}

// Every tensor's gradient against central differences of ref_loss: 24
// sampled elements (all when fewer) each. A tensor the loss does not reach
// (the lm_head of the hidden-state loss) must get exactly zero.
static void fd_check(const char *name, const actor_params *p, ref_model *rp, const float *grad) {
    ref_model r = *rp;
    double worst_all = 0;
    const char *worst_name = "";
    for (int ti = 0; ti < p->n_tensors; ti++) {
        const actor_tensor_info *e = &p->tensors[ti];
        const float *g = grad + e->offset;
        double gmax = 0;
        for (size_t i = 0; i < e->numel; i++) gmax = fmax(gmax, fabs(g[i]));
        if (r.G && strcmp(e->name, "lm_head.weight") == 0) {
            CHECK_MSG(gmax == 0, "%s: the unused lm_head got a gradient (max %.3e)", name, gmax);
            printf("  %-40s unused: gradient exactly 0\n", e->name);
            continue;
        }
        size_t n = e->numel < N_SAMPLES ? e->numel : N_SAMPLES;
        double worst = 0, fd_w = 0;
        size_t wi = 0;
        for (size_t s = 0; s < n; s++) {
            size_t i = e->numel <= N_SAMPLES ? s : (size_t)(next_u64() % e->numel);
            double *x = r.P + e->offset + i, x0 = *x, h = FD_STEP;
            *x = x0 + h;
            double lp = ref_loss(&r);
            *x = x0 - h;
            double lm = ref_loss(&r);
            *x = x0;
            double fd = (lp - lm) / (2 * h);
            double err = fabs(g[i] - fd);
            if (err >= worst) worst = err, wi = i, fd_w = fd;
        }
        double rel = gmax > 0 ? worst / gmax : worst;
        printf("  %-40s %5zu of %6zu  max|g| %.3e  max|g - fd|/max|g| %.2e (at %zu: %.6e vs %.6e)\n",
               e->name, n, e->numel, gmax, rel, wi, g[wi], fd_w);
        CHECK_MSG(rel < MODEL_TOL, "%s %s: %.2e", name, e->name, rel);
        CHECK_MSG(gmax > 0, "%s %s: zero gradient", name, e->name);
        if (rel > worst_all) worst_all = rel, worst_name = e->name;
    }
    printf("%s: worst tensor %s: %.2e (tolerance %.0e)\n", name, worst_name, worst_all, MODEL_TOL);
}

// The sampling temperature (actor_train_options.temperature): logits / T are
// the logits of the same model with its final norm weight scaled by 1 / T,
// so the tempered trainer's log-probs, entropies and gradients must equal the
// raw trainer's on that model (already checked against float64 and finite
// differences above), except the final norm's gradient, which is 1 / T times
// the scaled model's (the chain rule through g / T).
static void check_temperature(const char *name, actor_model *m, const actor_batch *b, const float *a,
                              const float *bb) {
    const float temp = 0.7f;
    actor_params *p = actor_model_params(m);
    int C = actor_model_config(m)->hidden_size;
    size_t fn0 = (size_t)(p->final_norm - p->data);
    float lp_t[T], ent_t[T], lp_r[T], ent_r[T];
    float *g_t = rlc_calloc(p->numel, sizeof(float)), *g_r = rlc_calloc(p->numel, sizeof(float));
    float *saved = rlc_malloc(sizeof(float) * (size_t)C);
    actor_train_options o = {.max_tokens = 16, .vocab_chunk = 8, .temperature = temp};
    actor_trainer *tt, *tr;
    CHECK_OK(actor_train_create_opts(m, &o, &tt));
    o.temperature = 0;
    CHECK_OK(actor_train_create_opts(m, &o, &tr));
    if (!tt || !tr || !g_t || !g_r || !saved) goto done;
    CHECK_OK(actor_train_forward(tt, b, lp_t, ent_t));
    CHECK_OK(actor_train_backward(tt, a, bb, g_t));
    float lp_raw[T];  // the untempered log-probs: the temperature must change them
    CHECK_OK(actor_train_forward(tr, b, lp_raw, NULL));
    double moved = 0;
    for (int i = 0; i < T; i++) moved = fmax(moved, fabs(lp_t[i] - lp_raw[i]));
    CHECK_MSG(moved > 1e-3, "%s: temperature %g leaves the log-probs as they were (%.2e)", name, (double)temp, moved);
    memcpy(saved, p->final_norm, sizeof(float) * (size_t)C);
    for (int i = 0; i < C; i++) p->final_norm[i] /= temp;
    CHECK_OK(actor_train_forward(tr, b, lp_r, ent_r));
    CHECK_OK(actor_train_backward(tr, a, bb, g_r));
    memcpy(p->final_norm, saved, sizeof(float) * (size_t)C);
    double fw = 0, gmax = 0, gd = 0;
    for (int i = 0; i < T; i++)
        fw = fmax(fw, fmax(fabs(lp_t[i] - lp_r[i]) / (1 + fabs(lp_r[i])), fabs(ent_t[i] - ent_r[i]) / (1 + fabs(ent_r[i]))));
    for (size_t i = 0; i < p->numel; i++) {
        double want = i >= fn0 && i < fn0 + (size_t)C ? g_r[i] / temp : g_r[i];
        gmax = fmax(gmax, fabs(want));
        gd = fmax(gd, fabs(g_t[i] - want));
    }
    printf("%s: temperature %.1f vs the final norm scaled by 1/T: log-probs %.2e, gradients %.2e (of max %.2e)\n",
           name, (double)temp, fw, gd, gmax);
    CHECK_MSG(fw < FWD_TOL, "%s: tempered log-probs differ by %.2e", name, fw);
    CHECK_MSG(gd < 1e-5 * gmax, "%s: tempered gradients differ by %.2e (max %.2e)", name, gd, gmax);
done:
    actor_train_free(tt);
    actor_train_free(tr);
    rlc_free(g_t), rlc_free(g_r), rlc_free(saved);
}

static void check_model(const char *name, actor_arch arch, int tied) {
    actor_config c = tiny_config(arch, tied);
    actor_model *m;
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return;
    init_weights(m);
    actor_params *p = actor_model_params(m);
    int V = c.vocab_size;

    ref_model r;
    ref_init(&r, actor_model_config(m), p);
    actor_batch b = {T, NS, r.tokens, cu, r.targets};
    for (int i = 0; i < T; i++) r.tokens[i] = (int)(next_u64() % (uint64_t)V);
    for (int s = 0; s < NS; s++)
        for (int i = cu[s]; i < cu[s + 1]; i++) {
            r.pos[i] = i - cu[s];
            r.targets[i] = i + 1 < cu[s + 1] ? r.tokens[i + 1] : -1;
        }
    r.targets[0] = -1;  // a masked prompt token
    float a[T], bb[T], logp[T], ent[T];
    for (int i = 0; i < T; i++) {
        a[i] = (float)urand(), bb[i] = (float)(0.5 * urand());
        r.a[i] = a[i], r.b[i] = bb[i];
    }

    // The C path: vocabulary chunks of 8 (37 = 4 * 8 + 5).
    actor_trainer *t;
    CHECK_OK(actor_train_create(m, 16, 8, &t));
    float *grad = rlc_calloc(p->numel, sizeof(float));
    CHECK(actor_train_backward(t, a, bb, grad) == RLC_ERR_STATE);
    CHECK_OK(actor_train_forward(t, &b, logp, ent));
    CHECK_OK(actor_train_backward(t, a, bb, grad));

    ref_loss(&r);
    double fw = 0;
    for (int i = 0; i < T; i++) {
        double e1 = fabs(logp[i] - r.logp[i]) / (1 + fabs(r.logp[i]));
        double e2 = fabs(ent[i] - r.ent[i]) / (1 + fabs(r.ent[i]));
        fw = fmax(fw, fmax(e1, e2));
        if (r.targets[i] < 0) CHECK(logp[i] == 0 && ent[i] == 0);
    }
    printf("%s: forward log-probs and entropies vs float64: worst %.2e\n", name, fw);
    CHECK_MSG(fw < FWD_TOL, "%s forward: %.2e", name, fw);

    fd_check(name, p, &r, grad);

    // A second backward adds the same gradient again.
    float *g2 = rlc_malloc(sizeof(float) * p->numel);
    memcpy(g2, grad, sizeof(float) * p->numel);
    CHECK_OK(actor_train_backward(t, a, bb, g2));
    double acc = 0;
    for (size_t i = 0; i < p->numel; i++) acc = fmax(acc, fabs(g2[i] - 2 * grad[i]) / (1 + fabs(grad[i])));
    CHECK_MSG(acc < 1e-6, "%s: second backward does not add the same gradient (%.2e)", name, acc);

    // Recompute (bit-identical) and other vocabulary chunks (rounding only).
    static const int chunks[] = {1, 37, 1000};
    for (int k = -1; k < 3; k++) {
        actor_train_options o = {.max_tokens = 16, .vocab_chunk = k < 0 ? 8 : chunks[k], .recompute = k < 0};
        actor_trainer *t2;
        CHECK_OK(actor_train_create_opts(m, &o, &t2));
        if (!t2) continue;
        float lp2[T];
        memset(g2, 0, sizeof(float) * p->numel);
        CHECK_OK(actor_train_forward(t2, &b, lp2, NULL));
        CHECK_OK(actor_train_backward(t2, a, bb, g2));
        if (k < 0) {
            CHECK_MSG(memcmp(g2, grad, sizeof(float) * p->numel) == 0 && memcmp(lp2, logp, sizeof lp2) == 0,
                      "%s: recompute changes the results", name);
            CHECK(actor_train_bytes(t2) < actor_train_bytes(t));
            printf("%s: recompute: identical gradients; activation bytes %zu vs %zu\n", name,
                   actor_train_bytes(t2), actor_train_bytes(t));
        } else {
            double d = test_rel_l2(g2, grad, p->numel, NULL, NULL);
            printf("%s: vocab_chunk %d vs 8: gradient rel l2 %.2e\n", name, chunks[k], d);
            CHECK_MSG(d < 1e-5, "%s: vocab_chunk %d changes the gradient: %.2e", name, chunks[k], d);
        }
        CHECK(actor_train_bytes(t2) == actor_train_bytes_for(actor_model_config(m), &o));
        actor_train_free(t2);
    }

    check_temperature(name, m, &b, a, bb);

    // Bad batches change nothing and say why.
    int bad_cu[NS + 1] = {0, 6, 5, 13}, bad_tok[T];
    memcpy(bad_tok, r.tokens, sizeof bad_tok);
    bad_tok[3] = V;
    actor_batch bad1 = {T, NS, r.tokens, bad_cu, r.targets};
    actor_batch bad2 = {T, NS, bad_tok, cu, r.targets};
    actor_batch bad3 = {17, NS, r.tokens, cu, r.targets};
    CHECK(actor_train_forward(t, &bad1, logp, NULL) == RLC_ERR_ARG);
    CHECK(actor_train_forward(t, &bad2, logp, NULL) == RLC_ERR_ARG);
    CHECK(actor_train_forward(t, &bad3, logp, NULL) == RLC_ERR_ARG);

    rlc_free(g2);
    rlc_free(grad);
    actor_train_free(t);
    ref_free(&r);
    actor_model_free(m);
}

// The value-model path: actor_train_forward_hidden against the float64 final
// hidden states, and actor_train_backward_hidden (dL/dhidden = G, a fixed
// random (T, C) matrix: L = sum G * hidden) against central differences,
// plus recompute giving the same bytes and the forward-kind checks.
static void check_hidden(const char *name, actor_arch arch, int tied) {
    actor_config c = tiny_config(arch, tied);
    actor_model *m;
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return;
    init_weights(m);
    actor_params *p = actor_model_params(m);
    int C = c.hidden_size, V = c.vocab_size;
    ref_model r;
    ref_init(&r, actor_model_config(m), p);
    for (int i = 0; i < T; i++) r.tokens[i] = (int)(next_u64() % (uint64_t)V);
    for (int s = 0; s < NS; s++)
        for (int i = cu[s]; i < cu[s + 1]; i++) r.pos[i] = i - cu[s];
    double *G = rlc_malloc(sizeof(double) * T * C);
    float *g32 = rlc_malloc(sizeof(float) * T * C), *hid = rlc_malloc(sizeof(float) * T * C);
    for (int i = 0; i < T * C; i++) g32[i] = (float)urand(), G[i] = g32[i];
    r.G = G;
    actor_batch b = {T, NS, r.tokens, cu, NULL};  // no targets: the hidden path reads none

    actor_trainer *t;
    CHECK_OK(actor_train_create(m, 16, 8, &t));
    float *grad = rlc_calloc(p->numel, sizeof(float));
    CHECK(actor_train_backward_hidden(t, g32, grad) == RLC_ERR_STATE);
    CHECK_OK(actor_train_forward_hidden(t, &b, hid));
    CHECK(actor_train_backward(t, g32, NULL, grad) == RLC_ERR_STATE);  // not a log-prob forward
    CHECK_OK(actor_train_backward_hidden(t, g32, grad));
    ref_loss(&r);
    double fw = 0;
    for (int i = 0; i < T * C; i++) fw = fmax(fw, fabs(hid[i] - r.xn[i]) / (1 + fabs(r.xn[i])));
    printf("%s hidden: forward hidden states vs float64: worst %.2e\n", name, fw);
    CHECK_MSG(fw < FWD_TOL, "%s hidden forward: %.2e", name, fw);
    fd_check(name, p, &r, grad);

    // recompute: the same bytes
    actor_train_options o = {.max_tokens = 16, .vocab_chunk = 8, .recompute = 1};
    actor_trainer *t2;
    CHECK_OK(actor_train_create_opts(m, &o, &t2));
    if (t2) {
        float *g2 = rlc_calloc(p->numel, sizeof(float)), *h2 = rlc_malloc(sizeof(float) * T * C);
        CHECK_OK(actor_train_forward_hidden(t2, &b, h2));
        CHECK_OK(actor_train_backward_hidden(t2, g32, g2));
        CHECK_MSG(memcmp(g2, grad, sizeof(float) * p->numel) == 0 && memcmp(h2, hid, sizeof(float) * T * C) == 0,
                  "%s hidden: recompute changes the results", name);
        rlc_free(g2);
        rlc_free(h2);
        actor_train_free(t2);
    }
    rlc_free(grad);
    rlc_free(G);
    rlc_free(g32);
    rlc_free(hid);
    actor_train_free(t);
    ref_free(&r);
    actor_model_free(m);
}

int main(void) {
    kernels_set_threads(2);
    check_model("llama untied", ACTOR_ARCH_LLAMA, 0);
    check_model("qwen2 bias tied", ACTOR_ARCH_QWEN2, 1);
    check_model("qwen3 qk-norm untied", ACTOR_ARCH_QWEN3, 0);
    check_model("qwen3 qk-norm tied", ACTOR_ARCH_QWEN3, 1);
    check_hidden("llama untied", ACTOR_ARCH_LLAMA, 0);
    check_hidden("qwen2 bias tied", ACTOR_ARCH_QWEN2, 1);
    check_hidden("qwen3 qk-norm untied", ACTOR_ARCH_QWEN3, 0);
    return test_finish("test_grad_model");
}
