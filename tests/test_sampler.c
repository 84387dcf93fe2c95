// test_sampler.c: the sampler: greedy is argmax; the log-prob is
// log_softmax(logits / T) (the raw one when greedy; before truncation); top-k and top-p
// never pick outside their set; empirical frequencies follow the tempered,
// truncated distribution; the same seed gives the same draws.
#include <math.h>

#include "actor/generate.h"
#include "core/core.h"
#include "test.h"

#define V 6

int main(void) {
    const float logits[V] = {2.0f, 1.0f, 0.5f, -1.0f, 3.0f, 0.0f};
    double lse = 0;
    for (int j = 0; j < V; j++) lse += exp(logits[j]);
    lse = log(lse);
    void *scratch = rlc_malloc(actor_sampler_scratch_bytes(V));
    uint64_t rng = 7;
    float lp;

    actor_sampling s = actor_sampling_default();
    s.temperature = 0.0f;
    CHECK(actor_sample(logits, V, &s, &rng, scratch, &lp) == 4);
    CHECK_MSG(fabs(lp - (3.0 - lse)) < 1e-6, "greedy logprob %g vs %g", lp, 3.0 - lse);

    // Temperature 0.7, top-k 3: only {4, 0, 1}; frequencies follow
    // softmax(logits / 0.7) renormalized over them; the log-probs are
    // log_softmax(logits / 0.7) over the whole vocabulary (before top-k), as
    // the learner computes them.
    s.temperature = 0.7f;
    s.top_k = 3;
    double lse_t = 0;
    for (int j = 0; j < V; j++) lse_t += exp(logits[j] / 0.7);
    lse_t = log(lse_t);
    int counts[V] = {0};
    const int draws = 200000;
    for (int i = 0; i < draws; i++) {
        int t = actor_sample(logits, V, &s, &rng, scratch, &lp);
        counts[t]++;
        double want = logits[t] / 0.7 - lse_t;
        if (fabs(lp - want) > 1e-5) {
            CHECK_MSG(0, "logprob of %d is %g, expected log_softmax(logits / 0.7) %g", t, lp, want);
            break;
        }
    }
    double z = exp(3.0 / 0.7) + exp(2.0 / 0.7) + exp(1.0 / 0.7);
    int keep[3] = {4, 0, 1};
    for (int k = 0; k < 3; k++) {
        double p = exp(logits[keep[k]] / 0.7) / z, f = (double)counts[keep[k]] / draws;
        CHECK_MSG(fabs(f - p) < 0.01, "top-k freq of %d: %g vs %g", keep[k], f, p);
    }
    CHECK(counts[2] == 0 && counts[3] == 0 && counts[5] == 0);

    // top-p 0.8 at T=1: probs sorted 0.61 (4), 0.22 (0), 0.08 (1), ... the
    // nucleus is {4, 0} (0.61 + 0.22 > 0.8).
    s.temperature = 1.0f;
    s.top_k = 0;
    s.top_p = 0.8f;
    int seen_other = 0, seen[V] = {0}, bad_lp = 0;
    for (int i = 0; i < 20000; i++) {
        int t = actor_sample(logits, V, &s, &rng, scratch, &lp);
        seen[t]++;
        seen_other |= (t != 4 && t != 0);
        bad_lp += fabs(lp - (logits[t] - lse)) > 1e-6;  // T = 1: the raw log-softmax
    }
    CHECK(!seen_other);
    CHECK_MSG(bad_lp == 0, "%d log-probs at T=1 differ from the raw log-softmax", bad_lp);
    double p4 = exp(3.0) / (exp(3.0) + exp(2.0));
    CHECK_MSG(fabs((double)seen[4] / 20000 - p4) < 0.015, "top-p freq %g vs %g", (double)seen[4] / 20000, p4);

    // Same seed, same draws.
    s.top_p = 0.95f;
    uint64_t r1 = 99, r2 = 99;
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= actor_sample(logits, V, &s, &r1, scratch, &lp) == actor_sample(logits, V, &s, &r2, scratch, &lp);
    CHECK(same);
    rlc_free(scratch);
    return test_finish("test_sampler");
}
