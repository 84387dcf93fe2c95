// status.c: status names and the thread-local error message buffer.
#include "status.h"

#include <stdarg.h>  // va_list
#include <stdio.h>   // vsnprintf
#include <string.h>  // memcpy, strlen

#define RLC_ERRMSG_MAX 1024

static _Thread_local char errmsg[RLC_ERRMSG_MAX];

static const char *status_names[RLC_STATUS_COUNT] = {
    [RLC_OK] = "RLC_OK",
    [RLC_ERR_NOMEM] = "RLC_ERR_NOMEM",
    [RLC_ERR_IO] = "RLC_ERR_IO",
    [RLC_ERR_FORMAT] = "RLC_ERR_FORMAT",
    [RLC_ERR_CONFIG] = "RLC_ERR_CONFIG",
    [RLC_ERR_ARG] = "RLC_ERR_ARG",
    [RLC_ERR_UNSUPPORTED] = "RLC_ERR_UNSUPPORTED",
    [RLC_ERR_CUDA] = "RLC_ERR_CUDA",
    [RLC_ERR_BAD_MESSAGE] = "RLC_ERR_BAD_MESSAGE",
    [RLC_ERR_LUA] = "RLC_ERR_LUA",
    [RLC_ERR_LIMIT] = "RLC_ERR_LIMIT",
    [RLC_ERR_STATE] = "RLC_ERR_STATE",
};

const char *rlc_status_name(rlc_status s) {
    if ((int)s < 0 || s >= RLC_STATUS_COUNT) return "RLC_ERR_UNKNOWN";
    return status_names[s];
}

rlc_status rlc_errorf(rlc_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return code;
}

rlc_status rlc_error_wrap(rlc_status code, const char *fmt, ...) {
    char prefix[RLC_ERRMSG_MAX], old[RLC_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof old);
    snprintf(errmsg, sizeof errmsg, "%.400s: %.600s", prefix, old);
    return code;
}

const char *rlc_last_error(void) { return errmsg; }

void rlc_clear_error(void) { errmsg[0] = '\0'; }
