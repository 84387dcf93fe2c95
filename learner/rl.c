// rl.c: the learner's loop (see rl.h). One thread: it tops up the prompts in
// flight, pumps the server, and when a batch of groups is ready runs the
// GRPO step, publishes, logs, evaluates and checkpoints.
#include "rl.h"

#include <math.h>    // fabs
#include <stdlib.h>  // qsort
#include <string.h>  // strcmp

#include "actor/chat.h"       // chat templates
#include "ada.h"              // Reinforce-Ada: ada_check, ada_select
#include "actor/model.h"      // actor_model
#include "actor/tokenizer.h"  // tok_*
#include "checkpoint.h"       // ckpt_*
#include "core/core.h"
#include "dataset.h"          // lrn_data
#include "eval.h"             // lrn_eval
#include "grpo.h"             // grpo_trainer
#include "rl_dp.h"            // data-parallel ranks: rl_dp_send_*, rl_dp_serve
#include "rl_pool.h"          // rl_pool: a prompt's trajectories
#include "server.h"           // lsrv
#include "wgroup.h"           // lrn_wgroup: the NCCL weight source

#define RL_MAX_STOPS 16
#define RL_MAX_FUNCS 16

typedef struct {
    uint64_t prompt_id;
    int source;
    size_t index;
    int ada;  // Reinforce-Ada: the prompt's slot in rl_state.ada; -1: a plain request
} flight;  // a request handed to the server, not yet back

typedef rl_pool ready_group;

// A rendered prompt, kept to send again (Reinforce-Ada's next round).
typedef struct {
    int *ids;
    size_t n_ids;
    char *text, *example, *answer;  // answer may be NULL
} rendered;

// Reinforce-Ada: a prompt still being sampled, round by round.
typedef struct {
    int used;
    size_t index;      // the record (source: pool.source)
    rendered req;
    ready_group pool;  // every sample drawn so far
    double *rewards;   // (cap) their rewards, for ada_check / ada_select
    int *keep;         // (group_size)
    int cap;
} ada_prompt;

typedef struct {
    const rl_options *opt;
    rlc_exp *exp;
    // settings
    char model_buf[4096], tok_buf[4096];
    const char *model_path, *tok_path, *out_dir, *prompt_key, *answer_key, *prompt_script, *template_name;
    long steps;
    int batch_prompts, group_size, max_staleness, max_prompt_tokens, dynamic_sampling, max_resample;
    ada_config ada_cfg;  // mode ADA_MODE_OFF: plain groups
    int log_every, save_every, keep;
    rlc_proto_sampling sampling;
    const char *stops[RL_MAX_STOPS];
    // objects
    actor_model *policy;
    tok_tokenizer *tk;
    chat_template *tpl;
    rlc_script *lua;  // prompt script
    int lua_id;
    rlc_script *curr;  // curriculum script (the same state as the prompt script when it is the same file)
    int curr_id, curr_every;
    const json_t *curr_params;  // curriculum.params (borrowed from exp)
    json_t *last_curr;          // the latest curriculum call: weights and info, on every metrics line
    lrn_data *data;
    lsrv *srv;
    rlc_board *board;
    lrn_wgroup *wgroup;  // NCCL weight sync to the workers (rollout.weight_sync); NULL: chunks only
    grpo_trainer *trainer;
    lrn_dp *dp;       // data-parallel ranks (rank 0 of them); NULL: alone
    // flow
    flight *flights;
    int n_flights, cap_flights;
    ready_group *ready;
    int n_ready, cap_ready;
    ada_prompt *ada;  // Reinforce-Ada's prompts being sampled (slots)
    int cap_ada;
    double *adv_buf;  // (cap_adv) grpo_group.adv_out of a step
    int cap_adv;
    uint64_t next_prompt_id;
    long resampled_this_step, filtered_this_step, skipped_prompts;
    FILE *metrics;
    long step;  // steps done (the trainer's count)
    // held-out evaluation: prompts rendered like the training prompts
    lrn_eval_example *eval_ex;
    char **eval_strings;  // (2 * n_eval) owned prompt and answer texts
    int n_eval, eval_every, eval_k, eval_max_new, eval_add_special;
    double eval_temperature;
    json_t *last_eval;    // the latest evaluation, added to the next metrics line
    double eval_pumped;   // when the evaluation last let the server run (rlc_now)
    json_t *final_eval;   // the evaluation after the last step
} rl_state;

// ---- settings -------------------------------------------------------------------

static rlc_status read_settings(rl_state *r) {
    rlc_exp *e = r->exp;
    long long v;
    double x;
    RLC_TRY(rlc_exp_get_string(e, "model.path", &r->model_path));
    RLC_TRY(rlc_exp_get_string(e, "model.tokenizer", &r->tok_path));
    r->model_path = rlc_expand_path(r->model_path, r->model_buf, sizeof r->model_buf);
    r->tok_path = rlc_expand_path(r->tok_path, r->tok_buf, sizeof r->tok_buf);
    RLC_TRY(rlc_exp_get_string(e, "output.dir", &r->out_dir));
    RLC_TRY(rlc_exp_get_string(e, "data.prompt_key", &r->prompt_key));
    RLC_TRY(rlc_exp_get_string(e, "data.answer_key", &r->answer_key));
    RLC_TRY(rlc_exp_get_string(e, "data.prompt_script", &r->prompt_script));
    RLC_TRY(rlc_exp_get_string(e, "data.chat_template", &r->template_name));
    RLC_TRY(rlc_exp_get_int(e, "data.max_prompt_tokens", &v));
    r->max_prompt_tokens = (int)v;
    RLC_TRY(rlc_exp_get_int(e, "algorithm.steps", &v));
    r->steps = v;
    RLC_TRY(rlc_exp_get_int(e, "algorithm.batch_prompts", &v));
    r->batch_prompts = (int)v;
    RLC_TRY(rlc_exp_get_int(e, "algorithm.group_size", &v));
    r->group_size = (int)v;
    RLC_TRY(rlc_exp_get_int(e, "algorithm.max_staleness", &v));
    r->max_staleness = (int)v;
    RLC_TRY(rlc_exp_get_bool(e, "algorithm.dynamic_sampling", &r->dynamic_sampling));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.max_resample", &v));
    r->max_resample = v > 0 ? (int)v : r->batch_prompts;
    RLC_TRY(rlc_exp_get_int(e, "output.log_every", &v));
    r->log_every = v > 0 ? (int)v : 1;
    RLC_TRY(rlc_exp_get_int(e, "output.save_every", &v));
    r->save_every = (int)v;
    RLC_TRY(rlc_exp_get_int(e, "output.keep_checkpoints", &v));
    r->keep = (int)v;
    RLC_TRY(rlc_exp_get_int(e, "sampling.max_new_tokens", &v));
    r->sampling.max_new_tokens = (uint32_t)v;
    RLC_TRY(rlc_exp_get_number(e, "sampling.temperature", &x));
    r->sampling.temperature = x;
    RLC_TRY(rlc_exp_get_number(e, "sampling.top_p", &x));
    r->sampling.top_p = x;
    RLC_TRY(rlc_exp_get_int(e, "sampling.top_k", &v));
    r->sampling.top_k = (int32_t)v;
    const json_t *stops;
    RLC_TRY(rlc_exp_get_json(e, "sampling.stop", &stops));
    for (size_t i = 0; i < json_array_size(stops); i++) {
        const char *st = json_string_value(json_array_get(stops, i));
        if (!st) return rlc_errorf(RLC_ERR_CONFIG, "sampling.stop[%zu] must be a string", i + 1);
        if (r->sampling.n_stop == RL_MAX_STOPS) return rlc_errorf(RLC_ERR_CONFIG, "sampling.stop: at most %d", RL_MAX_STOPS);
        r->stops[r->sampling.n_stop++] = st;
    }
    r->sampling.stop = r->stops;
    if (!r->model_path[0]) return rlc_errorf(RLC_ERR_CONFIG, "model.path is required (--set model.path=DIR)");
    if (r->batch_prompts <= 0 || r->group_size <= 0)
        return rlc_errorf(RLC_ERR_CONFIG, "algorithm.batch_prompts and algorithm.group_size must be positive");
    if (r->max_staleness < 0) return rlc_errorf(RLC_ERR_CONFIG, "algorithm.max_staleness must be >= 0");
    const char *ada_name;
    RLC_TRY(rlc_exp_get_string(e, "algorithm.adaptive_sampling", &ada_name));
    RLC_TRY(ada_mode_parse(ada_name, &r->ada_cfg.mode));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.ada_rounds", &v));
    r->ada_cfg.rounds = (int)v;
    RLC_TRY(rlc_exp_get_int(e, "algorithm.ada_samples_per_round", &v));
    r->ada_cfg.per_round = v > 0 ? (int)v : r->group_size;
    RLC_TRY(rlc_exp_get_number(e, "algorithm.ada_positive_threshold", &r->ada_cfg.threshold));
    r->ada_cfg.n = r->group_size;
    if (r->ada_cfg.mode != ADA_MODE_OFF) RLC_TRY(ada_config_check(&r->ada_cfg));
    return RLC_OK;
}

// ---- prompts --------------------------------------------------------------------

// Renders and tokenizes a record into *ids (caller frees) and *text.
static rlc_status render_prompt(rl_state *r, const json_t *rec, int **ids, size_t *n_ids, char **text) {
    *ids = NULL;
    *text = NULL;
    chat_message msgs[16];
    size_t n_msgs = 0;
    rlc_prompt_result pr = {0};
    const char *plain = NULL;
    if (r->lua) {
        rlc_script_error err;
        if (rlc_script_prompt(r->lua, r->lua_id, rec, &pr, &err) != RLC_SCRIPT_OK)
            return rlc_errorf(RLC_ERR_LUA, "prompt(example): %s", err.msg);
        if (pr.text) plain = pr.text;
        for (int i = 0; i < pr.n_messages && n_msgs < 16; i++)
            msgs[n_msgs++] = (chat_message){pr.messages[i].role, pr.messages[i].content};
    } else {
        const char *q = json_string_value(json_object_get(rec, r->prompt_key));
        if (!q) return rlc_errorf(RLC_ERR_FORMAT, "record has no string field \"%s\" (data.prompt_key)", r->prompt_key);
        if (r->tpl) msgs[n_msgs++] = (chat_message){"user", q};
        else plain = q;
    }
    rlc_status s = RLC_OK;
    size_t len = 0;
    if (plain) {
        *text = rlc_strdup(plain);
        if (!*text) s = rlc_errorf(RLC_ERR_NOMEM, "prompt");
        len = plain ? strlen(plain) : 0;
    } else if (n_msgs > 0) {
        chat_template *tpl = r->tpl;
        if (!tpl) s = chat_template_for(r->tk, NULL, &r->tpl), tpl = r->tpl;
        if (s == RLC_OK) s = chat_render(tpl, msgs, n_msgs, 1, text, &len);
    } else {
        s = rlc_errorf(RLC_ERR_LUA, "prompt(example) returned neither text nor messages");
    }
    if (s == RLC_OK) s = tok_encode(r->tk, *text, len, plain ? TOK_ENCODE_ADD_SPECIAL : 0, ids, n_ids);
    rlc_prompt_result_clear(&pr);
    if (s != RLC_OK) {
        rlc_free(*text);
        *text = NULL;
    }
    return s;
}

static rlc_status add_flight(rl_state *r, uint64_t id, int source, size_t index, int ada) {
    if (r->n_flights == r->cap_flights) {
        int cap = r->cap_flights ? 2 * r->cap_flights : 64;
        flight *grown = rlc_realloc(r->flights, sizeof(flight) * (size_t)cap);
        if (!grown) return rlc_errorf(RLC_ERR_NOMEM, "learner: prompts in flight");
        r->flights = grown;
        r->cap_flights = cap;
    }
    r->flights[r->n_flights++] = (flight){id, source, index, ada};
    return RLC_OK;
}

static void rendered_free(rendered *q) {
    rlc_free(q->ids);
    rlc_free(q->text);
    rlc_free(q->example);
    rlc_free(q->answer);
    memset(q, 0, sizeof *q);
}

// Renders record (src, idx) into q: RLC_OK, RLC_ERR_NOMEM, or another
// status for a record that cannot be a prompt (q is then empty).
static rlc_status render_request(rl_state *r, int src, size_t idx, rendered *q) {
    memset(q, 0, sizeof *q);
    const json_t *rec = lrn_data_record(r->data, src, idx);
    rlc_status s = render_prompt(r, rec, &q->ids, &q->n_ids, &q->text);
    if (s == RLC_OK && (q->n_ids == 0 || (int)q->n_ids > r->max_prompt_tokens))
        s = rlc_errorf(RLC_ERR_LIMIT, "prompt of %zu tokens (data.max_prompt_tokens %d)", q->n_ids, r->max_prompt_tokens);
    char *example = s == RLC_OK ? json_dumps(rec, JSON_COMPACT) : NULL;
    if (example) q->example = rlc_strdup(example);
    free(example);
    const json_t *ans = json_object_get(rec, r->answer_key);
    char numbuf[64];
    const char *answer = json_string_value(ans);
    if (!answer && json_is_number(ans)) {
        snprintf(numbuf, sizeof numbuf, "%.17g", json_number_value(ans));
        answer = numbuf;
    }
    if (s == RLC_OK && answer) q->answer = rlc_strdup(answer);
    if (s == RLC_OK && (!q->example || (answer && !q->answer))) s = rlc_errorf(RLC_ERR_NOMEM, "prompt");
    if (s != RLC_OK) rendered_free(q);
    return s;
}

// Hands q to the server as a request for n samples under a new prompt id
// (a fresh seed), and records the flight.
static rlc_status send_request(rl_state *r, const rendered *q, int n, int src, size_t idx, int ada, uint64_t *id_out) {
    rlc_proto_kv meta[3] = {{"prompt", q->text}, {"example", q->example}, {"answer", q->answer ? q->answer : ""}};
    uint64_t id = ++r->next_prompt_id;
    rlc_msg_prompt_request req = {.prompt_id = id, .tokens = q->ids, .n_tokens = (uint32_t)q->n_ids, .n = (uint32_t)n,
                                  .sampling = r->sampling, .metadata = meta, .n_metadata = q->answer ? 3 : 2};
    req.sampling.seed = id * 0x9E3779B97F4A7C15ull + 1;
    RLC_TRY(lsrv_submit(r->srv, &req));
    if (id_out) *id_out = id;
    return add_flight(r, id, src, idx, ada);
}

// A free Reinforce-Ada slot (grown when all are taken), or -1 when out of memory.
static int ada_slot(rl_state *r) {
    for (int i = 0; i < r->cap_ada; i++)
        if (!r->ada[i].used) return i;
    int cap = r->cap_ada ? 2 * r->cap_ada : 64;
    ada_prompt *grown = rlc_realloc(r->ada, sizeof(ada_prompt) * (size_t)cap);
    if (!grown) return -1;
    memset(grown + r->cap_ada, 0, sizeof(ada_prompt) * (size_t)(cap - r->cap_ada));
    r->ada = grown;
    int at = r->cap_ada;
    r->cap_ada = cap;
    return at;
}

static void ada_release(ada_prompt *a) {
    rendered_free(&a->req);
    rl_pool_free(&a->pool);
    rlc_free(a->rewards);
    rlc_free(a->keep);
    memset(a, 0, sizeof *a);
}

// Takes the next example, renders it and hands it to the server (with
// Reinforce-Ada: its first round). A prompt that cannot be rendered or is
// too long is skipped and counted.
static rlc_status submit_next(rl_state *r) {
    for (int tries = 0; tries < 100; tries++) {
        int src;
        size_t idx;
        lrn_data_next(r->data, &src, &idx);
        rendered q;
        rlc_status s = render_request(r, src, idx, &q);
        if (s == RLC_ERR_NOMEM) return s;
        if (s != RLC_OK) {
            if (s != RLC_ERR_LIMIT)
                RLC_WARN("learner: %s example %zu skipped: %s", lrn_data_source_name(r->data, src), idx, rlc_last_error());
            r->skipped_prompts++;
            continue;
        }
        if (r->ada_cfg.mode == ADA_MODE_OFF) {
            s = send_request(r, &q, r->group_size, src, idx, -1, NULL);
            rendered_free(&q);
            return s;
        }
        int slot = ada_slot(r);
        if (slot < 0) {
            rendered_free(&q);
            return rlc_errorf(RLC_ERR_NOMEM, "learner: Reinforce-Ada prompts");
        }
        ada_prompt *a = &r->ada[slot];
        a->used = 1;
        a->req = q;
        a->index = idx;
        a->pool.source = src;
        a->pool.rounds = 1;
        a->keep = rlc_malloc(sizeof(int) * (size_t)r->group_size);
        s = a->keep ? send_request(r, &a->req, r->ada_cfg.per_round, src, idx, slot, &a->pool.prompt_id)
                    : rlc_errorf(RLC_ERR_NOMEM, "learner: Reinforce-Ada prompts");
        if (s != RLC_OK) ada_release(a);
        return s;
    }
    return rlc_errorf(RLC_ERR_FORMAT, "learner: 100 examples in a row could not be used as prompts (see the warnings)");
}

// ---- groups -----------------------------------------------------------------------

static void ready_free(ready_group *g) { rl_pool_free(g); }

static int all_equal(const ready_group *g) {
    for (int i = 1; i < g->n; i++)
        if (g->trajs[i].reward != g->trajs[0].reward) return 0;
    return 1;
}

// A finished group (owned; moved into the ready list or freed): kept for the
// next step, or dropped by DAPO's filter and replaced by a new prompt.
static void group_done(rl_state *r, ready_group *d) {
    if (r->dynamic_sampling && all_equal(d)) {
        r->filtered_this_step++;
        if (d->source >= 0)
            for (int i = 0; i < d->n; i++) lrn_data_observe(r->data, d->source, d->trajs[i].reward >= 1.0, 0);
        rl_pool_free(d);
        if (r->resampled_this_step < r->max_resample) {
            r->resampled_this_step++;
            if (submit_next(r) != RLC_OK) RLC_WARN("learner: no replacement prompt: %s", rlc_last_error());
        }
        return;
    }
    if (r->n_ready == r->cap_ready) {
        int cap = r->cap_ready ? 2 * r->cap_ready : 64;
        ready_group *grown = rlc_realloc(r->ready, sizeof(ready_group) * (size_t)cap);
        if (!grown) {
            RLC_ERROR("learner: out of memory keeping group %llu", (unsigned long long)d->prompt_id);
            rl_pool_free(d);
            return;
        }
        r->ready = grown;
        r->cap_ready = cap;
    }
    r->ready[r->n_ready++] = *d;
    memset(d, 0, sizeof *d);
}

// Reinforce-Ada: a round of slot `slot` came back. Another round while the
// prompt is active; else the cut to group_size with the prompt's baseline.
static void ada_round_done(rl_state *r, int slot, const lsrv_group *g) {
    ada_prompt *a = &r->ada[slot];
    ready_group *p = &a->pool;
    if (rl_pool_append(p, g) != RLC_OK) {
        RLC_ERROR("learner: %s; Reinforce-Ada prompt %llu dropped", rlc_last_error(), (unsigned long long)p->prompt_id);
        ada_release(a);
        return;
    }
    if (p->n > a->cap) {
        double *grown = rlc_realloc(a->rewards, sizeof(double) * (size_t)p->cap);
        if (!grown) {
            RLC_ERROR("learner: out of memory; Reinforce-Ada prompt %llu dropped", (unsigned long long)p->prompt_id);
            ada_release(a);
            return;
        }
        a->rewards = grown;
        a->cap = p->cap;
    }
    for (int i = 0; i < p->n; i++) a->rewards[i] = p->trajs[i].reward;
    ada_state st = ada_check(&r->ada_cfg, a->rewards, p->n, p->rounds);
    if (st == ADA_ACTIVE) {
        rlc_status s = send_request(r, &a->req, r->ada_cfg.per_round, p->source, a->index, slot, NULL);
        if (s == RLC_OK) {
            p->rounds++;
            return;
        }
        RLC_WARN("learner: Reinforce-Ada round %d not sent (%s); the prompt ends here", p->rounds + 1, rlc_last_error());
    }
    ada_cut cut;
    if (ada_select(&r->ada_cfg, a->rewards, p->n, a->keep, &cut) != RLC_OK) {
        ada_release(a);
        return;
    }
    p->drawn = p->n;
    p->exited = st == ADA_EXITED;
    p->discarded = p->n - cut.n_keep;
    p->base_n = cut.base_n, p->base_mean = cut.base_mean, p->base_std = cut.base_std;
    rl_pool_cut(p, a->keep, cut.n_keep);
    ready_group done = *p;
    memset(p, 0, sizeof *p);
    ada_release(a);
    group_done(r, &done);
}

// A completed request from the server.
static void on_group(void *ud, const lsrv_group *g) {
    rl_state *r = ud;
    int source = -1, ada = -1;
    for (int i = 0; i < r->n_flights; i++)
        if (r->flights[i].prompt_id == g->prompt_id) {
            source = r->flights[i].source;
            ada = r->flights[i].ada;
            r->flights[i] = r->flights[--r->n_flights];
            break;
        }
    if (ada >= 0) {
        ada_round_done(r, ada, g);
        return;
    }
    ready_group d = {.prompt_id = g->prompt_id, .source = source};
    if (rl_pool_append(&d, g) != RLC_OK) {
        RLC_ERROR("%s", rlc_last_error());
        rl_pool_free(&d);
        return;
    }
    group_done(r, &d);
}

// ---- metrics --------------------------------------------------------------------

// Reinforce-Ada's counts over the groups of a step.
typedef struct {
    long drawn, discarded, rounds, exited, fallback;
    int rounds_max;
} ada_step;

static void write_metrics(rl_state *r, const grpo_stats *st, double wait_s, double step_s, double publish_s,
                          const lsrv_stats *ss, long long gen_tokens, double gen_s, const ada_step *ada) {
    json_t *hist = json_object();
    for (int i = 0; i < GRPO_STALE_BINS; i++) {
        if (!st->staleness[i]) continue;
        char k[8];
        snprintf(k, sizeof k, "%d", i);
        json_object_set_new(hist, k, json_integer(st->staleness[i]));
    }
    json_t *line = json_pack(
        "{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:o, s:I, s:I, s:I, s:I,"
        " s:f, s:f, s:{s:f, s:f, s:f, s:f, s:f}, s:f, s:f, s:I, s:I}",
        "step", (json_int_t)r->step, "version", (json_int_t)st->version, "reward_mean", st->reward_mean, "reward_std",
        st->reward_std, "accuracy", st->accuracy, "kl", st->kl, "entropy", st->entropy, "clipfrac", st->clipfrac,
        "approx_kl", st->approx_kl, "adv_mean", st->adv_mean, "adv_std", st->adv_std, "adv_absmax", st->adv_absmax,
        "resp_len_mean", st->resp_len_mean, "resp_len_max", (json_int_t)st->resp_len_max, "loss", st->loss,
        "grad_norm", st->grad_norm, "lr", st->lr, "staleness", hist, "dropped_stale", (json_int_t)st->dropped_stale,
        "filtered_groups", (json_int_t)(st->filtered_groups + r->filtered_this_step), "trajectories",
        (json_int_t)st->trajectories, "train_tokens", (json_int_t)st->train_tokens, "gen_tokens_per_s",
        gen_s > 0 ? gen_tokens / gen_s : 0.0, "train_tokens_per_s", st->tokens_per_s, "time", "wait", wait_s,
        "reference", st->ref_s, "proximal", st->prox_s, "training", st->train_s, "weight_sync", publish_s,
        "step_s", step_s, "weight_sync_bytes", ss->weight_bytes, "workers", (json_int_t)ss->workers_alive,
        "reissued", (json_int_t)ss->reissued);
    if (!line) return;
    // weight sync per path: weight_sync_bytes above is ZeroMQ chunks (or the board), these the NCCL broadcasts
    json_object_set_new(line, "weight_sync_nccl_bytes", json_real(ss->nccl_bytes));
    json_object_set_new(line, "weight_sync_nccl_s", json_real(ss->nccl_s));
    json_object_set_new(line, "weight_sync_nccl_workers", json_integer(ss->nccl_members));
    if (grpo_trainer_critic(r->trainer)) {
        json_t *vf = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "vf_loss", st->vf_loss, "vf_clipfrac", st->vf_clipfrac,
                               "values_mean", st->values_mean, "returns_mean", st->returns_mean, "vf_explained_var",
                               st->vf_explained_var, "critic_grad_norm", st->critic_grad_norm);
        if (vf) json_object_update(line, vf);
        json_decref(vf);
        json_object_set_new(json_object_get(line, "time"), "critic", json_real(st->critic_s));
    }
    // the algorithms' own (0 when off): DAPO's overlong penalty, GSPO's sequence ratio
    json_object_set_new(line, "overlong_mean", json_real(st->overlong_mean));
    json_object_set_new(line, "overlong_frac", json_real(st->overlong_frac));
    json_object_set_new(line, "seq_ratio", json_real(st->seq_ratio));
    if (r->ada_cfg.mode != ADA_MODE_OFF)
        json_object_set_new(line, "ada", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "samples", (json_int_t)ada->drawn,
                                                   "discarded", (json_int_t)ada->discarded, "rounds",
                                                   (json_int_t)ada->rounds, "rounds_max", (json_int_t)ada->rounds_max,
                                                   "exited", (json_int_t)ada->exited, "fallback",
                                                   (json_int_t)ada->fallback));
    if (r->last_curr) json_object_set(line, "curriculum", r->last_curr);
    if (r->last_eval) {
        json_object_set(line, "eval", r->last_eval);
        json_decref(r->last_eval);
        r->last_eval = NULL;
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (text && r->metrics) {
        fprintf(r->metrics, "%s\n", text);
        fflush(r->metrics);
    }
    free(text);
    json_decref(line);
}

// ---- evaluation -------------------------------------------------------------------

// The reference answer of a record: a string (for GSM8K's worked answers, the
// part after the last "####") or a number.
static char *record_answer(const json_t *rec, const char *key) {
    const json_t *a = json_object_get(rec, key);
    char buf[64];
    const char *text = json_string_value(a);
    if (!text && json_is_number(a)) {
        snprintf(buf, sizeof buf, "%.17g", json_number_value(a));
        text = buf;
    }
    if (!text) return NULL;
    const char *hash = NULL;
    for (const char *p = strstr(text, "####"); p; p = strstr(p + 4, "####")) hash = p;
    if (hash) {
        hash += 4;
        while (*hash == ' ') hash++;
        return rlc_strdup(hash);
    }
    return rlc_strdup(text);
}

static rlc_status eval_load(rl_state *r) {
    const char *path;
    long long n, k, max_new, every;
    double temp;
    RLC_TRY(rlc_exp_get_string(r->exp, "eval.path", &path));
    RLC_TRY(rlc_exp_get_int(r->exp, "eval.n", &n));
    RLC_TRY(rlc_exp_get_int(r->exp, "eval.k", &k));
    RLC_TRY(rlc_exp_get_int(r->exp, "eval.max_new_tokens", &max_new));
    RLC_TRY(rlc_exp_get_number(r->exp, "eval.temperature", &temp));
    RLC_TRY(rlc_exp_get_int(r->exp, "output.eval_every", &every));
    if (!path[0]) return RLC_OK;
    r->eval_every = (int)every;
    r->eval_k = k > 0 ? (int)k : 1;
    r->eval_max_new = max_new > 0 ? (int)max_new : (int)r->sampling.max_new_tokens;
    r->eval_temperature = temp;
    char full[4096];
    lrn_data *d;
    RLC_TRY(lrn_data_load_file(rlc_expand_path(path, full, sizeof full), &d));
    size_t count = lrn_data_count(d, 0);
    int want = n > 0 && (size_t)n < count ? (int)n : (int)count;
    r->eval_ex = rlc_calloc((size_t)want, sizeof(lrn_eval_example));
    r->eval_strings = rlc_calloc((size_t)want * 2, sizeof(char *));
    rlc_status s = r->eval_ex && r->eval_strings ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "eval set");
    r->eval_add_special = 1;
    for (int i = 0; s == RLC_OK && i < want; i++) {
        const json_t *rec = lrn_data_record(d, 0, (size_t)i);
        int *ids;
        size_t n_ids;
        char *text;
        s = render_prompt(r, rec, &ids, &n_ids, &text);
        rlc_free(ids);
        if (s != RLC_OK) {
            s = rlc_error_wrap(s, "%s record %d", full, i + 1);
            break;
        }
        char *answer = record_answer(rec, r->answer_key);
        if (!answer) {
            rlc_free(text);
            s = rlc_errorf(RLC_ERR_FORMAT, "%s record %d: no answer in \"%s\" (data.answer_key)", full, i + 1, r->answer_key);
            break;
        }
        r->eval_strings[2 * i] = text;
        r->eval_strings[2 * i + 1] = answer;
        r->eval_ex[i] = (lrn_eval_example){text, answer};
        r->n_eval = i + 1;
    }
    // Chat-rendered prompts carry their special tokens already.
    r->eval_add_special = !(r->tpl || (r->lua && r->n_eval > 0 && strstr(r->eval_ex[0].prompt, "<|")));
    lrn_data_free(d);
    return s;
}

// Called for every graded completion of an evaluation: lets the server
// answer heartbeats and take trajectories at most every 0.2 s, so that an
// evaluation longer than rollout.timeout_s does not make the workers give up
// on the learner (and their results wait in the ready queue as usual).
static void eval_pump(void *ud, int example, int sample, const char *completion, int n_tokens, int correct,
                      actor_finish finish) {
    (void)example, (void)sample, (void)completion, (void)n_tokens, (void)correct, (void)finish;
    rl_state *r = ud;
    double now = rlc_now();
    lrn_dp_ping(r->dp);
    if (!r->srv || now - r->eval_pumped < 0.2) return;
    r->eval_pumped = now;
    if (lsrv_poll(r->srv, 0, on_group, r) != RLC_OK) RLC_WARN("learner: during the evaluation: %s", rlc_last_error());
}

static rlc_status run_eval(rl_state *r, const char *when) {
    if (r->n_eval == 0) return RLC_OK;
    lrn_eval_options o;
    lrn_eval_options_default(&o);
    o.batch = 64;
    o.max_new_tokens = r->eval_max_new;
    o.temperature = (float)r->eval_temperature;
    o.n_samples = r->eval_temperature > 0 ? r->eval_k : 1;
    o.k = r->eval_temperature > 0 ? r->eval_k : 1;
    o.add_special = r->eval_add_special;
    o.on_sample = eval_pump;
    o.ud = r;
    r->eval_pumped = rlc_now();
    lrn_eval_result res;
    RLC_TRY(lrn_eval(r->policy, r->tk, r->eval_ex, r->n_eval, &o, &res));
    if (r->last_eval) json_decref(r->last_eval);
    char key[32];
    snprintf(key, sizeof key, "pass@%d", o.k);
    r->last_eval = json_pack("{s:f, s:f, s:I, s:f}", "pass@1", res.pass1, "mean_len", res.mean_len, "n",
                             (json_int_t)res.n_examples, "seconds", res.seconds);
    if (o.k > 1) json_object_set_new(r->last_eval, key, json_real(res.pass_k));
    RLC_INFO("eval (%s, step %ld): pass@1 %.4f on %d held-out examples%s (%.1f s)", when, r->step, res.pass1,
             res.n_examples, o.temperature > 0 ? " (sampled)" : " (greedy)", res.seconds);
    return RLC_OK;
}

// ---- curriculum ---------------------------------------------------------------------

// Asks curriculum(state) for the sources' weights. A script failure keeps the
// previous weights (logged); the run goes on.
static void apply_curriculum(rl_state *r) {
    int n = lrn_data_sources(r->data);
    rlc_curriculum_source src[n];
    for (int i = 0; i < n; i++) {
        src[i].name = lrn_data_source_name(r->data, i);
        lrn_data_stats(r->data, i, &src[i].count, &src[i].accuracy, &src[i].mean_abs_adv, &src[i].seen, &src[i].correct);
    }
    rlc_curriculum_state st = {.step = r->step, .sources = src, .n_sources = n, .params = r->curr_params};
    rlc_curriculum_result res = {0};
    rlc_script_error err;
    if (rlc_script_curriculum(r->curr, r->curr_id, &st, &res, &err) != RLC_SCRIPT_OK) {
        RLC_WARN("learner: curriculum(state) failed at step %ld: %s; weights unchanged", r->step, err.msg);
        return;
    }
    if (res.weights && lrn_data_set_weights(r->data, res.weights) != RLC_OK) {
        RLC_WARN("learner: curriculum weights refused: %s", rlc_last_error());
    } else {  // for the log: the weights as probabilities, and the script's numbers
        json_t *c = json_pack("{s:I}", "step", (json_int_t)r->step);
        if (c && res.weights) {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += res.weights[i];
            json_t *w = json_object();
            for (int i = 0; w && i < n; i++) json_object_set_new(w, src[i].name, json_real(res.weights[i] / sum));
            json_object_set_new(c, "weights", w);
        }
        for (int i = 0; c && i < res.n_info; i++) json_object_set_new(c, res.info[i].name, json_real(res.info[i].value));
        if (c) {
            if (r->last_curr) json_decref(r->last_curr);
            r->last_curr = c;
        }
    }
    rlc_curriculum_result_clear(&res);
}

// ---- setup ------------------------------------------------------------------------

static rlc_status setup(rl_state *r) {
    RLC_TRY(read_settings(r));
    RLC_TRY(actor_model_load(r->model_path, &r->policy));
    RLC_TRY(tok_load(r->tok_path[0] ? r->tok_path : r->model_path, &r->tk));
    if (r->template_name[0]) RLC_TRY(chat_template_from_name(r->template_name, &r->tpl));
    if (r->prompt_script[0]) {
        RLC_TRY(rlc_script_create(NULL, &r->lua));
        RLC_TRY(rlc_script_load_file(r->lua, r->prompt_script, &r->lua_id));
        if (!rlc_script_defines(r->lua, r->lua_id, "prompt"))
            return rlc_errorf(RLC_ERR_CONFIG, "%s: data.prompt_script defines no prompt(example)", r->prompt_script);
    }
    const json_t *sources;
    long long seed, window;
    int shuffle;
    RLC_TRY(rlc_exp_get_json(r->exp, "data.sources", &sources));
    RLC_TRY(rlc_exp_get_int(r->exp, "data.seed", &seed));
    RLC_TRY(rlc_exp_get_bool(r->exp, "data.shuffle", &shuffle));
    RLC_TRY(rlc_exp_get_int(r->exp, "curriculum.window", &window));
    RLC_TRY(lrn_data_load(sources, (uint64_t)seed, shuffle, (int)window, &r->data));
    const char *curr_path;
    long long every;
    RLC_TRY(rlc_exp_get_string(r->exp, "curriculum.script", &curr_path));
    RLC_TRY(rlc_exp_get_int(r->exp, "curriculum.every", &every));
    r->curr_every = every > 0 ? (int)every : 1;
    RLC_TRY(rlc_exp_get_json(r->exp, "curriculum.params", &r->curr_params));
    if (curr_path[0]) {
        // One Lua state for prompt() and curriculum() of the same file, so
        // that they share its `store` (reverse.lua keeps its stage there).
        if (r->lua && strcmp(curr_path, r->prompt_script) == 0) {
            r->curr = r->lua;
            r->curr_id = r->lua_id;
        } else {
            RLC_TRY(rlc_script_create(NULL, &r->curr));
            RLC_TRY(rlc_script_load_file(r->curr, curr_path, &r->curr_id));
        }
        if (!rlc_script_defines(r->curr, r->curr_id, "curriculum"))
            return rlc_errorf(RLC_ERR_CONFIG, "%s: curriculum.script defines no curriculum(state)", curr_path);
    }
    grpo_config gc;
    grpo_config_default(&gc);
    RLC_TRY(grpo_config_from_exp(r->exp, &gc));
    RLC_TRY(grpo_trainer_create(r->policy, NULL, &gc, 0, &r->trainer));
    RLC_TRY(grpo_trainer_set_dp(r->trainer, r->dp));
    RLC_TRY(ckpt_make_dirs(r->out_dir));
    RLC_TRY(eval_load(r));
    return RLC_OK;
}

static rlc_status start_server(rl_state *r) {
    const char *endpoint;
    double hb, to;
    RLC_TRY(rlc_exp_get_string(r->exp, "rollout.endpoint", &endpoint));
    RLC_TRY(rlc_exp_get_number(r->exp, "rollout.heartbeat_s", &hb));
    RLC_TRY(rlc_exp_get_number(r->exp, "rollout.timeout_s", &to));
    if (r->opt->endpoint) endpoint = r->opt->endpoint;
    actor_params *p = actor_model_params(r->policy);
    if (r->opt->spawn) RLC_TRY(rlc_board_create(p->numel * sizeof(float), &r->board));
    const char *ws_value;
    rlc_wsync_mode ws;
    RLC_TRY(rlc_exp_get_string(r->exp, "rollout.weight_sync", &ws_value));
    RLC_TRY(rlc_wsync_mode_parse(ws_value, &ws));
    if (r->board && ws == RLC_WSYNC_NCCL)
        RLC_WARN("learner: rollout.weight_sync = \"nccl\" has no effect in rlc train: its workers share the process "
                 "and take the weights from the in-process board");
    if (!r->board && ws != RLC_WSYNC_ZMQ) {  // the learner's side of NCCL weight sync, where it can be
        rlc_status cs = lrn_wgroup_create(r->trainer, &r->wgroup);
        if (cs == RLC_ERR_NOMEM) return cs;
        char why[512];
        snprintf(why, sizeof why, "%s", cs == RLC_OK ? "" : rlc_last_error());
        int use;
        RLC_TRY(rlc_wsync_check(ws, cs == RLC_OK, why, "learner", &use));
        if (!use) RLC_INFO("learner: weights go to the workers as ZeroMQ chunks: %s", why);
    }
    lsrv_config sc = {.endpoint = endpoint, .vocab_size = (uint32_t)actor_model_config(r->policy)->vocab_size,
                      .heartbeat_s = hb, .timeout_s = to, .board = r->board, .weight_sync = ws,
                      .nccl = r->wgroup ? lrn_wgroup_ops() : NULL, .nccl_ctx = r->wgroup};
    RLC_TRY(lsrv_create(&sc, &r->srv));
    RLC_INFO("learner: listening on %s", lsrv_endpoint(r->srv));
    return RLC_OK;
}

static rlc_status resume(rl_state *r) {
    char dir[4096];
    long step;
    RLC_TRY(ckpt_latest(r->out_dir, dir, sizeof dir, &step));
    if (step < 0) {
        RLC_INFO("learner: nothing to resume in %s; starting fresh", r->out_dir);
        return RLC_OK;
    }
    json_t *state = NULL;
    RLC_TRY(ckpt_load(dir, actor_model_config(r->policy), actor_model_params(r->policy), grpo_trainer_optim(r->trainer), &state));
    rlc_status ls = grpo_trainer_reload(r->trainer);  // model.device cuda: the restored weights to the GPU
    if (ls != RLC_OK) {
        json_decref(state);
        return ls;
    }
    critic *cr = grpo_trainer_critic(r->trainer);
    char cdir[4096];
    rlc_status cs = cr ? rlc_path_join(cdir, sizeof cdir, dir, "critic") : RLC_OK;
    if (cs == RLC_OK && cr) cs = critic_load(cr, cdir);
    if (cs != RLC_OK) {
        json_decref(state);
        return rlc_error_wrap(cs, "resuming PPO's critic from %s", dir);
    }
    // the policy's version is "policy_version"; "version" is the file format's (checkpoint.h): older
    // checkpoints saved the policy's under that name, where the format's overwrote it
    json_t *v = json_object_get(state, "policy_version");
    if (!v) v = json_object_get(state, "version");
    json_t *data = json_object_get(state, "data"),
           *pid = json_object_get(state, "next_prompt_id");
    rlc_status s = RLC_OK;
    if (!json_is_integer(v)) s = rlc_errorf(RLC_ERR_FORMAT, "%s/trainer_state.json: no \"policy_version\"", dir);
    if (s == RLC_OK && data) s = lrn_data_restore(r->data, data);
    if (s == RLC_OK) {
        grpo_trainer_set_position(r->trainer, json_integer_value(v), step);
        r->step = step;
        r->next_prompt_id = json_is_integer(pid) ? (uint64_t)json_integer_value(pid) : 0;
        RLC_INFO("learner: resumed from %s (step %ld, version %lld)", dir, step, (long long)json_integer_value(v));
    }
    json_decref(state);
    return s;
}

// The critic's folder inside the checkpoint being written (PPO).
static rlc_status save_critic(void *ud, const char *dir) {
    char f[4096];
    RLC_TRY(rlc_path_join(f, sizeof f, dir, "critic"));
    return critic_save(ud, f);
}

static rlc_status save(rl_state *r) {
    RLC_TRY(grpo_trainer_sync_host(r->trainer));  // model.device cuda: AdamW's moments from the GPU
    json_t *state = json_pack("{s:I, s:o, s:I}", "policy_version", (json_int_t)grpo_trainer_version(r->trainer), "data",
                              lrn_data_state(r->data), "next_prompt_id", (json_int_t)r->next_prompt_id);
    ckpt_save_args a = {.run_dir = r->out_dir, .step = r->step, .params = actor_model_params(r->policy),
                        .config = actor_model_config(r->policy), .model_dir = r->model_path,
                        .tokenizer_path = r->tok_path[0] ? r->tok_path : NULL,
                        .optim = grpo_trainer_optim(r->trainer), .trainer_state = state, .keep_last = r->keep,
                        .write_extra = grpo_trainer_critic(r->trainer) ? save_critic : NULL,
                        .extra_ud = grpo_trainer_critic(r->trainer)};
    char dir[4096];
    rlc_status s = ckpt_save(&a, dir, sizeof dir);
    json_decref(state);
    if (s == RLC_OK) RLC_INFO("learner: saved %s", dir);
    return s;
}

// ---- the loop ---------------------------------------------------------------------

static int stopping(const rl_state *r) { return r->opt->stop && *r->opt->stop; }

// Pumps until batch_prompts groups are ready; keeps (1 + k) batches in
// flight so that generation runs ahead by at most k versions.
static rlc_status collect(rl_state *r, double *wait_s) {
    double t0 = rlc_now();
    int target = r->batch_prompts * (1 + r->max_staleness);
    while (r->n_ready < r->batch_prompts && !stopping(r)) {
        while (r->n_flights + r->n_ready < target) RLC_TRY(submit_next(r));
        RLC_TRY(lsrv_poll(r->srv, 20, on_group, r));
        lrn_dp_ping(r->dp);  // the other ranks wait for the step: rank 0 is alive
    }
    *wait_s = rlc_now() - t0;
    return RLC_OK;
}

static int by_prompt_id(const void *a, const void *b) {
    uint64_t x = ((const ready_group *)a)->prompt_id, y = ((const ready_group *)b)->prompt_id;
    return (x > y) - (x < y);
}

static rlc_status train_step(rl_state *r, double wait_s) {
    double t0 = rlc_now();
    int n = r->batch_prompts;
    // The oldest prompts first, in a fixed order: a run does not depend on
    // which group happened to finish first.
    qsort(r->ready, (size_t)r->n_ready, sizeof(ready_group), by_prompt_id);
    int total = 0;
    for (int i = 0; i < n; i++) total += r->ready[i].n;
    if (total > r->cap_adv) {
        double *grown = rlc_realloc(r->adv_buf, sizeof(double) * (size_t)total);
        if (!grown) return rlc_errorf(RLC_ERR_NOMEM, "learner: advantages of %d trajectories", total);
        r->adv_buf = grown;
        r->cap_adv = total;
    }
    grpo_group groups[n];
    for (int i = 0, at = 0; i < n; at += r->ready[i].n, i++)
        groups[i] = (grpo_group){.trajs = r->ready[i].trajs, .n = r->ready[i].n, .base_n = r->ready[i].base_n,
                                 .base_mean = r->ready[i].base_mean, .base_std = r->ready[i].base_std,
                                 .adv_out = r->adv_buf + at};
    grpo_stats st;
    int64_t u = grpo_trainer_version(r->trainer);
    if (r->dp) RLC_TRY(rl_dp_send_step(r->dp, groups, n, u));  // every rank trains on the same groups
    RLC_TRY(grpo_step(r->trainer, groups, n, u, &st));
    // Curriculum statistics: each sample's correctness and the |advantage| it
    // trained with (0 for one not trained on: no signal from it this step).
    for (int i = 0; i < n; i++) {
        if (r->ready[i].source < 0) continue;
        for (int k = 0; k < r->ready[i].n; k++) {
            double rw = r->ready[i].trajs[k].reward, a = groups[i].adv_out[k];
            lrn_data_observe(r->data, r->ready[i].source, rw >= 1.0, isnan(a) ? 0.0 : fabs(a));
        }
    }
    ada_step ada = {0};
    for (int i = 0; i < n; i++) {
        const ready_group *g = &r->ready[i];
        ada.drawn += g->drawn, ada.discarded += g->discarded, ada.rounds += g->rounds;
        ada.exited += g->exited, ada.fallback += g->drawn > 0 && !g->exited;
        if (g->rounds > ada.rounds_max) ada.rounds_max = g->rounds;
    }
    long long gen_tokens = 0;
    double gen_s = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < r->ready[i].n; k++) {
            gen_tokens += r->ready[i].trajs[k].n_tokens;
            gen_s += r->ready[i].trajs[k].generate_s;
        }
    gen_s /= (r->ready[0].n > 0 ? r->ready[0].n : 1);  // samples of a group decode together
    for (int i = 0; i < n; i++) ready_free(&r->ready[i]);
    memmove(r->ready, r->ready + n, sizeof(ready_group) * (size_t)(r->n_ready - n));
    r->n_ready -= n;
    double t1 = rlc_now();
    if (st.updated) {
        actor_params *p = actor_model_params(r->policy);
        RLC_TRY(lsrv_publish(r->srv, grpo_trainer_version(r->trainer), p->data, p->numel * sizeof(float)));
    }
    double publish_s = rlc_now() - t1;
    r->step++;
    int final = r->step == r->steps;
    if (r->n_eval > 0 && (final || (r->eval_every > 0 && r->step % r->eval_every == 0))) {
        RLC_TRY(run_eval(r, final ? "after" : "during"));
        if (final && r->last_eval) r->final_eval = json_incref(r->last_eval);
    }
    lsrv_stats ss;
    lsrv_get_stats(r->srv, &ss);
    if (r->step % r->log_every == 0)
        write_metrics(r, &st, wait_s, rlc_now() - t0 + wait_s, publish_s, &ss, gen_tokens, gen_s, &ada);
    if (!r->opt->quiet)
        fprintf(stderr, "\rstep %ld/%ld  v%lld  reward %.3f  acc %.3f  len %.1f  kl %.4f  clip %.3f  wait %.1fs  train %.1fs   ",
                r->step, r->steps, (long long)st.version, st.reward_mean, st.accuracy, st.resp_len_mean, st.kl,
                st.clipfrac, wait_s, st.train_s);
    r->resampled_this_step = 0;
    r->filtered_this_step = 0;
    if (r->curr && r->step % r->curr_every == 0) apply_curriculum(r);
    return RLC_OK;
}

static void teardown(rl_state *r) {
    if (r->srv) lsrv_shutdown(r->srv, "done");
    if (r->opt->join) r->opt->join(r->opt->ud);
    for (int i = 0; i < r->n_ready; i++) ready_free(&r->ready[i]);
    rlc_free(r->ready);
    rlc_free(r->flights);
    for (int i = 0; i < r->cap_ada; i++)
        if (r->ada[i].used) ada_release(&r->ada[i]);
    rlc_free(r->ada);
    rlc_free(r->adv_buf);
    lsrv_free(r->srv);
    lrn_wgroup_free(r->wgroup);
    rlc_board_free(r->board);
    grpo_trainer_free(r->trainer);
    lrn_dp_free(r->dp);
    lrn_data_free(r->data);
    if (r->curr != r->lua) rlc_script_free(r->curr);
    rlc_script_free(r->lua);
    chat_template_free(r->tpl);
    tok_free(r->tk);
    actor_model_free(r->policy);
    if (r->metrics) fclose(r->metrics);
    for (int i = 0; r->eval_strings && i < 2 * r->n_eval; i++) rlc_free(r->eval_strings[i]);
    rlc_free(r->eval_strings);
    rlc_free(r->eval_ex);
    if (r->last_eval) json_decref(r->last_eval);
    if (r->final_eval) json_decref(r->final_eval);
    if (r->last_curr) json_decref(r->last_curr);
    rlc_exp_free(r->exp);
}

rlc_status rl_run(const rl_options *o) {
    if (o->dist && o->dist->world > 1 && o->dist->rank > 0) return rl_dp_serve(o);
    rl_state r = {.opt = o};
    rlc_status s = rlc_exp_load(o->exp_path, o->overrides, o->n_overrides, &r.exp);
    if (s == RLC_OK && o->dist && o->dist->world > 1) {
        s = lrn_dp_create(o->dist, NULL, &r.dp);
        if (s == RLC_OK) RLC_INFO("learner: rank 0 of %d data-parallel ranks", o->dist->world);
    }
    if (s == RLC_OK) s = setup(&r);
    if (s == RLC_OK && o->resume) s = resume(&r);
    if (s == RLC_OK && r.dp) s = rl_dp_send_init(r.dp, r.trainer, r.policy);  // the same start on every rank
    if (s == RLC_OK) s = start_server(&r);
    if (s == RLC_OK && r.board && grpo_trainer_version(r.trainer) > 0) {  // resumed weights for the workers
        actor_params *p = actor_model_params(r.policy);
        s = lsrv_publish(r.srv, grpo_trainer_version(r.trainer), p->data, p->numel * sizeof(float));
    }
    if (s == RLC_OK && o->spawn) s = o->spawn(o->ud, r.exp, lsrv_endpoint(r.srv), lsrv_zctx(r.srv), r.board);
    if (s == RLC_OK) {
        char path[4096];
        snprintf(path, sizeof path, "%s/metrics.jsonl", r.out_dir);
        r.metrics = fopen(path, o->resume ? "a" : "w");
        if (!r.metrics) s = rlc_errorf(RLC_ERR_IO, "%s: cannot write", path);
    }
    long last = o->stop_after > 0 && r.step + o->stop_after < r.steps ? r.step + o->stop_after : r.steps;
    if (s == RLC_OK && r.curr) apply_curriculum(&r);  // the weights (and a script's store) before the first prompt
    if (s == RLC_OK && r.step == 0) s = run_eval(&r, "before");
    json_t *before = r.last_eval ? json_incref(r.last_eval) : NULL;
    double run_t0 = rlc_now();
    while (s == RLC_OK && r.step < last && !stopping(&r)) {
        double wait_s;
        s = collect(&r, &wait_s);
        if (s == RLC_OK && r.n_ready >= r.batch_prompts) s = train_step(&r, wait_s);
        if (s == RLC_OK && r.save_every > 0 && r.step % r.save_every == 0) s = save(&r);
    }
    if (!o->quiet) fprintf(stderr, "\n");
    if (s == RLC_OK && before && r.final_eval) {  // the run's summary
        double b = json_number_value(json_object_get(before, "pass@1"));
        double a = json_number_value(json_object_get(r.final_eval, "pass@1"));
        fprintf(stderr, "held-out pass@1: %.4f before, %.4f after (%+.1f points)\n", b, a, 100 * (a - b));
        json_t *sum = json_pack("{s:I, s:O, s:O}", "steps", (json_int_t)r.step, "eval_before", before, "eval_after",
                                r.final_eval);
        char path[4096];
        snprintf(path, sizeof path, "%s/summary.json", r.out_dir);
        if (sum && json_dump_file(sum, path, JSON_INDENT(2)) != 0) RLC_WARN("learner: cannot write %s", path);
        json_decref(sum);
    }
    if (before) json_decref(before);
    if (s == RLC_OK && r.step > 0 && (r.save_every <= 0 || r.step % r.save_every != 0 || stopping(&r))) s = save(&r);
    if (s == RLC_OK)
        RLC_INFO("learner: %ld steps in %.1f s%s", r.step, rlc_now() - run_t0, stopping(&r) ? " (stopped)" : "");
    // Keep the error message: teardown may log.
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rlc_last_error());
    if (r.dp && s == RLC_OK) {  // the other ranks return
        s = rl_dp_send_done(r.dp);
        if (s != RLC_OK) snprintf(msg, sizeof msg, "%s", rlc_last_error());
    } else if (r.dp) {
        lrn_dp_abort(r.dp, msg);
    }
    teardown(&r);
    if (s != RLC_OK) rlc_errorf(s, "%s", msg);
    return s;
}
