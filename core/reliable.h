// reliable.h: small reusable pieces for reliable delivery over the protocol;
// the policy (when to send, what to do on a timeout) stays with the learner
// and the worker. docs/protocol.md ("Flow control, acks, resends, heartbeats")
// says how they fit together.
//
//   rlc_resend_ring  worker side: encoded trajectories kept until acknowledged,
//                    so they can be sent again after a reconnect or a timeout.
//   rlc_dedup        learner side, one per worker session: drops duplicate
//                    sequence numbers and says what to acknowledge.
//   rlc_heartbeat    both sides: when to send a heartbeat, when the peer is dead.
//   rlc_weights_rx   worker side: assembles weight chunks into a buffer and
//                    checks the whole-buffer checksum.
#ifndef RLC_RELIABLE_H
#define RLC_RELIABLE_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t

#include "protocol.h"  // rlc_msg_weights
#include "status.h"    // rlc_status

#ifdef __cplusplus
extern "C" {
#endif

// ---- resend ring ---------------------------------------------------------------
// Holds copies of encoded messages numbered 1, 2, 3, ... until they are
// acknowledged. Bounded by a count and a byte budget: when full, push fails
// and the caller stops producing until acks arrive (that bound is what keeps a
// worker's memory finite when the learner is away). Each slot keeps its buffer
// across reuse, so a steady stream stops allocating.

typedef struct rlc_resend_ring rlc_resend_ring;

typedef struct {
    uint64_t seq;
    const uint8_t *data;  // borrowed from the ring: valid until the entry is acked or the ring freed
    size_t len;
    double sent_at;       // the time given to push or mark_sent
    uint32_t sends;       // how many times it was sent
} rlc_resend_entry;

// max_entries >= 1 messages and max_bytes >= 1 bytes in flight at most.
rlc_status rlc_resend_ring_create(uint32_t max_entries, size_t max_bytes, rlc_resend_ring **out);
void rlc_resend_ring_free(rlc_resend_ring *r);
// The sequence number the next pushed message must carry (1 for a new ring).
uint64_t rlc_resend_ring_next_seq(const rlc_resend_ring *r);
// Copies the encoded message `seq` (must be next_seq) sent at `now`.
// RLC_ERR_LIMIT when the ring is full (nothing changed: wait for acks),
// RLC_ERR_ARG for a wrong seq, RLC_ERR_NOMEM.
rlc_status rlc_resend_ring_push(rlc_resend_ring *r, uint64_t seq, const void *data, size_t len, double now);
// Applies an Ack: every seq <= cumulative and each of seqs[0..n) is released.
// Acks for seqs not held are ignored. Returns how many entries were released.
uint32_t rlc_resend_ring_ack(rlc_resend_ring *r, uint64_t cumulative, const uint64_t *seqs, uint32_t n);
uint32_t rlc_resend_ring_count(const rlc_resend_ring *r);  // unacknowledged entries
size_t rlc_resend_ring_bytes(const rlc_resend_ring *r);    // their bytes
// Finds the oldest unacknowledged entry with seq >= *from and sent_at <= older_than;
// returns 1 and sets *from = e->seq + 1, or returns 0. Resend everything after a
// reconnect with older_than = INFINITY; resend on timeout with now - rto.
int rlc_resend_ring_next_due(const rlc_resend_ring *r, uint64_t *from, double older_than, rlc_resend_entry *e);
void rlc_resend_ring_mark_sent(rlc_resend_ring *r, uint64_t seq, double now);

// ---- duplicate filter ------------------------------------------------------------
// One per (worker, session): the highest contiguous seq received plus a window of
// RLC_DEDUP_WINDOW seqs beyond it. A plain value type: no allocation.

#define RLC_DEDUP_WINDOW 1024

typedef enum {
    RLC_DEDUP_NEW = 0,     // first time: process it (it is now marked as seen)
    RLC_DEDUP_DUPLICATE,   // seen before: drop it (and ack again)
    RLC_DEDUP_TOO_FAR,     // beyond the window: drop it without acking; it will be resent
} rlc_dedup_result;

typedef struct {
    uint64_t session;
    uint64_t cumulative;   // every seq <= cumulative was seen
    uint64_t bits[RLC_DEDUP_WINDOW / 64];  // seq s in (cumulative, cumulative + WINDOW] at bit s % WINDOW
    uint64_t duplicates, too_far;          // counters
} rlc_dedup;

void rlc_dedup_init(rlc_dedup *d, uint64_t session);
rlc_dedup_result rlc_dedup_check(rlc_dedup *d, uint64_t seq);
// The seen seqs above cumulative (for Ack.seqs), at most `max`, ascending.
uint32_t rlc_dedup_selective(const rlc_dedup *d, uint64_t *out, uint32_t max);

// ---- heartbeat timer ----------------------------------------------------------------
// Times in seconds from the caller's clock (rlc_now()).

typedef struct {
    double interval;   // send one every `interval` seconds
    double timeout;    // the peer is dead after `timeout` seconds of silence
    double last_sent, last_heard;
} rlc_heartbeat;

void rlc_heartbeat_init(rlc_heartbeat *h, double interval, double timeout, double now);
// 1 when a heartbeat is due now (and records it as sent), else 0.
int rlc_heartbeat_due(rlc_heartbeat *h, double now);
// Any message from the peer counts as a sign of life.
void rlc_heartbeat_heard(rlc_heartbeat *h, double now);
int rlc_heartbeat_expired(const rlc_heartbeat *h, double now);
// Milliseconds until the next send or expiry (>= 0): a poll timeout.
int rlc_heartbeat_wait_ms(const rlc_heartbeat *h, double now);

// ---- weights assembly --------------------------------------------------------------
// Collects the chunks of one policy version into the caller's buffer, in any
// order; the version is complete when every chunk is in and the XXH64 of the
// whole buffer equals total_xxh64. A chunk of a newer version abandons the
// partial older one; chunks of older versions are ignored.

typedef struct rlc_weights_rx rlc_weights_rx;

rlc_status rlc_weights_rx_create(uint32_t max_chunks, rlc_weights_rx **out);
void rlc_weights_rx_free(rlc_weights_rx *rx);
// Adds one decoded chunk, copying its bytes to dst + offset (dst has `cap` bytes;
// every chunk of a version must go to the same dst). *complete is set to 1 when
// this chunk completed the version and the whole checksum matched.
// RLC_ERR_BAD_MESSAGE: total_bytes over cap, chunk_count over max_chunks, a chunk
// that disagrees with the others of its version (count, total, checksum, range),
// or a whole-buffer checksum mismatch (the version is abandoned; it can be sent
// again). Stale or duplicate chunks return RLC_OK with *complete = 0.
rlc_status rlc_weights_rx_add(rlc_weights_rx *rx, const rlc_msg_weights *w, void *dst, size_t cap,
                              int *complete);
// The version being assembled (or last completed); -1 before the first chunk.
int64_t rlc_weights_rx_version(const rlc_weights_rx *rx);
uint32_t rlc_weights_rx_missing(const rlc_weights_rx *rx);  // chunks still missing

#ifdef __cplusplus
}
#endif

#endif
