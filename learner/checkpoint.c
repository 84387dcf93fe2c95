// checkpoint.c: atomic checkpoint folders (write into step-N.tmp, fsync,
// rename, fsync the parent), the newest complete one, and loading them back
// with errors that name the file.
#include "checkpoint.h"

#include <dirent.h>    // opendir, readdir
#include <errno.h>     // errno
#include <fcntl.h>     // open
#include <stdio.h>     // snprintf, rename
#include <stdlib.h>    // getenv, strtol
#include <string.h>    // strcmp, strerror
#include <sys/stat.h>  // mkdir, stat
#include <unistd.h>    // write, fsync, unlink, rmdir

#include "actor/safetensors.h"  // safetensors_write, safetensors_open
#include "actor/weights.h"      // actor_weights_save, actor_weights_load
#include "core/core.h"          // rlc_errorf, rlc_malloc, rlc_read_file, RLC_WARN

#define CKPT_SUBDIR "checkpoints"
#define CKPT_PATH 4096

// Files copied from the source model folder when present.
static const char *const tokenizer_files[] = {
    "tokenizer.json",     "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
    "merges.txt",         "tokenizer.model",       "added_tokens.json",       "generation_config.json",
    "chat_template.jinja",
};
#define N_TOKENIZER_FILES (int)(sizeof tokenizer_files / sizeof tokenizer_files[0])

// ---- failure injection --------------------------------------------------------

static int fail_at_write;  // 0: off
static int writes_seen;    // in the current save

void ckpt_test_fail_at_write(int n) { fail_at_write = n > 0 ? n : 0; }

static int injected_limit(void) {
    if (fail_at_write) return fail_at_write;
    const char *e = getenv("RLC_CKPT_FAIL_AT_WRITE");
    return e ? atoi(e) : 0;
}

// Called before each write of a save; fails the configured one.
static rlc_status before_write(const char *what, int *injected) {
    writes_seen++;
    int n = injected_limit();
    if (n > 0 && writes_seen == n) {
        *injected = 1;
        return rlc_errorf(RLC_ERR_IO, "%s: injected failure at write %d (ckpt_test_fail_at_write)", what, n);
    }
    return RLC_OK;
}

// ---- small file helpers ----------------------------------------------------------

static rlc_status fsync_path(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return rlc_errorf(RLC_ERR_IO, "%s: cannot open to fsync: %s", path, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0) return rlc_errorf(RLC_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    return RLC_OK;
}

// Writes len bytes to path (created or truncated) and fsyncs it.
static rlc_status write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return rlc_errorf(RLC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    const char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return rlc_errorf(RLC_ERR_IO, "%s: write failed: %s", path, w < 0 ? strerror(e) : "no progress");
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return rlc_errorf(RLC_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    }
    if (close(fd) != 0) return rlc_errorf(RLC_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return RLC_OK;
}

static rlc_status copy_file(const char *src, const char *dst) {
    char *buf;
    size_t len;
    RLC_TRY(rlc_read_file(src, &buf, &len));
    rlc_status s = write_file(dst, buf, len);
    rlc_free(buf);
    return s;
}

rlc_status ckpt_make_dirs(const char *path) {
    char buf[CKPT_PATH];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return rlc_errorf(RLC_ERR_ARG, "%s: path too long", path);
    for (char *c = buf + 1;; c++) {
        if (*c != '/' && *c != '\0') continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(buf, 0755) != 0 && !(errno == EEXIST && rlc_is_dir(buf)))
            return rlc_errorf(RLC_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
        *c = keep;
        if (!keep) break;
    }
    return RLC_OK;
}

// Removes a checkpoint folder: plain files and, `depth` > 0, subfolders of
// the same kind (the critic's); deeper nesting is refused.
static rlc_status remove_dir_depth(const char *path, int depth) {
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? RLC_OK : rlc_errorf(RLC_ERR_IO, "%s: cannot list: %s", path, strerror(errno));
    rlc_status s = RLC_OK;
    struct dirent *e;
    char f[CKPT_PATH];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (rlc_path_join(f, sizeof f, path, e->d_name) != RLC_OK) {
            s = rlc_errorf(RLC_ERR_IO, "%s: path too long for %s", path, e->d_name);
            break;
        }
        if (depth > 0 && rlc_is_dir(f)) s = remove_dir_depth(f, depth - 1);
        else if (unlink(f) != 0) s = rlc_errorf(RLC_ERR_IO, "%s: cannot remove %s: %s", path, e->d_name, strerror(errno));
        if (s != RLC_OK) break;
    }
    closedir(d);
    if (s == RLC_OK && rmdir(path) != 0) s = rlc_errorf(RLC_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    return s;
}

static rlc_status remove_flat_dir(const char *path) { return remove_dir_depth(path, 1); }

// "step-123" -> 123; -1 for any other name (step-123.tmp included).
static long parse_step_name(const char *name) {
    if (strncmp(name, "step-", 5) != 0 || name[5] < '0' || name[5] > '9') return -1;
    char *end;
    errno = 0;
    long n = strtol(name + 5, &end, 10);
    return *end || errno ? -1 : n;
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

// ---- config.json from an actor_config -------------------------------------------------

// A float as the shortest decimal that reads back as the same float, as a
// JSON real (dumped with 15 significant digits, which keeps it exact).
static json_t *json_float(float f) {
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    return json_real(strtod(buf, NULL));
}

json_t *ckpt_config_json(const actor_config *c) {
    static const char *const arch_class[] = {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"};
    static const char *const arch_type[] = {"llama", "qwen2", "qwen3"};
    json_t *j = json_object();
    json_object_set_new(j, "architectures", json_pack("[s]", arch_class[c->arch]));
    json_object_set_new(j, "model_type", json_string(arch_type[c->arch]));
    json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(j, "hidden_size", json_integer(c->hidden_size));
    json_object_set_new(j, "intermediate_size", json_integer(c->intermediate_size));
    json_object_set_new(j, "num_hidden_layers", json_integer(c->n_layers));
    json_object_set_new(j, "num_attention_heads", json_integer(c->n_heads));
    json_object_set_new(j, "num_key_value_heads", json_integer(c->n_kv_heads));
    json_object_set_new(j, "head_dim", json_integer(c->head_dim));
    json_object_set_new(j, "max_position_embeddings", json_integer(c->max_position));
    json_object_set_new(j, "rms_norm_eps", json_float(c->rms_eps));
    json_object_set_new(j, "rope_theta", json_float(c->rope_theta));
    if (c->rope_type == ACTOR_ROPE_LLAMA3)
        json_object_set_new(j, "rope_scaling",
                            json_pack("{s:s, s:o, s:o, s:o, s:i}", "rope_type", "llama3", "factor",
                                      json_float(c->rope_factor), "low_freq_factor",
                                      json_float(c->rope_low_freq_factor), "high_freq_factor",
                                      json_float(c->rope_high_freq_factor), "original_max_position_embeddings",
                                      c->rope_original_max_pos));
    else json_object_set_new(j, "rope_scaling", json_null());
    json_object_set_new(j, "hidden_act", json_string("silu"));
    if (c->arch != ACTOR_ARCH_QWEN2) {
        json_object_set_new(j, "attention_bias", json_false());
        json_object_set_new(j, "mlp_bias", json_false());
    } else {
        json_object_set_new(j, "use_sliding_window", json_false());
    }
    json_object_set_new(j, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    json_object_set_new(j, "bos_token_id", c->bos_id >= 0 ? json_integer(c->bos_id) : json_null());
    if (c->n_eos == 1) json_object_set_new(j, "eos_token_id", json_integer(c->eos_ids[0]));
    else {
        json_t *a = json_array();
        for (int i = 0; i < c->n_eos; i++) json_array_append_new(a, json_integer(c->eos_ids[i]));
        json_object_set_new(j, "eos_token_id", a);
    }
    json_object_set_new(j, "torch_dtype", json_string("float32"));
    return j;
}

rlc_status ckpt_write_json(const char *path, const json_t *j) {
    const size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15);
    size_t n = json_dumpb(j, NULL, 0, flags);
    char *text = n ? rlc_malloc(n + 1) : NULL;
    if (!text) return rlc_errorf(RLC_ERR_NOMEM, "%s: cannot serialize JSON", path);
    json_dumpb(j, text, n, flags);
    text[n] = '\n';
    rlc_status s = write_file(path, text, n + 1);
    rlc_free(text);
    return s;
}

rlc_status ckpt_write_config(const char *path, const actor_config *cfg) {
    json_t *j = ckpt_config_json(cfg);
    if (!j) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    rlc_status s = ckpt_write_json(path, j);
    json_decref(j);
    return s;
}

// ---- optimizer.safetensors ---------------------------------------------------------------

rlc_status ckpt_write_optimizer(const char *path, const actor_params *p, optim_adamw *o,
                                const safetensors_entry *extra, int n_extra) {
    int n = 2 * p->n_tensors + 1 + n_extra;
    safetensors_entry *e = rlc_calloc((size_t)n, sizeof *e);
    char(*names)[ACTOR_MAX_NAME + 16] = rlc_calloc((size_t)n, sizeof *names);
    if (!e || !names) {
        rlc_free(e);
        rlc_free(names);
        return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    }
    float meta[3] = {(float)CKPT_OPTIM_VERSION, (float)optim_adamw_steps(o), (float)optim_adamw_skipped(o)};
    snprintf(names[0], sizeof names[0], "adamw.meta");
    e[0] = (safetensors_entry){.name = names[0], .ndim = 1, .shape = {3}, .data = meta};
    const float *m = optim_adamw_m(o), *v = optim_adamw_v(o);
    for (int i = 0; i < p->n_tensors; i++) {
        const actor_tensor_info *t = &p->tensors[i];
        for (int k = 0; k < 2; k++) {
            int at = 1 + 2 * i + k;
            snprintf(names[at], sizeof names[at], "%s.%s", t->name, k ? "exp_avg_sq" : "exp_avg");
            e[at] = (safetensors_entry){.name = names[at], .ndim = t->ndim, .shape = {t->shape[0], t->shape[1]},
                                        .data = (k ? v : m) + t->offset};
        }
    }
    for (int i = 0; i < n_extra; i++) e[1 + 2 * p->n_tensors + i] = extra[i];
    rlc_status s = safetensors_write(path, e, n, SAFETENSORS_DTYPE_F32);
    rlc_free(e);
    rlc_free(names);
    return s;
}

rlc_status ckpt_load_optimizer(const char *dir, const actor_params *p, optim_adamw *o) {
    char path[CKPT_PATH];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "optimizer.safetensors"));
    if (optim_adamw_numel(o) != p->numel)
        return rlc_errorf(RLC_ERR_ARG, "%s: the optimizer holds %zu floats, the parameters %zu", path,
                          optim_adamw_numel(o), p->numel);
    safetensors_file *f;
    RLC_TRY(safetensors_open(path, &f));
    rlc_status s = RLC_OK;
    const safetensors_tensor *meta = safetensors_find(f, "adamw.meta");
    float mv[3] = {0, 0, 0};
    if (!meta || meta->dtype != SAFETENSORS_DTYPE_F32 || meta->numel != 3)
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: missing or malformed tensor adamw.meta (not an rlc optimizer file?)", path);
    else {
        memcpy(mv, meta->data, sizeof mv);
        if (mv[0] != (float)CKPT_OPTIM_VERSION)
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: optimizer format version %g, this build reads %d (a newer rlc wrote it?)",
                           path, (double)mv[0], CKPT_OPTIM_VERSION);
    }
    float *m = optim_adamw_m(o), *v = optim_adamw_v(o);
    for (int i = 0; i < p->n_tensors && s == RLC_OK; i++) {
        const actor_tensor_info *ti = &p->tensors[i];
        for (int k = 0; k < 2 && s == RLC_OK; k++) {
            char name[ACTOR_MAX_NAME + 16];
            snprintf(name, sizeof name, "%s.%s", ti->name, k ? "exp_avg_sq" : "exp_avg");
            const safetensors_tensor *t = safetensors_find(f, name);
            if (!t) s = rlc_errorf(RLC_ERR_FORMAT, "%s: missing tensor %s", path, name);
            else if (t->dtype != SAFETENSORS_DTYPE_F32)
                s = rlc_errorf(RLC_ERR_FORMAT, "%s: tensor %s is %s, expected F32", path, name,
                               safetensors_dtype_name(t->dtype));
            else if (t->ndim != ti->ndim || t->shape[0] != ti->shape[0] || (ti->ndim == 2 && t->shape[1] != ti->shape[1]))
                s = rlc_errorf(RLC_ERR_FORMAT, "%s: tensor %s has the wrong shape for a (%d, %d) parameter", path,
                               name, ti->shape[0], ti->shape[1]);
            else memcpy((k ? v : m) + ti->offset, t->data, ti->numel * sizeof(float));
        }
    }
    safetensors_close(f);
    if (s == RLC_OK) optim_adamw_set_counts(o, (long)mv[1], (long)mv[2]);
    return s;
}

// ---- trainer_state.json ---------------------------------------------------------------------

static json_t *state_json(const ckpt_save_args *a) {
    json_t *j = json_object();
    if (a->trainer_state) json_object_update(j, (json_t *)a->trainer_state);
    json_object_set_new(j, "format", json_string(CKPT_STATE_FORMAT));
    json_object_set_new(j, "version", json_integer(CKPT_STATE_VERSION));
    json_object_set_new(j, "step", json_integer(a->step));
    json_object_set_new(j, "optimizer", json_pack("{s:I, s:I}", "steps", (json_int_t)optim_adamw_steps(a->optim),
                                                  "skipped", (json_int_t)optim_adamw_skipped(a->optim)));
    return j;
}

rlc_status ckpt_load_trainer_state(const char *dir, json_t **out) {
    *out = NULL;
    char path[CKPT_PATH];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "trainer_state.json"));
    json_t *j;
    RLC_TRY(rlc_json_load_file(path, &j));
    const char *fmt = NULL;
    long long version, step, steps, skipped;
    rlc_status s = json_is_object(j) ? RLC_OK : rlc_errorf(RLC_ERR_FORMAT, "%s: not a JSON object", path);
    if (s == RLC_OK) s = rlc_json_get_string(j, "format", path, &fmt);
    if (s == RLC_OK && strcmp(fmt, CKPT_STATE_FORMAT) != 0)
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: format \"%s\", expected \"%s\"", path, fmt, CKPT_STATE_FORMAT);
    if (s == RLC_OK) s = rlc_json_get_int(j, "version", path, &version);
    if (s == RLC_OK && version != CKPT_STATE_VERSION)
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: version %lld, this build reads %d (a newer rlc wrote it?)", path,
                       version, CKPT_STATE_VERSION);
    if (s == RLC_OK) s = rlc_json_get_int(j, "step", path, &step);
    const json_t *opt = json_object_get(j, "optimizer");
    if (s == RLC_OK && !json_is_object(opt))
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: missing object \"optimizer\"", path);
    if (s == RLC_OK) s = rlc_json_get_int(opt, "steps", path, &steps);
    if (s == RLC_OK) s = rlc_json_get_int(opt, "skipped", path, &skipped);
    if (s == RLC_OK && (step < 0 || steps < 0 || skipped < 0))
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: negative step counts", path);
    if (s == RLC_OK) {
        const char *base = strrchr(dir, '/');
        base = base ? base + 1 : dir;
        long n = parse_step_name(base);
        if (n >= 0 && n != step)
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: step %lld does not match the folder %s", path, step, base);
    }
    if (s != RLC_OK) {
        json_decref(j);
        return s == RLC_ERR_CONFIG ? RLC_ERR_FORMAT : s;  // a mistyped field is a malformed file here
    }
    *out = j;
    return RLC_OK;
}

rlc_status ckpt_load(const char *dir, const actor_config *cfg, actor_params *p, optim_adamw *o, json_t **state) {
    *state = NULL;
    json_t *j;
    RLC_TRY(ckpt_load_trainer_state(dir, &j));
    rlc_status s = actor_weights_load(dir, cfg, p);
    if (s == RLC_OK) s = ckpt_load_optimizer(dir, p, o);
    if (s == RLC_OK) {
        const json_t *opt = json_object_get(j, "optimizer");
        long long steps = json_integer_value(json_object_get(opt, "steps"));
        long long skipped = json_integer_value(json_object_get(opt, "skipped"));
        // adamw.meta holds float copies; the JSON holds the exact counts
        if ((float)steps != (float)optim_adamw_steps(o) || (float)skipped != (float)optim_adamw_skipped(o))
            s = rlc_errorf(RLC_ERR_FORMAT,
                           "%s: trainer_state.json (optimizer steps %lld, skipped %lld) and optimizer.safetensors "
                           "(%ld, %ld) disagree: files from different checkpoints?",
                           dir, steps, skipped, optim_adamw_steps(o), optim_adamw_skipped(o));
        else optim_adamw_set_counts(o, (long)steps, (long)skipped);
    }
    if (s != RLC_OK) {
        json_decref(j);
        return s;
    }
    *state = j;
    return RLC_OK;
}

// ---- finding checkpoints ------------------------------------------------------------------

static int is_complete(const char *dir) {
    static const char *const need[] = {"trainer_state.json", "model.safetensors", "optimizer.safetensors"};
    char f[CKPT_PATH];
    for (int i = 0; i < 3; i++)
        if (rlc_path_join(f, sizeof f, dir, need[i]) != RLC_OK || !rlc_file_exists(f)) return 0;
    return 1;
}

// Calls fn(name, step, ud) for every entry of `root` named step-N (no suffix).
typedef void (*step_fn)(const char *name, long step, void *ud);
static rlc_status each_step_dir(const char *root, step_fn fn, void *ud) {
    DIR *d = opendir(root);
    if (!d) return errno == ENOENT ? RLC_OK : rlc_errorf(RLC_ERR_IO, "%s: cannot list: %s", root, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long n = parse_step_name(e->d_name);
        if (n >= 0) fn(e->d_name, n, ud);
    }
    closedir(d);
    return RLC_OK;
}

typedef struct {
    const char *root;
    long best;
    char name[256];
} latest_ctx;

static void pick_latest(const char *name, long step, void *ud) {
    latest_ctx *c = ud;
    if (step <= c->best) return;
    char dir[CKPT_PATH];
    if (rlc_path_join(dir, sizeof dir, c->root, name) != RLC_OK) return;
    if (!is_complete(dir)) {
        RLC_WARN("checkpoint %s is incomplete (a file is missing): skipped", dir);
        return;
    }
    c->best = step;
    snprintf(c->name, sizeof c->name, "%s", name);
}

rlc_status ckpt_latest(const char *run_dir, char *dir, size_t cap, long *step) {
    *step = -1;
    if (cap) dir[0] = '\0';
    char root[CKPT_PATH];
    RLC_TRY(rlc_path_join(root, sizeof root, run_dir, CKPT_SUBDIR));
    latest_ctx c = {.root = root, .best = -1};
    RLC_TRY(each_step_dir(root, pick_latest, &c));
    if (c.best < 0) return RLC_OK;
    RLC_TRY(rlc_path_join(dir, cap, root, c.name));
    *step = c.best;
    return RLC_OK;
}

// ---- saving -------------------------------------------------------------------------------

// Removes leftover *.tmp folders of earlier saves (interrupted ones).
static void remove_stale_tmp(const char *root) {
    DIR *d = opendir(root);
    if (!d) return;
    struct dirent *e;
    char f[CKPT_PATH];
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "step-", 5) != 0 || !has_suffix(e->d_name, ".tmp")) continue;
        if (rlc_path_join(f, sizeof f, root, e->d_name) != RLC_OK) continue;
        if (remove_flat_dir(f) != RLC_OK) RLC_WARN("cannot remove the leftover %s: %s", f, rlc_last_error());
    }
    closedir(d);
}

typedef struct {
    long steps[4096];
    int n;
} step_list;

static void collect_step(const char *name, long step, void *ud) {
    step_list *l = ud;
    (void)name;
    if (l->n < 4096) l->steps[l->n++] = step;
}

static void prune(const char *root, int keep_last) {
    step_list *l = rlc_calloc(1, sizeof *l);
    if (!l) return;
    if (each_step_dir(root, collect_step, l) == RLC_OK && l->n > keep_last) {
        // drop the (n - keep_last) smallest steps
        for (int drop = l->n - keep_last; drop > 0; drop--) {
            int lo = 0;
            for (int i = 1; i < l->n; i++)
                if (l->steps[i] < l->steps[lo]) lo = i;
            char name[64], f[CKPT_PATH];
            snprintf(name, sizeof name, "step-%ld", l->steps[lo]);
            l->steps[lo] = l->steps[--l->n];
            if (rlc_path_join(f, sizeof f, root, name) == RLC_OK && remove_flat_dir(f) != RLC_OK)
                RLC_WARN("cannot remove the old checkpoint %s: %s", f, rlc_last_error());
        }
    }
    rlc_free(l);
}

// Writes every file of the checkpoint into tmp.
static rlc_status write_all(const ckpt_save_args *a, const char *tmp, int *injected) {
    char f[CKPT_PATH], src[CKPT_PATH];
    RLC_TRY(rlc_path_join(f, sizeof f, tmp, "model.safetensors"));
    RLC_TRY(before_write(f, injected));
    RLC_TRY(actor_weights_save(f, a->params));

    int model_is_dir = a->model_dir && rlc_is_dir(a->model_dir);
    RLC_TRY(rlc_path_join(f, sizeof f, tmp, "config.json"));
    RLC_TRY(before_write(f, injected));
    if (model_is_dir && rlc_path_join(src, sizeof src, a->model_dir, "config.json") == RLC_OK &&
        rlc_file_exists(src))
        RLC_TRY(copy_file(src, f));
    else RLC_TRY(ckpt_write_config(f, a->config));

    for (int i = 0; model_is_dir && i < N_TOKENIZER_FILES; i++) {
        RLC_TRY(rlc_path_join(src, sizeof src, a->model_dir, tokenizer_files[i]));
        if (!rlc_file_exists(src)) continue;
        RLC_TRY(rlc_path_join(f, sizeof f, tmp, tokenizer_files[i]));
        RLC_TRY(before_write(f, injected));
        RLC_TRY(copy_file(src, f));
    }
    if (a->tokenizer_path && !rlc_is_dir(a->tokenizer_path) && rlc_file_exists(a->tokenizer_path)) {
        const char *base = strrchr(a->tokenizer_path, '/');
        base = base ? base + 1 : a->tokenizer_path;
        RLC_TRY(rlc_path_join(f, sizeof f, tmp, base));
        if (!rlc_file_exists(f)) {  // not already copied from the model folder
            RLC_TRY(before_write(f, injected));
            RLC_TRY(copy_file(a->tokenizer_path, f));
        }
    }

    RLC_TRY(rlc_path_join(f, sizeof f, tmp, "optimizer.safetensors"));
    RLC_TRY(before_write(f, injected));
    RLC_TRY(ckpt_write_optimizer(f, a->params, a->optim, NULL, 0));

    if (a->write_extra) {  // e.g. the critic's folder
        RLC_TRY(before_write(tmp, injected));
        RLC_TRY(a->write_extra(a->extra_ud, tmp));
    }

    RLC_TRY(rlc_path_join(f, sizeof f, tmp, "trainer_state.json"));
    RLC_TRY(before_write(f, injected));
    json_t *j = state_json(a);
    if (!j) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", f);
    rlc_status s = ckpt_write_json(f, j);
    json_decref(j);
    return s;
}

rlc_status ckpt_save(const ckpt_save_args *a, char *dir, size_t cap) {
    if (dir && cap) dir[0] = '\0';
    if (!a->run_dir || !a->params || !a->config || !a->optim || a->step < 0)
        return rlc_errorf(RLC_ERR_ARG, "ckpt_save: run_dir, params, config, optim and a step >= 0 are required");
    char root[CKPT_PATH], name[64], final[CKPT_PATH], tmp[CKPT_PATH], old[CKPT_PATH];
    RLC_TRY(ckpt_make_dirs(a->run_dir));
    RLC_TRY(rlc_path_join(root, sizeof root, a->run_dir, CKPT_SUBDIR));
    RLC_TRY(ckpt_make_dirs(root));
    snprintf(name, sizeof name, "step-%ld", a->step);
    RLC_TRY(rlc_path_join(final, sizeof final, root, name));
    snprintf(name, sizeof name, "step-%ld.tmp", a->step);
    RLC_TRY(rlc_path_join(tmp, sizeof tmp, root, name));
    snprintf(name, sizeof name, "step-%ld.old.tmp", a->step);
    RLC_TRY(rlc_path_join(old, sizeof old, root, name));

    remove_stale_tmp(root);
    RLC_TRY(ckpt_make_dirs(tmp));
    writes_seen = 0;
    int injected = 0;
    rlc_status s = write_all(a, tmp, &injected);
    if (s == RLC_OK) s = fsync_path(tmp);
    if (s == RLC_OK) s = before_write(final, &injected);  // the rename
    int moved_old = 0;
    if (s == RLC_OK && rlc_is_dir(final)) {
        if (rename(final, old) != 0)
            s = rlc_errorf(RLC_ERR_IO, "%s: cannot move the existing checkpoint aside: %s", final, strerror(errno));
        else moved_old = 1;
    }
    if (s == RLC_OK && rename(tmp, final) != 0) {
        s = rlc_errorf(RLC_ERR_IO, "%s: cannot rename to %s: %s", tmp, final, strerror(errno));
        if (moved_old) rename(old, final);
    }
    if (s == RLC_OK) s = fsync_path(root);
    if (s != RLC_OK) {
        if (!injected) remove_flat_dir(tmp);
        return rlc_error_wrap(s, "saving checkpoint step %ld", a->step);
    }
    if (moved_old) remove_flat_dir(old);
    if (a->keep_last > 0) prune(root, a->keep_last);
    if (dir && cap) snprintf(dir, cap, "%s", final);
    return RLC_OK;
}
