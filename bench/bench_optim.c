// bench_optim.c: the AdamW step (global norm, clipping, update) over the flat
// buffers of a Qwen2.5-0.5B-shaped parameter table (494M parameters, tied
// embedding: params, grads, m and v take 4 x 1.98 GB), in effective GB/s.
// A step reads grads once for the norm, then reads params, grads, m, v and
// writes params, grads (clipped), m, v: 36 bytes per parameter.
//
//     bench_optim [--small] [--threads N] [--steps N]
// --small uses a ~10M-parameter table (the bench_train small shape).
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp, memset

#include "actor/params.h"
#include "core/core.h"
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/optim.h"

static actor_config shape(int small) {
    actor_config c;
    memset(&c, 0, sizeof c);
    c.arch = ACTOR_ARCH_QWEN2;
    snprintf(c.model_type, sizeof c.model_type, "qwen2");
    c.attn_bias = 1;
    c.tie_embeddings = 1;
    c.rms_eps = 1e-6f;
    c.rope_theta = 1e6f;
    c.max_position = 32768;
    c.bos_id = -1;
    if (small) {
        c.vocab_size = 8192, c.hidden_size = 256, c.intermediate_size = 1024, c.n_layers = 8;
        c.n_heads = 8, c.n_kv_heads = 4, c.head_dim = 32;
    } else {
        c.vocab_size = 151936, c.hidden_size = 896, c.intermediate_size = 4864, c.n_layers = 24;
        c.n_heads = 14, c.n_kv_heads = 2, c.head_dim = 64;
    }
    return c;
}

int main(int argc, char **argv) {
    int small = 0, threads = 0, steps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) small = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_optim [--small] [--threads N] [--steps N]\n");
            return 2;
        }
    }
    int nt = kernels_set_threads(threads);
    actor_config c = shape(small);
    actor_params p;
    if (actor_params_create(&c, &p) != RLC_OK) {
        fprintf(stderr, "bench_optim: %s\n", rlc_last_error());
        return 1;
    }
    size_t n = 0;
    for (int i = 0; i < p.n_tensors; i++) n += p.tensors[i].numel;
    float *g = rlc_malloc_aligned(p.numel * sizeof(float));
    optim_adamw_config oc = optim_adamw_defaults();
    oc.max_grad_norm = 1e-3;  // always clips: the slowest path
    optim_adamw *o = NULL;
    if (!g || optim_adamw_create(&oc, &p, &o) != RLC_OK) {
        fprintf(stderr, "bench_optim: out of memory (%zu parameters need %.1f GB)\n", n, 16.0 * (double)n / 1e9);
        return 1;
    }
    for (size_t i = 0; i < p.numel; i++) p.data[i] = 0.01f * (float)(i % 97), g[i] = 1e-3f * (float)(i % 89) - 0.04f;
    optim_adamw_step(o, p.data, g, 1e-4, NULL);  // touch every page once
    double best = 1e30, total = 0;
    for (int s = 0; s < steps; s++) {
        double t0 = rlc_now();
        optim_adamw_step(o, p.data, g, 1e-4, NULL);
        double dt = rlc_now() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    double bytes = 36.0 * (double)n;
    printf("AdamW step, %s shape: %.1fM parameters, %d threads: best %.1f ms (%.1f GB/s), mean %.1f ms\n",
           small ? "~10M" : "Qwen2.5-0.5B", (double)n / 1e6, nt, best * 1e3, bytes / best / 1e9,
           total / steps * 1e3);
    optim_adamw_free(o);
    rlc_free_aligned(g);
    actor_params_free(&p);
    return 0;
}
