// batching.c: first-fit packing of samples into token-budget rows, and the
// token-mean NLL gradient of a row.
#include "batching.h"

#include <string.h>  // memcpy

#include "core/alloc.h"  // rlc_realloc, rlc_free

typedef struct {
    int len;            // tokens placed so far
    int first, count;   // its samples: order[first .. first + count)
} packer_row;

struct batch_packer {
    int max_tokens;
    // per step, grown on demand
    int *tokens, *targets;  // (total tokens) row after row
    int *cu;                // (samples + rows) each row's cu_seqlens, row after row
    int *order;             // (samples) sample indices, row after row
    int *row_of;            // (samples) row of each sample, -1 when left out
    packer_row *rows;       // (n_rows)
    actor_batch *batches;   // (n_rows)
    size_t cap_tokens, cap_samples, cap_cu, cap_rows;
    int n_rows;
    long n_tokens, n_targets;
};

rlc_status batch_packer_create(int max_tokens, batch_packer **out) {
    *out = NULL;
    if (max_tokens < 2) return rlc_errorf(RLC_ERR_ARG, "batch_packer: max_tokens %d must be at least 2", max_tokens);
    batch_packer *p = rlc_calloc(1, sizeof *p);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "batch_packer: out of memory");
    p->max_tokens = max_tokens;
    *out = p;
    return RLC_OK;
}

void batch_packer_free(batch_packer *p) {
    if (!p) return;
    rlc_free(p->tokens);
    rlc_free(p->targets);
    rlc_free(p->cu);
    rlc_free(p->order);
    rlc_free(p->row_of);
    rlc_free(p->rows);
    rlc_free(p->batches);
    rlc_free(p);
}

// Grows the k arrays bufs[0..k) (elements of sizes sz[]) that share the
// capacity *cap to hold at least n elements; *cap changes only when all grew.
static int grow(void **bufs[], const size_t *sz, int k, size_t *cap, size_t n) {
    if (n <= *cap) return 1;
    size_t c = *cap ? *cap : 16;
    while (c < n) c *= 2;
    for (int i = 0; i < k; i++) {
        void *b = rlc_realloc(*bufs[i], c * sz[i]);
        if (!b) return 0;
        *bufs[i] = b;
    }
    *cap = c;
    return 1;
}

static rlc_status reserve(batch_packer *p, size_t tokens, size_t samples) {
    void **tok[] = {(void **)&p->tokens, (void **)&p->targets};
    void **smp[] = {(void **)&p->order, (void **)&p->row_of};
    void **cu[] = {(void **)&p->cu};
    void **row[] = {(void **)&p->rows, (void **)&p->batches};
    const size_t tok_sz[] = {sizeof(int), sizeof(int)}, cu_sz[] = {sizeof(int)};
    const size_t row_sz[] = {sizeof(packer_row), sizeof(actor_batch)};
    // at most one row per sample; cu_seqlens: one entry per sample plus one per row
    if (!grow(tok, tok_sz, 2, &p->cap_tokens, tokens) || !grow(smp, tok_sz, 2, &p->cap_samples, samples) ||
        !grow(cu, cu_sz, 1, &p->cap_cu, 2 * samples) || !grow(row, row_sz, 2, &p->cap_rows, samples))
        return rlc_errorf(RLC_ERR_NOMEM, "batch_packer: out of memory (%zu tokens, %zu samples)", tokens, samples);
    return RLC_OK;
}

rlc_status batch_packer_pack(batch_packer *p, const batch_sample *s, int n) {
    p->n_rows = 0;
    p->n_tokens = p->n_targets = 0;
    if (n < 0) return rlc_errorf(RLC_ERR_ARG, "batch_packer: %d samples", n);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].n < 0 || s[i].n > p->max_tokens)
            return rlc_errorf(RLC_ERR_ARG, "batch_packer: sample %d has %d tokens, more than the %d of a row", i,
                              s[i].n, p->max_tokens);
        total += (size_t)s[i].n;
    }
    RLC_TRY(reserve(p, total ? total : 1, (size_t)(n ? n : 1)));

    // first fit: rows are scanned in creation order
    int n_rows = 0;
    for (int i = 0; i < n; i++) {
        p->row_of[i] = -1;
        if (s[i].n == 0) continue;
        int r = 0;
        while (r < n_rows && p->rows[r].len + s[i].n > p->max_tokens) r++;
        if (r == n_rows) p->rows[n_rows++] = (packer_row){0, 0, 0};
        p->rows[r].len += s[i].n;
        p->rows[r].count++;
        p->row_of[i] = r;
    }
    // lay the rows out one after the other
    int first = 0;
    for (int r = 0; r < n_rows; r++) {
        p->rows[r].first = first;
        first += p->rows[r].count;
        p->rows[r].count = 0;
    }
    for (int i = 0; i < n; i++)
        if (p->row_of[i] >= 0) {
            packer_row *row = &p->rows[p->row_of[i]];
            p->order[row->first + row->count++] = i;
        }
    long tok_at = 0;
    int cu_at = 0;
    for (int r = 0; r < n_rows; r++) {
        packer_row *row = &p->rows[r];
        int *tok = p->tokens + tok_at, *tgt = p->targets + tok_at, *cu = p->cu + cu_at;
        int at = 0;
        for (int k = 0; k < row->count; k++) {
            const batch_sample *sm = &s[p->order[row->first + k]];
            cu[k] = at;
            memcpy(tok + at, sm->tokens, (size_t)sm->n * sizeof(int));
            for (int j = 0; j < sm->n; j++) {
                int next = j + 1 < sm->n && (!sm->loss_mask || sm->loss_mask[j + 1]);
                tgt[at + j] = next ? sm->tokens[j + 1] : -1;
                p->n_targets += next;
            }
            at += sm->n;
        }
        cu[row->count] = at;
        p->batches[r] = (actor_batch){.n_tokens = at, .n_seqs = row->count, .tokens = tok,
                                      .cu_seqlens = cu, .targets = tgt};
        tok_at += at;
        cu_at += row->count + 1;
    }
    p->n_rows = n_rows;
    p->n_tokens = tok_at;
    return RLC_OK;
}

int batch_packer_rows(const batch_packer *p) { return p->n_rows; }

const actor_batch *batch_packer_row(const batch_packer *p, int i) {
    return i >= 0 && i < p->n_rows ? &p->batches[i] : NULL;
}

const int *batch_packer_row_samples(const batch_packer *p, int i, int *n) {
    if (i < 0 || i >= p->n_rows) {
        *n = 0;
        return NULL;
    }
    *n = p->rows[i].count;
    return p->order + p->rows[i].first;
}

long batch_packer_tokens(const batch_packer *p) { return p->n_tokens; }
long batch_packer_targets(const batch_packer *p) { return p->n_targets; }

double batch_nll(const actor_batch *b, const float *logprobs, double scale, float *dlogprobs) {
    double sum = 0;
    for (int t = 0; t < b->n_tokens; t++) {
        if (b->targets[t] < 0) {
            dlogprobs[t] = 0;
            continue;
        }
        sum -= logprobs[t];
        dlogprobs[t] = (float)-scale;
    }
    return sum;
}
