// device.cu: the CUDA backend's device query. It initialises the runtime and
// a cuBLAS handle on every visible device, so that a build which compiles
// and links CUDA and cuBLAS is checked end to end wherever a GPU exists.
#include <stdio.h>  // snprintf

#include "cuda_common.h"
#include "kernels/kernels.h"

// ---- launchers --------------------------------------------------------------

static rlc_status query_device(int dev, char *line, size_t cap) {
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    CUDA_CHECK(cudaSetDevice(dev));
    cublasHandle_t handle;
    CUDA_CHECK(cublasCreate(&handle));
    int cublas_version = 0;
    cublasStatus_t vs = cublasGetVersion(handle, &cublas_version);
    cublasDestroy(handle);
    CUDA_CHECK(vs);
    snprintf(line, cap, "cuda:%d %s, sm_%d%d, %.1f GiB, %d SMs, cuBLAS %d\n", dev, prop.name,
             prop.major, prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0),
             prop.multiProcessorCount, cublas_version);
    return RLC_OK;
}

extern "C" int kernels_cuda_compiled(void) { return 1; }

extern "C" rlc_status kernels_cuda_query(int *n_devices, char *buf, size_t cap) {
    *n_devices = 0;
    if (cap) buf[0] = '\0';
    int count = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    size_t used = 0;
    for (int dev = 0; dev < count; dev++) {
        rlc_status s = query_device(dev, buf + used, cap - used);
        if (s != RLC_OK) return s;
        while (used < cap && buf[used]) used++;
    }
    *n_devices = count;
    return RLC_OK;
}
