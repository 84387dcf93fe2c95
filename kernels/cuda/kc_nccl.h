// kc_nccl.h: NCCL over the CUDA backend: one communicator per process (one
// rank, one device), set up from a dist_env (core/dist.h) with rank 0's
// unique id handed out by dist_rendezvous; in-place all-reduce of gradients
// and broadcast of weights, enqueued on the kc_ctx's stream.
//
// Plain C; the functions exist only in builds with RLC_HAVE_NCCL (CMake
// defines it, with RLC_HAVE_CUDA, when it finds NCCL >= 2.10).
#ifndef RLC_KC_NCCL_H
#define RLC_KC_NCCL_H

#include <stddef.h>  // size_t

#include "core/dist.h"            // dist_env
#include "core/status.h"          // rlc_status
#include "kernels/cuda/kcuda.h"   // kc_ctx, kc_dtype

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kc_comm kc_comm;

// Joins the communicator of e->world ranks as rank e->rank on c's device:
// rank 0 creates the NCCL unique id, dist_rendezvous hands it to every rank
// (timeout_ms bounds that step; < 0: no limit), then ncclCommInitRank, which
// blocks until every rank has called it. Every rank calls this collectively.
// Errors: dist_rendezvous's (RLC_ERR_LIMIT, RLC_ERR_CONFIG, ...) wrapped with
// the rank; RLC_ERR_CUDA naming the failing NCCL call and its message;
// RLC_ERR_NOMEM. Nothing is left on failure.
rlc_status kc_comm_init(kc_ctx *c, const dist_env *e, int timeout_ms, kc_comm **out);
// Destroys the communicator (ncclCommDestroy, after the work enqueued on it is
// done). NULL is fine. Call it on every rank.
void kc_comm_free(kc_comm *m);

int kc_comm_rank(const kc_comm *m);
int kc_comm_world(const kc_comm *m);

// ---- a group formed by hand: the weight group (rollout.weight_sync) --------

// A fresh NCCL unique id (ncclGetUniqueId) into id: *len bytes (128), cap
// must hold them. RLC_ERR_CUDA naming the NCCL call, RLC_ERR_ARG.
rlc_status kc_comm_unique_id(void *id, size_t cap, size_t *len);

// Joins the communicator of `world` ranks as `rank` on c's device with an id
// that rank 0 made (kc_comm_unique_id) and handed over some other way (the
// learner sends it to its rollout workers in a weight_group message). Every
// rank calls it; it returns once all have joined. The communicator is
// non-blocking (NCCL >= 2.14): the init, and kc_comm_wait later, give up
// after timeout_ms (< 0: no limit) and abort the communicator, so that a
// rank that never comes cannot hang the others. Older NCCL: a blocking
// init without a limit. Errors: RLC_ERR_LIMIT (timed out: the message says
// how many ranks were expected), RLC_ERR_CUDA (NCCL's message),
// RLC_ERR_ARG (rank outside [0, world), an id of the wrong size),
// RLC_ERR_NOMEM. Nothing is left on failure.
rlc_status kc_comm_init_rank(kc_ctx *c, int rank, int world, const void *id, size_t len, int timeout_ms,
                             kc_comm **out);

// Waits until the work enqueued on c's stream (a kc_broadcast) is done,
// at most timeout_ms (< 0: no limit), watching the communicator for errors
// (a peer that failed or vanished). On a communicator of kc_comm_init_rank,
// kc_broadcast may return while NCCL is still enqueueing (connecting to the
// peers): call kc_comm_wait before any other call on that communicator. On a timeout (RLC_ERR_LIMIT) or an NCCL
// error (RLC_ERR_CUDA) the communicator is aborted: every later call on it
// fails with RLC_ERR_STATE; kc_comm_free it. Also reports a failed launch
// recorded on the stream (kc_sync's errors).
rlc_status kc_comm_wait(kc_comm *m, kc_ctx *c, int timeout_ms);

// buf (count, dt), device memory on c's device, in place: the element-wise
// sum over the ranks, or the mean when `average` (NCCL's ncclAvg: each
// contribution is scaled by 1/world in the dtype before it is summed).
// KC_BF16 is reduced in bfloat16 by NCCL: with many ranks, prefer reducing
// float32 gradients. Enqueued on c's stream and returns at once: kc_sync (or
// any later call ordered on the stream) sees the result. Every rank calls it
// with the same count and dtype.
// Errors: RLC_ERR_CUDA with the NCCL message (the collective was not
// enqueued on this rank), RLC_ERR_ARG.
rlc_status kc_allreduce(kc_comm *m, kc_ctx *c, void *buf, size_t count, kc_dtype dt, int average);

// buf (bytes), device memory: root's bytes are copied to every rank's buf
// (the learner's flat weight buffer to the rollout ranks of its group).
// Asynchronous on c's stream like kc_allreduce; same errors, and
// RLC_ERR_STATE on a communicator that kc_comm_wait aborted.
rlc_status kc_broadcast(kc_comm *m, kc_ctx *c, void *buf, size_t bytes, int root);

#ifdef __cplusplus
}
#endif

#endif
