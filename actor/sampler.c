// sampler.c: token sampling from one row of logits: greedy, temperature,
// top-k and top-p (nucleus), with a per-sequence xorshift RNG.
#include <math.h>    // expf
#include <stdlib.h>  // qsort

#include "generate.h"
#include "kernels/kernels.h"  // kernels_argmax, kernels_logsumexp

typedef struct {
    float p;
    int id;
} candidate;

actor_sampling actor_sampling_default(void) {
    actor_sampling s = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 0, .max_new_tokens = 256};
    return s;
}

size_t actor_sampler_scratch_bytes(int V) { return (size_t)V * sizeof(candidate); }

// xorshift64* (the generator llama2.c uses): 32 random bits per call.
static uint32_t rng_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float rng_f32(uint64_t *state) { return (float)(rng_u32(state) >> 8) / 16777216.0f; }

static int by_prob_desc(const void *a, const void *b) {
    float pa = ((const candidate *)a)->p, pb = ((const candidate *)b)->p;
    return (pa < pb) - (pa > pb);
}

// Moves the k largest candidates to the front (unordered): quickselect.
static void select_top_k(candidate *c, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = c[(lo + hi) / 2].p;
        int i = lo, j = hi;
        while (i <= j) {
            while (c[i].p > pivot) i++;
            while (c[j].p < pivot) j--;
            if (i <= j) {
                candidate t = c[i];
                c[i++] = c[j];
                c[j--] = t;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

// Draws from candidates c (n, in any order) whose p sum to `mass`.
static int draw(const candidate *c, int n, float mass, float coin) {
    float r = coin * mass, cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += c[i].p;
        if (r < cdf) return c[i].id;
    }
    return c[n - 1].id;  // rounding
}

int actor_sample(const float *logits, int V, const actor_sampling *s, uint64_t *rng, void *scratch,
                 float *logprob) {
    float lse = kernels_logsumexp(logits, V);
    int token;
    if (s->temperature <= 0.0f) {
        token = kernels_argmax(logits, V);
    } else {
        candidate *c = scratch;
        float inv_t = 1.0f / s->temperature, m = logits[kernels_argmax(logits, V)], sum = 0.0f;
        for (int j = 0; j < V; j++) {
            c[j].p = expf((logits[j] - m) * inv_t);
            c[j].id = j;
            sum += c[j].p;
        }
        int n = V;
        float mass = sum;
        if (s->top_k > 0 && s->top_k < V) {
            select_top_k(c, V, s->top_k);
            n = s->top_k;
            mass = 0.0f;
            for (int i = 0; i < n; i++) mass += c[i].p;
        }
        if (s->top_p > 0.0f && s->top_p < 1.0f) {
            // Candidates below (1 - p) / (n - 1) of the mass cannot be in the
            // nucleus; dropping them first keeps the sort short.
            float cutoff = (1.0f - s->top_p) / (float)(n > 1 ? n - 1 : 1) * mass;
            int kept = 0;
            for (int i = 0; i < n; i++)
                if (c[i].p >= cutoff) c[kept++] = c[i];
            qsort(c, (size_t)kept, sizeof *c, by_prob_desc);
            float cum = 0.0f, target = s->top_p * mass;
            int last = kept - 1;
            for (int i = 0; i < kept; i++) {
                cum += c[i].p;
                if (cum > target) {
                    last = i;
                    break;
                }
            }
            n = last + 1;
            mass = 0.0f;
            for (int i = 0; i < n; i++) mass += c[i].p;
        }
        token = draw(c, n, mass, rng_f32(rng));
        // The log-probability under the tempered distribution, as the
        // learner computes it (log_softmax(logits / T); verl and TRL alike).
        if (logprob && s->temperature != 1.0f) {
            *logprob = (logits[token] - m) * inv_t - logf(sum);
            return token;
        }
    }
    if (logprob) *logprob = logits[token] - lse;
    return token;
}
