// report.h: `rlc report RUN_DIR`: turns RUN_DIR/metrics.jsonl (one JSON
// object per training step) into RUN_DIR/report.html, a single page of SVG
// charts that opens with no network (no scripts, fonts or style sheets from
// elsewhere; everything inline).
//
// The metrics schema is open: every numeric key is charted, members of
// nested objects flattened as parent.child. Keys the report knows (reward,
// accuracy and eval pass@k, KL, entropy, response length, throughput, time
// per phase, staleness, dropped and filtered counts, clipping, advantages,
// weight sync, loss, lr, grad_norm) come first, grouped and in that order;
// the rest follow in the order they first appear. An object whose keys are
// all integers ({"0": 120, "1": 8}) or an array of numbers is a histogram
// (e.g. the staleness of the trajectories of a step): a bar chart of its
// totals and lines of its per-step mean and max. The x axis is "step", or
// the record number when some line has no step. Lines that are not JSON
// objects are skipped, counted and named in the report and on stderr; an
// incomplete last line (a run still being written) is skipped quietly;
// when a step appears twice (a resumed run) its last line wins.
// RUN_DIR/config.json and RUN_DIR/experiment.json, when present, give the
// experiment's name and a table of its settings. docs/report.md lists the
// keys.
//
// `rlc report --compare OUT.html RUN_DIR...` (report_compare_write) overlays
// several runs on one page: a chart per main metric with a line per run,
// held-out pass@1 against cumulative wall-clock seconds, every other key the
// runs share, and a summary table (also returned as markdown).
#ifndef RLC_LEARNER_REPORT_H
#define RLC_LEARNER_REPORT_H

#include "core/status.h"  // rlc_status

// What report_write found; every field is filled on success.
typedef struct report_summary {
    long records;         // metrics lines used (after duplicates were dropped)
    long skipped;         // non-empty lines that were not JSON objects, the incomplete last line included
    long duplicates;      // lines replaced by a later line of the same step
    int incomplete_last;  // the last line had no newline and did not parse
    double first_step, last_step;
    int charts;           // <svg> charts written
    long bytes;           // size of the HTML file
} report_summary;

// Reads run_dir/metrics.jsonl and writes the report to out_path (NULL:
// run_dir/report.html), through a temporary file renamed into place so a
// reader never sees half a page. summary may be NULL. Skipped lines are also
// logged as warnings (stderr) with their line numbers.
// Errors: RLC_ERR_IO (run_dir or metrics.jsonl missing or unreadable, or the
// report cannot be written), RLC_ERR_FORMAT (metrics.jsonl is empty or has
// no usable line), RLC_ERR_NOMEM. On error no report file is left behind.
rlc_status report_write(const char *run_dir, const char *out_path, report_summary *summary);

#define REPORT_COMPARE_MAX_RUNS 64

// What report_compare_write found; filled on success.
typedef struct report_compare_summary {
    int runs;      // run folders given
    int readable;  // runs drawn; the others are named in the page, the table and on stderr
    int charts;    // <svg> charts written
    long bytes;    // size of the HTML file
} report_compare_summary;

// Reads run_dirs[0..n_runs) (each a folder with metrics.jsonl and, when
// present, summary.json, config.json, experiment.json) and writes one page to
// out_path comparing them: per main metric (held-out eval.pass@1,
// reward_mean, accuracy, entropy, kl, response length, step_s, generation
// and training tokens/s) a chart with one colored line per run over the
// steps; eval.pass@1 over the cumulative sum of step_s; a chart for every
// other key that at least two runs share; a summary table per run (name,
// algorithm, steps, first / final / best eval pass@1, change in points, final
// reward_mean, total and mean step_s). Runs are named after their folder.
// A run that cannot be read (no folder, no or an empty metrics.jsonl) is not
// an error while another can be read: it is logged as a warning, named with
// the reason in the page and as a row of the table, and counted in
// summary->runs - summary->readable.
// table_md: when not NULL, receives the summary table as markdown (NUL-
// terminated; the caller frees it with rlc_free); NULL on error. summary may
// be NULL.
// Errors: RLC_ERR_ARG (no run, more than REPORT_COMPARE_MAX_RUNS, no
// out_path), RLC_ERR_FORMAT or RLC_ERR_IO (no run could be read: the message
// names each with its reason), RLC_ERR_IO (the page cannot be written),
// RLC_ERR_NOMEM. On error no page is left behind.
rlc_status report_compare_write(const char *const *run_dirs, int n_runs, const char *out_path,
                                report_compare_summary *summary, char **table_md);

#endif
