// proto_decode.c: msgpack bytes -> a validated rlc_msg.
// Pass 1 walks the whole message with the bounds-checked reader (every length
// against the bytes present, nesting depth, trailing bytes) and reads "version"
// and "type". Pass 2 reads the fields of that type into the rlc_msg, copying
// strings and arrays into the decoder's scratch only after their sizes were
// checked against the limits. Every failure names the field: "bad message:
// trajectory.logprobs[3]: nan is not finite".
#include <math.h>     // isfinite
#include <stdarg.h>   // va_list
#include <stdio.h>    // vsnprintf, snprintf
#include <string.h>   // memcpy, memcmp, memchr, strlen

#include "checksum.h"     // rlc_xxh64
#include "protocol.h"
#include "protocol_mp.h"  // mp_cur, mp_next, scratch

typedef struct {
    rlc_proto_decoder *d;
    const rlc_proto_limits *lim;
    mp_cur c;
    char path[160];  // the field being read, e.g. "prompt_request.sampling.top_p"
} dec;

static rlc_status bad(dec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static rlc_status bad(dec *x, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rlc_errorf(RLC_ERR_BAD_MESSAGE, "bad message: %s: %s", x->path, what);
}

static rlc_status nomem(dec *x) {
    return rlc_errorf(RLC_ERR_NOMEM, "decoding %s: out of memory for the decoder's scratch", x->path);
}

static rlc_status next(dec *x, mp_item *it) {
    mp_err e = mp_next(&x->c, it);
    return e ? bad(x, "%s", mp_err_str(e)) : RLC_OK;
}

static rlc_status expect(dec *x, mp_item *it, mp_kind kind, const char *what) {
    RLC_TRY(next(x, it));
    if (it->kind != kind) return bad(x, "expected %s, got %s", what, mp_kind_name(it->kind));
    return RLC_OK;
}

// ---- scalars --------------------------------------------------------------------

static rlc_status rd_uint(dec *x, uint64_t min, uint64_t max, uint64_t *out) {
    mp_item it;
    RLC_TRY(next(x, &it));
    if (it.kind == MP_INT) return bad(x, "%lld is negative", (long long)it.i);
    if (it.kind != MP_UINT) return bad(x, "expected an unsigned integer, got %s", mp_kind_name(it.kind));
    if (it.u < min || it.u > max)
        return bad(x, "%llu is outside [%llu, %llu]", (unsigned long long)it.u,
                   (unsigned long long)min, (unsigned long long)max);
    *out = it.u;
    return RLC_OK;
}

static rlc_status rd_u32(dec *x, uint32_t min, uint32_t max, uint32_t *out) {
    uint64_t v = 0;
    RLC_TRY(rd_uint(x, min, max, &v));
    *out = (uint32_t)v;
    return RLC_OK;
}

static rlc_status rd_int(dec *x, int64_t min, int64_t max, int64_t *out) {
    mp_item it;
    RLC_TRY(next(x, &it));
    int64_t v = 0;
    if (it.kind == MP_INT) v = it.i;
    else if (it.kind == MP_UINT && it.u <= INT64_MAX) v = (int64_t)it.u;
    else if (it.kind == MP_UINT) return bad(x, "%llu is too large", (unsigned long long)it.u);
    else return bad(x, "expected an integer, got %s", mp_kind_name(it.kind));
    if (v < min || v > max) return bad(x, "%lld is outside [%lld, %lld]", (long long)v, (long long)min, (long long)max);
    *out = v;
    return RLC_OK;
}

// A finite float in [min, max]; integers are accepted and converted.
static rlc_status rd_float(dec *x, double min, double max, double *out) {
    mp_item it;
    RLC_TRY(next(x, &it));
    double v;
    if (it.kind == MP_FLOAT) v = it.f;
    else if (it.kind == MP_UINT) v = (double)it.u;
    else if (it.kind == MP_INT) v = (double)it.i;
    else return bad(x, "expected a float, got %s", mp_kind_name(it.kind));
    if (!isfinite(v)) return bad(x, "%g is not finite", v);
    if (v < min || v > max) return bad(x, "%g is outside [%g, %g]", v, min, max);
    *out = v;
    return RLC_OK;
}

// A string: at most max_string_bytes, no NUL byte; copied NUL-terminated.
static rlc_status rd_str(dec *x, const char **out) {
    mp_item it;
    RLC_TRY(expect(x, &it, MP_STR, "a string"));
    if (it.len > x->lim->max_string_bytes)
        return bad(x, "string of %u bytes exceeds the limit of %u", it.len, x->lim->max_string_bytes);
    if (memchr(it.ptr, 0, it.len)) return bad(x, "string contains a NUL byte");
    char *s = proto_scratch_alloc(x->d, (size_t)it.len + 1, 1);
    if (!s) return nomem(x);
    memcpy(s, it.ptr, it.len);
    s[it.len] = '\0';
    *out = s;
    return RLC_OK;
}

static rlc_status list_header(dec *x, mp_kind kind, uint32_t max, uint32_t *n) {
    mp_item it;
    RLC_TRY(expect(x, &it, kind, kind == MP_MAP ? "a map" : "an array"));
    if (it.len > max) return bad(x, "%u entries exceed the limit of %u", it.len, max);
    *n = it.len;
    return RLC_OK;
}

// Appends text to the path (cut at its capacity); returns the old length, to
// restore with path_pop. Plain copies: the path is built for every field.
static size_t path_push(dec *x, const char *text, size_t n) {
    size_t at = strlen(x->path);
    if (n > sizeof x->path - 1 - at) n = sizeof x->path - 1 - at;
    memcpy(x->path + at, text, n);
    x->path[at + n] = '\0';
    return at;
}

static void path_pop(dec *x, size_t at) { x->path[at] = '\0'; }

// Appends "[i]".
static size_t path_push_index(dec *x, uint32_t i) {
    char tmp[16], *p = tmp + sizeof tmp;
    *--p = ']';
    do *--p = (char)('0' + i % 10); while (i /= 10);
    *--p = '[';
    return path_push(x, p, (size_t)(tmp + sizeof tmp - p));
}

static rlc_status rd_str_list(dec *x, const char *const **out, uint32_t *n) {
    RLC_TRY(list_header(x, MP_ARRAY, x->lim->max_list, n));
    const char **v = proto_scratch_alloc(x->d, (size_t)*n * sizeof *v + 1, _Alignof(const char *));
    if (!v) return nomem(x);
    for (uint32_t i = 0; i < *n; i++) {
        size_t at = path_push_index(x, i);
        RLC_TRY(rd_str(x, &v[i]));
        x->path[at] = '\0';
    }
    *out = v;
    return RLC_OK;
}

static rlc_status rd_u64_list(dec *x, uint32_t max, const uint64_t **out, uint32_t *n) {
    RLC_TRY(list_header(x, MP_ARRAY, max, n));
    uint64_t *v = proto_scratch_alloc(x->d, (size_t)*n * sizeof *v + 1, _Alignof(uint64_t));
    if (!v) return nomem(x);
    for (uint32_t i = 0; i < *n; i++) {
        size_t at = path_push_index(x, i);
        RLC_TRY(rd_uint(x, 0, UINT64_MAX, &v[i]));
        x->path[at] = '\0';
    }
    *out = v;
    return RLC_OK;
}

// A map of string -> string (metadata).
static rlc_status rd_kv_map(dec *x, const rlc_proto_kv **out, uint32_t *n) {
    RLC_TRY(list_header(x, MP_MAP, x->lim->max_list, n));
    rlc_proto_kv *v = proto_scratch_alloc(x->d, (size_t)*n * sizeof *v + 1, _Alignof(rlc_proto_kv));
    if (!v) return nomem(x);
    for (uint32_t i = 0; i < *n; i++) {
        size_t at = path_push_index(x, i);
        RLC_TRY(rd_str(x, &v[i].key));
        path_pop(x, at);
        path_push(x, ".", 1);
        path_push(x, v[i].key, strlen(v[i].key));
        RLC_TRY(rd_str(x, &v[i].value));
        x->path[at] = '\0';
    }
    *out = v;
    return RLC_OK;
}

// A map of string -> finite float (reward components).
static rlc_status rd_components(dec *x, const rlc_proto_component **out, uint32_t *n) {
    RLC_TRY(list_header(x, MP_MAP, x->lim->max_list, n));
    rlc_proto_component *v = proto_scratch_alloc(x->d, (size_t)*n * sizeof *v + 1, _Alignof(rlc_proto_component));
    if (!v) return nomem(x);
    for (uint32_t i = 0; i < *n; i++) {
        size_t at = path_push_index(x, i);
        RLC_TRY(rd_str(x, &v[i].name));
        path_pop(x, at);
        path_push(x, ".", 1);
        path_push(x, v[i].name, strlen(v[i].name));
        RLC_TRY(rd_float(x, -INFINITY, INFINITY, &v[i].value));
        x->path[at] = '\0';
    }
    *out = v;
    return RLC_OK;
}

// ---- maps with known fields -----------------------------------------------------

// Called with the index of a known field; reads its value.
typedef rlc_status (*field_fn)(dec *x, int field, void *out);

typedef struct {
    const char *const *names;  // field names, at most 32
    int n;
    uint32_t required;         // bit i: names[i] must be present
} field_table;

// Reads a map whose keys are looked up in `t`: known fields go to `fn`, unknown
// ones are skipped, duplicates and missing required fields are errors. `skip_top`
// also skips "type" and "version" (read in pass 1).
static rlc_status rd_fields(dec *x, const field_table *t, field_fn fn, void *out, int skip_top) {
    size_t at = strlen(x->path);
    uint32_t n, seen = 0;
    RLC_TRY(list_header(x, MP_MAP, UINT32_MAX, &n));
    for (uint32_t i = 0; i < n; i++) {
        mp_item k;
        mp_err e = mp_next(&x->c, &k);
        if (e) return bad(x, "key #%u: %s", i, mp_err_str(e));
        if (k.kind != MP_STR) return bad(x, "key #%u is %s, expected a string", i, mp_kind_name(k.kind));
        int f = -1;
        for (int j = 0; j < t->n; j++)
            if (strlen(t->names[j]) == k.len && memcmp(t->names[j], k.ptr, k.len) == 0) f = j;
        int top = skip_top && ((k.len == 4 && !memcmp(k.ptr, "type", 4)) ||
                               (k.len == 7 && !memcmp(k.ptr, "version", 7)));
        if (f < 0 || top) {  // unknown (forward compatibility) or already read
            e = mp_skip(&x->c, 1);
            if (e) return bad(x, "value of key #%u: %s", i, mp_err_str(e));
            continue;
        }
        path_push(x, ".", 1);
        path_push(x, t->names[f], strlen(t->names[f]));
        if (seen & (1u << f)) return bad(x, "duplicate field");
        seen |= 1u << f;
        RLC_TRY(fn(x, f, out));
        path_pop(x, at);
    }
    uint32_t missing = t->required & ~seen;
    if (missing) {
        int f = __builtin_ctz(missing);
        return bad(x, "missing required field '%s'", t->names[f]);
    }
    return RLC_OK;
}

// ---- tensors: {"dtype": "i32"|"f32", "shape": [n], "data": bin(4n)} --------------

typedef struct {
    const char *dtype;    // expected
    uint32_t max;         // most elements allowed
    uint32_t n;           // shape[0]
    const uint8_t *data;  // inside the message
    uint32_t data_len;    // bytes
} tensor_rd;

static const char *const tensor_names[] = {"dtype", "shape", "data"};
static const field_table tensor_table = {tensor_names, 3, 0x7};

static rlc_status tensor_field(dec *x, int f, void *out) {
    tensor_rd *t = out;
    mp_item it;
    if (f == 0) {
        RLC_TRY(expect(x, &it, MP_STR, "a string"));
        if (strlen(t->dtype) != it.len || memcmp(t->dtype, it.ptr, it.len))
            return bad(x, "'%.*s', expected '%s'", (int)(it.len > 16 ? 16 : it.len),
                       (const char *)it.ptr, t->dtype);
    } else if (f == 1) {
        RLC_TRY(expect(x, &it, MP_ARRAY, "an array"));
        if (it.len != 1) return bad(x, "rank %u, expected 1 (shape [n])", it.len);
        RLC_TRY(rd_u32(x, 0, t->max, &t->n));
    } else {
        RLC_TRY(expect(x, &it, MP_BIN, "bin"));
        t->data = it.ptr;
        t->data_len = it.len;
    }
    return RLC_OK;
}

// Reads a 1-D tensor of 4-byte elements and copies it, host-endian and
// aligned, into the scratch. Element values are checked by the caller.
static rlc_status rd_tensor(dec *x, const char *dtype, uint32_t max, const void **out, uint32_t *n) {
    tensor_rd t = {.dtype = dtype, .max = max};
    RLC_TRY(rd_fields(x, &tensor_table, tensor_field, &t, 0));
    if ((uint64_t)t.n * 4 != t.data_len) {
        size_t at = strlen(x->path);
        snprintf(x->path + at, sizeof x->path - at, ".data");
        return bad(x, "%u bytes, but shape [%u] of %s needs %llu", t.data_len, t.n, dtype,
                   (unsigned long long)t.n * 4);
    }
    uint8_t *v = proto_scratch_alloc(x->d, (size_t)t.data_len + 1, 4);
    if (!v) return nomem(x);
    if (t.data_len) memcpy(v, t.data, t.data_len);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (uint32_t i = 0; i < t.data_len; i += 4) {
        uint8_t t0 = v[i], t1 = v[i + 1];
        v[i] = v[i + 3], v[i + 1] = v[i + 2], v[i + 2] = t1, v[i + 3] = t0;
    }
#endif
    *out = v;
    *n = t.n;
    return RLC_OK;
}

static rlc_status rd_tokens(dec *x, uint32_t min_n, const int32_t **out, uint32_t *n) {
    const void *p;
    RLC_TRY(rd_tensor(x, "i32", x->lim->max_tokens, &p, n));
    if (*n < min_n) return bad(x, "%u tokens, at least %u needed", *n, min_n);
    const int32_t *v = p;
    uint32_t vocab = x->lim->vocab_size;
    for (uint32_t i = 0; i < *n; i++)
        if (v[i] < 0 || (uint32_t)v[i] >= vocab) {
            path_push_index(x, i);
            return bad(x, "token id %d is outside the vocabulary [0, %u)", v[i], vocab);
        }
    *out = v;
    return RLC_OK;
}

// ---- hello -----------------------------------------------------------------------

static rlc_status rd_worker_id(dec *x, const char **out) {
    RLC_TRY(rd_str(x, out));
    if (!rlc_proto_worker_id_valid(*out, strlen(*out)))
        return bad(x, "'%.64s' is not 1..%d bytes of [A-Za-z0-9._:@-]", *out, RLC_PROTO_WORKER_ID_MAX);
    return RLC_OK;
}

enum { H_WORKER_ID, H_SESSION, H_DEVICE, H_CAPS, H_MAX_CREDIT, H_CREDIT, H_INFLIGHT, H_POLICY };
static const char *const hello_names[] = {"worker_id", "session", "device", "capabilities",
                                          "max_credit", "credit", "inflight", "policy_version"};
static const field_table hello_table = {hello_names, 8,
    1u << H_WORKER_ID | 1u << H_SESSION | 1u << H_MAX_CREDIT | 1u << H_CREDIT};

static rlc_status hello_field(dec *x, int f, void *out) {
    rlc_msg_hello *h = out;
    switch (f) {
    case H_WORKER_ID: return rd_worker_id(x, &h->worker_id);
    case H_SESSION: return rd_uint(x, 1, UINT64_MAX, &h->session);
    case H_DEVICE: return rd_str(x, &h->device);
    case H_CAPS: return rd_str_list(x, &h->capabilities, &h->n_capabilities);
    case H_MAX_CREDIT: return rd_u32(x, 1, x->lim->max_credit, &h->max_credit);
    case H_CREDIT: return rd_u32(x, 0, x->lim->max_credit, &h->credit);
    case H_INFLIGHT: return rd_u64_list(x, x->lim->max_credit, &h->inflight, &h->n_inflight);
    default: return rd_int(x, -1, INT64_MAX, &h->policy_version);
    }
}

static rlc_status hello(dec *x, rlc_msg_hello *h) {
    *h = (rlc_msg_hello){.device = "", .policy_version = -1};
    RLC_TRY(rd_fields(x, &hello_table, hello_field, h, 1));
    if (h->credit > h->max_credit) {
        snprintf(x->path, sizeof x->path, "hello.credit");
        return bad(x, "%u exceeds max_credit %u", h->credit, h->max_credit);
    }
    if (h->n_inflight > h->max_credit) {
        snprintf(x->path, sizeof x->path, "hello.inflight");
        return bad(x, "%u prompts exceed max_credit %u", h->n_inflight, h->max_credit);
    }
    return RLC_OK;
}

// ---- prompt_request ------------------------------------------------------------

enum { S_TEMPERATURE, S_TOP_P, S_TOP_K, S_MAX_NEW, S_SEED, S_STOP };
static const char *const sampling_names[] = {"temperature", "top_p", "top_k",
                                             "max_new_tokens", "seed", "stop"};
static const field_table sampling_table = {sampling_names, 6,
    1u << S_TEMPERATURE | 1u << S_TOP_P | 1u << S_TOP_K | 1u << S_MAX_NEW};

static rlc_status sampling_field(dec *x, int f, void *out) {
    rlc_proto_sampling *s = out;
    int64_t k;
    switch (f) {
    case S_TEMPERATURE: return rd_float(x, 0, 1e6, &s->temperature);
    case S_TOP_P:
        RLC_TRY(rd_float(x, 0, 1, &s->top_p));
        return s->top_p > 0 ? RLC_OK : bad(x, "0 is outside (0, 1]");
    case S_TOP_K:
        RLC_TRY(rd_int(x, 0, x->lim->vocab_size, &k));
        s->top_k = (int32_t)k;
        return RLC_OK;
    case S_MAX_NEW: return rd_u32(x, 1, x->lim->max_tokens, &s->max_new_tokens);
    case S_SEED: return rd_uint(x, 0, UINT64_MAX, &s->seed);
    default: return rd_str_list(x, &s->stop, &s->n_stop);
    }
}

enum { P_PROMPT_ID, P_TOKENS, P_N, P_SAMPLING, P_METADATA };
static const char *const request_names[] = {"prompt_id", "tokens", "n", "sampling", "metadata"};
static const field_table request_table = {request_names, 5,
    1u << P_PROMPT_ID | 1u << P_TOKENS | 1u << P_N | 1u << P_SAMPLING};

static rlc_status request_field(dec *x, int f, void *out) {
    rlc_msg_prompt_request *r = out;
    switch (f) {
    case P_PROMPT_ID: return rd_uint(x, 0, UINT64_MAX, &r->prompt_id);
    case P_TOKENS: return rd_tokens(x, 1, &r->tokens, &r->n_tokens);
    case P_N: return rd_u32(x, 1, x->lim->max_n, &r->n);
    case P_SAMPLING: return rd_fields(x, &sampling_table, sampling_field, &r->sampling, 0);
    default: return rd_kv_map(x, &r->metadata, &r->n_metadata);
    }
}

// ---- trajectory ------------------------------------------------------------------

enum { T_WORKER_ID, T_SESSION, T_SEQ, T_PROMPT_ID, T_SAMPLE, T_PROMPT_TOKENS, T_TOKENS,
       T_LOGPROBS, T_VERSIONS, T_REWARD, T_COMPONENTS, T_FINISH, T_TIMINGS };
static const char *const traj_names[] = {"worker_id", "session", "seq", "prompt_id",
    "sample_index", "prompt_tokens", "tokens", "logprobs", "versions", "reward",
    "components", "finish", "timings"};
static const field_table traj_table = {traj_names, 13, ((1u << T_COMPONENTS) - 1) | 1u << T_FINISH};

static const char *const timing_names[] = {"queue", "generate", "reward"};
static const field_table timing_table = {timing_names, 3, 0};

typedef struct {
    rlc_msg_trajectory *t;
    uint32_t n_logprobs, n_versions;
} traj_rd;

static rlc_status timing_field(dec *x, int f, void *out) {
    rlc_msg_trajectory *t = out;
    double *dst = f == 0 ? &t->queue_s : f == 1 ? &t->generate_s : &t->reward_s;
    return rd_float(x, 0, INFINITY, dst);
}

static rlc_status traj_field(dec *x, int f, void *out) {
    traj_rd *r = out;
    rlc_msg_trajectory *t = r->t;
    const void *p;
    mp_item it;
    switch (f) {
    case T_WORKER_ID: return rd_worker_id(x, &t->worker_id);
    case T_SESSION: return rd_uint(x, 1, UINT64_MAX, &t->session);
    case T_SEQ: return rd_uint(x, 1, UINT64_MAX, &t->seq);
    case T_PROMPT_ID: return rd_uint(x, 0, UINT64_MAX, &t->prompt_id);
    case T_SAMPLE: return rd_u32(x, 0, x->lim->max_n - 1, &t->sample_index);
    case T_PROMPT_TOKENS: return rd_tokens(x, 0, &t->prompt_tokens, &t->n_prompt_tokens);
    case T_TOKENS: return rd_tokens(x, 0, &t->tokens, &t->n_tokens);
    case T_LOGPROBS:
        RLC_TRY(rd_tensor(x, "f32", x->lim->max_tokens, &p, &r->n_logprobs));
        t->logprobs = p;
        for (uint32_t i = 0; i < r->n_logprobs; i++)
            if (!isfinite(t->logprobs[i]) || t->logprobs[i] > 0) {
                path_push_index(x, i);
                return bad(x, "%g is not a finite log-probability <= 0", t->logprobs[i]);
            }
        return RLC_OK;
    case T_VERSIONS:
        RLC_TRY(rd_tensor(x, "i32", x->lim->max_tokens, &p, &r->n_versions));
        t->versions = p;
        for (uint32_t i = 0; i < r->n_versions; i++)
            if (t->versions[i] < 0) {
                path_push_index(x, i);
                return bad(x, "policy version %d is negative", t->versions[i]);
            }
        return RLC_OK;
    case T_REWARD: return rd_float(x, -INFINITY, INFINITY, &t->reward);
    case T_COMPONENTS: return rd_components(x, &t->components, &t->n_components);
    case T_FINISH:
        RLC_TRY(expect(x, &it, MP_STR, "a string"));
        if (it.len == 4 && !memcmp(it.ptr, "stop", 4)) t->finish = RLC_FINISH_STOP;
        else if (it.len == 6 && !memcmp(it.ptr, "length", 6)) t->finish = RLC_FINISH_LENGTH;
        else return bad(x, "'%.*s' is neither 'stop' nor 'length'", (int)(it.len > 32 ? 32 : it.len),
                        (const char *)it.ptr);
        return RLC_OK;
    default: return rd_fields(x, &timing_table, timing_field, t, 0);
    }
}

static rlc_status trajectory(dec *x, rlc_msg_trajectory *t) {
    *t = (rlc_msg_trajectory){0};
    traj_rd r = {.t = t};
    RLC_TRY(rd_fields(x, &traj_table, traj_field, &r, 1));
    if (r.n_logprobs != t->n_tokens || r.n_versions != t->n_tokens) {
        int lp = r.n_logprobs != t->n_tokens;
        snprintf(x->path, sizeof x->path, "trajectory.%s", lp ? "logprobs" : "versions");
        return bad(x, "%u entries, but tokens has %u", lp ? r.n_logprobs : r.n_versions, t->n_tokens);
    }
    return RLC_OK;
}

// ---- weights -----------------------------------------------------------------------

enum { W_POLICY, W_INDEX, W_COUNT, W_OFFSET, W_TOTAL, W_CHUNK_SUM, W_TOTAL_SUM, W_DATA };
static const char *const weights_names[] = {"policy_version", "chunk_index", "chunk_count",
    "offset", "total_bytes", "chunk_xxh64", "total_xxh64", "data"};
static const field_table weights_table = {weights_names, 8, 0xff};

static rlc_status weights_field(dec *x, int f, void *out) {
    rlc_msg_weights *w = out;
    mp_item it;
    switch (f) {
    case W_POLICY: return rd_uint(x, 0, INT64_MAX, &w->policy_version);
    case W_INDEX: return rd_u32(x, 0, UINT32_MAX, &w->chunk_index);
    case W_COUNT: return rd_u32(x, 1, x->lim->max_chunks, &w->chunk_count);
    case W_OFFSET: return rd_uint(x, 0, UINT64_MAX, &w->offset);
    case W_TOTAL: return rd_uint(x, 1, x->lim->max_weights_bytes, &w->total_bytes);
    case W_CHUNK_SUM: return rd_uint(x, 0, UINT64_MAX, &w->chunk_xxh64);
    case W_TOTAL_SUM: return rd_uint(x, 0, UINT64_MAX, &w->total_xxh64);
    default:
        RLC_TRY(expect(x, &it, MP_BIN, "bin"));
        if (it.len == 0) return bad(x, "empty chunk");
        w->data = it.ptr;
        w->n_data = it.len;
        return RLC_OK;
    }
}

static rlc_status weights(dec *x, rlc_msg_weights *w) {
    *w = (rlc_msg_weights){0};
    RLC_TRY(rd_fields(x, &weights_table, weights_field, w, 1));
    if (w->chunk_index >= w->chunk_count) {
        snprintf(x->path, sizeof x->path, "weights.chunk_index");
        return bad(x, "%u >= chunk_count %u", w->chunk_index, w->chunk_count);
    }
    if (w->offset > w->total_bytes || w->n_data > w->total_bytes - w->offset) {
        snprintf(x->path, sizeof x->path, "weights.offset");
        return bad(x, "bytes [%llu, %llu) run past total_bytes %llu", (unsigned long long)w->offset,
                   (unsigned long long)w->offset + w->n_data, (unsigned long long)w->total_bytes);
    }
    uint64_t sum = rlc_xxh64(w->data, w->n_data, 0);
    if (sum != w->chunk_xxh64) {
        snprintf(x->path, sizeof x->path, "weights.data");
        return bad(x, "checksum mismatch: xxh64 0x%016llx, chunk_xxh64 says 0x%016llx",
                   (unsigned long long)sum, (unsigned long long)w->chunk_xxh64);
    }
    return RLC_OK;
}

// ---- the small ones -------------------------------------------------------------

static const char *const credit_names[] = {"count"};
static const field_table credit_table = {credit_names, 1, 1};
static rlc_status credit_field(dec *x, int f, void *out) {
    return rd_u32(x, 1, x->lim->max_credit, &((rlc_msg_credit *)out)->count);
}

static const char *const ack_names[] = {"session", "cumulative", "seqs"};
static const field_table ack_table = {ack_names, 3, 0x3};
static rlc_status ack_field(dec *x, int f, void *out) {
    rlc_msg_ack *a = out;
    if (f == 0) return rd_uint(x, 1, UINT64_MAX, &a->session);
    if (f == 1) return rd_uint(x, 0, UINT64_MAX, &a->cumulative);
    return rd_u64_list(x, x->lim->max_list, &a->seqs, &a->n_seqs);
}

static const char *const heartbeat_names[] = {"time", "status", "policy_version"};
static const field_table heartbeat_table = {heartbeat_names, 3, 0x1};
static rlc_status heartbeat_field(dec *x, int f, void *out) {
    rlc_msg_heartbeat *h = out;
    if (f == 0) return rd_float(x, -INFINITY, INFINITY, &h->time);
    if (f == 1) return rd_str(x, &h->status);
    return rd_int(x, -1, INT64_MAX, &h->policy_version);
}

static const char *const shutdown_names[] = {"reason"};
static const field_table shutdown_table = {shutdown_names, 1, 1};
static rlc_status shutdown_field(dec *x, int f, void *out) {
    return rd_str(x, &((rlc_msg_shutdown *)out)->reason);
}

// ---- weight_group, weights_nccl -------------------------------------------------------

enum { G_GROUP, G_RANK, G_WORLD, G_ID };
static const char *const group_names[] = {"group", "rank", "world", "nccl_id"};
static const field_table group_table = {group_names, 4, 0x7};

static rlc_status group_field(dec *x, int f, void *out) {
    rlc_msg_weight_group *g = out;
    mp_item it;
    switch (f) {
    case G_GROUP: return rd_uint(x, 1, UINT64_MAX, &g->group);
    case G_RANK: return rd_u32(x, 0, x->lim->max_list, &g->rank);
    case G_WORLD: return rd_u32(x, 0, x->lim->max_list + 1, &g->world);
    default:
        RLC_TRY(expect(x, &it, MP_BIN, "bin"));
        if (it.len == 0 || it.len > RLC_PROTO_NCCL_ID_MAX)
            return bad(x, "%u bytes, expected 1..%d", it.len, RLC_PROTO_NCCL_ID_MAX);
        g->nccl_id = it.ptr;
        g->n_nccl_id = it.len;
        return RLC_OK;
    }
}

static rlc_status weight_group(dec *x, rlc_msg_weight_group *g) {
    *g = (rlc_msg_weight_group){0};
    RLC_TRY(rd_fields(x, &group_table, group_field, g, 1));
    if (g->world == 0) {  // leave
        if (g->rank != 0 || g->nccl_id) {
            snprintf(x->path, sizeof x->path, "weight_group.%s", g->rank ? "rank" : "nccl_id");
            return bad(x, "world 0 (leave) takes rank 0 and no nccl_id");
        }
        return RLC_OK;
    }
    if (g->world < 2 || g->rank < 1 || g->rank >= g->world) {
        snprintf(x->path, sizeof x->path, "weight_group.%s", g->world < 2 ? "world" : "rank");
        return bad(x, "rank %u of world %u: a worker's rank is 1..world-1 and world is 0 or >= 2", g->rank, g->world);
    }
    if (!g->nccl_id) {
        snprintf(x->path, sizeof x->path, "weight_group.nccl_id");
        return bad(x, "missing; required when world >= 2");
    }
    return RLC_OK;
}

enum { N_POLICY, N_GROUP, N_TOTAL, N_DTYPE, N_SUM };
static const char *const wnccl_names[] = {"policy_version", "group", "total_bytes", "dtype", "total_xxh64"};
static const field_table wnccl_table = {wnccl_names, 5, 0xf};

static rlc_status wnccl_field(dec *x, int f, void *out) {
    rlc_msg_weights_nccl *w = out;
    mp_item it;
    switch (f) {
    case N_POLICY: return rd_uint(x, 0, INT64_MAX, &w->policy_version);
    case N_GROUP: return rd_uint(x, 1, UINT64_MAX, &w->group);
    case N_TOTAL:
        RLC_TRY(rd_uint(x, 1, x->lim->max_weights_bytes, &w->total_bytes));
        return w->total_bytes % 4 == 0 ? RLC_OK : bad(x, "%llu is not a multiple of 4 (float32)",
                                                      (unsigned long long)w->total_bytes);
    case N_DTYPE:
        RLC_TRY(expect(x, &it, MP_STR, "a string"));
        if (it.len == 3 && !memcmp(it.ptr, "f32", 3)) return RLC_OK;
        return bad(x, "'%.*s' is not 'f32'", (int)(it.len > 32 ? 32 : it.len), (const char *)it.ptr);
    default:
        w->has_xxh64 = 1;
        return rd_uint(x, 0, UINT64_MAX, &w->total_xxh64);
    }
}

// ---- pass 1 and the entry point ---------------------------------------------------

// Walks the whole message (structure and bounds) and finds type and version.
static rlc_status scan(dec *x, rlc_msg_type *type) {
    mp_item top, k, v;
    snprintf(x->path, sizeof x->path, "message");
    mp_err e = mp_next(&x->c, &top);
    if (e) return bad(x, "%s", mp_err_str(e));
    if (top.kind != MP_MAP) return bad(x, "top level is %s, expected a map", mp_kind_name(top.kind));
    int have_version = 0;
    uint64_t version = 0;
    const uint8_t *tname = NULL;
    uint32_t tlen = 0;
    for (uint32_t i = 0; i < top.len; i++) {
        if ((e = mp_next(&x->c, &k))) return bad(x, "key #%u: %s", i, mp_err_str(e));
        if (k.kind != MP_STR) return bad(x, "key #%u is %s, expected a string", i, mp_kind_name(k.kind));
        int is_type = k.len == 4 && !memcmp(k.ptr, "type", 4);
        int is_version = k.len == 7 && !memcmp(k.ptr, "version", 7);
        // the path is only needed on error: "message.<key>"
#define KEY_PATH() snprintf(x->path, sizeof x->path, "message.%.*s", (int)(k.len > 40 ? 40 : k.len), (const char *)k.ptr)
        if (is_type || is_version) {
            if ((e = mp_next(&x->c, &v))) return KEY_PATH(), bad(x, "%s", mp_err_str(e));
            if ((is_type && tname) || (is_version && have_version)) return KEY_PATH(), bad(x, "duplicate field");
            if (is_type && v.kind != MP_STR)
                return KEY_PATH(), bad(x, "expected a string, got %s", mp_kind_name(v.kind));
            if (is_version && v.kind != MP_UINT)
                return KEY_PATH(), bad(x, "expected an unsigned integer, got %s", mp_kind_name(v.kind));
            if (is_type) tname = v.ptr, tlen = v.len;
            else have_version = 1, version = v.u;
        } else if ((e = mp_skip(&x->c, 1))) {
            return KEY_PATH(), bad(x, "%s", mp_err_str(e));
        }
#undef KEY_PATH
    }
    snprintf(x->path, sizeof x->path, "message");
    if (x->c.p != x->c.end) return bad(x, "%zu trailing bytes after the map", (size_t)(x->c.end - x->c.p));
    if (!have_version) return bad(x, "missing required field 'version'");
    if (version != RLC_PROTO_VERSION)
        return bad(x, "protocol version %llu, this build speaks version %d (hint: run the same rlc "
                   "release on the learner and on every rollout worker)",
                   (unsigned long long)version, RLC_PROTO_VERSION);
    if (!tname) return bad(x, "missing required field 'type'");
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        const char *name = rlc_msg_type_name((rlc_msg_type)t);
        if (strlen(name) == tlen && !memcmp(name, tname, tlen)) {
            *type = (rlc_msg_type)t;
            return RLC_OK;
        }
    }
    return bad(x, "type '%.*s' is not one of hello, prompt_request, trajectory, weights, credit, "
               "ack, heartbeat, shutdown, weight_group, weights_nccl", (int)(tlen > 32 ? 32 : tlen), (const char *)tname);
}

rlc_status rlc_proto_decode(rlc_proto_decoder *d, const void *data, size_t len, rlc_msg *out) {
    memset(out, 0, sizeof *out);
    dec x = {.d = d, .lim = &d->lim};
    snprintf(x.path, sizeof x.path, "message");
    if (!data || len == 0) return bad(&x, "empty");
    if (len > d->lim.max_message_bytes)
        return bad(&x, "%zu bytes exceed the limit of %zu", len, d->lim.max_message_bytes);
    x.c = (mp_cur){data, (const uint8_t *)data + len};
    rlc_msg_type type = RLC_MSG_NONE;
    RLC_TRY(scan(&x, &type));
    RLC_TRY(proto_scratch_reset(d));
    x.c = (mp_cur){data, (const uint8_t *)data + len};
    snprintf(x.path, sizeof x.path, "%s", rlc_msg_type_name(type));
    rlc_status s;
    rlc_msg m = {.type = type};
    switch (type) {
    case RLC_MSG_HELLO: s = hello(&x, &m.hello); break;
    case RLC_MSG_PROMPT_REQUEST: s = rd_fields(&x, &request_table, request_field, &m.prompt_request, 1); break;
    case RLC_MSG_TRAJECTORY: s = trajectory(&x, &m.trajectory); break;
    case RLC_MSG_WEIGHTS: s = weights(&x, &m.weights); break;
    case RLC_MSG_CREDIT: s = rd_fields(&x, &credit_table, credit_field, &m.credit, 1); break;
    case RLC_MSG_ACK: s = rd_fields(&x, &ack_table, ack_field, &m.ack, 1); break;
    case RLC_MSG_HEARTBEAT:
        m.heartbeat = (rlc_msg_heartbeat){.status = "", .policy_version = -1};
        s = rd_fields(&x, &heartbeat_table, heartbeat_field, &m.heartbeat, 1);
        break;
    case RLC_MSG_WEIGHT_GROUP: s = weight_group(&x, &m.weight_group); break;
    case RLC_MSG_WEIGHTS_NCCL: s = rd_fields(&x, &wnccl_table, wnccl_field, &m.weights_nccl, 1); break;
    default: s = rd_fields(&x, &shutdown_table, shutdown_field, &m.shutdown, 1); break;
    }
    if (s == RLC_OK) *out = m;
    return s;
}
