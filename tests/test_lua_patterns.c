// test_lua_patterns.c: the sandbox's step-counted string.find / match /
// gmatch / gsub give the same results as Lua's own on a table of cases
// (captures, position captures, anchors, %b, %f, back-references, sets,
// classes, init arguments, plain find, replacement strings / tables /
// functions, max counts), and the same errors for malformed patterns.
#include <lauxlib.h>  // luaL_newstate, luaL_loadstring
#include <lualib.h>   // luaL_openlibs
#include <string.h>   // strcmp

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

// A chunk that runs every case and returns one string with all results.
static const char *cases =
    "local out = {}\n"
    "local function add(...) local t = table.pack(...)\n"
    "  for i = 1, t.n do out[#out + 1] = tostring(t[i]) end out[#out + 1] = '|' end\n"
    "local function try(f, ...) local r = table.pack(pcall(f, ...))\n"
    "  if r[1] then add(table.unpack(r, 2, r.n)) else add('ERR', (tostring(r[2]):gsub('^.-:%d+: ', ''))) end end\n"
    "local S = 'hello world from Lua 5.4, x = 12.5e3; (nested (parens)) [set] THE end'\n"
    "local P = {'o', 'l+', 'l*', 'l-o', '%a+', '%d+', '%d+%.%d+', '(%a+) (%a+)', '()ll()', '^hello',\n"
    "  'end$', '^end', '%b()', '%f[%a]%a+', '%f[%A]', '(l)%1', '[%a_][%w_]*', '[^%s]+', '[a-c]+',\n"
    "  '[%]]', '.-%s', 'x%s*=%s*([%d%.e]+)', '%u+', '%p', '[]]', 'o?w', '(h)(e)(l)', '%s*$',\n"
    "  '', '.', '%w-d', 'z*', '(%d)(%d)?'}\n"
    "for _, p in ipairs(P) do\n"
    "  try(string.find, S, p) try(string.find, S, p, 10) try(string.find, S, p, -8)\n"
    "  try(string.match, S, p) try(string.match, S, p, 20)\n"
    "  try(string.gsub, S, p, '<%0>') try(string.gsub, S, p, '%1', 2)\n"
    "  try(string.gsub, S, p, {hello = 'HI', l = false}) try(string.gsub, S, p, function(a) return #a > 2 and a:upper() end)\n"
    "  local ok, it = pcall(string.gmatch, S, p)\n"
    "  if ok then local n = 0 for a, b in it do add(a, b) n = n + 1 if n > 50 then break end end end\n"
    "end\n"
    "try(string.find, 'a.b', '.', 1, true) try(string.find, 'a.b', '.', 2, true) try(string.find, 'abc', '', 10)\n"
    "try(string.find, 'a+b', '+', 1, true) try(string.gmatch('abc', '.', 2)) \n"
    "for _, bad in ipairs({'%', '[a', '(a', 'a)', '%b', '%f', '%1', '(()', '%g('}) do\n"
    "  try(string.find, 'abc', bad) try(string.gsub, 'abc', bad, 'x') end\n"
    "try(string.gsub, 'abc', '%w', '%2') try(string.gsub, 'abc', '%w', '%') try(string.gsub, 'abc', '(b)', {b = {}})\n"
    "try(string.gsub, 'hello', '', '-') try(string.gsub, 'abc', '.', {a = 1, b = true})\n"
    "return table.concat(out, ' ')\n";

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    // Lua's own
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    CHECK(luaL_loadstring(L, cases) == LUA_OK);
    CHECK_MSG(lua_pcall(L, 0, 1, 0) == LUA_OK, "%s", lua_tostring(L, -1));
    const char *want = lua_tostring(L, -1);

    // the sandbox's, through prompt() which returns a string
    rlc_script *s;
    CHECK_OK(rlc_script_create(NULL, &s));
    char src[8192];
    snprintf(src, sizeof src, "function prompt(ex)\n%s\nend\n", cases);
    int id = -1;
    CHECK_OK(rlc_script_load(s, "patterns.lua", src, strlen(src), &id));
    rlc_prompt_result p;
    rlc_script_error err;
    CHECK_MSG(rlc_script_prompt(s, id, NULL, &p, &err) == RLC_SCRIPT_OK, "%s", err.msg);
    if (want && p.text) {
        size_t n = strlen(want), i = 0;
        while (i < n && want[i] == p.text[i]) i++;
        CHECK_MSG(strcmp(want, p.text) == 0, "results differ at byte %zu:\n  lua:     ...%.160s\n  sandbox: ...%.160s",
                  i, want + (i > 40 ? i - 40 : 0), p.text + (i > 40 ? i - 40 : 0));
        printf("%zu bytes of results agree\n", n);
    }
    rlc_prompt_result_clear(&p);
    rlc_script_free(s);
    lua_close(L);
    return test_finish("test_lua_patterns");
}
