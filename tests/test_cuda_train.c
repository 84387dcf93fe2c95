// test_cuda_train.c: the GPU training step (actor/gpu_train.h) against the
// CPU trainer (actor/train.h) and the CPU AdamW (learner/optim.h), in the
// same process, on small random models of the three architectures with odd
// sizes: Llama (untied, H*D == C), Qwen2 (tied, q/k/v biases, one KV head)
// and Qwen3 (untied, q/k norm, H*D != C, three layers), over one packed batch
// of three documents (lengths 9, 1, 14) with some targets -1:
//   - log-probs, entropies and the whole gradient (random dL/dlogprob and
//     dL/dentropy) vs the CPU: rel L2 <= 1e-4 in float32, <= 5e-2 in bf16;
//     in float32 every tensor's gradient within 1e-3; outputs poisoned first;
//   - recompute on and off give the same float32 result (<= 1e-5);
//   - at sampling temperature 0.7, the same comparisons against the CPU
//     trainer at 0.7 (log-probs, entropies, gradient);
//   - a second forward + backward adds: 2x the gradient;
//   - three AdamW steps (clipping active, decay on 2-D tensors) vs
//     optim_adamw_step fed the same gradients: updates, moments and norms,
//     then the forward with the new weights vs the CPU's (checks that the
//     step refreshed the compute copy);
//   - the error paths (backward without forward, a bad batch);
//   - with the Hugging Face training fixtures of tests/data/train (the ones
//     test_train_parity reads), log-probs, entropies and gradients vs the
//     float64 PyTorch references.
// Skips (77) in builds without the CUDA backend (after checking that the
// stubs answer RLC_ERR_UNSUPPORTED) and on machines without a device.
#include <math.h>    // fabs, isfinite, NAN
#include <stdint.h>  // uint64_t, uint32_t
#include <stdio.h>   // printf, FILE
#include <stdlib.h>  // malloc, calloc, free
#include <string.h>  // memcpy, memset, strcmp

#include "actor/gpu_train.h"  // actor_gpu_*
#include "actor/model.h"      // actor_model_create, actor_model_init_random
#include "actor/train.h"      // actor_train_* (the CPU reference)
#include "core/core.h"        // rlc_status, rlc_last_error
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query
#include "learner/optim.h"    // optim_adamw_* (the CPU reference)
#include "test.h"             // CHECK, CHECK_OK, TEST_SKIP, test_rel_l2

#define TOL_F32 1e-4
#define TOL_BF16 5e-2
#define TOL_TENSOR_F32 1e-3
#define TOL_SAME 1e-5
#define VOCAB_CHUNK 64  // divides none of the vocabularies

static actor_config tiny_config(actor_arch arch) {
    actor_config c;
    memset(&c, 0, sizeof c);
    c.arch = arch;
    snprintf(c.model_type, sizeof c.model_type, "%s",
             arch == ACTOR_ARCH_LLAMA ? "llama" : arch == ACTOR_ARCH_QWEN2 ? "qwen2" : "qwen3");
    c.max_position = 64;
    c.rms_eps = 1e-6f;
    c.rope_theta = arch == ACTOR_ARCH_LLAMA ? 10000.0f : 1000000.0f;
    c.bos_id = -1;
    if (arch == ACTOR_ARCH_LLAMA) {
        c.vocab_size = 173, c.hidden_size = 72, c.n_layers = 2, c.n_heads = 6, c.n_kv_heads = 2;
        c.head_dim = 12, c.intermediate_size = 97;
    } else if (arch == ACTOR_ARCH_QWEN2) {
        c.vocab_size = 211, c.hidden_size = 56, c.n_layers = 2, c.n_heads = 7, c.n_kv_heads = 1;
        c.head_dim = 8, c.intermediate_size = 150, c.tie_embeddings = 1, c.attn_bias = 1;
    } else {
        c.vocab_size = 199, c.hidden_size = 44, c.n_layers = 3, c.n_heads = 4, c.n_kv_heads = 2;
        c.head_dim = 20, c.intermediate_size = 72, c.qk_norm = 1;
    }
    return c;
}

// ---- builds without CUDA: the stubs ------------------------------------------------

static void check_stubs(void) {
    actor_config c = tiny_config(ACTOR_ARCH_LLAMA);
    actor_model *m = NULL;
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return;
    actor_gpu_trainer *t = (actor_gpu_trainer *)&c;  // must come back NULL
    CHECK(actor_gpu_trainer_create(m, 0, 1, 16, 0, 0, &t) == RLC_ERR_UNSUPPORTED);
    CHECK(t == NULL);
    CHECK(strstr(rlc_last_error(), "no CUDA backend") != NULL);
    double norm = 0;
    CHECK(actor_gpu_adamw_step(NULL, 1e-3, 0.9, 0.999, 1e-8, 0, 1, &norm) == RLC_ERR_UNSUPPORTED);
    CHECK(isnan(norm));
    actor_gpu_trainer_free(NULL);
    actor_model_free(m);
}

#ifdef RLC_HAVE_CUDA

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double urand(void) { return (double)(next_u64() >> 11) / 4503599627370496.0 - 1.0; }  // [-1, 1)

// Random weights of std 0.1; norm weights around 1.
static void init_weights(actor_model *m) {
    actor_params *p = actor_model_params(m);
    actor_model_init_random(m, next_u64(), 0.1f);
    for (int t = 0; t < p->n_tensors; t++) {
        const actor_tensor_info *ti = &p->tensors[t];
        if (strstr(ti->name, "norm"))
            for (size_t i = 0; i < ti->numel; i++) p->data[ti->offset + i] = (float)(1 + 0.3 * urand());
    }
}

// ---- the batch --------------------------------------------------------------------

#define NS 3
#define T_MAX 32
static const int doc_len[NS] = {9, 1, 14};

typedef struct {
    int T;
    int tokens[T_MAX], targets[T_MAX], cu[NS + 1];
    float dlp[T_MAX], dent[T_MAX];
    actor_batch b;
} batch;

// Next-token targets inside each document; the last position of a document,
// the first three of document 0 (a prompt) and position 5 of document 2 get -1.
static void make_batch(batch *bt, int V) {
    bt->T = 0;
    bt->cu[0] = 0;
    for (int s = 0; s < NS; s++) bt->cu[s + 1] = bt->cu[s] + doc_len[s];
    bt->T = bt->cu[NS];
    for (int i = 0; i < bt->T; i++) bt->tokens[i] = (int)(next_u64() % (uint64_t)V);
    for (int s = 0; s < NS; s++)
        for (int i = bt->cu[s]; i < bt->cu[s + 1]; i++) bt->targets[i] = i + 1 < bt->cu[s + 1] ? bt->tokens[i + 1] : -1;
    for (int i = 0; i < 3; i++) bt->targets[i] = -1;
    bt->targets[bt->cu[2] + 5] = -1;
    for (int i = 0; i < bt->T; i++) {
        bt->dlp[i] = (float)urand();
        bt->dent[i] = (float)(0.5 * urand());
    }
    bt->b = (actor_batch){bt->T, NS, bt->tokens, bt->cu, bt->targets};
}

// ---- comparisons ---------------------------------------------------------------------

static double compare(const char *what, const float *got, const float *ref, size_t n, double tol) {
    size_t at = 0;
    double worst = 0;
    double rel = test_rel_l2(got, ref, n, &at, &worst);
    printf("    %-34s rel l2 %.2e (worst |d| %.2e at %zu: %g vs %g)\n", what, rel, worst, at, (double)got[at],
           (double)ref[at]);
    CHECK_MSG(rel <= tol, "%s: rel l2 %.3e > %.1e (worst |d| %.3e at %zu)", what, rel, tol, worst, at);
    return rel;
}

// Every tensor's gradient; the worst is printed, each checked when tol > 0.
static void compare_tensors(const char *what, const actor_params *p, const float *got, const float *ref, double tol) {
    double worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < p->n_tensors; i++) {
        const actor_tensor_info *ti = &p->tensors[i];
        size_t at = 0;
        double abs_w = 0;
        double rel = test_rel_l2(got + ti->offset, ref + ti->offset, ti->numel, &at, &abs_w);
        if (tol > 0)
            CHECK_MSG(rel <= tol, "%s: %s gradient rel l2 %.3e (worst |d| %.3e at %zu)", what, ti->name, rel, abs_w,
                      at);
        if (rel >= worst) worst = rel, worst_name = ti->name;
    }
    printf("    %-34s worst tensor rel l2 %.2e (%s)\n", what, worst, worst_name);
}

// Outputs must be written: finite everywhere, exactly 0 where there is no target.
static void check_written(const char *what, const float *x, const batch *bt) {
    int bad = -1;
    for (int i = 0; i < bt->T && bad < 0; i++)
        if (!isfinite(x[i]) || (bt->targets[i] < 0 && x[i] != 0.0f)) bad = i;
    CHECK_MSG(bad < 0, "%s: position %d holds %g (target %d)", what, bad, bad >= 0 ? (double)x[bad] : 0.0,
              bad >= 0 ? bt->targets[bad] : 0);
}

// ---- the CPU reference ---------------------------------------------------------------

typedef struct {
    float lp[T_MAX], ent[T_MAX];
    float *grad;  // (numel)
} result;

static int cpu_run(actor_model *m, const batch *bt, float temperature, result *r) {
    actor_train_options o = {.max_tokens = T_MAX, .temperature = temperature};
    actor_trainer *t = NULL;
    CHECK_OK(actor_train_create_opts(m, &o, &t));
    if (!t) return 0;
    memset(r->grad, 0, actor_model_params(m)->numel * sizeof(float));
    CHECK_OK(actor_train_forward(t, &bt->b, r->lp, r->ent));
    CHECK_OK(actor_train_backward(t, bt->dlp, bt->dent, r->grad));
    actor_train_free(t);
    return 1;
}

// ---- the GPU runs ---------------------------------------------------------------------

// One forward + backward on a fresh trainer at the sampling temperature
// (0: none); with `twice`, a second one without zeroing must double the
// gradient.
static int gpu_run(actor_model *m, const batch *bt, int bf16, int recompute, int twice, float temperature,
                   result *r) {
    size_t numel = actor_model_params(m)->numel;
    actor_gpu_trainer *t = NULL;
    CHECK_OK(actor_gpu_trainer_create(m, 0, bf16, T_MAX, VOCAB_CHUNK, recompute, &t));
    if (!t) return 0;
    CHECK_OK(actor_gpu_train_set_temperature(t, temperature));
    CHECK(actor_gpu_numel(t) == numel);
    CHECK(actor_gpu_train_backward(t, bt->dlp, bt->dent) == RLC_ERR_STATE);
    for (int i = 0; i < T_MAX; i++) r->lp[i] = r->ent[i] = NAN;
    CHECK_OK(actor_gpu_train_forward(t, &bt->b, r->lp, r->ent));
    CHECK_OK(actor_gpu_train_backward(t, bt->dlp, bt->dent));
    for (size_t i = 0; i < numel; i++) r->grad[i] = NAN;
    CHECK_OK(actor_gpu_grads_download(t, r->grad));
    if (twice) {
        float *g2 = malloc(numel * sizeof(float)), *g2ref = malloc(numel * sizeof(float));
        float lp2[T_MAX];
        CHECK_OK(actor_gpu_train_forward(t, &bt->b, lp2, NULL));
        CHECK_OK(actor_gpu_train_backward(t, bt->dlp, bt->dent));
        CHECK_OK(actor_gpu_grads_download(t, g2));
        for (size_t i = 0; i < numel; i++) g2ref[i] = 2 * r->grad[i];
        compare("second backward adds (2x grad)", g2, g2ref, numel, TOL_SAME);
        compare("second forward, same log-probs", lp2, r->lp, (size_t)bt->T, TOL_SAME);
        CHECK_OK(actor_gpu_grads_zero(t));
        CHECK_OK(actor_gpu_grads_download(t, g2));
        size_t nonzero = 0;
        for (size_t i = 0; i < numel; i++) nonzero += g2[i] != 0.0f;
        CHECK_MSG(nonzero == 0, "%zu gradients nonzero after actor_gpu_grads_zero", nonzero);
        // A bad batch changes nothing.
        batch bad = *bt;
        bad.tokens[3] = actor_model_config(m)->vocab_size;
        bad.b.tokens = bad.tokens;
        CHECK(actor_gpu_train_forward(t, &bad.b, lp2, NULL) == RLC_ERR_ARG);
        free(g2);
        free(g2ref);
    }
    actor_gpu_trainer_free(t);
    return 1;
}

// ---- AdamW ----------------------------------------------------------------------------

#define ADAM_STEPS 3
#define ADAM_LR 1e-2

static void check_adamw(actor_model *m, const batch *bt, int bf16) {
    const actor_config *c = actor_model_config(m);
    const actor_params *p = actor_model_params(m);
    size_t numel = p->numel;
    printf("  AdamW, %d steps (%s)\n", ADAM_STEPS, bf16 ? "bf16" : "f32");
    optim_adamw_config oc = optim_adamw_defaults();
    oc.beta2 = 0.95, oc.weight_decay = 0.1, oc.max_grad_norm = 0.5;
    optim_adamw *o = NULL;
    actor_gpu_trainer *t = NULL;
    CHECK_OK(optim_adamw_create(&oc, p, &o));
    CHECK_OK(actor_gpu_trainer_create(m, 0, bf16, T_MAX, VOCAB_CHUNK, 0, &t));
    float *p0 = malloc(numel * sizeof(float)), *cpu_p = malloc(numel * sizeof(float));
    float *g = malloc(numel * sizeof(float)), *d_gpu = malloc(numel * sizeof(float));
    float *d_cpu = malloc(numel * sizeof(float)), *mom = malloc(2 * numel * sizeof(float));
    actor_model *m2 = NULL;
    CHECK_OK(actor_model_create(c, &m2));
    if (!o || !t || !m2 || !p0 || !cpu_p || !g || !d_gpu || !d_cpu || !mom) goto done;
    memcpy(p0, p->data, numel * sizeof(float));
    memcpy(cpu_p, p->data, numel * sizeof(float));
    float lp[T_MAX], ent[T_MAX];
    for (int step = 0; step < ADAM_STEPS; step++) {
        CHECK_OK(actor_gpu_grads_zero(t));
        CHECK_OK(actor_gpu_train_forward(t, &bt->b, lp, ent));
        CHECK_OK(actor_gpu_train_backward(t, bt->dlp, bt->dent));
        CHECK_OK(actor_gpu_grads_download(t, g));
        double norm = NAN;
        CHECK_OK(actor_gpu_adamw_step(t, ADAM_LR, oc.beta1, oc.beta2, oc.eps, oc.weight_decay, oc.max_grad_norm,
                                      &norm));
        optim_step_result res;
        CHECK_OK(optim_adamw_step(o, cpu_p, g, ADAM_LR, &res));
        printf("    step %d: grad norm %.6f vs %.6f (clip %.3f)\n", step + 1, norm, res.grad_norm, res.clip_coef);
        CHECK_MSG(fabs(norm - res.grad_norm) <= 1e-5 * res.grad_norm, "step %d: grad norm %.8f vs %.8f", step + 1,
                  norm, res.grad_norm);
    }
    CHECK(actor_gpu_adamw_steps(t) == ADAM_STEPS);
    CHECK(actor_gpu_train_backward(t, bt->dlp, bt->dent) == RLC_ERR_STATE);  // the weights changed
    CHECK(actor_gpu_adamw_step(t, -1, oc.beta1, oc.beta2, oc.eps, 0, 1, NULL) == RLC_ERR_ARG);
    // The updates (the master weights are float32 in both modes).
    actor_params *p2 = actor_model_params(m2);
    CHECK_OK(actor_gpu_params_download(t, p2));
    for (size_t i = 0; i < numel; i++) {
        d_gpu[i] = p2->data[i] - p0[i];
        d_cpu[i] = cpu_p[i] - p0[i];
    }
    compare("weight updates vs optim_adamw_step", d_gpu, d_cpu, numel, TOL_F32);
    CHECK_OK(actor_gpu_moments_download(t, mom, mom + numel));
    compare("first moments", mom, optim_adamw_m(o), numel, TOL_F32);
    compare("second moments", mom + numel, optim_adamw_v(o), numel, TOL_F32);
    // The forward with the new weights: the compute copy was refreshed.
    memcpy(p2->data, cpu_p, numel * sizeof(float));
    result ref;
    ref.grad = g;
    if (cpu_run(m2, bt, 0, &ref)) {
        CHECK_OK(actor_gpu_train_forward(t, &bt->b, lp, ent));
        compare("log-probs after the steps", lp, ref.lp, (size_t)bt->T, bf16 ? TOL_BF16 : TOL_F32);
    }
    // An upload brings the old weights back.
    CHECK_OK(actor_gpu_params_upload(t, p));
    CHECK_OK(actor_gpu_params_download(t, p2));
    CHECK(memcmp(p2->data, p0, numel * sizeof(float)) == 0);
done:
    free(p0), free(cpu_p), free(g), free(d_gpu), free(d_cpu), free(mom);
    actor_model_free(m2);
    actor_gpu_trainer_free(t);
    optim_adamw_free(o);
}

// ---- one architecture ------------------------------------------------------------------

static void check_model(const char *name, actor_arch arch) {
    actor_config c = tiny_config(arch);
    actor_model *m = NULL;
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return;
    init_weights(m);
    const actor_params *p = actor_model_params(m);
    batch bt;
    make_batch(&bt, c.vocab_size);
    printf("%s: V %d, C %d, L %d, H %d, KV %d, D %d, I %d, %zu parameters, T %d\n", name, c.vocab_size,
           c.hidden_size, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim, c.intermediate_size, p->numel, bt.T);
    result ref, r, r_rc;
    ref.grad = malloc(p->numel * sizeof(float));
    r.grad = malloc(p->numel * sizeof(float));
    r_rc.grad = malloc(p->numel * sizeof(float));
    if (!cpu_run(m, &bt, 0, &ref)) goto done;

    for (int bf16 = 0; bf16 <= 1; bf16++) {
        double tol = bf16 ? TOL_BF16 : TOL_F32;
        for (int rc = 0; rc <= 1; rc++) {
            result *x = rc ? &r_rc : &r;
            printf("  %s%s\n", bf16 ? "bf16" : "f32", rc ? ", recompute" : "");
            if (!gpu_run(m, &bt, bf16, rc, !bf16 && !rc, 0, x)) continue;
            check_written("log-probs", x->lp, &bt);
            check_written("entropies", x->ent, &bt);
            compare("log-probs vs CPU", x->lp, ref.lp, (size_t)bt.T, tol);
            compare("entropies vs CPU", x->ent, ref.ent, (size_t)bt.T, tol);
            compare("gradient vs CPU", x->grad, ref.grad, p->numel, tol);
            compare_tensors("gradient vs CPU", p, x->grad, ref.grad, bf16 ? 0 : TOL_TENSOR_F32);
        }
        if (!bf16) {
            compare("recompute: same log-probs", r_rc.lp, r.lp, (size_t)bt.T, TOL_SAME);
            compare("recompute: same gradient", r_rc.grad, r.grad, p->numel, TOL_SAME);
        }
    }
    // A sampling temperature: the GPU's tempered log-probs, entropies and
    // gradient against the CPU trainer's at the same temperature.
    if (cpu_run(m, &bt, 0.7f, &ref))
        for (int bf16 = 0; bf16 <= 1; bf16++) {
            double tol = bf16 ? TOL_BF16 : TOL_F32;
            printf("  %s, temperature 0.7\n", bf16 ? "bf16" : "f32");
            if (!gpu_run(m, &bt, bf16, 0, 0, 0.7f, &r)) continue;
            compare("tempered log-probs vs CPU", r.lp, ref.lp, (size_t)bt.T, tol);
            compare("tempered entropies vs CPU", r.ent, ref.ent, (size_t)bt.T, tol);
            compare("tempered gradient vs CPU", r.grad, ref.grad, p->numel, tol);
        }
    check_adamw(m, &bt, 0);
    check_adamw(m, &bt, 1);
done:
    free(ref.grad), free(r.grad), free(r_rc.grad);
    actor_model_free(m);
}

// ---- the Hugging Face training fixtures (format: scripts/make_train_fixtures.py) ----------

#define FIXTURE_VERSION 1

typedef struct {
    char name[128];
    uint32_t dtype;  // 0 f32, 1 i32, 2 bytes
    size_t count;
    void *data;
} record;

typedef struct {
    int n;
    record *r;
} record_file;

static uint32_t u32_at(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void records_free(record_file *f) {
    for (int i = 0; f->r && i < f->n; i++) free(f->r[i].data);
    free(f->r);
    memset(f, 0, sizeof *f);
}

// 1: read; 0: absent (not an error: the fixtures are optional here); -1: malformed.
static int records_read(const char *path, record_file *f) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = size > 24 ? malloc((size_t)size) : NULL;
    size_t got = b ? fread(b, 1, (size_t)size, fp) : 0;
    fclose(fp);
    int ok = b && got == (size_t)size && !memcmp(b, "RLCTRAIN", 8) && !memcmp(b + size - 8, "RLCTREND", 8) &&
             u32_at(b + 8) == FIXTURE_VERSION;
    const unsigned char *p = b ? b + 16 : NULL, *end = b ? b + size - 8 : NULL;
    if (ok) {
        f->n = (int)u32_at(b + 12);
        f->r = calloc((size_t)f->n, sizeof *f->r);
        ok = f->r != NULL;
    }
    for (int i = 0; ok && i < f->n; i++) {
        record *r = &f->r[i];
        uint32_t ln = p + 4 <= end ? u32_at(p) : 0;
        if (!ln || ln >= sizeof r->name || p + 4 + ln + 8 > end) {
            ok = 0;
            break;
        }
        memcpy(r->name, p + 4, ln);
        p += 4 + ln;
        r->dtype = u32_at(p);
        uint32_t ndim = u32_at(p + 4);
        p += 8;
        if (r->dtype > 2 || ndim > 4 || p + 4 * ndim > end) {
            ok = 0;
            break;
        }
        r->count = 1;
        for (uint32_t d = 0; d < ndim; d++) r->count *= u32_at(p + 4 * d);
        p += 4 * ndim;
        size_t bytes = r->count * (r->dtype == 2 ? 1 : 4);
        r->data = p + bytes <= end ? malloc(bytes ? bytes : 1) : NULL;
        if (!r->data) {
            ok = 0;
            break;
        }
        memcpy(r->data, p, bytes);
        p += bytes;
    }
    ok = ok && p == end;
    free(b);
    if (!ok) records_free(f);
    return ok ? 1 : -1;
}

static const record *find(const record_file *f, const char *name, uint32_t dtype) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->r[i].name, name) == 0 && f->r[i].dtype == dtype) return &f->r[i];
    fprintf(stderr, "fixture: no record %s\n", name);
    return NULL;
}

// The loss mean(-logprob) over the targets, as test_train_parity.
static void check_fixture(const char *name) {
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/data/train/%s.bin", name);
    record_file f;
    int got = records_read(test_source(path, sizeof path, rel), &f);
    if (got == 0) {
        printf("%s: no fixture at %s: the Hugging Face comparison is left out\n", name, path);
        return;
    }
    CHECK_MSG(got == 1, "%s: malformed fixture", path);
    if (got != 1) return;
    const record *mr = find(&f, "model", 2), *tok = find(&f, "batch/tokens", 1);
    const record *cu = find(&f, "batch/cu_seqlens", 1), *tgt = find(&f, "batch/targets", 1);
    const record *rlp = find(&f, "logprobs", 0), *rent = find(&f, "entropy", 0);
    CHECK(mr && tok && cu && tgt && rlp && rent);
    actor_model *m = NULL;
    if (mr && tok && cu && tgt && rlp && rent) {
        char dir[64] = {0}, hf[1024];
        memcpy(dir, mr->data, mr->count < sizeof dir - 1 ? mr->count : sizeof dir - 1);
        snprintf(rel, sizeof rel, "tests/data/hf/%s", dir);
        CHECK_OK(actor_model_load(test_source(hf, sizeof hf, rel), &m));
    }
    if (!m) {
        records_free(&f);
        return;
    }
    const actor_params *p = actor_model_params(m);
    int T = (int)tok->count, n_valid = 0;
    const int *targets = tgt->data;
    actor_batch b = {T, (int)cu->count - 1, tok->data, cu->data, targets};
    float *lp = calloc((size_t)T, sizeof(float)), *ent = calloc((size_t)T, sizeof(float));
    float *dlp = calloc((size_t)T, sizeof(float)), *grad = calloc(p->numel, sizeof(float));
    float *gref = calloc(p->numel, sizeof(float));
    for (int i = 0; i < T; i++) n_valid += targets[i] >= 0;
    for (int i = 0; i < T; i++) dlp[i] = targets[i] >= 0 ? -1.0f / (float)n_valid : 0.0f;
    // The reference gradient, laid out like the parameters.
    for (int i = 0; i < f.n; i++) {
        const actor_tensor_info *ti = strncmp(f.r[i].name, "grad/", 5) ? NULL : actor_params_find(p, f.r[i].name + 5);
        if (ti && ti->numel == f.r[i].count) memcpy(gref + ti->offset, f.r[i].data, ti->numel * sizeof(float));
    }
    for (int bf16 = 0; bf16 <= 1; bf16++) {
        printf("%s fixture (Hugging Face, float64 references), %s:\n", name, bf16 ? "bf16" : "f32");
        actor_gpu_trainer *t = NULL;
        CHECK_OK(actor_gpu_trainer_create(m, 0, bf16, T, 100, bf16, &t));
        if (!t) continue;
        CHECK_OK(actor_gpu_train_forward(t, &b, lp, ent));
        CHECK_OK(actor_gpu_train_backward(t, dlp, NULL));
        CHECK_OK(actor_gpu_grads_download(t, grad));
        double tol = bf16 ? TOL_BF16 : TOL_F32;
        compare("log-probs vs torch", lp, rlp->data, (size_t)T, tol);
        compare("entropies vs torch", ent, rent->data, (size_t)T, tol);
        compare("gradient vs torch", grad, gref, p->numel, tol);
        compare_tensors("gradient vs torch", p, grad, gref, bf16 ? 0 : TOL_TENSOR_F32);
        actor_gpu_trainer_free(t);
    }
    free(lp), free(ent), free(dlp), free(grad), free(gref);
    actor_model_free(m);
    records_free(&f);
}

#endif  // RLC_HAVE_CUDA

int main(void) {
    char buf[2048];
    int n = 0;
    kernels_set_threads(2);
    if (!kernels_cuda_compiled()) {
        check_stubs();
        if (test_failures) return test_finish("test_cuda_train");
        TEST_SKIP("this build has no CUDA backend");
    }
#ifdef RLC_HAVE_CUDA
    rlc_status s = kernels_cuda_query(&n, buf, sizeof buf);
    if (s != RLC_OK || n == 0) TEST_SKIP("no CUDA device: %s", s != RLC_OK ? rlc_last_error() : "0 devices");
    printf("%s", buf);
    check_model("llama", ACTOR_ARCH_LLAMA);
    check_model("qwen2", ACTOR_ARCH_QWEN2);
    check_model("qwen3", ACTOR_ARCH_QWEN3);
    check_fixture("qwen2");
    check_fixture("qwen3");
#else
    (void)buf, (void)n;
#endif
    return test_finish("test_cuda_train");
}
