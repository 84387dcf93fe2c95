// test.h: a tiny test harness. Checks count failures and print where they
// happened; a test's main returns test_finish(), non-zero on any failure, or
// 77 (ctest's skip code) through TEST_SKIP.
#ifndef RLC_TEST_H
#define RLC_TEST_H

#include <math.h>    // fabs
#include <stdio.h>   // printf
#include <stdlib.h>  // getenv
#include <string.h>  // strcmp

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        test_checks++;                                                           \
        if (!(cond)) {                                                           \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                    \
    do {                                                                        \
        test_checks++;                                                          \
        if (!(cond)) {                                                          \
            test_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

// Checks an rlc_status call and prints the error message when it fails.
#define CHECK_OK(expr)                                                             \
    do {                                                                           \
        test_checks++;                                                             \
        rlc_status check_s_ = (expr);                                              \
        if (check_s_ != RLC_OK) {                                                  \
            test_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #expr, \
                    rlc_status_name(check_s_), rlc_last_error());                  \
        }                                                                          \
    } while (0)

#define TEST_SKIP(...)                     \
    do {                                   \
        printf("SKIP: ");                  \
        printf(__VA_ARGS__);               \
        printf("\n");                      \
        return 77;                         \
    } while (0)

// Relative L2 error ||a - b|| / ||b|| with the worst element reported.
static inline double test_rel_l2(const float *a, const float *b, size_t n, size_t *worst,
                                 double *worst_abs) {
    double num = 0, den = 0, w = -1;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
        if (fabs(d) > w) {
            w = fabs(d);
            if (worst) *worst = i;
        }
    }
    if (worst_abs) *worst_abs = w;
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

// Path of a file under the shared data folder ($RLC_DATA or ../shared/data).
static inline const char *test_data(char *buf, size_t cap, const char *rel) {
    const char *root = getenv("RLC_DATA");
    snprintf(buf, cap, "%s/%s", root ? root : "../shared/data", rel);
    return buf;
}

// Path of a file under the source tree ($RLC_SOURCE or .).
static inline const char *test_source(char *buf, size_t cap, const char *rel) {
    const char *root = getenv("RLC_SOURCE");
    snprintf(buf, cap, "%s/%s", root ? root : ".", rel);
    return buf;
}

static inline int test_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

#endif
