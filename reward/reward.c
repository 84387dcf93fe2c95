// reward.c: weighted sums of reward scripts (TRL's reward_funcs and
// reward_weights) and the registry that logs each distinct failure once and
// counts the rest.
#include <pthread.h>  // pthread_mutex_t
#include <stdio.h>    // snprintf
#include <string.h>   // strcmp, strrchr

#include "core/core.h"  // rlc_malloc, rlc_errorf, RLC_WARN
#include "reward.h"

// ---- failures ---------------------------------------------------------------

#define MAX_DISTINCT 256  // beyond this, new reasons are counted as "other"

typedef struct error_entry {
    rlc_script_error err;
    long count;
} error_entry;

struct rlc_reward_errors {
    pthread_mutex_t lock;
    error_entry entries[MAX_DISTINCT + 1];
    int n;
    long total;
};

rlc_reward_errors *rlc_reward_errors_create(void) {
    rlc_reward_errors *e = rlc_calloc(1, sizeof *e);
    if (e) pthread_mutex_init(&e->lock, NULL);
    return e;
}

void rlc_reward_errors_free(rlc_reward_errors *e) {
    if (!e) return;
    pthread_mutex_destroy(&e->lock);
    rlc_free(e);
}

void rlc_reward_errors_add(rlc_reward_errors *e, const rlc_script_error *err) {
    if (!e) return;
    pthread_mutex_lock(&e->lock);
    e->total++;
    int i = 0;
    while (i < e->n && !(e->entries[i].err.kind == err->kind && strcmp(e->entries[i].err.msg, err->msg) == 0))
        i++;
    if (i == e->n) {
        if (e->n == MAX_DISTINCT) {
            i = MAX_DISTINCT;  // the "other" bucket
            if (e->entries[i].count == 0) {
                e->entries[i].err.kind = RLC_SCRIPT_ERR_SCRIPT;
                snprintf(e->entries[i].err.msg, sizeof e->entries[i].err.msg,
                         "(more distinct errors than %d)", MAX_DISTINCT);
            }
        } else {
            e->entries[e->n++].err = *err;
            RLC_WARN("reward failed (%s): %s [logged once; later ones are counted]",
                     rlc_script_fail_name(err->kind), err->msg);
        }
    }
    e->entries[i].count++;
    pthread_mutex_unlock(&e->lock);
}

long rlc_reward_errors_total(rlc_reward_errors *e) {
    pthread_mutex_lock(&e->lock);
    long t = e->total;
    pthread_mutex_unlock(&e->lock);
    return t;
}

int rlc_reward_errors_get(rlc_reward_errors *e, int i, rlc_script_error *err, long *count) {
    pthread_mutex_lock(&e->lock);
    int n = e->n + (e->entries[MAX_DISTINCT].count > 0);
    int ok = i >= 0 && i < n;
    if (ok) {
        const error_entry *x = i < e->n ? &e->entries[i] : &e->entries[MAX_DISTINCT];
        if (err) *err = x->err;
        if (count) *count = x->count;
    }
    pthread_mutex_unlock(&e->lock);
    return ok;
}

// ---- weighted rewards --------------------------------------------------------

typedef struct reward_slot {
    int id;
    double weight;
    char name[RLC_REWARD_NAME_MAX];
} reward_slot;

struct rlc_reward {
    rlc_script *script;
    reward_slot *slots;
    int n_slots;
    double failure_score;
    rlc_reward_errors *errs;
};

void rlc_reward_free(rlc_reward *r) {
    if (!r) return;
    rlc_script_free(r->script);
    rlc_free(r->slots);
    rlc_free(r);
}

// The component name of a function: its own, or the file's base name.
static void func_name(const rlc_reward_func *f, int i, char *buf, size_t cap) {
    if (f->name) {
        snprintf(buf, cap, "%s", f->name);
        return;
    }
    if (!f->path) {
        snprintf(buf, cap, "reward%d", i);
        return;
    }
    const char *b = strrchr(f->path, '/');
    b = b ? b + 1 : f->path;
    size_t n = strlen(b);
    if (n > 4 && strcmp(b + n - 4, ".lua") == 0) n -= 4;
    snprintf(buf, cap, "%.*s", (int)n, b);
}

rlc_status rlc_reward_create(const rlc_reward_config *cfg, rlc_reward_errors *errs,
                             rlc_reward **out) {
    *out = NULL;
    if (cfg->n_funcs < 1) return rlc_errorf(RLC_ERR_CONFIG, "reward: no reward functions given");
    rlc_reward *r = rlc_calloc(1, sizeof *r);
    if (!r) return rlc_errorf(RLC_ERR_NOMEM, "reward: out of memory");
    r->failure_score = cfg->failure_score;
    r->errs = errs;
    r->slots = rlc_calloc((size_t)cfg->n_funcs, sizeof *r->slots);
    rlc_status st = r->slots ? rlc_script_create(&cfg->limits, &r->script)
                             : rlc_errorf(RLC_ERR_NOMEM, "reward: out of memory");
    for (int i = 0; st == RLC_OK && i < cfg->n_funcs; i++) {
        const rlc_reward_func *f = &cfg->funcs[i];
        reward_slot *slot = &r->slots[i];
        slot->weight = f->weight;
        func_name(f, i, slot->name, sizeof slot->name);
        if (f->source) {
            char chunk[64];
            snprintf(chunk, sizeof chunk, "%s.lua", slot->name);
            st = rlc_script_load(r->script, chunk, f->source, strlen(f->source), &slot->id);
        } else if (f->path) {
            st = rlc_script_load_file(r->script, f->path, &slot->id);
        } else {
            st = rlc_errorf(RLC_ERR_CONFIG, "reward %d: neither a path nor a source", i);
        }
        if (st == RLC_OK && !rlc_script_defines(r->script, slot->id, "reward"))
            st = rlc_errorf(RLC_ERR_LUA, "reward script %s defines no function reward(sample)",
                            f->path ? f->path : slot->name);
        r->n_slots = i + 1;
    }
    if (st != RLC_OK) {
        rlc_reward_free(r);
        return st;
    }
    *out = r;
    return RLC_OK;
}

void rlc_reward_score(rlc_reward *r, const rlc_sample *sample, rlc_reward_result *out) {
    memset(out, 0, sizeof *out);
    // Each function's own score first, so components keep their order.
    int nf = r->n_slots < RLC_REWARD_MAX_COMPONENTS ? r->n_slots : RLC_REWARD_MAX_COMPONENTS;
    if (r->n_slots > 1) out->n_components = nf;
    double total = 0;
    for (int i = 0; i < r->n_slots; i++) {
        reward_slot *slot = &r->slots[i];
        double s = 0;
        rlc_script_error err;
        const char *prefix = r->n_slots > 1 ? slot->name : NULL;
        if (rlc_script_reward(r->script, slot->id, sample, &s, out, prefix, &err) != RLC_SCRIPT_OK) {
            out->failed++;
            s = r->failure_score;
            if (r->n_slots > 1) {
                char msg[RLC_SCRIPT_MSG_MAX];
                memcpy(msg, err.msg, sizeof msg);
                size_t k = (size_t)snprintf(err.msg, sizeof err.msg, "[%s] ", slot->name);
                if (k < sizeof err.msg) {
                    memcpy(err.msg + k, msg, sizeof err.msg - k - 1);
                    err.msg[sizeof err.msg - 1] = '\0';
                }
            }
            rlc_reward_errors_add(r->errs, &err);
        }
        if (i < nf && r->n_slots > 1) {
            snprintf(out->components[i].name, sizeof out->components[i].name, "%s", slot->name);
            out->components[i].value = s;
        }
        total += slot->weight * s;
    }
    out->score = total;
}
