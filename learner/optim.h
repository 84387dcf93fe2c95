// optim.h: AdamW over the flat parameter buffer, gradient clipping by global
// norm, the non-finite-gradient guard, and learning-rate schedules.
//
// Parameters, gradients and both moments are each one contiguous float32
// buffer laid out like actor_params (same offsets); the optimizer walks the
// tensors of the parameter table, so the alignment padding between tensors is
// never read or written. The update is torch.optim.AdamW's:
//
//     t += 1
//     p  = p * (1 - lr * wd)                      (decoupled weight decay)
//     m  = m + (1 - b1) * (g - m)                 (torch's lerp)
//     v  = b2 * v + (1 - b2) * g * g
//     p  = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//
// with wd = 0 for 1-D tensors (RMSNorm weights, biases) unless decay_vectors.
// Reductions (the global norm) sum fixed blocks in float64 in a fixed order,
// so a step gives the same bytes whatever the thread count.
#ifndef RLC_LEARNER_OPTIM_H
#define RLC_LEARNER_OPTIM_H

#include <stddef.h>  // size_t

#include "actor/params.h"  // actor_params, actor_tensor_info
#include "core/status.h"   // rlc_status

// ---- learning-rate schedules ------------------------------------------------

typedef enum {
    OPTIM_SCHEDULE_CONSTANT = 0,  // lr after the warm-up
    OPTIM_SCHEDULE_COSINE,        // half a cosine from lr down to lr * min_lr_ratio
    OPTIM_SCHEDULE_LINEAR,        // a straight line from lr down to lr * min_lr_ratio
} optim_schedule_kind;

typedef struct optim_schedule {
    optim_schedule_kind kind;
    double lr;            // peak learning rate
    long warmup_steps;    // linear warm-up from 0 over these steps
    long total_steps;     // the decay ends here (cosine, linear)
    double min_lr_ratio;  // the floor, as a fraction of lr (0: decay to 0)
} optim_schedule;

// The learning rate of the update that follows `step` completed updates
// (step = 0 for the first one), as transformers' LambdaLR schedules count:
//   step < warmup:  lr * step / warmup          (the first update has lr 0)
//   afterwards, with p = (step - warmup) / max(1, total - warmup) capped at 1:
//     constant: lr
//     cosine:   lr * (r + (1 - r) * 0.5 * (1 + cos(pi * p)))
//     linear:   lr * (r + (1 - r) * (1 - p))
// where r = min_lr_ratio. (get_cosine_with_min_lr_schedule_with_warmup and
// get_linear_schedule_with_warmup for r = 0.)
double optim_schedule_lr(const optim_schedule *s, long step);

// "constant", "cosine", "linear" <-> the kind. RLC_ERR_CONFIG names the known ones.
rlc_status optim_schedule_parse(const char *name, optim_schedule_kind *out);
const char *optim_schedule_name(optim_schedule_kind k);

// ---- gradient helpers -----------------------------------------------------------

// The L2 norm of the tensors of `p`'s table in g (laid out like p->data), in
// float64, blocked and summed in a fixed order. Inf or NaN when any element is
// not finite. Allocates its scratch (for tests and tools; optim_adamw_step
// uses buffers made at create); NaN when that fails.
double optim_grad_norm(const actor_params *p, const float *g);

// ---- AdamW ----------------------------------------------------------------------

typedef struct optim_adamw_config {
    double beta1, beta2, eps;
    double weight_decay;
    double max_grad_norm;  // clip the global norm to this; <= 0: no clipping
    int decay_vectors;     // 1: decay 1-D tensors (norms, biases) too; default 0
} optim_adamw_config;

// beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0.01 (torch's defaults),
// max_grad_norm 1.0, decay_vectors 0.
optim_adamw_config optim_adamw_defaults(void);

typedef struct optim_adamw optim_adamw;

// An optimizer for parameters laid out as `p` (the table is copied; p->data is
// not kept). Allocates m and v (2 x p->numel floats, zeroed) once.
// RLC_ERR_ARG (a bad hyper-parameter, named), RLC_ERR_NOMEM.
rlc_status optim_adamw_create(const optim_adamw_config *c, const actor_params *p, optim_adamw **out);
void optim_adamw_free(optim_adamw *o);  // NULL is fine

typedef struct optim_step_result {
    double grad_norm;  // global L2 norm before clipping (inf / nan when non-finite)
    double clip_coef;  // the factor grads were scaled by (1 when not clipped)
    int skipped;       // 1: the gradient was not finite and nothing changed
} optim_step_result;

// One update of params with grads at learning rate lr. Clipping scales grads
// in place (as torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6)
// when that is below 1). A non-finite gradient norm skips the update: params,
// m, v and the step count stay as they were, the skip is counted and logged
// (warn) and the call still returns RLC_OK with res->skipped = 1.
// RLC_ERR_ARG for a negative or non-finite lr. res may be NULL.
rlc_status optim_adamw_step(optim_adamw *o, float *params, float *grads, double lr,
                            optim_step_result *res);

long optim_adamw_steps(const optim_adamw *o);    // updates applied (the t of bias correction)
long optim_adamw_skipped(const optim_adamw *o);  // updates skipped for non-finite gradients
const optim_adamw_config *optim_adamw_get_config(const optim_adamw *o);
// Whether tensor i of the table is decayed.
int optim_adamw_decays(const optim_adamw *o, int tensor);

// The moments, laid out like the parameters (numel floats each), for
// checkpoints. Borrowed from o; writing through them changes the state.
float *optim_adamw_m(optim_adamw *o);
float *optim_adamw_v(optim_adamw *o);
size_t optim_adamw_numel(const optim_adamw *o);
// Restores the counters (with m and v filled through the pointers above).
void optim_adamw_set_counts(optim_adamw *o, long steps, long skipped);

#endif
