// bench_cuda_ops.c: achieved memory bandwidth of the CUDA element-wise and
// row ops (kernels/cuda/kc_ops.h) at LLM shapes: 8192 tokens over the hidden
// sizes of Qwen2.5-0.5B (C 896 = 14 heads x 64, MLP 4864) and Qwen2.5-1.5B
// (C 1536 = 12 x 128, MLP 8960), in float32 and bfloat16. An op's bytes are
// what it must read and write once (below, per op); GB/s = bytes / time, and
// the share of the device's peak when the runtime reports the memory clock
// and bus width. Timed on the host around kc_sync, after warm-up launches.
//
//     bench_cuda_ops [--iters N]
// Prints "bench_cuda_ops: skipped: no CUDA device" and exits 0 without one.
#include <stdio.h>   // printf
#include <stdlib.h>  // malloc, free, atoi
#include <string.h>  // strcmp
#include <time.h>    // clock_gettime

#include "core/core.h"        // rlc_last_error
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query

#ifdef RLC_HAVE_CUDA
#include <cuda_runtime_api.h>  // cudaDeviceGetAttribute: the peak bandwidth

#include "kernels/cuda/kc_ops.h"  // kc_* ops, kcuda.h

enum { N_TOKENS = 8192, VOCAB = 151936, WARMUP = 5 };

typedef struct {
    const char *model;
    int C, H, D, I;  // hidden size, heads x head dim (H * D == C), MLP size
} bench_shape;

static const bench_shape shapes[] = {
    {"qwen2.5-0.5b", 896, 14, 64, 4864},
    {"qwen2.5-1.5b", 1536, 12, 128, 8960},
};

// Device buffers of one shape and dtype.
typedef struct {
    kc_dtype dt;
    int n, C, H, D, I;
    void *x, *w, *out, *dout, *dx;  // (n, C), w (C)
    float *dw;                      // (C) float32
    void *gate, *up, *mout, *mdup;  // (n, I)
    void *table;                    // (VOCAB, C)
    int *ids, *pos;                 // (n)
    float *inv_freq;                // (D / 2) float32
} bench_bufs;

typedef enum {
    OP_RMSNORM,
    OP_RMSNORM_BACKWARD,
    OP_ROPE,
    OP_SWIGLU,
    OP_SWIGLU_BACKWARD,
    OP_ADD,
    OP_EMBEDDING,
    OP_COUNT
} bench_op;

static const char *op_names[OP_COUNT] = {"rmsnorm", "rmsnorm_backward", "rope", "swiglu", "swiglu_backward", "add",
                                         "embedding"};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Bytes an op must move at least: each input read once, each output written once.
static double op_bytes(const bench_bufs *b, bench_op op) {
    double es = (double)kc_dtype_size(b->dt), nc = (double)b->n * b->C, ni = (double)b->n * b->I;
    switch (op) {
    case OP_RMSNORM: return (2.0 * nc + b->C) * es;                    // x, w in; out
    case OP_RMSNORM_BACKWARD: return (3.0 * nc + b->C) * es + 8.0 * b->C;  // dout, x, w in; dx; dw +=
    case OP_ROPE: return 2.0 * nc * es + 4.0 * b->n;                   // x in and out; pos
    case OP_SWIGLU: return 3.0 * ni * es;                              // gate, up in; out
    case OP_SWIGLU_BACKWARD: return 5.0 * ni * es;                     // dout, gate, up in; dgate, dup
    case OP_ADD: return 3.0 * nc * es;                                 // a, b in; out
    case OP_EMBEDDING: return 2.0 * nc * es + 4.0 * b->n;              // rows in and out; ids
    default: return 0;
    }
}

static void run_op(kc_ctx *c, const bench_bufs *b, bench_op op) {
    switch (op) {
    case OP_RMSNORM: kc_rmsnorm(c, b->dt, b->out, b->x, b->w, b->n, b->C, 1e-6f); break;
    case OP_RMSNORM_BACKWARD:
        kc_rmsnorm_backward(c, b->dt, b->dx, b->dw, b->dout, b->x, b->w, b->n, b->C, 1e-6f, 0);
        break;
    case OP_ROPE: kc_rope(c, b->dt, b->x, b->pos, b->inv_freq, b->n, b->H, b->D); break;
    case OP_SWIGLU: kc_swiglu(c, b->dt, b->mout, b->gate, b->up, (size_t)b->n * b->I); break;
    case OP_SWIGLU_BACKWARD:
        // dout is mout (what swiglu wrote) and dgate overwrites it (allowed); dup into mdup.
        kc_swiglu_backward(c, b->dt, b->mout, b->mdup, b->mout, b->gate, b->up, (size_t)b->n * b->I);
        break;
    case OP_ADD: kc_add(c, b->dt, b->out, b->x, b->dout, (size_t)b->n * b->C); break;
    case OP_EMBEDDING: kc_embedding(c, b->dt, b->out, b->table, b->ids, b->n, b->C); break;
    default: break;
    }
}

// A device buffer of n elements of dt filled with values in [-1, 1).
static void *device_random(kc_ctx *c, kc_dtype dt, size_t n, unsigned *seed) {
    void *d = NULL;
    size_t es = kc_dtype_size(dt);
    if (kc_malloc(c, &d, n * es) != RLC_OK) return NULL;
    unsigned char *h = malloc(n * es);
    if (!h) {
        kc_free(c, d);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        float v = (float)(*seed >> 8) * (2.0f / 16777216.0f) - 1.0f;
        if (dt == KC_BF16)
            ((kc_bf16 *)h)[i] = kc_f32_to_bf16(v);
        else
            ((float *)h)[i] = v;
    }
    rlc_status s = kc_upload(c, d, h, n * es);
    free(h);
    if (s != RLC_OK) {
        kc_free(c, d);
        return NULL;
    }
    return d;
}

static void bufs_free(kc_ctx *c, bench_bufs *b) {
    void *all[] = {b->x, b->w, b->out, b->dout, b->dx, b->dw, b->gate, b->up, b->mout, b->mdup,
                   b->table, b->ids, b->pos, b->inv_freq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) kc_free(c, all[i]);
}

static rlc_status bufs_init(kc_ctx *c, bench_bufs *b, kc_dtype dt, const bench_shape *s) {
    memset(b, 0, sizeof *b);
    b->dt = dt, b->n = N_TOKENS, b->C = s->C, b->H = s->H, b->D = s->D, b->I = s->I;
    unsigned seed = 12345u;
    size_t nc = (size_t)b->n * b->C, ni = (size_t)b->n * b->I;
    b->x = device_random(c, dt, nc, &seed);
    b->w = device_random(c, dt, (size_t)b->C, &seed);
    b->out = device_random(c, dt, nc, &seed);
    b->dout = device_random(c, dt, nc, &seed);
    b->dx = device_random(c, dt, nc, &seed);
    b->dw = device_random(c, KC_F32, (size_t)b->C, &seed);
    b->gate = device_random(c, dt, ni, &seed);
    b->up = device_random(c, dt, ni, &seed);
    b->mout = device_random(c, dt, ni, &seed);
    b->mdup = device_random(c, dt, ni, &seed);
    b->table = device_random(c, dt, (size_t)VOCAB * b->C, &seed);
    b->inv_freq = device_random(c, KC_F32, (size_t)(b->D / 2), &seed);
    int *h = malloc((size_t)b->n * sizeof *h);
    rlc_status st = RLC_ERR_NOMEM;
    if (h && kc_malloc(c, (void **)&b->ids, (size_t)b->n * sizeof *h) == RLC_OK &&
        kc_malloc(c, (void **)&b->pos, (size_t)b->n * sizeof *h) == RLC_OK) {
        for (int i = 0; i < b->n; i++) h[i] = (int)((i * 2654435761u) % VOCAB);
        st = kc_upload(c, b->ids, h, (size_t)b->n * sizeof *h);
        for (int i = 0; i < b->n; i++) h[i] = i % 4096;  // positions of packed 4k-token documents
        if (st == RLC_OK) st = kc_upload(c, b->pos, h, (size_t)b->n * sizeof *h);
    }
    free(h);
    if (st != RLC_OK || !b->x || !b->w || !b->out || !b->dout || !b->dx || !b->dw || !b->gate || !b->up ||
        !b->mout || !b->mdup || !b->table || !b->inv_freq) {
        bufs_free(c, b);
        return st != RLC_OK ? st : RLC_ERR_NOMEM;
    }
    return RLC_OK;
}

// Peak DRAM bandwidth in GB/s from the memory clock (kHz, double data rate)
// and the bus width; 0 when the runtime does not say.
static double peak_gbs(int device) {
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess)
        return 0;
    return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

static int bench(kc_ctx *c, int iters) {
    double peak = peak_gbs(kc_device(c));
    if (peak > 0)
        printf("peak DRAM bandwidth %.0f GB/s (memory clock x bus width)\n", peak);
    else
        printf("peak DRAM bandwidth: not reported by the runtime\n");
    printf("%-14s %-5s %-18s %10s %9s %7s\n", "shape", "dtype", "op", "us/call", "GB/s", "% peak");
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        for (int d = 0; d < 2; d++) {
            kc_dtype dt = d ? KC_BF16 : KC_F32;
            bench_bufs b;
            if (bufs_init(c, &b, dt, &shapes[si]) != RLC_OK) {
                fprintf(stderr, "bench_cuda_ops: %s %s: allocation failed: %s\n", shapes[si].model,
                        kc_dtype_name(dt), rlc_last_error());
                return 1;
            }
            for (int op = 0; op < OP_COUNT; op++) {
                for (int i = 0; i < WARMUP; i++) run_op(c, &b, (bench_op)op);
                rlc_status s = kc_sync(c);
                double t0 = now_s();
                for (int i = 0; i < iters; i++) run_op(c, &b, (bench_op)op);
                if (s == RLC_OK) s = kc_sync(c);
                double dt_s = (now_s() - t0) / iters;
                if (s != RLC_OK) {
                    fprintf(stderr, "bench_cuda_ops: %s: %s\n", op_names[op], rlc_last_error());
                    bufs_free(c, &b);
                    return 1;
                }
                double gbs = op_bytes(&b, (bench_op)op) / dt_s / 1e9;
                printf("%-14s %-5s %-18s %10.1f %9.1f", shapes[si].model, kc_dtype_name(dt), op_names[op],
                       dt_s * 1e6, gbs);
                if (peak > 0)
                    printf(" %6.1f%%\n", 100.0 * gbs / peak);
                else
                    printf(" %7s\n", "-");
            }
            bufs_free(c, &b);
        }
    }
    return 0;
}
#endif  // RLC_HAVE_CUDA

int main(int argc, char **argv) {
    int iters = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_cuda_ops [--iters N]\n");
            return 2;
        }
    }
    if (iters < 1) iters = 1;
#ifdef RLC_HAVE_CUDA
    kc_ctx *c = NULL;
    if (!kernels_cuda_compiled() || kc_open(0, &c) != RLC_OK) {
        printf("bench_cuda_ops: skipped: no CUDA device\n");
        return 0;
    }
    char desc[2048];
    int n_devices = 0;
    if (kernels_cuda_query(&n_devices, desc, sizeof desc) == RLC_OK) printf("%s", desc);
    int rc = bench(c, iters);
    kc_close(c);
    return rc;
#else
    (void)iters;
    printf("bench_cuda_ops: skipped: no CUDA device\n");
    return 0;
#endif
}
