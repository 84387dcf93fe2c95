// test_protocol.c: the wire protocol. Every message type round-trips field by
// field; every field of every message, replaced by a value of the wrong type or
// removed, is rejected naming the field (or accepted when optional); truncation
// at every byte, length lies, bad versions, non-finite floats, ids outside the
// vocabulary, mismatched lengths and oversized messages are rejected with
// RLC_ERR_BAD_MESSAGE; a bounded random-mutation fuzz loop never crashes and
// whatever it accepts re-encodes to the same message; XXH64 matches published
// vectors; steady-state encode/decode allocates nothing.
//
//   test_protocol              run the tests
//   test_protocol --examples   print every example message (JSON-like + hex),
//                              the source of the examples in docs/protocol.md
#include <math.h>     // NAN, INFINITY
#include <msgpack.h>  // msgpack_unpack_next, msgpack_pack_object: independent re-encoding
#include <stdint.h>
#include <stdlib.h>   // malloc
#include <string.h>

#include "core/alloc.h"
#include "core/checksum.h"
#include "core/protocol.h"
#include "tests/test.h"

#include "tests/fuzz/proto_examples.h"

// ---- helpers --------------------------------------------------------------------------

static rlc_proto_decoder *dec;
static rlc_proto_buf buf;

// Decodes a private copy of exactly `len` bytes (so that the sanitizer sees any
// read past the end).
// The copy lives until the next call (a decoded weights message borrows it).
static void *last_copy;
static rlc_status decode_copy(const void *data, size_t len, rlc_msg *out) {
    free(last_copy);
    last_copy = malloc(len ? len : 1);
    memcpy(last_copy, data, len);
    return rlc_proto_decode(dec, last_copy, len, out);
}

// Expects RLC_ERR_BAD_MESSAGE with `needle` in the message.
static void expect_bad(const void *data, size_t len, const char *needle, const char *what) {
    rlc_msg out;
    rlc_status s = decode_copy(data, len, &out);
    CHECK_MSG(s == RLC_ERR_BAD_MESSAGE, "%s: got %s (%s)", what, rlc_status_name(s), rlc_last_error());
    if (needle)
        CHECK_MSG(strstr(rlc_last_error(), needle) != NULL, "%s: error '%s' does not mention '%s'", what,
                  rlc_last_error(), needle);
    CHECK(out.type == RLC_MSG_NONE);
}

// Unpacks an encoded message with msgpack-c (an independent reader).
static int unpack(const void *data, size_t len, msgpack_unpacked *u) {
    msgpack_unpacked_init(u);
    size_t off = 0;
    int r = msgpack_unpack_next(u, data, len, &off);
    return r == MSGPACK_UNPACK_SUCCESS && off == len;
}

static void pack_obj(msgpack_sbuffer *sb, msgpack_object o) {
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, o);
}

// ---- tests ------------------------------------------------------------------------------

static void test_xxh64(void) {
    CHECK(rlc_xxh64("", 0, 0) == 0xEF46DB3751D8E999ULL);
    CHECK(rlc_xxh64("a", 1, 0) == 0xD24EC4F1A98C6E5BULL);
    CHECK(rlc_xxh64("abc", 3, 0) == 0x44BC2CF5AD770999ULL);
    CHECK(rlc_xxh64("abcd", 4, 0) == 0xDE0327B0D25D92CCULL);
    CHECK(rlc_xxh64("123456789112345", 15, 0) == 0x3FE21A05D12D6937ULL);
    CHECK(rlc_xxh64("1234567891123456", 16, 0) == 0x2658B09CC412F64BULL);
    CHECK(rlc_xxh64("", 0, 0x1234567890abcdefULL) == 0xA2F5C44D0F46C872ULL);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CHECK(rlc_xxh64(fox, strlen(fox), 0) == 0x0B242D361FDA71BCULL);
    // streaming in pieces of every size equals one shot
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++) data[i] = (uint8_t)(i * 131 + 7);
    for (size_t step = 1; step <= 67; step += 3) {
        rlc_xxh64_state st;
        rlc_xxh64_init(&st, 99);
        for (size_t at = 0; at < sizeof data; at += step)
            rlc_xxh64_update(&st, data + at, at + step <= sizeof data ? step : sizeof data - at);
        CHECK_MSG(rlc_xxh64_digest(&st) == rlc_xxh64(data, sizeof data, 99), "step %zu", step);
    }
}

static void test_roundtrip(void) {
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        rlc_msg m = example((rlc_msg_type)t), out;
        CHECK_OK(rlc_proto_encode(&m, &buf));
        CHECK_OK(decode_copy(buf.data, buf.len, &out));
        CHECK_MSG(msg_equal(&m, &out), "%s round trip", rlc_msg_type_name(t));
        msgpack_unpacked u;
        CHECK_MSG(unpack(buf.data, buf.len, &u), "%s: msgpack-c cannot read it", rlc_msg_type_name(t));
        CHECK(u.data.type == MSGPACK_OBJECT_MAP);
        msgpack_unpacked_destroy(&u);
    }
    // a big trajectory (512 completion tokens), empty optional parts
    enum { N = 512 };
    static int32_t tok[N], ver[N], ptok[300];
    static float lp[N];
    for (int i = 0; i < N; i++) tok[i] = (i * 37) % VOCAB, ver[i] = i / 100, lp[i] = -(float)i / 64;
    for (int i = 0; i < 300; i++) ptok[i] = VOCAB - 1 - i;
    rlc_msg m = example(RLC_MSG_TRAJECTORY), out;
    m.trajectory.tokens = tok, m.trajectory.logprobs = lp, m.trajectory.versions = ver;
    m.trajectory.n_tokens = N, m.trajectory.prompt_tokens = ptok, m.trajectory.n_prompt_tokens = 300;
    m.trajectory.n_components = 0, m.trajectory.finish = RLC_FINISH_LENGTH;
    CHECK_OK(rlc_proto_encode(&m, &buf));
    CHECK_OK(rlc_proto_decode(dec, buf.data, buf.len, &out));
    CHECK(msg_equal(&m, &out));
    // an empty completion is valid
    m.trajectory.n_tokens = 0;
    CHECK_OK(rlc_proto_encode(&m, &buf));
    CHECK_OK(rlc_proto_decode(dec, buf.data, buf.len, &out));
    CHECK(msg_equal(&m, &out));
    // weights via the chunking helper
    static uint8_t w[1000];
    for (int i = 0; i < 1000; i++) w[i] = (uint8_t)(i ^ 0x5a);
    uint64_t total = rlc_xxh64(w, sizeof w, 0);
    uint32_t count = 0;
    for (uint32_t i = 0; i == 0 || i < count; i++) {
        CHECK_OK(rlc_proto_weights_chunk(&m, 3, w, sizeof w, 300, i, total, &count));
        CHECK_OK(rlc_proto_encode(&m, &buf));
        CHECK_OK(rlc_proto_decode(dec, buf.data, buf.len, &out));
        CHECK(out.weights.chunk_index == i && out.weights.offset == 300u * i);
        CHECK(out.weights.n_data == (i == 3 ? 100u : 300u));
        CHECK(memcmp(out.weights.data, w + 300 * i, out.weights.n_data) == 0);
    }
    CHECK(count == 4);
    CHECK(rlc_proto_weights_chunk(&m, 3, w, sizeof w, 300, 4, total, &count) == RLC_ERR_ARG);
}

// Walks every node of a decoded msgpack tree; replaces it with `repl`, re-packs,
// and expects the decoder to reject the message naming the enclosing key.
typedef struct {
    msgpack_sbuffer sb;
    msgpack_object root;
    const char *type;
    int replaced;
} walk_ctx;

static void try_replace(walk_ctx *w, msgpack_object *node, msgpack_object repl, const char *key) {
    msgpack_object saved = *node;
    *node = repl;
    pack_obj(&w->sb, w->root);
    char what[160];
    snprintf(what, sizeof what, "%s: '%s' replaced by msgpack type %d", w->type, key, repl.type);
    expect_bad(w->sb.data, w->sb.size, key, what);
    *node = saved;
    w->replaced++;
}

static void walk(walk_ctx *w, msgpack_object *o, const char *key, msgpack_object repl) {
    if (o->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            msgpack_object_kv *kv = &o->via.map.ptr[i];
            char k[64];
            snprintf(k, sizeof k, "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
            try_replace(w, &kv->val, repl, k);
            walk(w, &kv->val, k, repl);
        }
    } else if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            try_replace(w, &o->via.array.ptr[i], repl, key);
            walk(w, &o->via.array.ptr[i], key, repl);
        }
    }
}

static int is_optional(const char *type, const char *key) {
    static const char *opt[] = {
        "hello.device", "hello.capabilities", "hello.inflight", "hello.policy_version",
        "prompt_request.metadata", "trajectory.components", "trajectory.timings", "ack.seqs",
        "heartbeat.status", "heartbeat.policy_version", "weights_nccl.total_xxh64"};
    char full[96];
    snprintf(full, sizeof full, "%s.%s", type, key);
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++)
        if (!strcmp(opt[i], full)) return 1;
    return 0;
}

static void test_wrong_types_and_missing(void) {
    msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    msgpack_object yes = {.type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = true};
    int total = 0;
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        rlc_msg m = example((rlc_msg_type)t);
        CHECK_OK(rlc_proto_encode(&m, &buf));
        msgpack_unpacked u;
        CHECK(unpack(buf.data, buf.len, &u));
        walk_ctx w = {.root = u.data, .type = rlc_msg_type_name(t)};
        msgpack_sbuffer_init(&w.sb);
        // every field and element, at every depth: nil and true are never valid
        walk(&w, &w.root, "message", nil);
        walk(&w, &w.root, "message", yes);
        total += w.replaced;
        // every top-level field removed: rejected naming it unless optional
        msgpack_object_map *map = &w.root.via.map;
        for (uint32_t i = 0; i < map->size; i++) {
            msgpack_object_kv saved = map->ptr[i];
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)saved.key.via.str.size, saved.key.via.str.ptr);
            map->ptr[i] = map->ptr[map->size - 1];
            map->size--;
            pack_obj(&w.sb, w.root);
            rlc_msg out;
            rlc_status s = decode_copy(w.sb.data, w.sb.size, &out);
            if (is_optional(w.type, key)) {
                CHECK_MSG(s == RLC_OK, "%s without optional '%s': %s", w.type, key, rlc_last_error());
            } else {
                CHECK_MSG(s == RLC_ERR_BAD_MESSAGE && strstr(rlc_last_error(), key),
                          "%s without '%s': %s %s", w.type, key, rlc_status_name(s), rlc_last_error());
            }
            map->size++;
            map->ptr[map->size - 1] = map->ptr[i];
            map->ptr[i] = saved;
        }
        // an unknown field (nested) is skipped; a duplicate field is rejected
        msgpack_object_kv *grown = malloc((map->size + 1) * sizeof *grown);
        memcpy(grown, map->ptr, map->size * sizeof *grown);
        msgpack_object_kv *orig = map->ptr;
        map->ptr = grown;
        grown[map->size].key = (msgpack_object){.type = MSGPACK_OBJECT_STR, .via.str = {6, "future"}};
        grown[map->size].val = orig[map->size - 1].val;  // any value, e.g. a nested map
        map->size++;
        pack_obj(&w.sb, w.root);
        rlc_msg out;
        CHECK_MSG(decode_copy(w.sb.data, w.sb.size, &out) == RLC_OK, "%s + unknown field: %s", w.type,
                  rlc_last_error());
        grown[map->size - 1].key = grown[map->size - 2].key;  // duplicate of the last key
        pack_obj(&w.sb, w.root);
        expect_bad(w.sb.data, w.sb.size, "duplicate", "duplicate key");
        map->ptr = orig;
        map->size--;
        free(grown);
        msgpack_sbuffer_destroy(&w.sb);
        msgpack_unpacked_destroy(&u);
    }
    CHECK(total > 150);
    printf("wrong-type replacements: %d\n", total);
}

static void test_truncation(void) {
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        rlc_msg m = example((rlc_msg_type)t);
        CHECK_OK(rlc_proto_encode(&m, &buf));
        for (size_t k = 0; k < buf.len; k++) {
            char what[64];
            snprintf(what, sizeof what, "%s truncated to %zu of %zu", rlc_msg_type_name(t), k, buf.len);
            expect_bad(buf.data, k, k == 0 ? "empty" : "message", what);
        }
        // and one byte too many
        uint8_t *longer = malloc(buf.len + 1);
        memcpy(longer, buf.data, buf.len);
        longer[buf.len] = 0xc0;
        expect_bad(longer, buf.len + 1, "trailing", "trailing byte");
        free(longer);
    }
}

// Hand-built messages with msgpack-c's packer.
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} hb;

static void hb_init(hb *h) {
    msgpack_sbuffer_init(&h->sb);
    msgpack_packer_init(&h->pk, &h->sb, msgpack_sbuffer_write);
}
static void hb_str(hb *h, const char *s) { msgpack_pack_str_with_body(&h->pk, s, strlen(s)); }
static void hb_head(hb *h, size_t n, const char *type, unsigned version) {
    msgpack_pack_map(&h->pk, n);
    hb_str(h, "type"), hb_str(h, type);
    hb_str(h, "version"), msgpack_pack_uint32(&h->pk, version);
}

static void test_handmade(void) {
    hb h;
    uint8_t raw[64];
    // not a map at the top
    hb_init(&h);
    msgpack_pack_array(&h.pk, 2), hb_str(&h, "type"), hb_str(&h, "credit");
    expect_bad(h.sb.data, h.sb.size, "expected a map", "array at top level");
    msgpack_sbuffer_destroy(&h.sb);
    raw[0] = 0xc0;
    expect_bad(raw, 1, "expected a map", "nil at top level");
    raw[0] = 0xc1;
    expect_bad(raw, 1, "0xc1", "invalid byte");
    // wrong protocol version, with a hint
    hb_init(&h);
    hb_head(&h, 3, "credit", 2), hb_str(&h, "count"), msgpack_pack_uint32(&h.pk, 1);
    expect_bad(h.sb.data, h.sb.size, "protocol version 2", "version 2");
    CHECK(strstr(rlc_last_error(), "hint") != NULL);
    msgpack_sbuffer_destroy(&h.sb);
    // unknown type
    hb_init(&h);
    hb_head(&h, 2, "gossip", 1);
    expect_bad(h.sb.data, h.sb.size, "gossip", "unknown type");
    msgpack_sbuffer_destroy(&h.sb);
    // a bin that claims more bytes than the message holds
    hb_init(&h);
    hb_head(&h, 3, "weights", 1), hb_str(&h, "data");
    msgpack_sbuffer_write(&h.sb, "\xc6\x00\x10\x00\x00" "abcd", 9);
    expect_bad(h.sb.data, h.sb.size, "message.data: truncated", "bin past the end");
    msgpack_sbuffer_destroy(&h.sb);
    // an array that claims 2^31 elements
    hb_init(&h);
    hb_head(&h, 3, "ack", 1), hb_str(&h, "seqs");
    msgpack_sbuffer_write(&h.sb, "\xdd\x80\x00\x00\x00\x01\x02", 7);
    expect_bad(h.sb.data, h.sb.size, "message.seqs: declares more elements", "array length 2^31");
    msgpack_sbuffer_destroy(&h.sb);
    // a map that claims 2^32-1 pairs, at the top
    memcpy(raw, "\xdf\xff\xff\xff\xff\xa4type", 10);
    expect_bad(raw, 10, "declares more elements", "map length 2^32-1");
    // nesting bombs: 100 nested arrays in an unknown field
    hb_init(&h);
    hb_head(&h, 3, "credit", 1), hb_str(&h, "count"), msgpack_pack_uint32(&h.pk, 1);
    msgpack_sbuffer_destroy(&h.sb);
    hb_init(&h);
    hb_head(&h, 4, "credit", 1), hb_str(&h, "count"), msgpack_pack_uint32(&h.pk, 1);
    hb_str(&h, "deep");
    for (int i = 0; i < 100; i++) msgpack_pack_array(&h.pk, 1);
    msgpack_pack_nil(&h.pk);
    expect_bad(h.sb.data, h.sb.size, "message.deep: nested deeper", "nesting bomb");
    msgpack_sbuffer_destroy(&h.sb);
}

// Encodes a modified trajectory / request / weights and expects a rejection.
static void bad_traj(void (*edit)(rlc_msg *), const char *needle, const char *what) {
    rlc_msg m = example(RLC_MSG_TRAJECTORY);
    edit(&m);
    CHECK_OK(rlc_proto_encode(&m, &buf));
    expect_bad(buf.data, buf.len, needle, what);
}

static int32_t tok_tmp[4];
static float lp_tmp[4];
static void e_lp_nan(rlc_msg *m) { memcpy(lp_tmp, comp_lp, sizeof lp_tmp); lp_tmp[2] = NAN; m->trajectory.logprobs = lp_tmp; }
static void e_lp_inf(rlc_msg *m) { memcpy(lp_tmp, comp_lp, sizeof lp_tmp); lp_tmp[1] = -INFINITY; m->trajectory.logprobs = lp_tmp; }
static void e_lp_pos(rlc_msg *m) { memcpy(lp_tmp, comp_lp, sizeof lp_tmp); lp_tmp[3] = 0.5f; m->trajectory.logprobs = lp_tmp; }
static void e_tok_vocab(rlc_msg *m) { memcpy(tok_tmp, comp_tok, sizeof tok_tmp); tok_tmp[1] = VOCAB; m->trajectory.tokens = tok_tmp; }
static void e_tok_neg(rlc_msg *m) { memcpy(tok_tmp, prompt_tok, sizeof tok_tmp); tok_tmp[0] = -1; m->trajectory.prompt_tokens = tok_tmp; }
static void e_ver_neg(rlc_msg *m) { memcpy(tok_tmp, comp_ver, sizeof tok_tmp); tok_tmp[0] = -3; m->trajectory.versions = tok_tmp; }
static void e_reward_nan(rlc_msg *m) { m->trajectory.reward = NAN; }
static void e_reward_inf(rlc_msg *m) { m->trajectory.reward = INFINITY; }
static rlc_proto_component comp_tmp[2];
static void e_comp_inf(rlc_msg *m) { memcpy(comp_tmp, comps, sizeof comp_tmp); comp_tmp[1].value = -INFINITY; m->trajectory.components = comp_tmp; }
static void e_timing_neg(rlc_msg *m) { m->trajectory.generate_s = -1; }
static void e_bad_sample(rlc_msg *m) { m->trajectory.sample_index = 5000; }
static void e_seq_zero(rlc_msg *m) { m->trajectory.seq = 0; }

static void test_values(void) {
    bad_traj(e_lp_nan, "trajectory.logprobs[2]: nan", "NaN log-prob");
    bad_traj(e_lp_inf, "trajectory.logprobs[1]: -inf", "-inf log-prob");
    bad_traj(e_lp_pos, "trajectory.logprobs[3]: 0.5", "positive log-prob");
    bad_traj(e_tok_vocab, "trajectory.tokens[1]: token id 1000 is outside the vocabulary", "token == vocab");
    bad_traj(e_tok_neg, "trajectory.prompt_tokens[0]: token id -1", "negative token");
    bad_traj(e_ver_neg, "trajectory.versions[0]", "negative version");
    bad_traj(e_reward_nan, "trajectory.reward: nan is not finite", "NaN reward");
    bad_traj(e_reward_inf, "trajectory.reward: inf is not finite", "inf reward");
    bad_traj(e_comp_inf, "trajectory.components.format: -inf", "inf component");
    bad_traj(e_timing_neg, "trajectory.timings.generate", "negative timing");
    bad_traj(e_bad_sample, "trajectory.sample_index", "sample index >= max_n");
    bad_traj(e_seq_zero, "trajectory.seq", "seq 0");

    // mismatched lengths: build with msgpack-c from the tree, shrinking logprobs
    rlc_msg m = example(RLC_MSG_TRAJECTORY);
    CHECK_OK(rlc_proto_encode(&m, &buf));
    msgpack_unpacked u;
    CHECK(unpack(buf.data, buf.len, &u));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (uint32_t i = 0; i < u.data.via.map.size; i++) {
        msgpack_object_kv *kv = &u.data.via.map.ptr[i];
        if (kv->key.via.str.size == 8 && !memcmp(kv->key.via.str.ptr, "logprobs", 8)) {
            msgpack_object_map *t = &kv->val.via.map;  // dtype, shape, data
            t->ptr[1].val.via.array.ptr[0].via.u64 = 3;
            t->ptr[2].val.via.bin.size = 12;
            pack_obj(&sb, u.data);
            expect_bad(sb.data, sb.size, "trajectory.logprobs: 3 entries, but tokens has 4", "short logprobs");
            t->ptr[1].val.via.array.ptr[0].via.u64 = 4;  // shape disagrees with the bytes
            pack_obj(&sb, u.data);
            expect_bad(sb.data, sb.size, "trajectory.logprobs.data: 12 bytes, but shape [4]", "shape vs bytes");
            t->ptr[2].val.via.bin.size = 16;
            t->ptr[0].val.via.str = (msgpack_object_str){3, "i32"};
            pack_obj(&sb, u.data);
            expect_bad(sb.data, sb.size, "trajectory.logprobs.dtype: 'i32', expected 'f32'", "dtype");
            t->ptr[0].val.via.str = (msgpack_object_str){3, "f32"};
            msgpack_object two[2] = {{.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 2},
                                     {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 2}};
            msgpack_object_array saved = t->ptr[1].val.via.array;
            t->ptr[1].val.via.array = (msgpack_object_array){2, two};
            pack_obj(&sb, u.data);
            expect_bad(sb.data, sb.size, "trajectory.logprobs.shape: rank 2", "rank 2");
            t->ptr[1].val.via.array = saved;
        }
    }
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);

    // prompt request bounds
    rlc_msg r = example(RLC_MSG_PROMPT_REQUEST);
    r.prompt_request.n = 0;
    CHECK_OK(rlc_proto_encode(&r, &buf));
    expect_bad(buf.data, buf.len, "prompt_request.n: 0 is outside [1, 4096]", "n = 0");
    r = example(RLC_MSG_PROMPT_REQUEST);
    r.prompt_request.n = 100000;
    CHECK_OK(rlc_proto_encode(&r, &buf));
    expect_bad(buf.data, buf.len, "prompt_request.n", "n too large");
    r = example(RLC_MSG_PROMPT_REQUEST);
    r.prompt_request.sampling.top_p = 0;
    CHECK_OK(rlc_proto_encode(&r, &buf));
    expect_bad(buf.data, buf.len, "prompt_request.sampling.top_p", "top_p 0");
    r = example(RLC_MSG_PROMPT_REQUEST);
    r.prompt_request.sampling.temperature = NAN;
    CHECK_OK(rlc_proto_encode(&r, &buf));
    expect_bad(buf.data, buf.len, "prompt_request.sampling.temperature: nan", "temperature NaN");
    r = example(RLC_MSG_PROMPT_REQUEST);
    r.prompt_request.sampling.top_k = VOCAB + 1;
    CHECK_OK(rlc_proto_encode(&r, &buf));
    expect_bad(buf.data, buf.len, "prompt_request.sampling.top_k", "top_k > vocab");
    static const int32_t big_tok[] = {5, 99999};
    r = example(RLC_MSG_PROMPT_REQUEST);
    r.prompt_request.tokens = big_tok, r.prompt_request.n_tokens = 2;
    CHECK_OK(rlc_proto_encode(&r, &buf));
    expect_bad(buf.data, buf.len, "prompt_request.tokens[1]", "prompt token >= vocab");

    // hello
    rlc_msg h = example(RLC_MSG_HELLO);
    h.hello.credit = 9;
    CHECK_OK(rlc_proto_encode(&h, &buf));
    expect_bad(buf.data, buf.len, "hello.credit: 9 exceeds max_credit 8", "credit > max");
    h = example(RLC_MSG_HELLO);
    h.hello.worker_id = "bad id!";
    CHECK(rlc_proto_encode(&h, &buf) == RLC_ERR_ARG);  // the encoder refuses too

    // weights: checksum, range
    rlc_msg w = example(RLC_MSG_WEIGHTS), out;
    CHECK_OK(rlc_proto_encode(&w, &buf));
    buf.data[buf.len - 3] ^= 0x40;  // a payload byte
    expect_bad(buf.data, buf.len, "weights.data: checksum mismatch", "corrupt chunk");
    w.weights.chunk_index = 4;
    CHECK_OK(rlc_proto_encode(&w, &buf));
    expect_bad(buf.data, buf.len, "weights.chunk_index: 4 >= chunk_count 4", "chunk index");
    w = example(RLC_MSG_WEIGHTS);
    w.weights.offset = 60;
    CHECK_OK(rlc_proto_encode(&w, &buf));
    expect_bad(buf.data, buf.len, "weights.offset", "chunk past total");
    w.weights.offset = UINT64_MAX - 4;  // overflow of offset + n_data
    CHECK_OK(rlc_proto_encode(&w, &buf));
    expect_bad(buf.data, buf.len, "weights.offset", "offset overflow");

    // weight_group: ranks, world, the id; leaving
    rlc_msg g = example(RLC_MSG_WEIGHT_GROUP);
    g.weight_group.world = 0, g.weight_group.rank = 0, g.weight_group.nccl_id = NULL, g.weight_group.n_nccl_id = 0;
    CHECK_OK(rlc_proto_encode(&g, &buf));
    CHECK_OK(rlc_proto_decode(dec, buf.data, buf.len, &out));
    CHECK(out.type == RLC_MSG_WEIGHT_GROUP && out.weight_group.world == 0 && !out.weight_group.nccl_id);
    static const uint8_t long_id[RLC_PROTO_NCCL_ID_MAX + 1];
    struct { uint32_t rank, world; const uint8_t *id; size_t n; const char *needle; } bad_groups[] = {
        {3, 3, nccl_id, sizeof nccl_id, "weight_group.rank: rank 3 of world 3"},
        {0, 3, nccl_id, sizeof nccl_id, "weight_group.rank: rank 0 of world 3"},
        {1, 1, nccl_id, sizeof nccl_id, "weight_group.world: rank 1 of world 1"},
        {1, 0, NULL, 0, "weight_group.rank: world 0 (leave)"},
        {0, 0, nccl_id, sizeof nccl_id, "weight_group.nccl_id: world 0 (leave)"},
        {1, 2, long_id, sizeof long_id, "weight_group.nccl_id: 257 bytes"},
        {1, 5000, nccl_id, sizeof nccl_id, "weight_group.world: 5000 is outside"},
    };
    for (size_t i = 0; i < sizeof bad_groups / sizeof *bad_groups; i++) {
        // the encoder refuses these too: write them by hand
        hb hm;
        hb_init(&hm);
        size_t nf = bad_groups[i].id ? 6 : 5;
        hb_head(&hm, nf, "weight_group", RLC_PROTO_VERSION);
        hb_str(&hm, "group"), msgpack_pack_uint64(&hm.pk, 1);
        hb_str(&hm, "rank"), msgpack_pack_uint64(&hm.pk, bad_groups[i].rank);
        hb_str(&hm, "world"), msgpack_pack_uint64(&hm.pk, bad_groups[i].world);
        if (bad_groups[i].id) hb_str(&hm, "nccl_id"), msgpack_pack_bin_with_body(&hm.pk, bad_groups[i].id, bad_groups[i].n);
        expect_bad(hm.sb.data, hm.sb.size, bad_groups[i].needle, bad_groups[i].needle);
        msgpack_sbuffer_destroy(&hm.sb);
    }
    g = example(RLC_MSG_WEIGHT_GROUP);
    g.weight_group.rank = 3;
    CHECK(rlc_proto_encode(&g, &buf) == RLC_ERR_ARG);
    g = example(RLC_MSG_WEIGHT_GROUP);
    g.weight_group.group = 0;
    CHECK(rlc_proto_encode(&g, &buf) == RLC_ERR_ARG);
    {  // group 0, world 2 without an id
        hb hm;
        hb_init(&hm);
        hb_head(&hm, 5, "weight_group", RLC_PROTO_VERSION);
        hb_str(&hm, "group"), msgpack_pack_uint64(&hm.pk, 0);
        hb_str(&hm, "rank"), msgpack_pack_uint64(&hm.pk, 1);
        hb_str(&hm, "world"), msgpack_pack_uint64(&hm.pk, 2);
        expect_bad(hm.sb.data, hm.sb.size, "weight_group.group: 0 is outside", "group 0");
        msgpack_sbuffer_destroy(&hm.sb);
        hb_init(&hm);
        hb_head(&hm, 5, "weight_group", RLC_PROTO_VERSION);
        hb_str(&hm, "group"), msgpack_pack_uint64(&hm.pk, 4);
        hb_str(&hm, "rank"), msgpack_pack_uint64(&hm.pk, 1);
        hb_str(&hm, "world"), msgpack_pack_uint64(&hm.pk, 2);
        expect_bad(hm.sb.data, hm.sb.size, "weight_group.nccl_id: missing", "no id");
        msgpack_sbuffer_destroy(&hm.sb);
    }

    // weights_nccl: dtype, size, the optional checksum
    rlc_msg a = example(RLC_MSG_WEIGHTS_NCCL);
    a.weights_nccl.has_xxh64 = 0;
    CHECK_OK(rlc_proto_encode(&a, &buf));
    CHECK_OK(rlc_proto_decode(dec, buf.data, buf.len, &out));
    CHECK(out.type == RLC_MSG_WEIGHTS_NCCL && !out.weights_nccl.has_xxh64 && out.weights_nccl.total_bytes == 64);
    a.weights_nccl.total_bytes = 62;
    CHECK(rlc_proto_encode(&a, &buf) == RLC_ERR_ARG);
    {
        struct { const char *dtype; uint64_t bytes, version; const char *needle; } bad_ann[] = {
            {"bf16", 64, 7, "weights_nccl.dtype: 'bf16' is not 'f32'"},
            {"f32", 62, 7, "weights_nccl.total_bytes: 62 is not a multiple of 4"},
            {"f32", 0, 7, "weights_nccl.total_bytes: 0 is outside"},
            {"f32", 64, (uint64_t)INT64_MAX + 1, "weights_nccl.policy_version"},
        };
        for (size_t i = 0; i < sizeof bad_ann / sizeof *bad_ann; i++) {
            hb hm;
            hb_init(&hm);
            hb_head(&hm, 6, "weights_nccl", RLC_PROTO_VERSION);
            hb_str(&hm, "policy_version"), msgpack_pack_uint64(&hm.pk, bad_ann[i].version);
            hb_str(&hm, "group"), msgpack_pack_uint64(&hm.pk, 1);
            hb_str(&hm, "total_bytes"), msgpack_pack_uint64(&hm.pk, bad_ann[i].bytes);
            hb_str(&hm, "dtype"), hb_str(&hm, bad_ann[i].dtype);
            expect_bad(hm.sb.data, hm.sb.size, bad_ann[i].needle, bad_ann[i].needle);
            msgpack_sbuffer_destroy(&hm.sb);
        }
    }

    // oversized message against the decoder's limit
    rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
    lim.max_message_bytes = 64;
    rlc_proto_decoder *small;
    CHECK_OK(rlc_proto_decoder_create(&lim, &small));
    m = example(RLC_MSG_TRAJECTORY);
    CHECK_OK(rlc_proto_encode(&m, &buf));
    CHECK(rlc_proto_decode(small, buf.data, buf.len, &out) == RLC_ERR_BAD_MESSAGE);
    CHECK(strstr(rlc_last_error(), "exceed the limit of 64") != NULL);
    rlc_proto_decoder_free(small);
    // a list longer than max_list
    lim = rlc_proto_limits_default(VOCAB);
    lim.max_list = 1;
    CHECK_OK(rlc_proto_decoder_create(&lim, &small));
    CHECK_OK(rlc_proto_encode(&r, &buf));
    r = example(RLC_MSG_PROMPT_REQUEST);
    CHECK_OK(rlc_proto_encode(&r, &buf));
    CHECK(rlc_proto_decode(small, buf.data, buf.len, &out) == RLC_ERR_BAD_MESSAGE);
    CHECK(strstr(rlc_last_error(), "prompt_request.sampling.stop: 2 entries exceed the limit of 1") != NULL);
    rlc_proto_decoder_free(small);
    lim.vocab_size = 0;
    CHECK(rlc_proto_decoder_create(&lim, &small) == RLC_ERR_ARG);
}

// ---- fuzz: random mutations of valid messages -----------------------------------------

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static void test_fuzz(int iters) {
    static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xc4, 0xc6, 0xca,
                                          0xcb, 0xcf, 0xd3, 0xdc, 0xdd, 0xde, 0xdf, 0x9f, 0x8f, 0xbf};
    rlc_proto_buf seeds[RLC_MSG_TYPE_COUNT] = {{0}};
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        rlc_msg m = example((rlc_msg_type)t);
        CHECK_OK(rlc_proto_encode(&m, &seeds[t]));
    }
    rlc_proto_buf re = {0};
    uint8_t *work = malloc(4096);
    int accepted = 0, rejected = 0;
    for (int it = 0; it < iters; it++) {
        rlc_proto_buf *s = &seeds[RLC_MSG_HELLO + rnd() % (RLC_MSG_TYPE_COUNT - 1)];
        size_t len = s->len;
        memcpy(work, s->data, len);
        int muts = 1 + rnd() % 4;
        for (int k = 0; k < muts && len > 0; k++) {
            size_t at = rnd() % len;
            switch (rnd() % 6) {
            case 0: work[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: work[at] = interesting[rnd() % sizeof interesting]; break;
            case 2: len = at; break;  // truncate
            case 3:                    // insert a byte
                if (len < 4000) {
                    memmove(work + at + 1, work + at, len - at);
                    work[at] = (uint8_t)rnd();
                    len++;
                }
                break;
            case 4: memmove(work + at, work + at + 1, len - at - 1), len--; break;  // delete
            default: work[at] = (uint8_t)rnd(); break;
            }
        }
        rlc_msg out, again;
        rlc_status st = decode_copy(work, len, &out);
        CHECK_MSG(st == RLC_OK || st == RLC_ERR_BAD_MESSAGE, "fuzz %d: %s", it, rlc_status_name(st));
        if (st != RLC_OK) {
            rejected++;
            continue;
        }
        accepted++;
        // whatever is accepted is a valid message: it re-encodes and decodes equal
        rlc_status es = rlc_proto_encode(&out, &re);
        CHECK_MSG(es == RLC_OK, "fuzz %d: re-encode: %s", it, rlc_last_error());
        if (es != RLC_OK) continue;
        rlc_proto_decoder *d2;
        rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
        CHECK_OK(rlc_proto_decoder_create(&lim, &d2));
        CHECK_MSG(rlc_proto_decode(d2, re.data, re.len, &again) == RLC_OK, "fuzz %d: %s", it, rlc_last_error());
        CHECK_MSG(msg_equal(&out, &again), "fuzz %d: re-decoded message differs", it);
        rlc_proto_decoder_free(d2);
    }
    printf("fuzz: %d mutations, %d accepted, %d rejected\n", iters, accepted, rejected);
    free(work);
    rlc_proto_buf_free(&re);
    for (int t = 0; t < RLC_MSG_TYPE_COUNT; t++) rlc_proto_buf_free(&seeds[t]);
}

// ---- allocation: failures are reported, steady state allocates nothing ------------------

static long n_allocs;
static void *counting_alloc(void *ud, void *ptr, size_t size) {
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    n_allocs++;
    return realloc(ptr, size);
}

static void test_alloc(void) {
    rlc_msg m = example(RLC_MSG_PROMPT_REQUEST), out;
    rlc_proto_buf b = {0};
    CHECK_OK(rlc_proto_encode(&m, &b));
    rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
    for (long n = 0; n < 4; n++) {
        rlc_proto_decoder *d = NULL;
        rlc_alloc_fail_after(n);
        rlc_status s = rlc_proto_decoder_create(&lim, &d);
        if (s == RLC_OK) s = rlc_proto_decode(d, b.data, b.len, &out);
        rlc_alloc_fail_after(-1);
        CHECK_MSG(s == RLC_OK || s == RLC_ERR_NOMEM, "fail after %ld: %s", n, rlc_status_name(s));
        rlc_proto_decoder_free(d);
    }
    rlc_alloc_fail_after(0);
    rlc_proto_buf empty = {0};
    CHECK(rlc_proto_encode(&m, &empty) == RLC_ERR_NOMEM);
    rlc_alloc_fail_after(-1);
    rlc_proto_buf_free(&empty);

    // steady state: after one round of every type, no more allocations
    rlc_set_allocator(counting_alloc, NULL);
    for (int round = 0; round < 3; round++) {
        if (round == 2) n_allocs = 0;
        for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
            rlc_msg e = example((rlc_msg_type)t);
            CHECK_OK(rlc_proto_encode(&e, &b));
            CHECK_OK(rlc_proto_decode(dec, b.data, b.len, &out));
        }
    }
    rlc_set_allocator(NULL, NULL);
    CHECK_MSG(n_allocs == 0, "%ld allocations in steady state", n_allocs);
    rlc_proto_buf_free(&b);
}

// ---- examples for docs/protocol.md ----------------------------------------------------

static void print_hex(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x%s", p[i], (i % 32 == 31 || i + 1 == n) ? "\n" : " ");
}

static void print_obj(msgpack_object o, int indent) {
    switch (o.type) {
    case MSGPACK_OBJECT_MAP:
        printf("{\n");
        for (uint32_t i = 0; i < o.via.map.size; i++) {
            printf("%*s\"%.*s\": ", indent + 2, "", (int)o.via.map.ptr[i].key.via.str.size,
                   o.via.map.ptr[i].key.via.str.ptr);
            print_obj(o.via.map.ptr[i].val, indent + 2);
            printf("%s\n", i + 1 < o.via.map.size ? "," : "");
        }
        printf("%*s}", indent, "");
        break;
    case MSGPACK_OBJECT_ARRAY:
        printf("[");
        for (uint32_t i = 0; i < o.via.array.size; i++) {
            print_obj(o.via.array.ptr[i], indent);
            printf("%s", i + 1 < o.via.array.size ? ", " : "");
        }
        printf("]");
        break;
    case MSGPACK_OBJECT_STR: {
        printf("\"");
        for (uint32_t i = 0; i < o.via.str.size; i++) {
            char c = o.via.str.ptr[i];
            if (c == '\n') printf("\\n");
            else printf("%c", c);
        }
        printf("\"");
        break;
    }
    case MSGPACK_OBJECT_BIN:
        printf("bin(%u)<", o.via.bin.size);
        for (uint32_t i = 0; i < o.via.bin.size; i++) printf("%02x", (uint8_t)o.via.bin.ptr[i]);
        printf(">");
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: printf("%llu", (unsigned long long)o.via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: printf("%lld", (long long)o.via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {  // the shortest text that reads back exactly
        char t[32];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(t, sizeof t, "%.*g", prec, o.via.f64);
            if (strtod(t, NULL) == o.via.f64) break;
        }
        printf("%s%s", t, strpbrk(t, ".e") ? "" : ".0");
        break;
    }
    default: msgpack_object_print(stdout, o);
    }
}

static void print_examples(void) {
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        rlc_msg m = example((rlc_msg_type)t);
        if (rlc_proto_encode(&m, &buf) != RLC_OK) return;
        msgpack_unpacked u;
        if (!unpack(buf.data, buf.len, &u)) return;
        printf("### %s (%zu bytes)\n\n```\n", rlc_msg_type_name(t), buf.len);
        print_obj(u.data, 0);
        printf("\n```\n\n```\n");
        print_hex(buf.data, buf.len);
        printf("```\n\n");
        msgpack_unpacked_destroy(&u);
    }
}

int main(int argc, char **argv) {
    rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
    if (rlc_proto_decoder_create(&lim, &dec) != RLC_OK) return 1;
    if (argc > 1 && !strcmp(argv[1], "--examples")) {
        print_examples();
        return 0;
    }
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    test_xxh64();
    test_roundtrip();
    test_wrong_types_and_missing();
    test_truncation();
    test_handmade();
    test_values();
    test_fuzz(iters);
    test_alloc();
    rlc_proto_buf_free(&buf);
    rlc_proto_decoder_free(dec);
    free(last_copy);
    return test_finish("test_protocol");
}
