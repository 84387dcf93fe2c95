// report_compare.c: report_compare_write (report.h): reads several runs
// (metrics.jsonl through report_data.c, plus summary.json, config.json and
// experiment.json for the algorithm), works out each run's summary row
// (held-out pass@1 first, final and best, wall-clock seconds), writes the
// summary table as HTML and markdown, and hands the page to
// report_compare_page.c.
#include "report.h"

#include <math.h>    // NAN, isfinite, isnan
#include <stdio.h>   // snprintf
#include <string.h>  // strcmp, strncmp, strlen, strcspn

#include "core/core.h"  // rlc_path_join, rlc_is_dir, rlc_file_exists, rlc_malloc, RLC_WARN
#include "report_internal.h"
#include "svg.h"

// ---- reading one run -------------------------------------------------------------

// The last path component of dir (trailing slashes ignored); with_parent
// keeps the one before it too ("a/grpo").
static void folder_label(const char *dir, int with_parent, char *out, size_t cap) {
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/') l--;
    size_t s = l;
    while (s > 0 && dir[s - 1] != '/') s--;
    if (with_parent && s > 1) {
        s--;
        while (s > 0 && dir[s - 1] != '/') s--;
    }
    snprintf(out, cap, "%.*s", (int)(l - s), dir + s);
    if (!*out) snprintf(out, cap, "%s", dir);
}

// "algorithm": "rloo" or "algorithm": {"name": "rloo"} in a JSON object, into
// out; with {"adaptive_sampling": "balanced"} beside the name (Reinforce-Ada)
// "grpo + ada balanced". 0 when the object names no algorithm.
static int algo_of(const json_t *obj, char *out, size_t cap) {
    const json_t *sec = json_object_get(obj, "algorithm"), *a = sec;
    if (json_is_object(sec)) a = json_object_get(sec, "name");
    if (!json_is_string(a) || json_string_length(a) == 0) return 0;
    const char *ada = json_string_value(json_object_get(sec, "adaptive_sampling"));  // NULL unless sec is an object
    if (ada && strcmp(ada, "off") != 0) snprintf(out, cap, "%s + ada %s", json_string_value(a), ada);
    else snprintf(out, cap, "%s", json_string_value(a));
    return 1;
}

// pass@1 of summary.json's eval_before / eval_after, NaN when absent.
static double summary_pass1(const json_t *sum, const char *key) {
    const json_t *v = json_object_get(json_object_get(sum, key), "pass@1");
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int report_compare_col(const report_data *d, const char *names) {
    for (const char *p = names; *p;) {
        while (*p == ' ') p++;
        size_t l = strcspn(p, " ");
        for (int c = 0; l && c < d->n_cols; c++) {
            const report_column *col = &d->cols[c];
            if (col->n_finite > 0 && col->chart != -2 && strlen(col->norm) == l && strncmp(col->norm, p, l) == 0)
                return c;
        }
        p += l;
    }
    return -1;
}

static double last_value(const report_data *d, int c) {
    if (c < 0) return NAN;
    for (size_t i = d->n; i-- > 0;)
        if (d->cols[c].state[i] == REPORT_FINITE) return d->cols[c].v[i];
    return NAN;
}

// The summary row: eval pass@1 first, final and best (summary.json's
// before and after when metrics.jsonl has no evaluation), the last reward,
// wall-clock seconds from step_s.
static void run_stats(report_compare_run *r, const json_t *sum) {
    const report_data *d = &r->d;
    r->steps = d->x_is_step ? d->x[d->n - 1] : (double)d->n;
    r->eval_first = r->eval_final = r->eval_best = NAN;
    r->eval_first_x = r->eval_final_x = r->eval_best_x = NAN;
    r->eval_col = report_compare_col(d, REPORT_COMPARE_EVAL_KEYS);
    if (r->eval_col >= 0) {
        const report_column *c = &d->cols[r->eval_col];
        for (size_t i = 0; i < d->n; i++) {
            if (c->state[i] != REPORT_FINITE) continue;
            if (isnan(r->eval_first)) r->eval_first = c->v[i], r->eval_first_x = d->x[i];
            if (isnan(r->eval_best) || c->v[i] > r->eval_best) r->eval_best = c->v[i], r->eval_best_x = d->x[i];
            r->eval_final = c->v[i];
            r->eval_final_x = d->x[i];
        }
    } else if (sum) {
        r->eval_first = summary_pass1(sum, "eval_before");
        r->eval_final = summary_pass1(sum, "eval_after");
        if (isfinite(r->eval_final)) r->eval_final_x = r->steps;
        r->eval_best = fmax(r->eval_first, r->eval_final);  // fmax ignores a NaN
        r->eval_best_x = r->eval_best == r->eval_final ? r->eval_final_x : NAN;
    }
    r->reward_final = last_value(d, report_compare_col(d, REPORT_COMPARE_REWARD_KEYS));
    int tc = report_compare_col(d, REPORT_COMPARE_TIME_KEYS);
    double sum_s = 0;
    r->timed = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (tc >= 0 && d->cols[tc].state[i] == REPORT_FINITE) {
            sum_s += d->cols[tc].v[i];
            r->timed++;
        }
        r->cum_s[i] = tc >= 0 ? sum_s : NAN;
    }
    r->wall_s = r->timed ? sum_s : NAN;
    r->mean_step_s = r->timed ? sum_s / (double)r->timed : NAN;
    int jc = report_compare_col(d, "trajectories");
    r->trained_per_step = NAN;
    if (jc >= 0) {
        double s = 0;
        for (size_t i = 0; i < d->n; i++)
            if (d->cols[jc].state[i] == REPORT_FINITE) s += d->cols[jc].v[i];
        r->trained_per_step = s / (double)d->cols[jc].n_finite;
    }
}

// Reads one run. RLC_OK also when the run cannot be read (r->error says
// why and *why_code is RLC_ERR_IO or RLC_ERR_FORMAT); only running out of
// memory is an error.
static rlc_status run_load(report_compare_run *r, rlc_status *why_code) {
    char path[4096];
    *why_code = RLC_ERR_IO;
    if (!rlc_is_dir(r->dir)) {
        snprintf(r->error, sizeof r->error, "%.500s: no such run directory", r->dir);
        return RLC_OK;
    }
    if (rlc_path_join(path, sizeof path, r->dir, "metrics.jsonl") != RLC_OK) {
        snprintf(r->error, sizeof r->error, "%.500s: path too long", r->dir);
        rlc_clear_error();
        return RLC_OK;
    }
    if (!rlc_file_exists(path)) {
        snprintf(r->error, sizeof r->error, "%.500s: not found (has the run written its first step yet?)", path);
        return RLC_OK;
    }
    rlc_status st = report_data_load(path, &r->d);
    if (st == RLC_ERR_NOMEM) return st;
    if (st != RLC_OK) {
        *why_code = st;
        snprintf(r->error, sizeof r->error, "%s", rlc_last_error());
        rlc_clear_error();
        report_data_free(&r->d);
        return RLC_OK;
    }
    r->cum_s = rlc_malloc(r->d.n * sizeof *r->cum_s);
    if (!r->cum_s) return rlc_errorf(RLC_ERR_NOMEM, "out of memory reading %s", r->dir);
    json_t *files[3];
    static const char *names[3] = {"summary.json", "config.json", "experiment.json"};
    for (int k = 0; k < 3; k++) report_load_config(r->dir, names[k], &files[k]);
    for (int k = 0; k < 3 && !r->algo[0]; k++)
        if (files[k]) algo_of(files[k], r->algo, sizeof r->algo);
    run_stats(r, files[0]);
    for (int k = 0; k < 3; k++) json_decref(files[k]);
    r->ok = 1;
    return RLC_OK;
}

double report_compare_time_of(const report_compare_run *r, size_t i) {
    if (i == 0 && r->d.x_is_step && r->d.x[0] <= 1) return 0;
    return r->cum_s[i];
}

// ---- the summary table --------------------------------------------------------------

enum { N_COLS = 11, CELL = 192 };
static const char *const col_names[N_COLS] = {
    "run", "algorithm", "steps", "pass@1 first", "pass@1 final", "change (points)", "best pass@1 (step)",
    "final reward_mean", "wall s", "s/step", "trained/step"};

static void cell_value(char *out, size_t cap, double v) {
    if (isfinite(v)) svg_format_value(out, cap, v);
    else snprintf(out, cap, "-");
}

static void row_cells(const report_compare_run *r, char cells[N_COLS][CELL]) {
    snprintf(cells[0], CELL, "%s", r->label);
    snprintf(cells[1], CELL, "%s", r->algo[0] ? r->algo : r->ok ? "" : "not read");
    for (int k = 2; k < N_COLS; k++) snprintf(cells[k], CELL, "-");
    if (!r->ok) return;
    cell_value(cells[2], CELL, r->steps);
    cell_value(cells[3], CELL, r->eval_first);
    cell_value(cells[4], CELL, r->eval_final);
    if (isfinite(r->eval_first) && isfinite(r->eval_final))
        snprintf(cells[5], CELL, "%+.1f", 100 * (r->eval_final - r->eval_first));
    if (isfinite(r->eval_best)) {
        char v[32], s[32];
        svg_format_value(v, sizeof v, r->eval_best);
        svg_format_value(s, sizeof s, r->eval_best_x);
        if (isfinite(r->eval_best_x)) snprintf(cells[6], CELL, "%s (%s)", v, s);
        else snprintf(cells[6], CELL, "%s", v);
    }
    cell_value(cells[7], CELL, r->reward_final);
    if (isfinite(r->wall_s)) snprintf(cells[8], CELL, "%.1f", r->wall_s);
    if (isfinite(r->mean_step_s)) snprintf(cells[9], CELL, "%.2f", r->mean_step_s);
    cell_value(cells[10], CELL, r->trained_per_step);
}

void report_compare_table_html(svg_buf *b, const report_compare_run *runs, int n) {
    svg_buf_puts(b, "<table class=\"summary\">\n<tr>");
    for (int k = 0; k < N_COLS; k++) svg_buf_printf(b, "<th>%s</th>", col_names[k]);
    svg_buf_puts(b, "</tr>\n");
    for (int i = 0; i < n; i++) {
        char cells[N_COLS][CELL];
        row_cells(&runs[i], cells);
        svg_buf_printf(b, "<tr><td title=\"");
        svg_buf_escape(b, runs[i].dir);
        svg_buf_printf(b, "\"><span class=\"sw\" style=\"background:%s\"></span>", runs[i].ok ? svg_color(i) : "#bbb");
        svg_buf_escape(b, cells[0]);
        svg_buf_puts(b, "</td><td>");
        svg_buf_escape(b, cells[1]);
        svg_buf_puts(b, "</td>");
        for (int k = 2; k < N_COLS; k++) {
            svg_buf_puts(b, "<td class=\"n\">");
            svg_buf_escape(b, cells[k]);
            svg_buf_puts(b, "</td>");
        }
        svg_buf_puts(b, "</tr>\n");
    }
    svg_buf_puts(b, "</table>\n");
}

// A markdown cell: '|' and line breaks would end it.
static void md_cell(svg_buf *b, const char *s) {
    svg_buf_puts(b, " ");
    for (; *s; s++) svg_buf_printf(b, "%c", *s == '|' ? '/' : *s == '\n' ? ' ' : *s);
    svg_buf_puts(b, " |");
}

void report_compare_table_md(svg_buf *b, const report_compare_run *runs, int n) {
    svg_buf_puts(b, "|");
    for (int k = 0; k < N_COLS; k++) md_cell(b, col_names[k]);
    svg_buf_puts(b, "\n|");
    for (int k = 0; k < N_COLS; k++) svg_buf_puts(b, k < 2 ? " --- |" : " ---: |");
    svg_buf_puts(b, "\n");
    for (int i = 0; i < n; i++) {
        char cells[N_COLS][CELL];
        row_cells(&runs[i], cells);
        svg_buf_puts(b, "|");
        for (int k = 0; k < N_COLS; k++) md_cell(b, cells[k]);
        svg_buf_puts(b, "\n");
    }
    for (int i = 0; i < n; i++)
        if (!runs[i].ok) svg_buf_printf(b, "\nnot read: %s: %s\n", runs[i].label, runs[i].error);
}

// ---- the entry point ---------------------------------------------------------------

static void runs_free(report_compare_run *runs, int n) {
    for (int i = 0; runs && i < n; i++) {
        report_data_free(&runs[i].d);
        rlc_free(runs[i].cum_s);
    }
    rlc_free(runs);
}

// Folder names, with the parent's when two runs would otherwise share one.
static void label_runs(report_compare_run *runs, int n) {
    for (int i = 0; i < n; i++) folder_label(runs[i].dir, 0, runs[i].label, sizeof runs[i].label);
    unsigned char twin[REPORT_COMPARE_MAX_RUNS] = {0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) twin[i] |= j != i && strcmp(runs[i].label, runs[j].label) == 0;
    for (int i = 0; i < n; i++)
        if (twin[i]) folder_label(runs[i].dir, 1, runs[i].label, sizeof runs[i].label);
}

rlc_status report_compare_write(const char *const *run_dirs, int n_runs, const char *out_path,
                                report_compare_summary *summary, char **table_md) {
    if (table_md) *table_md = NULL;
    if (!run_dirs || n_runs <= 0) return rlc_errorf(RLC_ERR_ARG, "report --compare: no run directory given");
    if (n_runs > REPORT_COMPARE_MAX_RUNS)
        return rlc_errorf(RLC_ERR_ARG, "report --compare: %d runs; at most %d", n_runs, REPORT_COMPARE_MAX_RUNS);
    if (!out_path || !*out_path) return rlc_errorf(RLC_ERR_ARG, "report --compare: no output file given");
    report_compare_run *runs = rlc_calloc((size_t)n_runs, sizeof *runs);
    if (!runs) return rlc_errorf(RLC_ERR_NOMEM, "out of memory comparing runs");
    for (int i = 0; i < n_runs; i++) runs[i].dir = run_dirs[i] ? run_dirs[i] : "";
    label_runs(runs, n_runs);
    rlc_status st = RLC_OK, why_code = RLC_ERR_IO;
    int readable = 0;
    for (int i = 0; i < n_runs && st == RLC_OK; i++) {
        st = run_load(&runs[i], &why_code);
        if (st == RLC_OK && runs[i].ok) readable++;
        else if (st == RLC_OK) RLC_WARN("report --compare: run %s left out: %s", runs[i].label, runs[i].error);
    }
    if (st == RLC_OK && readable == 0) {
        svg_buf why = {0};
        for (int i = 0; i < n_runs; i++) svg_buf_printf(&why, "%s%s: %s", i ? "; " : "", runs[i].label, runs[i].error);
        st = why.failed ? rlc_errorf(RLC_ERR_NOMEM, "out of memory comparing runs")
                        : rlc_errorf(why_code, "no run could be read: %s", why.data);
        svg_buf_free(&why);
    }
    svg_buf page = {0}, md = {0};
    int n_charts = 0;
    if (st == RLC_OK) st = report_compare_page(&page, runs, n_runs, &n_charts);
    if (st == RLC_OK && table_md) {
        report_compare_table_md(&md, runs, n_runs);
        if (md.failed) st = rlc_errorf(RLC_ERR_NOMEM, "out of memory writing the table");
    }
    if (st == RLC_OK) st = report_write_atomic(out_path, &page);
    if (st == RLC_OK && summary)
        *summary = (report_compare_summary){.runs = n_runs, .readable = readable, .charts = n_charts,
                                            .bytes = (long)page.len};
    if (st == RLC_OK && table_md) {
        *table_md = md.data;
        md.data = NULL;
    }
    svg_buf_free(&md);
    svg_buf_free(&page);
    runs_free(runs, n_runs);
    return st;
}
