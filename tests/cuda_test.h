// cuda_test.h: what the CUDA tests share: opening device 0 or skipping, and
// one random stream (splitmix64). Include after test.h, inside
// `#ifdef RLC_HAVE_CUDA`.
#ifndef RLC_CUDA_TEST_H
#define RLC_CUDA_TEST_H

#include <stdint.h>  // uint64_t

#include "kernels/cuda/kcuda.h"

// kc_open(0) into c, or the test is skipped (exit 77) with the reason.
#define CT_OPEN_OR_SKIP(c)                                                                  \
    do {                                                                                    \
        if (kc_open(0, &(c)) != RLC_OK) TEST_SKIP("no CUDA device: %s", rlc_last_error()); \
    } while (0)

// splitmix64: the next value of *state in [0, 1).
static inline double ct_unit(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

#endif
