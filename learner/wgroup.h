// wgroup.h: the learner's end of the NCCL weight group (rollout.weight_sync):
// rank 0, broadcasting the GPU trainer's float32 master weights (laid out as
// actor_params) to the rollout workers of the group. It implements
// lsrv_nccl_ops (learner/server.h); the server decides who is in the group
// and when. Exists in every build: without NCCL, or with the learner on the
// CPU, create says why it cannot be used.
#ifndef RLC_LEARNER_WGROUP_H
#define RLC_LEARNER_WGROUP_H

#include "core/status.h"
#include "grpo.h"    // grpo_trainer
#include "server.h"  // lsrv_nccl_ops

typedef struct lrn_wgroup lrn_wgroup;

// The weight source of trainer `t` (borrowed; it must outlive the group).
// RLC_ERR_UNSUPPORTED, with the reason as the message, when the trainer is
// not on CUDA or the build has no NCCL (rlc_wsync_check turns that into a
// configuration error for rollout.weight_sync = "nccl"). RLC_ERR_NOMEM.
rlc_status lrn_wgroup_create(grpo_trainer *t, lrn_wgroup **out);
void lrn_wgroup_free(lrn_wgroup *g);  // NULL is fine; leaves the group

// The operations for lsrv_config.nccl (ctx: the lrn_wgroup).
const lsrv_nccl_ops *lrn_wgroup_ops(void);

#endif
