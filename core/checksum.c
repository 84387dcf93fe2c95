// checksum.c: XXH64 from the specification: four lanes of 8-byte rounds over
// 32-byte stripes, a merge of the lanes, the tail in 8-, 4- and 1-byte steps,
// and a final avalanche. Input is read as little-endian on every host.
#include "checksum.h"

#include <string.h>  // memcpy

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t read64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t read32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t lane) {
    acc += lane * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}

static inline uint64_t merge(uint64_t h, uint64_t acc) {
    h ^= round64(0, acc);
    return h * P1 + P4;
}

// Consumes whole 32-byte stripes; returns the bytes consumed.
static size_t stripes(uint64_t acc[4], const uint8_t *p, size_t len) {
    uint64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    size_t n = len & ~(size_t)31;
    for (size_t i = 0; i < n; i += 32) {
        a0 = round64(a0, read64(p + i));
        a1 = round64(a1, read64(p + i + 8));
        a2 = round64(a2, read64(p + i + 16));
        a3 = round64(a3, read64(p + i + 24));
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    return n;
}

static void lanes_init(uint64_t acc[4], uint64_t seed) {
    acc[0] = seed + P1 + P2;
    acc[1] = seed + P2;
    acc[2] = seed;
    acc[3] = seed - P1;
}

// The converged accumulator (inputs >= 32 bytes) or seed + P5 (shorter inputs),
// then the length, the tail (< 32 bytes) and the avalanche.
static uint64_t finish(const uint64_t acc[4], uint64_t seed, uint64_t total,
                       const uint8_t *tail, size_t n) {
    uint64_t h;
    if (total >= 32) {
        h = rotl(acc[0], 1) + rotl(acc[1], 7) + rotl(acc[2], 12) + rotl(acc[3], 18);
        for (int i = 0; i < 4; i++) h = merge(h, acc[i]);
    } else {
        h = seed + P5;
    }
    h += total;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h ^= round64(0, read64(tail + i));
        h = rotl(h, 27) * P1 + P4;
    }
    if (i + 4 <= n) {
        h ^= (uint64_t)read32(tail + i) * P1;
        h = rotl(h, 23) * P2 + P3;
        i += 4;
    }
    for (; i < n; i++) {
        h ^= tail[i] * P5;
        h = rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t rlc_xxh64(const void *data, size_t len, uint64_t seed) {
    const uint8_t *p = data;
    uint64_t acc[4];
    lanes_init(acc, seed);
    size_t done = stripes(acc, p, len);
    return finish(acc, seed, len, p + done, len - done);
}

void rlc_xxh64_init(rlc_xxh64_state *st, uint64_t seed) {
    memset(st, 0, sizeof *st);
    st->seed = seed;
    lanes_init(st->acc, seed);
}

void rlc_xxh64_update(rlc_xxh64_state *st, const void *data, size_t len) {
    const uint8_t *p = data;
    st->total += len;
    if (st->buf_len) {  // complete the pending stripe first
        size_t take = 32 - st->buf_len;
        if (take > len) take = len;
        memcpy(st->buf + st->buf_len, p, take);
        st->buf_len += (uint32_t)take;
        p += take;
        len -= take;
        if (st->buf_len < 32) return;
        stripes(st->acc, st->buf, 32);
        st->buf_len = 0;
    }
    size_t done = stripes(st->acc, p, len);
    memcpy(st->buf, p + done, len - done);
    st->buf_len = (uint32_t)(len - done);
}

uint64_t rlc_xxh64_digest(const rlc_xxh64_state *st) {
    return finish(st->acc, st->seed, st->total, st->buf, st->buf_len);
}
