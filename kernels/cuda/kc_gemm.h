// kc_gemm.h: GEMMs through cuBLASLt. Row-major matrices; bfloat16 or float32
// storage with float32 accumulation (KC_F32 uses the exact float32 compute
// type, not TF32, so that it matches the CPU path). The matmul ops have the
// semantics of kernels.h's matmul and matmul_backward.
#ifndef RLC_KC_GEMM_H
#define RLC_KC_GEMM_H

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// C (m, n) = alpha * op(A) @ op(B) + beta * C, all row-major: op(A) is (m, k)
// (A stored (m, k) with lda >= k, or (k, m) with lda >= m when trans_a),
// op(B) is (k, n) (B stored (k, n), ldb >= n, or (n, k), ldb >= k when
// trans_b). A and B have dtype dt_ab, C dtype dt_c (bf16 inputs may write a
// float32 C). Float32 accumulation.
void kc_gemm(kc_ctx *c, kc_dtype dt_ab, kc_dtype dt_c, int trans_a, int trans_b, int m, int n, int k,
             float alpha, const void *A, int lda, const void *B, int ldb, float beta, void *C, int ldc);

// out (n, d_out) = x (n, d_in) @ w (d_out, d_in)^T + bias (d_out, or NULL);
// all of dtype dt. out must not alias x.
void kc_matmul(kc_ctx *c, kc_dtype dt, void *out, const void *x, const void *w, const void *bias, int n,
               int d_in, int d_out);
// Given dout (n, d_out) (dt): dx (n, d_in) (dt) = dout @ w (+= when
// accumulate); dw (d_out, d_in) float32 += dout^T @ x; db (d_out) float32 +=
// the column sums of dout. dx, dw, db may each be NULL (skipped).
void kc_matmul_backward(kc_ctx *c, kc_dtype dt, void *dx, float *dw, float *db, const void *dout,
                        const void *x, const void *w, int n, int d_in, int d_out, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
