// stop.c: stop-string matching over a held-back tail of streamed text.
#define _GNU_SOURCE  // memmem
#include "stop.h"

#include <string.h>  // memcpy, memmem, strlen

#include "core/alloc.h"  // rlc_malloc

struct actor_stop {
    char **stops;  // (n) owned copies
    size_t *lens;  // (n)
    int n;
    char *buf;     // held-back bytes first, then the bytes released by the last call
    size_t held, cap;
    char *out;     // released bytes of the last call
    size_t out_cap;
};

rlc_status actor_stop_create(const char *const *stops, int n, actor_stop **out) {
    actor_stop *st = rlc_calloc(1, sizeof *st);
    if (!st) return rlc_errorf(RLC_ERR_NOMEM, "stop strings: out of memory");
    st->stops = rlc_calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    st->lens = rlc_calloc((size_t)(n > 0 ? n : 1), sizeof(size_t));
    if (!st->stops || !st->lens) {
        actor_stop_free(st);
        return rlc_errorf(RLC_ERR_NOMEM, "stop strings: out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (!stops[i][0]) continue;  // an empty stop string would match everywhere
        st->stops[st->n] = rlc_strdup(stops[i]);
        if (!st->stops[st->n]) {
            actor_stop_free(st);
            return rlc_errorf(RLC_ERR_NOMEM, "stop strings: out of memory");
        }
        st->lens[st->n] = strlen(stops[i]);
        st->n++;
    }
    *out = st;
    return RLC_OK;
}

void actor_stop_free(actor_stop *st) {
    if (!st) return;
    for (int i = 0; i < st->n; i++) rlc_free(st->stops[i]);
    rlc_free(st->stops);
    rlc_free(st->lens);
    rlc_free(st->buf);
    rlc_free(st->out);
    rlc_free(st);
}

void actor_stop_reset(actor_stop *st) { st->held = 0; }

static int reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    char *b = rlc_realloc(*buf, c);
    if (!b) return 0;
    *buf = b;
    *cap = c;
    return 1;
}

// Length of the longest suffix of buf (len) that is a proper prefix of a stop string.
static size_t partial_tail(const actor_stop *st, const char *buf, size_t len) {
    size_t best = 0;
    for (int i = 0; i < st->n; i++) {
        size_t max = st->lens[i] - 1 < len ? st->lens[i] - 1 : len;
        for (size_t k = max; k > best; k--)
            if (memcmp(buf + len - k, st->stops[i], k) == 0) {
                best = k;
                break;
            }
    }
    return best;
}

static rlc_status release(actor_stop *st, size_t n, const char **out, size_t *out_len) {
    if (!reserve(&st->out, &st->out_cap, n + 1)) return rlc_errorf(RLC_ERR_NOMEM, "stop strings: out of memory");
    memcpy(st->out, st->buf, n);
    st->out[n] = '\0';
    memmove(st->buf, st->buf + n, st->held - n);
    st->held -= n;
    *out = st->out;
    *out_len = n;
    return RLC_OK;
}

rlc_status actor_stop_push(actor_stop *st, const char *text, size_t len, const char **out,
                           size_t *out_len, int *matched) {
    *matched = 0;
    if (!reserve(&st->buf, &st->cap, st->held + len + 1)) return rlc_errorf(RLC_ERR_NOMEM, "stop strings: out of memory");
    memcpy(st->buf + st->held, text, len);
    st->held += len;
    // The earliest complete stop string wins.
    size_t first = st->held;
    for (int i = 0; i < st->n; i++) {
        const char *hit = memmem(st->buf, st->held, st->stops[i], st->lens[i]);
        if (hit && (size_t)(hit - st->buf) < first) first = (size_t)(hit - st->buf);
    }
    if (first < st->held) {
        *matched = 1;
        RLC_TRY(release(st, first, out, out_len));
        st->held = 0;
        return RLC_OK;
    }
    return release(st, st->held - partial_tail(st, st->buf, st->held), out, out_len);
}

void actor_stop_flush(actor_stop *st, const char **out, size_t *out_len) {
    if (release(st, st->held, out, out_len) != RLC_OK) {
        *out = "";
        *out_len = 0;
    }
}
