// report_layout.c: which chart each metric goes to: a table of groups with
// matching rules (known keys first, in a sensible order), histograms,
// constant keys set aside for a table (report_internal.h).
#include <ctype.h>   // tolower
#include <math.h>    // isnan
#include <stdio.h>   // snprintf
#include <string.h>  // strcmp, strncmp, strlen, strcspn

#include "core/core.h"  // rlc_calloc, rlc_free, rlc_errorf
#include "report_internal.h"

// ---- which chart a key goes to ------------------------------------------------

// Rules are words: "=exact", "^prefix", "$suffix", "~contains", matched
// against the normalized key (lowercase; '.', '/', '-' and ' ' as '_'). A key
// goes to the first definition that includes it and does not exclude it.
typedef struct chart_def {
    const char *section;
    const char *title;     // LAYOUT_EACH: NULL, the key names the chart
    report_layout_kind layout;
    int unit;              // y axis [0, 1] when the values fit
    const char *include, *exclude;
} chart_def;

const report_section report_sections[] = {
    {"reward", "Reward", 1},          {"accuracy", "Accuracy", 1},
    {"kl", "KL divergence", 1},       {"entropy", "Entropy", 1},
    {"length", "Response length", 1}, {"throughput", "Throughput", 1},
    {"timing", "Time", 0},            {"staleness", "Staleness", 0},
    {"dropped", "Dropped and filtered", 0}, {"clip", "Clipping", 0},
    {"advantage", "Advantages", 0},   {"sync", "Weight sync", 0},
    {"optim", "Optimization", 1},     {"other", "Other metrics", 0},
};
const int report_n_sections = (int)(sizeof report_sections / sizeof report_sections[0]);

static const chart_def defs[] = {
    {"reward", "Reward (mean \xC2\xB1 std)", LAYOUT_LINES, 0,
     "=reward_mean =reward =rewards_mean =reward_avg =score_mean =reward_std =rewards_std =score_std "
     "=reward_min =reward_max =rewards_min =rewards_max", ""},
    {"reward", "Reward components", LAYOUT_LINES, 0, "^reward_ ^rewards_ ^reward", ""},
    {"accuracy", "Accuracy", LAYOUT_LINES, 1, "~accuracy =acc =train_acc ^acc_ $_acc ~pass@ ~_acc_", ""},
    {"accuracy", NULL, LAYOUT_EACH, 0, "^eval_ ^val_ ^test_", ""},
    {"dropped", "Dropped and filtered (count)", LAYOUT_LINES, 0,
     "~dropped ~drop_ ~filtered ~filter_ ~duplicate ~discard ~skipped ~rejected", ""},
    {"kl", "KL divergence", LAYOUT_LINES, 0, "=kl ^kl_ $_kl ~_kl_", "~coef ~beta"},
    {"kl", "KL coefficient", LAYOUT_LINES, 0, "~kl_coef =beta ~kl_beta", ""},
    {"entropy", "Entropy", LAYOUT_LINES, 0, "^entropy $_entropy", "~coef"},
    {"length", "Response length (tokens)", LAYOUT_LINES, 0,
     "^response_len ^completion_len ^resp_len =length ^length_ ^gen_len ^output_len ~response_length "
     "~completion_length", "~clip ~trunc ~frac ~ratio"},
    {"throughput", "Throughput (tokens/s)", LAYOUT_LINES, 0,
     "$tokens_per_s $tok_per_s $tokens_per_sec $tokens_per_second $_tps =tps ~throughput", ""},
    {"timing", "Time per step by phase (s)", LAYOUT_STACKED, 0, "^time_ ^timing_ ^times_",
     "=time_total =time_step ~total"},
    {"timing", "Step time (s)", LAYOUT_LINES, 0,
     "=seconds =step_time =time_step =time_total =timing_total =step_seconds =step_s", ""},
    {"staleness", "Staleness (policy versions)", LAYOUT_LINES, 0, "^staleness ~stale", ""},
    {"clip", "Clip fraction", LAYOUT_LINES, 1, "~clip_frac ~clipfrac ~clip_ratio ~clipped ~trunc", "~grad"},
    {"advantage", "Advantages", LAYOUT_LINES, 0, "^adv_ =adv ^advantage", ""},
    {"sync", NULL, LAYOUT_EACH, 0, "^weight_sync ^sync_ ^weights_", ""},
    {"optim", NULL, LAYOUT_EACH, 0, "=loss $_loss ^loss_", ""},
    {"optim", "Learning rate", LAYOUT_LINES, 0, "=lr =learning_rate ^lr_", ""},
    {"optim", "Gradient norm", LAYOUT_LINES, 0, "~grad_norm ~gradient_norm =gnorm", ""},
    {"other", NULL, LAYOUT_EACH, 0, "", ""},  // everything else (must stay last)
};
#define N_DEFS ((int)(sizeof defs / sizeof defs[0]))

static int rule_match(const char *rules, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = rules; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        char kind = *p++;
        size_t n = strcspn(p, " ");
        int hit = 0;
        if (kind == '=') hit = n == kl && strncmp(p, key, n) == 0;
        else if (kind == '^') hit = n <= kl && strncmp(p, key, n) == 0;
        else if (kind == '$') hit = n <= kl && strncmp(p, key + kl - n, n) == 0;
        else if (kind == '~') {
            for (size_t i = 0; i + n <= kl && !hit; i++) hit = strncmp(p, key + i, n) == 0;
        }
        if (hit) return 1;
        p += n;
    }
    return 0;
}

static int def_for(const char *norm) {
    for (int k = 0; k < N_DEFS - 1; k++)
        if (rule_match(defs[k].include, norm) && !rule_match(defs[k].exclude, norm)) return k;
    return N_DEFS - 1;
}

int report_key_rank(const char *norm) { return def_for(norm); }

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

// ---- the charts -----------------------------------------------------------------

static int section_of(const char *id) {
    for (int s = 0; s < report_n_sections; s++)
        if (strcmp(report_sections[s].id, id) == 0) return s;
    return report_n_sections - 1;
}

static int is_constant(const report_column *c, size_t n) {
    if (c->n_nonfinite || c->n_finite < 2) return 0;
    double first = NAN;
    for (size_t i = 0; i < n; i++) {
        if (c->state[i] != REPORT_FINITE) continue;
        if (isnan(first)) first = c->v[i];
        else if (c->v[i] != first) return 0;
    }
    return 1;
}

static report_chart *new_chart(report_layout *L, int section, const chart_def *def, const char *title) {
    if (L->n == REPORT_MAX_CHARTS) return NULL;
    report_chart *ch = &L->charts[L->n++];
    *ch = (report_chart){.section = section, .hist = -1, .kind = def ? def->layout : LAYOUT_LINES,
                         .unit = def ? def->unit : 0};
    snprintf(ch->title, sizeof ch->title, "%s", title);
    return ch;
}

rlc_status report_plan(report_data *d, report_layout *L) {
    *L = (report_layout){0};
    L->charts = rlc_calloc(REPORT_MAX_CHARTS, sizeof *L->charts);
    L->constant = rlc_calloc((size_t)d->n_cols + 1, sizeof *L->constant);
    L->empty = rlc_calloc((size_t)d->n_cols + 1, sizeof *L->empty);
    int *def_of = rlc_calloc((size_t)d->n_cols + 1, sizeof *def_of);
    if (!L->charts || !L->constant || !L->empty || !def_of) {
        rlc_free(def_of);
        return rlc_errorf(RLC_ERR_NOMEM, "out of memory planning the report");
    }
    for (int c = 0; c < d->n_cols; c++) {
        report_column *col = &d->cols[c];
        def_of[c] = -1;
        if (col->chart == -2) continue;  // a histogram bin
        if (col->n_finite == 0) {
            L->empty[L->n_empty++] = c;
            continue;
        }
        def_of[c] = def_for(col->norm);
        if (def_of[c] == N_DEFS - 1 && is_constant(col, d->n)) {
            L->constant[L->n_constant++] = c;
            def_of[c] = -1;
        }
    }
    for (int k = 0; k < N_DEFS; k++) {
        int sec = section_of(defs[k].section);
        report_chart *ch = NULL;
        for (int c = 0; c < d->n_cols; c++) {
            if (def_of[c] != k) continue;
            if (defs[k].layout == LAYOUT_EACH || !ch || ch->n_cols == REPORT_MAX_SERIES) {
                int part = ch && defs[k].layout != LAYOUT_EACH;
                char title[160];
                snprintf(title, sizeof title, "%s%s", defs[k].title ? defs[k].title : d->cols[c].name,
                         part ? " (continued)" : "");
                ch = new_chart(L, sec, &defs[k], title);
                if (!ch) break;
            }
            ch->cols[ch->n_cols++] = c;
            d->cols[c].chart = (int)(ch - L->charts);
        }
    }
    for (int h = 0; h < d->n_hists; h++) {
        char norm[300];
        snprintf(norm, sizeof norm, "%s", d->hists[h].name);
        for (char *p = norm; *p; p++) *p = strchr("./- ", *p) ? '_' : (char)tolower((unsigned char)*p);
        char title[160];
        snprintf(title, sizeof title, "%s: totals over the run", d->hists[h].name);
        report_chart *ch = new_chart(L, section_of(defs[def_for(norm)].section), NULL, title);
        if (ch) ch->hist = h;
    }
    rlc_free(def_of);
    return RLC_OK;
}

void report_layout_free(report_layout *L) {
    rlc_free(L->charts);
    rlc_free(L->constant);
    rlc_free(L->empty);
}

// In a chart of lines, "x_std" is drawn as a band around "x_mean" (or "x",
// "x_avg") when that is in the same chart. Returns the mean's column or -1.
int report_band_mean(const report_data *d, const report_chart *ch, int col) {
    const char *n = d->cols[col].norm;
    if (!ends_with(n, "_std")) return -1;
    size_t base = strlen(n) - 4;
    for (int k = 0; k < ch->n_cols; k++) {
        const char *m = d->cols[ch->cols[k]].norm;
        if (strncmp(m, n, base) != 0) continue;
        if (m[base] == 0 || strcmp(m + base, "_mean") == 0 || strcmp(m + base, "_avg") == 0) return ch->cols[k];
    }
    return -1;
}

// min/max companions are dashed when the chart has other lines.
int report_is_dashed(const report_data *d, const report_chart *ch, int col) {
    const char *n = d->cols[col].norm;
    return ch->n_cols > 1 && (ends_with(n, "_min") || ends_with(n, "_max"));
}
