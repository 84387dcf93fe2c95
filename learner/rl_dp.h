// rl_dp.h: the learner loop on data-parallel ranks (learner/dp.h). Rank 0
// runs rl.c's loop as always (server, controller, metrics, evaluation,
// checkpoints) and, through these calls, hands each training step's groups
// to the other ranks; they run rl_dp_serve: no server, no files, only
// grpo_step on the groups they are sent, until rank 0 says "done".
//
// Command format (version 2), broadcast by rank 0 in two parts: a 24-byte
// header (bytes 0-3 magic "RLCS", u16 version, u16 kind: 1 INIT, 2 STEP,
// 3 DONE, u32 byte-order tag 0x01020304 in the sender's order, u32 0, u64
// payload length), then the payload. Numbers are in host order: every rank
// runs the same build on the same architecture (a mismatched tag fails).
//   INIT: i64 policy version, i64 trainer steps, i64 AdamW steps, i64
//         skipped, u64 numel, u64 critic numel Nc (trunk; 0 without PPO),
//         u64 critic head numel Nh (C + 1; 0 without PPO), i64 critic
//         AdamW steps, i64 critic skipped; then params, m, v (numel
//         float32 each); with a critic then its trunk's weights, m, v (Nc
//         float32 each) and its head's weights, m, v (Nh each), each array
//         padded to 8 bytes.
//   STEP: i64 version u, u32 groups, u32 0; per group: u32 n, i32 base_n,
//         f64 base_mean, f64 base_std, then its n trajectories: u32 prompt
//         tokens P, u32 completion tokens C, u32 components K, u32 0,
//         f64 reward, i32 prompt[P], i32 tokens[C], f32 logprobs[C],
//         i32 versions[C] (each array padded to 8 bytes), then K times
//         f64 value, u32 name bytes L (with its NUL), u32 0, name[L]
//         padded to 8. Only what grpo_step reads travels.
//   DONE: no payload.
#ifndef RLC_LEARNER_RL_DP_H
#define RLC_LEARNER_RL_DP_H

#include <stdint.h>  // int64_t

#include "actor/model.h"  // actor_model
#include "dp.h"           // lrn_dp
#include "grpo.h"         // grpo_trainer, grpo_group
#include "rl.h"           // rl_options

// Rank 0: the trainer's state (weights, AdamW's moments and counts,
// version, steps; PPO's critic: trunk and head weights, their moments and
// counts) to every rank, once, before the first step (a resumed run's
// included). Errors: the broadcast's, RLC_ERR_NOMEM, RLC_ERR_CUDA.
rlc_status rl_dp_send_init(lrn_dp *dp, grpo_trainer *t, actor_model *policy);
// A rank other than 0: takes rank 0's INIT into t and policy (rl_dp_serve
// does it first; public for tests). RLC_ERR_BAD_MESSAGE when the next
// command is not INIT or its model or critic is shaped otherwise (then
// nothing was written), the broadcast's errors, RLC_ERR_CUDA.
rlc_status rl_dp_recv_init(lrn_dp *dp, grpo_trainer *t, actor_model *policy);
// Rank 0: the groups of the step at version u, before its own grpo_step.
rlc_status rl_dp_send_step(lrn_dp *dp, const grpo_group *groups, int n, int64_t u);
// Rank 0: the run is over (the others return RLC_OK from rl_dp_serve).
rlc_status rl_dp_send_done(lrn_dp *dp);

// A rank other than 0: loads the experiment's model and GRPO settings,
// joins the group (o->dist), takes INIT, then runs every STEP until DONE.
// Errors: the experiment's, the group's (RLC_ERR_LIMIT naming rank 0 when
// it went silent; RLC_ERR_STATE when it failed), grpo_step's,
// RLC_ERR_BAD_MESSAGE for a malformed command.
rlc_status rl_dp_serve(const rl_options *o);

#endif
