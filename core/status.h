// status.h: status codes and the per-thread error message.
// Library code never exits on bad input: a call that can fail returns an
// rlc_status and, on failure, leaves a readable message for rlc_last_error().
#ifndef RLC_STATUS_H
#define RLC_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RLC_OK = 0,
    RLC_ERR_NOMEM,        // an allocation failed
    RLC_ERR_IO,           // a file could not be opened, read or written
    RLC_ERR_FORMAT,       // a file or buffer is malformed (names the file and field)
    RLC_ERR_CONFIG,       // a configuration value is missing, unknown or of the wrong type
    RLC_ERR_ARG,          // a caller passed an invalid argument
    RLC_ERR_UNSUPPORTED,  // a valid request this build cannot serve
    RLC_ERR_CUDA,         // a CUDA, cuBLAS or NCCL call failed
    RLC_ERR_BAD_MESSAGE,  // a peer sent a malformed message
    RLC_ERR_LUA,          // a Lua script failed
    RLC_ERR_LIMIT,        // a size or budget limit was reached
    RLC_ERR_STATE,        // the object is not in a state that allows the call
    RLC_STATUS_COUNT
} rlc_status;

// The fixed name of a status code, e.g. "RLC_ERR_FORMAT".
const char *rlc_status_name(rlc_status s);

// Sets the calling thread's error message (printf-style) and returns `code`,
// so that a failure reads `return rlc_errorf(RLC_ERR_IO, "open %s: %s", ...)`.
rlc_status rlc_errorf(rlc_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Prefixes the current message with more context ("loading x: <old message>")
// and returns `code` unchanged.
rlc_status rlc_error_wrap(rlc_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// The calling thread's last error message; "" when none was set.
// Valid until the next rlc_errorf on this thread.
const char *rlc_last_error(void);
void rlc_clear_error(void);

// Propagates a failing status: RLC_TRY(f(x)); returns from the caller on error.
#define RLC_TRY(expr)                          \
    do {                                       \
        rlc_status rlc_try_s_ = (expr);        \
        if (rlc_try_s_ != RLC_OK) return rlc_try_s_; \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
