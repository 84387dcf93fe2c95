// test_cuda_attention.c: the CUDA attention family (kc_attention.h) against
// the CPU ops in the same process: attention_packed (out, lse) and its
// backward (dq, dk, dv) on packed batches of documents whose lengths are not
// multiples of the tile, grouped and plain heads, head dims 64, 128, 40 and
// 256; decode over a KV cache written by kc_kv_store, with a long sequence
// that takes the split path. Both dtypes (bf16 inputs are rounded on the host
// first, so both sides see the same values); outputs are poisoned (NaN) before
// each call, so an unwritten element fails. Skipped (exit 77) without the CUDA
// backend or a device.
#include <math.h>    // sqrt
#include <stdio.h>   // printf
#include <stdlib.h>  // malloc, free
#include <string.h>  // memcpy

#include "core/core.h"        // rlc_last_error
#include "kernels/kernels.h"  // kernels_cpu, kernels_cuda_compiled
#include "test.h"

#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_attention.h"  // the ops under test
#include "kernels/cuda/kcuda.h"         // kc_open, kc_malloc, kc_upload, ...
#include "cuda_test.h"                  // CT_OPEN_OR_SKIP

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

static float rnd(void) {  // uniform in [-1, 1)
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float *host_rand(size_t n, float amp, kc_dtype dt) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        x[i] = amp * rnd();
        if (dt == KC_BF16) x[i] = kc_bf16_to_f32(kc_f32_to_bf16(x[i]));
    }
    return x;
}

// A device copy of x (n) in dtype dt.
static void *dev_from(kc_ctx *c, const float *x, size_t n, kc_dtype dt) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * kc_dtype_size(dt)));
    if (dt == KC_F32) {
        CHECK_OK(kc_upload(c, d, x, n * sizeof(float)));
    } else {
        kc_bf16 *h = malloc(n * sizeof *h);
        for (size_t i = 0; i < n; i++) h[i] = kc_f32_to_bf16(x[i]);
        CHECK_OK(kc_upload(c, d, h, n * sizeof *h));
        free(h);
    }
    return d;
}

// n elements of dtype dt, poisoned with NaN.
static void *dev_poisoned(kc_ctx *c, size_t n, kc_dtype dt) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * kc_dtype_size(dt)));
    CHECK_OK(kc_memset(c, d, 0xFF, n * kc_dtype_size(dt)));
    return d;
}

static float *host_from(kc_ctx *c, const void *d, size_t n, kc_dtype dt) {
    float *x = malloc(n * sizeof *x);
    if (dt == KC_F32) {
        CHECK_OK(kc_download(c, x, d, n * sizeof(float)));
    } else {
        kc_bf16 *h = malloc(n * sizeof *h);
        CHECK_OK(kc_download(c, h, d, n * sizeof *h));
        for (size_t i = 0; i < n; i++) x[i] = kc_bf16_to_f32(h[i]);
        free(h);
    }
    return x;
}

static void compare(const char *what, const float *got, const float *want, size_t n, double tol) {
    size_t worst = 0;
    double worst_abs = 0;
    double err = test_rel_l2(got, want, n, &worst, &worst_abs);
    CHECK_MSG(err <= tol, "%s: rel L2 %.3g > %.3g; worst [%zu] %g vs %g (abs %.3g)", what, err, tol, worst,
              (double)got[worst], (double)want[worst], worst_abs);
}

static double tol_of(kc_dtype dt) { return dt == KC_BF16 ? 2e-2 : 1e-4; }

// One packed batch: forward and backward on both sides.
static void check_packed(kc_ctx *c, kc_dtype dt, const int *lens, int n_seqs, int H, int KV, int D) {
    const kernels_ops *cpu = kernels_cpu().ops;
    int cu[16] = {0};
    for (int s = 0; s < n_seqs; s++) cu[s + 1] = cu[s] + lens[s];
    const int n = cu[n_seqs];
    const size_t nq = (size_t)n * H * D, nk = (size_t)n * KV * D, nr = (size_t)n * H;
    char what[160];
    snprintf(what, sizeof what, "%s n=%d docs=%d H=%d KV=%d D=%d", kc_dtype_name(dt), n, n_seqs, H, KV, D);

    float *q = host_rand(nq, 1.5f, dt), *k = host_rand(nk, 1.5f, dt), *v = host_rand(nk, 1.0f, dt);
    float *dout = host_rand(nq, 1.0f, dt);
    float *out = malloc(nq * sizeof *out), *lse = malloc(nr * sizeof *lse), *delta = malloc(nr * sizeof *delta);
    float *dq = malloc(nq * sizeof *dq), *dk = malloc(nk * sizeof *dk), *dv = malloc(nk * sizeof *dv);
    cpu->attention_packed(NULL, out, lse, q, k, v, cu, n_seqs, n, H, KV, D);
    cpu->attention_packed_backward(NULL, dq, dk, dv, delta, dout, q, k, v, out, lse, cu, n_seqs, n, H, KV, D);

    void *d_q = dev_from(c, q, nq, dt), *d_k = dev_from(c, k, nk, dt), *d_v = dev_from(c, v, nk, dt);
    void *d_dout = dev_from(c, dout, nq, dt);
    int *d_cu = NULL;
    CHECK_OK(kc_malloc(c, (void **)&d_cu, sizeof(int) * (n_seqs + 1)));
    CHECK_OK(kc_upload(c, d_cu, cu, sizeof(int) * (n_seqs + 1)));
    void *d_out = dev_poisoned(c, nq, dt), *d_dq = dev_poisoned(c, nq, dt);
    void *d_dk = dev_poisoned(c, nk, dt), *d_dv = dev_poisoned(c, nk, dt);
    float *d_lse = dev_poisoned(c, nr, KC_F32), *d_delta = dev_poisoned(c, nr, KC_F32);
    size_t sb = kc_attention_backward_scratch_bytes(n, H, KV, D);
    void *d_scratch = NULL;
    CHECK_OK(kc_malloc(c, &d_scratch, sb));
    CHECK_OK(kc_memset(c, d_scratch, 0xFF, sb));

    kc_attention_packed(c, dt, d_out, d_lse, d_q, d_k, d_v, d_cu, n_seqs, n, H, KV, D);
    CHECK_OK(kc_sync(c));
    kc_attention_packed_backward(c, dt, d_dq, d_dk, d_dv, d_delta, d_scratch, d_dout, d_q, d_k, d_v, d_out, d_lse,
                                 d_cu, n_seqs, n, H, KV, D);
    CHECK_OK(kc_sync(c));

    double tol = tol_of(dt);
    char name[200];
    float *g;
    g = host_from(c, d_out, nq, dt), snprintf(name, sizeof name, "%s out", what), compare(name, g, out, nq, tol), free(g);
    g = host_from(c, d_lse, nr, KC_F32), snprintf(name, sizeof name, "%s lse", what), compare(name, g, lse, nr, tol), free(g);
    g = host_from(c, d_delta, nr, KC_F32), snprintf(name, sizeof name, "%s delta", what), compare(name, g, delta, nr, tol), free(g);
    g = host_from(c, d_dq, nq, dt), snprintf(name, sizeof name, "%s dq", what), compare(name, g, dq, nq, tol), free(g);
    g = host_from(c, d_dk, nk, dt), snprintf(name, sizeof name, "%s dk", what), compare(name, g, dk, nk, tol), free(g);
    g = host_from(c, d_dv, nk, dt), snprintf(name, sizeof name, "%s dv", what), compare(name, g, dv, nk, tol), free(g);
    printf("packed %s: ok=%d\n", what, test_failures == 0);

    kc_free(c, d_q), kc_free(c, d_k), kc_free(c, d_v), kc_free(c, d_dout), kc_free(c, d_cu), kc_free(c, d_out);
    kc_free(c, d_dq), kc_free(c, d_dk), kc_free(c, d_dv), kc_free(c, d_lse), kc_free(c, d_delta), kc_free(c, d_scratch);
    free(q), free(k), free(v), free(dout), free(out), free(lse), free(delta), free(dq), free(dk), free(dv);
}

// Decode of n tokens over caches of n_slots x max_seq: the new k, v go in with
// kc_kv_store (and by hand on the host), then attention over [0, pos].
static void check_decode(kc_ctx *c, kc_dtype dt, const int *slot, const int *pos, int n, int n_slots, int H, int KV,
                         int D, int max_seq) {
    const kernels_ops *cpu = kernels_cpu().ops;
    const size_t ncache = (size_t)n_slots * max_seq * KV * D, nq = (size_t)n * H * D, nk = (size_t)n * KV * D;
    char what[160];
    snprintf(what, sizeof what, "decode %s n=%d H=%d KV=%d D=%d max_seq=%d", kc_dtype_name(dt), n, H, KV, D, max_seq);

    float *kc = host_rand(ncache, 1.5f, dt), *vc = host_rand(ncache, 1.0f, dt);
    float *q = host_rand(nq, 1.5f, dt), *k = host_rand(nk, 1.5f, dt), *v = host_rand(nk, 1.0f, dt);
    void *d_kc = dev_from(c, kc, ncache, dt), *d_vc = dev_from(c, vc, ncache, dt);
    void *d_q = dev_from(c, q, nq, dt), *d_k = dev_from(c, k, nk, dt), *d_v = dev_from(c, v, nk, dt);
    int *d_slot = NULL, *d_pos = NULL;
    CHECK_OK(kc_malloc(c, (void **)&d_slot, sizeof(int) * n));
    CHECK_OK(kc_malloc(c, (void **)&d_pos, sizeof(int) * n));
    CHECK_OK(kc_upload(c, d_slot, slot, sizeof(int) * n));
    CHECK_OK(kc_upload(c, d_pos, pos, sizeof(int) * n));
    void *d_out = dev_poisoned(c, nq, dt);

    for (int i = 0; i < n; i++) {
        size_t row = ((size_t)slot[i] * max_seq + pos[i]) * KV * D;
        memcpy(kc + row, k + (size_t)i * KV * D, (size_t)KV * D * sizeof(float));
        memcpy(vc + row, v + (size_t)i * KV * D, (size_t)KV * D * sizeof(float));
    }
    float *out = malloc(nq * sizeof *out);
    cpu->attention(NULL, out, q, kc, vc, slot, pos, n, H, KV, D, max_seq);

    kc_kv_store(c, dt, d_kc, d_vc, d_k, d_v, d_slot, d_pos, n, KV, D, max_seq);
    kc_attention_decode(c, dt, d_out, d_q, d_kc, d_vc, d_slot, d_pos, n, H, KV, D, max_seq);
    CHECK_OK(kc_sync(c));

    float *g = host_from(c, d_out, nq, dt);
    compare(what, g, out, nq, tol_of(dt));
    free(g);
    g = host_from(c, d_kc, ncache, dt);  // the store touched the right rows only
    compare("kv_store k", g, kc, ncache, 0.0);
    free(g);
    g = host_from(c, d_vc, ncache, dt);
    compare("kv_store v", g, vc, ncache, 0.0);
    free(g);
    printf("%s: ok=%d\n", what, test_failures == 0);

    kc_free(c, d_kc), kc_free(c, d_vc), kc_free(c, d_q), kc_free(c, d_k), kc_free(c, d_v);
    kc_free(c, d_slot), kc_free(c, d_pos), kc_free(c, d_out);
    free(kc), free(vc), free(q), free(k), free(v), free(out);
}

static void run_all(kc_ctx *c) {
    static const int lens_a[] = {1, 37, 130, 65}, lens_b[] = {200, 3, 64, 129, 70}, lens_c[] = {300};
    for (int t = 0; t < 2; t++) {
        kc_dtype dt = t ? KC_BF16 : KC_F32;
        check_packed(c, dt, lens_a, 4, 6, 2, 64);
        check_packed(c, dt, lens_b, 5, 4, 4, 64);
        check_packed(c, dt, lens_a, 4, 4, 4, 128);
        check_packed(c, dt, lens_b, 5, 6, 2, 128);
        check_packed(c, dt, lens_a, 4, 6, 2, 40);
        check_packed(c, dt, lens_c, 1, 14, 2, 64);
        check_packed(c, dt, lens_a, 4, 2, 1, 256);

        static const int slot[] = {3, 0, 4, 1, 2, 5}, pos[] = {0, 5, 63, 128, 200, 3000};
        check_decode(c, dt, slot, pos, 6, 6, 6, 2, 64, 3072);
        check_decode(c, dt, slot, pos, 6, 6, 4, 4, 128, 3072);
        check_decode(c, dt, slot, pos, 6, 6, 14, 2, 36, 3072);  // D % 8 != 0: scalar loads
        check_decode(c, dt, slot, pos, 6, 6, 2, 1, 256, 3072);
        static const int slot_s[] = {1, 0, 2}, pos_s[] = {99, 0, 42};
        check_decode(c, dt, slot_s, pos_s, 3, 3, 20, 2, 64, 100);  // one split; two head groups
    }
}
#endif

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    CT_OPEN_OR_SKIP(c);
    run_all(c);
    kc_close(c);
    return test_finish("test_cuda_attention");
#else
    return test_finish("test_cuda_attention");
#endif
}
