// arena.h: a bump allocator over chained blocks. Objects carved from an arena
// are freed all at once by rlc_arena_reset or rlc_arena_free.
#ifndef RLC_ARENA_H
#define RLC_ARENA_H

#include <stddef.h>  // size_t

typedef struct rlc_arena rlc_arena;

// block_size: bytes per block (a larger request gets a block of its own).
rlc_arena *rlc_arena_create(size_t block_size);  // NULL on allocation failure
void rlc_arena_free(rlc_arena *a);
// Aligned to `align` (a power of two, at most 64); NULL when out of memory.
void *rlc_arena_alloc(rlc_arena *a, size_t size, size_t align);
char *rlc_arena_strndup(rlc_arena *a, const char *s, size_t n);
// Forgets every allocation but keeps the first block for reuse.
void rlc_arena_reset(rlc_arena *a);
size_t rlc_arena_used(const rlc_arena *a);

#endif
