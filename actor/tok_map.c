// tok_map.c: the tokenizer's two hash maps, open addressing with linear
// probing: bytes -> id (the vocabulary by model-space key) and
// (left id, right id) -> (rank, merged id) (the merge ranks). Both keep the
// first value put for a key.
#include <string.h>  // memcmp

#include "core/alloc.h"  // rlc_malloc, rlc_calloc, rlc_free
#include "tok_internal.h"

// ---- bytes -> id ----------------------------------------------------------------

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

rlc_status tok_strmap_init(tok_strmap *m, size_t expected) {
    size_t cap = pow2_at_least(expected * 2 + 1);
    m->slots = rlc_malloc(cap * sizeof *m->slots);
    if (!m->slots) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: cannot allocate a %zu-slot map", cap);
    for (size_t i = 0; i < cap; i++) m->slots[i].value = -1;
    m->mask = cap - 1;
    m->count = 0;
    return RLC_OK;
}

static rlc_status strmap_grow(tok_strmap *m) {
    tok_strmap bigger;
    RLC_TRY(tok_strmap_init(&bigger, (m->mask + 1)));
    for (size_t i = 0; i <= m->mask; i++) {
        tok_strmap_entry *e = &m->slots[i];
        if (e->value >= 0) tok_strmap_put(&bigger, e->key, e->len, e->value);
    }
    rlc_free(m->slots);
    *m = bigger;
    return RLC_OK;
}

rlc_status tok_strmap_put(tok_strmap *m, const char *key, size_t len, int value) {
    if ((m->count + 1) * 2 > m->mask + 1) RLC_TRY(strmap_grow(m));
    size_t i = (size_t)hash_bytes(key, len) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        tok_strmap_entry *e = &m->slots[i];
        if (e->value < 0) {
            e->key = key;
            e->len = (uint32_t)len;
            e->value = value;
            m->count++;
            return RLC_OK;
        }
        if (e->len == len && memcmp(e->key, key, len) == 0) return RLC_OK;  // first wins
    }
}

int tok_strmap_get(const tok_strmap *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    size_t i = (size_t)hash_bytes(key, len) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        const tok_strmap_entry *e = &m->slots[i];
        if (e->value < 0) return -1;
        if (e->len == len && memcmp(e->key, key, len) == 0) return e->value;
    }
}

void tok_strmap_free(tok_strmap *m) {
    rlc_free(m->slots);
    m->slots = NULL;
}

// ---- (left, right) -> merge -----------------------------------------------------

rlc_status tok_mergemap_init(tok_mergemap *m, size_t expected) {
    size_t cap = pow2_at_least(expected * 2 + 1);
    m->slots = rlc_calloc(cap, sizeof *m->slots);
    if (!m->slots) return rlc_errorf(RLC_ERR_NOMEM, "tokenizer: cannot allocate %zu merge slots", cap);
    m->mask = cap - 1;
    m->count = 0;
    return RLC_OK;
}

rlc_status tok_mergemap_put(tok_mergemap *m, int left, int right, int rank, int id) {
    if ((m->count + 1) * 2 > m->mask + 1) {
        tok_mergemap bigger;
        RLC_TRY(tok_mergemap_init(&bigger, m->mask + 1));
        for (size_t i = 0; i <= m->mask; i++) {
            tok_merge_entry *e = &m->slots[i];
            if (e->key)
                tok_mergemap_put(&bigger, (int)(e->key >> 32) - 1, (int)(uint32_t)e->key - 1, e->rank,
                                 e->id);
        }
        rlc_free(m->slots);
        *m = bigger;
    }
    uint64_t key = ((uint64_t)(uint32_t)(left + 1) << 32) | (uint32_t)(right + 1);
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        tok_merge_entry *e = &m->slots[i];
        if (e->key == key) return RLC_OK;  // the first (lowest-rank) merge wins
        if (e->key == 0) {
            e->key = key;
            e->rank = rank;
            e->id = id;
            m->count++;
            return RLC_OK;
        }
    }
}

void tok_mergemap_free(tok_mergemap *m) {
    rlc_free(m->slots);
    m->slots = NULL;
}
