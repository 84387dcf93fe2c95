// kc_optim.h: the optimizer on the GPU: the gradient's squared L2 norm and
// AdamW fused over the flat float32 buffers (master weights, gradients and
// both moments), as learner/optim.h's optim_adamw_step: clipping by the
// global norm, decay on the tensors the segment table marks, a non-finite
// norm skips the update; the step writes the bfloat16 copy of the weights
// that the forward reads. No host synchronisation inside a step.
#ifndef RLC_KC_OPTIM_H
#define RLC_KC_OPTIM_H

#include "kcuda.h"

#ifdef __cplusplus
extern "C" {
#endif

// *sumsq (one device double) += sum of x[i]^2 over x (n) float32.
void kc_sumsq(kc_ctx *c, double *sumsq, const float *x, size_t n);

typedef struct kc_adamw_args {
    float lr, beta1, beta2, eps, weight_decay;
    float max_grad_norm;  // <= 0: no clipping
    long step;            // t of the bias correction, 1 for the first update
} kc_adamw_args;

// One AdamW update of master (n) with grad (n), moments m, v (n), all
// float32. The tensors are segments: segment s is [seg_offsets[s],
// seg_offsets[s + 1]) and is decayed when seg_decay[s] != 0 (device arrays
// (n_seg + 1) and (n_seg)). sumsq is the device double kc_sumsq wrote for
// grad: the clip coefficient max_norm / (sqrt(sumsq) + 1e-6) applies when it
// is below 1, and a non-finite sumsq leaves everything unchanged. param_bf16
// (n), when not NULL, receives the updated weights as bfloat16.
void kc_adamw(kc_ctx *c, float *master, float *m, float *v, const float *grad, kc_bf16 *param_bf16, size_t n,
              const long *seg_offsets, const unsigned char *seg_decay, int n_seg, const double *sumsq,
              const kc_adamw_args *args);

#ifdef __cplusplus
}
#endif

#endif
