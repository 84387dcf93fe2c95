// math_lua.c: rlc.math for scripts: extract, boxed, normalize, equal, grade,
// number. Texts longer than MATH_LUA_MAX_TEXT are cut to their last part
// (answers sit at the end), so every call is bounded in time.
#include <lauxlib.h>  // luaL_checklstring, luaL_Reg
#include <math.h>     // isnan
#include <string.h>   // strlen

#include "math_internal.h"
#include "sandbox.h"

#define MATH_LUA_MAX_TEXT (256u << 10)

static const char *text_arg(lua_State *L, int i) {
    size_t len;
    const char *s = luaL_checklstring(L, i, &len);
    if (len > MATH_LUA_MAX_TEXT) s += len - MATH_LUA_MAX_TEXT;
    if (strlen(s) != (len > MATH_LUA_MAX_TEXT ? MATH_LUA_MAX_TEXT : len))
        luaL_argerror(L, i, "text contains a zero byte");
    return s;
}

static const char *const found_names[] = {"none", "boxed", "gsm8k", "answer_is", "last_number"};

// extract(text) -> answer, where ("boxed", "gsm8k", "answer_is", "last_number"); nil if none
static int l_extract(lua_State *L) {
    char buf[MATH_MAX_ANSWER];
    rlc_math_found f = rlc_math_extract(text_arg(L, 1), buf, sizeof buf);
    if (f == RLC_MATH_FOUND_NONE) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, buf);
    lua_pushstring(L, found_names[f]);
    return 2;
}

static int l_boxed(lua_State *L) {
    char buf[MATH_MAX_ANSWER];
    if (rlc_math_last_boxed(text_arg(L, 1), buf, sizeof buf)) lua_pushstring(L, buf);
    else lua_pushnil(L);
    return 1;
}

static int l_normalize(lua_State *L) {
    char buf[MATH_MAX_ANSWER + 64];
    rlc_math_normalize(text_arg(L, 1), buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

// equal(answer, reference) -> boolean
static int l_equal(lua_State *L) {
    const char *a = text_arg(L, 1), *b = text_arg(L, 2);
    lua_pushboolean(L, rlc_math_equal(a, b));
    return 1;
}

// grade(completion, reference) -> boolean, the extracted answer (or nil)
static int l_grade(lua_State *L) {
    const char *text = text_arg(L, 1), *ref = text_arg(L, 2);
    char buf[MATH_MAX_ANSWER];
    if (rlc_math_extract(text, buf, sizeof buf) == RLC_MATH_FOUND_NONE) {
        lua_pushboolean(L, 0);
        lua_pushnil(L);
        return 2;
    }
    lua_pushboolean(L, rlc_math_equal(buf, ref));
    lua_pushstring(L, buf);
    return 2;
}

// number(s) -> the value of a numeric answer ("1,234", "\frac{3}{4}", "50%"), or nil
static int l_number(lua_State *L) {
    char buf[MATH_MAX_ANSWER + 64];
    rlc_math_normalize(text_arg(L, 1), buf, sizeof buf);
    math_expr *e = math_expr_parse(buf);
    double v = NAN;
    if (e) {
        char names[1][16];
        if (math_expr_vars(e, names, 1) == 0) v = math_expr_eval(e, names, NULL, 0);
        math_expr_free(e);
    }
    if (isnan(v)) lua_pushnil(L);
    else lua_pushnumber(L, v);
    return 1;
}

int rlc_lua_open_math(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"extract", l_extract}, {"boxed", l_boxed}, {"normalize", l_normalize},
        {"equal", l_equal},     {"grade", l_grade}, {"number", l_number},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    return 1;
}
