// report_data.c: reads a metrics.jsonl into columns for the report
// (report_internal.h): one column per numeric key (nested objects flattened
// as parent.child), histograms for objects of counts, skipped lines counted
// with their reasons, records sorted by step with the last line of a
// repeated step kept.
#include <ctype.h>   // isdigit, tolower, isalnum, isspace
#include <math.h>    // NAN, isfinite
#include <stdio.h>   // snprintf
#include <stdlib.h>  // qsort, strtod
#include <string.h>  // strcmp, memchr, strlen
#include <strings.h> // strncasecmp

#include "core/core.h"  // rlc_read_file, rlc_json_load_buffer, rlc_malloc, RLC_WARN
#include "report_internal.h"

#define NAME_MAX_LEN 256
#define MAX_DEPTH 6

static void column_free(report_column *c) {
    rlc_free(c->name);
    rlc_free(c->norm);
    rlc_free(c->v);
    rlc_free(c->state);
}

void report_data_free(report_data *d) {
    for (int i = 0; i < d->n_cols; i++) column_free(&d->cols[i]);
    for (int h = 0; h < d->n_hists; h++) {
        for (int b = 0; b < d->hists[h].n_bins; b++) rlc_free(d->hists[h].labels[b]);
        rlc_free(d->hists[h].labels);
        rlc_free(d->hists[h].totals);
        rlc_free(d->hists[h].name);
    }
    rlc_free(d->hists);
    rlc_free(d->cols);
    rlc_free(d->x);
    *d = (report_data){0};
}

int report_data_find(const report_data *d, const char *name) {
    for (int i = 0; i < d->n_cols; i++)
        if (strcmp(d->cols[i].name, name) == 0) return i;
    return -1;
}

// Adds a column with every row absent; returns its index or -1 (out of memory).
static int column_add(report_data *d, const char *name) {
    if (d->n_cols == d->cap_cols) {
        int cap = d->cap_cols ? 2 * d->cap_cols : 32;
        report_column *p = rlc_realloc(d->cols, (size_t)cap * sizeof *p);
        if (!p) return -1;
        d->cols = p;
        d->cap_cols = cap;
    }
    report_column c = {.name = rlc_strdup(name), .norm = rlc_strdup(name), .chart = -1};
    c.v = rlc_malloc(d->cap * sizeof *c.v);
    c.state = rlc_calloc(d->cap, 1);
    if (!c.name || !c.norm || !c.v || !c.state) {
        column_free(&c);
        return -1;
    }
    for (size_t i = 0; i < d->cap; i++) c.v[i] = NAN;
    for (char *p = c.norm; *p; p++) *p = strchr("./- ", *p) ? '_' : (char)tolower((unsigned char)*p);
    d->cols[d->n_cols] = c;
    return d->n_cols++;
}

// The column named `name`, created when new; *hint makes the common case (the
// same keys in the same order on every line) one comparison.
static int column_get(report_data *d, const char *name, int *hint) {
    if (*hint < d->n_cols && strcmp(d->cols[*hint].name, name) == 0) return (*hint)++;
    int i = report_data_find(d, name);
    if (i < 0) i = column_add(d, name);
    if (i >= 0) *hint = i + 1;
    return i;
}

// Stores a number, a bool (0/1) or null (NaN) at row r.
static rlc_status column_set(report_data *d, const char *name, const json_t *v, size_t r, int *hint) {
    int i = column_get(d, name, hint);
    if (i < 0) return rlc_errorf(RLC_ERR_NOMEM, "out of memory reading metrics");
    report_column *c = &d->cols[i];
    double x = json_is_number(v) ? json_number_value(v) : json_is_true(v) ? 1 : json_is_false(v) ? 0 : NAN;
    c->v[r] = isfinite(x) ? x : NAN;
    c->state[r] = isfinite(x) ? REPORT_FINITE : REPORT_NONFINITE;
    return RLC_OK;
}

// A histogram bin label: digits, optionally with a leading '>', '<', '>=' or
// a trailing '+' ("0", "3", ">=4", "8+").
static int bin_label(const char *k) {
    while (*k == '>' || *k == '<' || *k == '=') k++;
    if (!isdigit((unsigned char)*k)) return 0;
    while (isdigit((unsigned char)*k)) k++;
    return *k == 0 || (k[0] == '+' && k[1] == 0);
}

static int is_histogram(const json_t *v) {
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!json_is_number(e)) return 0;
        return json_array_size(v) > 0;
    }
    if (!json_is_object(v) || json_object_size(v) == 0) return 0;
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)v, k, e) if (!bin_label(k) || !(json_is_number(e) || json_is_null(e))) return 0;
    return 1;
}

static int hist_find_or_add(report_data *d, const char *name) {
    for (int h = 0; h < d->n_hists; h++)
        if (strcmp(d->hists[h].name, name) == 0) return h;
    if (d->n_hists == d->cap_hists) {
        int cap = d->cap_hists ? 2 * d->cap_hists : 4;
        report_hist *p = rlc_realloc(d->hists, (size_t)cap * sizeof *p);
        if (!p) return -1;
        d->hists = p;
        d->cap_hists = cap;
    }
    char *copy = rlc_strdup(name);
    if (!copy) return -1;
    d->hists[d->n_hists] = (report_hist){.name = copy, .mean_col = -1, .max_col = -1};
    return d->n_hists++;
}

// A histogram's bins become hidden columns "name[label]"; totals and the
// derived mean and max are computed once the records are final.
static rlc_status hist_set(report_data *d, const char *name, const json_t *v, size_t r, int *hint) {
    if (hist_find_or_add(d, name) < 0) return rlc_errorf(RLC_ERR_NOMEM, "out of memory reading metrics");
    char bin[NAME_MAX_LEN + 32];
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            snprintf(bin, sizeof bin, "%s[%zu]", name, i);
            RLC_TRY(column_set(d, bin, e, r, hint));
        }
    } else {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            snprintf(bin, sizeof bin, "%s[%s]", name, k);
            RLC_TRY(column_set(d, bin, e, r, hint));
        }
    }
    return RLC_OK;
}

static rlc_status walk(report_data *d, const json_t *obj, const char *prefix, int depth, size_t r, int *hint) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (depth == 0 && strcmp(key, "step") == 0) continue;  // the x axis
        char name[NAME_MAX_LEN];
        int n = snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (n < 0 || n >= (int)sizeof name || strchr(key, '[')) continue;
        if (json_is_number(v) || json_is_boolean(v) || json_is_null(v)) {
            RLC_TRY(column_set(d, name, v, r, hint));
        } else if (is_histogram(v)) {
            RLC_TRY(hist_set(d, name, v, r, hint));
        } else if (json_is_object(v) && depth + 1 < MAX_DEPTH) {
            RLC_TRY(walk(d, v, name, depth + 1, r, hint));
        }
    }
    return RLC_OK;
}

// A line some writers produce for non-finite floats (NaN, nan, -nan, inf,
// Infinity) is not JSON; writes a copy with those words, outside strings, as
// null. Returns NULL when there were none (or out of memory).
static char *null_nonfinite(const char *s, size_t len, size_t *out_len) {
    char *o = rlc_malloc(2 * len + 1);
    if (!o) return NULL;
    size_t k = 0;
    int in_str = 0, changed = 0;
    static const char *words[] = {"nan", "infinity", "inf"};
    for (size_t i = 0; i < len;) {
        char c = s[i];
        if (in_str) {
            o[k++] = c;
            if (c == '\\' && i + 1 < len) o[k++] = s[++i];
            else if (c == '"') in_str = 0;
            i++;
            continue;
        }
        if (c == '"') in_str = 1;
        size_t j = i + (c == '-' || c == '+');
        int hit = 0;
        if (i == 0 || !isalnum((unsigned char)s[i - 1])) {
            for (int w = 0; w < 3 && !hit; w++) {
                size_t wl = strlen(words[w]);
                if (j + wl > len || strncasecmp(s + j, words[w], wl) != 0) continue;
                if (j + wl < len && (isalnum((unsigned char)s[j + wl]) || s[j + wl] == '_')) continue;
                memcpy(o + k, "null", 4);
                k += 4;
                i = j + wl;
                hit = changed = 1;
            }
        }
        if (!hit) o[k++] = s[i++];
    }
    if (!changed) {
        rlc_free(o);
        return NULL;
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

static void note_skip(report_data *d, const char *path, long line, const char *reason) {
    char clean[200];
    size_t k = 0;
    for (; reason[k] && k + 1 < sizeof clean; k++)  // jansson may quote the offending bytes
        clean[k] = (unsigned char)reason[k] < 0x20 || (unsigned char)reason[k] >= 0x7f ? '?' : reason[k];
    clean[k] = 0;
    reason = clean;
    d->skipped++;
    RLC_WARN("%s:%ld: skipped: %s", path, line, reason);
    if (d->n_skips < REPORT_MAX_SKIPS) {
        d->skips[d->n_skips].line = line;
        snprintf(d->skips[d->n_skips].reason, sizeof d->skips[0].reason, "%s", reason);
        d->n_skips++;
    }
}

// Parses one line into an object, or says why not (in `why`). *oom is set
// when the parse failed while memory is exhausted: jansson reports that as
// a syntax error, which would misreport the line.
static json_t *parse_line(const char *p, size_t l, char *why, size_t cap, int *oom) {
    json_t *j = NULL;
    if (rlc_json_load_buffer(p, l, "line", &j) != RLC_OK) {
        const char *msg = rlc_last_error();
        const char *colon = strstr(msg, "invalid JSON: ");
        snprintf(why, cap, "not JSON (%s)", colon ? colon + 14 : msg);
        size_t l2;
        char *fixed = null_nonfinite(p, l, &l2);
        if (fixed && rlc_json_load_buffer(fixed, l2, "line", &j) != RLC_OK) j = NULL;
        rlc_free(fixed);
        rlc_clear_error();
        if (!j) {
            void *probe = rlc_malloc(256);
            *oom = probe == NULL;
            rlc_free(probe);
            return NULL;
        }
    }
    if (!json_is_object(j)) {
        snprintf(why, cap, "a JSON %s, not an object",
                 json_is_array(j) ? "array" : json_is_string(j) ? "string" : json_is_number(j) ? "number" : "value");
        json_decref(j);
        return NULL;
    }
    return j;
}

typedef struct keyed {
    double x;
    size_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b) {
    const keyed *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

// Sorts the rows by step; of rows with the same step the last one is kept.
static rlc_status sort_rows(report_data *d) {
    size_t n = d->n;
    int sorted = 1;
    for (size_t i = 1; i < n; i++) sorted &= d->x[i] > d->x[i - 1];
    if (sorted) return RLC_OK;
    keyed *k = rlc_malloc(n * sizeof *k);
    double *tmp = rlc_malloc(n * sizeof *tmp);
    unsigned char *tmps = rlc_malloc(n);
    if (!k || !tmp || !tmps) {
        rlc_free(k);
        rlc_free(tmp);
        rlc_free(tmps);
        return rlc_errorf(RLC_ERR_NOMEM, "out of memory sorting metrics");
    }
    for (size_t i = 0; i < n; i++) k[i] = (keyed){d->x[i], i};
    qsort(k, n, sizeof *k, keyed_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || k[i + 1].x != k[i].x) k[m++] = k[i];
    d->duplicates = (long)(n - m);
    for (size_t i = 0; i < m; i++) tmp[i] = d->x[k[i].i];
    memcpy(d->x, tmp, m * sizeof *tmp);
    for (int c = 0; c < d->n_cols; c++) {
        report_column *col = &d->cols[c];
        for (size_t i = 0; i < m; i++) {
            tmp[i] = col->v[k[i].i];
            tmps[i] = col->state[k[i].i];
        }
        memcpy(col->v, tmp, m * sizeof *tmp);
        memcpy(col->state, tmps, m);
    }
    d->n = m;
    rlc_free(k);
    rlc_free(tmp);
    rlc_free(tmps);
    return RLC_OK;
}

static int label_cmp(const void *a, const void *b) {
    const char *p = *(char *const *)a, *q = *(char *const *)b;
    while (*p && !isdigit((unsigned char)*p)) p++;
    while (*q && !isdigit((unsigned char)*q)) q++;
    double x = strtod(p, NULL), y = strtod(q, NULL);
    return x < y ? -1 : x > y ? 1 : strcmp(*(char *const *)a, *(char *const *)b);
}

// Totals per bin, and for integer bins the per-step mean and max as columns.
static rlc_status finish_hist(report_data *d, report_hist *h) {
    size_t plen = strlen(h->name);
    int cols[256], nb = 0, integer = 1;
    for (int c = 0; c < d->n_cols && nb < 256; c++) {
        const char *nm = d->cols[c].name;
        if (strncmp(nm, h->name, plen) != 0 || nm[plen] != '[') continue;
        d->cols[c].chart = -2;  // a bin: shown in the histogram only
        cols[nb++] = c;
    }
    h->labels = rlc_calloc(nb ? (size_t)nb : 1, sizeof *h->labels);
    h->totals = rlc_calloc(nb ? (size_t)nb : 1, sizeof *h->totals);
    if (!h->labels || !h->totals) return rlc_errorf(RLC_ERR_NOMEM, "out of memory");
    h->n_bins = nb;  // labels start NULL: freeing after a failure below is safe
    for (int b = 0; b < nb; b++) {
        const char *nm = d->cols[cols[b]].name + plen + 1;
        h->labels[b] = rlc_strndup(nm, strlen(nm) - 1);
        if (!h->labels[b]) return rlc_errorf(RLC_ERR_NOMEM, "out of memory");
        integer &= strspn(h->labels[b], "0123456789") == strlen(h->labels[b]);
    }
    // sort labels with their columns: a selection sort on the few bins
    for (int a = 0; a < nb; a++)
        for (int b = a + 1; b < nb; b++)
            if (label_cmp(&h->labels[b], &h->labels[a]) < 0) {
                char *t = h->labels[a];
                h->labels[a] = h->labels[b];
                h->labels[b] = t;
                int tc = cols[a];
                cols[a] = cols[b];
                cols[b] = tc;
            }
    for (int b = 0; b < nb; b++)
        for (size_t i = 0; i < d->n; i++)
            if (isfinite(d->cols[cols[b]].v[i])) h->totals[b] += d->cols[cols[b]].v[i];
    if (!integer || nb == 0) return RLC_OK;
    char name[NAME_MAX_LEN + 8];
    snprintf(name, sizeof name, "%s.mean", h->name);
    int mc = report_data_find(d, name) < 0 ? column_add(d, name) : -1;
    snprintf(name, sizeof name, "%s.max", h->name);
    int xc = report_data_find(d, name) < 0 ? column_add(d, name) : -1;
    if (mc < 0 || xc < 0) return RLC_OK;  // the names are taken (or no memory): no derived lines
    for (size_t i = 0; i < d->n; i++) {
        double sum = 0, wsum = 0, mx = -1;
        for (int b = 0; b < nb; b++) {
            double c = d->cols[cols[b]].v[i];
            if (!isfinite(c) || c <= 0) continue;
            double k = strtod(h->labels[b], NULL);
            sum += c;
            wsum += k * c;
            mx = k > mx ? k : mx;
        }
        if (sum <= 0) continue;
        d->cols[mc].v[i] = wsum / sum;
        d->cols[xc].v[i] = mx;
        d->cols[mc].state[i] = d->cols[xc].state[i] = REPORT_FINITE;
    }
    d->cols[mc].derived = d->cols[xc].derived = 1;
    h->mean_col = mc;
    h->max_col = xc;
    return RLC_OK;
}

static rlc_status read_lines(const char *path, const char *buf, size_t len, report_data *d) {
    long lineno = 0;
    for (const char *p = buf; p < buf + len;) {
        const char *e = memchr(p, '\n', (size_t)(buf + len - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(buf + len - p);
        lineno++;
        const char *q = p;
        while (q < p + l && isspace((unsigned char)*q)) q++;
        if (q < p + l) {
            d->lines++;
            char why[160];
            int oom = 0;
            json_t *j = parse_line(p, l, why, sizeof why, &oom);
            if (oom) return rlc_errorf(RLC_ERR_NOMEM, "out of memory reading %s", path);
            if (!j && !e) {  // no newline after it: the writer is still busy
                d->incomplete_last = 1;
                d->skipped++;
                RLC_INFO("%s:%ld: the last line is incomplete (the run is still being written?); skipped", path,
                         lineno);
            } else if (!j) {
                note_skip(d, path, lineno, why);
            } else {
                const json_t *s = json_object_get(j, "step");
                d->x[d->n] = json_is_number(s) ? json_number_value(s) : NAN;
                int hint = 0;
                rlc_status st = walk(d, j, "", 0, d->n, &hint);
                json_decref(j);
                if (st != RLC_OK) return st;
                d->n++;
            }
        }
        p += l + 1;
    }
    return RLC_OK;
}

rlc_status report_data_load(const char *path, report_data *d) {
    *d = (report_data){0};
    char *buf;
    size_t len;
    RLC_TRY(rlc_read_file(path, &buf, &len));
    d->cap = 1;
    for (size_t i = 0; i < len; i++) d->cap += buf[i] == '\n';
    d->x = rlc_malloc(d->cap * sizeof *d->x);
    if (!d->x) {
        rlc_free(buf);
        return rlc_errorf(RLC_ERR_NOMEM, "out of memory reading %s", path);
    }
    rlc_status st = read_lines(path, buf, len, d);
    rlc_free(buf);
    if (st != RLC_OK) return st;
    if (d->lines == 0) return rlc_errorf(RLC_ERR_FORMAT, "%s is empty: no step has been recorded yet", path);
    if (d->n == 0)
        return rlc_errorf(RLC_ERR_FORMAT, "%s: none of its %ld lines is a JSON object of metrics", path, d->lines);
    d->x_is_step = 1;
    for (size_t i = 0; i < d->n; i++) d->x_is_step &= isfinite(d->x[i]) != 0;
    if (!d->x_is_step)
        for (size_t i = 0; i < d->n; i++) d->x[i] = (double)(i + 1);
    RLC_TRY(sort_rows(d));
    for (int h = 0; h < d->n_hists; h++) RLC_TRY(finish_hist(d, &d->hists[h]));
    for (int c = 0; c < d->n_cols; c++) {
        report_column *col = &d->cols[c];
        col->n_finite = col->n_nonfinite = 0;
        for (size_t i = 0; i < d->n; i++) {
            col->n_finite += col->state[i] == REPORT_FINITE;
            col->n_nonfinite += col->state[i] == REPORT_NONFINITE;
        }
    }
    return RLC_OK;
}
