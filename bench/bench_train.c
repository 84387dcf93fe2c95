// bench_train.c: training throughput of the CPU path (actor_train_forward +
// actor_train_backward) on random-weight models: a model of about 10M
// parameters (4 documents of 512 tokens packed into one batch of 2048) and
// the Qwen2.5-0.5B shape at sequence length 512 (config as bench_decode.c,
// built in code). Prints per step the forward and backward times, training
// tokens/s, achieved GFLOP/s and memory:
//   model FLOPs = 6 x params x tokens + attention (causal, per document:
//                 3 x 4 x L x H x D x sum over documents of len (len + 1) / 2),
//   memory = ru_maxrss of the process after the steps, and the bytes the
//            trainer allocated (activations) beside parameters and gradients.
// The first step touches fresh memory; the figures of the last step are the
// steady state.
//
// usage: bench_train [--threads N] [--steps N] [--chunk IDS] [--recompute] [--skip-qwen]
#include <stdio.h>         // printf
#include <stdlib.h>        // atoi
#include <string.h>        // strcmp
#include <sys/resource.h>  // getrusage
#include <time.h>          // clock_gettime

#include "actor/model.h"  // actor_model_create, actor_model_init_random
#include "actor/train.h"  // actor_train_*
#include "core/core.h"    // rlc_malloc, rlc_status

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double maxrss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;  // KiB on Linux
}

static int report(rlc_status s) {
    if (s == RLC_OK) return 0;
    fprintf(stderr, "bench_train: %s: %s\n", rlc_status_name(s), rlc_last_error());
    return 1;
}

static actor_config base_config(const char *type) {
    actor_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.model_type, sizeof c.model_type, "%s", type);
    c.arch = ACTOR_ARCH_QWEN2;
    c.attn_bias = 1;
    c.tie_embeddings = 1;
    c.rms_eps = 1e-6f;
    c.rope_theta = 1000000.0f;
    c.max_position = 32768;
    c.bos_id = -1;
    return c;
}

static actor_config qwen05_config(void) {
    actor_config c = base_config("qwen2");
    c.vocab_size = 151936, c.hidden_size = 896, c.intermediate_size = 4864, c.n_layers = 24;
    c.n_heads = 14, c.n_kv_heads = 2, c.head_dim = 64;
    return c;
}

static actor_config small_config(void) {  // about 10M parameters
    actor_config c = base_config("qwen2");
    c.vocab_size = 8192, c.hidden_size = 256, c.intermediate_size = 1024, c.n_layers = 8;
    c.n_heads = 8, c.n_kv_heads = 4, c.head_dim = 32;
    return c;
}

static rlc_status run_case(const char *name, const actor_config *c, int n_docs, int doc_len,
                           int steps, int chunk, int recompute) {
    actor_model *m;
    RLC_TRY(actor_model_create(c, &m));
    actor_model_init_random(m, 1234, 0.02f);
    const actor_params *p = actor_model_params(m);
    int T = n_docs * doc_len;
    actor_train_options o = {.max_tokens = T, .vocab_chunk = chunk, .recompute = recompute};
    actor_trainer *t = NULL;
    rlc_status s = actor_train_create_opts(m, &o, &t);
    int *tokens = rlc_malloc(sizeof(int) * T), *targets = rlc_malloc(sizeof(int) * T);
    int *cu = rlc_malloc(sizeof(int) * (n_docs + 1));
    float *lp = rlc_malloc(sizeof(float) * T), *dlp = rlc_malloc(sizeof(float) * T);
    float *grads = rlc_calloc(p->numel, sizeof(float));
    if (s == RLC_OK && !(tokens && targets && cu && lp && dlp && grads))
        s = rlc_errorf(RLC_ERR_NOMEM, "bench: buffers");
    if (s == RLC_OK) {
        for (int d = 0; d <= n_docs; d++) cu[d] = d * doc_len;
        for (int i = 0; i < T; i++) tokens[i] = (int)((7919u * (unsigned)i + 13u) % (unsigned)c->vocab_size);
        for (int i = 0; i < T; i++) targets[i] = (i + 1) % doc_len ? tokens[i + 1] : -1;
        for (int i = 0; i < T; i++) dlp[i] = -1.0f / (float)T;
        double att = 0;  // attention FLOPs of one forward
        for (int d = 0; d < n_docs; d++) att += 4.0 * c->n_layers * c->n_heads * c->head_dim * 0.5 * doc_len * (doc_len + 1.0);
        double flops = 6.0 * (double)p->numel * T + 3.0 * att;
        printf("%s: %.1fM parameters, %d x %d tokens, vocab_chunk %d%s, threads %d; activations %.1f MiB, "
               "parameters + gradients %.1f MiB\n",
               name, p->numel / 1e6, n_docs, doc_len, chunk, recompute ? ", recompute" : "",
               kernels_get_threads(), actor_train_bytes(t) / 1048576.0, 2.0 * p->numel * 4 / 1048576.0);
        for (int step = 0; step < steps && s == RLC_OK; step++) {
            double t0 = now();
            s = actor_train_forward(t, &(actor_batch){T, n_docs, tokens, cu, targets}, lp, NULL);
            double t1 = now();
            if (s == RLC_OK) s = actor_train_backward(t, dlp, NULL, grads);
            double t2 = now();
            if (s != RLC_OK) break;
            printf("  step %d: forward %.3f s, backward %.3f s: %.1f tokens/s, %.1f GFLOP/s (%.1f GFLOP), "
                   "maxrss %.0f MiB\n",
                   step, t1 - t0, t2 - t1, T / (t2 - t0), flops / (t2 - t0) / 1e9, flops / 1e9, maxrss_mib());
        }
    }
    rlc_free(tokens), rlc_free(targets), rlc_free(cu), rlc_free(lp), rlc_free(dlp), rlc_free(grads);
    actor_train_free(t);
    actor_model_free(m);
    return s;
}

int main(int argc, char **argv) {
    int threads = 0, steps = 2, chunk = 8192, recompute = 0, skip_qwen = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) chunk = atoi(argv[++i]);
        else if (strcmp(argv[i], "--recompute") == 0) recompute = 1;
        else if (strcmp(argv[i], "--skip-qwen") == 0) skip_qwen = 1;
        else {
            fprintf(stderr, "usage: bench_train [--threads N] [--steps N] [--chunk IDS] [--recompute] [--skip-qwen]\n");
            return 2;
        }
    }
    kernels_set_threads(threads);
    actor_config small = small_config(), qwen = qwen05_config();
    if (report(run_case("10M", &small, 4, 512, steps + 1, chunk, recompute))) return 1;
    if (skip_qwen) return 0;
    return report(run_case("qwen2.5-0.5B-shape", &qwen, 1, 512, steps, chunk, recompute));
}
