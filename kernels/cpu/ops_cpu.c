// ops_cpu.c: the CPU float32 backend: the reference for every numeric op.
// Matrix products go through OpenBLAS sgemm; the rest are OpenMP loops.
#include <cblas.h>  // cblas_sgemm, openblas_set_num_threads
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>  // AVX2 + FMA intrinsics for the skinny matmul
#endif
#include <math.h>   // expf, sqrtf, cosf, sinf
#include <omp.h>    // omp_set_num_threads
#include <unistd.h> // sysconf

#include "kernels/kernels.h"
#include "ops_train.h"  // KERNELS_CPU_TRAIN_OPS: the backward and training entries

static int n_threads = 0;

int kernels_set_threads(int n) {
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    n_threads = n;
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
    return n;
}

int kernels_get_threads(void) { return n_threads > 0 ? n_threads : kernels_set_threads(0); }

// Below this many rows, the product goes through matmul_skinny instead of
// sgemm: OpenBLAS packs the whole weight matrix on every call, which costs
// more than the arithmetic when x has only a few rows (decode batches).
#define SKINNY_MAX_ROWS 32

static float dot(const float *a, const float *b, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < n; k++) s += a[k] * b[k];
    return s;
}

#if defined(__AVX2__) && defined(__FMA__)
static float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// out rows i0, i0+1 x columns j0..j0+3: 4 weight rows against 2 input rows,
// 8 accumulators, each weight vector loaded once per pair of inputs.
static void skinny_4x2(float *out, const float *x, const float *w, int i0, int j0, int d_in, int d_out) {
    const float *x0 = x + (size_t)i0 * d_in, *x1 = x0 + d_in;
    const float *w0 = w + (size_t)j0 * d_in, *w1 = w0 + d_in, *w2 = w1 + d_in, *w3 = w2 + d_in;
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    int k = 0;
    for (; k + 8 <= d_in; k += 8) {
        __m256 v0 = _mm256_loadu_ps(x0 + k), v1 = _mm256_loadu_ps(x1 + k);
        __m256 r = _mm256_loadu_ps(w0 + k);
        a00 = _mm256_fmadd_ps(r, v0, a00), a01 = _mm256_fmadd_ps(r, v1, a01);
        r = _mm256_loadu_ps(w1 + k);
        a10 = _mm256_fmadd_ps(r, v0, a10), a11 = _mm256_fmadd_ps(r, v1, a11);
        r = _mm256_loadu_ps(w2 + k);
        a20 = _mm256_fmadd_ps(r, v0, a20), a21 = _mm256_fmadd_ps(r, v1, a21);
        r = _mm256_loadu_ps(w3 + k);
        a30 = _mm256_fmadd_ps(r, v0, a30), a31 = _mm256_fmadd_ps(r, v1, a31);
    }
    float s[8] = {hsum256(a00), hsum256(a01), hsum256(a10), hsum256(a11),
                  hsum256(a20), hsum256(a21), hsum256(a30), hsum256(a31)};
    for (; k < d_in; k++) {
        s[0] += w0[k] * x0[k], s[1] += w0[k] * x1[k], s[2] += w1[k] * x0[k], s[3] += w1[k] * x1[k];
        s[4] += w2[k] * x0[k], s[5] += w2[k] * x1[k], s[6] += w3[k] * x0[k], s[7] += w3[k] * x1[k];
    }
    for (int r = 0; r < 4; r++) {
        out[(size_t)i0 * d_out + j0 + r] = s[2 * r];
        out[(size_t)(i0 + 1) * d_out + j0 + r] = s[2 * r + 1];
    }
}
#endif

// out (n, d_out) = x (n, d_in) @ w^T for few rows: every weight row is read
// from memory once and applied to all n inputs while it sits in cache.
static void matmul_skinny(float *out, const float *x, const float *w, int n, int d_in, int d_out) {
#pragma omp parallel for schedule(static)
    for (int j0 = 0; j0 < d_out; j0 += 4) {
        int nj = d_out - j0 < 4 ? d_out - j0 : 4;
        int i0 = 0;
#if defined(__AVX2__) && defined(__FMA__)
        if (nj == 4)
            for (; i0 + 2 <= n; i0 += 2) skinny_4x2(out, x, w, i0, j0, d_in, d_out);
#endif
        for (int i = i0; i < n; i++)
            for (int j = j0; j < j0 + nj; j++)
                out[(size_t)i * d_out + j] = dot(x + (size_t)i * d_in, w + (size_t)j * d_in, d_in);
    }
}

static void cpu_matmul(void *ctx, float *out, const float *x, const float *w, const float *bias,
                       int n, int d_in, int d_out) {
    // out (n, d_out) = x (n, d_in) @ w^T, w (d_out, d_in)
    if (n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, d_out, d_in, 1.0f, w, d_in, x, 1, 0.0f, out, 1);
    else if (n <= SKINNY_MAX_ROWS)
        matmul_skinny(out, x, w, n, d_in, d_out);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, d_out, d_in, 1.0f, x, d_in, w, d_in,
                    0.0f, out, d_out);
    if (!bias) return;
    for (int i = 0; i < n; i++) {
        float *row = out + (size_t)i * d_out;
        for (int j = 0; j < d_out; j++) row[j] += bias[j];
    }
}

static void cpu_embedding(void *ctx, float *out, const float *table, const int *ids, int n, int C) {
    for (int i = 0; i < n; i++) {
        const float *src = table + (size_t)ids[i] * C;
        float *dst = out + (size_t)i * C;
        for (int c = 0; c < C; c++) dst[c] = src[c];
    }
}

static void cpu_rmsnorm(void *ctx, float *out, const float *x, const float *w, int n, int C,
                        float eps) {
#pragma omp parallel for if (n > 4)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * C;
        float *oi = out + (size_t)i * C;
        float ss = dot(xi, xi, C);
        float scale = 1.0f / sqrtf(ss / (float)C + eps);
        for (int c = 0; c < C; c++) oi[c] = xi[c] * scale * w[c];
    }
}

void kernels_cpu_rope_rotate(float *x, const int *pos, const float *inv_freq, int n, int H, int D, float dir) {
    int half = D / 2;
#pragma omp parallel for if (n > 4)
    for (int i = 0; i < n; i++) {
        float *xi = x + (size_t)i * H * D;
        for (int k = 0; k < half; k++) {
            float angle = (float)pos[i] * inv_freq[k];
            float c = cosf(angle), s = dir * sinf(angle);
            for (int h = 0; h < H; h++) {
                float *xh = xi + (size_t)h * D;
                float a = xh[k], b = xh[k + half];
                xh[k] = a * c - b * s;
                xh[k + half] = b * c + a * s;
            }
        }
    }
}

static void cpu_rope(void *ctx, float *x, const int *pos, const float *inv_freq, int n, int H,
                     int D) {
    kernels_cpu_rope_rotate(x, pos, inv_freq, n, H, D, 1.0f);
}

// One query head against keys [0, len) with an online softmax taken in
// blocks of ATT_BLOCK keys (flash-attention style): the scores of a block are
// computed first, the running max and sum are rescaled once per block, and
// no [len] score buffer is needed. out (D).
#define ATT_BLOCK 64
static void attend_one(float *out, const float *q, const float *k, const float *v, int len,
                       int stride, int D, float scale) {
    float m = -INFINITY, l = 0.0f, s[ATT_BLOCK];
    for (int d = 0; d < D; d++) out[d] = 0.0f;
    for (int t0 = 0; t0 < len; t0 += ATT_BLOCK) {
        int nb = len - t0 < ATT_BLOCK ? len - t0 : ATT_BLOCK;
        float bm = -INFINITY;
        for (int j = 0; j < nb; j++) {
            s[j] = dot(q, k + (size_t)(t0 + j) * stride, D) * scale;
            bm = s[j] > bm ? s[j] : bm;
        }
        if (bm > m) {  // rescale what was accumulated under the old max
            float r = expf(m - bm);
            l *= r;
            for (int d = 0; d < D; d++) out[d] *= r;
            m = bm;
        }
        for (int j = 0; j < nb; j++) {
            float p = expf(s[j] - m);
            const float *vt = v + (size_t)(t0 + j) * stride;
            l += p;
            for (int d = 0; d < D; d++) out[d] += p * vt[d];
        }
    }
    float inv = 1.0f / l;
    for (int d = 0; d < D; d++) out[d] *= inv;
}

static void cpu_attention(void *ctx, float *out, const float *q, const float *k_cache,
                          const float *v_cache, const int *slot, const int *pos, int n, int H,
                          int KV, int D, int max_seq) {
    float scale = 1.0f / sqrtf((float)D);
    int group = H / KV;
    size_t slot_stride = (size_t)max_seq * KV * D;
#pragma omp parallel for collapse(2) schedule(dynamic, 1) if (n * H > 1)
    for (int i = 0; i < n; i++) {
        for (int h = 0; h < H; h++) {
            int kvh = h / group;
            const float *kb = k_cache + slot[i] * slot_stride + (size_t)kvh * D;
            const float *vb = v_cache + slot[i] * slot_stride + (size_t)kvh * D;
            attend_one(out + ((size_t)i * H + h) * D, q + ((size_t)i * H + h) * D, kb, vb,
                       pos[i] + 1, KV * D, D, scale);
        }
    }
}

static void cpu_swiglu(void *ctx, float *out, const float *gate, const float *up, size_t n) {
#pragma omp parallel for if (n > 16384)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static void cpu_add(void *ctx, float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

static float row_max(const float *x, int V) {
    float m = -INFINITY;
    for (int j = 0; j < V; j++) m = x[j] > m ? x[j] : m;
    return m;
}

float kernels_logsumexp(const float *x, int V) {
    float m = row_max(x, V);
    if (m == -INFINITY) return m;
    double sum = 0.0;
    for (int j = 0; j < V; j++) sum += expf(x[j] - m);
    return m + (float)log(sum);
}

int kernels_argmax(const float *x, int V) {
    int best = 0;
    for (int j = 1; j < V; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

static void cpu_softmax(void *ctx, float *x, int n, int V) {
#pragma omp parallel for if (n > 1)
    for (int i = 0; i < n; i++) {
        float *xi = x + (size_t)i * V;
        float m = row_max(xi, V), sum = 0.0f;
        for (int j = 0; j < V; j++) {
            xi[j] = expf(xi[j] - m);
            sum += xi[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < V; j++) xi[j] *= inv;
    }
}

static void cpu_log_softmax(void *ctx, float *out, const float *x, int n, int V) {
#pragma omp parallel for if (n > 1)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * V;
        float *oi = out + (size_t)i * V;
        float lse = kernels_logsumexp(xi, V);
        for (int j = 0; j < V; j++) oi[j] = xi[j] - lse;
    }
}

static const kernels_ops cpu_ops = {
    .name = "cpu",
    .matmul = cpu_matmul,
    .embedding = cpu_embedding,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .attention = cpu_attention,
    .swiglu = cpu_swiglu,
    .add = cpu_add,
    .softmax = cpu_softmax,
    .log_softmax = cpu_log_softmax,
    KERNELS_CPU_TRAIN_OPS,
};

kernels_backend kernels_cpu(void) {
    kernels_backend b = {&cpu_ops, NULL};
    return b;
}
