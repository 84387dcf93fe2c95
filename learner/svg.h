// svg.h: a small writer of self-contained SVG charts for the training report
// (learner/report.h): line charts over a shared x axis (lines, markers, a
// mean +- std band, stacked areas), and bar charts. Axes get nice round
// ticks; long series are thinned by min/max per pixel column so that 10,000
// steps stay a few kilobytes; hover tooltips are SVG <title> elements. The
// output is inline SVG meant for an HTML page: no scripts, fonts or external
// references (the only URL is the SVG namespace).
#ifndef RLC_LEARNER_SVG_H
#define RLC_LEARNER_SVG_H

#include <stddef.h>  // size_t

#include "core/status.h"  // rlc_status

// A growing NUL-terminated string. An allocation failure sets `failed`; later
// appends are ignored, so a writer checks `failed` once at the end. Zero-
// initialize; svg_buf_free releases `data`.
typedef struct svg_buf {
    char *data;
    size_t len, cap;
    int failed;
} svg_buf;

void svg_buf_printf(svg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void svg_buf_puts(svg_buf *b, const char *s);
// Appends s with & < > " ' as character references (safe in text and in
// quoted attributes).
void svg_buf_escape(svg_buf *b, const char *s);
void svg_buf_free(svg_buf *b);

// A number for people: integers as integers, others with 4 significant
// digits ("0.5321", "12.35", "3e-6"); non-finite values as "NaN" or "inf".
void svg_format_value(char *buf, size_t cap, double v);

// Up to 10 significant digits, for settings ("1e-5", "0.28").
void svg_format_precise(char *buf, size_t cap, double v);

// Nice round ticks covering [lo, hi] with about `target` intervals: the
// step is 1, 2 or 5 times a power of ten; *t_lo <= lo and *t_hi >= hi are
// multiples of it. lo == hi is widened first.
void svg_nice_ticks(double lo, double hi, int target, double *t_lo, double *t_hi, double *step);

// The chart palette (10 colors that stay apart for people with the common
// color-vision deficiencies as well as they can); index modulo 10.
const char *svg_color(int index);

typedef enum {
    SVG_SERIES_LINE = 0,  // a polyline through the finite values (gaps are bridged)
    SVG_SERIES_BAND,      // a filled area between y (lower) and y_hi (upper)
} svg_series_kind;

// One series over the chart's x. Arrays are borrowed and have chart.n entries.
typedef struct svg_series {
    const char *name;                  // legend label
    svg_series_kind kind;
    const double *y;                   // NaN: no value at that x
    const double *y_hi;                // SVG_SERIES_BAND: the upper edge
    const unsigned char *nonfinite;    // NULL, or 1 where the value was NaN/null (marked on the axis)
    int color;                         // palette index
    int dashed;
    int markers;                       // a dot with its own tooltip at every finite value
    int in_legend;
} svg_series;

// Writes the tooltip text of x index i (plain text; the writer escapes it).
typedef void (*svg_tooltip_fn)(void *ud, size_t i, svg_buf *text);

typedef struct svg_chart {
    const char *title;
    const char *x_label;         // e.g. "step"
    const double *x;             // (n) strictly increasing
    size_t n;
    double x_min, x_max;         // the axis range (shared by all the charts of a report)
    const svg_series *series;
    int n_series;
    int stacked;                 // line series are stacked areas from 0 (NaN counts as 0)
    int unit_interval;           // y axis [0, 1] when every value fits in it
    svg_tooltip_fn tooltip;      // NULL: "x_label x" and each series' value
    void *tooltip_ud;
} svg_chart;

// Appends one <svg> element. RLC_ERR_NOMEM when an allocation failed
// (b->failed is then set too); RLC_ERR_ARG for a chart with no points.
rlc_status svg_line_chart(svg_buf *b, const svg_chart *c);

// Appends one <svg> bar chart of n labelled values (e.g. a histogram); each
// bar has a tooltip "label: value (share%)".
rlc_status svg_bar_chart(svg_buf *b, const char *title, const char *x_label, const char *const *labels,
                         const double *values, int n, int color);

#endif
