// kcuda.h: the CUDA backend's C interface: a context (device, stream,
// cuBLASLt handle and workspace), device memory, the two storage dtypes, and
// the op table over device pointers. The op families have one header each
// (kc_ops.h, kc_gemm.h, kc_attention.h, kc_logprob.h, kc_optim.h,
// kc_sample.h, kc_reduce.h); docs/cuda.md describes them.
//
// Every kc_ op takes the context and a dtype: KC_F32 keeps float32
// activations (the reference mode, checked against the CPU op for op),
// KC_BF16 stores activations, weights and their gradients as bfloat16 while
// every reduction, softmax and GEMM accumulates in float32. Parameter
// gradients, optimizer state, log-sum-exps and statistics are float32 in both
// modes. Ops are asynchronous on the context's stream and return nothing: a
// failed launch is recorded and kc_sync reports the first one, with the op's
// name. This header is plain C and declares nothing from the CUDA headers, so
// C code (tests, the learner) can call it; the functions exist only in builds
// with RLC_HAVE_CUDA.
#ifndef RLC_KCUDA_H
#define RLC_KCUDA_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint16_t, uint32_t

#include "core/status.h"
#include "kernels/kernels.h"  // kernels_backend

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { KC_F32 = 0, KC_BF16 = 1 } kc_dtype;

typedef uint16_t kc_bf16;  // the bits of one bfloat16, as the host sees them

typedef struct kc_ctx kc_ctx;

// Opens device `device`: makes it current, creates a non-blocking stream,
// a cuBLASLt handle and a 32 MiB GEMM workspace. RLC_ERR_CUDA names the
// failing call (no driver, no such device).
rlc_status kc_open(int device, kc_ctx **out);
void kc_close(kc_ctx *c);  // NULL is fine; waits for the stream first

// Waits for the stream; returns RLC_OK or the first failure recorded by an op
// since the last kc_sync (its name and the CUDA message), then clears it.
rlc_status kc_sync(kc_ctx *c);
// Makes the context's device current on the calling thread (a context opened
// on one thread and used on another, or several devices in one process).
rlc_status kc_bind(kc_ctx *c);
int kc_device(const kc_ctx *c);
void *kc_stream(kc_ctx *c);  // the cudaStream_t
int kc_sm_count(const kc_ctx *c);

// Device memory. kc_malloc'd memory is not initialised; kc_free(NULL) is fine.
// Copies and memsets are ordered on the context's stream; kc_download waits
// for the copy to finish.
rlc_status kc_malloc(kc_ctx *c, void **p, size_t bytes);
void kc_free(kc_ctx *c, void *p);
rlc_status kc_upload(kc_ctx *c, void *dst, const void *src, size_t bytes);
rlc_status kc_download(kc_ctx *c, void *dst, const void *src, size_t bytes);
rlc_status kc_memset(kc_ctx *c, void *p, int byte, size_t bytes);

size_t kc_dtype_size(kc_dtype dt);
const char *kc_dtype_name(kc_dtype dt);

// dst (n, dt_dst) = src (n, dt_src), converting (round to nearest even into
// bf16). dst and src may be the same buffer only when the dtypes match.
void kc_convert(kc_ctx *c, void *dst, kc_dtype dt_dst, const void *src, kc_dtype dt_src, size_t n);

// Host-side bfloat16 conversions (round to nearest even; NaN stays NaN).
static inline kc_bf16 kc_f32_to_bf16(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (kc_bf16)((v.u >> 16) | 0x40u);
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (kc_bf16)(v.u >> 16);
}
static inline float kc_bf16_to_f32(kc_bf16 h) {
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)h << 16};
    return v.f;
}

// CUDA graphs: the launches made on the context's stream between begin and
// end are recorded, not run; kc_graph_launch replays them (the decode step
// at a fixed batch size). Pointers and sizes are fixed at capture.
typedef struct kc_graph kc_graph;
rlc_status kc_graph_begin(kc_ctx *c);
rlc_status kc_graph_end(kc_ctx *c, kc_graph **out);
rlc_status kc_graph_launch(kc_ctx *c, kc_graph *g);
void kc_graph_free(kc_graph *g);  // NULL is fine

// The CPU op table (kernels.h) implemented on the device in float32: every
// pointer an op receives is device memory. out->ctx is a kc_ctx the caller
// releases with kernels_cuda_close.
rlc_status kernels_cuda_open(int device, kernels_backend *out);
void kernels_cuda_close(kernels_backend *b);

#ifdef __cplusplus
}
#endif

#endif
