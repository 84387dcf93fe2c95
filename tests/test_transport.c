// test_transport.c: real ZeroMQ sockets over inproc, ipc (under /tmp) and tcp on
// 127.0.0.1 (port 0, read back from ZMQ_LAST_ENDPOINT). A ROUTER and two DEALERs
// exchange every message type both ways; an oversized message is dropped
// (ZMQ_MAXMSGSIZE on ipc/tcp, the decoder's limit on inproc) and the router keeps
// serving; garbage frames, extra frames, a peer without an identity and a forged
// worker_id are counted as bad while the other peer is still served; and the
// resend ring, the acks and the duplicate filter survive a DEALER reconnect
// (closed and reopened with the same identity): nothing lost, duplicates counted.
#include <stdio.h>   // snprintf
#include <stdlib.h>  // malloc
#include <string.h>
#include <unistd.h>  // getpid, unlink
#include <zmq.h>

#include "core/fileio.h"  // rlc_now
#include "core/reliable.h"
#include "core/transport.h"
#include "tests/test.h"
#include "tests/fuzz/proto_examples.h"

static void *zctx;
static rlc_proto_limits lim;

// Receives one valid message within `ms`; bad messages are returned as such.
static rlc_status recv_within(rlc_transport *t, int ms, const rlc_msg **m, const char **peer) {
    double end = rlc_now() + ms / 1000.0;
    for (;;) {
        int left = (int)((end - rlc_now()) * 1000);
        if (left < 0) left = 0;
        rlc_status s = rlc_transport_recv(t, left, m, peer);
        if (s != RLC_OK || *m || left == 0) return s;
    }
}

static rlc_msg for_worker(rlc_msg_type type, const char *wid) {
    rlc_msg m = example(type);
    if (type == RLC_MSG_HELLO) m.hello.worker_id = wid;
    if (type == RLC_MSG_TRAJECTORY) m.trajectory.worker_id = wid;
    return m;
}

// Every type, from each dealer to the router and back.
static void exchange_all(rlc_transport *router, rlc_transport *d[2], const char *ids[2], const char *kind) {
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        for (int w = 0; w < 2; w++) {
            rlc_msg m = for_worker((rlc_msg_type)t, ids[w]);
            CHECK_OK(rlc_transport_send(d[w], NULL, &m));
        }
        for (int k = 0; k < 2; k++) {
            const rlc_msg *got;
            const char *peer;
            CHECK_OK(recv_within(router, 2000, &got, &peer));
            CHECK_MSG(got != NULL, "%s: router got no %s", kind, rlc_msg_type_name(t));
            if (!got) continue;
            int w = strcmp(peer, ids[1]) == 0;
            CHECK_MSG(strcmp(peer, ids[w]) == 0, "%s: unexpected peer '%s'", kind, peer);
            rlc_msg want = for_worker((rlc_msg_type)t, ids[w]);
            CHECK_MSG(msg_equal(&want, got), "%s: %s from %s", kind, rlc_msg_type_name(t), peer);
            // and back to that peer
            CHECK_OK(rlc_transport_send(router, peer, &want));
            const rlc_msg *back;
            const char *none;
            CHECK_OK(recv_within(d[w], 2000, &back, &none));
            CHECK_MSG(back && msg_equal(&want, back), "%s: %s back to %s", kind, rlc_msg_type_name(t), ids[w]);
        }
    }
}

// A valid heartbeat from `d` reaches the router within 2 s.
static int router_serves(rlc_transport *router, rlc_transport *d, const char *id) {
    rlc_msg hb = example(RLC_MSG_HEARTBEAT);
    if (rlc_transport_send(d, NULL, &hb) != RLC_OK) return 0;
    double end = rlc_now() + 2.0;
    while (rlc_now() < end) {
        const rlc_msg *m;
        const char *peer;
        rlc_status s = rlc_transport_recv(router, 100, &m, &peer);
        if (s == RLC_OK && m && m->type == RLC_MSG_HEARTBEAT && !strcmp(peer, id)) return 1;
    }
    return 0;
}

static void test_endpoint(const char *bind, const char *kind) {
    rlc_transport_opts opts = rlc_transport_opts_default();
    rlc_proto_limits small = lim;
    small.max_message_bytes = 64 << 10;  // 64 KiB: the oversized test sends 100 KiB
    rlc_transport *router, *d[2];
    CHECK_OK(rlc_transport_router_create(zctx, bind, &small, &opts, &router));
    if (!router) return;
    const char *ep = rlc_transport_endpoint(router);
    if (!strcmp(kind, "tcp")) CHECK_MSG(strstr(ep, "tcp://127.0.0.1:") && !strstr(ep, ":0"), "endpoint %s", ep);
    const char *ids[2] = {"w0", "w1"};
    for (int w = 0; w < 2; w++) CHECK_OK(rlc_transport_dealer_create(zctx, ep, ids[w], &lim, &opts, &d[w]));
    exchange_all(router, d, ids, kind);
    rlc_transport_stats rs = rlc_transport_get_stats(router);
    CHECK(rs.msgs_in == 2 * (RLC_MSG_TYPE_COUNT - 1) && rs.msgs_out == 2 * (RLC_MSG_TYPE_COUNT - 1) && rs.bad_in == 0 && rs.dropped_out == 0);

    // oversized: 100 KiB from w0
    size_t big_len = 100 << 10;
    uint8_t *big = calloc(1, big_len);
    CHECK_OK(rlc_transport_send_bytes(d[0], NULL, big, big_len));
    free(big);
    const rlc_msg *m;
    const char *peer;
    if (!strcmp(kind, "inproc")) {  // no wire, no ZMQ_MAXMSGSIZE: the decoder's limit catches it
        CHECK(recv_within(router, 2000, &m, &peer) == RLC_ERR_BAD_MESSAGE);
        CHECK(strstr(rlc_last_error(), "exceed the limit") && strstr(rlc_last_error(), "'w0'"));
    } else {  // ZeroMQ drops it and the connection; nothing reaches the application
        CHECK(recv_within(router, 300, &m, &peer) == RLC_OK && m == NULL);
    }
    CHECK_MSG(router_serves(router, d[1], "w1"), "%s: router stopped serving w1 after an oversized message", kind);
    CHECK_MSG(router_serves(router, d[0], "w0"), "%s: w0 did not come back after its oversized message", kind);

    // garbage bytes from w1: counted bad, w0 still served
    uint64_t bad_before = rlc_transport_get_stats(router).bad_in;
    CHECK_OK(rlc_transport_send_bytes(d[1], NULL, "\x93garbage", 8));
    CHECK(recv_within(router, 2000, &m, &peer) == RLC_ERR_BAD_MESSAGE);
    CHECK(strstr(rlc_last_error(), "from 'w1'") != NULL);
    CHECK(peer && strcmp(peer, "w1") == 0);
    CHECK(router_serves(router, d[0], "w0"));
    // two frames from w1
    zmq_send(rlc_transport_zsocket(d[1]), "a", 1, ZMQ_SNDMORE);
    zmq_send(rlc_transport_zsocket(d[1]), "b", 1, 0);
    CHECK(recv_within(router, 2000, &m, &peer) == RLC_ERR_BAD_MESSAGE);
    CHECK(strstr(rlc_last_error(), "3 frames, expected 2") != NULL);
    // w1 claims to be w0
    rlc_msg forged = for_worker(RLC_MSG_TRAJECTORY, "w0");
    CHECK_OK(rlc_transport_send(d[1], NULL, &forged));
    CHECK(recv_within(router, 2000, &m, &peer) == RLC_ERR_BAD_MESSAGE);
    CHECK(strstr(rlc_last_error(), "not the sender's identity") != NULL);
    // a raw DEALER without identity
    void *anon = zmq_socket(zctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(anon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(anon, ep);
    rlc_proto_buf b = {0};
    rlc_msg credit = example(RLC_MSG_CREDIT);
    CHECK_OK(rlc_proto_encode(&credit, &b));
    zmq_send(anon, b.data, b.len, 0);
    CHECK(recv_within(router, 2000, &m, &peer) == RLC_ERR_BAD_MESSAGE);
    CHECK(strstr(rlc_last_error(), "no worker id identity") != NULL && peer && !strncmp(peer, "0x", 2));
    zmq_close(anon);
    rlc_proto_buf_free(&b);
    CHECK(router_serves(router, d[1], "w1"));
    CHECK(rlc_transport_get_stats(router).bad_in == bad_before + 4);

    // sending to a peer that is not there
    rlc_msg hb = example(RLC_MSG_HEARTBEAT);
    CHECK(rlc_transport_send(router, "nobody", &hb) == RLC_ERR_STATE);
    CHECK(strstr(rlc_last_error(), "'nobody'") != NULL);
    CHECK(rlc_transport_get_stats(router).dropped_out == 1);
    CHECK(rlc_transport_send(router, NULL, &hb) == RLC_ERR_ARG);

    printf("%s: %s ok\n", kind, ep);
    for (int w = 0; w < 2; w++) rlc_transport_free(d[w]);
    rlc_transport_free(router);
}

// ---- resend / ack / duplicates across a reconnect ------------------------------------

typedef struct {
    rlc_dedup dedup;
    int received[64];  // times each seq was accepted as new
    uint64_t news, dups;
} learner_state;

// The learner side: handles what arrives for `ms`, acking every trajectory.
static void learner_pump(rlc_transport *router, learner_state *L, int ms) {
    double end = rlc_now() + ms / 1000.0;
    while (rlc_now() < end) {
        const rlc_msg *m;
        const char *peer;
        if (rlc_transport_recv(router, 20, &m, &peer) != RLC_OK || !m) continue;
        if (m->type == RLC_MSG_HELLO) {
            if (m->hello.session != L->dedup.session) rlc_dedup_init(&L->dedup, m->hello.session);
            continue;
        }
        if (m->type != RLC_MSG_TRAJECTORY || m->trajectory.session != L->dedup.session) continue;
        rlc_dedup_result r = rlc_dedup_check(&L->dedup, m->trajectory.seq);
        if (r == RLC_DEDUP_NEW) {
            L->news++;
            if (m->trajectory.seq < 64) L->received[m->trajectory.seq]++;
        } else if (r == RLC_DEDUP_DUPLICATE) {
            L->dups++;
        }
        if (r != RLC_DEDUP_TOO_FAR) {
            uint64_t sel[16];
            uint32_t ns = rlc_dedup_selective(&L->dedup, sel, 16);
            rlc_msg ack = {.type = RLC_MSG_ACK,
                           .ack = {.session = L->dedup.session, .cumulative = L->dedup.cumulative,
                                   .seqs = sel, .n_seqs = ns}};
            rlc_transport_send(router, peer, &ack);  // may fail while the worker is away: fine
        }
    }
}

// The worker side: applies the acks that arrived.
static void worker_pump(rlc_transport *d, rlc_resend_ring *ring, uint64_t session, int ms) {
    double end = rlc_now() + ms / 1000.0;
    while (rlc_now() < end && rlc_resend_ring_count(ring) > 0) {
        const rlc_msg *m;
        const char *peer;
        if (rlc_transport_recv(d, 20, &m, &peer) != RLC_OK || !m) continue;
        if (m->type == RLC_MSG_ACK && m->ack.session == session)
            rlc_resend_ring_ack(ring, m->ack.cumulative, m->ack.seqs, m->ack.n_seqs);
    }
}

static void send_traj(rlc_transport *d, rlc_resend_ring *ring, rlc_proto_buf *b, uint64_t session) {
    rlc_msg t = for_worker(RLC_MSG_TRAJECTORY, "w0");
    t.trajectory.session = session;
    t.trajectory.seq = rlc_resend_ring_next_seq(ring);
    CHECK_OK(rlc_proto_encode(&t, b));
    CHECK_OK(rlc_resend_ring_push(ring, t.trajectory.seq, b->data, b->len, rlc_now()));
    CHECK_OK(rlc_transport_send_bytes(d, NULL, b->data, b->len));
}

static void hello(rlc_transport *d, uint64_t session) {
    rlc_msg h = for_worker(RLC_MSG_HELLO, "w0");
    h.hello.session = session;
    CHECK_OK(rlc_transport_send(d, NULL, &h));
}

static void test_reconnect(const char *bind, const char *kind) {
    rlc_transport_opts opts = rlc_transport_opts_default();
    rlc_transport *router, *d;
    CHECK_OK(rlc_transport_router_create(zctx, bind, &lim, &opts, &router));
    if (!router) return;
    const char *ep = rlc_transport_endpoint(router);
    const uint64_t session = 0xabc;
    learner_state L = {0};
    rlc_dedup_init(&L.dedup, 0);
    rlc_resend_ring *ring;
    CHECK_OK(rlc_resend_ring_create(64, 1 << 20, &ring));
    rlc_proto_buf b = {0};

    CHECK_OK(rlc_transport_dealer_create(zctx, ep, "w0", &lim, &opts, &d));
    hello(d, session);
    for (int i = 0; i < 10; i++) send_traj(d, ring, &b, session);
    learner_pump(router, &L, 300);  // the learner gets 1..10 and acks them
    CHECK(L.news == 10);
    // the worker never reads those acks; it sends 11..15 and drops the connection
    for (int i = 0; i < 5; i++) send_traj(d, ring, &b, session);
    rlc_transport_free(d);
    CHECK(rlc_resend_ring_count(ring) == 15);
    learner_pump(router, &L, 100);  // whatever of 11..15 made it

    // reconnect with the same identity: hello, then resend everything unacked
    CHECK_OK(rlc_transport_dealer_create(zctx, ep, "w0", &lim, &opts, &d));
    hello(d, session);
    uint64_t from = 0;
    rlc_resend_entry e;
    int resent = 0;
    while (rlc_resend_ring_next_due(ring, &from, INFINITY, &e)) {
        CHECK_OK(rlc_transport_send_bytes(d, NULL, e.data, e.len));
        rlc_resend_ring_mark_sent(ring, e.seq, rlc_now());
        resent++;
    }
    CHECK(resent == 15);
    for (int i = 0; i < 5; i++) send_traj(d, ring, &b, session);  // and new ones, 16..20
    for (int round = 0; round < 50 && rlc_resend_ring_count(ring) > 0; round++) {
        learner_pump(router, &L, 40);
        worker_pump(d, ring, session, 40);
    }
    CHECK_MSG(L.news == 20, "%s: %llu new trajectories, expected 20", kind, (unsigned long long)L.news);
    for (int s = 1; s <= 20; s++) CHECK_MSG(L.received[s] == 1, "%s: seq %d received %d times", kind, s, L.received[s]);
    CHECK_MSG(L.dups >= 10 && L.dups == L.dedup.duplicates, "%s: %llu duplicates", kind, (unsigned long long)L.dups);
    CHECK_MSG(rlc_resend_ring_count(ring) == 0, "%s: %u still unacked", kind, rlc_resend_ring_count(ring));
    CHECK(L.dedup.cumulative == 20);
    printf("%s reconnect: 20 trajectories, %llu duplicates dropped\n", kind, (unsigned long long)L.dups);

    rlc_proto_buf_free(&b);
    rlc_resend_ring_free(ring);
    rlc_transport_free(d);
    rlc_transport_free(router);
}

int main(void) {
    zctx = zmq_ctx_new();
    if (!zctx) TEST_SKIP("no zmq context");
    lim = rlc_proto_limits_default(VOCAB);
    char ipc[128], ipc2[128];
    snprintf(ipc, sizeof ipc, "ipc:///tmp/rlc-test-transport-%d.ipc", (int)getpid());
    snprintf(ipc2, sizeof ipc2, "ipc:///tmp/rlc-test-transport-%d-b.ipc", (int)getpid());

    rlc_transport *t;
    CHECK(rlc_transport_router_create(zctx, "bogus://x", &lim, NULL, &t) == RLC_ERR_IO);
    CHECK(strstr(rlc_last_error(), "bogus://x") != NULL);
    CHECK(rlc_transport_dealer_create(zctx, "inproc://x", "bad id", &lim, NULL, &t) == RLC_ERR_ARG);

    test_endpoint("inproc://rlc-test", "inproc");
    test_endpoint(ipc, "ipc");
    test_endpoint("tcp://127.0.0.1:0", "tcp");
    test_reconnect("inproc://rlc-test-reconnect", "inproc");
    test_reconnect(ipc2, "ipc");
    test_reconnect("tcp://127.0.0.1:0", "tcp");
    unlink(ipc + 6);
    unlink(ipc2 + 6);
    zmq_ctx_term(zctx);
    return test_finish("test_transport");
}
