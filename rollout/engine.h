// engine.h: the rollout engine: prompt requests in, scored trajectories out,
// with no sockets. It runs continuous batching over KV-cache slots (the n
// samples of a prompt share one prefill), records every sampled token with
// its behaviour log-prob and the policy version that produced it, applies
// stop strings to the decoded text, scores finished samples with the Lua
// reward on a thread pool, and hands each trajectory to a callback.
// rollout/worker.h puts it behind a ZeroMQ DEALER.
#ifndef RLC_ROLLOUT_ENGINE_H
#define RLC_ROLLOUT_ENGINE_H

#include <stdint.h>  // int64_t

#include "actor/gpu_model.h"  // actor_gpu_model
#include "actor/model.h"      // actor_model
#include "actor/tokenizer.h"  // tok_tokenizer
#include "core/protocol.h"    // rlc_msg_prompt_request, rlc_msg_trajectory
#include "core/status.h"
#include "reward/reward.h"    // rlc_reward_config

typedef struct rollout_config {
    int n_slots;                // sequences decoded together (KV-cache slots)
    int max_seq;                // positions per slot: prompt + completion
    int reward_threads;         // Lua reward threads (one state each)
    rlc_reward_config reward;   // the reward functions and limits
    const char *worker_id;      // copied into each trajectory (borrowed)
    actor_gpu_model *gpu;       // generate on this GPU model (borrowed; made for n_slots slots of
                                // max_seq positions: actor_gen_create_gpu); NULL: on the CPU
} rollout_config;

typedef struct rollout_engine rollout_engine;

// The engine borrows the model and the tokenizer (they must outlive it);
// the reward scripts are loaded now (RLC_ERR_LUA / RLC_ERR_IO naming the
// script on failure).
rlc_status rollout_engine_create(actor_model *m, const tok_tokenizer *tk, const rollout_config *cfg,
                                 rollout_engine **out);
void rollout_engine_free(rollout_engine *e);

// Queues a request (copied: the message may be freed after the call). Its
// metadata keys "answer", "prompt" (text) and "example" (a JSON record) reach
// the reward's sample. RLC_ERR_LIMIT when the prompt plus max_new_tokens
// does not fit max_seq or n exceeds the slots; RLC_ERR_ARG for a token
// outside the model's vocabulary; RLC_ERR_BAD_MESSAGE for an "example" that
// is not JSON. Nothing is queued on error.
rlc_status rollout_engine_submit(rollout_engine *e, const rlc_msg_prompt_request *req);

// Receives each finished, scored trajectory. `t` and everything it points to
// are valid only during the call. `seq` is left 0: the worker numbers them.
typedef void (*rollout_emit_fn)(void *ud, const rlc_msg_trajectory *t);

// One decode step for every running sequence, then scores what finished and
// emits it. *n_pending: samples queued or running afterwards.
rlc_status rollout_engine_step(rollout_engine *e, rollout_emit_fn emit, void *ud, int *n_pending);

// The policy version of the model's weights: call after swapping weights
// between steps; tokens sampled afterwards carry it.
void rollout_engine_set_version(rollout_engine *e, int64_t version);

typedef struct rollout_stats {
    long long prompts, samples, tokens;  // submitted prompts, emitted samples, completion tokens
    double generate_s, reward_s;         // time in decode steps and in rewards
    long long reward_failures;
} rollout_stats;

void rollout_engine_stats(const rollout_engine *e, rollout_stats *out);

#endif
