// server.h: the learner's side of the wire: a ROUTER that rollout workers
// connect to. It keeps a registry of workers (credit, held prompts,
// heartbeat, duplicate filter), sends queued prompt requests to workers with
// credit, collects trajectories into groups of n per prompt (acknowledging
// each, dropping duplicates), reissues the prompts of a worker that dies or
// reconnects without them, and publishes weights: as checksummed chunks over
// the socket, or through an in-process board. docs/protocol.md has the rules.
#ifndef RLC_LEARNER_SERVER_H
#define RLC_LEARNER_SERVER_H

#include <stdint.h>  // uint64_t

#include "core/board.h"     // rlc_board
#include "core/protocol.h"  // rlc_msg_prompt_request, rlc_msg_trajectory
#include "core/status.h"
#include "core/wsync.h"     // rlc_wsync_mode

// The learner's end of the NCCL weight group: rank 0, the source of the
// broadcast (learner/wgroup.h implements it over the GPU trainer's master
// weights; tests put a fake here). Every call may block up to timeout_ms and
// returns a status; after a failure the server calls leave and never uses
// that group again.
typedef struct lsrv_nccl_ops {
    // A fresh NCCL unique id: *len (<= cap) bytes into id.
    rlc_status (*make_id)(void *ctx, uint8_t *id, size_t cap, size_t *len);
    // Joins the group of `world` ranks as rank 0 (ncclCommInitRank: returns
    // once every member has joined, or fails after timeout_ms).
    rlc_status (*init)(void *ctx, const uint8_t *id, size_t len, int world, int timeout_ms);
    // Broadcasts the current weights, `bytes` of float32 laid out as
    // actor_params, to every member; returns once the broadcast completed.
    rlc_status (*broadcast)(void *ctx, size_t bytes, int timeout_ms);
    // Destroys (after a failure: aborts) the communicator. Always allowed.
    void (*leave)(void *ctx);
} lsrv_nccl_ops;

typedef struct lsrv_config {
    const char *endpoint;      // "inproc://learner", "tcp://*:5555", "tcp://127.0.0.1:0"
    void *zctx;                // zmq context (shared with inproc workers); NULL: own
    uint32_t vocab_size;       // token ids must be below it
    double heartbeat_s;        // default 1 s
    double timeout_s;          // a silent worker is dead after this (default 10 s)
    size_t weight_chunk_bytes; // default 16 MiB
    rlc_board *board;          // in-process weights: publish there instead of chunks
    rlc_wsync_mode weight_sync;        // rollout.weight_sync (board: ignored)
    const lsrv_nccl_ops *nccl;         // the learner's NCCL weight source; NULL: none (chunks only)
    void *nccl_ctx;                    // passed to nccl's calls
    double nccl_timeout_s;             // bounds each NCCL call (default timeout_s)
} lsrv_config;

#define LSRV_MAX_COMPONENTS 8

// One trajectory as the learner keeps it (copied out of the message).
typedef struct lsrv_traj {
    uint32_t sample_index;
    int32_t *tokens;    // (n) completion tokens
    float *logprobs;    // (n) behaviour log-probs
    int32_t *versions;  // (n) policy version of each token
    uint32_t n;
    double reward;
    rlc_finish_reason finish;
    double generate_s, reward_s, queue_s;
    char worker_id[RLC_PROTO_WORKER_ID_MAX + 1];
    int n_components;  // the reward's named parts (the first LSRV_MAX_COMPONENTS)
    struct {
        char name[48];
        double value;
    } components[LSRV_MAX_COMPONENTS];
} lsrv_traj;

// A prompt's n trajectories, complete.
typedef struct lsrv_group {
    uint64_t prompt_id;
    const int32_t *prompt;  // (n_prompt)
    uint32_t n_prompt;
    uint32_t n;
    lsrv_traj *trajs;       // (n), by sample index
} lsrv_group;

typedef struct lsrv lsrv;

rlc_status lsrv_create(const lsrv_config *cfg, lsrv **out);
void lsrv_free(lsrv *s);
const char *lsrv_endpoint(const lsrv *s);  // as bound (a tcp port 0 resolved)
void *lsrv_zctx(lsrv *s);                  // the zmq context (inproc peers must share it)

// Queues a request (copied) for the next worker with credit.
rlc_status lsrv_submit(lsrv *s, const rlc_msg_prompt_request *req);

// Receives for up to timeout_ms (0: only what is there), dispatches queued
// requests, acks, heartbeats, declares dead workers. Each group completed is
// passed to `done` (valid during the call only).
typedef void (*lsrv_group_fn)(void *ud, const lsrv_group *g);
rlc_status lsrv_poll(lsrv *s, int timeout_ms, lsrv_group_fn done, void *ud);

// Publishes a weight version: to the board, or as chunks to every live
// worker (and later to workers that say Hello with an older version).
// With an NCCL weight source (cfg.nccl, weight_sync not zmq), the first
// publish forms the weight group of the live workers that advertised
// RLC_PROTO_CAP_NCCL_WEIGHTS (a weight_group message to each, then the
// collective init); members then get a weights_nccl announce and the
// broadcast instead of chunks. The group is formed once: workers that join
// later or restart get chunks. An NCCL failure, or a member that dies or
// restarts, dissolves the group (logged with the members' ids; weight_group
// "leave" to each) and its members get chunks from then on; the server keeps
// serving, so such failures are not errors of this call.
rlc_status lsrv_publish(lsrv *s, int64_t version, const void *weights, size_t bytes);

// The path weights take to worker `worker_id` now: RLC_WSYNC_PATH_NCCL for a
// member of the weight group; -1 for a worker it does not know.
int lsrv_worker_path(const lsrv *s, const char *worker_id);

// Sends Shutdown to every worker.
void lsrv_shutdown(lsrv *s, const char *reason);

typedef struct lsrv_stats {
    int workers_alive, workers_dead;
    long long requests_sent, reissued, trajectories, duplicates, late, bad_messages;
    long long groups_done, queued, in_flight;
    double weight_bytes, weight_s;   // ZeroMQ chunks (and the board): bytes sent, seconds
    double nccl_bytes, nccl_s;       // NCCL broadcasts: bytes delivered (per member), seconds
    int nccl_members;                // workers in the NCCL weight group now
    long long nccl_failures;         // groups dissolved by a failure
} lsrv_stats;

void lsrv_get_stats(const lsrv *s, lsrv_stats *out);

#endif
