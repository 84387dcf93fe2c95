// worker.h: a rollout worker: the rollout engine behind a ZeroMQ DEALER.
// It says Hello (its credit: how many prompt requests it can hold), takes
// PromptRequests, generates and scores, and sends each Trajectory numbered
// per session, keeping it until the learner acknowledges it; it returns a
// Credit when a prompt's samples are all sent, exchanges heartbeats, and
// after the learner goes silent past the timeout it reconnects, says Hello
// again with the prompts it still holds and resends what was not
// acknowledged. New weights arrive as chunks (checked by XXH64) or, inside
// one process, from a weight board; they are swapped in between decode
// steps, and tokens sampled afterwards carry the new version.
// docs/protocol.md gives the rules both sides follow.
#ifndef RLC_ROLLOUT_WORKER_H
#define RLC_ROLLOUT_WORKER_H

#include <signal.h>  // sig_atomic_t

#include "core/board.h"  // rlc_board
#include "core/wsync.h"  // rlc_wsync_mode
#include "engine.h"

// The worker's end of the NCCL weight group (rollout.weight_sync). The
// default one (rollout/wgroup_gpu.c) receives into the GPU model's staging
// buffer; tests put a fake here. Every call may block up to timeout_ms.
typedef struct rollout_nccl_ops {
    // Joins group of `world` ranks as `rank` (ncclCommInitRank with the
    // learner's id); returns once every rank has joined.
    rlc_status (*init)(void *ctx, const uint8_t *id, size_t len, int rank, int world, int timeout_ms);
    // Receives rank 0's broadcast of `bytes` (float32 weights laid out as
    // actor_params) into the staging buffer; returns once it is complete.
    rlc_status (*receive)(void *ctx, size_t bytes, int timeout_ms);
    // Copies the staging buffer to host memory (to check the checksum).
    rlc_status (*download)(void *ctx, void *host, size_t bytes);
    // The staging buffer becomes the weights the model generates with.
    rlc_status (*install)(void *ctx);
    // Destroys (after a failure: aborts) the communicator. Always allowed.
    void (*leave)(void *ctx);
} rollout_nccl_ops;

typedef struct rollout_worker_config {
    const char *endpoint;    // the learner's ROUTER, e.g. "tcp://127.0.0.1:5555", "inproc://learner"
    const char *worker_id;   // also the DEALER identity
    void *zctx;              // a zmq context to share (inproc); NULL: the worker makes its own
    rlc_board *board;        // in-process weights (NULL: weights come as chunks)
    rollout_config engine;   // slots, max_seq, rewards
    int max_credit;          // prompt requests held at once
    double heartbeat_s;      // send a heartbeat this often (default 1 s)
    double timeout_s;        // learner silent this long: reconnect (default 10 s)
    const char *device;      // where the model generates: "cpu" (NULL: "cpu"), "cuda" or "cuda:N"
                             // (model.device); reported in Hello
    int gpu_bf16;            // on a CUDA device: 1 bf16 weights and KV cache, 0 float32 (model.dtype)
    rlc_wsync_mode weight_sync;  // rollout.weight_sync: whether to offer NCCL weight sync in Hello
    const rollout_nccl_ops *nccl;  // NULL: the GPU model's (a CUDA device in a build with NCCL), else none
    void *nccl_ctx;          // passed to nccl's calls
    int nccl_verify;         // check each broadcast against the announced XXH64 (a copy to the host)
} rollout_worker_config;

typedef struct rollout_worker rollout_worker;

// Borrows the model and tokenizer (the model's weights are swapped in place
// as new versions arrive). Connects nothing yet. On a CUDA device the worker
// copies the model into an actor_gpu_model of engine.n_slots slots of
// engine.max_seq positions, generates with it, and uploads each new weight
// version to it as well: RLC_ERR_CONFIG for a bad device name,
// RLC_ERR_UNSUPPORTED in a build without CUDA, RLC_ERR_CUDA when the device
// cannot be opened (the message names it), RLC_ERR_NOMEM for device memory.
// weight_sync "nccl" where the worker cannot take part (not on a CUDA device,
// or no NCCL in the build, and no cfg.nccl): RLC_ERR_CONFIG naming
// rollout.weight_sync. Otherwise the worker offers RLC_PROTO_CAP_NCCL_WEIGHTS
// in its Hello when it can (and weight_sync is not "zmq"); when the learner
// invites it into the weight group, versions arrive by broadcast (a
// weights_nccl announce, then the broadcast into the staging buffer, swapped
// in between decode steps). An NCCL failure is logged, the worker leaves the
// group, and weights come as chunks again (always accepted).
rlc_status rollout_worker_create(actor_model *m, const tok_tokenizer *tk, const rollout_worker_config *cfg,
                                 rollout_worker **out);
void rollout_worker_free(rollout_worker *w);

// Serves until the learner sends Shutdown or *stop becomes non-zero (a signal
// handler may set it). Bad messages are logged and counted, never fatal.
rlc_status rollout_worker_run(rollout_worker *w, volatile sig_atomic_t *stop);

typedef struct rollout_worker_stats {
    rollout_stats engine;
    long long sent, resent, acked, credits_returned, reconnects, bad_messages, versions;
    double weight_bytes, weight_s;  // weights received as chunks or from the board (bytes) and the time spent
    double nccl_bytes, nccl_s;      // weights received by NCCL broadcast, and the time (receive + swap)
    long long nccl_versions, nccl_failures;  // versions installed from a broadcast; NCCL failures
    int nccl_group;                 // in an NCCL weight group now
} rollout_worker_stats;

void rollout_worker_get_stats(const rollout_worker *w, rollout_worker_stats *out);

#endif
