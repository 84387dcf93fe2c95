// wgroup.c: the learner's NCCL weight source: a communicator of its own
// (rank 0; the data-parallel one of learner/dp.h is another), made with
// kc_comm_init_rank from an id the server hands to the workers, and
// kc_broadcast of the GPU trainer's master weights, waited for with a bound
// (kc_comm_wait aborts the communicator when a member never comes).
#include "wgroup.h"

#include "actor/gpu_train.h"  // actor_gpu_params_device
#include "core/core.h"        // rlc_calloc, rlc_errorf
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"  // kc_comm_init_rank, kc_broadcast, kc_comm_wait
#endif

struct lrn_wgroup {
    grpo_trainer *t;
    void *comm;  // kc_comm *: the current group's communicator; NULL when none
};

#ifdef RLC_HAVE_NCCL

static rlc_status make_id(void *ctx, uint8_t *id, size_t cap, size_t *len) {
    (void)ctx;
    return kc_comm_unique_id(id, cap, len);
}

static void leave(void *ctx) {
    lrn_wgroup *g = ctx;
    kc_comm_free(g->comm);
    g->comm = NULL;
}

static rlc_status init(void *ctx, const uint8_t *id, size_t len, int world, int timeout_ms) {
    lrn_wgroup *g = ctx;
    leave(g);
    void *kc;
    const float *master;
    RLC_TRY(actor_gpu_params_device(grpo_trainer_gpu(g->t), &kc, &master));
    kc_comm *c = NULL;
    RLC_TRY(kc_comm_init_rank(kc, 0, world, id, len, timeout_ms, &c));
    g->comm = c;
    return RLC_OK;
}

static rlc_status broadcast(void *ctx, size_t bytes, int timeout_ms) {
    lrn_wgroup *g = ctx;
    if (!g->comm) return rlc_errorf(RLC_ERR_STATE, "weight group: no communicator");
    actor_gpu_trainer *gt = grpo_trainer_gpu(g->t);
    void *kc;
    const float *master;
    RLC_TRY(actor_gpu_params_device(gt, &kc, &master));
    if (bytes != actor_gpu_numel(gt) * sizeof(float))
        return rlc_errorf(RLC_ERR_ARG, "weight group: %zu bytes to broadcast, the trainer holds %zu", bytes,
                          actor_gpu_numel(gt) * sizeof(float));
    // rank 0 only reads its buffer (NCCL's in-place broadcast at the root).
    RLC_TRY(kc_broadcast(g->comm, kc, (void *)master, bytes, 0));
    return kc_comm_wait(g->comm, kc, timeout_ms);
}

static const lsrv_nccl_ops ops = {make_id, init, broadcast, leave};

rlc_status lrn_wgroup_create(grpo_trainer *t, lrn_wgroup **out) {
    *out = NULL;
    if (!grpo_trainer_gpu(t))
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "the learner trains on the CPU (model.device)");
    lrn_wgroup *g = rlc_calloc(1, sizeof *g);
    if (!g) return rlc_errorf(RLC_ERR_NOMEM, "weight group");
    g->t = t;
    *out = g;
    return RLC_OK;
}

void lrn_wgroup_free(lrn_wgroup *g) {
    if (!g) return;
    leave(g);
    rlc_free(g);
}

#else  // !RLC_HAVE_NCCL

static rlc_status no_nccl(void) {
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "this build has no NCCL (configure with -DRLC_CUDA=ON where NCCL >= 2.10 "
                      "is installed)");
}
static rlc_status make_id(void *ctx, uint8_t *id, size_t cap, size_t *len) {
    (void)ctx, (void)id, (void)cap;
    *len = 0;
    return no_nccl();
}
static rlc_status init(void *ctx, const uint8_t *id, size_t len, int world, int timeout_ms) {
    (void)ctx, (void)id, (void)len, (void)world, (void)timeout_ms;
    return no_nccl();
}
static rlc_status broadcast(void *ctx, size_t bytes, int timeout_ms) {
    (void)ctx, (void)bytes, (void)timeout_ms;
    return no_nccl();
}
static void leave(void *ctx) { (void)ctx; }
static const lsrv_nccl_ops ops = {make_id, init, broadcast, leave};

rlc_status lrn_wgroup_create(grpo_trainer *t, lrn_wgroup **out) {
    (void)t;
    *out = NULL;
    return grpo_trainer_gpu(t) ? no_nccl() : rlc_errorf(RLC_ERR_UNSUPPORTED, "the learner trains on the CPU (model.device)");
}

void lrn_wgroup_free(lrn_wgroup *g) { rlc_free(g); }

#endif

const lsrv_nccl_ops *lrn_wgroup_ops(void) { return &ops; }
