// kc_logprob.cu: the vocabulary-chunked lm_head + log-softmax + gather +
// entropy (kc_logprob.h). The chunk ops keep the online log-sum-exp statistics
// of kernels.h (per row: max m, sum exp(l - m), sum exp(l - m) (l - m), the
// target's logit); the fused head walks the vocabulary in chunks, one kc_gemm
// into a float32 (n, chunk) tile per chunk, so the (n, V) logits never exist.
//
// Scratch of the fused head (kc_lm_head_scratch_bytes(n, chunk)): the float32
// logits tile (n, chunk), padded to 256 bytes, then a bfloat16 tile (n, chunk)
// that the bf16 backward writes dlogits into (cuBLASLt wants A and B of one
// dtype). chunk <= 0 (or > V) in the ops means the whole vocabulary: size the
// scratch with the chunk the ops use then, V (kc_lm_head_scratch_bytes(n, 0)
// is 0 bytes).
#include <math.h>  // INFINITY

#include "kc_gemm.h"
#include "kc_internal.cuh"
#include "kc_logprob.h"

// ---- kernels ----------------------------------------------------------------

namespace {  // the kernels of this file stay out of the other .cu files' way

// The online statistics of a set of logits relative to its max m: s0 = sum
// exp(l - m), s1 = sum exp(l - m) (l - m). s0 == 0 means empty (m = -inf).
struct lse_acc {
    float m, s0, s1;
};

__device__ __forceinline__ void lse_add(lse_acc &a, float x) {
    if (x == -INFINITY) return;  // adds nothing (and -inf - -inf would be NaN)
    if (x > a.m) {
        if (a.s0 > 0.0f) {  // rescale the old sums to the new max
            float d = a.m - x, sc = expf(d);
            a.s1 = sc * (a.s1 + d * a.s0);
            a.s0 *= sc;
        }
        a.m = x;
        a.s0 += 1.0f;  // the new max itself: exp(0) = 1, (l - m) = 0
    } else {
        float d = x - a.m, e = expf(d);
        a.s0 += e;
        if (e > 0.0f) a.s1 += e * d;
    }
}

__device__ __forceinline__ void lse_merge(lse_acc &a, float m, float s0, float s1) {
    if (s0 == 0.0f) return;
    if (a.s0 == 0.0f) {
        a.m = m, a.s0 = s0, a.s1 = s1;
        return;
    }
    float M = fmaxf(a.m, m), da = a.m - M, db = m - M, sa = expf(da), sb = expf(db);
    a.s1 = sa * (a.s1 + da * a.s0) + sb * (s1 + db * s0);
    a.s0 = sa * a.s0 + sb * s0;
    a.m = M;
}

__device__ __forceinline__ void lse_warp_merge(lse_acc &a) {
    for (int o = 16; o > 0; o >>= 1) {
        float m = __shfl_xor_sync(0xffffffffu, a.m, o);
        float s0 = __shfl_xor_sync(0xffffffffu, a.s0, o);
        float s1 = __shfl_xor_sync(0xffffffffu, a.s1, o);
        lse_merge(a, m, s0, s1);
    }
}

enum { LP_THREADS = 256 };

// One block per row r of logits (n, vc): folds the chunk into stats (n, 4).
template <typename T>
__global__ void __launch_bounds__(LP_THREADS)
    logprob_chunk_kernel(float *stats, const T *logits, const int *targets, int v0, int vc) {
    __shared__ float sm[32], s0s[32], s1s[32];
    int r = blockIdx.x;
    const T *l = logits + (size_t)r * vc;
    lse_acc a = {-INFINITY, 0.0f, 0.0f};
    for (int j = threadIdx.x; j < vc; j += blockDim.x) lse_add(a, kc_ld(l, j));
    lse_warp_merge(a);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    if (lane == 0) sm[warp] = a.m, s0s[warp] = a.s0, s1s[warp] = a.s1;
    __syncthreads();
    if (warp != 0) return;
    lse_acc b = {-INFINITY, 0.0f, 0.0f};
    if (lane < nw) b.m = sm[lane], b.s0 = s0s[lane], b.s1 = s1s[lane];
    lse_warp_merge(b);
    if (lane != 0) return;
    // Fold the chunk into the running statistics (in double, as the CPU op).
    float *st = stats + (size_t)r * 4;
    double m = -INFINITY, s0 = 0.0, s1 = 0.0;
    float tl = 0.0f;
    if (v0 != 0) m = st[0], s0 = st[1], s1 = st[2], tl = st[3];
    if (b.s0 > 0.0f) {
        if (s0 == 0.0) {
            m = b.m, s0 = b.s0, s1 = b.s1;
        } else {
            double M = m > (double)b.m ? m : (double)b.m, da = m - M, db = (double)b.m - M;
            double sa = exp(da), sb = exp(db);
            s1 = sa * (s1 + da * s0) + sb * ((double)b.s1 + db * (double)b.s0);
            s0 = sa * s0 + sb * (double)b.s0;
            m = M;
        }
    }
    int t = targets[r] - v0;
    if (t >= 0 && t < vc) tl = kc_ld(l, t);
    st[0] = (float)m, st[1] = (float)s0, st[2] = (float)s1, st[3] = tl;
}

__global__ void logprob_finish_kernel(float *logprob, float *entropy, float *lse, const float *stats, int n) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= n) return;
    const float *st = stats + (size_t)r * 4;
    float ls0 = logf(st[1]), z = st[0] + ls0;
    lse[r] = z;
    logprob[r] = st[3] - z;
    if (entropy) entropy[r] = ls0 - st[2] / st[1];
}

// One block per row: dlogits (n, vc) of TO from logits (n, vc) of TI. Each
// element is read and written by the same thread, so the two may alias.
template <typename TI, typename TO>
__global__ void __launch_bounds__(LP_THREADS)
    logprob_chunk_backward_kernel(TO *dlogits, const TI *logits, const int *targets, const float *lse,
                                  const float *entropy, const float *dlogprob, const float *dentropy, int v0,
                                  int vc) {
    int r = blockIdx.x;
    float a = dlogprob[r], b = dentropy ? dentropy[r] : 0.0f;
    float lz = lse[r], hb = dentropy ? entropy[r] : 0.0f;
    int t = targets[r] - v0;
    size_t base = (size_t)r * vc;
    for (int j = threadIdx.x; j < vc; j += blockDim.x) {
        float lp = kc_ld(logits, base + j) - lz;
        float p = expf(lp);
        float g = -p * (a + b * (lp + hb));
        if (j == t) g += a;
        kc_st(dlogits, base + j, g);
    }
}

}  // namespace

// ---- launchers --------------------------------------------------------------

extern "C" void kc_logprob_chunk(kc_ctx *c, kc_dtype dt, float *stats, const void *logits, const int *targets,
                                 int v0, int n, int vc) {
    if (n <= 0 || vc <= 0) return;
    KC_DISPATCH(dt, T,
                logprob_chunk_kernel<T><<<n, LP_THREADS, 0, c->stream>>>(stats, (const T *)logits, targets, v0, vc));
    kc_launched(c, "kc_logprob_chunk");
}

extern "C" void kc_logprob_finish(kc_ctx *c, float *logprob, float *entropy, float *lse, const float *stats,
                                  int n) {
    if (n <= 0) return;
    logprob_finish_kernel<<<(n + 255) / 256, 256, 0, c->stream>>>(logprob, entropy, lse, stats, n);
    kc_launched(c, "kc_logprob_finish");
}

extern "C" void kc_logprob_chunk_backward(kc_ctx *c, kc_dtype dt, void *dlogits, const void *logits,
                                          const int *targets, const float *lse, const float *entropy,
                                          const float *dlogprob, const float *dentropy, int v0, int n, int vc) {
    if (n <= 0 || vc <= 0) return;
    KC_DISPATCH(dt, T,
                logprob_chunk_backward_kernel<T, T><<<n, LP_THREADS, 0, c->stream>>>(
                    (T *)dlogits, (const T *)logits, targets, lse, entropy, dlogprob, dentropy, v0, vc));
    kc_launched(c, "kc_logprob_chunk_backward");
}

// ---- the fused head ---------------------------------------------------------

static int chunk_of(int V, int chunk) { return chunk <= 0 || chunk > V ? V : chunk; }

static size_t tile_f32_bytes(int n, int chunk) {
    size_t b = (size_t)n * (size_t)chunk * sizeof(float);
    return (b + 255) & ~(size_t)255;
}

extern "C" size_t kc_lm_head_scratch_bytes(int n, int chunk) {
    if (n <= 0 || chunk <= 0) return 0;
    return tile_f32_bytes(n, chunk) + (size_t)n * (size_t)chunk * sizeof(bf16);
}

extern "C" void kc_lm_head_logprob(kc_ctx *c, kc_dtype dt, float *logprob, float *entropy, float *lse,
                                   float *stats, const void *h, const void *w, const int *targets, int n, int C,
                                   int V, int chunk, void *scratch) {
    if (n <= 0 || V <= 0) return;
    int vc = chunk_of(V, chunk);
    size_t es = kc_dtype_size(dt);
    float *logits = (float *)scratch;  // (n, nv) float32
    for (int v0 = 0; v0 < V; v0 += vc) {
        int nv = V - v0 < vc ? V - v0 : vc;
        const char *wc = (const char *)w + (size_t)v0 * C * es;  // (nv, C)
        // logits (n, nv) = h (n, C) @ wc^T
        kc_gemm(c, dt, KC_F32, 0, 1, n, nv, C, 1.0f, h, C, wc, C, 0.0f, logits, nv);
        kc_logprob_chunk(c, KC_F32, stats, logits, targets, v0, n, nv);
    }
    kc_logprob_finish(c, logprob, entropy, lse, stats, n);
}

extern "C" void kc_lm_head_logprob_backward(kc_ctx *c, kc_dtype dt, float *dh, float *dw, const void *h,
                                            const void *w, const int *targets, const float *lse,
                                            const float *entropy, const float *dlogprob, const float *dentropy,
                                            int n, int C, int V, int chunk, void *scratch, int accumulate) {
    if (n <= 0 || C <= 0) return;
    if (V <= 0) {
        if (!accumulate) kc_gemm(c, dt, KC_F32, 0, 0, n, C, 0, 1.0f, h, 1, h, C, 0.0f, dh, C);  // dh = 0
        return;
    }
    int vc = chunk_of(V, chunk);
    size_t es = kc_dtype_size(dt);
    float *logits = (float *)scratch;  // (n, nv) float32
    // dlogits (n, nv) of dt: in place over the logits in float32, in the
    // bf16 tile after them in bf16.
    void *dl = dt == KC_BF16 ? (void *)((char *)scratch + tile_f32_bytes(n, vc)) : scratch;
    for (int v0 = 0; v0 < V; v0 += vc) {
        int nv = V - v0 < vc ? V - v0 : vc;
        const char *wc = (const char *)w + (size_t)v0 * C * es;  // (nv, C)
        kc_gemm(c, dt, KC_F32, 0, 1, n, nv, C, 1.0f, h, C, wc, C, 0.0f, logits, nv);
        KC_DISPATCH(dt, T,
                    logprob_chunk_backward_kernel<float, T><<<n, LP_THREADS, 0, c->stream>>>(
                        (T *)dl, logits, targets, lse, entropy, dlogprob, dentropy, v0, nv));
        kc_launched(c, "kc_lm_head_logprob_backward");
        // dh (n, C) float32 (+)= dlogits (n, nv) @ wc (nv, C): the chunks add
        // up in float32 whatever dt is
        float beta = accumulate || v0 > 0 ? 1.0f : 0.0f;
        kc_gemm(c, dt, KC_F32, 0, 0, n, C, nv, 1.0f, dl, nv, wc, C, beta, dh, C);
        // dw[v0 : v0 + nv] (nv, C) += dlogits^T (nv, n) @ h (n, C)
        if (dw) kc_gemm(c, dt, KC_F32, 1, 0, nv, C, n, 1.0f, dl, nv, h, C, 1.0f, dw + (size_t)v0 * C, C);
    }
}
