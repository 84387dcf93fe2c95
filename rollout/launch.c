// launch.c: building rollout workers from an experiment's settings.
#include "launch.h"

#include <pthread.h>  // pthread_create
#include <string.h>   // strcmp
#include <unistd.h>   // gethostname, getpid

#include "actor/tokenizer.h"
#include "core/core.h"
#include "worker.h"

#define LAUNCH_MAX_FUNCS 16

// What one worker needs, read from the experiment.
typedef struct {
    char model_buf[4096], tok_buf[4096];
    const char *model_path, *tok_path;
    rlc_reward_func funcs[LAUNCH_MAX_FUNCS];
    rollout_worker_config cfg;
} worker_setup;

static rlc_status read_setup(const rlc_exp *e, const char *endpoint, worker_setup *ws) {
    memset(ws, 0, sizeof *ws);
    long long slots, credit, max_new, max_prompt, threads;
    double hb, to;
    RLC_TRY(rlc_exp_get_string(e, "model.path", &ws->model_path));
    RLC_TRY(rlc_exp_get_string(e, "model.tokenizer", &ws->tok_path));
    ws->model_path = rlc_expand_path(ws->model_path, ws->model_buf, sizeof ws->model_buf);
    ws->tok_path = rlc_expand_path(ws->tok_path, ws->tok_buf, sizeof ws->tok_buf);
    RLC_TRY(rlc_exp_get_int(e, "rollout.slots", &slots));
    RLC_TRY(rlc_exp_get_int(e, "rollout.max_credit", &credit));
    RLC_TRY(rlc_exp_get_int(e, "rollout.threads", &threads));
    RLC_TRY(rlc_exp_get_number(e, "rollout.heartbeat_s", &hb));
    RLC_TRY(rlc_exp_get_number(e, "rollout.timeout_s", &to));
    RLC_TRY(rlc_exp_get_int(e, "sampling.max_new_tokens", &max_new));
    RLC_TRY(rlc_exp_get_int(e, "data.max_prompt_tokens", &max_prompt));
    RLC_TRY(rlc_exp_reward_config(e, ws->funcs, LAUNCH_MAX_FUNCS, &ws->cfg.engine.reward));
    long long reward_threads;
    RLC_TRY(rlc_exp_get_int(e, "reward.threads", &reward_threads));
    ws->cfg.endpoint = endpoint;
    ws->cfg.max_credit = (int)credit;
    ws->cfg.heartbeat_s = hb;
    ws->cfg.timeout_s = to;
    ws->cfg.engine.n_slots = (int)slots;
    ws->cfg.engine.max_seq = (int)(max_prompt + max_new);
    ws->cfg.engine.reward_threads = (int)reward_threads;
    // model.device (checked when the experiment was loaded) and, on CUDA, model.dtype
    const char *dtype;
    RLC_TRY(rlc_exp_get_string(e, "model.device", &ws->cfg.device));
    RLC_TRY(rlc_exp_get_string(e, "model.dtype", &dtype));
    ws->cfg.gpu_bf16 = strcmp(dtype, "fp32") != 0;
    const char *sync;
    RLC_TRY(rlc_exp_get_string(e, "rollout.weight_sync", &sync));
    RLC_TRY(rlc_wsync_mode_parse(sync, &ws->cfg.weight_sync));
    if (threads > 0) kernels_set_threads((int)threads);
    return RLC_OK;
}

typedef struct {
    worker_setup ws;
    char id[64];
    actor_model *m;
    tok_tokenizer *tk;
    rollout_worker *w;
    pthread_t thread;
    int started;
    rlc_status result;
    char error[512];
} pool_worker;

struct rollout_pool {
    pool_worker *workers;
    int n;
};

static rlc_status worker_load(pool_worker *pw) {
    RLC_TRY(actor_model_load(pw->ws.model_path, &pw->m));
    RLC_TRY(tok_load(pw->ws.tok_path[0] ? pw->ws.tok_path : pw->ws.model_path, &pw->tk));
    pw->ws.cfg.worker_id = pw->id;
    return rollout_worker_create(pw->m, pw->tk, &pw->ws.cfg, &pw->w);
}

static void *worker_main(void *arg) {
    pool_worker *pw = arg;
    pw->result = rollout_worker_run(pw->w, NULL);
    if (pw->result != RLC_OK) {
        snprintf(pw->error, sizeof pw->error, "%s", rlc_last_error());
        RLC_ERROR("rollout worker %s: %s", pw->id, pw->error);
    }
    return NULL;
}

static void worker_free(pool_worker *pw) {
    rollout_worker_free(pw->w);
    tok_free(pw->tk);
    actor_model_free(pw->m);
}

rlc_status rollout_pool_start(const rlc_exp *exp, const char *endpoint, void *zctx, rlc_board *board,
                              rollout_pool **out) {
    *out = NULL;
    long long n;
    RLC_TRY(rlc_exp_get_int(exp, "rollout.workers", &n));
    if (n <= 0) return rlc_errorf(RLC_ERR_CONFIG, "rollout.workers must be at least 1 for rlc train");
    rollout_pool *p = rlc_calloc(1, sizeof *p);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "rollout pool");
    p->workers = rlc_calloc((size_t)n, sizeof(pool_worker));
    if (!p->workers) {
        rlc_free(p);
        return rlc_errorf(RLC_ERR_NOMEM, "rollout pool");
    }
    p->n = (int)n;
    rlc_status s = RLC_OK;
    for (int i = 0; s == RLC_OK && i < p->n; i++) {
        pool_worker *pw = &p->workers[i];
        snprintf(pw->id, sizeof pw->id, "local-%d", i);
        s = read_setup(exp, endpoint, &pw->ws);
        pw->ws.cfg.zctx = zctx;
        pw->ws.cfg.board = board;
        if (board) pw->ws.cfg.weight_sync = RLC_WSYNC_ZMQ;  // in-process: the board is the fastest path
        if (s == RLC_OK) s = worker_load(pw);
    }
    for (int i = 0; s == RLC_OK && i < p->n; i++) {
        pool_worker *pw = &p->workers[i];
        if (pthread_create(&pw->thread, NULL, worker_main, pw) != 0) s = rlc_errorf(RLC_ERR_STATE, "rollout: cannot start a thread");
        else pw->started = 1;
    }
    if (s != RLC_OK) {
        int running = 0;
        for (int i = 0; i < p->n; i++) running |= p->workers[i].started;
        if (running) {  // they stop when the learner shuts down; the caller joins them
            *out = p;
            return s;
        }
        for (int i = 0; i < p->n; i++) worker_free(&p->workers[i]);
        rlc_free(p->workers);
        rlc_free(p);
        return s;
    }
    *out = p;
    return RLC_OK;
}

void rollout_pool_join(rollout_pool *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        if (p->workers[i].started) pthread_join(p->workers[i].thread, NULL);
        worker_free(&p->workers[i]);
    }
    rlc_free(p->workers);
    rlc_free(p);
}

rlc_status rollout_serve(const rlc_exp *exp, const char *endpoint, const char *worker_id, const char *device,
                         volatile sig_atomic_t *stop) {
    pool_worker pw;
    memset(&pw, 0, sizeof pw);
    if (worker_id) {
        snprintf(pw.id, sizeof pw.id, "%s", worker_id);
    } else {
        char host[32] = "host";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = '\0';
        for (char *c = host; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-')) *c = '-';
        snprintf(pw.id, sizeof pw.id, "%s-%d", host, (int)getpid());
    }
    rlc_status s = read_setup(exp, endpoint, &pw.ws);
    if (device) pw.ws.cfg.device = device;  // --device: this worker's model.device
    if (s == RLC_OK) s = worker_load(&pw);
    if (s == RLC_OK) s = rollout_worker_run(pw.w, stop);
    worker_free(&pw);
    return s;
}
