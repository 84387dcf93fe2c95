// log.c: leveled logging with a timestamp, serialized across threads.
#include "log.h"

#include <pthread.h>  // pthread_mutex_t
#include <stdarg.h>   // va_list
#include <stdio.h>    // fprintf, vfprintf
#include <stdlib.h>   // getenv
#include <string.h>   // strcmp
#include <time.h>     // clock_gettime

static int current_level = -1;  // -1: not yet read from the environment
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

int rlc_log_parse_level(const char *name) {
    for (int i = 0; i <= RLC_LOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    return -1;
}

rlc_log_level rlc_log_get_level(void) {
    if (current_level < 0) {
        const char *env = getenv("RLC_LOG");
        int parsed = env ? rlc_log_parse_level(env) : -1;
        current_level = parsed >= 0 ? parsed : RLC_LOG_INFO;
    }
    return (rlc_log_level)current_level;
}

void rlc_log_set_level(rlc_log_level level) { current_level = (int)level; }

void rlc_log(rlc_log_level level, const char *fmt, ...) {
    if (level < rlc_log_get_level() || level >= RLC_LOG_OFF) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
}
