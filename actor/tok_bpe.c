// tok_bpe.c: tok_encode and the BPE merge loop.
//
// Encoding runs the Hugging Face pipeline: split off added tokens (first those
// matched on the raw text, then, after normalization, those matched on the
// normalized text), pre-tokenize the rest into words, and BPE-merge each word.
// A word starts as one symbol per byte (byte-level) or per character (with
// byte fallback and unknown-token fusing); then the adjacent pair with the
// lowest merge rank merges, leftmost first, until no pair has a merge. Short
// words use a linear scan over cached pair ranks; long ones (SentencePiece
// segments are whole sentences) a binary heap.
#include <limits.h>   // INT_MAX
#include <pthread.h>  // pthread_key_create, pthread_getspecific
#include <string.h>   // memcpy, memcmp

#include "core/alloc.h"  // rlc_malloc, rlc_realloc, rlc_free
#include "tok_internal.h"

#define BPE_SCAN_MAX 64  // words up to this many symbols use the linear scan

typedef struct {
    int id;          // -1 once merged into its left neighbour
    int prev, next;  // neighbours, -1 at the ends
    int rank, mid;   // the merge with the next symbol: rank (INT_MAX: none) and result
} bpe_sym;

typedef struct {
    int rank, pos;
} bpe_cand;

static rlc_status reserve(void **arr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return RLC_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *p = rlc_realloc(*arr, c * size);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    *arr = p;
    *cap = c;
    return RLC_OK;
}

// ---- the initial symbols ------------------------------------------------------------

static void add_sym(bpe_sym *sy, int *count, int id) {
    int i = (*count)++;
    sy[i].id = id;
    sy[i].prev = i - 1;
    sy[i].next = -1;
    if (i > 0) sy[i - 1].next = i;
}

// Pushes the <0xXX> tokens of a character's bytes; 0 when one is missing.
static int add_fallback_bytes(const tok_tokenizer *t, bpe_sym *sy, int *count, const char *s, size_t len) {
    for (size_t k = 0; k < len; k++)
        if (t->byte_id[(unsigned char)s[k]] < 0) return 0;
    for (size_t k = 0; k < len; k++) add_sym(sy, count, t->byte_id[(unsigned char)s[k]]);
    return 1;
}

// One symbol per byte (byte-level) or per character; unknown characters become
// their <0xXX> byte tokens (byte_fallback) or the unknown token, fused when
// fuse_unk, the way the tokenizers library does it (a pending unknown token is
// written at the next known character or at the end).
static int initial_symbols(const tok_tokenizer *t, bpe_sym *sy, const char *s, size_t n) {
    int count = 0, unk_pending = 0;
    int by_byte = t->kind == TOK_KIND_BYTE_LEVEL;
    for (size_t i = 0; i < n;) {
        size_t len = by_byte ? 1 : tok_utf8_len((unsigned char)s[i]);
        if (len > n - i) len = n - i;
        int id = by_byte ? t->byte_id[(unsigned char)s[i]] : tok_strmap_get(&t->model_map, s + i, len);
        if (id >= 0) {
            if (unk_pending) add_sym(sy, &count, t->unk_id), unk_pending = 0;
            add_sym(sy, &count, id);
        } else if (!(t->byte_fallback && !by_byte && add_fallback_bytes(t, sy, &count, s + i, len)) &&
                   t->unk_id >= 0) {
            if (unk_pending && !t->fuse_unk) add_sym(sy, &count, t->unk_id);
            unk_pending = 1;
        }
        i += len;
    }
    if (unk_pending) add_sym(sy, &count, t->unk_id);
    return count;
}

// ---- merging ---------------------------------------------------------------------------

static void set_pair(const tok_tokenizer *t, bpe_sym *sy, int i) {
    sy[i].rank = INT_MAX;
    if (sy[i].next < 0) return;
    const tok_merge_entry *e = tok_mergemap_get(&t->merges, sy[i].id, sy[sy[i].next].id);
    if (e) sy[i].rank = e->rank, sy[i].mid = e->id;
}

// Merges symbol i with its right neighbour into sy[i].mid.
static void merge_at(bpe_sym *sy, int i) {
    int j = sy[i].next;
    sy[i].id = sy[i].mid;
    sy[i].next = sy[j].next;
    if (sy[j].next >= 0) sy[sy[j].next].prev = i;
    sy[j].id = -1;
}

static void merge_scan(const tok_tokenizer *t, bpe_sym *sy, int count) {
    for (int i = 0; i < count; i++) set_pair(t, sy, i);
    for (;;) {
        int best = INT_MAX, at = -1;
        for (int i = 0; i >= 0; i = sy[i].next)
            if (sy[i].rank < best) best = sy[i].rank, at = i;
        if (at < 0) return;
        merge_at(sy, at);
        set_pair(t, sy, at);
        if (sy[at].prev >= 0) set_pair(t, sy, sy[at].prev);
    }
}

static int cand_less(bpe_cand a, bpe_cand b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static void heap_push(bpe_cand *h, size_t *n, bpe_cand c) {
    size_t i = (*n)++;
    while (i > 0 && cand_less(c, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

static bpe_cand heap_pop(bpe_cand *h, size_t *n) {
    bpe_cand top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && cand_less(h[c + 1], h[c])) c++;
        if (!cand_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

// The heap holds every pair created so far; a popped pair that no longer
// exists (a neighbour merged away, or the pair changed) is skipped.
static void merge_heap(const tok_tokenizer *t, bpe_sym *sy, int count, bpe_cand *h) {
    size_t n = 0;
    for (int i = 0; i < count; i++) {
        set_pair(t, sy, i);
        if (sy[i].rank != INT_MAX) heap_push(h, &n, (bpe_cand){sy[i].rank, i});
    }
    while (n > 0) {
        bpe_cand c = heap_pop(h, &n);
        int i = c.pos;
        if (sy[i].id < 0 || sy[i].next < 0) continue;
        set_pair(t, sy, i);
        if (sy[i].rank != c.rank) continue;
        merge_at(sy, i);
        set_pair(t, sy, i);
        if (sy[i].rank != INT_MAX) heap_push(h, &n, (bpe_cand){sy[i].rank, i});
        int p = sy[i].prev;
        if (p >= 0) {
            set_pair(t, sy, p);
            if (sy[p].rank != INT_MAX) heap_push(h, &n, (bpe_cand){sy[p].rank, p});
        }
    }
}

// ---- the word cache --------------------------------------------------------------------
// Each thread keeps a direct-mapped cache of recent short words and their ids,
// so that encoding stays read-only on the shared tokenizer. Entries carry the
// tokenizer's serial number: a freed tokenizer's entries never match again.

#define CACHE_SLOTS 4096  // a power of two
#define CACHE_WORD 22     // longest cached word (bytes)
#define CACHE_IDS 8       // most ids of a cached word

typedef struct {
    uint64_t serial;  // 0: empty
    uint8_t len, n_ids;
    char word[CACHE_WORD];
    int32_t ids[CACHE_IDS];
} cache_entry;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void cache_destroy(void *p) { rlc_free(p); }
static void cache_init_key(void) { cache_key_ok = pthread_key_create(&cache_key, cache_destroy) == 0; }

// This thread's cache, created on first use; NULL when that fails (then
// words are simply not cached).
static cache_entry *thread_cache(void) {
    pthread_once(&cache_once, cache_init_key);
    if (!cache_key_ok) return NULL;
    cache_entry *c = pthread_getspecific(cache_key);
    if (!c && (c = rlc_calloc(CACHE_SLOTS, sizeof *c)) && pthread_setspecific(cache_key, c) != 0) {
        rlc_free(c);
        c = NULL;
    }
    return c;
}

static cache_entry *cache_slot(cache_entry *c, const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return &c[(h ^ (h >> 15)) & (CACHE_SLOTS - 1)];
}

static void cache_store(cache_entry *e, uint64_t serial, const char *s, size_t n, const int *ids, size_t n_ids) {
    if (n_ids > CACHE_IDS) return;
    e->serial = serial;
    e->len = (uint8_t)n;
    e->n_ids = (uint8_t)n_ids;
    memcpy(e->word, s, n);
    memcpy(e->ids, ids, n_ids * sizeof *ids);
}

static rlc_status bpe_merge_word(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n);

rlc_status tok_bpe_word(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n) {
    if (n == 0) return RLC_OK;
    if (n == 1 && t->kind == TOK_KIND_BYTE_LEVEL && t->byte_id[(unsigned char)s[0]] >= 0)
        return tok_ws_push_id(ws, t->byte_id[(unsigned char)s[0]]);
    cache_entry *c = n <= CACHE_WORD ? thread_cache() : NULL;
    cache_entry *e = c ? cache_slot(c, s, n) : NULL;
    if (e && e->serial == t->serial && e->len == n && memcmp(e->word, s, n) == 0) {
        for (int i = 0; i < e->n_ids; i++) RLC_TRY(tok_ws_push_id(ws, e->ids[i]));
        return RLC_OK;
    }
    size_t before = ws->n_ids;
    RLC_TRY(bpe_merge_word(t, ws, s, n));
    if (e) cache_store(e, t->serial, s, n, ws->ids + before, ws->n_ids - before);
    return RLC_OK;
}

static rlc_status bpe_merge_word(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n) {
    if (t->ignore_merges) {  // a word that is a whole vocabulary entry is taken as is
        int id = tok_strmap_get(&t->model_map, s, n);
        if (id >= 0) return tok_ws_push_id(ws, id);
    }
    // a character may expand to 4 byte-fallback symbols
    RLC_TRY(reserve(&ws->syms, &ws->cap_syms, n * 4 + 1, sizeof(bpe_sym)));
    bpe_sym *sy = ws->syms;
    int count = initial_symbols(t, sy, s, n);
    if (count == 0) return RLC_OK;
    if (count <= BPE_SCAN_MAX) {
        merge_scan(t, sy, count);
    } else {
        // each merge pushes at most two pairs: count initial + 2 * (count - 1)
        RLC_TRY(reserve(&ws->heap, &ws->cap_heap, (size_t)count * 3, sizeof(bpe_cand)));
        merge_heap(t, sy, count, ws->heap);
    }
    for (int i = 0; i >= 0; i = sy[i].next) RLC_TRY(tok_ws_push_id(ws, sy[i].id));
    return RLC_OK;
}

// ---- the encoding pipeline ---------------------------------------------------------------

// The offset of the first invalid UTF-8 byte, or n when s is valid.
static size_t utf8_check(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = s[i] >= 0xC2 && s[i] <= 0xDF ? 2 : s[i] >= 0xE0 && s[i] <= 0xEF ? 3
                     : s[i] >= 0xF0 && s[i] <= 0xF4                          ? 4 : 0;
        if (len == 0 || len > n - i) return i;
        unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
        if (s[i] == 0xE0) lo = 0xA0;
        if (s[i] == 0xED) hi = 0x9F;
        if (s[i] == 0xF0) lo = 0x90;
        if (s[i] == 0xF4) hi = 0x8F;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
    return n;
}

static rlc_status encode_words(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n, int first) {
    RLC_TRY(tok_pretokenize(t, ws, s, n, first));
    for (size_t i = 0; i < ws->n_spans; i++) RLC_TRY(tok_bpe_word(t, ws, ws->spans[i].p, ws->spans[i].n));
    return RLC_OK;
}

// Normalizes a stretch of text between raw-matched added tokens, then splits
// off the added tokens that match the normalized text.
static rlc_status encode_normalized(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n, int first,
                                    int skip_special) {
    if (n == 0) return RLC_OK;
    rlc_arena_reset(ws->arena);
    RLC_TRY(tok_normalize(t, ws->arena, s, n, &s, &n));
    size_t pos = 0, b, e;
    int id;
    while (tok_find_added(t, s, n, pos, 1, skip_special, &b, &e, &id)) {
        RLC_TRY(encode_words(t, ws, s + pos, b - pos, first && pos == 0));
        RLC_TRY(tok_ws_push_id(ws, id));
        pos = e;
    }
    return encode_words(t, ws, s + pos, n - pos, first && pos == 0);
}

static rlc_status encode_text(const tok_tokenizer *t, tok_ws *ws, const char *text, size_t len, int flags) {
    int skip_special = (flags & TOK_ENCODE_SPECIAL_AS_TEXT) != 0;
    if (t->llama2c_prefix) {  // llama2.c: " " + text is one word
        if (len == 0) return RLC_OK;
        char *s = rlc_arena_alloc(ws->arena, len + 1, 1);
        if (!s) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
        s[0] = ' ';
        memcpy(s + 1, text, len);
        return tok_bpe_word(t, ws, s, len + 1);
    }
    size_t pos = 0, b, e;
    int id;
    while (tok_find_added(t, text, len, pos, 0, skip_special, &b, &e, &id)) {
        RLC_TRY(encode_normalized(t, ws, text + pos, b - pos, pos == 0, skip_special));
        RLC_TRY(tok_ws_push_id(ws, id));
        pos = e;
    }
    return encode_normalized(t, ws, text + pos, len - pos, pos == 0, skip_special);
}

rlc_status tok_encode(const tok_tokenizer *t, const char *text, size_t len, int flags, int **ids,
                      size_t *n_ids) {
    *ids = NULL;
    *n_ids = 0;
    if (!text && len) return rlc_errorf(RLC_ERR_ARG, "tok_encode: text is NULL");
    size_t bad = utf8_check(text, len);
    if (bad < len) return rlc_errorf(RLC_ERR_ARG, "tok_encode: text is not valid UTF-8 at byte %zu", bad);
    tok_ws ws;
    RLC_TRY(tok_ws_init(&ws, t));
    rlc_status st = RLC_OK;
    if (flags & TOK_ENCODE_ADD_SPECIAL)
        for (int i = 0; i < t->n_prefix && st == RLC_OK; i++) st = tok_ws_push_id(&ws, t->prefix[i]);
    if (st == RLC_OK) st = encode_text(t, &ws, text ? text : "", len, flags);
    if (flags & TOK_ENCODE_ADD_SPECIAL)
        for (int i = 0; i < t->n_suffix && st == RLC_OK; i++) st = tok_ws_push_id(&ws, t->suffix[i]);
    if (st == RLC_OK && !ws.ids) st = reserve((void **)&ws.ids, &ws.cap_ids, 1, sizeof(int));
    if (st == RLC_OK) {
        *ids = ws.ids;  // handed over to the caller
        *n_ids = ws.n_ids;
        ws.ids = NULL;
    }
    tok_ws_free(&ws);
    return st;
}
