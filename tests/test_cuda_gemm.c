// test_cuda_gemm.c: the CUDA GEMM family (kc_gemm.h) against the CPU: kc_gemm
// over every transpose pair, padded leading dimensions, alpha/beta and odd
// shapes against a float64 loop; kc_matmul and kc_matmul_backward against the
// CPU backend's matmul and matmul_backward (kernels_cpu()). Float32 (exact
// compute, ~1e-5) and bfloat16 (inputs rounded to bf16 on the host first,
// float32 or bf16 outputs, ~1e-2). Outputs that are written (not added into)
// are poisoned first (0xFF bytes: NaN). Skipped (exit 77) without a CUDA
// build or device.
#include <math.h>    // isfinite
#include <stdint.h>  // uint64_t
#include <stdio.h>   // printf
#include <stdlib.h>  // malloc, free

#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cpu, kernels_cuda_compiled
#include "test.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_gemm.h"
#include "kernels/cuda/kcuda.h"
#include "cuda_test.h"
#endif

#ifdef RLC_HAVE_CUDA

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void) {  // uniform in [-1, 1)
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

// n random values in [-1, 1), rounded to bf16 when dt is KC_BF16 (so that the
// host reference sees exactly what the device sees).
static float *rand_vec(size_t n, kc_dtype dt) {
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        v[i] = frand();
        if (dt == KC_BF16) v[i] = kc_bf16_to_f32(kc_f32_to_bf16(v[i]));
    }
    return v;
}

// A device copy of h (n floats) stored as dt.
static void *dev_of(kc_ctx *c, const float *h, size_t n, kc_dtype dt) {
    void *d = NULL;
    size_t es = kc_dtype_size(dt);
    CHECK_OK(kc_malloc(c, &d, n * es + 16));
    if (dt == KC_F32) {
        CHECK_OK(kc_upload(c, d, h, n * es));
    } else {
        kc_bf16 *b = malloc(sizeof(kc_bf16) * (n ? n : 1));
        for (size_t i = 0; i < n; i++) b[i] = kc_f32_to_bf16(h[i]);
        CHECK_OK(kc_upload(c, d, b, n * es));
        free(b);
    }
    return d;
}

// A poisoned (NaN) device buffer of n elements of dt.
static void *dev_poison(kc_ctx *c, size_t n, kc_dtype dt) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * kc_dtype_size(dt) + 16));
    CHECK_OK(kc_memset(c, d, 0xFF, n * kc_dtype_size(dt)));
    return d;
}

// h (n floats) = the device buffer d of dt.
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

// Relative L2 tolerance of an op by the dtypes of its inputs and output:
// exact float32; bf16 inputs (exact products) accumulated into float32; a bf16
// output (one rounding, 2^-9 relative).
static double tol_of(kc_dtype dt_in, kc_dtype dt_out) {
    if (dt_out == KC_BF16) return 1e-2;
    return dt_in == KC_BF16 ? 1e-4 : 1e-5;
}

static int quiet = 0;  // print only the failures (the many kc_gemm cases)

// Compares got with want (n), prints the worst element; returns the rel L2 error.
static double compare(const char *what, const float *got, const float *want, size_t n, double tol) {
    size_t worst = 0, bad = 0;
    double worst_abs = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(got[i])) bad++;
    double e = test_rel_l2(got, want, n, &worst, &worst_abs);
    int ok = bad == 0 && e <= tol;
    if (!ok || !quiet || getenv("RLC_TEST_VERBOSE"))
        printf("  %-48s rel L2 %.3g (tol %.0e), worst |d| %.3g at %zu (got %.6g, want %.6g), %zu non-finite\n",
               what, e, tol, worst_abs, worst, n ? got[worst] : 0.0, n ? want[worst] : 0.0, bad);
    CHECK_MSG(ok, "%s: rel L2 %.3g > %.0e or %zu non-finite", what, e, tol, bad);
    return e;
}

// ---- kc_gemm against a float64 loop -----------------------------------------

typedef struct {
    kc_dtype ab, c;
} dtype_pair;

static double worst_gemm[3];  // per dtype pair

static void test_gemm_case(kc_ctx *c, int pi, dtype_pair dp, int ta, int tb, int m, int n, int k, int pad,
                           float alpha, float beta) {
    int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    if (lda < 1) lda = 1;
    if (ldb < 1) ldb = 1;
    if (ldc < 1) ldc = 1;
    size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb, nc = (size_t)m * ldc;
    float *A = rand_vec(na, dp.ab), *B = rand_vec(nb, dp.ab), *C0 = rand_vec(nc, dp.c);
    float *want = malloc(sizeof(float) * (nc ? nc : 1)), *got = malloc(sizeof(float) * (nc ? nc : 1));
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) {
            size_t at = (size_t)i * ldc + j;
            if (j >= n) {  // padding: must stay as it was
                want[at] = C0[at];
                continue;
            }
            double s = 0;
            for (int p = 0; p < k; p++) {
                double a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                s += a * b;
            }
            want[at] = (float)(alpha * s + (beta != 0.0f ? beta * (double)C0[at] : 0.0));
        }
    void *dA = dev_of(c, A, na, dp.ab), *dB = dev_of(c, B, nb, dp.ab), *dC = dev_of(c, C0, nc, dp.c);
    if (beta == 0.0f) {
        // poison the m x n block only; the padding keeps C0
        float *pc = malloc(sizeof(float) * (nc ? nc : 1));
        for (size_t i = 0; i < nc; i++) pc[i] = (int)(i % ldc) < n ? NAN : C0[i];
        kc_free(c, dC);
        dC = dev_of(c, pc, nc, dp.c);
        free(pc);
    }
    kc_gemm(c, dp.ab, dp.c, ta, tb, m, n, k, alpha, dA, lda, dB, ldb, beta, dC, ldc);
    CHECK_OK(kc_sync(c));
    host_of(c, got, dC, nc, dp.c);
    char what[128];
    snprintf(what, sizeof what, "gemm %s->%s %c%c %dx%dx%d pad %d a %.1f b %.1f", kc_dtype_name(dp.ab),
             kc_dtype_name(dp.c), ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, pad, alpha, beta);
    double e = compare(what, got, want, nc, tol_of(dp.ab, dp.c));
    if (e > worst_gemm[pi]) worst_gemm[pi] = e;
    kc_free(c, dA), kc_free(c, dB), kc_free(c, dC);
    free(A), free(B), free(C0), free(want), free(got);
}

static void test_gemm(kc_ctx *c) {
    static const dtype_pair pairs[3] = {{KC_F32, KC_F32}, {KC_BF16, KC_BF16}, {KC_BF16, KC_F32}};
    static const int shapes[][3] = {{37, 200, 577}, {1, 1, 1}, {64, 64, 64}, {5, 3, 1}, {130, 7, 33}, {4, 6, 0}};
    quiet = 1;
    for (int pi = 0; pi < 3; pi++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                    for (int v = 0; v < 3; v++) {
                        float alpha = v == 2 ? 0.5f : 1.0f, beta = v == 0 ? 0.0f : (v == 1 ? 1.0f : -0.75f);
                        int pad = s == 0 && v == 2 ? 5 : 0;  // padded leading dimensions
                        test_gemm_case(c, pi, pairs[pi], ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], pad,
                                       alpha, beta);
                    }
    quiet = 0;
    printf("gemm worst rel L2: f32 %.3g, bf16->bf16 %.3g, bf16->f32 %.3g\n", worst_gemm[0], worst_gemm[1],
           worst_gemm[2]);
}

// A GEMM on pointers one element past an aligned address (only 2- or 4-byte
// alignment): cuBLASLt must be told, or it may pick a vectorised kernel.
static void test_gemm_unaligned(kc_ctx *c, kc_dtype dt) {
    int m = 19, n = 33, k = 41;
    size_t es = kc_dtype_size(dt);
    float *A = rand_vec((size_t)m * k, dt), *B = rand_vec((size_t)k * n, dt);
    float *want = calloc((size_t)m * n, sizeof(float)), *got = malloc(sizeof(float) * m * n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)A[(size_t)i * k + p] * B[(size_t)p * n + j];
            want[(size_t)i * n + j] = (float)s;
        }
    float *A1 = malloc(sizeof(float) * ((size_t)m * k + 1)), *B1 = malloc(sizeof(float) * ((size_t)k * n + 1));
    A1[0] = B1[0] = 0;
    memcpy(A1 + 1, A, sizeof(float) * m * k);
    memcpy(B1 + 1, B, sizeof(float) * k * n);
    void *dA = dev_of(c, A1, (size_t)m * k + 1, dt), *dB = dev_of(c, B1, (size_t)k * n + 1, dt);
    void *dC = dev_poison(c, (size_t)m * n + 1, KC_F32);
    kc_gemm(c, dt, KC_F32, 0, 0, m, n, k, 1.0f, (char *)dA + es, k, (char *)dB + es, n, 0.0f, (char *)dC + 4, n);
    CHECK_OK(kc_sync(c));
    float *all = malloc(sizeof(float) * ((size_t)m * n + 1));
    host_of(c, all, dC, (size_t)m * n + 1, KC_F32);
    memcpy(got, all + 1, sizeof(float) * m * n);
    char what[64];
    snprintf(what, sizeof what, "gemm %s unaligned pointers", kc_dtype_name(dt));
    compare(what, got, want, (size_t)m * n, tol_of(dt, KC_F32));
    kc_free(c, dA), kc_free(c, dB), kc_free(c, dC);
    free(A), free(B), free(A1), free(B1), free(want), free(got), free(all);
}

// ---- kc_matmul and kc_matmul_backward against the CPU ops ---------------------

static void test_matmul(kc_ctx *c, kc_dtype dt, int n, int d_in, int d_out, int with_bias) {
    const kernels_ops *cpu = kernels_cpu().ops;
    float *x = rand_vec((size_t)n * d_in, dt), *w = rand_vec((size_t)d_out * d_in, dt);
    float *bias = rand_vec((size_t)d_out, dt);
    float *want = malloc(sizeof(float) * n * d_out), *got = malloc(sizeof(float) * n * d_out);
    cpu->matmul(NULL, want, x, w, with_bias ? bias : NULL, n, d_in, d_out);
    void *dx = dev_of(c, x, (size_t)n * d_in, dt), *dw = dev_of(c, w, (size_t)d_out * d_in, dt);
    void *db = dev_of(c, bias, (size_t)d_out, dt), *dout = dev_poison(c, (size_t)n * d_out, dt);
    kc_matmul(c, dt, dout, dx, dw, with_bias ? db : NULL, n, d_in, d_out);
    CHECK_OK(kc_sync(c));
    host_of(c, got, dout, (size_t)n * d_out, dt);
    char what[96];
    snprintf(what, sizeof what, "matmul %s %dx%d->%d bias %d", kc_dtype_name(dt), n, d_in, d_out, with_bias);
    compare(what, got, want, (size_t)n * d_out, tol_of(dt, dt));
    kc_free(c, dx), kc_free(c, dw), kc_free(c, db), kc_free(c, dout);
    free(x), free(w), free(bias), free(want), free(got);
}

// which: bit 0 dx, bit 1 dw, bit 2 db.
static void test_matmul_backward(kc_ctx *c, kc_dtype dt, int n, int d_in, int d_out, int accumulate, int which) {
    const kernels_ops *cpu = kernels_cpu().ops;
    size_t nx = (size_t)n * d_in, nw = (size_t)d_out * d_in, no = (size_t)n * d_out;
    float *x = rand_vec(nx, dt), *w = rand_vec(nw, dt), *g = rand_vec(no, dt);
    float *dx0 = rand_vec(nx, dt), *dw0 = rand_vec(nw, KC_F32), *db0 = rand_vec((size_t)d_out, KC_F32);
    float *dx_want = malloc(sizeof(float) * nx), *dw_want = malloc(sizeof(float) * nw);
    float *db_want = malloc(sizeof(float) * d_out);
    memcpy(dx_want, dx0, sizeof(float) * nx);
    memcpy(dw_want, dw0, sizeof(float) * nw);
    memcpy(db_want, db0, sizeof(float) * d_out);
    cpu->matmul_backward(NULL, which & 1 ? dx_want : NULL, which & 2 ? dw_want : NULL, which & 4 ? db_want : NULL,
                         g, x, w, n, d_in, d_out, accumulate);
    void *d_x = dev_of(c, x, nx, dt), *d_w = dev_of(c, w, nw, dt), *d_g = dev_of(c, g, no, dt);
    void *d_dx = accumulate ? dev_of(c, dx0, nx, dt) : dev_poison(c, nx, dt);
    float *d_dw = dev_of(c, dw0, nw, KC_F32), *d_db = dev_of(c, db0, (size_t)d_out, KC_F32);
    kc_matmul_backward(c, dt, which & 1 ? d_dx : NULL, which & 2 ? d_dw : NULL, which & 4 ? d_db : NULL, d_g, d_x,
                       d_w, n, d_in, d_out, accumulate);
    CHECK_OK(kc_sync(c));
    float *got = malloc(sizeof(float) * (nx > nw ? nx : nw) + sizeof(float) * d_out);
    char what[128];
    if (which & 1) {
        host_of(c, got, d_dx, nx, dt);
        snprintf(what, sizeof what, "matmul_backward %s dx %dx%d->%d acc %d", kc_dtype_name(dt), n, d_in, d_out,
                 accumulate);
        compare(what, got, dx_want, nx, tol_of(dt, dt));
    }
    // dw and db are float32 sums of exact products in either dtype
    // (NULL: they must keep their initial values)
    host_of(c, got, d_dw, nw, KC_F32);
    snprintf(what, sizeof what, "matmul_backward %s dw %dx%d->%d%s", kc_dtype_name(dt), n, d_in, d_out,
             which & 2 ? "" : " (untouched)");
    compare(what, got, which & 2 ? dw_want : dw0, nw, tol_of(dt, KC_F32));
    host_of(c, got, d_db, (size_t)d_out, KC_F32);
    snprintf(what, sizeof what, "matmul_backward %s db %dx%d->%d%s", kc_dtype_name(dt), n, d_in, d_out,
             which & 4 ? "" : " (untouched)");
    compare(what, got, which & 4 ? db_want : db0, (size_t)d_out, 1e-5);
    kc_free(c, d_x), kc_free(c, d_w), kc_free(c, d_g), kc_free(c, d_dx), kc_free(c, d_dw), kc_free(c, d_db);
    free(x), free(w), free(g), free(dx0), free(dw0), free(db0), free(dx_want), free(dw_want), free(db_want);
    free(got);
}

static int run(kc_ctx *c) {
    test_gemm(c);
    test_gemm_unaligned(c, KC_F32);
    test_gemm_unaligned(c, KC_BF16);
    static const int shapes[][3] = {{37, 577, 200}, {37, 200, 577}, {1, 8, 3}, {64, 896, 1152}};
    for (int d = 0; d < 2; d++) {
        kc_dtype dt = d ? KC_BF16 : KC_F32;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            for (int b = 0; b < 2; b++) test_matmul(c, dt, shapes[s][0], shapes[s][1], shapes[s][2], b);
            for (int acc = 0; acc < 2; acc++)
                test_matmul_backward(c, dt, shapes[s][0], shapes[s][1], shapes[s][2], acc, 7);
        }
        test_matmul_backward(c, dt, 37, 200, 577, 0, 1);  // dx only
        test_matmul_backward(c, dt, 37, 200, 577, 1, 6);  // dw and db only
    }
    return test_finish("test_cuda_gemm");
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
