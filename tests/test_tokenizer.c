// test_tokenizer.c: the tokenizer against the Hugging Face `tokenizers` library.
// The committed corpus (tests/data/tokenizer/corpus.jsonl, written by
// scripts/make_tokenizer_fixtures.py) holds the ids and decodes of Qwen2.5 and
// Llama-2 for 300+ strings; llama2c.jsonl holds llama2.c's ids for tok512.bin.
// Also: the streaming decoder, properties and lookups, bad files and inputs,
// and allocation failures.
#include <stdlib.h>  // free
#include <string.h>  // strstr, memcmp
#include <unistd.h>  // unlink

#include "actor/tokenizer.h"
#include "core/core.h"
#include "test.h"

#define CORPUS_VERSION 1
#define MAX_ROWS 2048

typedef struct {
    json_t *rows[MAX_ROWS];
    int n;
    json_t *header;
} fixture;

// Reads a JSON Lines fixture; its first line is the header {"format", "version"}.
static int read_fixture(const char *rel, const char *format, fixture *f) {
    char path[4096];
    test_source(path, sizeof path, rel);
    char *text;
    size_t len;
    f->n = 0;
    f->header = NULL;
    if (rlc_read_file(path, &text, &len) != RLC_OK) {
        fprintf(stderr, "%s\n", rlc_last_error());
        return 0;
    }
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t err;
        json_t *row = n ? json_loadb(p, n, JSON_ALLOW_NUL, &err) : NULL;
        if (n && !row) fprintf(stderr, "%s: %s\n", path, err.text);
        if (row && !f->header) f->header = row;
        else if (row && f->n < MAX_ROWS) f->rows[f->n++] = row;
        p += n + 1;
    }
    rlc_free(text);
    const char *fmt = json_string_value(json_object_get(f->header, "format"));
    long long version = json_integer_value(json_object_get(f->header, "version"));
    CHECK_MSG(fmt && strcmp(fmt, format) == 0 && version == CORPUS_VERSION,
              "%s: header says format %s version %lld, want %s version %d (regenerate with "
              "scripts/make_tokenizer_fixtures.py)", path, fmt ? fmt : "(none)", version, format, CORPUS_VERSION);
    return f->n;
}

static void free_fixture(fixture *f) {
    for (int i = 0; i < f->n; i++) json_decref(f->rows[i]);
    json_decref(f->header);
}

static void print_ids(const char *label, const int *ids, size_t n) {
    fprintf(stderr, "  %s (%zu):", label, n);
    for (size_t i = 0; i < n && i < 64; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 64 ? " ...\n" : "\n");
}

static int ids_equal(const json_t *want, const int *got, size_t n) {
    if (json_array_size(want) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_array_get(want, i)) != got[i]) return 0;
    return 1;
}

// Decodes ids one token at a time and checks the pieces join to `whole`, and
// that every piece is valid UTF-8 on its own (nothing incomplete leaks out).
static int stream_matches(const tok_tokenizer *t, const int *ids, size_t n, int flags, const char *whole,
                          size_t whole_len) {
    tok_stream *s;
    if (tok_stream_create(t, flags, &s) != RLC_OK) return 0;
    char *acc = rlc_malloc(whole_len * 3 + 16);
    size_t got = 0;
    int ok = acc != NULL;
    for (size_t i = 0; ok && i <= n; i++) {
        const char *piece;
        size_t len;
        rlc_status st = i < n ? tok_stream_push(s, ids[i], &piece, &len) : tok_stream_flush(s, &piece, &len);
        if (st != RLC_OK || got + len > whole_len) {
            ok = 0;
            break;
        }
        for (size_t k = 0; k < len && len > 0; k++) {  // a piece never ends inside a character
            unsigned char c = (unsigned char)piece[len - 1 - k];
            if ((c & 0xC0) != 0x80) {
                size_t need = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
                ok &= need == k + 1;
                break;
            }
        }
        memcpy(acc + got, piece, len);
        got += len;
    }
    ok = ok && got == whole_len && memcmp(acc, whole, got) == 0;
    rlc_free(acc);
    tok_stream_free(s);
    return ok;
}

typedef struct {
    const char *name;   // "qwen" or "llama2": the fixture's fields
    const char *dec;    // the field with the expected decode
    int encode_flags, decode_flags;
    int matched, decoded, round_trips, streamed, shown;
    double seconds;
    size_t bytes;
} corpus_run;

static void check_row(const tok_tokenizer *t, corpus_run *r, const json_t *row) {
    const json_t *jt = json_object_get(row, "text");
    const char *text = json_string_value(jt);
    size_t len = json_string_length(jt);
    int *ids;
    size_t n;
    double t0 = rlc_now();
    rlc_status st = tok_encode(t, text, len, r->encode_flags, &ids, &n);
    r->seconds += rlc_now() - t0;
    r->bytes += len;
    if (st != RLC_OK) {
        CHECK_MSG(0, "%s: encode failed: %s", r->name, rlc_last_error());
        return;
    }
    const json_t *want = json_object_get(row, r->name);
    if (ids_equal(want, ids, n)) {
        r->matched++;
    } else if (r->shown++ < 5) {
        fprintf(stderr, "%s mismatch on \"%s\"\n", r->name, text);
        int w[4096];
        size_t wn = json_array_size(want);
        for (size_t i = 0; i < wn && i < 4096; i++) w[i] = (int)json_integer_value(json_array_get(want, i));
        print_ids("tokenizers", w, wn < 4096 ? wn : 4096);
        print_ids("rlc       ", ids, n);
    }
    char *out;
    size_t out_len;
    const json_t *jd = json_object_get(row, r->dec);
    if (tok_decode(t, ids, n, r->decode_flags, &out, &out_len) == RLC_OK) {
        int same = out_len == json_string_length(jd) && memcmp(out, json_string_value(jd), out_len) == 0;
        r->decoded += same;
        r->round_trips += out_len == len && memcmp(out, text, len) == 0;
        if (!same && r->shown++ < 5)
            fprintf(stderr, "%s decode mismatch on \"%s\":\n  want \"%s\"\n  got  \"%s\"\n", r->name, text,
                    json_string_value(jd), out);
        r->streamed += stream_matches(t, ids, n, r->decode_flags, out, out_len);
        rlc_free(out);
    }
    rlc_free(ids);
}

static void run_corpus(const tok_tokenizer *qwen, const tok_tokenizer *llama) {
    fixture f;
    if (!read_fixture("tests/data/tokenizer/corpus.jsonl", "rlc-tokenizer-corpus", &f)) {
        CHECK_MSG(0, "cannot read the corpus");
        return;
    }
    CHECK_MSG(f.n >= 300, "the corpus has %d strings, want at least 300", f.n);
    corpus_run runs[2] = {{.name = "qwen", .dec = "qwen_dec"},
                          {.name = "llama2", .dec = "llama2_dec", .encode_flags = TOK_ENCODE_ADD_SPECIAL,
                           .decode_flags = TOK_DECODE_SKIP_SPECIAL}};
    const tok_tokenizer *toks[2] = {qwen, llama};
    int hf_round_trips[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < f.n; i++) {
            check_row(toks[k], &runs[k], f.rows[i]);
            const json_t *text = json_object_get(f.rows[i], "text"), *dec = json_object_get(f.rows[i], runs[k].dec);
            hf_round_trips[k] += json_equal(text, dec);
        }
        corpus_run *r = &runs[k];
        printf("%-6s: %d/%d encodings match, %d/%d decodes match, round trips %d (tokenizers: %d), "
               "streamed %d/%d, %.1f MB/s\n", r->name, r->matched, f.n, r->decoded, f.n, r->round_trips,
               hf_round_trips[k], r->streamed, f.n, r->bytes / 1e6 / (r->seconds > 0 ? r->seconds : 1e-9));
        CHECK_MSG(r->matched == f.n, "%s: %d of %d encodings differ", r->name, f.n - r->matched, f.n);
        CHECK_MSG(r->decoded == f.n, "%s: %d of %d decodes differ", r->name, f.n - r->decoded, f.n);
        CHECK_MSG(r->round_trips >= hf_round_trips[k], "%s: fewer round trips than tokenizers", r->name);
        CHECK_MSG(r->streamed == f.n, "%s: %d streamed decodes differ", r->name, f.n - r->streamed);
    }
    free_fixture(&f);
}

static void test_llama2c(const tok_tokenizer *t) {
    fixture f;
    if (!read_fixture("tests/data/tokenizer/llama2c.jsonl", "rlc-tokenizer-llama2c", &f)) {
        CHECK_MSG(0, "cannot read llama2c.jsonl");
        return;
    }
    int matched = 0;
    for (int i = 0; i < f.n; i++) {
        const json_t *jt = json_object_get(f.rows[i], "text");
        int *ids;
        size_t n;
        CHECK_OK(tok_encode(t, json_string_value(jt), json_string_length(jt), TOK_ENCODE_ADD_SPECIAL, &ids, &n));
        if (!ids) continue;
        int same = ids_equal(json_object_get(f.rows[i], "ids"), ids, n);
        matched += same;
        CHECK_MSG(same, "llama2.c ids differ for \"%s\"", json_string_value(jt));
        char *out;
        size_t len;
        CHECK_OK(tok_decode(t, ids, n, TOK_DECODE_SKIP_SPECIAL, &out, &len));
        CHECK_MSG(out && len == json_string_length(jt) && memcmp(out, json_string_value(jt), len) == 0,
                  "llama2.c round trip of \"%s\" gave \"%s\"", json_string_value(jt), out ? out : "");
        rlc_free(out);
        rlc_free(ids);
    }
    printf("llama2c: %d/%d encodings match\n", matched, f.n);
    free_fixture(&f);
    CHECK(tok_vocab_size(t) == 512 && tok_bos_id(t) == 1 && tok_is_eos(t, 2) && tok_add_bos(t));
}

// Two small tokenizers trained by the fixture script, for the pipeline pieces
// the shared tokenizers do not use (Metaspace, Digits, split behaviors,
// lstrip / rstrip / single_word added tokens, BOS + EOS templates, ...).
static void test_tiny(void) {
    fixture f;
    if (!read_fixture("tests/data/tokenizer/tiny.jsonl", "rlc-tokenizer-tiny", &f)) {
        CHECK_MSG(0, "cannot read tiny.jsonl");
        return;
    }
    const char *names[2] = {"tiny_bytelevel.json", "tiny_metaspace.json"};
    tok_tokenizer *toks[2] = {NULL, NULL};
    int rows[2] = {0, 0}, matched[2] = {0, 0}, decoded[2] = {0, 0}, shown = 0;
    for (int k = 0; k < 2; k++) {
        char rel[256], path[4096];
        snprintf(rel, sizeof rel, "tests/data/tokenizer/%s", names[k]);
        CHECK_OK(tok_load(test_source(path, sizeof path, rel), &toks[k]));
    }
    for (int i = 0; i < f.n && toks[0] && toks[1]; i++) {
        const char *name = json_string_value(json_object_get(f.rows[i], "tokenizer"));
        int k = name && strcmp(name, names[1]) == 0;
        const json_t *jt = json_object_get(f.rows[i], "text"), *jd = json_object_get(f.rows[i], "dec");
        int *ids;
        size_t n;
        rows[k]++;
        CHECK_OK(tok_encode(toks[k], json_string_value(jt), json_string_length(jt), TOK_ENCODE_ADD_SPECIAL, &ids, &n));
        if (!ids) continue;
        int same = ids_equal(json_object_get(f.rows[i], "ids"), ids, n);
        matched[k] += same;
        if (!same && shown++ < 5) {
            fprintf(stderr, "%s mismatch on \"%s\"\n", names[k], json_string_value(jt));
            int w[512];
            size_t wn = json_array_size(json_object_get(f.rows[i], "ids"));
            for (size_t j = 0; j < wn && j < 512; j++) w[j] = (int)json_integer_value(json_array_get(json_object_get(f.rows[i], "ids"), j));
            print_ids("tokenizers", w, wn < 512 ? wn : 512);
            print_ids("rlc       ", ids, n);
        }
        char *out;
        size_t len;
        CHECK_OK(tok_decode(toks[k], ids, n, TOK_DECODE_SKIP_SPECIAL, &out, &len));
        int dsame = out && len == json_string_length(jd) && memcmp(out, json_string_value(jd), len) == 0;
        decoded[k] += dsame;
        if (!dsame && shown++ < 5)
            fprintf(stderr, "%s decode of \"%s\": want \"%s\" got \"%s\"\n", names[k], json_string_value(jt),
                    json_string_value(jd), out ? out : "");
        rlc_free(out);
        rlc_free(ids);
    }
    for (int k = 0; k < 2; k++) {
        printf("%s: %d/%d encodings match, %d/%d decodes match\n", names[k], matched[k], rows[k], decoded[k], rows[k]);
        CHECK(rows[k] > 0 && matched[k] == rows[k] && decoded[k] == rows[k]);
        tok_free(toks[k]);
    }
    free_fixture(&f);
}

// Pushes ids one at a time and checks the bytes each push emits.
static void expect_stream(const tok_tokenizer *t, const int *ids, int n, const char *const *want) {
    tok_stream *s;
    CHECK_OK(tok_stream_create(t, 0, &s));
    if (!s) return;
    for (int i = 0; i <= n; i++) {
        const char *p;
        size_t len;
        if (i < n) CHECK_OK(tok_stream_push(s, ids[i], &p, &len));
        else CHECK_OK(tok_stream_flush(s, &p, &len));
        CHECK_MSG(len == strlen(want[i]) && memcmp(p, want[i], len) == 0, "push %d emitted \"%.*s\", want \"%s\"", i,
                  (int)len, p, want[i]);
    }
    tok_stream_free(s);
}

static void test_streaming(const tok_tokenizer *llama, const tok_tokenizer *l2c) {
    // U+1F600 is not in Llama-2's vocabulary: four byte-fallback tokens.
    int *ids;
    size_t n;
    CHECK_OK(tok_encode(llama, "\xF0\x9F\x98\x80!", 5, 0, &ids, &n));
    int want_ids[] = {29871, 243, 162, 155, 131, 29991};  // ▁ <0xF0> <0x9F> <0x98> <0x80> !
    CHECK(ids && n == 6 && memcmp(ids, want_ids, sizeof want_ids) == 0);
    const char *emits[] = {"", "", "", "", "\xF0\x9F\x98\x80", "!", ""};
    if (ids && n == 6) expect_stream(llama, ids, 6, emits);
    rlc_free(ids);
    // The same through llama2.c's byte tokens (id = byte + 3).
    int l2c_ids[] = {1, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3};
    const char *l2c_emits[] = {"", "", "", "", "\xF0\x9F\x98\x80", ""};
    tok_stream *s;
    CHECK_OK(tok_stream_create(l2c, TOK_DECODE_SKIP_SPECIAL, &s));
    for (int i = 0; s && i <= 5; i++) {
        const char *p;
        size_t len;
        if (i < 5) CHECK_OK(tok_stream_push(s, l2c_ids[i], &p, &len));
        else CHECK_OK(tok_stream_flush(s, &p, &len));
        CHECK_MSG(len == strlen(l2c_emits[i]) && memcmp(p, l2c_emits[i], len) == 0, "llama2.c push %d", i);
    }
    tok_stream_free(s);
    // Cut short: the held-back bytes come out as one U+FFFD at the flush.
    int cut[] = {243, 162};
    const char *cut_emits[] = {"", "", "\xEF\xBF\xBD"};
    expect_stream(llama, cut, 2, cut_emits);
    // An invalid sequence (a lead byte then ASCII) is replaced at once.
    int bad[] = {243, 29991};
    const char *bad_emits[] = {"", "\xEF\xBF\xBD!", ""};
    expect_stream(llama, bad, 2, bad_emits);
}

static void test_properties(const tok_tokenizer *qwen, const tok_tokenizer *llama) {
    const int *eos;
    CHECK(tok_get_kind(qwen) == TOK_KIND_BYTE_LEVEL && tok_get_kind(llama) == TOK_KIND_SENTENCEPIECE);
    CHECK(tok_vocab_size(qwen) == 151665);
    CHECK(tok_bos_id(qwen) == -1 && !tok_add_bos(qwen));
    CHECK(tok_eos_ids(qwen, &eos) == 1 && eos[0] == 151645);
    CHECK(tok_piece_to_id(qwen, "Hello") == 9707 && tok_piece_to_id(qwen, "\xC4\xA0world") == 1879);
    CHECK(tok_piece_to_id(qwen, "<|im_start|>") == 151644 && tok_piece_to_id(qwen, "no such piece") == -1);
    CHECK(tok_id_to_piece(qwen, 1879) && strcmp(tok_id_to_piece(qwen, 1879), "\xC4\xA0world") == 0);
    CHECK(tok_id_to_piece(qwen, -1) == NULL && tok_id_to_piece(qwen, 151665) == NULL);
    size_t len;
    const char *text = tok_token_text(qwen, 1879, &len);
    CHECK(text && len == 6 && memcmp(text, " world", 6) == 0);
    CHECK(tok_is_special(qwen, 151645) && !tok_is_special(qwen, 9707));
    const char *tmpl = tok_chat_template(qwen);
    CHECK(tmpl && strstr(tmpl, "<|im_start|>"));
    CHECK(tok_vocab_size(llama) == 32000 && tok_bos_id(llama) == 1 && tok_add_bos(llama));
    CHECK(tok_eos_ids(llama, &eos) == 1 && eos[0] == 2);
    CHECK(tok_piece_to_id(llama, "\xE2\x96\x81Hello") == 15043 && tok_piece_to_id(llama, "<0x0A>") == 13);
    text = tok_token_text(llama, 13, &len);
    CHECK(text && len == 1 && text[0] == '\n');
    // Special tokens as text, and skipping them when decoding.
    int *ids;
    size_t n;
    CHECK_OK(tok_encode(qwen, "<|im_end|>", 10, TOK_ENCODE_SPECIAL_AS_TEXT, &ids, &n));
    CHECK(ids && n > 1 && ids[0] != 151645);
    rlc_free(ids);
    int chat[] = {151644, 872, 198, 9707, 151645};
    char *out;
    CHECK_OK(tok_decode(qwen, chat, 5, TOK_DECODE_SKIP_SPECIAL, &out, &len));
    CHECK(out && strcmp(out, "user\nHello") == 0);
    rlc_free(out);
    int with_bos[] = {1, 15043};
    CHECK_OK(tok_decode(llama, with_bos, 2, 0, &out, &len));
    CHECK_MSG(out && strcmp(out, "<s> Hello") == 0, "got \"%s\"", out ? out : "");
    rlc_free(out);
}

static void write_bytes(const char *path, const char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

static void expect_load_error(const char *path, rlc_status want, const char *needle) {
    tok_tokenizer *t = (tok_tokenizer *)&t;  // poison: must come back NULL
    rlc_status st = tok_load(path, &t);
    CHECK_MSG(st == want && t == NULL, "%s: got %s, want %s", path, rlc_status_name(st), rlc_status_name(want));
    CHECK_MSG(strstr(rlc_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"", rlc_last_error(), needle);
    printf("  bad input %-40s -> %s: %s\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
           rlc_status_name(st), rlc_last_error());
}

static void test_bad_inputs(const tok_tokenizer *qwen) {
    char dir[] = "/tmp/rlc_tok_XXXXXX", path[4200];
    if (!mkdtemp(dir)) {
        CHECK_MSG(0, "mkdtemp failed");
        return;
    }
    snprintf(path, sizeof path, "%s/missing.json", dir);
    expect_load_error(path, RLC_ERR_IO, "missing.json");
    snprintf(path, sizeof path, "%s/wordpiece.json", dir);
    write_text(path, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}");
    expect_load_error(path, RLC_ERR_UNSUPPORTED, "WordPiece");
    expect_load_error(path, RLC_ERR_UNSUPPORTED, "wordpiece.json");
    snprintf(path, sizeof path, "%s/unigram.json", dir);
    write_text(path, "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}");
    expect_load_error(path, RLC_ERR_UNSUPPORTED, "Unigram");
    snprintf(path, sizeof path, "%s/malformed.json", dir);
    write_text(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,,}}");
    expect_load_error(path, RLC_ERR_FORMAT, "malformed.json");
    snprintf(path, sizeof path, "%s/badmerge.json", dir);
    write_text(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a c\"]}}");
    expect_load_error(path, RLC_ERR_FORMAT, "merge 0");
    snprintf(path, sizeof path, "%s/badpre.json", dir);
    write_text(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
                     " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}");
    expect_load_error(path, RLC_ERR_UNSUPPORTED, "BertPreTokenizer");
    snprintf(path, sizeof path, "%s/tokenizer.bin", dir);
    // max_token_length 7, then a token claiming 64 bytes where 2 are left
    write_bytes(path, "\x07\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00" "ab", 14);
    expect_load_error(path, RLC_ERR_FORMAT, "token 0 has length 64");
    expect_load_error(dir, RLC_ERR_FORMAT, "tokenizer.bin");  // the folder's tokenizer.bin is the one read
    unlink(path);
    expect_load_error(dir, RLC_ERR_IO, "no tokenizer.json");
    const char *names[] = {"wordpiece.json", "unigram.json", "malformed.json", "badmerge.json", "badpre.json"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    // Bad arguments to encode and decode.
    int *ids = (int *)&ids;
    size_t n;
    CHECK(tok_encode(qwen, "ab\xC3(", 4, 0, &ids, &n) == RLC_ERR_ARG && ids == NULL);
    CHECK(strstr(rlc_last_error(), "byte 2") != NULL);
    CHECK(tok_encode(qwen, "\xED\xA0\x80", 3, 0, &ids, &n) == RLC_ERR_ARG);  // a surrogate
    int bad_id = 999999;
    char *out;
    size_t len;
    CHECK(tok_decode(qwen, &bad_id, 1, 0, &out, &len) == RLC_ERR_ARG && out == NULL);
}

// Every allocation of an encode or decode may fail; none may crash or leak.
static void test_alloc_failures(const tok_tokenizer *qwen, const tok_tokenizer *llama) {
    const char *text = "Hello <|im_start|> world caf\xC3\xA9 12345";
    int failures = 0, oks = 0;
    for (long k = 0; k < 40; k++) {
        const tok_tokenizer *t = k % 2 ? llama : qwen;
        int *ids;
        size_t n;
        rlc_alloc_fail_after(k / 2);
        rlc_status st = tok_encode(t, text, strlen(text), TOK_ENCODE_ADD_SPECIAL, &ids, &n);
        rlc_alloc_fail_after(-1);
        if (st == RLC_OK) {
            oks++;
            char *out;
            size_t len;
            rlc_alloc_fail_after(0);
            st = tok_decode(t, ids, n, 0, &out, &len);
            rlc_alloc_fail_after(-1);
            CHECK(st == RLC_ERR_NOMEM && out == NULL);
            rlc_free(ids);
        } else {
            failures++;
            CHECK_MSG(st == RLC_ERR_NOMEM && ids == NULL, "got %s", rlc_status_name(st));
        }
    }
    CHECK(failures > 0 && oks > 0);
    tok_tokenizer *t;
    char path[4096];
    for (long k = 0; k < 30; k += 3) {
        rlc_alloc_fail_after(k);
        rlc_status st = tok_load(test_data(path, sizeof path, "models/stories260K/tok512.bin"), &t);
        rlc_alloc_fail_after(-1);
        CHECK(st == RLC_ERR_NOMEM || st == RLC_OK);
        if (st == RLC_OK) tok_free(t);
    }
}

static tok_tokenizer *load(const char *rel) {
    char path[4096];
    tok_tokenizer *t = NULL;
    double t0 = rlc_now();
    CHECK_OK(tok_load(test_data(path, sizeof path, rel), &t));
    printf("loaded %s in %.0f ms\n", rel, (rlc_now() - t0) * 1e3);
    return t;
}

int main(void) {
    char path[4096];
    if (!rlc_file_exists(test_data(path, sizeof path, "tokenizers/qwen2.5/vocab.json")))
        TEST_SKIP("no shared data at %s", path);
    tok_tokenizer *qwen = load("tokenizers/qwen2.5");
    tok_tokenizer *llama = load("tokenizers/llama2");
    tok_tokenizer *l2c = load("models/stories260K/tok512.bin");
    if (!qwen || !llama || !l2c) return test_finish("test_tokenizer");
    run_corpus(qwen, llama);
    test_llama2c(l2c);
    test_tiny();
    test_streaming(llama, l2c);
    test_properties(qwen, llama);
    test_bad_inputs(qwen);
    test_alloc_failures(qwen, llama);
    tok_free(qwen);
    tok_free(llama);
    tok_free(l2c);
    return test_finish("test_tokenizer");
}
