// report_internal.h: what the report's files share: the metrics table
// (report_data.c reads metrics.jsonl into columns), the layout of the charts
// (report_layout.c) and report.c, which writes the HTML. Not part of the
// learner's public face.
#ifndef RLC_LEARNER_REPORT_INTERNAL_H
#define RLC_LEARNER_REPORT_INTERNAL_H

#include <stddef.h>  // size_t

#include "core/status.h"  // rlc_status

#define REPORT_MAX_SKIPS 20  // skipped lines described one by one (all are counted)

enum { REPORT_ABSENT = 0, REPORT_FINITE = 1, REPORT_NONFINITE = 2 };

// One numeric key over the records.
typedef struct report_column {
    char *name;            // flattened key, e.g. "eval.pass@1"
    char *norm;            // for matching: lowercase, '.', '/', '-' and ' ' as '_'
    double *v;             // (n) NaN where absent or not finite
    unsigned char *state;  // (n) REPORT_ABSENT / _FINITE / _NONFINITE
    long n_finite, n_nonfinite;
    int derived;           // computed by the report (a histogram's mean or max)
    int chart;             // index of the chart that shows it, -1 none yet
} report_column;

// An object of counts per integer bin, or an array of numbers, summed over
// the records.
typedef struct report_hist {
    char *name;
    char **labels;   // (n_bins) sorted numerically
    double *totals;  // (n_bins)
    int n_bins;
    int mean_col, max_col;  // derived columns, -1 when the bins are not integers
} report_hist;

typedef struct report_skip {
    long line;
    char reason[200];
} report_skip;

typedef struct report_data {
    size_t n;              // records, sorted by x, one per step
    double *x;             // (n) steps (or record numbers)
    int x_is_step;         // 0: some line had no numeric "step"
    report_column *cols;
    int n_cols, cap_cols;
    report_hist *hists;
    int n_hists, cap_hists;
    long lines;            // non-empty lines in the file
    long skipped, duplicates;
    int incomplete_last;
    report_skip skips[REPORT_MAX_SKIPS];
    int n_skips;           // described skips (<= REPORT_MAX_SKIPS)
    size_t cap;            // rows allocated per column
} report_data;

// Reads path (a metrics.jsonl) into d. RLC_ERR_IO, RLC_ERR_FORMAT (empty, or
// no line is a JSON object), RLC_ERR_NOMEM. d is zeroed first; call
// report_data_free even after an error.
rlc_status report_data_load(const char *path, report_data *d);
void report_data_free(report_data *d);

// Index of the column with this flattened name, -1 if none.
int report_data_find(const report_data *d, const char *name);

// ---- layout (report_layout.c) -----------------------------------------------

#define REPORT_MAX_SERIES 10   // lines per chart; more spill into another chart
#define REPORT_MAX_CHARTS 512

typedef enum { LAYOUT_LINES, LAYOUT_EACH, LAYOUT_STACKED } report_layout_kind;

// A group of charts: its anchor, heading, and whether its keys appear among
// the final values. In page order.
typedef struct report_section {
    const char *id, *heading;
    int cards;
} report_section;

extern const report_section report_sections[];
extern const int report_n_sections;

typedef struct report_chart {
    int section;                    // index into report_sections
    int hist;                       // a histogram's index, or -1 for a chart of lines
    report_layout_kind kind;        // LAYOUT_LINES or LAYOUT_STACKED
    int unit;                       // y axis [0, 1] when the values fit
    char title[160];
    int cols[REPORT_MAX_SERIES];    // columns, in the order they first appear
    int n_cols;
} report_chart;

typedef struct report_layout {
    report_chart *charts;
    int n;
    int *constant;    // "other" columns with one value throughout: a table instead
    int n_constant;
    int *empty;       // columns with no finite value
    int n_empty;
} report_layout;

// Assigns every column of d to a chart (sets its `chart`). RLC_ERR_NOMEM;
// call report_layout_free even after an error.
rlc_status report_plan(report_data *d, report_layout *L);
void report_layout_free(report_layout *L);

// In a chart of lines, "x_std" is a band around "x_mean" (or "x", "x_avg")
// when that is in the same chart: returns the mean's column, or -1.
int report_band_mean(const report_data *d, const report_chart *ch, int col);
// "x_min" and "x_max" are dashed when the chart has other lines.
int report_is_dashed(const report_data *d, const report_chart *ch, int col);

#endif
