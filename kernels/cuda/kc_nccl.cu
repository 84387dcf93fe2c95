// kc_nccl.cu: the NCCL communicator behind kc_nccl.h: unique id through
// dist_rendezvous, ncclCommInitRank on the context's device, all-reduce and
// broadcast on the context's stream, and the NCCL check macro.
#include <nccl.h>    // ncclComm_t, ncclAllReduce, ncclBroadcast
#include <stdlib.h>  // calloc, free
#include <string.h>  // memset, memcpy
#include <time.h>    // clock_gettime, nanosleep

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
    int nonblocking;  // made by kc_comm_init_rank with config.blocking = 0
    int aborted;      // kc_comm_wait gave up on it: comm is gone
};

// NCCL >= 2.14: non-blocking communicators (ncclConfig_t.blocking,
// ncclCommGetAsyncError), so that waits can time out and abort.
#if NCCL_VERSION_CODE >= 21400
#define KC_NCCL_NONBLOCKING 1
#else
#define KC_NCCL_NONBLOCKING 0
#endif

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void nap(void) {
    struct timespec ts = {0, 50 * 1000};  // 50 us: a broadcast of 1 GB takes tens of ms
    nanosleep(&ts, NULL);
}

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

extern "C" rlc_status kc_comm_unique_id(void *id, size_t cap, size_t *len) {
    if (!id || !len || cap < sizeof(ncclUniqueId))
        return rlc_errorf(RLC_ERR_ARG, "kc_comm_unique_id: room for %zu bytes needed", sizeof(ncclUniqueId));
    ncclUniqueId u;
    ncclComm_t none = NULL;
    NCCL_CHECK(none, ncclGetUniqueId(&u));
    memcpy(id, &u, sizeof u);
    *len = sizeof u;
    return RLC_OK;
}

#if KC_NCCL_NONBLOCKING
// Polls a non-blocking communicator until its pending operation (the init,
// or enqueueing a collective) is no longer in progress. On a timeout or an
// error the communicator is aborted and m->comm cleared.
static rlc_status settle(kc_comm *m, double deadline, const char *what) {
    ncclResult_t state = ncclInProgress;
    for (;;) {
        ncclResult_t r = ncclCommGetAsyncError(m->comm, &state);
        if (r != ncclSuccess) state = r;
        if (state != ncclInProgress) break;
        if (deadline > 0 && mono_now() > deadline) break;
        nap();
    }
    if (state == ncclSuccess) return RLC_OK;
    const char *detail = nccl_detail(m->comm);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", detail);
    ncclCommAbort(m->comm);
    m->comm = NULL;
    m->aborted = 1;
    if (state == ncclInProgress)
        return rlc_errorf(RLC_ERR_LIMIT, "%s on cuda:%d (rank %d of %d): timed out; communicator aborted", what,
                          m->device, m->rank, m->world);
    return rlc_errorf(RLC_ERR_CUDA, "%s on cuda:%d (rank %d of %d): %s%s%s; communicator aborted", what, m->device,
                      m->rank, m->world, ncclGetErrorString(state), msg[0] ? ": " : "", msg);
}
#endif

extern "C" rlc_status kc_comm_init_rank(kc_ctx *c, int rank, int world, const void *id, size_t len, int timeout_ms,
                                        kc_comm **out) {
    *out = NULL;
    if (!c || !id) return rlc_errorf(RLC_ERR_ARG, "kc_comm_init_rank: NULL context or id");
    if (len != sizeof(ncclUniqueId))
        return rlc_errorf(RLC_ERR_ARG, "kc_comm_init_rank: an NCCL unique id is %zu bytes, got %zu",
                          sizeof(ncclUniqueId), len);
    if (world < 1 || rank < 0 || rank >= world)
        return rlc_errorf(RLC_ERR_ARG, "kc_comm_init_rank: rank %d of world %d", rank, world);
    CUDA_CHECK(cudaSetDevice(c->device));
    kc_comm *m = (kc_comm *)calloc(1, sizeof *m);
    if (!m) return rlc_errorf(RLC_ERR_NOMEM, "kc_comm_init_rank: out of memory");
    m->rank = rank, m->world = world, m->device = c->device;
    ncclUniqueId u;
    memcpy(&u, id, sizeof u);
    ncclComm_t none = NULL;
#if KC_NCCL_NONBLOCKING
    double deadline = timeout_ms >= 0 ? mono_now() + timeout_ms / 1000.0 : 0;
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&m->comm, world, u, rank, &config);
    if (r != ncclSuccess && r != ncclInProgress) {
        if (m->comm) ncclCommAbort(m->comm);
        free(m);
        NCCL_CHECK(none, r);
    }
    rlc_status s = settle(m, deadline, "ncclCommInitRankConfig");
    if (s != RLC_OK) {
        free(m);  // settle aborted the communicator
        return rlc_error_wrap(s, "NCCL group of %d ranks", world);
    }
    m->nonblocking = 1;
#else
    (void)timeout_ms;
    ncclResult_t r = ncclCommInitRank(&m->comm, world, u, rank);
    if (r != ncclSuccess) {
        free(m);
        NCCL_CHECK(none, r);
    }
#endif
    *out = m;
    return RLC_OK;
}

#if KC_NCCL_NONBLOCKING
// Aborts the communicator after a failure seen while waiting.
static rlc_status wait_failed(kc_comm *m, kc_ctx *c, ncclResult_t state, int timeout_ms) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nccl_detail(m->comm));
    ncclCommAbort(m->comm);  // the collective's kernels return, the stream drains
    m->comm = NULL;
    m->aborted = 1;
    cudaStreamSynchronize(c->stream);
    if (state == ncclSuccess || state == ncclInProgress)
        return rlc_errorf(RLC_ERR_LIMIT, "NCCL on cuda:%d (rank %d of %d): no completion within %d ms (a peer that "
                          "never joined the collective?); communicator aborted", m->device, m->rank, m->world,
                          timeout_ms);
    return rlc_errorf(RLC_ERR_CUDA, "NCCL on cuda:%d (rank %d of %d): %s%s%s; communicator aborted", m->device, m->rank,
                      m->world, ncclGetErrorString(state), msg[0] ? ": " : "", msg);
}
#endif

extern "C" rlc_status kc_comm_wait(kc_comm *m, kc_ctx *c, int timeout_ms) {
    if (!m || !c) return rlc_errorf(RLC_ERR_ARG, "kc_comm_wait: NULL communicator or context");
    if (m->aborted) return rlc_errorf(RLC_ERR_STATE, "kc_comm_wait: the communicator was aborted");
    CUDA_CHECK(cudaSetDevice(c->device));
#if KC_NCCL_NONBLOCKING
    if (m->nonblocking) {
        double deadline = timeout_ms >= 0 ? mono_now() + timeout_ms / 1000.0 : 0;
        // 1. The enqueue (kc_broadcast may have returned while NCCL was still
        //    connecting to the peers): until then the stream may not hold the work.
        ncclResult_t state = ncclInProgress;
        for (;;) {
            ncclResult_t r = ncclCommGetAsyncError(m->comm, &state);
            if (r != ncclSuccess) state = r;
            if (state != ncclInProgress) break;
            if (deadline > 0 && mono_now() > deadline) return wait_failed(m, c, state, timeout_ms);
            nap();
        }
        if (state != ncclSuccess) return wait_failed(m, c, state, timeout_ms);
        // 2. The stream, watching for errors from the peers.
        for (;;) {
            cudaError_t e = cudaStreamQuery(c->stream);
            if (e == cudaSuccess) break;
            if (e != cudaErrorNotReady) CUDA_CHECK(e);
            ncclResult_t r = ncclCommGetAsyncError(m->comm, &state);
            if (r != ncclSuccess) state = r;
            if ((state != ncclSuccess && state != ncclInProgress) || (deadline > 0 && mono_now() > deadline))
                return wait_failed(m, c, state, timeout_ms);
            nap();
        }
        return kc_sync(c);
    }
#endif
    (void)timeout_ms;  // a blocking communicator: no bound
    return kc_sync(c);
}

extern "C" void kc_comm_free(kc_comm *m) {
    if (!m) return;
#if KC_NCCL_NONBLOCKING
    if (m->comm && m->nonblocking) {  // finalize, bounded: a hung peer must not hang the free
        cudaSetDevice(m->device);
        ncclResult_t state = ncclCommFinalize(m->comm);
        double deadline = mono_now() + 10.0;
        while (state == ncclInProgress && mono_now() < deadline) {
            nap();
            if (ncclCommGetAsyncError(m->comm, &state) != ncclSuccess) break;
        }
        if (state != ncclSuccess) {
            ncclCommAbort(m->comm);
            m->comm = NULL;
        }
    }
#endif
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
    if (m->aborted) return rlc_errorf(RLC_ERR_STATE, "%s: the communicator was aborted after an earlier failure", what);
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
    ncclResult_t r = ncclBroadcast(buf, buf, bytes, ncclUint8, root, m->comm, c->stream);
#if KC_NCCL_NONBLOCKING
    if (m->nonblocking && r == ncclInProgress) return RLC_OK;  // still being enqueued: kc_comm_wait finishes it
#endif
    NCCL_CHECK(m->comm, r);
    return RLC_OK;
}
