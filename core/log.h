// log.h: leveled logging to stderr. The level comes from rlc_log_set_level or
// the RLC_LOG environment variable (debug, info, warn, error).
#ifndef RLC_LOG_H
#define RLC_LOG_H

typedef enum { RLC_LOG_DEBUG = 0, RLC_LOG_INFO, RLC_LOG_WARN, RLC_LOG_ERROR, RLC_LOG_OFF } rlc_log_level;

void rlc_log_set_level(rlc_log_level level);
rlc_log_level rlc_log_get_level(void);
// Parses "debug" / "info" / "warn" / "error" / "off"; returns -1 when unknown.
int rlc_log_parse_level(const char *name);
void rlc_log(rlc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define RLC_DEBUG(...) rlc_log(RLC_LOG_DEBUG, __VA_ARGS__)
#define RLC_INFO(...) rlc_log(RLC_LOG_INFO, __VA_ARGS__)
#define RLC_WARN(...) rlc_log(RLC_LOG_WARN, __VA_ARGS__)
#define RLC_ERROR(...) rlc_log(RLC_LOG_ERROR, __VA_ARGS__)

#endif
