// generate.c: continuous batching over KV-cache slots. Each step packs the
// prompt tokens of sequences that are joining (chunked to the step's token
// budget) and the last token of every running sequence into one forward
// pass; a finished sequence frees its slot for the next queued one. The n
// samples of a prompt form a group: the group joins when n slots are free,
// its leader prefills the prompt once, and the cache is copied into the
// other n - 1 slots (actor_kv_copy) before their first token is sampled.
//
// On a GPU model (actor_gen_create_gpu) the forward and the cache move to the
// device: the generator counts each slot's positions itself (the GPU cache
// keeps no lengths). Steps with prompt tokens bring the logits back and sample
// with the host code; pure decode steps sample on the device
// (actor_gpu_decode_sample: the same rule, generator and raw log-softmax
// log-prob), so only ids and log-probs cross.
// Every difference is behind `g->gpu`.
#include <string.h>  // memcpy

#include "core/core.h"
#include "generate.h"
#include "gpu_model.h"  // actor_gpu_forward, actor_gpu_kv_copy

typedef enum {
    SEQ_QUEUED = 0,  // waiting for a slot
    SEQ_PREFILL,     // feeding its prompt
    SEQ_FOLLOW,      // holds a slot, waits for its group leader's prefill
    SEQ_DECODE,      // feeding its last sampled token
    SEQ_DONE
} seq_state;

typedef struct {
    int *prompt;  // (n_prompt) owned
    int n_prompt;
    int n_fed;    // prompt tokens already in the cache
    int n_gen;    // tokens sampled so far
    int last;     // the token to feed next while decoding
    int slot;
    int group_size;  // leader: samples in its group (1 when alone); follower: 0
    seq_state state;
    actor_sampling s;
    uint64_t rng;
} gen_seq;

struct actor_gen {
    actor_model *m;
    actor_kv *kv;           // the CPU cache and activations; NULL on a GPU model
    actor_gpu_model *gpu;   // borrowed; NULL: the CPU path
    int *slot_len;          // (n_slots) GPU: positions filled in each slot
    int *pos;               // (max_tokens) GPU: the position of each packed token
    // GPU decode steps sample on the device: per-row settings in, ids and
    // log-probs out (n_slots each), so no logits cross to the host.
    float *dec_temp, *dec_top_p, *dec_logprob;
    int *dec_top_k, *dec_ids;
    uint64_t *dec_rng;
    int n_slots, max_seq, max_tokens;
    gen_seq *seqs;  // (n_seqs) sequences not yet forgotten: seqs[i] has id base + i
    long long base;   // id of seqs[0]; finished sequences at the front are dropped
    int n_seqs, cap_seqs, n_done;
    int next_queued;  // first sequence that may still be queued (index into seqs)
    int *slot_seq;    // (n_slots) sequence in each slot, -1 when free
    // step scratch, allocated once
    int *tokens, *slots, *owner;  // (max_tokens)
    unsigned char *want;          // (max_tokens)
    float *logits;                // (n_slots, V)
    void *sampler_scratch;
    int version;  // policy version of the weights in use (actor_gen_set_version)
    long long prefill_tokens, decode_tokens;
    double prefill_s, decode_s;
};

#define GEN_PREFILL_BUDGET 512  // prompt tokens per step

int actor_gen_batch_tokens(int n_slots) { return n_slots + GEN_PREFILL_BUDGET; }

static rlc_status create(actor_model *m, actor_gpu_model *gpu, int n_slots, int max_seq, actor_gen **out) {
    *out = NULL;
    const actor_config *c = actor_model_config(m);
    if (n_slots <= 0 || max_seq <= 1)
        return rlc_errorf(RLC_ERR_ARG, "generate: need n_slots >= 1 and max_seq >= 2 (got %d, %d)", n_slots, max_seq);
    actor_gen *g = rlc_calloc(1, sizeof *g);
    if (!g) return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the generator");
    g->m = m;
    g->gpu = gpu;
    g->n_slots = n_slots;
    g->max_seq = max_seq;
    g->max_tokens = actor_gen_batch_tokens(n_slots);
    if (gpu) {
        g->slot_len = rlc_calloc((size_t)n_slots, sizeof(int));
        g->pos = rlc_malloc(sizeof(int) * (size_t)g->max_tokens);
        size_t ns = (size_t)n_slots;
        g->dec_temp = rlc_malloc(ns * sizeof(float)), g->dec_top_p = rlc_malloc(ns * sizeof(float));
        g->dec_logprob = rlc_malloc(ns * sizeof(float));
        g->dec_top_k = rlc_malloc(ns * sizeof(int)), g->dec_ids = rlc_malloc(ns * sizeof(int));
        g->dec_rng = rlc_malloc(ns * sizeof(uint64_t));
        if (!g->slot_len || !g->pos || !g->dec_temp || !g->dec_top_p || !g->dec_logprob || !g->dec_top_k ||
            !g->dec_ids || !g->dec_rng) {
            actor_gen_free(g);
            return rlc_errorf(RLC_ERR_NOMEM, "cannot allocate the generator's positions");
        }
    } else {
        rlc_status s = actor_kv_create(c, n_slots, max_seq, g->max_tokens, &g->kv);
        if (s != RLC_OK) {
            rlc_free(g);
            return s;
        }
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

rlc_status actor_gen_create(actor_model *m, int n_slots, int max_seq, actor_gen **out) {
    return create(m, NULL, n_slots, max_seq, out);
}

rlc_status actor_gen_create_gpu(actor_model *m, actor_gpu_model *gpu, int n_slots, int max_seq, actor_gen **out) {
    *out = NULL;
    if (!gpu) return rlc_errorf(RLC_ERR_ARG, "generate: actor_gen_create_gpu needs a GPU model");
    return create(m, gpu, n_slots, max_seq, out);
}

void actor_gen_free(actor_gen *g) {
    if (!g) return;
    for (int i = 0; i < g->n_seqs; i++) rlc_free(g->seqs[i].prompt);
    rlc_free(g->seqs);
    actor_kv_free(g->kv);
    rlc_free(g->slot_len);
    rlc_free(g->pos);
    rlc_free(g->dec_temp), rlc_free(g->dec_top_p), rlc_free(g->dec_logprob);
    rlc_free(g->dec_top_k), rlc_free(g->dec_ids), rlc_free(g->dec_rng);
    rlc_free(g->slot_seq);
    rlc_free(g->tokens);
    rlc_free(g->slots);
    rlc_free(g->owner);
    rlc_free(g->want);
    rlc_free_aligned(g->logits);
    rlc_free(g->sampler_scratch);
    rlc_free(g);
}

static rlc_status grow_seqs(actor_gen *g, int extra) {
    if (g->n_seqs + extra <= g->cap_seqs) return RLC_OK;
    int cap = g->cap_seqs ? g->cap_seqs : 16;
    while (cap < g->n_seqs + extra) cap *= 2;
    gen_seq *grown = rlc_realloc(g->seqs, sizeof(gen_seq) * (size_t)cap);
    if (!grown) return rlc_errorf(RLC_ERR_NOMEM, "generate: cannot queue more sequences");
    g->seqs = grown;
    g->cap_seqs = cap;
    return RLC_OK;
}

uint64_t actor_sample_seed(uint64_t seed, int i) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 0x853C49E6748FEA9Bull;  // xorshift needs a non-zero state
}

rlc_status actor_gen_add_group(actor_gen *g, const int *prompt, int n_prompt, int n_samples,
                               const actor_sampling *s, int *first_seq_id) {
    const actor_config *c = actor_model_config(g->m);
    if (n_prompt <= 0) return rlc_errorf(RLC_ERR_ARG, "generate: a prompt needs at least one token (e.g. BOS)");
    if (n_samples <= 0 || n_samples > g->n_slots)
        return rlc_errorf(RLC_ERR_LIMIT, "generate: %d samples of one prompt need as many slots (have %d)",
                          n_samples, g->n_slots);
    if (n_prompt >= g->max_seq)
        return rlc_errorf(RLC_ERR_LIMIT, "generate: prompt of %d tokens leaves no room in max_seq %d",
                          n_prompt, g->max_seq);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= c->vocab_size)
            return rlc_errorf(RLC_ERR_ARG, "generate: prompt token %d at index %d is outside the vocabulary (%d)",
                              prompt[i], i, c->vocab_size);
    RLC_TRY(grow_seqs(g, n_samples));
    gen_seq *lead = &g->seqs[g->n_seqs];
    memset(lead, 0, sizeof(gen_seq) * (size_t)n_samples);
    lead->prompt = rlc_malloc(sizeof(int) * (size_t)n_prompt);
    if (!lead->prompt) return rlc_errorf(RLC_ERR_NOMEM, "generate: cannot copy the prompt");
    memcpy(lead->prompt, prompt, sizeof(int) * (size_t)n_prompt);
    for (int i = 0; i < n_samples; i++) {
        gen_seq *q = lead + i;
        q->n_prompt = n_prompt;
        q->slot = -1;
        q->group_size = i == 0 ? n_samples : 0;
        q->s = *s;
        // A lone sequence keeps its seed as given; group samples get derived seeds.
        q->rng = n_samples == 1 ? (s->seed ? s->seed : 0x853C49E6748FEA9Bull) : actor_sample_seed(s->seed, i);
    }
    *first_seq_id = (int)(g->base + g->n_seqs);
    g->n_seqs += n_samples;
    return RLC_OK;
}

rlc_status actor_gen_add(actor_gen *g, const int *prompt, int n_prompt, const actor_sampling *s,
                         int *seq_id) {
    return actor_gen_add_group(g, prompt, n_prompt, 1, s, seq_id);
}

// ---- the slots' caches: the CPU's actor_kv, or the GPU model with the
// positions counted here ----------------------------------------------------------

static void slot_clear(actor_gen *g, int slot) {
    if (g->gpu) g->slot_len[slot] = 0;
    else actor_kv_clear(g->kv, slot);
}

static int slot_filled(const actor_gen *g, int slot) {
    return g->gpu ? g->slot_len[slot] : actor_kv_len(g->kv, slot);
}

// Copies the cache of slot src (a group leader's prefill) into slot dst.
static rlc_status slot_copy(actor_gen *g, int dst, int src) {
    if (!g->gpu) {
        actor_kv_copy(g->kv, dst, src);
        return RLC_OK;
    }
    RLC_TRY(actor_gpu_kv_copy(g->gpu, dst, src, g->slot_len[src]));
    g->slot_len[dst] = g->slot_len[src];
    return RLC_OK;
}

// Packs token tok at the end of slot `slot` as entry n of the batch (the
// GPU path takes its position here; the CPU cache places it itself).
static void pack_token(actor_gen *g, int n, int tok, int slot, int owner, unsigned char want) {
    g->tokens[n] = tok;
    g->slots[n] = slot;
    g->owner[n] = owner;
    g->want[n] = want;
    if (g->gpu) g->pos[n] = g->slot_len[slot]++;
}

// Gives queued groups free slots, first come first served: a group joins
// only when all of its samples can.
static void admit(actor_gen *g) {
    int free_slots = 0;
    for (int slot = 0; slot < g->n_slots; slot++) free_slots += g->slot_seq[slot] < 0;
    while (g->next_queued < g->n_seqs) {
        gen_seq *lead = &g->seqs[g->next_queued];
        if (lead->state != SEQ_QUEUED) {
            g->next_queued++;
            continue;
        }
        if (lead->group_size > free_slots) return;
        int slot = 0;
        for (int i = 0; i < lead->group_size; i++) {
            while (g->slot_seq[slot] >= 0) slot++;
            gen_seq *q = lead + i;
            q->state = i == 0 ? SEQ_PREFILL : SEQ_FOLLOW;
            q->slot = slot;
            g->slot_seq[slot] = (int)(q - g->seqs);
            slot_clear(g, slot);
        }
        free_slots -= lead->group_size;
        g->next_queued += lead->group_size;
    }
}

// Packs the step's batch: decode tokens first, then prompt chunks.
static int pack_batch(actor_gen *g, int *n_prefill) {
    int n = 0, budget = GEN_PREFILL_BUDGET;
    *n_prefill = 0;
    for (int slot = 0; slot < g->n_slots; slot++) {
        int id = g->slot_seq[slot];
        if (id < 0 || g->seqs[id].state != SEQ_DECODE) continue;
        pack_token(g, n++, g->seqs[id].last, slot, id, 1);
    }
    for (int slot = 0; slot < g->n_slots && budget > 0; slot++) {
        int id = g->slot_seq[slot];
        if (id < 0 || g->seqs[id].state != SEQ_PREFILL) continue;
        gen_seq *q = &g->seqs[id];
        int take = q->n_prompt - q->n_fed;
        if (take > budget) take = budget;
        for (int i = 0; i < take; i++, n++)
            pack_token(g, n, q->prompt[q->n_fed + i], slot, id, q->n_fed + i == q->n_prompt - 1);
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

// Reports token tok (log-prob lp) sampled for q.
static void take_token(actor_gen *g, gen_seq *q, int tok, float lp, actor_gen_cb cb, void *ud) {
    const actor_config *c = actor_model_config(g->m);
    q->n_gen++;
    q->last = tok;
    q->state = SEQ_DECODE;
    actor_finish why = ACTOR_FINISH_NONE;
    if (actor_config_is_eos(c, tok)) why = ACTOR_FINISH_STOP;
    else if (q->n_gen >= q->s.max_new_tokens || slot_filled(g, q->slot) >= g->max_seq)
        why = ACTOR_FINISH_LENGTH;
    int stop = cb ? cb(ud, (int)(g->base + (q - g->seqs)), tok, lp, why) : 0;
    if (why != ACTOR_FINISH_NONE || stop) finish(g, q);
}

// Samples one token for q from a row of logits and reports it.
static void sample_one(actor_gen *g, gen_seq *q, const float *row, actor_gen_cb cb, void *ud) {
    float lp;
    int tok = actor_sample(row, actor_model_config(g->m)->vocab_size, &q->s, &q->rng, g->sampler_scratch, &lp);
    take_token(g, q, tok, lp, cb, ud);
}

static int all_wanted(const actor_gen *g, int n) {
    for (int i = 0; i < n; i++)
        if (!g->want[i]) return 0;
    return 1;
}

// A GPU decode step (one token per sequence, no prefill): the forward and the
// sampler run on the device (actor_gpu_decode_sample, the same rule and
// generator as actor_sample), and only ids and log-probs come back.
static rlc_status gpu_decode_sample(actor_gen *g, int n, actor_gen_cb cb, void *ud) {
    for (int i = 0; i < n; i++) {
        const gen_seq *q = &g->seqs[g->owner[i]];
        g->dec_temp[i] = q->s.temperature, g->dec_top_k[i] = q->s.top_k, g->dec_top_p[i] = q->s.top_p;
        g->dec_rng[i] = q->rng;
    }
    RLC_TRY(actor_gpu_decode_sample(g->gpu, g->tokens, g->slots, g->pos, n, g->dec_temp, g->dec_top_k, g->dec_top_p,
                                    g->dec_rng, g->dec_ids, g->dec_logprob));
    for (int i = 0; i < n; i++) {
        gen_seq *q = &g->seqs[g->owner[i]];
        q->rng = g->dec_rng[i];
        take_token(g, q, g->dec_ids[i], g->dec_logprob[i], cb, ud);
    }
    return RLC_OK;
}

// Samples the next token of every sequence whose logits came out of the step;
// a leader that has just prefilled hands its cache and its logits row to the
// rest of its group.
static rlc_status sample_all(actor_gen *g, int n, actor_gen_cb cb, void *ud) {
    const actor_config *c = actor_model_config(g->m);
    int row = 0;
    for (int i = 0; i < n; i++) {
        if (!g->want[i]) continue;
        gen_seq *q = &g->seqs[g->owner[i]];
        const float *logits = g->logits + (size_t)row++ * c->vocab_size;
        int just_prefilled = q->state == SEQ_PREFILL;
        int lead_slot = q->slot;
        for (int f = 1; just_prefilled && f < q->group_size; f++) RLC_TRY(slot_copy(g, q[f].slot, lead_slot));
        sample_one(g, q, logits, cb, ud);
        for (int f = 1; just_prefilled && f < q->group_size; f++) sample_one(g, q + f, logits, cb, ud);
    }
    return RLC_OK;
}

// Forgets the finished sequences at the front once they are half of the
// window, so a long-running generator's memory stays bounded. Indices held
// inside (slot_seq) shift with them; ids seen by callers do not change.
static void compact(actor_gen *g) {
    int d = 0;
    while (d < g->n_seqs && g->seqs[d].state == SEQ_DONE) d++;
    if (d == 0 || 2 * d < g->n_seqs) return;
    memmove(g->seqs, g->seqs + d, sizeof(gen_seq) * (size_t)(g->n_seqs - d));
    g->base += d;
    g->n_seqs -= d;
    g->n_done -= d;
    g->next_queued = g->next_queued > d ? g->next_queued - d : 0;
    for (int slot = 0; slot < g->n_slots; slot++)
        if (g->slot_seq[slot] >= 0) g->slot_seq[slot] -= d;
}

rlc_status actor_gen_step(actor_gen *g, actor_gen_cb cb, void *ud, int *n_pending) {
    compact(g);
    admit(g);
    int n_prefill;
    int n = pack_batch(g, &n_prefill);
    if (n > 0) {
        double t0 = rlc_now();
        if (g->gpu && n_prefill == 0 && n <= actor_gpu_model_logit_rows(g->gpu) && all_wanted(g, n)) {
            RLC_TRY(gpu_decode_sample(g, n, cb, ud));
        } else {
            if (g->gpu) RLC_TRY(actor_gpu_forward(g->gpu, g->tokens, g->slots, g->pos, n, g->want, g->logits));
            else RLC_TRY(actor_forward(g->m, g->kv, g->tokens, g->slots, n, g->want, g->logits));
            RLC_TRY(sample_all(g, n, cb, ud));
        }
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

void actor_gen_set_version(actor_gen *g, int version) { g->version = version; }

int actor_gen_version(const actor_gen *g) { return g->version; }

void actor_gen_stats(const actor_gen *g, long long *prefill_tokens, double *prefill_s,
                     long long *decode_tokens, double *decode_s) {
    *prefill_tokens = g->prefill_tokens;
    *prefill_s = g->prefill_s;
    *decode_tokens = g->decode_tokens;
    *decode_s = g->decode_s;
}
