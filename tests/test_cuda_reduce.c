// test_cuda_reduce.c: the GPU's GRPO group advantages against adv_grpo
// (groups of one, equal rewards, with and without the std division) and the
// masked loss aggregation against rl_agg_apply in every mode, with and
// without the step's global counts, values and per-token gradients. Skipped
// (exit 77) without a CUDA build or device. Device outputs are poisoned first.
#include <math.h>    // fabs
#include <stdint.h>  // uint64_t
#include <string.h>  // memset

#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cuda_compiled
#include "test.h"

#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_reduce.h"
#include "kernels/cuda/kcuda.h"
#include "cuda_test.h"
#include "learner/advantage.h"  // adv_grpo
#include "learner/rl_loss.h"    // rl_agg_apply

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double urand(void) { return ct_unit(&rng_state); }

static void *dev_copy(kc_ctx *c, const void *src, size_t bytes) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, bytes));
    if (d && src) CHECK_OK(kc_upload(c, d, src, bytes));
    return d;
}
static void *dev_poisoned(kc_ctx *c, size_t bytes) {
    void *d = dev_copy(c, NULL, bytes);
    if (d) CHECK_OK(kc_memset(c, d, 0xFF, bytes));
    return d;
}

// ---- group advantages -----------------------------------------------------------

static void check_groups(kc_ctx *c, int n_groups, int gs, int norm_by_std) {
    enum { MAXN = 64 * 64 };
    static float r[MAXN], adv[MAXN], mean[64], sd[64];
    static double rd[MAXN], ref[MAXN];
    static int groups[65];
    const int n = n_groups * gs;
    const float eps = 1e-6f;
    for (int g = 0; g < n_groups; g++) {
        int kind = g % 3;  // 0: random, 1: all equal, 2: two values (0/1 rewards)
        float same = (float)(urand() * 4 - 2);
        for (int i = 0; i < gs; i++) {
            float v = kind == 0 ? (float)(urand() * 4 - 2) : kind == 1 ? same : (float)(urand() < 0.5);
            r[g * gs + i] = v;
            rd[g * gs + i] = v;
        }
        groups[g] = g * gs;
    }
    groups[n_groups] = n;
    CHECK_OK(adv_grpo(rd, n, groups, n_groups, (double)eps, norm_by_std, ref));

    float *d_r = dev_copy(c, r, n * sizeof(float));
    float *d_adv = dev_poisoned(c, n * sizeof(float));
    float *d_mean = dev_poisoned(c, n_groups * sizeof(float)), *d_std = dev_poisoned(c, n_groups * sizeof(float));
    kc_group_advantage(c, d_adv, d_mean, d_std, d_r, n_groups, gs, eps, norm_by_std);
    CHECK_OK(kc_sync(c));
    CHECK_OK(kc_download(c, adv, d_adv, n * sizeof(float)));
    CHECK_OK(kc_download(c, mean, d_mean, n_groups * sizeof(float)));
    CHECK_OK(kc_download(c, sd, d_std, n_groups * sizeof(float)));

    double worst = 0;
    int wi = -1;
    for (int i = 0; i < n; i++) {
        double e = fabs(adv[i] - ref[i]) / (1e-6 + 1e-5 * fabs(ref[i]));
        if (!(e <= worst)) worst = e, wi = i;  // NaN (an unwritten poison) is the worst
        int g = i / gs;
        if (gs > 1 && g % 3 == 1) CHECK_MSG(adv[i] == 0.0f, "equal group %d: adv[%d] = %g, not exactly 0", g, i, adv[i]);
    }
    CHECK_MSG(worst <= 1.0, "groups %dx%d norm %d: adv[%d] = %.9g vs adv_grpo %.9g", n_groups, gs, norm_by_std, wi,
              wi >= 0 ? adv[wi] : 0.0, wi >= 0 ? ref[wi] : 0.0);
    for (int g = 0; g < n_groups; g++) {
        double m = 0, ss = 0;
        for (int i = 0; i < gs; i++) m += rd[g * gs + i];
        m /= gs;
        for (int i = 0; i < gs; i++) ss += (rd[g * gs + i] - m) * (rd[g * gs + i] - m);
        double s = gs > 1 ? sqrt(ss / (gs - 1)) : 1.0;
        if (gs == 1) m = 0;
        CHECK_MSG(fabs(mean[g] - m) <= 1e-6 + 1e-6 * fabs(m), "group %d (size %d): mean %.9g vs %.9g", g, gs, mean[g], m);
        CHECK_MSG(fabs(sd[g] - s) <= 1e-6 + 1e-5 * s, "group %d (size %d): std %.9g vs %.9g", g, gs, sd[g], s);
    }
    kc_free(c, d_r), kc_free(c, d_adv), kc_free(c, d_mean), kc_free(c, d_std);
}

// ---- loss aggregation -------------------------------------------------------------

enum { NSEQ = 29, MAXT = NSEQ * 300 };

static void check_agg(kc_ctx *c, int use_mask, int global) {
    static int cu[NSEQ + 1];
    static float loss[MAXT], grad[MAXT], ref_grad[MAXT];
    static unsigned char mask[MAXT];
    cu[0] = 0;
    for (int i = 0; i < NSEQ; i++) {
        int len = i == 3 ? 0 : 1 + (int)(urand() * (i % 4 == 0 ? 290 : 40));  // one empty sequence
        cu[i + 1] = cu[i] + len;
    }
    const int T = cu[NSEQ];
    for (int t = 0; t < T; t++) {
        loss[t] = (float)(urand() * 2 - 1);
        mask[t] = urand() < 0.7;
    }
    for (int t = cu[5]; t < cu[6]; t++) mask[t] = 0;  // a sequence without loss tokens
    rl_seqs s = {.nseq = NSEQ, .offsets = cu, .mask = use_mask ? mask : NULL};
    long nt, ns;
    rl_seqs_count(&s, &nt, &ns);
    const long gt = global ? 3 * nt + 5 : 0, gsq = global ? 2 * ns + 1 : 0;

    int *d_cu = dev_copy(c, cu, sizeof cu);
    float *d_loss = dev_copy(c, loss, T * sizeof(float));
    unsigned char *d_mask = use_mask ? dev_copy(c, mask, (size_t)T) : NULL;
    float *d_grad = dev_poisoned(c, T * sizeof(float)), *d_out = dev_poisoned(c, sizeof(float));
    for (int mode = 0; mode < 4; mode++) {
        rl_agg a = {.mode = (rl_agg_mode)mode, .global_tokens = (double)gt, .global_seqs = (double)gsq, .norm = 512};
        double ref;
        memset(ref_grad, 0, sizeof ref_grad);
        CHECK_OK(rl_agg_apply(&a, &s, loss, 1.0, &ref, ref_grad));
        CHECK_OK(kc_memset(c, d_grad, 0xFF, T * sizeof(float)));
        CHECK_OK(kc_memset(c, d_out, 0xFF, sizeof(float)));
        kc_loss_agg(c, d_out, d_grad, d_loss, d_mask, d_cu, NSEQ, T, (kc_agg_mode)mode, 512.0f, gt, gsq);
        CHECK_OK(kc_sync(c));
        float out = NAN;
        CHECK_OK(kc_download(c, &out, d_out, sizeof(float)));
        CHECK_OK(kc_download(c, grad, d_grad, T * sizeof(float)));
        CHECK_MSG(fabs(out - ref) <= 1e-7 + 1e-6 * fabs(ref), "%s mask %d global %d: %.9g vs rl_agg_apply %.9g",
                  rl_agg_name(a.mode), use_mask, global, out, ref);
        double worst = 0;
        int wt = -1;
        for (int t = 0; t < T; t++) {
            double e = fabs(grad[t] - ref_grad[t]) / (1e-12 + 1e-6 * fabs(ref_grad[t]));
            if (!(e <= worst)) worst = e, wt = t;
        }
        CHECK_MSG(worst <= 1.0, "%s mask %d global %d: grad[%d] = %.9g vs %.9g", rl_agg_name(a.mode), use_mask,
                  global, wt, wt >= 0 ? grad[wt] : 0.0, wt >= 0 ? ref_grad[wt] : 0.0);
    }
    // No gradient asked for: only the value.
    kc_loss_agg(c, d_out, NULL, d_loss, d_mask, d_cu, NSEQ, T, KC_AGG_TOKEN_MEAN, 1.0f, gt, gsq);
    CHECK_OK(kc_sync(c));
    kc_free(c, d_cu), kc_free(c, d_loss), kc_free(c, d_mask), kc_free(c, d_grad), kc_free(c, d_out);
}
#endif

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    CT_OPEN_OR_SKIP(c);
    const int sizes[][2] = {{7, 1}, {13, 2}, {11, 8}, {9, 16}, {5, 64}, {64, 5}};
    for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++)
        for (int norm = 0; norm <= 1; norm++) check_groups(c, sizes[k][0], sizes[k][1], norm);
    for (int use_mask = 0; use_mask <= 1; use_mask++)
        for (int global = 0; global <= 1; global++) check_agg(c, use_mask, global);
    kc_close(c);
    return test_finish("test_cuda_reduce");
#else
    return 77;
#endif
}
