// test_rollout_worker.c: a rollout worker (stories260K, its tokenizer, a Lua
// reward) on one thread against a ROUTER on the test's thread, over real
// ZeroMQ sockets (inproc and tcp on 127.0.0.1). The test plays the learner:
// it checks Hello and the credit, sends weights as checksummed chunks (the
// tokens after them carry the new version), prompt requests and acks; every
// sample comes back once (plus resends of what it left unacknowledged), the
// credits come back, a corrupt chunk is refused without harm, and Shutdown
// ends the worker.
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <zmq.h>

#include "actor/tokenizer.h"
#include "core/checksum.h"
#include "core/core.h"
#include "core/transport.h"
#include "rollout/worker.h"
#include "test.h"

typedef struct {
    rollout_worker *w;
    rlc_status result;
} worker_thread;

static void *run_worker(void *arg) {
    worker_thread *t = arg;
    t->result = rollout_worker_run(t->w, NULL);
    return NULL;
}

static const char *reward_src = "function reward(s) return #s.completion > 20 and 1 or 0 end\n";

// Receives until a message of `type` arrives (handling others via the
// counters), at most `seconds`.
typedef struct {
    int trajectories, duplicates, credits, hellos, heartbeats, shutdowns;
    int seen[8][4];
    uint64_t max_seq;
    int version_ok;
} learner_view;

static const rlc_msg *recv_until(rlc_transport *r, rlc_msg_type type, double seconds, learner_view *v, int ack) {
    double end = rlc_now() + seconds;
    while (rlc_now() < end) {
        const rlc_msg *m;
        const char *peer;
        rlc_status s = rlc_transport_recv(r, 50, &m, &peer);
        if (s != RLC_OK || !m) continue;
        switch (m->type) {
        case RLC_MSG_HELLO: v->hellos++; break;
        case RLC_MSG_CREDIT: v->credits += (int)m->credit.count; break;
        case RLC_MSG_HEARTBEAT: v->heartbeats++; break;
        case RLC_MSG_SHUTDOWN: v->shutdowns++; break;
        case RLC_MSG_TRAJECTORY: {
            const rlc_msg_trajectory *t = &m->trajectory;
            if (t->seq <= v->max_seq) {
                v->duplicates++;
            } else {
                v->max_seq = t->seq;
                v->trajectories++;
                if (t->prompt_id < 8 && t->sample_index < 4) v->seen[t->prompt_id][t->sample_index]++;
                for (uint32_t i = 0; i < t->n_tokens; i++) v->version_ok &= t->versions[i] == 1;
            }
            if (ack) {
                rlc_msg a = {.type = RLC_MSG_ACK};
                a.ack = (rlc_msg_ack){.session = t->session, .cumulative = v->max_seq};
                rlc_transport_send(r, peer, &a);
            }
            break;
        }
        default: break;
        }
        if (m->type == type) return m;
    }
    return NULL;
}

static void run(const char *endpoint, actor_model *m, tok_tokenizer *tk) {
    void *zctx = zmq_ctx_new();
    rlc_proto_limits limits = rlc_proto_limits_default(512);
    rlc_transport *router = NULL;
    CHECK_OK(rlc_transport_router_create(zctx, endpoint, &limits, NULL, &router));
    if (!router) return;
    rlc_reward_func fn = {.source = reward_src, .name = "len", .weight = 1};
    rollout_worker_config cfg = {.endpoint = rlc_transport_endpoint(router), .worker_id = "w-7", .zctx = zctx,
                                 .max_credit = 3, .heartbeat_s = 0.05, .timeout_s = 5.0};
    cfg.engine = (rollout_config){.n_slots = 4, .max_seq = 96, .reward_threads = 1};
    cfg.engine.reward.funcs = &fn;
    cfg.engine.reward.n_funcs = 1;
    worker_thread wt = {0};
    CHECK_OK(rollout_worker_create(m, tk, &cfg, &wt.w));
    if (!wt.w) return;
    pthread_t th;
    pthread_create(&th, NULL, run_worker, &wt);

    learner_view v = {.version_ok = 1};
    const rlc_msg *hello = recv_until(router, RLC_MSG_HELLO, 5, &v, 1);
    CHECK(hello != NULL);
    if (hello) CHECK(hello->hello.max_credit == 3 && hello->hello.credit == 3 && hello->hello.policy_version == -1);

    // Weights: the model's own parameters as version 1, in 7 chunks; first a
    // corrupt chunk (its whole-buffer checksum is wrong), which is refused.
    actor_params *p = actor_model_params(m);
    size_t bytes = p->numel * sizeof(float);
    uint64_t sum = rlc_xxh64(p->data, bytes, 0);
    uint32_t count = 0;
    rlc_msg wm;
    CHECK_OK(rlc_proto_weights_chunk(&wm, 1, p->data, bytes, bytes / 7 + 1, 0, sum ^ 1, &count));
    wm.weights.chunk_count = 1, wm.weights.n_data = bytes, wm.weights.offset = 0;
    CHECK_OK(rlc_transport_send(router, "w-7", &wm));
    for (uint32_t i = 0; i < 7; i++) {
        CHECK_OK(rlc_proto_weights_chunk(&wm, 1, p->data, bytes, bytes / 7 + 1, i, sum, &count));
        CHECK_OK(rlc_transport_send(router, "w-7", &wm));
    }
    // Three prompts of 2 samples: the whole credit.
    int *ids;
    size_t n_ids;
    CHECK_OK(tok_encode(tk, "Once upon a time", 16, TOK_ENCODE_ADD_SPECIAL, &ids, &n_ids));
    for (uint64_t pid = 0; pid < 3; pid++) {
        rlc_msg rq = {.type = RLC_MSG_PROMPT_REQUEST};
        rq.prompt_request = (rlc_msg_prompt_request){.prompt_id = pid, .tokens = ids, .n_tokens = (uint32_t)n_ids, .n = 2};
        rq.prompt_request.sampling = (rlc_proto_sampling){.temperature = 1.0, .top_p = 1.0, .max_new_tokens = 24, .seed = 5};
        CHECK_OK(rlc_transport_send(router, "w-7", &rq));
    }
    // Receive without acking: the worker must resend after a while.
    double end = rlc_now() + 20;
    while (v.trajectories < 6 && rlc_now() < end) recv_until(router, RLC_MSG_TRAJECTORY, 1, &v, 0);
    CHECK_MSG(v.trajectories == 6, "got %d trajectories, expected 6", v.trajectories);
    end = rlc_now() + 5;
    while (v.duplicates == 0 && rlc_now() < end) recv_until(router, RLC_MSG_TRAJECTORY, 0.5, &v, 0);
    CHECK_MSG(v.duplicates > 0, "unacknowledged trajectories were not resent");
    // Now ack: the resends stop.
    recv_until(router, RLC_MSG_TRAJECTORY, 0.5, &v, 1);
    recv_until(router, RLC_MSG_NONE, 0.5, &v, 1);
    int dups = v.duplicates;
    recv_until(router, RLC_MSG_NONE, 0.6, &v, 1);
    CHECK_MSG(v.duplicates == dups, "resends went on after the ack (%d -> %d)", dups, v.duplicates);
    for (int pid = 0; pid < 3; pid++)
        for (int k = 0; k < 2; k++) CHECK(v.seen[pid][k] == 1);
    CHECK(v.version_ok);
    CHECK_MSG(v.credits == 3, "credits returned: %d", v.credits);
    CHECK(v.heartbeats > 0);

    rlc_msg bye = {.type = RLC_MSG_SHUTDOWN};
    bye.shutdown.reason = "done";
    CHECK_OK(rlc_transport_send(router, "w-7", &bye));
    pthread_join(th, NULL);
    CHECK_OK(wt.result);
    rollout_worker_stats st;
    rollout_worker_get_stats(wt.w, &st);
    CHECK(st.versions == 1 && st.bad_messages >= 1 && st.sent == 6 && st.resent > 0);
    printf("%s: sent %lld, resent %lld, acked %lld, credits %lld, versions %lld, weights %.0f bytes in %.4f s\n",
           endpoint, st.sent, st.resent, st.acked, st.credits_returned, st.versions, st.weight_bytes, st.weight_s);
    rlc_free(ids);
    rollout_worker_free(wt.w);
    rlc_transport_free(router);
    zmq_ctx_term(zctx);
}

int main(void) {
    kernels_set_threads(1);
    char path[1024];
    actor_model *m = NULL;
    tok_tokenizer *tk = NULL;
    CHECK_OK(actor_model_load(test_data(path, sizeof path, "models/stories260K/stories260K.bin"), &m));
    CHECK_OK(tok_load(test_data(path, sizeof path, "models/stories260K/tok512.bin"), &tk));
    if (!m || !tk) return test_finish("test_rollout_worker");
    run("inproc://learner-test", m, tk);
    run("tcp://127.0.0.1:0", m, tk);
    tok_free(tk);
    actor_model_free(m);
    return test_finish("test_rollout_worker");
}
