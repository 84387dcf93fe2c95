// proto_mp.c: the bounds-checked msgpack reader and the decoder's scratch
// blocks (see protocol_mp.h).
#include "protocol_mp.h"

#include <string.h>  // memcpy

#include "alloc.h"  // rlc_malloc, rlc_free

// Big-endian loads (msgpack stores every multi-byte number big-endian).
static uint64_t be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static mp_err take(mp_cur *c, size_t n, const uint8_t **out) {
    if ((size_t)(c->end - c->p) < n) return MP_ETRUNC;
    *out = c->p;
    c->p += n;
    return MP_OK;
}

// A body of `len` bytes after its header (str, bin, ext).
static mp_err body(mp_cur *c, mp_item *it, mp_kind kind, uint64_t len) {
    if (len > (uint64_t)(c->end - c->p)) return MP_ETRUNC;
    it->kind = kind;
    it->len = (uint32_t)len;
    it->ptr = c->p;
    c->p += len;
    return MP_OK;
}

// An array or map header: every element takes at least one byte, so a count
// larger than the bytes left is a lie, caught before anyone iterates over it.
static mp_err container(mp_cur *c, mp_item *it, mp_kind kind, uint64_t n) {
    uint64_t min_bytes = kind == MP_MAP ? 2 * n : n;
    if (min_bytes > (uint64_t)(c->end - c->p)) return MP_ECOUNT;
    it->kind = kind;
    it->len = (uint32_t)n;
    return MP_OK;
}

static mp_err sized(mp_cur *c, int n, uint64_t *v) {
    const uint8_t *q;
    mp_err e = take(c, (size_t)n, &q);
    if (e) return e;
    *v = be(q, n);
    return MP_OK;
}

static void set_int(mp_item *it, int64_t v) {
    if (v >= 0) {
        it->kind = MP_UINT;
        it->u = (uint64_t)v;
    } else {
        it->kind = MP_INT;
        it->i = v;
    }
}

mp_err mp_next(mp_cur *c, mp_item *it) {
    const uint8_t *q;
    uint64_t v;
    mp_err e = take(c, 1, &q);
    if (e) return e;
    uint8_t b = *q;
    if (b <= 0x7f) { it->kind = MP_UINT; it->u = b; return MP_OK; }
    if (b >= 0xe0) { it->kind = MP_INT; it->i = (int8_t)b; return MP_OK; }
    if ((b & 0xf0) == 0x80) return container(c, it, MP_MAP, b & 0x0f);
    if ((b & 0xf0) == 0x90) return container(c, it, MP_ARRAY, b & 0x0f);
    if ((b & 0xe0) == 0xa0) return body(c, it, MP_STR, b & 0x1f);
    switch (b) {
    case 0xc0: it->kind = MP_NIL; return MP_OK;
    case 0xc2: case 0xc3: it->kind = MP_BOOL; it->b = b == 0xc3; return MP_OK;
    case 0xc4: case 0xc5: case 0xc6:
        if ((e = sized(c, 1 << (b - 0xc4), &v))) return e;
        return body(c, it, MP_BIN, v);
    case 0xc7: case 0xc8: case 0xc9:  // ext 8/16/32: length, then a type byte
        if ((e = sized(c, 1 << (b - 0xc7), &v))) return e;
        if ((e = take(c, 1, &q))) return e;
        return body(c, it, MP_EXT, v);
    case 0xca: {
        if ((e = sized(c, 4, &v))) return e;
        uint32_t u32 = (uint32_t)v;
        float f;
        memcpy(&f, &u32, 4);
        it->kind = MP_FLOAT;
        it->f = f;
        return MP_OK;
    }
    case 0xcb:
        if ((e = sized(c, 8, &v))) return e;
        it->kind = MP_FLOAT;
        memcpy(&it->f, &v, 8);
        return MP_OK;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        if ((e = sized(c, 1 << (b - 0xcc), &v))) return e;
        it->kind = MP_UINT;
        it->u = v;
        return MP_OK;
    case 0xd0: if ((e = sized(c, 1, &v))) return e; set_int(it, (int8_t)v); return MP_OK;
    case 0xd1: if ((e = sized(c, 2, &v))) return e; set_int(it, (int16_t)v); return MP_OK;
    case 0xd2: if ((e = sized(c, 4, &v))) return e; set_int(it, (int32_t)v); return MP_OK;
    case 0xd3: if ((e = sized(c, 8, &v))) return e; set_int(it, (int64_t)v); return MP_OK;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:  // fixext 1..16
        if ((e = take(c, 1, &q))) return e;
        return body(c, it, MP_EXT, (uint64_t)1 << (b - 0xd4));
    case 0xd9: case 0xda: case 0xdb:
        if ((e = sized(c, 1 << (b - 0xd9), &v))) return e;
        return body(c, it, MP_STR, v);
    case 0xdc: case 0xdd:
        if ((e = sized(c, 2 << (b - 0xdc), &v))) return e;
        return container(c, it, MP_ARRAY, v);
    case 0xde: case 0xdf:
        if ((e = sized(c, 2 << (b - 0xde), &v))) return e;
        return container(c, it, MP_MAP, v);
    default: return MP_EBYTE;  // 0xc1
    }
}

mp_err mp_skip(mp_cur *c, int depth) {
    if (depth > MP_MAX_DEPTH) return MP_EDEPTH;
    mp_item it;
    mp_err e = mp_next(c, &it);
    if (e) return e;
    if (it.kind != MP_ARRAY && it.kind != MP_MAP) return MP_OK;
    uint64_t n = it.kind == MP_MAP ? 2 * (uint64_t)it.len : it.len;
    for (uint64_t i = 0; i < n; i++)
        if ((e = mp_skip(c, depth + 1))) return e;
    return MP_OK;
}

const char *mp_err_str(mp_err e) {
    switch (e) {
    case MP_OK: return "ok";
    case MP_ETRUNC: return "truncated (runs past the end of the message)";
    case MP_EBYTE: return "invalid msgpack byte 0xc1";
    case MP_ECOUNT: return "declares more elements than bytes remain";
    case MP_EDEPTH: return "nested deeper than 32 levels";
    }
    return "?";
}

const char *mp_kind_name(mp_kind k) {
    static const char *names[] = {"nil", "bool", "uint", "int", "float",
                                  "str", "bin", "ext", "array", "map"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

// ---- scratch ----------------------------------------------------------------

static proto_block *block_new(size_t cap) {
    if (cap > SIZE_MAX - sizeof(proto_block)) return NULL;
    proto_block *b = rlc_malloc(sizeof(proto_block) + cap);
    if (!b) return NULL;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

void *proto_scratch_alloc(rlc_proto_decoder *d, size_t size, size_t align) {
    proto_block *b = d->blocks;
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->cap && size <= b->cap - at) {
            b->used = at + size;
            return b->data + at;
        }
    }
    size_t want = b ? 2 * b->cap : 4096;
    if (want < size + align) want = size + align;
    proto_block *nb = block_new(want);
    if (!nb) return NULL;
    nb->next = b;
    d->blocks = nb;
    nb->used = size;  // data is 16-aligned; align <= 16
    return nb->data;
}

rlc_status proto_scratch_reset(rlc_proto_decoder *d) {
    proto_block *b = d->blocks;
    if (b && b->next) {  // merge: one block as large as all of them
        size_t total = 0;
        for (proto_block *x = b; x; x = x->next) total += x->cap;
        while (b) {
            proto_block *next = b->next;
            rlc_free(b);
            b = next;
        }
        d->blocks = block_new(total);
        if (!d->blocks) return rlc_errorf(RLC_ERR_NOMEM, "protocol decoder: scratch of %zu bytes", total);
        return RLC_OK;
    }
    if (b) b->used = 0;
    return RLC_OK;
}
