// reliable.c: resend ring, duplicate filter, heartbeat timer, weights assembly.
#include "reliable.h"

#include <math.h>    // ceil
#include <string.h>  // memcpy, memset

#include "alloc.h"     // rlc_calloc, rlc_realloc, rlc_free
#include "checksum.h"  // rlc_xxh64

// ---- resend ring ------------------------------------------------------------------

typedef struct {
    uint8_t *data;  // owned, kept across reuse
    size_t len, cap;
    double sent_at;
    uint32_t sends;
    int acked;      // released selectively, still waiting for the ones before it
} slot;

struct rlc_resend_ring {
    slot *slots;      // seq s lives in slots[s % cap] for s in [first, next)
    uint32_t cap;
    size_t max_bytes, bytes;
    uint64_t first;   // lowest seq still held (== next when empty)
    uint64_t next;    // seq of the next push
    uint32_t unacked;
};

rlc_status rlc_resend_ring_create(uint32_t max_entries, size_t max_bytes, rlc_resend_ring **out) {
    *out = NULL;
    if (max_entries == 0 || max_bytes == 0)
        return rlc_errorf(RLC_ERR_ARG, "resend ring: max_entries and max_bytes must be >= 1");
    rlc_resend_ring *r = rlc_calloc(1, sizeof *r);
    if (r) r->slots = rlc_calloc(max_entries, sizeof *r->slots);
    if (!r || !r->slots) {
        rlc_free(r);
        return rlc_errorf(RLC_ERR_NOMEM, "resend ring of %u entries", max_entries);
    }
    r->cap = max_entries;
    r->max_bytes = max_bytes;
    r->first = r->next = 1;
    *out = r;
    return RLC_OK;
}

void rlc_resend_ring_free(rlc_resend_ring *r) {
    if (!r) return;
    for (uint32_t i = 0; i < r->cap; i++) rlc_free(r->slots[i].data);
    rlc_free(r->slots);
    rlc_free(r);
}

uint64_t rlc_resend_ring_next_seq(const rlc_resend_ring *r) { return r->next; }
uint32_t rlc_resend_ring_count(const rlc_resend_ring *r) { return r->unacked; }
size_t rlc_resend_ring_bytes(const rlc_resend_ring *r) { return r->bytes; }

rlc_status rlc_resend_ring_push(rlc_resend_ring *r, uint64_t seq, const void *data, size_t len, double now) {
    if (seq != r->next)
        return rlc_errorf(RLC_ERR_ARG, "resend ring: pushed seq %llu, expected %llu",
                          (unsigned long long)seq, (unsigned long long)r->next);
    if (r->next - r->first >= r->cap)
        return rlc_errorf(RLC_ERR_LIMIT, "resend ring: %u messages wait for an ack", r->cap);
    if (len > r->max_bytes - r->bytes)
        return rlc_errorf(RLC_ERR_LIMIT, "resend ring: %zu + %zu bytes exceed the budget of %zu",
                          r->bytes, len, r->max_bytes);
    slot *s = &r->slots[seq % r->cap];
    if (s->cap < len) {
        uint8_t *p = rlc_realloc(s->data, len);
        if (!p) return rlc_errorf(RLC_ERR_NOMEM, "resend ring: %zu bytes", len);
        s->data = p;
        s->cap = len;
    }
    if (len) memcpy(s->data, data, len);
    s->len = len;
    s->sent_at = now;
    s->sends = 1;
    s->acked = 0;
    r->bytes += len;
    r->unacked++;
    r->next++;
    return RLC_OK;
}

static void release(rlc_resend_ring *r, slot *s) {
    s->acked = 1;
    r->bytes -= s->len;
    r->unacked--;
}

uint32_t rlc_resend_ring_ack(rlc_resend_ring *r, uint64_t cumulative, const uint64_t *seqs, uint32_t n) {
    uint32_t before = r->unacked;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t q = seqs[i];
        if (q >= r->first && q < r->next && !r->slots[q % r->cap].acked) release(r, &r->slots[q % r->cap]);
    }
    if (cumulative >= r->next) cumulative = r->next - 1;
    for (; r->first <= cumulative; r->first++) {
        slot *s = &r->slots[r->first % r->cap];
        if (!s->acked) release(r, s);
    }
    while (r->first < r->next && r->slots[r->first % r->cap].acked) r->first++;
    return before - r->unacked;
}

int rlc_resend_ring_next_due(const rlc_resend_ring *r, uint64_t *from, double older_than, rlc_resend_entry *e) {
    for (uint64_t q = *from > r->first ? *from : r->first; q < r->next; q++) {
        const slot *s = &r->slots[q % r->cap];
        if (s->acked || s->sent_at > older_than) continue;
        *e = (rlc_resend_entry){.seq = q, .data = s->data, .len = s->len, .sent_at = s->sent_at,
                                .sends = s->sends};
        *from = q + 1;
        return 1;
    }
    *from = r->next;
    return 0;
}

void rlc_resend_ring_mark_sent(rlc_resend_ring *r, uint64_t seq, double now) {
    if (seq < r->first || seq >= r->next) return;
    slot *s = &r->slots[seq % r->cap];
    s->sent_at = now;
    s->sends++;
}

// ---- duplicate filter ------------------------------------------------------------

#define BIT_GET(d, s) (((d)->bits[((s) % RLC_DEDUP_WINDOW) / 64] >> ((s) % 64)) & 1)
#define BIT_SET(d, s) ((d)->bits[((s) % RLC_DEDUP_WINDOW) / 64] |= (uint64_t)1 << ((s) % 64))
#define BIT_CLR(d, s) ((d)->bits[((s) % RLC_DEDUP_WINDOW) / 64] &= ~((uint64_t)1 << ((s) % 64)))

void rlc_dedup_init(rlc_dedup *d, uint64_t session) {
    memset(d, 0, sizeof *d);
    d->session = session;
}

rlc_dedup_result rlc_dedup_check(rlc_dedup *d, uint64_t seq) {
    if (seq <= d->cumulative || (seq - d->cumulative <= RLC_DEDUP_WINDOW && BIT_GET(d, seq))) {
        d->duplicates++;
        return RLC_DEDUP_DUPLICATE;
    }
    if (seq - d->cumulative > RLC_DEDUP_WINDOW) {
        d->too_far++;
        return RLC_DEDUP_TOO_FAR;
    }
    BIT_SET(d, seq);
    while (BIT_GET(d, d->cumulative + 1)) {  // slide over the contiguous run
        BIT_CLR(d, d->cumulative + 1);
        d->cumulative++;
    }
    return RLC_DEDUP_NEW;
}

uint32_t rlc_dedup_selective(const rlc_dedup *d, uint64_t *out, uint32_t max) {
    uint32_t n = 0;
    for (uint64_t s = d->cumulative + 2; s <= d->cumulative + RLC_DEDUP_WINDOW && n < max; s++)
        if (BIT_GET(d, s)) out[n++] = s;
    return n;
}

// ---- heartbeat timer ----------------------------------------------------------------

void rlc_heartbeat_init(rlc_heartbeat *h, double interval, double timeout, double now) {
    h->interval = interval;
    h->timeout = timeout;
    h->last_sent = now - interval;  // the first one is due at once
    h->last_heard = now;
}

int rlc_heartbeat_due(rlc_heartbeat *h, double now) {
    if (now - h->last_sent < h->interval) return 0;
    h->last_sent = now;
    return 1;
}

void rlc_heartbeat_heard(rlc_heartbeat *h, double now) {
    if (now > h->last_heard) h->last_heard = now;
}

int rlc_heartbeat_expired(const rlc_heartbeat *h, double now) { return now - h->last_heard > h->timeout; }

int rlc_heartbeat_wait_ms(const rlc_heartbeat *h, double now) {
    double send = h->last_sent + h->interval - now;
    double dead = h->last_heard + h->timeout - now;
    double t = send < dead ? send : dead;
    if (t <= 0) return 0;
    return (int)ceil(t * 1000.0);
}

// ---- weights assembly --------------------------------------------------------------

struct rlc_weights_rx {
    uint32_t max_chunks;
    uint64_t *have;       // bitmap of chunks received, max_chunks bits
    int64_t version;      // -1 before the first chunk
    int complete;         // the version is done (later chunks of it are duplicates)
    uint32_t count, missing;
    uint64_t total_bytes, total_xxh64;
};

rlc_status rlc_weights_rx_create(uint32_t max_chunks, rlc_weights_rx **out) {
    *out = NULL;
    if (max_chunks == 0) return rlc_errorf(RLC_ERR_ARG, "weights rx: max_chunks must be >= 1");
    rlc_weights_rx *rx = rlc_calloc(1, sizeof *rx);
    if (rx) rx->have = rlc_calloc((max_chunks + 63) / 64, sizeof *rx->have);
    if (!rx || !rx->have) {
        rlc_free(rx);
        return rlc_errorf(RLC_ERR_NOMEM, "weights rx of %u chunks", max_chunks);
    }
    rx->max_chunks = max_chunks;
    rx->version = -1;
    *out = rx;
    return RLC_OK;
}

void rlc_weights_rx_free(rlc_weights_rx *rx) {
    if (!rx) return;
    rlc_free(rx->have);
    rlc_free(rx);
}

int64_t rlc_weights_rx_version(const rlc_weights_rx *rx) { return rx->version; }
uint32_t rlc_weights_rx_missing(const rlc_weights_rx *rx) { return rx->missing; }

static void rx_start(rlc_weights_rx *rx, const rlc_msg_weights *w) {
    rx->version = (int64_t)w->policy_version;
    rx->complete = 0;
    rx->count = rx->missing = w->chunk_count;
    rx->total_bytes = w->total_bytes;
    rx->total_xxh64 = w->total_xxh64;
    memset(rx->have, 0, (rx->max_chunks + 63) / 64 * sizeof *rx->have);
}

rlc_status rlc_weights_rx_add(rlc_weights_rx *rx, const rlc_msg_weights *w, void *dst, size_t cap,
                              int *complete) {
    *complete = 0;
    if (w->chunk_count > rx->max_chunks)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "weights v%llu: %u chunks exceed the receiver's %u",
                          (unsigned long long)w->policy_version, w->chunk_count, rx->max_chunks);
    if (w->total_bytes > cap)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "weights v%llu: %llu bytes do not fit the buffer of %zu",
                          (unsigned long long)w->policy_version, (unsigned long long)w->total_bytes, cap);
    if (w->chunk_index >= w->chunk_count || w->offset > w->total_bytes ||
        w->n_data > w->total_bytes - w->offset)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "weights v%llu: chunk %u out of range",
                          (unsigned long long)w->policy_version, w->chunk_index);
    if ((int64_t)w->policy_version < rx->version) return RLC_OK;  // stale
    if ((int64_t)w->policy_version > rx->version) rx_start(rx, w);
    if (rx->complete) return RLC_OK;  // a repeat of a finished version
    if (w->chunk_count != rx->count || w->total_bytes != rx->total_bytes || w->total_xxh64 != rx->total_xxh64)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE,
                          "weights v%llu: chunk %u disagrees with the others (count, total_bytes or total_xxh64)",
                          (unsigned long long)w->policy_version, w->chunk_index);
    uint32_t i = w->chunk_index;
    if ((rx->have[i / 64] >> (i % 64)) & 1) return RLC_OK;  // duplicate
    memcpy((uint8_t *)dst + w->offset, w->data, w->n_data);
    rx->have[i / 64] |= (uint64_t)1 << (i % 64);
    if (--rx->missing) return RLC_OK;
    uint64_t sum = rlc_xxh64(dst, (size_t)rx->total_bytes, 0);
    if (sum != rx->total_xxh64) {
        rx->version--;  // abandoned: the same version may be sent again
        rx->missing = 0;
        return rlc_errorf(RLC_ERR_BAD_MESSAGE,
                          "weights v%llu: whole-buffer xxh64 0x%016llx, the sender said 0x%016llx",
                          (unsigned long long)w->policy_version, (unsigned long long)sum,
                          (unsigned long long)rx->total_xxh64);
    }
    rx->complete = 1;
    *complete = 1;
    return RLC_OK;
}
