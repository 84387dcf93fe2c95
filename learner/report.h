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

#endif
