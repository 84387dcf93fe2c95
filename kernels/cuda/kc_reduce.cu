// kc_reduce.cu: the learner's reductions on the GPU: GRPO group statistics
// and advantages (learner/advantage.c's adv_grpo) and the masked loss
// aggregation with its per-token gradient (learner/rl_loss.c's rl_agg_apply).
// Both run in float64 on the device, as the CPU references do, and both are
// deterministic: every sum has a fixed order (no atomics).
#include "kc_internal.cuh"  // kc_ctx, kc_launched
#include "kc_reduce.h"

#define GROUP_WARPS 8     // groups per block of kc_group_advantage (one warp each)
#define AGG_THREADS 1024  // kc_loss_agg is one block

// ---- warp and block helpers ---------------------------------------------------

__device__ __forceinline__ double warp_sum_f64(double x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}
__device__ __forceinline__ long long warp_sum_i64(long long x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

// The block's sum of one value per warp (lane 0's), added in warp order;
// every thread gets it. sh holds 32 elements.
template <typename X>
__device__ __forceinline__ X block_sum_of_warps(X x, X *sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) sh[warp] = x;
    __syncthreads();
    X s = 0;
    for (int w = 0; w < nw; w++) s += sh[w];
    return s;
}

// ---- kernels ----------------------------------------------------------------

// One warp per group of n rewards. As adv_grpo: the mean is taken relative to
// the group's first reward, so equal rewards give centred values of exactly 0.
__global__ void __launch_bounds__(GROUP_WARPS * 32)
    group_advantage_kernel(float *adv, float *mean, float *std, const float *reward, int n_groups, int n, double eps,
                           int norm_by_std) {
    const int lane = threadIdx.x & 31, g = blockIdx.x * GROUP_WARPS + (threadIdx.x >> 5);
    if (g >= n_groups) return;
    const float *r = reward + (size_t)g * n;
    float *a = adv + (size_t)g * n;
    if (n == 1) {  // verl: mean 0, std 1
        if (lane == 0) {
            double r0 = (double)r[0];
            a[0] = (float)(norm_by_std ? r0 / (1.0 + eps) : r0);
            if (mean) mean[g] = 0.0f;
            if (std) std[g] = 1.0f;
        }
        return;
    }
    const double r0 = (double)r[0];
    double d = 0.0;
    for (int i = lane; i < n; i += 32) d += (double)r[i] - r0;
    const double dm = warp_sum_f64(d) / n;
    double ss = 0.0;
    for (int i = lane; i < n; i += 32) {
        double c = ((double)r[i] - r0) - dm;
        ss += c * c;
    }
    ss = warp_sum_f64(ss);
    const double sd = sqrt(ss / (n - 1));  // torch.std: unbiased
    for (int i = lane; i < n; i += 32) {
        double c = ((double)r[i] - r0) - dm;
        a[i] = (float)(norm_by_std && c != 0.0 ? c / (sd + eps) : c);  // c == 0 stays 0 even for eps 0
    }
    if (lane == 0) {
        if (mean) mean[g] = (float)(r0 + dm);
        if (std) std[g] = (float)sd;
    }
}

struct agg_params {
    int mode;
    double norm;
    long long global_tokens, global_seqs;
};

// Unmasked tokens n_i of sequence i and (when `loss`) their loss sum, by one warp.
__device__ __forceinline__ long long seq_stats(const float *loss, const unsigned char *mask, int b, int e,
                                               double *sum) {
    long long cnt = 0;
    double s = 0.0;
    for (int t = b + (int)(threadIdx.x & 31); t < e; t += 32) {
        bool in = !mask || mask[t];
        cnt += in;
        if (in && loss) s += (double)loss[t];
    }
    if (sum) *sum = warp_sum_f64(s);
    return warp_sum_i64(cnt);
}

// One block: pass 1 counts N and S (warp w takes sequences w, w + 32, ...),
// pass 2 weighs each sequence, writes its gradient and adds w_i * sum_i.
__global__ void __launch_bounds__(AGG_THREADS)
    loss_agg_kernel(float *out, float *grad, const float *loss, const unsigned char *mask, const int *cu, int n_seqs,
                    int n, agg_params a) {
    __shared__ long long shl[32];
    __shared__ double shd[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    long long nt = 0, ns = 0;
    for (int i = warp; i < n_seqs; i += nw) {
        long long c = seq_stats(NULL, mask, cu[i], cu[i + 1], NULL);
        nt += c;
        ns += c > 0;
    }
    nt = block_sum_of_warps<long long>(nt, shl);
    ns = block_sum_of_warps<long long>(ns, shl);
    const double N = a.global_tokens > 0 ? (double)a.global_tokens : (double)nt;
    const double S = a.global_seqs > 0 ? (double)a.global_seqs : (double)ns;

    double total = 0.0;
    for (int i = warp; i < n_seqs; i += nw) {
        const int b = cu[i], e = cu[i + 1];
        double s;
        const long long ni = seq_stats(loss, mask, b, e, &s);
        double w = 0.0;
        if (ni > 0) switch (a.mode) {
            case KC_AGG_TOKEN_MEAN: w = 1.0 / N; break;
            case KC_AGG_SEQ_MEAN_TOKEN_MEAN: w = 1.0 / ((double)ni * S); break;
            case KC_AGG_SEQ_MEAN_TOKEN_SUM: w = 1.0 / S; break;
            default: w = 1.0 / (S * a.norm); break;
            }
        total += w * s;
        if (grad)
            for (int t = b + lane; t < e; t += 32) grad[t] = (!mask || mask[t]) ? (float)w : 0.0f;
    }
    if (grad) {  // tokens outside every sequence get no gradient
        const int end = n_seqs > 0 ? cu[n_seqs] : 0, start = n_seqs > 0 ? cu[0] : n;
        for (int t = threadIdx.x; t < n; t += blockDim.x)
            if (t < start || t >= end) grad[t] = 0.0f;
    }
    total = block_sum_of_warps<double>(total, shd);
    if (threadIdx.x == 0) *out = (float)total;
}

// ---- launchers --------------------------------------------------------------

extern "C" void kc_group_advantage(kc_ctx *c, float *adv, float *mean, float *std, const float *reward, int n_groups,
                                   int group_size, float eps, int norm_by_std) {
    if (n_groups <= 0 || group_size <= 0) return;
    unsigned g = (unsigned)((n_groups + GROUP_WARPS - 1) / GROUP_WARPS);
    group_advantage_kernel<<<g, GROUP_WARPS * 32, 0, c->stream>>>(adv, mean, std, reward, n_groups, group_size,
                                                                  (double)eps, norm_by_std);
    kc_launched(c, "kc_group_advantage");
}

extern "C" void kc_loss_agg(kc_ctx *c, float *out, float *grad, const float *loss, const unsigned char *mask,
                            const int *cu_seqlens, int n_seqs, int n, kc_agg_mode mode, float norm, long global_tokens,
                            long global_seqs) {
    agg_params a;
    a.mode = (int)mode;
    a.norm = (double)norm;
    a.global_tokens = global_tokens;
    a.global_seqs = global_seqs;
    if (n_seqs < 0) n_seqs = 0;
    loss_agg_kernel<<<1, AGG_THREADS, 0, c->stream>>>(out, grad, loss, mask, cu_seqlens, n_seqs, n, a);
    kc_launched(c, "kc_loss_agg");
}
