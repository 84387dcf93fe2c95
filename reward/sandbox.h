// sandbox.h: internal to reward/: one Lua state with the sandbox's allocator,
// hook, allow-listed globals and protected calls. script.c builds the
// reward / prompt / curriculum calls on top of it.
#ifndef RLC_REWARD_SANDBOX_H
#define RLC_REWARD_SANDBOX_H

#include <lua.h>     // lua_State
#include <stddef.h>  // size_t

#include "reward.h"  // rlc_lua_limits, rlc_script_error

typedef struct rlc_sandbox {
    lua_State *L;
    rlc_lua_limits limits;
    size_t mem_used;       // bytes held by the state
    size_t mem_peak;
    int in_call;           // 1 while a protected call runs
    long long executed;    // instructions counted in this call
    double deadline;       // rlc_now() limit of this call
    rlc_script_fail abort; // set by the hook or a C function: the call must end
    char abort_msg[128];   // the reason of the abort
    rlc_script_fail phase_fail;  // the kind a plain error in this phase means
    int base_ref;          // registry ref of the allow-listed globals table
    int envmeta_ref;       // registry ref of {__index = base}, shared by call envs
} rlc_sandbox;

// The hook interval in instructions.
#define RLC_SANDBOX_HOOK_EVERY 1000

rlc_status rlc_sandbox_init(rlc_sandbox *sb, const rlc_lua_limits *limits);
void rlc_sandbox_close(rlc_sandbox *sb);

// The sandbox owning a state (the allocator's userdata).
rlc_sandbox *rlc_sandbox_of(lua_State *L);

// Runs fn(L) with `ud` as its only argument (a light userdata) in protected
// mode, with the budget, deadline and message handler armed. Returns
// RLC_SCRIPT_OK, or the kind of failure with its message in err. Afterwards
// the stack is as before and the per-call state is cleared.
rlc_script_fail rlc_sandbox_call(rlc_sandbox *sb, lua_CFunction fn, void *ud, rlc_script_error *err);

// For C functions of the sandbox: ends the call with `kind` ("too expensive"
// pattern, string.rep too large), as the hook does. Does not return.
int rlc_sandbox_abort(lua_State *L, rlc_script_fail kind, const char *msg);
// Checks the deadline from inside a long C function; aborts when it passed.
void rlc_sandbox_check_time(lua_State *L);

// Pushes a new read-only proxy for the table at index idx.
void rlc_sandbox_push_readonly(lua_State *L, int idx);

// Replaces string.find / match / gmatch / gsub with step-counted versions
// (lua_pattern.c); the string table is at the top of the stack.
void rlc_lua_open_patterns(lua_State *L);
// Pushes the rlc.math table (math_lua.c).
int rlc_lua_open_math(lua_State *L);

#endif
