// sft.c: the SFT trainer: configuration, the step (pack, forward, NLL,
// backward, clip, AdamW), metrics, checkpoints and exact resume.
#include "sft.h"

#include <math.h>    // isfinite
#include <stdio.h>   // fopen, fprintf
#include <string.h>  // memset, strcmp

#include "actor/train.h"    // actor_train_*
#include "batching.h"       // batch_packer
#include "checkpoint.h"     // ckpt_*
#include "core/core.h"      // rlc_errorf, RLC_INFO, rlc_now
#include "kernels/kernels.h"  // kernels_set_threads
#include "sft_internal.h"

#define SFT_LOSS_TAIL 100   // losses kept in trainer_state.json
#define SFT_PATH 4096

// ---- configuration ------------------------------------------------------------------

void sft_config_default(sft_config *c) {
    memset(c, 0, sizeof *c);
    c->prompt_key = "prompt";
    c->response_key = "response";
    c->messages_key = "messages";
    c->out_dir = "runs/sft";
    c->steps = 100;
    c->batch_size = 8;
    c->micro_batch_tokens = 2048;
    c->max_prompt_tokens = 1024;
    c->vocab_chunk = 4096;
    c->shuffle = 1;
    c->seed = 42;
    c->adamw = optim_adamw_defaults();
    c->adamw.weight_decay = 0.0;
    c->schedule = (optim_schedule){.kind = OPTIM_SCHEDULE_CONSTANT, .lr = 1e-5};
    c->log_every = 1;
    c->save_every = 100;
}

rlc_status sft_config_from_exp(const rlc_exp *e, sft_config *c) {
    long long steps, batch, warmup, max_prompt, seed, log_every, save_every, keep = c->keep_last;
    long long mbt = c->micro_batch_tokens, chunk = c->vocab_chunk;
    double lr, wd, b1, b2, clip, eps = c->adamw.eps, min_ratio = c->schedule.min_lr_ratio;
    int shuffle, recompute;
    const char *schedule = optim_schedule_name(c->schedule.kind), *resp;
    RLC_TRY(rlc_exp_get_string(e, "model.path", &c->model_path));
    RLC_TRY(rlc_exp_get_string(e, "model.tokenizer", &c->tokenizer_path));
    RLC_TRY(rlc_exp_get_bool(e, "model.gradient_checkpointing", &recompute));
    RLC_TRY(rlc_exp_get_string(e, "data.prompt_key", &c->prompt_key));
    RLC_TRY(rlc_exp_get_string(e, "data.answer_key", &resp));
    RLC_TRY(rlc_exp_get_int(e, "data.max_prompt_tokens", &max_prompt));
    RLC_TRY(rlc_exp_get_bool(e, "data.shuffle", &shuffle));
    RLC_TRY(rlc_exp_get_int(e, "data.seed", &seed));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.steps", &steps));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.batch_prompts", &batch));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.lr", &lr));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.lr_warmup_steps", &warmup));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.weight_decay", &wd));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adam_beta1", &b1));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adam_beta2", &b2));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.max_grad_norm", &clip));
    RLC_TRY(rlc_exp_get_string(e, "output.dir", &c->out_dir));
    RLC_TRY(rlc_exp_get_int(e, "output.log_every", &log_every));
    RLC_TRY(rlc_exp_get_int(e, "output.save_every", &save_every));
    RLC_TRY(rlc_exp_get_string(e, "algorithm.lr_schedule", &schedule));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.min_lr_ratio", &min_ratio));
    RLC_TRY(rlc_exp_get_number(e, "algorithm.adam_eps", &eps));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.micro_batch_tokens", &mbt));
    RLC_TRY(rlc_exp_get_int(e, "algorithm.vocab_chunk", &chunk));
    RLC_TRY(rlc_exp_get_string(e, "data.messages_key", &c->messages_key));
    RLC_TRY(rlc_exp_get_string(e, "data.chat_template", &c->chat_template));
    RLC_TRY(rlc_exp_get_int(e, "output.keep_checkpoints", &keep));

    const json_t *sources;
    RLC_TRY(rlc_exp_get_json(e, "data.sources", &sources));
    c->n_data = 0;
    size_t i;
    const json_t *src;
    json_array_foreach(sources, i, src) {
        const char *p = json_string_value(json_object_get(src, "path"));
        if (!p) return rlc_errorf(RLC_ERR_CONFIG, "experiment: data.sources[%zu] needs a string \"path\"", i + 1);
        if (c->n_data == SFT_MAX_SOURCES)
            return rlc_errorf(RLC_ERR_CONFIG, "experiment: at most %d data.sources for SFT", SFT_MAX_SOURCES);
        c->data_paths[c->n_data++] = p;
    }
    c->response_key = resp;
    c->recompute = recompute;
    c->max_prompt_tokens = (int)max_prompt;
    c->shuffle = shuffle;
    c->seed = seed;
    c->steps = (long)steps;
    c->batch_size = (int)batch;
    c->micro_batch_tokens = (int)mbt;
    c->vocab_chunk = (int)chunk;
    c->schedule.lr = lr;
    c->schedule.warmup_steps = (long)warmup;
    c->schedule.min_lr_ratio = min_ratio;
    RLC_TRY(optim_schedule_parse(schedule, &c->schedule.kind));
    c->adamw.weight_decay = wd;
    c->adamw.beta1 = b1;
    c->adamw.beta2 = b2;
    c->adamw.eps = eps;
    c->adamw.max_grad_norm = clip;
    c->log_every = (int)log_every;
    c->save_every = (int)save_every;
    c->keep_last = (int)keep;
    return RLC_OK;
}

static rlc_status check_config(const sft_config *c) {
    if (!c->model_path || !*c->model_path) return rlc_errorf(RLC_ERR_CONFIG, "SFT: model.path is empty");
    if (!c->out_dir || !*c->out_dir) return rlc_errorf(RLC_ERR_CONFIG, "SFT: output.dir is empty");
    if (c->steps < 1) return rlc_errorf(RLC_ERR_CONFIG, "SFT: steps %ld must be at least 1", c->steps);
    if (c->batch_size < 1) return rlc_errorf(RLC_ERR_CONFIG, "SFT: batch size %d must be at least 1", c->batch_size);
    if (c->micro_batch_tokens < 2)
        return rlc_errorf(RLC_ERR_CONFIG, "SFT: micro_batch_tokens %d must be at least 2", c->micro_batch_tokens);
    if (!(c->schedule.lr >= 0 && isfinite(c->schedule.lr)))
        return rlc_errorf(RLC_ERR_CONFIG, "SFT: learning rate %g", c->schedule.lr);
    if (c->schedule.warmup_steps < 0 || !(c->schedule.min_lr_ratio >= 0 && c->schedule.min_lr_ratio <= 1))
        return rlc_errorf(RLC_ERR_CONFIG, "SFT: warm-up steps must be >= 0 and min_lr_ratio in [0, 1]");
    return RLC_OK;
}

// ---- the trainer --------------------------------------------------------------------------

struct sft_trainer {
    sft_config cfg;
    char tokenizer_path[SFT_PATH];  // resolved
    actor_model *model;
    actor_params *params;           // borrowed from model
    tok_tokenizer *tok;
    sft_dataset data;
    actor_trainer *fwd;
    optim_adamw *opt;
    batch_packer *packer;
    float *grads;                   // (numel)
    float *logprobs, *dlogprobs;    // (micro_batch_tokens)
    batch_sample *batch;            // (batch_size)
    long *perm;                     // (data.n) this epoch's order
    // position
    long step;                      // optimizer steps done
    long epoch, cursor;             // next sample: perm[cursor] of epoch
    long tokens_seen;
    double losses[SFT_LOSS_TAIL];   // ring of the last losses
    long n_losses;
    FILE *metrics;
};

static unsigned long long splitmix64(unsigned long long *s) {
    unsigned long long z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The order of epoch e: identity, or a Fisher-Yates shuffle from a generator
// seeded by (seed, e), so that any epoch can be rebuilt on resume.
static unsigned long long epoch_rng_seed(const sft_trainer *t, long e) {
    return (unsigned long long)t->cfg.seed * 0xD1B54A32D192ED03ull + (unsigned long long)e;
}

static void make_perm(sft_trainer *t) {
    long n = t->data.n;
    for (long i = 0; i < n; i++) t->perm[i] = i;
    if (!t->cfg.shuffle) return;
    unsigned long long s = epoch_rng_seed(t, t->epoch);
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(splitmix64(&s) % (unsigned long long)(i + 1));
        long x = t->perm[i];
        t->perm[i] = t->perm[j];
        t->perm[j] = x;
    }
}

void sft_trainer_free(sft_trainer *t) {
    if (!t) return;
    if (t->metrics) fclose(t->metrics);
    rlc_free(t->perm);
    rlc_free(t->batch);
    rlc_free(t->logprobs);
    rlc_free(t->dlogprobs);
    rlc_free_aligned(t->grads);
    batch_packer_free(t->packer);
    optim_adamw_free(t->opt);
    actor_train_free(t->fwd);
    sft_data_free(&t->data);
    tok_free(t->tok);
    actor_model_free(t->model);
    rlc_free(t);
}

// The tokenizer path: the configured one, or the model folder.
static rlc_status resolve_tokenizer(sft_trainer *t) {
    const char *p = t->cfg.tokenizer_path;
    if (p && *p) return snprintf(t->tokenizer_path, SFT_PATH, "%s", p) < SFT_PATH ? RLC_OK : RLC_ERR_ARG;
    if (!rlc_is_dir(t->cfg.model_path))
        return rlc_errorf(RLC_ERR_CONFIG, "SFT: %s is not a folder: set model.tokenizer (e.g. the tok512.bin of a "
                          "llama2.c model)", t->cfg.model_path);
    snprintf(t->tokenizer_path, SFT_PATH, "%s", t->cfg.model_path);
    return RLC_OK;
}

// The EOS id appended to responses: the tokenizer's first, else the model's.
static int eos_id(const sft_trainer *t) {
    const int *ids;
    if (tok_eos_ids(t->tok, &ids) > 0) return ids[0];
    const actor_config *c = actor_model_config(t->model);
    return c->n_eos > 0 ? c->eos_ids[0] : -1;
}

// Keeps the lines of metrics.jsonl up to step `upto` (a resumed run rewrites
// the steps after its checkpoint), then opens it for appending.
static rlc_status open_metrics(sft_trainer *t, long upto) {
    char path[SFT_PATH], tmp[SFT_PATH + 8];
    RLC_TRY(ckpt_make_dirs(t->cfg.out_dir));
    RLC_TRY(rlc_path_join(path, sizeof path, t->cfg.out_dir, "metrics.jsonl"));
    if (upto >= 0 && rlc_file_exists(path)) {
        char *buf;
        size_t len;
        RLC_TRY(rlc_read_file(path, &buf, &len));
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *fp = fopen(tmp, "wb");
        if (!fp) {
            rlc_free(buf);
            return rlc_errorf(RLC_ERR_IO, "%s: cannot create", tmp);
        }
        for (char *line = buf; line < buf + len;) {
            char *nl = memchr(line, '\n', (size_t)(buf + len - line));
            size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(buf + len - line);
            json_t *j = NULL;
            if (rlc_json_load_buffer(line, n, path, &j) == RLC_OK &&
                json_integer_value(json_object_get(j, "step")) <= upto)
                fwrite(line, 1, n, fp);
            json_decref(j);
            line += n;
        }
        rlc_clear_error();
        rlc_free(buf);
        if (fclose(fp) != 0 || rename(tmp, path) != 0) return rlc_errorf(RLC_ERR_IO, "%s: cannot rewrite", path);
    }
    t->metrics = fopen(path, "ab");
    if (!t->metrics) return rlc_errorf(RLC_ERR_IO, "%s: cannot open for appending", path);
    return RLC_OK;
}

// The trainer's fields of trainer_state.json.
static json_t *trainer_state(const sft_trainer *t) {
    json_t *losses = json_array();
    long n = t->n_losses < SFT_LOSS_TAIL ? t->n_losses : SFT_LOSS_TAIL;
    for (long i = t->n_losses - n; i < t->n_losses; i++)
        json_array_append_new(losses, json_real(t->losses[i % SFT_LOSS_TAIL]));
    char fp[32];
    snprintf(fp, sizeof fp, "%016llx", t->data.fingerprint);
    const optim_schedule *s = &t->cfg.schedule;
    return json_pack("{s:s, s:I, s:I, s:I, s:{s:I, s:s, s:b}, s:{s:s, s:I, s:I}, s:{s:s, s:f, s:I, s:I, s:f, s:f}, "
                     "s:{s:i, s:i}, s:o}",
                     "trainer", "sft", "epoch", (json_int_t)t->epoch, "cursor", (json_int_t)t->cursor,
                     "tokens_seen", (json_int_t)t->tokens_seen,
                     "data", "samples", (json_int_t)t->data.n, "fingerprint", fp, "shuffle", t->cfg.shuffle,
                     "rng", "kind", "splitmix64 Fisher-Yates per epoch", "seed", (json_int_t)t->cfg.seed,
                     "epoch_state", (json_int_t)epoch_rng_seed(t, t->epoch),
                     "schedule", "kind", optim_schedule_name(s->kind), "lr", s->lr, "warmup_steps",
                     (json_int_t)s->warmup_steps, "total_steps", (json_int_t)s->total_steps, "min_lr_ratio",
                     s->min_lr_ratio, "next_lr", optim_schedule_lr(s, t->step),
                     "batch", "samples", t->cfg.batch_size, "micro_batch_tokens", t->cfg.micro_batch_tokens,
                     "loss_history", losses);
}

static rlc_status resume(sft_trainer *t) {
    char dir[SFT_PATH];
    long step;
    RLC_TRY(ckpt_latest(t->cfg.out_dir, dir, sizeof dir, &step));
    if (step < 0) {
        RLC_INFO("sft: no checkpoint in %s/checkpoints: starting from the model", t->cfg.out_dir);
        return RLC_OK;
    }
    json_t *st;
    RLC_TRY(ckpt_load(dir, actor_model_config(t->model), t->params, t->opt, &st));
    char path[SFT_PATH + 32];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    long long epoch, cursor, tokens, samples, seed;
    const char *fp;
    const json_t *data = json_object_get(st, "data"), *rng = json_object_get(st, "rng");
    rlc_status s = rlc_json_get_int(st, "epoch", path, &epoch);
    if (s == RLC_OK) s = rlc_json_get_int(st, "cursor", path, &cursor);
    if (s == RLC_OK) s = rlc_json_get_int(st, "tokens_seen", path, &tokens);
    if (s == RLC_OK) s = json_is_object(data) && json_is_object(rng) ? RLC_OK
                        : rlc_errorf(RLC_ERR_FORMAT, "%s: missing \"data\" or \"rng\" (not an SFT checkpoint?)", path);
    if (s == RLC_OK) s = rlc_json_get_int(data, "samples", path, &samples);
    if (s == RLC_OK) s = rlc_json_get_string(data, "fingerprint", path, &fp);
    if (s == RLC_OK) s = rlc_json_get_int(rng, "seed", path, &seed);
    if (s != RLC_OK) s = s == RLC_ERR_CONFIG ? RLC_ERR_FORMAT : s;
    char want[32];
    snprintf(want, sizeof want, "%016llx", t->data.fingerprint);
    if (s == RLC_OK && (samples != t->data.n || strcmp(fp, want) != 0))
        s = rlc_errorf(RLC_ERR_CONFIG, "%s: the data changed since this checkpoint (%lld samples, fingerprint %s; "
                       "now %ld, %s): resume with the same data and tokenizer, or start a new output.dir",
                       path, samples, fp, t->data.n, want);
    if (s == RLC_OK && (cursor < 0 || cursor > t->data.n || epoch < 0))
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: data cursor %lld / epoch %lld out of range", path, cursor, epoch);
    if (s == RLC_OK && seed != t->cfg.seed)
        RLC_WARN("sft: %s was written with data.seed %lld; continuing with that seed's order", path, seed);
    if (s == RLC_OK) {
        t->cfg.seed = seed;
        t->step = step;
        t->epoch = (long)epoch;
        t->cursor = (long)cursor;
        t->tokens_seen = (long)tokens;
        const json_t *losses = json_object_get(st, "loss_history");
        size_t i;
        const json_t *v;
        json_array_foreach(losses, i, v) t->losses[t->n_losses++ % SFT_LOSS_TAIL] = json_number_value(v);
        make_perm(t);
        RLC_INFO("sft: resumed from %s (step %ld, epoch %ld, sample %ld of %ld)", dir, step, t->epoch, t->cursor,
                 t->data.n);
    }
    json_decref(st);
    return s;
}

static rlc_status create(sft_trainer *t) {
    const sft_config *c = &t->cfg;
    if (c->threads > 0) kernels_set_threads(c->threads);
    RLC_TRY(actor_model_load(c->model_path, &t->model));
    t->params = actor_model_params(t->model);
    RLC_TRY(resolve_tokenizer(t));
    RLC_TRY(tok_load(t->tokenizer_path, &t->tok));
    int V = actor_model_config(t->model)->vocab_size;
    if (tok_vocab_size(t->tok) > V)
        return rlc_errorf(RLC_ERR_CONFIG, "SFT: the tokenizer %s has %d ids, more than the model's %d",
                          t->tokenizer_path, tok_vocab_size(t->tok), V);
    RLC_TRY(sft_data_load(&t->data, c, t->tok, eos_id(t)));
    RLC_INFO("sft: %ld samples, %zu tokens from %d file(s) (%ld skipped for long prompts, %ld without response "
             "tokens, %ld truncated to %d tokens)", t->data.n, t->data.n_tokens, c->n_data, t->data.skipped_prompt,
             t->data.skipped_empty, t->data.truncated, c->micro_batch_tokens);
    actor_train_options to = {.max_tokens = c->micro_batch_tokens, .vocab_chunk = c->vocab_chunk,
                              .recompute = c->recompute};
    RLC_TRY(actor_train_create_opts(t->model, &to, &t->fwd));
    RLC_TRY(optim_adamw_create(&c->adamw, t->params, &t->opt));
    RLC_TRY(batch_packer_create(c->micro_batch_tokens, &t->packer));
    t->grads = rlc_malloc_aligned(t->params->numel * sizeof(float));
    t->logprobs = rlc_malloc((size_t)c->micro_batch_tokens * sizeof(float));
    t->dlogprobs = rlc_malloc((size_t)c->micro_batch_tokens * sizeof(float));
    t->batch = rlc_calloc((size_t)c->batch_size, sizeof *t->batch);
    t->perm = rlc_malloc((size_t)t->data.n * sizeof *t->perm);
    if (!t->grads || !t->logprobs || !t->dlogprobs || !t->batch || !t->perm)
        return rlc_errorf(RLC_ERR_NOMEM, "SFT: out of memory for the step buffers");
    make_perm(t);
    if (c->resume) RLC_TRY(resume(t));
    return open_metrics(t, c->resume ? t->step : -1);
}

rlc_status sft_trainer_create(const sft_config *c, sft_trainer **out) {
    *out = NULL;
    RLC_TRY(check_config(c));
    sft_trainer *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "SFT: out of memory");
    t->cfg = *c;
    if (t->cfg.schedule.total_steps <= 0) t->cfg.schedule.total_steps = c->steps;
    rlc_status s = create(t);
    if (s != RLC_OK) {
        sft_trainer_free(t);
        return s;
    }
    *out = t;
    return RLC_OK;
}

// The next batch_size samples of the shuffled order, crossing epochs.
static void next_batch(sft_trainer *t) {
    for (int i = 0; i < t->cfg.batch_size; i++) {
        if (t->cursor == t->data.n) {
            t->epoch++;
            t->cursor = 0;
            make_perm(t);
        }
        long k = t->perm[t->cursor++];
        long a = t->data.offsets[k], b = t->data.offsets[k + 1];
        t->batch[i] = (batch_sample){t->data.tokens + a, t->data.mask + a, (int)(b - a)};
    }
}

static void write_metrics(sft_trainer *t, const sft_step_stats *st) {
    if (!t->metrics) return;
    fprintf(t->metrics,
            "{\"step\": %ld, \"loss\": %.9g, \"lr\": %.9g, \"grad_norm\": %.9g, \"skipped\": %s, \"tokens\": %ld, "
            "\"targets\": %ld, \"rows\": %d, \"tokens_per_s\": %.6g, \"seconds\": %.6g, \"epoch\": %ld, "
            "\"tokens_seen\": %ld}\n",
            st->step, st->loss, st->lr, isfinite(st->grad_norm) ? st->grad_norm : -1.0,
            st->skipped ? "true" : "false", st->tokens, st->targets, st->rows,
            st->seconds > 0 ? (double)st->tokens / st->seconds : 0.0, st->seconds, st->epoch, t->tokens_seen);
    fflush(t->metrics);
}

rlc_status sft_trainer_step(sft_trainer *t, sft_step_stats *out) {
    double t0 = rlc_now();
    sft_step_stats st = {0};
    next_batch(t);
    RLC_TRY(batch_packer_pack(t->packer, t->batch, t->cfg.batch_size));
    long n = batch_packer_targets(t->packer);
    memset(t->grads, 0, t->params->numel * sizeof(float));
    double nll = 0;
    for (int r = 0; r < batch_packer_rows(t->packer); r++) {
        const actor_batch *b = batch_packer_row(t->packer, r);
        RLC_TRY(actor_train_forward(t->fwd, b, t->logprobs, NULL));
        nll += batch_nll(b, t->logprobs, 1.0 / (double)n, t->dlogprobs);
        RLC_TRY(actor_train_backward(t->fwd, t->dlogprobs, NULL, t->grads));
    }
    st.lr = optim_schedule_lr(&t->cfg.schedule, t->step);
    optim_step_result res;
    RLC_TRY(optim_adamw_step(t->opt, t->params->data, t->grads, st.lr, &res));
    t->step++;
    st.step = t->step;
    st.loss = nll / (double)n;
    st.grad_norm = res.grad_norm;
    st.skipped = res.skipped;
    st.tokens = batch_packer_tokens(t->packer);
    st.targets = n;
    st.rows = batch_packer_rows(t->packer);
    st.epoch = t->epoch;
    t->tokens_seen += st.tokens;
    t->losses[t->n_losses++ % SFT_LOSS_TAIL] = st.loss;
    st.seconds = rlc_now() - t0;
    write_metrics(t, &st);
    if (out) *out = st;
    return RLC_OK;
}

rlc_status sft_trainer_save(sft_trainer *t) {
    json_t *state = trainer_state(t);
    if (!state) return rlc_errorf(RLC_ERR_NOMEM, "SFT: out of memory for the trainer state");
    ckpt_save_args a = {.run_dir = t->cfg.out_dir, .step = t->step, .params = t->params,
                        .config = actor_model_config(t->model), .model_dir = t->cfg.model_path,
                        .tokenizer_path = t->tokenizer_path, .optim = t->opt, .trainer_state = state,
                        .keep_last = t->cfg.keep_last};
    char dir[SFT_PATH];
    double t0 = rlc_now();
    rlc_status s = ckpt_save(&a, dir, sizeof dir);
    json_decref(state);
    if (s == RLC_OK) RLC_INFO("sft: saved %s (%.2f s)", dir, rlc_now() - t0);
    return s;
}

long sft_trainer_steps_done(const sft_trainer *t) { return t->step; }
long sft_trainer_samples(const sft_trainer *t) { return t->data.n; }
actor_model *sft_trainer_model(sft_trainer *t) { return t->model; }

rlc_status sft_run(const sft_config *c) {
    sft_trainer *t;
    RLC_TRY(sft_trainer_create(c, &t));
    long end = c->stop_after > 0 && c->stop_after < c->steps ? c->stop_after : c->steps;
    rlc_status s = RLC_OK;
    long saved = t->step;
    RLC_INFO("sft: steps %ld..%ld of %ld, %d samples per step, rows of %d tokens, lr %g (%s, warm-up %ld)",
             t->step + 1, end, c->steps, c->batch_size, c->micro_batch_tokens, c->schedule.lr,
             optim_schedule_name(c->schedule.kind), c->schedule.warmup_steps);
    while (s == RLC_OK && t->step < end) {
        sft_step_stats st;
        s = sft_trainer_step(t, &st);
        if (s != RLC_OK) break;
        if (c->log_every > 0 && (st.step % c->log_every == 0 || st.step == end))
            RLC_INFO("step %ld/%ld | loss %.4f | lr %.3e | grad norm %.3f%s | %d rows, %ld tokens | %.0f tok/s | "
                     "epoch %ld", st.step, c->steps, st.loss, st.lr, st.grad_norm, st.skipped ? " (skipped)" : "",
                     st.rows, st.tokens, st.seconds > 0 ? (double)st.tokens / st.seconds : 0.0, st.epoch);
        if (c->save_every > 0 && st.step % c->save_every == 0 && st.step != end) {
            s = sft_trainer_save(t);
            saved = t->step;
        }
    }
    if (s == RLC_OK && t->step != saved) s = sft_trainer_save(t);
    if (s == RLC_OK && optim_adamw_skipped(t->opt) > 0)
        RLC_WARN("sft: %ld step(s) skipped for non-finite gradients", optim_adamw_skipped(t->opt));
    sft_trainer_free(t);
    return s;
}
