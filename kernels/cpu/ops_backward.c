// ops_backward.c: the CPU float32 backward ops of the transformer's forward
// ops (matmul, embedding, RMSNorm, RoPE, SwiGLU). Each is the plain
// derivative of its forward in ops_cpu.c; contracts in kernels/kernels.h.
// Matrix products go through OpenBLAS sgemm; the rest are OpenMP loops.
#include <cblas.h>   // cblas_sgemm
#include <math.h>    // expf, sqrtf, cosf, sinf
#include <string.h>  // memset

#include "ops_train.h"  // the prototypes

void kernels_cpu_matmul_backward(void *ctx, float *dx, float *dw, float *db, const float *dout,
                                 const float *x, const float *w, int n, int d_in, int d_out,
                                 int accumulate) {
    // dx (n, d_in) = dout (n, d_out) @ w (d_out, d_in)
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d_in, d_out, 1.0f, dout, d_out,
                    w, d_in, accumulate ? 1.0f : 0.0f, dx, d_in);
    // dw (d_out, d_in) += dout^T (d_out, n) @ x (n, d_in)
    if (dw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d_out, d_in, n, 1.0f, dout, d_out, x,
                    d_in, 1.0f, dw, d_in);
    if (db)
        for (int i = 0; i < n; i++) {
            const float *row = dout + (size_t)i * d_out;
            for (int j = 0; j < d_out; j++) db[j] += row[j];
        }
}

void kernels_cpu_embedding_backward(void *ctx, float *dtable, const float *dout, const int *ids,
                                    int n, int C) {
    // Serial over tokens: repeated ids must add up without races.
    for (int i = 0; i < n; i++) {
        float *dst = dtable + (size_t)ids[i] * C;
        const float *src = dout + (size_t)i * C;
        for (int c = 0; c < C; c++) dst[c] += src[c];
    }
}

static float rms_scale(const float *x, int C, float eps) {
    float ss = 0.0f;
    for (int c = 0; c < C; c++) ss += x[c] * x[c];
    return 1.0f / sqrtf(ss / (float)C + eps);
}

// y_j = x_j r w_j with r = (mean(x^2) + eps)^(-1/2), so
// dx_j = r w_j dy_j - (r^3 / C) x_j sum_k(dy_k w_k x_k) and dw_j += r x_j dy_j.
void kernels_cpu_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout,
                                  const float *x, const float *w, int n, int C, float eps,
                                  int accumulate) {
#pragma omp parallel for if (n > 4)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * C, *gi = dout + (size_t)i * C;
        float *di = dx + (size_t)i * C;
        float r = rms_scale(xi, C, eps);
        float dot = 0.0f;
        for (int c = 0; c < C; c++) dot += gi[c] * w[c] * xi[c];
        float k = r * r * r * dot / (float)C;
        if (accumulate)
            for (int c = 0; c < C; c++) di[c] += r * w[c] * gi[c] - k * xi[c];
        else
            for (int c = 0; c < C; c++) di[c] = r * w[c] * gi[c] - k * xi[c];
    }
    if (!dw) return;
    // Serial over rows so that dw is summed in one fixed order (O(n C) work).
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * C, *gi = dout + (size_t)i * C;
        float r = rms_scale(xi, C, eps);
        for (int c = 0; c < C; c++) dw[c] += r * xi[c] * gi[c];
    }
}

// The forward turns (a, b) = (x[k], x[k + D/2]) into (a c - b s, b c + a s);
// its transpose turns the gradient by the opposite angle.
void kernels_cpu_rope_backward(void *ctx, float *dx, const int *pos, const float *inv_freq, int n,
                               int H, int D) {
    kernels_cpu_rope_rotate(dx, pos, inv_freq, n, H, D, -1.0f);
}

// silu(g) = g s(g) with s the logistic function; silu'(g) = s (1 + g (1 - s)).
void kernels_cpu_swiglu_backward(void *ctx, float *dgate, float *dup, const float *dout,
                                 const float *gate, const float *up, size_t n) {
#pragma omp parallel for if (n > 16384)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i], u = up[i], d = dout[i];
        float s = 1.0f / (1.0f + expf(-g));
        dgate[i] = d * u * s * (1.0f + g * (1.0f - s));
        dup[i] = d * g * s;
    }
}
