// critic.c: the PPO value model (critic.h): a tied copy of the policy's
// trunk, a scalar head, its gradient, a joint clip and two AdamW states
// (trunk, head), and the transformers *ForTokenClassification folder.
#include <math.h>    // sqrt, isfinite
#include <string.h>  // memcpy, memset, strcmp

#include "actor/safetensors.h"  // safetensors_set_open, safetensors_open, safetensors_write
#include "actor/weights.h"      // actor_weights_load
#include "checkpoint.h"         // ckpt_config_json, ckpt_write_json, ckpt_*_optimizer, ckpt_make_dirs
#include "core/core.h"          // rlc_errorf, rlc_malloc, rlc_path_join
#include "critic.h"

struct critic {
    critic_config cfg;
    actor_model *m;            // the trunk (owned), tied: no lm_head
    actor_params *p;           // borrowed from m
    actor_trainer *tr;         // its forward / backward (one row)
    optim_adamw *opt;          // the trunk's AdamW
    optim_adamw *head_opt;     // the head's AdamW
    actor_params head_p;       // the head's table: data (C + 1): score.weight (1, C), score.bias (1)
    actor_tensor_info head_t[2];
    float *grads;              // (numel) the trunk's gradient
    float *head_grads;         // (C + 1)
    float *hid;                // (T, C) the last forward's hidden states
    float *dhid;               // (T, C) their gradient
    int C, T;                  // hidden size; the last forward's tokens
};

void critic_config_default(critic_config *c) {
    memset(c, 0, sizeof *c);
    c->schedule = (optim_schedule){.kind = OPTIM_SCHEDULE_CONSTANT, .lr = 1e-5, .total_steps = 1000};
    c->adamw = optim_adamw_defaults();  // weight decay 0.01, max_grad_norm 1: verl's critic.optim
    c->cliprange_value = 0.5;
    c->micro_batch_tokens = 2048;
}

void critic_free(critic *cr) {
    if (!cr) return;
    actor_train_free(cr->tr);
    actor_model_free(cr->m);
    optim_adamw_free(cr->opt);
    optim_adamw_free(cr->head_opt);
    rlc_free_aligned(cr->grads);
    rlc_free(cr->head_p.data);
    rlc_free(cr->head_grads);
    rlc_free(cr->hid);
    rlc_free(cr->dhid);
    rlc_free(cr);
}

// ---- weights in -----------------------------------------------------------------

// The trunk from the policy's table, tensor by tensor (the critic has no lm_head).
static rlc_status copy_from_policy(critic *cr, actor_model *policy) {
    const actor_params *pp = actor_model_params(policy);
    for (int i = 0; i < cr->p->n_tensors; i++) {
        const actor_tensor_info *e = &cr->p->tensors[i];
        const actor_tensor_info *src = actor_params_find(pp, e->name);
        if (!src || src->numel != e->numel)
            return rlc_errorf(RLC_ERR_ARG, "critic: the policy has no tensor %s of %zu elements", e->name, e->numel);
        memcpy(cr->p->data + e->offset, pp->data + src->offset, e->numel * sizeof(float));
    }
    return RLC_OK;
}

// score.weight (1, C) and score.bias (1) of the folder's safetensors (one
// file or shards) into the head; *found = 0 (and a zero head) when it has
// neither.
static rlc_status load_head(critic *cr, const char *dir, int *found) {
    *found = 0;
    memset(cr->head_p.data, 0, (size_t)(cr->C + 1) * sizeof(float));
    safetensors_set *set;
    RLC_TRY(safetensors_set_open(dir, &set));
    const char *wf = NULL, *bf = NULL;
    const safetensors_tensor *w = safetensors_set_find(set, "score.weight", &wf);
    const safetensors_tensor *b = safetensors_set_find(set, "score.bias", &bf);
    const char *path = safetensors_set_path(set);
    rlc_status s = RLC_OK;
    if (w || b) {
        if (!w || !b)
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: score.weight and score.bias go together (one is missing)", path);
        else if (w->ndim != 2 || w->shape[0] != 1 || w->shape[1] != cr->C || b->numel != 1)
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: score.weight must be (1, %d) and score.bias (1): a value head with "
                           "num_labels 1", path, cr->C);
        if (s == RLC_OK) s = safetensors_to_f32(w, cr->head_p.data);
        if (s == RLC_OK) s = safetensors_to_f32(b, cr->head_p.data + cr->C);
        *found = s == RLC_OK;
    }
    safetensors_set_close(set);
    return s;
}

// The configuration of a critic folder (or any causal-LM folder), tied.
static rlc_status folder_config(const char *dir, actor_config *cfg) {
    char path[4096];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "config.json"));
    RLC_TRY(actor_config_load(path, cfg));
    cfg->tie_embeddings = 1;  // the critic's table holds no lm_head
    return RLC_OK;
}

// ---- create -----------------------------------------------------------------------

static rlc_status check_config(const critic_config *c) {
    if (!(c->schedule.lr >= 0 && isfinite(c->schedule.lr)))
        return rlc_errorf(RLC_ERR_CONFIG, "critic: learning rate %g", c->schedule.lr);
    if (!(c->cliprange_value >= 0) || !isfinite(c->cliprange_value))
        return rlc_errorf(RLC_ERR_CONFIG, "critic: cliprange_value %g must be >= 0", c->cliprange_value);
    if (c->micro_batch_tokens < 2)
        return rlc_errorf(RLC_ERR_CONFIG, "critic: micro_batch_tokens %d must be at least 2", c->micro_batch_tokens);
    return RLC_OK;
}

static rlc_status build(critic *cr, actor_model *policy, const char *path) {
    const actor_config *pc = actor_model_config(policy);
    actor_config cfg = *pc;
    cfg.tie_embeddings = 1;
    if (path) {
        RLC_TRY(folder_config(path, &cfg));
        if (cfg.vocab_size != pc->vocab_size)
            return rlc_errorf(RLC_ERR_ARG, "critic %s: vocabulary of %d, the policy's is %d (the critic reads the "
                              "policy's tokens)", path, cfg.vocab_size, pc->vocab_size);
    }
    RLC_TRY(actor_model_create(&cfg, &cr->m));
    cr->p = actor_model_params(cr->m);
    cr->C = cfg.hidden_size;
    size_t C = (size_t)cr->C, T = (size_t)cr->cfg.micro_batch_tokens;
    cr->head_p.data = rlc_calloc(C + 1, sizeof(float));
    cr->head_grads = rlc_calloc(C + 1, sizeof(float));
    cr->grads = rlc_malloc_aligned(cr->p->numel * sizeof(float));
    cr->hid = rlc_malloc(T * C * sizeof(float));
    cr->dhid = rlc_malloc(T * C * sizeof(float));
    if (!cr->head_p.data || !cr->head_grads || !cr->grads || !cr->hid || !cr->dhid)
        return rlc_errorf(RLC_ERR_NOMEM, "critic: out of memory (%zu parameters, rows of %zu tokens)", cr->p->numel, T);
    memset(cr->grads, 0, cr->p->numel * sizeof(float));
    cr->head_t[0] = (actor_tensor_info){.name = "score.weight", .ndim = 2, .shape = {1, cr->C}, .offset = 0, .numel = C};
    cr->head_t[1] = (actor_tensor_info){.name = "score.bias", .ndim = 1, .shape = {1, 1}, .offset = C, .numel = 1};
    cr->head_p.numel = C + 1;
    cr->head_p.tensors = cr->head_t;
    cr->head_p.n_tensors = 2;
    if (path) {
        int found;
        RLC_TRY(actor_weights_load(path, &cfg, cr->p));
        RLC_TRY(load_head(cr, path, &found));
        RLC_INFO("critic: trunk from %s, %s head", path, found ? "its" : "a zero");
    } else {
        RLC_TRY(copy_from_policy(cr, policy));
    }
    optim_adamw_config oc = cr->cfg.adamw;
    oc.max_grad_norm = 0;  // clipped jointly in critic_step
    RLC_TRY(optim_adamw_create(&oc, cr->p, &cr->opt));
    RLC_TRY(optim_adamw_create(&oc, &cr->head_p, &cr->head_opt));
    actor_train_options to = {.max_tokens = cr->cfg.micro_batch_tokens, .vocab_chunk = 1,  // no lm_head runs
                              .recompute = cr->cfg.recompute};
    return actor_train_create_opts(cr->m, &to, &cr->tr);
}

rlc_status critic_create(actor_model *policy, const char *path, const critic_config *c, critic **out) {
    *out = NULL;
    if (!policy || !c) return rlc_errorf(RLC_ERR_ARG, "critic_create: %s is NULL", policy ? "config" : "policy");
    RLC_TRY(check_config(c));
    critic *cr = rlc_calloc(1, sizeof *cr);
    if (!cr) return rlc_errorf(RLC_ERR_NOMEM, "critic: out of memory");
    cr->cfg = *c;
    rlc_status s = build(cr, policy, path && path[0] ? path : NULL);
    if (s != RLC_OK) {
        critic_free(cr);
        return s;
    }
    *out = cr;
    return RLC_OK;
}

// ---- forward, backward, step --------------------------------------------------------

rlc_status critic_forward(critic *cr, const actor_batch *b, float *values) {
    RLC_TRY(actor_train_forward_hidden(cr->tr, b, cr->hid));
    int C = cr->C;
    const float *w = cr->head_p.data;
    double bias = w[C];
    cr->T = b->n_tokens;
    for (int p = 0; p < cr->T; p++) {
        const float *h = cr->hid + (size_t)p * C;
        double v = bias;
        for (int k = 0; k < C; k++) v += (double)w[k] * h[k];
        values[p] = (float)v;
    }
    return RLC_OK;
}

rlc_status critic_backward(critic *cr, const float *dvalues) {
    if (cr->T == 0) return rlc_errorf(RLC_ERR_STATE, "critic: backward without a forward");
    int C = cr->C;
    const float *w = cr->head_p.data;
    float *gw = cr->head_grads;
    double gb = 0;
    for (int p = 0; p < cr->T; p++) {
        float d = dvalues[p];
        const float *h = cr->hid + (size_t)p * C;
        float *dh = cr->dhid + (size_t)p * C;
        for (int k = 0; k < C; k++) dh[k] = d * w[k];
        if (d == 0) continue;
        for (int k = 0; k < C; k++) gw[k] += d * h[k];
        gb += d;
    }
    gw[C] = (float)(gw[C] + gb);
    return actor_train_backward_hidden(cr->tr, cr->dhid, cr->grads);
}

void critic_zero_grad(critic *cr) {
    memset(cr->grads, 0, cr->p->numel * sizeof(float));
    memset(cr->head_grads, 0, (size_t)(cr->C + 1) * sizeof(float));
}

// Sum of squares over the tensors of table p in g (padding skipped), in double.
static double sumsq(const actor_params *p, const float *g) {
    double s = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const float *x = g + p->tensors[i].offset;
        for (size_t k = 0; k < p->tensors[i].numel; k++) s += (double)x[k] * x[k];
    }
    return s;
}

static void scale(const actor_params *p, float *g, double c) {
    for (int i = 0; i < p->n_tensors; i++) {
        float *x = g + p->tensors[i].offset;
        for (size_t k = 0; k < p->tensors[i].numel; k++) x[k] = (float)(x[k] * c);
    }
}

rlc_status critic_step(critic *cr, double lr, optim_step_result *res) {
    optim_step_result r = {.grad_norm = sqrt(sumsq(cr->p, cr->grads) + sumsq(&cr->head_p, cr->head_grads)),
                           .clip_coef = 1};
    rlc_status s = RLC_OK;
    if (!isfinite(r.grad_norm)) {
        r.skipped = 1;
        RLC_WARN("critic: non-finite gradient norm; update skipped");
    } else {
        double max = cr->cfg.adamw.max_grad_norm, c = max / (r.grad_norm + 1e-6);
        if (max > 0 && c < 1) {
            r.clip_coef = c;
            scale(cr->p, cr->grads, c);
            scale(&cr->head_p, cr->head_grads, c);
        }
        s = optim_adamw_step(cr->opt, cr->p->data, cr->grads, lr, NULL);
        if (s == RLC_OK) s = optim_adamw_step(cr->head_opt, cr->head_p.data, cr->head_grads, lr, NULL);
    }
    critic_zero_grad(cr);
    if (res) *res = r;
    return s;
}

long critic_steps(const critic *cr) { return optim_adamw_steps(cr->opt); }
actor_model *critic_model(critic *cr) { return cr->m; }
float *critic_grads(critic *cr, float **head) {
    if (head) *head = cr->head_grads;
    return cr->grads;
}
float *critic_head(critic *cr) { return cr->head_p.data; }
optim_adamw *critic_optims(critic *cr, optim_adamw **head) {
    if (head) *head = cr->head_opt;
    return cr->opt;
}
const critic_config *critic_get_config(const critic *cr) { return &cr->cfg; }

// ---- the folder ------------------------------------------------------------------------

static rlc_status write_config(critic *cr, const char *path) {
    static const char *const arch[] = {"LlamaForTokenClassification", "Qwen2ForTokenClassification",
                                       "Qwen3ForTokenClassification"};
    const actor_config *c = actor_model_config(cr->m);
    json_t *j = ckpt_config_json(c);
    if (!j) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    json_object_set_new(j, "architectures", json_pack("[s]", arch[c->arch]));
    json_object_set_new(j, "num_labels", json_integer(1));
    json_object_set_new(j, "id2label", json_pack("{s:s}", "0", "LABEL_0"));
    json_object_set_new(j, "label2id", json_pack("{s:i}", "LABEL_0", 0));
    rlc_status s = ckpt_write_json(path, j);
    json_decref(j);
    return s;
}

static rlc_status write_model(critic *cr, const char *path) {
    const actor_params *p = cr->p;
    int n = p->n_tensors + 2;
    safetensors_entry *e = rlc_calloc((size_t)n, sizeof *e);
    if (!e) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < p->n_tensors; i++) {
        const actor_tensor_info *t = &p->tensors[i];
        e[i] = (safetensors_entry){.name = t->name, .ndim = t->ndim, .shape = {t->shape[0], t->shape[1]},
                                   .data = p->data + t->offset};
    }
    e[n - 2] = (safetensors_entry){.name = "score.weight", .ndim = 2, .shape = {1, cr->C}, .data = cr->head_p.data};
    e[n - 1] = (safetensors_entry){.name = "score.bias", .ndim = 1, .shape = {1}, .data = cr->head_p.data + cr->C};
    rlc_status s = safetensors_write(path, e, n, SAFETENSORS_DTYPE_F32);
    rlc_free(e);
    return s;
}

rlc_status critic_save(critic *cr, const char *dir) {
    char f[4096];
    RLC_TRY(ckpt_make_dirs(dir));
    RLC_TRY(rlc_path_join(f, sizeof f, dir, "model.safetensors"));
    RLC_TRY(write_model(cr, f));
    RLC_TRY(rlc_path_join(f, sizeof f, dir, "config.json"));
    RLC_TRY(write_config(cr, f));
    RLC_TRY(rlc_path_join(f, sizeof f, dir, "optimizer.safetensors"));
    float *m = optim_adamw_m(cr->head_opt), *v = optim_adamw_v(cr->head_opt);
    int C = cr->C;
    safetensors_entry head[4] = {
        {.name = "score.weight.exp_avg", .ndim = 2, .shape = {1, C}, .data = m},
        {.name = "score.weight.exp_avg_sq", .ndim = 2, .shape = {1, C}, .data = v},
        {.name = "score.bias.exp_avg", .ndim = 1, .shape = {1}, .data = m + C},
        {.name = "score.bias.exp_avg_sq", .ndim = 1, .shape = {1}, .data = v + C},
    };
    return ckpt_write_optimizer(f, cr->p, cr->opt, head, 4);
}

// The head's moments from dir/optimizer.safetensors.
static rlc_status load_head_moments(critic *cr, const char *dir) {
    char path[4096];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "optimizer.safetensors"));
    safetensors_file *f;
    RLC_TRY(safetensors_open(path, &f));
    static const char *const names[4] = {"score.weight.exp_avg", "score.weight.exp_avg_sq", "score.bias.exp_avg",
                                         "score.bias.exp_avg_sq"};
    float *m = optim_adamw_m(cr->head_opt), *v = optim_adamw_v(cr->head_opt);
    float *dst[4] = {m, v, m + cr->C, v + cr->C};
    size_t want[4] = {(size_t)cr->C, (size_t)cr->C, 1, 1};
    rlc_status s = RLC_OK;
    for (int i = 0; i < 4 && s == RLC_OK; i++) {
        const safetensors_tensor *t = safetensors_find(f, names[i]);
        if (!t || t->dtype != SAFETENSORS_DTYPE_F32 || t->numel != want[i])
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: missing or misshapen tensor %s (%zu floats expected)", path, names[i],
                           want[i]);
        else memcpy(dst[i], t->data, want[i] * sizeof(float));
    }
    safetensors_close(f);
    return s;
}

rlc_status critic_load(critic *cr, const char *dir) {
    actor_config cfg;
    RLC_TRY(folder_config(dir, &cfg));
    if (cfg.hidden_size != cr->C || cfg.vocab_size != actor_model_config(cr->m)->vocab_size)
        return rlc_errorf(RLC_ERR_FORMAT, "%s: a critic of hidden size %d and vocabulary %d, this run's has %d and %d",
                          dir, cfg.hidden_size, cfg.vocab_size, cr->C, actor_model_config(cr->m)->vocab_size);
    int found;
    RLC_TRY(actor_weights_load(dir, &cfg, cr->p));
    RLC_TRY(load_head(cr, dir, &found));
    if (!found) return rlc_errorf(RLC_ERR_FORMAT, "%s: no score.weight / score.bias: not a critic folder", dir);
    RLC_TRY(ckpt_load_optimizer(dir, cr->p, cr->opt));
    RLC_TRY(load_head_moments(cr, dir));
    optim_adamw_set_counts(cr->head_opt, optim_adamw_steps(cr->opt), optim_adamw_skipped(cr->opt));
    critic_zero_grad(cr);
    return RLC_OK;
}
