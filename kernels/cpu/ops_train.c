// ops_train.c: CPU float32 training ops that have no inference twin:
// causal grouped-query attention over packed documents (forward keeping the
// log-sum-exp, and its backward), and the per-chunk steps of the fused
// log-softmax + gather + entropy over the vocabulary. Contracts in
// kernels/kernels.h. OpenMP loops; every output element is summed by one
// thread in a fixed order, so results do not depend on the thread count.
#include <cblas.h>    // cblas_sgemm (the tiles of attention)
#include <math.h>     // expf, logf, sqrtf, INFINITY

#include "ops_train.h"  // the prototypes, KERNELS_CPU_TRAIN_OPS

// ---- attention over packed documents ---------------------------------------------
// Flash-attention style tiles of ATT_TILE queries x ATT_TILE keys, each
// product of a tile an sgemm (single-threaded inside the OpenMP loop); the
// tiles stay in a per-thread stack buffer, so no (len x len) score matrix
// exists. Tasks are (document, head, block of rows); the diagonal tile is
// masked causally.

#define ATT_TILE 64

static int min_i(int a, int b) { return a < b ? a : b; }

// The most row blocks any document has.
static int max_blocks(const int *cu, int n_seqs) {
    int mb = 0;
    for (int s = 0; s < n_seqs; s++) {
        int nb = (cu[s + 1] - cu[s] + ATT_TILE - 1) / ATT_TILE;
        mb = nb > mb ? nb : mb;
    }
    return mb;
}

// S (mi, nj) = scale * A (mi, D) @ B (nj, D)^T with row strides lda, ldb.
static void tile_abt(float *S, const float *A, int lda, const float *B, int ldb, int mi, int nj,
                     int D, float scale) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, nj, D, scale, A, lda, B, ldb, 0.0f, S,
                ATT_TILE);
}

void kernels_cpu_attention_packed(void *ctx, float *out, float *lse, const float *q,
                                  const float *k, const float *v, const int *cu_seqlens,
                                  int n_seqs, int n, int H, int KV, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int group = H / KV, ldq = H * D, ldk = KV * D;
    int nb = max_blocks(cu_seqlens, n_seqs);
#pragma omp parallel for collapse(3) schedule(dynamic, 1)
    for (int s = 0; s < n_seqs; s++)
        for (int h = 0; h < H; h++)
            for (int qb = 0; qb < nb; qb++) {
                int start = cu_seqlens[s], len = cu_seqlens[s + 1] - start;
                if (qb * ATT_TILE >= len) continue;
                int i0 = start + qb * ATT_TILE, mi = min_i(ATT_TILE, len - qb * ATT_TILE);
                const float *Q = q + ((size_t)i0 * H + h) * D;
                float *O = out + ((size_t)i0 * H + h) * D;
                float S[ATT_TILE * ATT_TILE], m[ATT_TILE], l[ATT_TILE];
                for (int a = 0; a < mi; a++) {
                    m[a] = -INFINITY, l[a] = 0.0f;
                    for (int d = 0; d < D; d++) O[(size_t)a * ldq + d] = 0.0f;
                }
                for (int kb = 0; kb <= qb; kb++) {
                    int j0 = start + kb * ATT_TILE, nj = min_i(ATT_TILE, len - kb * ATT_TILE);
                    size_t kv0 = ((size_t)j0 * KV + h / group) * D;
                    tile_abt(S, Q, ldq, k + kv0, ldk, mi, nj, D, scale);
                    for (int a = 0; a < mi; a++) {
                        float *Sa = S + a * ATT_TILE;
                        int nv = kb == qb ? a + 1 : nj;  // causal on the diagonal tile
                        float bm = -INFINITY;
                        for (int b = 0; b < nv; b++) bm = Sa[b] > bm ? Sa[b] : bm;
                        if (bm > m[a]) {  // rescale what was accumulated under the old max
                            float r = expf(m[a] - bm);
                            l[a] *= r;
                            for (int d = 0; d < D; d++) O[(size_t)a * ldq + d] *= r;
                            m[a] = bm;
                        }
                        float sum = 0.0f;
                        for (int b = 0; b < nv; b++) {
                            Sa[b] = expf(Sa[b] - m[a]);
                            sum += Sa[b];
                        }
                        for (int b = nv; b < nj; b++) Sa[b] = 0.0f;
                        l[a] += sum;
                    }
                    // O (mi, D) += P (mi, nj) @ V (nj, D)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, D, nj, 1.0f, S,
                                ATT_TILE, v + kv0, ldk, 1.0f, O, ldq);
                }
                for (int a = 0; a < mi; a++) {
                    float inv = 1.0f / l[a];
                    for (int d = 0; d < D; d++) O[(size_t)a * ldq + d] *= inv;
                    lse[(size_t)(i0 + a) * H + h] = m[a] + logf(l[a]);
                }
            }
}

// ---- attention backward ------------------------------------------------------
// With p_ij = exp(s_ij - lse_i), s_ij = scale q_i . k_j, dp_ij = dout_i . v_j
// and delta_i = dout_i . out_i: ds_ij = p_ij (dp_ij - delta_i),
// dq_i = scale sum_j ds_ij k_j, dk_j = scale sum_i ds_ij q_i, dv_j = sum_i p_ij dout_i.
// Two passes, each writing its own rows only (no races, a fixed order): dq
// by (document, head, query block), then dk and dv by (document, kv head,
// key block). p and dp are recomputed in each; lse gives every p_ij directly.

// P and dS of one tile from the scores S and dP = dout v^T (both (mi, nj),
// row stride ATT_TILE): S becomes P and dP becomes scale * dS; entries above
// the diagonal (key j0 + b after query i0 + a) become 0.
static void tile_p_ds(float *S, float *dP, const float *lse, const float *delta, int H, int i0,
                      int j0, int mi, int nj, float scale) {
    for (int a = 0; a < mi; a++) {
        size_t row = (size_t)(i0 + a) * H;
        float la = lse[row], da = delta[row];
        float *Sa = S + a * ATT_TILE, *Pa = dP + a * ATT_TILE;
        int nv = min_i(nj, i0 + a - j0 + 1);
        for (int b = 0; b < nv; b++) {
            float p = expf(Sa[b] - la);
            Sa[b] = p;
            Pa[b] = p * (Pa[b] - da) * scale;
        }
        for (int b = nv < 0 ? 0 : nv; b < nj; b++) Sa[b] = Pa[b] = 0.0f;
    }
}

void kernels_cpu_attention_packed_backward(void *ctx, float *dq, float *dk, float *dv,
                                           float *delta, const float *dout, const float *q,
                                           const float *k, const float *v, const float *out,
                                           const float *lse, const int *cu_seqlens, int n_seqs,
                                           int n, int H, int KV, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int group = H / KV, ldq = H * D, ldk = KV * D;
    int nb = max_blocks(cu_seqlens, n_seqs);
#pragma omp parallel for if (n * H > 64)
    for (int r = 0; r < n * H; r++) {
        float dsum = 0.0f;
        for (int d = 0; d < D; d++) dsum += dout[(size_t)r * D + d] * out[(size_t)r * D + d];
        delta[r] = dsum;
    }
#pragma omp parallel for collapse(3) schedule(dynamic, 1)
    for (int s = 0; s < n_seqs; s++)
        for (int h = 0; h < H; h++)
            for (int qb = 0; qb < nb; qb++) {
                int start = cu_seqlens[s], len = cu_seqlens[s + 1] - start;
                if (qb * ATT_TILE >= len) continue;
                int i0 = start + qb * ATT_TILE, mi = min_i(ATT_TILE, len - qb * ATT_TILE);
                size_t q0 = ((size_t)i0 * H + h) * D;
                float S[ATT_TILE * ATT_TILE], dP[ATT_TILE * ATT_TILE];
                for (int a = 0; a < mi; a++)
                    for (int d = 0; d < D; d++) dq[q0 + (size_t)a * ldq + d] = 0.0f;
                for (int kb = 0; kb <= qb; kb++) {
                    int j0 = start + kb * ATT_TILE, nj = min_i(ATT_TILE, len - kb * ATT_TILE);
                    size_t kv0 = ((size_t)j0 * KV + h / group) * D;
                    tile_abt(S, q + q0, ldq, k + kv0, ldk, mi, nj, D, scale);
                    tile_abt(dP, dout + q0, ldq, v + kv0, ldk, mi, nj, D, 1.0f);
                    tile_p_ds(S, dP, lse + h, delta + h, H, i0, j0, mi, nj, scale);
                    // dq (mi, D) += dS (mi, nj) @ k (nj, D)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, D, nj, 1.0f, dP,
                                ATT_TILE, k + kv0, ldk, 1.0f, dq + q0, ldq);
                }
            }
#pragma omp parallel for collapse(3) schedule(dynamic, 1)
    for (int s = 0; s < n_seqs; s++)
        for (int kh = 0; kh < KV; kh++)
            for (int kb = 0; kb < nb; kb++) {
                int start = cu_seqlens[s], len = cu_seqlens[s + 1] - start;
                if (kb * ATT_TILE >= len) continue;
                int j0 = start + kb * ATT_TILE, nj = min_i(ATT_TILE, len - kb * ATT_TILE);
                size_t kv0 = ((size_t)j0 * KV + kh) * D;
                float S[ATT_TILE * ATT_TILE], dP[ATT_TILE * ATT_TILE];
                for (int b = 0; b < nj; b++)
                    for (int d = 0; d < D; d++)
                        dk[kv0 + (size_t)b * ldk + d] = dv[kv0 + (size_t)b * ldk + d] = 0.0f;
                for (int h = kh * group; h < (kh + 1) * group; h++)
                    for (int qb = kb; qb * ATT_TILE < len; qb++) {
                        int i0 = start + qb * ATT_TILE, mi = min_i(ATT_TILE, len - qb * ATT_TILE);
                        size_t q0 = ((size_t)i0 * H + h) * D;
                        tile_abt(S, q + q0, ldq, k + kv0, ldk, mi, nj, D, scale);
                        tile_abt(dP, dout + q0, ldq, v + kv0, ldk, mi, nj, D, 1.0f);
                        tile_p_ds(S, dP, lse + h, delta + h, H, i0, j0, mi, nj, scale);
                        // dv (nj, D) += P^T (nj, mi) @ dout (mi, D); dk += dS^T @ q
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nj, D, mi, 1.0f, S,
                                    ATT_TILE, dout + q0, ldq, 1.0f, dv + kv0, ldk);
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nj, D, mi, 1.0f, dP,
                                    ATT_TILE, q + q0, ldq, 1.0f, dk + kv0, ldk);
                    }
            }
}

// ---- chunked log-softmax + gather + entropy ----------------------------------
// stats row: [0] running max m, [1] s0 = sum exp(l - m), [2] s1 = sum exp(l - m) (l - m),
// [3] the target's logit. A new max m' rescales: s0' = r s0, s1' = r (s1 + (m - m') s0)
// with r = exp(m - m'). Then lse = m + log s0 and entropy = log s0 - s1 / s0.

void kernels_cpu_logprob_chunk(void *ctx, float *stats, const float *logits, const int *targets,
                               int v0, int n, int vc) {
#pragma omp parallel for if (n > 1)
    for (int r = 0; r < n; r++) {
        const float *l = logits + (size_t)r * vc;
        float *st = stats + (size_t)r * 4;
        if (v0 == 0) st[0] = -INFINITY, st[1] = 0.0f, st[2] = 0.0f, st[3] = 0.0f;
        float m = st[0], bm = -INFINITY;
        for (int j = 0; j < vc; j++) bm = l[j] > bm ? l[j] : bm;
        double s0 = st[1], s1 = st[2];
        if (bm > m) {
            if (s0 > 0) {
                double sc = exp((double)m - bm);
                s1 = sc * (s1 + ((double)m - bm) * s0);
                s0 *= sc;
            }
            m = bm;
        }
        double c0 = 0.0, c1 = 0.0;
        for (int j = 0; j < vc; j++) {
            float x = l[j] - m;
            float e = expf(x);
            c0 += e;
            c1 += e * x;
        }
        st[0] = m;
        st[1] = (float)(s0 + c0);
        st[2] = (float)(s1 + c1);
        int t = targets[r] - v0;
        if (t >= 0 && t < vc) st[3] = l[t];
    }
}

void kernels_cpu_logprob_finish(void *ctx, float *logprob, float *entropy, float *lse,
                                const float *stats, int n) {
    for (int r = 0; r < n; r++) {
        const float *st = stats + (size_t)r * 4;
        float ls0 = logf(st[1]);
        lse[r] = st[0] + ls0;
        logprob[r] = st[3] - lse[r];
        if (entropy) entropy[r] = ls0 - st[2] / st[1];
    }
}

// dlogprob/dl_j = onehot_j - p_j; dentropy/dl_j = -p_j (log p_j + H).
void kernels_cpu_logprob_chunk_backward(void *ctx, float *dlogits, const float *logits,
                                        const int *targets, const float *lse,
                                        const float *entropy, const float *dlogprob,
                                        const float *dentropy, int v0, int n, int vc) {
#pragma omp parallel for if (n > 1)
    for (int r = 0; r < n; r++) {
        const float *l = logits + (size_t)r * vc;
        float *g = dlogits + (size_t)r * vc;
        float a = dlogprob[r], b = dentropy ? dentropy[r] : 0.0f;
        float lz = lse[r], hb = dentropy ? entropy[r] : 0.0f;
        for (int j = 0; j < vc; j++) {
            float lp = l[j] - lz;
            float p = expf(lp);
            g[j] = -p * (a + b * (lp + hb));
        }
        int t = targets[r] - v0;
        if (t >= 0 && t < vc) g[t] += a;
    }
}


