// test_kernels.c: every CPU op against a plain double-precision reference on
// random inputs of odd sizes (matmul, embedding, RMSNorm, RoPE, GQA attention
// over a KV cache, SwiGLU, add, softmax, log-softmax, argmax, logsumexp).
#include <math.h>
#include <stdint.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "test.h"

static uint64_t rng = 42;
static float frand(void) {  // uniform in [-1, 1)
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / 8388608.0 - 1.0);
}
static float *rand_buf(size_t n) {
    float *p = rlc_malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

// Compares with atol + rtol * |ref| per element, printing the worst one.
static void check_close(const char *what, const float *out, const double *ref, size_t n, double atol, double rtol) {
    double worst = 0;
    size_t wi = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)out[i] - ref[i]);
        if (!(err <= atol + rtol * fabs(ref[i]))) bad++;
        if (!(err <= worst)) {
            worst = err;
            wi = i;
        }
    }
    CHECK_MSG(bad == 0, "%s: %d of %zu elements off; worst at %zu: %g vs %g", what, bad, n, wi, out[wi], ref[wi]);
    printf("%-12s max abs err %.3g (element %zu)\n", what, worst, wi);
}

static void test_matmul(kernels_backend be) {
    const int rows[] = {1, 2, 5, 16, 33, 40};  // gemv, skinny (even, odd), sgemm
    for (int r = 0; r < 6; r++) {
        int n = rows[r], din = 37, dout = 30;
        float *x = rand_buf((size_t)n * din), *w = rand_buf((size_t)dout * din), *b = rand_buf(dout);
        float *out = rlc_malloc(sizeof(float) * n * dout);
        double *ref = rlc_malloc(sizeof(double) * n * dout);
        be.ops->matmul(be.ctx, out, x, w, b, n, din, dout);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dout; j++) {
                double s = b[j];
                for (int k = 0; k < din; k++) s += (double)x[i * din + k] * w[j * din + k];
                ref[i * dout + j] = s;
            }
        char what[32];
        snprintf(what, sizeof what, "matmul n=%d", n);
        check_close(what, out, ref, (size_t)n * dout, 1e-5, 1e-5);
        rlc_free(x), rlc_free(w), rlc_free(b), rlc_free(out), rlc_free(ref);
    }
}

static void test_rmsnorm_swiglu_add(kernels_backend be) {
    int n = 5, C = 33;
    float *x = rand_buf((size_t)n * C), *w = rand_buf(C), *y = rand_buf((size_t)n * C);
    float *out = rlc_malloc(sizeof(float) * n * C);
    double *ref = rlc_malloc(sizeof(double) * n * C);
    be.ops->rmsnorm(be.ctx, out, x, w, n, C, 1e-6f);
    for (int i = 0; i < n; i++) {
        double ss = 0;
        for (int c = 0; c < C; c++) ss += (double)x[i * C + c] * x[i * C + c];
        double sc = 1.0 / sqrt(ss / C + 1e-6);
        for (int c = 0; c < C; c++) ref[i * C + c] = x[i * C + c] * sc * w[c];
    }
    check_close("rmsnorm", out, ref, (size_t)n * C, 1e-6, 1e-5);
    be.ops->swiglu(be.ctx, out, x, y, (size_t)n * C);
    for (int i = 0; i < n * C; i++) ref[i] = x[i] / (1.0 + exp(-(double)x[i])) * y[i];
    check_close("swiglu", out, ref, (size_t)n * C, 1e-6, 1e-5);
    be.ops->add(be.ctx, out, x, y, (size_t)n * C);
    for (int i = 0; i < n * C; i++) ref[i] = (double)x[i] + y[i];
    check_close("add", out, ref, (size_t)n * C, 1e-7, 1e-6);
    int ids[3] = {4, 0, 2};
    be.ops->embedding(be.ctx, out, x, ids, 3, C);
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < C; c++) ref[i * C + c] = x[ids[i] * C + c];
    check_close("embedding", out, ref, (size_t)3 * C, 0, 0);
    rlc_free(x), rlc_free(w), rlc_free(y), rlc_free(out), rlc_free(ref);
}

static void test_rope(kernels_backend be) {
    int n = 3, H = 3, D = 10, pos[3] = {0, 5, 77};
    float inv[5];
    for (int k = 0; k < D / 2; k++) inv[k] = 1.0f / powf(10000.0f, 2.0f * k / D);
    float *x = rand_buf((size_t)n * H * D);
    double *ref = rlc_malloc(sizeof(double) * n * H * D);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++)
            for (int k = 0; k < D / 2; k++) {
                const float *v = x + (i * H + h) * D;
                double a = pos[i] * (double)inv[k];
                ref[(i * H + h) * D + k] = v[k] * cos(a) - v[k + D / 2] * sin(a);
                ref[(i * H + h) * D + k + D / 2] = v[k + D / 2] * cos(a) + v[k] * sin(a);
            }
    be.ops->rope(be.ctx, x, pos, inv, n, H, D);
    check_close("rope", x, ref, (size_t)n * H * D, 2e-5, 1e-4);
    rlc_free(x), rlc_free(ref);
}

// Two slots of different lengths; query tokens at several positions.
static void test_attention(kernels_backend be) {
    int H = 4, KV = 2, D = 6, max_seq = 9, n_slots = 2, n = 3;
    int slot[3] = {0, 1, 1}, pos[3] = {4, 0, 7};
    float *kc = rand_buf((size_t)n_slots * max_seq * KV * D), *vc = rand_buf((size_t)n_slots * max_seq * KV * D);
    float *q = rand_buf((size_t)n * H * D);
    float *out = rlc_malloc(sizeof(float) * n * H * D);
    double *ref = rlc_malloc(sizeof(double) * n * H * D);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            int kvh = h / (H / KV);
            double sc[16], m = -1e300, sum = 0;
            for (int t = 0; t <= pos[i]; t++) {
                const float *k = kc + ((size_t)(slot[i] * max_seq + t) * KV + kvh) * D;
                double s = 0;
                for (int d = 0; d < D; d++) s += (double)q[(i * H + h) * D + d] * k[d];
                sc[t] = s / sqrt((double)D);
                if (sc[t] > m) m = sc[t];
            }
            for (int t = 0; t <= pos[i]; t++) sum += (sc[t] = exp(sc[t] - m));
            for (int d = 0; d < D; d++) {
                double acc = 0;
                for (int t = 0; t <= pos[i]; t++)
                    acc += sc[t] / sum * vc[((size_t)(slot[i] * max_seq + t) * KV + kvh) * D + d];
                ref[(i * H + h) * D + d] = acc;
            }
        }
    be.ops->attention(be.ctx, out, q, kc, vc, slot, pos, n, H, KV, D, max_seq);
    check_close("attention", out, ref, (size_t)n * H * D, 1e-6, 1e-5);
    rlc_free(kc), rlc_free(vc), rlc_free(q), rlc_free(out), rlc_free(ref);
}

static void test_softmax(kernels_backend be) {
    int n = 3, V = 101;
    float *x = rand_buf((size_t)n * V);
    for (int i = 0; i < n * V; i++) x[i] *= 30.0f;  // large logits: stability
    float *out = rlc_malloc(sizeof(float) * n * V);
    double *ref = rlc_malloc(sizeof(double) * n * V);
    for (int i = 0; i < n; i++) {
        double m = -1e300, s = 0;
        for (int j = 0; j < V; j++) m = fmax(m, x[i * V + j]);
        for (int j = 0; j < V; j++) s += exp(x[i * V + j] - m);
        for (int j = 0; j < V; j++) ref[i * V + j] = x[i * V + j] - m - log(s);
        float lse = kernels_logsumexp(x + i * V, V);
        CHECK_MSG(fabs(lse - (m + log(s))) < 1e-4, "logsumexp row %d: %g vs %g", i, lse, m + log(s));
    }
    be.ops->log_softmax(be.ctx, out, x, n, V);
    check_close("log_softmax", out, ref, (size_t)n * V, 1e-4, 1e-5);
    for (int i = 0; i < n * V; i++) ref[i] = exp(ref[i]);
    be.ops->softmax(be.ctx, x, n, V);
    check_close("softmax", x, ref, (size_t)n * V, 1e-6, 1e-4);
    float row[5] = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f};
    CHECK(kernels_argmax(row, 5) == 1);  // first of equal maxima
    rlc_free(x), rlc_free(out), rlc_free(ref);
}

int main(void) {
    kernels_set_threads(2);
    CHECK(kernels_get_threads() == 2);
    kernels_backend be = kernels_cpu();
    test_matmul(be);
    test_rmsnorm_swiglu_add(be);
    test_rope(be);
    test_attention(be);
    test_softmax(be);
    return test_finish("test_kernels");
}
