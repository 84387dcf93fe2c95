// test_cuda_ops.c: every op of kernels/cuda/kc_ops.h, forward and backward,
// against the CPU op of the same name (kernels_cpu()) in the same process, on
// fresh random inputs (the seed is printed; RLC_SEED=N repeats a run), in
// float32 (relative L2 error <= 1e-5) and bfloat16 (<= 1e-2; the inputs are
// rounded to bfloat16 on the host first so that the CPU sees the same values).
// Device outputs are poisoned with NaN first (or pre-filled with known values
// for the ops that add into them), so an element left unwritten fails. The
// shapes are not multiples of the block or pack sizes, some pointers are
// misaligned on purpose (the scalar paths), and the in-place forms are
// checked. Skipped (exit 77) without the CUDA backend or a device.
#include <stdint.h>  // uint64_t
#include <stdio.h>   // printf
#include <stdlib.h>  // malloc, free, getenv, strtoull
#include <string.h>  // memcpy
#include <time.h>    // time

#include "core/core.h"        // rlc_last_error
#include "kernels/kernels.h"  // kernels_cpu, kernels_cuda_compiled
#include "test.h"

#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_ops.h"  // kc_* ops, kcuda.h
#include "cuda_test.h"            // CT_OPEN_OR_SKIP

static const kernels_ops *cpu;
static uint64_t rng_state;

static float frand(void) {  // uniform in [-1, 1)
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float *host_alloc(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "test_cuda_ops: out of host memory\n");
        abort();
    }
    return p;
}

// The value a dtype stores: bfloat16 rounds to nearest even.
static float stored(kc_dtype dt, float x) { return dt == KC_BF16 ? kc_bf16_to_f32(kc_f32_to_bf16(x)) : x; }

// n random values scaled by `scale`, already as dtype dt stores them.
static float *random_host(kc_dtype dt, size_t n, float scale) {
    float *h = host_alloc(n);
    for (size_t i = 0; i < n; i++) h[i] = stored(dt, scale * frand());
    return h;
}

static float *copy_host(const float *h, size_t n) {
    float *p = host_alloc(n);
    memcpy(p, h, n * sizeof *p);
    return p;
}

// Device buffer of n elements of dtype dt holding h (values dt can store).
static void *device_from(kc_ctx *c, kc_dtype dt, const float *h, size_t n) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * kc_dtype_size(dt)));
    if (dt == KC_F32) {
        CHECK_OK(kc_upload(c, d, h, n * sizeof(float)));
    } else {
        kc_bf16 *b = malloc((n ? n : 1) * sizeof *b);
        CHECK(b != NULL);
        for (size_t i = 0; b && i < n; i++) b[i] = kc_f32_to_bf16(h[i]);
        if (b) CHECK_OK(kc_upload(c, d, b, n * sizeof *b));
        free(b);
    }
    return d;
}

// Device buffer of n elements of dtype dt, every byte 0xFF (NaN in both dtypes).
static void *device_poisoned(kc_ctx *c, kc_dtype dt, size_t n) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * kc_dtype_size(dt)));
    CHECK_OK(kc_memset(c, d, 0xFF, n * kc_dtype_size(dt)));
    return d;
}

static void *device_ints(kc_ctx *c, const int *h, size_t n) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * sizeof(int)));
    CHECK_OK(kc_upload(c, d, h, n * sizeof(int)));
    return d;
}

// h (n) float32 = the device buffer d of dtype dt, after waiting for the ops.
static void host_from(kc_ctx *c, kc_dtype dt, float *h, const void *d, size_t n) {
    CHECK_OK(kc_sync(c));
    if (dt == KC_F32) {
        CHECK_OK(kc_download(c, h, d, n * sizeof(float)));
        return;
    }
    kc_bf16 *b = malloc((n ? n : 1) * sizeof *b);
    CHECK(b != NULL);
    if (!b) return;
    CHECK_OK(kc_download(c, b, d, n * sizeof *b));
    for (size_t i = 0; i < n; i++) h[i] = kc_bf16_to_f32(b[i]);
    free(b);
}

// Downloads the device result and compares it with the CPU's ref.
static void expect(kc_ctx *c, const char *what, kc_dtype dt, kc_dtype out_dt, const void *d, const float *ref,
                   size_t n) {
    float *got = host_alloc(n);
    host_from(c, out_dt, got, d, n);
    size_t worst = 0;
    double worst_abs = 0;
    double err = test_rel_l2(got, ref, n, &worst, &worst_abs);
    double tol = dt == KC_BF16 ? 1e-2 : 1e-5;
    printf("  %-32s %-4s n=%-8zu rel_l2 %.2e  worst |d| %.2e at %zu (got %g, want %g)\n", what, kc_dtype_name(dt),
           n, err, worst_abs, worst, n ? got[worst] : 0.0, n ? ref[worst] : 0.0);
    CHECK_MSG(err <= tol, "%s (%s): rel_l2 %g > %g", what, kc_dtype_name(dt), err, tol);
    free(got);
}

// ---- embedding ---------------------------------------------------------------

static void test_embedding(kc_ctx *c, kc_dtype dt, int V, int n, int C) {
    char what[64];
    float *table = random_host(dt, (size_t)V * C, 1.0f), *dout = random_host(dt, (size_t)n * C, 1.0f);
    float *dtable = random_host(KC_F32, (size_t)V * C, 1.0f), *out = host_alloc((size_t)n * C);
    int *ids = malloc((size_t)n * sizeof *ids);
    CHECK(ids != NULL);
    for (int i = 0; i < n; i++) ids[i] = (int)((frand() + 1.0f) * 0.5f * V) % V;  // repeats when n > V
    void *d_table = device_from(c, dt, table, (size_t)V * C), *d_ids = device_ints(c, ids, (size_t)n);
    void *d_out = device_poisoned(c, dt, (size_t)n * C), *d_dout = device_from(c, dt, dout, (size_t)n * C);
    void *d_dtable = device_from(c, KC_F32, dtable, (size_t)V * C);

    kc_embedding(c, dt, d_out, d_table, d_ids, n, C);
    cpu->embedding(NULL, out, table, ids, n, C);
    snprintf(what, sizeof what, "embedding (%d, %d)", n, C);
    expect(c, what, dt, dt, d_out, out, (size_t)n * C);

    kc_embedding_backward(c, dt, d_dtable, d_dout, d_ids, n, C);
    cpu->embedding_backward(NULL, dtable, dout, ids, n, C);
    snprintf(what, sizeof what, "embedding_backward (%d, %d)", n, C);
    expect(c, what, dt, KC_F32, d_dtable, dtable, (size_t)V * C);

    kc_free(c, d_table), kc_free(c, d_ids), kc_free(c, d_out), kc_free(c, d_dout), kc_free(c, d_dtable);
    free(table), free(dout), free(dtable), free(out), free(ids);
}

// ---- rmsnorm -------------------------------------------------------------------

static void test_rmsnorm(kc_ctx *c, kc_dtype dt, int n, int C) {
    char what[64];
    const float eps = 1e-6f;
    size_t nc = (size_t)n * C;
    float *x = random_host(dt, nc, 2.0f), *w = random_host(dt, (size_t)C, 1.0f);
    float *dout = random_host(dt, nc, 1.0f), *out = host_alloc(nc);
    void *d_x = device_from(c, dt, x, nc), *d_w = device_from(c, dt, w, (size_t)C);
    void *d_out = device_poisoned(c, dt, nc), *d_dout = device_from(c, dt, dout, nc);

    cpu->rmsnorm(NULL, out, x, w, n, C, eps);
    kc_rmsnorm(c, dt, d_out, d_x, d_w, n, C, eps);
    snprintf(what, sizeof what, "rmsnorm (%d, %d)", n, C);
    expect(c, what, dt, dt, d_out, out, nc);
    void *d_inplace = device_from(c, dt, x, nc);  // out == x
    kc_rmsnorm(c, dt, d_inplace, d_inplace, d_w, n, C, eps);
    snprintf(what, sizeof what, "rmsnorm in place (%d, %d)", n, C);
    expect(c, what, dt, dt, d_inplace, out, nc);

    // dx written (=) over NaN, then added (+=) into known values; dw always added into.
    for (int accumulate = 0; accumulate <= 1; accumulate++) {
        float *dx = accumulate ? random_host(dt, nc, 1.0f) : host_alloc(nc);
        float *dw = random_host(KC_F32, (size_t)C, 1.0f);
        void *d_dx = accumulate ? device_from(c, dt, dx, nc) : device_poisoned(c, dt, nc);
        void *d_dw = device_from(c, KC_F32, dw, (size_t)C);
        cpu->rmsnorm_backward(NULL, dx, dw, dout, x, w, n, C, eps, accumulate);
        kc_rmsnorm_backward(c, dt, d_dx, d_dw, d_dout, d_x, d_w, n, C, eps, accumulate);
        snprintf(what, sizeof what, "rmsnorm_backward dx%s (%d, %d)", accumulate ? "+=" : "", n, C);
        expect(c, what, dt, dt, d_dx, dx, nc);
        snprintf(what, sizeof what, "rmsnorm_backward dw (%d, %d)", n, C);
        expect(c, what, dt, KC_F32, d_dw, dw, (size_t)C);
        kc_free(c, d_dx), kc_free(c, d_dw);
        free(dx), free(dw);
    }
    // dw NULL: dx alone.
    float *dx = host_alloc(nc);
    void *d_dx = device_poisoned(c, dt, nc);
    cpu->rmsnorm_backward(NULL, dx, NULL, dout, x, w, n, C, eps, 0);
    kc_rmsnorm_backward(c, dt, d_dx, NULL, d_dout, d_x, d_w, n, C, eps, 0);
    snprintf(what, sizeof what, "rmsnorm_backward no dw (%d, %d)", n, C);
    expect(c, what, dt, dt, d_dx, dx, nc);

    kc_free(c, d_x), kc_free(c, d_w), kc_free(c, d_out), kc_free(c, d_dout), kc_free(c, d_inplace), kc_free(c, d_dx);
    free(x), free(w), free(dout), free(out), free(dx);
}

// ---- rope ----------------------------------------------------------------------

static void test_rope(kc_ctx *c, kc_dtype dt, int n, int H, int D) {
    char what[64];
    size_t nhd = (size_t)n * H * D;
    int half = D / 2;
    float *x = random_host(dt, nhd, 1.0f), *inv_freq = host_alloc(half > 0 ? (size_t)half : 1);
    int *pos = malloc((size_t)n * sizeof *pos);
    CHECK(pos != NULL);
    for (int i = 0; i < n; i++) pos[i] = (int)((frand() + 1.0f) * 2000.0f);  // up to 4000
    for (int k = 0; k < half; k++) inv_freq[k] = powf(1e6f, -2.0f * (float)k / (float)D);
    void *d_x = device_from(c, dt, x, nhd), *d_pos = device_ints(c, pos, (size_t)n);
    void *d_inv = device_from(c, KC_F32, inv_freq, (size_t)half);

    float *ref = copy_host(x, nhd);
    cpu->rope(NULL, ref, pos, inv_freq, n, H, D);
    kc_rope(c, dt, d_x, d_pos, d_inv, n, H, D);
    snprintf(what, sizeof what, "rope (%d, %d, %d)", n, H, D);
    expect(c, what, dt, dt, d_x, ref, nhd);

    // The backward from the same input (a fresh upload: the forward rotated d_x).
    kc_free(c, d_x);
    d_x = device_from(c, dt, x, nhd);
    memcpy(ref, x, nhd * sizeof *ref);
    cpu->rope_backward(NULL, ref, pos, inv_freq, n, H, D);
    kc_rope_backward(c, dt, d_x, d_pos, d_inv, n, H, D);
    snprintf(what, sizeof what, "rope_backward (%d, %d, %d)", n, H, D);
    expect(c, what, dt, dt, d_x, ref, nhd);

    kc_free(c, d_x), kc_free(c, d_pos), kc_free(c, d_inv);
    free(x), free(inv_freq), free(pos), free(ref);
}

// ---- swiglu and add ------------------------------------------------------------

// offset > 0 starts every pointer `offset` elements into its buffer, so the
// kernels cannot use 16-byte packs.
static void test_swiglu_add(kc_ctx *c, kc_dtype dt, size_t n, size_t offset) {
    char what[64];
    size_t total = n + offset, es = kc_dtype_size(dt);
    float *gate = random_host(dt, total, 4.0f), *up = random_host(dt, total, 1.0f);
    float *dout = random_host(dt, total, 1.0f), *out = host_alloc(total);
    char *d_gate = device_from(c, dt, gate, total), *d_up = device_from(c, dt, up, total);
    char *d_dout = device_from(c, dt, dout, total), *d_out = device_poisoned(c, dt, total);
    char *d_out2 = device_poisoned(c, dt, total);
    const float *g = gate + offset, *u = up + offset, *d = dout + offset;
    size_t o = offset * es;

    cpu->swiglu(NULL, out, g, u, n);
    kc_swiglu(c, dt, d_out + o, d_gate + o, d_up + o, n);
    snprintf(what, sizeof what, "swiglu (%zu) +%zu", n, offset);
    expect(c, what, dt, dt, d_out + o, out, n);

    float *dgate = host_alloc(n), *dup = host_alloc(n);
    cpu->swiglu_backward(NULL, dgate, dup, d, g, u, n);
    kc_swiglu_backward(c, dt, d_out + o, d_out2 + o, d_dout + o, d_gate + o, d_up + o, n);
    snprintf(what, sizeof what, "swiglu_backward dgate (%zu) +%zu", n, offset);
    expect(c, what, dt, dt, d_out + o, dgate, n);
    snprintf(what, sizeof what, "swiglu_backward dup (%zu) +%zu", n, offset);
    expect(c, what, dt, dt, d_out2 + o, dup, n);

    cpu->add(NULL, out, g, u, n);
    CHECK_OK(kc_memset(c, d_out, 0xFF, total * es));
    kc_add(c, dt, d_out + o, d_gate + o, d_up + o, n);
    snprintf(what, sizeof what, "add (%zu) +%zu", n, offset);
    expect(c, what, dt, dt, d_out + o, out, n);

    // In place: swiglu_backward with dgate == dout and dup == up (on copies),
    // then swiglu with out == gate and add with out == a.
    char *d_dout_copy = device_from(c, dt, dout, total), *d_up_copy = device_from(c, dt, up, total);
    kc_swiglu_backward(c, dt, d_dout_copy + o, d_up_copy + o, d_dout_copy + o, d_gate + o, d_up_copy + o, n);
    snprintf(what, sizeof what, "swiglu_backward dgate=dout (%zu)", n);
    expect(c, what, dt, dt, d_dout_copy + o, dgate, n);
    snprintf(what, sizeof what, "swiglu_backward dup=up (%zu)", n);
    expect(c, what, dt, dt, d_up_copy + o, dup, n);

    cpu->swiglu(NULL, out, g, u, n);
    kc_swiglu(c, dt, d_gate + o, d_gate + o, d_up + o, n);
    snprintf(what, sizeof what, "swiglu out=gate (%zu) +%zu", n, offset);
    expect(c, what, dt, dt, d_gate + o, out, n);

    cpu->add(NULL, out, d, u, n);
    kc_add(c, dt, d_dout + o, d_dout + o, d_up + o, n);
    snprintf(what, sizeof what, "add out=a (%zu) +%zu", n, offset);
    expect(c, what, dt, dt, d_dout + o, out, n);

    kc_free(c, d_gate), kc_free(c, d_up), kc_free(c, d_dout), kc_free(c, d_out), kc_free(c, d_out2);
    kc_free(c, d_dout_copy), kc_free(c, d_up_copy);
    free(gate), free(up), free(dout), free(out), free(dgate), free(dup);
}

// ---- softmax and log-softmax ----------------------------------------------------

static void test_softmax(kc_ctx *c, kc_dtype dt, int n, int V) {
    char what[64];
    size_t nv = (size_t)n * V;
    float *x = random_host(dt, nv, 8.0f), *ref = copy_host(x, nv), *lref = host_alloc(nv);
    x[0] = stored(dt, 30.0f);  // one row with a dominant logit
    ref[0] = x[0];
    void *d_x = device_from(c, dt, x, nv), *d_out = device_poisoned(c, dt, nv);

    cpu->log_softmax(NULL, lref, x, n, V);
    kc_log_softmax(c, dt, d_out, d_x, n, V);
    snprintf(what, sizeof what, "log_softmax (%d, %d)", n, V);
    expect(c, what, dt, dt, d_out, lref, nv);
    kc_log_softmax(c, dt, d_x, d_x, n, V);  // out == x
    snprintf(what, sizeof what, "log_softmax in place (%d, %d)", n, V);
    expect(c, what, dt, dt, d_x, lref, nv);

    kc_free(c, d_x);
    d_x = device_from(c, dt, x, nv);
    cpu->softmax(NULL, ref, n, V);
    kc_softmax(c, dt, d_x, n, V);
    snprintf(what, sizeof what, "softmax (%d, %d)", n, V);
    expect(c, what, dt, dt, d_x, ref, nv);

    kc_free(c, d_x), kc_free(c, d_out);
    free(x), free(ref), free(lref);
}

// n == 0 must launch nothing and record no error.
static void test_empty(kc_ctx *c, kc_dtype dt) {
    kc_embedding(c, dt, NULL, NULL, NULL, 0, 16);
    kc_embedding_backward(c, dt, NULL, NULL, NULL, 0, 16);
    kc_rmsnorm(c, dt, NULL, NULL, NULL, 0, 16, 1e-6f);
    kc_rmsnorm_backward(c, dt, NULL, NULL, NULL, NULL, NULL, 0, 16, 1e-6f, 0);
    kc_rope(c, dt, NULL, NULL, NULL, 0, 2, 16);
    kc_rope_backward(c, dt, NULL, NULL, NULL, 0, 2, 16);
    kc_swiglu(c, dt, NULL, NULL, NULL, 0);
    kc_swiglu_backward(c, dt, NULL, NULL, NULL, NULL, NULL, 0);
    kc_add(c, dt, NULL, NULL, NULL, 0);
    kc_softmax(c, dt, NULL, 0, 16);
    kc_log_softmax(c, dt, NULL, NULL, 0, 16);
    CHECK_OK(kc_sync(c));
}

static void run_all(kc_ctx *c, kc_dtype dt) {
    printf("%s:\n", kc_dtype_name(dt));
    test_empty(c, dt);
    test_embedding(c, dt, 50, 37, 200);  // packs (200 = 25 x 8)
    test_embedding(c, dt, 50, 37, 577);  // scalar
    test_rmsnorm(c, dt, 37, 200);        // packs, 50 or 25 per row
    test_rmsnorm(c, dt, 37, 577);        // scalar
    test_rmsnorm(c, dt, 300, 896);       // more rows than blocks in the backward
    test_rmsnorm(c, dt, 3, 13001);       // dw above 48 KiB of shared memory
    test_rope(c, dt, 37, 3, 64);         // packs
    test_rope(c, dt, 37, 5, 20);         // scalar (10 pairs)
    test_rope(c, dt, 7, 2, 9);           // odd D: the last element stays
    test_swiglu_add(c, dt, 37, 0);
    test_swiglu_add(c, dt, 1000003, 0);  // packs and a tail
    test_swiglu_add(c, dt, 1001, 1);     // misaligned: scalar
    test_softmax(c, dt, 37, 577);        // scalar
    test_softmax(c, dt, 5, 16000);       // packs, a long row (1024 threads, 2 passes)
    test_softmax(c, dt, 3, 5);           // fewer columns than a warp
}
#endif  // RLC_HAVE_CUDA

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    CT_OPEN_OR_SKIP(c);
    const char *seed = getenv("RLC_SEED");
    rng_state = seed ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL);
    printf("test_cuda_ops: seed %llu (RLC_SEED=N repeats it)\n", (unsigned long long)rng_state);
    cpu = kernels_cpu().ops;
    run_all(c, KC_F32);
    run_all(c, KC_BF16);
    kc_close(c);
    return test_finish("test_cuda_ops");
#else
    TEST_SKIP("this build has no CUDA backend");
#endif
}
