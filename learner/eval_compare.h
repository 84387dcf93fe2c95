// eval_compare.h: paired comparison of two evaluations of the same examples,
// such as a model before and after RL: how many examples got better and how
// many worse, the mean change with its paired standard error, and the exact
// two-sided sign test on the examples that changed. On 500 examples a
// pass@1 has a standard error near 2 points, but two models are graded on
// the same questions, so the paired figures tell a real change from noise
// far better than the two accuracies side by side. `rlc eval --against`
// prints them; docs/arith.md shows them for the default experiment.
#ifndef RLC_LEARNER_EVAL_COMPARE_H
#define RLC_LEARNER_EVAL_COMPARE_H

#include "core/status.h"  // rlc_status

typedef struct lrn_eval_paired {
    int n;                  // examples compared
    int better, worse;      // examples whose accuracy rose / fell (greedy: fixed / broken)
    double mean_a, mean_b;  // mean per-example accuracy of each run
    double diff;            // mean_b - mean_a
    double se;              // paired standard error of diff: sd(b_i - a_i) / sqrt(n)
    double p_sign;          // exact two-sided sign test on better against worse (1 when none changed)
} lrn_eval_paired;

// Compares per-example accuracies a[i] (the baseline) and b[i], each in
// [0, 1] (greedy: 0 or 1; sampled: the share of correct samples).
// RLC_ERR_ARG when n < 1 or a value is outside [0, 1].
rlc_status lrn_eval_compare(const double *a, const double *b, int n, lrn_eval_paired *out);

// The exact two-sided sign test: with k of n changed examples better,
// min(1, 2 P[X <= min(k, n - k)]) for X ~ Binomial(n, 1/2); 1 when n = 0.
double lrn_eval_sign_test(int k, int n);

// Per-example accuracy from a file written by `rlc eval --out`: acc[i] is the
// mean of "correct" over the records whose "example" is i, for i in 0..n-1.
// RLC_ERR_IO, or RLC_ERR_FORMAT naming path:line for a line that is not
// JSON, a missing or mistyped "example" or "correct", or an example outside
// 0..n-1, and naming the first example in 0..n-1 without a record (the file
// is from fewer examples than this evaluation).
rlc_status lrn_eval_read_accuracy(const char *path, int n, double *acc);

#endif
