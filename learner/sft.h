// sft.h: supervised fine-tuning on JSONL data, on the CPU float32 path.
//
// Each record is {"prompt": ..., "response": ...} (keys configurable; the
// text is used as is: the prompt encoded with the tokenizer's special tokens
// (BOS for Llama-2), the response after it, then EOS), or {"messages":
// [{"role", "content"}, ...]} rendered with the chat template, every
// assistant turn trained on and everything else masked. A step takes the next
// batch_size samples of a seeded per-epoch shuffle, packs them into rows of at
// most micro_batch_tokens tokens (learner/batching.h), accumulates the
// gradient of the mean NLL over every response token of the step, clips it
// and applies AdamW at the scheduled learning rate. Checkpoints
// (learner/checkpoint.h) go to OUT/checkpoints/step-N every save_every steps
// and at the end; metrics to OUT/metrics.jsonl, one JSON line per step.
// Resuming from a checkpoint continues bit for bit: the same losses and
// weight bytes as an uninterrupted run (same thread count, same build).
// docs/sft.md is the user's guide.
#ifndef RLC_LEARNER_SFT_H
#define RLC_LEARNER_SFT_H

#include "actor/model.h"     // actor_model
#include "core/status.h"     // rlc_status
#include "optim.h"           // optim_adamw_config, optim_schedule
#include "reward/reward.h"   // rlc_exp

#define SFT_MAX_SOURCES 16

// Strings are borrowed (from the rlc_exp or argv) and must outlive the
// trainer.
typedef struct sft_config {
    const char *model_path;      // Hugging Face folder or llama2.c .bin
    const char *tokenizer_path;  // NULL or "": the model folder's tokenizer
    const char *data_paths[SFT_MAX_SOURCES];  // JSONL files, concatenated in order
    int n_data;
    const char *prompt_key;      // "prompt"
    const char *response_key;    // "response"
    const char *messages_key;    // "messages"
    const char *chat_template;   // NULL or "": the tokenizer's (chat_template_for)
    const char *out_dir;         // metrics.jsonl and checkpoints/
    long steps;                  // optimizer steps of the whole run
    int batch_size;              // samples per optimizer step
    int micro_batch_tokens;      // tokens per forward/backward row; longer samples are truncated
    int max_prompt_tokens;       // samples with longer prompts are skipped (counted)
    int vocab_chunk;             // lm_head chunk of the log-prob (0: 4096)
    int recompute;               // activation recomputation per layer
    int shuffle;
    long long seed;
    optim_adamw_config adamw;
    optim_schedule schedule;     // total_steps 0: = steps
    int log_every;               // steps between log lines (metrics.jsonl gets every step)
    int save_every;              // steps between checkpoints (0: only at the end)
    int keep_last;               // checkpoints kept (0: all)
    int resume;                  // continue from the newest complete checkpoint of out_dir
    long stop_after;             // stop (with a checkpoint) once this many steps are done; 0: at `steps`
    int threads;                 // CPU threads (0: all cores)
} sft_config;

// The defaults: keys above, steps 100, batch_size 8, micro_batch_tokens
// 2048, max_prompt_tokens 1024, lr 1e-5 constant with no warm-up, AdamW
// (0.9, 0.999, 1e-8, weight decay 0.0), max_grad_norm 1.0, shuffle with
// seed 42, log every step, save every 100, out_dir "runs/sft".
void sft_config_default(sft_config *c);

// Fills c from an experiment (after sft_config_default): model.path,
// model.tokenizer, model.gradient_checkpointing, data.sources[*].path,
// data.prompt_key, data.answer_key (the response), data.max_prompt_tokens,
// data.shuffle, data.seed, algorithm.steps, algorithm.batch_prompts (samples
// per step), algorithm.lr, lr_warmup_steps, weight_decay, adam_beta1,
// adam_beta2, max_grad_norm, output.dir, log_every, save_every,
// algorithm.lr_schedule, algorithm.min_lr_ratio,
// algorithm.adam_eps, algorithm.micro_batch_tokens, algorithm.vocab_chunk,
// data.messages_key, data.chat_template, output.keep_checkpoints.
// RLC_ERR_CONFIG names the key. Strings are borrowed from e.
rlc_status sft_config_from_exp(const rlc_exp *e, sft_config *c);

typedef struct sft_step_stats {
    long step;           // steps done after this one (1 for the first)
    double loss;         // mean NLL over the step's response tokens
    double lr;           // the learning rate applied
    double grad_norm;    // before clipping
    int skipped;         // 1: non-finite gradient, no update
    long tokens;         // tokens in the step's rows
    long targets;        // response tokens (the loss denominator)
    int rows;            // micro-batches
    long epoch;          // epoch of the next sample
    double seconds;      // wall time of the step
} sft_step_stats;

typedef struct sft_trainer sft_trainer;

// Loads the model, tokenizer and data, allocates everything a step needs,
// and with c->resume restores the newest complete checkpoint of c->out_dir
// (none: a fresh start, logged). Errors name the file (and line of a JSONL
// record) at fault; nothing stays allocated.
rlc_status sft_trainer_create(const sft_config *c, sft_trainer **out);
void sft_trainer_free(sft_trainer *t);  // NULL is fine

// One optimizer step; appends its line to OUT/metrics.jsonl. A non-finite
// gradient is counted and logged and leaves the weights unchanged (the step
// still counts and its data is consumed).
rlc_status sft_trainer_step(sft_trainer *t, sft_step_stats *st);
// Writes OUT/checkpoints/step-N for the steps done.
rlc_status sft_trainer_save(sft_trainer *t);

long sft_trainer_steps_done(const sft_trainer *t);
long sft_trainer_samples(const sft_trainer *t);          // samples kept from the data
actor_model *sft_trainer_model(sft_trainer *t);          // borrowed

// The whole run: create (resuming when asked), steps until c->steps (or
// c->stop_after), log lines, checkpoints every save_every steps and at the end.
rlc_status sft_run(const sft_config *c);

#endif
