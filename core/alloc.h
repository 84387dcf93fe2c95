// alloc.h: the one allocation hook. Every heap allocation in rlc goes through
// rlc_malloc / rlc_calloc / rlc_realloc / rlc_free, so that tests can make the
// Nth allocation fail (as Lua's ltests.c and redis's zmalloc allow).
#ifndef RLC_ALLOC_H
#define RLC_ALLOC_H

#include <stddef.h>  // size_t

// The hook: like realloc(ptr, size); size 0 frees and returns NULL.
typedef void *(*rlc_alloc_fn)(void *ud, void *ptr, size_t size);

void rlc_set_allocator(rlc_alloc_fn fn, void *ud);  // NULL restores the default

void *rlc_malloc(size_t size);
void *rlc_calloc(size_t count, size_t size);  // zeroed; checks count*size overflow
void *rlc_realloc(void *ptr, size_t size);
void rlc_free(void *ptr);
char *rlc_strdup(const char *s);
char *rlc_strndup(const char *s, size_t n);  // copies at most n bytes, NUL-terminates

// 64-byte aligned allocation for big tensors (free with rlc_free_aligned).
void *rlc_malloc_aligned(size_t size);
void rlc_free_aligned(void *ptr);

// Test support: after `n` more successful allocations, every allocation fails
// (returns NULL). n < 0 disables the failure injection.
void rlc_alloc_fail_after(long n);

#endif
