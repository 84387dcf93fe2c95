// fileio.c: file helpers over POSIX.
#include "fileio.h"

#include <errno.h>     // errno
#include <fcntl.h>     // open
#include <stdio.h>     // snprintf
#include <string.h>    // strerror
#include <sys/mman.h>  // mmap
#include <sys/stat.h>  // fstat
#include <time.h>      // clock_gettime
#include <stdlib.h>    // getenv
#include <unistd.h>    // read, close

#include "alloc.h"  // rlc_malloc

// Opens a regular file for reading; *size gets its length.
static rlc_status open_regular(const char *path, int *fd_out, size_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return rlc_errorf(RLC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rlc_errorf(RLC_ERR_IO, "%s: not a regular file", path);
    }
    *fd_out = fd;
    *size = (size_t)st.st_size;
    return RLC_OK;
}

rlc_status rlc_read_file(const char *path, char **out, size_t *len) {
    int fd;
    size_t size;
    RLC_TRY(open_regular(path, &fd, &size));
    char *buf = rlc_malloc(size + 1);
    if (!buf) {
        close(fd);
        return rlc_errorf(RLC_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size + 1);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            rlc_free(buf);
            return rlc_errorf(RLC_ERR_IO, "%s: read failed: %s", path, r < 0 ? strerror(e) : "short read");
        }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = '\0';
    *out = buf;
    *len = size;
    return RLC_OK;
}

rlc_status rlc_mmap_open(const char *path, rlc_mmap *out) {
    out->data = NULL;
    out->size = 0;
    int fd;
    size_t size;
    RLC_TRY(open_regular(path, &fd, &size));
    if (size == 0) {  // mmap of zero bytes fails; an empty map is valid
        close(fd);
        return RLC_OK;
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return rlc_errorf(RLC_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    out->data = p;
    out->size = size;
    return RLC_OK;
}

void rlc_mmap_close(rlc_mmap *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

int rlc_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int rlc_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

rlc_status rlc_path_join(char *buf, size_t cap, const char *dir, const char *name) {
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) return rlc_errorf(RLC_ERR_ARG, "path too long: %s/%s", dir, name);
    return RLC_OK;
}

const char *rlc_expand_path(const char *path, char *buf, size_t cap) {
    const char *data = getenv("RLC_DATA");
    if (strncmp(path, "$RLC_DATA/", 10) == 0)
        snprintf(buf, cap, "%s/%s", data && data[0] ? data : "../shared/data", path + 10);
    else
        snprintf(buf, cap, "%s", path);
    return buf;
}

double rlc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
