// lua_pattern.c: string.find / match / gmatch / gsub for the sandbox, with
// Lua 5.4's pattern language, but every step of the backtracking matcher is
// counted against the call's instruction budget and the deadline is checked
// as it runs. The stock matcher runs inside C where the count hook never
// fires, so a pattern like ("a"):rep(1e5):find("a*a*a*b") would run for hours.
#include <ctype.h>    // isalpha, isdigit, ...
#include <lauxlib.h>  // luaL_Buffer, luaL_check*
#include <string.h>   // memchr, memcmp

#include "sandbox.h"

#define PM_MAXCAPTURES 32
#define PM_MAXDEPTH 200       // recursion depth of match()
#define PM_TICK 4096          // steps between budget and clock checks
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define PM_ESC '%'
#define PM_SPECIALS "^$*+?.([%-"

typedef struct pm_state {
    lua_State *L;
    const char *src_init, *src_end;  // the subject
    const char *p_end;               // end of the pattern
    int level;                       // captures open or closed so far
    int depth;                       // recursion left
    int ticks;                       // steps left before the next check
    struct {
        const char *init;
        ptrdiff_t len;
    } capture[PM_MAXCAPTURES];
} pm_state;

// Counts a step; every PM_TICK steps charges the budget and checks the clock.
static void tick(pm_state *ms) {
    if (--ms->ticks > 0) return;
    ms->ticks = PM_TICK;
    rlc_sandbox *sb = rlc_sandbox_of(ms->L);
    sb->executed += PM_TICK;
    if (sb->in_call && sb->executed > sb->limits.max_instructions) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "instruction budget exceeded (%lld instructions) in pattern matching",
                 sb->limits.max_instructions);
        rlc_sandbox_abort(ms->L, RLC_SCRIPT_ERR_BUDGET, msg);
    }
    rlc_sandbox_check_time(ms->L);
}

static const char *match(pm_state *ms, const char *s, const char *p);

static const char *class_end(pm_state *ms, const char *p) {
    switch (*p++) {
    case PM_ESC:
        if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (*p == '^') p++;
        do {  // the first ']' of a set is a literal
            if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
            if (*(p++) == PM_ESC && p < ms->p_end) p++;
        } while (*p != ']');
        return p + 1;
    default: return p;
    }
}

static int match_class(int c, int cl) {
    int res;
    switch (tolower(cl)) {
    case 'a': res = isalpha(c); break;
    case 'c': res = iscntrl(c); break;
    case 'd': res = isdigit(c); break;
    case 'g': res = isgraph(c); break;
    case 'l': res = islower(c); break;
    case 'p': res = ispunct(c); break;
    case 's': res = isspace(c); break;
    case 'u': res = isupper(c); break;
    case 'w': res = isalnum(c); break;
    case 'x': res = isxdigit(c); break;
    default: return cl == c;
    }
    if (isupper(cl)) res = !res;
    return res != 0;
}

// p at '[', ec at the set's closing ']'.
static int match_bracket(int c, const char *p, const char *ec) {
    int sig = 1;
    if (*(p + 1) == '^') {
        sig = 0;
        p++;
    }
    while (++p < ec) {
        if (*p == PM_ESC) {
            p++;
            if (match_class(c, (unsigned char)*p)) return sig;
        } else if (*(p + 1) == '-' && p + 2 < ec) {
            p += 2;
            if ((unsigned char)*(p - 2) <= c && c <= (unsigned char)*p) return sig;
        } else if ((unsigned char)*p == c) {
            return sig;
        }
    }
    return !sig;
}

static int single_match(pm_state *ms, const char *s, const char *p, const char *ep) {
    if (s >= ms->src_end) return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case PM_ESC: return match_class(c, (unsigned char)*(p + 1));
    case '[': return match_bracket(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

static const char *match_balance(pm_state *ms, const char *s, const char *p) {
    if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != *p) return NULL;
    int b = *p, e = *(p + 1), depth = 1;
    while (++s < ms->src_end) {
        tick(ms);
        if (*s == e) {
            if (--depth == 0) return s + 1;
        } else if (*s == b) {
            depth++;
        }
    }
    return NULL;
}

static const char *max_expand(pm_state *ms, const char *s, const char *p, const char *ep) {
    ptrdiff_t i = 0;
    while (single_match(ms, s + i, p, ep)) {
        tick(ms);
        i++;
    }
    for (; i >= 0; i--) {  // try the longest first, then back off
        const char *res = match(ms, s + i, ep + 1);
        if (res) return res;
    }
    return NULL;
}

static const char *min_expand(pm_state *ms, const char *s, const char *p, const char *ep) {
    for (;;) {
        const char *res = match(ms, s, ep + 1);
        if (res) return res;
        if (!single_match(ms, s, p, ep)) return NULL;
        s++;
    }
}

static const char *start_capture(pm_state *ms, const char *s, const char *p, ptrdiff_t what) {
    if (ms->level >= PM_MAXCAPTURES) luaL_error(ms->L, "too many captures");
    ms->capture[ms->level].init = s;
    ms->capture[ms->level].len = what;
    ms->level++;
    const char *res = match(ms, s, p);
    if (!res) ms->level--;
    return res;
}

static const char *end_capture(pm_state *ms, const char *s, const char *p) {
    int l = ms->level - 1;
    while (l >= 0 && ms->capture[l].len != CAP_UNFINISHED) l--;
    if (l < 0) luaL_error(ms->L, "invalid pattern capture");
    ms->capture[l].len = s - ms->capture[l].init;
    const char *res = match(ms, s, p);
    if (!res) ms->capture[l].len = CAP_UNFINISHED;
    return res;
}

static const char *match_capture(pm_state *ms, const char *s, int c) {
    int l = c - '1';
    if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
        luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    size_t len = (size_t)ms->capture[l].len;
    if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0) return s + len;
    return NULL;
}

static const char *match(pm_state *ms, const char *s, const char *p) {
    if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
    tick(ms);
    while (p != ms->p_end) {
        const char *ep;
        switch (*p) {
        case '(':
            if (*(p + 1) == ')') s = start_capture(ms, s, p + 2, CAP_POSITION);
            else s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
            goto done;
        case ')': s = end_capture(ms, s, p + 1); goto done;
        case '$':
            if (p + 1 != ms->p_end) goto single;
            s = s == ms->src_end ? s : NULL;
            goto done;
        case PM_ESC:
            if (*(p + 1) == 'b') {
                s = match_balance(ms, s, p + 2);
                if (!s) goto done;
                p += 4;
                continue;
            }
            if (*(p + 1) == 'f') {
                p += 2;
                if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                ep = class_end(ms, p);
                int prev = s == ms->src_init ? 0 : (unsigned char)*(s - 1);
                int cur = s < ms->src_end ? (unsigned char)*s : 0;
                if (!match_bracket(prev, p, ep - 1) && match_bracket(cur, p, ep - 1)) {
                    p = ep;
                    continue;
                }
                s = NULL;
                goto done;
            }
            if (isdigit((unsigned char)*(p + 1))) {
                s = match_capture(ms, s, (unsigned char)*(p + 1));
                if (!s) goto done;
                p += 2;
                continue;
            }
            goto single;
        default:
        single:
            ep = class_end(ms, p);
            if (!single_match(ms, s, p, ep)) {
                if (*ep == '*' || *ep == '?' || *ep == '-') {  // zero repetitions are fine
                    p = ep + 1;
                    continue;
                }
                s = NULL;
                goto done;
            }
            switch (*ep) {
            case '?': {
                const char *res = match(ms, s + 1, ep + 1);
                if (res) {
                    s = res;
                    goto done;
                }
                p = ep + 1;
                continue;
            }
            case '+': s = max_expand(ms, s + 1, p, ep); goto done;
            case '*': s = max_expand(ms, s, p, ep); goto done;
            case '-': s = min_expand(ms, s, p, ep); goto done;
            default:
                s++;
                p = ep;
                continue;
            }
        }
    }
done:
    ms->depth++;
    return s;
}

// ---- captures -----------------------------------------------------------------

static void push_one_capture(pm_state *ms, int i, const char *s, const char *e) {
    if (i >= ms->level) {
        if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s));  // the whole match
        return;
    }
    ptrdiff_t l = ms->capture[i].len;
    if (l == CAP_UNFINISHED) luaL_error(ms->L, "unfinished capture");
    if (l == CAP_POSITION) lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
    else lua_pushlstring(ms->L, ms->capture[i].init, (size_t)l);
}

static int push_captures(pm_state *ms, const char *s, const char *e) {
    int n = (ms->level == 0 && s) ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_one_capture(ms, i, s, e);
    return n;
}

static void pm_init(pm_state *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    ms->L = L;
    ms->src_init = s;
    ms->src_end = s + ls;
    ms->p_end = p + lp;
    ms->ticks = PM_TICK;
}

static void pm_reset(pm_state *ms) {
    ms->level = 0;
    ms->depth = PM_MAXDEPTH;
}

static size_t start_index(lua_Integer pos, size_t len) {
    if (pos > 0) return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len) return 1;
    return len + (size_t)pos + 1;
}

static int no_specials(const char *p, size_t l) {
    for (size_t i = 0; i < l; i++)
        if (strchr(PM_SPECIALS, p[i]) && p[i]) return 0;
    return 1;
}

// ---- find / match -----------------------------------------------------------------

static int find_aux(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    pm_state ms;
    pm_init(&ms, L, s, ls, p, lp);
    if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
        if (lp == 0) {
            lua_pushinteger(L, (lua_Integer)init + 1);
            lua_pushinteger(L, (lua_Integer)init);
            return 2;
        }
        for (const char *c = s + init; (size_t)(ms.src_end - c) >= lp; c++) {
            tick(&ms);
            c = memchr(c, *p, (size_t)(ms.src_end - c) - lp + 1);
            if (!c) break;
            if (memcmp(c, p, lp) == 0) {
                lua_pushinteger(L, (c - s) + 1);
                lua_pushinteger(L, (c - s) + (lua_Integer)lp);
                return 2;
            }
        }
        luaL_pushfail(L);
        return 1;
    }
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        ms.p_end = p + lp - 1;
    }
    const char *s1 = s + init;
    do {
        pm_reset(&ms);
        const char *e = match(&ms, s1, p);
        if (e) {
            if (find) {
                lua_pushinteger(L, (s1 - s) + 1);
                lua_pushinteger(L, e - s);
                return push_captures(&ms, NULL, NULL) + 2;
            }
            return push_captures(&ms, s1, e);
        }
    } while (s1++ < ms.src_end && !anchor);
    luaL_pushfail(L);
    return 1;
}

static int pm_find(lua_State *L) { return find_aux(L, 1); }
static int pm_match(lua_State *L) { return find_aux(L, 0); }

// ---- gmatch -----------------------------------------------------------------------

typedef struct gmatch_state {
    const char *src, *p, *lastmatch;
    pm_state ms;
} gmatch_state;

static int gmatch_next(lua_State *L) {
    gmatch_state *gm = lua_touserdata(L, lua_upvalueindex(3));
    gm->ms.L = L;
    for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
        pm_reset(&gm->ms);
        const char *e = match(&gm->ms, src, gm->p);
        if (e && e != gm->lastmatch) {
            gm->src = gm->lastmatch = e;
            return push_captures(&gm->ms, src, e);
        }
    }
    return 0;
}

static int pm_gmatch(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) init = ls + 1;  // start past the end: no matches
    lua_settop(L, 2);
    gmatch_state *gm = lua_newuserdatauv(L, sizeof *gm, 0);
    pm_init(&gm->ms, L, s, ls, p, lp);
    gm->src = s + init;
    gm->p = p;
    gm->lastmatch = NULL;
    lua_pushcclosure(L, gmatch_next, 3);  // s, p and the state stay alive
    return 1;
}

// ---- gsub --------------------------------------------------------------------------

static void add_string_repl(pm_state *ms, luaL_Buffer *b, const char *s, const char *e) {
    size_t l;
    lua_State *L = ms->L;
    const char *news = lua_tolstring(L, 3, &l);
    const char *end = news + l;
    const char *pct;
    while ((pct = memchr(news, PM_ESC, (size_t)(end - news))) != NULL) {
        luaL_addlstring(b, news, (size_t)(pct - news));
        pct++;
        if (pct == end || (*pct != PM_ESC && !isdigit((unsigned char)*pct)))
            luaL_error(L, "invalid use of '%c' in replacement string", PM_ESC);
        if (*pct == PM_ESC) {
            luaL_addchar(b, *pct);
        } else {
            if (*pct == '0') lua_pushlstring(L, s, (size_t)(e - s));
            else push_one_capture(ms, *pct - '1', s, e);
            luaL_tolstring(L, -1, NULL);
            lua_remove(L, -2);
            luaL_addvalue(b);
        }
        news = pct + 1;
    }
    luaL_addlstring(b, news, (size_t)(end - news));
}

// Returns 1 when the match was replaced.
static int add_value(pm_state *ms, luaL_Buffer *b, const char *s, const char *e, int tr) {
    lua_State *L = ms->L;
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        push_one_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_string_repl(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {  // nil or false: keep the original text
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int pm_gsub(lua_State *L) {
    size_t srcl, lp;
    const char *src = luaL_checklstring(L, 1, &srcl);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *lastmatch = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE,
                     3, "string/function/table");
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    pm_state ms;
    pm_init(&ms, L, src, srcl, p, lp);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Integer n = 0;
    int changed = 0;
    while (n < max_s) {
        pm_reset(&ms);
        tick(&ms);
        const char *e = match(&ms, src, p);
        if (e && e != lastmatch) {
            n++;
            changed |= add_value(&ms, &b, src, e, tr);
            src = lastmatch = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void rlc_lua_open_patterns(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"find", pm_find}, {"match", pm_match}, {"gmatch", pm_gmatch}, {"gsub", pm_gsub}, {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}
