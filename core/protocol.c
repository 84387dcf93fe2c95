// protocol.c: the parts of the wire protocol shared by encoding and decoding:
// type names, limits, the growable buffer, the decoder object, and helpers.
#include "protocol.h"

#include <string.h>  // memset

#include "alloc.h"        // rlc_malloc, rlc_realloc, rlc_free
#include "checksum.h"     // rlc_xxh64
#include "protocol_mp.h"  // struct rlc_proto_decoder, scratch

static const char *type_names[RLC_MSG_TYPE_COUNT] = {
    [RLC_MSG_NONE] = "none",
    [RLC_MSG_HELLO] = "hello",
    [RLC_MSG_PROMPT_REQUEST] = "prompt_request",
    [RLC_MSG_TRAJECTORY] = "trajectory",
    [RLC_MSG_WEIGHTS] = "weights",
    [RLC_MSG_CREDIT] = "credit",
    [RLC_MSG_ACK] = "ack",
    [RLC_MSG_HEARTBEAT] = "heartbeat",
    [RLC_MSG_SHUTDOWN] = "shutdown",
    [RLC_MSG_WEIGHT_GROUP] = "weight_group",
    [RLC_MSG_WEIGHTS_NCCL] = "weights_nccl",
};

const char *rlc_msg_type_name(rlc_msg_type t) {
    if ((unsigned)t >= RLC_MSG_TYPE_COUNT) return "unknown";
    return type_names[t];
}

const char *rlc_finish_reason_name(rlc_finish_reason f) {
    return f == RLC_FINISH_STOP ? "stop" : f == RLC_FINISH_LENGTH ? "length" : "unknown";
}

rlc_proto_limits rlc_proto_limits_default(uint32_t vocab_size) {
    rlc_proto_limits l = {
        .max_message_bytes = ((size_t)64 << 20) + 4096,
        .vocab_size = vocab_size,
        .max_tokens = 1u << 20,
        .max_n = 4096,
        .max_list = 4096,
        .max_string_bytes = 64u << 10,
        .max_credit = 65536,
        .max_chunks = 1u << 20,
        .max_weights_bytes = (uint64_t)1 << 40,
    };
    return l;
}

void rlc_proto_buf_free(rlc_proto_buf *b) {
    rlc_free(b->data);
    memset(b, 0, sizeof *b);
}

rlc_status rlc_proto_buf_reserve(rlc_proto_buf *b, size_t extra) {
    if (extra <= b->cap - b->len) return RLC_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return rlc_errorf(RLC_ERR_NOMEM, "protocol buffer: %zu more bytes overflow", extra);
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    uint8_t *p = rlc_realloc(b->data, cap);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "protocol buffer: growing to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return RLC_OK;
}

rlc_status rlc_proto_decoder_create(const rlc_proto_limits *limits, rlc_proto_decoder **out) {
    *out = NULL;
    if (!limits || limits->vocab_size == 0)
        return rlc_errorf(RLC_ERR_ARG, "protocol decoder: limits.vocab_size must be >= 1");
    if (limits->max_message_bytes == 0 || limits->max_n == 0 || limits->max_tokens == 0 ||
        limits->max_credit == 0 || limits->max_chunks == 0)
        return rlc_errorf(RLC_ERR_ARG, "protocol decoder: a limit is 0 (start from rlc_proto_limits_default)");
    rlc_proto_decoder *d = rlc_calloc(1, sizeof *d);
    if (!d) return rlc_errorf(RLC_ERR_NOMEM, "protocol decoder");
    d->lim = *limits;
    *out = d;
    return RLC_OK;
}

void rlc_proto_decoder_free(rlc_proto_decoder *d) {
    if (!d) return;
    proto_block *b = d->blocks;
    while (b) {
        proto_block *next = b->next;
        rlc_free(b);
        b = next;
    }
    rlc_free(d);
}

const rlc_proto_limits *rlc_proto_decoder_limits(const rlc_proto_decoder *d) { return &d->lim; }

int rlc_proto_worker_id_valid(const char *id, size_t len) {
    if (!id || len == 0 || len > RLC_PROTO_WORKER_ID_MAX) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
        if (!ok) return 0;
    }
    return 1;
}

rlc_status rlc_proto_weights_chunk(rlc_msg *m, uint64_t policy_version, const void *base,
                                   uint64_t total, size_t chunk_bytes, uint32_t index,
                                   uint64_t total_xxh64, uint32_t *count) {
    if (total == 0 || chunk_bytes == 0 || !base)
        return rlc_errorf(RLC_ERR_ARG, "weights chunk: empty buffer or chunk size 0");
    uint64_t n = (total + chunk_bytes - 1) / chunk_bytes;
    if (n > UINT32_MAX) return rlc_errorf(RLC_ERR_ARG, "weights chunk: %llu chunks is too many",
                                          (unsigned long long)n);
    if (count) *count = (uint32_t)n;
    if (index >= n)
        return rlc_errorf(RLC_ERR_ARG, "weights chunk: index %u >= chunk count %llu", index,
                          (unsigned long long)n);
    uint64_t off = (uint64_t)index * chunk_bytes;
    uint64_t len = total - off < chunk_bytes ? total - off : chunk_bytes;
    memset(m, 0, sizeof *m);
    m->type = RLC_MSG_WEIGHTS;
    m->weights = (rlc_msg_weights){
        .policy_version = policy_version,
        .chunk_index = index,
        .chunk_count = (uint32_t)n,
        .offset = off,
        .total_bytes = total,
        .total_xxh64 = total_xxh64,
        .data = (const uint8_t *)base + off,
        .n_data = (size_t)len,
    };
    return RLC_OK;
}
