// test_safetensors.c: the safetensors reader and writer, sharded checkpoints,
// weight loading by the parameter table, and malformed files, each of which
// must fail with RLC_ERR_FORMAT and a message naming what is wrong.
#define _XOPEN_SOURCE 700  // nftw
#include <ftw.h>       // nftw
#include <stdint.h>    // uint16_t, uint64_t
#include <stdio.h>     // fopen, fwrite
#include <stdlib.h>    // mkdtemp
#include <string.h>    // strstr
#include <sys/stat.h>  // mkdir

#include "actor/config.h"       // actor_config_load
#include "actor/params.h"       // actor_params_create
#include "actor/safetensors.h"  // safetensors_open, safetensors_write
#include "actor/weights.h"      // actor_weights_load, actor_weights_save
#include "core/core.h"          // rlc_read_file, rlc_alloc_fail_after
#include "test.h"

static char tmp_dir[64];

static const char *tmp_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", tmp_dir, name);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, n, f) == n);
    fclose(f);
}

// A safetensors file from a header text and raw data; `hlen` overrides the
// 8-byte length when non-zero.
static const char *make_file(char *buf, size_t cap, const char *name, const char *header,
                             const void *data, size_t n, uint64_t hlen) {
    size_t h = strlen(header);
    unsigned char *b = malloc(8 + h + n + 1);
    uint64_t len = hlen ? hlen : h;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(len >> (8 * i));
    memcpy(b + 8, header, h);
    if (n) memcpy(b + 8 + h, data, n);
    tmp_path(buf, cap, name);
    write_bytes(buf, b, 8 + h + n);
    free(b);
    return buf;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

// ---- round trips --------------------------------------------------------------------

static void fill(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((int)(seed >> 8) % 20001 - 10000) / 3001.0f;
    }
}

static void test_f32_round_trip(void) {
    float a[6], b[5], c[1];
    fill(a, 6, 1), fill(b, 5, 2), c[0] = 42.0f;
    safetensors_entry e[3] = {
        {"model.embed_tokens.weight", 2, {2, 3}, a},
        {"odd \"name\"\\with\tescapes", 1, {5}, b},
        {"scalar", 0, {0}, c},
    };
    char path[256];
    tmp_path(path, sizeof path, "rt.safetensors");
    CHECK_OK(safetensors_write(path, e, 3, SAFETENSORS_DTYPE_F32));
    char *raw;
    size_t len;
    CHECK_OK(rlc_read_file(path, &raw, &len));
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | (unsigned char)raw[i];
    CHECK((8 + hl) % 8 == 0 && raw[8] == '{' && len == 8 + hl + 12 * 4);
    rlc_free(raw);

    safetensors_file *f;
    CHECK_OK(safetensors_open(path, &f));
    if (!f) return;
    CHECK(safetensors_count(f) == 3);
    CHECK(safetensors_metadata(f, "format") && strcmp(safetensors_metadata(f, "format"), "pt") == 0);
    const safetensors_tensor *t = safetensors_find(f, "model.embed_tokens.weight");
    CHECK(t && t->dtype == SAFETENSORS_DTYPE_F32 && t->ndim == 2 && t->shape[0] == 2 &&
          t->shape[1] == 3 && t->numel == 6);
    float out[6];
    if (t) CHECK_OK(safetensors_to_f32(t, out));
    CHECK(memcmp(out, a, sizeof a) == 0);
    t = safetensors_find(f, "odd \"name\"\\with\tescapes");
    CHECK(t && t->numel == 5);
    if (t) CHECK_OK(safetensors_to_f32(t, out));
    CHECK(memcmp(out, b, sizeof b) == 0);
    t = safetensors_find(f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->nbytes == 4);
    CHECK(safetensors_find(f, "absent") == NULL);
    CHECK(safetensors_get(f, 0) && safetensors_get(f, 0)->data < safetensors_get(f, 1)->data);
    safetensors_close(f);
}

static void test_bf16_write(void) {
    // Exact in bf16; then 1 + 2^-8 (a tie: to even, 1.0) and 1 + 3 * 2^-9
    // (above the tie: 1 + 2^-7).
    float x[5] = {1.5f, -2.0f, 0.0078125f, 1.00390625f, 1.005859375f};
    float want[5] = {1.5f, -2.0f, 0.0078125f, 1.0f, 1.0078125f};
    safetensors_entry e = {"w", 1, {5}, x};
    char path[256];
    CHECK_OK(safetensors_write(tmp_path(path, sizeof path, "bf.safetensors"), &e, 1,
                               SAFETENSORS_DTYPE_BF16));
    safetensors_file *f;
    CHECK_OK(safetensors_open(path, &f));
    if (!f) return;
    const safetensors_tensor *t = safetensors_find(f, "w");
    CHECK(t && t->dtype == SAFETENSORS_DTYPE_BF16 && t->nbytes == 10);
    float out[5];
    if (t) CHECK_OK(safetensors_to_f32(t, out));
    for (int i = 0; i < 5; i++) CHECK_MSG(out[i] == want[i], "[%d] %g != %g", i, out[i], want[i]);
    safetensors_close(f);
    CHECK(safetensors_write(path, &e, 1, SAFETENSORS_DTYPE_F16) == RLC_ERR_ARG);
}

// Files built by hand, checked against known conversions.
static void test_hand_built_dtypes(void) {
    const uint16_t f16[6] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x7C00};
    const float f16_want[6] = {1.0f, -2.0f, 65504.0f, 5.9604644775390625e-08f, 0.333251953125f,
                               INFINITY};
    const uint16_t bf16[4] = {0x3F80, 0xC040, 0x4049, 0x0001};
    const float bf16_want[4] = {1.0f, -3.0f, 3.140625f, 9.18354961579912115600575419705e-41f};
    const double f64[2] = {0.1, -1e300};
    unsigned char data[12 + 8 + 16];
    memcpy(data, f16, 12), memcpy(data + 12, bf16, 8), memcpy(data + 20, f64, 16);
    char path[256];
    make_file(path, sizeof path, "dtypes.safetensors",
              "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
              "\"__metadata__\":{\"note\":\"hand made\"},"
              "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[12,20]},"
              "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[20,36]}}",
              data, sizeof data, 0);
    safetensors_file *f;
    CHECK_OK(safetensors_open(path, &f));
    if (!f) return;
    float out[6];
    const safetensors_tensor *t = safetensors_find(f, "h");
    CHECK(t && t->numel == 6);
    if (t) CHECK_OK(safetensors_to_f32(t, out));
    for (int i = 0; i < 6; i++)
        CHECK_MSG(out[i] == f16_want[i], "f16[%d] %.10g != %.10g", i, out[i], f16_want[i]);
    t = safetensors_find(f, "b");
    if (t) CHECK_OK(safetensors_to_f32(t, out));
    for (int i = 0; i < 4; i++)
        CHECK_MSG(out[i] == bf16_want[i], "bf16[%d] %.10g != %.10g", i, out[i], bf16_want[i]);
    t = safetensors_find(f, "d");
    if (t) CHECK_OK(safetensors_to_f32(t, out));
    CHECK(out[0] == 0.1f && isinf(out[1]) && out[1] < 0);
    CHECK(strcmp(safetensors_metadata(f, "note"), "hand made") == 0);
    CHECK(safetensors_f32_to_bf16(NAN) != 0x7f80 && isnan(safetensors_bf16_to_f32(
                                                        safetensors_f32_to_bf16(NAN))));
    safetensors_close(f);
    // An integer tensor is valid but cannot become float32.
    int32_t ints[2] = {1, 2};
    make_file(path, sizeof path, "ints.safetensors",
              "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", ints, 8, 0);
    CHECK_OK(safetensors_open(path, &f));
    if (f) CHECK(safetensors_to_f32(safetensors_find(f, "i"), out) == RLC_ERR_UNSUPPORTED);
    safetensors_close(f);
}

// ---- weights by the parameter table ------------------------------------------------------

static const char *SMALL_QWEN2 =
    "{\"model_type\": \"qwen2\", \"vocab_size\": 40, \"hidden_size\": 8,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
    " \"intermediate_size\": 12, \"tie_word_embeddings\": %s}";

static rlc_status small_params(const char *tied, actor_params *p, actor_config *c) {
    char json[512], path[256];
    snprintf(json, sizeof json, SMALL_QWEN2, tied);
    tmp_path(path, sizeof path, "config_small.json");
    write_bytes(path, json, strlen(json));
    RLC_TRY(actor_config_load(path, c));
    return actor_params_create(c, p);
}

static void make_dir(char *buf, size_t cap, const char *name) {
    tmp_path(buf, cap, name);
    CHECK(mkdir(buf, 0700) == 0);
}

static void test_weights_round_trip(void) {
    actor_config c;
    actor_params p, q;
    CHECK_OK(small_params("false", &p, &c));
    fill(p.data, p.numel, 7);
    char dir[256], file[300];
    make_dir(dir, sizeof dir, "single");
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    CHECK_OK(actor_weights_save(file, &p));
    CHECK_OK(actor_params_create(&c, &q));
    CHECK_OK(actor_weights_load(dir, &c, &q));
    int same = 1;
    for (int i = 0; i < p.n_tensors; i++)
        same &= memcmp(p.data + p.tensors[i].offset, q.data + q.tensors[i].offset,
                       p.tensors[i].numel * 4) == 0;
    CHECK(same);
    actor_params_free(&q);

    // The same file into a tied model: its lm_head.weight is ignored.
    actor_config ct;
    CHECK_OK(small_params("true", &q, &ct));
    CHECK_OK(actor_weights_load(dir, &ct, &q));
    CHECK(memcmp(q.embed, p.embed, 40 * 8 * 4) == 0 && q.lm_head == q.embed);

    // A tied checkpoint into the untied model: lm_head.weight is missing.
    char dir2[256];
    make_dir(dir2, sizeof dir2, "tied");
    snprintf(file, sizeof file, "%s/model.safetensors", dir2);
    CHECK_OK(actor_weights_save(file, &q));
    rlc_status s = actor_weights_load(dir2, &c, &p);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "missing tensor lm_head.weight"),
              "%s: %s", rlc_status_name(s), rlc_last_error());
    actor_params_free(&q);
    actor_params_free(&p);
}

// Entries for every tensor of p, plus an extra one the table does not hold.
static safetensors_entry *entries_of(const actor_params *p, int *n) {
    static float inv_freq[4] = {1, 2, 3, 4};
    safetensors_entry *e = calloc((size_t)p->n_tensors + 1, sizeof *e);
    for (int i = 0; i < p->n_tensors; i++) {
        e[i].name = p->tensors[i].name;
        e[i].ndim = p->tensors[i].ndim;
        e[i].shape[0] = p->tensors[i].shape[0];
        e[i].shape[1] = p->tensors[i].shape[1];
        e[i].data = p->data + p->tensors[i].offset;
    }
    e[p->n_tensors] = (safetensors_entry){"model.layers.0.self_attn.rotary_emb.inv_freq", 1, {4},
                                          inv_freq};
    *n = p->n_tensors + 1;
    return e;
}

static void test_sharded(void) {
    actor_config c;
    actor_params p, q;
    CHECK_OK(small_params("true", &p, &c));
    fill(p.data, p.numel, 11);
    int n;
    safetensors_entry *e = entries_of(&p, &n);
    char dir[256], path[400];
    make_dir(dir, sizeof dir, "sharded");
    int half = n / 2;
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    CHECK_OK(safetensors_write(path, e, half, SAFETENSORS_DTYPE_F32));
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    CHECK_OK(safetensors_write(path, e + half, n - half, SAFETENSORS_DTYPE_F32));
    // The index, with the shard of each name.
    size_t cap = 16384, at = 0;
    char *idx = malloc(cap);
    at += (size_t)snprintf(idx, cap, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(idx + at, cap - at, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                               i ? ", " : "", e[i].name, i < half ? 1 : 2);
    snprintf(idx + at, cap - at, "}}");
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_bytes(path, idx, strlen(idx));

    safetensors_set *set;
    CHECK_OK(safetensors_set_open(dir, &set));
    if (set) {
        const char *file = NULL;
        const safetensors_tensor *t = safetensors_set_find(set, e[n - 1].name, &file);
        CHECK(t && file && strstr(file, "model-00002-of-00002.safetensors"));
        CHECK(safetensors_set_find(set, "nope", NULL) == NULL);
        safetensors_set_close(set);
    }
    CHECK_OK(actor_params_create(&c, &q));
    CHECK_OK(actor_weights_load(dir, &c, &q));
    int same = 1;
    for (int i = 0; i < p.n_tensors; i++)
        same &= memcmp(p.data + p.tensors[i].offset, q.data + q.tensors[i].offset,
                       p.tensors[i].numel * 4) == 0;
    CHECK(same);

    // An index naming a shard that lacks the tensor, and one escaping the directory.
    char *swap = strstr(idx, "model-00001");
    memcpy(swap, "model-00002", 11);
    write_bytes(path, idx, strlen(idx));
    rlc_status s = actor_weights_load(dir, &c, &q);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "does not hold"), "%s",
              rlc_last_error());
    memcpy(swap, "../00001-of", 11);
    write_bytes(path, idx, strlen(idx));
    s = actor_weights_load(dir, &c, &q);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "plain file name"), "%s",
              rlc_last_error());
    free(idx);
    free(e);
    actor_params_free(&q);
    actor_params_free(&p);
}

// A checkpoint missing one tensor, and one with a wrong shape.
static void test_weights_errors(void) {
    actor_config c;
    actor_params p;
    CHECK_OK(small_params("true", &p, &c));
    int n;
    safetensors_entry *e = entries_of(&p, &n);
    char dir[256], path[400];
    make_dir(dir, sizeof dir, "missing");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK_OK(safetensors_write(path, e + 1, n - 1, SAFETENSORS_DTYPE_F32));  // no embed
    rlc_status s = actor_weights_load(dir, &c, &p);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "model.embed_tokens.weight") &&
                  strstr(rlc_last_error(), "model.safetensors"),
              "%s: %s", rlc_status_name(s), rlc_last_error());

    make_dir(dir, sizeof dir, "wrong_shape");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    safetensors_entry *k = NULL;  // k_proj.weight (KV*D, C) = (4, 8), written as (8, 4)
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, "model.layers.1.self_attn.k_proj.weight") == 0) k = &e[i];
    CHECK(k && k->shape[0] == 4 && k->shape[1] == 8);
    if (k) k->shape[0] = 8, k->shape[1] = 4;
    CHECK_OK(safetensors_write(path, e, n, SAFETENSORS_DTYPE_F32));
    s = actor_weights_load(dir, &c, &p);
    CHECK_MSG(s == RLC_ERR_FORMAT &&
                  strstr(rlc_last_error(), "k_proj.weight: expected shape (4, 8), found (8, 4)"),
              "%s: %s", rlc_status_name(s), rlc_last_error());
    CHECK(actor_weights_load("/nonexistent", &c, &p) == RLC_ERR_IO);
    free(e);
    actor_params_free(&p);
}

// ---- malformed files -----------------------------------------------------------------------

// Opening `path` fails with RLC_ERR_FORMAT and a message holding `needle`.
static void expect_bad(const char *path, const char *needle) {
    safetensors_file *f = (safetensors_file *)1;
    rlc_status s = safetensors_open(path, &f);
    if (getenv("RLC_VERBOSE")) printf("  %s\n", rlc_last_error());
    CHECK_MSG(s == RLC_ERR_FORMAT && f == NULL, "%s: got %s", path, rlc_status_name(s));
    CHECK_MSG(strstr(rlc_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"",
              rlc_last_error(), needle);
    CHECK_MSG(strstr(rlc_last_error(), tmp_dir) != NULL, "message \"%s\" lacks the path",
              rlc_last_error());
}

#define TWO(a, b)                                                                 \
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" a "},"            \
    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" b "}}"

static void test_malformed(void) {
    char path[256];
    unsigned char zeros[64] = {0};
    make_file(path, sizeof path, "ok.safetensors", TWO("[0,8]", "[8,16]"), zeros, 16, 0);
    safetensors_file *f;
    CHECK_OK(safetensors_open(path, &f));
    safetensors_close(f);

    char *raw;
    size_t len;
    CHECK_OK(rlc_read_file(path, &raw, &len));
    tmp_path(path, sizeof path, "truncated.safetensors");
    write_bytes(path, raw, len - 4);
    expect_bad(path, "data section");
    write_bytes(path, raw, 20);
    expect_bad(path, "past the end");
    write_bytes(path, raw, 5);
    expect_bad(path, "too small");
    rlc_free(raw);

    expect_bad(make_file(path, sizeof path, "past_end.safetensors", TWO("[0,8]", "[8,16]"), zeros,
                         16, 1 << 20), "past the end");
    expect_bad(make_file(path, sizeof path, "huge_header.safetensors", "{}", NULL, 0,
                         (uint64_t)1 << 40), "limit");
    expect_bad(make_file(path, sizeof path, "not_json.safetensors", "{not json}", NULL, 0, 0),
               "invalid JSON");
    expect_bad(make_file(path, sizeof path, "array.safetensors", "[1, 2]", NULL, 0, 0),
               "JSON object");
    expect_bad(make_file(path, sizeof path, "overlap.safetensors", TWO("[0,8]", "[4,12]"), zeros,
                         12, 0), "overlap");
    expect_bad(make_file(path, sizeof path, "gap.safetensors", TWO("[0,8]", "[12,20]"), zeros, 20,
                         0), "gap");
    expect_bad(make_file(path, sizeof path, "backwards.safetensors", TWO("[0,8]", "[16,8]"), zeros,
                         16, 0), "before they begin");
    expect_bad(make_file(path, sizeof path, "outside.safetensors", TWO("[0,8]", "[8,16]"), zeros, 12,
                         0), "data section");
    expect_bad(make_file(path, sizeof path, "trailing.safetensors", TWO("[0,8]", "[8,16]"), zeros,
                         20, 0), "data section");
    expect_bad(make_file(path, sizeof path, "dtype.safetensors",
                         "{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", zeros,
                         8, 0), "unknown dtype \"F17\"");
    expect_bad(make_file(path, sizeof path, "size.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", zeros,
                         8, 0), "need 12 bytes");
    expect_bad(make_file(path, sizeof path, "dup.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                         zeros, 16, 0), "duplicate");
    expect_bad(make_file(path, sizeof path, "meta.safetensors",
                         "{\"__metadata__\":{\"format\":1},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                         zeros, 8, 0), "__metadata__");
    expect_bad(make_file(path, sizeof path, "offsets.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", zeros, 8,
                         0), "data_offsets");
    expect_bad(make_file(path, sizeof path, "shape.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", zeros,
                         8, 0), "shape");
    expect_bad(make_file(path, sizeof path, "overflow.safetensors",
                         "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                         "\"data_offsets\":[0,8]}}", zeros, 8, 0), "a:");
    safetensors_file *g;
    CHECK(safetensors_open("/nonexistent.safetensors", &g) == RLC_ERR_IO && g == NULL);
}

// Random byte flips of a valid file: every outcome is a clean status.
static void test_mutations(void) {
    char path[256];
    float x[16];
    fill(x, 16, 5);
    safetensors_entry e[2] = {{"alpha", 2, {2, 4}, x}, {"beta", 1, {8}, x + 8}};
    CHECK_OK(safetensors_write(tmp_path(path, sizeof path, "mut_src.safetensors"), e, 2,
                               SAFETENSORS_DTYPE_F32));
    char *raw;
    size_t len;
    CHECK_OK(rlc_read_file(path, &raw, &len));
    size_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | (unsigned char)raw[i];
    unsigned seed = 12345;
    int bad = 0;
    for (int it = 0; it < 3000; it++) {
        unsigned char *m = malloc(len);
        memcpy(m, raw, len);
        for (int k = 0; k < 1 + it % 3; k++) {  // even: in the header; odd: anywhere
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (it % 2 ? len : 8 + hl);
            m[at] = (unsigned char)(seed >> 3);
        }
        tmp_path(path, sizeof path, "mut.safetensors");
        write_bytes(path, m, len - (it % 7 == 0 ? (size_t)(seed % 9) : 0));
        safetensors_file *f;
        rlc_status s = safetensors_open(path, &f);
        if (s == RLC_OK) {
            float out[16];
            for (int i = 0; i < safetensors_count(f); i++) {
                const safetensors_tensor *t = safetensors_get(f, i);
                if (t->numel <= 16) safetensors_to_f32(t, out);
            }
            safetensors_close(f);
        } else if (s != RLC_ERR_FORMAT) {
            bad++;
        }
        free(m);
    }
    CHECK_MSG(bad == 0, "%d mutations gave a status other than OK or FORMAT", bad);
    rlc_free(raw);
}

// Every allocation failing in turn: a clean RLC_ERR_NOMEM (or success), no leak.
static void test_alloc_failures(void) {
    char path[256];
    float x[4] = {1, 2, 3, 4};
    safetensors_entry e = {"x", 1, {4}, x};
    CHECK_OK(safetensors_write(tmp_path(path, sizeof path, "af.safetensors"), &e, 1,
                               SAFETENSORS_DTYPE_F32));
    int ok = 0;
    for (long k = 0; k < 40; k++) {
        safetensors_file *f;
        rlc_alloc_fail_after(k);
        rlc_status s = safetensors_open(path, &f);
        rlc_alloc_fail_after(-1);
        CHECK_MSG(s == RLC_OK || s == RLC_ERR_NOMEM || s == RLC_ERR_FORMAT, "k=%ld: %s", k,
                  rlc_status_name(s));
        if (s == RLC_OK) ok++, safetensors_close(f);
    }
    CHECK(ok > 0);
}

int main(void) {
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rlc_test_st_XXXXXX");
    if (!mkdtemp(tmp_dir)) TEST_SKIP("cannot create a temporary directory");
    test_f32_round_trip();
    test_bf16_write();
    test_hand_built_dtypes();
    test_weights_round_trip();
    test_sharded();
    test_weights_errors();
    test_malformed();
    test_mutations();
    test_alloc_failures();
    if (getenv("RLC_KEEP_TMP"))
        printf("files kept in %s\n", tmp_dir);
    else
        nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return test_finish("test_safetensors");
}
