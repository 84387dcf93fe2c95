// kc_nccl.cu: the NCCL communicator behind kc_nccl.h: unique id through
// dist_rendezvous, ncclCommInitRank on the context's device, all-reduce and
// broadcast on the context's stream, and the NCCL check macro.
#include <nccl.h>    // ncclComm_t, ncclAllReduce, ncclBroadcast
#include <stdlib.h>  // calloc, free
#include <string.h>  // memset

#include "kc_internal.cuh"  // kc_ctx (device, stream), CUDA_CHECK
#include "kc_nccl.h"

#if NCCL_VERSION_CODE < 21000
#error "kc_nccl.cu needs NCCL >= 2.10 (ncclAvg, ncclBfloat16)"
#endif

// NCCL's detail on the last failure of `comm` (NCCL >= 2.13), or "".
static const char *nccl_detail(ncclComm_t comm) {
#if NCCL_VERSION_CODE >= 21300
    const char *d = comm ? ncclGetLastError(comm) : NULL;
    return d ? d : "";
#else
    (void)comm;
    return "";
#endif
}

// Like CUDA_CHECK for an ncclResult_t: the statement, file:line, device, NCCL's
// message and, when there is a communicator, its last error detail.
#define NCCL_CHECK(comm, stmt)                                                                   \
    do {                                                                                         \
        ncclResult_t nccl_check_r_ = (stmt);                                                     \
        if (nccl_check_r_ != ncclSuccess)                                                        \
            return rlc_errorf(RLC_ERR_CUDA, "%s failed at %s:%d on device %d: %s%s%s", #stmt,     \
                              __FILE__, __LINE__, cuda_current_device(),                         \
                              ncclGetErrorString(nccl_check_r_), nccl_detail(comm)[0] ? ": " : "", \
                              nccl_detail(comm));                                                \
    } while (0)

struct kc_comm {
    ncclComm_t comm;
    int rank, world, device;
};

// ncclUniqueId travels as its raw bytes: it is an opaque blob by NCCL's contract.
static rlc_status comm_init(kc_comm *m, kc_ctx *c, const dist_env *e, int timeout_ms) {
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    ncclComm_t none = NULL;
    if (e->rank == 0) NCCL_CHECK(none, ncclGetUniqueId(&id));
    rlc_status s = dist_rendezvous(e, &id, sizeof id, timeout_ms);
    if (s != RLC_OK) return rlc_error_wrap(s, "kc_comm_init rank %d of %d on cuda:%d", e->rank, e->world, c->device);
    CUDA_CHECK(cudaSetDevice(c->device));
    ncclComm_t comm = NULL;
    NCCL_CHECK(none, ncclCommInitRank(&comm, e->world, id, e->rank));
    m->comm = comm;
    return RLC_OK;
}

extern "C" rlc_status kc_comm_init(kc_ctx *c, const dist_env *e, int timeout_ms, kc_comm **out) {
    *out = NULL;
    if (!c || !e) return rlc_errorf(RLC_ERR_ARG, "kc_comm_init: NULL context or env");
    kc_comm *m = (kc_comm *)calloc(1, sizeof *m);
    if (!m) return rlc_errorf(RLC_ERR_NOMEM, "kc_comm_init: out of memory");
    m->rank = e->rank, m->world = e->world, m->device = c->device;
    rlc_status s = comm_init(m, c, e, timeout_ms);
    if (s != RLC_OK) {
        kc_comm_free(m);
        return s;
    }
    *out = m;
    return RLC_OK;
}

extern "C" void kc_comm_free(kc_comm *m) {
    if (!m) return;
    if (m->comm) {
        cudaSetDevice(m->device);
        ncclCommDestroy(m->comm);
    }
    free(m);
}

extern "C" int kc_comm_rank(const kc_comm *m) { return m->rank; }
extern "C" int kc_comm_world(const kc_comm *m) { return m->world; }

static rlc_status check_call(const kc_comm *m, const kc_ctx *c, const void *buf, const char *what) {
    if (!m || !c || !buf) return rlc_errorf(RLC_ERR_ARG, "%s: NULL communicator, context or buffer", what);
    if (c->device != m->device)
        return rlc_errorf(RLC_ERR_ARG, "%s: the context is on cuda:%d, the communicator on cuda:%d", what, c->device,
                          m->device);
    return RLC_OK;
}

extern "C" rlc_status kc_allreduce(kc_comm *m, kc_ctx *c, void *buf, size_t count, kc_dtype dt, int average) {
    RLC_TRY(check_call(m, c, buf, "kc_allreduce"));
    if (dt != KC_F32 && dt != KC_BF16) return rlc_errorf(RLC_ERR_ARG, "kc_allreduce: unknown dtype %d", (int)dt);
    ncclDataType_t t = dt == KC_BF16 ? ncclBfloat16 : ncclFloat32;
    NCCL_CHECK(m->comm, ncclAllReduce(buf, buf, count, t, average ? ncclAvg : ncclSum, m->comm, c->stream));
    return RLC_OK;
}

extern "C" rlc_status kc_broadcast(kc_comm *m, kc_ctx *c, void *buf, size_t bytes, int root) {
    RLC_TRY(check_call(m, c, buf, "kc_broadcast"));
    if (root < 0 || root >= m->world)
        return rlc_errorf(RLC_ERR_ARG, "kc_broadcast: root %d is not a rank of %d", root, m->world);
    NCCL_CHECK(m->comm, ncclBroadcast(buf, buf, bytes, ncclUint8, root, m->comm, c->stream));
    return RLC_OK;
}
