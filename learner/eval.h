// eval.h: held-out evaluation: generate completions for a set of prompts
// with continuous batching (actor/generate.h), grade each against its
// reference answer with rlc.math (rlc_math_grade: "#### N", \boxed{},
// "the answer is", else the last number), and report pass@1 and pass@k.
// Used by `rlc eval` and by the learner's periodic evaluation; nothing here
// prints.
#ifndef RLC_LEARNER_EVAL_H
#define RLC_LEARNER_EVAL_H

#include <stdint.h>  // uint64_t

#include "actor/generate.h"   // actor_finish
#include "actor/model.h"      // actor_model
#include "actor/tokenizer.h"  // tok_tokenizer
#include "core/status.h"      // rlc_status

// One example: the prompt exactly as the model is to see it (already
// rendered: arith_format_prompt, a chat template, ...) and the reference.
typedef struct lrn_eval_example {
    const char *prompt;
    const char *answer;
} lrn_eval_example;

// Called once per graded completion, in the order they finish. `completion`
// is the decoded text without special tokens, borrowed for the call.
typedef void (*lrn_eval_sample_fn)(void *ud, int example, int sample, const char *completion, int n_tokens,
                                   int correct, actor_finish finish);

typedef struct lrn_eval_options {
    int batch;            // sequences decoded together (KV-cache slots); >= n_samples
    int max_new_tokens;   // completion limit (finish "length")
    int n_samples;        // completions per example; temperature 0 always uses 1
    int k;                // pass@k reported, 1 <= k <= n_samples
    float temperature;    // 0: greedy
    float top_p;          // 1: off
    int top_k;            // 0: off
    uint64_t seed;        // example i samples with seed + i (its samples get streams of it)
    int add_special;      // encode prompts with the tokenizer's special tokens (BOS when it adds one),
                          // as SFT encodes prompt/response records; 0 for chat-rendered prompts
    lrn_eval_sample_fn on_sample;  // may be NULL
    void *ud;
} lrn_eval_options;

// batch 32, max_new_tokens 96, n_samples 1, k 1, greedy, top_p 1, top_k 0,
// seed 1, add_special 1, no callback.
void lrn_eval_options_default(lrn_eval_options *o);

typedef struct lrn_eval_result {
    int n_examples, n_samples, k;
    double pass1;           // mean over examples of (correct / n_samples): greedy pass@1 at
                            // temperature 0, the mean sampled accuracy otherwise
    double pass_k;          // the unbiased pass@k estimator (Chen et al. 2021), mean over examples
    double pass_n;          // share of examples with at least one correct completion
    double mean_len;        // completion tokens per completion (the eos not counted)
    long truncated;         // completions that hit max_new_tokens
    long long prompt_tokens, completion_tokens;
    double seconds;         // wall time of generation and grading
    double tokens_per_s;    // completion tokens / seconds
} lrn_eval_result;

// Evaluates n examples with model m (its weights are read, its KV cache is
// lrn_eval's own). Deterministic for a given model, options and thread
// count. Errors (nothing is reported in r): RLC_ERR_ARG (bad options, an
// example without prompt or answer, a prompt longer than the model's
// context; the message names the example), RLC_ERR_NOMEM, and what
// tok_encode / the forward pass return.
rlc_status lrn_eval(actor_model *m, const tok_tokenizer *tok, const lrn_eval_example *ex, int n,
                    const lrn_eval_options *o, lrn_eval_result *r);

// The grading half of lrn_eval on given completions: completions[i *
// n_samples + j] is sample j of example i. Fills r's pass figures and
// n_examples, n_samples, k (lengths, tokens and times are 0).
rlc_status lrn_eval_grade(const lrn_eval_example *ex, int n, const char *const *completions, int n_samples, int k,
                          lrn_eval_result *r);

// The unbiased pass@k of one example with c correct out of n samples:
// 1 - C(n - c, k) / C(n, k).
double lrn_eval_pass_at_k(int n, int c, int k);

// ---- examples from a JSONL file ------------------------------------------------

typedef struct lrn_eval_set {
    lrn_eval_example *ex;  // (n) strings owned by the set
    int n;
} lrn_eval_set;

// Reads the first n_max records (n_max <= 0: all) of a JSONL file: the prompt
// from prompt_key, rendered with the chat template `template_name` as one user
// message with the generation prompt ("plain", the default when NULL, gives
// arith_format_prompt's text; "raw" uses the field as is), and the reference
// from answer_key (a string or a number; for GSM8K-style text the part after
// the last "####"). RLC_ERR_IO, RLC_ERR_FORMAT naming file:line and the key.
rlc_status lrn_eval_set_load(const char *path, const char *prompt_key, const char *answer_key,
                             const char *template_name, int n_max, lrn_eval_set *out);
void lrn_eval_set_free(lrn_eval_set *s);

#endif
