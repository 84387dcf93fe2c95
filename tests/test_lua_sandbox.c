// test_lua_sandbox.c: the sandbox under attack. Escape attempts (io, os,
// require, bytecode, string.dump, debug, metatables, collectgarbage, _ENV
// tricks) and denial of service (endless loops, string.rep(2^40), a
// catastrophic pattern, runaway tables, deep recursion, a __gc finalizer,
// swallowed aborts, the wall-time deadline): each call fails with the right
// kind and message, the state answers the next call normally, and the memory
// comes back. Budgets: 2M instructions, 32 MiB, 30 s of wall time (generous, so that a
// loaded machine cannot turn an instruction-limit case into a time-limit one);
// the deadline cases use 0.2 s with no instruction limit.
#include <string.h>  // strstr

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

static const char *good_src = "function reward(s) return #s.completion end";

// Loads src into s and scores one sample; returns the failure kind.
static rlc_script_fail run(rlc_script *s, const char *src, rlc_script_error *err, double *score) {
    int id = -1;
    rlc_status st = rlc_script_load(s, "t.lua", src, strlen(src), &id);
    if (st != RLC_OK) {
        snprintf(err->msg, sizeof err->msg, "%s", rlc_last_error());
        err->kind = RLC_SCRIPT_ERR_COUNT;  // a load failure
        return err->kind;
    }
    rlc_sample sample = {.prompt = "p", .completion = "abc", .answer = "3", .num_tokens = 3};
    *score = -1;
    return rlc_script_reward(s, id, &sample, score, NULL, NULL, err);
}

static void expect(rlc_script *s, const char *name, const char *src, rlc_script_fail kind,
                   const char *needle) {
    rlc_script_error err = {0};
    double score;
    double t0 = rlc_now();
    rlc_script_fail k = run(s, src, &err, &score);
    double dt = rlc_now() - t0;
    CHECK_MSG(k == kind, "%s: kind %s, expected %s (%s)", name, rlc_script_fail_name(k),
              rlc_script_fail_name(kind), err.msg);
    CHECK_MSG(!needle || strstr(err.msg, needle), "%s: message '%s' lacks '%s'", name, err.msg, needle);
    printf("  %-28s %8zu B %-7s %6.1f ms  %s\n", name, rlc_script_memory(s), rlc_script_fail_name(k), dt * 1e3, err.msg);
    // The same state answers the next call normally.
    k = run(s, good_src, &err, &score);
    CHECK_MSG(k == RLC_SCRIPT_OK && score == 3, "%s: next call failed: %s", name, err.msg);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    rlc_lua_limits lim = {2000000, 32u << 20, 30.0};
    rlc_script *s;
    CHECK_OK(rlc_script_create(&lim, &s));
    if (!s) return test_finish("test_lua_sandbox");
    size_t mem0 = rlc_script_memory(s);

    printf("escape suite:\n");
    expect(s, "io.open", "function reward(x) return io.open('/etc/passwd') end", RLC_SCRIPT_ERR_SCRIPT,
           "global 'io'");
    expect(s, "os.execute", "function reward(x) os.execute('ls') return 1 end", RLC_SCRIPT_ERR_SCRIPT,
           "global 'os'");
    expect(s, "os.exit", "function reward(x) os.exit(1) end", RLC_SCRIPT_ERR_SCRIPT, "global 'os'");
    expect(s, "require", "function reward(x) local m = require('os') return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "global 'require'");
    expect(s, "dofile", "function reward(x) return dofile('/etc/passwd') end", RLC_SCRIPT_ERR_SCRIPT,
           "global 'dofile'");
    expect(s, "loadfile", "function reward(x) return loadfile('/etc/passwd') end",
           RLC_SCRIPT_ERR_SCRIPT, "global 'loadfile'");
    expect(s, "string.dump", "function reward(x) return load(string.dump(reward)) end",
           RLC_SCRIPT_ERR_SCRIPT, "field 'dump'");
    expect(s, "load bytecode (mode b)", "function reward(x) return load('\\27Lua', 'b', 'b', {}) end",
           RLC_SCRIPT_ERR_SCRIPT, "only mode");
    expect(s, "load bytecode (text mode)",
           "function reward(x) local f, e = load('\\27LuaT\\0', 'b', 't', {}) error(e) end",
           RLC_SCRIPT_ERR_SCRIPT, "binary");
    expect(s, "load without env", "function reward(x) return load('return 1')() end",
           RLC_SCRIPT_ERR_SCRIPT, "explicit environment");
    expect(s, "load with env", "function reward(x) return load('return 3', 'c', 't', {})() end",
           RLC_SCRIPT_OK, NULL);
    expect(s, "debug.getinfo", "function reward(x) return debug.getinfo(1) end",
           RLC_SCRIPT_ERR_SCRIPT, "global 'debug'");
    expect(s, "string metatable", "function reward(x) getmetatable('').__index = {} return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "boolean value");
    expect(s, "setmetatable(string)", "function reward(x) setmetatable(string, {}) return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "protected metatable");
    expect(s, "modify string lib", "function reward(x) string.len = function() return 0 end return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "read-only");
    expect(s, "modify math lib", "function reward(x) math.floor = nil return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "read-only");
    expect(s, "rawset on a library", "function reward(x) rawset(math, 'pi', 3) return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "global 'rawset'");
    expect(s, "collectgarbage stop", "function reward(x) collectgarbage('stop') return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "not allowed");
    expect(s, "_ENV swap", "function reward(x) local _ENV = {print=print} return os end",
           RLC_SCRIPT_ERR_RESULT, "nil");
    expect(s, "getmetatable(_G)", "function reward(x) return getmetatable(_G).__index.io end",
           RLC_SCRIPT_ERR_SCRIPT, "boolean value");
    expect(s, "pairs leaks nothing",
           "function reward(x) local f, t = pairs(string) t.upper = nil return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "read-only");
    // library tables are intact after the attempts
    expect(s, "libraries intact",
           "function reward(x) return (math.floor(2.5) == 2 and string.len('ab') == 2 "
           "and ('x'):upper() == 'X') and 1 or 0 end",
           RLC_SCRIPT_OK, NULL);

    printf("denial-of-service suite:\n");
    expect(s, "while true do end", "function reward(x) while true do end end", RLC_SCRIPT_ERR_BUDGET,
           "instruction budget");
    expect(s, "pcall swallowing",
           "function reward(x) while true do pcall(function() while true do end end) end end",
           RLC_SCRIPT_ERR_BUDGET, "instruction budget");
    expect(s, "rep(2^40)", "function reward(x) return #(('x'):rep(2^40)) end", RLC_SCRIPT_ERR_MEMORY,
           "string.rep");
    expect(s, "catastrophic pattern",
           "function reward(x) return string.find(('a'):rep(5000), 'a*a*a*a*b') or 0 end",
           RLC_SCRIPT_ERR_BUDGET, "pattern");
    expect(s, "gsub catastrophic",
           "function reward(x) return select(2, ('a'):rep(3000):gsub('a-a-a-b', '')) end",
           RLC_SCRIPT_ERR_BUDGET, "pattern");
    expect(s, "runaway table",
           "function reward(x) local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end end",
           RLC_SCRIPT_ERR_MEMORY, "memory");
    expect(s, "deep recursion", "local function f(n) return 1 + f(n + 1) end function reward(x) return f(1) end",
           RLC_SCRIPT_ERR_MEMORY, "memory limit");
    expect(s, "looping __gc",
           "function reward(x) setmetatable({}, {__gc = function() while true do end end}) return 1 end",
           RLC_SCRIPT_ERR_SCRIPT, "__gc");
    expect(s, "coroutine loop",
           "function reward(x) local co = coroutine.wrap(function() while true do end end) co() end",
           RLC_SCRIPT_ERR_BUDGET, "instruction budget");
    size_t mem1 = rlc_script_memory(s);
    printf("memory: %zu bytes before the suites, %zu after\n", mem0, mem1);
    CHECK_MSG(mem1 < mem0 + (2u << 20), "memory did not come back: %zu -> %zu", mem0, mem1);

    printf("errors and results:\n");
    expect(s, "script error", "function reward(x) error('boom') end", RLC_SCRIPT_ERR_SCRIPT,
           "t.lua:1: boom");
    expect(s, "error object table", "function reward(x) error({}) end", RLC_SCRIPT_ERR_SCRIPT,
           "table value");
    expect(s, "string result", "function reward(x) return '1' end", RLC_SCRIPT_ERR_RESULT, "string");
    expect(s, "nil result", "function reward(x) end", RLC_SCRIPT_ERR_RESULT, "nil");
    expect(s, "nan result", "function reward(x) return 0/0 end", RLC_SCRIPT_ERR_RESULT, "non-finite");
    expect(s, "table without score", "function reward(x) return {a=1} end", RLC_SCRIPT_ERR_RESULT,
           "score");
    expect(s, "no reward function", "x = 1", RLC_SCRIPT_ERR_MISSING, "defines no function reward");
    expect(s, "syntax error", "function reward(x) return end end", RLC_SCRIPT_ERR_COUNT, "t.lua:1:");

    printf("isolation between calls:\n");
    const char *leak =
        "counter = counter or 0\n"
        "local hits = 0\n"
        "function reward(x)\n"
        "  counter = counter + 1; hits = hits + 1\n"
        "  store.n = (store.n or 0) + 1\n"
        "  leaked_global = leaked_global or 'first'\n"
        "  return counter * 100 + hits * 10 + store.n\n"
        "end\n";
    int id;
    CHECK_OK(rlc_script_load(s, "leak.lua", leak, strlen(leak), &id));
    rlc_sample sample = {.completion = "x"};
    rlc_script_error err;
    for (int call = 1; call <= 3; call++) {
        double score = 0;
        CHECK(rlc_script_reward(s, id, &sample, &score, NULL, NULL, &err) == RLC_SCRIPT_OK);
        // store persists; globals and upvalues start afresh in every call
        CHECK_MSG(score == 110 + call, "call %d: score %g", call, score);
    }

    printf("time limit:\n");
    rlc_script *t;
    rlc_lua_limits tl = {1000000000000LL, 32u << 20, 0.2};
    CHECK_OK(rlc_script_create(&tl, &t));
    double t0 = rlc_now();
    expect(t, "deadline", "function reward(x) while true do end end", RLC_SCRIPT_ERR_TIME, "time limit");
    expect(t, "deadline in pattern", "function reward(x) return string.find(('a'):rep(20000), 'a*a*a*b') end",
           RLC_SCRIPT_ERR_TIME, "time limit");
    // Only a sanity bound (no timing threshold): both calls end by the deadline,
    // not by ctest's timeout.
    CHECK_MSG(rlc_now() - t0 < 60, "the deadline took %.2f s", rlc_now() - t0);
    rlc_script_free(t);
    rlc_script_free(s);
    return test_finish("test_lua_sandbox");
}
