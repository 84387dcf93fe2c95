// critic.h: the value model of PPO: a copy of the policy's transformer whose
// final normalised hidden state h_p (actor_train_forward_hidden) feeds a
// scalar head, V_p = w . h_p + b (w (C), b (1)): Hugging Face's
// *ForTokenClassification with num_labels = 1 (a `score` Linear with bias).
// The value of a response token is read at the position that predicts it
// (the learner's position layout, the same positions as the log-probs), as
// verl's critic takes values[:, -response_length - 1 : -1].
//
// The trunk starts as a copy of the policy's weights, or from a checkpoint
// folder (critic_create's path): a critic saved by critic_save, or any
// causal-LM folder of the same vocabulary (its lm_head is ignored and the
// head starts at zero). A fresh head is zero: every value starts at exactly
// 0, so the first GAE advantages are the plain returns (a REINFORCE-like
// start) and no random head noise enters the first update; the head moves
// away from zero after the first optimizer step, and the trunk learns from
// then on. The lm_head takes no part: the critic's table is built tied
// (embedding only), so it holds and trains no lm_head.
//
// Training: forward a row (critic_forward), backward dL/dV
// (critic_backward) into the critic's own gradient, then critic_step: one
// global-norm clip over trunk and head together and an AdamW step for each
// (same lr, same betas; weight decay on 2-D tensors, as the policy's).
//
// Memory: a second set of parameters (the trunk without lm_head, plus C + 1),
// its gradient, AdamW's two moments, and the activations of one row: about
// 4x the critic's parameters plus the policy trainer's activation figure.
//
// critic_save writes a folder that transformers' AutoModelForTokenClassification
// loads: config.json (architectures LlamaForTokenClassification /
// Qwen2ForTokenClassification / Qwen3ForTokenClassification, num_labels 1),
// model.safetensors (the model.* tensors, score.weight (1, C), score.bias
// (1)), and optimizer.safetensors (the moments, rlc's optimizer format, with
// score.* moments too).
#ifndef RLC_LEARNER_CRITIC_H
#define RLC_LEARNER_CRITIC_H

#include "actor/model.h"  // actor_model
#include "actor/train.h"  // actor_batch
#include "core/status.h"  // rlc_status
#include "optim.h"        // optim_schedule, optim_adamw_config, optim_step_result

typedef struct critic_config {
    optim_schedule schedule;   // the critic's lr (critic.lr), warm-up; kind and floor as the policy's
    optim_adamw_config adamw;  // betas and eps as the policy's; weight_decay and max_grad_norm its own
    double cliprange_value;    // value clipping around the old values (verl: 0.5)
    int micro_batch_tokens;    // tokens of one row (as the policy)
    int recompute;             // activation recomputation in the backward
} critic_config;

// lr 1e-5 constant, AdamW (0.9, 0.999, 1e-8, weight decay 0.01, max_grad_norm
// 1), cliprange_value 0.5, micro_batch_tokens 2048, no recompute: verl's
// critic defaults.
void critic_config_default(critic_config *c);

typedef struct critic critic;

// A critic for `policy` (read now, not kept): the trunk copied from the
// policy's weights when path is NULL or "", else loaded from the folder
// `path` (config.json + model.safetensors; score.weight / score.bias when
// present, else a zero head). Allocates the model, its gradient, both
// optimizers and one row's activations. RLC_ERR_CONFIG (a bad setting),
// RLC_ERR_ARG (a folder whose vocabulary differs from the policy's),
// RLC_ERR_IO / RLC_ERR_FORMAT (the folder, named), RLC_ERR_NOMEM; nothing
// stays allocated on error.
rlc_status critic_create(actor_model *policy, const char *path, const critic_config *c, critic **out);
void critic_free(critic *cr);  // NULL is fine

// Values of every position of the row b: values (T) = w . h_p + b. Keeps the
// activations for critic_backward. Errors as actor_train_forward_hidden.
rlc_status critic_forward(critic *cr, const actor_batch *b, float *values);
// Backward of the last critic_forward: dvalues (T) = dL/dV; adds into the
// critic's gradient (zeroed by critic_zero_grad and by critic_step).
rlc_status critic_backward(critic *cr, const float *dvalues);
void critic_zero_grad(critic *cr);

// One update at learning rate lr: the global norm over trunk and head
// (res->grad_norm, before clipping), clipping to max_grad_norm, AdamW on
// both; a non-finite norm skips the update (res->skipped, nothing changes).
// The gradient is zeroed afterwards. res may be NULL.
rlc_status critic_step(critic *cr, double lr, optim_step_result *res);
long critic_steps(const critic *cr);  // updates applied

// Writes `dir` (created when missing; files replaced): config.json,
// model.safetensors, optimizer.safetensors, as described above.
// RLC_ERR_IO names the file.
rlc_status critic_save(critic *cr, const char *dir);
// Restores the weights and the optimizer state of a folder critic_save
// wrote (a resume). RLC_ERR_IO, RLC_ERR_FORMAT (a missing or misshapen
// tensor, named); on failure the critic's state is unspecified: stop.
rlc_status critic_load(critic *cr, const char *dir);

actor_model *critic_model(critic *cr);   // borrowed: the trunk
// Borrowed: the accumulated gradient, laid out like critic_model's
// parameters, and in *head (C + 1) the head's (for tests).
float *critic_grads(critic *cr, float **head);
float *critic_head(critic *cr);          // borrowed: (C + 1) w then b
// Borrowed: the trunk's AdamW (laid out like critic_model's parameters),
// and in *head the head's ((C + 1) values): with the weights, the state
// that data-parallel ranks copy from rank 0 (learner/rl_dp.h's INIT).
optim_adamw *critic_optims(critic *cr, optim_adamw **head);
const critic_config *critic_get_config(const critic *cr);

#endif
