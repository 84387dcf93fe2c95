// wgroup_gpu.c: NCCL weight sync into the GPU model (wgroup_gpu.h).
#include "wgroup_gpu.h"

#include "core/core.h"  // rlc_calloc, rlc_errorf
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"  // kc_comm_init_rank, kc_broadcast, kc_comm_wait
#endif

typedef struct {
    actor_gpu_model *g;
    void *comm;  // kc_comm *; NULL outside a group
} wgroup_gpu;

#ifdef RLC_HAVE_NCCL

static void leave(void *ctx) {
    wgroup_gpu *w = ctx;
    kc_comm_free(w->comm);
    w->comm = NULL;
}

static rlc_status init(void *ctx, const uint8_t *id, size_t len, int rank, int world, int timeout_ms) {
    wgroup_gpu *w = ctx;
    leave(w);
    void *kc;
    float *staging;
    RLC_TRY(actor_gpu_model_staging(w->g, &kc, &staging, NULL));  // allocated now, before the first version
    kc_comm *c = NULL;
    RLC_TRY(kc_comm_init_rank(kc, rank, world, id, len, timeout_ms, &c));
    w->comm = c;
    return RLC_OK;
}

static rlc_status receive(void *ctx, size_t bytes, int timeout_ms) {
    wgroup_gpu *w = ctx;
    if (!w->comm) return rlc_errorf(RLC_ERR_STATE, "weight group: no communicator");
    void *kc;
    float *staging;
    size_t n;
    RLC_TRY(actor_gpu_model_staging(w->g, &kc, &staging, &n));
    if (bytes != n * sizeof(float))
        return rlc_errorf(RLC_ERR_ARG, "weight group: a broadcast of %zu bytes, the model holds %zu", bytes,
                          n * sizeof(float));
    // Ordered on the model's stream after the last decode step: the copy is
    // all that generation waits for.
    RLC_TRY(kc_broadcast(w->comm, kc, staging, bytes, 0));
    return kc_comm_wait(w->comm, kc, timeout_ms);
}

static rlc_status download(void *ctx, void *host, size_t bytes) {
    wgroup_gpu *w = ctx;
    void *kc;
    float *staging;
    size_t n;
    RLC_TRY(actor_gpu_model_staging(w->g, &kc, &staging, &n));
    if (bytes > n * sizeof(float)) return rlc_errorf(RLC_ERR_ARG, "weight group: %zu bytes asked of %zu", bytes, n * sizeof(float));
    return kc_download(kc, host, staging, bytes);
}

static rlc_status install(void *ctx) { return actor_gpu_model_load_staging(((wgroup_gpu *)ctx)->g); }

rlc_status rollout_wgroup_gpu_create(actor_gpu_model *g, void **ctx) {
    *ctx = NULL;
    if (!g) return rlc_errorf(RLC_ERR_UNSUPPORTED, "the worker generates on the CPU (model.device / --device)");
    wgroup_gpu *w = rlc_calloc(1, sizeof *w);
    if (!w) return rlc_errorf(RLC_ERR_NOMEM, "weight group");
    w->g = g;
    *ctx = w;
    return RLC_OK;
}

void rollout_wgroup_gpu_free(void *ctx) {
    if (!ctx) return;
    leave(ctx);
    rlc_free(ctx);
}

#else  // !RLC_HAVE_NCCL

static rlc_status no_nccl(void) {
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "this build has no NCCL (configure with -DRLC_CUDA=ON where NCCL >= 2.10 "
                      "is installed)");
}
static void leave(void *ctx) { (void)ctx; }
static rlc_status init(void *ctx, const uint8_t *id, size_t len, int rank, int world, int timeout_ms) {
    (void)ctx, (void)id, (void)len, (void)rank, (void)world, (void)timeout_ms;
    return no_nccl();
}
static rlc_status receive(void *ctx, size_t bytes, int timeout_ms) {
    (void)ctx, (void)bytes, (void)timeout_ms;
    return no_nccl();
}
static rlc_status download(void *ctx, void *host, size_t bytes) {
    (void)ctx, (void)host, (void)bytes;
    return no_nccl();
}
static rlc_status install(void *ctx) {
    (void)ctx;
    return no_nccl();
}

rlc_status rollout_wgroup_gpu_create(actor_gpu_model *g, void **ctx) {
    *ctx = NULL;
    return g ? no_nccl() : rlc_errorf(RLC_ERR_UNSUPPORTED, "the worker generates on the CPU (model.device / --device)");
}

void rollout_wgroup_gpu_free(void *ctx) { rlc_free(ctx); }

#endif

static const rollout_nccl_ops ops = {init, receive, download, install, leave};

const rollout_nccl_ops *rollout_wgroup_gpu_ops(void) { return &ops; }
