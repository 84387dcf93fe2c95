// test_weight_sync.c: the choice between NCCL weight sync and ZeroMQ chunks
// (rollout.weight_sync), on the CPU over real sockets (tcp on 127.0.0.1).
//  - the setting: parsed, checked by the experiment, "nccl" where an end
//    cannot take part is a configuration error naming the key;
//  - the learner (lsrv) with fake NCCL operations against DEALERs the test
//    plays: chunks when the learner has no NCCL source (the learner on the
//    CPU, a build without NCCL), when the setting is "zmq", when the worker
//    lacks the capability; the group (weight_group with rank, world and the
//    id, then weights_nccl announces and the broadcast) for a capable
//    worker; a failed broadcast, a failed init and a member's restart
//    dissolve the group (weight_group leave) and its members get chunks;
//  - the worker (stories260K on the CPU) with fake NCCL operations: offers
//    the capability only when it can and is allowed to, joins, installs a
//    broadcast version bit-exactly (checked against the announced XXH64),
//    refuses a bad checksum, leaves the group when a receive fails and then
//    takes chunks.
#include <pthread.h>  // pthread_create
#include <string.h>   // memcmp, strstr
#include <zmq.h>      // zmq_ctx_new

#include "actor/tokenizer.h"
#include "core/core.h"
#include "core/transport.h"
#include "core/wsync.h"
#include "learner/server.h"
#include "reward/reward.h"  // rlc_exp_defaults
#include "rollout/worker.h"
#include "test.h"

// ---- the setting --------------------------------------------------------------------

static void test_setting(void) {
    rlc_wsync_mode m;
    CHECK_OK(rlc_wsync_mode_parse("auto", &m));
    CHECK(m == RLC_WSYNC_AUTO);
    CHECK_OK(rlc_wsync_mode_parse("zmq", &m));
    CHECK(m == RLC_WSYNC_ZMQ);
    CHECK_OK(rlc_wsync_mode_parse("nccl", &m));
    CHECK(m == RLC_WSYNC_NCCL);
    CHECK(rlc_wsync_mode_parse("shm", &m) == RLC_ERR_CONFIG && strstr(rlc_last_error(), "rollout.weight_sync"));
    // the experiment checks it when loaded; the default is "auto"
    rlc_exp *e = NULL;
    CHECK_OK(rlc_exp_defaults(NULL, 0, &e));
    const char *v = NULL;
    if (e) CHECK_OK(rlc_exp_get_string(e, "rollout.weight_sync", &v));
    CHECK(v && strcmp(v, "auto") == 0);
    rlc_exp_free(e);
    const char *bad[] = {"rollout.weight_sync=\"ncl\""};
    e = NULL;
    CHECK(rlc_exp_defaults(bad, 1, &e) == RLC_ERR_CONFIG && strstr(rlc_last_error(), "rollout.weight_sync"));
    rlc_exp_free(e);

    // "nccl" where an end cannot: an error naming the key and the end; auto and zmq: chunks
    int use = 1;
    CHECK(rlc_wsync_check(RLC_WSYNC_NCCL, 0, "the learner trains on the CPU (model.device)", "learner", &use) ==
          RLC_ERR_CONFIG);
    CHECK(strstr(rlc_last_error(), "rollout.weight_sync") && strstr(rlc_last_error(), "learner") &&
          strstr(rlc_last_error(), "CPU"));
    CHECK(use == 0);
    CHECK_OK(rlc_wsync_check(RLC_WSYNC_AUTO, 0, "no NCCL", "learner", &use));
    CHECK(use == 0);
    CHECK_OK(rlc_wsync_check(RLC_WSYNC_AUTO, 1, NULL, "learner", &use));
    CHECK(use == 1);
    CHECK_OK(rlc_wsync_check(RLC_WSYNC_ZMQ, 1, NULL, "learner", &use));
    CHECK(use == 0);

    // the per-worker choice
    const char *with[] = {"weights.zmq", RLC_PROTO_CAP_NCCL_WEIGHTS}, *without[] = {"weights.zmq", "logprobs"};
    const char *why = NULL;
    CHECK(rlc_wsync_choose(RLC_WSYNC_AUTO, 1, with, 2, &why) == RLC_WSYNC_PATH_NCCL);
    CHECK(rlc_wsync_choose(RLC_WSYNC_NCCL, 1, with, 2, &why) == RLC_WSYNC_PATH_NCCL);
    CHECK(rlc_wsync_choose(RLC_WSYNC_AUTO, 1, without, 2, &why) == RLC_WSYNC_PATH_ZMQ && strstr(why, "advertise"));
    CHECK(rlc_wsync_choose(RLC_WSYNC_AUTO, 1, NULL, 0, &why) == RLC_WSYNC_PATH_ZMQ);
    CHECK(rlc_wsync_choose(RLC_WSYNC_ZMQ, 1, with, 2, &why) == RLC_WSYNC_PATH_ZMQ && strstr(why, "zmq"));
    CHECK(rlc_wsync_choose(RLC_WSYNC_AUTO, 0, with, 2, &why) == RLC_WSYNC_PATH_ZMQ && strstr(why, "learner"));
    CHECK(rlc_wsync_choose(RLC_WSYNC_NCCL, 0, with, 2, NULL) == RLC_WSYNC_PATH_ZMQ);
}

// ---- the learner against DEALERs the test plays -----------------------------------------

typedef struct {
    int make_ids, inits, broadcasts, leaves;
    int fail_init, fail_broadcast;  // the next init / broadcast fails
    int world;
    size_t bytes;
} fake_learner;

static const uint8_t fake_id[24] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static rlc_status fl_make_id(void *ctx, uint8_t *id, size_t cap, size_t *len) {
    fake_learner *f = ctx;
    f->make_ids++;
    CHECK(cap >= sizeof fake_id);
    memcpy(id, fake_id, sizeof fake_id);
    *len = sizeof fake_id;
    return RLC_OK;
}
static rlc_status fl_init(void *ctx, const uint8_t *id, size_t len, int world, int timeout_ms) {
    fake_learner *f = ctx;
    f->inits++;
    f->world = world;
    CHECK(len == sizeof fake_id && memcmp(id, fake_id, len) == 0 && timeout_ms > 0);
    if (f->fail_init) return rlc_errorf(RLC_ERR_LIMIT, "fake init: timed out");
    return RLC_OK;
}
static rlc_status fl_broadcast(void *ctx, size_t bytes, int timeout_ms) {
    fake_learner *f = ctx;
    (void)timeout_ms;
    f->broadcasts++;
    f->bytes = bytes;
    if (f->fail_broadcast) return rlc_errorf(RLC_ERR_CUDA, "fake broadcast: unhandled system error");
    return RLC_OK;
}
static void fl_leave(void *ctx) { ((fake_learner *)ctx)->leaves++; }
static const lsrv_nccl_ops fake_learner_ops = {fl_make_id, fl_init, fl_broadcast, fl_leave};

typedef struct {
    rlc_transport *tx;
    const char *id;
    int chunks, groups, leaves, announces;
    int64_t chunk_version, announce_version;  // the last ones seen
    uint32_t rank, world;
    uint64_t group;
} peer;

static void say_hello(peer *p, uint64_t session, int nccl) {
    static const char *caps_nccl[] = {"weights.zmq", RLC_PROTO_CAP_NCCL_WEIGHTS}, *caps_zmq[] = {"weights.zmq"};
    rlc_msg m = {.type = RLC_MSG_HELLO};
    m.hello = (rlc_msg_hello){.worker_id = p->id, .session = session, .device = nccl ? "cuda:0" : "cpu",
                              .capabilities = nccl ? caps_nccl : caps_zmq, .n_capabilities = nccl ? 2 : 1,
                              .max_credit = 1, .credit = 1, .policy_version = -1};
    CHECK_OK(rlc_transport_send(p->tx, NULL, &m));
}

// Drains what the learner sent to p (the server polled in between).
static void drain(lsrv *s, peer *ps, int n, double seconds) {
    double end = rlc_now() + seconds;
    while (rlc_now() < end) {
        CHECK_OK(lsrv_poll(s, 5, NULL, NULL));
        for (int i = 0; i < n; i++) {
            peer *p = &ps[i];
            const rlc_msg *m;
            const char *from;
            while (rlc_transport_recv(p->tx, 0, &m, &from) == RLC_OK && m) {
                if (m->type == RLC_MSG_WEIGHTS && m->weights.chunk_index == m->weights.chunk_count - 1) {
                    p->chunks++;
                    p->chunk_version = (int64_t)m->weights.policy_version;
                } else if (m->type == RLC_MSG_WEIGHT_GROUP && m->weight_group.world == 0) {
                    p->leaves++;
                    CHECK(m->weight_group.group == p->group);
                } else if (m->type == RLC_MSG_WEIGHT_GROUP) {
                    p->groups++;
                    p->rank = m->weight_group.rank, p->world = m->weight_group.world, p->group = m->weight_group.group;
                    CHECK(m->weight_group.n_nccl_id == sizeof fake_id &&
                          memcmp(m->weight_group.nccl_id, fake_id, sizeof fake_id) == 0);
                } else if (m->type == RLC_MSG_WEIGHTS_NCCL) {
                    p->announces++;
                    p->announce_version = (int64_t)m->weights_nccl.policy_version;
                    CHECK(m->weights_nccl.group == p->group && m->weights_nccl.has_xxh64);
                }
            }
        }
    }
}

// A learner with (nccl: the fake) or without an NCCL source, mode `mode`,
// and n workers; capable[i]: worker i offers the capability.
typedef struct {
    void *zctx;
    lsrv *s;
    peer p[2];
    int n;
    fake_learner f;
} rig;

static void rig_open(rig *r, int nccl, rlc_wsync_mode mode, int n, const int *capable) {
    memset(r, 0, sizeof *r);
    r->zctx = zmq_ctx_new();
    lsrv_config c = {.endpoint = "tcp://127.0.0.1:0", .zctx = r->zctx, .vocab_size = 512, .heartbeat_s = 0.2,
                     .timeout_s = 5, .weight_chunk_bytes = 64, .weight_sync = mode,
                     .nccl = nccl ? &fake_learner_ops : NULL, .nccl_ctx = &r->f};
    CHECK_OK(lsrv_create(&c, &r->s));
    rlc_proto_limits lim = rlc_proto_limits_default(512);
    static const char *ids[] = {"gpu-w", "cpu-w"};
    r->n = n;
    for (int i = 0; i < n; i++) {
        r->p[i].id = ids[i];
        CHECK_OK(rlc_transport_dealer_create(r->zctx, lsrv_endpoint(r->s), ids[i], &lim, NULL, &r->p[i].tx));
        say_hello(&r->p[i], 100 + (uint64_t)i, capable[i]);
    }
    drain(r->s, r->p, n, 0.3);
}

static void rig_close(rig *r) {
    for (int i = 0; i < r->n; i++) rlc_transport_free(r->p[i].tx);
    lsrv_free(r->s);
    zmq_ctx_term(r->zctx);
}

static float weights[64];

static void publish(rig *r, int64_t v) {
    weights[0] = (float)v;
    CHECK_OK(lsrv_publish(r->s, v, weights, sizeof weights));
    drain(r->s, r->p, r->n, 0.3);
}

static void test_learner_zmq_cases(void) {
    const int yes[] = {1, 1};
    struct {
        int nccl;
        rlc_wsync_mode mode;
        const int *capable;
        const char *what;
    } cases[] = {
        {0, RLC_WSYNC_AUTO, yes, "the learner has no NCCL source (on the CPU, or no NCCL in the build)"},
        {0, RLC_WSYNC_NCCL, yes, "no NCCL source, setting nccl (the learner refuses to start; the server alone)"},
        {1, RLC_WSYNC_ZMQ, yes, "the setting is zmq"},
        {1, RLC_WSYNC_AUTO, (const int[]){0, 0}, "the workers lack the capability"},
        {1, RLC_WSYNC_NCCL, (const int[]){0, 0}, "setting nccl, the workers lack the capability (a warning)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        rig r;
        rig_open(&r, cases[k].nccl, cases[k].mode, 2, cases[k].capable);
        publish(&r, 1);
        publish(&r, 2);
        for (int i = 0; i < 2; i++) {
            CHECK_MSG(r.p[i].chunks == 2 && r.p[i].chunk_version == 2 && r.p[i].groups == 0 && r.p[i].announces == 0,
                      "%s: worker %d: %d chunked versions (last %lld), %d invitations, %d announces", cases[k].what, i,
                      r.p[i].chunks, (long long)r.p[i].chunk_version, r.p[i].groups, r.p[i].announces);
            CHECK(lsrv_worker_path(r.s, r.p[i].id) == RLC_WSYNC_PATH_ZMQ);
        }
        CHECK_MSG(r.f.make_ids == 0 && r.f.inits == 0 && r.f.broadcasts == 0, "%s: NCCL was used", cases[k].what);
        lsrv_stats st;
        lsrv_get_stats(r.s, &st);
        CHECK(st.nccl_bytes == 0 && st.nccl_members == 0 && st.weight_bytes == 4 * sizeof weights);
        rig_close(&r);
    }
}

static void test_learner_group(void) {
    // one capable worker, one not: the first is rank 1 of 2, the second gets chunks
    rig r;
    rig_open(&r, 1, RLC_WSYNC_AUTO, 2, (const int[]){1, 0});
    publish(&r, 1);
    peer *g = &r.p[0], *c = &r.p[1];
    CHECK(r.f.make_ids == 1 && r.f.inits == 1 && r.f.world == 2 && r.f.broadcasts == 1 && r.f.bytes == sizeof weights);
    CHECK(g->groups == 1 && g->rank == 1 && g->world == 2 && g->group >= 1);
    CHECK(g->announces == 1 && g->announce_version == 1 && g->chunks == 0);
    CHECK(c->groups == 0 && c->announces == 0 && c->chunks == 1 && c->chunk_version == 1);
    CHECK(lsrv_worker_path(r.s, g->id) == RLC_WSYNC_PATH_NCCL && lsrv_worker_path(r.s, c->id) == RLC_WSYNC_PATH_ZMQ);
    CHECK(lsrv_worker_path(r.s, "nobody") == -1);
    publish(&r, 2);
    CHECK(r.f.inits == 1 && r.f.broadcasts == 2 && g->announces == 2 && g->announce_version == 2 && g->chunks == 0);
    lsrv_stats st;
    lsrv_get_stats(r.s, &st);
    CHECK(st.nccl_members == 1 && st.nccl_bytes == 2 * sizeof weights && st.weight_bytes == 2 * sizeof weights);

    // a failed broadcast: the group is dissolved, the member told to leave and sent v3 as chunks
    r.f.fail_broadcast = 1;
    publish(&r, 3);
    CHECK(r.f.broadcasts == 3 && r.f.leaves == 1 && g->leaves == 1 && g->chunks == 1 && g->chunk_version == 3);
    CHECK(lsrv_worker_path(r.s, g->id) == RLC_WSYNC_PATH_ZMQ);
    // formed once: later versions go as chunks, no new group
    r.f.fail_broadcast = 0;
    publish(&r, 4);
    CHECK(r.f.inits == 1 && r.f.broadcasts == 3 && g->groups == 1 && g->chunks == 2 && g->chunk_version == 4);
    lsrv_get_stats(r.s, &st);
    CHECK(st.nccl_failures == 1 && st.nccl_members == 0);
    rig_close(&r);

    // a failed init: leave, chunks
    rig_open(&r, 1, RLC_WSYNC_NCCL, 1, (const int[]){1});
    r.f.fail_init = 1;
    publish(&r, 1);
    CHECK(r.f.inits == 1 && r.f.broadcasts == 0 && r.f.leaves == 1);
    CHECK(r.p[0].groups == 1 && r.p[0].leaves == 1 && r.p[0].announces == 0 && r.p[0].chunks == 1);
    rig_close(&r);

    // a member restarts (a Hello of a new session): the group is dissolved before the next version
    rig_open(&r, 1, RLC_WSYNC_AUTO, 1, (const int[]){1});
    publish(&r, 1);
    CHECK(r.p[0].announces == 1 && r.p[0].chunks == 0);
    say_hello(&r.p[0], 999, 1);
    drain(r.s, r.p, 1, 0.3);
    CHECK(r.f.leaves == 1 && r.p[0].leaves == 1 && r.p[0].chunks == 1);  // v1 again: the new process has none
    publish(&r, 2);
    CHECK(r.f.broadcasts == 1 && r.p[0].announces == 1 && r.p[0].chunks == 2 && r.p[0].chunk_version == 2);
    rig_close(&r);

    // no capable worker at the first version: the group forms at a later one
    rig_open(&r, 1, RLC_WSYNC_AUTO, 1, (const int[]){0});
    publish(&r, 1);
    CHECK(r.f.make_ids == 0 && r.p[0].chunks == 1);
    say_hello(&r.p[0], 100, 1);  // the same process now offers it (e.g. after a reconnect)
    drain(r.s, r.p, 1, 0.2);  // (it reports no version: v1 comes again as chunks)
    publish(&r, 2);
    CHECK(r.f.inits == 1 && r.p[0].groups == 1 && r.p[0].announces == 1 && r.p[0].chunks == 2 &&
          r.p[0].chunk_version == 1);
    rig_close(&r);
}

// ---- the worker with fake NCCL operations -----------------------------------------------

typedef struct {
    volatile int inits, receives, installs, leaves;
    int rank, world;
    uint8_t id[32];
    size_t id_len;
    volatile int fail_receive;
    const float *source;  // what rank 0 "broadcasts"
    float *staging;       // (n) the worker's staging buffer
    size_t n;
} fake_worker;

static rlc_status fw_init(void *ctx, const uint8_t *id, size_t len, int rank, int world, int timeout_ms) {
    fake_worker *f = ctx;
    (void)timeout_ms;
    f->rank = rank, f->world = world;
    f->id_len = len < sizeof f->id ? len : sizeof f->id;
    memcpy(f->id, id, f->id_len);
    __atomic_add_fetch(&f->inits, 1, __ATOMIC_SEQ_CST);
    return RLC_OK;
}
static rlc_status fw_receive(void *ctx, size_t bytes, int timeout_ms) {
    fake_worker *f = ctx;
    (void)timeout_ms;
    __atomic_add_fetch(&f->receives, 1, __ATOMIC_SEQ_CST);
    if (f->fail_receive) return rlc_errorf(RLC_ERR_LIMIT, "fake receive: no completion within 10 ms");
    if (bytes != f->n * sizeof(float)) return rlc_errorf(RLC_ERR_ARG, "fake receive: %zu bytes", bytes);
    memcpy(f->staging, f->source, bytes);
    return RLC_OK;
}
static rlc_status fw_download(void *ctx, void *host, size_t bytes) {
    memcpy(host, ((fake_worker *)ctx)->staging, bytes);
    return RLC_OK;
}
static rlc_status fw_install(void *ctx) {
    __atomic_add_fetch(&((fake_worker *)ctx)->installs, 1, __ATOMIC_SEQ_CST);
    return RLC_OK;
}
static void fw_leave(void *ctx) { __atomic_add_fetch(&((fake_worker *)ctx)->leaves, 1, __ATOMIC_SEQ_CST); }
static const rollout_nccl_ops fake_worker_ops = {fw_init, fw_receive, fw_download, fw_install, fw_leave};

typedef struct {
    rollout_worker *w;
    rlc_status result;
} worker_thread;

static void *run_worker(void *arg) {
    worker_thread *t = arg;
    t->result = rollout_worker_run(t->w, NULL);
    return NULL;
}

static const char *reward_src = "function reward(s) return 1 end\n";

static rollout_worker_config worker_cfg(const char *endpoint, void *zctx, rlc_reward_func *fn) {
    rollout_worker_config cfg = {.endpoint = endpoint, .worker_id = "w-ws", .zctx = zctx, .max_credit = 1,
                                 .heartbeat_s = 0.05, .timeout_s = 5.0};
    cfg.engine = (rollout_config){.n_slots = 2, .max_seq = 64, .reward_threads = 1};
    cfg.engine.reward.funcs = fn;
    cfg.engine.reward.n_funcs = 1;
    return cfg;
}

// Waits for a message of `type` (a heartbeat: one reporting `version`).
static const rlc_msg *expect_msg(rlc_transport *r, rlc_msg_type type, int64_t version, double seconds) {
    double end = rlc_now() + seconds;
    while (rlc_now() < end) {
        const rlc_msg *m;
        const char *from;
        if (rlc_transport_recv(r, 20, &m, &from) != RLC_OK || !m || m->type != type) continue;
        if (type == RLC_MSG_HEARTBEAT && m->heartbeat.policy_version != version) continue;
        return m;
    }
    return NULL;
}

static int hello_offers_nccl(const rlc_msg *h) {
    for (uint32_t i = 0; h && i < h->hello.n_capabilities; i++)
        if (!strcmp(h->hello.capabilities[i], RLC_PROTO_CAP_NCCL_WEIGHTS)) return 1;
    return 0;
}

// Starts a worker with cfg on its thread (*wt, *th; the caller stops it) and
// returns whether its Hello offered NCCL.
static int hello_caps(actor_model *m, tok_tokenizer *tk, rlc_transport *router, rollout_worker_config *cfg,
                      worker_thread *wt, pthread_t *th) {
    memset(wt, 0, sizeof *wt);
    CHECK_OK(rollout_worker_create(m, tk, cfg, &wt->w));
    if (!wt->w) return -1;
    pthread_create(th, NULL, run_worker, wt);
    const rlc_msg *h = expect_msg(router, RLC_MSG_HELLO, 0, 5);
    CHECK(h != NULL);
    return hello_offers_nccl(h);
}

static void stop_worker(rlc_transport *router, worker_thread *wt, pthread_t th) {
    rlc_msg bye = {.type = RLC_MSG_SHUTDOWN};
    bye.shutdown.reason = "done";
    CHECK_OK(rlc_transport_send(router, "w-ws", &bye));
    pthread_join(th, NULL);
    CHECK_OK(wt->result);
}

static void test_worker(actor_model *m, tok_tokenizer *tk) {
    void *zctx = zmq_ctx_new();
    rlc_proto_limits limits = rlc_proto_limits_default(512);
    rlc_transport *router = NULL;
    CHECK_OK(rlc_transport_router_create(zctx, "tcp://127.0.0.1:0", &limits, NULL, &router));
    if (!router) return;
    rlc_reward_func fn = {.source = reward_src, .name = "one", .weight = 1};
    const char *ep = rlc_transport_endpoint(router);
    worker_thread wt;
    pthread_t th;
    rollout_worker *w = NULL;

    // on the CPU without an injected NCCL end: "nccl" is refused naming the key, "auto" offers nothing
    rollout_worker_config cfg = worker_cfg(ep, zctx, &fn);
    cfg.weight_sync = RLC_WSYNC_NCCL;
    CHECK(rollout_worker_create(m, tk, &cfg, &w) == RLC_ERR_CONFIG && !w);
    CHECK_MSG(strstr(rlc_last_error(), "rollout.weight_sync") && strstr(rlc_last_error(), "w-ws"), "%s",
              rlc_last_error());
    cfg.weight_sync = RLC_WSYNC_AUTO;
    CHECK(hello_caps(m, tk, router, &cfg, &wt, &th) == 0);
    stop_worker(router, &wt, th);
    rollout_worker_free(wt.w);

    // an NCCL end, but the setting is zmq: nothing offered
    fake_worker f = {0};
    actor_params *p = actor_model_params(m);
    f.n = p->numel;
    float *source = rlc_malloc(p->numel * sizeof(float)), *staging = rlc_malloc(p->numel * sizeof(float));
    float *orig = rlc_malloc(p->numel * sizeof(float));
    memcpy(orig, p->data, p->numel * sizeof(float));
    memcpy(source, p->data, p->numel * sizeof(float));
    source[3] = 0.125f, source[p->numel / 2] = -0.5f;  // a version that differs from the model's
    f.source = source, f.staging = staging;
    cfg.nccl = &fake_worker_ops, cfg.nccl_ctx = &f, cfg.nccl_verify = 1;
    cfg.weight_sync = RLC_WSYNC_ZMQ;
    CHECK(hello_caps(m, tk, router, &cfg, &wt, &th) == 0);
    stop_worker(router, &wt, th);
    rollout_worker_free(wt.w);

    // auto with an NCCL end: offered; invited, joins; v3 by broadcast lands bit-exactly
    cfg.weight_sync = RLC_WSYNC_AUTO;
    CHECK(hello_caps(m, tk, router, &cfg, &wt, &th) == 1);
    static const uint8_t id[] = {0xaa, 0xbb, 0xcc, 0xdd, 0x01};
    rlc_msg g = {.type = RLC_MSG_WEIGHT_GROUP};
    g.weight_group = (rlc_msg_weight_group){.group = 5, .rank = 1, .world = 2, .nccl_id = id, .n_nccl_id = sizeof id};
    CHECK_OK(rlc_transport_send(router, "w-ws", &g));
    size_t bytes = p->numel * sizeof(float);
    rlc_msg a = {.type = RLC_MSG_WEIGHTS_NCCL};
    a.weights_nccl = (rlc_msg_weights_nccl){.policy_version = 3, .group = 5, .total_bytes = bytes, .has_xxh64 = 1,
                                            .total_xxh64 = rlc_xxh64(source, bytes, 0)};
    CHECK_OK(rlc_transport_send(router, "w-ws", &a));
    CHECK_MSG(expect_msg(router, RLC_MSG_HEARTBEAT, 3, 5) != NULL, "the worker never reported version 3");
    CHECK(f.inits == 1 && f.rank == 1 && f.world == 2 && f.id_len == sizeof id && !memcmp(f.id, id, sizeof id));
    CHECK(f.receives == 1 && f.installs == 1);
    // the worker's thread has moved on (heartbeat after the swap): the host weights are the broadcast's
    size_t diff = 0;
    for (size_t i = 0; i < p->numel; i++) diff += memcmp(&actor_model_params(m)->data[i], &source[i], sizeof(float)) != 0;
    CHECK_MSG(diff == 0, "%zu of %zu floats differ from the broadcast", diff, p->numel);

    // v4 with a wrong checksum: received, not installed (still v3)
    a.weights_nccl.policy_version = 4, a.weights_nccl.total_xxh64 ^= 1;
    CHECK_OK(rlc_transport_send(router, "w-ws", &a));
    double end = rlc_now() + 5;
    while (f.receives < 2 && rlc_now() < end) expect_msg(router, RLC_MSG_HEARTBEAT, 3, 0.05);
    CHECK(expect_msg(router, RLC_MSG_HEARTBEAT, 3, 2) != NULL);
    CHECK(f.receives == 2 && f.installs == 1);
    // an announce for another group: ignored (no receive)
    a.weights_nccl.group = 6, a.weights_nccl.total_xxh64 ^= 1;
    CHECK_OK(rlc_transport_send(router, "w-ws", &a));
    // v5: the receive fails: the worker leaves the group and takes v5 as chunks
    f.fail_receive = 1;
    a.weights_nccl.group = 5, a.weights_nccl.policy_version = 5;
    CHECK_OK(rlc_transport_send(router, "w-ws", &a));
    end = rlc_now() + 5;
    while (f.leaves < 1 && rlc_now() < end) expect_msg(router, RLC_MSG_NONE, 0, 0.05);
    CHECK(f.receives == 3 && f.leaves == 1);
    uint32_t count = 1;
    uint64_t sum = rlc_xxh64(orig, bytes, 0);
    for (uint32_t i = 0; i < count; i++) {
        rlc_msg wm;
        CHECK_OK(rlc_proto_weights_chunk(&wm, 5, orig, bytes, bytes / 3 + 1, i, sum, &count));
        CHECK_OK(rlc_transport_send(router, "w-ws", &wm));
    }
    CHECK_MSG(expect_msg(router, RLC_MSG_HEARTBEAT, 5, 5) != NULL, "chunks after leaving the group: no version 5");
    // an announce outside a group: ignored
    a.weights_nccl.policy_version = 6;
    CHECK_OK(rlc_transport_send(router, "w-ws", &a));
    stop_worker(router, &wt, th);
    CHECK(f.receives == 3 && f.installs == 1);
    rollout_worker_stats st;
    rollout_worker_get_stats(wt.w, &st);
    CHECK(st.nccl_versions == 1 && st.nccl_failures == 2 && st.nccl_bytes == 2.0 * bytes && st.nccl_group == 0);
    CHECK(st.versions == 2 && st.bad_messages >= 2);
    CHECK(memcmp(actor_model_params(m)->data, orig, bytes) == 0);
    printf("worker: %lld versions by NCCL (%.0f bytes, %.4f s), %lld NCCL failures, %lld versions in all\n",
           st.nccl_versions, st.nccl_bytes, st.nccl_s, st.nccl_failures, st.versions);
    rollout_worker_free(wt.w);
    rlc_free(source);
    rlc_free(staging);
    rlc_free(orig);
    rlc_transport_free(router);
    zmq_ctx_term(zctx);
}

int main(void) {
    kernels_set_threads(1);
    rlc_log_set_level(RLC_LOG_WARN);  // the fallbacks are logged naming the workers
    test_setting();
    test_learner_zmq_cases();
    test_learner_group();
    char path[1024];
    actor_model *m = NULL;
    tok_tokenizer *tk = NULL;
    CHECK_OK(actor_model_load(test_data(path, sizeof path, "models/stories260K/stories260K.bin"), &m));
    CHECK_OK(tok_load(test_data(path, sizeof path, "models/stories260K/tok512.bin"), &tk));
    if (m && tk) test_worker(m, tk);
    tok_free(tk);
    actor_model_free(m);
    return test_finish("test_weight_sync");
}
