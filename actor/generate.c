// generate.c: continuous batching over KV-cache slots. Each step packs the
// prompt tokens of sequences that are joining (chunked to the step's token
// budget) and the last token of every running sequence into one forward
// pass; a finished sequence frees its slot for the next queued one.
#include <string.h>  // memcpy

#include "core/core.h"
#include "generate.h"

typedef enum { SEQ_QUEUED = 0, SEQ_PREFILL, SEQ_DECODE, SEQ_DONE } seq_state;

typedef struct {
    int *prompt;  // (n_prompt) owned
    int n_prompt;
    int n_fed;    // prompt tokens already in the cache
    int n_gen;    // tokens sampled so far
    int last;     // the token to feed next while decoding
    int slot;
    seq_state state;
    actor_sampling s;
    uint64_t rng;
} gen_seq;

struct actor_gen {
    actor_model *m;
    actor_kv *kv;
    int n_slots, max_seq, max_tokens;
    gen_seq *seqs;  // (n_seqs) every sequence ever added
    int n_seqs, cap_seqs, n_done;
    int next_queued;  // first sequence that may still be queued
    int *slot_seq;    // (n_slots) sequence in each slot, -1 when free
    // step scratch, allocated once
    int *tokens, *slots, *owner;  // (max_tokens)
    unsigned char *want;          // (max_tokens)
    float *logits;                // (n_slots, V)
    void *sampler_scratch;
    long long prefill_tokens, decode_tokens;
    double prefill_s, decode_s;
};

#define GEN_PREFILL_BUDGET 512  // prompt tokens per step

rlc_status actor_gen_create(actor_model *m, int n_slots, int max_seq, actor_gen **out) {
    *out = NULL;
    const actor_config *c = actor_model_config(m);
    if (n_slots <= 0 || max_seq <= 1)
        return rlc_errorf(RLC_ERR_ARG, "generate: need n_slots >= 1 and max_seq >= 2 (got %d, %d)", n_slots, max_seq);
    actor_gen *g = rlc_calloc(1, sizeof *g);
    if (!g) return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the generator");
    g->m = m;
    g->n_slots = n_slots;
    g->max_seq = max_seq;
    g->max_tokens = n_slots + GEN_PREFILL_BUDGET;
    rlc_status s = actor_kv_create(c, n_slots, max_seq, g->max_tokens, &g->kv);
    if (s != RLC_OK) {
        rlc_free(g);
        return s;
    }
    g->slot_seq = rlc_malloc(sizeof(int) * (size_t)n_slots);
    g->tokens = rlc_malloc(sizeof(int) * (size_t)g->max_tokens);
    g->slots = rlc_malloc(sizeof(int) * (size_t)g->max_tokens);
    g->owner = rlc_malloc(sizeof(int) * (size_t)g->max_tokens);
    g->want = rlc_malloc((size_t)g->max_tokens);
    g->logits = rlc_malloc_aligned(sizeof(float) * (size_t)n_slots * c->vocab_size);
    g->sampler_scratch = rlc_malloc(actor_sampler_scratch_bytes(c->vocab_size));
    if (!g->slot_seq || !g->tokens || !g->slots || !g->owner || !g->want || !g->logits ||
        !g->sampler_scratch) {
        actor_gen_free(g);
        return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the generator's buffers");
    }
    for (int i = 0; i < n_slots; i++) g->slot_seq[i] = -1;
    *out = g;
    return RLC_OK;
}

void actor_gen_free(actor_gen *g) {
    if (!g) return;
    for (int i = 0; i < g->n_seqs; i++) rlc_free(g->seqs[i].prompt);
    rlc_free(g->seqs);
    actor_kv_free(g->kv);
    rlc_free(g->slot_seq);
    rlc_free(g->tokens);
    rlc_free(g->slots);
    rlc_free(g->owner);
    rlc_free(g->want);
    rlc_free_aligned(g->logits);
    rlc_free(g->sampler_scratch);
    rlc_free(g);
}

rlc_status actor_gen_add(actor_gen *g, const int *prompt, int n_prompt, const actor_sampling *s,
                         int *seq_id) {
    const actor_config *c = actor_model_config(g->m);
    if (n_prompt <= 0) return rlc_errorf(RLC_ERR_ARG, "generate: a prompt needs at least one token (e.g. BOS)");
    if (n_prompt >= g->max_seq)
        return rlc_errorf(RLC_ERR_LIMIT, "generate: prompt of %d tokens leaves no room in max_seq %d",
                          n_prompt, g->max_seq);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= c->vocab_size)
            return rlc_errorf(RLC_ERR_ARG, "generate: prompt token %d at index %d is outside the vocabulary (%d)",
                              prompt[i], i, c->vocab_size);
    if (g->n_seqs == g->cap_seqs) {
        int cap = g->cap_seqs ? 2 * g->cap_seqs : 16;
        gen_seq *grown = rlc_realloc(g->seqs, sizeof(gen_seq) * (size_t)cap);
        if (!grown) return rlc_errorf(RLC_ERR_NOMEM, "generate: cannot queue more sequences");
        g->seqs = grown;
        g->cap_seqs = cap;
    }
    gen_seq *q = &g->seqs[g->n_seqs];
    memset(q, 0, sizeof *q);
    q->prompt = rlc_malloc(sizeof(int) * (size_t)n_prompt);
    if (!q->prompt) return rlc_errorf(RLC_ERR_NOMEM, "generate: cannot copy the prompt");
    memcpy(q->prompt, prompt, sizeof(int) * (size_t)n_prompt);
    q->n_prompt = n_prompt;
    q->slot = -1;
    q->s = *s;
    q->rng = s->seed ? s->seed : 0x853C49E6748FEA9Bull;  // xorshift needs a non-zero state
    *seq_id = g->n_seqs++;
    return RLC_OK;
}

// Gives queued sequences the free slots, in the order they were added.
static void admit(actor_gen *g) {
    for (int slot = 0; slot < g->n_slots; slot++) {
        if (g->slot_seq[slot] >= 0) continue;
        while (g->next_queued < g->n_seqs && g->seqs[g->next_queued].state != SEQ_QUEUED) g->next_queued++;
        if (g->next_queued == g->n_seqs) return;
        gen_seq *q = &g->seqs[g->next_queued++];
        q->state = SEQ_PREFILL;
        q->slot = slot;
        g->slot_seq[slot] = (int)(q - g->seqs);
        actor_kv_clear(g->kv, slot);
    }
}

// Packs the step's batch: decode tokens first, then prompt chunks.
static int pack_batch(actor_gen *g, int *n_prefill) {
    int n = 0, budget = GEN_PREFILL_BUDGET;
    *n_prefill = 0;
    for (int slot = 0; slot < g->n_slots; slot++) {
        int id = g->slot_seq[slot];
        if (id < 0 || g->seqs[id].state != SEQ_DECODE) continue;
        g->tokens[n] = g->seqs[id].last;
        g->slots[n] = slot;
        g->owner[n] = id;
        g->want[n++] = 1;
    }
    for (int slot = 0; slot < g->n_slots && budget > 0; slot++) {
        int id = g->slot_seq[slot];
        if (id < 0 || g->seqs[id].state != SEQ_PREFILL) continue;
        gen_seq *q = &g->seqs[id];
        int take = q->n_prompt - q->n_fed;
        if (take > budget) take = budget;
        for (int i = 0; i < take; i++) {
            g->tokens[n] = q->prompt[q->n_fed + i];
            g->slots[n] = slot;
            g->owner[n] = id;
            g->want[n++] = (q->n_fed + i == q->n_prompt - 1);
        }
        q->n_fed += take;
        budget -= take;
        *n_prefill += take;
    }
    return n;
}

static void finish(actor_gen *g, gen_seq *q) {
    q->state = SEQ_DONE;
    g->n_done++;
    g->slot_seq[q->slot] = -1;
    rlc_free(q->prompt);
    q->prompt = NULL;
}

// Samples the next token of every sequence whose logits came out of the step.
static void sample_all(actor_gen *g, int n, actor_gen_cb cb, void *ud) {
    const actor_config *c = actor_model_config(g->m);
    int row = 0;
    for (int i = 0; i < n; i++) {
        if (!g->want[i]) continue;
        gen_seq *q = &g->seqs[g->owner[i]];
        float lp;
        int tok = actor_sample(g->logits + (size_t)row++ * c->vocab_size, c->vocab_size, &q->s,
                               &q->rng, g->sampler_scratch, &lp);
        q->n_gen++;
        q->last = tok;
        q->state = SEQ_DECODE;
        actor_finish why = ACTOR_FINISH_NONE;
        if (actor_config_is_eos(c, tok)) why = ACTOR_FINISH_STOP;
        else if (q->n_gen >= q->s.max_new_tokens || actor_kv_len(g->kv, q->slot) >= g->max_seq)
            why = ACTOR_FINISH_LENGTH;
        int stop = cb ? cb(ud, g->owner[i], tok, lp, why) : 0;
        if (why != ACTOR_FINISH_NONE || stop) finish(g, q);
    }
}

rlc_status actor_gen_step(actor_gen *g, actor_gen_cb cb, void *ud, int *n_pending) {
    admit(g);
    int n_prefill;
    int n = pack_batch(g, &n_prefill);
    if (n > 0) {
        double t0 = rlc_now();
        RLC_TRY(actor_forward(g->m, g->kv, g->tokens, g->slots, n, g->want, g->logits));
        sample_all(g, n, cb, ud);
        double dt = rlc_now() - t0;
        if (n_prefill > 0) {
            g->prefill_tokens += n_prefill;
            g->prefill_s += dt;
        } else {
            g->decode_tokens += n;
            g->decode_s += dt;
        }
    }
    *n_pending = g->n_seqs - g->n_done;
    return RLC_OK;
}

void actor_gen_stats(const actor_gen *g, long long *prefill_tokens, double *prefill_s,
                     long long *decode_tokens, double *decode_s) {
    *prefill_tokens = g->prefill_tokens;
    *prefill_s = g->prefill_s;
    *decode_tokens = g->decode_tokens;
    *decode_s = g->decode_s;
}
