// test_cuda_optim.c: the GPU's gradient norm and fused AdamW against
// optim_adamw_step on the parameter table of a small Qwen2-shaped model
// (matrices decayed, norms and biases not): plain steps, a clipped step, a
// NaN and an inf gradient (the step leaves every byte alone), the bfloat16
// copy equal to the rounded master, and the float4 path equal to the scalar
// path on misaligned buffers. Skipped (exit 77) without a CUDA build or
// device. Device outputs are poisoned first.
#include <math.h>    // fabs, sqrt, NAN, INFINITY
#include <stdint.h>  // uint64_t
#include <string.h>  // memcpy, memcmp

#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cuda_compiled
#include "test.h"

#ifdef RLC_HAVE_CUDA
#include "actor/params.h"  // actor_params_create
#include "kernels/cuda/kc_optim.h"
#include "kernels/cuda/kcuda.h"
#include "cuda_test.h"
#include "learner/optim.h"  // optim_adamw_step, the reference

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) { return ct_unit(&rng_state); }

typedef struct {
    float *master, *m, *v, *grad;
    kc_bf16 *bf;
    long *off;
    unsigned char *decay;
    double *sumsq;
} dev_state;

// Worst |a - b| against atol + rtol |b|; prints and fails when above 1.
static void compare(const char *what, int step, const float *a, const float *b, size_t n, double atol, double rtol) {
    double worst = 0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (!(e <= worst)) worst = e, wi = i;
    }
    CHECK_MSG(worst <= 1.0, "step %d: %s[%zu] = %.9g vs CPU %.9g (%.2f of the tolerance)", step, what, wi, a[wi],
              b[wi], worst);
}

static void gpu_step(kc_ctx *c, dev_state *d, size_t n, int n_seg, const float *grad, const kc_adamw_args *a) {
    CHECK_OK(kc_upload(c, d->grad, grad, n * sizeof(float)));
    CHECK_OK(kc_memset(c, d->sumsq, 0, sizeof(double)));
    kc_sumsq(c, d->sumsq, d->grad, n);
    kc_adamw(c, d->master, d->m, d->v, d->grad, d->bf, n, d->off, d->decay, n_seg, d->sumsq, a);
    CHECK_OK(kc_sync(c));
}

// The float4 kernel (aligned buffers) and the scalar kernel (every buffer one
// float past alignment) give the same bytes.
static void check_paths(kc_ctx *c) {
    enum { N = 10007, ST = 10012 };  // ST: a buffer's stride, a multiple of 4 floats
    static float p[N], g[N], out_a[N], out_b[N];
    const long off[4] = {0, 4000, 4003, N};
    const unsigned char dec[3] = {1, 0, 1};
    for (int i = 0; i < N; i++) p[i] = (float)(urand() - 0.5), g[i] = (float)(urand() - 0.5) * 0.01f;
    float *buf = NULL;
    kc_bf16 *bf = NULL;
    long *d_off = NULL;
    unsigned char *d_dec = NULL;
    double *sumsq = NULL;
    CHECK_OK(kc_malloc(c, (void **)&buf, 4 * ST * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&bf, ST * sizeof(kc_bf16)));
    CHECK_OK(kc_malloc(c, (void **)&d_off, sizeof off));
    CHECK_OK(kc_malloc(c, (void **)&d_dec, sizeof dec));
    CHECK_OK(kc_malloc(c, (void **)&sumsq, sizeof(double)));
    if (!buf || !bf || !d_off || !d_dec || !sumsq) return;
    CHECK_OK(kc_upload(c, d_off, off, sizeof off));
    CHECK_OK(kc_upload(c, d_dec, dec, sizeof dec));
    kc_adamw_args a = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f,
                       .max_grad_norm = 0.05f, .step = 1};
    for (int shift = 0; shift <= 1; shift++) {
        float *P = buf + shift, *M = buf + ST + shift, *Vv = buf + 2 * ST + shift;
        float *G = buf + 3 * ST + shift;
        CHECK_OK(kc_upload(c, P, p, sizeof p));
        CHECK_OK(kc_memset(c, M, 0, sizeof p));
        CHECK_OK(kc_memset(c, Vv, 0, sizeof p));
        CHECK_OK(kc_upload(c, G, g, sizeof g));
        CHECK_OK(kc_memset(c, sumsq, 0, sizeof(double)));
        kc_sumsq(c, sumsq, G, N);
        kc_adamw(c, P, M, Vv, G, bf + shift, N, d_off, d_dec, 3, sumsq, &a);
        CHECK_OK(kc_sync(c));
        CHECK_OK(kc_download(c, shift ? out_b : out_a, P, sizeof p));
    }
    CHECK_MSG(memcmp(out_a, out_b, sizeof out_a) == 0, "the float4 and scalar AdamW paths differ");
    kc_free(c, buf), kc_free(c, bf), kc_free(c, d_off), kc_free(c, d_dec), kc_free(c, sumsq);
}
#endif

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    CT_OPEN_OR_SKIP(c);

    actor_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = ACTOR_ARCH_QWEN2;
    cfg.vocab_size = 301, cfg.hidden_size = 64, cfg.n_layers = 2, cfg.n_heads = 4, cfg.n_kv_heads = 2;
    cfg.head_dim = 16, cfg.intermediate_size = 96, cfg.attn_bias = 1, cfg.tie_embeddings = 0;
    actor_params P;
    CHECK_OK(actor_params_create(&cfg, &P));
    const size_t n = P.numel;
    const int n_seg = P.n_tensors;

    // Hyper-parameters exactly representable in float, so that the CPU's
    // double settings and the GPU's float arguments are the same numbers.
    optim_adamw_config oc = optim_adamw_defaults();
    oc.beta1 = (double)0.9f, oc.beta2 = (double)0.95f, oc.eps = (double)1e-8f, oc.weight_decay = (double)0.1f;
    oc.max_grad_norm = 1.0;
    optim_adamw *o = NULL;
    CHECK_OK(optim_adamw_create(&oc, &P, &o));
    if (!o) return test_finish("test_cuda_optim");

    long *off = rlc_malloc((n_seg + 1) * sizeof(long));
    unsigned char *dec = rlc_malloc(n_seg);
    for (int s = 0; s < n_seg; s++) {
        off[s] = (long)P.tensors[s].offset;
        dec[s] = (unsigned char)optim_adamw_decays(o, s);
        if (s > 0) CHECK(off[s] >= off[s - 1] + (long)P.tensors[s - 1].numel);  // the table is in offset order
    }
    off[n_seg] = (long)n;
    CHECK(off[0] == 0);
    int n_decayed = 0;
    for (int s = 0; s < n_seg; s++) n_decayed += dec[s];
    CHECK(n_decayed > 0 && n_decayed < n_seg);  // both kinds present

    for (int s = 0; s < n_seg; s++)
        for (size_t i = 0; i < P.tensors[s].numel; i++) P.data[P.tensors[s].offset + i] = (float)(urand() - 0.5) * 0.2f;
    // Zeroed: the steps below fill only the tensors, and the padding between
    // them (each tensor starts at a multiple of 16 floats) must hold gradient 0
    // on the device, which updates every element of its segments.
    float *g = rlc_calloc(n, sizeof(float)), *g_cpu = rlc_malloc(n * sizeof(float));
    float *h_p = rlc_malloc(n * sizeof(float)), *h_m = rlc_malloc(n * sizeof(float)), *h_v = rlc_malloc(n * sizeof(float));
    float *h_p0 = rlc_malloc(n * sizeof(float)), *h_m0 = rlc_malloc(n * sizeof(float));
    float *h_v0 = rlc_malloc(n * sizeof(float));
    kc_bf16 *h_bf = rlc_malloc(n * sizeof(kc_bf16)), *h_bf0 = rlc_malloc(n * sizeof(kc_bf16));

    dev_state d;
    CHECK_OK(kc_malloc(c, (void **)&d.master, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d.m, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d.v, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d.grad, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d.bf, n * sizeof(kc_bf16)));
    CHECK_OK(kc_malloc(c, (void **)&d.off, (n_seg + 1) * sizeof(long)));
    CHECK_OK(kc_malloc(c, (void **)&d.decay, n_seg));
    CHECK_OK(kc_malloc(c, (void **)&d.sumsq, sizeof(double)));
    CHECK_OK(kc_upload(c, d.master, P.data, n * sizeof(float)));
    CHECK_OK(kc_memset(c, d.m, 0, n * sizeof(float)));
    CHECK_OK(kc_memset(c, d.v, 0, n * sizeof(float)));
    CHECK_OK(kc_memset(c, d.bf, 0xFF, n * sizeof(kc_bf16)));
    CHECK_OK(kc_upload(c, d.off, off, (n_seg + 1) * sizeof(long)));
    CHECK_OK(kc_upload(c, d.decay, dec, n_seg));

    // Gradient scales per step: 0 and 1 plain (norm < 1), 2 clipped, 3 NaN,
    // 4 inf (both skipped), 5 plain again.
    const double scale[6] = {0.002, 0.004, 0.5, 0.002, 0.002, 0.003};
    const float lr = 1e-3f;
    for (int step = 0; step < 6; step++) {
        for (int s = 0; s < n_seg; s++)
            for (size_t i = 0; i < P.tensors[s].numel; i++)
                g[P.tensors[s].offset + i] = (float)((urand() - 0.5) * scale[step]);
        if (step == 3) g[n / 3] = NAN;
        if (step == 4) g[n - 1 - (n / 7)] = -INFINITY;
        memcpy(g_cpu, g, n * sizeof(float));
        optim_step_result res;
        CHECK_OK(kc_download(c, h_p0, d.master, n * sizeof(float)));
        CHECK_OK(kc_download(c, h_m0, d.m, n * sizeof(float)));
        CHECK_OK(kc_download(c, h_v0, d.v, n * sizeof(float)));
        CHECK_OK(kc_download(c, h_bf0, d.bf, n * sizeof(kc_bf16)));
        kc_adamw_args a = {.lr = lr, .beta1 = (float)oc.beta1, .beta2 = (float)oc.beta2, .eps = (float)oc.eps,
                           .weight_decay = (float)oc.weight_decay, .max_grad_norm = (float)oc.max_grad_norm,
                           .step = optim_adamw_steps(o) + 1};
        CHECK_OK(optim_adamw_step(o, P.data, g_cpu, (double)lr, &res));
        gpu_step(c, &d, n, n_seg, g, &a);
        CHECK_MSG((step == 2) == (res.clip_coef < 1), "step %d: clip coefficient %g", step, res.clip_coef);
        CHECK_MSG((step == 3 || step == 4) == (res.skipped != 0), "step %d: skipped %d", step, res.skipped);
        double sumsq = NAN;
        CHECK_OK(kc_download(c, &sumsq, d.sumsq, sizeof sumsq));
        if (res.skipped) CHECK_MSG(!isfinite(sumsq), "step %d: device sumsq %g is finite", step, sumsq);
        else
            CHECK_MSG(fabs(sqrt(sumsq) - res.grad_norm) <= 1e-9 + 1e-6 * res.grad_norm,
                      "step %d: device norm %.12g vs CPU %.12g", step, sqrt(sumsq), res.grad_norm);
        CHECK_OK(kc_download(c, h_p, d.master, n * sizeof(float)));
        CHECK_OK(kc_download(c, h_m, d.m, n * sizeof(float)));
        CHECK_OK(kc_download(c, h_v, d.v, n * sizeof(float)));
        CHECK_OK(kc_download(c, h_bf, d.bf, n * sizeof(kc_bf16)));
        if (res.skipped) {
            CHECK_MSG(memcmp(h_p, h_p0, n * sizeof(float)) == 0, "step %d: skipped step changed the master", step);
            CHECK_MSG(memcmp(h_m, h_m0, n * sizeof(float)) == 0, "step %d: skipped step changed m", step);
            CHECK_MSG(memcmp(h_v, h_v0, n * sizeof(float)) == 0, "step %d: skipped step changed v", step);
            CHECK_MSG(memcmp(h_bf, h_bf0, n * sizeof(kc_bf16)) == 0, "step %d: skipped step changed bf16", step);
        }
        compare("master", step, h_p, P.data, n, 1e-9, 1e-6);
        compare("m", step, h_m, optim_adamw_m(o), n, 1e-12, 1e-5);
        compare("v", step, h_v, optim_adamw_v(o), n, 1e-15, 1e-5);
        size_t bad_bf = 0;
        for (size_t i = 0; i < n; i++) bad_bf += h_bf[i] != kc_f32_to_bf16(h_p[i]);
        CHECK_MSG(bad_bf == 0, "step %d: %zu bf16 weights differ from the rounded master", step, bad_bf);
    }
    CHECK(optim_adamw_steps(o) == 4 && optim_adamw_skipped(o) == 2);
    check_paths(c);

    kc_free(c, d.master), kc_free(c, d.m), kc_free(c, d.v), kc_free(c, d.grad), kc_free(c, d.bf);
    kc_free(c, d.off), kc_free(c, d.decay), kc_free(c, d.sumsq);
    rlc_free(g), rlc_free(g_cpu), rlc_free(h_p), rlc_free(h_m), rlc_free(h_v), rlc_free(h_p0), rlc_free(h_m0);
    rlc_free(h_v0), rlc_free(h_bf), rlc_free(h_bf0), rlc_free(off), rlc_free(dec);
    optim_adamw_free(o);
    actor_params_free(&P);
    kc_close(c);
    return test_finish("test_cuda_optim");
#else
    return 77;
#endif
}
