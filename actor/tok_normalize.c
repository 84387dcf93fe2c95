// tok_normalize.c: the normalizers of the Hugging Face pipeline: Unicode
// normalization (NFC, NFD, NFKC, NFKD through utf8proc, with our allocator),
// Prepend, Replace (literal), Lowercase and Strip. Results live in the
// caller's arena; a step that changes nothing returns its input.
#include <string.h>  // memcpy, memcmp

#include <utf8proc.h>  // utf8proc_decompose, utf8proc_normalize_utf32, utf8proc_reencode

#include "tok_internal.h"

// Unicode normalization of s into arena memory (utf8proc, with our allocation).
static rlc_status unicode_normalize(rlc_arena *arena, const char *s, size_t n, int options,
                                   const char **out, size_t *out_n) {
    utf8proc_ssize_t need = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, NULL, 0,
                                               (utf8proc_option_t)options);
    if (need < 0) return rlc_errorf(RLC_ERR_ARG, "tokenizer: normalization failed: %s", utf8proc_errmsg(need));
    utf8proc_int32_t *buf = rlc_arena_alloc(arena, ((size_t)need + 1) * sizeof *buf, 8);
    if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    utf8proc_ssize_t got = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, buf, need,
                                              (utf8proc_option_t)options);
    if (got >= 0) got = utf8proc_normalize_utf32(buf, got, (utf8proc_option_t)options);
    if (got >= 0) got = utf8proc_reencode(buf, got, (utf8proc_option_t)options);
    if (got < 0) return rlc_errorf(RLC_ERR_ARG, "tokenizer: normalization failed: %s", utf8proc_errmsg(got));
    *out = (const char *)buf;
    *out_n = (size_t)got;
    return RLC_OK;
}

// Whether NFC/NFKC/... can leave s unchanged without looking: every code point
// below U+0300 is stable under NFC (no combining marks, no compositions).
static int normal_fast_path(tok_norm_kind kind, const char *s, size_t n) {
    unsigned char limit = kind == TOK_NORM_NFC ? 0xCC : 0x80;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= limit) return 0;
    return 1;
}

rlc_status tok_replace_all(rlc_arena *arena, const char *s, size_t n, const char *a, size_t alen,
                              const char *b, size_t blen, const char **out, size_t *out_n) {
    size_t count = 0;
    for (size_t i = 0; i + alen <= n;) {
        if (memcmp(s + i, a, alen) == 0) count++, i += alen;
        else i++;
    }
    if (count == 0) {
        *out = s, *out_n = n;
        return RLC_OK;
    }
    char *buf = rlc_arena_alloc(arena, n + count * blen + 1, 1);
    if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (i + alen <= n && memcmp(s + i, a, alen) == 0) {
            memcpy(buf + o, b, blen);
            o += blen, i += alen;
        } else {
            buf[o++] = s[i++];
        }
    }
    *out = buf, *out_n = o;
    return RLC_OK;
}

rlc_status tok_concat(rlc_arena *arena, const char *a, size_t alen, const char *b, size_t blen,
                         const char **out, size_t *out_n) {
    char *buf = rlc_arena_alloc(arena, alen + blen + 1, 1);
    if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    memcpy(buf, a, alen);
    memcpy(buf + alen, b, blen);
    *out = buf, *out_n = alen + blen;
    return RLC_OK;
}

static rlc_status lowercase(rlc_arena *arena, const char *s, size_t n, const char **out, size_t *out_n) {
    char *buf = rlc_arena_alloc(arena, n * 2 + 4, 1);  // a lowercase form is never much longer
    if (!buf) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    size_t o = 0, len;
    for (size_t i = 0; i < n; i += len) {
        int32_t c = utf8proc_tolower(tok_utf8_at(s, i, &len));
        o += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)buf + o);
    }
    *out = buf, *out_n = o;
    return RLC_OK;
}

static void strip_spaces(const char **s, size_t *n, int left, int right) {
    size_t b = 0, e = *n, len;
    while (left && b < e && tok_is_space(tok_utf8_at(*s, b, &len))) b += len;
    while (right && e > b && tok_is_space(tok_utf8_at(*s, tok_utf8_prev(*s, e), &len))) e = tok_utf8_prev(*s, e);
    *s += b;
    *n = e - b;
}

static rlc_status norm_step(const tok_norm_step *st, rlc_arena *arena, const char **s, size_t *n) {
    static const int unicode_opts[] = {
        [TOK_NORM_NFC] = UTF8PROC_STABLE | UTF8PROC_COMPOSE,
        [TOK_NORM_NFD] = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE,
        [TOK_NORM_NFKC] = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT,
        [TOK_NORM_NFKD] = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT,
    };
    switch (st->kind) {
    case TOK_NORM_NFC:
    case TOK_NORM_NFD:
    case TOK_NORM_NFKC:
    case TOK_NORM_NFKD:
        if (normal_fast_path(st->kind, *s, *n)) return RLC_OK;
        return unicode_normalize(arena, *s, *n, unicode_opts[st->kind], s, n);
    case TOK_NORM_PREPEND:
        return *n ? tok_concat(arena, st->a, st->alen, *s, *n, s, n) : RLC_OK;
    case TOK_NORM_REPLACE:
        return tok_replace_all(arena, *s, *n, st->a, st->alen, st->b, st->blen, s, n);
    case TOK_NORM_LOWERCASE:
        return lowercase(arena, *s, *n, s, n);
    case TOK_NORM_STRIP:
        strip_spaces(s, n, st->left, st->right);
        return RLC_OK;
    }
    return RLC_OK;
}

rlc_status tok_normalize(const tok_tokenizer *t, rlc_arena *arena, const char *s, size_t n,
                         const char **out, size_t *out_n) {
    for (int i = 0; i < t->n_norm; i++) RLC_TRY(norm_step(&t->norm[i], arena, &s, &n));
    *out = s;
    *out_n = n;
    return RLC_OK;
}
