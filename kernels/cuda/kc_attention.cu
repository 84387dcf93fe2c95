// kc_attention.cu: causal grouped-query attention on the GPU (kc_attention.h):
// the packed-document training forward and backward, decode over the KV cache
// and the KV-cache store. Float32 math on CUDA cores in both storage dtypes.
//
// Training (tiles of B query rows x B keys, 256 threads as 16 x 16, each thread
// a (B/16) x (B/16) piece of the score tile; B = 64 for D <= 128, 32 above):
// - Forward: one block per (query tile, head). The tile covers B consecutive
//   rows of the packed batch, whatever documents they fall in; each row keeps
//   its own document start, and the keys run from the first row's document
//   start to the tile's last row, masked per element (key j serves row i when
//   start(i) <= j <= i). Online softmax in registers; Q, the K/V tile (K then V
//   in the same buffer) and P in shared memory.
// - Backward, three kernels and no atomics (deterministic): delta = rowsum(dout
//   * out); dq by (query tile, head), recomputing P from lse; dk, dv by (key
//   tile, query head), looping over the query tiles of the keys' documents.
//   With H == KV a block writes dk, dv directly; with grouped heads it writes a
//   float32 partial per query head into scratch ((n, H, D) for dk, then for dv:
//   8 * n * H * D bytes) and a last kernel sums each group in a fixed order.
// - Shared memory per block, floats of stride DMAX + 1 (DMAX = 64, 128, 256:
//   the head dim rounded up; odd D works, padded with zeros): forward 50 KB
//   (D <= 64), 83 KB (<= 128), 70 KB (<= 256); dq and dk/dv 83 KB, 149 KB,
//   136 KB. All fit sm_80's 163 KB; one block per SM at D = 128 in the backward.
//
// Decode (flash-decoding): one block of 128 threads per (token, KV head, group
// of up to 8 of its query heads, split of the cache): K and V are read once for
// all the query heads that share them. Keys are taken 128 at a time: a thread
// scores one key against the group, a warp per head updates the running max
// and sum, each warp accumulates (heads x D) over a quarter of the keys. The
// cache is cut into `chunk` keys per split, with chunk chosen on the host from
// max_seq (the lengths are on the device): enough splits to give every SM two
// blocks and no split longer than 1024 keys. A token whose length fits one
// chunk writes its output directly; longer ones write unnormalised partials
// with their max and sum, and a second kernel combines them by log-sum-exp.
// The partials take n * H * splits * (D + 2) floats from the end of
// c->workspace (32 MiB, shared with the GEMMs on the same stream, free between
// launches); when that does not fit, fewer splits are used, down to one block
// per (token, KV head) reading the whole sequence.
#include <math.h>    // INFINITY
#include <stdint.h>  // uintptr_t

#include "kc_attention.h"
#include "kc_internal.cuh"  // kc_ctx, kc_ld/kc_st, KC_DISPATCH, kc_launched

enum { ATT_THREADS = 256, DEC_THREADS = 128, DEC_WARPS = 4, DEC_TK = 128, DEC_MAX_CHUNK = 1024 };

// Tile edge (query rows and keys) for a padded head dim.
template <int DMAX>
struct att_cfg {
    static constexpr int B = DMAX <= 128 ? 64 : 32;
    static constexpr int R = B / 16;       // rows (and keys) of a tile per thread
    static constexpr int SD = DMAX + 1;    // shared row stride of Q, K, V, dout tiles
    static constexpr int PS = B + 1;       // shared row stride of P and dS tiles
    static constexpr int DJ = DMAX / 16;   // head dims per thread in the accumulators
};

// ---- device helpers -----------------------------------------------------------

// The document holding token i: the largest s with cu[s] <= i (cu[0] == 0 <= i).
__device__ __forceinline__ int att_doc_of(const int *cu, int n_seqs, int i) {
    int lo = 0, hi = n_seqs - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (cu[mid] <= i)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

// dst (B, DMAX + 1) in shared memory = rows [0, rows) of src (row stride ld,
// D columns) times mul; missing rows and columns D.. are zero.
template <typename T, int DMAX, int B>
__device__ __forceinline__ void att_load_tile(float *dst, const T *src, size_t ld, int rows, int D, float mul) {
    for (int idx = threadIdx.x; idx < B * DMAX; idx += blockDim.x) {
        int r = idx / DMAX, d = idx % DMAX;
        float x = 0.0f;
        if (r < rows && d < D) x = kc_ld(src, (size_t)r * ld + d) * mul;
        dst[r * (DMAX + 1) + d] = x;
    }
}

// Max and sum over the 16 lanes that share a tile row (lanes 0-15 or 16-31).
__device__ __forceinline__ float att_max16(float x) {
    for (int o = 8; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}
__device__ __forceinline__ float att_sum16(float x) {
    for (int o = 8; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

// ---- kernels: training forward -------------------------------------------------

// Grid (ceil(n / B), H). out (n, H, D); lse (n, H).
template <typename T, int DMAX>
__global__ void __launch_bounds__(ATT_THREADS)
    att_fwd_kernel(T *out, float *lse, const T *q, const T *k, const T *v, const int *cu, int n_seqs, int n,
                   int H, int KV, int D, float scale) {
    typedef att_cfg<DMAX> C;
    constexpr int B = C::B, R = C::R, SD = C::SD, PS = C::PS, DJ = C::DJ;
    extern __shared__ float sm[];
    float *q_s = sm;              // (B, SD) scaled queries
    float *kv_s = q_s + B * SD;   // (B, SD) keys, then values
    float *p_s = kv_s + B * SD;   // (B, PS) probabilities
    int *start_s = (int *)(p_s + B * PS);  // (B) document start of each row
    const int h = blockIdx.y, kh = h / (H / KV), i0 = blockIdx.x * B, mi = min(B, n - i0);
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;

    for (int r = threadIdx.x; r < B; r += blockDim.x) start_s[r] = cu[att_doc_of(cu, n_seqs, i0 + min(r, mi - 1))];
    att_load_tile<T, DMAX, B>(q_s, q + ((size_t)i0 * H + h) * D, (size_t)H * D, mi, D, scale);
    __syncthreads();

    float m[R], l[R], o[R][DJ];
#pragma unroll
    for (int a = 0; a < R; a++) {
        m[a] = -INFINITY, l[a] = 0.0f;
#pragma unroll
        for (int j = 0; j < DJ; j++) o[a][j] = 0.0f;
    }
    const int kv_lo = start_s[0], kv_hi = i0 + mi;
    for (int j0 = kv_lo; j0 < kv_hi; j0 += B) {
        const int nj = min(B, kv_hi - j0);
        att_load_tile<T, DMAX, B>(kv_s, k + ((size_t)j0 * KV + kh) * D, (size_t)KV * D, nj, D, 1.0f);
        __syncthreads();
        float s[R][R];
#pragma unroll
        for (int a = 0; a < R; a++)
#pragma unroll
            for (int b = 0; b < R; b++) s[a][b] = 0.0f;
#pragma unroll 4
        for (int d = 0; d < DMAX; d++) {
            float qa[R], kb[R];
#pragma unroll
            for (int a = 0; a < R; a++) qa[a] = q_s[(ty + 16 * a) * SD + d];
#pragma unroll
            for (int b = 0; b < R; b++) kb[b] = kv_s[(tx + 16 * b) * SD + d];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int b = 0; b < R; b++) s[a][b] += qa[a] * kb[b];
        }
        // Online softmax: masked scores are -inf; a row with nothing valid yet
        // (its document starts after this tile) keeps m = -inf and adds nothing.
#pragma unroll
        for (int a = 0; a < R; a++) {
            const int r = ty + 16 * a, row = i0 + r;
            float mx = -INFINITY;
#pragma unroll
            for (int b = 0; b < R; b++) {
                const int cc = tx + 16 * b, j = j0 + cc;
                if (!(r < mi && cc < nj && j <= row && j >= start_s[r])) s[a][b] = -INFINITY;
                mx = fmaxf(mx, s[a][b]);
            }
            mx = att_max16(mx);
            const float mnew = fmaxf(m[a], mx);
            float alpha = 1.0f, sum = 0.0f;
            if (mnew != -INFINITY) {
                alpha = expf(m[a] - mnew);  // 0 when m was -inf
#pragma unroll
                for (int b = 0; b < R; b++) {
                    s[a][b] = expf(s[a][b] - mnew);  // masked: exp(-inf) = 0
                    sum += s[a][b];
                }
            } else {
#pragma unroll
                for (int b = 0; b < R; b++) s[a][b] = 0.0f;
            }
            sum = att_sum16(sum);
            l[a] = l[a] * alpha + sum;
            m[a] = mnew;
#pragma unroll
            for (int j = 0; j < DJ; j++) o[a][j] *= alpha;
#pragma unroll
            for (int b = 0; b < R; b++) p_s[r * PS + tx + 16 * b] = s[a][b];
        }
        __syncthreads();  // K no longer read; P complete
        att_load_tile<T, DMAX, B>(kv_s, v + ((size_t)j0 * KV + kh) * D, (size_t)KV * D, nj, D, 1.0f);
        __syncthreads();
#pragma unroll 4
        for (int b = 0; b < nj; b++) {
            float pa[R], vb[DJ];
#pragma unroll
            for (int a = 0; a < R; a++) pa[a] = p_s[(ty + 16 * a) * PS + b];
#pragma unroll
            for (int j = 0; j < DJ; j++) vb[j] = kv_s[b * SD + tx + 16 * j];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int j = 0; j < DJ; j++) o[a][j] += pa[a] * vb[j];
        }
        __syncthreads();  // V and P read before the next tile overwrites them
    }
#pragma unroll
    for (int a = 0; a < R; a++) {
        const int r = ty + 16 * a;
        if (r >= mi) continue;
        const float inv = 1.0f / l[a];  // l > 0: every row sees its own key
        const size_t row = (size_t)(i0 + r) * H + h;
#pragma unroll
        for (int j = 0; j < DJ; j++) {
            const int d = tx + 16 * j;
            if (d < D) kc_st(out, row * D + d, o[a][j] * inv);
        }
        if (tx == 0) lse[row] = m[a] + logf(l[a]);
    }
}

// ---- kernels: training backward ------------------------------------------------

// delta (rows) = rowsum(dout * out) over rows of D; one warp per row.
template <typename T>
__global__ void att_delta_kernel(float *delta, const T *dout, const T *out, int rows, int D) {
    const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= rows) return;  // the whole warp
    float x = 0.0f;
    for (int d = lane; d < D; d += 32) x += kc_ld(dout, (size_t)row * D + d) * kc_ld(out, (size_t)row * D + d);
    x = kc_warp_sum(x);
    if (lane == 0) delta[row] = x;
}

// dq by (query tile, head); grid (ceil(n / B), H). dq (n, H, D) =
// scale * sum_j p_ij (dp_ij - delta_i) k_j over the row's keys.
template <typename T, int DMAX>
__global__ void __launch_bounds__(ATT_THREADS)
    att_dq_kernel(T *dq, const T *dout, const T *q, const T *k, const T *v, const float *lse, const float *delta,
                  const int *cu, int n_seqs, int n, int H, int KV, int D, float scale) {
    typedef att_cfg<DMAX> C;
    constexpr int B = C::B, R = C::R, SD = C::SD, PS = C::PS, DJ = C::DJ;
    extern __shared__ float sm[];
    float *q_s = sm;               // (B, SD) scaled queries
    float *do_s = q_s + B * SD;    // (B, SD) dout
    float *k_s = do_s + B * SD;    // (B, SD)
    float *v_s = k_s + B * SD;     // (B, SD)
    float *ds_s = v_s + B * SD;    // (B, PS) p (dp - delta)
    float *lse_s = ds_s + B * PS;  // (B)
    float *dl_s = lse_s + B;       // (B)
    int *start_s = (int *)(dl_s + B);
    const int h = blockIdx.y, kh = h / (H / KV), i0 = blockIdx.x * B, mi = min(B, n - i0);
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;

    for (int r = threadIdx.x; r < B; r += blockDim.x) {
        start_s[r] = cu[att_doc_of(cu, n_seqs, i0 + min(r, mi - 1))];
        lse_s[r] = r < mi ? lse[(size_t)(i0 + r) * H + h] : 0.0f;
        dl_s[r] = r < mi ? delta[(size_t)(i0 + r) * H + h] : 0.0f;
    }
    att_load_tile<T, DMAX, B>(q_s, q + ((size_t)i0 * H + h) * D, (size_t)H * D, mi, D, scale);
    att_load_tile<T, DMAX, B>(do_s, dout + ((size_t)i0 * H + h) * D, (size_t)H * D, mi, D, 1.0f);
    __syncthreads();

    float acc[R][DJ];
#pragma unroll
    for (int a = 0; a < R; a++)
#pragma unroll
        for (int j = 0; j < DJ; j++) acc[a][j] = 0.0f;
    const int kv_lo = start_s[0], kv_hi = i0 + mi;
    for (int j0 = kv_lo; j0 < kv_hi; j0 += B) {
        const int nj = min(B, kv_hi - j0);
        att_load_tile<T, DMAX, B>(k_s, k + ((size_t)j0 * KV + kh) * D, (size_t)KV * D, nj, D, 1.0f);
        att_load_tile<T, DMAX, B>(v_s, v + ((size_t)j0 * KV + kh) * D, (size_t)KV * D, nj, D, 1.0f);
        __syncthreads();
        float s[R][R], dp[R][R];
#pragma unroll
        for (int a = 0; a < R; a++)
#pragma unroll
            for (int b = 0; b < R; b++) s[a][b] = dp[a][b] = 0.0f;
#pragma unroll 2
        for (int d = 0; d < DMAX; d++) {
            float qa[R], da[R], kb[R], vb[R];
#pragma unroll
            for (int a = 0; a < R; a++) qa[a] = q_s[(ty + 16 * a) * SD + d], da[a] = do_s[(ty + 16 * a) * SD + d];
#pragma unroll
            for (int b = 0; b < R; b++) kb[b] = k_s[(tx + 16 * b) * SD + d], vb[b] = v_s[(tx + 16 * b) * SD + d];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int b = 0; b < R; b++) s[a][b] += qa[a] * kb[b], dp[a][b] += da[a] * vb[b];
        }
#pragma unroll
        for (int a = 0; a < R; a++) {
            const int r = ty + 16 * a, row = i0 + r;
#pragma unroll
            for (int b = 0; b < R; b++) {
                const int cc = tx + 16 * b, j = j0 + cc;
                float ds = 0.0f;
                if (r < mi && cc < nj && j <= row && j >= start_s[r])
                    ds = expf(s[a][b] - lse_s[r]) * (dp[a][b] - dl_s[r]);
                ds_s[r * PS + cc] = ds;
            }
        }
        __syncthreads();
#pragma unroll 4
        for (int b = 0; b < nj; b++) {
            float sa[R], kb[DJ];
#pragma unroll
            for (int a = 0; a < R; a++) sa[a] = ds_s[(ty + 16 * a) * PS + b];
#pragma unroll
            for (int j = 0; j < DJ; j++) kb[j] = k_s[b * SD + tx + 16 * j];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int j = 0; j < DJ; j++) acc[a][j] += sa[a] * kb[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int a = 0; a < R; a++) {
        const int r = ty + 16 * a;
        if (r >= mi) continue;
        const size_t row = (size_t)(i0 + r) * H + h;
#pragma unroll
        for (int j = 0; j < DJ; j++) {
            const int d = tx + 16 * j;
            if (d < D) kc_st(dq, row * D + d, acc[a][j] * scale);
        }
    }
}

// dk, dv of one key tile from one query head h; grid (ceil(n / B), H).
// dv_j = sum_i p_ij dout_i, dk_j = scale * sum_i p_ij (dp_ij - delta_i) q_i over
// the queries i of key j's document with i >= j. With pk == NULL (H == KV) the
// block writes dk, dv (n, KV, D); otherwise pk, pv (n, H, D) float32 partials.
template <typename T, int DMAX>
__global__ void __launch_bounds__(ATT_THREADS)
    att_dkdv_kernel(T *dk, T *dv, float *pk, float *pv, const T *dout, const T *q, const T *k, const T *v,
                    const float *lse, const float *delta, const int *cu, int n_seqs, int n, int H, int KV, int D,
                    float scale) {
    typedef att_cfg<DMAX> C;
    constexpr int B = C::B, R = C::R, SD = C::SD, PS = C::PS, DJ = C::DJ;
    extern __shared__ float sm[];
    float *k_s = sm;               // (B, SD) keys of the tile
    float *v_s = k_s + B * SD;     // (B, SD) values of the tile
    float *q_s = v_s + B * SD;     // (B, SD) scaled queries of the current query tile
    float *do_s = q_s + B * SD;    // (B, SD) their dout
    float *pd_s = do_s + B * SD;   // (B keys, PS) p, then p (dp - delta)
    float *lse_s = pd_s + B * PS;  // (B)
    float *dl_s = lse_s + B;       // (B)
    int *end_s = (int *)(dl_s + B);  // (B) document end of each key
    const int h = blockIdx.y, kh = h / (H / KV), j0 = blockIdx.x * B, nj = min(B, n - j0);
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;

    for (int cc = threadIdx.x; cc < B; cc += blockDim.x) end_s[cc] = cu[att_doc_of(cu, n_seqs, j0 + min(cc, nj - 1)) + 1];
    att_load_tile<T, DMAX, B>(k_s, k + ((size_t)j0 * KV + kh) * D, (size_t)KV * D, nj, D, 1.0f);
    att_load_tile<T, DMAX, B>(v_s, v + ((size_t)j0 * KV + kh) * D, (size_t)KV * D, nj, D, 1.0f);
    __syncthreads();

    float ak[R][DJ], av[R][DJ];  // rows: keys ty + 16 a; columns: dims tx + 16 j
#pragma unroll
    for (int a = 0; a < R; a++)
#pragma unroll
        for (int j = 0; j < DJ; j++) ak[a][j] = av[a][j] = 0.0f;
    const int q_hi = end_s[nj - 1];  // the last query that reads a key of the tile, + 1
    for (int i0 = j0; i0 < q_hi; i0 += B) {
        const int mi = min(B, q_hi - i0);
        for (int r = threadIdx.x; r < B; r += blockDim.x) {
            lse_s[r] = r < mi ? lse[(size_t)(i0 + r) * H + h] : 0.0f;
            dl_s[r] = r < mi ? delta[(size_t)(i0 + r) * H + h] : 0.0f;
        }
        att_load_tile<T, DMAX, B>(q_s, q + ((size_t)i0 * H + h) * D, (size_t)H * D, mi, D, scale);
        att_load_tile<T, DMAX, B>(do_s, dout + ((size_t)i0 * H + h) * D, (size_t)H * D, mi, D, 1.0f);
        __syncthreads();
        // Transposed tile: thread rows are keys ty + 16 a, columns queries tx + 16 b.
        float s[R][R], dp[R][R];
#pragma unroll
        for (int a = 0; a < R; a++)
#pragma unroll
            for (int b = 0; b < R; b++) s[a][b] = dp[a][b] = 0.0f;
#pragma unroll 2
        for (int d = 0; d < DMAX; d++) {
            float ka[R], va[R], qb[R], db[R];
#pragma unroll
            for (int a = 0; a < R; a++) ka[a] = k_s[(ty + 16 * a) * SD + d], va[a] = v_s[(ty + 16 * a) * SD + d];
#pragma unroll
            for (int b = 0; b < R; b++) qb[b] = q_s[(tx + 16 * b) * SD + d], db[b] = do_s[(tx + 16 * b) * SD + d];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int b = 0; b < R; b++) s[a][b] += ka[a] * qb[b], dp[a][b] += va[a] * db[b];
        }
#pragma unroll
        for (int a = 0; a < R; a++) {
            const int cc = ty + 16 * a, j = j0 + cc;
#pragma unroll
            for (int b = 0; b < R; b++) {
                const int r = tx + 16 * b, i = i0 + r;
                float p = 0.0f;
                if (cc < nj && r < mi && i >= j && i < end_s[cc]) p = expf(s[a][b] - lse_s[r]);
                dp[a][b] = p * (dp[a][b] - dl_s[r]);  // ds (0 where masked)
                pd_s[cc * PS + r] = p;
            }
        }
        __syncthreads();
        for (int r = 0; r < mi; r++) {  // dv += P^T dout
            float pa[R], db[DJ];
#pragma unroll
            for (int a = 0; a < R; a++) pa[a] = pd_s[(ty + 16 * a) * PS + r];
#pragma unroll
            for (int j = 0; j < DJ; j++) db[j] = do_s[r * SD + tx + 16 * j];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int j = 0; j < DJ; j++) av[a][j] += pa[a] * db[j];
        }
        __syncthreads();
#pragma unroll
        for (int a = 0; a < R; a++)
#pragma unroll
            for (int b = 0; b < R; b++) pd_s[(ty + 16 * a) * PS + tx + 16 * b] = dp[a][b];
        __syncthreads();
        for (int r = 0; r < mi; r++) {  // dk += dS^T (scale q)
            float sa[R], qb[DJ];
#pragma unroll
            for (int a = 0; a < R; a++) sa[a] = pd_s[(ty + 16 * a) * PS + r];
#pragma unroll
            for (int j = 0; j < DJ; j++) qb[j] = q_s[r * SD + tx + 16 * j];
#pragma unroll
            for (int a = 0; a < R; a++)
#pragma unroll
                for (int j = 0; j < DJ; j++) ak[a][j] += sa[a] * qb[j];
        }
        __syncthreads();  // q_s, do_s, pd_s free for the next query tile
    }
#pragma unroll
    for (int a = 0; a < R; a++) {
        const int cc = ty + 16 * a;
        if (cc >= nj) continue;
#pragma unroll
        for (int j = 0; j < DJ; j++) {
            const int d = tx + 16 * j;
            if (d >= D) continue;
            if (pk) {
                const size_t o = ((size_t)(j0 + cc) * H + h) * D + d;
                pk[o] = ak[a][j], pv[o] = av[a][j];
            } else {
                const size_t o = ((size_t)(j0 + cc) * KV + kh) * D + d;
                kc_st(dk, o, ak[a][j]), kc_st(dv, o, av[a][j]);
            }
        }
    }
}

// dk, dv (n, KV, D) = the sums over each group of query heads of pk, pv (n, H, D).
template <typename T>
__global__ void att_group_sum_kernel(T *dk, T *dv, const float *pk, const float *pv, int n, int H, int KV, int D) {
    const size_t total = (size_t)n * KV * D;
    const int G = H / KV;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t t = e / D;
        const int d = (int)(e % D), kh = (int)(t % KV);
        const size_t j = t / KV;
        float sk = 0.0f, sv = 0.0f;
        for (int g = 0; g < G; g++) {
            const size_t o = (j * H + (size_t)kh * G + g) * D + d;
            sk += pk[o], sv += pv[o];
        }
        kc_st(dk, e, sk), kc_st(dv, e, sv);
    }
}

// ---- kernels: decode -----------------------------------------------------------

// Eight consecutive elements (16-byte aligned) as floats.
__device__ __forceinline__ void att_ld8(const float *p, float *x) {
    const float4 a = *(const float4 *)p, b = *(const float4 *)(p + 4);
    x[0] = a.x, x[1] = a.y, x[2] = a.z, x[3] = a.w, x[4] = b.x, x[5] = b.y, x[6] = b.z, x[7] = b.w;
}
__device__ __forceinline__ void att_ld8(const bf16 *p, float *x) {
    const uint4 u = *(const uint4 *)p;
    const __nv_bfloat162 *h2 = (const __nv_bfloat162 *)&u;
#pragma unroll
    for (int t = 0; t < 4; t++) {
        const float2 f = __bfloat1622float2(h2[t]);
        x[2 * t] = f.x, x[2 * t + 1] = f.y;
    }
}

// Grid (n * KV * n_gchunks, n_split). Block: token i, KV head kh, query heads
// kh * G + g0 + [0, GC), keys [sp * chunk, min((sp + 1) * chunk, pos[i] + 1)).
// One split: out (n, H, D). Several: part_o (n, H, n_split, D) unnormalised
// sums and part_ml (n, H, n_split, 2) their max and sum of exponentials.
template <typename T, int DMAX, int GC>
__global__ void __launch_bounds__(DEC_THREADS)
    att_decode_kernel(T *out, float *part_o, float *part_ml, const T *q, const T *k_cache, const T *v_cache,
                      const int *slot, const int *pos, int H, int KV, int D, int max_seq, int chunk, int n_split,
                      int n_gchunks, int vec, float scale) {
    constexpr int DL = DMAX / 32;  // head dims per lane in the accumulators
    __shared__ __align__(16) float q_s[GC * DMAX];  // scaled queries of the group
    __shared__ float s_s[GC * DEC_TK];               // scores, then probabilities
    __shared__ float red_s[DEC_WARPS * GC * DMAX];   // the warps' accumulators
    __shared__ float m_s[GC], l_s[GC], a_s[GC];      // running max, sum, rescale
    const int G = H / KV, gch = blockIdx.x % n_gchunks, t = blockIdx.x / n_gchunks;
    const int kh = t % KV, i = t / KV, sp = blockIdx.y, g0 = gch * GC, gc = min(GC, G - g0);
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int len = pos[i] + 1, k_lo = sp * chunk;
    if (k_lo >= len) return;  // the whole block: this split is past the sequence
    const int k_hi = min(len, k_lo + chunk), nsp = (len + chunk - 1) / chunk;

    for (int e = tid; e < GC * DMAX; e += DEC_THREADS) {
        const int g = e / DMAX, d = e % DMAX;
        q_s[e] = g < gc && d < D ? kc_ld(q, ((size_t)i * H + kh * G + g0 + g) * D + d) * scale : 0.0f;
    }
    if (tid < GC) m_s[tid] = -INFINITY, l_s[tid] = 0.0f;
    const size_t row0 = (size_t)slot[i] * max_seq * KV + kh;  // cache row of (slot, position 0, kh)
    float acc[GC][DL];
#pragma unroll
    for (int g = 0; g < GC; g++)
#pragma unroll
        for (int u = 0; u < DL; u++) acc[g][u] = 0.0f;
    __syncthreads();

    for (int base = k_lo; base < k_hi; base += DEC_TK) {
        const int nk = min(DEC_TK, k_hi - base);
        // Scores: thread tid takes key base + tid against the group's queries.
        float s[GC];
#pragma unroll
        for (int g = 0; g < GC; g++) s[g] = 0.0f;
        if (tid < nk) {
            const T *kp = k_cache + (row0 + (size_t)(base + tid) * KV) * D;
            if (vec) {
                for (int d = 0; d < D; d += 8) {
                    float x[8];
                    att_ld8(kp + d, x);
#pragma unroll
                    for (int g = 0; g < GC; g++) {
                        const float4 qa = *(const float4 *)(q_s + g * DMAX + d);
                        const float4 qb = *(const float4 *)(q_s + g * DMAX + d + 4);
                        s[g] += qa.x * x[0] + qa.y * x[1] + qa.z * x[2] + qa.w * x[3] + qb.x * x[4] + qb.y * x[5] +
                                qb.z * x[6] + qb.w * x[7];
                    }
                }
            } else {
                for (int d = 0; d < D; d++) {
                    const float x = kc_ld(kp, d);
#pragma unroll
                    for (int g = 0; g < GC; g++) s[g] += q_s[g * DMAX + d] * x;
                }
            }
        }
#pragma unroll
        for (int g = 0; g < GC; g++) s_s[g * DEC_TK + tid] = tid < nk ? s[g] : -INFINITY;
        __syncthreads();
        // Online softmax, a warp per head; the tile holds at least one key.
        for (int g = warp; g < GC; g += DEC_WARPS) {
            float *sg = s_s + g * DEC_TK;
            if (g >= gc) {  // padding head of the last group: contributes nothing
                for (int u = lane; u < DEC_TK; u += 32) sg[u] = 0.0f;
                if (lane == 0) a_s[g] = 1.0f;
                continue;
            }
            float x[DEC_TK / 32], mx = -INFINITY, sum = 0.0f;
#pragma unroll
            for (int u = 0; u < DEC_TK / 32; u++) x[u] = sg[lane + 32 * u], mx = fmaxf(mx, x[u]);
            mx = kc_warp_max(mx);
            const float mold = m_s[g], mnew = fmaxf(mold, mx), alpha = expf(mold - mnew);
#pragma unroll
            for (int u = 0; u < DEC_TK / 32; u++) {
                x[u] = expf(x[u] - mnew);
                sum += x[u];
                sg[lane + 32 * u] = x[u];
            }
            sum = kc_warp_sum(sum);
            if (lane == 0) m_s[g] = mnew, l_s[g] = l_s[g] * alpha + sum, a_s[g] = alpha;
        }
        __syncthreads();
        // acc (heads, D) of this warp = acc * alpha + its keys' p v.
#pragma unroll
        for (int g = 0; g < GC; g++) {
            const float alpha = a_s[g];
#pragma unroll
            for (int u = 0; u < DL; u++) acc[g][u] *= alpha;
        }
        for (int tt = warp; tt < nk; tt += DEC_WARPS) {
            const T *vp = v_cache + (row0 + (size_t)(base + tt) * KV) * D;
            float x[DL];
#pragma unroll
            for (int u = 0; u < DL; u++) x[u] = lane + 32 * u < D ? kc_ld(vp, lane + 32 * u) : 0.0f;
#pragma unroll
            for (int g = 0; g < GC; g++) {
                const float p = s_s[g * DEC_TK + tt];
#pragma unroll
                for (int u = 0; u < DL; u++) acc[g][u] += p * x[u];
            }
        }
        __syncthreads();  // s_s and a_s are rewritten by the next tile
    }
#pragma unroll
    for (int g = 0; g < GC; g++)
#pragma unroll
        for (int u = 0; u < DL; u++) red_s[(warp * GC + g) * DMAX + lane + 32 * u] = acc[g][u];
    __syncthreads();
    for (int e = tid; e < gc * D; e += DEC_THREADS) {
        const int g = e / D, d = e % D;
        float o = 0.0f;
#pragma unroll
        for (int w = 0; w < DEC_WARPS; w++) o += red_s[(w * GC + g) * DMAX + d];
        const size_t row = (size_t)i * H + kh * G + g0 + g;
        if (nsp == 1)
            kc_st(out, row * D + d, o / l_s[g]);
        else
            part_o[(row * n_split + sp) * D + d] = o;
    }
    if (nsp > 1 && tid < gc) {
        const size_t row = (size_t)i * H + kh * G + g0 + tid;
        part_ml[(row * n_split + sp) * 2] = m_s[tid];
        part_ml[(row * n_split + sp) * 2 + 1] = l_s[tid];
    }
}

// Combines the splits of each (token, head) row whose sequence had more than
// one; grid n * H.
template <typename T>
__global__ void att_decode_combine_kernel(T *out, const float *part_o, const float *part_ml, const int *pos, int H,
                                          int D, int chunk, int n_split) {
    const size_t row = blockIdx.x;
    const int len = pos[row / H] + 1, nsp = (len + chunk - 1) / chunk;
    if (nsp <= 1) return;  // written by the split kernel
    const float *ml = part_ml + row * n_split * 2;
    float mx = -INFINITY, sum = 0.0f;
    for (int s = 0; s < nsp; s++) mx = fmaxf(mx, ml[2 * s]);
    for (int s = 0; s < nsp; s++) sum += ml[2 * s + 1] * expf(ml[2 * s] - mx);
    const float inv = 1.0f / sum;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float o = 0.0f;
        for (int s = 0; s < nsp; s++) o += expf(ml[2 * s] - mx) * part_o[(row * n_split + s) * D + d];
        kc_st(out, row * D + d, o * inv);
    }
}

// k_cache, v_cache (n_slots, max_seq, KV, D) at (slot[i], pos[i]) = k, v (n, KV, D).
template <typename T>
__global__ void att_kv_store_kernel(T *k_cache, T *v_cache, const T *k, const T *v, const int *slot, const int *pos,
                                    int n, int KV, int D, int max_seq) {
    const size_t total = (size_t)n * KV * D, row = (size_t)KV * D;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t i = e / row;
        const size_t dst = ((size_t)slot[i] * max_seq + pos[i]) * row + e % row;
        k_cache[dst] = k[e];
        v_cache[dst] = v[e];
    }
}

// ---- launchers --------------------------------------------------------------

// Runs the statement with DMAX bound to the padded head dim of D (<= 256).
#define ATT_BY_D(D, DMAX, ...)             \
    do {                                   \
        if ((D) <= 64) {                   \
            constexpr int DMAX = 64;       \
            __VA_ARGS__;                   \
        } else if ((D) <= 128) {           \
            constexpr int DMAX = 128;      \
            __VA_ARGS__;                   \
        } else {                           \
            constexpr int DMAX = 256;      \
            __VA_ARGS__;                   \
        }                                  \
    } while (0)

static bool att_shape_ok(kc_ctx *c, const char *op, int H, int KV, int D) {
    if (D >= 1 && D <= 256 && KV >= 1 && H >= KV && H % KV == 0) return true;
    kc_record(c, cudaErrorInvalidValue, op);
    return false;
}

template <int DMAX>
static size_t att_fwd_smem(void) {
    typedef att_cfg<DMAX> C;
    return (size_t)(2 * C::B * C::SD + C::B * C::PS) * sizeof(float) + C::B * sizeof(int);
}
template <int DMAX>
static size_t att_bwd_smem(void) {
    typedef att_cfg<DMAX> C;
    return (size_t)(4 * C::B * C::SD + C::B * C::PS + 2 * C::B) * sizeof(float) + C::B * sizeof(int);
}

template <typename T, int DMAX>
static void att_fwd_launch(kc_ctx *c, T *out, float *lse, const T *q, const T *k, const T *v, const int *cu,
                           int n_seqs, int n, int H, int KV, int D) {
    const size_t smem = att_fwd_smem<DMAX>();
    kc_record(c, cudaFuncSetAttribute(att_fwd_kernel<T, DMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
              "kc_attention_packed");
    dim3 grid((unsigned)((n + att_cfg<DMAX>::B - 1) / att_cfg<DMAX>::B), (unsigned)H);
    att_fwd_kernel<T, DMAX><<<grid, ATT_THREADS, smem, c->stream>>>(out, lse, q, k, v, cu, n_seqs, n, H, KV, D,
                                                                     1.0f / sqrtf((float)D));
}

template <typename T, int DMAX>
static void att_bwd_launch(kc_ctx *c, T *dq, T *dk, T *dv, const float *delta, float *scratch, const T *dout,
                           const T *q, const T *k, const T *v, const float *lse, const int *cu, int n_seqs, int n,
                           int H, int KV, int D) {
    const size_t smem = att_bwd_smem<DMAX>();
    const float scale = 1.0f / sqrtf((float)D);
    const char *op = "kc_attention_packed_backward";
    kc_record(c, cudaFuncSetAttribute(att_dq_kernel<T, DMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem), op);
    kc_record(c, cudaFuncSetAttribute(att_dkdv_kernel<T, DMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
              op);
    dim3 grid((unsigned)((n + att_cfg<DMAX>::B - 1) / att_cfg<DMAX>::B), (unsigned)H);
    att_dq_kernel<T, DMAX><<<grid, ATT_THREADS, smem, c->stream>>>(dq, dout, q, k, v, lse, delta, cu, n_seqs, n, H,
                                                                    KV, D, scale);
    float *pk = H == KV ? NULL : scratch, *pv = H == KV ? NULL : scratch + (size_t)n * H * D;
    att_dkdv_kernel<T, DMAX><<<grid, ATT_THREADS, smem, c->stream>>>(dk, dv, pk, pv, dout, q, k, v, lse, delta, cu,
                                                                      n_seqs, n, H, KV, D, scale);
    if (pk) att_group_sum_kernel<T><<<kc_blocks((size_t)n * KV * D, 256), 256, 0, c->stream>>>(dk, dv, pk, pv, n, H, KV, D);
}

extern "C" void kc_attention_packed(kc_ctx *c, kc_dtype dt, void *out, float *lse, const void *q, const void *k,
                                    const void *v, const int *cu_seqlens, int n_seqs, int n, int H, int KV, int D) {
    if (n <= 0 || n_seqs <= 0) return;
    if (!att_shape_ok(c, "kc_attention_packed", H, KV, D)) return;
    KC_DISPATCH(dt, T,
                ATT_BY_D(D, DM, att_fwd_launch<T, DM>(c, (T *)out, lse, (const T *)q, (const T *)k, (const T *)v,
                                                      cu_seqlens, n_seqs, n, H, KV, D)));
    kc_launched(c, "kc_attention_packed");
}

extern "C" size_t kc_attention_backward_scratch_bytes(int n, int H, int KV, int D) {
    if (n <= 0 || H == KV) return 0;
    return 2 * (size_t)n * H * D * sizeof(float);
}

extern "C" void kc_attention_packed_backward(kc_ctx *c, kc_dtype dt, void *dq, void *dk, void *dv, float *delta,
                                             void *scratch, const void *dout, const void *q, const void *k,
                                             const void *v, const void *out, const float *lse, const int *cu_seqlens,
                                             int n_seqs, int n, int H, int KV, int D) {
    if (n <= 0 || n_seqs <= 0) return;
    if (!att_shape_ok(c, "kc_attention_packed_backward", H, KV, D)) return;
    const int rows = n * H;
    KC_DISPATCH(dt, T, att_delta_kernel<T><<<(rows + 7) / 8, 256, 0, c->stream>>>(delta, (const T *)dout, (const T *)out, rows, D));
    kc_launched(c, "kc_attention_packed_backward (delta)");
    KC_DISPATCH(dt, T,
                ATT_BY_D(D, DM, att_bwd_launch<T, DM>(c, (T *)dq, (T *)dk, (T *)dv, delta, (float *)scratch,
                                                      (const T *)dout, (const T *)q, (const T *)k, (const T *)v, lse,
                                                      cu_seqlens, n_seqs, n, H, KV, D)));
    kc_launched(c, "kc_attention_packed_backward");
}

template <typename T, int DMAX, int GC>
static void att_decode_launch(kc_ctx *c, T *out, const T *q, const T *k_cache, const T *v_cache, const int *slot,
                              const int *pos, int n, int H, int KV, int D, int max_seq) {
    const int G = H / KV, n_g = (G + GC - 1) / GC;
    const long blocks = (long)n * KV * n_g;
    // Splits: enough for two blocks per SM, none longer than DEC_MAX_CHUNK
    // keys, none shorter than DEC_TK, as many as the workspace holds.
    long want = (2L * c->sm_count + blocks - 1) / blocks;
    const long by_len = (max_seq + DEC_MAX_CHUNK - 1) / DEC_MAX_CHUNK, most = (max_seq + DEC_TK - 1) / DEC_TK;
    want = want > by_len ? want : by_len;
    want = want < most ? want : most;
    const size_t per_split = (size_t)n * H * (D + 2) * sizeof(float);
    const long fits = (long)((c->workspace_bytes - 256) / per_split);
    if (want > fits) want = fits;
    if (want > 65535) want = 65535;  // the splits are gridDim.y
    if (want < 1) want = 1;
    const int chunk = (int)(((max_seq + want - 1) / want + DEC_TK - 1) / DEC_TK * DEC_TK);
    const int n_split = (max_seq + chunk - 1) / chunk;
    float *part_o = NULL, *part_ml = NULL;
    if (n_split > 1) {
        const size_t floats = (size_t)n * H * n_split * (D + 2);
        uintptr_t p = ((uintptr_t)c->workspace + c->workspace_bytes - floats * sizeof(float)) & ~(uintptr_t)255;
        part_o = (float *)p;
        part_ml = part_o + (size_t)n * H * n_split * D;
    }
    const int vec = D % 8 == 0 && (uintptr_t)k_cache % 16 == 0;
    dim3 grid((unsigned)blocks, (unsigned)n_split);
    att_decode_kernel<T, DMAX, GC><<<grid, DEC_THREADS, 0, c->stream>>>(
        out, part_o, part_ml, q, k_cache, v_cache, slot, pos, H, KV, D, max_seq, chunk, n_split, n_g, vec,
        1.0f / sqrtf((float)D));
    if (n_split > 1)
        att_decode_combine_kernel<T><<<(unsigned)((size_t)n * H), 128, 0, c->stream>>>(out, part_o, part_ml, pos, H, D,
                                                                                       chunk, n_split);
}

extern "C" void kc_attention_decode(kc_ctx *c, kc_dtype dt, void *out, const void *q, const void *k_cache,
                                    const void *v_cache, const int *slot, const int *pos, int n, int H, int KV, int D,
                                    int max_seq) {
    if (n <= 0) return;
    if (!att_shape_ok(c, "kc_attention_decode", H, KV, D) || max_seq < 1) {
        kc_record(c, cudaErrorInvalidValue, "kc_attention_decode");
        return;
    }
    const int G = H / KV;
#define ATT_DEC(GC)                                                                                               \
    KC_DISPATCH(dt, T,                                                                                            \
                ATT_BY_D(D, DM, att_decode_launch<T, DM, GC>(c, (T *)out, (const T *)q, (const T *)k_cache,       \
                                                            (const T *)v_cache, slot, pos, n, H, KV, D, max_seq)))
    if (G == 1)
        ATT_DEC(1);
    else if (G <= 4)
        ATT_DEC(4);
    else
        ATT_DEC(8);
#undef ATT_DEC
    kc_launched(c, "kc_attention_decode");
}

extern "C" void kc_kv_store(kc_ctx *c, kc_dtype dt, void *k_cache, void *v_cache, const void *k, const void *v,
                            const int *slot, const int *pos, int n, int KV, int D, int max_seq) {
    if (n <= 0) return;
    const size_t total = (size_t)n * KV * D;
    KC_DISPATCH(dt, T,
                att_kv_store_kernel<T><<<kc_blocks(total, 256), 256, 0, c->stream>>>(
                    (T *)k_cache, (T *)v_cache, (const T *)k, (const T *)v, slot, pos, n, KV, D, max_seq));
    kc_launched(c, "kc_kv_store");
}
