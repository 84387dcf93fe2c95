// bench_rl.c: the RL loop's moving parts, timed.
//   weight sync: a Qwen2.5-0.5B-shaped flat buffer (random) through the
//     in-process board (publish + fetch) and as XXH64-checked chunks over
//     ZeroMQ tcp on 127.0.0.1 (encode, send, receive, decode, assemble):
//     bytes, seconds, GB/s;
//   the rollout engine's generation tokens/s (decode and rewards included)
//     at batch 1, 16 and 64 on stories260K.
// usage: bench_rl [--skip-weights] [--threads N] [--data DIR]
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "actor/tokenizer.h"
#include "core/core.h"
#include "rollout/engine.h"

#define CHUNK ((size_t)16 << 20)

static int report(rlc_status s) {
    if (s == RLC_OK) return 0;
    fprintf(stderr, "bench_rl: %s: %s\n", rlc_status_name(s), rlc_last_error());
    return 1;
}

static rlc_status qwen05_params(actor_params *p) {
    actor_config c = {.arch = ACTOR_ARCH_QWEN2, .vocab_size = 151936, .hidden_size = 896, .n_layers = 24,
                      .n_heads = 14, .n_kv_heads = 2, .head_dim = 64, .intermediate_size = 4864,
                      .tie_embeddings = 1, .attn_bias = 1};
    snprintf(c.model_type, sizeof c.model_type, "qwen2");
    RLC_TRY(actor_params_create(&c, p));
    for (size_t i = 0; i < p->numel; i++) p->data[i] = (float)((i * 2654435761u) % 1000) * 1e-4f;
    return RLC_OK;
}

static rlc_status bench_board(const actor_params *p) {
    size_t bytes = p->numel * sizeof(float);
    float *dst = rlc_malloc_aligned(bytes);
    memset(dst, 0, bytes);  // a worker's back buffer is touched long before a sync
    rlc_board *b;
    RLC_TRY(rlc_board_create(bytes, &b));
    int64_t v = 0;
    RLC_TRY(rlc_board_publish(b, 1, p->data, bytes));  // warm-up
    RLC_TRY(rlc_board_fetch(b, v, dst, bytes, &v));
    double t0 = rlc_now();
    for (int i = 2; i <= 4; i++) {
        RLC_TRY(rlc_board_publish(b, i, p->data, bytes));
        RLC_TRY(rlc_board_fetch(b, v, dst, bytes, &v));
    }
    double dt = (rlc_now() - t0) / 3;
    printf("weight sync, in-process board (publish + fetch): %.2f GB in %.3f s = %.2f GB/s\n", bytes / 1e9, dt, bytes / 1e9 / dt);
    rlc_board_free(b);
    rlc_free_aligned(dst);
    return RLC_OK;
}

typedef struct {
    void *zctx;
    const char *endpoint;
    void *dst;
    size_t bytes;
    rlc_status result;
    double done_at;
} rx_thread;

static void *receive(void *arg) {
    rx_thread *r = arg;
    rlc_proto_limits lim = rlc_proto_limits_default(151936);
    rlc_transport *t;
    rlc_weights_rx *rx;
    r->result = rlc_transport_dealer_create(r->zctx, r->endpoint, "bench-rx", &lim, NULL, &t);
    if (r->result != RLC_OK) return NULL;
    rlc_weights_rx_create(lim.max_chunks, &rx);
    rlc_msg hello = {.type = RLC_MSG_HEARTBEAT};
    hello.heartbeat = (rlc_msg_heartbeat){.time = 0, .status = "ready", .policy_version = -1};
    rlc_transport_send(t, NULL, &hello);
    int complete = 0;
    while (!complete) {
        const rlc_msg *m;
        const char *peer;
        r->result = rlc_transport_recv(t, 10000, &m, &peer);
        if (r->result != RLC_OK || !m) break;
        if (m->type == RLC_MSG_WEIGHTS) r->result = rlc_weights_rx_add(rx, &m->weights, r->dst, r->bytes, &complete);
        if (r->result != RLC_OK) break;
    }
    r->done_at = rlc_now();
    rlc_weights_rx_free(rx);
    rlc_transport_free(t);
    return NULL;
}

static rlc_status bench_tcp(const actor_params *p) {
    size_t bytes = p->numel * sizeof(float);
    void *zctx = zmq_ctx_new();
    rlc_proto_limits lim = rlc_proto_limits_default(151936);
    rlc_transport *router;
    RLC_TRY(rlc_transport_router_create(zctx, "tcp://127.0.0.1:0", &lim, NULL, &router));
    rx_thread r = {.zctx = zctx, .endpoint = rlc_transport_endpoint(router), .bytes = bytes};
    r.dst = rlc_malloc_aligned(bytes);
    memset(r.dst, 0, bytes);  // a worker's back buffer is touched long before a sync
    pthread_t th;
    pthread_create(&th, NULL, receive, &r);
    const rlc_msg *m;
    const char *peer = NULL;
    while (rlc_transport_recv(router, 5000, &m, &peer) == RLC_OK && !m) {}
    char who[80];
    snprintf(who, sizeof who, "%s", peer ? peer : "bench-rx");
    double t0 = rlc_now();
    uint64_t sum = rlc_xxh64(p->data, bytes, 0);
    uint32_t count = 1;
    for (uint32_t i = 0; i < count; i++) {
        rlc_msg w;
        RLC_TRY(rlc_proto_weights_chunk(&w, 1, p->data, bytes, CHUNK, i, sum, &count));
        RLC_TRY(rlc_transport_send(router, who, &w));
    }
    pthread_join(th, NULL);
    double dt = r.done_at - t0;
    if (r.result == RLC_OK)
        printf("weight sync, ZeroMQ tcp loopback (%u chunks of 16 MiB, XXH64 checked): %.2f GB in %.3f s = %.2f GB/s\n",
               count, bytes / 1e9, dt, bytes / 1e9 / dt);
    rlc_free_aligned(r.dst);
    rlc_transport_free(router);
    zmq_ctx_term(zctx);
    return r.result;
}

static int n_emitted;
static void count_emit(void *ud, const rlc_msg_trajectory *t) { n_emitted++; }

static rlc_status bench_engine(const char *data, int batch) {
    char path[1024];
    actor_model *m;
    tok_tokenizer *tk;
    snprintf(path, sizeof path, "%s/models/stories260K/stories260K.bin", data);
    RLC_TRY(actor_model_load(path, &m));
    snprintf(path, sizeof path, "%s/models/stories260K/tok512.bin", data);
    RLC_TRY(tok_load(path, &tk));
    rlc_reward_func fn = {.source = "function reward(s) return #s.completion > 50 and 1 or 0 end", .name = "len", .weight = 1};
    rollout_config cfg = {.n_slots = batch, .max_seq = 200, .reward_threads = 1};
    cfg.reward.funcs = &fn;
    cfg.reward.n_funcs = 1;
    rollout_engine *e;
    RLC_TRY(rollout_engine_create(m, tk, &cfg, &e));
    int bos_once[3] = {1, 403, 407};
    int prompts = batch >= 8 ? batch / 8 * 4 : 4, per = batch >= 8 ? 8 : batch;
    for (int i = 0; i < prompts; i++) {
        rlc_msg_prompt_request q = {.prompt_id = (uint64_t)i + 1, .tokens = bos_once, .n_tokens = 3, .n = (uint32_t)per};
        q.sampling = (rlc_proto_sampling){.temperature = 1.0, .top_p = 1.0, .max_new_tokens = 128, .seed = 7};
        RLC_TRY(rollout_engine_submit(e, &q));
    }
    int pending = 1;
    double t0 = rlc_now();
    while (pending > 0) RLC_TRY(rollout_engine_step(e, count_emit, NULL, &pending));
    double dt = rlc_now() - t0;
    rollout_stats st;
    rollout_engine_stats(e, &st);
    printf("rollout engine, stories260K, %3d slots: %5lld tokens in %.3f s = %8.1f tokens/s (rewards %.1f%% of it)\n", batch,
           st.tokens, dt, st.tokens / dt, 100 * st.reward_s / dt);
    rollout_engine_free(e);
    tok_free(tk);
    actor_model_free(m);
    return RLC_OK;
}

int main(int argc, char **argv) {
    int skip_weights = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-weights") == 0) skip_weights = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) i++;
    }
    kernels_set_threads(threads);
    const char *data = getenv("RLC_DATA") ? getenv("RLC_DATA") : "../shared/data";
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
    if (!skip_weights) {
        actor_params p;
        if (report(qwen05_params(&p))) return 1;
        printf("Qwen2.5-0.5B shape: %zu parameters (%.2f GB in float32)\n", p.numel, p.numel * 4 / 1e9);
        if (report(bench_board(&p)) || report(bench_tcp(&p))) return 1;
        actor_params_free(&p);
    }
    int batches[3] = {1, 16, 64};
    for (int i = 0; i < 3; i++)
        if (report(bench_engine(data, batches[i]))) return 1;
    return 0;
}
