// test_cuda_backend.c: the kernels.h op table on the GPU (kernels_cuda_open):
// every entry reaches its float32 op, checked against the CPU table on a
// few ops through the table itself (matmul with bias, rmsnorm, swiglu,
// log-softmax). Skipped (exit 77) without the CUDA backend or a device.
#include <string.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "test.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kcuda.h"
#endif

#ifdef RLC_HAVE_CUDA
static unsigned long long rng_state = 12345;
static float frand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xFFFFFF) / 16777216.0f * 2.0f - 1.0f;
}

// Uploads host (n floats) into a fresh device buffer.
static float *up(kc_ctx *c, const float *h, size_t n) {
    void *d = NULL;
    if (kc_malloc(c, &d, n * sizeof(float)) != RLC_OK) return NULL;
    if (kc_upload(c, d, h, n * sizeof(float)) != RLC_OK) return NULL;
    return d;
}

static double compare(kc_ctx *c, const float *dev, const float *ref, size_t n, const char *what) {
    float *h = malloc(n * sizeof(float));
    CHECK_OK(kc_download(c, h, dev, n * sizeof(float)));
    size_t worst = 0;
    double worst_abs = 0, e = test_rel_l2(h, ref, n, &worst, &worst_abs);
    printf("%-12s rel L2 %.2e (worst %zu: %.2e)\n", what, e, worst, worst_abs);
    free(h);
    return e;
}
#endif

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("this build has no CUDA backend");
#ifdef RLC_HAVE_CUDA
    kernels_backend g;
    if (kernels_cuda_open(0, &g) != RLC_OK) TEST_SKIP("no CUDA device: %s", rlc_last_error());
    kernels_backend cpu = kernels_cpu();
    kc_ctx *c = g.ctx;
    CHECK(strcmp(g.ops->name, "cuda") == 0);
    // Every entry of the table is set.
    const void *const *entry = (const void *const *)((const char *)g.ops + sizeof(const char *));
    size_t n_entries = (sizeof(kernels_ops) - sizeof(const char *)) / sizeof(void *);
    for (size_t i = 0; i < n_entries; i++) CHECK_MSG(entry[i] != NULL, "op table entry %zu", i);

    enum { N = 37, DIN = 200, DOUT = 77, V = 577 };
    float *x = malloc(N * DIN * sizeof(float)), *w = malloc(DOUT * DIN * sizeof(float));
    float *b = malloc(DOUT * sizeof(float)), *nw = malloc(DIN * sizeof(float));
    float *ref = malloc((size_t)N * V * sizeof(float)), *up2 = malloc(N * DIN * sizeof(float));
    for (int i = 0; i < N * DIN; i++) x[i] = frand(), up2[i] = frand();
    for (int i = 0; i < DOUT * DIN; i++) w[i] = frand();
    for (int i = 0; i < DOUT; i++) b[i] = frand();
    for (int i = 0; i < DIN; i++) nw[i] = 1.0f + 0.1f * frand();
    float *dx = up(c, x, N * DIN), *dw = up(c, w, DOUT * DIN), *db = up(c, b, DOUT), *dnw = up(c, nw, DIN);
    float *dup = up(c, up2, N * DIN);
    void *dout = NULL;
    CHECK_OK(kc_malloc(c, &dout, (size_t)N * V * sizeof(float)));

    // matmul with bias
    CHECK_OK(kc_memset(c, dout, 0xFF, (size_t)N * V * sizeof(float)));
    g.ops->matmul(g.ctx, dout, dx, dw, db, N, DIN, DOUT);
    cpu.ops->matmul(cpu.ctx, ref, x, w, b, N, DIN, DOUT);
    CHECK_OK(kc_sync(c));
    CHECK(compare(c, dout, ref, (size_t)N * DOUT, "matmul") < 1e-5);

    // rmsnorm
    CHECK_OK(kc_memset(c, dout, 0xFF, (size_t)N * V * sizeof(float)));
    g.ops->rmsnorm(g.ctx, dout, dx, dnw, N, DIN, 1e-6f);
    cpu.ops->rmsnorm(cpu.ctx, ref, x, nw, N, DIN, 1e-6f);
    CHECK_OK(kc_sync(c));
    CHECK(compare(c, dout, ref, (size_t)N * DIN, "rmsnorm") < 1e-5);

    // swiglu
    CHECK_OK(kc_memset(c, dout, 0xFF, (size_t)N * V * sizeof(float)));
    g.ops->swiglu(g.ctx, dout, dx, dup, (size_t)N * DIN);
    cpu.ops->swiglu(cpu.ctx, ref, x, up2, (size_t)N * DIN);
    CHECK_OK(kc_sync(c));
    CHECK(compare(c, dout, ref, (size_t)N * DIN, "swiglu") < 1e-5);

    // log-softmax over rows of V
    float *logits = malloc((size_t)N * V * sizeof(float));
    for (int i = 0; i < N * V; i++) logits[i] = 4.0f * frand();
    float *dl = up(c, logits, (size_t)N * V);
    CHECK_OK(kc_memset(c, dout, 0xFF, (size_t)N * V * sizeof(float)));
    g.ops->log_softmax(g.ctx, dout, dl, N, V);
    cpu.ops->log_softmax(cpu.ctx, ref, logits, N, V);
    CHECK_OK(kc_sync(c));
    CHECK(compare(c, dout, ref, (size_t)N * V, "log_softmax") < 1e-5);

    float *dev[] = {dx, dw, db, dnw, dup, dout, dl};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) kc_free(c, dev[i]);
    free(x), free(w), free(b), free(nw), free(ref), free(up2), free(logits);
    kernels_cuda_close(&g);
    CHECK(g.ctx == NULL);
#endif
    return test_finish("test_cuda_backend");
}
