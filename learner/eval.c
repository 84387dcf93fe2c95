// eval.c: held-out evaluation: every example's prompt queued on one
// continuous-batching generator (a group of n samples per example sharing its
// prefill), each completion decoded and graded with rlc_math_grade as it
// finishes, then pass@1 / pass@k over the per-example counts.
#include <stdio.h>   // snprintf
#include <string.h>  // memset, strlen, strstr

#include "actor/chat.h"     // chat_template_from_name, chat_render
#include "core/core.h"      // rlc_calloc, rlc_free, rlc_now, rlc_jsonl_each
#include "eval.h"
#include "reward/reward.h"  // rlc_math_grade

void lrn_eval_options_default(lrn_eval_options *o) {
    *o = (lrn_eval_options){.batch = 32, .max_new_tokens = 96, .n_samples = 1, .k = 1, .temperature = 0.0f,
                            .top_p = 1.0f, .top_k = 0, .seed = 1, .add_special = 1};
}

double lrn_eval_pass_at_k(int n, int c, int k) {
    if (n - c < k) return 1.0;
    double miss = 1.0;  // C(n - c, k) / C(n, k) as a product
    for (int i = n - c + 1; i <= n; i++) miss *= 1.0 - (double)k / i;
    return 1.0 - miss;
}

// Turns per-example correct counts into the pass figures of r.
static void tally(const int *correct, int n, int n_samples, int k, lrn_eval_result *r) {
    double p1 = 0, pk = 0, pn = 0;
    for (int i = 0; i < n; i++) {
        p1 += (double)correct[i] / n_samples;
        pk += lrn_eval_pass_at_k(n_samples, correct[i], k);
        pn += correct[i] > 0;
    }
    r->n_examples = n;
    r->n_samples = n_samples;
    r->k = k;
    r->pass1 = n ? p1 / n : 0;
    r->pass_k = n ? pk / n : 0;
    r->pass_n = n ? pn / n : 0;
}

static rlc_status check_examples(const lrn_eval_example *ex, int n) {
    for (int i = 0; i < n; i++)
        if (!ex[i].prompt || !ex[i].answer)
            return rlc_errorf(RLC_ERR_ARG, "eval: example %d has no %s", i, ex[i].prompt ? "answer" : "prompt");
    return RLC_OK;
}

rlc_status lrn_eval_grade(const lrn_eval_example *ex, int n, const char *const *completions, int n_samples, int k,
                          lrn_eval_result *r) {
    if (n < 0 || n_samples < 1 || k < 1 || k > n_samples)
        return rlc_errorf(RLC_ERR_ARG, "eval: need n >= 0 and 1 <= k <= n_samples (got %d, %d, %d)", n, k, n_samples);
    RLC_TRY(check_examples(ex, n));
    int *correct = rlc_calloc((size_t)(n ? n : 1), sizeof *correct);
    if (!correct) return rlc_errorf(RLC_ERR_NOMEM, "eval: out of memory");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n_samples; j++) {
            const char *c = completions[(size_t)i * n_samples + j];
            correct[i] += c && rlc_math_grade(c, ex[i].answer);
        }
    memset(r, 0, sizeof *r);
    tally(correct, n, n_samples, k, r);
    rlc_free(correct);
    return RLC_OK;
}

// ---- generation -------------------------------------------------------------------

typedef struct {
    const tok_tokenizer *tok;
    const lrn_eval_example *ex;
    const lrn_eval_options *o;
    int n_samples, max_new;
    int first_id;          // sequence id of sample 0 of example 0
    int *tokens;           // (n * n_samples, max_new) completion tokens
    int *len;              // (n * n_samples)
    int *correct;          // (n) correct samples per example
    long truncated;
    long long completion_tokens;
    rlc_status status;     // a decode failure inside the callback
} eval_run;

// Decodes and grades one finished completion.
static void grade(eval_run *e, int seq, actor_finish finish) {
    int example = seq / e->n_samples, sample = seq % e->n_samples;
    char *text = NULL;
    size_t text_len;
    rlc_status s = tok_decode(e->tok, e->tokens + (size_t)seq * e->max_new, (size_t)e->len[seq],
                              TOK_DECODE_SKIP_SPECIAL, &text, &text_len);
    if (s != RLC_OK) {
        if (e->status == RLC_OK) e->status = s;
        return;
    }
    int ok = rlc_math_grade(text, e->ex[example].answer);
    e->correct[example] += ok;
    e->completion_tokens += e->len[seq];
    e->truncated += finish == ACTOR_FINISH_LENGTH;
    if (e->o->on_sample) e->o->on_sample(e->o->ud, example, sample, text, e->len[seq], ok, finish);
    rlc_free(text);
}

static int on_token(void *ud, int seq_id, int token, float logprob, actor_finish finish) {
    eval_run *e = ud;
    int seq = seq_id - e->first_id;
    int eos = finish == ACTOR_FINISH_STOP || tok_is_eos(e->tok, token);
    if (!eos && e->len[seq] < e->max_new) e->tokens[(size_t)seq * e->max_new + e->len[seq]++] = token;
    if (eos) finish = ACTOR_FINISH_STOP;
    if (finish != ACTOR_FINISH_NONE) grade(e, seq, finish);
    return eos;  // the tokenizer's eos when the model's config does not list it
}

// Encodes every prompt and queues it (n_samples times, sharing the prefill).
static rlc_status queue_all(actor_gen *g, eval_run *e, int **prompts, const int *n_prompt, int n) {
    const lrn_eval_options *o = e->o;
    for (int i = 0; i < n; i++) {
        actor_sampling s = actor_sampling_default();
        s.temperature = o->temperature;
        s.top_p = o->top_p;
        s.top_k = o->top_k;
        s.seed = o->seed + (uint64_t)i;
        s.max_new_tokens = e->max_new;
        int id;
        if (e->n_samples == 1) RLC_TRY(actor_gen_add(g, prompts[i], n_prompt[i], &s, &id));
        else RLC_TRY(actor_gen_add_group(g, prompts[i], n_prompt[i], e->n_samples, &s, &id));
        if (i == 0) e->first_id = id;
        if (id != e->first_id + i * e->n_samples)
            return rlc_errorf(RLC_ERR_STATE, "eval: the generator numbered example %d's first sequence %d", i, id);
    }
    return RLC_OK;
}

static rlc_status check_options(const lrn_eval_options *o, int n) {
    int n_samples = o->temperature > 0 ? o->n_samples : 1;
    if (n < 0) return rlc_errorf(RLC_ERR_ARG, "eval: %d examples", n);
    if (o->batch < 1 || o->max_new_tokens < 1 || o->n_samples < 1)
        return rlc_errorf(RLC_ERR_ARG, "eval: need batch, max_new_tokens and n_samples >= 1");
    if (n_samples > o->batch)
        return rlc_errorf(RLC_ERR_ARG, "eval: %d samples per example do not fit in a batch of %d", n_samples, o->batch);
    if (o->k < 1 || o->k > n_samples)
        return rlc_errorf(RLC_ERR_ARG, "eval: pass@%d needs 1 <= k <= samples per example (%d%s)", o->k, n_samples,
                          o->temperature > 0 ? "" : ": greedy decoding takes one");
    if (!(o->temperature >= 0)) return rlc_errorf(RLC_ERR_ARG, "eval: temperature %g", (double)o->temperature);
    return RLC_OK;
}

rlc_status lrn_eval(actor_model *m, const tok_tokenizer *tok, const lrn_eval_example *ex, int n,
                    const lrn_eval_options *o, lrn_eval_result *r) {
    RLC_TRY(check_options(o, n));
    RLC_TRY(check_examples(ex, n));
    double t0 = rlc_now();
    eval_run e = {.tok = tok, .ex = ex, .o = o, .n_samples = o->temperature > 0 ? o->n_samples : 1,
                  .max_new = o->max_new_tokens};
    size_t n_seq = (size_t)n * e.n_samples;
    int **prompts = rlc_calloc((size_t)(n ? n : 1), sizeof *prompts);
    int *n_prompt = rlc_calloc((size_t)(n ? n : 1), sizeof *n_prompt);
    e.tokens = rlc_malloc((n_seq ? n_seq : 1) * (size_t)e.max_new * sizeof *e.tokens);
    e.len = rlc_calloc(n_seq ? n_seq : 1, sizeof *e.len);
    e.correct = rlc_calloc((size_t)(n ? n : 1), sizeof *e.correct);
    rlc_status s = prompts && n_prompt && e.tokens && e.len && e.correct ? RLC_OK
                                                                           : rlc_errorf(RLC_ERR_NOMEM, "eval: out of memory");
    const actor_config *cfg = actor_model_config(m);
    int longest = 1;
    long long prompt_tokens = 0;
    for (int i = 0; i < n && s == RLC_OK; i++) {
        size_t len;
        s = tok_encode(tok, ex[i].prompt, strlen(ex[i].prompt), o->add_special ? TOK_ENCODE_ADD_SPECIAL : 0,
                       &prompts[i], &len);
        if (s == RLC_OK && (len == 0 || (cfg->max_position > 0 && (long)len >= cfg->max_position)))
            s = rlc_errorf(RLC_ERR_ARG, "eval: example %d: a prompt of %zu tokens (the model's context is %d)", i, len,
                           cfg->max_position);
        if (s == RLC_OK) n_prompt[i] = (int)len, prompt_tokens += (long long)len;
        if (s == RLC_OK && (int)len > longest) longest = (int)len;
    }
    int max_seq = longest + e.max_new;
    if (cfg->max_position > 0 && max_seq > cfg->max_position) max_seq = cfg->max_position;
    actor_gen *g = NULL;
    int slots = o->batch < (int)n_seq ? o->batch : (int)(n_seq > 0 ? n_seq : 1);
    if (slots < e.n_samples) slots = e.n_samples;
    if (s == RLC_OK && n > 0) s = actor_gen_create(m, slots, max_seq, &g);
    if (s == RLC_OK && n > 0) s = queue_all(g, &e, prompts, n_prompt, n);
    int pending = n > 0;
    while (s == RLC_OK && e.status == RLC_OK && pending > 0) s = actor_gen_step(g, on_token, &e, &pending);
    if (s == RLC_OK) s = e.status;
    if (s == RLC_OK) {
        memset(r, 0, sizeof *r);
        tally(e.correct, n, e.n_samples, o->k, r);
        r->truncated = e.truncated;
        r->prompt_tokens = prompt_tokens;
        r->completion_tokens = e.completion_tokens;
        r->mean_len = n_seq ? (double)e.completion_tokens / (double)n_seq : 0;
        r->seconds = rlc_now() - t0;
        r->tokens_per_s = r->seconds > 0 ? (double)e.completion_tokens / r->seconds : 0;
    }
    actor_gen_free(g);
    for (int i = 0; prompts && i < n; i++) rlc_free(prompts[i]);
    rlc_free(prompts);
    rlc_free(n_prompt);
    rlc_free(e.tokens);
    rlc_free(e.len);
    rlc_free(e.correct);
    return s;
}

// ---- examples from JSONL ----------------------------------------------------------

void lrn_eval_set_free(lrn_eval_set *s) {
    for (int i = 0; s->ex && i < s->n; i++) {
        rlc_free((char *)s->ex[i].prompt);
        rlc_free((char *)s->ex[i].answer);
    }
    rlc_free(s->ex);
    memset(s, 0, sizeof *s);
}

// The reference of a record's answer field: a string (after the last "####"
// when it has one, trimmed) or a number.
static char *reference_of(const json_t *v) {
    char buf[64];
    if (json_is_integer(v)) snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    if (!json_is_string(v)) return json_is_number(v) ? rlc_strdup(buf) : NULL;
    const char *a = json_string_value(v), *h = NULL;
    for (const char *p = strstr(a, "####"); p; p = strstr(p + 4, "####")) h = p + 4;
    if (h) a = h;
    while (*a == ' ' || *a == '\t' || *a == '\n') a++;
    size_t len = strlen(a);
    while (len > 0 && (a[len - 1] == ' ' || a[len - 1] == '\t' || a[len - 1] == '\n' || a[len - 1] == '\r')) len--;
    return rlc_strndup(a, len);
}

// The prompt text of a field: as is ("raw") or rendered as one user message.
static rlc_status render(const chat_template *tpl, const char *text, char **out) {
    if (!tpl) return (*out = rlc_strdup(text)) ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "eval: out of memory");
    chat_message msg = {"user", text};
    size_t len;
    return chat_render(tpl, &msg, 1, 1, out, &len);
}

typedef struct {
    lrn_eval_set *set;
    int cap, n_max;
    const char *prompt_key, *answer_key;
    const chat_template *tpl;
} set_loader;

// One JSONL record (rlc_jsonl_fn) into the set.
static rlc_status add_record(void *ud, const json_t *rec, const char *where, int *stop) {
    set_loader *l = ud;
    lrn_eval_set *set = l->set;
    const char *q = json_string_value(json_object_get(rec, l->prompt_key));
    if (!q) return rlc_errorf(RLC_ERR_FORMAT, "%s: no string field \"%s\"", where, l->prompt_key);
    char *answer = reference_of(json_object_get(rec, l->answer_key));
    if (!answer) return rlc_errorf(RLC_ERR_FORMAT, "%s: no string or number field \"%s\"", where, l->answer_key);
    if (set->n == l->cap) {
        int c = l->cap ? 2 * l->cap : 256;
        lrn_eval_example *ex = rlc_realloc(set->ex, (size_t)c * sizeof *ex);
        if (!ex) {
            rlc_free(answer);
            return rlc_errorf(RLC_ERR_NOMEM, "eval: out of memory");
        }
        set->ex = ex;
        l->cap = c;
    }
    char *prompt = NULL;
    rlc_status s = render(l->tpl, q, &prompt);
    if (s != RLC_OK) {
        rlc_free(answer);
        return s;
    }
    set->ex[set->n++] = (lrn_eval_example){.prompt = prompt, .answer = answer};
    *stop = l->n_max > 0 && set->n >= l->n_max;
    return RLC_OK;
}

rlc_status lrn_eval_set_load(const char *path, const char *prompt_key, const char *answer_key,
                             const char *template_name, int n_max, lrn_eval_set *out) {
    memset(out, 0, sizeof *out);
    chat_template *tpl = NULL;
    const char *name = template_name && *template_name ? template_name : "plain";
    if (strcmp(name, "raw") != 0) RLC_TRY(chat_template_from_name(name, &tpl));
    set_loader l = {.set = out, .n_max = n_max, .prompt_key = prompt_key, .answer_key = answer_key, .tpl = tpl};
    rlc_status s = rlc_jsonl_each(path, add_record, &l);
    chat_template_free(tpl);
    if (s == RLC_OK && out->n == 0) s = rlc_errorf(RLC_ERR_FORMAT, "%s: no records", path);
    if (s != RLC_OK) lrn_eval_set_free(out);
    return s;
}
