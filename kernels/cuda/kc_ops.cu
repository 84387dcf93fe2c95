// kc_ops.cu: the CUDA element-wise and row ops (kc_ops.h): embedding,
// RMSNorm, RoPE, SwiGLU, residual add, softmax and log-softmax, forward and
// backward, in float32 or bfloat16 storage with float32 arithmetic. Each
// matches the CPU op of the same name (kernels/cpu/ops_cpu.c,
// ops_backward.c); tests/test_cuda_ops.c checks them against it.
//
// Element-wise ops run a grid-stride loop over 16-byte packs (4 floats or 8
// bfloat16) when every pointer is 16-byte aligned, then a scalar tail. Row ops
// (RMSNorm, softmax) give each row one block; they use packs when the row
// length is a multiple of the pack and the pointers are aligned, else single
// elements (the template argument W). Ops that may run in place only ever
// write an element after the same thread has read it, and never use
// __restrict__ on a pointer that may alias another.
#include <stdint.h>  // uintptr_t

#include "kc_internal.cuh"
#include "kc_ops.h"

// ---- packs ------------------------------------------------------------------

// W consecutive elements moved as one load or store (W * sizeof(T) bytes).
template <typename T, int W>
struct alignas(sizeof(T) * W) kc_pack {
    T v[W];
};

// Elements of T in a 16-byte pack: 4 floats or 8 bfloat16.
template <typename T>
__host__ __device__ constexpr int kc_pack_width() {
    return (int)(16 / sizeof(T));
}

// f (W) = p[i .. i + W) as float32; p + i must be aligned to the pack.
template <int W, typename T>
__device__ __forceinline__ void ld_pack(float (&f)[W], const T *p, size_t i) {
    kc_pack<T, W> v = *reinterpret_cast<const kc_pack<T, W> *>(p + i);
#pragma unroll
    for (int j = 0; j < W; j++) f[j] = kc_ld(v.v, j);
}

template <int W, typename T>
__device__ __forceinline__ void st_pack(T *p, size_t i, const float (&f)[W]) {
    kc_pack<T, W> v;
#pragma unroll
    for (int j = 0; j < W; j++) kc_st(v.v, j, f[j]);
    *reinterpret_cast<kc_pack<T, W> *>(p + i) = v;
}

static bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

// Packs an element-wise kernel may use over n elements: 0 (scalar only) unless
// every pointer is 16-byte aligned.
template <typename T>
static size_t packs_of(size_t n, bool aligned) {
    return aligned ? n / kc_pack_width<T>() : 0;
}

// Threads of a block that walks `units` items of a row: a multiple of 32
// (the block reductions need whole warps), between 32 and max_threads.
static unsigned row_threads(int units, unsigned max_threads) {
    unsigned t = ((unsigned)units + 31u) / 32u * 32u;
    return t < 32u ? 32u : (t > max_threads ? max_threads : t);
}

// ---- kernels ----------------------------------------------------------------

// out (n, C) = table (V, C) rows ids (n): a plain copy in W-element packs
// (C is a multiple of W).
template <typename T, int W>
__global__ void embedding_kernel(T *out, const T *table, const int *ids, int n, int C) {
    size_t per_row = (size_t)(C / W), units = (size_t)n * per_row;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < units; t += (size_t)gridDim.x * blockDim.x) {
        size_t row = t / per_row, col = (t - row * per_row) * W;
        const T *src = table + (size_t)ids[row] * C + col;
        *reinterpret_cast<kc_pack<T, W> *>(out + row * C + col) = *reinterpret_cast<const kc_pack<T, W> *>(src);
    }
}

// dtable (V, C) float32 += dout (n, C) at rows ids; atomics make repeated ids add up.
template <typename T>
__global__ void embedding_backward_kernel(float *dtable, const T *dout, const int *ids, int n, int C) {
    size_t total = (size_t)n * C;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < total; t += (size_t)gridDim.x * blockDim.x) {
        size_t row = t / C, col = t - row * C;
        atomicAdd(dtable + (size_t)ids[row] * C + col, kc_ld(dout, t));
    }
}

// One block per row: out (n, C) = x * rsqrt(mean(x^2) + eps) * w (C).
// out may alias x: the sum of squares is complete (a barrier inside
// kc_block_sum) before any element is written, and each thread writes only
// the packs it read.
template <typename T, int W>
__global__ void rmsnorm_kernel(T *out, const T *x, const T *w, int C, float eps) {
    __shared__ float scratch[32];
    int units = C / W;
    const T *xr = x + (size_t)blockIdx.x * C;
    T *orow = out + (size_t)blockIdx.x * C;
    float ss = 0.0f;
    for (int u = threadIdx.x; u < units; u += blockDim.x) {
        float f[W];
        ld_pack(f, xr, (size_t)u * W);
#pragma unroll
        for (int j = 0; j < W; j++) ss += f[j] * f[j];
    }
    ss = kc_block_sum(ss, scratch);
    float scale = 1.0f / sqrtf(ss / (float)C + eps);
    for (int u = threadIdx.x; u < units; u += blockDim.x) {
        float f[W], g[W];
        ld_pack(f, xr, (size_t)u * W);
        ld_pack(g, w, (size_t)u * W);
#pragma unroll
        for (int j = 0; j < W; j++) f[j] = f[j] * scale * g[j];
        st_pack(orow, (size_t)u * W, f);
    }
}

// Rows blockIdx.x, + gridDim.x, ...: with r = rsqrt(mean(x^2) + eps),
// dx_j = r w_j g_j - (r^3 / C) x_j sum_k(g_k w_k x_k) (= or +=) and
// dw_j += r x_j g_j. A block sums its rows' dw in shared memory (C floats,
// dynamic; only when dw is not NULL) and adds it to dw with atomics at the end.
template <typename T, int W>
__global__ void rmsnorm_backward_kernel(T *dx, float *dw, const T *dout, const T *x, const T *w, int n, int C,
                                        float eps, int accumulate) {
    extern __shared__ float dw_block[];  // (C) when dw != NULL
    __shared__ float scratch[32];
    int units = C / W;
    if (dw) {
        for (int col = threadIdx.x; col < C; col += blockDim.x) dw_block[col] = 0.0f;
        __syncthreads();
    }
    for (int row = blockIdx.x; row < n; row += gridDim.x) {
        const T *xr = x + (size_t)row * C, *gr = dout + (size_t)row * C;
        T *dr = dx + (size_t)row * C;
        float ss = 0.0f, dot = 0.0f;
        for (int u = threadIdx.x; u < units; u += blockDim.x) {
            float xf[W], gf[W], wf[W];
            ld_pack(xf, xr, (size_t)u * W);
            ld_pack(gf, gr, (size_t)u * W);
            ld_pack(wf, w, (size_t)u * W);
#pragma unroll
            for (int j = 0; j < W; j++) {
                ss += xf[j] * xf[j];
                dot += gf[j] * wf[j] * xf[j];
            }
        }
        ss = kc_block_sum(ss, scratch);
        dot = kc_block_sum(dot, scratch);
        float r = 1.0f / sqrtf(ss / (float)C + eps);
        float k = r * r * r * dot / (float)C;
        for (int u = threadIdx.x; u < units; u += blockDim.x) {
            float xf[W], gf[W], wf[W], d[W];
            ld_pack(xf, xr, (size_t)u * W);
            ld_pack(gf, gr, (size_t)u * W);
            ld_pack(wf, w, (size_t)u * W);
            if (accumulate) {
                ld_pack(d, dr, (size_t)u * W);
            } else {
#pragma unroll
                for (int j = 0; j < W; j++) d[j] = 0.0f;
            }
#pragma unroll
            for (int j = 0; j < W; j++) {
                d[j] += r * wf[j] * gf[j] - k * xf[j];
                if (dw) dw_block[u * W + j] += r * xf[j] * gf[j];
            }
            st_pack(dr, (size_t)u * W, d);
        }
    }
    if (dw) {
        __syncthreads();  // the columns were summed by other threads than those that flush them
        for (int col = threadIdx.x; col < C; col += blockDim.x) atomicAdd(dw + col, dw_block[col]);
    }
}

// x (n, H, D) in place, rotate-half: the pairs (x[k], x[k + D/2]), k < D/2,
// turn by dir * pos[i] * inv_freq[k]. A thread turns W consecutive pairs of
// one head (D/2 is a multiple of W). An odd D leaves x[D - 1] as it is.
template <typename T, int W>
__global__ void rope_kernel(T *x, const int *pos, const float *inv_freq, int n, int H, int D, float dir) {
    int half_d = D / 2, per_head = half_d / W;
    size_t units = (size_t)n * H * per_head;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < units; t += (size_t)gridDim.x * blockDim.x) {
        size_t head = t / per_head;  // i * H + h
        int k0 = (int)(t - head * per_head) * W;
        float p = (float)pos[head / H];
        T *xh = x + head * D;
        float a[W], b[W];
        ld_pack(a, xh, (size_t)k0);
        ld_pack(b, xh, (size_t)(k0 + half_d));
#pragma unroll
        for (int j = 0; j < W; j++) {
            float s, co;
            sincosf(p * inv_freq[k0 + j], &s, &co);
            s *= dir;
            float aj = a[j], bj = b[j];
            a[j] = aj * co - bj * s;
            b[j] = bj * co + aj * s;
        }
        st_pack(xh, (size_t)k0, a);
        st_pack(xh, (size_t)(k0 + half_d), b);
    }
}

__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

// The element-wise kernels walk packs [0, n_packs) (elements [0, n_packs * W))
// and then the elements [n_packs * W, n) one by one, both grid-stride.
#define KC_GRID_START (blockIdx.x * (size_t)blockDim.x + threadIdx.x)
#define KC_GRID_STRIDE ((size_t)gridDim.x * blockDim.x)

// out (n) = silu(gate) * up; out may alias gate.
template <typename T>
__global__ void swiglu_kernel(T *out, const T *gate, const T *up, size_t n, size_t n_packs) {
    constexpr int W = kc_pack_width<T>();
    for (size_t p = KC_GRID_START; p < n_packs; p += KC_GRID_STRIDE) {
        float g[W], u[W];
        ld_pack(g, gate, p * W);
        ld_pack(u, up, p * W);
#pragma unroll
        for (int j = 0; j < W; j++) g[j] = silu(g[j]) * u[j];
        st_pack(out, p * W, g);
    }
    for (size_t i = n_packs * W + KC_GRID_START; i < n; i += KC_GRID_STRIDE)
        kc_st(out, i, silu(kc_ld(gate, i)) * kc_ld(up, i));
}

// silu'(g) = s (1 + g (1 - s)) with s = sigmoid(g). dgate may alias dout, dup
// may alias up: every input of an element is read before its outputs are written.
__device__ __forceinline__ void swiglu_grad(float d, float g, float u, float *dg, float *du) {
    float s = 1.0f / (1.0f + expf(-g));
    *dg = d * u * s * (1.0f + g * (1.0f - s));
    *du = d * g * s;
}

template <typename T>
__global__ void swiglu_backward_kernel(T *dgate, T *dup, const T *dout, const T *gate, const T *up, size_t n,
                                       size_t n_packs) {
    constexpr int W = kc_pack_width<T>();
    for (size_t p = KC_GRID_START; p < n_packs; p += KC_GRID_STRIDE) {
        float d[W], g[W], u[W], dg[W], du[W];
        ld_pack(d, dout, p * W);
        ld_pack(g, gate, p * W);
        ld_pack(u, up, p * W);
#pragma unroll
        for (int j = 0; j < W; j++) swiglu_grad(d[j], g[j], u[j], &dg[j], &du[j]);
        st_pack(dgate, p * W, dg);
        st_pack(dup, p * W, du);
    }
    for (size_t i = n_packs * W + KC_GRID_START; i < n; i += KC_GRID_STRIDE) {
        float dg, du;
        swiglu_grad(kc_ld(dout, i), kc_ld(gate, i), kc_ld(up, i), &dg, &du);
        kc_st(dgate, i, dg);
        kc_st(dup, i, du);
    }
}

// out (n) = a + b; out may alias a.
template <typename T>
__global__ void add_kernel(T *out, const T *a, const T *b, size_t n, size_t n_packs) {
    constexpr int W = kc_pack_width<T>();
    for (size_t p = KC_GRID_START; p < n_packs; p += KC_GRID_STRIDE) {
        float x[W], y[W];
        ld_pack(x, a, p * W);
        ld_pack(y, b, p * W);
#pragma unroll
        for (int j = 0; j < W; j++) x[j] += y[j];
        st_pack(out, p * W, x);
    }
    for (size_t i = n_packs * W + KC_GRID_START; i < n; i += KC_GRID_STRIDE) kc_st(out, i, kc_ld(a, i) + kc_ld(b, i));
}

// Online softmax statistics: m the running max, s = sum exp(v - m).
// A row of -inf keeps s = 0 (no exp(-inf - -inf)).
__device__ __forceinline__ void online_add(float &m, float &s, float v) {
    if (v > m) {
        s = s * expf(m - v) + 1.0f;
        m = v;
    } else if (m > -INFINITY) {
        s += expf(v - m);
    }
}

// One block per row of x (n, V): softmax (LOG = false) or log-softmax (LOG =
// true) into out. One pass gathers each thread's (max, sum), the block
// merges them, a second pass writes. out may alias x (as rmsnorm_kernel).
template <typename T, int W, bool LOG>
__global__ void softmax_kernel(T *out, const T *x, int V) {
    __shared__ float scratch[32];
    int units = V / W;
    const T *xr = x + (size_t)blockIdx.x * V;
    T *orow = out + (size_t)blockIdx.x * V;
    float m = -INFINITY, s = 0.0f;
    for (int u = threadIdx.x; u < units; u += blockDim.x) {
        float f[W];
        ld_pack(f, xr, (size_t)u * W);
#pragma unroll
        for (int j = 0; j < W; j++) online_add(m, s, f[j]);
    }
    float row_max = kc_block_max(m, scratch);
    float row_sum = kc_block_sum(m == -INFINITY ? 0.0f : s * expf(m - row_max), scratch);
    float lse = row_max + logf(row_sum), inv = 1.0f / row_sum;
    for (int u = threadIdx.x; u < units; u += blockDim.x) {
        float f[W];
        ld_pack(f, xr, (size_t)u * W);
#pragma unroll
        for (int j = 0; j < W; j++) f[j] = LOG ? f[j] - lse : expf(f[j] - row_max) * inv;
        st_pack(orow, (size_t)u * W, f);
    }
}

// ---- launchers --------------------------------------------------------------

template <typename T>
static void embedding_launch(kc_ctx *c, T *out, const T *table, const int *ids, int n, int C) {
    constexpr int W = kc_pack_width<T>();
    if (C % W == 0 && aligned16(out) && aligned16(table)) {
        size_t units = (size_t)n * (C / W);
        embedding_kernel<T, W><<<kc_blocks(units, 256), 256, 0, c->stream>>>(out, table, ids, n, C);
    } else {
        embedding_kernel<T, 1><<<kc_blocks((size_t)n * C, 256), 256, 0, c->stream>>>(out, table, ids, n, C);
    }
}

extern "C" void kc_embedding(kc_ctx *c, kc_dtype dt, void *out, const void *table, const int *ids, int n, int C) {
    if (n <= 0 || C <= 0) return;
    KC_DISPATCH(dt, T, embedding_launch<T>(c, (T *)out, (const T *)table, ids, n, C));
    kc_launched(c, "kc_embedding");
}

extern "C" void kc_embedding_backward(kc_ctx *c, kc_dtype dt, float *dtable, const void *dout, const int *ids,
                                      int n, int C) {
    if (n <= 0 || C <= 0) return;
    unsigned g = kc_blocks((size_t)n * C, 256);
    KC_DISPATCH(dt, T, embedding_backward_kernel<T><<<g, 256, 0, c->stream>>>(dtable, (const T *)dout, ids, n, C));
    kc_launched(c, "kc_embedding_backward");
}

template <typename T>
static void rmsnorm_launch(kc_ctx *c, T *out, const T *x, const T *w, int n, int C, float eps) {
    constexpr int W = kc_pack_width<T>();
    if (C % W == 0 && aligned16(out) && aligned16(x) && aligned16(w))
        rmsnorm_kernel<T, W><<<n, row_threads(C / W, 1024), 0, c->stream>>>(out, x, w, C, eps);
    else
        rmsnorm_kernel<T, 1><<<n, row_threads(C, 1024), 0, c->stream>>>(out, x, w, C, eps);
}

extern "C" void kc_rmsnorm(kc_ctx *c, kc_dtype dt, void *out, const void *x, const void *w, int n, int C,
                           float eps) {
    if (n <= 0 || C <= 0) return;
    KC_DISPATCH(dt, T, rmsnorm_launch<T>(c, (T *)out, (const T *)x, (const T *)w, n, C, eps));
    kc_launched(c, "kc_rmsnorm");
}

// Enough blocks to fill the device (each block loops over rows), so that the
// per-block dw sums stay few: about 2048 resident threads per SM.
template <typename T, int W>
static void rmsnorm_backward_run(kc_ctx *c, T *dx, float *dw, const T *dout, const T *x, const T *w, int n, int C,
                                 float eps, int accumulate) {
    unsigned threads = row_threads(C / W, 1024);
    int per_sm = (int)(2048 / threads);
    int blocks = c->sm_count * (per_sm > 0 ? per_sm : 1);
    if (blocks > n) blocks = n;
    size_t smem = dw ? (size_t)C * sizeof(float) : 0;
    // The default limit is 48 KiB for static plus dynamic shared memory; the
    // kernel's static part is the 32-float reduction scratch. Above it: opt in.
    if (smem + 32 * sizeof(float) > 48 * 1024)
        kc_record(c,
                  cudaFuncSetAttribute(rmsnorm_backward_kernel<T, W>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       (int)smem),
                  "kc_rmsnorm_backward");
    rmsnorm_backward_kernel<T, W><<<blocks, threads, smem, c->stream>>>(dx, dw, dout, x, w, n, C, eps, accumulate);
}

template <typename T>
static void rmsnorm_backward_launch(kc_ctx *c, T *dx, float *dw, const T *dout, const T *x, const T *w, int n,
                                    int C, float eps, int accumulate) {
    constexpr int W = kc_pack_width<T>();
    if (C % W == 0 && aligned16(dx) && aligned16(dout) && aligned16(x) && aligned16(w))
        rmsnorm_backward_run<T, W>(c, dx, dw, dout, x, w, n, C, eps, accumulate);
    else
        rmsnorm_backward_run<T, 1>(c, dx, dw, dout, x, w, n, C, eps, accumulate);
}

extern "C" void kc_rmsnorm_backward(kc_ctx *c, kc_dtype dt, void *dx, float *dw, const void *dout, const void *x,
                                    const void *w, int n, int C, float eps, int accumulate) {
    if (n <= 0 || C <= 0) return;
    KC_DISPATCH(dt, T,
                rmsnorm_backward_launch<T>(c, (T *)dx, dw, (const T *)dout, (const T *)x, (const T *)w, n, C, eps,
                                           accumulate));
    kc_launched(c, "kc_rmsnorm_backward");
}

template <typename T>
static void rope_launch(kc_ctx *c, T *x, const int *pos, const float *inv_freq, int n, int H, int D, float dir) {
    constexpr int W = kc_pack_width<T>();
    int half_d = D / 2;
    if (half_d % W == 0 && D % 2 == 0 && aligned16(x)) {
        size_t units = (size_t)n * H * (half_d / W);
        rope_kernel<T, W><<<kc_blocks(units, 256), 256, 0, c->stream>>>(x, pos, inv_freq, n, H, D, dir);
    } else {
        size_t units = (size_t)n * H * half_d;
        rope_kernel<T, 1><<<kc_blocks(units, 256), 256, 0, c->stream>>>(x, pos, inv_freq, n, H, D, dir);
    }
}

extern "C" void kc_rope(kc_ctx *c, kc_dtype dt, void *x, const int *pos, const float *inv_freq, int n, int H,
                        int D) {
    if (n <= 0 || H <= 0 || D < 2) return;
    KC_DISPATCH(dt, T, rope_launch<T>(c, (T *)x, pos, inv_freq, n, H, D, 1.0f));
    kc_launched(c, "kc_rope");
}

extern "C" void kc_rope_backward(kc_ctx *c, kc_dtype dt, void *dx, const int *pos, const float *inv_freq, int n,
                                 int H, int D) {
    if (n <= 0 || H <= 0 || D < 2) return;
    KC_DISPATCH(dt, T, rope_launch<T>(c, (T *)dx, pos, inv_freq, n, H, D, -1.0f));
    kc_launched(c, "kc_rope_backward");
}

// Blocks of 256 for an element-wise op: one thread per pack and per tail element.
template <typename T>
static unsigned elementwise_blocks(size_t n, size_t n_packs) {
    return kc_blocks(n_packs + (n - n_packs * kc_pack_width<T>()), 256);
}

extern "C" void kc_swiglu(kc_ctx *c, kc_dtype dt, void *out, const void *gate, const void *up, size_t n) {
    if (n == 0) return;
    bool aligned = aligned16(out) && aligned16(gate) && aligned16(up);
    KC_DISPATCH(dt, T, {
        size_t np = packs_of<T>(n, aligned);
        swiglu_kernel<T><<<elementwise_blocks<T>(n, np), 256, 0, c->stream>>>((T *)out, (const T *)gate,
                                                                               (const T *)up, n, np);
    });
    kc_launched(c, "kc_swiglu");
}

extern "C" void kc_swiglu_backward(kc_ctx *c, kc_dtype dt, void *dgate, void *dup, const void *dout,
                                   const void *gate, const void *up, size_t n) {
    if (n == 0) return;
    bool aligned = aligned16(dgate) && aligned16(dup) && aligned16(dout) && aligned16(gate) && aligned16(up);
    KC_DISPATCH(dt, T, {
        size_t np = packs_of<T>(n, aligned);
        swiglu_backward_kernel<T><<<elementwise_blocks<T>(n, np), 256, 0, c->stream>>>(
            (T *)dgate, (T *)dup, (const T *)dout, (const T *)gate, (const T *)up, n, np);
    });
    kc_launched(c, "kc_swiglu_backward");
}

extern "C" void kc_add(kc_ctx *c, kc_dtype dt, void *out, const void *a, const void *b, size_t n) {
    if (n == 0) return;
    bool aligned = aligned16(out) && aligned16(a) && aligned16(b);
    KC_DISPATCH(dt, T, {
        size_t np = packs_of<T>(n, aligned);
        add_kernel<T><<<elementwise_blocks<T>(n, np), 256, 0, c->stream>>>((T *)out, (const T *)a, (const T *)b, n,
                                                                            np);
    });
    kc_launched(c, "kc_add");
}

template <typename T>
__global__ void scale_kernel(T *x, float s, size_t n, size_t n_packs) {
    constexpr int W = kc_pack_width<T>();
    for (size_t p = KC_GRID_START; p < n_packs; p += KC_GRID_STRIDE) {
        float v[W];
        ld_pack(v, x, p * W);
#pragma unroll
        for (int j = 0; j < W; j++) v[j] *= s;
        st_pack(x, p * W, v);
    }
    for (size_t i = n_packs * W + KC_GRID_START; i < n; i += KC_GRID_STRIDE) kc_st(x, i, kc_ld(x, i) * s);
}

extern "C" void kc_scale(kc_ctx *c, kc_dtype dt, void *x, float s, size_t n) {
    if (n == 0) return;
    bool aligned = aligned16(x);
    KC_DISPATCH(dt, T, {
        size_t np = packs_of<T>(n, aligned);
        scale_kernel<T><<<elementwise_blocks<T>(n, np), 256, 0, c->stream>>>((T *)x, s, n, np);
    });
    kc_launched(c, "kc_scale");
}

template <typename T, bool LOG>
static void softmax_launch(kc_ctx *c, T *out, const T *x, int n, int V) {
    constexpr int W = kc_pack_width<T>();
    if (V % W == 0 && aligned16(out) && aligned16(x))
        softmax_kernel<T, W, LOG><<<n, row_threads(V / W, 1024), 0, c->stream>>>(out, x, V);
    else
        softmax_kernel<T, 1, LOG><<<n, row_threads(V, 1024), 0, c->stream>>>(out, x, V);
}

extern "C" void kc_softmax(kc_ctx *c, kc_dtype dt, void *x, int n, int V) {
    if (n <= 0 || V <= 0) return;
    KC_DISPATCH(dt, T, (softmax_launch<T, false>(c, (T *)x, (const T *)x, n, V)));
    kc_launched(c, "kc_softmax");
}

extern "C" void kc_log_softmax(kc_ctx *c, kc_dtype dt, void *out, const void *x, int n, int V) {
    if (n <= 0 || V <= 0) return;
    KC_DISPATCH(dt, T, (softmax_launch<T, true>(c, (T *)out, (const T *)x, n, V)));
    kc_launched(c, "kc_log_softmax");
}
