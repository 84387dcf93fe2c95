// tok_llama2c.c: the llama2.c tokenizer.bin format and its encoding rules.
//
// File layout (little-endian): int32 max_token_length, then for each token
// float32 score, int32 length, the bytes. The format has no magic and no count,
// so the reader checks that the records tile the file exactly.
//
// llama2.c encodes by: BOS, a dummy " " before non-empty text, one token per
// UTF-8 character (or its bytes as ids byte + 3), then repeatedly merging the
// adjacent pair whose concatenation is a token with the best score (leftmost
// on ties). Here that becomes a BPE merge table: every split of every token into
// two tokens is a merge, ranked by the token's score (equal scores, equal rank).
#include <stdlib.h>  // qsort
#include <string.h>  // memcpy

#include "core/alloc.h"   // rlc_malloc, rlc_free
#include "core/fileio.h"  // rlc_read_file
#include "tok_internal.h"

#define LLAMA2C_MAX_PIECE 4096

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x > y ? -1 : x < y ? 1 : 0;
}

// Dense ranks of the scores: the best score is rank 0, equal scores share one.
static rlc_status score_ranks(const float *scores, int n, int *ranks) {
    float *sorted = rlc_malloc((size_t)n * sizeof *sorted);
    if (!sorted) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    memcpy(sorted, scores, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_desc);
    int distinct = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[distinct - 1]) sorted[distinct++] = sorted[i];
    for (int i = 0; i < n; i++) {
        int lo = 0, hi = distinct - 1;  // binary search in the descending list
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (sorted[mid] > scores[i]) lo = mid + 1;
            else hi = mid;
        }
        ranks[i] = lo;
    }
    rlc_free(sorted);
    return RLC_OK;
}

static rlc_status build_merges(tok_tokenizer *t, const float *scores) {
    int *ranks = rlc_malloc((size_t)t->n_vocab * sizeof *ranks);
    if (!ranks) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    rlc_status st = score_ranks(scores, t->n_vocab, ranks);
    if (st == RLC_OK) st = tok_mergemap_init(&t->merges, (size_t)t->n_vocab * 4);
    for (int id = 0; id < t->n_vocab && st == RLC_OK; id++) {
        const tok_token *tk = &t->tokens[id];
        if (tok_strmap_get(&t->model_map, tk->piece, tk->piece_len) != id) continue;  // a duplicate piece
        for (uint32_t k = 1; k < tk->piece_len && st == RLC_OK; k++) {
            int l = tok_strmap_get(&t->model_map, tk->piece, k);
            int r = tok_strmap_get(&t->model_map, tk->piece + k, tk->piece_len - k);
            if (l >= 0 && r >= 0) st = tok_mergemap_put(&t->merges, l, r, ranks[id], id);
        }
    }
    rlc_free(ranks);
    return st;
}

static int32_t read_i32(const unsigned char *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

static float read_f32(const unsigned char *p) {
    uint32_t v = (uint32_t)read_i32(p);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

// Reads the records into t and scores (grown as needed; caller frees).
static rlc_status read_records(tok_tokenizer *t, const char *path, const unsigned char *d, size_t n,
                               float **scores) {
    const char *hint = "(is this a llama2.c tokenizer.bin?)";
    if (n < 4) return rlc_errorf(RLC_ERR_FORMAT, "%s: too short for a tokenizer.bin header %s", path, hint);
    int32_t max_len = read_i32(d);
    if (max_len <= 0 || max_len > LLAMA2C_MAX_PIECE)
        return rlc_errorf(RLC_ERR_FORMAT, "%s: max_token_length %d is out of range %s", path, (int)max_len, hint);
    size_t off = 4, cap = 0;
    int count = 0;
    while (off < n) {
        if (n - off < 8) return rlc_errorf(RLC_ERR_FORMAT, "%s: token %d is truncated at byte %zu %s", path, count, off, hint);
        float score = read_f32(d + off);
        int32_t len = read_i32(d + off + 4);
        off += 8;
        if (len < 0 || len > max_len || (size_t)len > n - off)
            return rlc_errorf(RLC_ERR_FORMAT, "%s: token %d has length %d (max %d, %zu bytes left) %s", path, count,
                              (int)len, (int)max_len, n - off, hint);
        if ((size_t)count == cap) {
            cap = cap ? cap * 2 : 1024;
            float *bigger = rlc_realloc(*scores, cap * sizeof *bigger);
            if (!bigger) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
            *scores = bigger;
        }
        (*scores)[count] = score;
        RLC_TRY(tok_set_piece(t, count, (const char *)d + off, (size_t)len));
        off += (size_t)len;
        count++;
    }
    if (count < 259) return rlc_errorf(RLC_ERR_FORMAT, "%s: %d tokens, fewer than the 3 specials + 256 bytes %s", path, count, hint);
    return RLC_OK;
}

static rlc_status build(tok_tokenizer *t, const char *path) {
    char *data;
    size_t n;
    RLC_TRY(rlc_read_file(path, &data, &n));
    float *scores = NULL;
    rlc_status st = read_records(t, path, (const unsigned char *)data, n, &scores);
    rlc_free(data);
    if (st == RLC_OK) st = tok_index_vocab(t);
    if (st == RLC_OK) st = build_merges(t, scores);
    rlc_free(scores);
    RLC_TRY(st);
    for (int b = 0; b < 256; b++) t->byte_id[b] = b + 3;  // llama2.c's rule, whatever the pieces say
    t->byte_fallback = 1;
    t->llama2c_prefix = 1;
    t->strip_after_bos = 1;
    t->bos_id = 1;
    t->add_bos = 1;
    t->prefix[t->n_prefix++] = 1;
    t->eos_ids[t->n_eos++] = 2;
    for (int id = 0; id < 3; id++) t->tokens[id].attr |= TOK_ATTR_SPECIAL;
    return tok_finish_texts(t, NULL, NULL, 1, 0);
}

rlc_status tok_load_llama2c(const char *path, tok_tokenizer **out) {
    tok_tokenizer *t = NULL;
    rlc_status st = tok_new(TOK_KIND_LLAMA2C, &t);
    if (st == RLC_OK) st = build(t, path);
    if (st != RLC_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return RLC_OK;
}
