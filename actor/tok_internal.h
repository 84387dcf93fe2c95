// tok_internal.h: the tokenizer's private structures, shared by the tok_*.c
// files: the token table, the hash maps, the normalizer and pre-tokenizer
// pipelines, and the per-call encoding workspace.
//
//   tok_load.c       tok_load's dispatch on the path; the tokenizer.json sections
//   tok_config.c     tokenizer_config.json & co; the vocab.json + merges.txt form
//   tok_llama2c.c    the llama2.c tokenizer.bin format
//   tok_map.c        the bytes->id and merge-rank hash maps
//   tok_vocab.c      the byte-level alphabet, the token table, public lookups
//   tok_normalize.c  normalizers (utf8proc NFC..., Prepend, Replace, ...)
//   tok_pretok.c     added-token matching, pre-tokenizers (PCRE2), the workspace
//   tok_bpe.c        the BPE merge loop, the word cache and tok_encode
//   tok_decode.c     tok_decode and the streaming decoder
#ifndef RLC_TOK_INTERNAL_H
#define RLC_TOK_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>    // pcre2_code, pcre2_match_data
#include <stddef.h>   // size_t
#include <stdint.h>   // uint32_t, uint64_t

#include "core/arena.h"   // rlc_arena
#include "core/json.h"    // json_t
#include "core/status.h"  // rlc_status
#include "tokenizer.h"

#define TOK_MAX_STEPS 8    // normalizer / pre-tokenizer steps
#define TOK_MAX_EXTRA 4    // ids a post-processor adds before or after
#define TOK_MAX_EOS 8

// ---- maps ---------------------------------------------------------------------

// Bytes -> id, open addressing. Keys are borrowed: they must outlive the map
// (they live in the tokenizer's arena).
typedef struct {
    const char *key;
    uint32_t len;
    int32_t value;  // -1: empty slot
} tok_strmap_entry;

typedef struct {
    tok_strmap_entry *slots;
    size_t mask;  // capacity - 1 (a power of two)
    size_t count;
} tok_strmap;

rlc_status tok_strmap_init(tok_strmap *m, size_t expected);
// Adds key -> value unless the key is present (the first value wins).
rlc_status tok_strmap_put(tok_strmap *m, const char *key, size_t len, int value);
int tok_strmap_get(const tok_strmap *m, const char *key, size_t len);  // -1: absent
void tok_strmap_free(tok_strmap *m);

// (left id, right id) -> (rank, merged id): the merge-rank table.
typedef struct {
    uint64_t key;  // ((left + 1) << 32) | (right + 1); 0: empty slot
    int32_t rank;  // lower merges first
    int32_t id;
} tok_merge_entry;

typedef struct {
    tok_merge_entry *slots;
    size_t mask;
    size_t count;
} tok_mergemap;

rlc_status tok_mergemap_init(tok_mergemap *m, size_t expected);
// Adds a merge unless the pair is present (the first, lowest-rank one wins).
rlc_status tok_mergemap_put(tok_mergemap *m, int left, int right, int rank, int id);
// The merge of a pair, or NULL.
static inline const tok_merge_entry *tok_mergemap_get(const tok_mergemap *m, int left, int right) {
    uint64_t key = ((uint64_t)(uint32_t)(left + 1) << 32) | (uint32_t)(right + 1);
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    for (;;) {
        const tok_merge_entry *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) return NULL;
        i = (i + 1) & m->mask;
    }
}
void tok_mergemap_free(tok_mergemap *m);

// ---- the tokenizer --------------------------------------------------------------

enum { TOK_ATTR_SPECIAL = 1, TOK_ATTR_ADDED = 2 };

typedef struct {
    const char *piece;  // as the vocabulary spells it; NULL for an unused id
    const char *text;   // the bytes it decodes to
    uint32_t piece_len, text_len;
    uint32_t attr;      // TOK_ATTR_*
} tok_token;

// An added token to match in the text before pre-tokenization.
typedef struct {
    const char *match;  // content, or the normalized content when `normalized`
    uint32_t len;
    int id;
    unsigned char lstrip, rstrip, single_word, normalized, special;
} tok_added;

typedef enum {
    TOK_NORM_NFC = 0,
    TOK_NORM_NFD,
    TOK_NORM_NFKC,
    TOK_NORM_NFKD,
    TOK_NORM_PREPEND,   // a = the prefix, added to non-empty text
    TOK_NORM_REPLACE,   // every a -> b (literal)
    TOK_NORM_LOWERCASE,
    TOK_NORM_STRIP      // left / right: strip Unicode whitespace
} tok_norm_kind;

typedef struct {
    tok_norm_kind kind;
    const char *a, *b;  // in the arena
    size_t alen, blen;
    int left, right;
} tok_norm_step;

typedef enum {
    TOK_SPLIT_ISOLATED = 0,
    TOK_SPLIT_REMOVED,
    TOK_SPLIT_MERGED_WITH_PREVIOUS,
    TOK_SPLIT_MERGED_WITH_NEXT,
    TOK_SPLIT_CONTIGUOUS
} tok_split_behavior;

typedef enum {
    TOK_PRE_SPLIT = 0,     // a regex (PCRE2, UTF + UCP) split
    TOK_PRE_PREFIX_SPACE,  // ByteLevel add_prefix_space: " " before each piece lacking one
    TOK_PRE_METASPACE      // spaces -> replacement, prepend it, split before each
} tok_pre_kind;

enum { TOK_PREPEND_ALWAYS = 0, TOK_PREPEND_FIRST, TOK_PREPEND_NEVER };

typedef struct {
    tok_pre_kind kind;
    pcre2_code *re;  // TOK_PRE_SPLIT (owned)
    tok_split_behavior behavior;
    int invert;
    const char *repl;  // TOK_PRE_METASPACE: the replacement ("▁"), in the arena
    size_t repl_len;
    int prepend_scheme;  // TOK_PREPEND_*
    int split;           // TOK_PRE_METASPACE: split into words
} tok_pre_step;

struct tok_tokenizer {
    tok_kind kind;
    uint64_t serial;   // unique per loaded tokenizer (keys the per-thread word cache)
    rlc_arena *arena;  // every string of the tokenizer
    int n_vocab;
    tok_token *tokens;        // (n_vocab)
    tok_strmap model_map;     // model-space bytes -> id (raw bytes when byte-level)
    tok_mergemap merges;
    int byte_id[256];         // byte-level: the token of a byte; otherwise <0xXX>; -1: none
    int unk_id;               // -1: none
    int byte_fallback, fuse_unk, ignore_merges;
    int llama2c_prefix;       // llama2.c: a dummy " " before non-empty text
    tok_added *added;         // (n_added), in the arena
    int n_added;
    unsigned char added_first[2][256];  // [normalized] first bytes of the match strings
    tok_norm_step norm[TOK_MAX_STEPS];
    int n_norm;
    tok_pre_step pre[TOK_MAX_STEPS];
    int n_pre;
    int strip_leading;        // decoder: strip this many leading spaces of the output
    int strip_after_bos;      // llama2.c: strip the leading space of the token after BOS
    int prefix[TOK_MAX_EXTRA], n_prefix;  // post-processor
    int suffix[TOK_MAX_EXTRA], n_suffix;
    int bos_id, add_bos;
    int eos_ids[TOK_MAX_EOS], n_eos;
    const char *chat_template;  // in the arena, or NULL
    pcre2_general_context *gctx;  // routes PCRE2's allocations through rlc_malloc
};

// ---- UTF-8 (the text is valid UTF-8 by then) ---------------------------------------

// The length of the character a lead byte starts.
static inline size_t tok_utf8_len(unsigned char c) {
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

// Decodes the (valid) character at s[i]; stores its length in *len.
static inline int32_t tok_utf8_at(const char *s, size_t i, size_t *len) {
    const unsigned char *u = (const unsigned char *)s + i;
    size_t n = tok_utf8_len(u[0]);
    *len = n;
    if (n == 1) return u[0];
    if (n == 2) return ((u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    if (n == 3) return ((u[0] & 0x0F) << 12) | ((u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    return ((u[0] & 0x07) << 18) | ((u[1] & 0x3F) << 12) | ((u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

// The start of the character that ends at s[i] (exclusive).
static inline size_t tok_utf8_prev(const char *s, size_t i) {
    do i--;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80);
    return i;
}

// Unicode White_Space (Rust's char::is_whitespace).
static inline int tok_is_space(int32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

// ---- tok_vocab.c ----------------------------------------------------------------

rlc_status tok_new(tok_kind kind, tok_tokenizer **out);
// Sizes the token table to n ids (at least the current size); new ids are unused.
rlc_status tok_reserve(tok_tokenizer *t, int n);
// Sets id's piece (copied into the arena) and its model-space key; the decode
// text is filled later by tok_finish_texts.
rlc_status tok_set_piece(tok_tokenizer *t, int id, const char *piece, size_t len);
// Maps a byte-level piece ("Ġworld") to raw bytes (" world") in buf (cap bytes,
// at least len). Returns the length, or -1 when a character is outside the
// GPT-2 byte alphabet.
long tok_bytelevel_unmap(const char *piece, size_t len, char *buf);
// Writes the byte-level spelling of raw bytes into buf (cap >= 2 * n).
size_t tok_bytelevel_map(const unsigned char *bytes, size_t n, char *buf);
// Builds model_map and byte_id from the pieces (call once all are set).
rlc_status tok_index_vocab(tok_tokenizer *t);
// Computes every token's decode text. `replace` / `with`: a decoder Replace
// (NULL for none); byte_fallback: pieces "<0xXX>" decode to one byte.
rlc_status tok_finish_texts(tok_tokenizer *t, const char *replace, const char *with,
                            int byte_fallback, int bytelevel);
// Adds a merge "left right" given as model-space pieces; the merged piece must
// be in the vocabulary. RLC_ERR_FORMAT (naming `what`) otherwise.
rlc_status tok_add_merge(tok_tokenizer *t, const char *left, size_t llen, const char *right,
                         size_t rlen, int rank, const char *what);
// Registers an added token (its id may already be a vocabulary piece).
rlc_status tok_add_token(tok_tokenizer *t, int id, const char *content, size_t len, int special,
                         int lstrip, int rstrip, int normalized, int single_word);
// Normalizes the match strings of normalized added tokens (call after the
// normalizer is set up).
rlc_status tok_finish_added(tok_tokenizer *t);

// ---- tok_pretok.c -----------------------------------------------------------------

// A piece of text being tokenized.
typedef struct {
    const char *p;
    size_t n;
} tok_span;

// The per-call workspace of tok_encode: growable arrays reused for every word.
typedef struct {
    rlc_arena *arena;        // rewritten text (normalized, metaspace), reset per segment
    pcre2_match_data *md;
    tok_span *spans, *spans2;  // pre-tokens; spans2 is the next step's output
    size_t n_spans, cap_spans, n_spans2, cap_spans2;
    tok_span *segs;            // one span's split into match / non-match segments
    unsigned char *seg_match;
    size_t n_segs, cap_segs;
    int *ids;                // the output
    size_t n_ids, cap_ids;
    void *syms;              // tok_bpe.c's symbol and heap arrays
    size_t cap_syms;
    void *heap;
    size_t cap_heap;
} tok_ws;

rlc_status tok_ws_init(tok_ws *ws, const tok_tokenizer *t);
void tok_ws_free(tok_ws *ws);
rlc_status tok_ws_push_id(tok_ws *ws, int id);

// Finds the next added-token match in s[from..n) among the tokens whose
// `normalized` flag equals `normalized`. On a match returns 1 with the matched
// range (lstrip / rstrip whitespace included) in *start / *end and the id.
int tok_find_added(const tok_tokenizer *t, const char *s, size_t n, size_t from, int normalized,
                   int skip_special, size_t *start, size_t *end, int *id);
// ---- tok_normalize.c ------------------------------------------------------------

// Runs the normalizer over s; *out may be s itself or arena memory.
rlc_status tok_normalize(const tok_tokenizer *t, rlc_arena *arena, const char *s, size_t n,
                         const char **out, size_t *out_n);
// s with every a replaced by b; *out is s itself when a does not occur.
rlc_status tok_replace_all(rlc_arena *arena, const char *s, size_t n, const char *a, size_t alen,
                           const char *b, size_t blen, const char **out, size_t *out_n);
// a + b in arena memory.
rlc_status tok_concat(rlc_arena *arena, const char *a, size_t alen, const char *b, size_t blen,
                      const char **out, size_t *out_n);

// ---- tok_pretok.c (cont.) ------------------------------------------------------------
// Pre-tokenizes s into ws->spans. `first`: s starts the input (Metaspace "first").
rlc_status tok_pretokenize(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n, int first);
// Compiles a Hugging Face (Oniguruma-syntax) regex for PCRE2, with \s and \S
// meaning Unicode White_Space as they do there. `what` names the source.
rlc_status tok_compile_regex(tok_tokenizer *t, const char *pattern, size_t len, int literal,
                             const char *what, pcre2_code **out);

// ---- tok_bpe.c -----------------------------------------------------------------

// Encodes one pre-token (model-space bytes) and appends its ids to ws->ids.
rlc_status tok_bpe_word(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n);

// ---- tok_load.c -----------------------------------------------------------------------

rlc_status tok_load_hf_json(const char *path, tok_tokenizer **out);
// A vocabulary object {"piece": id, ...}: sets the pieces and indexes them.
rlc_status tok_read_vocab_json(tok_tokenizer *t, const json_t *vocab, const char *what);
// A merge written as "left right" (a piece may hold a space: see tok_load.c).
rlc_status tok_add_merge_string(tok_tokenizer *t, const char *m, size_t len, int rank, const char *what);
// Pre-tokenizer steps: a regex Split, and ByteLevel (prefix space, GPT-2 regex).
rlc_status tok_add_split(tok_tokenizer *t, const char *pat, size_t len, int literal, tok_split_behavior b,
                         int invert, const char *what);
rlc_status tok_add_bytelevel(tok_tokenizer *t, int add_prefix_space, int use_regex, const char *what);

// ---- tok_config.c / tok_llama2c.c ---------------------------------------------------------

// The vocab.json + merges.txt (+ tokenizer_config.json) form.
rlc_status tok_load_vocab_merges(const char *dir, tok_tokenizer **out);
// Reads tokenizer_config.json, chat_template.jinja and generation_config.json
// from dir when present: bos/eos, add_bos/add_eos, the chat template.
rlc_status tok_apply_configs(tok_tokenizer *t, const char *dir);
rlc_status tok_load_llama2c(const char *path, tok_tokenizer **out);

#endif
