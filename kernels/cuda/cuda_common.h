// cuda_common.h: the one check macro for CUDA, cuBLAS and NCCL calls. A
// failing call records the statement, file:line and device as the rlc error
// message and makes the enclosing function return RLC_ERR_CUDA; nothing exits.
#ifndef RLC_CUDA_COMMON_H
#define RLC_CUDA_COMMON_H

#include <cublas_v2.h>     // cublasStatus_t
#include <cuda_runtime.h>  // cudaError_t

#include "core/status.h"

static inline int cuda_current_device(void) {
    int d = -1;
    if (cudaGetDevice(&d) != cudaSuccess) return -1;
    return d;
}

static inline const char *cuda_error_text(cudaError_t e) { return cudaGetErrorString(e); }
static inline const char *cuda_error_text(cublasStatus_t e) { return cublasGetStatusString(e); }
static inline bool cuda_failed(cudaError_t e) { return e != cudaSuccess; }
static inline bool cuda_failed(cublasStatus_t e) { return e != CUBLAS_STATUS_SUCCESS; }

#define CUDA_CHECK(stmt)                                                                    \
    do {                                                                                    \
        auto cuda_check_e_ = (stmt);                                                        \
        if (cuda_failed(cuda_check_e_))                                                     \
            return rlc_errorf(RLC_ERR_CUDA, "%s failed at %s:%d on device %d: %s", #stmt,    \
                              __FILE__, __LINE__, cuda_current_device(),                    \
                              cuda_error_text(cuda_check_e_));                              \
    } while (0)

#endif
