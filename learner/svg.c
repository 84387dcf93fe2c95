// svg.c: the SVG chart writer of the training report (svg.h): a growing
// string, number formatting, nice ticks, and line and bar charts drawn with
// polylines and polygons in a fixed 560 x 260 viewBox.
#include "svg.h"

#include <math.h>    // floor, ceil, log10, pow, isfinite, fabs
#include <stdarg.h>  // va_list
#include <stdio.h>   // vsnprintf, snprintf
#include <string.h>  // strlen, memcpy

#include "core/alloc.h"  // rlc_realloc, rlc_malloc, rlc_free

#define SVG_W 560
#define SVG_H 260
#define SVG_ML 64      // left margin: y tick labels
#define SVG_MR 16
#define SVG_MB 40      // bottom margin: x tick labels and the x label
#define SVG_HOVER 120  // hover columns (tooltips) per chart at most
#define SVG_MARKERS 400
#define SVG_BAD_MARKS 200

// ---- string buffer ------------------------------------------------------------

static int buf_reserve(svg_buf *b, size_t extra) {
    if (b->failed) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = rlc_realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void svg_buf_printf(svg_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) return;
    if ((size_t)n < sizeof small) {
        memcpy(b->data + b->len, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void svg_buf_puts(svg_buf *b, const char *s) {
    size_t n = strlen(s);
    if (!buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

void svg_buf_escape(svg_buf *b, const char *s) {
    for (const char *p = s; *p;) {
        size_t run = strcspn(p, "&<>\"'");
        if (run && buf_reserve(b, run)) {
            memcpy(b->data + b->len, p, run);
            b->len += run;
            b->data[b->len] = 0;
        }
        p += run;
        if (!*p) break;
        switch (*p++) {
        case '&': svg_buf_puts(b, "&amp;"); break;
        case '<': svg_buf_puts(b, "&lt;"); break;
        case '>': svg_buf_puts(b, "&gt;"); break;
        case '"': svg_buf_puts(b, "&quot;"); break;
        default: svg_buf_puts(b, "&#39;"); break;
        }
    }
}

void svg_buf_free(svg_buf *b) {
    rlc_free(b->data);
    *b = (svg_buf){0};
}

// ---- numbers ------------------------------------------------------------------

// "1e-06" -> "1e-6", "2.5e+07" -> "2.5e7".
static void tidy_exponent(char *s) {
    char *e = strchr(s, 'e');
    if (!e) return;
    char *d = e + 1, *src = e + 1;
    if (*src == '+') src++;
    else if (*src == '-') *d++ = *src++;
    while (*src == '0' && src[1]) src++;
    memmove(d, src, strlen(src) + 1);
}

void svg_format_value(char *buf, size_t cap, double v) {
    if (isnan(v)) snprintf(buf, cap, "NaN");
    else if (isinf(v)) snprintf(buf, cap, v > 0 ? "inf" : "-inf");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 1e4 && fabs(v) < 1e15) snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 1e-3) snprintf(buf, cap, "%.4g", v);
    else snprintf(buf, cap, "%.3g", v);
    tidy_exponent(buf);
}

void svg_format_precise(char *buf, size_t cap, double v) {
    snprintf(buf, cap, "%.10g", v);
    tidy_exponent(buf);
}

static double nice_num(double x, int round) {
    double e = floor(log10(x)), f = x / pow(10, e), nf;
    if (round) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

void svg_nice_ticks(double lo, double hi, int target, double *t_lo, double *t_hi, double *step) {
    if (!(hi > lo)) {
        double pad = lo != 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    if (target < 2) target = 2;
    double s = nice_num(nice_num(hi - lo, 0) / target, 1);
    *step = s;
    *t_lo = floor(lo / s + 1e-9) * s;
    *t_hi = ceil(hi / s - 1e-9) * s;
}

// A tick label: decimals from the step; k/M/G for big numbers; exponents for
// tiny ones.
static void format_tick(char *buf, size_t cap, double v, double step, double mag) {
    if (fabs(v) < step * 1e-6) v = 0;
    if (v == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    if (step < 1e-3 || mag >= 1e15) {
        snprintf(buf, cap, "%.3g", v);
        tidy_exponent(buf);
        return;
    }
    static const char *suffix[] = {"", "k", "M", "G", "T"};
    int k = 0;
    double scale = 1;
    while (mag >= 1e4 * scale && k < 4) {
        scale *= 1e3;
        k++;
    }
    double s = step / scale;
    int dec = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
    snprintf(buf, cap, "%.*f%s", dec, v / scale, suffix[k]);
}

const char *svg_color(int index) {
    static const char *palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                    "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"};
    return palette[(index % 10 + 10) % 10];
}

// ---- frame ----------------------------------------------------------------------

typedef struct frame {
    double x0, x1, y0, y1;      // data ranges
    double px0, px1, py0, py1;  // plot box in pixels (py0 top)
} frame;

static double fx(const frame *f, double x) { return f->px0 + (x - f->x0) / (f->x1 - f->x0) * (f->px1 - f->px0); }
static double fy(const frame *f, double y) {
    double py = f->py1 - (y - f->y0) / (f->y1 - f->y0) * (f->py1 - f->py0);
    return py < f->py0 - 2 ? f->py0 - 2 : py > f->py1 + 2 ? f->py1 + 2 : py;  // values off the axis stay near it
}

// The <svg> open tag, the title and the legend; returns the plot's top.
static double open_chart(svg_buf *b, const char *title, const svg_series *s, int n) {
    svg_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" class=\"chart\" "
                      "font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"", SVG_W, SVG_H);
    svg_buf_escape(b, title);
    svg_buf_puts(b, "\">\n<text x=\"8\" y=\"17\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">");
    svg_buf_escape(b, title);
    svg_buf_puts(b, "</text>\n");
    int shown = 0;
    for (int i = 0; i < n; i++) shown += s[i].in_legend;
    if (shown < 2) return 28;
    double x = SVG_ML, y = 33;
    for (int i = 0; i < n; i++) {
        if (!s[i].in_legend) continue;
        double w = 22 + 6.8 * (double)strlen(s[i].name) + 14;
        if (x + w > SVG_W - SVG_MR && x > SVG_ML) {
            x = SVG_ML;
            y += 14;
        }
        svg_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"3\"%s/>",
                       x, y - 4, x + 16, y - 4, svg_color(s[i].color), s[i].dashed ? " stroke-dasharray=\"4 3\"" : "");
        svg_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#444\">", x + 20, y);
        svg_buf_escape(b, s[i].name);
        svg_buf_puts(b, "</text>\n");
        x += w;
    }
    return y + 10;
}

// Horizontal grid lines with y tick labels.
static void y_axis(svg_buf *b, const frame *f, double step) {
    double mag = fmax(fabs(f->y0), fabs(f->y1));
    for (double v = f->y0; v <= f->y1 + step * 1e-6; v += step) {
        char lab[32];
        format_tick(lab, sizeof lab, v, step, mag);
        double py = fy(f, v);
        svg_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                          "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>\n",
                       f->px0, py, f->px1, py, f->px0 - 6, py + 3.5, lab);
    }
}

// The x axis line, ticks inside [x0, x1] and the x label.
static void x_axis(svg_buf *b, const frame *f, const char *x_label, int integer_x) {
    double lo, hi, step;
    svg_nice_ticks(f->x0, f->x1, 6, &lo, &hi, &step);
    if (integer_x && step < 1) step = 1;
    double mag = fmax(fabs(f->x0), fabs(f->x1));
    svg_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#888\"/>\n", f->px0, f->py1,
                   f->px1, f->py1);
    for (double v = ceil(f->x0 / step - 1e-9) * step; v <= f->x1 + step * 1e-9; v += step) {
        char lab[32];
        format_tick(lab, sizeof lab, v, step, mag);
        double px = fx(f, v);
        svg_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
                       px, f->py1, px, f->py1 + 4, px, f->py1 + 16, lab);
    }
    svg_buf_printf(b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"end\" fill=\"#777\">", f->px1, SVG_H - 6);
    svg_buf_escape(b, x_label);
    svg_buf_puts(b, "</text>\n");
}

// Scratch space for drawing one series of n points.
typedef struct scratch {
    size_t *idx;     // (n) indices of the points to draw
    double *mx, *my; // (n) bucket means
} scratch;

// Dense: more finite points than 3 per pixel column; then lines are thinned.
static int is_dense(const frame *f, const double *y, size_t n) {
    size_t finite = 0;
    for (size_t i = 0; i < n; i++) finite += isfinite(y[i]) != 0;
    return finite > (size_t)(3 * (f->px1 - f->px0));
}

// The indices of the finite values of y to draw, in order: all of them when
// there are few, else the first, minimum, maximum and last of each pixel
// column, which keeps every spike. Returns the count.
static size_t thin(const frame *f, const double *x, const double *y, size_t n, size_t *idx) {
    size_t m = 0;
    if (!is_dense(f, y, n)) {
        for (size_t i = 0; i < n; i++)
            if (isfinite(y[i])) idx[m++] = i;
        return m;
    }
    long col = -1;
    size_t first = 0, lo = 0, hi = 0, last = 0;
    int open = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !isfinite(y[i])) continue;
        long c = i < n ? (long)fx(f, x[i]) : -1;
        if (open && (i == n || c != col)) {
            size_t pick[4] = {first, lo < hi ? lo : hi, lo < hi ? hi : lo, last};
            for (int k = 0; k < 4; k++)
                if (m == 0 || idx[m - 1] < pick[k]) idx[m++] = pick[k];
            open = 0;
        }
        if (i == n) break;
        if (!open) {
            col = c;
            first = lo = hi = i;
            open = 1;
        }
        if (y[i] < y[lo]) lo = i;
        if (y[i] > y[hi]) hi = i;
        last = i;
    }
    return m;
}

// The mean x and y of the finite values in each bucket of `width` pixels:
// the trend of a dense series. Returns the count.
static size_t bucket_means(const frame *f, const double *x, const double *y, size_t n, double width, double *mx,
                           double *my) {
    size_t m = 0, k = 0;
    long col = -1, last_col = (long)((f->px1 - f->px0) / width) - 1;
    double sx = 0, sy = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !isfinite(y[i])) continue;
        long c = i < n ? (long)((fx(f, x[i]) - f->px0) / width) : -1;
        if (c > last_col) c = last_col;  // the point at x_max joins the last bucket
        if (k && (i == n || c != col)) {
            mx[m] = sx / (double)k;
            my[m++] = sy / (double)k;
            k = 0;
            sx = sy = 0;
        }
        if (i == n) break;
        col = c;
        sx += x[i];
        sy += y[i];
        k++;
    }
    return m;
}

static void emit_xy(svg_buf *b, const frame *f, double x, double y) {
    svg_buf_printf(b, "%.1f,%.1f ", fx(f, x), fy(f, y));
}

// Points of an edge, forward or backward: every point, or 2-pixel bucket
// means when dense.
static void emit_edge(svg_buf *b, const frame *f, const double *x, const double *y, size_t n, scratch *sc,
                      int backward) {
    if (is_dense(f, y, n)) {
        size_t m = bucket_means(f, x, y, n, 2, sc->mx, sc->my);
        for (size_t k = 0; k < m; k++) {
            size_t j = backward ? m - 1 - k : k;
            emit_xy(b, f, sc->mx[j], sc->my[j]);
        }
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i])) sc->idx[m++] = i;
    for (size_t k = 0; k < m; k++) {
        size_t j = sc->idx[backward ? m - 1 - k : k];
        emit_xy(b, f, x[j], y[j]);
    }
}

// A filled polygon between upper (forward) and lower (backward); lower NULL is 0.
static void polygon(svg_buf *b, const frame *f, const double *x, const double *upper, const double *lower, size_t n,
                    scratch *sc, const char *color, double opacity, int outline) {
    size_t a = n, z = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(upper[i])) continue;
        if (a == n) a = i;
        z = i;
    }
    if (a == n) return;
    svg_buf_printf(b, "<polygon fill=\"%s\" fill-opacity=\"%.2f\"%s%s%s points=\"", color, opacity,
                   outline ? " stroke=\"" : "", outline ? color : "", outline ? "\" stroke-width=\"1\"" : "");
    emit_edge(b, f, x, upper, n, sc, 0);
    if (lower) {
        emit_edge(b, f, x, lower, n, sc, 1);
    } else {
        emit_xy(b, f, x[z], 0);
        emit_xy(b, f, x[a], 0);
    }
    svg_buf_puts(b, "\"/>\n");
}

// A line through the finite values. A dense series is drawn as its faint
// min/max envelope (every spike stays visible) under the line of its
// 2-pixel means (the trend).
static void polyline(svg_buf *b, const frame *f, const double *x, const double *y, size_t n, scratch *sc,
                     const char *color, int dashed) {
    size_t m = thin(f, x, y, n, sc->idx);
    if (m == 0) return;
    if (m == 1) {
        svg_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", fx(f, x[sc->idx[0]]),
                       fy(f, y[sc->idx[0]]), color);
        return;
    }
    int dense = is_dense(f, y, n);
    svg_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" stroke-linejoin=\"round\"%s%s points=\"",
                   color, dense ? "1" : "1.6", dense ? " stroke-opacity=\"0.3\"" : "",
                   dashed ? " stroke-dasharray=\"5 3\"" : "");
    for (size_t k = 0; k < m; k++) emit_xy(b, f, x[sc->idx[k]], y[sc->idx[k]]);
    svg_buf_puts(b, "\"/>\n");
    if (!dense) return;
    m = bucket_means(f, x, y, n, 2, sc->mx, sc->my);
    svg_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linejoin=\"round\"%s points=\"",
                   color, dashed ? " stroke-dasharray=\"5 3\"" : "");
    for (size_t k = 0; k < m; k++) emit_xy(b, f, sc->mx[k], sc->my[k]);
    svg_buf_puts(b, "\"/>\n");
}

// ---- line chart ---------------------------------------------------------------

static void default_tooltip(const svg_chart *c, size_t i, svg_buf *t) {
    char v[32];
    svg_format_value(v, sizeof v, c->x[i]);
    svg_buf_printf(t, "%s %s", c->x_label, v);
    for (int s = 0; s < c->n_series; s++) {
        const svg_series *se = &c->series[s];
        if (se->kind != SVG_SERIES_LINE || !isfinite(se->y[i])) continue;
        svg_format_value(v, sizeof v, se->y[i]);
        svg_buf_printf(t, "\n%s: %s", se->name, v);
    }
}

static size_t nearest(const double *x, size_t n, double v) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    if (lo > 0 && v - x[lo - 1] < x[lo] - v) lo--;
    return lo;
}

// Transparent columns over the plot, one per shown x, each with the tooltip
// of its x; the page's CSS shades the one under the pointer.
static void hover_columns(svg_buf *b, const frame *f, const svg_chart *c, size_t *reps) {
    size_t m = 0;
    if (c->n <= SVG_HOVER) {
        for (size_t i = 0; i < c->n; i++) reps[m++] = i;
    } else {
        for (int k = 0; k < SVG_HOVER; k++) {
            size_t i = nearest(c->x, c->n, f->x0 + (k + 0.5) * (f->x1 - f->x0) / SVG_HOVER);
            if (m == 0 || reps[m - 1] != i) reps[m++] = i;
        }
    }
    svg_buf text = {0};
    for (size_t k = 0; k < m; k++) {
        double left = k == 0 ? f->px0 : (fx(f, c->x[reps[k - 1]]) + fx(f, c->x[reps[k]])) / 2;
        double right = k + 1 == m ? f->px1 : (fx(f, c->x[reps[k]]) + fx(f, c->x[reps[k + 1]])) / 2;
        text.len = 0;
        if (text.data) text.data[0] = 0;
        if (c->tooltip) c->tooltip(c->tooltip_ud, reps[k], &text);
        else default_tooltip(c, reps[k], &text);
        svg_buf_printf(b, "<rect class=\"hov\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#000\" "
                          "fill-opacity=\"0\"><title>",
                       left, f->py0, right - left, f->py1 - f->py0);
        svg_buf_escape(b, text.data ? text.data : "");
        svg_buf_puts(b, "</title></rect>\n");
    }
    if (text.failed) b->failed = 1;
    svg_buf_free(&text);
}

static void markers(svg_buf *b, const frame *f, const svg_chart *c, const svg_series *s) {
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(s->y[i])) continue;
        char xv[32], yv[32];
        svg_format_value(xv, sizeof xv, c->x[i]);
        svg_format_value(yv, sizeof yv, s->y[i]);
        svg_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1\"><title>",
                       fx(f, c->x[i]), fy(f, s->y[i]), svg_color(s->color));
        svg_buf_escape(b, s->name);
        svg_buf_printf(b, " at %s %s: %s</title></circle>\n", c->x_label, xv, yv);
    }
}

// Red marks under the plot where a series had NaN or null.
static void nonfinite_marks(svg_buf *b, const frame *f, const svg_chart *c) {
    int shown = 0;
    for (int s = 0; s < c->n_series; s++) {
        const svg_series *se = &c->series[s];
        if (!se->nonfinite) continue;
        for (size_t i = 0; i < c->n && shown < SVG_BAD_MARKS; i++) {
            if (!se->nonfinite[i]) continue;
            char xv[32];
            svg_format_value(xv, sizeof xv, c->x[i]);
            svg_buf_printf(b, "<path d=\"M%.1f %.1fl-4 -7h8z\" fill=\"#d62728\"><title>", fx(f, c->x[i]), f->py1);
            svg_buf_escape(b, se->name);
            svg_buf_printf(b, " at %s %s: NaN or null</title></path>\n", c->x_label, xv);
            shown++;
        }
    }
}

// The y range of the data: bands, lines, stacked tops. Returns 0 when there
// is no finite value.
static int y_range(const svg_chart *c, const double *tops, double *lo, double *hi) {
    int any = 0;
    double a = 0, z = 0;
#define TAKE(v)                                        \
    do {                                               \
        double v_ = (v);                               \
        if (isfinite(v_)) {                            \
            if (!any || v_ < a) a = v_;                \
            if (!any || v_ > z) z = v_;                \
            any = 1;                                   \
        }                                              \
    } while (0)
    for (int s = 0; s < c->n_series; s++) {
        const svg_series *se = &c->series[s];
        for (size_t i = 0; i < c->n; i++) {
            TAKE(se->y[i]);
            if (se->kind == SVG_SERIES_BAND) TAKE(se->y_hi[i]);
        }
    }
    if (tops)
        for (size_t i = 0; i < c->n; i++) TAKE(tops[i]);
#undef TAKE
    if (!any) return 0;
    a = fmax(a, -1e300);  // keeps hi - lo finite
    z = fmin(z, 1e300);
    if (c->stacked) a = fmin(a, 0);
    if (c->unit_interval && a >= 0 && z <= 1) {
        a = 0;
        z = 1;
    }
    if (a > 0 && (a <= 0.25 * z || a == z)) a = 0;  // near zero anyway, or constant: show the zero line
    if (z < 0 && (z >= 0.25 * a || a == z)) z = 0;
    if (a == 0 && z == 0) z = 1;  // all zeros: [0, 1]
    *lo = a;
    *hi = z;
    return 1;
}

// Stacked tops: layer s's top at i is the sum of the line series 0..s (NaN
// as 0), or NaN where every one is NaN. tops is (n_series, n); the last line
// layer's row is the total.
static void stack_tops(const svg_chart *c, double *tops) {
    for (size_t i = 0; i < c->n; i++) {
        double sum = 0;
        int any = 0;
        for (int s = 0; s < c->n_series; s++) {
            double v = c->series[s].y[i];
            if (isfinite(v)) {
                sum += v;
                any = 1;
            }
            tops[(size_t)s * c->n + i] = sum;
        }
        if (!any)
            for (int s = 0; s < c->n_series; s++) tops[(size_t)s * c->n + i] = NAN;
    }
}

rlc_status svg_line_chart(svg_buf *b, const svg_chart *c) {
    if (c->n == 0) return rlc_errorf(RLC_ERR_ARG, "chart \"%s\" has no points", c->title);
    scratch sc = {rlc_malloc(c->n * sizeof *sc.idx), rlc_malloc(c->n * sizeof *sc.mx), rlc_malloc(c->n * sizeof *sc.my)};
    double *tops = c->stacked ? rlc_malloc((size_t)c->n_series * c->n * sizeof *tops) : NULL;
    if (!sc.idx || !sc.mx || !sc.my || (c->stacked && !tops)) {
        rlc_free(sc.idx);
        rlc_free(sc.mx);
        rlc_free(sc.my);
        rlc_free(tops);
        b->failed = 1;
        return rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing \"%s\"", c->title);
    }
    if (tops) stack_tops(c, tops);
    frame f = {.x0 = c->x_min, .x1 = c->x_max, .px0 = SVG_ML, .px1 = SVG_W - SVG_MR, .py1 = SVG_H - SVG_MB};
    if (!(f.x1 > f.x0)) {
        f.x0 -= 1;
        f.x1 += 1;
    }
    f.py0 = open_chart(b, c->title, c->series, c->n_series);
    double lo, hi, step;
    int has_data = y_range(c, tops ? tops + (size_t)(c->n_series - 1) * c->n : NULL, &lo, &hi);
    if (!has_data) lo = 0, hi = 1;
    svg_nice_ticks(lo, hi, 5, &f.y0, &f.y1, &step);
    y_axis(b, &f, step);
    int integer_x = 1;
    for (size_t i = 0; i < c->n; i++) integer_x &= c->x[i] == floor(c->x[i]);
    x_axis(b, &f, c->x_label, integer_x);
    if (!has_data)
        svg_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#999\">no finite values</text>\n",
                       (f.px0 + f.px1) / 2, (f.py0 + f.py1) / 2);
    for (int s = 0; s < c->n_series; s++) {  // bands under the lines
        const svg_series *se = &c->series[s];
        if (se->kind == SVG_SERIES_BAND)
            polygon(b, &f, c->x, se->y_hi, se->y, c->n, &sc, svg_color(se->color), 0.18, 0);
    }
    if (tops) {
        for (int s = c->n_series - 1; s >= 0; s--)
            polygon(b, &f, c->x, tops + (size_t)s * c->n, s ? tops + (size_t)(s - 1) * c->n : NULL, c->n, &sc,
                    svg_color(c->series[s].color), 0.55, 1);
    } else {
        for (int s = 0; s < c->n_series; s++) {
            const svg_series *se = &c->series[s];
            if (se->kind == SVG_SERIES_LINE)
                polyline(b, &f, c->x, se->y, c->n, &sc, svg_color(se->color), se->dashed);
        }
    }
    hover_columns(b, &f, c, sc.idx);
    for (int s = 0; s < c->n_series; s++) {
        const svg_series *se = &c->series[s];
        size_t count = 0;
        for (size_t i = 0; i < c->n; i++) count += isfinite(se->y[i]) != 0;
        if (se->markers && se->kind == SVG_SERIES_LINE && !tops && count <= SVG_MARKERS) markers(b, &f, c, se);
    }
    nonfinite_marks(b, &f, c);
    svg_buf_puts(b, "</svg>\n");
    rlc_free(sc.idx);
    rlc_free(sc.mx);
    rlc_free(sc.my);
    rlc_free(tops);
    return b->failed ? rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing \"%s\"", c->title) : RLC_OK;
}

// ---- bar chart ------------------------------------------------------------------

rlc_status svg_bar_chart(svg_buf *b, const char *title, const char *x_label, const char *const *labels,
                         const double *values, int n, int color) {
    if (n <= 0) return rlc_errorf(RLC_ERR_ARG, "bar chart \"%s\" has no bars", title);
    frame f = {.x0 = 0, .x1 = n, .px0 = SVG_ML, .px1 = SVG_W - SVG_MR, .py1 = SVG_H - SVG_MB};
    f.py0 = open_chart(b, title, NULL, 0);
    double hi = 0, total = 0;
    for (int i = 0; i < n; i++) {
        if (isfinite(values[i])) {
            hi = fmax(hi, values[i]);
            total += values[i];
        }
    }
    double step;
    svg_nice_ticks(0, hi > 0 ? hi : 1, 5, &f.y0, &f.y1, &step);
    y_axis(b, &f, step);
    svg_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#888\"/>\n", f.px0, f.py1, f.px1,
                   f.py1);
    double slot = (f.px1 - f.px0) / n;
    int every = n <= 24 ? 1 : (n + 23) / 24;
    for (int i = 0; i < n; i++) {
        double v = isfinite(values[i]) ? values[i] : 0;
        double x = f.px0 + slot * i + slot * 0.15, y = fy(&f, v);
        char vs[32];
        svg_format_value(vs, sizeof vs, v);
        svg_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x, y,
                       slot * 0.7, f.py1 - y, svg_color(color));
        svg_buf_escape(b, x_label);
        svg_buf_puts(b, " ");
        svg_buf_escape(b, labels[i]);
        svg_buf_printf(b, ": %s (%.1f%%)</title></rect>\n", vs, total > 0 ? 100 * v / total : 0);
        if (i % every == 0) {
            svg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">", x + slot * 0.35,
                           f.py1 + 16);
            svg_buf_escape(b, labels[i]);
            svg_buf_puts(b, "</text>\n");
        }
    }
    svg_buf_printf(b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"end\" fill=\"#777\">", f.px1, SVG_H - 6);
    svg_buf_escape(b, x_label);
    svg_buf_puts(b, "</text>\n</svg>\n");
    return b->failed ? rlc_errorf(RLC_ERR_NOMEM, "out of memory drawing \"%s\"", title) : RLC_OK;
}
