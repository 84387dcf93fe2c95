// kc_context.cu: the CUDA context (device, stream, cuBLASLt handle and
// workspace), device memory, dtype conversion and the deferred error that
// kc_sync reports.
#include <stdlib.h>  // calloc, free

#include "kc_internal.cuh"

enum { KC_WORKSPACE_BYTES = 32 << 20 };

static rlc_status ctx_init(kc_ctx *c, int device) {
    CUDA_CHECK(cudaSetDevice(device));
    CUDA_CHECK(cudaDeviceGetAttribute(&c->sm_count, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CUDA_CHECK(cublasLtCreate(&c->lt));
    c->workspace_bytes = KC_WORKSPACE_BYTES;
    CUDA_CHECK(cudaMalloc(&c->workspace, c->workspace_bytes));
    return RLC_OK;
}

extern "C" rlc_status kc_open(int device, kc_ctx **out) {
    *out = NULL;
    int count = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    if (device < 0 || device >= count)
        return rlc_errorf(RLC_ERR_ARG, "cuda:%d: no such device (%d visible)", device, count);
    kc_ctx *c = (kc_ctx *)calloc(1, sizeof *c);
    if (!c) return rlc_errorf(RLC_ERR_NOMEM, "kc_open: out of memory");
    c->device = device;
    c->first_error = cudaSuccess;
    rlc_status s = ctx_init(c, device);
    if (s != RLC_OK) {
        kc_close(c);
        return s;
    }
    *out = c;
    return RLC_OK;
}

extern "C" void kc_close(kc_ctx *c) {
    if (!c) return;
    cudaSetDevice(c->device);
    if (c->stream) cudaStreamSynchronize(c->stream);
    if (c->workspace) cudaFree(c->workspace);
    if (c->lt) cublasLtDestroy(c->lt);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

extern "C" rlc_status kc_sync(kc_ctx *c) {
    cudaError_t e = cudaStreamSynchronize(c->stream);
    kc_record(c, e, "cudaStreamSynchronize");
    kc_launched(c, "a kernel launch");
    if (c->first_error != cudaSuccess) {
        cudaError_t first = c->first_error;
        const char *op = c->first_error_op;
        c->first_error = cudaSuccess;
        c->first_error_op = NULL;
        return rlc_errorf(RLC_ERR_CUDA, "cuda:%d: %s failed: %s", c->device, op, cudaGetErrorString(first));
    }
    return RLC_OK;
}

extern "C" rlc_status kc_bind(kc_ctx *c) {
    CUDA_CHECK(cudaSetDevice(c->device));
    return RLC_OK;
}

extern "C" int kc_device(const kc_ctx *c) { return c->device; }
extern "C" void *kc_stream(kc_ctx *c) { return (void *)c->stream; }
extern "C" int kc_sm_count(const kc_ctx *c) { return c->sm_count; }

extern "C" rlc_status kc_malloc(kc_ctx *c, void **p, size_t bytes) {
    *p = NULL;
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        *p = NULL;
        return rlc_errorf(RLC_ERR_NOMEM, "cuda:%d: cudaMalloc of %zu bytes failed: %s", c->device, bytes,
                          cudaGetErrorString(e));
    }
    return RLC_OK;
}

extern "C" void kc_free(kc_ctx *c, void *p) {
    (void)c;
    if (p) cudaFree(p);
}

extern "C" rlc_status kc_upload(kc_ctx *c, void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));  // src may be freed or reused on return
    return RLC_OK;
}

extern "C" rlc_status kc_download(kc_ctx *c, void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return RLC_OK;
}

extern "C" rlc_status kc_memset(kc_ctx *c, void *p, int byte, size_t bytes) {
    CUDA_CHECK(cudaMemsetAsync(p, byte, bytes, c->stream));
    return RLC_OK;
}

extern "C" size_t kc_dtype_size(kc_dtype dt) { return dt == KC_BF16 ? 2 : 4; }
extern "C" const char *kc_dtype_name(kc_dtype dt) { return dt == KC_BF16 ? "bf16" : "f32"; }

// ---- CUDA graphs --------------------------------------------------------------

struct kc_graph {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

extern "C" rlc_status kc_graph_begin(kc_ctx *c) {
    CUDA_CHECK(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
    return RLC_OK;
}

extern "C" rlc_status kc_graph_end(kc_ctx *c, kc_graph **out) {
    *out = NULL;
    kc_graph *g = (kc_graph *)calloc(1, sizeof *g);
    if (!g) return rlc_errorf(RLC_ERR_NOMEM, "kc_graph_end: out of memory");
    cudaError_t e = cudaStreamEndCapture(c->stream, &g->graph);
    if (e == cudaSuccess) e = cudaGraphInstantiate(&g->exec, g->graph, 0);
    if (e != cudaSuccess) {
        kc_graph_free(g);
        return rlc_errorf(RLC_ERR_CUDA, "cuda:%d: capturing a graph failed: %s", c->device, cudaGetErrorString(e));
    }
    *out = g;
    return RLC_OK;
}

extern "C" rlc_status kc_graph_launch(kc_ctx *c, kc_graph *g) {
    CUDA_CHECK(cudaGraphLaunch(g->exec, c->stream));
    return RLC_OK;
}

extern "C" void kc_graph_free(kc_graph *g) {
    if (!g) return;
    if (g->exec) cudaGraphExecDestroy(g->exec);
    if (g->graph) cudaGraphDestroy(g->graph);
    free(g);
}

// ---- kernels ----------------------------------------------------------------

template <typename D, typename S>
__global__ void convert_kernel(D *dst, const S *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        kc_st(dst, i, kc_ld(src, i));
}

// ---- launchers --------------------------------------------------------------

extern "C" void kc_convert(kc_ctx *c, void *dst, kc_dtype dt_dst, const void *src, kc_dtype dt_src, size_t n) {
    if (n == 0) return;
    unsigned g = kc_blocks(n, 256);
    KC_DISPATCH(dt_dst, D, KC_DISPATCH(dt_src, S, convert_kernel<D, S><<<g, 256, 0, c->stream>>>((D *)dst, (const S *)src, n)));
    kc_launched(c, "kc_convert");
}
