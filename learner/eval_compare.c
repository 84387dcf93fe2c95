// eval_compare.c: the paired comparison of two evaluations (counts, mean
// change and its standard error, the exact sign test) and the reader of
// `rlc eval --out` files.
#include <math.h>  // lgamma, exp, log, sqrt

#include "core/core.h"  // rlc_calloc, rlc_free, rlc_jsonl_each
#include "eval_compare.h"

double lrn_eval_sign_test(int k, int n) {
    if (n <= 0) return 1.0;
    int m = k < n - k ? k : n - k;
    double log_all = lgamma(n + 1.0) - n * log(2.0), tail = 0;
    for (int j = 0; j <= m; j++) tail += exp(log_all - lgamma(j + 1.0) - lgamma(n - j + 1.0));
    return 2 * tail < 1 ? 2 * tail : 1.0;
}

rlc_status lrn_eval_compare(const double *a, const double *b, int n, lrn_eval_paired *out) {
    if (n < 1) return rlc_errorf(RLC_ERR_ARG, "eval compare: no examples");
    lrn_eval_paired r = {.n = n};
    double sum_d = 0, sum_d2 = 0;
    for (int i = 0; i < n; i++) {
        if (!(a[i] >= 0 && a[i] <= 1 && b[i] >= 0 && b[i] <= 1))
            return rlc_errorf(RLC_ERR_ARG, "eval compare: example %d: accuracy %g / %g outside [0, 1]", i, a[i], b[i]);
        double d = b[i] - a[i];
        r.better += d > 0;
        r.worse += d < 0;
        r.mean_a += a[i];
        r.mean_b += b[i];
        sum_d += d;
        sum_d2 += d * d;
    }
    r.mean_a /= n;
    r.mean_b /= n;
    r.diff = sum_d / n;
    // Sample variance of the differences (n - 1), 0 for one example.
    double var = n > 1 ? (sum_d2 - n * r.diff * r.diff) / (n - 1) : 0;
    r.se = var > 0 ? sqrt(var / n) : 0;
    r.p_sign = lrn_eval_sign_test(r.better, r.better + r.worse);
    *out = r;
    return RLC_OK;
}

typedef struct {
    int n;
    double *sum;  // (n) correct samples of each example
    int *count;   // (n) samples of each example
} accuracy_reader;

// One record of an --out file (rlc_jsonl_fn).
static rlc_status add_sample(void *ud, const json_t *rec, const char *where, int *stop) {
    accuracy_reader *r = ud;
    const json_t *e = json_object_get(rec, "example"), *c = json_object_get(rec, "correct");
    if (!json_is_integer(e)) return rlc_errorf(RLC_ERR_FORMAT, "%s: \"example\" must be an integer", where);
    long long example = json_integer_value(e);
    if (!json_is_boolean(c)) return rlc_errorf(RLC_ERR_FORMAT, "%s: \"correct\" must be true or false", where);
    if (example < 0 || example >= r->n)
        return rlc_errorf(RLC_ERR_FORMAT, "%s: example %lld is outside the %d evaluated (0..%d)", where, example, r->n,
                          r->n - 1);
    r->sum[example] += json_is_true(c);
    r->count[example]++;
    return RLC_OK;
}

rlc_status lrn_eval_read_accuracy(const char *path, int n, double *acc) {
    if (n < 1) return rlc_errorf(RLC_ERR_ARG, "%s: no examples to read", path);
    accuracy_reader r = {.n = n, .sum = acc, .count = rlc_calloc((size_t)n, sizeof(int))};
    if (!r.count) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++) acc[i] = 0;
    rlc_status s = rlc_jsonl_each(path, add_sample, &r);
    for (int i = 0; s == RLC_OK && i < n; i++) {
        if (!r.count[i])
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: no record for example %d (this evaluation has %d examples)", path, i,
                           n);
        else acc[i] /= r.count[i];
    }
    rlc_free(r.count);
    return s;
}
