// alloc.c: the allocation hook and its default (the C library), plus failure
// injection for tests.
#include "alloc.h"

#include <stdatomic.h>  // atomic_long
#include <stdint.h>     // SIZE_MAX
#include <stdlib.h>     // realloc, free, posix_memalign
#include <string.h>     // memset, strlen, memcpy

static void *default_alloc(void *ud, void *ptr, size_t size) {
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static rlc_alloc_fn alloc_fn = default_alloc;
static void *alloc_ud = NULL;
static atomic_long fail_countdown = -1;

void rlc_set_allocator(rlc_alloc_fn fn, void *ud) {
    alloc_fn = fn ? fn : default_alloc;
    alloc_ud = fn ? ud : NULL;
}

void rlc_alloc_fail_after(long n) { atomic_store(&fail_countdown, n); }

static int injected_failure(void) {
    long c = atomic_load(&fail_countdown);
    if (c < 0) return 0;
    if (c == 0) return 1;
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

void *rlc_malloc(size_t size) {
    if (injected_failure()) return NULL;
    return alloc_fn(alloc_ud, NULL, size ? size : 1);
}

void *rlc_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = rlc_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *rlc_realloc(void *ptr, size_t size) {
    if (injected_failure()) return NULL;
    return alloc_fn(alloc_ud, ptr, size ? size : 1);
}

void rlc_free(void *ptr) {
    if (ptr) alloc_fn(alloc_ud, ptr, 0);
}

char *rlc_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *d = rlc_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *rlc_strdup(const char *s) { return rlc_strndup(s, strlen(s)); }

// Aligned blocks keep the hook's pointer just before the aligned address.
void *rlc_malloc_aligned(size_t size) {
    const size_t align = 64;
    if (size > SIZE_MAX - align - sizeof(void *)) return NULL;
    char *raw = rlc_malloc(size + align + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t p = ((uintptr_t)(raw + sizeof(void *)) + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)p)[-1] = raw;
    return (void *)p;
}

void rlc_free_aligned(void *ptr) {
    if (ptr) rlc_free(((void **)ptr)[-1]);
}
