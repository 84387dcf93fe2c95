// tok_vocab.c: the tokenizer's tables: the GPT-2 byte-level alphabet, the
// token table with each token's model-space key and decode bytes, merges,
// added tokens, and the public lookups and tok_free.
#include <pthread.h>  // pthread_once
#include <stdio.h>    // snprintf
#include <string.h>   // memcpy, memcmp, strlen

#include "core/alloc.h"  // rlc_calloc, rlc_free
#include "tok_internal.h"

// ---- the GPT-2 byte-level alphabet ---------------------------------------------
// Printable bytes (33..126, 161..172, 174..255) stand for themselves; the other
// 68 bytes take the code points 256, 257, ... in byte order.

static int byte_to_cp[256];
static int cp_to_byte[324];  // -1: not in the alphabet
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void fill_tables(void) {
    int next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        byte_to_cp[b] = printable ? b : next++;
    }
    for (int c = 0; c < 324; c++) cp_to_byte[c] = -1;
    for (int b = 0; b < 256; b++) cp_to_byte[byte_to_cp[b]] = b;
}

static void bytelevel_tables(void) { pthread_once(&tables_once, fill_tables); }

long tok_bytelevel_unmap(const char *piece, size_t len, char *buf) {
    bytelevel_tables();
    const unsigned char *s = (const unsigned char *)piece;
    size_t i = 0, o = 0;
    while (i < len) {
        int cp;
        if (s[i] < 0x80) {
            cp = s[i++];
        } else if ((s[i] & 0xE0) == 0xC0 && i + 1 < len) {
            cp = ((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F);
            i += 2;
        } else {
            return -1;  // three-byte characters are all outside the alphabet
        }
        if (cp >= 324 || cp_to_byte[cp] < 0) return -1;
        buf[o++] = (char)cp_to_byte[cp];
    }
    return (long)o;
}

size_t tok_bytelevel_map(const unsigned char *bytes, size_t n, char *buf) {
    bytelevel_tables();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int cp = byte_to_cp[bytes[i]];
        if (cp < 0x80) {
            buf[o++] = (char)cp;
        } else {
            buf[o++] = (char)(0xC0 | (cp >> 6));
            buf[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    return o;
}

// ---- the token table --------------------------------------------------------------

static void *pcre_malloc(size_t size, void *ud) { return rlc_malloc(size); }
static void pcre_free(void *p, void *ud) { rlc_free(p); }

rlc_status tok_new(tok_kind kind, tok_tokenizer **out) {
    tok_tokenizer *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    static _Atomic uint64_t next_serial = 1;
    t->kind = kind;
    t->serial = next_serial++;
    t->arena = rlc_arena_create(1 << 20);
    if (!t->arena) {
        rlc_free(t);
        return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    }
    t->gctx = pcre2_general_context_create(pcre_malloc, pcre_free, NULL);
    if (!t->gctx) {
        rlc_arena_free(t->arena);
        rlc_free(t);
        return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    }
    t->unk_id = t->bos_id = -1;
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    *out = t;
    return RLC_OK;
}

rlc_status tok_reserve(tok_tokenizer *t, int n) {
    if (n <= t->n_vocab) return RLC_OK;
    tok_token *bigger = rlc_realloc(t->tokens, (size_t)n * sizeof *bigger);
    if (!bigger) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: cannot allocate %d tokens", n);
    memset(bigger + t->n_vocab, 0, (size_t)(n - t->n_vocab) * sizeof *bigger);
    t->tokens = bigger;
    t->n_vocab = n;
    return RLC_OK;
}

rlc_status tok_set_piece(tok_tokenizer *t, int id, const char *piece, size_t len) {
    if (id < 0) return rlc_errorf(RLC_ERR_FORMAT, "tokenizer: negative id %d", id);
    RLC_TRY(tok_reserve(t, id + 1));
    char *copy = rlc_arena_strndup(t->arena, piece, len);
    if (!copy) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    t->tokens[id].piece = copy;
    t->tokens[id].piece_len = (uint32_t)len;
    return RLC_OK;
}

// The model-space key of a vocabulary piece: raw bytes for byte-level
// tokenizers (stored as the token's decode text too), the piece otherwise.
static rlc_status model_key(tok_tokenizer *t, tok_token *tk, const char **key, size_t *len) {
    if (t->kind != TOK_KIND_BYTE_LEVEL) {
        *key = tk->piece;
        *len = tk->piece_len;
        return RLC_OK;
    }
    char *buf = rlc_arena_alloc(t->arena, tk->piece_len + 1, 1);
    if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    long n = tok_bytelevel_unmap(tk->piece, tk->piece_len, buf);
    if (n < 0) {  // outside the alphabet: the ByteLevel decoder keeps such pieces as they are
        memcpy(buf, tk->piece, tk->piece_len);
        n = tk->piece_len;
    }
    buf[n] = '\0';
    tk->text = buf;
    tk->text_len = (uint32_t)n;
    *key = buf;
    *len = (size_t)n;
    return RLC_OK;
}

rlc_status tok_index_vocab(tok_tokenizer *t) {
    RLC_TRY(tok_strmap_init(&t->model_map, (size_t)t->n_vocab));
    for (int id = 0; id < t->n_vocab; id++) {
        tok_token *tk = &t->tokens[id];
        if (!tk->piece) continue;
        const char *key = NULL;
        size_t len = 0;
        RLC_TRY(model_key(t, tk, &key, &len));
        RLC_TRY(tok_strmap_put(&t->model_map, key, len, id));
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        if (t->kind == TOK_KIND_BYTE_LEVEL) {
            char c = (char)b;
            t->byte_id[b] = tok_strmap_get(&t->model_map, &c, 1);
        } else {
            snprintf(name, sizeof name, "<0x%02X>", b);
            t->byte_id[b] = tok_strmap_get(&t->model_map, name, 6);
        }
    }
    return RLC_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A piece "<0xXX>" as its byte, or -1.
static int fallback_byte(const char *p, size_t n) {
    if (n != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>') return -1;
    int hi = hexval(p[3]), lo = hexval(p[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// The decode text of a piece under a Replace + ByteFallback decoder.
static rlc_status replaced_text(tok_tokenizer *t, tok_token *tk, const char *from, const char *to,
                                int byte_fallback) {
    int byte = byte_fallback ? fallback_byte(tk->piece, tk->piece_len) : -1;
    size_t flen = from ? strlen(from) : 0, tlen = to ? strlen(to) : 0;
    size_t cap = tk->piece_len * (tlen > flen ? tlen : 1) + 1;
    char *buf = rlc_arena_alloc(t->arena, cap, 1);
    if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    size_t o = 0;
    if (byte >= 0) {
        buf[o++] = (char)byte;
    } else {
        for (size_t i = 0; i < tk->piece_len;) {
            if (flen && i + flen <= tk->piece_len && memcmp(tk->piece + i, from, flen) == 0) {
                memcpy(buf + o, to, tlen);
                o += tlen;
                i += flen;
            } else {
                buf[o++] = tk->piece[i++];
            }
        }
    }
    buf[o] = '\0';
    tk->text = buf;
    tk->text_len = (uint32_t)o;
    return RLC_OK;
}

rlc_status tok_finish_texts(tok_tokenizer *t, const char *replace, const char *with,
                            int byte_fallback, int bytelevel) {
    for (int id = 0; id < t->n_vocab; id++) {
        tok_token *tk = &t->tokens[id];
        if (!tk->piece || tk->text) continue;
        if (bytelevel) {
            const char *key = NULL;
            size_t len = 0;
            RLC_TRY(model_key(t, tk, &key, &len));
            if (t->kind != TOK_KIND_BYTE_LEVEL) {  // a ByteLevel decoder on another model
                char *buf = rlc_arena_alloc(t->arena, tk->piece_len + 1, 1);
                if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
                long n = tok_bytelevel_unmap(tk->piece, tk->piece_len, buf);
                tk->text = n < 0 ? tk->piece : buf;
                tk->text_len = n < 0 ? tk->piece_len : (uint32_t)n;
            }
        } else {
            RLC_TRY(replaced_text(t, tk, replace, with, byte_fallback));
        }
    }
    return RLC_OK;
}

rlc_status tok_add_merge(tok_tokenizer *t, const char *left, size_t llen, const char *right,
                         size_t rlen, int rank, const char *what) {
    char lb[512], rb[512], cat[1024];
    const char *lk = left, *rk = right;
    if (t->kind == TOK_KIND_BYTE_LEVEL) {  // merges spell pieces; the map holds raw bytes
        if (llen >= sizeof lb || rlen >= sizeof rb)
            return rlc_errorf(RLC_ERR_FORMAT, "%s: merge %d is too long", what, rank);
        long ln = tok_bytelevel_unmap(left, llen, lb), rn = tok_bytelevel_unmap(right, rlen, rb);
        if (ln >= 0 && rn >= 0) {
            lk = lb, rk = rb;
            llen = (size_t)ln, rlen = (size_t)rn;
        }
    }
    if (llen + rlen > sizeof cat) return rlc_errorf(RLC_ERR_FORMAT, "%s: merge %d is too long", what, rank);
    int l = tok_strmap_get(&t->model_map, lk, llen);
    int r = tok_strmap_get(&t->model_map, rk, rlen);
    memcpy(cat, lk, llen);
    memcpy(cat + llen, rk, rlen);
    int m = tok_strmap_get(&t->model_map, cat, llen + rlen);
    if (l < 0 || r < 0 || m < 0)
        return rlc_errorf(RLC_ERR_FORMAT, "%s: merge %d (\"%.*s\" \"%.*s\") uses a piece not in the vocabulary",
                          what, rank, (int)llen, left, (int)rlen, right);
    return tok_mergemap_put(&t->merges, l, r, rank, m);
}

rlc_status tok_add_token(tok_tokenizer *t, int id, const char *content, size_t len, int special,
                         int lstrip, int rstrip, int normalized, int single_word) {
    if (id < 0 || len == 0) return rlc_errorf(RLC_ERR_FORMAT, "tokenizer: bad added token (id %d)", id);
    RLC_TRY(tok_reserve(t, id + 1));
    tok_token *tk = &t->tokens[id];
    if (!tk->piece) RLC_TRY(tok_set_piece(t, id, content, len));
    tk->attr |= TOK_ATTR_ADDED | (special ? TOK_ATTR_SPECIAL : 0);
    tok_added *bigger = rlc_realloc(t->added, (size_t)(t->n_added + 1) * sizeof *bigger);
    if (!bigger) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    t->added = bigger;
    tok_added *a = &t->added[t->n_added++];
    a->match = tk->piece_len == len && memcmp(tk->piece, content, len) == 0
                   ? tk->piece
                   : rlc_arena_strndup(t->arena, content, len);
    if (!a->match) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    a->len = (uint32_t)len;
    a->id = id;
    a->special = (unsigned char)special;
    a->lstrip = (unsigned char)lstrip;
    a->rstrip = (unsigned char)rstrip;
    a->normalized = (unsigned char)normalized;
    a->single_word = (unsigned char)single_word;
    return RLC_OK;
}

rlc_status tok_finish_added(tok_tokenizer *t) {
    memset(t->added_first, 0, sizeof t->added_first);
    for (int i = 0; i < t->n_added; i++) {
        tok_added *a = &t->added[i];
        if (a->normalized && t->n_norm > 0) {  // matched against normalized text, so normalize it too
            const char *s;
            size_t n;
            RLC_TRY(tok_normalize(t, t->arena, a->match, a->len, &s, &n));
            if (n > 0) {
                a->match = s;
                a->len = (uint32_t)n;
            }
        }
        t->added_first[a->normalized ? 1 : 0][(unsigned char)a->match[0]] = 1;
    }
    return RLC_OK;
}

// ---- public lookups -------------------------------------------------------------

tok_kind tok_get_kind(const tok_tokenizer *t) { return t->kind; }
int tok_vocab_size(const tok_tokenizer *t) { return t->n_vocab; }
int tok_bos_id(const tok_tokenizer *t) { return t->bos_id; }
int tok_add_bos(const tok_tokenizer *t) { return t->add_bos; }
const char *tok_chat_template(const tok_tokenizer *t) { return t->chat_template; }

int tok_eos_ids(const tok_tokenizer *t, const int **ids) {
    *ids = t->n_eos ? t->eos_ids : NULL;
    return t->n_eos;
}

int tok_is_eos(const tok_tokenizer *t, int id) {
    for (int i = 0; i < t->n_eos; i++)
        if (t->eos_ids[i] == id) return 1;
    return 0;
}

const char *tok_id_to_piece(const tok_tokenizer *t, int id) {
    return id >= 0 && id < t->n_vocab ? t->tokens[id].piece : NULL;
}

int tok_piece_to_id(const tok_tokenizer *t, const char *piece) {
    size_t len = strlen(piece);
    for (int i = 0; i < t->n_added; i++) {
        const tok_token *tk = &t->tokens[t->added[i].id];
        if (tk->piece_len == len && memcmp(tk->piece, piece, len) == 0) return t->added[i].id;
    }
    if (t->kind != TOK_KIND_BYTE_LEVEL) return tok_strmap_get(&t->model_map, piece, len);
    char buf[1024];
    if (len >= sizeof buf) return -1;
    long n = tok_bytelevel_unmap(piece, len, buf);
    int id = n < 0 ? tok_strmap_get(&t->model_map, piece, len) : tok_strmap_get(&t->model_map, buf, (size_t)n);
    if (id >= 0 && (t->tokens[id].piece_len != len || memcmp(t->tokens[id].piece, piece, len) != 0))
        return -1;
    return id;
}

const char *tok_token_text(const tok_tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->n_vocab || !t->tokens[id].piece) return NULL;
    *len = t->tokens[id].text_len;
    return t->tokens[id].text;
}

int tok_is_special(const tok_tokenizer *t, int id) {
    return id >= 0 && id < t->n_vocab && (t->tokens[id].attr & TOK_ATTR_SPECIAL) != 0;
}

void tok_free(tok_tokenizer *t) {
    if (!t) return;
    for (int i = 0; i < t->n_pre; i++) pcre2_code_free(t->pre[i].re);
    pcre2_general_context_free(t->gctx);
    tok_strmap_free(&t->model_map);
    tok_mergemap_free(&t->merges);
    rlc_free(t->tokens);
    rlc_free(t->added);
    rlc_arena_free(t->arena);
    rlc_free(t);
}
