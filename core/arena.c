// arena.c: chained-block bump allocator.
#include "arena.h"

#include <stdint.h>  // uintptr_t
#include <string.h>  // memcpy

#include "alloc.h"  // rlc_malloc, rlc_free

typedef struct arena_block {
    struct arena_block *next;
    size_t size, used;
    _Alignas(64) unsigned char data[];
} arena_block;

struct rlc_arena {
    arena_block *head;  // the block being filled; older blocks follow
    size_t block_size;
    size_t used;        // bytes handed out since the last reset
};

static arena_block *block_new(size_t size) {
    arena_block *b = rlc_malloc(sizeof(arena_block) + size);
    if (!b) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

rlc_arena *rlc_arena_create(size_t block_size) {
    rlc_arena *a = rlc_malloc(sizeof *a);
    if (!a) return NULL;
    a->block_size = block_size ? block_size : 65536;
    a->used = 0;
    a->head = block_new(a->block_size);
    if (!a->head) {
        rlc_free(a);
        return NULL;
    }
    return a;
}

void rlc_arena_free(rlc_arena *a) {
    if (!a) return;
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        rlc_free(b);
    }
    rlc_free(a);
}

void *rlc_arena_alloc(rlc_arena *a, size_t size, size_t align) {
    if (align == 0) align = 8;
    arena_block *b = a->head;
    size_t off = (b->used + align - 1) & ~(align - 1);
    if (off + size > b->size) {
        size_t need = size + align;
        arena_block *nb = block_new(need > a->block_size ? need : a->block_size);
        if (!nb) return NULL;
        nb->next = a->head;
        a->head = nb;
        b = nb;
        off = 0;
    }
    b->used = off + size;
    a->used += size;
    return b->data + off;
}

char *rlc_arena_strndup(rlc_arena *a, const char *s, size_t n) {
    char *d = rlc_arena_alloc(a, n + 1, 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void rlc_arena_reset(rlc_arena *a) {
    arena_block *b = a->head;
    while (b->next) {  // keep only the oldest block
        arena_block *next = b->next;
        rlc_free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->used = 0;
}

size_t rlc_arena_used(const rlc_arena *a) { return a->used; }
