// json.c: jansson wrappers that route allocation through the rlc hook and
// turn parse and type errors into rlc status codes with readable messages;
// the JSON-lines reader.
#include "json.h"

#include <pthread.h>  // pthread_once
#include <string.h>   // memchr

#include "alloc.h"   // rlc_malloc, rlc_free
#include "fileio.h"  // rlc_read_file

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void json_init(void) { json_set_alloc_funcs(rlc_malloc, rlc_free); }

rlc_status rlc_json_load_buffer(const char *buf, size_t len, const char *what, json_t **out) {
    pthread_once(&json_once, json_init);
    json_error_t err;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!j)
        return rlc_errorf(RLC_ERR_FORMAT, "%s:%d:%d: invalid JSON: %s", what, err.line,
                          err.column, err.text);
    *out = j;
    return RLC_OK;
}

rlc_status rlc_json_load_file(const char *path, json_t **out) {
    char *buf;
    size_t len;
    RLC_TRY(rlc_read_file(path, &buf, &len));
    rlc_status s = rlc_json_load_buffer(buf, len, path, out);
    rlc_free(buf);
    return s;
}

static rlc_status missing(const char *key, const char *what) {
    return rlc_errorf(RLC_ERR_CONFIG, "%s: missing field \"%s\"", what, key);
}

static rlc_status wrong_type(const char *key, const char *what, const char *type) {
    return rlc_errorf(RLC_ERR_CONFIG, "%s: field \"%s\" must be %s", what, key, type);
}

rlc_status rlc_json_get_int(const json_t *obj, const char *key, const char *what, long long *out) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return missing(key, what);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return RLC_OK;
    }
    if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v)) {
        *out = (long long)json_real_value(v);
        return RLC_OK;
    }
    return wrong_type(key, what, "an integer");
}

rlc_status rlc_json_get_number(const json_t *obj, const char *key, const char *what, double *out) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return missing(key, what);
    if (!json_is_number(v)) return wrong_type(key, what, "a number");
    *out = json_number_value(v);
    return RLC_OK;
}

rlc_status rlc_json_get_string(const json_t *obj, const char *key, const char *what,
                               const char **out) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return missing(key, what);
    if (!json_is_string(v)) return wrong_type(key, what, "a string");
    *out = json_string_value(v);
    return RLC_OK;
}

rlc_status rlc_json_opt_int(const json_t *obj, const char *key, const char *what, long long def,
                            long long *out) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return RLC_OK;
    }
    return rlc_json_get_int(obj, key, what, out);
}

rlc_status rlc_json_opt_number(const json_t *obj, const char *key, const char *what, double def,
                               double *out) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return RLC_OK;
    }
    return rlc_json_get_number(obj, key, what, out);
}

rlc_status rlc_json_opt_bool(const json_t *obj, const char *key, const char *what, int def,
                             int *out) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return RLC_OK;
    }
    if (!json_is_boolean(v)) return wrong_type(key, what, "true or false");
    *out = json_is_true(v);
    return RLC_OK;
}

void rlc_json_put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

rlc_status rlc_jsonl_each(const char *path, rlc_jsonl_fn fn, void *ud) {
    char *buf;
    size_t len;
    RLC_TRY(rlc_read_file(path, &buf, &len));
    rlc_status s = RLC_OK;
    int stop = 0;
    long line = 0;
    for (size_t at = 0; s == RLC_OK && !stop && at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) : len, a = at;
        line++;
        while (a < end && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r')) a++;
        if (a < end) {
            char where[4200];
            snprintf(where, sizeof where, "%s:%ld", path, line);
            json_t *rec = NULL;
            s = rlc_json_load_buffer(buf + a, end - a, where, &rec);
            if (s == RLC_OK) s = fn(ud, rec, where, &stop);
            json_decref(rec);
        }
        at = end + 1;
    }
    rlc_free(buf);
    return s;
}
