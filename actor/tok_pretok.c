// tok_pretok.c: from text to BPE words: matching added tokens, the
// pre-tokenizers (regex Split through PCRE2, ByteLevel's prefix space,
// Metaspace) and the per-call workspace, following the Hugging Face
// `tokenizers` semantics.
#include <string.h>  // memcpy, memcmp, memchr

#include <utf8proc.h>  // utf8proc_category

#include "core/alloc.h"  // rlc_malloc, rlc_realloc, rlc_free
#include "tok_internal.h"

// ---- added tokens -------------------------------------------------------------------

static int is_alnum_cp(int32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}


// The longest added token (of the wanted kind) starting at s[i], or NULL.
static const tok_added *longest_at(const tok_tokenizer *t, const char *s, size_t n, size_t i,
                                   int normalized) {
    const tok_added *best = NULL;
    for (int k = 0; k < t->n_added; k++) {
        const tok_added *a = &t->added[k];
        if (a->normalized != normalized || a->len > n - i || (best && a->len <= best->len)) continue;
        if (memcmp(s + i, a->match, a->len) == 0) best = a;
    }
    return best;
}

// single_word: the match may not touch a letter or digit on either side.
static int is_single_word(const char *s, size_t n, size_t start, size_t end) {
    size_t len;
    if (start > 0 && is_alnum_cp(tok_utf8_at(s, tok_utf8_prev(s, start), &len))) return 0;
    if (end < n && is_alnum_cp(tok_utf8_at(s, end, &len))) return 0;
    return 1;
}

int tok_find_added(const tok_tokenizer *t, const char *s, size_t n, size_t from, int normalized,
                   int skip_special, size_t *start, size_t *end, int *id) {
    const unsigned char *first = t->added_first[normalized ? 1 : 0];
    size_t i = from;
    while (i < n) {
        const tok_added *a = first[(unsigned char)s[i]] ? longest_at(t, s, n, i, normalized) : NULL;
        if (!a) {
            i++;
            continue;
        }
        size_t b = i, e = i + a->len;
        // Like the tokenizers library, a match that is then refused still
        // consumes its text: the search resumes after it.
        if ((skip_special && a->special) || (a->single_word && !is_single_word(s, n, b, e))) {
            i = e;
            continue;
        }
        size_t len;
        while (a->lstrip && b > from && tok_is_space(tok_utf8_at(s, tok_utf8_prev(s, b), &len))) b = tok_utf8_prev(s, b);
        while (a->rstrip && e < n && tok_is_space(tok_utf8_at(s, e, &len))) e += len;
        *start = b;
        *end = e;
        *id = a->id;
        return 1;
    }
    return 0;
}

// ---- the workspace ----------------------------------------------------------------------

rlc_status tok_ws_init(tok_ws *ws, const tok_tokenizer *t) {
    memset(ws, 0, sizeof *ws);
    ws->arena = rlc_arena_create(64 * 1024);
    ws->md = pcre2_match_data_create(1, t->gctx);
    if (!ws->arena || !ws->md) {
        tok_ws_free(ws);
        return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    }
    return RLC_OK;
}

void tok_ws_free(tok_ws *ws) {
    rlc_arena_free(ws->arena);
    pcre2_match_data_free(ws->md);
    rlc_free(ws->spans);
    rlc_free(ws->spans2);
    rlc_free(ws->segs);
    rlc_free(ws->seg_match);
    rlc_free(ws->ids);
    rlc_free(ws->syms);
    rlc_free(ws->heap);
}

// Grows *arr (elements of `size` bytes) to hold at least `need`.
static rlc_status grow(void **arr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return RLC_OK;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *p = rlc_realloc(*arr, c * size);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    *arr = p;
    *cap = c;
    return RLC_OK;
}

rlc_status tok_ws_push_id(tok_ws *ws, int id) {
    if (ws->n_ids == ws->cap_ids) RLC_TRY(grow((void **)&ws->ids, &ws->cap_ids, ws->n_ids + 1, sizeof(int)));
    ws->ids[ws->n_ids++] = id;
    return RLC_OK;
}

static rlc_status push_span(tok_ws *ws, const char *p, size_t n) {
    if (n == 0) return RLC_OK;
    if (ws->n_spans2 == ws->cap_spans2)
        RLC_TRY(grow((void **)&ws->spans2, &ws->cap_spans2, ws->n_spans2 + 1, sizeof(tok_span)));
    ws->spans2[ws->n_spans2++] = (tok_span){p, n};
    return RLC_OK;
}

static rlc_status push_seg(tok_ws *ws, const char *p, size_t n, int match) {
    if (n == 0) return RLC_OK;
    if (ws->n_segs == ws->cap_segs) {
        size_t cap = ws->cap_segs;
        RLC_TRY(grow((void **)&ws->segs, &ws->cap_segs, ws->n_segs + 1, sizeof(tok_span)));
        RLC_TRY(grow((void **)&ws->seg_match, &cap, ws->n_segs + 1, 1));
    }
    ws->segs[ws->n_segs] = (tok_span){p, n};
    ws->seg_match[ws->n_segs++] = (unsigned char)match;
    return RLC_OK;
}

// ---- pre-tokenizers ---------------------------------------------------------------------

// Cuts s into alternating non-match / match segments of `re` (or of the literal
// `lit` when re is NULL) into ws->segs.
static rlc_status find_segments(const tok_pre_step *st, tok_ws *ws, const char *s, size_t n,
                                const char *lit, size_t lit_len) {
    ws->n_segs = 0;
    size_t prev = 0, at = 0;
    while (at < n) {
        size_t b, e;
        if (st->re) {
            int rc = pcre2_match(st->re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, ws->md, NULL);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(rc, msg, sizeof msg);
                return rlc_errorf(rc == PCRE2_ERROR_NOMEMORY ? RLC_ERR_NOMEM : RLC_ERR_LIMIT,
                                  "tokenizer: pre-tokenizer regex failed: %s", (char *)msg);
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ws->md);
            b = ov[0], e = ov[1];
        } else {
            const char *hit = NULL;
            for (size_t i = at; i + lit_len <= n; i++)
                if (memcmp(s + i, lit, lit_len) == 0) {
                    hit = s + i;
                    break;
                }
            if (!hit) break;
            b = (size_t)(hit - s), e = b + lit_len;
        }
        if (e == b) {  // an empty match splits nothing; step over one character
            at = b + tok_utf8_len((unsigned char)s[b]);
            continue;
        }
        RLC_TRY(push_seg(ws, s + prev, b - prev, st->invert));
        RLC_TRY(push_seg(ws, s + b, e - b, !st->invert));
        prev = at = e;
    }
    return push_seg(ws, s + prev, n - prev, st->invert);
}

// Applies a split behavior to ws->segs, appending the pieces to ws->spans2.
static rlc_status apply_behavior(tok_ws *ws, tok_split_behavior behavior) {
    size_t first_out = ws->n_spans2;
    int prev_match = 0;
    if (behavior == TOK_SPLIT_MERGED_WITH_NEXT) {  // a match joins the piece after it: fold backwards
        for (size_t i = ws->n_segs; i-- > 0;) {
            tok_span g = ws->segs[i];
            int m = ws->seg_match[i];
            if (m && !prev_match && ws->n_spans2 > first_out) {
                tok_span *next = &ws->spans2[ws->n_spans2 - 1];
                next->n = (size_t)(next->p + next->n - g.p);
                next->p = g.p;
            } else {
                RLC_TRY(push_span(ws, g.p, g.n));
            }
            prev_match = m;
        }
        for (size_t a = first_out, b = ws->n_spans2; a + 1 < b; a++, b--) {
            tok_span tmp = ws->spans2[a];
            ws->spans2[a] = ws->spans2[b - 1];
            ws->spans2[b - 1] = tmp;
        }
        return RLC_OK;
    }
    for (size_t i = 0; i < ws->n_segs; i++) {
        tok_span g = ws->segs[i];
        int m = ws->seg_match[i];
        int join = (behavior == TOK_SPLIT_MERGED_WITH_PREVIOUS && m && !prev_match) ||
                   (behavior == TOK_SPLIT_CONTIGUOUS && m == prev_match && i > 0);
        if (behavior == TOK_SPLIT_REMOVED && m) {
            prev_match = m;
            continue;
        }
        if (join && ws->n_spans2 > first_out) {
            ws->spans2[ws->n_spans2 - 1].n = (size_t)(g.p + g.n - ws->spans2[ws->n_spans2 - 1].p);
        } else {
            RLC_TRY(push_span(ws, g.p, g.n));
        }
        prev_match = m;
    }
    return RLC_OK;
}

static rlc_status split_step(const tok_pre_step *st, tok_ws *ws, tok_span sp) {
    if (st->re && st->behavior == TOK_SPLIT_ISOLATED && !st->invert) {  // the hot path: no segment list
        size_t prev = 0, at = 0;
        while (at < sp.n) {
            int rc = pcre2_match(st->re, (PCRE2_SPTR)sp.p, sp.n, at, PCRE2_NO_UTF_CHECK, ws->md, NULL);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) return find_segments(st, ws, sp.p, sp.n, NULL, 0);  // reports the error
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ws->md);
            if (ov[1] == ov[0]) {
                at = ov[0] + tok_utf8_len((unsigned char)sp.p[ov[0]]);
                continue;
            }
            RLC_TRY(push_span(ws, sp.p + prev, ov[0] - prev));
            RLC_TRY(push_span(ws, sp.p + ov[0], ov[1] - ov[0]));
            prev = at = ov[1];
        }
        return push_span(ws, sp.p + prev, sp.n - prev);
    }
    RLC_TRY(find_segments(st, ws, sp.p, sp.n, st->repl, st->repl_len));
    return apply_behavior(ws, st->behavior);
}

static rlc_status metaspace_step(const tok_pre_step *st, tok_ws *ws, tok_span sp, int first) {
    const char *s;
    size_t n;
    RLC_TRY(tok_replace_all(ws->arena, sp.p, sp.n, " ", 1, st->repl, st->repl_len, &s, &n));
    int starts = n >= st->repl_len && memcmp(s, st->repl, st->repl_len) == 0;
    if (!starts && (st->prepend_scheme == TOK_PREPEND_ALWAYS || (st->prepend_scheme == TOK_PREPEND_FIRST && first)))
        RLC_TRY(tok_concat(ws->arena, st->repl, st->repl_len, s, n, &s, &n));
    if (!st->split) return push_span(ws, s, n);
    tok_pre_step lit = *st;
    lit.re = NULL;
    lit.invert = 0;
    RLC_TRY(find_segments(&lit, ws, s, n, st->repl, st->repl_len));
    return apply_behavior(ws, TOK_SPLIT_MERGED_WITH_NEXT);
}

rlc_status tok_pretokenize(const tok_tokenizer *t, tok_ws *ws, const char *s, size_t n, int first) {
    ws->n_spans = 0;
    RLC_TRY(grow((void **)&ws->spans, &ws->cap_spans, 1, sizeof(tok_span)));
    if (n == 0) return RLC_OK;
    ws->spans[ws->n_spans++] = (tok_span){s, n};
    for (int k = 0; k < t->n_pre; k++) {
        const tok_pre_step *st = &t->pre[k];
        ws->n_spans2 = 0;
        for (size_t i = 0; i < ws->n_spans; i++) {
            tok_span sp = ws->spans[i];
            if (st->kind == TOK_PRE_SPLIT) {
                RLC_TRY(split_step(st, ws, sp));
            } else if (st->kind == TOK_PRE_PREFIX_SPACE) {
                if (sp.p[0] != ' ') RLC_TRY(tok_concat(ws->arena, " ", 1, sp.p, sp.n, &sp.p, &sp.n));
                RLC_TRY(push_span(ws, sp.p, sp.n));
            } else {
                RLC_TRY(metaspace_step(st, ws, sp, first && sp.p == s));
            }
        }
        tok_span *tmp = ws->spans;  // the output becomes the next step's input
        size_t tcap = ws->cap_spans;
        ws->spans = ws->spans2, ws->cap_spans = ws->cap_spans2, ws->n_spans = ws->n_spans2;
        ws->spans2 = tmp, ws->cap_spans2 = tcap;
    }
    return RLC_OK;
}

// ---- regex compilation ---------------------------------------------------------------------

#define WS_CLASS_BODY "\\x{09}-\\x{0D}\\x{85}\\p{Z}"

// Rewrites \s and \S to Unicode White_Space classes (what Oniguruma, the
// library `tokenizers` runs its regexes with, means by them; PCRE2's \s under
// UCP leaves out U+0085). Returns a new buffer (rlc_free) or NULL.
static char *translate_regex(const char *p, size_t n, size_t *out_n) {
    char *buf = rlc_malloc(n * 24 + 1);
    if (!buf) return NULL;
    size_t o = 0;
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            char d = p[++i];
            const char *rep = NULL;
            if (d == 's') rep = in_class ? WS_CLASS_BODY : "[" WS_CLASS_BODY "]";
            else if (d == 'S' && !in_class) rep = "[^" WS_CLASS_BODY "]";
            if (rep) {
                memcpy(buf + o, rep, strlen(rep));
                o += strlen(rep);
            } else {
                buf[o++] = c;
                buf[o++] = d;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            buf[o++] = c;
            if (i + 1 < n && p[i + 1] == '^') buf[o++] = p[++i];
            if (i + 1 < n && p[i + 1] == ']') buf[o++] = p[++i];  // a leading ] is literal
            continue;
        }
        if (c == ']' && in_class) in_class = 0;
        buf[o++] = c;
    }
    buf[o] = '\0';
    *out_n = o;
    return buf;
}

rlc_status tok_compile_regex(tok_tokenizer *t, const char *pattern, size_t len, int literal,
                             const char *what, pcre2_code **out) {
    size_t n = len;
    char *src = literal ? NULL : translate_regex(pattern, len, &n);
    if (!literal && !src) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    pcre2_compile_context *cc = pcre2_compile_context_create(t->gctx);
    int err = 0;
    PCRE2_SIZE off = 0;
    uint32_t opts = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);  // LITERAL refuses UCP
    *out = cc ? pcre2_compile((PCRE2_SPTR)(literal ? pattern : src), n, opts, &err, &off, cc) : NULL;
    pcre2_compile_context_free(cc);
    rlc_free(src);
    if (!*out) {
        PCRE2_UCHAR msg[160] = "out of memory";
        if (err) pcre2_get_error_message(err, msg, sizeof msg);
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: regex /%.*s/ does not compile: %s", what, (int)len,
                          pattern, (char *)msg);
    }
#ifndef RLC_TOK_NO_JIT  // define it for valgrind runs: JIT code reads look uninitialized to it
    pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);  // optional: the interpreter runs without it
#endif
    return RLC_OK;
}
