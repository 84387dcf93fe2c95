// test_cuda.c: the CUDA backend's device query. Skipped (exit 77) when the
// build has no CUDA backend or the machine has no usable device; otherwise
// every device must answer with its properties and a cuBLAS handle.
#include <string.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "test.h"

int main(void) {
    char buf[2048];
    int n = -1;
    if (!kernels_cuda_compiled()) {
        CHECK(kernels_cuda_query(&n, buf, sizeof buf) == RLC_ERR_UNSUPPORTED);
        CHECK(n == 0);
        if (test_failures) return test_finish("test_cuda");
        TEST_SKIP("this build has no CUDA backend");
    }
    rlc_status s = kernels_cuda_query(&n, buf, sizeof buf);
    if (s != RLC_OK || n == 0) TEST_SKIP("no CUDA device: %s", s != RLC_OK ? rlc_last_error() : "0 devices");
    printf("%s", buf);
    CHECK(n > 0);
    CHECK(strstr(buf, "cuda:0") != NULL);
    CHECK(strstr(buf, "cuBLAS") != NULL);
    return test_finish("test_cuda");
}
