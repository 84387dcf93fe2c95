// reward.h: the public face of reward/, embedded Lua for rewards, prompts and
// curricula, plus rlc.math (answer extraction and grading, in C).
//
// Layers, bottom up:
//   rlc_script   one sandboxed Lua state holding one or more compiled scripts;
//                calls reward(sample) / prompt(example) / curriculum(state).
//   rlc_reward   several reward scripts combined with weights (TRL's
//                reward_funcs / reward_weights), failures scored and counted.
//   rlc_reward_pool  worker threads, one rlc_reward (one Lua state) each.
//   rlc_math_*   answer extraction, normalization and equivalence.
//   rlc_exp_*    experiment files: a Lua table checked against the defaults.
//
// Sandbox rules (docs/lua.md is the user's reference): an allow-list of globals
// (no io, os, debug, package, require, dofile, loadfile, string.dump, rawset;
// load only of text with an explicit environment; no __gc metamethods); each
// call runs the script's chunk afresh in a new global table, so nothing leaks
// from one call to the next except through the per-script table `store`;
// library tables are read-only; an instruction budget and a wall-time deadline
// per call (count hook; the pattern functions count their own steps and
// string.rep is capped) and a memory limit per state (custom lua_Alloc).
#ifndef RLC_REWARD_H
#define RLC_REWARD_H

#include <jansson.h>  // json_t (examples are JSON records)
#include <stddef.h>   // size_t

#include "core/status.h"  // rlc_status

// ---- limits --------------------------------------------------------------

typedef struct rlc_lua_limits {
    long long max_instructions;  // Lua VM instructions per call (count hook)
    size_t max_memory;           // bytes allocated by one Lua state, all included
    double max_seconds;          // wall time per call
} rlc_lua_limits;

#define RLC_LUA_DEFAULT_INSTRUCTIONS 10000000LL  // ~20-50 ms of plain Lua
#define RLC_LUA_DEFAULT_MEMORY (64u << 20)       // 64 MiB per state
#define RLC_LUA_DEFAULT_SECONDS 1.0

rlc_lua_limits rlc_lua_default_limits(void);

// Why a call failed. The names ("script", "budget", ...) appear in reports.
typedef enum {
    RLC_SCRIPT_OK = 0,
    RLC_SCRIPT_ERR_SCRIPT,  // the script raised an error (or a sandbox rule did)
    RLC_SCRIPT_ERR_BUDGET,  // the instruction budget ran out
    RLC_SCRIPT_ERR_TIME,    // the wall-time deadline passed
    RLC_SCRIPT_ERR_MEMORY,  // the state's memory limit was reached
    RLC_SCRIPT_ERR_RESULT,  // the function returned a value of the wrong type
    RLC_SCRIPT_ERR_MISSING, // the script does not define the function
    RLC_SCRIPT_ERR_COUNT
} rlc_script_fail;

const char *rlc_script_fail_name(rlc_script_fail kind);

#define RLC_SCRIPT_MSG_MAX 256
typedef struct rlc_script_error {
    rlc_script_fail kind;
    char msg[RLC_SCRIPT_MSG_MAX];  // "gsm8k.lua:12: attempt to index a nil value"
} rlc_script_error;

// ---- one sandboxed state --------------------------------------------------

typedef struct rlc_script rlc_script;

// limits may be NULL or all zero (the defaults). RLC_ERR_NOMEM, RLC_ERR_ARG
// (a limit <= 0, or memory under 1 MiB) or RLC_ERR_LUA on failure.
rlc_status rlc_script_create(const rlc_lua_limits *limits, rlc_script **out);
void rlc_script_free(rlc_script *s);

// Compiles a script (text only, never bytecode) and runs it once to check it;
// `name` is the chunk name used in messages. *id receives the script's index in
// this state. RLC_ERR_LUA with the Lua message on a syntax or runtime error.
rlc_status rlc_script_load(rlc_script *s, const char *name, const char *src, size_t len, int *id);
// Reads and loads a file; the chunk is named after the file's base name.
rlc_status rlc_script_load_file(rlc_script *s, const char *path, int *id);
// 1 when the script defines a global function `fname` (checked at load).
int rlc_script_defines(const rlc_script *s, int id, const char *fname);
size_t rlc_script_memory(const rlc_script *s);  // bytes held by the state now

// A completion to score. All strings borrowed; any may be NULL ("" in Lua,
// except answer, which is nil when NULL).
typedef struct rlc_sample {
    const char *prompt;
    const char *completion;
    const char *answer;         // the dataset's reference answer
    const json_t *example;      // the whole JSONL record, or NULL
    const char *finish_reason;  // "stop" or "length"
    long num_tokens;            // completion tokens (-1: unknown)
} rlc_sample;

#define RLC_REWARD_MAX_COMPONENTS 16
#define RLC_REWARD_NAME_MAX 48
typedef struct rlc_reward_component {
    char name[RLC_REWARD_NAME_MAX];
    double value;
} rlc_reward_component;

typedef struct rlc_reward_result {
    double score;      // the weighted sum; failed functions count as the failure score
    int failed;        // how many of the functions failed on this sample
    int n_components;  // each function's score, then its named components
    rlc_reward_component components[RLC_REWARD_MAX_COMPONENTS];
} rlc_reward_result;

// Calls reward(sample) of script `id`. Returns RLC_SCRIPT_OK and sets *score
// (and appends named components "prefix.name" to `res` when it is not NULL
// and the script returned a table), or the failure kind with a message in
// *err. Never raises; the state stays usable after any failure.
rlc_script_fail rlc_script_reward(rlc_script *s, int id, const rlc_sample *sample, double *score,
                                  rlc_reward_result *res, const char *prefix,
                                  rlc_script_error *err);

// The result of prompt(example): a string, or chat messages. Owned by the
// caller; release with rlc_prompt_result_clear.
typedef struct rlc_chat_message {
    char *role;
    char *content;
} rlc_chat_message;
typedef struct rlc_prompt_result {
    char *text;  // set when the script returned a string
    rlc_chat_message *messages;
    int n_messages;
} rlc_prompt_result;
void rlc_prompt_result_clear(rlc_prompt_result *p);
rlc_script_fail rlc_script_prompt(rlc_script *s, int id, const json_t *example,
                                  rlc_prompt_result *out, rlc_script_error *err);

// curriculum(state): `state` is {step=..., sources={ {name=, count=, accuracy=,
// mean_abs_adv=, seen=, correct=}, ...}, params={...}} (params: the
// experiment's curriculum.params, an empty table when NULL). The script returns a table of
// weights by source name ({gsm8k=0.7, math=0.3}), or a list of 1-based
// example indices, and optionally a second value: a table of named numbers
// to log ({stage=2, keep=0.5}).
typedef struct rlc_curriculum_source {
    const char *name;
    long count;           // samples seen in the window
    double accuracy;      // mean accuracy in the window
    double mean_abs_adv;  // mean |advantage| in the window
    long seen;            // samples since the run began (not windowed)
    double correct;       // sum of their accuracies since the run began
} rlc_curriculum_source;
typedef struct rlc_curriculum_state {
    long step;
    const rlc_curriculum_source *sources;
    int n_sources;
    const json_t *params;  // a JSON object or NULL (borrowed)
} rlc_curriculum_state;
typedef struct rlc_curriculum_result {
    double *weights;  // n_sources weights (>= 0, sum > 0), or NULL
    long *indices;    // 0-based example indices, or NULL
    size_t n_indices;
    int n_info;       // the second result's numbers and booleans, sorted by name
    rlc_reward_component info[RLC_REWARD_MAX_COMPONENTS];
} rlc_curriculum_result;
void rlc_curriculum_result_clear(rlc_curriculum_result *r);
rlc_script_fail rlc_script_curriculum(rlc_script *s, int id, const rlc_curriculum_state *state,
                                      rlc_curriculum_result *out, rlc_script_error *err);

// Runs script `id` once and converts the value its chunk returns (a table)
// to JSON: tables with keys 1..n become arrays, others objects. Used for
// experiment files. RLC_ERR_LUA / RLC_ERR_CONFIG with the reason.
rlc_status rlc_script_return_json(rlc_script *s, int id, json_t **out);

// ---- failures, counted once per distinct reason ----------------------------

// Thread-safe. The first occurrence of each distinct (kind, message) is logged
// with RLC_WARN; later ones are only counted.
typedef struct rlc_reward_errors rlc_reward_errors;
rlc_reward_errors *rlc_reward_errors_create(void);  // NULL when out of memory
void rlc_reward_errors_free(rlc_reward_errors *e);
void rlc_reward_errors_add(rlc_reward_errors *e, const rlc_script_error *err);
long rlc_reward_errors_total(rlc_reward_errors *e);
// The i-th distinct reason (in order of first occurrence); 0 when i is past the end.
int rlc_reward_errors_get(rlc_reward_errors *e, int i, rlc_script_error *err, long *count);

// ---- weighted rewards ------------------------------------------------------

typedef struct rlc_reward_func {
    const char *path;    // a Lua file defining reward(sample)
    const char *source;  // or its text (then path, if set, only names it)
    const char *name;    // component name; NULL: the file's base name without .lua
    double weight;
} rlc_reward_func;

typedef struct rlc_reward_config {
    const rlc_reward_func *funcs;
    int n_funcs;
    rlc_lua_limits limits;
    double failure_score;  // the score of a function that failed (default 0)
} rlc_reward_config;

typedef struct rlc_reward rlc_reward;

// errs may be NULL (failures are then not counted); it is borrowed and must
// outlive the reward. RLC_ERR_LUA / RLC_ERR_IO / RLC_ERR_CONFIG on a bad script.
rlc_status rlc_reward_create(const rlc_reward_config *cfg, rlc_reward_errors *errs,
                             rlc_reward **out);
void rlc_reward_free(rlc_reward *r);
// Scores one sample; never fails (failures become the failure score).
void rlc_reward_score(rlc_reward *r, const rlc_sample *sample, rlc_reward_result *out);

// ---- a pool of reward threads ---------------------------------------------

typedef struct rlc_reward_pool rlc_reward_pool;
rlc_status rlc_reward_pool_create(const rlc_reward_config *cfg, int n_threads,
                                  rlc_reward_errors *errs, rlc_reward_pool **out);
void rlc_reward_pool_free(rlc_reward_pool *p);
// Scores samples[0..n) into results[0..n) on the pool's threads; returns when
// all are done. Not reentrant: one caller at a time.
void rlc_reward_pool_score(rlc_reward_pool *p, const rlc_sample *samples, size_t n,
                           rlc_reward_result *results);

// ---- rlc.math ---------------------------------------------------------------

// Where an answer was found.
typedef enum {
    RLC_MATH_FOUND_NONE = 0,
    RLC_MATH_FOUND_BOXED,        // the last \boxed{...} or \fbox{...}
    RLC_MATH_FOUND_GSM8K,        // "#### N"
    RLC_MATH_FOUND_ANSWER_IS,    // "the (final) answer is ..."
    RLC_MATH_FOUND_LAST_NUMBER,  // the last number in the text
} rlc_math_found;

// Extracts the final answer from a completion into buf (NUL-terminated,
// truncated to cap). Tries, in order: the last \boxed / \fbox, "#### ", "the
// answer is", the last number. Returns where it was found.
rlc_math_found rlc_math_extract(const char *text, char *buf, size_t cap);
// The content of the last \boxed{...} / \fbox{...} (nested braces); 0 if none.
int rlc_math_last_boxed(const char *text, char *buf, size_t cap);

// Canonical text of an answer: LaTeX noise, $, units, thousands separators,
// trailing zeros removed. Comparison of two normalized strings is the fast
// path of rlc_math_equal.
void rlc_math_normalize(const char *answer, char *buf, size_t cap);

// 1 when the answer `given` is equivalent to the reference `ref`: same
// normalized text, same number (fractions, decimals, percent, scientific),
// same tuple / interval, same set in any order, or algebraic expressions equal
// at random points.
int rlc_math_equal(const char *given, const char *ref);

// Extracts the answer from a completion and compares it to the reference.
int rlc_math_grade(const char *completion, const char *ref);

// ---- experiment files -------------------------------------------------------

typedef struct rlc_exp rlc_exp;

// Loads an experiment: runs the file (sandboxed) which returns a table, checks
// it against the defaults (unknown keys name the nearest valid ones, types
// are checked), then applies "a.b=value" overrides in order, and last the
// preset of algorithm.name (dapo, drgrpo, gspo: docs/algorithms.md) to the
// keys that neither the file nor an override set.
// RLC_ERR_CONFIG with the exact message on any bad key or value.
rlc_status rlc_exp_load(const char *path, const char *const *overrides, int n_overrides,
                        rlc_exp **out);
// The defaults alone (with overrides), without a file.
rlc_status rlc_exp_defaults(const char *const *overrides, int n_overrides, rlc_exp **out);
void rlc_exp_free(rlc_exp *e);

// Typed access by dotted key ("algorithm.clip_low"). RLC_ERR_CONFIG when the
// key does not exist or has another type.
rlc_status rlc_exp_get_number(const rlc_exp *e, const char *key, double *out);
rlc_status rlc_exp_get_int(const rlc_exp *e, const char *key, long long *out);
rlc_status rlc_exp_get_bool(const rlc_exp *e, const char *key, int *out);
rlc_status rlc_exp_get_string(const rlc_exp *e, const char *key, const char **out);  // borrowed
// Lists (data.sources, reward.funcs) as JSON arrays and tables
// (curriculum.params) as JSON objects, borrowed from e.
rlc_status rlc_exp_get_json(const rlc_exp *e, const char *key, const json_t **out);
// The whole experiment as JSON (borrowed).
const json_t *rlc_exp_json(const rlc_exp *e);
// 1 when the file or an override gave `key` ("algorithm.clip_low") a value,
// even its default; 0 when it is left at the default or the preset's value
// (or is unknown).
int rlc_exp_is_set(const rlc_exp *e, const char *key);

// The reward section as an rlc_reward_config: funcs[0..max) receives the
// entries of reward.funcs (strings borrowed from e), cfg the limits and the
// failure score. RLC_ERR_CONFIG when the list is empty or longer than max.
rlc_status rlc_exp_reward_config(const rlc_exp *e, rlc_reward_func *funcs, int max, rlc_reward_config *cfg);

// model.device's value: "cpu" gives *ordinal -1, "cuda" 0, "cuda:N" N.
// RLC_ERR_CONFIG naming the key and the value for anything else (loading an
// experiment checks model.device with it, and model.dtype: "bf16" or "fp32").
// Whether the build and the machine have that device is the caller's to ask
// (kernels_cuda_require, then opening it).
rlc_status rlc_exp_parse_device(const char *value, int *ordinal);

// Writes docs/config.md's text (the table of defaults) into a new string
// (caller frees with rlc_free).
char *rlc_exp_doc_markdown(void);

#endif
