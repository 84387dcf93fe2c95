// wgroup_gpu.h: the rollout worker's default end of the NCCL weight group:
// a communicator on the GPU model's device, the broadcast received into the
// model's float32 staging buffer on its stream (ordered with the decode
// steps), and the swap into the weights (converted to bf16 when the model
// is bf16). Internal to rollout/ (worker.c); rollout_nccl_ops in worker.h.
#ifndef RLC_ROLLOUT_WGROUP_GPU_H
#define RLC_ROLLOUT_WGROUP_GPU_H

#include "actor/gpu_model.h"  // actor_gpu_model
#include "core/status.h"
#include "worker.h"           // rollout_nccl_ops

// A context for rollout_wgroup_gpu_ops over g (borrowed; may be NULL: the
// worker is on the CPU). RLC_ERR_UNSUPPORTED with the reason as the message
// when g is NULL or the build has no NCCL; RLC_ERR_NOMEM.
rlc_status rollout_wgroup_gpu_create(actor_gpu_model *g, void **ctx);
void rollout_wgroup_gpu_free(void *ctx);  // NULL is fine; leaves the group
const rollout_nccl_ops *rollout_wgroup_gpu_ops(void);

#endif
