// logprob.c: the chunked lm_head + log-softmax + gather + entropy (see
// logprob.h). Each chunk is one matmul into the scratch followed by the
// backend's logprob_chunk (forward) or logprob_chunk_backward and a
// matmul_backward (backward).
#include "logprob.h"

static int chunk_of(int V, int vocab_chunk) {
    return vocab_chunk <= 0 || vocab_chunk > V ? V : vocab_chunk;
}

size_t actor_logprob_scratch_floats(int n, int V, int vocab_chunk) {
    return (size_t)n * ((size_t)chunk_of(V, vocab_chunk) + 4);
}

void actor_logprob_forward(kernels_backend be, float *logprob, float *entropy, float *lse,
                           const float *x, const float *w, const int *targets, int n, int C,
                           int V, int vocab_chunk, float *scratch) {
    int vc = chunk_of(V, vocab_chunk);
    float *logits = scratch;                   // (n, vc)
    float *stats = scratch + (size_t)n * vc;  // (n, 4)
    for (int v0 = 0; v0 < V; v0 += vc) {
        int nv = V - v0 < vc ? V - v0 : vc;
        be.ops->matmul(be.ctx, logits, x, w + (size_t)v0 * C, NULL, n, C, nv);
        be.ops->logprob_chunk(be.ctx, stats, logits, targets, v0, n, nv);
    }
    be.ops->logprob_finish(be.ctx, logprob, entropy, lse, stats, n);
}

void actor_logprob_backward(kernels_backend be, float *dx, float *dw, const float *dlogprob,
                            const float *dentropy, const float *x, const float *w,
                            const int *targets, const float *lse, const float *entropy, int n,
                            int C, int V, int vocab_chunk, float *scratch) {
    int vc = chunk_of(V, vocab_chunk);
    float *logits = scratch;  // (n, vc), then dlogits in place
    for (int v0 = 0; v0 < V; v0 += vc) {
        int nv = V - v0 < vc ? V - v0 : vc;
        const float *wc = w + (size_t)v0 * C;
        be.ops->matmul(be.ctx, logits, x, wc, NULL, n, C, nv);
        be.ops->logprob_chunk_backward(be.ctx, logits, logits, targets, lse, entropy, dlogprob,
                                       dentropy, v0, n, nv);
        be.ops->matmul_backward(be.ctx, dx, dw ? dw + (size_t)v0 * C : NULL, NULL, logits, x, wc,
                                n, C, nv, 1);
    }
}
