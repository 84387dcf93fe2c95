// bench_tokenizer.c: encode throughput of a tokenizer over a JSONL data set
// (default: the Qwen2.5 tokenizer on GSM8K train, question and answer fields).
//
//   bench_tokenizer [TOKENIZER_PATH [DATA.jsonl [RUNS]]]
//
// Prints MB/s and tokens/s of tok_encode (one call per field, single thread,
// best of RUNS), and checks that decoding (special tokens added, then skipped)
// gives the text back.
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi, getenv
#include <string.h>  // memchr, memcmp

#include "actor/tokenizer.h"
#include "core/core.h"

typedef struct {
    const char **text;
    size_t *len;
    size_t n, cap, bytes;
} field_list;

static int add_field(field_list *f, const json_t *v) {
    if (!json_is_string(v)) return 1;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 1024;
        f->text = rlc_realloc(f->text, f->cap * sizeof *f->text);
        f->len = rlc_realloc(f->len, f->cap * sizeof *f->len);
        if (!f->text || !f->len) return 0;
    }
    f->text[f->n] = json_string_value(v);
    f->len[f->n] = json_string_length(v);
    f->bytes += f->len[f->n++];
    return 1;
}

int main(int argc, char **argv) {
    const char *root = getenv("RLC_DATA") ? getenv("RLC_DATA") : "../shared/data";
    char tok_path[4096], data_path[4096];
    snprintf(tok_path, sizeof tok_path, "%s/tokenizers/qwen2.5", root);
    snprintf(data_path, sizeof data_path, "%s/gsm8k/train.jsonl", root);
    const char *tpath = argc > 1 ? argv[1] : tok_path, *dpath = argc > 2 ? argv[2] : data_path;
    int runs = argc > 3 ? atoi(argv[3]) : 3;

    tok_tokenizer *tok;
    double t0 = rlc_now();
    if (tok_load(tpath, &tok) != RLC_OK) {
        fprintf(stderr, "bench_tokenizer: %s\n", rlc_last_error());
        return 1;
    }
    double load_s = rlc_now() - t0;
    char *data;
    size_t size;
    if (rlc_read_file(dpath, &data, &size) != RLC_OK) {
        fprintf(stderr, "bench_tokenizer: %s\n", rlc_last_error());
        return 1;
    }
    json_t *rows = json_array();
    field_list f = {0};
    for (char *p = data, *end = data + size; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t err;
        json_t *row = n ? json_loadb(p, n, 0, &err) : NULL;
        p += n + 1;
        if (!row) continue;
        json_array_append_new(rows, row);
        const char *key;
        json_t *v;
        json_object_foreach(row, key, v) if (!add_field(&f, v)) return 1;
    }
    printf("tokenizer %s (%d ids, loaded in %.0f ms)\n", tpath, tok_vocab_size(tok), load_s * 1e3);
    printf("data      %s: %zu fields, %.2f MB of text\n", dpath, f.n, f.bytes / 1e6);

    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < runs; r++) {
        tokens = 0;
        t0 = rlc_now();
        for (size_t i = 0; i < f.n; i++) {
            int *ids;
            size_t n;
            if (tok_encode(tok, f.text[i], f.len[i], 0, &ids, &n) != RLC_OK) {
                fprintf(stderr, "bench_tokenizer: %s\n", rlc_last_error());
                return 1;
            }
            tokens += n;
            rlc_free(ids);
        }
        double s = rlc_now() - t0;
        if (s < best) best = s;
    }
    printf("encode    %.1f MB/s, %.2f M tokens/s (%zu tokens, %.3f s, best of %d, 1 thread)\n", f.bytes / 1e6 / best,
           tokens / 1e6 / best, tokens, best, runs);

    size_t round_trips = 0;  // decode check
    t0 = rlc_now();
    for (size_t i = 0; i < f.n; i++) {
        int *ids;
        size_t n, len;
        char *text;
        if (tok_encode(tok, f.text[i], f.len[i], TOK_ENCODE_ADD_SPECIAL, &ids, &n) != RLC_OK) return 1;
        if (tok_decode(tok, ids, n, TOK_DECODE_SKIP_SPECIAL, &text, &len) != RLC_OK) return 1;
        round_trips += len == f.len[i] && memcmp(text, f.text[i], len) == 0;
        rlc_free(text);
        rlc_free(ids);
    }
    printf("decode    %zu/%zu fields round-trip (encode + decode %.3f s)\n", round_trips, f.n, rlc_now() - t0);
    json_decref(rows);
    rlc_free(data);
    rlc_free(f.text);
    rlc_free(f.len);
    tok_free(tok);
    return 0;
}
