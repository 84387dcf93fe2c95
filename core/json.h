// json.h: JSON reading on top of jansson, with errors that name the file and
// the field. Values are jansson's json_t; release them with json_decref.
#ifndef RLC_JSON_H
#define RLC_JSON_H

#include <jansson.h>  // json_t and its accessors
#include <stddef.h>   // size_t
#include <stdio.h>    // FILE

#include "status.h"

// Parses a whole file. On failure: RLC_ERR_IO (cannot read) or RLC_ERR_FORMAT
// with "path:line:column: reason".
rlc_status rlc_json_load_file(const char *path, json_t **out);
// Parses `len` bytes; `what` names the source in messages.
rlc_status rlc_json_load_buffer(const char *buf, size_t len, const char *what, json_t **out);

// Required fields of an object. `what` names the file in the message, e.g.
// "config.json: missing field \"hidden_size\"" or "... must be an integer".
rlc_status rlc_json_get_int(const json_t *obj, const char *key, const char *what, long long *out);
rlc_status rlc_json_get_number(const json_t *obj, const char *key, const char *what, double *out);
rlc_status rlc_json_get_string(const json_t *obj, const char *key, const char *what,
                               const char **out);  // borrowed from obj

// Optional fields: absent or null gives `def`; a present value of the wrong
// type is still an error.
rlc_status rlc_json_opt_int(const json_t *obj, const char *key, const char *what, long long def,
                            long long *out);
rlc_status rlc_json_opt_number(const json_t *obj, const char *key, const char *what, double def,
                               double *out);
rlc_status rlc_json_opt_bool(const json_t *obj, const char *key, const char *what, int def,
                             int *out);

// Reads a JSON-lines file and calls fn(ud, rec, where, &stop) for each line
// that is not blank, parsed (rec is borrowed for the call; where is
// "path:LINE"). fn returns RLC_OK to go on, and sets stop to end the reading
// early without an error. Returns the first failure: reading the file
// (RLC_ERR_IO), a line that is not JSON (RLC_ERR_FORMAT naming
// path:LINE:COLUMN), or fn's own status.
typedef rlc_status (*rlc_jsonl_fn)(void *ud, const json_t *rec, const char *where, int *stop);
rlc_status rlc_jsonl_each(const char *path, rlc_jsonl_fn fn, void *ud);

// Writes s (UTF-8, NUL-terminated) to f as a JSON string literal: quotes and
// backslashes escaped, control characters as \n or \u00XX. For JSON lines
// written a field at a time, without building a json_t.
void rlc_json_put_string(FILE *f, const char *s);

#endif
