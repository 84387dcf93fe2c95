// kc_ops.h: the CUDA element-wise and row ops of the model, forward and
// backward: embedding, RMSNorm, RoPE, SwiGLU, residual add, softmax and
// log-softmax. Each has the semantics and shapes of the op of the same name
// in kernels/kernels.h (the CPU reference); tensors are device memory of
// dtype dt (kcuda.h) unless a comment says float32. Parameter gradients (dw,
// dtable) are float32 and added into, in both dtypes.
#ifndef RLC_KC_OPS_H
#define RLC_KC_OPS_H

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// out (n, C) = rows ids (n) of table (V, C). Ids are checked by the caller.
void kc_embedding(kc_ctx *c, kc_dtype dt, void *out, const void *table, const int *ids, int n, int C);
// dtable (V, C) float32 += row i of dout (n, C) at row ids[i]; repeated ids add up.
void kc_embedding_backward(kc_ctx *c, kc_dtype dt, float *dtable, const void *dout, const int *ids, int n,
                           int C);

// out (n, C) = x / sqrt(mean(x^2) + eps) * w (C). out may alias x.
void kc_rmsnorm(kc_ctx *c, kc_dtype dt, void *out, const void *x, const void *w, int n, int C, float eps);
// dx (n, C) = dL/dx (+= when accumulate); dw (C) float32 += dL/dw (NULL: skipped).
// dx must not alias dout or x.
void kc_rmsnorm_backward(kc_ctx *c, kc_dtype dt, void *dx, float *dw, const void *dout, const void *x,
                         const void *w, int n, int C, float eps, int accumulate);

// Rotates x (n, H, D) in place, rotate-half layout; inv_freq (D/2) float32.
void kc_rope(kc_ctx *c, kc_dtype dt, void *x, const int *pos, const float *inv_freq, int n, int H, int D);
// dx (n, H, D): dL/d(rotated x) in, dL/dx out (turned back by -angle).
void kc_rope_backward(kc_ctx *c, kc_dtype dt, void *dx, const int *pos, const float *inv_freq, int n, int H,
                      int D);

// out (n) = silu(gate) * up. out may alias gate.
void kc_swiglu(kc_ctx *c, kc_dtype dt, void *out, const void *gate, const void *up, size_t n);
// dgate (n) = dout * up * silu'(gate), dup (n) = dout * silu(gate). dgate may
// alias dout; dup may alias up.
void kc_swiglu_backward(kc_ctx *c, kc_dtype dt, void *dgate, void *dup, const void *dout, const void *gate,
                        const void *up, size_t n);

// out (n) = a + b. out may alias a.
void kc_add(kc_ctx *c, kc_dtype dt, void *out, const void *a, const void *b, size_t n);
// x (n) *= s, in place.
void kc_scale(kc_ctx *c, kc_dtype dt, void *x, float s, size_t n);

// Row-wise over x (n, V): softmax in place; log-softmax into out (may alias x).
void kc_softmax(kc_ctx *c, kc_dtype dt, void *x, int n, int V);
void kc_log_softmax(kc_ctx *c, kc_dtype dt, void *out, const void *x, int n, int V);

#ifdef __cplusplus
}
#endif

#endif
