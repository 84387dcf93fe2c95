// test_logprob_chunks.c: the chunked lm_head + log-softmax + gather +
// entropy (actor/logprob.h) gives the values and gradients of an unchunked
// one. For x (n, C), w (V, C) with V = 1000 and logits spread over about
// +-40 (the largest logit of some rows sits in the last chunk, so the online
// log-sum-exp must rescale), each chunk size (1, 7, 128, 250 and 500 that
// divide V or not, 999, V and more than V) is compared with
//   (a) vocab_chunk = V (one chunk: the unchunked path), and
//   (b) a float64 computation over the full (n, V) logits.
// Tolerances: log-probs and entropies |d| < 2e-5 (1 + |ref|); dx and dw
// relative L2 < 1e-5 against (a) and 1e-4 against (b) (float32 logits).
// The worst element of every comparison is printed. It also checks the
// scratch size formula and that the trainer with several chunk sizes gives
// the same log-probs (full model path, rows without a target skipped).
#include <math.h>    // exp, log, fabs
#include <stdint.h>  // uint64_t
#include <string.h>  // memset

#include "actor/logprob.h"          // actor_logprob_*
#include "actor/model.h"            // actor_model_create
#include "actor/train.h"            // actor_train_*
#include "core/core.h"              // rlc_malloc
#include "kernels/kernels.h"  // kernels_cpu
#include "test.h"                   // CHECK_MSG, test_rel_l2, test_finish

#define VAL_TOL 2e-5
#define GRAD_TOL_CHUNK 1e-5
#define GRAD_TOL_F64 1e-4

enum { N = 6, C = 24, V = 1000 };

static uint64_t rng = 0xD1B54A32D192ED03ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

typedef struct {
    float logp[N], ent[N], lse[N];
    float dx[N * C], *dw;  // dw (V, C)
} result;

static kernels_backend be;
static float x[N * C], *w, dlp[N], dent[N];
static int tgt[N];

static void run_chunked(result *r, int vc, float *scratch) {
    actor_logprob_forward(be, r->logp, r->ent, r->lse, x, w, tgt, N, C, V, vc, scratch);
    memset(r->dx, 0, sizeof r->dx);
    memset(r->dw, 0, sizeof(float) * V * C);
    actor_logprob_backward(be, r->dx, r->dw, dlp, dent, x, w, tgt, r->lse, r->ent, N, C, V, vc, scratch);
}

// float64 over the whole logits: L = sum dlp logp + dent entropy.
static void run_f64(double *logp, double *ent, double *dx, double *dw) {
    double *l = rlc_malloc(sizeof(double) * V);
    memset(dx, 0, sizeof(double) * N * C);
    memset(dw, 0, sizeof(double) * V * C);
    for (int i = 0; i < N; i++) {
        double mx = -1e300, sum = 0, pl = 0;
        for (int j = 0; j < V; j++) {
            double s = 0;
            for (int k = 0; k < C; k++) s += (double)x[i * C + k] * w[j * C + k];
            l[j] = s;
            mx = s > mx ? s : mx;
        }
        for (int j = 0; j < V; j++) sum += exp(l[j] - mx);
        double lse = mx + log(sum);
        for (int j = 0; j < V; j++) pl += exp(l[j] - lse) * (l[j] - lse);
        logp[i] = l[tgt[i]] - lse;
        ent[i] = -pl;
        for (int j = 0; j < V; j++) {
            double lp = l[j] - lse, p = exp(lp);
            double g = -p * (dlp[i] + dent[i] * (lp + ent[i])) + (j == tgt[i] ? dlp[i] : 0);
            for (int k = 0; k < C; k++) {
                dx[i * C + k] += g * w[j * C + k];
                dw[j * C + k] += g * x[i * C + k];
            }
        }
    }
    rlc_free(l);
}

static double worst_val(const float *a, const float *b, int n, int *at) {
    double w0 = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1 + fabs(b[i]));
        if (e >= w0) w0 = e, *at = i;
    }
    return w0;
}

static void compare(const char *what, int vc, const result *r, const result *ref) {
    int i1, i2;
    double e1 = worst_val(r->logp, ref->logp, N, &i1), e2 = worst_val(r->ent, ref->ent, N, &i2);
    size_t wx = 0, ww = 0;
    double ax = 0, aw = 0;
    double gx = test_rel_l2(r->dx, ref->dx, N * C, &wx, &ax);
    double gw = test_rel_l2(r->dw, ref->dw, (size_t)V * C, &ww, &aw);
    printf("  chunk %5d vs %-9s logp %.1e (row %d)  entropy %.1e (row %d)  dx rel l2 %.1e (worst |d| %.1e)  "
           "dw rel l2 %.1e (worst |d| %.1e at id %zu)\n",
           vc, what, e1, i1, e2, i2, gx, ax, gw, aw, ww / C);
    CHECK_MSG(e1 < VAL_TOL && e2 < VAL_TOL, "chunk %d vs %s: values %.2e %.2e", vc, what, e1, e2);
    CHECK_MSG(gx < GRAD_TOL_CHUNK && gw < GRAD_TOL_CHUNK, "chunk %d vs %s: gradients %.2e %.2e", vc,
              what, gx, gw);
}

static void test_direct(void) {
    w = rlc_malloc(sizeof(float) * V * C);
    for (int i = 0; i < N * C; i++) x[i] = (float)urand();
    for (int i = 0; i < V * C; i++) w[i] = (float)(1.5 * urand());
    // Rows 1 and 4: a dominant logit in the last ids (last chunk for most sizes).
    for (int k = 0; k < C; k++) w[(V - 2) * C + k] = 3.0f * x[1 * C + k];
    for (int k = 0; k < C; k++) w[(V - 1) * C + k] = 2.0f * x[4 * C + k];
    for (int i = 0; i < N; i++) {
        tgt[i] = (int)((urand() + 1) * 0.5 * V) % V;
        dlp[i] = (float)urand();
        dent[i] = (float)(0.5 * urand());
    }
    tgt[1] = V - 2;  // the dominant id itself
    tgt[2] = 0;
    tgt[3] = V - 1;

    float *scratch = rlc_malloc(sizeof(float) * actor_logprob_scratch_floats(N, V, 2 * V));
    CHECK(actor_logprob_scratch_floats(N, V, 250) == (size_t)N * (250 + 4));
    CHECK(actor_logprob_scratch_floats(N, V, 0) == (size_t)N * (V + 4));
    CHECK(actor_logprob_scratch_floats(N, V, 5000) == (size_t)N * (V + 4));

    result ref, r;
    ref.dw = rlc_malloc(sizeof(float) * V * C);
    r.dw = rlc_malloc(sizeof(float) * V * C);
    run_chunked(&ref, V, scratch);

    // (b) the unchunked path against float64 over the whole logits.
    double logp64[N], ent64[N], *dx64 = rlc_malloc(sizeof(double) * N * C);
    double *dw64 = rlc_malloc(sizeof(double) * V * C);
    run_f64(logp64, ent64, dx64, dw64);
    result f64;
    f64.dw = rlc_malloc(sizeof(float) * V * C);
    for (int i = 0; i < N; i++) f64.logp[i] = (float)logp64[i], f64.ent[i] = (float)ent64[i];
    for (int i = 0; i < N * C; i++) f64.dx[i] = (float)dx64[i];
    for (int i = 0; i < V * C; i++) f64.dw[i] = (float)dw64[i];
    {
        int i1, i2;
        double e1 = worst_val(ref.logp, f64.logp, N, &i1), e2 = worst_val(ref.ent, f64.ent, N, &i2);
        double gx = test_rel_l2(ref.dx, f64.dx, N * C, NULL, NULL);
        double gw = test_rel_l2(ref.dw, f64.dw, (size_t)V * C, NULL, NULL);
        printf("  chunk %5d vs float64   logp %.1e  entropy %.1e  dx rel l2 %.1e  dw rel l2 %.1e "
               "(logp of row 1: %.4f, entropy %.4f)\n", V, e1, e2, gx, gw, ref.logp[1], ref.ent[1]);
        CHECK_MSG(e1 < VAL_TOL && e2 < VAL_TOL, "unchunked vs float64: values %.2e %.2e", e1, e2);
        CHECK_MSG(gx < GRAD_TOL_F64 && gw < GRAD_TOL_F64, "unchunked vs float64: %.2e %.2e", gx, gw);
    }

    static const int chunks[] = {1, 7, 128, 250, 500, 999, V, 2 * V};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        run_chunked(&r, chunks[k], scratch);
        compare("unchunked", chunks[k], &r, &ref);
        int i1;
        double e = worst_val(r.logp, f64.logp, N, &i1);
        double gw = test_rel_l2(r.dw, f64.dw, (size_t)V * C, NULL, NULL);
        CHECK_MSG(e < VAL_TOL && gw < GRAD_TOL_F64, "chunk %d vs float64: %.2e %.2e", chunks[k], e, gw);
    }
    // Without entropy gradient (dentropy NULL) matches dentropy = 0.
    {
        float zero[N] = {0}, keep[N];
        memcpy(keep, dent, sizeof keep);
        memcpy(dent, zero, sizeof zero);
        run_chunked(&ref, 128, scratch);
        memcpy(dent, keep, sizeof keep);
        memset(r.dx, 0, sizeof r.dx);
        memset(r.dw, 0, sizeof(float) * V * C);
        actor_logprob_backward(be, r.dx, r.dw, dlp, NULL, x, w, tgt, ref.lse, NULL, N, C, V, 128, scratch);
        CHECK(memcmp(r.dx, ref.dx, sizeof r.dx) == 0);
        CHECK(memcmp(r.dw, ref.dw, sizeof(float) * V * C) == 0);
    }
    rlc_free(dx64), rlc_free(dw64), rlc_free(f64.dw), rlc_free(ref.dw), rlc_free(r.dw);
    rlc_free(scratch), rlc_free(w);
}

// Through the trainer: chunk sizes change nothing beyond rounding.
static void test_trainer(void) {
    actor_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.model_type, sizeof c.model_type, "qwen2");
    c.arch = ACTOR_ARCH_QWEN2;
    c.vocab_size = 517, c.hidden_size = 32, c.n_layers = 1, c.n_heads = 4, c.n_kv_heads = 2;
    c.head_dim = 8, c.intermediate_size = 48, c.max_position = 128, c.rms_eps = 1e-6f;
    c.rope_theta = 1e6f, c.tie_embeddings = 1, c.attn_bias = 1, c.bos_id = -1;
    actor_model *m;
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return;
    actor_model_init_random(m, 7, 0.3f);
    enum { TT = 40 };
    int tokens[TT], targets[TT], cu[3] = {0, 25, TT};
    for (int i = 0; i < TT; i++) tokens[i] = (int)((urand() + 1) * 0.5 * c.vocab_size) % c.vocab_size;
    for (int i = 0; i < TT; i++) targets[i] = (i == 24 || i == TT - 1 || i < 5) ? -1 : tokens[i + 1];
    actor_batch b = {TT, 2, tokens, cu, targets};
    size_t P = actor_model_params(m)->numel;
    float lp0[TT], lp[TT], ent0[TT], ent[TT], d[TT], de[TT];
    for (int i = 0; i < TT; i++) d[i] = (float)urand(), de[i] = (float)urand();
    float *g0 = rlc_calloc(P, sizeof(float)), *g = rlc_calloc(P, sizeof(float));
    static const int chunks[] = {517, 64, 100, 1};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        actor_trainer *t;
        CHECK_OK(actor_train_create(m, TT, chunks[k], &t));
        if (!t) continue;
        CHECK_OK(actor_train_forward(t, &b, k ? lp : lp0, k ? ent : ent0));
        CHECK_OK(actor_train_backward(t, d, de, k ? g : g0));
        if (k) {
            int i1, i2;
            double e1 = worst_val(lp, lp0, TT, &i1), e2 = worst_val(ent, ent0, TT, &i2);
            double gr = test_rel_l2(g, g0, P, NULL, NULL);
            printf("  trainer chunk %3d vs %d: logp %.1e  entropy %.1e  gradient rel l2 %.1e\n", chunks[k],
                   c.vocab_size, e1, e2, gr);
            CHECK_MSG(e1 < VAL_TOL && e2 < VAL_TOL && gr < GRAD_TOL_CHUNK, "trainer chunk %d", chunks[k]);
            memset(g, 0, sizeof(float) * P);
        }
        actor_train_free(t);
    }
    rlc_free(g0), rlc_free(g);
    actor_model_free(m);
}

int main(void) {
    be = kernels_cpu();
    kernels_set_threads(2);
    printf("chunked log-softmax, V = %d, %d rows:\n", V, N);
    test_direct();
    printf("trainer, V = 517:\n");
    test_trainer();
    return test_finish("test_logprob_chunks");
}
