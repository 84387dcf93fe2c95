// test_grad_ops.c: every backward op of the CPU backend against central
// finite differences. For each op the test holds a float64 reference of the
// op's forward, takes the loss L = sum(r * out) with fixed random weights r,
// and differentiates L numerically (step 1e-5, float64) with respect to every
// input element; the op's float32 backward, fed dout = r, must agree:
//     max_i |grad_i - fd_i| / max_i |fd_i| < GRAD_TOL
// (float32 rounding on tiny shapes gives about 1e-6). The worst element of
// every check is printed. The packed attention and the chunked log-softmax
// forwards are also checked against their float64 references, including an
// empty document and documents longer than one 64-row tile (every 11th input
// differentiated there), and the accumulate (+=) / overwrite (=) contracts.
#include <math.h>    // exp, log, sqrt, cos, sin
#include <stdint.h>  // uint64_t
#include <string.h>  // memcpy

#include "core/core.h"               // rlc_malloc
#include "kernels/kernels.h"  // kernels_cpu
#include "kernels/kernels.h"         // kernels_ops
#include "test.h"                    // CHECK_MSG, test_finish

#define GRAD_TOL 1e-4
#define FWD_TOL 1e-5
#define FD_STEP 1e-5

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double urand(void) {  // uniform in [-1, 1)
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

// n values, float-representable, in both precisions.
static void rand_fill(double *d, float *f, size_t n, double scale) {
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)(scale * urand());
        d[i] = f[i];
    }
}

typedef double (*loss_fn)(void *ud);

// Compares grad (n) with central differences of f with respect to x (n),
// on every `stride`-th element.
static void check_fd_stride(const char *what, loss_fn f, void *ud, double *x, const float *grad,
                            size_t n, size_t stride) {
    double worst = 0, scale = 0, fd_w = 0;
    size_t wi = 0, checked = 0;
    for (size_t i = 0; i < n; i += stride) {
        double x0 = x[i], h = FD_STEP * (fabs(x0) > 1 ? fabs(x0) : 1);
        x[i] = x0 + h;
        double lp = f(ud);
        x[i] = x0 - h;
        double lm = f(ud);
        x[i] = x0;
        double fd = (lp - lm) / (2 * h);
        if (fabs(fd) > scale) scale = fabs(fd);
        double e = fabs(grad[i] - fd);
        if (e >= worst) worst = e, wi = i, fd_w = fd;
        checked++;
    }
    double rel = scale > 0 ? worst / scale : worst;
    printf("  %-32s %4zu of %4zu  max|fd| %.3e  worst |g - fd| / max|fd| %.2e at %zu (%.6e vs %.6e)\n",
           what, checked, n, scale, rel, wi, grad[wi], fd_w);
    CHECK_MSG(rel < GRAD_TOL, "%s: %.2e >= %.0e", what, rel, GRAD_TOL);
    CHECK_MSG(scale > 0, "%s: all-zero gradient tells nothing", what);
}

static void check_fd(const char *what, loss_fn f, void *ud, double *x, const float *grad, size_t n) {
    check_fd_stride(what, f, ud, x, grad, n, 1);
}

static void check_fwd(const char *what, const float *out, const double *ref, size_t n) {
    double worst = 0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(out[i] - ref[i]) / (1 + fabs(ref[i]));
        if (e > worst) worst = e, wi = i;
    }
    printf("  %-32s n %4zu  worst |out - ref| / (1 + |ref|) %.2e at %zu\n", what, n, worst, wi);
    CHECK_MSG(worst < FWD_TOL, "%s: %.2e >= %.0e", what, worst, FWD_TOL);
}

static double dot_r(const double *r, const double *y, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += r[i] * y[i];
    return s;
}

static kernels_backend be;

// ---- matmul ------------------------------------------------------------------

enum { MM_N = 5, MM_IN = 7, MM_OUT = 6 };
typedef struct {
    double x[MM_N * MM_IN], w[MM_OUT * MM_IN], b[MM_OUT], r[MM_N * MM_OUT];
} mm_case;

static double mm_loss(void *ud) {
    mm_case *c = ud;
    double s = 0;
    for (int i = 0; i < MM_N; i++)
        for (int j = 0; j < MM_OUT; j++) {
            double y = c->b[j];
            for (int k = 0; k < MM_IN; k++) y += c->x[i * MM_IN + k] * c->w[j * MM_IN + k];
            s += c->r[i * MM_OUT + j] * y;
        }
    return s;
}

static void test_matmul(void) {
    mm_case c;
    float x[MM_N * MM_IN], w[MM_OUT * MM_IN], b[MM_OUT], r[MM_N * MM_OUT];
    float dx[MM_N * MM_IN], dw[MM_OUT * MM_IN], db[MM_OUT];
    rand_fill(c.x, x, MM_N * MM_IN, 1), rand_fill(c.w, w, MM_OUT * MM_IN, 1);
    rand_fill(c.b, b, MM_OUT, 1), rand_fill(c.r, r, MM_N * MM_OUT, 1);
    // dw and db add into what is there; dx is written (accumulate = 0).
    for (int i = 0; i < MM_N * MM_IN; i++) dx[i] = 100.0f;
    for (int i = 0; i < MM_OUT * MM_IN; i++) dw[i] = 0.5f;
    for (int i = 0; i < MM_OUT; i++) db[i] = -0.25f;
    be.ops->matmul_backward(be.ctx, dx, dw, db, r, x, w, MM_N, MM_IN, MM_OUT, 0);
    for (int i = 0; i < MM_OUT * MM_IN; i++) dw[i] -= 0.5f;
    for (int i = 0; i < MM_OUT; i++) db[i] += 0.25f;
    check_fd("matmul dx", mm_loss, &c, c.x, dx, MM_N * MM_IN);
    check_fd("matmul dw (+=)", mm_loss, &c, c.w, dw, MM_OUT * MM_IN);
    check_fd("matmul db (+=)", mm_loss, &c, c.b, db, MM_OUT);
    // accumulate = 1 adds into dx.
    float dx2[MM_N * MM_IN];
    for (int i = 0; i < MM_N * MM_IN; i++) dx2[i] = 1.0f;
    be.ops->matmul_backward(be.ctx, dx2, NULL, NULL, r, x, w, MM_N, MM_IN, MM_OUT, 1);
    for (int i = 0; i < MM_N * MM_IN; i++) dx2[i] -= 1.0f;
    check_fd("matmul dx (accumulate)", mm_loss, &c, c.x, dx2, MM_N * MM_IN);
}

// ---- embedding -----------------------------------------------------------------

enum { EM_V = 5, EM_C = 3, EM_N = 7 };
static const int em_ids[EM_N] = {2, 0, 2, 4, 1, 2, 0};  // repeats add up; row 3 unused
typedef struct {
    double table[EM_V * EM_C], r[EM_N * EM_C];
} em_case;

static double em_loss(void *ud) {
    em_case *c = ud;
    double s = 0;
    for (int i = 0; i < EM_N; i++)
        for (int k = 0; k < EM_C; k++) s += c->r[i * EM_C + k] * c->table[em_ids[i] * EM_C + k];
    return s;
}

static void test_embedding(void) {
    em_case c;
    float table[EM_V * EM_C], r[EM_N * EM_C], dt[EM_V * EM_C];
    rand_fill(c.table, table, EM_V * EM_C, 1), rand_fill(c.r, r, EM_N * EM_C, 1);
    memset(dt, 0, sizeof dt);
    be.ops->embedding_backward(be.ctx, dt, r, em_ids, EM_N, EM_C);
    check_fd("embedding dtable", em_loss, &c, c.table, dt, EM_V * EM_C);
}

// ---- rmsnorm ---------------------------------------------------------------------

enum { RN_N = 4, RN_C = 9 };
#define RN_EPS 1e-5
typedef struct {
    double x[RN_N * RN_C], w[RN_C], r[RN_N * RN_C];
} rn_case;

static double rn_loss(void *ud) {
    rn_case *c = ud;
    double s = 0;
    for (int i = 0; i < RN_N; i++) {
        const double *xi = c->x + i * RN_C;
        double ss = 0;
        for (int k = 0; k < RN_C; k++) ss += xi[k] * xi[k];
        double sc = 1 / sqrt(ss / RN_C + RN_EPS);
        for (int k = 0; k < RN_C; k++) s += c->r[i * RN_C + k] * xi[k] * sc * c->w[k];
    }
    return s;
}

static void test_rmsnorm(void) {
    rn_case c;
    float x[RN_N * RN_C], w[RN_C], r[RN_N * RN_C], dx[RN_N * RN_C], dw[RN_C];
    rand_fill(c.x, x, RN_N * RN_C, 2), rand_fill(c.w, w, RN_C, 1), rand_fill(c.r, r, RN_N * RN_C, 1);
    memset(dw, 0, sizeof dw);
    be.ops->rmsnorm_backward(be.ctx, dx, dw, r, x, w, RN_N, RN_C, (float)RN_EPS, 0);
    check_fd("rmsnorm dx", rn_loss, &c, c.x, dx, RN_N * RN_C);
    check_fd("rmsnorm dw", rn_loss, &c, c.w, dw, RN_C);
    for (int i = 0; i < RN_N * RN_C; i++) dx[i] = 3.0f;
    be.ops->rmsnorm_backward(be.ctx, dx, NULL, r, x, w, RN_N, RN_C, (float)RN_EPS, 1);
    for (int i = 0; i < RN_N * RN_C; i++) dx[i] -= 3.0f;
    check_fd("rmsnorm dx (accumulate)", rn_loss, &c, c.x, dx, RN_N * RN_C);
}

// ---- rope --------------------------------------------------------------------------

enum { RP_N = 4, RP_H = 3, RP_D = 8 };
static const int rp_pos[RP_N] = {0, 3, 1, 7};
static const float rp_freq[RP_D / 2] = {1.0f, 0.31f, 0.1f, 0.0316f};
typedef struct {
    double x[RP_N * RP_H * RP_D], r[RP_N * RP_H * RP_D];
} rp_case;

static double rp_loss(void *ud) {
    rp_case *c = ud;
    double s = 0;
    int half = RP_D / 2;
    for (int i = 0; i < RP_N; i++)
        for (int h = 0; h < RP_H; h++)
            for (int k = 0; k < half; k++) {
                size_t o = ((size_t)i * RP_H + h) * RP_D;
                double ang = (double)((float)rp_pos[i] * rp_freq[k]);
                double a = c->x[o + k], b = c->x[o + k + half];
                s += c->r[o + k] * (a * cos(ang) - b * sin(ang));
                s += c->r[o + k + half] * (b * cos(ang) + a * sin(ang));
            }
    return s;
}

static void test_rope(void) {
    rp_case c;
    enum { N = RP_N * RP_H * RP_D };
    float x[N], r[N];
    rand_fill(c.x, x, N, 1), rand_fill(c.r, r, N, 1);
    be.ops->rope_backward(be.ctx, r, rp_pos, rp_freq, RP_N, RP_H, RP_D);  // in place
    check_fd("rope dx", rp_loss, &c, c.x, r, N);
}

// ---- swiglu ---------------------------------------------------------------------------

enum { SG_N = 11 };
typedef struct {
    double g[SG_N], u[SG_N], r[SG_N];
} sg_case;

static double sg_loss(void *ud) {
    sg_case *c = ud;
    double s = 0;
    for (int i = 0; i < SG_N; i++) s += c->r[i] * c->g[i] / (1 + exp(-c->g[i])) * c->u[i];
    return s;
}

static void test_swiglu(void) {
    sg_case c;
    float g[SG_N], u[SG_N], r[SG_N], dg[SG_N], du[SG_N];
    rand_fill(c.g, g, SG_N, 4), rand_fill(c.u, u, SG_N, 1), rand_fill(c.r, r, SG_N, 1);
    be.ops->swiglu_backward(be.ctx, dg, du, r, g, u, SG_N);
    check_fd("swiglu dgate", sg_loss, &c, c.g, dg, SG_N);
    check_fd("swiglu dup", sg_loss, &c, c.u, du, SG_N);
    // The allowed aliasing (dgate = dout, dup = up) gives the same numbers.
    float r2[SG_N], u2[SG_N];
    memcpy(r2, r, sizeof r), memcpy(u2, u, sizeof u);
    be.ops->swiglu_backward(be.ctx, r2, u2, r2, g, u2, SG_N);
    CHECK(memcmp(r2, dg, sizeof dg) == 0 && memcmp(u2, du, sizeof du) == 0);
}

// ---- packed attention --------------------------------------------------------------------

enum { AT_H = 4, AT_KV = 2, AT_D = 4 };
typedef struct {
    int n, n_seqs;
    const int *cu;
    double *q, *k, *v, *r, *out, *lse;
} at_case;

// float64 reference: each document on its own, causal, softmax by max-shift.
static void at_ref(at_case *c) {
    double scale = 1 / sqrt((double)AT_D);
    int group = AT_H / AT_KV;
    double *sc = rlc_malloc(sizeof(double) * c->n);
    for (int s = 0; s < c->n_seqs; s++)
        for (int i = c->cu[s]; i < c->cu[s + 1]; i++)
            for (int h = 0; h < AT_H; h++) {
                const double *qi = c->q + (i * AT_H + h) * AT_D;
                double mx = -1e300, sum = 0;
                for (int j = c->cu[s]; j <= i; j++) {
                    const double *kj = c->k + (j * AT_KV + h / group) * AT_D;
                    double d = 0;
                    for (int e = 0; e < AT_D; e++) d += qi[e] * kj[e];
                    sc[j] = d * scale;
                    if (sc[j] > mx) mx = sc[j];
                }
                for (int j = c->cu[s]; j <= i; j++) sum += exp(sc[j] - mx);
                double *o = c->out + (i * AT_H + h) * AT_D;
                for (int e = 0; e < AT_D; e++) o[e] = 0;
                for (int j = c->cu[s]; j <= i; j++) {
                    double p = exp(sc[j] - mx) / sum;
                    const double *vj = c->v + (j * AT_KV + h / group) * AT_D;
                    for (int e = 0; e < AT_D; e++) o[e] += p * vj[e];
                }
                c->lse[i * AT_H + h] = mx + log(sum);
            }
    rlc_free(sc);
}

static double at_loss(void *ud) {
    at_case *c = ud;
    at_ref(c);
    return dot_r(c->r, c->out, (size_t)c->n * AT_H * AT_D);
}

// n tokens in documents cu (n_seqs + 1); every `stride`-th input element is
// differentiated numerically.
static void test_attention(const char *name, const int *cu, int n_seqs, size_t stride) {
    int n = cu[n_seqs];
    size_t NQ = (size_t)n * AT_H * AT_D, NK = (size_t)n * AT_KV * AT_D;
    at_case c = {n, n_seqs, cu, NULL, NULL, NULL, NULL, NULL, NULL};
    double *dbuf = rlc_malloc(sizeof(double) * (3 * NQ + 2 * NK + (size_t)n * AT_H));
    c.q = dbuf, c.r = c.q + NQ, c.out = c.r + NQ, c.k = c.out + NQ, c.v = c.k + NK, c.lse = c.v + NK;
    float *fbuf = rlc_malloc(sizeof(float) * (4 * NQ + 4 * NK + 2 * (size_t)n * AT_H));
    float *q = fbuf, *r = q + NQ, *out = r + NQ, *dq = out + NQ, *k = dq + NQ, *v = k + NK;
    float *dk = v + NK, *dv = dk + NK, *lse = dv + NK, *delta = lse + (size_t)n * AT_H;
    rand_fill(c.q, q, NQ, 2), rand_fill(c.k, k, NK, 2), rand_fill(c.v, v, NK, 1);
    rand_fill(c.r, r, NQ, 1);
    be.ops->attention_packed(be.ctx, out, lse, q, k, v, cu, n_seqs, n, AT_H, AT_KV, AT_D);
    at_ref(&c);
    char what[96];
    snprintf(what, sizeof what, "%s out", name);
    check_fwd(what, out, c.out, NQ);
    snprintf(what, sizeof what, "%s lse", name);
    check_fwd(what, lse, c.lse, (size_t)n * AT_H);
    be.ops->attention_packed_backward(be.ctx, dq, dk, dv, delta, r, q, k, v, out, lse, cu, n_seqs, n,
                                      AT_H, AT_KV, AT_D);
    snprintf(what, sizeof what, "%s dq", name);
    check_fd_stride(what, at_loss, &c, c.q, dq, NQ, stride);
    snprintf(what, sizeof what, "%s dk", name);
    check_fd_stride(what, at_loss, &c, c.k, dk, NK, stride);
    snprintf(what, sizeof what, "%s dv", name);
    check_fd_stride(what, at_loss, &c, c.v, dv, NK, stride);
    rlc_free(dbuf), rlc_free(fbuf);
}

// ---- chunked log-softmax + gather + entropy -------------------------------------------------

enum { LP_N = 3, LP_V = 10 };
static const int lp_tgt[LP_N] = {0, 9, 4};
typedef struct {
    double logits[LP_N * LP_V], a[LP_N], b[LP_N];
    double logp[LP_N], ent[LP_N];
} lp_case;

static double lp_loss(void *ud) {
    lp_case *c = ud;
    double s = 0;
    for (int i = 0; i < LP_N; i++) {
        const double *l = c->logits + i * LP_V;
        double mx = -1e300, sum = 0, pl = 0;
        for (int j = 0; j < LP_V; j++) mx = l[j] > mx ? l[j] : mx;
        for (int j = 0; j < LP_V; j++) sum += exp(l[j] - mx);
        double lse = mx + log(sum);
        for (int j = 0; j < LP_V; j++) pl += exp(l[j] - lse) * (l[j] - lse);
        c->logp[i] = l[lp_tgt[i]] - lse;
        c->ent[i] = -pl;
        s += c->a[i] * c->logp[i] + c->b[i] * c->ent[i];
    }
    return s;
}

// Runs the chunk ops over logits (n, V) in chunks of vc (copied to a
// contiguous (n, vc) buffer as the lm_head matmul would produce them).
static void lp_run(const float *logits, int vc, float *logp, float *ent, float *lse, const float *a,
                   const float *b, float *dlogits) {
    float buf[LP_N * LP_V], stats[LP_N * 4];
    for (int pass = 0; pass < 2; pass++) {
        for (int v0 = 0; v0 < LP_V; v0 += vc) {
            int nv = LP_V - v0 < vc ? LP_V - v0 : vc;
            for (int i = 0; i < LP_N; i++) memcpy(buf + i * nv, logits + i * LP_V + v0, sizeof(float) * nv);
            if (pass == 0) {
                be.ops->logprob_chunk(be.ctx, stats, buf, lp_tgt, v0, LP_N, nv);
                continue;
            }
            be.ops->logprob_chunk_backward(be.ctx, buf, buf, lp_tgt, lse, ent, a, b, v0, LP_N, nv);
            for (int i = 0; i < LP_N; i++) memcpy(dlogits + i * LP_V + v0, buf + i * nv, sizeof(float) * nv);
        }
        if (pass == 0) be.ops->logprob_finish(be.ctx, logp, ent, lse, stats, LP_N);
    }
}

static void test_logprob(void) {
    lp_case c;
    float logits[LP_N * LP_V], a[LP_N], b[LP_N];
    rand_fill(c.logits, logits, LP_N * LP_V, 4), rand_fill(c.a, a, LP_N, 1), rand_fill(c.b, b, LP_N, 1);
    logits[1 * LP_V + 7] = 9.0f, c.logits[1 * LP_V + 7] = 9.0f;  // a peaked row
    static const int chunks[] = {LP_V, 4, 3, 1};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        float logp[LP_N], ent[LP_N], lse[LP_N], dl[LP_N * LP_V];
        char name[64];
        lp_run(logits, chunks[k], logp, ent, lse, a, b, dl);
        lp_loss(&c);
        snprintf(name, sizeof name, "logprob chunk %d: logp", chunks[k]);
        check_fwd(name, logp, c.logp, LP_N);
        snprintf(name, sizeof name, "logprob chunk %d: entropy", chunks[k]);
        check_fwd(name, ent, c.ent, LP_N);
        snprintf(name, sizeof name, "logprob chunk %d: dlogits", chunks[k]);
        check_fd(name, lp_loss, &c, c.logits, dl, LP_N * LP_V);
    }
}

int main(void) {
    be = kernels_cpu();
    kernels_set_threads(2);
    printf("matmul / embedding / rmsnorm / rope / swiglu backward:\n");
    test_matmul();
    test_embedding();
    test_rmsnorm();
    test_rope();
    test_swiglu();
    printf("packed attention:\n");
    static const int cu_small[] = {0, 3, 4, 4, 10};      // documents of 3, 1, 0 and 6 tokens
    static const int cu_long[] = {0, 150, 155, 285};      // several 64-row tiles, partial tiles
    test_attention("attention 3+1+0+6", cu_small, 4, 1);
    test_attention("attention 150+5+130", cu_long, 3, 11);
    printf("chunked log-softmax + gather + entropy (V = %d):\n", LP_V);
    test_logprob();
    return test_finish("test_grad_ops");
}
