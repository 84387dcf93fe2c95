// llama2c.c: the llama2.c legacy checkpoint reader. The header is checked,
// the file size must match it exactly, and the weights are copied into the
// flat parameter buffer under their Hugging Face names, with the rows of wq
// and wk permuted from interleaved RoPE pairs to the rotate-half layout.
#include "llama2c.h"

#include <stdint.h>    // int32_t, uint64_t
#include <stdio.h>     // FILE, fopen, fread
#include <string.h>    // memcpy, memset
#include <sys/stat.h>  // stat

#include "core/fileio.h"  // rlc_mmap_open

#define LLAMA2C_HEADER_BYTES (7 * 4)
#define LLAMA2C_MAX_DIM (1 << 24)  // any single header field above this is corrupt

// The header, decoded, with the derived sizes.
typedef struct {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, seq_len;
    int shared;  // classifier shared with the token embedding
    int head_dim, kv_dim;
} l2c_header;

static int32_t read_i32(const unsigned char *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

// Decodes and checks the header; returns 0 with a reason in *why when bad.
static int parse_header(const unsigned char *b, l2c_header *h, const char **why) {
    int32_t f[7];
    for (int i = 0; i < 7; i++) f[i] = read_i32(b + 4 * i);
    h->dim = f[0];
    h->hidden_dim = f[1];
    h->n_layers = f[2];
    h->n_heads = f[3];
    h->n_kv_heads = f[4];
    h->shared = f[5] > 0;
    h->vocab = f[5] > 0 ? f[5] : (f[5] == INT32_MIN ? 0 : -f[5]);
    h->seq_len = f[6];
    for (int i = 0; i < 7; i++) {
        int v = i == 5 ? h->vocab : f[i];
        if (v <= 0 || v > LLAMA2C_MAX_DIM) {
            *why = "a header field is zero, negative or implausibly large";
            return 0;
        }
    }
    if (h->dim % h->n_heads != 0 || h->n_heads % h->n_kv_heads != 0) {
        *why = "dim must be a multiple of n_heads, and n_heads of n_kv_heads";
        return 0;
    }
    h->head_dim = h->dim / h->n_heads;
    h->kv_dim = h->n_kv_heads * h->head_dim;
    if (h->head_dim % 2 != 0) {
        *why = "the head size dim/n_heads must be even";
        return 0;
    }
    return 1;
}

// Floats after the header, in file order (fits easily: every field < 2^24).
static uint64_t payload_floats(const l2c_header *h) {
    uint64_t C = (uint64_t)h->dim, I = (uint64_t)h->hidden_dim, L = (uint64_t)h->n_layers;
    uint64_t V = (uint64_t)h->vocab, KVD = (uint64_t)h->kv_dim;
    uint64_t n = V * C;                    // token_embedding (V, C)
    n += L * C;                            // rms_att (L, C)
    n += L * C * C + 2 * L * KVD * C;      // wq (L, C, C), wk, wv (L, KV*D, C)
    n += L * C * C;                        // wo (L, C, C)
    n += L * C;                            // rms_ffn (L, C)
    n += 3 * L * I * C;                    // w1, w3 (L, I, C), w2 (L, C, I)
    n += C;                                // rms_final (C)
    n += (uint64_t)h->seq_len * (uint64_t)h->head_dim;  // freq_cis real + imag
    if (!h->shared) n += V * C;            // wcls (V, C)
    return n;
}

static uint64_t expected_bytes(const l2c_header *h) {
    return LLAMA2C_HEADER_BYTES + 4 * payload_floats(h);
}

static void fill_config(const l2c_header *h, actor_config *c) {
    memset(c, 0, sizeof *c);
    c->arch = ACTOR_ARCH_LLAMA;
    snprintf(c->model_type, sizeof c->model_type, "llama");
    c->vocab_size = h->vocab;
    c->hidden_size = h->dim;
    c->n_layers = h->n_layers;
    c->n_heads = h->n_heads;
    c->n_kv_heads = h->n_kv_heads;
    c->head_dim = h->head_dim;
    c->intermediate_size = h->hidden_dim;
    c->max_position = h->seq_len;
    c->rms_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->rope_type = ACTOR_ROPE_DEFAULT;
    c->tie_embeddings = h->shared;
    c->bos_id = 1;
    // llama2.c's run.c stops when it samples BOS (1); 2 is the SentencePiece EOS.
    c->eos_ids[0] = 1;
    c->eos_ids[1] = 2;
    c->n_eos = 2;
}

// Reads floats sequentially from the mapped payload.
typedef struct {
    const unsigned char *p;
} cursor;

static void take(cursor *cur, float *dst, size_t n) {
    memcpy(dst, cur->p, n * sizeof(float));
    cur->p += n * sizeof(float);
}

static void skip(cursor *cur, size_t n) { cur->p += n * sizeof(float); }

// Copies an (n_heads * D, C) projection, moving row 2i+j of each head to row
// j*(D/2)+i: interleaved RoPE pairs to the rotate-half layout (what
// transformers' convert_llama_weights_to_hf permute does).
static void take_permuted(cursor *cur, float *dst, int n_heads, int D, int C) {
    const size_t row = (size_t)C * sizeof(float);
    for (int h = 0; h < n_heads; h++)
        for (int r = 0; r < D; r++) {
            int i = r / 2, j = r % 2;
            int to = j * (D / 2) + i;
            memcpy(dst + ((size_t)h * D + to) * C, cur->p, row);
            cur->p += row;
        }
}

// The per-layer blocks are stored as (L, ...) stacks, one kind after another.
static void copy_weights(const l2c_header *h, const unsigned char *payload, actor_params *p) {
    const int L = h->n_layers, C = h->dim, I = h->hidden_dim, D = h->head_dim;
    const size_t CC = (size_t)C * C, KC = (size_t)h->kv_dim * C, IC = (size_t)I * C;
    cursor cur = {payload};
    take(&cur, p->embed, (size_t)h->vocab * C);
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].attn_norm, C);
    for (int l = 0; l < L; l++) take_permuted(&cur, p->layers[l].wq, h->n_heads, D, C);
    for (int l = 0; l < L; l++) take_permuted(&cur, p->layers[l].wk, h->n_kv_heads, D, C);
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].wv, KC);
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].wo, CC);
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].mlp_norm, C);
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].w_gate, IC);  // w1
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].w_down, IC);  // w2
    for (int l = 0; l < L; l++) take(&cur, p->layers[l].w_up, IC);    // w3
    take(&cur, p->final_norm, C);
    skip(&cur, (size_t)h->seq_len * D);  // freq_cis_real, freq_cis_imag: recomputed
    if (!h->shared) take(&cur, p->lm_head, (size_t)h->vocab * C);
}

rlc_status actor_llama2c_load(const char *path, actor_config *cfg, actor_params *params) {
    memset(params, 0, sizeof *params);
    rlc_mmap m;
    RLC_TRY(rlc_mmap_open(path, &m));
    l2c_header h;
    const char *why = NULL;
    rlc_status s = RLC_OK;
    if (m.size < LLAMA2C_HEADER_BYTES) {
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: not a llama2.c checkpoint: %zu bytes, shorter than "
                       "the 28-byte header", path, m.size);
    } else if (!parse_header(m.data, &h, &why)) {
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: bad llama2.c header: %s", path, why);
    } else if (expected_bytes(&h) != (uint64_t)m.size) {
        s = rlc_errorf(RLC_ERR_FORMAT,
                       "%s: llama2.c header (dim=%d hidden_dim=%d n_layers=%d n_heads=%d "
                       "n_kv_heads=%d vocab=%d seq_len=%d) implies %llu bytes, the file has %zu "
                       "(truncated or not a llama2.c version-0 checkpoint?)",
                       path, h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab,
                       h.seq_len, (unsigned long long)expected_bytes(&h), m.size);
    }
    actor_config c;
    if (s == RLC_OK) {
        fill_config(&h, &c);
        s = actor_config_validate(&c, path);
    }
    if (s == RLC_OK) s = actor_params_create(&c, params);
    if (s == RLC_OK) {
        copy_weights(&h, m.data + LLAMA2C_HEADER_BYTES, params);
        *cfg = c;
    }
    rlc_mmap_close(&m);
    return s;
}

int actor_llama2c_detect(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char b[LLAMA2C_HEADER_BYTES];
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got != sizeof b) return 0;
    if (b[8] == '{') return 0;  // safetensors: u64 header length, then a JSON object
    l2c_header h;
    const char *why;
    if (!parse_header(b, &h, &why)) return 0;
    return expected_bytes(&h) == (uint64_t)st.st_size;
}
