// experiment.c: experiment files. An experiment is a Lua file returning a
// table of sections (model, data, algorithm, critic, sampling, reward, curriculum,
// output). It is checked against one table of defaults, the one below, which
// also writes docs/config.md (rlc config --doc): unknown keys name the
// nearest valid ones, types are checked, "a.b=value" overrides apply next,
// and last an algorithm preset (algorithm.name = dapo, drgrpo, gspo) fills
// the keys that neither set.
#include <errno.h>   // errno
#include <stdio.h>   // snprintf
#include <stdlib.h>  // strtod, strtoll
#include <string.h>  // strcmp, strchr

#include "core/core.h"  // rlc_errorf, rlc_malloc
#include "reward.h"

typedef enum { T_NUMBER, T_INT, T_BOOL, T_STRING, T_LIST, T_TABLE } field_type;

typedef struct exp_field {
    const char *key;  // "section.name"
    field_type type;
    const char *def;  // the default, as JSON text
    const char *doc;
} exp_field;

// The defaults follow verl's and TRL's GRPO recipes where they have one.
static const exp_field fields[] = {
    {"model.path", T_STRING, "\"\"", "Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)"},
    {"model.tokenizer", T_STRING, "\"\"", "tokenizer.json to use; empty: the one in model.path"},
    {"model.device", T_STRING, "\"cpu\"", "where the rollout workers generate and the learner trains: cpu, cuda or cuda:N (a CUDA build; the reference model, the critic and evaluation stay on the CPU)"},
    {"model.dtype", T_STRING, "\"bf16\"", "compute dtype on CUDA: bf16 or fp32 (the CPU path is fp32)"},
    {"model.gradient_checkpointing", T_BOOL, "false", "recompute activations in the backward pass"},

    {"data.sources", T_LIST, "[]", "list of {name=, path=JSONL, weight=}; the curriculum samples among them"},
    {"data.prompt_key", T_STRING, "\"question\"", "field of each JSONL record holding the question"},
    {"data.answer_key", T_STRING, "\"answer\"", "field holding the reference answer (sample.answer)"},
    {"data.messages_key", T_STRING, "\"messages\"", "field holding chat messages (SFT conversations)"},
    {"data.chat_template", T_STRING, "\"\"", "chat template name (chatml, qwen2.5, qwen3, llama3, plain); empty: from the tokenizer"},
    {"data.prompt_script", T_STRING, "\"\"", "Lua file defining prompt(example); empty: the model's chat template"},
    {"data.max_prompt_tokens", T_INT, "1024", "longer prompts are skipped and counted"},
    {"data.shuffle", T_BOOL, "true", "shuffle each source once per epoch"},
    {"data.seed", T_INT, "42", "seed of shuffling and sampling"},

    {"algorithm.name", T_STRING, "\"grpo\"", "grpo, dapo, drgrpo, gspo, rloo, reinforce++, reinforce++-baseline or ppo; a preset sets only the keys the file leaves unset (docs/algorithms.md)"},
    {"algorithm.steps", T_INT, "1000", "policy updates to run"},
    {"algorithm.batch_prompts", T_INT, "32", "prompts per step (each sampled group_size times)"},
    {"algorithm.group_size", T_INT, "8", "completions per prompt (GRPO's G, verl's rollout.n)"},
    {"algorithm.minibatch_prompts", T_INT, "32", "prompts per optimizer step inside a batch"},
    {"algorithm.ppo_epochs", T_INT, "1", "passes over each batch"},
    {"algorithm.lr", T_NUMBER, "1e-06", "AdamW learning rate"},
    {"algorithm.lr_warmup_steps", T_INT, "0", "linear warm-up steps"},
    {"algorithm.lr_schedule", T_STRING, "\"constant\"", "constant, cosine or linear (after the warm-up)"},
    {"algorithm.min_lr_ratio", T_NUMBER, "0.0", "floor of the cosine/linear decay, as a fraction of lr"},
    {"algorithm.adam_eps", T_NUMBER, "1e-08", "AdamW epsilon"},
    {"algorithm.micro_batch_tokens", T_INT, "2048", "tokens per packed micro-batch (gradient accumulation)"},
    {"algorithm.vocab_chunk", T_INT, "4096", "vocabulary ids per log-softmax chunk (bounds the learner's memory)"},
    {"algorithm.weight_decay", T_NUMBER, "0.0", "AdamW weight decay"},
    {"algorithm.adam_beta1", T_NUMBER, "0.9", "AdamW beta1"},
    {"algorithm.adam_beta2", T_NUMBER, "0.999", "AdamW beta2"},
    {"algorithm.max_grad_norm", T_NUMBER, "1.0", "gradient clipping by global norm"},
    {"algorithm.clip_low", T_NUMBER, "0.2", "PPO ratio clip below 1 (epsilon_low)"},
    {"algorithm.clip_high", T_NUMBER, "0.28", "PPO ratio clip above 1 (DAPO's clip-higher epsilon_high)"},
    {"algorithm.clip_ratio_c", T_NUMBER, "3.0", "dual clip: bound of the loss for negative advantages (0: off)"},
    {"algorithm.is_cap", T_NUMBER, "5.0", "decoupled PPO: cap C of the importance weight pi_prox / pi_behaviour"},
    {"algorithm.advantage", T_STRING, "\"grpo\"", "grpo, drgrpo, rloo, reinforce++ or reinforce++-baseline (other than grpo: overrides the name's estimator)"},
    {"algorithm.gamma", T_NUMBER, "1.0", "discount of the token rewards, in [0, 1] (REINFORCE++ returns, PPO's GAE)"},
    {"algorithm.policy_loss", T_STRING, "\"vanilla\"", "vanilla (per-token ratio) or gspo (sequence-level ratio, GSPO)"},
    {"algorithm.overlong_buffer", T_INT, "0", "DAPO soft overlong penalty: the last L_c tokens before sampling.max_new_tokens (0: off; the dapo preset uses max_new_tokens / 4)"},
    {"algorithm.overlong_penalty", T_NUMBER, "1.0", "DAPO soft overlong penalty factor: the reward drops linearly to -factor at max_new_tokens"},
    {"algorithm.adv_eps", T_NUMBER, "1e-06", "GRPO: eps in (r - mean) / (std + eps)"},
    {"algorithm.recompute_proximal", T_BOOL, "false", "recompute the old log-probs on the learner even when all data is current"},
    {"algorithm.accuracy_threshold", T_NUMBER, "1.0", "a sample counts as correct when its reward reaches this (or its \"correct\" component is >= 0.5)"},
    {"algorithm.kl_in_reward", T_BOOL, "false", "apply the KL penalty to the reward instead of the loss"},
    {"algorithm.kl_coef", T_NUMBER, "0.0", "KL penalty to the reference policy in the loss (0: no reference model)"},
    {"algorithm.kl_estimator", T_STRING, "\"k3\"", "k1, k2 or k3 (Schulman's estimators)"},
    {"algorithm.entropy_coef", T_NUMBER, "0.0", "entropy bonus"},
    {"algorithm.loss_agg", T_STRING, "\"token-mean\"", "token-mean, seq-mean-token-mean, seq-mean-token-sum or seq-mean-token-sum-norm"},
    {"algorithm.loss_agg_norm", T_NUMBER, "0.0", "seq-mean-token-sum-norm's constant normalizer (0: the step's longest completion)"},
    {"algorithm.is_mode", T_STRING, "\"truncate\"", "decoupled PPO weight above is_cap: truncate (min(w, C)) or mask (drop the token, as AReaL)"},
    {"algorithm.norm_adv_by_std", T_BOOL, "true", "GRPO: divide advantages by the group's std (false: Dr. GRPO)"},
    {"algorithm.dynamic_sampling", T_BOOL, "false", "DAPO: drop groups whose rewards are all equal and sample more"},
    {"algorithm.max_resample", T_INT, "0", "DAPO: replacement prompts per step at most (0: batch_prompts)"},
    {"algorithm.max_staleness", T_INT, "0", "policy versions a trajectory may lag (0: synchronous on-policy)"},
    {"algorithm.adaptive_sampling", T_STRING, "\"off\"", "Reinforce-Ada: off, balanced or positive (docs/algorithms.md)"},
    {"algorithm.ada_rounds", T_INT, "4", "Reinforce-Ada: sampling rounds per prompt at most"},
    {"algorithm.ada_samples_per_round", T_INT, "0", "Reinforce-Ada: samples per round m (0: group_size)"},
    {"algorithm.ada_positive_threshold", T_NUMBER, "1.0", "Reinforce-Ada: a sample is positive when its reward reaches this"},
    {"algorithm.lam", T_NUMBER, "1.0", "PPO: GAE's lambda (1: Monte-Carlo returns minus the value baseline)"},

    {"critic.path", T_STRING, "\"\"", "PPO: folder to start the value model from (a saved critic or a causal LM); empty: the policy's weights"},
    {"critic.lr", T_NUMBER, "1e-05", "PPO: the critic's AdamW learning rate"},
    {"critic.lr_warmup_steps", T_INT, "0", "PPO: linear warm-up steps of the critic's learning rate"},
    {"critic.weight_decay", T_NUMBER, "0.01", "PPO: the critic's AdamW weight decay"},
    {"critic.max_grad_norm", T_NUMBER, "1.0", "PPO: the critic's gradient clipping by global norm"},
    {"critic.cliprange_value", T_NUMBER, "0.5", "PPO: value clipping around the old values (verl's cliprange_value)"},

    {"sampling.max_new_tokens", T_INT, "1024", "completion length limit (finish_reason \"length\")"},
    {"sampling.temperature", T_NUMBER, "1.0", "sampling temperature; the learner divides its logits by it too (log_softmax(logits / T), as verl and TRL)"},
    {"sampling.top_p", T_NUMBER, "1.0", "nucleus sampling (1: off)"},
    {"sampling.top_k", T_INT, "0", "top-k sampling (0: off)"},
    {"sampling.stop", T_LIST, "[]", "extra stop strings"},

    {"reward.funcs", T_LIST, "[]", "list of {script=FILE.lua, weight=1, name=}; the score is the weighted sum"},
    {"reward.failure_score", T_NUMBER, "0.0", "score of a sample whose reward script fails"},
    {"reward.threads", T_INT, "2", "reward threads per rollout worker (one Lua state each)"},
    {"reward.max_instructions", T_INT, "10000000", "Lua instruction budget per call"},
    {"reward.max_memory_mb", T_INT, "64", "memory limit per Lua state, MiB"},
    {"reward.max_seconds", T_NUMBER, "1.0", "wall-time limit per call"},

    {"curriculum.script", T_STRING, "\"\"", "Lua file defining curriculum(state); empty: sources by weight"},
    {"curriculum.window", T_INT, "256", "samples per source in the statistics window"},
    {"curriculum.every", T_INT, "1", "steps between curriculum calls"},
    {"curriculum.params", T_TABLE, "{}", "named settings handed to curriculum(state) as state.params (e.g. {c = 1, tau = 0.1})"},

    {"rollout.workers", T_INT, "1", "rollout worker threads in `rlc train` (each holds a copy of the weights)"},
    {"rollout.slots", T_INT, "16", "sequences each worker decodes together (KV-cache slots)"},
    {"rollout.max_credit", T_INT, "4", "prompt requests a worker holds at once"},
    {"rollout.threads", T_INT, "0", "CPU threads of the decoder and the learner (0: all cores)"},
    {"rollout.heartbeat_s", T_NUMBER, "1.0", "heartbeat interval, both ways"},
    {"rollout.timeout_s", T_NUMBER, "30.0", "a worker (or the learner) silent this long is declared dead"},
    {"rollout.weight_sync", T_STRING, "\"auto\"", "how new weights reach the workers: auto (an NCCL broadcast to workers on a GPU when the learner trains on one, in a build with NCCL; ZeroMQ chunks otherwise), zmq, or nccl (an error where it cannot work)"},
    {"rollout.endpoint", T_STRING, "\"inproc://rlc-learner\"", "where the learner binds (rlc learner: e.g. tcp://*:5555)"},

    {"eval.path", T_STRING, "\"\"", "held-out JSONL evaluated every output.eval_every steps and at the start and end"},
    {"eval.n", T_INT, "500", "held-out examples evaluated (the first n)"},
    {"eval.k", T_INT, "1", "pass@k (k > 1 samples at eval.temperature)"},
    {"eval.temperature", T_NUMBER, "0.0", "0: greedy pass@1"},
    {"eval.max_new_tokens", T_INT, "0", "0: sampling.max_new_tokens"},

    {"output.dir", T_STRING, "\"runs/exp\"", "run directory: metrics.jsonl, checkpoints"},
    {"output.log_every", T_INT, "1", "steps between metric lines"},
    {"output.save_every", T_INT, "100", "steps between checkpoints (0: only the last)"},
    {"output.eval_every", T_INT, "0", "steps between evaluations (0: never)"},
    {"output.keep_checkpoints", T_INT, "0", "checkpoints kept (0: all)"},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

static const char *const type_names[] = {"number", "integer", "boolean", "string", "list", "table"};
static const char *const type_articles[] = {"a number", "an integer", "a boolean", "a string", "a list", "a table"};

struct rlc_exp {
    json_t *root;  // {section: {key: value}}
    json_t *set;   // {"section.key": true} for each key the file or an override gave
};

// ---- nearest keys ----------------------------------------------------------

static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

// Appends ' (did you mean "x" or "y"?)' with the nearest keys, if any are near.
static void nearest_keys(const char *key, char *buf, size_t cap) {
    int best[3] = {99, 99, 99};
    const char *name[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < N_FIELDS; i++) {
        int d = edit_distance(key, fields[i].key);
        // also match the part after the dot alone ("lr" -> "algorithm.lr")
        const char *dot = strchr(fields[i].key, '.');
        int d2 = edit_distance(key, dot + 1);
        if (d2 < d) d = d2;
        for (int k = 0; k < 3; k++)
            if (d < best[k]) {
                for (int m = 2; m > k; m--) best[m] = best[m - 1], name[m] = name[m - 1];
                best[k] = d;
                name[k] = fields[i].key;
                break;
            }
    }
    int limit = (int)strlen(key) / 3 + 1;
    if (limit < 2) limit = 2;
    buf[0] = '\0';
    if (!name[0] || best[0] > limit) return;
    size_t n = (size_t)snprintf(buf, cap, " (did you mean \"%s\"", name[0]);
    for (int k = 1; k < 3 && n < cap; k++)
        if (name[k] && best[k] <= best[0] + 1 && best[k] <= limit)
            n += (size_t)snprintf(buf + n, cap - n, " or \"%s\"", name[k]);
    if (n < cap) snprintf(buf + n, cap - n, "?)");
}

static const exp_field *find_field(const char *key) {
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].key, key) == 0) return &fields[i];
    return NULL;
}

static int is_section(const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strncmp(fields[i].key, name, n) == 0 && fields[i].key[n] == '.') return 1;
    return 0;
}

static const char *const sections[] = {"model", "data", "algorithm", "critic", "sampling", "reward", "curriculum", "output"};

// An unknown section names the nearest section.
static void nearest_section(const char *name, char *buf, size_t cap) {
    int best = 99;
    const char *pick = NULL;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        int d = edit_distance(name, sections[i]);
        // a prefix ("algo") is as good as a near miss
        if (strncmp(sections[i], name, strlen(name)) == 0) d = 1;
        if (d < best) best = d, pick = sections[i];
    }
    buf[0] = '\0';
    if (pick && best <= (int)strlen(name) / 2 + 1) snprintf(buf, cap, " (did you mean \"%s\"?)", pick);
}

static rlc_status unknown_key(const char *what, const char *key) {
    char hint[160];
    if (strchr(key, '.')) nearest_keys(key, hint, sizeof hint);
    else nearest_section(key, hint, sizeof hint);
    return rlc_errorf(RLC_ERR_CONFIG, "%s: unknown key \"%s\"%s", what, key, hint);
}

// ---- types -----------------------------------------------------------------------

static int type_ok(field_type t, const json_t *v) {
    switch (t) {
    case T_NUMBER: return json_is_number(v);
    case T_INT: return json_is_integer(v) || (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v));
    case T_BOOL: return json_is_boolean(v);
    case T_STRING: return json_is_string(v);
    case T_LIST: return json_is_array(v) || (json_is_object(v) && json_object_size(v) == 0);
    case T_TABLE: return json_is_object(v) || (json_is_array(v) && json_array_size(v) == 0);
    }
    return 0;
}

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "a table";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

// Stores v (stolen) at key, converting integral reals for integer fields.
static void set_value(json_t *root, const exp_field *f, json_t *v) {
    char section[64];
    const char *dot = strchr(f->key, '.');
    snprintf(section, sizeof section, "%.*s", (int)(dot - f->key), f->key);
    json_t *sec = json_object_get(root, section);
    if (f->type == T_INT && json_is_real(v)) {
        json_t *i = json_integer((json_int_t)json_real_value(v));
        json_decref(v);
        v = i;
    }
    if (f->type == T_LIST && json_is_object(v)) {  // {} from Lua is an empty list
        json_decref(v);
        v = json_array();
    }
    if (f->type == T_TABLE && json_is_array(v)) {  // and [] an empty table
        json_decref(v);
        v = json_object();
    }
    json_object_set_new(sec, dot + 1, v);
}

// The items of the lists of tables: their keys and types.
typedef struct item_field {
    const char *list, *key;
    field_type type;
    int required;
} item_field;

static const item_field item_fields[] = {
    {"data.sources", "name", T_STRING, 1},   {"data.sources", "path", T_STRING, 1},
    {"data.sources", "weight", T_NUMBER, 0}, {"reward.funcs", "script", T_STRING, 1},
    {"reward.funcs", "weight", T_NUMBER, 0}, {"reward.funcs", "name", T_STRING, 0},
};
#define N_ITEM_FIELDS (sizeof item_fields / sizeof item_fields[0])

static rlc_status check_items(const char *what, const char *key, const json_t *list) {
    int known = 0;
    for (size_t k = 0; k < N_ITEM_FIELDS; k++) known |= !strcmp(item_fields[k].list, key);
    if (!known) return RLC_OK;
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item) {
        if (!json_is_object(item))
            return rlc_errorf(RLC_ERR_CONFIG, "%s: %s[%zu] must be a table (got %s)", what, key, i + 1,
                              json_type_name(item));
        const char *ik;
        const json_t *iv;
        json_object_foreach((json_t *)item, ik, iv) {
            const item_field *f = NULL;
            for (size_t k = 0; k < N_ITEM_FIELDS; k++)
                if (!strcmp(item_fields[k].list, key) && !strcmp(item_fields[k].key, ik)) f = &item_fields[k];
            if (!f) return rlc_errorf(RLC_ERR_CONFIG, "%s: %s[%zu]: unknown key \"%s\"", what, key, i + 1, ik);
            if (!type_ok(f->type, iv))
                return rlc_errorf(RLC_ERR_CONFIG, "%s: %s[%zu].%s must be %s (got %s)", what, key, i + 1, ik,
                                  type_articles[f->type], json_type_name(iv));
        }
        for (size_t k = 0; k < N_ITEM_FIELDS; k++)
            if (!strcmp(item_fields[k].list, key) && item_fields[k].required &&
                !json_object_get(item, item_fields[k].key))
                return rlc_errorf(RLC_ERR_CONFIG, "%s: %s[%zu] needs %s", what, key, i + 1, item_fields[k].key);
    }
    return RLC_OK;
}

static rlc_status check_and_set(json_t *root, json_t *set, const char *what, const char *key, json_t *v) {
    const exp_field *f = find_field(key);
    if (!f) return unknown_key(what, key);
    if (!type_ok(f->type, v))
        return rlc_errorf(RLC_ERR_CONFIG, "%s: \"%s\" must be %s (got %s)", what, key,
                          type_articles[f->type], json_type_name(v));
    if (json_is_array(v)) RLC_TRY(check_items(what, key, v));
    set_value(root, f, json_incref(v));
    json_object_set_new(set, f->key, json_true());
    return RLC_OK;
}

static json_t *defaults_json(void) {
    json_t *root = json_object();
    for (size_t i = 0; i < N_FIELDS; i++) {
        char section[64];
        const char *dot = strchr(fields[i].key, '.');
        snprintf(section, sizeof section, "%.*s", (int)(dot - fields[i].key), fields[i].key);
        if (!json_object_get(root, section)) json_object_set_new(root, section, json_object());
        json_t *v = json_loads(fields[i].def, JSON_DECODE_ANY, NULL);
        set_value(root, &fields[i], v);
    }
    return root;
}

// Merges the file's table (section -> key -> value) into root.
static rlc_status merge_file(json_t *root, json_t *set, const json_t *file, const char *what) {
    if (!json_is_object(file)) return rlc_errorf(RLC_ERR_CONFIG, "%s: must return a table of sections", what);
    const char *sec;
    json_t *body;
    json_object_foreach((json_t *)file, sec, body) {
        if (!is_section(sec)) return unknown_key(what, sec);
        if (!json_is_object(body))
            return rlc_errorf(RLC_ERR_CONFIG, "%s: section \"%s\" must be a table (got %s)", what, sec,
                              json_type_name(body));
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) {
            char key[160];
            snprintf(key, sizeof key, "%s.%s", sec, k);
            RLC_TRY(check_and_set(root, set, what, key, v));
        }
    }
    return RLC_OK;
}

// "a.b=value": the value is read by the key's type.
static rlc_status apply_override(json_t *root, json_t *set, const char *ov) {
    char what[256];
    snprintf(what, sizeof what, "--set %s", ov);
    const char *eq = strchr(ov, '=');
    if (!eq) return rlc_errorf(RLC_ERR_CONFIG, "%s: expected key=value", what);
    char key[160];
    snprintf(key, sizeof key, "%.*s", (int)(eq - ov), ov);
    const char *val = eq + 1;
    const exp_field *f = find_field(key);
    if (!f) return unknown_key(what, key);
    json_t *v = NULL;
    char *end;
    errno = 0;
    switch (f->type) {
    case T_NUMBER: {
        double d = strtod(val, &end);
        if (*val && !*end && !errno) v = json_real(d);
        break;
    }
    case T_INT: {
        long long x = strtoll(val, &end, 10);
        if (*val && !*end && !errno) v = json_integer(x);
        break;
    }
    case T_BOOL:
        if (!strcmp(val, "true") || !strcmp(val, "1")) v = json_true();
        else if (!strcmp(val, "false") || !strcmp(val, "0")) v = json_false();
        break;
    case T_STRING: v = json_string(val); break;
    case T_LIST:
    case T_TABLE: v = json_loads(val, 0, NULL); break;
    }
    if (!v || !type_ok(f->type, v)) {
        json_decref(v);
        return rlc_errorf(RLC_ERR_CONFIG, "%s: \"%s\" must be %s%s", what, key, type_articles[f->type],
                          f->type == T_LIST ? " (JSON array)" : f->type == T_TABLE ? " (JSON object)" : "");
    }
    if (json_is_array(v)) {
        rlc_status st = check_items(what, key, v);
        if (st != RLC_OK) {
            json_decref(v);
            return st;
        }
    }
    set_value(root, f, v);
    json_object_set_new(set, f->key, json_true());
    return RLC_OK;
}

// ---- algorithm presets ----------------------------------------------------------

// algorithm.name = "dapo", "drgrpo" or "gspo" gives these keys these values
// where neither the file nor an override set them (docs/algorithms.md).
// "max_new_tokens" and "max_new_tokens/4" are derived from sampling.max_new_tokens.
typedef struct preset {
    const char *name, *key, *value;  // value as JSON text
} preset;

static const preset presets[] = {
    {"dapo", "algorithm.clip_low", "0.2"},
    {"dapo", "algorithm.clip_high", "0.28"},
    {"dapo", "algorithm.loss_agg", "\"token-mean\""},
    {"dapo", "algorithm.dynamic_sampling", "true"},
    {"dapo", "algorithm.overlong_buffer", "max_new_tokens/4"},
    {"drgrpo", "algorithm.norm_adv_by_std", "false"},
    {"drgrpo", "algorithm.loss_agg", "\"seq-mean-token-sum-norm\""},
    {"drgrpo", "algorithm.loss_agg_norm", "max_new_tokens"},
    {"gspo", "algorithm.policy_loss", "\"gspo\""},
    {"gspo", "algorithm.clip_low", "0.0003"},
    {"gspo", "algorithm.clip_high", "0.0004"},
    {"gspo", "algorithm.loss_agg", "\"seq-mean-token-mean\""},
};

static rlc_status apply_presets(json_t *root, const json_t *set) {
    const char *name = json_string_value(json_object_get(json_object_get(root, "algorithm"), "name"));
    json_int_t L = json_integer_value(json_object_get(json_object_get(root, "sampling"), "max_new_tokens"));
    for (size_t i = 0; name && i < sizeof presets / sizeof presets[0]; i++) {
        const preset *p = &presets[i];
        if (strcmp(p->name, name) != 0 || json_object_get(set, p->key)) continue;
        json_t *v = !strcmp(p->value, "max_new_tokens/4") ? json_integer(L / 4)
                    : !strcmp(p->value, "max_new_tokens") ? json_real((double)L)
                                                           : json_loads(p->value, JSON_DECODE_ANY, NULL);
        if (!v) return rlc_errorf(RLC_ERR_NOMEM, "experiment: out of memory");
        set_value(root, find_field(p->key), v);
    }
    return RLC_OK;
}

// ---- devices ---------------------------------------------------------------------

rlc_status rlc_exp_parse_device(const char *value, int *ordinal) {
    *ordinal = -1;
    if (value && strcmp(value, "cpu") == 0) return RLC_OK;
    if (value && strcmp(value, "cuda") == 0) {
        *ordinal = 0;
        return RLC_OK;
    }
    if (value && strncmp(value, "cuda:", 5) == 0 && value[5] >= '0' && value[5] <= '9') {
        char *end;
        errno = 0;
        long n = strtol(value + 5, &end, 10);
        if (!*end && !errno && n <= 1024) {
            *ordinal = (int)n;
            return RLC_OK;
        }
    }
    return rlc_errorf(RLC_ERR_CONFIG, "experiment: model.device \"%s\" is not a device (use \"cpu\", \"cuda\" or \"cuda:N\")",
                      value ? value : "(null)");
}

// The values of model.device and model.dtype (their types are checked already).
static rlc_status check_model(const json_t *root) {
    const json_t *model = json_object_get(root, "model");
    int ordinal;
    RLC_TRY(rlc_exp_parse_device(json_string_value(json_object_get(model, "device")), &ordinal));
    const char *dtype = json_string_value(json_object_get(model, "dtype"));
    if (strcmp(dtype, "bf16") != 0 && strcmp(dtype, "fp32") != 0)
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: model.dtype \"%s\" is not a dtype (use \"bf16\" or \"fp32\")", dtype);
    rlc_wsync_mode ws;
    return rlc_wsync_mode_parse(json_string_value(json_object_get(json_object_get(root, "rollout"), "weight_sync")), &ws);
}

// Applies the overrides and the presets, checks the model's device and
// dtype, and wraps root and set (both taken, freed on error).
static rlc_status finish(json_t *root, json_t *set, const char *const *ov, int n_ov, rlc_exp **out) {
    rlc_status st = root && set ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "experiment: out of memory");
    for (int i = 0; st == RLC_OK && i < n_ov; i++) st = apply_override(root, set, ov[i]);
    if (st == RLC_OK) st = apply_presets(root, set);
    if (st == RLC_OK) st = check_model(root);
    rlc_exp *e = st == RLC_OK ? rlc_calloc(1, sizeof *e) : NULL;
    if (st == RLC_OK && !e) st = rlc_errorf(RLC_ERR_NOMEM, "experiment: out of memory");
    if (st != RLC_OK) {
        json_decref(root);
        json_decref(set);
        return st;
    }
    e->root = root;
    e->set = set;
    *out = e;
    return RLC_OK;
}

rlc_status rlc_exp_defaults(const char *const *overrides, int n_overrides, rlc_exp **out) {
    *out = NULL;
    return finish(defaults_json(), json_object(), overrides, n_overrides, out);
}

#define EXP_MAX_BASES 8  // a longer chain of `base` files is taken for a cycle

// Merges the experiment file at path into root / set: first the file its
// top-level `base = "FILE"` names (relative to this file's folder unless it
// starts with '/'), recursively, then this file's own sections over it. Keys
// a base sets count as set (presets leave them alone), as the file's own do.
static rlc_status load_layer(json_t *root, json_t *set, const char *path, int depth) {
    rlc_script *s;
    RLC_TRY(rlc_script_create(NULL, &s));
    int id;
    json_t *file = NULL;
    rlc_status st = rlc_script_load_file(s, path, &id);
    if (st == RLC_OK) st = rlc_script_return_json(s, id, &file);
    rlc_script_free(s);
    if (st != RLC_OK) return rlc_error_wrap(st == RLC_ERR_LUA ? RLC_ERR_CONFIG : st, "experiment");
    const char *slash = strrchr(path, '/');
    const char *what = slash ? slash + 1 : path;
    const json_t *base = json_is_object(file) ? json_object_get(file, "base") : NULL;
    if (base && !json_is_string(base))
        st = rlc_errorf(RLC_ERR_CONFIG, "%s: \"base\" must be a file name (a string)", path);
    else if (base && depth >= EXP_MAX_BASES)
        st = rlc_errorf(RLC_ERR_CONFIG, "%s: more than %d nested \"base\" files (a cycle?)", path, EXP_MAX_BASES);
    else if (base) {
        const char *b = json_string_value(base);
        char full[4096];
        int dir = slash && b[0] != '/' ? (int)(slash - path) + 1 : 0;
        if (snprintf(full, sizeof full, "%.*s%s", dir, path, b) >= (int)sizeof full)
            st = rlc_errorf(RLC_ERR_CONFIG, "%s: \"base\" path too long", path);
        else st = load_layer(root, set, full, depth + 1);
        if (st != RLC_OK) st = rlc_error_wrap(st, "%s: base", path);
        else json_object_del(file, "base");
    }
    if (st == RLC_OK) st = merge_file(root, set, file, what);
    json_decref(file);
    return st;
}

rlc_status rlc_exp_load(const char *path, const char *const *overrides, int n_overrides, rlc_exp **out) {
    *out = NULL;
    json_t *root = defaults_json(), *set = json_object();
    rlc_status st = root && set ? load_layer(root, set, path, 0) : rlc_errorf(RLC_ERR_NOMEM, "experiment: out of memory");
    if (st != RLC_OK) {
        json_decref(root);
        json_decref(set);
        return st;
    }
    return finish(root, set, overrides, n_overrides, out);
}

void rlc_exp_free(rlc_exp *e) {
    if (!e) return;
    json_decref(e->root);
    json_decref(e->set);
    rlc_free(e);
}

const json_t *rlc_exp_json(const rlc_exp *e) { return e->root; }

int rlc_exp_is_set(const rlc_exp *e, const char *key) {
    return e && key && json_object_get(e->set, key) != NULL;
}

static rlc_status get(const rlc_exp *e, const char *key, field_type t, const json_t **v) {
    const exp_field *f = find_field(key);
    if (!f) return unknown_key("experiment", key);
    if (f->type != t && !(t == T_NUMBER && f->type == T_INT))
        return rlc_errorf(RLC_ERR_CONFIG, "experiment: \"%s\" is %s, not %s", key, type_articles[f->type],
                          type_articles[t]);
    char section[64];
    const char *dot = strchr(key, '.');
    snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
    *v = json_object_get(json_object_get(e->root, section), dot + 1);
    return RLC_OK;
}

rlc_status rlc_exp_get_number(const rlc_exp *e, const char *key, double *out) {
    const json_t *v;
    RLC_TRY(get(e, key, T_NUMBER, &v));
    *out = json_number_value(v);
    return RLC_OK;
}

rlc_status rlc_exp_get_int(const rlc_exp *e, const char *key, long long *out) {
    const json_t *v;
    RLC_TRY(get(e, key, T_INT, &v));
    *out = (long long)json_integer_value(v);
    return RLC_OK;
}

rlc_status rlc_exp_get_bool(const rlc_exp *e, const char *key, int *out) {
    const json_t *v;
    RLC_TRY(get(e, key, T_BOOL, &v));
    *out = json_is_true(v);
    return RLC_OK;
}

rlc_status rlc_exp_get_string(const rlc_exp *e, const char *key, const char **out) {
    const json_t *v;
    RLC_TRY(get(e, key, T_STRING, &v));
    *out = json_string_value(v);
    return RLC_OK;
}

rlc_status rlc_exp_get_json(const rlc_exp *e, const char *key, const json_t **out) {
    const exp_field *f = find_field(key);
    return get(e, key, f && f->type == T_TABLE ? T_TABLE : T_LIST, out);
}

// ---- docs/config.md -----------------------------------------------------------------

char *rlc_exp_doc_markdown(void) {
    size_t cap = 32768, n = 0;
    char *buf = rlc_malloc(cap);
    if (!buf) return NULL;
#define OUT(...) (n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
    OUT("# Experiment files\n\n"
        "<!-- generated by `rlc config --doc` from reward/experiment.c; do not edit -->\n\n"
        "An experiment is a Lua file that returns a table of sections. Every key has a\n"
        "default (below); the file sets the ones it changes, and `--set section.key=value`\n"
        "on the command line overrides any of them last. An unknown key is an error that\n"
        "names the nearest valid keys; a value of the wrong type is an error too.\n\n"
        "```lua\n"
        "-- my_experiment.lua\n"
        "return {\n"
        "  model = { path = \"models/Qwen2.5-0.5B-Instruct\" },\n"
        "  data = { sources = { {name = \"gsm8k\", path = \"data/gsm8k/train.jsonl\", weight = 1} } },\n"
        "  algorithm = { lr = 1e-6, group_size = 8 },\n"
        "  reward = { funcs = { {script = \"scripts/rewards/gsm8k.lua\", weight = 1} } },\n"
        "}\n"
        "```\n\n"
        "`rlc config EXP.lua --set algorithm.lr=2e-6` prints the resolved experiment as JSON.\n\n"
        "A file can start from another: `base = \"arith.lua\"` (relative to the file's folder)\n"
        "loads that file first and this file's sections go over it, key by key (a list, such as\n"
        "`data.sources`, is replaced whole). Bases nest up to 8 deep. Keys a base sets count as\n"
        "set, so an algorithm preset (`algorithm.name = \"dapo\"`, docs/algorithms.md) does not\n"
        "change them. scripts/experiments/arith_*.lua are built this way on arith.lua.\n");
    const char *last = "";
    size_t last_len = 0;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *dot = strchr(fields[i].key, '.');
        size_t ls = (size_t)(dot - fields[i].key);
        if (last_len != ls || strncmp(last, fields[i].key, ls) != 0) {
            OUT("\n## %.*s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", (int)ls, fields[i].key);
            last = fields[i].key;
            last_len = ls;
        }
        OUT("| `%s` | %s | `%s` | %s |\n", fields[i].key, type_names[fields[i].type], fields[i].def,
            fields[i].doc);
    }
#undef OUT
    if (n >= cap) {
        rlc_free(buf);
        return NULL;
    }
    return buf;
}

rlc_status rlc_exp_reward_config(const rlc_exp *e, rlc_reward_func *funcs, int max, rlc_reward_config *cfg) {
    const json_t *list;
    RLC_TRY(rlc_exp_get_json(e, "reward.funcs", &list));
    size_t n = json_array_size(list);
    if (n == 0) return rlc_errorf(RLC_ERR_CONFIG, "experiment: reward.funcs is empty");
    if (n > (size_t)max) return rlc_errorf(RLC_ERR_CONFIG, "experiment: reward.funcs has %zu entries (at most %d)", n, max);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(list, i);
        const json_t *w = json_object_get(item, "weight");
        funcs[i] = (rlc_reward_func){
            .path = json_string_value(json_object_get(item, "script")),
            .name = json_string_value(json_object_get(item, "name")),
            .weight = w ? json_number_value(w) : 1.0,
        };
    }
    long long instr, mem_mb;
    double secs;
    RLC_TRY(rlc_exp_get_int(e, "reward.max_instructions", &instr));
    RLC_TRY(rlc_exp_get_int(e, "reward.max_memory_mb", &mem_mb));
    RLC_TRY(rlc_exp_get_number(e, "reward.max_seconds", &secs));
    RLC_TRY(rlc_exp_get_number(e, "reward.failure_score", &cfg->failure_score));
    if (instr <= 0 || mem_mb < 1 || mem_mb > (1 << 20) || !(secs > 0))
        return rlc_errorf(RLC_ERR_CONFIG,
                          "experiment: reward limits must be positive (max_instructions, max_memory_mb, max_seconds)");
    cfg->funcs = funcs;
    cfg->n_funcs = (int)n;
    cfg->limits = (rlc_lua_limits){instr, (size_t)mem_mb << 20, secs};
    return RLC_OK;
}
