// test_cuda_sample.c: GPU sampling against the CPU sampler's rule, for f32
// and bf16 logits: greedy ids equal kernels_argmax (ties included, the lowest
// id), log-probs equal log_softmax(logits / T) (the raw one when greedy),
// greedy rows leave their RNG alone
// and sampled rows advance it by one xorshift64* step; many rows of the same
// logits with different seeds give frequencies that follow the tempered,
// top-k / top-p truncated distribution (chi-square within 5 sigma), and ids
// outside the kept set never appear. Skipped (exit 77) without a CUDA build
// or device. Device outputs are poisoned first.
#include <math.h>    // exp, fabs, sqrt
#include <stdint.h>  // uint64_t
#include <stdlib.h>  // qsort
#include <string.h>  // memset

#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_argmax, kernels_logsumexp
#include "test.h"

#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kc_sample.h"
#include "kernels/cuda/kcuda.h"
#include "cuda_test.h"

static uint64_t rng_state = 0x853C49E6748FEA9Bull;
static uint64_t next_u64(void) {  // splitmix64
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double urand(void) { return (double)(next_u64() >> 11) / 9007199254740992.0; }

static uint64_t xorshift_step(uint64_t s) {  // actor/sampler.c's state update
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s;
}

// Rounds logits to what the device sees for dtype dt, and makes the device copy.
static void *upload_logits(kc_ctx *c, kc_dtype dt, float *x, size_t n) {
    void *d = NULL;
    CHECK_OK(kc_malloc(c, &d, n * kc_dtype_size(dt)));
    if (!d) return NULL;
    if (dt == KC_BF16) {
        kc_bf16 *h = rlc_malloc(n * sizeof *h);
        for (size_t i = 0; i < n; i++) {
            h[i] = kc_f32_to_bf16(x[i]);
            x[i] = kc_bf16_to_f32(h[i]);
        }
        CHECK_OK(kc_upload(c, d, h, n * sizeof *h));
        rlc_free(h);
    } else {
        CHECK_OK(kc_upload(c, d, x, n * sizeof(float)));
    }
    return d;
}

typedef struct {
    int *ids;
    float *lp;
    float *temp, *top_p;
    int *top_k;
    uint64_t *rng;
    void *scratch;
} dev_rows;

static void rows_alloc(kc_ctx *c, dev_rows *d, int n, int V) {
    CHECK_OK(kc_malloc(c, (void **)&d->ids, n * sizeof(int)));
    CHECK_OK(kc_malloc(c, (void **)&d->lp, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d->temp, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d->top_p, n * sizeof(float)));
    CHECK_OK(kc_malloc(c, (void **)&d->top_k, n * sizeof(int)));
    CHECK_OK(kc_malloc(c, (void **)&d->rng, n * sizeof(uint64_t)));
    CHECK_OK(kc_malloc(c, &d->scratch, kc_sample_scratch_bytes(n, V)));
    CHECK_OK(kc_memset(c, d->ids, 0xFF, n * sizeof(int)));
    CHECK_OK(kc_memset(c, d->lp, 0xFF, n * sizeof(float)));
}
static void rows_free(kc_ctx *c, dev_rows *d) {
    kc_free(c, d->ids), kc_free(c, d->lp), kc_free(c, d->temp), kc_free(c, d->top_p);
    kc_free(c, d->top_k), kc_free(c, d->rng), kc_free(c, d->scratch);
}

// Uploads the per-row settings (n rows), samples the logits dx (n, V) and
// downloads ids, log-probs and (when rng_after is not NULL) the advanced
// generator states.
static void sample_rows(kc_ctx *c, kc_dtype dt, dev_rows *d, const void *dx, int n, int V, const float *temp,
                        const int *top_k, const float *top_p, const uint64_t *rng, int *ids, float *lp,
                        uint64_t *rng_after) {
    CHECK_OK(kc_upload(c, d->temp, temp, n * sizeof(float)));
    CHECK_OK(kc_upload(c, d->top_p, top_p, n * sizeof(float)));
    CHECK_OK(kc_upload(c, d->top_k, top_k, n * sizeof(int)));
    CHECK_OK(kc_upload(c, d->rng, rng, n * sizeof(uint64_t)));
    kc_sample(c, dt, d->ids, d->lp, dx, n, V, d->temp, d->top_k, d->top_p, d->rng, d->scratch);
    CHECK_OK(kc_sync(c));
    CHECK_OK(kc_download(c, ids, d->ids, n * sizeof(int)));
    CHECK_OK(kc_download(c, lp, d->lp, n * sizeof(float)));
    if (rng_after) CHECK_OK(kc_download(c, rng_after, d->rng, n * sizeof(uint64_t)));
}

// Greedy rows of random logits with ties at the maximum: ids, log-probs, RNG untouched.
static void check_greedy(kc_ctx *c, kc_dtype dt, int n, int V) {
    float *x = rlc_malloc((size_t)n * V * sizeof(float)), *lp = rlc_malloc(n * sizeof(float));
    float *temp = rlc_malloc(n * sizeof(float)), *tp = rlc_malloc(n * sizeof(float));
    int *ids = rlc_malloc(n * sizeof(int)), *tk = rlc_malloc(n * sizeof(int));
    uint64_t *rng = rlc_malloc(n * sizeof(uint64_t)), *rng_after = rlc_malloc(n * sizeof(uint64_t));
    for (int i = 0; i < n; i++) {
        float *xi = x + (size_t)i * V;
        for (int j = 0; j < V; j++) xi[j] = (float)(urand() * 16 - 8);
        if (i % 2 == 0) {  // ties at the maximum: copies of the max at higher and lower ids
            int a = (int)(urand() * V), b = (int)(urand() * V);
            xi[a] = xi[b] = 9.0f;
            if (i % 4 == 0) xi[V - 1] = 9.0f;
        }
        if (i % 3 == 0) xi[0] = xi[V - 1] = 10.0f;  // tie at both ends
        temp[i] = i % 5 == 0 ? -1.0f : 0.0f;          // <= 0: greedy
        tk[i] = i % 7, tp[i] = 0.5f;                  // ignored by greedy
        rng[i] = next_u64();
    }
    dev_rows d;
    rows_alloc(c, &d, n, V);
    void *dx = upload_logits(c, dt, x, (size_t)n * V);
    sample_rows(c, dt, &d, dx, n, V, temp, tk, tp, rng, ids, lp, rng_after);
    int bad_id = 0, bad_rng = 0;
    double worst = 0;
    int wi = -1;
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * V;
        int ref = kernels_argmax(xi, V);
        if (ids[i] != ref && bad_id++ < 5)
            fprintf(stderr, "%s V=%d row %d: greedy id %d, CPU argmax %d\n", kc_dtype_name(dt), V, i, ids[i], ref);
        double e = ids[i] == ref ? fabs(lp[i] - (xi[ref] - kernels_logsumexp(xi, V))) : INFINITY;
        if (!(e <= worst)) worst = e, wi = i;
        bad_rng += rng_after[i] != rng[i];
    }
    CHECK_MSG(bad_id == 0, "%s V=%d: %d greedy ids differ from kernels_argmax", kc_dtype_name(dt), V, bad_id);
    CHECK_MSG(worst <= 2e-5, "%s V=%d: log-prob of row %d off by %g", kc_dtype_name(dt), V, wi, worst);
    CHECK_MSG(bad_rng == 0, "%s V=%d: greedy changed %d RNG states", kc_dtype_name(dt), V, bad_rng);
    kc_free(c, dx);
    rows_free(c, &d);
    rlc_free(x), rlc_free(lp), rlc_free(temp), rlc_free(tp), rlc_free(ids), rlc_free(tk), rlc_free(rng);
    rlc_free(rng_after);
}

// ---- the sampled distribution ----------------------------------------------------

typedef struct {
    double p;
    int id;
} cand;
static int by_p_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->id - y->id;
}

// The expected distribution under actor_sample's rule, in double; returns
// the smallest relative distance between the nucleus' mass and its target
// over the prefixes (a tiny one would make the cut depend on rounding).
static double expected(const float *x, int V, float temp, int k, float top_p, double *q) {
    cand *cs = rlc_malloc(V * sizeof *cs);
    double m = x[kernels_argmax(x, V)];
    for (int j = 0; j < V; j++) cs[j].p = exp((x[j] - m) / temp), cs[j].id = j;
    qsort(cs, V, sizeof *cs, by_p_desc);
    int n = k > 0 && k < V ? k : V;
    double mass = 0, margin = INFINITY;
    for (int i = 0; i < n; i++) mass += cs[i].p;
    if (top_p > 0 && top_p < 1) {
        double cum = 0, target = top_p * mass;
        int last = n - 1;
        for (int i = 0; i < n; i++) {
            cum += cs[i].p;
            if (fabs(cum - target) / mass < margin) margin = fabs(cum - target) / mass;
            if (cum > target) {
                last = i;
                break;
            }
        }
        n = last + 1;
        mass = cum;
    }
    memset(q, 0, V * sizeof *q);
    for (int i = 0; i < n; i++) q[cs[i].id] = cs[i].p / mass;
    rlc_free(cs);
    return margin;
}

static void check_distribution(kc_ctx *c, kc_dtype dt, int V, float temp, int k, float top_p) {
    const int n = V > 1000 ? 8000 : 40000;
    float *row = rlc_malloc(V * sizeof(float)), *x = rlc_malloc((size_t)n * V * sizeof(float));
    double *q = rlc_malloc(V * sizeof(double));
    for (int tries = 0; tries < 100; tries++) {
        for (int j = 0; j < V; j++) row[j] = (float)(urand() * 6 - 3);
        if (dt == KC_BF16)
            for (int j = 0; j < V; j++) row[j] = kc_bf16_to_f32(kc_f32_to_bf16(row[j]));
        if (expected(row, V, temp, k, top_p, q) > 2e-3) break;
    }
    for (int i = 0; i < n; i++) memcpy(x + (size_t)i * V, row, V * sizeof(float));
    float *tv = rlc_malloc(n * sizeof(float)), *pv = rlc_malloc(n * sizeof(float)), *lp = rlc_malloc(n * sizeof(float));
    int *kv = rlc_malloc(n * sizeof(int)), *ids = rlc_malloc(n * sizeof(int));
    uint64_t *rng = rlc_malloc(n * sizeof(uint64_t)), *after = rlc_malloc(n * sizeof(uint64_t));
    for (int i = 0; i < n; i++) tv[i] = temp, pv[i] = top_p, kv[i] = k, rng[i] = next_u64() | 1;
    dev_rows d;
    rows_alloc(c, &d, n, V);
    void *dx = upload_logits(c, dt, x, (size_t)n * V);
    sample_rows(c, dt, &d, dx, n, V, tv, kv, pv, rng, ids, lp, after);

    long *count = rlc_calloc(V, sizeof(long));
    int outside = 0, bad_lp = 0, bad_rng = 0, bad_id = 0;
    // The expected log-prob: log_softmax(row / T) (the raw one at T = 1).
    const float lse = kernels_logsumexp(row, V);
    double mx = row[0], tz = 0;
    for (int j = 1; j < V; j++) mx = row[j] > mx ? row[j] : mx;
    for (int j = 0; j < V; j++) tz += exp((row[j] - mx) / temp);
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= V) {
            bad_id++;
            continue;
        }
        count[ids[i]]++;
        outside += q[ids[i]] == 0;
        double want = temp == 1.0f ? row[ids[i]] - lse : (row[ids[i]] - mx) / temp - log(tz);
        bad_lp += !(fabs(lp[i] - want) <= 5e-5);
        bad_rng += after[i] != xorshift_step(rng[i]);
    }
    double chi2 = 0;
    int df = -1;
    for (int j = 0; j < V; j++)
        if (q[j] > 0) {
            double e = q[j] * n;
            chi2 += (count[j] - e) * (count[j] - e) / e;
            df++;
        }
    const double bound = df + 5 * sqrt(2.0 * (df > 0 ? df : 1));
    printf("%s V=%d T=%g k=%d p=%g: %d kept ids, chi2 %.1f (bound %.1f)\n", kc_dtype_name(dt), V, temp, k, top_p,
           df + 1, chi2, bound);
    CHECK_MSG(bad_id == 0, "%d ids outside [0, V)", bad_id);
    CHECK_MSG(outside == 0, "%s V=%d k=%d p=%g: %d draws outside the top-k / top-p set", kc_dtype_name(dt), V, k,
              top_p, outside);
    CHECK_MSG(chi2 <= bound, "%s V=%d k=%d p=%g: chi2 %.1f > %.1f (df %d)", kc_dtype_name(dt), V, k, top_p, chi2,
              bound, df);
    CHECK_MSG(bad_lp == 0, "%d sampled log-probs differ from log_softmax(logits / T)", bad_lp);
    CHECK_MSG(bad_rng == 0, "%d RNG states not advanced by exactly one xorshift64* step", bad_rng);
    kc_free(c, dx);
    rows_free(c, &d);
    rlc_free(row), rlc_free(x), rlc_free(q), rlc_free(tv), rlc_free(pv), rlc_free(lp), rlc_free(kv), rlc_free(ids);
    rlc_free(rng), rlc_free(after), rlc_free(count);
}

// Top-k with ties at the cut: exactly k ids survive, the lowest ids among the ties.
static void check_topk_ties(kc_ctx *c) {
    enum { V = 100, N = 4000, K = 3 };
    float *x = rlc_malloc((size_t)N * V * sizeof(float));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < V; j++) x[(size_t)i * V + j] = j == 50 ? 2.0f : (j == 10 || j == 20 || j == 90) ? 1.0f : 0.0f;
    float tv[N], pv[N], lp[N];
    int kv[N], ids[N];
    uint64_t rng[N];
    for (int i = 0; i < N; i++) tv[i] = 1.0f, pv[i] = 1.0f, kv[i] = K, rng[i] = next_u64() | 1;
    dev_rows d;
    rows_alloc(c, &d, N, V);
    void *dx = upload_logits(c, KC_F32, x, (size_t)N * V);
    sample_rows(c, KC_F32, &d, dx, N, V, tv, kv, pv, rng, ids, lp, NULL);
    int bad = 0, seen10 = 0, seen50 = 0;
    for (int i = 0; i < N; i++) {
        bad += ids[i] != 50 && ids[i] != 10 && ids[i] != 20;
        seen10 += ids[i] == 10, seen50 += ids[i] == 50;
    }
    CHECK_MSG(bad == 0, "top-k 3 with ties: %d draws outside {50, 10, 20}", bad);
    CHECK_MSG(seen10 > 0 && seen50 > 0, "top-k 3 with ties: 50 drawn %d times, 10 %d times", seen50, seen10);
    kc_free(c, dx);
    rows_free(c, &d);
    rlc_free(x);
}
#endif

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    CT_OPEN_OR_SKIP(c);
    for (int dt = KC_F32; dt <= KC_BF16; dt++) {
        check_greedy(c, (kc_dtype)dt, 64, 1000);
        check_greedy(c, (kc_dtype)dt, 64, 37);
        check_greedy(c, (kc_dtype)dt, 4, 151936);
        check_distribution(c, (kc_dtype)dt, 300, 0.8f, 20, 0.9f);  // top-k and top-p
        check_distribution(c, (kc_dtype)dt, 300, 1.0f, 0, 0.7f);   // top-p only
        check_distribution(c, (kc_dtype)dt, 2500, 1.3f, 8, 1.0f);  // top-k only, several ids per thread
        check_distribution(c, (kc_dtype)dt, 50, 0.5f, 0, 1.0f);    // temperature only
    }
    check_topk_ties(c);
    kc_close(c);
    return test_finish("test_cuda_sample");
#else
    return 77;
#endif
}
