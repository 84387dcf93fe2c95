// test_optim.c: AdamW against a float64 loop that follows torch.optim.AdamW's
// formula and against first steps worked out by hand; clipping by global norm;
// the learning-rate schedules at chosen steps; the non-finite-gradient skip;
// the padding between tensors left alone; the same bytes with 1 or 2 threads.
#include <math.h>    // sqrt, pow, NAN, INFINITY
#include <stdint.h>  // uint64_t
#include <string.h>  // memcpy, memcmp

#include "core/core.h"
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/optim.h"
#include "test.h"

// A hand-made table: a big matrix (several optimizer blocks), a small matrix
// and a 1-D norm weight, with padding between them.
enum { BIG_R = 150, BIG_C = 130, SMALL_R = 3, SMALL_C = 5, NORM_N = 7 };
#define OFF_SMALL ((size_t)BIG_R * BIG_C + 16)
#define OFF_NORM (OFF_SMALL + 16)
#define NUMEL (OFF_NORM + 16)

static actor_tensor_info table[3];

static void make_params(actor_params *p) {
    memset(p, 0, sizeof *p);
    snprintf(table[0].name, ACTOR_MAX_NAME, "model.layers.0.mlp.up_proj.weight");
    table[0].ndim = 2, table[0].shape[0] = BIG_R, table[0].shape[1] = BIG_C;
    table[0].offset = 0, table[0].numel = (size_t)BIG_R * BIG_C;
    snprintf(table[1].name, ACTOR_MAX_NAME, "model.layers.0.self_attn.q_proj.weight");
    table[1].ndim = 2, table[1].shape[0] = SMALL_R, table[1].shape[1] = SMALL_C;
    table[1].offset = OFF_SMALL, table[1].numel = SMALL_R * SMALL_C;
    snprintf(table[2].name, ACTOR_MAX_NAME, "model.norm.weight");
    table[2].ndim = 1, table[2].shape[0] = NORM_N, table[2].shape[1] = 1;
    table[2].offset = OFF_NORM, table[2].numel = NORM_N;
    p->tensors = table;
    p->n_tensors = 3;
    p->numel = NUMEL;
}

static int in_tensor(size_t i) {
    for (int k = 0; k < 3; k++)
        if (i >= table[k].offset && i < table[k].offset + table[k].numel) return k;
    return -1;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) {  // splitmix64 -> [0, 1)
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
static float nrand(void) { return (float)(sqrt(-2 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand())); }

// torch.optim.AdamW (torch/optim/adam.py, _single_tensor_adam with
// decoupled_weight_decay) in float64, with clip_grad_norm_ before it.
typedef struct {
    double *p, *m, *v;
    long t;
} ref_adamw;

static void ref_step(ref_adamw *r, const float *g32, double lr, const optim_adamw_config *c) {
    double sq = 0;
    for (size_t i = 0; i < NUMEL; i++)
        if (in_tensor(i) >= 0) sq += (double)g32[i] * g32[i];
    double norm = sqrt(sq), coef = 1;
    if (c->max_grad_norm > 0 && c->max_grad_norm / (norm + 1e-6) < 1) coef = c->max_grad_norm / (norm + 1e-6);
    r->t++;
    double bc1 = 1 - pow(c->beta1, (double)r->t), bc2 = 1 - pow(c->beta2, (double)r->t);
    for (size_t i = 0; i < NUMEL; i++) {
        int k = in_tensor(i);
        if (k < 0) continue;
        double g = g32[i] * coef;
        double wd = (table[k].ndim == 2 || c->decay_vectors) ? c->weight_decay : 0;
        r->p[i] *= 1 - lr * wd;
        r->m[i] += (1 - c->beta1) * (g - r->m[i]);
        r->v[i] = c->beta2 * r->v[i] + (1 - c->beta2) * g * g;
        r->p[i] -= lr / bc1 * r->m[i] / (sqrt(r->v[i]) / sqrt(bc2) + c->eps);
    }
}

// max |a - b| / (|b| + rms(b)): a relative error that does not blow up where
// an element of b is near zero through cancellation.
static double max_rel(const float *a, const double *b, size_t *worst) {
    double ss = 0, w = 0;
    size_t n = 0;
    for (size_t i = 0; i < NUMEL; i++)
        if (in_tensor(i) >= 0) ss += b[i] * b[i], n++;
    double rms = sqrt(ss / (double)n);
    for (size_t i = 0; i < NUMEL; i++) {
        if (in_tensor(i) < 0) continue;
        double e = fabs(a[i] - b[i]) / (fabs(b[i]) + rms);
        if (e > w) w = e, *worst = i;
    }
    return w;
}

static void test_against_float64(void) {
    actor_params p;
    make_params(&p);
    optim_adamw_config c = optim_adamw_defaults();
    c.weight_decay = 0.1;
    c.max_grad_norm = 50;  // some steps clip (grad norm ~ sqrt(19.5k) * scale)
    optim_adamw *o;
    CHECK_OK(optim_adamw_create(&c, &p, &o));
    if (!o) return;
    CHECK(optim_adamw_decays(o, 0) && optim_adamw_decays(o, 1) && !optim_adamw_decays(o, 2));

    static float w[NUMEL], g[NUMEL];
    static double rp[NUMEL], rm[NUMEL], rv[NUMEL];
    ref_adamw r = {rp, rm, rv, 0};
    for (size_t i = 0; i < NUMEL; i++) {
        w[i] = in_tensor(i) >= 0 ? nrand() * 0.1f : 1234.5f;  // padding: a sentinel
        rp[i] = w[i];
    }
    int clipped = 0;
    double worst_err = 0;
    for (int step = 0; step < 12; step++) {
        double lr = 1e-3 * (1 + step % 3);
        float scale = step % 4 == 3 ? 2.0f : 0.2f;
        for (size_t i = 0; i < NUMEL; i++) g[i] = in_tensor(i) >= 0 ? nrand() * scale : 777.0f;
        ref_step(&r, g, lr, &c);
        optim_step_result res;
        CHECK_OK(optim_adamw_step(o, w, g, lr, &res));
        clipped += res.clip_coef < 1;
        size_t wi = 0;
        double e = max_rel(w, rp, &wi);
        if (e > worst_err) worst_err = e;
        CHECK_MSG(e < 5e-6, "step %d: params max rel err %.3g at %zu (%.9g vs %.9g)", step, e, wi, w[wi], rp[wi]);
        e = max_rel(optim_adamw_m(o), rm, &wi);
        CHECK_MSG(e < 5e-6, "step %d: m max rel err %.3g at %zu", step, e, wi);
        e = max_rel(optim_adamw_v(o), rv, &wi);
        CHECK_MSG(e < 5e-6, "step %d: v max rel err %.3g at %zu", step, e, wi);
    }
    printf("AdamW vs float64 torch formula, 12 steps: params max rel err %.3g; %d steps clipped\n", worst_err,
           clipped);
    CHECK(clipped >= 2 && clipped <= 10);
    CHECK(optim_adamw_steps(o) == 12 && optim_adamw_skipped(o) == 0);
    for (size_t i = 0; i < NUMEL; i++)
        if (in_tensor(i) < 0) CHECK_MSG(w[i] == 1234.5f && optim_adamw_m(o)[i] == 0, "padding %zu touched", i);
    optim_adamw_free(o);
}

// Two steps of one element, worked out by hand (lr 0.1, wd 0.1, defaults):
// step 1, g = 0.5: m = 0.05, v = 0.00025, m^ = 0.5, sqrt(v^) = 0.5:
//   matrix p = 1 * (1 - 0.01) - 0.1 * 0.5 / (0.5 + 1e-8) = 0.89000000200...
//   norm   p = 1 - 0.1 * 0.5 / (0.5 + 1e-8)              = 0.90000000200...
// step 2, g = -0.25: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 =
//   0.00031225, m^ = 0.02 / 0.19 = 0.105263..., sqrt(v^) = sqrt(0.00031225 /
//   0.001999) = 0.395225..., update = 0.1 * 0.266336... = 0.0266337...
//   matrix p = 0.89 * 0.99 - 0.0266337 = 0.8544663; norm p = 0.9 - 0.0266337 = 0.8733663
static void test_by_hand(void) {
    actor_params p;
    make_params(&p);
    optim_adamw_config c = optim_adamw_defaults();
    c.weight_decay = 0.1;
    c.max_grad_norm = 0;
    optim_adamw *o;
    CHECK_OK(optim_adamw_create(&c, &p, &o));
    if (!o) return;
    static float w[NUMEL], g[NUMEL];
    for (size_t i = 0; i < NUMEL; i++) w[i] = 1, g[i] = in_tensor(i) >= 0 ? 0.5f : 0;
    CHECK_OK(optim_adamw_step(o, w, g, 0.1, NULL));
    CHECK_MSG(fabs(w[OFF_SMALL] - 0.89) < 1e-6, "matrix after step 1: %.9g", w[OFF_SMALL]);
    CHECK_MSG(fabs(w[OFF_NORM] - 0.90) < 1e-6, "norm after step 1: %.9g", w[OFF_NORM]);
    for (size_t i = 0; i < NUMEL; i++) g[i] = in_tensor(i) >= 0 ? -0.25f : 0;
    CHECK_OK(optim_adamw_step(o, w, g, 0.1, NULL));
    double upd = 0.1 * (0.02 / 0.19) / sqrt(0.00031225 / 0.001999);
    CHECK_MSG(fabs(upd - 0.0266337) < 1e-6, "hand value %.9g", upd);
    CHECK_MSG(fabs(w[OFF_SMALL] - 0.8544663) < 2e-6, "matrix after step 2: %.9g", w[OFF_SMALL]);
    CHECK_MSG(fabs(w[OFF_NORM] - 0.8733663) < 2e-6, "norm after step 2: %.9g", w[OFF_NORM]);
    optim_adamw_free(o);

    c.decay_vectors = 1;  // now the norm decays too
    CHECK_OK(optim_adamw_create(&c, &p, &o));
    if (!o) return;
    CHECK(optim_adamw_decays(o, 2));
    for (size_t i = 0; i < NUMEL; i++) w[i] = 1, g[i] = in_tensor(i) >= 0 ? 0.5f : 0;
    CHECK_OK(optim_adamw_step(o, w, g, 0.1, NULL));
    CHECK_MSG(fabs(w[OFF_NORM] - 0.89) < 1e-6, "decayed norm after step 1: %.9g", w[OFF_NORM]);
    optim_adamw_free(o);
}

static void test_clipping(void) {
    actor_params p;
    make_params(&p);
    static float g[NUMEL], w[NUMEL];
    memset(g, 0, sizeof g);
    g[0] = 3, g[OFF_SMALL] = 4, g[OFF_NORM + 6] = 12;  // norm 13
    g[OFF_SMALL + 15] = 1000;                          // padding: not counted
    CHECK(fabs(optim_grad_norm(&p, g) - 13) < 1e-12);

    optim_adamw_config c = optim_adamw_defaults();
    c.max_grad_norm = 1.3;
    optim_adamw *o;
    CHECK_OK(optim_adamw_create(&c, &p, &o));
    if (!o) return;
    optim_step_result r;
    CHECK_OK(optim_adamw_step(o, w, g, 1e-3, &r));
    double coef = 1.3 / (13 + 1e-6);
    CHECK_MSG(fabs(r.grad_norm - 13) < 1e-9 && fabs(r.clip_coef - coef) < 1e-12, "norm %g coef %g", r.grad_norm,
              r.clip_coef);
    CHECK(fabsf(g[0] - (float)(3 * coef)) < 1e-7 && fabsf(g[OFF_NORM + 6] - (float)(12 * coef)) < 1e-6);
    CHECK(g[OFF_SMALL + 15] == 1000);
    CHECK(fabs(optim_grad_norm(&p, g) - 1.3) < 1e-6);
    optim_adamw_free(o);

    c.max_grad_norm = 20;  // above the norm: untouched
    CHECK_OK(optim_adamw_create(&c, &p, &o));
    if (!o) return;
    memset(g, 0, sizeof g);
    g[0] = 3, g[OFF_SMALL] = 4, g[OFF_NORM + 6] = 12;
    CHECK_OK(optim_adamw_step(o, w, g, 1e-3, &r));
    CHECK(r.clip_coef == 1 && g[0] == 3 && g[OFF_NORM + 6] == 12);
    optim_adamw_free(o);
}

static void test_schedules(void) {
    optim_schedule s = {.kind = OPTIM_SCHEDULE_CONSTANT, .lr = 2e-3, .warmup_steps = 10, .total_steps = 110};
    struct {
        optim_schedule_kind kind;
        double ratio;
        long step;
        double want;  // as a fraction of the peak
    } cases[] = {
        {OPTIM_SCHEDULE_CONSTANT, 0, 0, 0.0},     {OPTIM_SCHEDULE_CONSTANT, 0, 5, 0.5},
        {OPTIM_SCHEDULE_CONSTANT, 0, 10, 1.0},    {OPTIM_SCHEDULE_CONSTANT, 0, 5000, 1.0},
        {OPTIM_SCHEDULE_COSINE, 0, 3, 0.3},       {OPTIM_SCHEDULE_COSINE, 0, 10, 1.0},
        {OPTIM_SCHEDULE_COSINE, 0, 60, 0.5},      {OPTIM_SCHEDULE_COSINE, 0, 35, 0.5 * (1 + cos(M_PI / 4))},
        {OPTIM_SCHEDULE_COSINE, 0, 110, 0.0},     {OPTIM_SCHEDULE_COSINE, 0.1, 60, 0.55},
        {OPTIM_SCHEDULE_COSINE, 0.1, 110, 0.1},   {OPTIM_SCHEDULE_COSINE, 0.1, 999, 0.1},
        {OPTIM_SCHEDULE_LINEAR, 0, 35, 0.75},     {OPTIM_SCHEDULE_LINEAR, 0, 110, 0.0},
        {OPTIM_SCHEDULE_LINEAR, 0.2, 60, 0.6},    {OPTIM_SCHEDULE_LINEAR, 0.2, 500, 0.2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s.kind = cases[i].kind;
        s.min_lr_ratio = cases[i].ratio;
        double got = optim_schedule_lr(&s, cases[i].step) / s.lr;
        CHECK_MSG(fabs(got - cases[i].want) < 1e-12, "%s ratio %g step %ld: %.15g, want %.15g",
                  optim_schedule_name(cases[i].kind), cases[i].ratio, cases[i].step, got, cases[i].want);
    }
    s.warmup_steps = 0;  // no warm-up: the first update has the peak
    s.kind = OPTIM_SCHEDULE_COSINE;
    s.min_lr_ratio = 0;
    CHECK(optim_schedule_lr(&s, 0) == s.lr);
    optim_schedule_kind k;
    CHECK_OK(optim_schedule_parse("cosine", &k));
    CHECK(k == OPTIM_SCHEDULE_COSINE);
    CHECK(optim_schedule_parse("cosin", &k) == RLC_ERR_CONFIG && strstr(rlc_last_error(), "linear"));
}

static void test_nonfinite_skip(void) {
    actor_params p;
    make_params(&p);
    optim_adamw_config c = optim_adamw_defaults();
    optim_adamw *o;
    CHECK_OK(optim_adamw_create(&c, &p, &o));
    if (!o) return;
    static float w[NUMEL], g[NUMEL], w0[NUMEL], m0[NUMEL], v0[NUMEL];
    for (size_t i = 0; i < NUMEL; i++) w[i] = nrand(), g[i] = nrand();
    CHECK_OK(optim_adamw_step(o, w, g, 1e-3, NULL));  // one real step: m, v non-zero
    memcpy(w0, w, sizeof w);
    memcpy(m0, optim_adamw_m(o), sizeof m0);
    memcpy(v0, optim_adamw_v(o), sizeof v0);
    float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < NUMEL; i++) g[i] = nrand();
        g[OFF_SMALL + 2] = bad[k];
        optim_step_result r;
        rlc_log_set_level(RLC_LOG_ERROR);  // the warning is expected
        CHECK_OK(optim_adamw_step(o, w, g, 1e-3, &r));
        rlc_log_set_level(RLC_LOG_INFO);
        CHECK(r.skipped == 1 && !isfinite(r.grad_norm));
        CHECK(memcmp(w, w0, sizeof w) == 0);
        CHECK(memcmp(optim_adamw_m(o), m0, sizeof m0) == 0 && memcmp(optim_adamw_v(o), v0, sizeof v0) == 0);
    }
    CHECK(optim_adamw_steps(o) == 1 && optim_adamw_skipped(o) == 3);
    for (size_t i = 0; i < NUMEL; i++) g[i] = nrand();
    optim_step_result r;
    CHECK_OK(optim_adamw_step(o, w, g, 1e-3, &r));
    CHECK(!r.skipped && optim_adamw_steps(o) == 2 && memcmp(w, w0, sizeof w) != 0);
    CHECK(optim_adamw_step(o, w, g, NAN, &r) == RLC_ERR_ARG);
    optim_adamw_free(o);
    c.beta2 = 1.0;
    CHECK(optim_adamw_create(&c, &p, &o) == RLC_ERR_ARG && o == NULL);
}

// The update is elementwise and the norm sums blocks in a fixed order: the
// same bytes with 1 and 2 threads.
static void test_threads(void) {
    actor_params p;
    make_params(&p);
    optim_adamw_config c = optim_adamw_defaults();
    c.max_grad_norm = 10;
    static float w[2][NUMEL], g[2][NUMEL];
    for (size_t i = 0; i < NUMEL; i++) w[0][i] = w[1][i] = nrand(), g[0][i] = g[1][i] = nrand();
    for (int t = 0; t < 2; t++) {
        kernels_set_threads(t + 1);
        optim_adamw *o;
        CHECK_OK(optim_adamw_create(&c, &p, &o));
        if (!o) return;
        for (int s = 0; s < 3; s++) CHECK_OK(optim_adamw_step(o, w[t], g[t], 1e-2, NULL));
        optim_adamw_free(o);
    }
    kernels_set_threads(0);
    CHECK(memcmp(w[0], w[1], sizeof w[0]) == 0);
}

int main(void) {
    test_against_float64();
    test_by_hand();
    test_clipping();
    test_schedules();
    test_nonfinite_skip();
    test_threads();
    return test_finish("test_optim");
}
