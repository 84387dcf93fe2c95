// rl_pool.c: a prompt's trajectories, copied out of the server's groups,
// grown round by round and cut (see rl_pool.h).
#include "rl_pool.h"

#include <string.h>  // memcpy, memset

#include "core/core.h"  // rlc_malloc, rlc_realloc, rlc_errorf

static void free_traj(rlc_msg_trajectory *t) {
    rlc_free((void *)t->tokens);
    rlc_free((void *)t->logprobs);
    rlc_free((void *)t->versions);
    t->tokens = NULL, t->logprobs = NULL, t->versions = NULL;
}

// The trajectories' pointers into the pool's arrays, after they moved.
static void repoint(rl_pool *p) {
    for (int i = 0; i < p->n; i++) {
        rlc_msg_trajectory *t = &p->trajs[i];
        t->prompt_tokens = p->prompt;
        t->n_prompt_tokens = p->n_prompt;
        t->components = p->comps + (size_t)i * LSRV_MAX_COMPONENTS;
        for (uint32_t c = 0; c < t->n_components; c++)
            p->comps[(size_t)i * LSRV_MAX_COMPONENTS + c].name = p->comp_names[(size_t)i * LSRV_MAX_COMPONENTS + c];
    }
}

static rlc_status grow(rl_pool *p, int need) {
    if (need <= p->cap) return RLC_OK;
    int cap = p->cap ? p->cap : 8;
    while (cap < need) cap *= 2;
    size_t k = (size_t)cap * LSRV_MAX_COMPONENTS;
    rlc_msg_trajectory *t = rlc_realloc(p->trajs, sizeof *t * (size_t)cap);
    if (t) p->trajs = t;
    rlc_proto_component *c = t ? rlc_realloc(p->comps, sizeof *c * k) : NULL;
    if (c) p->comps = c;
    char(*nm)[48] = c ? rlc_realloc(p->comp_names, 48 * k) : NULL;
    if (nm) p->comp_names = nm;
    repoint(p);
    if (!nm) return rlc_errorf(RLC_ERR_NOMEM, "learner: out of memory keeping %d trajectories", need);
    p->cap = cap;
    return RLC_OK;
}

rlc_status rl_pool_append(rl_pool *p, const lsrv_group *g) {
    RLC_TRY(grow(p, p->n + (int)g->n));
    if (!p->prompt) {
        p->prompt = rlc_malloc(sizeof(int32_t) * (g->n_prompt ? g->n_prompt : 1));
        if (!p->prompt) return rlc_errorf(RLC_ERR_NOMEM, "learner: prompt");
        memcpy(p->prompt, g->prompt, sizeof(int32_t) * g->n_prompt);
        p->n_prompt = g->n_prompt;
    }
    int n0 = p->n;
    for (uint32_t i = 0; i < g->n; i++) {
        const lsrv_traj *s = &g->trajs[i];
        rlc_msg_trajectory *t = &p->trajs[n0 + (int)i];
        memset(t, 0, sizeof *t);
        size_t n = s->n ? s->n : 1;
        int32_t *tok = rlc_malloc(sizeof(int32_t) * n), *ver = rlc_malloc(sizeof(int32_t) * n);
        float *lp = rlc_malloc(sizeof(float) * n);
        t->tokens = tok, t->versions = ver, t->logprobs = lp;
        if (!tok || !ver || !lp) {
            for (int k = n0; k <= n0 + (int)i; k++) free_traj(&p->trajs[k]);
            return rlc_errorf(RLC_ERR_NOMEM, "learner: out of memory keeping group %llu",
                              (unsigned long long)g->prompt_id);
        }
        memcpy(tok, s->tokens, sizeof(int32_t) * s->n);
        memcpy(ver, s->versions, sizeof(int32_t) * s->n);
        memcpy(lp, s->logprobs, sizeof(float) * s->n);
        t->n_tokens = s->n;
        t->prompt_id = g->prompt_id;
        t->sample_index = s->sample_index;
        t->reward = s->reward;
        t->finish = s->finish;
        t->generate_s = s->generate_s;
        t->reward_s = s->reward_s;
        t->queue_s = s->queue_s;
        for (int c = 0; c < s->n_components; c++)
            snprintf(p->comp_names[(size_t)(n0 + (int)i) * LSRV_MAX_COMPONENTS + c], 48, "%s", s->components[c].name);
        for (int c = 0; c < s->n_components; c++)
            p->comps[(size_t)(n0 + (int)i) * LSRV_MAX_COMPONENTS + c].value = s->components[c].value;
        t->n_components = (uint32_t)s->n_components;
    }
    p->n += (int)g->n;
    repoint(p);
    return RLC_OK;
}

void rl_pool_cut(rl_pool *p, const int *keep, int n_keep) {
    int k = 0;
    for (int i = 0; i < p->n; i++) {  // free the ones not kept (keep is ascending)
        if (k < n_keep && keep[k] == i) k++;
        else free_traj(&p->trajs[i]);
    }
    for (k = 0; k < n_keep; k++) {
        int from = keep[k];
        if (from == k) continue;
        p->trajs[k] = p->trajs[from];
        memcpy(p->comps + (size_t)k * LSRV_MAX_COMPONENTS, p->comps + (size_t)from * LSRV_MAX_COMPONENTS,
               sizeof *p->comps * LSRV_MAX_COMPONENTS);
        memcpy(p->comp_names[(size_t)k * LSRV_MAX_COMPONENTS], p->comp_names[(size_t)from * LSRV_MAX_COMPONENTS],
               48 * LSRV_MAX_COMPONENTS);
        p->trajs[from].tokens = NULL, p->trajs[from].logprobs = NULL, p->trajs[from].versions = NULL;
    }
    p->n = n_keep;
    repoint(p);
}

void rl_pool_free(rl_pool *p) {
    for (int i = 0; p->trajs && i < p->n; i++) free_traj(&p->trajs[i]);
    rlc_free(p->trajs);
    rlc_free(p->comps);
    rlc_free(p->comp_names);
    rlc_free(p->prompt);
    memset(p, 0, sizeof *p);
}
