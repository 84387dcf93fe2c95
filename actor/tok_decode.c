// tok_decode.c: ids back to text, whole or streamed one token at a time.
//
// Each token decodes to fixed bytes (computed at load: byte-level pieces
// unmapped, "▁" replaced by " ", <0xXX> byte tokens as their byte). The
// decoder's leading-space strip (SentencePiece: the space the normalizer
// prepended; llama2.c: after BOS) applies to the start of the output. Bytes
// that form an incomplete UTF-8 sequence are held back until the next tokens
// complete it; an invalid sequence becomes U+FFFD, one per maximal invalid
// subpart (as Rust's from_utf8_lossy does).
#include <string.h>  // memcpy

#include "core/alloc.h"  // rlc_malloc, rlc_realloc, rlc_free
#include "tok_internal.h"

typedef struct {
    char *p;
    size_t n, cap;
} byte_buf;

struct tok_stream {
    const tok_tokenizer *t;
    int flags;
    int prev_id;           // the last token pushed (llama2.c's strip after BOS)
    int strip_left;        // leading spaces still to strip
    int started;           // output has begun: no more stripping
    unsigned char pend[4]; // an incomplete UTF-8 sequence held back
    int n_pend;
    byte_buf out;          // what the last push or flush returned
};

static rlc_status buf_reserve(byte_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return RLC_OK;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->n + extra + 1) c *= 2;
    char *p = rlc_realloc(b->p, c);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    b->p = p;
    b->cap = c;
    return RLC_OK;
}

static void put_replacement(byte_buf *b) {
    memcpy(b->p + b->n, "\xEF\xBF\xBD", 3);
    b->n += 3;
}

// The length of the UTF-8 sequence a lead byte starts, 0 when it cannot lead.
static int seq_len(unsigned char c) {
    return c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
}

// Whether byte k (k >= 1) of a sequence led by `lead` may be c.
static int cont_ok(unsigned char lead, int k, unsigned char c) {
    if (k == 1) {
        if (lead == 0xE0) return c >= 0xA0 && c <= 0xBF;
        if (lead == 0xED) return c >= 0x80 && c <= 0x9F;
        if (lead == 0xF0) return c >= 0x90 && c <= 0xBF;
        if (lead == 0xF4) return c >= 0x80 && c <= 0x8F;
    }
    return (c & 0xC0) == 0x80;
}

// Appends the complete characters of pend + bytes to s->out (U+FFFD for
// invalid sequences) and keeps an incomplete tail in s->pend.
static rlc_status feed(tok_stream *s, byte_buf *out, const char *bytes, size_t n) {
    RLC_TRY(buf_reserve(out, (n + (size_t)s->n_pend) * 3));
    unsigned char seq[4];
    int have = s->n_pend;
    memcpy(seq, s->pend, (size_t)have);
    s->n_pend = 0;
    size_t i = 0;
    for (;;) {
        if (have == 0) {  // copy a run of ASCII quickly
            size_t j = i;
            while (j < n && (unsigned char)bytes[j] < 0x80) j++;
            memcpy(out->p + out->n, bytes + i, j - i);
            out->n += j - i;
            i = j;
            if (i == n) break;
            seq[have++] = (unsigned char)bytes[i++];
            if (!seq_len(seq[0])) {
                put_replacement(out);
                have = 0;
                continue;
            }
        }
        int need = seq_len(seq[0]);
        while (have < need && i < n) {
            unsigned char c = (unsigned char)bytes[i];
            if (!cont_ok(seq[0], have, c)) break;
            seq[have++] = c;
            i++;
        }
        if (have == need) {
            memcpy(out->p + out->n, seq, (size_t)have);
            out->n += (size_t)have;
            have = 0;
        } else if (i == n) {  // incomplete: wait for more bytes
            memcpy(s->pend, seq, (size_t)have);
            s->n_pend = have;
            break;
        } else {  // a byte that cannot continue the sequence: replace the part so far
            put_replacement(out);
            have = 0;
        }
    }
    out->p[out->n] = '\0';
    return RLC_OK;
}

static void stream_reset(tok_stream *s) {
    s->prev_id = -1;
    s->strip_left = s->t->strip_leading;
    s->started = 0;
    s->n_pend = 0;
}

// Decodes one token into `out` (appending).
static rlc_status push_into(tok_stream *s, int id, byte_buf *out) {
    const tok_tokenizer *t = s->t;
    if (id < 0 || id >= t->n_vocab || !t->tokens[id].piece)
        return rlc_errorf(RLC_ERR_ARG, "tokenizer: token id %d is not in the vocabulary (size %d)", id,
                          t->n_vocab);
    const tok_token *tk = &t->tokens[id];
    int prev = s->prev_id;
    s->prev_id = id;
    if ((s->flags & TOK_DECODE_SKIP_SPECIAL) && (tk->attr & TOK_ATTR_SPECIAL)) return RLC_OK;
    const char *p = tk->text;
    size_t n = tk->text_len;
    if (t->strip_after_bos && prev >= 0 && prev == t->bos_id && n > 0 && p[0] == ' ') p++, n--;
    while (s->strip_left > 0 && !s->started && n > 0 && p[0] == ' ') p++, n--, s->strip_left--;
    if (n > 0) s->started = 1;
    return feed(s, out, p, n);
}

static rlc_status flush_into(tok_stream *s, byte_buf *out) {
    RLC_TRY(buf_reserve(out, 3));
    if (s->n_pend > 0) put_replacement(out);
    out->p[out->n] = '\0';
    stream_reset(s);
    return RLC_OK;
}

rlc_status tok_stream_create(const tok_tokenizer *t, int flags, tok_stream **out) {
    tok_stream *s = rlc_calloc(1, sizeof *s);
    if (!s) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
    s->t = t;
    s->flags = flags;
    stream_reset(s);
    *out = s;
    return RLC_OK;
}

rlc_status tok_stream_push(tok_stream *s, int id, const char **text, size_t *len) {
    s->out.n = 0;
    rlc_status st = push_into(s, id, &s->out);
    *text = s->out.p ? s->out.p : "";
    *len = st == RLC_OK ? s->out.n : 0;
    return st;
}

rlc_status tok_stream_flush(tok_stream *s, const char **text, size_t *len) {
    s->out.n = 0;
    rlc_status st = flush_into(s, &s->out);
    *text = s->out.p ? s->out.p : "";
    *len = st == RLC_OK ? s->out.n : 0;
    return st;
}

void tok_stream_free(tok_stream *s) {
    if (!s) return;
    rlc_free(s->out.p);
    rlc_free(s);
}

rlc_status tok_decode(const tok_tokenizer *t, const int *ids, size_t n, int flags, char **text,
                      size_t *len) {
    *text = NULL;
    *len = 0;
    tok_stream s = {.t = t, .flags = flags};
    stream_reset(&s);
    byte_buf out = {0};
    rlc_status st = buf_reserve(&out, 0);
    for (size_t i = 0; i < n && st == RLC_OK; i++) st = push_into(&s, ids[i], &out);
    if (st == RLC_OK) st = flush_into(&s, &out);
    if (st != RLC_OK) {
        rlc_free(out.p);
        return st;
    }
    *text = out.p;  // handed over to the caller
    *len = out.n;
    return RLC_OK;
}
