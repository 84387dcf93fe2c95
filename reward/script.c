// script.c: scripts inside one sandboxed state and the three calls they may
// answer: reward(sample), prompt(example) and curriculum(state).
//
// Each call runs the script's compiled chunk afresh in a new environment
// table (whose __index is the allow-listed globals), then calls the function
// the chunk defined. So globals and upvalues never survive a call; the only
// memory a script keeps between calls is its table `store`, one per script
// per state (so one per thread in a pool).
#include <lauxlib.h>  // luaL_loadbufferx, luaL_ref, luaL_error
#include <math.h>     // isfinite
#include <stdio.h>    // snprintf
#include <stdlib.h>   // qsort
#include <string.h>   // strcmp, strrchr

#include "core/core.h"  // rlc_malloc, rlc_read_file, rlc_errorf
#include "sandbox.h"

enum { DEFINES_REWARD = 1, DEFINES_PROMPT = 2, DEFINES_CURRICULUM = 4 };

typedef struct script_chunk {
    int fn_ref;     // registry: the compiled main function
    int store_ref;  // registry: the script's persistent table
    unsigned defines;
    char name[64];
} script_chunk;

struct rlc_script {
    rlc_sandbox sb;
    script_chunk *chunks;
    int n_chunks, cap_chunks;
};

rlc_status rlc_script_create(const rlc_lua_limits *limits, rlc_script **out) {
    *out = NULL;
    rlc_script *s = rlc_calloc(1, sizeof *s);
    if (!s) return rlc_errorf(RLC_ERR_NOMEM, "lua: out of memory");
    rlc_status st = rlc_sandbox_init(&s->sb, limits);
    if (st != RLC_OK) {
        rlc_free(s);
        return st;
    }
    *out = s;
    return RLC_OK;
}

void rlc_script_free(rlc_script *s) {
    if (!s) return;
    rlc_sandbox_close(&s->sb);
    rlc_free(s->chunks);
    rlc_free(s);
}

size_t rlc_script_memory(const rlc_script *s) { return s->sb.mem_used; }

int rlc_script_defines(const rlc_script *s, int id, const char *fname) {
    if (id < 0 || id >= s->n_chunks) return 0;
    unsigned d = s->chunks[id].defines;
    if (strcmp(fname, "reward") == 0) return !!(d & DEFINES_REWARD);
    if (strcmp(fname, "prompt") == 0) return !!(d & DEFINES_PROMPT);
    if (strcmp(fname, "curriculum") == 0) return !!(d & DEFINES_CURRICULUM);
    return 0;
}

// ---- running a chunk --------------------------------------------------------

// Runs chunk `c` in a fresh environment; leaves the environment on the stack
// and returns its index.
static int run_chunk(lua_State *L, const script_chunk *c) {
    rlc_sandbox *sb = rlc_sandbox_of(L);
    luaL_checkstack(L, 8, "run_chunk");
    lua_createtable(L, 0, 8);
    int env = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->envmeta_ref);
    lua_setmetatable(L, env);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->store_ref);
    lua_setfield(L, env, "store");
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->fn_ref);
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);  // _ENV
    lua_call(L, 0, 0);
    return env;
}

// Pushes the function `fname` the chunk defined, or fails as "missing".
static void push_function(lua_State *L, int env, const script_chunk *c, const char *fname) {
    lua_pushstring(L, fname);
    if (lua_rawget(L, env) != LUA_TFUNCTION) {
        rlc_sandbox_of(L)->phase_fail = RLC_SCRIPT_ERR_MISSING;
        luaL_error(L, "%s defines no function %s()", c->name, fname);
    }
}

// ---- JSON to Lua ------------------------------------------------------------

static void push_json(lua_State *L, const json_t *v, int depth) {
    if (depth > 64) luaL_error(L, "example nested too deeply");
    luaL_checkstack(L, 4, "json");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            push_json(L, x, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(v), 0);
        for (size_t i = 0; i < json_array_size(v); i++) {
            push_json(L, json_array_get(v, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    default: lua_pushnil(L); break;
    }
}

static void set_string(lua_State *L, const char *key, const char *v) {
    if (v) lua_pushstring(L, v);
    else lua_pushliteral(L, "");
    lua_setfield(L, -2, key);
}

static void push_sample(lua_State *L, const rlc_sample *s) {
    lua_createtable(L, 0, 6);
    set_string(L, "prompt", s->prompt);
    set_string(L, "completion", s->completion);
    if (s->answer) set_string(L, "answer", s->answer);
    set_string(L, "finish_reason", s->finish_reason ? s->finish_reason : "stop");
    if (s->num_tokens >= 0) {
        lua_pushinteger(L, s->num_tokens);
        lua_setfield(L, -2, "num_tokens");
    }
    if (s->example) push_json(L, s->example, 0);
    else lua_newtable(L);
    lua_setfield(L, -2, "example");
}

// ---- load -----------------------------------------------------------------

typedef struct load_call {
    script_chunk *c;
    const char *src;
    size_t len;
} load_call;

static int load_fn(lua_State *L) {
    load_call *lc = lua_touserdata(L, 1);
    char chunkname[80];
    snprintf(chunkname, sizeof chunkname, "@%s", lc->c->name);
    if (luaL_loadbufferx(L, lc->src, lc->len, chunkname, "t") != LUA_OK) return lua_error(L);
    lc->c->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    lc->c->store_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int env = run_chunk(L, lc->c);
    static const char *const names[] = {"reward", "prompt", "curriculum"};
    for (int i = 0; i < 3; i++) {
        lua_pushstring(L, names[i]);
        if (lua_rawget(L, env) == LUA_TFUNCTION) lc->c->defines |= 1u << i;
        lua_pop(L, 1);
    }
    return 0;
}

rlc_status rlc_script_load(rlc_script *s, const char *name, const char *src, size_t len, int *id) {
    if (s->n_chunks == s->cap_chunks) {
        int cap = s->cap_chunks ? 2 * s->cap_chunks : 4;
        script_chunk *c = rlc_realloc(s->chunks, (size_t)cap * sizeof *c);
        if (!c) return rlc_errorf(RLC_ERR_NOMEM, "lua: out of memory");
        s->chunks = c;
        s->cap_chunks = cap;
    }
    script_chunk *c = &s->chunks[s->n_chunks];
    memset(c, 0, sizeof *c);
    c->fn_ref = c->store_ref = LUA_NOREF;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "script");
    load_call lc = {c, src, len};
    rlc_script_error err;
    if (rlc_sandbox_call(&s->sb, load_fn, &lc, &err) != RLC_SCRIPT_OK) {
        luaL_unref(s->sb.L, LUA_REGISTRYINDEX, c->fn_ref);
        luaL_unref(s->sb.L, LUA_REGISTRYINDEX, c->store_ref);
        return rlc_errorf(RLC_ERR_LUA, "%s (%s)", err.msg, rlc_script_fail_name(err.kind));
    }
    if (id) *id = s->n_chunks;
    s->n_chunks++;
    return RLC_OK;
}

rlc_status rlc_script_load_file(rlc_script *s, const char *path, int *id) {
    char *src;
    size_t len;
    RLC_TRY(rlc_read_file(path, &src, &len));
    const char *base = strrchr(path, '/');
    rlc_status st = rlc_script_load(s, base ? base + 1 : path, src, len, id);
    rlc_free(src);
    if (st != RLC_OK) return rlc_error_wrap(st, "loading %s", path);
    return RLC_OK;
}

// ---- reward(sample) ------------------------------------------------------------

typedef struct reward_call {
    const script_chunk *c;
    const rlc_sample *sample;
    double score;
    rlc_reward_result *res;
    const char *prefix;
} reward_call;

static void check_finite(lua_State *L, double v, const char *what) {
    if (!isfinite(v)) luaL_error(L, "reward returned a non-finite %s (%f)", what, v);
}

static int cmp_component(const void *a, const void *b) {
    return strcmp(((const rlc_reward_component *)a)->name, ((const rlc_reward_component *)b)->name);
}

// Named numbers of a result table (numbers and booleans; the key `skip` and
// other values are left out), appended to comps[*n..max) as "prefix.name",
// sorted by name.
static void read_named_numbers(lua_State *L, int t, const char *skip, const char *prefix,
                               rlc_reward_component *comps, int *n, int max) {
    int first = *n;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int vt = lua_type(L, -1);
        if (lua_type(L, -2) == LUA_TSTRING && !(skip && strcmp(lua_tostring(L, -2), skip) == 0) &&
            (vt == LUA_TNUMBER || vt == LUA_TBOOLEAN) && *n < max) {
            rlc_reward_component *comp = &comps[(*n)++];
            snprintf(comp->name, sizeof comp->name, "%s%s%s", prefix ? prefix : "",
                     prefix ? "." : "", lua_tostring(L, -2));
            comp->value = vt == LUA_TNUMBER ? lua_tonumber(L, -1) : lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
    }
    qsort(comps + first, (size_t)(*n - first), sizeof comps[0], cmp_component);
}

static int reward_fn(lua_State *L) {
    reward_call *rc = lua_touserdata(L, 1);
    int env = run_chunk(L, rc->c);
    push_function(L, env, rc->c, "reward");
    push_sample(L, rc->sample);
    lua_call(L, 1, 1);
    rlc_sandbox_of(L)->phase_fail = RLC_SCRIPT_ERR_RESULT;
    int t = lua_gettop(L);
    if (lua_type(L, t) == LUA_TNUMBER) {
        rc->score = lua_tonumber(L, t);
        check_finite(L, rc->score, "number");
        return 0;
    }
    if (lua_type(L, t) == LUA_TTABLE) {
        lua_pushliteral(L, "score");
        if (lua_rawget(L, t) != LUA_TNUMBER)
            return luaL_error(L, "reward returned a table without a numeric field 'score'");
        rc->score = lua_tonumber(L, -1);
        check_finite(L, rc->score, "score");
        lua_pop(L, 1);
        if (rc->res)
            read_named_numbers(L, t, "score", rc->prefix, rc->res->components, &rc->res->n_components,
                               RLC_REWARD_MAX_COMPONENTS);
        return 0;
    }
    return luaL_error(L, "reward returned %s; expected a number or a table {score=...}",
                      lua_type(L, t) == LUA_TNIL ? "nil" : luaL_typename(L, t));
}

rlc_script_fail rlc_script_reward(rlc_script *s, int id, const rlc_sample *sample, double *score,
                                  rlc_reward_result *res, const char *prefix,
                                  rlc_script_error *err) {
    if (id < 0 || id >= s->n_chunks) {
        err->kind = RLC_SCRIPT_ERR_MISSING;
        snprintf(err->msg, sizeof err->msg, "no script %d", id);
        return err->kind;
    }
    reward_call rc = {&s->chunks[id], sample, 0.0, res, prefix};
    int n_before = res ? res->n_components : 0;
    rlc_script_fail k = rlc_sandbox_call(&s->sb, reward_fn, &rc, err);
    if (k != RLC_SCRIPT_OK) {
        if (res) res->n_components = n_before;
        return k;
    }
    *score = rc.score;
    return RLC_SCRIPT_OK;
}

// ---- prompt(example) ------------------------------------------------------------

#define MAX_MESSAGES 256

typedef struct prompt_call {
    const script_chunk *c;
    const json_t *example;
    rlc_prompt_result *out;
    int oom;
} prompt_call;

void rlc_prompt_result_clear(rlc_prompt_result *p) {
    rlc_free(p->text);
    for (int i = 0; i < p->n_messages; i++) {
        rlc_free(p->messages[i].role);
        rlc_free(p->messages[i].content);
    }
    rlc_free(p->messages);
    memset(p, 0, sizeof *p);
}

// Checks a message list, leaving each role and content string on the stack.
static int check_messages(lua_State *L, int t) {
    int n = (int)lua_rawlen(L, t);
    if (n < 1 || n > MAX_MESSAGES)
        luaL_error(L, "prompt returned a table of %d messages; expected 1 to %d", n, MAX_MESSAGES);
    luaL_checkstack(L, 2 * n + 4, "prompt messages");
    for (int i = 1; i <= n; i++) {
        if (lua_rawgeti(L, t, i) != LUA_TTABLE)
            luaL_error(L, "prompt message %d is not a table {role=..., content=...}", i);
        int m = lua_gettop(L);
        lua_pushliteral(L, "role");
        int tr = lua_rawget(L, m);
        lua_pushliteral(L, "content");
        int tc = lua_rawget(L, m);
        if (tr != LUA_TSTRING || tc != LUA_TSTRING)
            luaL_error(L, "prompt message %d needs string fields role and content", i);
        lua_remove(L, m);
    }
    return n;
}

static int prompt_fn(lua_State *L) {
    prompt_call *pc = lua_touserdata(L, 1);
    int env = run_chunk(L, pc->c);
    push_function(L, env, pc->c, "prompt");
    if (pc->example) push_json(L, pc->example, 0);
    else lua_newtable(L);
    lua_call(L, 1, 1);
    rlc_sandbox_of(L)->phase_fail = RLC_SCRIPT_ERR_RESULT;
    int t = lua_gettop(L);
    if (lua_type(L, t) == LUA_TSTRING) {
        size_t len;
        const char *str = lua_tolstring(L, t, &len);
        pc->out->text = rlc_strndup(str, len);
        pc->oom = !pc->out->text;
        return 0;
    }
    if (lua_type(L, t) != LUA_TTABLE)
        return luaL_error(L, "prompt returned %s; expected a string or a list of messages",
                          luaL_typename(L, t));
    int n = check_messages(L, t);
    // Nothing below raises: copy out.
    rlc_chat_message *msgs = rlc_calloc((size_t)n, sizeof *msgs);
    if (!msgs) {
        pc->oom = 1;
        return 0;
    }
    pc->out->messages = msgs;
    for (int i = 0; i < n; i++) {
        size_t lr, lc;
        const char *r = lua_tolstring(L, t + 1 + 2 * i, &lr);
        const char *c = lua_tolstring(L, t + 2 + 2 * i, &lc);
        msgs[i].role = rlc_strndup(r, lr);
        msgs[i].content = rlc_strndup(c, lc);
        pc->out->n_messages = i + 1;
        if (!msgs[i].role || !msgs[i].content) {
            pc->oom = 1;
            break;
        }
    }
    return 0;
}

rlc_script_fail rlc_script_prompt(rlc_script *s, int id, const json_t *example,
                                  rlc_prompt_result *out, rlc_script_error *err) {
    memset(out, 0, sizeof *out);
    if (id < 0 || id >= s->n_chunks) {
        err->kind = RLC_SCRIPT_ERR_MISSING;
        snprintf(err->msg, sizeof err->msg, "no script %d", id);
        return err->kind;
    }
    prompt_call pc = {&s->chunks[id], example, out, 0};
    rlc_script_fail k = rlc_sandbox_call(&s->sb, prompt_fn, &pc, err);
    if (k == RLC_SCRIPT_OK && pc.oom) {
        k = err->kind = RLC_SCRIPT_ERR_MEMORY;
        snprintf(err->msg, sizeof err->msg, "out of memory copying the prompt");
    }
    if (k != RLC_SCRIPT_OK) rlc_prompt_result_clear(out);
    return k;
}

// ---- curriculum(state) ----------------------------------------------------------

typedef struct curriculum_call {
    const script_chunk *c;
    const rlc_curriculum_state *state;
    rlc_curriculum_result *out;
    int oom;
} curriculum_call;

void rlc_curriculum_result_clear(rlc_curriculum_result *r) {
    rlc_free(r->weights);
    rlc_free(r->indices);
    memset(r, 0, sizeof *r);
}

static void push_curriculum_state(lua_State *L, const rlc_curriculum_state *st) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, st->step);
    lua_setfield(L, -2, "step");
    lua_createtable(L, st->n_sources, 0);
    for (int i = 0; i < st->n_sources; i++) {
        const rlc_curriculum_source *src = &st->sources[i];
        lua_createtable(L, 0, 6);
        set_string(L, "name", src->name);
        lua_pushinteger(L, src->count);
        lua_setfield(L, -2, "count");
        lua_pushnumber(L, src->accuracy);
        lua_setfield(L, -2, "accuracy");
        lua_pushnumber(L, src->mean_abs_adv);
        lua_setfield(L, -2, "mean_abs_adv");
        lua_pushinteger(L, src->seen);
        lua_setfield(L, -2, "seen");
        lua_pushnumber(L, src->correct);
        lua_setfield(L, -2, "correct");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "sources");
    if (st->params && json_is_object(st->params)) push_json(L, st->params, 0);
    else lua_newtable(L);
    lua_setfield(L, -2, "params");
}

static int curriculum_fn(lua_State *L) {
    curriculum_call *cc = lua_touserdata(L, 1);
    const rlc_curriculum_state *st = cc->state;
    int env = run_chunk(L, cc->c);
    push_function(L, env, cc->c, "curriculum");
    push_curriculum_state(L, st);
    lua_call(L, 1, 2);
    rlc_sandbox_of(L)->phase_fail = RLC_SCRIPT_ERR_RESULT;
    // An optional second result: named numbers for the learner's log.
    int info = lua_gettop(L);
    if (lua_type(L, info) == LUA_TTABLE)
        read_named_numbers(L, info, NULL, NULL, cc->out->info, &cc->out->n_info, RLC_REWARD_MAX_COMPONENTS);
    else if (!lua_isnil(L, info))
        return luaL_error(L, "curriculum returned %s as its second value; expected a table of numbers or nil",
                          luaL_typename(L, info));
    lua_pop(L, 1);
    int t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        return luaL_error(L, "curriculum returned %s; expected weights by source or a list of indices",
                          luaL_typename(L, t));
    size_t n = lua_rawlen(L, t);
    if (n > 0) {  // a list of 1-based indices
        for (size_t i = 1; i <= n; i++) {
            int isint = 0;
            lua_rawgeti(L, t, (lua_Integer)i);
            lua_Integer v = lua_tointegerx(L, -1, &isint);
            if (!isint || v < 1) luaL_error(L, "curriculum index %d is not an integer >= 1", (int)i);
            lua_pop(L, 1);
        }
        long *idx = rlc_malloc(n * sizeof *idx);
        if (!idx) {
            cc->oom = 1;
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, t, (lua_Integer)i);
            idx[i - 1] = (long)lua_tointeger(L, -1) - 1;
            lua_pop(L, 1);
        }
        cc->out->indices = idx;
        cc->out->n_indices = n;
        return 0;
    }
    // Weights by source name: every key must name a source.
    double *w = lua_newuserdatauv(L, sizeof(double) * (size_t)(st->n_sources + 1), 0);
    for (int i = 0; i < st->n_sources; i++) w[i] = 0;
    double sum = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "curriculum weights must map source names to numbers");
        const char *name = lua_tostring(L, -2);
        double v = lua_tonumber(L, -1);
        int found = -1;
        for (int i = 0; i < st->n_sources; i++)
            if (st->sources[i].name && strcmp(st->sources[i].name, name) == 0) found = i;
        if (found < 0) luaL_error(L, "curriculum returned a weight for unknown source '%s'", name);
        if (!(v >= 0) || !isfinite(v)) luaL_error(L, "curriculum weight of '%s' is not a finite number >= 0", name);
        w[found] = v;
        sum += v;
        lua_pop(L, 1);
    }
    if (!(sum > 0)) luaL_error(L, "curriculum weights are all zero");
    double *out = rlc_malloc(sizeof(double) * (size_t)(st->n_sources ? st->n_sources : 1));
    if (!out) {
        cc->oom = 1;
        return 0;
    }
    memcpy(out, w, sizeof(double) * (size_t)st->n_sources);
    cc->out->weights = out;
    return 0;
}

rlc_script_fail rlc_script_curriculum(rlc_script *s, int id, const rlc_curriculum_state *state,
                                      rlc_curriculum_result *out, rlc_script_error *err) {
    memset(out, 0, sizeof *out);
    if (id < 0 || id >= s->n_chunks) {
        err->kind = RLC_SCRIPT_ERR_MISSING;
        snprintf(err->msg, sizeof err->msg, "no script %d", id);
        return err->kind;
    }
    curriculum_call cc = {&s->chunks[id], state, out, 0};
    rlc_script_fail k = rlc_sandbox_call(&s->sb, curriculum_fn, &cc, err);
    if (k == RLC_SCRIPT_OK && cc.oom) {
        k = err->kind = RLC_SCRIPT_ERR_MEMORY;
        snprintf(err->msg, sizeof err->msg, "out of memory copying the curriculum");
    }
    if (k != RLC_SCRIPT_OK) rlc_curriculum_result_clear(out);
    return k;
}

// ---- a chunk's returned table as JSON ------------------------------------------

typedef struct json_call {
    const script_chunk *c;
    json_t *root;
} json_call;

// Converts the Lua value at idx to a new JSON value.
static json_t *lua_to_json(lua_State *L, int idx, int depth) {
    idx = lua_absindex(L, idx);
    if (depth > 32) luaL_error(L, "table nested too deeply");
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
        return json_real(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return json_stringn(s, len);
    }
    case LUA_TTABLE: break;
    default: luaL_error(L, "a %s cannot be a configuration value", luaL_typename(L, idx));
    }
    luaL_checkstack(L, 4, "config");
    size_t n = lua_rawlen(L, idx);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
    }
    if (n > 0 && count == n) {
        json_t *arr = json_array();
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            json_array_append_new(arr, lua_to_json(L, -1, depth + 1));
            lua_pop(L, 1);
        }
        return arr;
    }
    json_t *obj = json_object();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            json_decref(obj);
            luaL_error(L, "configuration tables need string keys (or a list 1..n)");
        }
        json_t *v = lua_to_json(L, -1, depth + 1);
        json_object_set_new(obj, lua_tostring(L, -2), v);
        lua_pop(L, 1);
    }
    return obj;
}

static int json_fn(lua_State *L) {
    json_call *jc = lua_touserdata(L, 1);
    rlc_sandbox *sb = rlc_sandbox_of(L);
    luaL_checkstack(L, 8, "config");
    lua_createtable(L, 0, 4);
    int env = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->envmeta_ref);
    lua_setmetatable(L, env);
    lua_rawgeti(L, LUA_REGISTRYINDEX, jc->c->fn_ref);
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    sb->phase_fail = RLC_SCRIPT_ERR_RESULT;
    if (lua_type(L, -1) != LUA_TTABLE)
        return luaL_error(L, "%s must return a table (it returned %s)", jc->c->name, luaL_typename(L, -1));
    // An error part-way (a function value, a mixed table) leaks the partial
    // JSON; experiment files are read once per process, so that is accepted.
    jc->root = lua_to_json(L, -1, 0);
    return 0;
}

rlc_status rlc_script_return_json(rlc_script *s, int id, json_t **out) {
    *out = NULL;
    if (id < 0 || id >= s->n_chunks) return rlc_errorf(RLC_ERR_ARG, "no script %d", id);
    json_call jc = {&s->chunks[id], NULL};
    rlc_script_error err;
    if (rlc_sandbox_call(&s->sb, json_fn, &jc, &err) != RLC_SCRIPT_OK) {
        json_decref(jc.root);
        return rlc_errorf(RLC_ERR_CONFIG, "%s", err.msg);
    }
    *out = jc.root;
    return RLC_OK;
}
