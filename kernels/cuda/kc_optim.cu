// kc_optim.cu: the gradient's squared norm and the fused AdamW step over the
// flat float32 buffers (see kc_optim.h and learner/optim.h for the formulas).
// The clip coefficient and the non-finite guard are computed on the device
// from the double kc_sumsq wrote, so a step never waits for the host.
#include <math.h>  // pow, sqrt

#include "kc_internal.cuh"  // kc_ctx, kc_blocks, kc_launched
#include "kc_optim.h"

// ---- kernels ----------------------------------------------------------------

// Each thread sums x^2 in double over its grid-stride elements (a gradient of
// 1e20 overflows float32 squares but not the CPU's double sum), the block adds
// its threads in double and one atomicAdd per block goes into *sumsq. The
// order of the atomics makes the last bits vary from run to run.
__global__ void __launch_bounds__(256) sumsq_kernel(double *sumsq, const float *x, size_t n) {
    __shared__ double part[32];
    double s = 0.0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        double xi = (double)x[i];
        s += xi * xi;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    if (lane == 0) part[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < nw ? part[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) atomicAdd(sumsq, s);
    }
}

// Host-computed scalars of one step (as optim_adamw_step forms them).
struct adamw_consts {
    float one_m_b1, b2, one_m_b2, step_size, bc2_sqrt, eps, decay_mul;
    double max_grad_norm;
};

// The segment holding element i: the last s with seg_offsets[s] <= i. `s` is
// the caller's guess (the previous element's segment), checked first.
__device__ __forceinline__ int find_segment(const long *off, int n_seg, size_t i, int s) {
    if (s >= 0 && (size_t)off[s] <= i && i < (size_t)off[s + 1]) return s;
    int lo = 0, hi = n_seg - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if ((size_t)off[mid] <= i) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

// One element of the update, exactly the CPU's adamw_block expression.
__device__ __forceinline__ void adamw_one(float &p, float &m, float &v, float g, float clip, float decay_mul,
                                          const adamw_consts &k) {
    float gj = g * clip;
    float mj = m + k.one_m_b1 * (gj - m);
    float vj = k.b2 * v + k.one_m_b2 * gj * gj;
    m = mj;
    v = vj;
    p = p * decay_mul - k.step_size * (mj / (sqrtf(vj) / k.bc2_sqrt + k.eps));
}

// The clip coefficient from the device norm; false when the norm is not
// finite (the whole step is skipped).
__device__ __forceinline__ bool clip_coef(const double *sumsq, double max_norm, float *clip) {
    double norm = sqrt(*sumsq);
    if (!isfinite(norm)) return false;
    double coef = 1.0;
    if (max_norm > 0) {
        double c = max_norm / (norm + 1e-6);
        if (c < 1) coef = c;
    }
    *clip = (float)coef;
    return true;
}

// Scalar path: any alignment, any n. Element i of a grid-stride loop.
__global__ void __launch_bounds__(256)
    adamw_kernel(float *master, float *m, float *v, const float *grad, bf16 *param_bf16, size_t n,
                 const long *seg_offsets, const unsigned char *seg_decay, int n_seg, const double *sumsq,
                 adamw_consts k) {
    float clip;
    if (!clip_coef(sumsq, k.max_grad_norm, &clip)) return;
    int s = -1;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        s = find_segment(seg_offsets, n_seg, i, s);
        float dm = seg_decay[s] ? k.decay_mul : 1.0f;
        float p = master[i], mi = m[i], vi = v[i];
        adamw_one(p, mi, vi, grad[i], clip, dm, k);
        master[i] = p;
        m[i] = mi;
        v[i] = vi;
        if (param_bf16) param_bf16[i] = __float2bfloat16_rn(p);
    }
}

// Vector path: 4 elements per float4 (every pointer 16-byte aligned, the bf16
// copy 8-byte aligned); the tail n % 4 is done by the first threads.
__global__ void __launch_bounds__(256)
    adamw_vec4_kernel(float *master, float *m, float *v, const float *grad, bf16 *param_bf16, size_t n,
                      const long *seg_offsets, const unsigned char *seg_decay, int n_seg, const double *sumsq,
                      adamw_consts k) {
    float clip;
    if (!clip_coef(sumsq, k.max_grad_norm, &clip)) return;
    size_t n4 = n / 4, tid = blockIdx.x * (size_t)blockDim.x + threadIdx.x, stride = (size_t)gridDim.x * blockDim.x;
    int s = -1;
    for (size_t q = tid; q < n4; q += stride) {
        size_t i = 4 * q;
        float4 p4 = reinterpret_cast<float4 *>(master)[q];
        float4 m4 = reinterpret_cast<float4 *>(m)[q];
        float4 v4 = reinterpret_cast<float4 *>(v)[q];
        float4 g4 = reinterpret_cast<const float4 *>(grad)[q];
        float pp[4] = {p4.x, p4.y, p4.z, p4.w}, mm[4] = {m4.x, m4.y, m4.z, m4.w};
        float vv[4] = {v4.x, v4.y, v4.z, v4.w}, gg[4] = {g4.x, g4.y, g4.z, g4.w};
#pragma unroll
        for (int j = 0; j < 4; j++) {
            s = find_segment(seg_offsets, n_seg, i + j, s);
            float dm = seg_decay[s] ? k.decay_mul : 1.0f;
            adamw_one(pp[j], mm[j], vv[j], gg[j], clip, dm, k);
        }
        reinterpret_cast<float4 *>(master)[q] = make_float4(pp[0], pp[1], pp[2], pp[3]);
        reinterpret_cast<float4 *>(m)[q] = make_float4(mm[0], mm[1], mm[2], mm[3]);
        reinterpret_cast<float4 *>(v)[q] = make_float4(vv[0], vv[1], vv[2], vv[3]);
        if (param_bf16) {
            __nv_bfloat162 lo = __floats2bfloat162_rn(pp[0], pp[1]), hi = __floats2bfloat162_rn(pp[2], pp[3]);
            reinterpret_cast<__nv_bfloat162 *>(param_bf16)[2 * q] = lo;
            reinterpret_cast<__nv_bfloat162 *>(param_bf16)[2 * q + 1] = hi;
        }
    }
    size_t i = 4 * n4 + tid;
    if (i < n) {
        s = find_segment(seg_offsets, n_seg, i, -1);
        float dm = seg_decay[s] ? k.decay_mul : 1.0f;
        float p = master[i], mi = m[i], vi = v[i];
        adamw_one(p, mi, vi, grad[i], clip, dm, k);
        master[i] = p;
        m[i] = mi;
        v[i] = vi;
        if (param_bf16) param_bf16[i] = __float2bfloat16_rn(p);
    }
}

// ---- launchers --------------------------------------------------------------

extern "C" void kc_sumsq(kc_ctx *c, double *sumsq, const float *x, size_t n) {
    if (n == 0) return;
    unsigned g = kc_blocks(n, 256), cap = (unsigned)c->sm_count * 8u;
    if (g > cap) g = cap;  // enough blocks to fill the device, few atomics
    sumsq_kernel<<<g, 256, 0, c->stream>>>(sumsq, x, n);
    kc_launched(c, "kc_sumsq");
}

static bool aligned(const void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

extern "C" void kc_adamw(kc_ctx *c, float *master, float *m, float *v, const float *grad, kc_bf16 *param_bf16,
                         size_t n, const long *seg_offsets, const unsigned char *seg_decay, int n_seg,
                         const double *sumsq, const kc_adamw_args *a) {
    if (n == 0 || n_seg <= 0) return;
    // The same float32 scalars as optim_adamw_step, from double arithmetic.
    const double t = (double)a->step, lr = a->lr, b1 = a->beta1, b2 = a->beta2;
    adamw_consts k;
    k.one_m_b1 = (float)(1.0 - b1);
    k.b2 = a->beta2;
    k.one_m_b2 = (float)(1.0 - b2);
    k.step_size = (float)(lr / (1.0 - pow(b1, t)));
    k.bc2_sqrt = (float)sqrt(1.0 - pow(b2, t));
    k.eps = a->eps;
    k.decay_mul = (float)(1.0 - lr * (double)a->weight_decay);
    k.max_grad_norm = a->max_grad_norm;
    bf16 *pb = (bf16 *)param_bf16;
    bool vec = aligned(master, 16) && aligned(m, 16) && aligned(v, 16) && aligned(grad, 16) &&
               (!pb || aligned(pb, 8));
    unsigned cap = (unsigned)c->sm_count * 8u;
    if (vec) {
        unsigned g = kc_blocks(n / 4 > 0 ? n / 4 : 1, 256);
        if (g > cap) g = cap;
        adamw_vec4_kernel<<<g, 256, 0, c->stream>>>(master, m, v, grad, pb, n, seg_offsets, seg_decay, n_seg, sumsq,
                                                    k);
    } else {
        unsigned g = kc_blocks(n, 256);
        if (g > cap) g = cap;
        adamw_kernel<<<g, 256, 0, c->stream>>>(master, m, v, grad, pb, n, seg_offsets, seg_decay, n_seg, sumsq, k);
    }
    kc_launched(c, "kc_adamw");
}
