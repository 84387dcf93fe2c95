// rl_dp.c: the learner loop's data-parallel half (rl_dp.h): rank 0's
// commands (INIT, STEP, DONE) and the loop of the other ranks.
#include "rl_dp.h"

#include <string.h>  // memcpy, memset, strlen

#include "core/core.h"      // rlc_errorf, rlc_malloc, rlc_exp_*, rlc_expand_path
#include "core/protocol.h"  // rlc_proto_buf, rlc_msg_trajectory

enum { CMD_INIT = 1, CMD_STEP = 2, CMD_DONE = 3, CMD_VERSION = 2, CMD_HDR = 24, INIT_HEAD = 9 };
static const uint32_t ORDER_TAG = 0x01020304u;

// ---- writing ---------------------------------------------------------------------

typedef struct {
    rlc_proto_buf b;
    int nomem;
} writer;

static void put(writer *w, const void *p, size_t n) {
    size_t pad = (8 - n % 8) % 8;
    if (w->nomem || rlc_proto_buf_reserve(&w->b, n + pad) != RLC_OK) {
        w->nomem = 1;
        return;
    }
    if (n) memcpy(w->b.data + w->b.len, p, n);
    memset(w->b.data + w->b.len + n, 0, pad);
    w->b.len += n + pad;
}
static void put_u32x2(writer *w, uint32_t a, uint32_t b) {
    uint32_t v[2] = {a, b};
    put(w, v, sizeof v);
}

// The header, then the payload (both broadcast from rank 0).
static rlc_status send_cmd(lrn_dp *dp, int kind, void *payload, size_t len) {
    uint8_t h[CMD_HDR];
    uint16_t ver = CMD_VERSION, k = (uint16_t)kind;
    uint32_t zero = 0;
    uint64_t n = len;
    memcpy(h, "RLCS", 4);
    memcpy(h + 4, &ver, 2);
    memcpy(h + 6, &k, 2);
    memcpy(h + 8, &ORDER_TAG, 4);
    memcpy(h + 12, &zero, 4);
    memcpy(h + 16, &n, 8);
    RLC_TRY(lrn_dp_broadcast(dp, h, sizeof h, 1));
    return lrn_dp_broadcast(dp, payload, len, 0);
}

rlc_status rl_dp_send_done(lrn_dp *dp) { return send_cmd(dp, CMD_DONE, NULL, 0); }

// The critic's state (PPO; NULL members without one): the trunk's and the
// head's weights and AdamW moments, laid out as INIT sends them.
typedef struct {
    critic *cr;
    optim_adamw *opt, *head_opt;
    float *w, *head;
    size_t numel, head_numel;
} critic_view;

static critic_view critic_view_of(grpo_trainer *t) {
    critic_view c = {.cr = grpo_trainer_critic(t)};
    if (!c.cr) return c;
    c.opt = critic_optims(c.cr, &c.head_opt);
    c.w = actor_model_params(critic_model(c.cr))->data;
    c.numel = actor_model_params(critic_model(c.cr))->numel;
    c.head = critic_head(c.cr);
    c.head_numel = (size_t)actor_model_config(critic_model(c.cr))->hidden_size + 1;
    return c;
}

rlc_status rl_dp_send_init(lrn_dp *dp, grpo_trainer *t, actor_model *policy) {
    RLC_TRY(grpo_trainer_sync_host(t));  // on CUDA: AdamW's moments from the device
    optim_adamw *o = grpo_trainer_optim(t);
    actor_params *p = actor_model_params(policy);
    critic_view c = critic_view_of(t);
    int64_t head[INIT_HEAD] = {grpo_trainer_version(t), grpo_trainer_steps(t), optim_adamw_steps(o),
                               optim_adamw_skipped(o), (int64_t)p->numel, (int64_t)c.numel, (int64_t)c.head_numel,
                               c.cr ? optim_adamw_steps(c.opt) : 0, c.cr ? optim_adamw_skipped(c.opt) : 0};
    writer w = {0};
    put(&w, head, sizeof head);
    put(&w, p->data, p->numel * sizeof(float));
    put(&w, optim_adamw_m(o), p->numel * sizeof(float));
    put(&w, optim_adamw_v(o), p->numel * sizeof(float));
    if (c.cr) {
        put(&w, c.w, c.numel * sizeof(float));
        put(&w, optim_adamw_m(c.opt), c.numel * sizeof(float));
        put(&w, optim_adamw_v(c.opt), c.numel * sizeof(float));
        put(&w, c.head, c.head_numel * sizeof(float));
        put(&w, optim_adamw_m(c.head_opt), c.head_numel * sizeof(float));
        put(&w, optim_adamw_v(c.head_opt), c.head_numel * sizeof(float));
    }
    rlc_status s = w.nomem ? rlc_errorf(RLC_ERR_NOMEM, "data-parallel INIT of %zu parameters (critic: %zu)", p->numel,
                                        c.numel + c.head_numel)
                           : send_cmd(dp, CMD_INIT, w.b.data, w.b.len);
    rlc_proto_buf_free(&w.b);
    return s;
}

rlc_status rl_dp_send_step(lrn_dp *dp, const grpo_group *groups, int n, int64_t u) {
    writer w = {0};
    put(&w, &u, sizeof u);
    put_u32x2(&w, (uint32_t)n, 0);
    for (int g = 0; g < n; g++) {
        const grpo_group *gr = &groups[g];
        int32_t gh[2] = {gr->n, gr->base_n};
        double gs[2] = {gr->base_mean, gr->base_std};
        put(&w, gh, sizeof gh);
        put(&w, gs, sizeof gs);
        for (int i = 0; i < gr->n; i++) {
            const rlc_msg_trajectory *tr = &gr->trajs[i];
            uint32_t th[4] = {tr->n_prompt_tokens, tr->n_tokens, tr->n_components, 0};
            put(&w, th, sizeof th);
            put(&w, &tr->reward, sizeof tr->reward);
            put(&w, tr->prompt_tokens, tr->n_prompt_tokens * sizeof(int32_t));
            put(&w, tr->tokens, tr->n_tokens * sizeof(int32_t));
            put(&w, tr->logprobs, tr->n_tokens * sizeof(float));
            put(&w, tr->versions, tr->n_tokens * sizeof(int32_t));
            for (uint32_t k = 0; k < tr->n_components; k++) {
                const char *name = tr->components[k].name ? tr->components[k].name : "";
                put(&w, &tr->components[k].value, sizeof(double));
                put_u32x2(&w, (uint32_t)strlen(name) + 1, 0);
                put(&w, name, strlen(name) + 1);
            }
        }
    }
    rlc_status s = w.nomem ? rlc_errorf(RLC_ERR_NOMEM, "data-parallel STEP of %d groups", n)
                           : send_cmd(dp, CMD_STEP, w.b.data, w.b.len);
    rlc_proto_buf_free(&w.b);
    return s;
}

// ---- reading ----------------------------------------------------------------------

typedef struct {
    const uint8_t *p;
    size_t at, len;
    int bad;
} reader;

// n bytes (then the padding to 8) or NULL (and bad) past the end.
static const void *take(reader *r, size_t n) {
    size_t pad = (8 - n % 8) % 8;
    if (r->bad || n > r->len - r->at || n + pad > r->len - r->at) {
        r->bad = 1;
        return NULL;
    }
    const void *q = r->p + r->at;
    r->at += n + pad;
    return q;
}

typedef struct {
    grpo_group *groups;
    rlc_msg_trajectory *trajs;
    rlc_proto_component *comps;
    int n_groups;
    int64_t u;
} step_view;

static void step_view_free(step_view *v) {
    rlc_free(v->groups);
    rlc_free(v->trajs);
    rlc_free(v->comps);
    memset(v, 0, sizeof *v);
}

// Two passes over a STEP payload: count, then point into it (the arrays
// stay in the payload, which must outlive the view).
static rlc_status parse_step(const uint8_t *p, size_t len, step_view *v) {
    memset(v, 0, sizeof *v);
    long n_traj = 0, n_comp = 0;
    for (int pass = 0; pass < 2; pass++) {
        reader r = {p, 0, len, 0};
        const int64_t *u = take(&r, 8);
        const uint32_t *ng = take(&r, 8);
        if (r.bad) break;
        v->u = *u;
        v->n_groups = (int)ng[0];
        if (pass == 1) {
            v->groups = rlc_calloc((size_t)v->n_groups + 1, sizeof *v->groups);
            v->trajs = rlc_calloc((size_t)n_traj + 1, sizeof *v->trajs);
            v->comps = rlc_calloc((size_t)n_comp + 1, sizeof *v->comps);
            if (!v->groups || !v->trajs || !v->comps) {
                step_view_free(v);
                return rlc_errorf(RLC_ERR_NOMEM, "data-parallel STEP of %ld trajectories", n_traj);
            }
        }
        long ti = 0, ci = 0;
        for (int g = 0; g < v->n_groups && !r.bad; g++) {
            const int32_t *gh = take(&r, 8);
            const double *gs = take(&r, 16);
            if (r.bad || gh[0] < 0) {
                r.bad = 1;
                break;
            }
            if (pass == 1)
                v->groups[g] = (grpo_group){.trajs = v->trajs + ti, .n = gh[0], .base_n = gh[1], .base_mean = gs[0],
                                            .base_std = gs[1]};
            for (int i = 0; i < gh[0] && !r.bad; i++) {
                const uint32_t *th = take(&r, 16);
                const double *reward = take(&r, 8);
                if (r.bad) break;
                const int32_t *prompt = take(&r, (size_t)th[0] * 4), *tok = take(&r, (size_t)th[1] * 4);
                const float *lp = take(&r, (size_t)th[1] * 4);
                const int32_t *ver = take(&r, (size_t)th[1] * 4);
                if (pass == 1) {
                    rlc_msg_trajectory *tr = &v->trajs[ti];
                    tr->prompt_tokens = prompt, tr->n_prompt_tokens = th[0];
                    tr->tokens = tok, tr->logprobs = lp, tr->versions = ver, tr->n_tokens = th[1];
                    tr->reward = reward ? *reward : 0;
                    tr->components = v->comps + ci, tr->n_components = th[2];
                }
                for (uint32_t k = 0; k < th[2] && !r.bad; k++) {
                    const double *val = take(&r, 8);
                    const uint32_t *nl = take(&r, 8);
                    const char *name = r.bad ? NULL : take(&r, nl[0]);
                    if (r.bad || nl[0] == 0 || name[nl[0] - 1] != '\0') {
                        r.bad = 1;
                        break;
                    }
                    if (pass == 1) v->comps[ci] = (rlc_proto_component){.name = name, .value = *val};
                    ci++;
                }
                ti++;
            }
        }
        if (r.bad || r.at != len) {
            step_view_free(v);
            return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel STEP from rank 0: %zu bytes do not hold what they "
                              "announce (byte %zu)", len, r.at);
        }
        n_traj = ti, n_comp = ci;
    }
    return RLC_OK;
}

// The next command: its kind, and its payload (owned by the caller).
static rlc_status recv_cmd(lrn_dp *dp, int *kind, uint8_t **payload, size_t *len) {
    uint8_t h[CMD_HDR];
    *payload = NULL;
    *len = 0;
    RLC_TRY(lrn_dp_broadcast(dp, h, sizeof h, 1));
    uint16_t ver, k;
    uint32_t tag;
    uint64_t n;
    memcpy(&ver, h + 4, 2);
    memcpy(&k, h + 6, 2);
    memcpy(&tag, h + 8, 4);
    memcpy(&n, h + 16, 8);
    if (memcmp(h, "RLCS", 4) != 0 || ver != CMD_VERSION || tag != ORDER_TAG || k < CMD_INIT || k > CMD_DONE)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel command from rank 0: magic, version %u, byte order or kind "
                          "%u not understood: every rank must run the same rlc on the same architecture", ver, k);
    *kind = k;
    if (n == 0) return RLC_OK;
    *payload = rlc_malloc((size_t)n);
    if (!*payload) return rlc_errorf(RLC_ERR_NOMEM, "data-parallel command of %llu bytes", (unsigned long long)n);
    *len = (size_t)n;
    rlc_status s = lrn_dp_broadcast(dp, *payload, *len, 0);
    if (s != RLC_OK) {
        rlc_free(*payload);
        *payload = NULL;
    }
    return s;
}

static size_t padded(size_t n) { return n + (8 - n % 8) % 8; }

// Copies `bytes` of r into each of dst[0..n) in turn.
static void take_into(reader *r, float *const *dst, int n, size_t bytes) {
    for (int i = 0; i < n; i++) {
        const void *src = take(r, bytes);
        if (src) memcpy(dst[i], src, bytes);
    }
}

static rlc_status apply_init(grpo_trainer *t, actor_model *policy, const uint8_t *p, size_t len) {
    actor_params *ap = actor_model_params(policy);
    optim_adamw *o = grpo_trainer_optim(t);
    critic_view c = critic_view_of(t);
    reader r = {p, 0, len, 0};
    const int64_t *head = take(&r, INIT_HEAD * sizeof(int64_t));
    if (r.bad || head[4] != (int64_t)ap->numel)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel INIT: rank 0's model has %lld parameters, this rank's %zu "
                          "(the same model.path on every rank?)", r.bad ? -1LL : (long long)head[4], ap->numel);
    if (head[5] != (int64_t)c.numel || head[6] != (int64_t)c.head_numel)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel INIT: rank 0's critic has %lld + %lld parameters, this "
                          "rank's %zu + %zu (0: no critic; the same algorithm on every rank?)", (long long)head[5],
                          (long long)head[6], c.numel, c.head_numel);
    // check the length before anything is written
    size_t bytes = ap->numel * sizeof(float), cbytes = c.numel * sizeof(float), hbytes = c.head_numel * sizeof(float);
    size_t want = r.at + 3 * padded(bytes) + (c.cr ? 3 * padded(cbytes) + 3 * padded(hbytes) : 0);
    if (want != len) return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel INIT: %zu bytes, %zu expected", len, want);
    float *const pol[3] = {ap->data, optim_adamw_m(o), optim_adamw_v(o)};
    take_into(&r, pol, 3, bytes);
    optim_adamw_set_counts(o, (long)head[2], (long)head[3]);
    grpo_trainer_set_position(t, head[0], (long)head[1]);
    if (c.cr) {
        float *const trunk[3] = {c.w, optim_adamw_m(c.opt), optim_adamw_v(c.opt)};
        float *const hd[3] = {c.head, optim_adamw_m(c.head_opt), optim_adamw_v(c.head_opt)};
        take_into(&r, trunk, 3, cbytes);
        take_into(&r, hd, 3, hbytes);
        optim_adamw_set_counts(c.opt, (long)head[7], (long)head[8]);
        optim_adamw_set_counts(c.head_opt, (long)head[7], (long)head[8]);
        critic_zero_grad(c.cr);
    }
    if (r.bad || r.at != len) return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel INIT: %zu bytes, malformed", len);
    return grpo_trainer_reload(t);  // on CUDA: the weights and moments to the device
}

rlc_status rl_dp_recv_init(lrn_dp *dp, grpo_trainer *t, actor_model *policy) {
    int kind = 0;
    uint8_t *payload;
    size_t len;
    RLC_TRY(recv_cmd(dp, &kind, &payload, &len));
    rlc_status s = kind == CMD_INIT ? apply_init(t, policy, payload, len)
                                    : rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel group: rank 0 sent command %d "
                                                 "where INIT was due", kind);
    rlc_free(payload);
    return s;
}

// ---- the other ranks' loop ---------------------------------------------------------

static rlc_status serve(lrn_dp *dp, grpo_trainer *t, actor_model *policy) {
    RLC_TRY(rl_dp_recv_init(dp, t, policy));
    for (;;) {
        int kind = 0;
        uint8_t *payload;
        size_t len;
        RLC_TRY(recv_cmd(dp, &kind, &payload, &len));
        rlc_status s = RLC_OK;
        if (kind == CMD_DONE) {
            rlc_free(payload);
            return RLC_OK;
        } else if (kind == CMD_INIT) {
            s = apply_init(t, policy, payload, len);
        } else {
            step_view v;
            s = parse_step(payload, len, &v);
            if (s == RLC_OK) {
                grpo_stats st;
                s = grpo_step(t, v.groups, v.n_groups, v.u, &st);
                if (s == RLC_OK)
                    RLC_DEBUG("data-parallel rank %d: step to version %lld (loss %.6f)", lrn_dp_rank(dp),
                              (long long)st.version, st.loss);
                step_view_free(&v);
            }
        }
        rlc_free(payload);
        if (s != RLC_OK) return s;
    }
}

rlc_status rl_dp_serve(const rl_options *o) {
    rlc_exp *exp = NULL;
    actor_model *policy = NULL;
    grpo_trainer *t = NULL;
    lrn_dp *dp = NULL;
    // Join first: rank 0 waits for everybody while it loads its own state.
    rlc_status s = lrn_dp_create(o->dist, NULL, &dp);
    if (s == RLC_OK) s = rlc_exp_load(o->exp_path, o->overrides, o->n_overrides, &exp);
    const char *path = NULL;
    char buf[4096];
    if (s == RLC_OK) s = rlc_exp_get_string(exp, "model.path", &path);
    if (s == RLC_OK) s = actor_model_load(rlc_expand_path(path, buf, sizeof buf), &policy);
    grpo_config gc;
    grpo_config_default(&gc);
    if (s == RLC_OK) s = grpo_config_from_exp(exp, &gc);
    if (s == RLC_OK) s = grpo_trainer_create(policy, NULL, &gc, 0, &t);
    if (s == RLC_OK) s = grpo_trainer_set_dp(t, dp);
    if (s == RLC_OK) {
        RLC_INFO("learner: rank %d of %d: training only; rank 0 runs the rollouts", lrn_dp_rank(dp), lrn_dp_world(dp));
        s = serve(dp, t, policy);
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rlc_last_error());
    grpo_trainer_free(t);
    actor_model_free(policy);
    rlc_exp_free(exp);
    lrn_dp_free(dp);
    if (s != RLC_OK) rlc_errorf(s, "learner rank %d: %s", o->dist ? o->dist->rank : -1, msg);
    return s;
}
