// fileio.h: whole-file reads, read-only memory maps, paths and clocks.
#ifndef RLC_FILEIO_H
#define RLC_FILEIO_H

#include <stddef.h>  // size_t

#include "status.h"

// Reads a whole file into a new NUL-terminated buffer (caller frees with
// rlc_free); *len excludes the terminator. RLC_ERR_IO names the path.
rlc_status rlc_read_file(const char *path, char **out, size_t *len);

// A read-only memory map of a whole file.
typedef struct {
    const unsigned char *data;
    size_t size;
} rlc_mmap;

rlc_status rlc_mmap_open(const char *path, rlc_mmap *out);
void rlc_mmap_close(rlc_mmap *m);

int rlc_file_exists(const char *path);
int rlc_is_dir(const char *path);
// Joins dir and name into buf ("dir/name"); RLC_ERR_ARG if it does not fit.
rlc_status rlc_path_join(char *buf, size_t cap, const char *dir, const char *name);

// Expands a leading "$RLC_DATA/" (the shared data folder: the RLC_DATA
// environment variable, else ../shared/data) into buf; other paths are
// copied. Returns buf. Experiment files use it for model and data paths.
const char *rlc_expand_path(const char *path, char *buf, size_t cap);

// Monotonic seconds.
double rlc_now(void);

#endif
