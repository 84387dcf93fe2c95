// sandbox.c: one Lua state made safe for untrusted scripts: a counting
// allocator with a hard limit, an instruction-count hook that also checks a
// wall-time deadline, an allow-list of globals with read-only library tables,
// and protected calls whose failures come back as structured values.
#include "sandbox.h"

#include <lauxlib.h>  // luaL_* helpers
#include <lualib.h>   // luaopen_base, luaopen_string, ...
#include <stdio.h>    // snprintf
#include <string.h>   // memcpy, strlen

#include "core/core.h"  // rlc_realloc, rlc_free, rlc_now, rlc_errorf, RLC_INFO

static const char *const fail_names[RLC_SCRIPT_ERR_COUNT] = {
    "ok", "script", "budget", "time", "memory", "result", "missing",
};

const char *rlc_script_fail_name(rlc_script_fail kind) {
    return (unsigned)kind < RLC_SCRIPT_ERR_COUNT ? fail_names[kind] : "?";
}

rlc_lua_limits rlc_lua_default_limits(void) {
    rlc_lua_limits l = {RLC_LUA_DEFAULT_INSTRUCTIONS, RLC_LUA_DEFAULT_MEMORY,
                        RLC_LUA_DEFAULT_SECONDS};
    return l;
}

rlc_sandbox *rlc_sandbox_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

// ---- memory ---------------------------------------------------------------

// lua_Alloc: every byte goes through rlc_realloc and is counted; growth past
// the limit fails, which Lua turns into a "not enough memory" error after an
// emergency collection. Shrinking and freeing always succeed.
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    rlc_sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        rlc_free(ptr);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && sb->mem_used - old + nsize > sb->limits.max_memory) return NULL;
    void *p = rlc_realloc(ptr, nsize);
    if (!p) return nsize <= old ? ptr : NULL;  // a failed shrink keeps the block
    sb->mem_used = sb->mem_used - old + nsize;
    if (sb->mem_used > sb->mem_peak) sb->mem_peak = sb->mem_used;
    return p;
}

// ---- budget and deadline ----------------------------------------------------

static void sb_hook(lua_State *L, lua_Debug *ar);

int rlc_sandbox_abort(lua_State *L, rlc_script_fail kind, const char *msg) {
    rlc_sandbox *sb = rlc_sandbox_of(L);
    if (!sb->abort) {
        sb->abort = kind;
        snprintf(sb->abort_msg, sizeof sb->abort_msg, "%s", msg);
    }
    // From now on every few instructions raise again, so that a script's own
    // pcall cannot swallow the abort.
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
    lua_pushstring(L, msg);
    return lua_error(L);
}

static void abort_with(lua_State *L, rlc_script_fail kind) {
    rlc_sandbox *sb = rlc_sandbox_of(L);
    char msg[128];
    switch (kind) {
    case RLC_SCRIPT_ERR_BUDGET:
        snprintf(msg, sizeof msg, "instruction budget exceeded (%lld instructions)",
                 sb->limits.max_instructions);
        break;
    case RLC_SCRIPT_ERR_TIME:
        snprintf(msg, sizeof msg, "time limit exceeded (%.3g s)", sb->limits.max_seconds);
        break;
    default: snprintf(msg, sizeof msg, "%s", "call aborted"); break;
    }
    rlc_sandbox_abort(L, kind, msg);
}

static void sb_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    rlc_sandbox *sb = rlc_sandbox_of(L);
    if (!sb->in_call) luaL_error(L, "Lua code may only run inside a sandboxed call");
    if (sb->abort) {
        lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "call aborted");  // the message handler substitutes the reason
    }
    sb->executed += RLC_SANDBOX_HOOK_EVERY;
    if (sb->executed > sb->limits.max_instructions) abort_with(L, RLC_SCRIPT_ERR_BUDGET);
    if (rlc_now() > sb->deadline) abort_with(L, RLC_SCRIPT_ERR_TIME);
}

void rlc_sandbox_check_time(lua_State *L) {
    rlc_sandbox *sb = rlc_sandbox_of(L);
    if (sb->in_call && rlc_now() > sb->deadline) abort_with(L, RLC_SCRIPT_ERR_TIME);
}

// The message handler: keeps string errors, names other error values, and
// replaces anything raised after an abort with the abort's reason.
static int sb_msgh(lua_State *L) {
    rlc_sandbox *sb = rlc_sandbox_of(L);
    if (sb->abort) {
        lua_pushstring(L, sb->abort_msg);
        return 1;
    }
    if (lua_type(L, 1) == LUA_TSTRING) return 1;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        lua_pushfstring(L, "error object is a number (%s)", lua_tostring(L, 1));
        return 1;
    }
    lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    return 1;
}

rlc_script_fail rlc_sandbox_call(rlc_sandbox *sb, lua_CFunction fn, void *ud, rlc_script_error *err) {
    lua_State *L = sb->L;
    int top = lua_gettop(L);
    sb->in_call = 1;
    sb->executed = 0;
    sb->abort = RLC_SCRIPT_OK;
    sb->phase_fail = RLC_SCRIPT_ERR_SCRIPT;
    sb->deadline = rlc_now() + sb->limits.max_seconds;
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, RLC_SANDBOX_HOOK_EVERY);
    lua_pushcfunction(L, sb_msgh);
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, ud);
    int st = lua_pcall(L, 1, 0, top + 1);
    rlc_script_fail kind = RLC_SCRIPT_OK;
    if (st != LUA_OK) {
        if (sb->abort) kind = sb->abort;
        else if (st == LUA_ERRMEM) kind = RLC_SCRIPT_ERR_MEMORY;
        else kind = sb->phase_fail;
        if (err) {
            err->kind = kind;
            const char *m = sb->abort                         ? sb->abort_msg
                            : lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                             : "error";
            if (kind == RLC_SCRIPT_ERR_MEMORY && !sb->abort)
                snprintf(err->msg, sizeof err->msg, "memory limit reached (%zu bytes)",
                         sb->limits.max_memory);
            else
                snprintf(err->msg, sizeof err->msg, "%s", m);
        }
    }
    lua_settop(L, top);
    sb->in_call = 0;
    sb->abort = RLC_SCRIPT_OK;
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, RLC_SANDBOX_HOOK_EVERY);
    // Give the memory of a failed or greedy call back at once. Each full
    // collection also halves an oversized Lua stack, hence the loop.
    if (kind != RLC_SCRIPT_OK || sb->mem_used > sb->limits.max_memory / 2) {
        for (int i = 0; i < 16; i++) {
            size_t before = sb->mem_used;
            lua_gc(L, LUA_GCCOLLECT);
            if (sb->mem_used > before - before / 8) break;
        }
    }
    return kind;
}

// ---- replaced library functions ---------------------------------------------

// setmetatable without finalizers: a __gc could run Lua code at any
// allocation, outside any budget.
static int sb_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not allowed in the sandbox");
    lua_settop(L, 2);
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_setmetatable(L, 1);
    return 1;
}

// load(text, name, mode, env): text chunks only, and the environment must be
// given, so that loaded code cannot reach the state's real globals.
static int sb_load(lua_State *L) {
    size_t len;
    const char *src = lua_tolstring(L, 1, &len);
    if (!src || lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "load: only text chunks (strings) are allowed in the sandbox");
    const char *name = luaL_optstring(L, 2, "=(load)");
    const char *mode = luaL_optstring(L, 3, "t");
    if (strcmp(mode, "t") != 0) return luaL_error(L, "load: only mode \"t\" (text) is allowed");
    if (lua_type(L, 4) != LUA_TTABLE)
        return luaL_error(L, "load: an explicit environment table (4th argument) is required");
    if (luaL_loadbufferx(L, src, len, name, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushvalue(L, 4);
    lua_setupvalue(L, -2, 1);
    return 1;
}

static int sb_collectgarbage(lua_State *L) {
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed in the sandbox (only \"count\")",
                          opt);
    lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
}

// print goes to the log at info level, at most 1 KiB a line.
static int sb_print(lua_State *L) {
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    RLC_INFO("lua: %.*s%s", (int)(len > 1024 ? 1024 : len), s, len > 1024 ? "..." : "");
    return 0;
}

// string.rep with its result checked against the memory left before any byte
// is written (a plain rep of 2^40 bytes would otherwise run inside C).
static int sb_rep(lua_State *L) {
    rlc_sandbox *sb = rlc_sandbox_of(L);
    size_t l, lsep;
    const char *s = luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || (l == 0 && lsep == 0)) {
        lua_pushliteral(L, "");
        return 1;
    }
    double total = (double)n * (double)l + (double)(n - 1) * (double)lsep;
    size_t room = sb->limits.max_memory > sb->mem_used ? sb->limits.max_memory - sb->mem_used : 0;
    if (total >= (double)room) {
        char msg[128];
        snprintf(msg, sizeof msg, "string.rep: a result of %.0f bytes exceeds the memory limit", total);
        return rlc_sandbox_abort(L, RLC_SCRIPT_ERR_MEMORY, msg);
    }
    size_t size = (size_t)total, unit = l + lsep;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, size);
    // Write one unit, then double the written prefix.
    memcpy(p, s, l);
    if (size > l) memcpy(p + l, sep, lsep);
    size_t done = unit < size ? unit : size;
    while (done < size) {
        size_t k = done < size - done ? done : size - done;
        memcpy(p + done, p, k);
        done += k;
    }
    luaL_pushresultsize(&b, size);
    return 1;
}

// ---- read-only tables -------------------------------------------------------

static int ro_newindex(lua_State *L) {
    return luaL_error(L, "attempt to modify a read-only table (field '%s')",
                      lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
}

static int ro_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1))) return 2;
    lua_pushnil(L);
    return 1;
}

static int ro_pairs(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, ro_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int ro_len(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

void rlc_sandbox_push_readonly(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_newtable(L);  // the proxy
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, ro_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, ro_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

// ---- the allow-list -------------------------------------------------------------

static const char *const allowed_globals[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "tonumber",
    "tostring", "type", "rawequal", "rawlen", "rawget", "getmetatable", "_VERSION", NULL,
};

// Copies library `name` from the real globals into base as a read-only proxy.
static void add_library(lua_State *L, int base, const char *name) {
    lua_getglobal(L, name);
    rlc_sandbox_push_readonly(L, -1);
    lua_setfield(L, base, name);
    lua_pop(L, 1);
}

static int sb_setup(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_settop(L, 0);

    lua_newtable(L);  // 1: base
    for (int i = 0; allowed_globals[i]; i++) {
        lua_getglobal(L, allowed_globals[i]);
        lua_setfield(L, 1, allowed_globals[i]);
    }
    lua_pushcfunction(L, sb_setmetatable);
    lua_setfield(L, 1, "setmetatable");
    lua_pushcfunction(L, sb_load);
    lua_setfield(L, 1, "load");
    lua_pushcfunction(L, sb_collectgarbage);
    lua_setfield(L, 1, "collectgarbage");
    lua_pushcfunction(L, sb_print);
    lua_setfield(L, 1, "print");

    // The real string table is also the strings' __index: fix it in place.
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pushcfunction(L, sb_rep);
    lua_setfield(L, -2, "rep");
    rlc_lua_open_patterns(L);
    lua_pop(L, 1);
    // getmetatable("") must not hand out the real string table.
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    add_library(L, 1, LUA_STRLIBNAME);
    add_library(L, 1, LUA_TABLIBNAME);
    add_library(L, 1, LUA_MATHLIBNAME);
    add_library(L, 1, LUA_UTF8LIBNAME);
    add_library(L, 1, LUA_COLIBNAME);

    lua_newtable(L);  // rlc
    rlc_lua_open_math(L);
    rlc_sandbox_push_readonly(L, -1);
    lua_setfield(L, -3, "math");
    lua_pop(L, 1);
    rlc_sandbox_push_readonly(L, -1);
    lua_setfield(L, 1, "rlc");
    lua_pop(L, 1);

    // Scripts' environments are fresh tables with this metatable.
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");

    rlc_sandbox *sb = rlc_sandbox_of(L);
    sb->envmeta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 1);
    sb->base_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int sb_panic(lua_State *L) {
    const char *m = lua_tostring(L, -1);
    RLC_ERROR("lua: unprotected error: %s", m ? m : "?");
    return 0;
}

rlc_status rlc_sandbox_init(rlc_sandbox *sb, const rlc_lua_limits *limits) {
    memset(sb, 0, sizeof *sb);
    sb->limits = limits ? *limits : rlc_lua_default_limits();
    if (limits && !limits->max_instructions && !limits->max_memory && !limits->max_seconds)
        sb->limits = rlc_lua_default_limits();  // all zero: the defaults
    if (sb->limits.max_instructions <= 0 || sb->limits.max_memory < (1u << 20) ||
        !(sb->limits.max_seconds > 0))
        return rlc_errorf(RLC_ERR_ARG,
                          "lua limits: instructions must be > 0, memory >= 1 MiB, seconds > 0");
    sb->L = lua_newstate(sb_alloc, sb);
    if (!sb->L) return rlc_errorf(RLC_ERR_NOMEM, "lua: cannot create a state");
    lua_atpanic(sb->L, sb_panic);
    lua_pushcfunction(sb->L, sb_setup);
    if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
        rlc_status st = rlc_errorf(RLC_ERR_NOMEM, "lua: setting up the sandbox: %s",
                                   lua_tostring(sb->L, -1) ? lua_tostring(sb->L, -1) : "?");
        lua_close(sb->L);
        sb->L = NULL;
        return st;
    }
    lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, RLC_SANDBOX_HOOK_EVERY);
    return RLC_OK;
}

void rlc_sandbox_close(rlc_sandbox *sb) {
    if (sb->L) lua_close(sb->L);
    sb->L = NULL;
}
