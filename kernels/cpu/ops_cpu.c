// ops_cpu.c: the CPU float32 backend: the reference for every numeric op.
// Matrix products go through OpenBLAS sgemm; the rest are OpenMP loops.
#include <cblas.h>  // cblas_sgemm, openblas_set_num_threads
#include <math.h>   // expf, sqrtf, cosf, sinf
#include <omp.h>    // omp_set_num_threads
#include <unistd.h> // sysconf

#include "kernels/kernels.h"

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

static void cpu_matmul(void *ctx, float *out, const float *x, const float *w, const float *bias,
                       int n, int d_in, int d_out) {
    // out (n, d_out) = x (n, d_in) @ w^T, w (d_out, d_in)
    if (n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, d_out, d_in, 1.0f, w, d_in, x, 1, 0.0f, out, 1);
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
        float ss = 0.0f;
        for (int c = 0; c < C; c++) ss += xi[c] * xi[c];
        float scale = 1.0f / sqrtf(ss / (float)C + eps);
        for (int c = 0; c < C; c++) oi[c] = xi[c] * scale * w[c];
    }
}

static void cpu_rope(void *ctx, float *x, const int *pos, const float *inv_freq, int n, int H,
                     int D) {
    int half = D / 2;
#pragma omp parallel for if (n > 4)
    for (int i = 0; i < n; i++) {
        float *xi = x + (size_t)i * H * D;
        for (int k = 0; k < half; k++) {
            float angle = (float)pos[i] * inv_freq[k];
            float c = cosf(angle), s = sinf(angle);
            for (int h = 0; h < H; h++) {
                float *xh = xi + (size_t)h * D;
                float a = xh[k], b = xh[k + half];
                xh[k] = a * c - b * s;
                xh[k + half] = b * c + a * s;
            }
        }
    }
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
            const float *kt = k + (size_t)(t0 + j) * stride;
            float dot = 0.0f;
            for (int d = 0; d < D; d++) dot += q[d] * kt[d];
            s[j] = dot * scale;
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
};

kernels_backend kernels_cpu(void) {
    kernels_backend b = {&cpu_ops, NULL};
    return b;
}
