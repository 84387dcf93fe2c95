// dp.h: data-parallel learner ranks. `world` learner processes hold the same
// weights; each computes the gradient of its share of a step's micro-batches
// and the gradients are summed over the ranks before the (identical) AdamW
// step. An lrn_dp is the group's handle: the sum (all-reduce) and rank 0's
// broadcast (the step's data, the initial weights). world 1 is a group of
// one: every call returns at once and leaves the buffers alone.
//
// Transport. On the CPU, ZeroMQ over tcp: rank 0 binds a ROUTER on
// tcp://*:(MASTER_PORT + 1) (lrn_dp_config.port overrides), every other rank
// connects a DEALER to MASTER_ADDR there. The sum goes chunk by chunk: each
// rank sends its chunk, rank 0 adds the chunks in rank order,
// ((x0 + x1) + x2) + ..., and sends the sum back; so the result has the same
// bits on every rank and for every arrival order, and a rank's memory for it
// is one chunk per peer. For device buffers (lrn_dp_allreduce_device, a
// learner on cuda) the sum is NCCL's (kernels/cuda/kc_nccl.h), in builds
// with RLC_HAVE_NCCL; its communicator is set up on first use (rendezvous
// on MASTER_PORT), and the ZeroMQ group still carries the broadcasts.
//
// Wire format (version 1). Every message is one ZeroMQ frame: a 32-byte
// header, integers little-endian, then the payload:
//
//     offset size field
//     0      4    magic "RLCP"
//     4      2    version (1)
//     6      2    type: 1 HELLO, 2 WELCOME, 3 PART, 4 SUM, 5 BCAST, 6 PING, 7 ABORT
//     8      4    rank of the sender (0 for rank 0's messages)
//     12     4    world
//     16     8    sequence number of the collective (1, 2, ... on every rank)
//     24     8    offset in elements (PART, SUM) or bytes (BCAST) of the chunk
//
//   HELLO   rank -> 0: no payload; WELCOME 0 -> rank: every rank joined.
//   PART    rank -> 0: the rank's chunk (float32 or float64, host order).
//   SUM     0 -> rank: the chunk's sum.  BCAST 0 -> rank: a chunk of bytes.
//   PING    0 -> rank: rank 0 is alive and busy (collecting rollouts).
//   ABORT   0 -> rank: rank 0 failed; the payload is its message (text).
//
// Timeouts: a collective waits at most timeout_ms for each message from a
// peer; a peer that is gone (its connection closed, or silent that long)
// fails the call with RLC_ERR_LIMIT naming its rank. A rank waiting for
// rank 0's next broadcast (lrn_dp_broadcast with wait_idle) also accepts
// PINGs as signs of life, so rank 0 may spend longer than timeout_ms between
// steps as long as it calls lrn_dp_ping. Every rank calls the collectives in
// the same order with the same sizes. After an error the group is unusable
// (lrn_dp_free it); rank 0 tells the others (ABORT) so they fail at once.
#ifndef RLC_LEARNER_DP_H
#define RLC_LEARNER_DP_H

#include <stddef.h>  // size_t

#include "core/dist.h"    // dist_env
#include "core/status.h"  // rlc_status

typedef struct lrn_dp lrn_dp;

typedef struct lrn_dp_config {
    int timeout_ms;     // per message from a peer (and to join); <= 0: RLC_DP_TIMEOUT_S or 600 s
    size_t chunk;       // elements per all-reduce message (bytes / 4 per broadcast one); 0: 1 Mi
    int port;           // rank 0's port; 0: MASTER_PORT + 1
} lrn_dp_config;

// Joins the group of e->world ranks as rank e->rank (every rank calls it;
// it returns once all have joined). c may be NULL (the defaults). world 1
// opens nothing. With c->timeout_ms <= 0 the timeout (joining included) is
// RLC_DP_TIMEOUT_S seconds from the environment when set, else 600 s.
// Errors: RLC_ERR_LIMIT (rank 0: names the ranks that never said hello;
// another rank: rank 0 did not answer at its endpoint), RLC_ERR_CONFIG (a
// peer of another world, a rank twice, MASTER_ADDR / MASTER_PORT missing),
// RLC_ERR_BAD_MESSAGE (another version), RLC_ERR_IO (bind / connect failed:
// names the endpoint), RLC_ERR_NOMEM. Nothing stays open on error.
rlc_status lrn_dp_create(const dist_env *e, const lrn_dp_config *c, lrn_dp **out);
void lrn_dp_free(lrn_dp *d);  // NULL is fine; closes the sockets

int lrn_dp_rank(const lrn_dp *d);   // 0 for NULL
int lrn_dp_world(const lrn_dp *d);  // 1 for NULL

// buf (n) in place: the element-wise sum over the ranks, added in rank
// order by rank 0. Errors (buf is then partly summed): RLC_ERR_LIMIT naming
// a peer that is gone or silent, RLC_ERR_STATE (rank 0 aborted, its message
// quoted; or the group failed before), RLC_ERR_BAD_MESSAGE naming the peer
// (a chunk of the wrong size, collective or type), RLC_ERR_NOMEM.
rlc_status lrn_dp_allreduce_sum(lrn_dp *d, float *buf, size_t n);
rlc_status lrn_dp_allreduce_sum_f64(lrn_dp *d, double *buf, size_t n);

// The same on a device buffer (float32, `n` values) of CUDA context kc
// (a kc_ctx *; void here so that this header needs no CUDA): NCCL's sum,
// enqueued on kc's stream. RLC_ERR_UNSUPPORTED in builds without NCCL (the
// message says so), RLC_ERR_CUDA from NCCL, the rendezvous' errors the
// first time.
rlc_status lrn_dp_allreduce_device(lrn_dp *d, void *kc, float *dev_buf, size_t n);

// bytes of buf from rank 0 to every rank (read on rank 0, written on the
// others). wait_idle: the call may wait indefinitely for rank 0's first
// chunk as long as rank 0 pings (a rank between steps); else timeout_ms
// applies as everywhere. Errors as lrn_dp_allreduce_sum.
rlc_status lrn_dp_broadcast(lrn_dp *d, void *buf, size_t bytes, int wait_idle);

// Rank 0, while it does something long between collectives: tells every
// rank that it is alive (sent at most once a second; cheap to call often).
// Does nothing on other ranks and in a group of one.
void lrn_dp_ping(lrn_dp *d);

// Rank 0: tells every rank that it failed (msg, best effort), so that their
// waits end with RLC_ERR_STATE quoting it. The group is unusable afterwards.
void lrn_dp_abort(lrn_dp *d, const char *msg);

#endif
