// report_compare_page.c: the page of `rlc report --compare`
// (report_compare_write, report.h): a header with the runs' notices and the
// summary table, one chart per main metric with a colored line per run over
// the union of their steps, held-out pass@1 against wall-clock seconds, and
// a chart for every other key the runs share (svg.h draws them).
#include <math.h>    // NAN, isfinite, isnan
#include <stdint.h>  // SIZE_MAX
#include <stdio.h>   // snprintf
#include <stdlib.h>  // qsort
#include <string.h>  // strcmp, strcspn, strlen, strncmp

#include "report.h"     // REPORT_COMPARE_MAX_RUNS
#include "core/core.h"  // rlc_malloc, rlc_realloc, rlc_free, rlc_errorf, RLC_VERSION
#include "report_internal.h"
#include "svg.h"

#define MAX_SHARED 200  // charts of other shared keys

// A main metric: its chart's title, the keys that stand for it (normalized,
// the first present in a run wins) and whether its y axis is [0, 1].
typedef struct main_metric {
    const char *title, *keys;
    int unit;
} main_metric;

static const main_metric mains[] = {
    {"Held-out pass@1 (eval.pass@1)", REPORT_COMPARE_EVAL_KEYS, 0},  // zoomed: the runs differ by points
    {"Reward (reward_mean)", REPORT_COMPARE_REWARD_KEYS, 0},
    {"Accuracy of the sampled responses", "accuracy acc train_acc", 1},
    {"Entropy", "entropy", 0},
    {"KL divergence", "kl", 0},
    {"Response length (tokens)", "resp_len_mean response_length_mean response_len_mean completion_length_mean", 0},
    {"Seconds per step (step_s)", REPORT_COMPARE_TIME_KEYS, 0},
    {"Generation throughput (tokens/s)", "gen_tokens_per_s", 0},
    {"Training throughput (tokens/s)", "train_tokens_per_s tokens_per_s", 0},
};
#define N_MAINS ((int)(sizeof mains / sizeof mains[0]))

// An x axis shared by the runs: the sorted union of their x values, and
// where each record of each run lies on it.
typedef struct axis {
    double *x;       // (n) strictly increasing
    size_t n;
    size_t *at;      // (records of all runs) index into x, SIZE_MAX when not on the axis
    size_t *first;   // (runs) the run's first record in `at`
} axis;

typedef struct cmp_page {
    svg_buf *b;
    const report_compare_run *runs;
    int n_runs;
    axis steps;           // every record of every run
    double *y;            // scratch (n_runs, axis n)
    unsigned char *bad;   // scratch (n_runs, axis n)
    size_t cap;           // entries of y and bad
    int charts;
} cmp_page;

// Scratch for n_runs series over an axis of n points.
static rlc_status scratch_fit(cmp_page *P, size_t n) {
    size_t need = (size_t)P->n_runs * n + 1;
    if (need <= P->cap) return RLC_OK;
    double *y = rlc_realloc(P->y, need * sizeof *y);
    if (y) P->y = y;
    unsigned char *bad = rlc_realloc(P->bad, need);
    if (bad) P->bad = bad;
    if (!y || !bad) return rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing the comparison");
    P->cap = need;
    return RLC_OK;
}

static int cmp_double(const void *a, const void *b) {
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

static void axis_free(axis *A) {
    rlc_free(A->x);
    rlc_free(A->at);
    rlc_free(A->first);
    *A = (axis){0};
}

// The x of record i of run r: its step, or its wall-clock seconds; NaN when
// it is not on the axis (time: only the run's finite values of column col).
static double x_of(const report_compare_run *r, size_t i, int time, int col) {
    if (!time) return r->d.x[i];
    if (col < 0 || r->d.cols[col].state[i] != REPORT_FINITE) return NAN;
    return report_compare_time_of(r, i);
}

// Builds the axis over every record (time == 0) or over the finite values of
// cols[r] at their wall-clock times (time == 1).
static rlc_status axis_build(axis *A, const report_compare_run *runs, int n, int time, const int *cols) {
    *A = (axis){0};
    size_t total = 0;
    for (int r = 0; r < n; r++) total += runs[r].ok ? runs[r].d.n : 0;
    A->x = rlc_malloc((total ? total : 1) * sizeof *A->x);
    A->at = rlc_malloc((total ? total : 1) * sizeof *A->at);
    A->first = rlc_calloc((size_t)n, sizeof *A->first);
    if (!A->x || !A->at || !A->first) return rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing the comparison");
    size_t m = 0, k = 0;
    for (int r = 0; r < n; r++) {
        A->first[r] = k;
        if (!runs[r].ok) continue;
        for (size_t i = 0; i < runs[r].d.n; i++, k++) {
            double v = x_of(&runs[r], i, time, cols ? cols[r] : -1);
            if (isfinite(v)) A->x[m++] = v;
        }
    }
    qsort(A->x, m, sizeof *A->x, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || A->x[i] != A->x[u - 1]) A->x[u++] = A->x[i];
    A->n = u;
    for (int r = 0; r < n; r++) {
        if (!runs[r].ok) continue;
        for (size_t i = 0; i < runs[r].d.n; i++) {
            double v = x_of(&runs[r], i, time, cols ? cols[r] : -1);
            size_t lo = 0, hi = u;  // the first x >= v
            while (isfinite(v) && lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (A->x[mid] < v) lo = mid + 1;
                else hi = mid;
            }
            A->at[A->first[r] + i] = isfinite(v) && lo < u && A->x[lo] == v ? lo : SIZE_MAX;
        }
    }
    return RLC_OK;
}

// ---- captions --------------------------------------------------------------------

static void put_value(svg_buf *b, double v) {
    char s[32];
    svg_format_value(s, sizeof s, v);
    svg_buf_puts(b, s);
}

static void swatch(svg_buf *b, int run) {
    svg_buf_printf(b, "<span class=\"sw\" style=\"background:%s\"></span>", svg_color(run));
}

// One line per run under a chart: last, min and max with their steps.
static void caption(svg_buf *b, const report_compare_run *runs, int n, const int *cols) {
    svg_buf_puts(b, "<figcaption>");
    int missing = 0;
    for (int r = 0; r < n; r++) {
        if (!runs[r].ok) continue;
        if (cols[r] < 0) {
            missing++;
            continue;
        }
        const report_data *d = &runs[r].d;
        const report_column *c = &d->cols[cols[r]];
        size_t i_last = 0, i_min = 0, i_max = 0;
        int any = 0;
        for (size_t i = 0; i < d->n; i++) {
            if (c->state[i] != REPORT_FINITE) continue;
            if (!any) i_min = i_max = i;
            any = 1;
            if (c->v[i] < c->v[i_min]) i_min = i;
            if (c->v[i] > c->v[i_max]) i_max = i;
            i_last = i;
        }
        if (!any) continue;
        svg_buf_puts(b, "<div>");
        swatch(b, r);
        svg_buf_puts(b, "<b>");
        svg_buf_escape(b, runs[r].label);
        svg_buf_puts(b, "</b> last ");
        put_value(b, c->v[i_last]);
        svg_buf_puts(b, " <span style=\"color:#888\">(step ");
        put_value(b, d->x[i_last]);
        svg_buf_puts(b, ")</span> \xC2\xB7 min ");
        put_value(b, c->v[i_min]);
        svg_buf_puts(b, " \xC2\xB7 max ");
        put_value(b, c->v[i_max]);
        svg_buf_puts(b, " <span style=\"color:#888\">(step ");
        put_value(b, d->x[i_max]);
        svg_buf_puts(b, ")</span>");
        if (c->n_nonfinite) svg_buf_printf(b, " \xC2\xB7 <span class=\"bad\">%ld NaN/null</span>", c->n_nonfinite);
        svg_buf_puts(b, "</div>");
    }
    if (missing) {
        svg_buf_puts(b, "<div style=\"color:#888\">not recorded by: ");
        int k = 0;
        for (int r = 0; r < n; r++) {
            if (!runs[r].ok || cols[r] >= 0) continue;
            if (k++) svg_buf_puts(b, ", ");
            svg_buf_escape(b, runs[r].label);
        }
        svg_buf_puts(b, "</div>");
    }
}

// ---- one chart of a line per run ----------------------------------------------------

// cols[r]: run r's column to draw, -1 none. On the time axis A, x_label is
// "seconds" and every value gets a marker.
static rlc_status overlay(cmp_page *P, const char *title, const char *key, const int *cols, const axis *A,
                          const char *x_label, int unit, const char *note) {
    svg_series ser[REPORT_COMPARE_MAX_RUNS];
    int ns = 0;
    RLC_TRY(scratch_fit(P, A->n));
    for (int r = 0; r < P->n_runs; r++) {
        const report_compare_run *run = &P->runs[r];
        if (!run->ok || cols[r] < 0) continue;
        double *y = P->y + (size_t)r * A->n;
        unsigned char *bad = P->bad + (size_t)r * A->n;
        for (size_t u = 0; u < A->n; u++) y[u] = NAN, bad[u] = 0;
        const report_column *c = &run->d.cols[cols[r]];
        for (size_t i = 0; i < run->d.n; i++) {
            size_t u = A->at[A->first[r] + i];
            if (u == SIZE_MAX) continue;
            if (c->state[i] == REPORT_FINITE) y[u] = c->v[i];
            else if (c->state[i] == REPORT_NONFINITE) bad[u] = 1;
        }
        // markers on keys present on some steps only (evaluations); hover columns give the rest
        int sparse = A != &P->steps || (size_t)(c->n_finite + c->n_nonfinite) < run->d.n;
        ser[ns++] = (svg_series){.name = run->label, .kind = SVG_SERIES_LINE, .y = y, .nonfinite = bad,
                                 .color = r, .dashed = (r / 10) % 2, .markers = sparse, .in_legend = 1};
    }
    if (ns == 0 || A->n == 0) return RLC_OK;
    svg_chart sc = {.title = title, .x_label = x_label, .x = A->x, .n = A->n, .x_min = A->x[0],
                    .x_max = A->x[A->n - 1], .series = ser, .n_series = ns, .unit_interval = unit};
    svg_buf *b = P->b;
    svg_buf_puts(b, "<figure data-keys=\"");
    svg_buf_escape(b, key);
    svg_buf_puts(b, "\">\n");
    RLC_TRY(svg_line_chart(b, &sc));
    caption(b, P->runs, P->n_runs, cols);
    if (note) svg_buf_printf(b, "<div style=\"color:#666\">%s</div>", note);
    svg_buf_puts(b, "</figcaption></figure>\n");
    P->charts++;
    return RLC_OK;
}

static rlc_status main_charts(cmp_page *P) {
    int cols[REPORT_COMPARE_MAX_RUNS];
    for (int m = 0; m < N_MAINS; m++) {
        const char *key = NULL;
        for (int r = 0; r < P->n_runs; r++) {
            cols[r] = P->runs[r].ok ? report_compare_col(&P->runs[r].d, mains[m].keys) : -1;
            if (cols[r] >= 0 && !key) key = P->runs[r].d.cols[cols[r]].name;
        }
        if (!key) continue;
        RLC_TRY(overlay(P, mains[m].title, key, cols, &P->steps, "step", mains[m].unit, NULL));
        if (m > 0) continue;
        // right after pass@1 by step: pass@1 by wall-clock seconds
        int timed[REPORT_COMPARE_MAX_RUNS], any = 0;
        for (int r = 0; r < P->n_runs; r++) {
            timed[r] = cols[r] >= 0 && P->runs[r].timed > 0 ? cols[r] : -1;
            any |= timed[r] >= 0;
        }
        if (!any) continue;
        axis T;
        rlc_status st = axis_build(&T, P->runs, P->n_runs, 1, timed);
        if (st == RLC_OK)
            st = overlay(P, "Held-out pass@1 against wall-clock seconds (running sum of step_s)", key, timed, &T,
                         "seconds", 0, "Time to accuracy: x is the sum of step_s through the evaluation's step; "
                         "the evaluation logged on a run's first step (taken before training) is at 0 s.");
        axis_free(&T);
        RLC_TRY(st);
    }
    return RLC_OK;
}

// ---- the other keys the runs share ---------------------------------------------------

typedef struct shared_key {
    const char *name;  // borrowed from a run's column
    int rank, order;
} shared_key;

static int shared_cmp(const void *a, const void *b) {
    const shared_key *p = a, *q = b;
    if (p->rank != q->rank) return p->rank < q->rank ? -1 : 1;
    return p->order < q->order ? -1 : p->order > q->order;
}

static int is_main_key(const char *norm) {
    size_t l = strlen(norm);
    for (int m = 0; m < N_MAINS; m++)
        for (const char *p = mains[m].keys; *p;) {
            while (*p == ' ') p++;
            size_t k = strcspn(p, " ");
            if (k == l && strncmp(p, norm, l) == 0) return 1;
            p += k;
        }
    return 0;
}

// Keys with a finite value in at least two runs (in the one run when only
// one was read), other than the main ones and histogram bins; those with
// one value throughout every run go to *constant instead.
static rlc_status shared_keys(const cmp_page *P, shared_key **out, int *n_out, shared_key **constant, int *n_const) {
    int readable = 0, cap = 0;
    for (int r = 0; r < P->n_runs; r++) readable += P->runs[r].ok;
    for (int r = 0; r < P->n_runs; r++) cap += P->runs[r].ok ? P->runs[r].d.n_cols : 0;
    *out = rlc_calloc((size_t)cap + 1, sizeof **out);
    *constant = rlc_calloc((size_t)cap + 1, sizeof **constant);
    *n_out = *n_const = 0;
    if (!*out || !*constant) return rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing the comparison");
    int order = 0;
    for (int r = 0; r < P->n_runs; r++) {
        const report_data *d = &P->runs[r].d;
        for (int c = 0; P->runs[r].ok && c < d->n_cols; c++) {
            const report_column *col = &d->cols[c];
            order++;
            if (col->chart == -2 || col->n_finite == 0 || is_main_key(col->norm)) continue;
            int seen = 0, present = 0, constant_all = 1;
            double value = NAN;
            for (int q = 0; q < P->n_runs && !seen; q++) {
                if (!P->runs[q].ok) continue;
                int k = report_data_find(&P->runs[q].d, col->name);
                if (k < 0 || P->runs[q].d.cols[k].n_finite == 0) continue;
                if (q < r) seen = 1;  // taken with an earlier run
                present++;
                const report_column *o = &P->runs[q].d.cols[k];
                constant_all &= o->n_nonfinite == 0;
                for (size_t i = 0; i < P->runs[q].d.n; i++) {
                    if (o->state[i] != REPORT_FINITE) continue;
                    if (isnan(value)) value = o->v[i];
                    constant_all &= o->v[i] == value;
                }
            }
            if (seen || present < (readable < 2 ? 1 : 2)) continue;
            shared_key k = {col->name, report_key_rank(col->norm), order};
            if (constant_all) (*constant)[(*n_const)++] = k;
            else if (*n_out < MAX_SHARED) (*out)[(*n_out)++] = k;
        }
    }
    qsort(*out, (size_t)*n_out, sizeof **out, shared_cmp);
    return RLC_OK;
}

static rlc_status shared_charts(cmp_page *P) {
    shared_key *keys = NULL, *constant = NULL;
    int n = 0, n_const = 0;
    rlc_status st = shared_keys(P, &keys, &n, &constant, &n_const);
    svg_buf *b = P->b;
    if (st == RLC_OK && n) {
        svg_buf_printf(b, "<h2 id=\"sec-shared\">Other metrics the runs share (%d)</h2>\n<div class=\"grid\">\n", n);
        int cols[REPORT_COMPARE_MAX_RUNS];
        for (int k = 0; k < n && st == RLC_OK; k++) {
            for (int r = 0; r < P->n_runs; r++) {
                cols[r] = P->runs[r].ok ? report_data_find(&P->runs[r].d, keys[k].name) : -1;
                if (cols[r] >= 0 && P->runs[r].d.cols[cols[r]].n_finite == 0) cols[r] = -1;
            }
            st = overlay(P, keys[k].name, keys[k].name, cols, &P->steps, "step", 0, NULL);
        }
        svg_buf_puts(b, "</div>\n");
    }
    if (st == RLC_OK && n_const) {
        svg_buf_puts(b, "<p>The same value on every step of every run that has it: ");
        for (int k = 0; k < n_const; k++) {
            const char *name = constant[k].name;
            double v = NAN;
            for (int r = 0; r < P->n_runs && isnan(v); r++) {
                int c = P->runs[r].ok ? report_data_find(&P->runs[r].d, name) : -1;
                for (size_t i = 0; c >= 0 && i < P->runs[r].d.n && isnan(v); i++)
                    if (P->runs[r].d.cols[c].state[i] == REPORT_FINITE) v = P->runs[r].d.cols[c].v[i];
            }
            svg_buf_puts(b, k ? ", <code>" : "<code>");
            svg_buf_escape(b, name);
            svg_buf_puts(b, "</code> = ");
            put_value(b, v);
        }
        svg_buf_puts(b, ".</p>\n");
    }
    rlc_free(keys);
    rlc_free(constant);
    return st;
}

// ---- the page --------------------------------------------------------------------------

static void notices(svg_buf *b, const report_compare_run *runs, int n) {
    for (int r = 0; r < n; r++) {
        const report_compare_run *run = &runs[r];
        if (!run->ok) {
            svg_buf_puts(b, "<div class=\"notice\"><b>");
            svg_buf_escape(b, run->label);
            svg_buf_puts(b, "</b> was left out: ");
            svg_buf_escape(b, run->error);
            svg_buf_puts(b, "</div>\n");
            continue;
        }
        const report_data *d = &run->d;
        long bad = d->skipped - d->incomplete_last;
        if (!bad && !d->incomplete_last && !d->duplicates) continue;
        svg_buf_puts(b, "<div class=\"notice\"><b>");
        svg_buf_escape(b, run->label);
        svg_buf_puts(b, "</b>:");
        if (bad) svg_buf_printf(b, " %ld line%s of metrics.jsonl skipped (not JSON objects; "
                                   "<code>rlc report</code> on the run names them);", bad, bad == 1 ? "" : "s");
        if (d->incomplete_last) svg_buf_puts(b, " the last line is incomplete (still running?) and was skipped;");
        if (d->duplicates) svg_buf_printf(b, " %ld repeated step%s (a resumed run?), the last line of each kept;",
                                          d->duplicates, d->duplicates == 1 ? "" : "s");
        svg_buf_puts(b, "</div>\n");
    }
    int differ = 0;
    double steps = NAN;
    for (int r = 0; r < n; r++) {
        if (!runs[r].ok) continue;
        if (!isnan(steps) && runs[r].steps != steps) differ = 1;
        steps = runs[r].steps;
    }
    if (differ) svg_buf_puts(b, "<div class=\"notice\">The runs do not have the same number of steps (see the "
                                "table): their curves and totals are not a like-for-like comparison.</div>\n");
}

rlc_status report_compare_page(svg_buf *b, const report_compare_run *runs, int n, int *n_charts) {
    cmp_page P = {.b = b, .runs = runs, .n_runs = n};
    *n_charts = 0;
    rlc_status st = axis_build(&P.steps, runs, n, 0, NULL);
    if (st == RLC_OK) st = scratch_fit(&P, P.steps.n);
    int readable = 0;
    for (int r = 0; r < n; r++) readable += runs[r].ok;
    if (st == RLC_OK) {
        svg_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                          "<title>Comparison of %d runs \xE2\x80\x94 rlc report</title>\n<style>\n%s"
                          "table.summary td:first-child{white-space:nowrap}\n</style>\n</head>\n<body>\n<header>\n"
                          "<h1>Comparison of %d runs</h1>\n<p class=\"sub\">", n, report_page_css, n);
        for (int r = 0; r < n; r++) {
            svg_buf_puts(b, r ? " \xC2\xB7 " : "");
            if (runs[r].ok) swatch(b, r);
            svg_buf_puts(b, "<code>");
            svg_buf_escape(b, runs[r].dir);
            svg_buf_puts(b, "</code>");
        }
        svg_buf_printf(b, " \xC2\xB7 %d of %d read</p>\n", readable, n);
        notices(b, runs, n);
        svg_buf_puts(b, "<h2 id=\"sec-summary\">Summary</h2>\n");
        report_compare_table_html(b, runs, n);
        svg_buf_puts(b, "<p class=\"sub\">pass@1: the held-out evaluation (<code>eval.pass@1</code>; the first is "
                        "taken before training); change: final minus first, in points; wall s: the sum of "
                        "<code>step_s</code>; trained/step: the mean of <code>trajectories</code>, the samples "
                        "trained on per step (algorithms that filter or resample draw more).</p>\n"
                        "</header>\n<h2 id=\"sec-main\">Main metrics</h2>\n<div class=\"grid\">\n");
        st = main_charts(&P);
        svg_buf_puts(b, "</div>\n");
    }
    if (st == RLC_OK) st = shared_charts(&P);
    if (st == RLC_OK)
        svg_buf_printf(b, "<footer>Written by <code>rlc report --compare</code> (rlc %s) from each run's "
                          "<code>metrics.jsonl</code>. Hover over a chart for the values at a step.</footer>\n"
                          "</body>\n</html>\n", RLC_VERSION);
    *n_charts = P.charts;
    axis_free(&P.steps);
    rlc_free(P.y);
    rlc_free(P.bad);
    if (st == RLC_OK && b->failed) st = rlc_errorf(RLC_ERR_NOMEM, "out of memory writing the comparison");
    return st;
}
