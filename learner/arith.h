// arith.h: the default experiment's data: procedurally generated multi-step
// arithmetic word problems with GSM8K-style worked solutions, and the one
// prompt format that SFT, evaluation and GRPO share.
//
// A problem starts from a quantity and applies 2 to 4 operations (+, -, *)
// told in words, with names and objects drawn from small lists:
//
//   question: "Tom has 8 apples. He buys 7 more. He gives 5 to Ann. He
//              doubles them. How many apples does Tom have now?"
//   solution: "8 + 7 = 15. 15 - 5 = 10. 10 * 2 = 20.\n#### 20"
//   answer:   20
//
// Generation is a pure function of (config, split, index): problem i of a
// split is drawn from its own RNG stream, so any problem can be regenerated
// alone and the result does not depend on the platform. Splits are separate
// streams; arith_write_dataset also drops every training problem whose
// question text appears in the held-out set, so the two never share a
// question. docs/arith.md describes the experiment.
#ifndef RLC_LEARNER_ARITH_H
#define RLC_LEARNER_ARITH_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t

#include "core/status.h"  // rlc_status

#define ARITH_MAX_STEPS 6
#define ARITH_TEXT_MAX 512  // bytes of a question or a solution, NUL included

// The prompt every stage renders a question with: the "plain" chat template
// (actor/chat.h) applied to one user message, with the generation prompt:
// "user: " QUESTION "\nassistant: ". The model's byte tokenizer has no chat
// template, so GRPO's default rendering (data.chat_template "" or "plain")
// produces exactly this text; tests/test_arith.c checks that it does.
#define ARITH_PROMPT_PREFIX "user: "
#define ARITH_PROMPT_SUFFIX "\nassistant: "

// The difficulty knobs.
typedef struct arith_config {
    int min_steps, max_steps;  // operations per problem, 1 <= min <= max <= ARITH_MAX_STEPS
    int max_num;               // start value in 2..max_num, + and - operands in 1..max_num
    int max_mul;               // * factors in 2..max_mul (< 2: no multiplication)
    int max_value;             // every intermediate result stays in 0..max_value
    int restate;               // 1: each solution step restates its sentence ("He buys 7 more,
                               // so 12 + 7 = 19."); 0: equations only ("12 + 7 = 19.")
    uint64_t seed;
} arith_config;

// steps 2..4, max_num 9, max_mul 3, max_value 50, restate 0, seed 1: the
// default experiment (docs/arith.md).
void arith_config_default(arith_config *c);
// RLC_ERR_ARG naming the first bad knob (max_value must be >= 2 * max_num).
rlc_status arith_config_check(const arith_config *c);

// The streams: separate RNG streams for the same seed.
typedef enum {
    ARITH_SPLIT_TRAIN = 0,    // SFT and RL training problems
    ARITH_SPLIT_HELDOUT = 1,  // the fixed held-out set
} arith_split;

typedef enum { ARITH_OP_ADD = 0, ARITH_OP_SUB, ARITH_OP_MUL } arith_op;

typedef struct arith_problem {
    char question[ARITH_TEXT_MAX];
    char solution[ARITH_TEXT_MAX];  // one "a op b = r." per step, then "\n#### answer"
    long answer;
    int steps;
    long start;
    arith_op ops[ARITH_MAX_STEPS];
    long operands[ARITH_MAX_STEPS];
} arith_problem;

// Problem `index` of `split` (c must pass arith_config_check).
void arith_generate(const arith_config *c, arith_split split, uint64_t index, arith_problem *out);

// Writes ARITH_PROMPT_PREFIX question ARITH_PROMPT_SUFFIX into buf.
// RLC_ERR_LIMIT when it does not fit in cap bytes (buf then holds "").
rlc_status arith_format_prompt(const char *question, char *buf, size_t cap);

// The files of `rlc data arith` in dir (created if missing), one JSON object a
// line, each problem's question, worked solution and bare answer:
//   sft.jsonl      n_sft records {"prompt", "response", "answer", "question"}:
//                  prompt = arith_format_prompt(question), response = solution
//   train.jsonl    n_train records {"question", "answer", "prompt", "solution"}
//                  (problems after the SFT ones: RL sees fresh problems)
//   heldout.jsonl  n_heldout records, same fields as train.jsonl
// answer is the bare number as a string ("14"). Training problems whose
// question equals a held-out one are skipped (counted in *n_skipped, may be
// NULL). RLC_ERR_IO names the file; RLC_ERR_ARG for a bad config or counts.
typedef struct arith_dataset_counts {
    long n_sft, n_train, n_heldout;
} arith_dataset_counts;
rlc_status arith_write_dataset(const char *dir, const arith_config *c, const arith_dataset_counts *n,
                               long *n_skipped);

#endif
