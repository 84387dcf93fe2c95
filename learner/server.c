// server.c: the learner's ROUTER: worker registry, request dispatch under
// credit, trajectory collection into groups, acks, heartbeats, reissue, and
// weight publishing.
#include "server.h"

#include <math.h>    // INFINITY
#include <string.h>  // memcpy, strcmp
#include <zmq.h>     // zmq_ctx_new

#include "core/checksum.h"   // rlc_xxh64
#include "core/core.h"
#include "core/reliable.h"   // rlc_dedup, rlc_heartbeat
#include "core/transport.h"  // rlc_transport_*

typedef struct {
    char id[RLC_PROTO_WORKER_ID_MAX + 1];
    uint64_t session;
    int alive;
    int credit;
    int64_t version;       // the weights it reported holding
    int64_t sent_version;  // the last version we sent it
    double sent_at;        // when
    rlc_dedup dedup;
    rlc_heartbeat hb;
    int nccl_cap;          // its Hello allows NCCL weight sync (rlc_wsync_choose)
    int in_group;          // a member of the NCCL weight group (invited to it)
} worker_rec;

typedef struct {
    rlc_msg_prompt_request req;  // points into the owned copies below
    int32_t *tokens;
    char **stop;
    rlc_proto_kv *meta;
    int worker;         // index into workers, -1: queued
    lsrv_traj *trajs;   // (n)
    unsigned char *got; // (n)
    uint32_t n_got;
} pending_req;

struct lsrv {
    lsrv_config cfg;
    void *zctx;
    int own_ctx;
    rlc_transport *tx;
    worker_rec *workers;
    int n_workers, cap_workers;
    pending_req **reqs;  // in submit order
    int n_reqs, cap_reqs;
    void *weights;  // the latest published version (copy), for late joiners
    size_t weight_bytes;
    int64_t version;
    uint64_t weights_xxh64;
    uint64_t ack_buf[64];
    uint64_t group;        // the NCCL weight group's id; 0: none now
    uint64_t groups_made;  // ids handed out so far
    int group_tried;       // a group was formed (or failed to form) once: never again
    lsrv_stats stats;
};

rlc_status lsrv_create(const lsrv_config *cfg, lsrv **out) {
    *out = NULL;
    lsrv *s = rlc_calloc(1, sizeof *s);
    if (!s) return rlc_errorf(RLC_ERR_NOMEM, "learner server");
    s->cfg = *cfg;
    if (s->cfg.heartbeat_s <= 0) s->cfg.heartbeat_s = 1.0;
    if (s->cfg.timeout_s <= 0) s->cfg.timeout_s = 10.0;
    if (s->cfg.weight_chunk_bytes == 0) s->cfg.weight_chunk_bytes = (size_t)16 << 20;
    s->version = -1;
    s->zctx = cfg->zctx;
    if (!s->zctx) {
        s->zctx = zmq_ctx_new();
        s->own_ctx = 1;
    }
    rlc_proto_limits limits = rlc_proto_limits_default(cfg->vocab_size);
    rlc_status st = s->zctx ? rlc_transport_router_create(s->zctx, cfg->endpoint, &limits, NULL, &s->tx)
                            : rlc_errorf(RLC_ERR_IO, "learner: zmq_ctx_new failed");
    if (st != RLC_OK) {
        lsrv_free(s);
        return st;
    }
    *out = s;
    return RLC_OK;
}

static void req_free(pending_req *r) {
    if (!r) return;
    for (uint32_t i = 0; r->trajs && i < r->req.n; i++) {
        rlc_free(r->trajs[i].tokens);
        rlc_free(r->trajs[i].logprobs);
        rlc_free(r->trajs[i].versions);
    }
    for (uint32_t i = 0; r->stop && i < r->req.sampling.n_stop; i++) rlc_free(r->stop[i]);
    for (uint32_t i = 0; r->meta && i < r->req.n_metadata; i++) {
        rlc_free((char *)r->meta[i].key);
        rlc_free((char *)r->meta[i].value);
    }
    rlc_free(r->stop);
    rlc_free(r->meta);
    rlc_free(r->tokens);
    rlc_free(r->trajs);
    rlc_free(r->got);
    rlc_free(r);
}

void lsrv_free(lsrv *s) {
    if (!s) return;
    if (s->group) s->cfg.nccl->leave(s->cfg.nccl_ctx);
    for (int i = 0; i < s->n_reqs; i++) req_free(s->reqs[i]);
    rlc_free(s->reqs);
    rlc_free(s->workers);
    rlc_free_aligned(s->weights);
    rlc_transport_free(s->tx);
    if (s->own_ctx && s->zctx) zmq_ctx_term(s->zctx);
    rlc_free(s);
}

const char *lsrv_endpoint(const lsrv *s) { return rlc_transport_endpoint(s->tx); }

void *lsrv_zctx(lsrv *s) { return s->zctx; }

void lsrv_get_stats(const lsrv *s, lsrv_stats *out) {
    *out = s->stats;
    out->workers_alive = 0;
    for (int i = 0; i < s->n_workers; i++) out->workers_alive += s->workers[i].alive;
    out->nccl_members = 0;
    for (int i = 0; i < s->n_workers; i++) out->nccl_members += s->workers[i].in_group;
    out->queued = out->in_flight = 0;
    for (int i = 0; i < s->n_reqs; i++) {
        if (s->reqs[i]->worker < 0) out->queued++;
        else out->in_flight++;
    }
}

// ---- requests -----------------------------------------------------------------

rlc_status lsrv_submit(lsrv *s, const rlc_msg_prompt_request *req) {
    if (req->n == 0 || req->n_tokens == 0)
        return rlc_errorf(RLC_ERR_ARG, "learner: request %llu needs tokens and n >= 1", (unsigned long long)req->prompt_id);
    if (s->n_reqs == s->cap_reqs) {
        int cap = s->cap_reqs ? 2 * s->cap_reqs : 64;
        pending_req **grown = rlc_realloc(s->reqs, sizeof(pending_req *) * (size_t)cap);
        if (!grown) return rlc_errorf(RLC_ERR_NOMEM, "learner: request queue");
        s->reqs = grown;
        s->cap_reqs = cap;
    }
    pending_req *r = rlc_calloc(1, sizeof *r);
    if (!r) return rlc_errorf(RLC_ERR_NOMEM, "learner: request");
    r->req = *req;
    r->worker = -1;
    r->tokens = rlc_malloc(sizeof(int32_t) * req->n_tokens);
    r->trajs = rlc_calloc(req->n, sizeof(lsrv_traj));
    r->got = rlc_calloc(req->n, 1);
    r->stop = rlc_calloc(req->sampling.n_stop + 1, sizeof(char *));
    r->meta = rlc_calloc(req->n_metadata + 1, sizeof(rlc_proto_kv));
    int failed = !r->tokens || !r->trajs || !r->got || !r->stop || !r->meta;
    for (uint32_t i = 0; !failed && i < req->sampling.n_stop; i++) failed = !(r->stop[i] = rlc_strdup(req->sampling.stop[i]));
    for (uint32_t i = 0; !failed && i < req->n_metadata; i++) {
        r->meta[i].key = rlc_strdup(req->metadata[i].key);
        r->meta[i].value = rlc_strdup(req->metadata[i].value);
        failed = !r->meta[i].key || !r->meta[i].value;
    }
    if (failed) {
        r->req.sampling.n_stop = req->sampling.n_stop;
        r->req.n_metadata = req->n_metadata;
        req_free(r);
        return rlc_errorf(RLC_ERR_NOMEM, "learner: request %llu", (unsigned long long)req->prompt_id);
    }
    memcpy(r->tokens, req->tokens, sizeof(int32_t) * req->n_tokens);
    r->req.tokens = r->tokens;
    r->req.sampling.stop = (const char *const *)r->stop;
    r->req.metadata = r->meta;
    s->reqs[s->n_reqs++] = r;
    return RLC_OK;
}

static int find_req(const lsrv *s, uint64_t prompt_id) {
    for (int i = 0; i < s->n_reqs; i++)
        if (s->reqs[i]->req.prompt_id == prompt_id) return i;
    return -1;
}

static void remove_req(lsrv *s, int i) {
    req_free(s->reqs[i]);
    memmove(s->reqs + i, s->reqs + i + 1, sizeof(pending_req *) * (size_t)(s->n_reqs - i - 1));
    s->n_reqs--;
}

// Puts a worker's prompts back in the queue (those not in `keep`).
static void reissue(lsrv *s, int w, const uint64_t *keep, uint32_t n_keep) {
    for (int i = 0; i < s->n_reqs; i++) {
        pending_req *r = s->reqs[i];
        if (r->worker != w) continue;
        int kept = 0;
        for (uint32_t k = 0; k < n_keep; k++) kept |= keep[k] == r->req.prompt_id;
        if (kept) continue;
        r->worker = -1;
        s->stats.reissued++;
    }
}

// Sends queued requests, oldest first, to the live worker with the most credit.
static void dispatch(lsrv *s) {
    for (int i = 0; i < s->n_reqs; i++) {
        pending_req *r = s->reqs[i];
        if (r->worker >= 0 || r->n_got == r->req.n) continue;
        int best = -1;
        for (int w = 0; w < s->n_workers; w++)
            if (s->workers[w].alive && s->workers[w].credit > 0 && (best < 0 || s->workers[w].credit > s->workers[best].credit))
                best = w;
        if (best < 0) return;
        rlc_msg m = {.type = RLC_MSG_PROMPT_REQUEST, .prompt_request = r->req};
        if (rlc_transport_send(s->tx, s->workers[best].id, &m) != RLC_OK) {
            RLC_WARN("learner: request %llu to %s: %s", (unsigned long long)r->req.prompt_id, s->workers[best].id,
                     rlc_last_error());
            return;
        }
        s->workers[best].credit--;
        r->worker = best;
        s->stats.requests_sent++;
    }
}

// ---- weights ------------------------------------------------------------------

// The current version as ZeroMQ chunks, unless the worker has it already.
static void send_chunks(lsrv *s, worker_rec *w) {
    if (!s->weights || s->cfg.board || w->sent_version >= s->version) return;
    double t0 = rlc_now();
    uint32_t count = 1;
    for (uint32_t i = 0; i < count; i++) {
        rlc_msg m;
        if (rlc_proto_weights_chunk(&m, (uint64_t)s->version, s->weights, s->weight_bytes, s->cfg.weight_chunk_bytes, i,
                                    s->weights_xxh64, &count) != RLC_OK ||
            rlc_transport_send(s->tx, w->id, &m) != RLC_OK) {
            RLC_WARN("learner: weights v%lld to %s: %s", (long long)s->version, w->id, rlc_last_error());
            return;
        }
        s->stats.weight_bytes += (double)m.weights.n_data;
    }
    w->sent_version = s->version;
    w->sent_at = rlc_now();
    s->stats.weight_s += w->sent_at - t0;
}

// Members of the NCCL weight group get their versions by broadcast.
static void send_weights(lsrv *s, worker_rec *w) {
    if (!w->in_group) send_chunks(s, w);
}

// ---- the NCCL weight group -------------------------------------------------------

static int nccl_timeout_ms(const lsrv *s) {
    double t = s->cfg.nccl_timeout_s > 0 ? s->cfg.nccl_timeout_s : s->cfg.timeout_s;
    return (int)(t * 1000);
}

// The members' ids, "w1, w3", for log messages.
static const char *member_ids(const lsrv *s, char *buf, size_t cap) {
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->n_workers && at + 1 < cap; i++) {
        if (!s->workers[i].in_group) continue;
        int n = snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", s->workers[i].id);
        if (n < 0) break;
        at += (size_t)n < cap - at ? (size_t)n : cap - at - 1;
    }
    return buf;
}

// Ends the group: the learner's communicator is torn down, every member is
// told to leave and gets ZeroMQ chunks from now on (the current version
// too, unless it already has it).
static void dissolve(lsrv *s, const char *why) {
    if (!s->group) return;
    char ids[1024];
    RLC_WARN("learner: NCCL weight group %llu of workers %s dissolved: %s; those workers get ZeroMQ chunks from now on",
             (unsigned long long)s->group, member_ids(s, ids, sizeof ids), why);
    s->cfg.nccl->leave(s->cfg.nccl_ctx);
    rlc_msg m = {.type = RLC_MSG_WEIGHT_GROUP};
    m.weight_group = (rlc_msg_weight_group){.group = s->group};
    for (int i = 0; i < s->n_workers; i++) {
        worker_rec *w = &s->workers[i];
        if (!w->in_group) continue;
        w->in_group = 0;
        if (w->alive && rlc_transport_send(s->tx, w->id, &m) != RLC_OK)
            RLC_WARN("learner: telling %s to leave the NCCL weight group: %s", w->id, rlc_last_error());
    }
    s->group = 0;
    s->stats.nccl_failures++;
}

// Forms the group once, of the live workers that can take part: invites
// each (weight_group: its rank and the unique id), then joins as rank 0.
static void form_group(lsrv *s) {
    if (s->group_tried || !s->cfg.nccl || s->cfg.board || s->cfg.weight_sync == RLC_WSYNC_ZMQ) return;
    int n = 0;
    for (int i = 0; i < s->n_workers; i++) n += s->workers[i].alive && s->workers[i].nccl_cap;
    if (n == 0) return;  // no candidate yet: try again at the next version
    s->group_tried = 1;
    uint8_t id[RLC_PROTO_NCCL_ID_MAX];
    size_t len = 0;
    if (s->cfg.nccl->make_id(s->cfg.nccl_ctx, id, sizeof id, &len) != RLC_OK || len == 0 || len > sizeof id) {
        RLC_WARN("learner: no NCCL weight group (unique id: %s); every worker gets ZeroMQ chunks", rlc_last_error());
        s->stats.nccl_failures++;
        return;
    }
    s->group = ++s->groups_made;
    rlc_msg m = {.type = RLC_MSG_WEIGHT_GROUP};
    m.weight_group = (rlc_msg_weight_group){.group = s->group, .world = (uint32_t)n + 1, .nccl_id = id, .n_nccl_id = len};
    for (int i = 0; i < s->n_workers; i++) {
        worker_rec *w = &s->workers[i];
        if (!w->alive || !w->nccl_cap) continue;
        m.weight_group.rank++;
        w->in_group = 1;
        if (rlc_transport_send(s->tx, w->id, &m) != RLC_OK) {
            char why[600];
            snprintf(why, sizeof why, "inviting %s failed: %s", w->id, rlc_last_error());
            dissolve(s, why);
            return;
        }
    }
    double t0 = rlc_now();
    if (s->cfg.nccl->init(s->cfg.nccl_ctx, id, len, n + 1, nccl_timeout_ms(s)) != RLC_OK) {
        char why[1024];
        snprintf(why, sizeof why, "joining it failed: %s", rlc_last_error());
        dissolve(s, why);
        return;
    }
    char ids[1024];
    RLC_INFO("learner: NCCL weight group %llu formed in %.2f s: rank 0 and %d workers (%s)", (unsigned long long)s->group,
             rlc_now() - t0, n, member_ids(s, ids, sizeof ids));
}

// Version s->version to the group: an announce to each member, then the
// broadcast. A failure dissolves the group (its members get chunks).
static void publish_nccl(lsrv *s) {
    if (!s->group) return;
    double t0 = rlc_now();
    rlc_msg m = {.type = RLC_MSG_WEIGHTS_NCCL};
    m.weights_nccl = (rlc_msg_weights_nccl){.policy_version = (uint64_t)s->version, .group = s->group,
                                            .total_bytes = s->weight_bytes, .has_xxh64 = 1,
                                            .total_xxh64 = s->weights_xxh64};
    int members = 0;
    for (int i = 0; i < s->n_workers; i++) {
        worker_rec *w = &s->workers[i];
        if (!w->in_group) continue;
        char why[600];
        if (!w->alive) snprintf(why, sizeof why, "member %s is gone", w->id);
        else if (rlc_transport_send(s->tx, w->id, &m) != RLC_OK)
            snprintf(why, sizeof why, "announcing v%lld to %s failed: %s", (long long)s->version, w->id, rlc_last_error());
        else {
            members++;
            continue;
        }
        dissolve(s, why);
        return;
    }
    if (s->cfg.nccl->broadcast(s->cfg.nccl_ctx, s->weight_bytes, nccl_timeout_ms(s)) != RLC_OK) {
        char why[1024];
        snprintf(why, sizeof why, "broadcast of v%lld failed: %s", (long long)s->version, rlc_last_error());
        dissolve(s, why);
        return;
    }
    double now = rlc_now();
    for (int i = 0; i < s->n_workers; i++)
        if (s->workers[i].in_group) {
            s->workers[i].sent_version = s->version;
            s->workers[i].sent_at = now;
        }
    s->stats.nccl_bytes += (double)s->weight_bytes * members;
    s->stats.nccl_s += now - t0;
}

int lsrv_worker_path(const lsrv *s, const char *worker_id) {
    for (int i = 0; i < s->n_workers; i++)
        if (strcmp(s->workers[i].id, worker_id) == 0)
            return s->workers[i].in_group ? RLC_WSYNC_PATH_NCCL : RLC_WSYNC_PATH_ZMQ;
    return -1;
}

rlc_status lsrv_publish(lsrv *s, int64_t version, const void *weights, size_t bytes) {
    double t0 = rlc_now();
    if (s->cfg.board) {
        RLC_TRY(rlc_board_publish(s->cfg.board, version, weights, bytes));
        s->version = version;
        s->stats.weight_s += rlc_now() - t0;
        return RLC_OK;
    }
    if (!s->weights) {
        if (!(s->weights = rlc_malloc_aligned(bytes))) return rlc_errorf(RLC_ERR_NOMEM, "learner: weights copy");
        s->weight_bytes = bytes;
    }
    if (bytes != s->weight_bytes) return rlc_errorf(RLC_ERR_ARG, "learner: weights of %zu bytes, expected %zu", bytes, s->weight_bytes);
    memcpy(s->weights, weights, bytes);
    s->weights_xxh64 = rlc_xxh64(s->weights, bytes, 0);
    s->version = version;
    s->stats.weight_s += rlc_now() - t0;
    form_group(s);
    publish_nccl(s);
    for (int w = 0; w < s->n_workers; w++)
        if (s->workers[w].alive) send_weights(s, &s->workers[w]);
    return RLC_OK;
}

// ---- messages -----------------------------------------------------------------

static int find_worker(const lsrv *s, const char *id) {
    for (int i = 0; i < s->n_workers; i++)
        if (strcmp(s->workers[i].id, id) == 0) return i;
    return -1;
}

static void on_hello(lsrv *s, const char *peer, const rlc_msg_hello *h) {
    int w = find_worker(s, peer);
    if (w < 0) {
        if (s->n_workers == s->cap_workers) {
            int cap = s->cap_workers ? 2 * s->cap_workers : 8;
            worker_rec *grown = rlc_realloc(s->workers, sizeof(worker_rec) * (size_t)cap);
            if (!grown) return;
            s->workers = grown;
            s->cap_workers = cap;
        }
        w = s->n_workers++;
        memset(&s->workers[w], 0, sizeof(worker_rec));
        snprintf(s->workers[w].id, sizeof s->workers[w].id, "%s", peer);
        s->workers[w].session = 0;
    }
    worker_rec *wr = &s->workers[w];
    double now = rlc_now();
    if (wr->session != h->session) {  // a new process: nothing it held survives
        if (wr->session) RLC_INFO("learner: worker %s restarted; reissuing its prompts", wr->id);
        if (wr->in_group) {
            char why[160];
            snprintf(why, sizeof why, "member %s restarted", wr->id);
            dissolve(s, why);
        }
        rlc_dedup_init(&wr->dedup, h->session);
        reissue(s, w, NULL, 0);
        wr->session = h->session;
        wr->sent_version = -1;
    } else {
        reissue(s, w, h->inflight, h->n_inflight);
    }
    const char *why;
    int nccl = !s->cfg.board &&
               rlc_wsync_choose(s->cfg.weight_sync, s->cfg.nccl != NULL, h->capabilities, h->n_capabilities, &why) ==
                   RLC_WSYNC_PATH_NCCL;
    if (!wr->alive)
        RLC_INFO("learner: worker %s joined (credit %u, device %s, weights by %s%s%s)", wr->id, h->credit, h->device,
                 s->cfg.board ? "the in-process board" : wr->in_group || nccl ? "NCCL" : "ZeroMQ chunks",
                 s->cfg.board ? "" : ": ", s->cfg.board ? "" : why);
    if (!nccl && s->cfg.weight_sync == RLC_WSYNC_NCCL && !s->cfg.board)
        RLC_WARN("learner: rollout.weight_sync = \"nccl\", but worker %s gets ZeroMQ chunks: %s", wr->id, why);
    wr->nccl_cap = nccl;
    wr->alive = 1;
    wr->credit = (int)h->credit;
    wr->version = h->policy_version;
    if (h->policy_version < s->version) wr->sent_version = h->policy_version;
    rlc_heartbeat_init(&wr->hb, s->cfg.heartbeat_s, s->cfg.timeout_s, now);
    send_weights(s, wr);
}

static int copy_traj(lsrv_traj *d, const rlc_msg_trajectory *t, const char *peer) {
    d->sample_index = t->sample_index;
    d->n = t->n_tokens;
    size_t n = t->n_tokens ? t->n_tokens : 1;
    d->tokens = rlc_malloc(sizeof(int32_t) * n);
    d->logprobs = rlc_malloc(sizeof(float) * n);
    d->versions = rlc_malloc(sizeof(int32_t) * n);
    if (!d->tokens || !d->logprobs || !d->versions) return 0;
    memcpy(d->tokens, t->tokens, sizeof(int32_t) * t->n_tokens);
    memcpy(d->logprobs, t->logprobs, sizeof(float) * t->n_tokens);
    memcpy(d->versions, t->versions, sizeof(int32_t) * t->n_tokens);
    d->reward = t->reward;
    d->finish = t->finish;
    d->generate_s = t->generate_s;
    d->reward_s = t->reward_s;
    d->queue_s = t->queue_s;
    snprintf(d->worker_id, sizeof d->worker_id, "%s", peer);
    d->n_components = 0;
    for (uint32_t c = 0; c < t->n_components && c < LSRV_MAX_COMPONENTS; c++) {
        snprintf(d->components[c].name, sizeof d->components[c].name, "%s", t->components[c].name);
        d->components[c].value = t->components[c].value;
        d->n_components++;
    }
    return 1;
}

static void on_trajectory(lsrv *s, const char *peer, const rlc_msg_trajectory *t, lsrv_group_fn done, void *ud) {
    int w = find_worker(s, peer);
    if (w < 0 || s->workers[w].session != t->session) {  // no Hello from this session yet
        s->stats.bad_messages++;
        RLC_WARN("learner: trajectory from %s of an unknown session; dropped", peer);
        return;
    }
    worker_rec *wr = &s->workers[w];
    rlc_dedup_result d = rlc_dedup_check(&wr->dedup, t->seq);
    if (d == RLC_DEDUP_TOO_FAR) return;
    rlc_msg ack = {.type = RLC_MSG_ACK};
    ack.ack = (rlc_msg_ack){.session = t->session, .cumulative = wr->dedup.cumulative};
    ack.ack.n_seqs = rlc_dedup_selective(&wr->dedup, s->ack_buf, 64);
    ack.ack.seqs = s->ack_buf;
    rlc_transport_send(s->tx, peer, &ack);
    if (d == RLC_DEDUP_DUPLICATE) {
        s->stats.duplicates++;
        return;
    }
    int i = find_req(s, t->prompt_id);
    if (i < 0 || t->sample_index >= s->reqs[i]->req.n || s->reqs[i]->got[t->sample_index]) {
        s->stats.late++;  // already complete (e.g. reissued and answered twice)
        return;
    }
    pending_req *r = s->reqs[i];
    if (t->n_prompt_tokens != r->req.n_tokens ||
        memcmp(t->prompt_tokens, r->req.tokens, sizeof(int32_t) * r->req.n_tokens) != 0) {
        s->stats.bad_messages++;
        RLC_WARN("learner: trajectory of prompt %llu from %s has other prompt tokens; dropped",
                 (unsigned long long)t->prompt_id, peer);
        return;
    }
    if (!copy_traj(&r->trajs[t->sample_index], t, peer)) {
        RLC_ERROR("learner: out of memory storing a trajectory of prompt %llu", (unsigned long long)t->prompt_id);
        return;
    }
    r->got[t->sample_index] = 1;
    r->n_got++;
    s->stats.trajectories++;
    if (r->n_got < r->req.n) return;
    lsrv_group g = {.prompt_id = r->req.prompt_id, .prompt = r->req.tokens, .n_prompt = r->req.n_tokens,
                    .n = r->req.n, .trajs = r->trajs};
    s->stats.groups_done++;
    if (done) done(ud, &g);
    remove_req(s, i);
}

static void on_message(lsrv *s, const char *peer, const rlc_msg *m, lsrv_group_fn done, void *ud) {
    int w = find_worker(s, peer);
    if (w >= 0) rlc_heartbeat_heard(&s->workers[w].hb, rlc_now());
    switch (m->type) {
    case RLC_MSG_HELLO: on_hello(s, peer, &m->hello); break;
    case RLC_MSG_TRAJECTORY: on_trajectory(s, peer, &m->trajectory, done, ud); break;
    case RLC_MSG_CREDIT:
        if (w >= 0) s->workers[w].credit += (int)m->credit.count;
        break;
    case RLC_MSG_HEARTBEAT:
        if (w >= 0) {
            worker_rec *wr = &s->workers[w];
            wr->version = m->heartbeat.policy_version;
            // Still on an older version well after it was sent: the chunks
            // were lost or refused (checksum): send the current one again.
            // (A group member too: it refused the broadcast, e.g. a checksum mismatch.)
            if (wr->version < s->version && wr->sent_version >= s->version &&
                rlc_now() - wr->sent_at > 4 * s->cfg.heartbeat_s) {
                wr->sent_version = wr->version;
                send_chunks(s, wr);
            }
        }
        break;
    case RLC_MSG_SHUTDOWN:
        if (w >= 0) {
            RLC_INFO("learner: worker %s stopped (%s); reissuing its prompts", peer, m->shutdown.reason);
            s->workers[w].alive = 0;
            s->workers[w].credit = 0;
            reissue(s, w, NULL, 0);
            if (s->workers[w].in_group) {
                char why[160];
                snprintf(why, sizeof why, "member %s stopped", peer);
                dissolve(s, why);
            }
        }
        break;
    default:
        s->stats.bad_messages++;
        RLC_WARN("learner: unexpected %s from %s", rlc_msg_type_name(m->type), peer);
    }
}

static void heartbeats(lsrv *s) {
    double now = rlc_now();
    for (int w = 0; w < s->n_workers; w++) {
        worker_rec *wr = &s->workers[w];
        if (!wr->alive) continue;
        if (rlc_heartbeat_expired(&wr->hb, now)) {
            RLC_WARN("learner: worker %s silent for %.1f s: declared dead; reissuing its prompts", wr->id, wr->hb.timeout);
            wr->alive = 0;
            wr->credit = 0;
            s->stats.workers_dead++;
            reissue(s, w, NULL, 0);
            if (wr->in_group) {
                char why[160];
                snprintf(why, sizeof why, "member %s was declared dead", wr->id);
                dissolve(s, why);
            }
            continue;
        }
        if (rlc_heartbeat_due(&wr->hb, now)) {
            rlc_msg hb = {.type = RLC_MSG_HEARTBEAT};
            hb.heartbeat = (rlc_msg_heartbeat){.time = now, .status = "ok", .policy_version = s->version};
            rlc_transport_send(s->tx, wr->id, &hb);
        }
    }
}

rlc_status lsrv_poll(lsrv *s, int timeout_ms, lsrv_group_fn done, void *ud) {
    dispatch(s);
    for (int first = 1;; first = 0) {
        const rlc_msg *m;
        const char *peer;
        rlc_status st = rlc_transport_recv(s->tx, first ? timeout_ms : 0, &m, &peer);
        if (st == RLC_ERR_BAD_MESSAGE) {
            s->stats.bad_messages++;
            RLC_WARN("learner: bad message from %s: %s", peer && peer[0] ? peer : "an unknown peer", rlc_last_error());
            continue;
        }
        if (st != RLC_OK) return st;
        if (!m) break;
        on_message(s, peer, m, done, ud);
    }
    heartbeats(s);
    dispatch(s);
    return RLC_OK;
}

void lsrv_shutdown(lsrv *s, const char *reason) {
    rlc_msg m = {.type = RLC_MSG_SHUTDOWN};
    m.shutdown.reason = reason;
    for (int w = 0; w < s->n_workers; w++)
        if (s->workers[w].alive) rlc_transport_send(s->tx, s->workers[w].id, &m);
}
