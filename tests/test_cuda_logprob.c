// test_cuda_logprob.c: the CUDA fused lm_head + log-softmax + gather +
// entropy (kc_logprob.h) against the CPU: the chunk ops (kc_logprob_chunk,
// kc_logprob_finish, kc_logprob_chunk_backward) against kernels_cpu()'s
// logprob_chunk, logprob_finish and logprob_chunk_backward chunk by chunk,
// and the fused head (kc_lm_head_logprob and its backward) against the
// actor's chunked path (actor_logprob_forward / actor_logprob_backward) on
// random h, w and targets: logprob, entropy, lse, dh, dw, with V a multiple of
// the chunk or not, dentropy NULL or not, dh written or added into. Float32
// (~1e-5) and bfloat16 (inputs rounded to bf16 on the host, ~1e-2 where a bf16
// value is written). Outputs are poisoned (NaN) first. Skipped (exit 77)
// without a CUDA build or device.
#include <math.h>    // isfinite
#include <stdint.h>  // uint64_t
#include <stdio.h>   // printf
#include <stdlib.h>  // malloc, free

#include "actor/logprob.h"  // actor_logprob_forward, actor_logprob_backward
#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cpu, kernels_cuda_compiled
#include "test.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_logprob.h"
#include "kernels/cuda/kcuda.h"
#include "cuda_test.h"
#endif

#ifdef RLC_HAVE_CUDA

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

// n values uniform in [-scale, scale), rounded to bf16 when dt is KC_BF16.
static float *rand_vec(size_t n, float scale, kc_dtype dt) {
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        v[i] = scale * ((float)(urand() >> 8) * (2.0f / 16777216.0f) - 1.0f);
        if (dt == KC_BF16) v[i] = kc_bf16_to_f32(kc_f32_to_bf16(v[i]));
    }
    return v;
}

static int *rand_targets(int n, int V) {
    int *t = malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++) t[i] = (int)(urand() % (uint32_t)V);
    if (n > 0) t[0] = V - 1;  // the last id, in the last (short) chunk
    if (n > 1) t[1] = 0;
    return t;
}

static void *dev_alloc(kc_ctx *c, size_t bytes) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, bytes ? bytes : 1));
    return d;
}

// Device copy of h (n floats) stored as dt.
static void *dev_of(kc_ctx *c, const float *h, size_t n, kc_dtype dt) {
    void *d = dev_alloc(c, n * kc_dtype_size(dt));
    if (dt == KC_F32) {
        CHECK_OK(kc_upload(c, d, h, n * sizeof(float)));
    } else {
        kc_bf16 *b = malloc(sizeof(kc_bf16) * (n ? n : 1));
        for (size_t i = 0; i < n; i++) b[i] = kc_f32_to_bf16(h[i]);
        CHECK_OK(kc_upload(c, d, b, n * sizeof(kc_bf16)));
        free(b);
    }
    return d;
}

static void upload_to(kc_ctx *c, void *d, const float *h, size_t n, kc_dtype dt) {
    if (dt == KC_F32) {
        CHECK_OK(kc_upload(c, d, h, n * sizeof(float)));
        return;
    }
    kc_bf16 *b = malloc(sizeof(kc_bf16) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) b[i] = kc_f32_to_bf16(h[i]);
    CHECK_OK(kc_upload(c, d, b, n * sizeof(kc_bf16)));
    free(b);
}

static void *dev_poison(kc_ctx *c, size_t n, kc_dtype dt) {
    void *d = dev_alloc(c, n * kc_dtype_size(dt));
    CHECK_OK(kc_memset(c, d, 0xFF, n * kc_dtype_size(dt)));
    return d;
}

static int *dev_ints(kc_ctx *c, const int *h, int n) {
    int *d = dev_alloc(c, sizeof(int) * (size_t)n);
    CHECK_OK(kc_upload(c, d, h, sizeof(int) * (size_t)n));
    return d;
}

static void host_of(kc_ctx *c, float *h, const void *d, size_t n, kc_dtype dt) {
    if (dt == KC_F32) {
        CHECK_OK(kc_download(c, h, d, n * sizeof(float)));
        return;
    }
    kc_bf16 *b = malloc(sizeof(kc_bf16) * (n ? n : 1));
    CHECK_OK(kc_download(c, b, d, n * sizeof(kc_bf16)));
    for (size_t i = 0; i < n; i++) h[i] = kc_bf16_to_f32(b[i]);
    free(b);
}

// Compares got with want (n) and prints the worst element.
static void compare(const char *what, const float *got, const float *want, size_t n, double tol) {
    size_t worst = 0, bad = 0;
    double worst_abs = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(got[i])) bad++;
    double e = test_rel_l2(got, want, n, &worst, &worst_abs);
    int ok = bad == 0 && e <= tol;
    printf("  %-52s rel L2 %.3g (tol %.0e), worst |d| %.3g at %zu (got %.6g, want %.6g)%s\n", what, e, tol,
           worst_abs, worst, n ? got[worst] : 0.0, n ? want[worst] : 0.0, bad ? ", NON-FINITE" : "");
    CHECK_MSG(ok, "%s: rel L2 %.3g > %.0e or %zu non-finite", what, e, tol, bad);
}

// Download n floats of a device float32 buffer and compare.
static void compare_dev(kc_ctx *c, const char *what, const float *d, const float *want, size_t n, kc_dtype dt,
                        double tol) {
    float *got = malloc(sizeof(float) * (n ? n : 1));
    host_of(c, got, d, n, dt);
    compare(what, got, want, n, tol);
    free(got);
}

// ---- the chunk ops ------------------------------------------------------------

// logits (n, V) random; walked in chunks of vc as the fused head would.
static void test_chunk_ops(kc_ctx *c, kc_dtype dt, int n, int V, int vc) {
    kernels_backend cpu = kernels_cpu();
    float *logits = rand_vec((size_t)n * V, 6.0f, dt);
    int *targets = rand_targets(n, V);
    float *tile = malloc(sizeof(float) * (size_t)n * vc), *stats = malloc(sizeof(float) * (size_t)n * 4);
    void *d_tile = dev_alloc(c, (size_t)n * vc * kc_dtype_size(dt));
    float *d_stats = dev_poison(c, (size_t)n * 4, KC_F32);
    int *d_targets = dev_ints(c, targets, n);
    char what[128];
    double tol_in = 1e-5;  // float32 arithmetic on identical inputs in either dtype
    for (int v0 = 0; v0 < V; v0 += vc) {
        int nv = V - v0 < vc ? V - v0 : vc;
        for (int r = 0; r < n; r++) memcpy(tile + (size_t)r * nv, logits + (size_t)r * V + v0, sizeof(float) * nv);
        cpu.ops->logprob_chunk(cpu.ctx, stats, tile, targets, v0, n, nv);
        upload_to(c, d_tile, tile, (size_t)n * nv, dt);
        kc_logprob_chunk(c, dt, d_stats, d_tile, d_targets, v0, n, nv);
    }
    CHECK_OK(kc_sync(c));
    snprintf(what, sizeof what, "logprob_chunk %s n %d V %d chunk %d: stats", kc_dtype_name(dt), n, V, vc);
    compare_dev(c, what, d_stats, stats, (size_t)n * 4, KC_F32, tol_in);

    // finish, from the CPU's stats on both sides
    float *lp = malloc(sizeof(float) * n), *ent = malloc(sizeof(float) * n), *lse = malloc(sizeof(float) * n);
    cpu.ops->logprob_finish(cpu.ctx, lp, ent, lse, stats, n);
    float *d_lp = dev_poison(c, (size_t)n, KC_F32), *d_ent = dev_poison(c, (size_t)n, KC_F32);
    float *d_lse = dev_poison(c, (size_t)n, KC_F32);
    upload_to(c, d_stats, stats, (size_t)n * 4, KC_F32);
    kc_logprob_finish(c, d_lp, d_ent, d_lse, d_stats, n);
    CHECK_OK(kc_sync(c));
    snprintf(what, sizeof what, "logprob_finish %s: logprob", kc_dtype_name(dt));
    compare_dev(c, what, d_lp, lp, (size_t)n, KC_F32, tol_in);
    snprintf(what, sizeof what, "logprob_finish %s: entropy", kc_dtype_name(dt));
    compare_dev(c, what, d_ent, ent, (size_t)n, KC_F32, tol_in);
    snprintf(what, sizeof what, "logprob_finish %s: lse", kc_dtype_name(dt));
    compare_dev(c, what, d_lse, lse, (size_t)n, KC_F32, tol_in);

    // backward, chunk by chunk, from the CPU's lse and entropy; variant 2
    // writes dlogits over the logits (aliasing)
    float *dlp = rand_vec((size_t)n, 1.0f, KC_F32), *dent = rand_vec((size_t)n, 1.0f, KC_F32);
    float *d_dlp = dev_of(c, dlp, (size_t)n, KC_F32), *d_dent = dev_of(c, dent, (size_t)n, KC_F32);
    upload_to(c, d_lse, lse, (size_t)n, KC_F32);
    upload_to(c, d_ent, ent, (size_t)n, KC_F32);
    float *g = malloc(sizeof(float) * (size_t)n * vc);
    void *d_g = dev_alloc(c, (size_t)n * vc * kc_dtype_size(dt));
    for (int variant = 0; variant < 3; variant++) {
        int with_dent = variant != 0, alias = variant == 2;
        for (int v0 = 0; v0 < V; v0 += vc) {
            int nv = V - v0 < vc ? V - v0 : vc;
            for (int r = 0; r < n; r++)
                memcpy(tile + (size_t)r * nv, logits + (size_t)r * V + v0, sizeof(float) * nv);
            cpu.ops->logprob_chunk_backward(cpu.ctx, g, tile, targets, lse, ent, dlp, with_dent ? dent : NULL, v0,
                                            n, nv);
            upload_to(c, d_tile, tile, (size_t)n * nv, dt);
            void *out = alias ? d_tile : d_g;
            if (!alias) CHECK_OK(kc_memset(c, d_g, 0xFF, (size_t)n * nv * kc_dtype_size(dt)));
            kc_logprob_chunk_backward(c, dt, out, d_tile, d_targets, d_lse, d_ent, d_dlp, with_dent ? d_dent : NULL,
                                      v0, n, nv);
            CHECK_OK(kc_sync(c));
            snprintf(what, sizeof what, "logprob_chunk_backward %s v0 %d dentropy %s%s", kc_dtype_name(dt), v0,
                     with_dent ? "yes" : "NULL", alias ? " in place" : "");
            compare_dev(c, what, out, g, (size_t)n * nv, dt, dt == KC_BF16 ? 1e-2 : 1e-5);
        }
    }
    kc_free(c, d_tile), kc_free(c, d_stats), kc_free(c, d_targets), kc_free(c, d_lp), kc_free(c, d_ent);
    kc_free(c, d_lse), kc_free(c, d_dlp), kc_free(c, d_dent), kc_free(c, d_g);
    free(logits), free(targets), free(tile), free(stats), free(lp), free(ent), free(lse), free(dlp), free(dent);
    free(g);
}

// ---- the fused head against the actor's chunked path ----------------------------

static void test_head(kc_ctx *c, kc_dtype dt, int n, int C, int V, int chunk) {
    kernels_backend cpu = kernels_cpu();
    size_t nh = (size_t)n * C, nw = (size_t)V * C;
    int vc = chunk <= 0 || chunk > V ? V : chunk;
    float *h = rand_vec(nh, 1.0f, dt), *w = rand_vec(nw, 1.0f, dt);
    int *targets = rand_targets(n, V);
    float *scratch = malloc(sizeof(float) * actor_logprob_scratch_floats(n, V, chunk));
    float *lp = malloc(sizeof(float) * n), *ent = malloc(sizeof(float) * n), *lse = malloc(sizeof(float) * n);
    actor_logprob_forward(cpu, lp, ent, lse, h, w, targets, n, C, V, chunk, scratch);

    void *d_h = dev_of(c, h, nh, dt), *d_w = dev_of(c, w, nw, dt);
    int *d_targets = dev_ints(c, targets, n);
    void *d_scratch = dev_alloc(c, kc_lm_head_scratch_bytes(n, vc));
    float *d_lp = dev_poison(c, (size_t)n, KC_F32), *d_ent = dev_poison(c, (size_t)n, KC_F32);
    float *d_lse = dev_poison(c, (size_t)n, KC_F32), *d_stats = dev_poison(c, (size_t)n * 4, KC_F32);
    kc_lm_head_logprob(c, dt, d_lp, d_ent, d_lse, d_stats, d_h, d_w, d_targets, n, C, V, chunk, d_scratch);
    CHECK_OK(kc_sync(c));
    char what[128];
    // bf16 inputs give exact float32 products: the logits differ only in the
    // order of the sums
    double tol_fwd = dt == KC_BF16 ? 1e-4 : 1e-5;
    snprintf(what, sizeof what, "lm_head %s n %d C %d V %d chunk %d: logprob", kc_dtype_name(dt), n, C, V, chunk);
    compare_dev(c, what, d_lp, lp, (size_t)n, KC_F32, tol_fwd);
    snprintf(what, sizeof what, "lm_head %s: entropy", kc_dtype_name(dt));
    compare_dev(c, what, d_ent, ent, (size_t)n, KC_F32, tol_fwd);
    snprintf(what, sizeof what, "lm_head %s: lse", kc_dtype_name(dt));
    compare_dev(c, what, d_lse, lse, (size_t)n, KC_F32, tol_fwd);

    float *dlp = rand_vec((size_t)n, 1.0f, KC_F32), *dent = rand_vec((size_t)n, 1.0f, KC_F32);
    float *dh0 = rand_vec(nh, 1.0f, dt), *dw0 = rand_vec(nw, 1.0f, KC_F32);
    float *dh = malloc(sizeof(float) * nh), *dw = malloc(sizeof(float) * nw);
    float *d_dlp = dev_of(c, dlp, (size_t)n, KC_F32), *d_dent = dev_of(c, dent, (size_t)n, KC_F32);
    float *d_dh = dev_alloc(c, nh * sizeof(float));  // float32 in both dtypes
    float *d_dw = dev_alloc(c, nw * sizeof(float));
    // variants: dentropy NULL / not, dh written / added into, dw NULL / not
    static const int variants[][3] = {{0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 0}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        int with_dent = variants[v][0], accumulate = variants[v][1], with_dw = variants[v][2];
        for (size_t i = 0; i < nh; i++) dh[i] = accumulate ? dh0[i] : 0.0f;
        memcpy(dw, dw0, sizeof(float) * nw);
        actor_logprob_backward(cpu, dh, with_dw ? dw : NULL, dlp, with_dent ? dent : NULL, h, w, targets, lse, ent,
                               n, C, V, chunk, scratch);
        if (accumulate) {
            upload_to(c, d_dh, dh0, nh, KC_F32);
        } else {
            CHECK_OK(kc_memset(c, d_dh, 0xFF, nh * sizeof(float)));
        }
        upload_to(c, d_dw, dw0, nw, KC_F32);
        // the device's own forward outputs, as the trainer would pass them
        kc_lm_head_logprob_backward(c, dt, d_dh, with_dw ? d_dw : NULL, d_h, d_w, d_targets, d_lse, d_ent, d_dlp,
                                    with_dent ? d_dent : NULL, n, C, V, chunk, d_scratch, accumulate);
        CHECK_OK(kc_sync(c));
        double tol = dt == KC_BF16 ? 1e-2 : 1e-5;  // bf16: dlogits are rounded to bf16
        snprintf(what, sizeof what, "lm_head_backward %s dentropy %s acc %d: dh", kc_dtype_name(dt),
                 with_dent ? "yes" : "NULL", accumulate);
        compare_dev(c, what, d_dh, dh, nh, KC_F32, tol);
        snprintf(what, sizeof what, "lm_head_backward %s dentropy %s acc %d: dw%s", kc_dtype_name(dt),
                 with_dent ? "yes" : "NULL", accumulate, with_dw ? "" : " (NULL: untouched)");
        compare_dev(c, what, d_dw, dw, nw, KC_F32, with_dw ? tol : 0.0);
    }
    kc_free(c, d_h), kc_free(c, d_w), kc_free(c, d_targets), kc_free(c, d_scratch), kc_free(c, d_lp);
    kc_free(c, d_ent), kc_free(c, d_lse), kc_free(c, d_stats), kc_free(c, d_dlp), kc_free(c, d_dent);
    kc_free(c, d_dh), kc_free(c, d_dw);
    free(h), free(w), free(targets), free(scratch), free(lp), free(ent), free(lse), free(dlp), free(dent);
    free(dh0), free(dw0), free(dh), free(dw);
}

static int run(kc_ctx *c) {
    for (int d = 0; d < 2; d++) {
        kc_dtype dt = d ? KC_BF16 : KC_F32;
        test_chunk_ops(c, dt, 37, 1000, 300);  // 300, 300, 300, 100
        test_chunk_ops(c, dt, 5, 4099, 4099);  // one chunk, longer than a block's stride many times
        test_head(c, dt, 45, 72, 1000, 384);   // 384, 384, 232
        test_head(c, dt, 45, 72, 1000, 250);   // V a multiple of the chunk
        test_head(c, dt, 33, 64, 777, 4096);   // one chunk (chunk > V)
        // one row, 19 tiny chunks: float32 only, as bf16 dh takes one bf16
        // rounding per chunk (kc_logprob.cu) and 19 of them near 1e-2
        if (dt == KC_F32) test_head(c, dt, 1, 40, 130, 7);
    }
    return test_finish("test_cuda_logprob");
}

#endif  // RLC_HAVE_CUDA

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    CT_OPEN_OR_SKIP(c);
    int rc = run(c);
    kc_close(c);
    return rc;
#else
    return 77;
#endif
}
