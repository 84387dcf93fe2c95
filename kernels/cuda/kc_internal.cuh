// kc_internal.cuh: what the .cu files of the CUDA backend share and C never
// sees: the context's layout, dtype loads and stores, the dtype dispatch and
// the launch check that records the first failure for kc_sync.
#ifndef RLC_KC_INTERNAL_CUH
#define RLC_KC_INTERNAL_CUH

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "cuda_common.h"
#include "kcuda.h"

struct kc_ctx {
    int device;
    int sm_count;
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *workspace;  // cuBLASLt workspace
    size_t workspace_bytes;
    cudaError_t first_error;  // the first failed launch since the last kc_sync
    const char *first_error_op;
};

typedef __nv_bfloat16 bf16;

// Loads and stores in either storage dtype; arithmetic is always float32.
__device__ __forceinline__ float kc_ld(const float *p, size_t i) { return p[i]; }
__device__ __forceinline__ float kc_ld(const bf16 *p, size_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void kc_st(float *p, size_t i, float x) { p[i] = x; }
__device__ __forceinline__ void kc_st(bf16 *p, size_t i, float x) { p[i] = __float2bfloat16_rn(x); }

// Runs the statement with T bound to the storage type of dt:
//     KC_DISPATCH(dt, T, my_kernel<T><<<g, b, 0, c->stream>>>((T *)out, ...));
#define KC_DISPATCH(dt, T, ...)         \
    do {                                \
        if ((dt) == KC_BF16) {          \
            typedef bf16 T;             \
            __VA_ARGS__;                \
        } else {                        \
            typedef float T;            \
            __VA_ARGS__;                \
        }                               \
    } while (0)

// After a launch (or a cuBLASLt call through kc_record_status): keeps the first
// failure with the op's name; kc_sync returns it.
static inline void kc_record(kc_ctx *c, cudaError_t e, const char *op) {
    if (e != cudaSuccess && c->first_error == cudaSuccess) {
        c->first_error = e;
        c->first_error_op = op;
    }
}
static inline void kc_launched(kc_ctx *c, const char *op) { kc_record(c, cudaGetLastError(), op); }

static inline unsigned kc_blocks(size_t n, unsigned threads) {
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : (b > 65535u * 32u ? 65535u * 32u : b));
}

// Warp and block reductions (blockDim.x a multiple of 32, at most 1024).
__device__ __forceinline__ float kc_warp_sum(float x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}
__device__ __forceinline__ float kc_warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}
// Every thread of the block gets the sum; `scratch` holds 32 floats of shared memory.
__device__ __forceinline__ float kc_block_sum(float x, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    x = kc_warp_sum(x);
    __syncthreads();
    if (lane == 0) scratch[warp] = x;
    __syncthreads();
    x = lane < nw ? scratch[lane] : 0.0f;
    return kc_warp_sum(x);
}
__device__ __forceinline__ float kc_block_max(float x, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    x = kc_warp_max(x);
    __syncthreads();
    if (lane == 0) scratch[warp] = x;
    __syncthreads();
    x = lane < nw ? scratch[lane] : -INFINITY;
    return kc_warp_max(x);
}

#endif
