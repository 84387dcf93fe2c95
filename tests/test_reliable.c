// test_reliable.c: the resend ring (push, cumulative and selective acks, full
// ring, resend of what is due), the duplicate filter (in order, out of order,
// duplicates, beyond the window, selective ack lists), the heartbeat timer and
// weights assembly (any order, duplicates, stale and newer versions, corrupt
// whole buffer, bad ranges).
#include <math.h>    // INFINITY
#include <stdlib.h>  // malloc
#include <string.h>

#include "core/checksum.h"
#include "core/reliable.h"
#include "tests/test.h"

static void test_ring(void) {
    rlc_resend_ring *r;
    CHECK(rlc_resend_ring_create(0, 100, &r) == RLC_ERR_ARG);
    CHECK_OK(rlc_resend_ring_create(4, 100, &r));
    CHECK(rlc_resend_ring_next_seq(r) == 1);
    char msg[32];
    for (int i = 1; i <= 4; i++) {
        snprintf(msg, sizeof msg, "message %d", i);
        CHECK_OK(rlc_resend_ring_push(r, (uint64_t)i, msg, strlen(msg), (double)i));
    }
    CHECK(rlc_resend_ring_count(r) == 4);
    CHECK(rlc_resend_ring_bytes(r) == 4 * 9);
    CHECK(rlc_resend_ring_push(r, 5, "x", 1, 5) == RLC_ERR_LIMIT);  // full: 4 entries
    CHECK(rlc_resend_ring_push(r, 7, "x", 1, 5) == RLC_ERR_ARG);    // wrong seq
    // selective ack of 3, then cumulative 1: 2 and 4 remain
    uint64_t sel[] = {3, 99};
    CHECK(rlc_resend_ring_ack(r, 0, sel, 2) == 1);
    CHECK(rlc_resend_ring_ack(r, 1, NULL, 0) == 1);
    CHECK(rlc_resend_ring_count(r) == 2);
    rlc_resend_entry e;
    uint64_t from = 0;
    int n = 0;
    uint64_t seen[4];
    while (rlc_resend_ring_next_due(r, &from, INFINITY, &e)) seen[n++] = e.seq;
    CHECK(n == 2 && seen[0] == 2 && seen[1] == 4);
    // room again: one slot freed at the front (1); 2 blocks the ring start
    CHECK_OK(rlc_resend_ring_push(r, 5, "message 5", 9, 10));
    CHECK(rlc_resend_ring_push(r, 6, "message 6", 9, 10) == RLC_ERR_LIMIT);  // seqs 2..5 span 4 slots
    // only entries sent at or before t=3 are due
    from = 0;
    n = 0;
    while (rlc_resend_ring_next_due(r, &from, 3.0, &e)) seen[n++] = e.seq;
    CHECK(n == 1 && seen[0] == 2);
    CHECK(rlc_resend_ring_next_due(r, &(uint64_t){0}, INFINITY, &e) && e.len == 9 &&
          memcmp(e.data, "message 2", 9) == 0 && e.sends == 1);
    rlc_resend_ring_mark_sent(r, 2, 20);
    CHECK(rlc_resend_ring_next_due(r, &(uint64_t){0}, INFINITY, &e) && e.sent_at == 20 && e.sends == 2);
    // cumulative ack past the end is clamped; everything released
    CHECK(rlc_resend_ring_ack(r, 1000, NULL, 0) == 3);
    CHECK(rlc_resend_ring_count(r) == 0 && rlc_resend_ring_bytes(r) == 0);
    CHECK(rlc_resend_ring_next_seq(r) == 6);
    // byte budget
    char big[101] = {0};
    CHECK(rlc_resend_ring_push(r, 6, big, 101, 0) == RLC_ERR_LIMIT);
    CHECK_OK(rlc_resend_ring_push(r, 6, big, 100, 0));
    CHECK(rlc_resend_ring_push(r, 7, big, 1, 0) == RLC_ERR_LIMIT);
    rlc_resend_ring_free(r);
}

static void test_dedup(void) {
    rlc_dedup d;
    rlc_dedup_init(&d, 77);
    CHECK(d.session == 77 && d.cumulative == 0);
    CHECK(rlc_dedup_check(&d, 1) == RLC_DEDUP_NEW);
    CHECK(rlc_dedup_check(&d, 2) == RLC_DEDUP_NEW);
    CHECK(rlc_dedup_check(&d, 2) == RLC_DEDUP_DUPLICATE);
    CHECK(d.cumulative == 2);
    CHECK(rlc_dedup_check(&d, 5) == RLC_DEDUP_NEW);  // a gap: 3, 4 missing
    CHECK(rlc_dedup_check(&d, 7) == RLC_DEDUP_NEW);
    CHECK(d.cumulative == 2);
    uint64_t sel[8];
    CHECK(rlc_dedup_selective(&d, sel, 8) == 2 && sel[0] == 5 && sel[1] == 7);
    CHECK(rlc_dedup_check(&d, 5) == RLC_DEDUP_DUPLICATE);
    CHECK(rlc_dedup_check(&d, 4) == RLC_DEDUP_NEW);
    CHECK(rlc_dedup_check(&d, 3) == RLC_DEDUP_NEW);
    CHECK(d.cumulative == 5);
    CHECK(rlc_dedup_check(&d, 6) == RLC_DEDUP_NEW);
    CHECK(d.cumulative == 7);
    CHECK(rlc_dedup_check(&d, 1) == RLC_DEDUP_DUPLICATE);
    CHECK(rlc_dedup_check(&d, 7 + RLC_DEDUP_WINDOW + 1) == RLC_DEDUP_TOO_FAR);
    CHECK(rlc_dedup_check(&d, 7 + RLC_DEDUP_WINDOW) == RLC_DEDUP_NEW);  // the window's edge
    CHECK(d.duplicates == 3 && d.too_far == 1);
    // a long random-order stream: everything new once, cumulative ends at the top
    rlc_dedup_init(&d, 1);
    enum { N = 5000 };
    static uint64_t order[N];
    for (int i = 0; i < N; i++) order[i] = (uint64_t)i + 1;
    uint64_t rng = 12345;
    for (int i = 0; i < N; i++) {  // shuffle within blocks of 100 (inside the window)
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = i - i % 100 + (int)((rng >> 33) % 100);
        uint64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int news = 0;
    for (int i = 0; i < N; i++) news += rlc_dedup_check(&d, order[i]) == RLC_DEDUP_NEW;
    for (int i = 0; i < N; i += 7) news += rlc_dedup_check(&d, order[i]) == RLC_DEDUP_NEW;
    CHECK(news == N && d.cumulative == N && rlc_dedup_selective(&d, sel, 8) == 0);
}

static void test_heartbeat(void) {
    rlc_heartbeat h;
    rlc_heartbeat_init(&h, 1.0, 5.0, 100.0);
    CHECK(rlc_heartbeat_due(&h, 100.0) == 1);
    CHECK(rlc_heartbeat_due(&h, 100.5) == 0);
    CHECK(rlc_heartbeat_wait_ms(&h, 100.5) == 500);
    CHECK(rlc_heartbeat_due(&h, 101.0) == 1);
    CHECK(!rlc_heartbeat_expired(&h, 104.9));
    CHECK(rlc_heartbeat_expired(&h, 105.1));
    rlc_heartbeat_heard(&h, 105.0);
    CHECK(!rlc_heartbeat_expired(&h, 109.0));
    CHECK(rlc_heartbeat_wait_ms(&h, 200.0) == 0);
}

static void test_weights_rx(void) {
    enum { TOTAL = 1000, CHUNK = 128 };
    static uint8_t src[TOTAL], dst[TOTAL];
    for (int i = 0; i < TOTAL; i++) src[i] = (uint8_t)(i * 7 + 3);
    uint64_t sum = rlc_xxh64(src, TOTAL, 0);
    rlc_weights_rx *rx;
    CHECK_OK(rlc_weights_rx_create(16, &rx));
    CHECK(rlc_weights_rx_version(rx) == -1);
    rlc_msg m;
    uint32_t count;
    int done = 0, completions = 0;
    CHECK_OK(rlc_proto_weights_chunk(&m, 3, src, TOTAL, CHUNK, 0, sum, &count));
    CHECK(count == 8);
    // reverse order, chunk 5 twice, a stale version in between
    for (int i = (int)count - 1; i >= 0; i--) {
        CHECK_OK(rlc_proto_weights_chunk(&m, 3, src, TOTAL, CHUNK, (uint32_t)i, sum, &count));
        CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
        completions += done;
        if (i == 5) {
            CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
            CHECK(!done);
            m.weights.policy_version = 2;
            CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
            CHECK(!done && rlc_weights_rx_version(rx) == 3);
        }
    }
    CHECK(completions == 1 && memcmp(src, dst, TOTAL) == 0 && rlc_weights_rx_missing(rx) == 0);
    // a repeat of the completed version does nothing
    CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
    CHECK(!done);
    // version 4 with a wrong whole checksum: rejected on the last chunk, abandoned
    memset(dst, 0, sizeof dst);
    for (uint32_t i = 0; i < count; i++) {
        CHECK_OK(rlc_proto_weights_chunk(&m, 4, src, TOTAL, CHUNK, i, sum ^ 1, &count));
        rlc_status s = rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done);
        CHECK(i + 1 < count ? s == RLC_OK : s == RLC_ERR_BAD_MESSAGE);
        CHECK(!done);
    }
    CHECK(strstr(rlc_last_error(), "whole-buffer") != NULL);
    // sent again, right this time
    for (uint32_t i = 0; i < count; i++) {
        CHECK_OK(rlc_proto_weights_chunk(&m, 4, src, TOTAL, CHUNK, i, sum, &count));
        CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
    }
    CHECK(done && rlc_weights_rx_version(rx) == 4);
    // a newer version abandons a partial one; inconsistent chunks; too big
    CHECK_OK(rlc_proto_weights_chunk(&m, 5, src, TOTAL, CHUNK, 0, sum, &count));
    CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
    CHECK(rlc_weights_rx_missing(rx) == 7);
    CHECK_OK(rlc_proto_weights_chunk(&m, 5, src, TOTAL, 256, 1, sum, &count));  // a chunking that disagrees
    CHECK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done) == RLC_ERR_BAD_MESSAGE);
    CHECK_OK(rlc_proto_weights_chunk(&m, 6, src, TOTAL, CHUNK, 1, sum, &count));
    CHECK_OK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done));
    CHECK(rlc_weights_rx_version(rx) == 6 && rlc_weights_rx_missing(rx) == 7);
    CHECK(rlc_weights_rx_add(rx, &m.weights, dst, 999, &done) == RLC_ERR_BAD_MESSAGE);  // cap
    CHECK_OK(rlc_proto_weights_chunk(&m, 7, src, TOTAL, 10, 0, sum, &count));  // 100 chunks > 16
    CHECK(rlc_weights_rx_add(rx, &m.weights, dst, sizeof dst, &done) == RLC_ERR_BAD_MESSAGE);
    rlc_weights_rx_free(rx);
}

int main(void) {
    test_ring();
    test_dedup();
    test_heartbeat();
    test_weights_rx();
    return test_finish("test_reliable");
}
