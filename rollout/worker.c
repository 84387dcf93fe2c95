// worker.c: the rollout worker's event loop: one DEALER, one engine. Each
// turn it drains the socket (requests, weights, acks, heartbeats), swaps in
// a newer weight version if one is complete, runs one decode step when it
// has work, sends what finished, and keeps the heartbeat and the resend
// ring in order.
#include "worker.h"

#include <math.h>    // INFINITY
#include <stdlib.h>  // rand_r
#include <string.h>  // memcpy, strcmp
#include <zmq.h>     // zmq_ctx_new

#include "actor/generate.h"  // actor_gen_batch_tokens
#include "core/core.h"
#include "core/reliable.h"   // rlc_resend_ring, rlc_heartbeat, rlc_weights_rx
#include "core/transport.h"  // rlc_transport_*
#include "core/wsync.h"      // rlc_wsync_check
#include "wgroup_gpu.h"      // the default NCCL weight sync into the GPU model

typedef struct {
    uint64_t prompt_id;
    int left;  // samples not yet sent
} held_prompt;

struct rollout_worker {
    rollout_worker_config cfg;
    char *worker_id, *endpoint, *device;
    actor_model *m;
    actor_gpu_model *gpu;  // model.device cuda: the copy that generates; NULL on the CPU
    rollout_engine *engine;
    void *zctx;
    int own_ctx;
    rlc_transport *tx;
    rlc_proto_limits limits;
    uint64_t session;
    rlc_resend_ring *ring;
    rlc_proto_buf enc;
    rlc_heartbeat hb;
    rlc_weights_rx *rx;
    actor_params back;  // the back buffer new weights are written into
    int64_t version;
    held_prompt *held;  // (max_credit)
    int n_held;
    int credit_owed;    // credits to return with the next send
    int shutdown;
    // NCCL weight sync (rollout.weight_sync)
    int nccl_on;                  // offers RLC_PROTO_CAP_NCCL_WEIGHTS in its Hello
    const rollout_nccl_ops *nccl;
    void *nccl_ctx;
    void *own_nccl;               // the default (GPU model) context, when it is the one used
    uint64_t group;               // the weight group it is in; 0: none
    rollout_worker_stats stats;
};

static uint64_t new_session(void) {
    uint64_t t = (uint64_t)(rlc_now() * 1e9) ^ ((uint64_t)(uintptr_t)&t << 16);
    t ^= t >> 33;
    t *= 0xff51afd7ed558ccdull;
    t ^= t >> 33;
    return t ? t : 1;
}

// model.device cuda: the GPU copy of the model, sized like the CPU cache.
static rlc_status gpu_create(rollout_worker *w) {
    int ordinal;
    RLC_TRY(rlc_exp_parse_device(w->device, &ordinal));
    if (ordinal < 0) return RLC_OK;
    char what[96];
    snprintf(what, sizeof what, "model.device \"%s\"", w->device);
    RLC_TRY(kernels_cuda_require(what));
    const rollout_config *ec = &w->cfg.engine;
    rlc_status s = actor_gpu_model_create(w->m, ordinal, w->cfg.gpu_bf16 ? ACTOR_GPU_BF16 : ACTOR_GPU_F32, ec->n_slots,
                                          ec->max_seq, actor_gen_batch_tokens(ec->n_slots), &w->gpu);
    if (s != RLC_OK) return rlc_error_wrap(s, "rollout worker %s: %s", w->worker_id, what);
    RLC_INFO("worker %s: generating on %s (%s, %d slots of %d positions)", w->worker_id, w->device,
             w->cfg.gpu_bf16 ? "bf16" : "fp32", ec->n_slots, ec->max_seq);
    return RLC_OK;
}

// Whether this worker offers NCCL weight sync: an injected cfg->nccl, or the
// GPU model's in a build with NCCL. weight_sync "nccl" where neither is:
// RLC_ERR_CONFIG naming rollout.weight_sync.
static rlc_status nccl_setup(rollout_worker *w) {
    if (w->cfg.weight_sync == RLC_WSYNC_ZMQ) return RLC_OK;
    char why[512] = "";
    int can = 1;
    if (w->cfg.nccl) {
        w->nccl = w->cfg.nccl;
        w->nccl_ctx = w->cfg.nccl_ctx;
    } else {
        rlc_status s = rollout_wgroup_gpu_create(w->gpu, &w->own_nccl);
        if (s == RLC_ERR_NOMEM) return s;
        can = s == RLC_OK;
        if (!can) snprintf(why, sizeof why, "%s", rlc_last_error());
        w->nccl = can ? rollout_wgroup_gpu_ops() : NULL;
        w->nccl_ctx = w->own_nccl;
    }
    char who[128];
    snprintf(who, sizeof who, "rollout worker %s", w->worker_id);
    return rlc_wsync_check(w->cfg.weight_sync, can, why, who, &w->nccl_on);
}

rlc_status rollout_worker_create(actor_model *m, const tok_tokenizer *tk, const rollout_worker_config *cfg,
                                 rollout_worker **out) {
    *out = NULL;
    if (!cfg->endpoint || !cfg->worker_id || !rlc_proto_worker_id_valid(cfg->worker_id, strlen(cfg->worker_id)))
        return rlc_errorf(RLC_ERR_ARG, "rollout worker: an endpoint and a valid worker id ([A-Za-z0-9._:@-], 1-64 bytes) are required");
    if (cfg->max_credit <= 0) return rlc_errorf(RLC_ERR_ARG, "rollout worker: max_credit must be positive");
    rollout_worker *w = rlc_calloc(1, sizeof *w);
    if (!w) return rlc_errorf(RLC_ERR_NOMEM, "rollout worker");
    w->cfg = *cfg;
    w->m = m;
    w->version = -1;
    w->session = new_session();
    w->worker_id = rlc_strdup(cfg->worker_id);
    w->endpoint = rlc_strdup(cfg->endpoint);
    w->device = rlc_strdup(cfg->device ? cfg->device : "cpu");
    w->held = rlc_calloc((size_t)cfg->max_credit, sizeof(held_prompt));
    w->limits = rlc_proto_limits_default((uint32_t)actor_model_config(m)->vocab_size);
    rlc_status s = (w->worker_id && w->endpoint && w->device && w->held) ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "rollout worker");
    rollout_config ec = cfg->engine;
    ec.worker_id = w->worker_id;
    if (s == RLC_OK) s = gpu_create(w);
    if (s == RLC_OK) s = nccl_setup(w);
    ec.gpu = w->gpu;
    if (s == RLC_OK) s = rollout_engine_create(m, tk, &ec, &w->engine);
    if (s == RLC_OK) s = rlc_resend_ring_create(65536, (size_t)1 << 30, &w->ring);
    if (s == RLC_OK) s = rlc_weights_rx_create(w->limits.max_chunks, &w->rx);
    if (s == RLC_OK) s = actor_params_create(actor_model_config(m), &w->back);
    if (s == RLC_OK && cfg->zctx) w->zctx = cfg->zctx;
    if (s == RLC_OK && !cfg->zctx) {
        w->zctx = zmq_ctx_new();
        w->own_ctx = 1;
        if (!w->zctx) s = rlc_errorf(RLC_ERR_IO, "rollout worker: zmq_ctx_new failed");
    }
    if (s != RLC_OK) {
        rollout_worker_free(w);
        return s;
    }
    *out = w;
    return RLC_OK;
}

void rollout_worker_free(rollout_worker *w) {
    if (!w) return;
    if (w->group) w->nccl->leave(w->nccl_ctx);
    rollout_wgroup_gpu_free(w->own_nccl);
    rlc_transport_free(w->tx);
    if (w->own_ctx) zmq_ctx_term(w->zctx);
    rollout_engine_free(w->engine);
    actor_gpu_model_free(w->gpu);
    rlc_resend_ring_free(w->ring);
    rlc_weights_rx_free(w->rx);
    if (w->back.data) actor_params_free(&w->back);
    rlc_proto_buf_free(&w->enc);
    rlc_free(w->held);
    rlc_free(w->worker_id);
    rlc_free(w->endpoint);
    rlc_free(w->device);
    rlc_free(w);
}

void rollout_worker_get_stats(const rollout_worker *w, rollout_worker_stats *out) {
    *out = w->stats;
    out->nccl_group = w->group != 0;
    rollout_engine_stats(w->engine, &out->engine);
}

// ---- sending ----------------------------------------------------------------

static rlc_status send_msg(rollout_worker *w, const rlc_msg *m) {
    rlc_status s = rlc_transport_send(w->tx, NULL, m);
    if (s != RLC_OK) RLC_WARN("worker %s: send %s: %s", w->worker_id, rlc_msg_type_name(m->type), rlc_last_error());
    return s;
}

static rlc_status send_hello(rollout_worker *w) {
    static const char *const caps[] = {"weights.zmq", "logprobs", "groups", RLC_PROTO_CAP_NCCL_WEIGHTS};
    uint64_t inflight[w->cfg.max_credit > 0 ? w->cfg.max_credit : 1];
    for (int i = 0; i < w->n_held; i++) inflight[i] = w->held[i].prompt_id;
    rlc_msg m = {.type = RLC_MSG_HELLO};
    m.hello = (rlc_msg_hello){.worker_id = w->worker_id,
                              .session = w->session,
                              .device = w->device,
                              .capabilities = caps,
                              .n_capabilities = w->nccl_on ? 4 : 3,
                              .max_credit = (uint32_t)w->cfg.max_credit,
                              .credit = (uint32_t)(w->cfg.max_credit - w->n_held),
                              .inflight = inflight,
                              .n_inflight = (uint32_t)w->n_held,
                              .policy_version = w->version};
    w->credit_owed = 0;  // Hello states the credit afresh
    return send_msg(w, &m);
}

// Sends every unacknowledged trajectory older than `older_than`.
static void resend(rollout_worker *w, double older_than) {
    uint64_t from = 0;
    rlc_resend_entry e;
    while (rlc_resend_ring_next_due(w->ring, &from, older_than, &e)) {
        if (rlc_transport_send_bytes(w->tx, NULL, e.data, e.len) != RLC_OK) return;
        rlc_resend_ring_mark_sent(w->ring, e.seq, rlc_now());
        w->stats.resent++;
    }
}

static rlc_status connect_learner(rollout_worker *w) {
    rlc_transport_free(w->tx);
    w->tx = NULL;
    RLC_TRY(rlc_transport_dealer_create(w->zctx, w->endpoint, w->worker_id, &w->limits, NULL, &w->tx));
    double hb = w->cfg.heartbeat_s > 0 ? w->cfg.heartbeat_s : 1.0, to = w->cfg.timeout_s > 0 ? w->cfg.timeout_s : 10.0;
    rlc_heartbeat_init(&w->hb, hb, to, rlc_now());
    RLC_TRY(send_hello(w));
    resend(w, INFINITY);
    return RLC_OK;
}

// A finished trajectory: number it, keep it until acked, send it; return
// the prompt's credit when its last sample has gone.
static void on_trajectory(void *ud, const rlc_msg_trajectory *t) {
    rollout_worker *w = ud;
    rlc_msg m = {.type = RLC_MSG_TRAJECTORY, .trajectory = *t};
    m.trajectory.session = w->session;
    m.trajectory.seq = rlc_resend_ring_next_seq(w->ring);
    if (rlc_proto_encode(&m, &w->enc) != RLC_OK) {
        RLC_ERROR("worker %s: cannot encode trajectory of prompt %llu: %s", w->worker_id,
                  (unsigned long long)t->prompt_id, rlc_last_error());
        return;
    }
    // A full ring means the learner has been away a long time; the sample is
    // still sent, and kept only if there is room.
    if (rlc_resend_ring_push(w->ring, m.trajectory.seq, w->enc.data, w->enc.len, rlc_now()) != RLC_OK)
        RLC_WARN("worker %s: resend buffer full; trajectory %llu will not be resent", w->worker_id,
                 (unsigned long long)m.trajectory.seq);
    if (rlc_transport_send_bytes(w->tx, NULL, w->enc.data, w->enc.len) == RLC_OK) w->stats.sent++;
    for (int i = 0; i < w->n_held; i++) {
        if (w->held[i].prompt_id != t->prompt_id) continue;
        if (--w->held[i].left == 0) {
            w->held[i] = w->held[--w->n_held];
            w->credit_owed++;
        }
        break;
    }
}

static void return_credit(rollout_worker *w) {
    if (w->credit_owed == 0) return;
    rlc_msg m = {.type = RLC_MSG_CREDIT};
    m.credit.count = (uint32_t)w->credit_owed;
    if (send_msg(w, &m) == RLC_OK) {
        w->stats.credits_returned += w->credit_owed;
        w->credit_owed = 0;
    }
}

// ---- receiving ----------------------------------------------------------------

static void on_request(rollout_worker *w, const rlc_msg_prompt_request *req) {
    for (int i = 0; i < w->n_held; i++)
        if (w->held[i].prompt_id == req->prompt_id) return;  // a re-sent request we already hold
    if (w->n_held == w->cfg.max_credit) {
        RLC_WARN("worker %s: prompt %llu beyond the credit of %d; dropped", w->worker_id,
                 (unsigned long long)req->prompt_id, w->cfg.max_credit);
        w->stats.bad_messages++;
        return;
    }
    rlc_status s = rollout_engine_submit(w->engine, req);
    if (s != RLC_OK) {  // refused: the credit comes back so the learner can move on
        RLC_WARN("worker %s: prompt %llu refused: %s", w->worker_id, (unsigned long long)req->prompt_id, rlc_last_error());
        w->stats.bad_messages++;
        w->credit_owed++;
        return;
    }
    w->held[w->n_held++] = (held_prompt){req->prompt_id, (int)req->n};
}

// Swaps the weights in w->back into the model (and uploads them to the GPU
// copy) and moves to version v. When the upload fails the host weights are
// swapped back and the version stays.
static void install_weights(rollout_worker *w, int64_t v) {
    if (actor_model_swap_params(w->m, &w->back) != RLC_OK) return;
    if (w->gpu && actor_gpu_model_load_params(w->gpu, actor_model_params(w->m)) != RLC_OK) {
        RLC_WARN("worker %s: weights of version %lld not loaded on %s: %s", w->worker_id, (long long)v, w->device,
                 rlc_last_error());
        actor_model_swap_params(w->m, &w->back);
        return;
    }
    w->version = v;
    rollout_engine_set_version(w->engine, v);
    w->stats.versions++;
}

static void on_weights(rollout_worker *w, const rlc_msg_weights *wt) {
    double t0 = rlc_now();
    int complete = 0;
    size_t cap = w->back.numel * sizeof(float);
    rlc_status s = rlc_weights_rx_add(w->rx, wt, w->back.data, cap, &complete);
    if (s != RLC_OK) {
        RLC_WARN("worker %s: weights chunk %u of version %llu: %s", w->worker_id, wt->chunk_index,
                 (unsigned long long)wt->policy_version, rlc_last_error());
        w->stats.bad_messages++;
        return;
    }
    w->stats.weight_bytes += (double)wt->n_data;
    if (complete && (int64_t)wt->policy_version > w->version) install_weights(w, (int64_t)wt->policy_version);
    w->stats.weight_s += rlc_now() - t0;
}

// ---- the NCCL weight group ------------------------------------------------------

static int nccl_timeout_ms(const rollout_worker *w) {
    return (int)(1000 * (w->cfg.timeout_s > 0 ? w->cfg.timeout_s : 10.0));
}

static void leave_group(rollout_worker *w, const char *why) {
    if (!w->group) return;
    RLC_WARN("worker %s: left NCCL weight group %llu: %s; weights come as ZeroMQ chunks", w->worker_id,
             (unsigned long long)w->group, why);
    w->nccl->leave(w->nccl_ctx);
    w->group = 0;
}

// An invitation (join as rank/world with the id) or, with world 0, the
// learner dissolving the group.
static void on_weight_group(rollout_worker *w, const rlc_msg_weight_group *g) {
    if (g->world == 0) {
        if (g->group == w->group) leave_group(w, "the learner dissolved it");
        return;
    }
    if (!w->nccl_on) {  // not offered: the learner's init times out and it dissolves the group
        RLC_WARN("worker %s: invited into NCCL weight group %llu without offering it; ignored", w->worker_id,
                 (unsigned long long)g->group);
        w->stats.bad_messages++;
        return;
    }
    leave_group(w, "the learner formed a new one");
    double t0 = rlc_now();
    if (w->nccl->init(w->nccl_ctx, g->nccl_id, g->n_nccl_id, (int)g->rank, (int)g->world, nccl_timeout_ms(w)) !=
        RLC_OK) {
        RLC_WARN("worker %s: joining NCCL weight group %llu as rank %u of %u failed: %s; weights come as ZeroMQ chunks",
                 w->worker_id, (unsigned long long)g->group, g->rank, g->world, rlc_last_error());
        w->nccl->leave(w->nccl_ctx);
        w->stats.nccl_failures++;
        return;
    }
    w->group = g->group;
    RLC_INFO("worker %s: joined NCCL weight group %llu as rank %u of %u (%.2f s)", w->worker_id,
             (unsigned long long)g->group, g->rank, g->world, rlc_now() - t0);
}

// A version announced: take part in the broadcast (even when it cannot be
// used, so that the others are not left waiting), check it when asked,
// swap it in.
static void on_weights_nccl(rollout_worker *w, const rlc_msg_weights_nccl *a) {
    if (!w->group || a->group != w->group) {
        char in[48] = "no group";
        if (w->group) snprintf(in, sizeof in, "group %llu", (unsigned long long)w->group);
        RLC_WARN("worker %s: weights v%llu announced for NCCL group %llu, but this worker is in %s; ignored",
                 w->worker_id, (unsigned long long)a->policy_version, (unsigned long long)a->group, in);
        w->stats.bad_messages++;
        return;
    }
    double t0 = rlc_now();
    char why[600];
    size_t bytes = w->back.numel * sizeof(float);
    if (a->total_bytes != bytes) {
        snprintf(why, sizeof why, "v%llu has %llu bytes, this model %zu", (unsigned long long)a->policy_version,
                 (unsigned long long)a->total_bytes, bytes);
        w->stats.nccl_failures++;
        leave_group(w, why);  // the learner's broadcast then fails and it dissolves the group
        return;
    }
    if (w->nccl->receive(w->nccl_ctx, bytes, nccl_timeout_ms(w)) != RLC_OK) {
        snprintf(why, sizeof why, "receiving v%llu: %s", (unsigned long long)a->policy_version, rlc_last_error());
        w->stats.nccl_failures++;
        leave_group(w, why);
        return;
    }
    w->stats.nccl_bytes += (double)bytes;
    if ((int64_t)a->policy_version <= w->version) {  // nothing new (e.g. it came as chunks already)
        w->stats.nccl_s += rlc_now() - t0;
        return;
    }
    if (w->cfg.nccl_verify && a->has_xxh64) {
        // The host copy then holds the version too: swap it in with the device one.
        if (w->nccl->download(w->nccl_ctx, w->back.data, bytes) != RLC_OK) {
            RLC_WARN("worker %s: weights v%llu: checking the broadcast: %s", w->worker_id,
                     (unsigned long long)a->policy_version, rlc_last_error());
            w->stats.nccl_failures++;
            return;
        }
        uint64_t sum = rlc_xxh64(w->back.data, bytes, 0);
        if (sum != a->total_xxh64) {  // the learner resends it as chunks once heartbeats show the old version
            RLC_WARN("worker %s: weights v%llu by NCCL: xxh64 0x%016llx, announced 0x%016llx; not installed",
                     w->worker_id, (unsigned long long)a->policy_version, (unsigned long long)sum,
                     (unsigned long long)a->total_xxh64);
            w->stats.nccl_failures++;
            return;
        }
        actor_model_swap_params(w->m, &w->back);
    }
    if (w->nccl->install(w->nccl_ctx) != RLC_OK) {
        RLC_WARN("worker %s: weights v%llu by NCCL not installed: %s", w->worker_id,
                 (unsigned long long)a->policy_version, rlc_last_error());
        w->stats.nccl_failures++;
        return;
    }
    w->version = (int64_t)a->policy_version;
    rollout_engine_set_version(w->engine, w->version);
    w->stats.versions++;
    w->stats.nccl_versions++;
    w->stats.nccl_s += rlc_now() - t0;
}

static void handle(rollout_worker *w, const rlc_msg *m) {
    switch (m->type) {
    case RLC_MSG_PROMPT_REQUEST: on_request(w, &m->prompt_request); break;
    case RLC_MSG_WEIGHTS: on_weights(w, &m->weights); break;
    case RLC_MSG_ACK:
        if (m->ack.session == w->session)
            w->stats.acked += rlc_resend_ring_ack(w->ring, m->ack.cumulative, m->ack.seqs, m->ack.n_seqs);
        break;
    case RLC_MSG_SHUTDOWN: w->shutdown = 1; break;
    case RLC_MSG_HEARTBEAT: break;  // heard below
    case RLC_MSG_WEIGHT_GROUP: on_weight_group(w, &m->weight_group); break;
    case RLC_MSG_WEIGHTS_NCCL: on_weights_nccl(w, &m->weights_nccl); break;
    default:
        RLC_WARN("worker %s: unexpected %s from the learner", w->worker_id, rlc_msg_type_name(m->type));
        w->stats.bad_messages++;
    }
}

// Weights from the in-process board, swapped in between decode steps.
static void poll_board(rollout_worker *w) {
    if (!w->cfg.board || rlc_board_version(w->cfg.board) <= w->version) return;
    double t0 = rlc_now();
    int64_t v;
    if (rlc_board_fetch(w->cfg.board, w->version, w->back.data, w->back.numel * sizeof(float), &v) != RLC_OK) return;
    if (v > w->version) {
        install_weights(w, v);
        if (w->version == v) w->stats.weight_bytes += (double)(w->back.numel * sizeof(float));
    }
    w->stats.weight_s += rlc_now() - t0;
}

rlc_status rollout_worker_run(rollout_worker *w, volatile sig_atomic_t *stop) {
    RLC_TRY(connect_learner(w));
    RLC_INFO("worker %s: connected to %s (credit %d, %d slots)", w->worker_id, w->endpoint, w->cfg.max_credit,
             w->cfg.engine.n_slots);
    int pending = 0;
    while (!w->shutdown && !(stop && *stop)) {
        double now = rlc_now();
        // Wait for messages only when there is nothing to decode.
        int timeout = pending > 0 ? 0 : rlc_heartbeat_wait_ms(&w->hb, now);
        if (timeout > 100) timeout = 100;  // to notice *stop
        for (int first = 1;; first = 0) {
            const rlc_msg *m;
            const char *peer;
            rlc_status s = rlc_transport_recv(w->tx, first ? timeout : 0, &m, &peer);
            if (s == RLC_ERR_BAD_MESSAGE) {
                RLC_WARN("worker %s: bad message from the learner: %s", w->worker_id, rlc_last_error());
                w->stats.bad_messages++;
                continue;
            }
            if (s != RLC_OK) return s;
            if (!m) break;
            rlc_heartbeat_heard(&w->hb, rlc_now());
            handle(w, m);
        }
        poll_board(w);
        if (pending > 0 || w->n_held > 0) {
            RLC_TRY(rollout_engine_step(w->engine, on_trajectory, w, &pending));
        }
        return_credit(w);
        now = rlc_now();
        if (rlc_heartbeat_due(&w->hb, now)) {
            rlc_msg hb = {.type = RLC_MSG_HEARTBEAT};
            hb.heartbeat = (rlc_msg_heartbeat){.time = now, .status = pending > 0 ? "busy" : "idle",
                                               .policy_version = w->version};
            send_msg(w, &hb);
            resend(w, now - 4 * w->hb.interval);  // unacknowledged for a while: send again
        }
        if (rlc_heartbeat_expired(&w->hb, now)) {
            RLC_WARN("worker %s: no word from the learner for %.1f s; reconnecting", w->worker_id, w->hb.timeout);
            w->stats.reconnects++;
            RLC_TRY(connect_learner(w));
        }
    }
    if (!w->shutdown) {  // stopped locally: tell the learner
        rlc_msg bye = {.type = RLC_MSG_SHUTDOWN};
        bye.shutdown.reason = "stopped";
        send_msg(w, &bye);
    }
    return RLC_OK;
}
