// dataset.c: JSONL sources, seeded per-epoch shuffles, weighted source
// choice, and sliding-window statistics per source.
#include "dataset.h"

#include <string.h>  // strncmp

#include "core/core.h"

typedef struct {
    char *name;
    json_t **records;  // (n) owned references
    size_t n, cap;
    double weight;     // the experiment's
    size_t *order;     // (n) this epoch's permutation
    size_t cursor;
    uint64_t epoch;
    // statistics window (ring of `window` samples)
    float *acc, *adv;
    int window, filled, head;
    long seen;
    double correct;
} data_source;

struct lrn_data {
    data_source *src;
    int n_src;
    double *weights;  // in effect
    uint64_t seed, rng;
    int shuffle;
};

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void reshuffle(lrn_data *d, data_source *s, int idx) {
    for (size_t i = 0; i < s->n; i++) s->order[i] = i;
    if (!d->shuffle) return;
    uint64_t st = d->seed ^ (0x51ED270B27A1ull * (uint64_t)(idx + 1)) ^ (s->epoch * 0x9E3779B97F4A7C15ull);
    for (size_t i = s->n; i > 1; i--) {  // Fisher-Yates
        size_t j = (size_t)(splitmix(&st) % i);
        size_t t = s->order[i - 1];
        s->order[i - 1] = s->order[j];
        s->order[j] = t;
    }
}

static rlc_status load_jsonl(const char *path, data_source *s) {
    char *buf;
    size_t len;
    RLC_TRY(rlc_read_file(path, &buf, &len));
    rlc_status st = RLC_OK;
    int line = 0;
    for (char *p = buf, *end; st == RLC_OK && p < buf + len; p = end + 1) {
        end = memchr(p, '\n', (size_t)(buf + len - p));
        if (!end) end = buf + len;
        line++;
        size_t n = (size_t)(end - p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ')) n--;
        if (n == 0) continue;
        char what[4200];
        snprintf(what, sizeof what, "%s line %d", path, line);
        json_t *rec;
        st = rlc_json_load_buffer(p, n, what, &rec);
        if (st != RLC_OK) break;
        if (!json_is_object(rec)) {
            json_decref(rec);
            st = rlc_errorf(RLC_ERR_FORMAT, "%s: a record must be a JSON object", what);
            break;
        }
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 1024;
            json_t **grown = rlc_realloc(s->records, sizeof(json_t *) * cap);
            if (!grown) {
                json_decref(rec);
                st = rlc_errorf(RLC_ERR_NOMEM, "%s: records", path);
                break;
            }
            s->records = grown;
            s->cap = cap;
        }
        s->records[s->n++] = rec;
    }
    rlc_free(buf);
    if (st == RLC_OK && s->n == 0) st = rlc_errorf(RLC_ERR_FORMAT, "%s: no records", path);
    return st;
}

static rlc_status source_init(data_source *s, const char *name, const char *path, double weight, int window) {
    char full[4096];
    rlc_expand_path(path, full, sizeof full);
    s->name = rlc_strdup(name);
    s->weight = weight;
    s->window = window > 0 ? window : 256;
    s->acc = rlc_calloc((size_t)s->window, sizeof(float));
    s->adv = rlc_calloc((size_t)s->window, sizeof(float));
    if (!s->name || !s->acc || !s->adv) return rlc_errorf(RLC_ERR_NOMEM, "data source %s", name);
    RLC_TRY(load_jsonl(full, s));
    s->order = rlc_malloc(sizeof(size_t) * s->n);
    if (!s->order) return rlc_errorf(RLC_ERR_NOMEM, "data source %s", name);
    return RLC_OK;
}

static rlc_status data_alloc(int n, uint64_t seed, int shuffle, lrn_data **out) {
    lrn_data *d = rlc_calloc(1, sizeof *d);
    if (!d) return rlc_errorf(RLC_ERR_NOMEM, "data");
    d->src = rlc_calloc((size_t)n, sizeof(data_source));
    d->weights = rlc_calloc((size_t)n, sizeof(double));
    d->n_src = n;
    d->seed = d->rng = seed;
    d->shuffle = shuffle;
    if (!d->src || !d->weights) {
        lrn_data_free(d);
        return rlc_errorf(RLC_ERR_NOMEM, "data");
    }
    *out = d;
    return RLC_OK;
}

rlc_status lrn_data_load(const json_t *sources, uint64_t seed, int shuffle, int window, lrn_data **out) {
    *out = NULL;
    if (!json_is_array(sources) || json_array_size(sources) == 0)
        return rlc_errorf(RLC_ERR_CONFIG, "data.sources: at least one {name=, path=} is needed");
    lrn_data *d = NULL;
    RLC_TRY(data_alloc((int)json_array_size(sources), seed, shuffle, &d));
    rlc_status st = RLC_OK;
    for (int i = 0; st == RLC_OK && i < d->n_src; i++) {
        json_t *e = json_array_get(sources, (size_t)i);
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *path = json_string_value(json_object_get(e, "path"));
        json_t *w = json_object_get(e, "weight");
        if (!name || !path) {
            st = rlc_errorf(RLC_ERR_CONFIG, "data.sources[%d]: name and path are required", i + 1);
            break;
        }
        st = source_init(&d->src[i], name, path, w ? json_number_value(w) : 1.0, window);
        d->weights[i] = d->src[i].weight;
        if (st == RLC_OK) reshuffle(d, &d->src[i], i);
    }
    if (st != RLC_OK) {
        lrn_data_free(d);
        return st;
    }
    *out = d;
    return RLC_OK;
}

rlc_status lrn_data_load_file(const char *path, lrn_data **out) {
    *out = NULL;
    lrn_data *d = NULL;
    RLC_TRY(data_alloc(1, 0, 0, &d));
    rlc_status st = source_init(&d->src[0], "eval", path, 1.0, 1);
    if (st != RLC_OK) {
        lrn_data_free(d);
        return st;
    }
    d->weights[0] = 1.0;
    reshuffle(d, &d->src[0], 0);
    *out = d;
    return RLC_OK;
}

void lrn_data_free(lrn_data *d) {
    if (!d) return;
    for (int i = 0; d->src && i < d->n_src; i++) {
        data_source *s = &d->src[i];
        for (size_t k = 0; k < s->n; k++) json_decref(s->records[k]);
        rlc_free(s->records);
        rlc_free(s->order);
        rlc_free(s->name);
        rlc_free(s->acc);
        rlc_free(s->adv);
    }
    rlc_free(d->src);
    rlc_free(d->weights);
    rlc_free(d);
}

int lrn_data_sources(const lrn_data *d) { return d->n_src; }
const char *lrn_data_source_name(const lrn_data *d, int source) { return d->src[source].name; }
size_t lrn_data_count(const lrn_data *d, int source) { return d->src[source].n; }
const json_t *lrn_data_record(const lrn_data *d, int source, size_t index) { return d->src[source].records[index]; }

rlc_status lrn_data_set_weights(lrn_data *d, const double *weights) {
    double sum = 0;
    for (int i = 0; i < d->n_src; i++) {
        double w = weights ? weights[i] : d->src[i].weight;
        if (!(w >= 0)) return rlc_errorf(RLC_ERR_ARG, "data: weight of %s is %g", d->src[i].name, w);
        sum += w;
    }
    if (!(sum > 0)) return rlc_errorf(RLC_ERR_ARG, "data: the weights sum to %g", sum);
    for (int i = 0; i < d->n_src; i++) d->weights[i] = weights ? weights[i] : d->src[i].weight;
    return RLC_OK;
}

void lrn_data_next(lrn_data *d, int *src_out, size_t *index) {
    double sum = 0;
    for (int i = 0; i < d->n_src; i++) sum += d->weights[i];
    double r = (double)(splitmix(&d->rng) >> 11) / 9007199254740992.0 * sum;
    int k = 0;
    while (k < d->n_src - 1 && (r -= d->weights[k]) >= 0) k++;
    data_source *s = &d->src[k];
    if (s->cursor == s->n) {
        s->epoch++;
        s->cursor = 0;
        reshuffle(d, s, k);
    }
    *src_out = k;
    *index = s->order[s->cursor++];
}

void lrn_data_observe(lrn_data *d, int src, double accuracy, double abs_adv) {
    data_source *s = &d->src[src];
    s->acc[s->head] = (float)accuracy;
    s->adv[s->head] = (float)abs_adv;
    s->head = (s->head + 1) % s->window;
    if (s->filled < s->window) s->filled++;
    s->seen++;
    s->correct += accuracy;
}

void lrn_data_stats(const lrn_data *d, int src, long *count, double *accuracy, double *mean_abs_adv, long *seen,
                    double *correct) {
    const data_source *s = &d->src[src];
    double a = 0, v = 0;
    for (int i = 0; i < s->filled; i++) {
        a += s->acc[i];
        v += s->adv[i];
    }
    *count = s->filled;
    *accuracy = s->filled ? a / s->filled : 0;
    *mean_abs_adv = s->filled ? v / s->filled : 0;
    *seen = s->seen;
    *correct = s->correct;
}

json_t *lrn_data_state(const lrn_data *d) {
    json_t *arr = json_array();
    for (int i = 0; arr && i < d->n_src; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "name", d->src[i].name, "epoch",
                                             (json_int_t)d->src[i].epoch, "cursor", (json_int_t)d->src[i].cursor));
    json_t *st = json_pack("{s:I, s:o}", "rng", (json_int_t)d->rng, "sources", arr);
    return st;
}

rlc_status lrn_data_restore(lrn_data *d, const json_t *state) {
    json_t *arr = json_object_get(state, "sources");
    json_t *rng = json_object_get(state, "rng");
    if (!json_is_array(arr) || !json_is_integer(rng) || (int)json_array_size(arr) != d->n_src)
        return rlc_errorf(RLC_ERR_FORMAT, "trainer state: data position does not match the experiment's sources");
    d->rng = (uint64_t)json_integer_value(rng);
    for (int i = 0; i < d->n_src; i++) {
        data_source *s = &d->src[i];
        json_t *e = json_array_get(arr, (size_t)i);
        s->epoch = (uint64_t)json_integer_value(json_object_get(e, "epoch"));
        reshuffle(d, s, i);
        size_t c = (size_t)json_integer_value(json_object_get(e, "cursor"));
        s->cursor = c <= s->n ? c : s->n;
    }
    return RLC_OK;
}
