// report_internal.h: what the report's files share: the metrics table
// (report_data.c reads metrics.jsonl into columns), the layout of the charts
// (report_layout.c), the page helpers of report.c, which writes the HTML of
// one run, and report_compare.c, which overlays several runs. Not part of
// the learner's public face.
#ifndef RLC_LEARNER_REPORT_INTERNAL_H
#define RLC_LEARNER_REPORT_INTERNAL_H

#include <stddef.h>  // size_t

#include "core/json.h"    // json_t
#include "core/status.h"  // rlc_status
#include "svg.h"          // svg_buf

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

// The page order of a normalized key (report_column.norm): the index of the
// first chart rule that takes it; keys of no known group sort last.
int report_key_rank(const char *norm);

// ---- page helpers (report.c) ---------------------------------------------------

extern const char *const report_page_css;  // the page's inline style sheet

// Writes b to path through path.tmp renamed into place (a reader never sees
// half a page). RLC_ERR_ARG (path too long), RLC_ERR_IO; nothing is left
// behind on error.
rlc_status report_write_atomic(const char *path, const svg_buf *b);

// *out: run_dir/file parsed, when it exists and is a JSON object (the caller
// owns it: json_decref), else NULL; a file that does not parse is logged as
// a warning and left out.
void report_load_config(const char *run_dir, const char *file, json_t **out);

// The experiment's name in a config object ("name", "experiment",
// "experiment_name", "exp_name" or "run_name"), or NULL. Borrowed from cfg.
const char *report_config_name(const json_t *cfg);

// ---- comparing runs (report_compare.c reads them, report_compare_page.c draws) ----

// One run of a comparison and what its summary row says. Values that a run
// does not have are NaN.
typedef struct report_compare_run {
    const char *dir;            // borrowed from the caller
    char label[160];            // the folder's name (with its parent's when two are alike)
    char algo[64];              // from summary.json, config.json or experiment.json; "" unknown
    char error[600];            // why the run was not read; "" when it was
    int ok;                     // read: d and cum_s are valid
    report_data d;
    double *cum_s;              // (d.n) wall-clock seconds through each record: the running sum of step_s
    int eval_col;               // column of eval.pass@1, -1 none
    double steps;               // the last step (the record count when steps are missing)
    double eval_first, eval_final, eval_best;  // held-out pass@1
    double eval_first_x, eval_final_x, eval_best_x;  // their steps
    double reward_final;        // the last reward_mean
    double wall_s, mean_step_s; // sum and mean of step_s
    long timed;                 // records with a step_s
    double trained_per_step;    // mean of `trajectories` (samples trained on per step)
} report_compare_run;

// The keys (normalized, space-separated, first present wins) of the held-
// out pass@1, the reward and the seconds of a step.
#define REPORT_COMPARE_EVAL_KEYS "eval_pass@1"
#define REPORT_COMPARE_REWARD_KEYS "reward_mean reward rewards_mean reward_avg"
#define REPORT_COMPARE_TIME_KEYS "step_s seconds step_time time_step time_total step_seconds"

// The first column of d, not a histogram bin and with a finite value,
// whose normalized name is one of `names` (space-separated, in order of
// preference); -1 none.
int report_compare_col(const report_data *d, const char *names);

// The wall-clock time of record i of a run in the pass@1-against-time chart:
// cum_s[i], except 0 for a first record at step <= 1, whose evaluation the
// learner took before training.
double report_compare_time_of(const report_compare_run *r, size_t i);

// Appends the summary table as HTML (with each run's color swatch) or as
// markdown (unreadable runs listed under it).
void report_compare_table_html(svg_buf *b, const report_compare_run *runs, int n);
void report_compare_table_md(svg_buf *b, const report_compare_run *runs, int n);

// Appends the whole page: header, notices, table, charts. *n_charts: the
// <svg> charts written. RLC_ERR_NOMEM.
rlc_status report_compare_page(svg_buf *b, const report_compare_run *runs, int n, int *n_charts);

#endif
