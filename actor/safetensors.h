// safetensors.h: reading and writing the safetensors format (Hugging Face).
//
// A file is an 8-byte little-endian header length N, N bytes of a JSON
// object {name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// optional "__metadata__": {string: string}}, then the data section. Files are
// memory-mapped and validated as the format's reference implementation (the
// Rust safetensors crate) validates them: N at most 100 MB and inside the
// file, the header a JSON object, known dtypes, shape x dtype size equal to
// the byte range, ranges sorted with no gap or overlap that cover the data
// section exactly, no duplicate names. A checkpoint directory holds
// model.safetensors, or shards listed by model.safetensors.index.json.
#ifndef RLC_ACTOR_SAFETENSORS_H
#define RLC_ACTOR_SAFETENSORS_H

#include <stddef.h>  // size_t
#include <stdint.h>  // int64_t

#include "core/status.h"

#define SAFETENSORS_MAX_DIMS 8
#define SAFETENSORS_MAX_HEADER 100000000  // bytes, as the reference implementation

typedef enum {
    SAFETENSORS_DTYPE_BOOL = 0,
    SAFETENSORS_DTYPE_U8,
    SAFETENSORS_DTYPE_I8,
    SAFETENSORS_DTYPE_F8_E5M2,
    SAFETENSORS_DTYPE_F8_E4M3,
    SAFETENSORS_DTYPE_I16,
    SAFETENSORS_DTYPE_U16,
    SAFETENSORS_DTYPE_F16,
    SAFETENSORS_DTYPE_BF16,
    SAFETENSORS_DTYPE_I32,
    SAFETENSORS_DTYPE_U32,
    SAFETENSORS_DTYPE_F32,
    SAFETENSORS_DTYPE_F64,
    SAFETENSORS_DTYPE_I64,
    SAFETENSORS_DTYPE_U64,
    SAFETENSORS_DTYPE_F8_E8M0,
    SAFETENSORS_DTYPE_C64,
    SAFETENSORS_DTYPE_COUNT
} safetensors_dtype;

// One tensor of an open file. Everything points into the file's memory and
// stays valid until the file is closed.
typedef struct safetensors_tensor {
    const char *name;
    safetensors_dtype dtype;
    int ndim;                             // 0 (a scalar) .. SAFETENSORS_MAX_DIMS
    int64_t shape[SAFETENSORS_MAX_DIMS];  // (ndim)
    size_t numel;                         // product of shape (1 for a scalar)
    const unsigned char *data;            // nbytes, little-endian, row-major; may be unaligned
    size_t nbytes;
} safetensors_tensor;

// ---- one file ---------------------------------------------------------------

typedef struct safetensors_file safetensors_file;

// Maps and validates `path`. RLC_ERR_IO (cannot open or map), RLC_ERR_FORMAT
// (the message names the file and, where there is one, the tensor at fault),
// RLC_ERR_NOMEM. On failure *out is NULL and nothing stays allocated.
rlc_status safetensors_open(const char *path, safetensors_file **out);
void safetensors_close(safetensors_file *f);  // NULL is fine

const char *safetensors_path(const safetensors_file *f);
int safetensors_count(const safetensors_file *f);
// The i-th tensor in data-offset order (0 <= i < count).
const safetensors_tensor *safetensors_get(const safetensors_file *f, int i);
// The tensor named `name`, or NULL.
const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name);
// The "__metadata__" value of `key`, or NULL (borrowed from f).
const char *safetensors_metadata(const safetensors_file *f, const char *key);

// ---- conversion -------------------------------------------------------------

// "F32", "BF16", ...; "?" for a value out of range.
const char *safetensors_dtype_name(safetensors_dtype d);
// Bytes per element.
size_t safetensors_dtype_size(safetensors_dtype d);

// Converts t's numel elements (F32, BF16, F16 or F64) to float32 in dst.
// RLC_ERR_UNSUPPORTED for other dtypes.
rlc_status safetensors_to_f32(const safetensors_tensor *t, float *dst);

float safetensors_bf16_to_f32(uint16_t h);
uint16_t safetensors_f32_to_bf16(float f);  // round to nearest even; NaN stays NaN
float safetensors_f16_to_f32(uint16_t h);

// ---- a checkpoint directory --------------------------------------------------

typedef struct safetensors_set safetensors_set;

// Opens `dir`/model.safetensors.index.json and every shard its weight_map
// names, or else `dir`/model.safetensors. Every name of the weight_map must be
// in its shard. Shard names must be plain file names inside dir.
rlc_status safetensors_set_open(const char *dir, safetensors_set **out);
void safetensors_set_close(safetensors_set *s);  // NULL is fine

// The tensor named `name` and the path of its file (for messages), or NULL.
const safetensors_tensor *safetensors_set_find(const safetensors_set *s, const char *name,
                                               const char **file);
// A description for messages: the index file or the single file.
const char *safetensors_set_path(const safetensors_set *s);

// ---- writing ----------------------------------------------------------------

// A float32 tensor to write.
typedef struct safetensors_entry {
    const char *name;
    int ndim;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    const float *data;  // (numel)
} safetensors_entry;

// Writes `n` tensors to `path` in `dtype` (SAFETENSORS_DTYPE_F32 or _BF16),
// in the given order, with "__metadata__" {"format": "pt"} so that
// transformers' from_pretrained accepts the file. The header is padded with
// spaces to a multiple of 8 bytes. The file is written to `path`.tmp,
// fsync'ed and renamed over `path`: a failure leaves any old `path` intact.
rlc_status safetensors_write(const char *path, const safetensors_entry *t, int n,
                             safetensors_dtype dtype);

#endif
