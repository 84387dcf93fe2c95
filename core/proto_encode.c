// proto_encode.c: rlc_msg -> msgpack bytes, written with msgpack-c's packer
// straight into a reusable rlc_proto_buf. Arrays of tokens, log-probs and
// versions are written as {"dtype", "shape": [n], "data": bin} with
// little-endian elements.
#include <msgpack.h>  // msgpack_packer, msgpack_pack_*
#include <string.h>   // strlen, memcpy

#include "checksum.h"  // rlc_xxh64
#include "protocol.h"

// msgpack-c's write callback: append to the buffer (grows; -1 on no memory).
static int buf_write(void *data, const char *p, size_t n) {
    rlc_proto_buf *b = data;
    if (rlc_proto_buf_reserve(b, n) != RLC_OK) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

typedef struct {
    msgpack_packer pk;
    rlc_proto_buf *buf;
    int rc;  // OR of every packer return: non-zero once a write failed
} enc;

static void str(enc *e, const char *s) {
    size_t n = s ? strlen(s) : 0;
    e->rc |= msgpack_pack_str_with_body(&e->pk, s ? s : "", n);
}

static void key(enc *e, const char *k) { str(e, k); }
static void kv_u64(enc *e, const char *k, uint64_t v) { key(e, k); e->rc |= msgpack_pack_uint64(&e->pk, v); }
static void kv_i64(enc *e, const char *k, int64_t v) { key(e, k); e->rc |= msgpack_pack_int64(&e->pk, v); }
static void kv_f64(enc *e, const char *k, double v) { key(e, k); e->rc |= msgpack_pack_double(&e->pk, v); }
static void kv_str(enc *e, const char *k, const char *v) { key(e, k); str(e, v); }

static void header(enc *e, size_t fields, rlc_msg_type t) {
    e->rc |= msgpack_pack_map(&e->pk, fields);
    kv_str(e, "type", rlc_msg_type_name(t));
    kv_u64(e, "version", RLC_PROTO_VERSION);
}

// {"dtype": dt, "shape": [n], "data": bin(4n)}, elements little-endian.
static void tensor32(enc *e, const char *k, const char *dt, const void *data, uint32_t n) {
    key(e, k);
    e->rc |= msgpack_pack_map(&e->pk, 3);
    kv_str(e, "dtype", dt);
    key(e, "shape");
    e->rc |= msgpack_pack_array(&e->pk, 1);
    e->rc |= msgpack_pack_uint32(&e->pk, n);
    key(e, "data");
    size_t bytes = (size_t)n * 4;
    e->rc |= msgpack_pack_bin(&e->pk, bytes);
    if (e->rc || rlc_proto_buf_reserve(e->buf, bytes) != RLC_OK) {
        e->rc = -1;
        return;
    }
    uint8_t *dst = e->buf->data + e->buf->len;
    if (bytes) memcpy(dst, data, bytes);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < bytes; i += 4) {
        uint8_t t0 = dst[i], t1 = dst[i + 1];
        dst[i] = dst[i + 3], dst[i + 1] = dst[i + 2], dst[i + 2] = t1, dst[i + 3] = t0;
    }
#endif
    e->buf->len += bytes;
}

static void u64_list(enc *e, const char *k, const uint64_t *v, uint32_t n) {
    key(e, k);
    e->rc |= msgpack_pack_array(&e->pk, n);
    for (uint32_t i = 0; i < n; i++) e->rc |= msgpack_pack_uint64(&e->pk, v[i]);
}

static void str_list(enc *e, const char *k, const char *const *v, uint32_t n) {
    key(e, k);
    e->rc |= msgpack_pack_array(&e->pk, n);
    for (uint32_t i = 0; i < n; i++) str(e, v[i]);
}

// ---- argument checks (what the sender can get wrong) ----------------------------

#define NEED(cond, ...) \
    do { if (!(cond)) return rlc_errorf(RLC_ERR_ARG, "encode " __VA_ARGS__); } while (0)

static rlc_status check_worker(const char *what, const char *id) {
    NEED(id && rlc_proto_worker_id_valid(id, strlen(id)),
         "%s.worker_id: '%s' is not 1..%d bytes of [A-Za-z0-9._:@-]", what, id ? id : "(null)",
         RLC_PROTO_WORKER_ID_MAX);
    return RLC_OK;
}

static rlc_status check_strs(const char *what, const char *const *v, uint32_t n) {
    NEED(n == 0 || v, "%s: %u entries but no array", what, n);
    for (uint32_t i = 0; i < n; i++) NEED(v[i], "%s[%u]: NULL string", what, i);
    return RLC_OK;
}

static rlc_status check(const rlc_msg *m) {
    switch (m->type) {
    case RLC_MSG_HELLO: {
        const rlc_msg_hello *h = &m->hello;
        RLC_TRY(check_worker("hello", h->worker_id));
        RLC_TRY(check_strs("hello.capabilities", h->capabilities, h->n_capabilities));
        NEED(h->n_inflight == 0 || h->inflight, "hello.inflight: %u ids but no array", h->n_inflight);
        NEED(h->session != 0, "hello.session: must not be 0");
        return RLC_OK;
    }
    case RLC_MSG_PROMPT_REQUEST: {
        const rlc_msg_prompt_request *r = &m->prompt_request;
        NEED(r->tokens && r->n_tokens > 0, "prompt_request.tokens: empty");
        NEED(r->n_tokens <= UINT32_MAX / 4, "prompt_request.tokens: too many");
        RLC_TRY(check_strs("prompt_request.sampling.stop", r->sampling.stop, r->sampling.n_stop));
        NEED(r->n_metadata == 0 || r->metadata, "prompt_request.metadata: entries but no array");
        for (uint32_t i = 0; i < r->n_metadata; i++)
            NEED(r->metadata[i].key && r->metadata[i].value, "prompt_request.metadata[%u]: NULL", i);
        return RLC_OK;
    }
    case RLC_MSG_TRAJECTORY: {
        const rlc_msg_trajectory *t = &m->trajectory;
        RLC_TRY(check_worker("trajectory", t->worker_id));
        NEED(t->n_prompt_tokens == 0 || t->prompt_tokens, "trajectory.prompt_tokens: no array");
        NEED(t->n_tokens == 0 || (t->tokens && t->logprobs && t->versions),
             "trajectory: %u completion tokens but tokens, logprobs or versions is NULL", t->n_tokens);
        NEED(t->n_tokens <= UINT32_MAX / 4 && t->n_prompt_tokens <= UINT32_MAX / 4,
             "trajectory: too many tokens");
        NEED(t->n_components == 0 || t->components, "trajectory.components: no array");
        for (uint32_t i = 0; i < t->n_components; i++)
            NEED(t->components[i].name, "trajectory.components[%u]: NULL name", i);
        NEED(t->finish == RLC_FINISH_STOP || t->finish == RLC_FINISH_LENGTH,
             "trajectory.finish: %d is neither stop nor length", (int)t->finish);
        return RLC_OK;
    }
    case RLC_MSG_WEIGHTS:
        NEED(m->weights.data && m->weights.n_data > 0 && m->weights.n_data <= UINT32_MAX,
             "weights.data: empty or over 4 GiB");
        return RLC_OK;
    case RLC_MSG_WEIGHT_GROUP: {
        const rlc_msg_weight_group *g = &m->weight_group;
        NEED(g->group != 0, "weight_group.group: must not be 0");
        if (g->world == 0) {
            NEED(g->rank == 0 && g->n_nccl_id == 0, "weight_group: leaving (world 0) takes rank 0 and no nccl_id");
            return RLC_OK;
        }
        NEED(g->world >= 2 && g->rank >= 1 && g->rank < g->world, "weight_group: rank %u of world %u", g->rank,
             g->world);
        NEED(g->nccl_id && g->n_nccl_id > 0 && g->n_nccl_id <= RLC_PROTO_NCCL_ID_MAX,
             "weight_group.nccl_id: 1..%d bytes", RLC_PROTO_NCCL_ID_MAX);
        return RLC_OK;
    }
    case RLC_MSG_WEIGHTS_NCCL:
        NEED(m->weights_nccl.group != 0, "weights_nccl.group: must not be 0");
        NEED(m->weights_nccl.total_bytes > 0 && m->weights_nccl.total_bytes % 4 == 0,
             "weights_nccl.total_bytes: %llu is not a positive multiple of 4",
             (unsigned long long)m->weights_nccl.total_bytes);
        return RLC_OK;
    case RLC_MSG_ACK:
        NEED(m->ack.n_seqs == 0 || m->ack.seqs, "ack.seqs: %u seqs but no array", m->ack.n_seqs);
        return RLC_OK;
    case RLC_MSG_CREDIT:
    case RLC_MSG_HEARTBEAT:
    case RLC_MSG_SHUTDOWN:
        return RLC_OK;
    default:
        return rlc_errorf(RLC_ERR_ARG, "encode: unknown message type %d", (int)m->type);
    }
}

// ---- one writer per type -----------------------------------------------------

static void hello(enc *e, const rlc_msg_hello *h) {
    header(e, 10, RLC_MSG_HELLO);
    kv_str(e, "worker_id", h->worker_id);
    kv_u64(e, "session", h->session);
    kv_str(e, "device", h->device);
    str_list(e, "capabilities", h->capabilities, h->n_capabilities);
    kv_u64(e, "max_credit", h->max_credit);
    kv_u64(e, "credit", h->credit);
    u64_list(e, "inflight", h->inflight, h->n_inflight);
    kv_i64(e, "policy_version", h->policy_version);
}

static void prompt_request(enc *e, const rlc_msg_prompt_request *r) {
    header(e, 7, RLC_MSG_PROMPT_REQUEST);
    kv_u64(e, "prompt_id", r->prompt_id);
    tensor32(e, "tokens", "i32", r->tokens, r->n_tokens);
    kv_u64(e, "n", r->n);
    key(e, "sampling");
    e->rc |= msgpack_pack_map(&e->pk, 6);
    kv_f64(e, "temperature", r->sampling.temperature);
    kv_f64(e, "top_p", r->sampling.top_p);
    kv_i64(e, "top_k", r->sampling.top_k);
    kv_u64(e, "max_new_tokens", r->sampling.max_new_tokens);
    kv_u64(e, "seed", r->sampling.seed);
    str_list(e, "stop", r->sampling.stop, r->sampling.n_stop);
    key(e, "metadata");
    e->rc |= msgpack_pack_map(&e->pk, r->n_metadata);
    for (uint32_t i = 0; i < r->n_metadata; i++) {
        str(e, r->metadata[i].key);
        str(e, r->metadata[i].value);
    }
}

static void trajectory(enc *e, const rlc_msg_trajectory *t) {
    header(e, 15, RLC_MSG_TRAJECTORY);
    kv_str(e, "worker_id", t->worker_id);
    kv_u64(e, "session", t->session);
    kv_u64(e, "seq", t->seq);
    kv_u64(e, "prompt_id", t->prompt_id);
    kv_u64(e, "sample_index", t->sample_index);
    tensor32(e, "prompt_tokens", "i32", t->prompt_tokens, t->n_prompt_tokens);
    tensor32(e, "tokens", "i32", t->tokens, t->n_tokens);
    tensor32(e, "logprobs", "f32", t->logprobs, t->n_tokens);
    tensor32(e, "versions", "i32", t->versions, t->n_tokens);
    kv_f64(e, "reward", t->reward);
    key(e, "components");
    e->rc |= msgpack_pack_map(&e->pk, t->n_components);
    for (uint32_t i = 0; i < t->n_components; i++) {
        str(e, t->components[i].name);
        e->rc |= msgpack_pack_double(&e->pk, t->components[i].value);
    }
    kv_str(e, "finish", rlc_finish_reason_name(t->finish));
    key(e, "timings");
    e->rc |= msgpack_pack_map(&e->pk, 3);
    kv_f64(e, "queue", t->queue_s);
    kv_f64(e, "generate", t->generate_s);
    kv_f64(e, "reward", t->reward_s);
}

static void weights(enc *e, const rlc_msg_weights *w) {
    header(e, 10, RLC_MSG_WEIGHTS);
    kv_u64(e, "policy_version", w->policy_version);
    kv_u64(e, "chunk_index", w->chunk_index);
    kv_u64(e, "chunk_count", w->chunk_count);
    kv_u64(e, "offset", w->offset);
    kv_u64(e, "total_bytes", w->total_bytes);
    kv_u64(e, "chunk_xxh64", rlc_xxh64(w->data, w->n_data, 0));
    kv_u64(e, "total_xxh64", w->total_xxh64);
    key(e, "data");
    e->rc |= msgpack_pack_bin_with_body(&e->pk, w->data, w->n_data);
}

static void weight_group(enc *e, const rlc_msg_weight_group *g) {
    header(e, g->world ? 6 : 5, RLC_MSG_WEIGHT_GROUP);
    kv_u64(e, "group", g->group);
    kv_u64(e, "rank", g->rank);
    kv_u64(e, "world", g->world);
    if (!g->world) return;
    key(e, "nccl_id");
    e->rc |= msgpack_pack_bin_with_body(&e->pk, g->nccl_id, g->n_nccl_id);
}

static void weights_nccl(enc *e, const rlc_msg_weights_nccl *w) {
    header(e, w->has_xxh64 ? 7 : 6, RLC_MSG_WEIGHTS_NCCL);
    kv_u64(e, "policy_version", w->policy_version);
    kv_u64(e, "group", w->group);
    kv_u64(e, "total_bytes", w->total_bytes);
    kv_str(e, "dtype", "f32");
    if (w->has_xxh64) kv_u64(e, "total_xxh64", w->total_xxh64);
}

rlc_status rlc_proto_encode(const rlc_msg *m, rlc_proto_buf *out) {
    RLC_TRY(check(m));
    out->len = 0;
    size_t guess = 256;
    if (m->type == RLC_MSG_WEIGHTS) guess += m->weights.n_data;
    if (m->type == RLC_MSG_TRAJECTORY)
        guess += 4 * ((size_t)m->trajectory.n_prompt_tokens + 3 * (size_t)m->trajectory.n_tokens);
    if (m->type == RLC_MSG_PROMPT_REQUEST) guess += 4 * (size_t)m->prompt_request.n_tokens;
    RLC_TRY(rlc_proto_buf_reserve(out, guess));
    enc e = {.buf = out};
    msgpack_packer_init(&e.pk, out, buf_write);
    switch (m->type) {
    case RLC_MSG_HELLO: hello(&e, &m->hello); break;
    case RLC_MSG_PROMPT_REQUEST: prompt_request(&e, &m->prompt_request); break;
    case RLC_MSG_TRAJECTORY: trajectory(&e, &m->trajectory); break;
    case RLC_MSG_WEIGHTS: weights(&e, &m->weights); break;
    case RLC_MSG_CREDIT:
        header(&e, 3, RLC_MSG_CREDIT);
        kv_u64(&e, "count", m->credit.count);
        break;
    case RLC_MSG_ACK:
        header(&e, 5, RLC_MSG_ACK);
        kv_u64(&e, "session", m->ack.session);
        kv_u64(&e, "cumulative", m->ack.cumulative);
        u64_list(&e, "seqs", m->ack.seqs, m->ack.n_seqs);
        break;
    case RLC_MSG_HEARTBEAT:
        header(&e, 5, RLC_MSG_HEARTBEAT);
        kv_f64(&e, "time", m->heartbeat.time);
        kv_str(&e, "status", m->heartbeat.status);
        kv_i64(&e, "policy_version", m->heartbeat.policy_version);
        break;
    case RLC_MSG_SHUTDOWN:
        header(&e, 3, RLC_MSG_SHUTDOWN);
        kv_str(&e, "reason", m->shutdown.reason);
        break;
    case RLC_MSG_WEIGHT_GROUP: weight_group(&e, &m->weight_group); break;
    case RLC_MSG_WEIGHTS_NCCL: weights_nccl(&e, &m->weights_nccl); break;
    default: break;  // rejected by check()
    }
    if (e.rc) {
        out->len = 0;
        return rlc_errorf(RLC_ERR_NOMEM, "encode %s: the buffer could not grow", rlc_msg_type_name(m->type));
    }
    return RLC_OK;
}
