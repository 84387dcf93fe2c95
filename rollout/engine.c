// engine.c: the rollout engine: requests -> grouped generation -> text ->
// rewards -> trajectories. Per-sample buffers are allocated when a request
// is submitted, sized for its max_new_tokens, so the decode loop only
// appends.
#include "engine.h"

#include <string.h>  // memcpy, strlen

#include "actor/generate.h"  // actor_gen_*
#include "actor/stop.h"      // actor_stop_*
#include "core/core.h"

typedef struct roll_group {
    uint64_t prompt_id;
    int32_t *prompt;  // (n_prompt)
    uint32_t n_prompt;
    char *answer, *prompt_text;  // metadata, or NULL
    json_t *example;             // parsed metadata "example", or NULL
    int n, n_left;               // samples, samples not yet emitted
    double submitted;            // rlc_now() at submit
} roll_group;

typedef struct roll_seq {
    roll_group *grp;
    long long id;       // the generator's sequence id
    uint32_t index;     // sample index within the group
    int32_t *tokens;    // (cap) completion tokens
    float *logprobs;    // (cap)
    int32_t *versions;  // (cap)
    uint32_t n, cap;
    tok_stream *stream;
    actor_stop *stop;
    char *text;  // released completion text
    size_t text_len, text_cap;
    int done, failed_alloc;
    rlc_finish_reason finish;
    double first_token_t, done_t;
} roll_seq;

struct rollout_engine {
    actor_model *m;
    const tok_tokenizer *tk;
    actor_gen *gen;
    rlc_reward_pool *pool;
    rlc_reward_errors *errors;
    char *worker_id;
    int n_slots, max_seq;
    int64_t version;
    // sequences by generator id: by_id[i] is id base + i
    roll_seq **by_id;
    long long base;
    int count, cap;
    // per step: finished sequences and their reward inputs/outputs (n_slots)
    roll_seq **finished;
    int n_finished;
    rlc_sample *samples;
    rlc_reward_result *results;
    rlc_proto_component *components;
    rollout_stats stats;
};

rlc_status rollout_engine_create(actor_model *m, const tok_tokenizer *tk, const rollout_config *cfg,
                                 rollout_engine **out) {
    *out = NULL;
    if (cfg->n_slots <= 0 || cfg->max_seq <= 1)
        return rlc_errorf(RLC_ERR_ARG, "rollout: n_slots (%d) and max_seq (%d) must be positive", cfg->n_slots, cfg->max_seq);
    rollout_engine *e = rlc_calloc(1, sizeof *e);
    if (!e) return rlc_errorf(RLC_ERR_NOMEM, "rollout: engine");
    e->m = m;
    e->tk = tk;
    e->n_slots = cfg->n_slots;
    e->max_seq = cfg->max_seq;
    rlc_status s = RLC_OK;
    e->worker_id = rlc_strdup(cfg->worker_id ? cfg->worker_id : "worker");
    e->finished = rlc_calloc((size_t)cfg->n_slots, sizeof(roll_seq *));
    e->samples = rlc_calloc((size_t)cfg->n_slots, sizeof(rlc_sample));
    e->results = rlc_calloc((size_t)cfg->n_slots, sizeof(rlc_reward_result));
    e->components = rlc_calloc(RLC_REWARD_MAX_COMPONENTS, sizeof(rlc_proto_component));
    e->errors = rlc_reward_errors_create();
    if (!e->worker_id || !e->finished || !e->samples || !e->results || !e->components || !e->errors)
        s = rlc_errorf(RLC_ERR_NOMEM, "rollout: engine buffers");
    if (s == RLC_OK && cfg->gpu) s = actor_gen_create_gpu(m, cfg->gpu, cfg->n_slots, cfg->max_seq, &e->gen);
    else if (s == RLC_OK) s = actor_gen_create(m, cfg->n_slots, cfg->max_seq, &e->gen);
    if (s == RLC_OK)
        s = rlc_reward_pool_create(&cfg->reward, cfg->reward_threads > 0 ? cfg->reward_threads : 1, e->errors, &e->pool);
    if (s != RLC_OK) {
        rollout_engine_free(e);
        return s;
    }
    *out = e;
    return RLC_OK;
}

static void seq_free(roll_seq *q) {
    if (!q) return;
    rlc_free(q->tokens);
    rlc_free(q->logprobs);
    rlc_free(q->versions);
    rlc_free(q->text);
    tok_stream_free(q->stream);
    actor_stop_free(q->stop);
}

static void group_release(roll_group *grp) {
    rlc_free(grp->prompt);
    rlc_free(grp->answer);
    rlc_free(grp->prompt_text);
    if (grp->example) json_decref(grp->example);
    rlc_free(grp);
}

void rollout_engine_free(rollout_engine *e) {
    if (!e) return;
    for (int i = 0; i < e->count; i++) {  // sequences still in flight
        roll_seq *q = e->by_id[i];
        if (!q) continue;
        roll_group *grp = q->grp;
        seq_free(q);
        if (--grp->n_left == 0) group_release(grp);
        rlc_free(q);
    }
    rlc_free(e->by_id);
    actor_gen_free(e->gen);
    rlc_reward_pool_free(e->pool);
    rlc_reward_errors_free(e->errors);
    rlc_free(e->worker_id);
    rlc_free(e->finished);
    rlc_free(e->samples);
    rlc_free(e->results);
    rlc_free(e->components);
    rlc_free(e);
}

void rollout_engine_set_version(rollout_engine *e, int64_t version) {
    e->version = version;
    actor_gen_set_version(e->gen, (int)version);
}

void rollout_engine_stats(const rollout_engine *e, rollout_stats *out) {
    *out = e->stats;
    out->reward_failures = rlc_reward_errors_total(e->errors);
}

static const char *meta(const rlc_msg_prompt_request *req, const char *key) {
    for (uint32_t i = 0; i < req->n_metadata; i++)
        if (strcmp(req->metadata[i].key, key) == 0) return req->metadata[i].value;
    return NULL;
}

static rlc_status group_create(const rlc_msg_prompt_request *req, roll_group **out) {
    roll_group *grp = rlc_calloc(1, sizeof *grp);
    if (!grp) return rlc_errorf(RLC_ERR_NOMEM, "rollout: request");
    grp->prompt_id = req->prompt_id;
    grp->n = grp->n_left = (int)req->n;
    grp->n_prompt = req->n_tokens;
    grp->submitted = rlc_now();
    grp->prompt = rlc_malloc(sizeof(int32_t) * req->n_tokens);
    const char *answer = meta(req, "answer"), *text = meta(req, "prompt"), *example = meta(req, "example");
    int failed = !grp->prompt;
    if (answer && !(grp->answer = rlc_strdup(answer))) failed = 1;
    if (text && !(grp->prompt_text = rlc_strdup(text))) failed = 1;
    if (failed) {
        group_release(grp);
        return rlc_errorf(RLC_ERR_NOMEM, "rollout: request %llu", (unsigned long long)req->prompt_id);
    }
    memcpy(grp->prompt, req->tokens, sizeof(int32_t) * req->n_tokens);
    if (example) {
        rlc_status s = rlc_json_load_buffer(example, strlen(example), "prompt request metadata \"example\"", &grp->example);
        if (s != RLC_OK) {
            group_release(grp);
            return RLC_ERR_BAD_MESSAGE;
        }
    }
    *out = grp;
    return RLC_OK;
}

static rlc_status seq_create(rollout_engine *e, roll_group *grp, uint32_t index, const rlc_msg_prompt_request *req,
                             roll_seq **out) {
    roll_seq *q = rlc_calloc(1, sizeof *q);
    if (!q) return rlc_errorf(RLC_ERR_NOMEM, "rollout: sample");
    q->grp = grp;
    q->index = index;
    q->cap = req->sampling.max_new_tokens;
    q->tokens = rlc_malloc(sizeof(int32_t) * q->cap);
    q->logprobs = rlc_malloc(sizeof(float) * q->cap);
    q->versions = rlc_malloc(sizeof(int32_t) * q->cap);
    rlc_status s = (q->tokens && q->logprobs && q->versions) ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "rollout: sample");
    if (s == RLC_OK) s = tok_stream_create(e->tk, TOK_DECODE_SKIP_SPECIAL, &q->stream);
    if (s == RLC_OK) s = actor_stop_create(req->sampling.stop, (int)req->sampling.n_stop, &q->stop);
    // The last prompt token goes through the stream unseen, so the first
    // completion piece decodes in context (a SentencePiece leading space).
    const char *unused;
    size_t unused_len;
    if (s == RLC_OK) s = tok_stream_push(q->stream, req->tokens[req->n_tokens - 1], &unused, &unused_len);
    if (s != RLC_OK) {
        seq_free(q);
        rlc_free(q);
        return s;
    }
    *out = q;
    return RLC_OK;
}

static rlc_status reserve_ids(rollout_engine *e, int extra) {
    if (e->count + extra <= e->cap) return RLC_OK;
    // Drop emitted sequences at the front before growing.
    int d = 0;
    while (d < e->count && !e->by_id[d]) d++;
    if (d > 0) memmove(e->by_id, e->by_id + d, sizeof(roll_seq *) * (size_t)(e->count - d));  // by_id may be NULL
    e->base += d;
    e->count -= d;
    if (e->count + extra <= e->cap) return RLC_OK;
    int cap = e->cap ? e->cap : 64;
    while (cap < e->count + extra) cap *= 2;
    roll_seq **grown = rlc_realloc(e->by_id, sizeof(roll_seq *) * (size_t)cap);
    if (!grown) return rlc_errorf(RLC_ERR_NOMEM, "rollout: sequence table");
    e->by_id = grown;
    e->cap = cap;
    return RLC_OK;
}

rlc_status rollout_engine_submit(rollout_engine *e, const rlc_msg_prompt_request *req) {
    const actor_config *c = actor_model_config(e->m);
    if (req->n_tokens == 0 || req->n == 0 || req->sampling.max_new_tokens == 0)
        return rlc_errorf(RLC_ERR_ARG, "rollout: request %llu needs tokens, n >= 1 and max_new_tokens >= 1",
                          (unsigned long long)req->prompt_id);
    if ((int)req->n > e->n_slots)
        return rlc_errorf(RLC_ERR_LIMIT, "rollout: request %llu wants %u samples, the worker has %d slots",
                          (unsigned long long)req->prompt_id, req->n, e->n_slots);
    if ((long long)req->n_tokens + req->sampling.max_new_tokens > e->max_seq)
        return rlc_errorf(RLC_ERR_LIMIT, "rollout: request %llu: %u prompt + %u new tokens exceed max_seq %d",
                          (unsigned long long)req->prompt_id, req->n_tokens, req->sampling.max_new_tokens, e->max_seq);
    for (uint32_t i = 0; i < req->n_tokens; i++)
        if (req->tokens[i] < 0 || req->tokens[i] >= c->vocab_size)
            return rlc_errorf(RLC_ERR_ARG, "rollout: request %llu: token %d at %u is outside the vocabulary (%d)",
                              (unsigned long long)req->prompt_id, req->tokens[i], i, c->vocab_size);
    roll_group *grp = NULL;
    RLC_TRY(group_create(req, &grp));
    rlc_status s = reserve_ids(e, (int)req->n);
    roll_seq *seqs[req->n];
    uint32_t made = 0;
    while (s == RLC_OK && made < req->n) {
        s = seq_create(e, grp, made, req, &seqs[made]);
        if (s == RLC_OK) made++;
    }
    actor_sampling sp = {.temperature = (float)req->sampling.temperature,
                         .top_k = req->sampling.top_k,
                         .top_p = (float)req->sampling.top_p,
                         .seed = req->sampling.seed ? req->sampling.seed : req->prompt_id,
                         .max_new_tokens = (int)req->sampling.max_new_tokens};
    int first = 0;
    if (s == RLC_OK) s = actor_gen_add_group(e->gen, grp->prompt, (int)grp->n_prompt, (int)req->n, &sp, &first);
    if (s == RLC_OK && first != e->base + e->count)
        s = rlc_errorf(RLC_ERR_STATE, "rollout: generator ids out of step (%d, expected %lld)", first, e->base + e->count);
    if (s != RLC_OK) {
        for (uint32_t i = 0; i < made; i++) {
            seq_free(seqs[i]);
            rlc_free(seqs[i]);
        }
        group_release(grp);
        return s;
    }
    for (uint32_t i = 0; i < req->n; i++) {
        seqs[i]->id = e->base + e->count;
        e->by_id[e->count++] = seqs[i];
    }
    e->stats.prompts++;
    return RLC_OK;
}

static void append_text(roll_seq *q, const char *text, size_t len) {
    if (q->text_len + len + 1 > q->text_cap) {
        size_t cap = q->text_cap ? q->text_cap : 256;
        while (cap < q->text_len + len + 1) cap *= 2;
        char *grown = rlc_realloc(q->text, cap);
        if (!grown) {
            q->failed_alloc = 1;
            return;
        }
        q->text = grown;
        q->text_cap = cap;
    }
    memcpy(q->text + q->text_len, text, len);
    q->text_len += len;
    q->text[q->text_len] = '\0';
}

static int on_token(void *ud, int seq_id, int token, float logprob, actor_finish why) {
    rollout_engine *e = ud;
    roll_seq *q = e->by_id[seq_id - e->base];
    if (q->n == 0) q->first_token_t = rlc_now();
    if (q->n < q->cap) {
        q->tokens[q->n] = token;
        q->logprobs[q->n] = logprob;
        q->versions[q->n++] = (int32_t)e->version;
    }
    int stop = why == ACTOR_FINISH_STOP || tok_is_eos(e->tk, token);
    int matched = 0;
    if (!stop) {
        const char *piece, *out;
        size_t piece_len, out_len;
        if (tok_stream_push(q->stream, token, &piece, &piece_len) == RLC_OK &&
            actor_stop_push(q->stop, piece, piece_len, &out, &out_len, &matched) == RLC_OK)
            append_text(q, out, out_len);
    }
    if (stop || matched || why == ACTOR_FINISH_LENGTH) {
        q->done = 1;
        q->done_t = rlc_now();
        q->finish = (stop || matched) ? RLC_FINISH_STOP : RLC_FINISH_LENGTH;
        if (!stop && !matched) {  // length: release what the stop filter held back
            const char *rest;
            size_t rest_len;
            if (tok_stream_flush(q->stream, &rest, &rest_len) == RLC_OK) {
                const char *out;
                size_t out_len;
                if (actor_stop_push(q->stop, rest, rest_len, &out, &out_len, &matched) == RLC_OK)
                    append_text(q, out, out_len);
            }
            actor_stop_flush(q->stop, &rest, &rest_len);
            append_text(q, rest, rest_len);
        }
        e->finished[e->n_finished++] = q;
        return 1;
    }
    return 0;
}

// Scores the samples that finished in this step and emits them.
static void score_and_emit(rollout_engine *e, rollout_emit_fn emit, void *ud) {
    if (e->n_finished == 0) return;
    for (int i = 0; i < e->n_finished; i++) {
        roll_seq *q = e->finished[i];
        e->samples[i] = (rlc_sample){.prompt = q->grp->prompt_text,
                                     .completion = q->text ? q->text : "",
                                     .answer = q->grp->answer,
                                     .example = q->grp->example,
                                     .finish_reason = q->finish == RLC_FINISH_STOP ? "stop" : "length",
                                     .num_tokens = (long)q->n};
    }
    double t0 = rlc_now();
    rlc_reward_pool_score(e->pool, e->samples, (size_t)e->n_finished, e->results);
    double reward_s = rlc_now() - t0;
    e->stats.reward_s += reward_s;
    for (int i = 0; i < e->n_finished; i++) {
        roll_seq *q = e->finished[i];
        const rlc_reward_result *r = &e->results[i];
        for (int c = 0; c < r->n_components; c++)
            e->components[c] = (rlc_proto_component){r->components[c].name, r->components[c].value};
        rlc_msg_trajectory t = {.worker_id = e->worker_id,
                                .prompt_id = q->grp->prompt_id,
                                .sample_index = q->index,
                                .prompt_tokens = q->grp->prompt,
                                .n_prompt_tokens = q->grp->n_prompt,
                                .tokens = q->tokens,
                                .logprobs = q->logprobs,
                                .versions = q->versions,
                                .n_tokens = q->n,
                                .reward = r->score,
                                .components = e->components,
                                .n_components = (uint32_t)r->n_components,
                                .finish = q->finish,
                                .queue_s = q->first_token_t - q->grp->submitted,
                                .generate_s = q->done_t - q->first_token_t,
                                .reward_s = reward_s / e->n_finished};
        if (emit) emit(ud, &t);
        e->stats.samples++;
        e->stats.tokens += q->n;
    }
    // Release: the group goes with its last sample.
    for (int i = 0; i < e->n_finished; i++) {
        roll_seq *q = e->finished[i];
        e->by_id[q->id - e->base] = NULL;
        roll_group *grp = q->grp;
        seq_free(q);
        rlc_free(q);
        if (--grp->n_left == 0) group_release(grp);
    }
    e->n_finished = 0;
}

rlc_status rollout_engine_step(rollout_engine *e, rollout_emit_fn emit, void *ud, int *n_pending) {
    double t0 = rlc_now();
    int pending;
    rlc_status s = actor_gen_step(e->gen, on_token, e, &pending);
    e->stats.generate_s += rlc_now() - t0;
    score_and_emit(e, emit, ud);
    *n_pending = pending;
    return s;
}
