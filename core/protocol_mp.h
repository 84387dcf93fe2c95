// protocol_mp.h: internals of the wire protocol (not a public header): a
// bounds-checked msgpack reader over a byte range, and the decoder's scratch.
//
// Why not msgpack_unpack: it builds a whole object tree in a zone allocated
// with malloc (outside the rlc allocation hook), sizes arrays from the declared
// lengths before it checks them against the bytes present, and copies. This
// reader checks every length against the bytes that remain before it moves,
// never allocates, and lets the decoder copy only the fields it keeps.
#ifndef RLC_PROTOCOL_MP_H
#define RLC_PROTOCOL_MP_H

#include <stdbool.h>  // bool
#include <stddef.h>   // size_t
#include <stdint.h>   // uint8_t, uint64_t

#include "protocol.h"  // rlc_proto_limits

typedef enum {
    MP_NIL, MP_BOOL, MP_UINT, MP_INT, MP_FLOAT, MP_STR, MP_BIN, MP_EXT, MP_ARRAY, MP_MAP
} mp_kind;

typedef struct {
    mp_kind kind;
    bool b;              // MP_BOOL
    uint64_t u;          // MP_UINT: any integer >= 0, whatever its encoding
    int64_t i;           // MP_INT: an integer < 0
    double f;            // MP_FLOAT (float32 widened)
    const uint8_t *ptr;  // MP_STR, MP_BIN, MP_EXT: the bytes (inside the message)
    uint32_t len;        // bytes of STR/BIN/EXT; elements of ARRAY; pairs of MAP
} mp_item;

typedef struct {
    const uint8_t *p, *end;
} mp_cur;

typedef enum {
    MP_OK = 0,
    MP_ETRUNC,   // the item runs past the end of the message
    MP_EBYTE,    // 0xc1, the one byte msgpack never uses
    MP_ECOUNT,   // an array or map declares more elements than bytes remain
    MP_EDEPTH,   // nesting deeper than MP_MAX_DEPTH (only when skipping)
} mp_err;

#define MP_MAX_DEPTH 32

// Reads one item. Scalars, strings, bins and exts are read whole (their bytes
// are checked to be present); for arrays and maps only the header is read,
// and the count is checked against the bytes that remain.
mp_err mp_next(mp_cur *c, mp_item *it);
// Skips one whole item, nested ones included, up to MP_MAX_DEPTH levels.
mp_err mp_skip(mp_cur *c, int depth);
const char *mp_err_str(mp_err e);
const char *mp_kind_name(mp_kind k);

// ---- the decoder's scratch -----------------------------------------------------
// A chain of blocks; pointers handed out stay valid until the next reset. A
// reset that finds more than one block merges them into one block of their
// total size, so a steady stream of messages stops allocating.

typedef struct proto_block {
    struct proto_block *next;
    size_t cap, used;
    _Alignas(16) uint8_t data[];
} proto_block;

struct rlc_proto_decoder {
    rlc_proto_limits lim;
    proto_block *blocks;  // the current block first
};

void *proto_scratch_alloc(rlc_proto_decoder *d, size_t size, size_t align);  // NULL: no memory
rlc_status proto_scratch_reset(rlc_proto_decoder *d);

#endif
