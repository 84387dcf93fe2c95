// bench_protocol.c: wire protocol throughput.
//   1. encode and decode of a Trajectory with 512 completion tokens (and 256
//      prompt tokens): messages/s and MB/s;
//   2. encode and decode of 16 MiB Weights chunks (XXH64 on both sides): GB/s;
//      and XXH64 alone;
//   3. ZeroMQ streaming through the transport helpers, ROUTER -> DEALER for
//      weight chunks and DEALER -> ROUTER for trajectories, receiver on its own
//      thread, over inproc and tcp loopback: GB/s and messages/s.
//
//   bench_protocol [SECONDS_PER_CASE]   (default 0.5)
#include <pthread.h>  // pthread_create
#include <stdio.h>
#include <stdlib.h>   // atof, malloc
#include <string.h>
#include <zmq.h>

#include "core/checksum.h"
#include "core/fileio.h"  // rlc_now
#include "core/protocol.h"
#include "core/transport.h"

#define VOCAB 151936
#define CHUNK (16u << 20)

static double budget = 0.5;

static rlc_msg make_trajectory(void) {
    enum { N = 512, P = 256 };
    static int32_t tok[N], ver[N], ptok[P];
    static float lp[N];
    static const rlc_proto_component comps[] = {{"correct", 1.0}, {"format", 1.0}};
    for (int i = 0; i < N; i++) tok[i] = (i * 7919) % VOCAB, ver[i] = 12, lp[i] = -(float)(i % 97) / 10;
    for (int i = 0; i < P; i++) ptok[i] = (i * 104729) % VOCAB;
    rlc_msg m = {.type = RLC_MSG_TRAJECTORY};
    m.trajectory = (rlc_msg_trajectory){
        .worker_id = "w0", .session = 1, .seq = 1, .prompt_id = 7, .sample_index = 3,
        .prompt_tokens = ptok, .n_prompt_tokens = P, .tokens = tok, .logprobs = lp, .versions = ver,
        .n_tokens = N, .reward = 1, .components = comps, .n_components = 2,
        .finish = RLC_FINISH_STOP, .queue_s = 0.01, .generate_s = 1.5, .reward_s = 0.001};
    return m;
}

static int check(rlc_status s, const char *what) {
    if (s == RLC_OK) return 1;
    fprintf(stderr, "%s: %s: %s\n", what, rlc_status_name(s), rlc_last_error());
    return 0;
}

static void codec(const char *name, const rlc_msg *m, rlc_proto_decoder *dec) {
    rlc_proto_buf b = {0};
    if (!check(rlc_proto_encode(m, &b), "encode")) return;
    size_t bytes = b.len;
    long n = 0;
    double t0 = rlc_now(), t;
    do {
        for (int i = 0; i < 16; i++, n++) rlc_proto_encode(m, &b);
    } while ((t = rlc_now() - t0) < budget);
    printf("%-28s encode %10.0f msg/s %9.1f MB/s  (%zu bytes)\n", name, n / t, n * bytes / t / 1e6, bytes);
    rlc_msg out;
    n = 0;
    t0 = rlc_now();
    do {
        for (int i = 0; i < 16; i++, n++)
            if (!check(rlc_proto_decode(dec, b.data, b.len, &out), "decode")) return;
    } while ((t = rlc_now() - t0) < budget);
    printf("%-28s decode %10.0f msg/s %9.1f MB/s\n", name, n / t, n * bytes / t / 1e6);
    rlc_proto_buf_free(&b);
}

// ---- ZeroMQ streaming ------------------------------------------------------------

typedef struct {
    rlc_transport *t;
    long expect;
    long got, bad;
    double t_end;
} rx_arg;

static void *receiver(void *p) {
    rx_arg *a = p;
    while (a->got + a->bad < a->expect) {
        const rlc_msg *m;
        const char *peer;
        rlc_status s = rlc_transport_recv(a->t, 5000, &m, &peer);
        if (s == RLC_ERR_BAD_MESSAGE) a->bad++;
        else if (s != RLC_OK || !m) break;
        else a->got++;
    }
    a->t_end = rlc_now();
    return NULL;
}

static void stream(void *zctx, const char *bind, int weights, long count) {
    rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
    rlc_transport_opts opts = rlc_transport_opts_default();
    opts.sndhwm = opts.rcvhwm = weights ? 4 : 1000;  // at most a few 16 MiB chunks queued
    opts.send_timeout_ms = 10000;
    rlc_transport *router, *dealer;
    if (!check(rlc_transport_router_create(zctx, bind, &lim, &opts, &router), "router")) return;
    if (!check(rlc_transport_dealer_create(zctx, rlc_transport_endpoint(router), "w0", &lim, &opts, &dealer), "dealer")) {
        rlc_transport_free(router);
        return;
    }
    // the router learns the dealer's identity from its first message
    rlc_msg hb = {.type = RLC_MSG_HEARTBEAT, .heartbeat = {.time = 0, .status = "", .policy_version = -1}};
    const rlc_msg *m;
    const char *peer;
    rlc_transport_send(dealer, NULL, &hb);
    rlc_transport_recv(router, 5000, &m, &peer);

    uint8_t *wbuf = NULL;
    rlc_msg msg = make_trajectory();
    size_t bytes;
    if (weights) {
        wbuf = malloc((size_t)CHUNK * 4);
        for (size_t i = 0; i < (size_t)CHUNK * 4; i++) wbuf[i] = (uint8_t)(i * 31);
        uint64_t total = rlc_xxh64(wbuf, (size_t)CHUNK * 4, 0);
        rlc_proto_weights_chunk(&msg, 1, wbuf, (uint64_t)CHUNK * 4, CHUNK, 0, total, NULL);
        bytes = CHUNK;
    } else {
        rlc_proto_buf b = {0};
        rlc_proto_encode(&msg, &b);
        bytes = b.len;
        rlc_proto_buf_free(&b);
    }
    rx_arg a = {.t = weights ? dealer : router, .expect = count};
    pthread_t th;
    pthread_create(&th, NULL, receiver, &a);
    double t0 = rlc_now();
    for (long i = 0; i < count; i++) {
        if (weights) {
            msg.weights.chunk_index = (uint32_t)(i % 4);
            msg.weights.offset = (uint64_t)msg.weights.chunk_index * CHUNK;
            msg.weights.data = wbuf + msg.weights.offset;
        } else {
            msg.trajectory.seq = (uint64_t)i + 1;
        }
        if (!check(rlc_transport_send(weights ? router : dealer, weights ? "w0" : NULL, &msg), "send")) break;
    }
    pthread_join(th, NULL);
    double t = a.t_end - t0;
    const char *kind = strncmp(bind, "tcp", 3) == 0 ? "tcp loopback" : "inproc";
    if (weights)
        printf("zmq %-12s weights   %6ld x 16 MiB chunks: %6.2f GB/s (%ld bad)\n", kind, a.got,
               a.got * (double)bytes / t / 1e9, a.bad);
    else
        printf("zmq %-12s trajectory %6ld x %zu B:      %8.0f msg/s %7.1f MB/s (%ld bad)\n", kind, a.got,
               bytes, a.got / t, a.got * (double)bytes / t / 1e6, a.bad);
    free(wbuf);
    rlc_transport_free(dealer);
    rlc_transport_free(router);
}

int main(int argc, char **argv) {
    if (argc > 1) budget = atof(argv[1]);
    rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
    rlc_proto_decoder *dec;
    if (!check(rlc_proto_decoder_create(&lim, &dec), "decoder")) return 1;

    rlc_msg traj = make_trajectory();
    codec("trajectory (512 tokens)", &traj, dec);

    uint8_t *chunk = malloc(CHUNK);
    for (size_t i = 0; i < CHUNK; i++) chunk[i] = (uint8_t)(i * 13 + 1);
    rlc_msg w;
    rlc_proto_weights_chunk(&w, 1, chunk, CHUNK, CHUNK, 0, 0, NULL);
    codec("weights (16 MiB chunk)", &w, dec);
    long n = 0;
    double t0 = rlc_now(), t;
    volatile uint64_t sink = 0;
    do {
        sink ^= rlc_xxh64(chunk, CHUNK, 0);
        n++;
    } while ((t = rlc_now() - t0) < budget);
    printf("%-28s        %10.2f GB/s\n", "xxh64", n * (double)CHUNK / t / 1e9);
    free(chunk);
    rlc_proto_decoder_free(dec);

    void *zctx = zmq_ctx_new();
    stream(zctx, "inproc://bench-protocol-w", 1, 48);
    stream(zctx, "tcp://127.0.0.1:0", 1, 48);
    stream(zctx, "inproc://bench-protocol-t", 0, 20000);
    stream(zctx, "tcp://127.0.0.1:0", 0, 20000);
    zmq_ctx_term(zctx);
    return 0;
}
