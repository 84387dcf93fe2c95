// safetensors.c: the safetensors reader (mmap, validation as the reference
// implementation does it, sharded checkpoints), float conversions, and the
// writer (header padded to 8 bytes, written to a temporary file, fsync'ed,
// renamed).
#include "safetensors.h"

#include <errno.h>   // errno
#include <stdio.h>   // FILE, fopen, fwrite, snprintf
#include <stdlib.h>  // qsort, bsearch
#include <string.h>  // memcpy, strcmp, strlen, strerror
#include <unistd.h>  // fsync, unlink

#include "core/alloc.h"   // rlc_malloc, rlc_calloc, rlc_free, rlc_strdup
#include "core/fileio.h"  // rlc_mmap_open, rlc_path_join, rlc_file_exists
#include "core/json.h"    // rlc_json_load_buffer, jansson

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

// ---- dtypes -----------------------------------------------------------------

static const struct {
    const char *name;
    size_t size;
} dtypes[SAFETENSORS_DTYPE_COUNT] = {
    [SAFETENSORS_DTYPE_BOOL] = {"BOOL", 1},     [SAFETENSORS_DTYPE_U8] = {"U8", 1},
    [SAFETENSORS_DTYPE_I8] = {"I8", 1},         [SAFETENSORS_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
    [SAFETENSORS_DTYPE_F8_E4M3] = {"F8_E4M3", 1}, [SAFETENSORS_DTYPE_I16] = {"I16", 2},
    [SAFETENSORS_DTYPE_U16] = {"U16", 2},       [SAFETENSORS_DTYPE_F16] = {"F16", 2},
    [SAFETENSORS_DTYPE_BF16] = {"BF16", 2},     [SAFETENSORS_DTYPE_I32] = {"I32", 4},
    [SAFETENSORS_DTYPE_U32] = {"U32", 4},       [SAFETENSORS_DTYPE_F32] = {"F32", 4},
    [SAFETENSORS_DTYPE_F64] = {"F64", 8},       [SAFETENSORS_DTYPE_I64] = {"I64", 8},
    [SAFETENSORS_DTYPE_U64] = {"U64", 8},       [SAFETENSORS_DTYPE_F8_E8M0] = {"F8_E8M0", 1},
    [SAFETENSORS_DTYPE_C64] = {"C64", 8},
};

const char *safetensors_dtype_name(safetensors_dtype d) {
    return (int)d >= 0 && d < SAFETENSORS_DTYPE_COUNT ? dtypes[d].name : "?";
}

size_t safetensors_dtype_size(safetensors_dtype d) {
    return (int)d >= 0 && d < SAFETENSORS_DTYPE_COUNT ? dtypes[d].size : 0;
}

static int dtype_from_name(const char *s, safetensors_dtype *out) {
    for (int i = 0; i < SAFETENSORS_DTYPE_COUNT; i++)
        if (strcmp(dtypes[i].name, s) == 0) {
            *out = (safetensors_dtype)i;
            return 1;
        }
    return 0;
}

// ---- conversions --------------------------------------------------------------

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t bits_from_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float safetensors_bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

uint16_t safetensors_f32_to_bf16(float f) {
    uint32_t u = bits_from_f32(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1);  // round to nearest, ties to even
    return (uint16_t)(u >> 16);
}

float safetensors_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) {  // zero or subnormal: mant * 2^-24
        float v = (float)mant * (1.0f / 16777216.0f);
        return f32_from_bits(bits_from_f32(v) | sign);
    }
    if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));  // inf, NaN
    return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

static uint16_t load_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

rlc_status safetensors_to_f32(const safetensors_tensor *t, float *dst) {
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case SAFETENSORS_DTYPE_F32:
        memcpy(dst, p, t->numel * 4);
        return RLC_OK;
    case SAFETENSORS_DTYPE_BF16:
        for (size_t i = 0; i < t->numel; i++) dst[i] = safetensors_bf16_to_f32(load_u16(p + 2 * i));
        return RLC_OK;
    case SAFETENSORS_DTYPE_F16:
        for (size_t i = 0; i < t->numel; i++) dst[i] = safetensors_f16_to_f32(load_u16(p + 2 * i));
        return RLC_OK;
    case SAFETENSORS_DTYPE_F64:
        for (size_t i = 0; i < t->numel; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        return RLC_OK;
    default:
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "tensor %s: dtype %s cannot be converted to float32",
                          t->name, safetensors_dtype_name(t->dtype));
    }
}

// ---- one file -------------------------------------------------------------------

struct safetensors_file {
    char *path;
    rlc_mmap map;
    json_t *header;               // owns the name and metadata strings
    const json_t *metadata;       // "__metadata__" object or NULL
    safetensors_tensor *tensors;  // (n) in data-offset order
    safetensors_tensor **by_name; // (n) sorted by name, for bsearch
    int n;
};

// A tensor with its byte range while the header is being checked.
typedef struct {
    safetensors_tensor t;
    uint64_t begin, end;
} pending;

static uint64_t load_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

// A JSON integer in [0, 2^53) (what JSON can carry exactly); -1 otherwise.
static int64_t json_index(const json_t *v) {
    if (!json_is_integer(v)) return -1;
    json_int_t x = json_integer_value(v);
    return x >= 0 && x < (1LL << 53) ? (int64_t)x : -1;
}

#define FMT_ERR(...) rlc_errorf(RLC_ERR_FORMAT, __VA_ARGS__)

static rlc_status parse_shape(const char *path, const char *name, const json_t *shape,
                              safetensors_tensor *t) {
    if (!json_is_array(shape))
        return FMT_ERR("%s: tensor %s: \"shape\" must be a list of integers", path, name);
    if (json_array_size(shape) > SAFETENSORS_MAX_DIMS)
        return FMT_ERR("%s: tensor %s: %zu dimensions, at most %d are supported", path, name,
                       json_array_size(shape), SAFETENSORS_MAX_DIMS);
    t->ndim = (int)json_array_size(shape);
    t->numel = 1;
    int overflow = 0;
    for (int d = 0; d < t->ndim; d++) {
        int64_t v = json_index(json_array_get(shape, d));
        if (v < 0)
            return FMT_ERR("%s: tensor %s: shape entries must be non-negative integers", path, name);
        t->shape[d] = v;
        if (v && t->numel > SIZE_MAX / (size_t)v) overflow = 1;
        t->numel *= (size_t)v;
    }
    if (overflow) return FMT_ERR("%s: tensor %s: shape too large", path, name);
    return RLC_OK;
}

static rlc_status parse_entry(const char *path, const char *name, const json_t *v, pending *p) {
    memset(p, 0, sizeof *p);
    p->t.name = name;
    if (!json_is_object(v))
        return FMT_ERR("%s: tensor %s: entry must be an object with dtype, shape, data_offsets",
                       path, name);
    const json_t *dt = json_object_get(v, "dtype");
    if (!json_is_string(dt))
        return FMT_ERR("%s: tensor %s: missing or non-string \"dtype\"", path, name);
    if (!dtype_from_name(json_string_value(dt), &p->t.dtype))
        return FMT_ERR("%s: tensor %s: unknown dtype \"%s\"", path, name, json_string_value(dt));
    RLC_TRY(parse_shape(path, name, json_object_get(v, "shape"), &p->t));
    const json_t *off = json_object_get(v, "data_offsets");
    int64_t b = -1, e = -1;
    if (json_is_array(off) && json_array_size(off) == 2) {
        b = json_index(json_array_get(off, 0));
        e = json_index(json_array_get(off, 1));
    }
    if (b < 0 || e < 0)
        return FMT_ERR("%s: tensor %s: \"data_offsets\" must be [begin, end] with non-negative "
                       "integers", path, name);
    p->begin = (uint64_t)b;
    p->end = (uint64_t)e;
    return RLC_OK;
}

static rlc_status parse_metadata(const char *path, const json_t *v, safetensors_file *f) {
    if (json_is_null(v)) return RLC_OK;
    if (!json_is_object(v))
        return FMT_ERR("%s: \"__metadata__\" must be an object of strings", path);
    const char *k;
    const json_t *s;
    json_object_foreach((json_t *)v, k, s) {
        if (!json_is_string(s))
            return FMT_ERR("%s: \"__metadata__\" value of \"%s\" must be a string", path, k);
    }
    f->metadata = v;
    return RLC_OK;
}

static int cmp_offsets(const void *a, const void *b) {
    const pending *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

// Ranges sorted by offset must tile [0, data_len) exactly, and each must hold
// exactly shape x dtype-size bytes (the reference's Metadata::validate).
static rlc_status check_ranges(const char *path, pending *p, int n, uint64_t data_len) {
    qsort(p, (size_t)n, sizeof *p, cmp_offsets);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const char *name = p[i].t.name;
        if (p[i].end < p[i].begin)
            return FMT_ERR("%s: tensor %s: data_offsets [%llu, %llu] end before they begin", path,
                           name, (unsigned long long)p[i].begin, (unsigned long long)p[i].end);
        if (p[i].begin != at)
            return FMT_ERR("%s: tensor %s: data_offsets begin at %llu but the previous tensor ends "
                           "at %llu (%s)", path, name, (unsigned long long)p[i].begin,
                           (unsigned long long)at, p[i].begin < at ? "overlap" : "gap");
        size_t esz = dtypes[p[i].t.dtype].size;
        if (p[i].t.numel > SIZE_MAX / esz || p[i].end - p[i].begin != p[i].t.numel * esz)
            return FMT_ERR("%s: tensor %s: %zu elements of %s need %zu bytes but data_offsets "
                           "span %llu", path, name, p[i].t.numel, dtypes[p[i].t.dtype].name,
                           p[i].t.numel * esz, (unsigned long long)(p[i].end - p[i].begin));
        at = p[i].end;
    }
    if (at != data_len)
        return FMT_ERR("%s: the tensors cover %llu bytes but the data section holds %llu%s", path,
                       (unsigned long long)at, (unsigned long long)data_len,
                       at > data_len ? " (truncated file?)" : "");
    return RLC_OK;
}

static int cmp_by_name(const void *a, const void *b) {
    const safetensors_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

// Moves the checked entries into the file and builds the name index.
static rlc_status adopt_tensors(safetensors_file *f, pending *p, int n, const unsigned char *data) {
    f->tensors = rlc_calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    f->by_name = rlc_calloc((size_t)(n ? n : 1), sizeof *f->by_name);
    if (!f->tensors || !f->by_name) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", f->path);
    for (int i = 0; i < n; i++) {
        f->tensors[i] = p[i].t;
        f->tensors[i].data = data + p[i].begin;
        f->tensors[i].nbytes = (size_t)(p[i].end - p[i].begin);
        f->by_name[i] = &f->tensors[i];
    }
    f->n = n;
    qsort(f->by_name, (size_t)n, sizeof *f->by_name, cmp_by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) == 0)
            return FMT_ERR("%s: duplicate tensor name %s", f->path, f->by_name[i]->name);
    return RLC_OK;
}

// Parses the tensor entries of the header object.
static rlc_status parse_entries(safetensors_file *f, uint64_t data_len, const unsigned char *data) {
    size_t cap = json_object_size(f->header);
    pending *p = rlc_calloc(cap ? cap : 1, sizeof *p);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", f->path);
    rlc_status s = RLC_OK;
    int n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(f->header, k, v) {
        if (strcmp(k, "__metadata__") == 0)
            s = parse_metadata(f->path, v, f);
        else
            s = parse_entry(f->path, k, v, &p[n++]);
        if (s != RLC_OK) break;
    }
    if (s == RLC_OK) s = check_ranges(f->path, p, n, data_len);
    if (s == RLC_OK) s = adopt_tensors(f, p, n, data);
    rlc_free(p);
    return s;
}

// The 8-byte length, its bounds, and the JSON object it frames.
static rlc_status parse_header(safetensors_file *f) {
    const unsigned char *b = f->map.data;
    size_t size = f->map.size;
    if (size < 8)
        return FMT_ERR("%s: %zu bytes is too small for a safetensors file (8-byte header length)",
                       f->path, size);
    uint64_t n = load_u64(b);
    if (n > SAFETENSORS_MAX_HEADER)
        return FMT_ERR("%s: header length %llu exceeds the %d-byte limit (not a safetensors file?)",
                       f->path, (unsigned long long)n, SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return FMT_ERR("%s: header length %llu runs past the end of the file (%zu bytes; "
                       "truncated?)", f->path, (unsigned long long)n, size);
    if (n == 0 || b[8] != '{')
        return FMT_ERR("%s: the header must be a JSON object starting with '{'", f->path);
    rlc_status s = rlc_json_load_buffer((const char *)b + 8, (size_t)n, f->path, &f->header);
    if (s != RLC_OK) return rlc_error_wrap(s, "bad safetensors header");
    if (!json_is_object(f->header)) return FMT_ERR("%s: the header must be a JSON object", f->path);
    return parse_entries(f, size - 8 - n, b + 8 + n);
}

rlc_status safetensors_open(const char *path, safetensors_file **out) {
    *out = NULL;
    safetensors_file *f = rlc_calloc(1, sizeof *f);
    if (!f || !(f->path = rlc_strdup(path))) {
        rlc_free(f);
        return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    }
    rlc_status s = rlc_mmap_open(path, &f->map);
    if (s == RLC_OK) s = parse_header(f);
    if (s != RLC_OK) {
        safetensors_close(f);
        return s;
    }
    *out = f;
    return RLC_OK;
}

void safetensors_close(safetensors_file *f) {
    if (!f) return;
    rlc_mmap_close(&f->map);
    if (f->header) json_decref(f->header);
    rlc_free(f->tensors);
    rlc_free(f->by_name);
    rlc_free(f->path);
    rlc_free(f);
}

const char *safetensors_path(const safetensors_file *f) { return f->path; }
int safetensors_count(const safetensors_file *f) { return f->n; }

const safetensors_tensor *safetensors_get(const safetensors_file *f, int i) {
    return i >= 0 && i < f->n ? &f->tensors[i] : NULL;
}

const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name) {
    safetensors_tensor key = {.name = name}, *kp = &key;
    safetensors_tensor **hit = bsearch(&kp, f->by_name, (size_t)f->n, sizeof *f->by_name, cmp_by_name);
    return hit ? *hit : NULL;
}

const char *safetensors_metadata(const safetensors_file *f, const char *key) {
    if (!f->metadata) return NULL;
    return json_string_value(json_object_get(f->metadata, key));
}

// ---- a checkpoint directory -------------------------------------------------------

typedef struct {
    const char *name;  // borrowed from the index JSON
    int file;
} set_entry;

struct safetensors_set {
    char *path;                // the index file, or the single file
    safetensors_file **files;  // (n_files)
    int n_files;
    json_t *index;             // NULL for a single file
    set_entry *map;            // (n_map) sorted by name
    int n_map;
};

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const set_entry *)a)->name, ((const set_entry *)b)->name);
}

// Index of the open shard `fname`, opening it on first use.
static rlc_status set_shard(safetensors_set *s, const char *dir, const char *fname, int *out) {
    char path[4096];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, fname));
    for (int i = 0; i < s->n_files; i++)
        if (strcmp(safetensors_path(s->files[i]), path) == 0) {
            *out = i;
            return RLC_OK;
        }
    if (fname[0] == '\0' || strchr(fname, '/') || strcmp(fname, ".") == 0 ||
        strcmp(fname, "..") == 0)
        return FMT_ERR("%s: weight_map names \"%s\", not a plain file name", s->path, fname);
    RLC_TRY(safetensors_open(path, &s->files[s->n_files]));
    *out = s->n_files++;
    return RLC_OK;
}

static rlc_status set_load_index(safetensors_set *s, const char *dir) {
    RLC_TRY(rlc_json_load_file(s->path, &s->index));
    const json_t *wm = json_object_get(s->index, "weight_map");
    if (!json_is_object(wm))
        return FMT_ERR("%s: missing or non-object \"weight_map\"", s->path);
    size_t n = json_object_size(wm);
    s->map = rlc_calloc(n ? n : 1, sizeof *s->map);
    s->files = rlc_calloc(n ? n : 1, sizeof *s->files);
    if (!s->map || !s->files) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", s->path);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)wm, k, v) {
        if (!json_is_string(v))
            return FMT_ERR("%s: weight_map value of %s must be a file name", s->path, k);
        set_entry *e = &s->map[s->n_map++];
        e->name = k;
        RLC_TRY(set_shard(s, dir, json_string_value(v), &e->file));
        if (!safetensors_find(s->files[e->file], k))
            return FMT_ERR("%s: weight_map puts tensor %s in %s, which does not hold it", s->path,
                           k, safetensors_path(s->files[e->file]));
    }
    qsort(s->map, (size_t)s->n_map, sizeof *s->map, cmp_entry);
    return RLC_OK;
}

static rlc_status set_load_single(safetensors_set *s) {
    s->files = rlc_calloc(1, sizeof *s->files);
    if (!s->files) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", s->path);
    RLC_TRY(safetensors_open(s->path, &s->files[0]));
    s->n_files = 1;
    return RLC_OK;
}

rlc_status safetensors_set_open(const char *dir, safetensors_set **out) {
    *out = NULL;
    char index[4096], single[4096];
    RLC_TRY(rlc_path_join(index, sizeof index, dir, "model.safetensors.index.json"));
    RLC_TRY(rlc_path_join(single, sizeof single, dir, "model.safetensors"));
    int sharded = rlc_file_exists(index);
    if (!sharded && !rlc_file_exists(single))
        return rlc_errorf(RLC_ERR_IO, "%s: neither model.safetensors nor "
                          "model.safetensors.index.json is there", dir);
    safetensors_set *s = rlc_calloc(1, sizeof *s);
    if (!s || !(s->path = rlc_strdup(sharded ? index : single))) {
        rlc_free(s);
        return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", dir);
    }
    rlc_status st = sharded ? set_load_index(s, dir) : set_load_single(s);
    if (st != RLC_OK) {
        safetensors_set_close(s);
        return st;
    }
    *out = s;
    return RLC_OK;
}

void safetensors_set_close(safetensors_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) safetensors_close(s->files[i]);
    rlc_free(s->files);
    rlc_free(s->map);
    if (s->index) json_decref(s->index);
    rlc_free(s->path);
    rlc_free(s);
}

const safetensors_tensor *safetensors_set_find(const safetensors_set *s, const char *name,
                                               const char **file) {
    int fi = 0;
    if (s->index) {
        set_entry key = {name, 0};
        const set_entry *e = bsearch(&key, s->map, (size_t)s->n_map, sizeof *s->map, cmp_entry);
        if (!e) return NULL;
        fi = e->file;
    }
    if (file) *file = safetensors_path(s->files[fi]);
    return safetensors_find(s->files[fi], name);
}

const char *safetensors_set_path(const safetensors_set *s) { return s->path; }

// ---- writing ------------------------------------------------------------------------

// A growing string for the header.
typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = rlc_realloc(b->buf, cap);
        if (!nb) {
            b->oom = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, unsigned long long v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    sb_put(b, tmp, (size_t)n);
}

// A JSON string literal: quotes, backslashes and control bytes escaped.
static void sb_json_string(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04llx", c);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static size_t entry_numel(const safetensors_entry *e) {
    size_t n = 1;
    for (int d = 0; d < e->ndim; d++) n *= (size_t)e->shape[d];
    return n;
}

// The header JSON, padded with spaces so that 8 + length is a multiple of 8.
static rlc_status build_header(const safetensors_entry *t, int n, safetensors_dtype dtype,
                               sbuf *b) {
    size_t esz = dtypes[dtype].size, at = 0;
    sb_str(b, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n; i++) {
        size_t bytes = entry_numel(&t[i]) * esz;
        sb_str(b, ",");
        sb_json_string(b, t[i].name);
        sb_str(b, ":{\"dtype\":\"");
        sb_str(b, dtypes[dtype].name);
        sb_str(b, "\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) sb_printf(b, d ? ",%llu" : "%llu", (unsigned long long)t[i].shape[d]);
        sb_printf(b, "],\"data_offsets\":[%llu,", at);
        sb_printf(b, "%llu]}", at + bytes);
        at += bytes;
    }
    sb_str(b, "}");
    while (b->len % 8 != 0) sb_str(b, " ");
    if (b->oom) return rlc_errorf(RLC_ERR_NOMEM, "safetensors_write: out of memory for the header");
    return RLC_OK;
}

static rlc_status check_entries(const char *path, const safetensors_entry *t, int n,
                                safetensors_dtype dtype) {
    if (dtype != SAFETENSORS_DTYPE_F32 && dtype != SAFETENSORS_DTYPE_BF16)
        return rlc_errorf(RLC_ERR_ARG, "%s: can only write F32 or BF16, not %s", path,
                          safetensors_dtype_name(dtype));
    for (int i = 0; i < n; i++) {
        if (!t[i].name || !t[i].name[0] || strcmp(t[i].name, "__metadata__") == 0)
            return rlc_errorf(RLC_ERR_ARG, "%s: tensor %d has no usable name", path, i);
        if (t[i].ndim < 0 || t[i].ndim > SAFETENSORS_MAX_DIMS)
            return rlc_errorf(RLC_ERR_ARG, "%s: tensor %s: bad ndim %d", path, t[i].name, t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++)
            if (t[i].shape[d] < 0)
                return rlc_errorf(RLC_ERR_ARG, "%s: tensor %s: negative dimension", path, t[i].name);
        for (int j = 0; j < i; j++)
            if (strcmp(t[i].name, t[j].name) == 0)
                return rlc_errorf(RLC_ERR_ARG, "%s: duplicate tensor name %s", path, t[i].name);
    }
    return RLC_OK;
}

static int write_bf16(FILE *fp, const float *x, size_t n) {
    uint16_t chunk[4096];
    for (size_t i = 0; i < n;) {
        size_t m = n - i < 4096 ? n - i : 4096;
        for (size_t k = 0; k < m; k++) chunk[k] = safetensors_f32_to_bf16(x[i + k]);
        if (fwrite(chunk, 2, m, fp) != m) return 0;
        i += m;
    }
    return 1;
}

static int write_body(FILE *fp, const sbuf *hdr, const safetensors_entry *t, int n,
                      safetensors_dtype dtype) {
    unsigned char len8[8];
    uint64_t hl = hdr->len;
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hl >> (8 * i));
    if (fwrite(len8, 1, 8, fp) != 8 || fwrite(hdr->buf, 1, hdr->len, fp) != hdr->len) return 0;
    for (int i = 0; i < n; i++) {
        size_t m = entry_numel(&t[i]);
        int ok = dtype == SAFETENSORS_DTYPE_F32 ? fwrite(t[i].data, 4, m, fp) == m
                                                : write_bf16(fp, t[i].data, m);
        if (!ok) return 0;
    }
    return fflush(fp) == 0 && fsync(fileno(fp)) == 0;
}

rlc_status safetensors_write(const char *path, const safetensors_entry *t, int n,
                             safetensors_dtype dtype) {
    RLC_TRY(check_entries(path, t, n, dtype));
    sbuf hdr = {0};
    rlc_status s = build_header(t, n, dtype, &hdr);
    size_t plen = strlen(path);
    char *tmp = s == RLC_OK ? rlc_malloc(plen + 5) : NULL;
    if (s == RLC_OK && !tmp) s = rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    if (s == RLC_OK) {
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, ".tmp", 5);
        FILE *fp = fopen(tmp, "wb");
        if (!fp) {
            s = rlc_errorf(RLC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        } else {
            int ok = write_body(fp, &hdr, t, n, dtype);
            int e = errno;
            ok = fclose(fp) == 0 && ok;
            if (!ok) s = rlc_errorf(RLC_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
            else if (rename(tmp, path) != 0)
                s = rlc_errorf(RLC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path,
                               strerror(errno));
            if (s != RLC_OK) unlink(tmp);
        }
    }
    rlc_free(tmp);
    rlc_free(hdr.buf);
    return s;
}
