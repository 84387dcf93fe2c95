// protocol.h: the wire protocol between the learner and the rollout workers.
// Every message is one msgpack map with a "type" (a string) and the protocol
// "version" (an unsigned integer, RLC_PROTO_VERSION); token, log-prob and version
// arrays travel as little-endian msgpack bin payloads with a dtype and a shape,
// weights as raw bin chunks with XXH64 checksums. docs/protocol.md is the
// reference: every field, its bounds, an example of every message, and the flow
// control / ack / resend / heartbeat rules.
//
// Encoding writes into a reusable growable buffer (rlc_proto_buf): once the
// buffer has grown to the largest message, encoding allocates nothing.
// Decoding (rlc_proto_decode) validates the whole message before it hands out
// anything: sizes against the bytes present and the configured limits, the
// type of every field, required fields, token ids against the vocabulary,
// finite floats, lengths that agree. Unknown fields are skipped (forward
// compatibility); a missing required field, a wrong type, a bound violated or a
// truncated or oversized message returns RLC_ERR_BAD_MESSAGE with a message that
// names the field ("trajectory.logprobs[3]: nan is not finite").
#ifndef RLC_PROTOCOL_H
#define RLC_PROTOCOL_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t, int32_t

#include "status.h"  // rlc_status

#ifdef __cplusplus
extern "C" {
#endif

#define RLC_PROTO_VERSION 1
#define RLC_PROTO_WORKER_ID_MAX 64  // bytes in a worker id (also its ZeroMQ identity)

typedef enum {
    RLC_MSG_NONE = 0,        // no message (a receive that timed out)
    RLC_MSG_HELLO,           // worker -> learner, first on every (re)connection
    RLC_MSG_PROMPT_REQUEST,  // learner -> worker
    RLC_MSG_TRAJECTORY,      // worker -> learner
    RLC_MSG_WEIGHTS,         // learner -> worker, one chunk of a weight version
    RLC_MSG_CREDIT,          // worker -> learner: room for more prompt requests
    RLC_MSG_ACK,             // learner -> worker: trajectories received
    RLC_MSG_HEARTBEAT,       // both ways
    RLC_MSG_SHUTDOWN,        // both ways
    RLC_MSG_WEIGHT_GROUP,    // learner -> worker: join (or leave) the NCCL weight group
    RLC_MSG_WEIGHTS_NCCL,    // learner -> worker: a weight version follows as an NCCL broadcast
    RLC_MSG_TYPE_COUNT
} rlc_msg_type;

typedef enum { RLC_FINISH_STOP = 0, RLC_FINISH_LENGTH = 1 } rlc_finish_reason;

typedef struct {
    const char *key, *value;
} rlc_proto_kv;  // one metadata entry (string -> string; values may hold JSON text)

typedef struct {
    const char *name;
    double value;
} rlc_proto_component;  // one named reward component

// Hello: sent by a worker first on every connection (and again after it
// reconnects). `session` identifies the worker process: a restarted worker picks
// a new one, and the learner then forgets that worker's sequence numbers.
typedef struct {
    const char *worker_id;      // 1..64 bytes of [A-Za-z0-9._:@-]; equals the DEALER identity
    uint64_t session;           // random per worker process, != 0
    const char *device;         // e.g. "cpu", "cuda:0"; "" when not given
    const char *const *capabilities;  // e.g. "weights.zmq", "logprobs"
    uint32_t n_capabilities;
    uint32_t max_credit;        // the most prompt requests the worker holds at once, >= 1
    uint32_t credit;            // requests it can take now (<= max_credit)
    const uint64_t *inflight;   // prompt ids it still holds (after a reconnect)
    uint32_t n_inflight;        // <= max_credit
    int64_t policy_version;     // weights it holds; -1 when none
} rlc_msg_hello;

typedef struct {
    double temperature;         // >= 0 (0: greedy)
    double top_p;               // (0, 1]
    int32_t top_k;              // 0 (off) .. vocab_size
    uint32_t max_new_tokens;    // 1 .. limits.max_tokens
    uint64_t seed;              // 0 when not given
    const char *const *stop;    // stop strings (n_stop <= limits.max_list)
    uint32_t n_stop;
} rlc_proto_sampling;

typedef struct {
    uint64_t prompt_id;
    const int32_t *tokens;      // (n_tokens,) token ids in [0, vocab_size)
    uint32_t n_tokens;          // 1 .. limits.max_tokens
    uint32_t n;                 // samples wanted, 1 .. limits.max_n
    rlc_proto_sampling sampling;
    const rlc_proto_kv *metadata;  // opaque to the protocol, e.g. {"answer": "42"}
    uint32_t n_metadata;
} rlc_msg_prompt_request;

typedef struct {
    const char *worker_id;
    uint64_t session;           // the worker's Hello session
    uint64_t seq;               // per worker session: 1, 2, 3, ...
    uint64_t prompt_id;
    uint32_t sample_index;      // < limits.max_n
    const int32_t *prompt_tokens;   // (n_prompt_tokens,)
    uint32_t n_prompt_tokens;
    const int32_t *tokens;      // (n_tokens,) completion token ids
    const float *logprobs;      // (n_tokens,) behaviour log-probs, finite, <= 0
    const int32_t *versions;    // (n_tokens,) policy version that sampled each token, >= 0
    uint32_t n_tokens;          // 0 .. limits.max_tokens
    double reward;              // finite
    const rlc_proto_component *components;  // named parts of the reward, finite
    uint32_t n_components;
    rlc_finish_reason finish;   // "stop" or "length" on the wire
    double queue_s, generate_s, reward_s;   // timings in seconds, finite, >= 0
} rlc_msg_trajectory;

// Weights: one chunk of the flat weight buffer of `policy_version`.
// On encode chunk_xxh64 is ignored and computed from data; total_xxh64 is the
// caller's XXH64 of the whole buffer. On decode the chunk checksum has been
// verified; the whole checksum is for the receiver once every chunk is in
// (rlc_weights_rx in reliable.h does that).
typedef struct {
    uint64_t policy_version;
    uint32_t chunk_index;       // < chunk_count
    uint32_t chunk_count;       // 1 .. limits.max_chunks
    uint64_t offset;            // byte offset of this chunk in the whole buffer
    uint64_t total_bytes;       // 1 .. limits.max_weights_bytes
    uint64_t chunk_xxh64;       // XXH64 (seed 0) of data
    uint64_t total_xxh64;       // XXH64 (seed 0) of the whole buffer
    const uint8_t *data;        // (n_data,) bytes; offset + n_data <= total_bytes
    size_t n_data;              // >= 1
} rlc_msg_weights;

typedef struct {
    uint32_t count;             // 1 .. limits.max_credit more prompt requests
} rlc_msg_credit;

typedef struct {
    uint64_t session;           // the worker session acknowledged
    uint64_t cumulative;        // every seq <= cumulative was received (0: none)
    const uint64_t *seqs;       // and these too (selective acks), <= limits.max_list
    uint32_t n_seqs;
} rlc_msg_ack;

typedef struct {
    double time;                // sender's clock, seconds, finite
    const char *status;         // free text, e.g. "ok", "busy", "draining"; "" when not given
    int64_t policy_version;     // sender's current version; -1 when not given
} rlc_msg_heartbeat;

typedef struct {
    const char *reason;         // e.g. "done", "sigint"
} rlc_msg_shutdown;

// The capability a worker lists in its Hello when it can join an NCCL weight
// group (it generates on a CUDA device, in a build with NCCL).
#define RLC_PROTO_CAP_NCCL_WEIGHTS "weights.nccl"
#define RLC_PROTO_NCCL_ID_MAX 256  // bytes of an NCCL unique id (NCCL's is 128)

// WeightGroup: the learner (rank 0) invites the worker to be rank `rank` of
// the `world` members of NCCL weight group `group`; both then call
// ncclCommInitRank with `nccl_id`. world 0 (rank 0, no id) means: leave
// group `group` (the learner dissolved it; weights come as chunks again).
typedef struct {
    uint64_t group;             // >= 1, the learner's id of this group
    uint32_t rank;              // 1 .. world - 1 (0 with world 0)
    uint32_t world;             // 2 .. limits.max_list + 1, or 0: leave
    const uint8_t *nccl_id;     // (n_nccl_id,) the NCCL unique id; NULL with world 0
    size_t n_nccl_id;           // 1 .. RLC_PROTO_NCCL_ID_MAX (0 with world 0)
} rlc_msg_weight_group;

// WeightsNccl: version `policy_version` follows at once as an NCCL broadcast
// from rank 0 of group `group`: total_bytes of float32 (dtype "f32" on the
// wire) laid out as the flat parameter buffer. has_xxh64: total_xxh64 is
// the XXH64 (seed 0) of those bytes (optional on the wire).
typedef struct {
    uint64_t policy_version;    // <= 2^63 - 1
    uint64_t group;             // >= 1
    uint64_t total_bytes;       // 1 .. limits.max_weights_bytes, a multiple of 4
    int has_xxh64;
    uint64_t total_xxh64;
} rlc_msg_weights_nccl;

typedef struct {
    rlc_msg_type type;
    union {
        rlc_msg_hello hello;
        rlc_msg_prompt_request prompt_request;
        rlc_msg_trajectory trajectory;
        rlc_msg_weights weights;
        rlc_msg_credit credit;
        rlc_msg_ack ack;
        rlc_msg_heartbeat heartbeat;
        rlc_msg_shutdown shutdown;
        rlc_msg_weight_group weight_group;
        rlc_msg_weights_nccl weights_nccl;
    };
} rlc_msg;

// The wire name of a type ("trajectory", ...); "none" / "unknown" otherwise.
const char *rlc_msg_type_name(rlc_msg_type t);
const char *rlc_finish_reason_name(rlc_finish_reason f);  // "stop" / "length"

// ---- limits -----------------------------------------------------------------

typedef struct {
    size_t max_message_bytes;   // whole encoded message (default 64 MiB + 4 KiB)
    uint32_t vocab_size;        // token ids must be < vocab_size (required, >= 1)
    uint32_t max_tokens;        // tokens in one array; also max_new_tokens (default 1 Mi)
    uint32_t max_n;             // samples per prompt (default 4096)
    uint32_t max_list;          // entries in any list or map: stop strings,
                                // capabilities, metadata, components, acks (default 4096)
    uint32_t max_string_bytes;  // bytes in any string (default 64 KiB)
    uint32_t max_credit;        // Hello.max_credit and Credit.count (default 65536)
    uint32_t max_chunks;        // Weights.chunk_count (default 1 Mi)
    uint64_t max_weights_bytes; // Weights.total_bytes (default 1 TiB)
} rlc_proto_limits;

// The defaults above with `vocab_size`.
rlc_proto_limits rlc_proto_limits_default(uint32_t vocab_size);

// ---- encoding ---------------------------------------------------------------

// A growable byte buffer. Zero-initialised ({0}) is a valid empty buffer.
// Owns `data` (allocated through rlc_malloc); free with rlc_proto_buf_free.
typedef struct {
    uint8_t *data;
    size_t len, cap;
} rlc_proto_buf;

void rlc_proto_buf_free(rlc_proto_buf *b);  // back to {0}
// Makes room for `extra` more bytes; RLC_ERR_NOMEM leaves the buffer unchanged.
rlc_status rlc_proto_buf_reserve(rlc_proto_buf *b, size_t extra);

// Encodes `m` into `out`, replacing its contents (out->len = the message size).
// Checks what the encoder can see: required pointers present when their count
// is non-zero, a valid worker id, counts that fit. RLC_ERR_ARG names the field;
// RLC_ERR_NOMEM when the buffer cannot grow. It does not check token ids
// against a vocabulary: the receiver does.
rlc_status rlc_proto_encode(const rlc_msg *m, rlc_proto_buf *out);

// ---- decoding ---------------------------------------------------------------

// A decoder: limits plus a scratch area that holds the decoded strings and
// arrays. Reused across messages; it stops allocating once its scratch has
// grown to the largest message seen. One decoder per thread.
typedef struct rlc_proto_decoder rlc_proto_decoder;

// RLC_ERR_ARG for an invalid limit (vocab_size 0), RLC_ERR_NOMEM.
rlc_status rlc_proto_decoder_create(const rlc_proto_limits *limits, rlc_proto_decoder **out);
void rlc_proto_decoder_free(rlc_proto_decoder *d);
const rlc_proto_limits *rlc_proto_decoder_limits(const rlc_proto_decoder *d);

// Decodes and validates one message of `len` bytes.
// Ownership and lifetimes: `out` borrows. Strings (NUL-terminated copies) and
// arrays (aligned, host-endian copies) live in the decoder's scratch; the
// weights payload `data` points into the caller's `data` buffer (no copy).
// Everything stays valid until the next rlc_proto_decode on this decoder or
// its free, and weights.data as long as the caller's buffer lives.
// Errors: RLC_ERR_BAD_MESSAGE (the message names the field and the problem;
// `out->type` is RLC_MSG_NONE), RLC_ERR_NOMEM (scratch could not grow; only
// after the message was validated against the limits).
rlc_status rlc_proto_decode(rlc_proto_decoder *d, const void *data, size_t len, rlc_msg *out);

// ---- helpers ----------------------------------------------------------------

// Checks a worker id: 1..RLC_PROTO_WORKER_ID_MAX bytes of [A-Za-z0-9._:@-].
int rlc_proto_worker_id_valid(const char *id, size_t len);

// Fills `m` with chunk `index` of the flat buffer `base` (`total` bytes) cut in
// chunks of `chunk_bytes`: returns the number of chunks through *count.
// `total_xxh64` is the caller's rlc_xxh64(base, total, 0), computed once.
// `m` borrows `base`. RLC_ERR_ARG when index >= count or a size is 0.
rlc_status rlc_proto_weights_chunk(rlc_msg *m, uint64_t policy_version, const void *base,
                                   uint64_t total, size_t chunk_bytes, uint32_t index,
                                   uint64_t total_xxh64, uint32_t *count);

#ifdef __cplusplus
}
#endif

#endif
