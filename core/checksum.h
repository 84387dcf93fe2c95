// checksum.h: XXH64, the 64-bit xxHash of Yann Collet, written from its
// published specification (doc/xxhash_spec.md of the xxHash project). The wire
// protocol uses it for weight chunks and for the whole weight buffer; it runs
// at memory speed (~10 GB/s per core) and is stable across hosts and releases.
#ifndef RLC_CHECKSUM_H
#define RLC_CHECKSUM_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t

#ifdef __cplusplus
extern "C" {
#endif

// One shot: the XXH64 of `len` bytes at `data` with `seed` (the protocol uses 0).
uint64_t rlc_xxh64(const void *data, size_t len, uint64_t seed);

// Streaming: feed the bytes in pieces of any size; the digest equals the one-shot
// hash of their concatenation. A plain value type: no allocation, copyable.
typedef struct {
    uint64_t total;      // bytes fed so far
    uint64_t acc[4];     // the four lane accumulators
    uint8_t buf[32];     // a partial stripe
    uint32_t buf_len;    // bytes in buf
    uint64_t seed;
} rlc_xxh64_state;

void rlc_xxh64_init(rlc_xxh64_state *st, uint64_t seed);
void rlc_xxh64_update(rlc_xxh64_state *st, const void *data, size_t len);
uint64_t rlc_xxh64_digest(const rlc_xxh64_state *st);  // does not modify the state

#ifdef __cplusplus
}
#endif

#endif
