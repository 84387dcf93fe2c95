// backend.c: backend entry points shared by all builds. Without the CUDA
// backend compiled in, the CUDA queries answer RLC_ERR_UNSUPPORTED.
#include "kernels.h"

#ifndef RLC_HAVE_CUDA
int kernels_cuda_compiled(void) { return 0; }

rlc_status kernels_cuda_query(int *n_devices, char *buf, size_t cap) {
    *n_devices = 0;
    if (cap) buf[0] = '\0';
    return rlc_errorf(RLC_ERR_UNSUPPORTED,
                      "this build has no CUDA backend (configure with -DRLC_CUDA=ON where nvcc is installed)");
}
#endif

rlc_status kernels_cuda_require(const char *what) {
    if (kernels_cuda_compiled()) return RLC_OK;
    return rlc_errorf(RLC_ERR_UNSUPPORTED,
                      "%s: this build has no CUDA backend; build with it where nvcc is installed: "
                      "cmake -S . -B build -DRLC_CUDA=ON && cmake --build build", what);
}
