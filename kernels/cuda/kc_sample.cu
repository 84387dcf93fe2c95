// kc_sample.cu: token sampling on the GPU, one block per row of logits, with
// actor_sample's rule (actor/sampler.c): greedy is the argmax (the lowest id
// on ties), otherwise p_j = exp((x_j - max) / T), keep the top-k by p, then
// the smallest prefix (by p descending) whose mass exceeds top_p of the kept
// mass, and draw one uniform from the row's xorshift64* state. The log-prob
// is the raw log-softmax at the chosen id.
//
// The thresholds are found without sorting. The candidates are ordered by p
// descending, ties by id ascending; the top-k set and the nucleus are both
// prefixes of that order, so each is a pair (T, n): every key above T plus the
// n lowest ids whose key equals T. T is found by a radix select over the
// 32-bit key of p (float bits order like the values for p >= 0), 8 bits per
// pass from the top: a 256-bin histogram in shared memory, then warp 0 finds
// the bin where the running total (from the top) crosses the need. Counts
// select the top-k; for top-p the histogram sums p in 32.32 fixed point
// (integer atomics: the same bytes on every run), and the rule "mass > top_p
// * kept mass" is decided in that fixed point. The draw walks the kept ids in
// id order (each thread a contiguous chunk, block scans between them).
#include <limits.h>  // INT_MAX

#include "kc_internal.cuh"  // kc_ctx, kc_ld, KC_DISPATCH, kc_block_sum, kc_block_max
#include "kc_sample.h"

#define SAMPLE_THREADS 1024

typedef unsigned long long u64;

// ---- block helpers ----------------------------------------------------------

struct sample_shared {
    u64 hist[256];
    u64 red64[32];
    float redf[32];
    int redi[32];
    float coin;
    unsigned prefix;  // radix select state
    u64 need;
    int found;
};

__device__ __forceinline__ u64 block_sum_u64(u64 x, u64 *sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    __syncthreads();
    if (lane == 0) sh[warp] = x;
    __syncthreads();
    x = lane < nw ? sh[lane] : 0ull;
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

__device__ __forceinline__ int block_min_int(int x, int *sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    for (int o = 16; o > 0; o >>= 1) x = min(x, __shfl_xor_sync(0xffffffffu, x, o));
    __syncthreads();
    if (lane == 0) sh[warp] = x;
    __syncthreads();
    x = lane < nw ? sh[lane] : INT_MAX;
    for (int o = 16; o > 0; o >>= 1) x = min(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

__device__ __forceinline__ int block_max_int(int x, int *sh) {
    return -block_min_int(-x, sh);  // x > INT_MIN always (ids and -1)
}

// (value, id) with the larger value, the lower id on ties.
__device__ __forceinline__ void argmax_merge(float &v, int &i, float v2, int i2) {
    if (v2 > v || (v2 == v && i2 < i)) {
        v = v2;
        i = i2;
    }
}

// Every thread gets the block's argmax id and max value.
__device__ __forceinline__ int block_argmax(float v, int i, float *shv, int *shi, float *vmax) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    for (int o = 16; o > 0; o >>= 1)
        argmax_merge(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
    __syncthreads();
    if (lane == 0) shv[warp] = v, shi[warp] = i;
    __syncthreads();
    v = lane < nw ? shv[lane] : -INFINITY;
    i = lane < nw ? shi[lane] : INT_MAX;
    for (int o = 16; o > 0; o >>= 1)
        argmax_merge(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
    *vmax = v;
    return i;
}

// Exclusive scan over the threads of the block, in thread order; *total gets
// the sum of all. sh holds 32 elements.
template <typename X>
__device__ __forceinline__ X block_excl_scan(X x, X *sh, X *total) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    X incl = x;
    for (int o = 1; o < 32; o <<= 1) {
        X y = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += y;
    }
    X excl = __shfl_up_sync(0xffffffffu, incl, 1);
    if (lane == 0) excl = (X)0;
    __syncthreads();
    if (lane == 31) sh[warp] = incl;
    __syncthreads();
    X base = (X)0, tot = (X)0;  // the warp totals, added in warp order by every thread
    for (int w = 0; w < nw; w++) {
        if (w == warp) base = tot;
        tot += sh[w];
    }
    *total = tot;
    return base + excl;
}

// ---- radix select -----------------------------------------------------------

__device__ __forceinline__ unsigned p_key(float p) { return __float_as_uint(p); }
__device__ __forceinline__ u64 p_fixed(float p) { return __float2ull_rz(p * 4294967296.0f); }  // 32.32

// Finds (T, need) for the keys of p (V) in [lo_key, ...): T the key where the
// running total from the top first reaches need (count mode: total >= need,
// adding 1 per element) or exceeds it (mass mode: total > need, adding
// p_fixed). Returns 0 when the whole set does not cross (mass mode only), else
// 1 with *T and *rem = need minus the total above T.
template <bool MASS>
__device__ int radix_select(const float *p, int V, unsigned lo_key, u64 need, sample_shared &sh, unsigned *T,
                            u64 *rem) {
    if (threadIdx.x == 0) {
        sh.prefix = 0;
        sh.need = need;
        sh.found = 1;
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
        const unsigned hi_mask = shift == 24 ? 0u : 0xffffffffu << (shift + 8);
        for (int b = threadIdx.x; b < 256; b += blockDim.x) sh.hist[b] = 0;
        __syncthreads();
        const unsigned prefix = sh.prefix;
        for (int j = threadIdx.x; j < V; j += blockDim.x) {
            float pj = p[j];
            unsigned key = p_key(pj);
            if ((key & hi_mask) == prefix && key >= lo_key)
                atomicAdd(&sh.hist[(key >> shift) & 255u], MASS ? p_fixed(pj) : 1ull);
        }
        __syncthreads();
        if (threadIdx.x < 32) {
            // Lane l holds bins 255 - 8l ... 248 - 8l (the top first).
            const int lane = threadIdx.x;
            const u64 want = sh.need;
            u64 h[8], s = 0;
#pragma unroll
            for (int r = 0; r < 8; r++) s += (h[r] = sh.hist[255 - 8 * lane - r]);
            u64 incl = s;
            for (int o = 1; o < 32; o <<= 1) {
                u64 y = __shfl_up_sync(0xffffffffu, incl, o);
                if (lane >= o) incl += y;
            }
            u64 excl = incl - s;
            unsigned hit = __ballot_sync(0xffffffffu, MASS ? incl > want : incl >= want);
            if (hit == 0) {
                if (lane == 0) sh.found = 0;
            } else if (lane == __ffs(hit) - 1) {
                u64 cum = excl;
                int r = 0;
                for (; r < 7; r++) {
                    if (MASS ? cum + h[r] > want : cum + h[r] >= want) break;
                    cum += h[r];
                }
                sh.prefix = prefix | ((unsigned)(255 - 8 * lane - r) << shift);
                sh.need = want - cum;
            }
        }
        __syncthreads();
        if (!sh.found) return 0;
    }
    *T = sh.prefix;
    *rem = sh.need;
    return 1;
}

// ---- kernel -----------------------------------------------------------------

// xorshift64* as actor/sampler.c: 32 random bits, then 24 of them as [0, 1).
__device__ __forceinline__ float rng_f32(u64 *state) {
    u64 s = *state;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    *state = s;
    unsigned r = (unsigned)((s * 0x2545F4914F6CDD1Dull) >> 32);
    return (float)(r >> 8) / 16777216.0f;
}

template <typename T>
__global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(int *ids, float *logprob, const T *logits, int V, const float *temperature, const int *top_k,
                  const float *top_p, u64 *rng, float *scratch) {
    __shared__ sample_shared sh;
    const int row = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const T *x = logits + (size_t)row * V;

    // Max, argmax (lowest id on ties) and the log-sum-exp of the raw logits.
    float bv = -INFINITY;
    int bi = INT_MAX;
    for (int j = tid; j < V; j += nt) argmax_merge(bv, bi, kc_ld(x, j), j);
    float m;
    const int best = block_argmax(bv, bi, sh.redf, sh.redi, &m);
    float se = 0.0f;
    if (m != -INFINITY)
        for (int j = tid; j < V; j += nt) se += expf(kc_ld(x, j) - m);
    se = kc_block_sum(se, sh.redf);
    const float lse = m == -INFINITY ? m : m + logf(se);

    const float temp = temperature[row];
    if (!(temp > 0.0f)) {
        if (tid == 0) {
            ids[row] = best;
            logprob[row] = kc_ld(x, best) - lse;
        }
        return;
    }

    // p_j = exp((x_j - max) / T), kept in scratch for the passes below.
    float *p = scratch + (size_t)row * V;
    const float inv_t = 1.0f / temp;
    float pt = 0.0f;
    for (int j = tid; j < V; j += nt) {
        p[j] = expf((kc_ld(x, j) - m) * inv_t);
        pt += p[j];
    }
    // The tempered log-sum-exp (minus max / T) for the log-prob, as the CPU sampler.
    const float tempered_ls = temp != 1.0f ? logf(kc_block_sum(pt, sh.redf)) : 0.0f;
    __syncthreads();  // p is read by other threads below (global memory, same block)

    // The kept set: keys above thr plus the first n_ties ids whose key is thr.
    unsigned thr = 0;
    u64 n_ties = ~0ull;
    const int k = top_k[row];
    const bool topk_on = k > 0 && k < V;
    if (topk_on) {
        u64 rem = 0;
        radix_select<false>(p, V, 0u, (u64)k, sh, &thr, &rem);  // always crosses: k < V
        n_ties = rem;
    }
    const float tp = top_p[row];
    if (tp > 0.0f && tp < 1.0f) {
        u64 mass = 0;
        for (int j = tid; j < V; j += nt) {
            unsigned key = p_key(p[j]);
            if (key > thr || (!topk_on && key == thr)) mass += p_fixed(p[j]);
        }
        mass = block_sum_u64(mass, sh.red64);
        if (topk_on) mass += n_ties * p_fixed(__uint_as_float(thr));
        const u64 target = (u64)((double)tp * (double)mass);
        unsigned tp_thr;
        u64 rem;
        if (radix_select<true>(p, V, thr, target, sh, &tp_thr, &rem)) {
            const u64 q = p_fixed(__uint_as_float(tp_thr));
            u64 n = q > 0 ? rem / q + 1 : ~0ull;
            if (tp_thr == thr && n > n_ties) n = n_ties;  // the top-k cut still holds
            thr = tp_thr;
            n_ties = n;
        }
    }

    // The draw, in id order: thread t walks ids [lo, hi).
    if (tid == 0) {
        u64 s = rng[row];
        sh.coin = rng_f32(&s);
        rng[row] = s;
    }
    const int chunk = (V + nt - 1) / nt, lo = min(V, tid * chunk), hi = min(V, lo + chunk);
    unsigned my_ties = 0;
    for (int j = lo; j < hi; j++) my_ties += p_key(p[j]) == thr;
    unsigned ties_total;
    unsigned tie_base = block_excl_scan<unsigned>(my_ties, (unsigned *)sh.red64, &ties_total);
    float my_mass = 0.0f;
    int last = -1;
    {
        unsigned rank = tie_base;
        for (int j = lo; j < hi; j++) {
            unsigned key = p_key(p[j]);
            bool kept = key > thr || (key == thr && (u64)rank++ < n_ties);
            if (kept) {
                my_mass += p[j];
                if (p[j] > 0.0f) last = j;  // never a zero-probability id (a -inf logit)
            }
        }
    }
    float total;
    const float base = block_excl_scan<float>(my_mass, sh.redf, &total);
    const float r = sh.coin * total;
    int cand = INT_MAX;
    {
        unsigned rank = tie_base;
        float cdf = base;
        for (int j = lo; j < hi; j++) {
            unsigned key = p_key(p[j]);
            bool kept = key > thr || (key == thr && (u64)rank++ < n_ties);
            if (kept) {
                cdf += p[j];
                // p > 0: the block scan's rounding may leave r below this
                // thread's base, and a zero-probability id must not be drawn.
                if (r < cdf && p[j] > 0.0f) {
                    cand = j;
                    break;
                }
            }
        }
    }
    int id = block_min_int(cand, sh.redi);
    if (id == INT_MAX) id = block_max_int(last, sh.redi);  // rounding: the last kept id
    if (id < 0) id = best;
    if (tid == 0) {
        ids[row] = id;
        logprob[row] = temp != 1.0f ? (kc_ld(x, id) - m) * inv_t - tempered_ls : kc_ld(x, id) - lse;
    }
}

// ---- launchers --------------------------------------------------------------

extern "C" size_t kc_sample_scratch_bytes(int n, int V) {
    return (size_t)(n > 0 ? n : 1) * (size_t)(V > 0 ? V : 1) * sizeof(float);
}

extern "C" void kc_sample(kc_ctx *c, kc_dtype dt, int *ids, float *logprob, const void *logits, int n, int V,
                          const float *temperature, const int *top_k, const float *top_p, uint64_t *rng,
                          void *scratch) {
    if (n <= 0 || V <= 0) return;
    KC_DISPATCH(dt, T,
                sample_kernel<T><<<n, SAMPLE_THREADS, 0, c->stream>>>(ids, logprob, (const T *)logits, V, temperature,
                                                                    top_k, top_p, (u64 *)rng, (float *)scratch));
    kc_launched(c, "kc_sample");
}
