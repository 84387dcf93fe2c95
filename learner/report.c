// report.c: report_write (report.h): loads the metrics (report_data.c), lays
// them out in charts (report_layout.c), then writes one HTML page: a header
// with the run, its settings and final values, then the SVG charts (svg.h),
// group by group, each with a caption of min, max and last.
#include "report.h"

#include <math.h>    // isfinite, NAN
#include <stdio.h>   // FILE, fopen, fwrite, rename, remove, snprintf
#include <string.h>  // strcmp, strncmp, strlen, strstr

#include "core/core.h"  // rlc_json_load_file, rlc_path_join, rlc_is_dir, rlc_malloc, RLC_VERSION
#include "report_internal.h"
#include "svg.h"

#define MAX_CARDS 18
#define MAX_SETTINGS 300     // rows of a settings table

// ---- HTML -----------------------------------------------------------------------

const char *const report_page_css =
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif;color:#222;"
    "background:#f7f7f5;margin:0 auto;max-width:1320px;padding:20px 28px 40px}\n"
    "h1{font-size:24px;margin:0 0 2px}h2{font-size:18px;margin:30px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid #ddd}\n"
    "code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}\n"
    ".sub{color:#555;margin:0 0 12px}\n"
    ".notice{background:#fff4d6;border:1px solid #e8c96a;border-radius:6px;padding:8px 12px;margin:10px 0}\n"
    ".notice ul{margin:4px 0 0;padding-left:20px}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px}\n"
    ".card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px}\n"
    ".card .k{font-size:12px;color:#555;overflow-wrap:anywhere}.card .v{font-size:22px;font-weight:600}"
    ".card .s{font-size:11px;color:#777}\n"
    "nav{margin:22px 0 12px;font-size:13px}nav a{margin-right:14px;color:#2b5d8a}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(480px,100%),1fr));gap:16px}\n"
    "figure{margin:0;background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 10px}\n"
    "svg.chart{width:100%;height:auto;display:block}.hov:hover{fill-opacity:.07}\n"
    "figcaption{font-size:12px;color:#444;margin-top:2px}figcaption div{margin:1px 0}\n"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}\n"
    ".bad{color:#c62828}\n"
    "table{border-collapse:collapse;font-size:13px;background:#fff;margin:6px 0}"
    "td,th{border:1px solid #e0e0e0;padding:3px 10px;text-align:left;vertical-align:top}"
    "th{background:#f0f0ee;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "details{margin:10px 0}summary{cursor:pointer;font-weight:600}\n"
    "footer{margin-top:36px;color:#777;font-size:12px}\n";

static void put_value(svg_buf *b, double v) {
    char s[32];
    svg_format_value(s, sizeof s, v);
    svg_buf_puts(b, s);
}

// Last, min and max of a column, with their steps; 0 when it has no value.
typedef struct col_stats {
    double last, min, max, first;
    size_t i_last, i_min, i_max;
} col_stats;

static int stats_of(const report_data *d, const report_column *c, col_stats *s) {
    int any = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (c->state[i] != REPORT_FINITE) continue;
        double v = c->v[i];
        if (!any) {
            *s = (col_stats){v, v, v, v, i, i, i};
            any = 1;
        }
        if (v < s->min) s->min = v, s->i_min = i;
        if (v > s->max) s->max = v, s->i_max = i;
        s->last = v;
        s->i_last = i;
    }
    return any;
}

typedef struct page {
    svg_buf b;
    const report_data *d;
    const char *x_label;
} page;

static void put_at(page *P, double v, size_t i) {
    put_value(&P->b, v);
    svg_buf_printf(&P->b, " <span style=\"color:#888\">(%s ", P->x_label);
    put_value(&P->b, P->d->x[i]);
    svg_buf_puts(&P->b, ")</span>");
}

// One caption line per column: last, min and max with their steps, how
// often it was present, and its NaN/null count.
static void caption_line(page *P, const report_column *c, int color) {
    col_stats s;
    if (!stats_of(P->d, c, &s)) return;
    svg_buf *b = &P->b;
    svg_buf_printf(b, "<div>");
    if (color >= 0) svg_buf_printf(b, "<span class=\"sw\" style=\"background:%s\"></span>", svg_color(color));
    svg_buf_puts(b, "<code>");
    svg_buf_escape(b, c->name);
    if (s.min == s.max && c->n_finite > 1) {
        svg_buf_puts(b, "</code> constant ");
        put_value(b, s.last);
    } else {
        svg_buf_puts(b, "</code> last ");
        put_at(P, s.last, s.i_last);
        svg_buf_puts(b, " \xC2\xB7 min ");
        put_at(P, s.min, s.i_min);
        svg_buf_puts(b, " \xC2\xB7 max ");
        put_at(P, s.max, s.i_max);
    }
    if ((size_t)c->n_finite + (size_t)c->n_nonfinite < P->d->n)
        svg_buf_printf(b, " \xC2\xB7 on %ld of %zu steps", c->n_finite + c->n_nonfinite, P->d->n);
    if (c->n_nonfinite) svg_buf_printf(b, " \xC2\xB7 <span class=\"bad\">%ld NaN/null</span>", c->n_nonfinite);
    svg_buf_puts(b, "</div>");
}

typedef struct tip_ctx {
    const report_data *d;
    const report_chart *ch;
    const char *x_label;
    int stacked;
} tip_ctx;

static void chart_tooltip(void *ud, size_t i, svg_buf *t) {
    const tip_ctx *tc = ud;
    const report_data *d = tc->d;
    char v[32];
    svg_format_value(v, sizeof v, d->x[i]);
    svg_buf_printf(t, "%s %s", tc->x_label, v);
    double total = 0;
    for (int k = 0; k < tc->ch->n_cols; k++) {
        const report_column *c = &d->cols[tc->ch->cols[k]];
        if (c->state[i] == REPORT_ABSENT) continue;
        svg_format_value(v, sizeof v, c->v[i]);
        svg_buf_printf(t, "\n%s: %s", c->name, c->state[i] == REPORT_FINITE ? v : "NaN/null");
        if (c->state[i] == REPORT_FINITE) total += c->v[i];
    }
    if (tc->stacked) {
        svg_format_value(v, sizeof v, total);
        svg_buf_printf(t, "\ntotal: %s", v);
    }
}

static rlc_status write_line_chart(page *P, const report_chart *ch, const char *id, double x_min, double x_max) {
    const report_data *d = P->d;
    size_t n = d->n;
    svg_series ser[2 * REPORT_MAX_SERIES];
    int ns = 0;
    // scratch: per column a NaN flag row and, for bands, the two edges
    unsigned char *bad = rlc_calloc((size_t)ch->n_cols * n, 1);
    double *edges = rlc_malloc((size_t)ch->n_cols * 2 * n * sizeof *edges);
    if (!bad || !edges) {
        rlc_free(bad);
        rlc_free(edges);
        return rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing %s", ch->title);
    }
    int color_of[REPORT_MAX_SERIES];
    for (int k = 0; k < ch->n_cols; k++) color_of[k] = k;
    for (int k = 0; k < ch->n_cols; k++) {
        int c = ch->cols[k], mean = ch->kind == LAYOUT_LINES ? report_band_mean(d, ch, c) : -1;
        const report_column *col = &d->cols[c];
        unsigned char *b = bad + (size_t)k * n;
        for (size_t i = 0; i < n; i++) b[i] = col->state[i] == REPORT_NONFINITE;
        if (mean >= 0) {  // a band around the mean, in the mean's color
            int mk = 0;
            while (ch->cols[mk] != mean) mk++;
            color_of[k] = color_of[mk];
            double *lo = edges + (size_t)k * 2 * n, *hi = lo + n;
            for (size_t i = 0; i < n; i++) {
                lo[i] = d->cols[mean].v[i] - col->v[i];
                hi[i] = d->cols[mean].v[i] + col->v[i];
            }
            ser[ns++] = (svg_series){.name = col->name, .kind = SVG_SERIES_BAND, .y = lo, .y_hi = hi,
                                     .nonfinite = b, .color = color_of[k]};
            continue;
        }
        int sparse = col->n_finite <= 60 || (size_t)col->n_finite * 2 < n;
        ser[ns++] = (svg_series){.name = col->name, .kind = SVG_SERIES_LINE, .y = col->v, .nonfinite = b,
                                 .color = color_of[k], .dashed = report_is_dashed(d, ch, c), .markers = sparse,
                                 .in_legend = 1};
    }
    tip_ctx tc = {d, ch, P->x_label, ch->kind == LAYOUT_STACKED};
    svg_chart sc = {.title = ch->title, .x_label = P->x_label, .x = d->x, .n = n, .x_min = x_min, .x_max = x_max,
                    .series = ser, .n_series = ns, .stacked = ch->kind == LAYOUT_STACKED,
                    .unit_interval = ch->unit, .tooltip = chart_tooltip, .tooltip_ud = &tc};
    svg_buf *B = &P->b;
    svg_buf_printf(B, "<figure%s data-keys=\"", id);
    for (int k = 0; k < ch->n_cols; k++) {
        if (k) svg_buf_puts(B, " ");
        svg_buf_escape(B, d->cols[ch->cols[k]].name);
    }
    svg_buf_puts(B, "\">\n");
    rlc_status st = svg_line_chart(B, &sc);
    svg_buf_puts(B, "<figcaption>");
    for (int k = 0; k < ch->n_cols; k++) caption_line(P, &d->cols[ch->cols[k]], ch->n_cols > 1 ? color_of[k] : -1);
    svg_buf_puts(B, "</figcaption></figure>\n");
    rlc_free(bad);
    rlc_free(edges);
    return st;
}

static rlc_status write_hist_chart(page *P, const report_chart *ch, const char *id) {
    const report_hist *h = &P->d->hists[ch->hist];
    svg_buf *B = &P->b;
    svg_buf_printf(B, "<figure%s data-keys=\"", id);
    svg_buf_escape(B, h->name);
    svg_buf_puts(B, "\">\n");
    rlc_status st = svg_bar_chart(B, ch->title, h->name, (const char *const *)h->labels, h->totals, h->n_bins, 0);
    double total = 0;
    for (int b = 0; b < h->n_bins; b++) total += h->totals[b];
    svg_buf_puts(B, "<figcaption><div>");
    for (int b = 0; b < h->n_bins && b < 16; b++) {
        svg_buf_printf(B, "%s<code>", b ? " \xC2\xB7 " : "");
        svg_buf_escape(B, h->labels[b]);
        svg_buf_puts(B, "</code>: ");
        put_value(B, h->totals[b]);
        svg_buf_printf(B, " (%.1f%%)", total > 0 ? 100 * h->totals[b] / total : 0);
    }
    svg_buf_puts(B, "</div></figcaption></figure>\n");
    return st;
}

// ---- header: settings, notices, final values -----------------------------------

static void settings_rows(svg_buf *b, const json_t *obj, const char *prefix, int *rows, int depth) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char name[256];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_is_object(v) && json_object_size(v) > 0 && depth < 6) {
            settings_rows(b, v, name, rows, depth + 1);
            continue;
        }
        if (++*rows > MAX_SETTINGS) continue;
        svg_buf_puts(b, "<tr><td><code>");
        svg_buf_escape(b, name);
        svg_buf_puts(b, "</code></td><td>");
        if (json_is_string(v)) {
            svg_buf_escape(b, json_string_value(v));
        } else if (json_is_integer(v)) {
            svg_buf_printf(b, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            char num[40];
            svg_format_precise(num, sizeof num, json_real_value(v));
            svg_buf_puts(b, num);
        } else {
            char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
            if (s) {
                if (strlen(s) > 200) strcpy(s + 197, "...");
                svg_buf_escape(b, s);
                rlc_free(s);
            }
        }
        svg_buf_puts(b, "</td></tr>\n");
    }
}

static void settings_table(svg_buf *b, const char *file, const json_t *cfg) {
    int rows = 0;
    svg_buf body = {0};
    settings_rows(&body, cfg, "", &rows, 0);
    svg_buf_printf(b, "<details%s><summary>Settings from <code>%s</code> (%d)</summary>\n<table>\n"
                      "<tr><th>key</th><th>value</th></tr>\n", rows <= 40 ? " open" : "", file, rows);
    svg_buf_puts(b, body.data ? body.data : "");
    if (rows > MAX_SETTINGS) svg_buf_printf(b, "<tr><td colspan=\"2\">... and %d more</td></tr>\n", rows - MAX_SETTINGS);
    svg_buf_puts(b, "</table></details>\n");
    if (body.failed) b->failed = 1;
    svg_buf_free(&body);
}

const char *report_config_name(const json_t *cfg) {
    static const char *keys[] = {"name", "experiment", "experiment_name", "exp_name", "run_name"};
    for (int k = 0; k < 5; k++) {
        const json_t *v = json_object_get(cfg, keys[k]);
        if (json_is_string(v) && json_string_length(v) > 0) return json_string_value(v);
    }
    return NULL;
}

static void notices(page *P) {
    const report_data *d = P->d;
    svg_buf *b = &P->b;
    long bad = d->skipped - d->incomplete_last;
    if (bad > 0) {
        svg_buf_printf(b, "<div class=\"notice\"><b>%ld line%s of metrics.jsonl skipped</b> (not JSON objects):<ul>\n",
                       bad, bad == 1 ? "" : "s");
        for (int k = 0; k < d->n_skips; k++) {
            svg_buf_printf(b, "<li>line %ld: ", d->skips[k].line);
            svg_buf_escape(b, d->skips[k].reason);
            svg_buf_puts(b, "</li>\n");
        }
        if (bad > d->n_skips) svg_buf_printf(b, "<li>and %ld more</li>\n", bad - d->n_skips);
        svg_buf_puts(b, "</ul></div>\n");
    }
    if (d->incomplete_last)
        svg_buf_puts(b, "<div class=\"notice\">The last line of metrics.jsonl is incomplete (the run is probably "
                        "still being written); it was skipped.</div>\n");
    if (d->duplicates)
        svg_buf_printf(b, "<div class=\"notice\">%ld line%s repeated an earlier step (a resumed run?); the last line "
                          "of each step is shown.</div>\n", d->duplicates, d->duplicates == 1 ? "" : "s");
    if (!d->x_is_step)
        svg_buf_puts(b, "<div class=\"notice\">Some lines have no numeric <code>step</code>: the x axis is the "
                        "line's number among the metrics lines.</div>\n");
}

static void cards(page *P, const report_layout *L) {
    const report_data *d = P->d;
    svg_buf *b = &P->b;
    int shown = 0;
    for (int s = 0; s < report_n_sections && shown < MAX_CARDS; s++) {
        if (!report_sections[s].cards) continue;
        for (int k = 0; k < L->n && shown < MAX_CARDS; k++) {
            const report_chart *ch = &L->charts[k];
            if (ch->section != s || ch->hist >= 0) continue;
            for (int j = 0; j < ch->n_cols && shown < MAX_CARDS; j++) {
                int c = ch->cols[j];
                col_stats st;
                if (report_band_mean(d, ch, c) >= 0 || report_is_dashed(d, ch, c) || !stats_of(d, &d->cols[c], &st)) continue;
                if (!shown++) svg_buf_puts(b, "<h2>Final values</h2>\n<div class=\"cards\">\n");
                svg_buf_puts(b, "<div class=\"card\"><div class=\"k\">");
                svg_buf_escape(b, d->cols[c].name);
                svg_buf_puts(b, "</div><div class=\"v\">");
                put_value(b, st.last);
                svg_buf_printf(b, "</div><div class=\"s\">%s ", P->x_label);
                put_value(b, d->x[st.i_last]);
                svg_buf_puts(b, " \xC2\xB7 first ");
                put_value(b, st.first);
                svg_buf_puts(b, "</div></div>\n");
            }
        }
    }
    if (shown) svg_buf_puts(b, "</div>\n");
}

static void simple_tables(page *P, const report_layout *L) {
    const report_data *d = P->d;
    svg_buf *b = &P->b;
    if (L->n_constant) {
        svg_buf_puts(b, "<h2 id=\"sec-constant\">Constant over the run</h2>\n<table><tr><th>key</th><th>value</th></tr>\n");
        for (int k = 0; k < L->n_constant; k++) {
            const report_column *c = &d->cols[L->constant[k]];
            col_stats st = {0};
            stats_of(d, c, &st);
            svg_buf_puts(b, "<tr><td><code>");
            svg_buf_escape(b, c->name);
            svg_buf_puts(b, "</code></td><td class=\"n\">");
            put_value(b, st.last);
            svg_buf_puts(b, "</td></tr>\n");
        }
        svg_buf_puts(b, "</table>\n");
    }
    if (L->n_empty) {
        svg_buf_puts(b, "<p>Keys with no numeric value on any step: ");
        for (int k = 0; k < L->n_empty; k++) {
            svg_buf_puts(b, k ? ", <code>" : "<code>");
            svg_buf_escape(b, d->cols[L->empty[k]].name);
            svg_buf_puts(b, "</code>");
        }
        svg_buf_puts(b, ".</p>\n");
    }
}

// ---- the page ---------------------------------------------------------------------

static rlc_status write_page(page *P, const char *run_dir, json_t *const cfg[2], const char *const cfg_names[2],
                             const report_layout *L, int *n_charts) {
    const report_data *d = P->d;
    svg_buf *b = &P->b;
    const char *name = NULL;
    for (int k = 0; k < 2 && !name; k++)
        if (cfg[k]) name = report_config_name(cfg[k]);
    char base[256];
    if (!name) {  // the run folder's own name
        size_t l = strlen(run_dir);
        while (l > 1 && run_dir[l - 1] == '/') l--;
        size_t s = l;
        while (s > 0 && run_dir[s - 1] != '/') s--;
        snprintf(base, sizeof base, "%.*s", (int)(l - s), run_dir + s);
        name = base;
    }
    svg_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    svg_buf_escape(b, name);
    svg_buf_printf(b, " \xE2\x80\x94 rlc report</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", report_page_css);
    svg_buf_escape(b, name);
    svg_buf_puts(b, "</h1>\n<p class=\"sub\">run <code>");
    svg_buf_escape(b, run_dir);
    svg_buf_printf(b, "</code> \xC2\xB7 %zu step%s", d->n, d->n == 1 ? "" : "s");
    if (d->x_is_step) {
        svg_buf_puts(b, " (step ");
        put_value(b, d->x[0]);
        svg_buf_puts(b, " to ");
        put_value(b, d->x[d->n - 1]);
        svg_buf_puts(b, ")");
    }
    svg_buf_printf(b, " \xC2\xB7 %d metric%s \xC2\xB7 metrics.jsonl: %ld line%s</p>\n", d->n_cols, d->n_cols == 1 ? "" : "s",
                   d->lines, d->lines == 1 ? "" : "s");
    notices(P);
    for (int k = 0; k < 2; k++)
        if (cfg[k]) settings_table(b, cfg_names[k], cfg[k]);
    cards(P, L);
    svg_buf_puts(b, "</header>\n<nav>");
    for (int s = 0; s < report_n_sections; s++) {
        int any = 0;
        for (int k = 0; k < L->n; k++) any |= L->charts[k].section == s;
        if (any) svg_buf_printf(b, "<a href=\"#sec-%s\">%s</a>", report_sections[s].id, report_sections[s].heading);
    }
    if (L->n_constant) svg_buf_puts(b, "<a href=\"#sec-constant\">Constant</a>");
    svg_buf_puts(b, "</nav>\n");
    double x_min = d->x[0], x_max = d->x[d->n - 1];
    *n_charts = 0;
    svg_buf_puts(b, "<main class=\"grid\">\n");
    for (int s = 0; s < report_n_sections; s++) {
        int first = 1;
        for (int k = 0; k < L->n; k++) {
            const report_chart *ch = &L->charts[k];
            if (ch->section != s) continue;
            char id[64] = "";
            if (first) snprintf(id, sizeof id, " id=\"sec-%s\"", report_sections[s].id);
            first = 0;
            RLC_TRY(ch->hist < 0 ? write_line_chart(P, ch, id, x_min, x_max) : write_hist_chart(P, ch, id));
            ++*n_charts;
        }
    }
    svg_buf_puts(b, "</main>\n");
    simple_tables(P, L);
    svg_buf_printf(b, "<footer>Written by <code>rlc report</code> (rlc %s) from <code>metrics.jsonl</code>. Hover over a "
                      "chart for the values at a step; red marks under a chart are NaN or null values.</footer>\n"
                      "</body>\n</html>\n", RLC_VERSION);
    return b->failed ? rlc_errorf(RLC_ERR_NOMEM, "out of memory writing the report") : RLC_OK;
}

rlc_status report_write_atomic(const char *path, const svg_buf *b) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return rlc_errorf(RLC_ERR_ARG, "report path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return rlc_errorf(RLC_ERR_IO, "%s: cannot create", tmp);
    size_t w = fwrite(b->data, 1, b->len, f);
    int bad = w != b->len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return rlc_errorf(RLC_ERR_IO, "%s: cannot write", path);
    }
    return RLC_OK;
}

void report_load_config(const char *run_dir, const char *file, json_t **out) {
    char path[4096];
    *out = NULL;
    if (rlc_path_join(path, sizeof path, run_dir, file) != RLC_OK || !rlc_file_exists(path)) return;
    json_t *j;
    if (rlc_json_load_file(path, &j) != RLC_OK) {
        RLC_WARN("%s: not shown in the report: %s", path, rlc_last_error());
        rlc_clear_error();
        return;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return;
    }
    *out = j;
}

rlc_status report_write(const char *run_dir, const char *out_path, report_summary *summary) {
    if (!run_dir || !*run_dir) return rlc_errorf(RLC_ERR_ARG, "report: no run directory given");
    if (!rlc_is_dir(run_dir)) return rlc_errorf(RLC_ERR_IO, "%s: no such run directory", run_dir);
    char metrics[4096], out_buf[4096];
    RLC_TRY(rlc_path_join(metrics, sizeof metrics, run_dir, "metrics.jsonl"));
    if (!rlc_file_exists(metrics))
        return rlc_errorf(RLC_ERR_IO, "%s: not found (has the run written its first step yet?)", metrics);
    if (!out_path) {
        RLC_TRY(rlc_path_join(out_buf, sizeof out_buf, run_dir, "report.html"));
        out_path = out_buf;
    }
    report_data d;
    report_layout L = {0};
    page P = {.d = &d};
    json_t *cfg[2] = {NULL, NULL};
    const char *cfg_names[2] = {"config.json", "experiment.json"};
    int n_charts = 0;
    rlc_status st = report_data_load(metrics, &d);
    if (st == RLC_OK) st = report_plan(&d, &L);
    if (st == RLC_OK) {
        P.x_label = d.x_is_step ? "step" : "line";
        for (int k = 0; k < 2; k++) report_load_config(run_dir, cfg_names[k], &cfg[k]);
        st = write_page(&P, run_dir, cfg, cfg_names, &L, &n_charts);
    }
    if (st == RLC_OK) st = report_write_atomic(out_path, &P.b);
    if (st == RLC_OK && summary)
        *summary = (report_summary){.records = (long)d.n, .skipped = d.skipped, .duplicates = d.duplicates,
                                    .incomplete_last = d.incomplete_last, .first_step = d.x[0],
                                    .last_step = d.x[d.n - 1], .charts = n_charts, .bytes = (long)P.b.len};
    for (int k = 0; k < 2; k++) json_decref(cfg[k]);
    svg_buf_free(&P.b);
    report_layout_free(&L);
    report_data_free(&d);
    return st;
}
