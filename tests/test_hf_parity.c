// test_hf_parity.c: the CPU model against Hugging Face transformers. For each
// tiny random model under tests/data/hf/ (written by scripts/make_hf_fixtures.py:
// Llama untied, Llama tied with llama3 rope scaling, Qwen2 with q/k/v biases,
// Qwen3 with q/k norm, head_dim != hidden/heads and bf16 weights), loads the
// checkpoint the way a user does and checks
//   - the logits of every prompt position: ||out - ref|| / ||ref|| < 1e-4, the
//     relative error and the worst element printed for every prompt;
//   - the greedy continuation of 32 tokens through actor_gen: equal to the
//     reference tokens exactly (the script kept prompts whose top-two margin
//     stays far above that tolerance);
//   - the log-probability the generator reports for the first sampled token:
//     log_softmax of the reference's last prompt row at that token;
//   - the same checkpoint with the config as transformers 5 writes it
//     (config.transformers5.json: rope_parameters instead of rope_theta and
//     rope_scaling) reads into the same configuration and the same logits.
#include <math.h>    // exp, log
#include <stdint.h>  // uint32_t, int32_t
#include <stdio.h>   // FILE, fread
#include <stdlib.h>  // calloc, free
#include <string.h>  // memcmp
#include <unistd.h>  // symlink, unlink, rmdir

#include "actor/generate.h"  // actor_gen_*, actor_sampling
#include "actor/model.h"     // actor_model_load, actor_kv_*, actor_forward
#include "core/core.h"       // rlc_status, rlc_last_error
#include "test.h"            // CHECK, CHECK_OK, test_rel_l2, test_source

#define LOGIT_RTOL 1e-4
#define LOGPROB_ATOL 1e-4
#define REF_VERSION 1

// One prompt of reference.bin (format in scripts/make_hf_fixtures.py).
typedef struct {
    int n;          // prompt length
    int *tokens;    // (n)
    float *logits;  // (n, V)
    int *greedy;    // (n_gen)
    float margin;   // smallest relative top-two margin on the greedy path
} ref_prompt;

typedef struct {
    int V, n_prompts, n_gen;
    ref_prompt *p;  // (n_prompts)
} ref_file;

static void ref_free(ref_file *r) {
    for (int i = 0; r->p && i < r->n_prompts; i++) {
        free(r->p[i].tokens);
        free(r->p[i].logits);
        free(r->p[i].greedy);
    }
    free(r->p);
    memset(r, 0, sizeof *r);
}

static int read_u32(FILE *f, uint32_t *v) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) return 0;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}

// Reads `count` little-endian 4-byte values (int32 or float32) into dst.
static int read_words(FILE *f, void *dst, size_t count) {
    if (fread(dst, 4, count, f) != count) return 0;
    const uint32_t one = 1;
    if (*(const unsigned char *)&one == 0) {  // big-endian host: swap each word
        unsigned char *b = dst;
        for (size_t i = 0; i < count; i++, b += 4) {
            unsigned char t0 = b[0], t1 = b[1];
            b[0] = b[3], b[1] = b[2], b[2] = t1, b[3] = t0;
        }
    }
    return 1;
}

// Returns 0 and prints why when the file is missing or malformed.
static int ref_load(const char *path, ref_file *r) {
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open (regenerate with scripts/make_hf_fixtures.py)\n", path);
        return 0;
    }
    char magic[8];
    uint32_t ver, V, P, G;
    int ok = fread(magic, 1, 8, f) == 8 && read_u32(f, &ver) && read_u32(f, &V) &&
             read_u32(f, &P) && read_u32(f, &G);
    if (!ok || memcmp(magic, "RLCHFREF", 8) != 0 || ver != REF_VERSION) {
        fprintf(stderr, "%s: not a reference file of version %d (regenerate with "
                "scripts/make_hf_fixtures.py)\n", path, REF_VERSION);
        fclose(f);
        return 0;
    }
    if (V == 0 || V > (1u << 20) || P == 0 || P > 64 || G == 0 || G > 4096) {
        fprintf(stderr, "%s: implausible header V=%u prompts=%u gen=%u\n", path, V, P, G);
        fclose(f);
        return 0;
    }
    r->V = (int)V;
    r->n_prompts = (int)P;
    r->n_gen = (int)G;
    r->p = calloc(P, sizeof *r->p);
    ok = r->p != NULL;
    for (uint32_t i = 0; ok && i < P; i++) {
        ref_prompt *p = &r->p[i];
        uint32_t n;
        ok = read_u32(f, &n) && n > 0 && n <= 4096;
        if (!ok) break;
        p->n = (int)n;
        p->tokens = malloc(sizeof(int) * n);
        p->logits = malloc(sizeof(float) * (size_t)n * V);
        p->greedy = malloc(sizeof(int) * G);
        ok = p->tokens && p->logits && p->greedy && read_words(f, p->tokens, n) &&
             read_words(f, p->logits, (size_t)n * V) && read_words(f, p->greedy, G) &&
             read_words(f, &p->margin, 1);
    }
    if (ok) ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, "RLCHFEND", 8) == 0 &&
                 fgetc(f) == EOF;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: truncated or malformed\n", path);
        ref_free(r);
    }
    return ok;
}

// The prompt's logits from one forward over all its tokens, against the reference.
static void check_logits(actor_model *m, actor_kv *kv, const char *name, int ip,
                         const ref_prompt *p, int V) {
    int *slots = calloc((size_t)p->n, sizeof(int));  // all in slot 0
    float *out = malloc(sizeof(float) * (size_t)p->n * V);
    CHECK(slots && out);
    if (!slots || !out) goto done;
    actor_kv_clear(kv, 0);
    rlc_status s = actor_forward(m, kv, p->tokens, slots, p->n, NULL, out);
    CHECK_OK(s);
    if (s != RLC_OK) goto done;
    CHECK(actor_kv_len(kv, 0) == p->n);
    size_t worst = 0;
    double worst_abs = 0;
    double rel = test_rel_l2(out, p->logits, (size_t)p->n * V, &worst, &worst_abs);
    printf("  %-16s prompt %d (%2d tokens): rel l2 %.3e, worst |d| %.3e at (t=%zu, v=%zu): %.6f vs ref %.6f\n",
           name, ip, p->n, rel, worst_abs, worst / (size_t)V, worst % (size_t)V, out[worst],
           p->logits[worst]);
    CHECK_MSG(rel < LOGIT_RTOL, "%s prompt %d: logits rel l2 %.3e >= %.0e", name, ip, rel,
              LOGIT_RTOL);
done:
    free(slots);
    free(out);
}

typedef struct {
    int *tokens;  // (cap)
    int n, cap;
    float first_logprob;
    actor_finish finish;
    int calls_after_finish;
} gen_record;

static int on_token(void *ud, int seq_id, int token, float logprob, actor_finish finish) {
    gen_record *rec = ud;
    (void)seq_id;
    if (rec->finish != ACTOR_FINISH_NONE) rec->calls_after_finish++;
    if (rec->n == 0) rec->first_logprob = logprob;
    if (rec->n < rec->cap) rec->tokens[rec->n] = token;
    rec->n++;
    if (finish != ACTOR_FINISH_NONE) rec->finish = finish;
    return 0;
}

// log_softmax(row)[tok] in double.
static double ref_logprob(const float *row, int V, int tok) {
    double mx = row[0], sum = 0;
    for (int i = 1; i < V; i++)
        if (row[i] > mx) mx = row[i];
    for (int i = 0; i < V; i++) sum += exp((double)row[i] - mx);
    return (double)row[tok] - mx - log(sum);
}

// Greedy continuation through the generator, one prompt per generator.
static void check_greedy(actor_model *m, const char *name, int ip, const ref_prompt *p, int V,
                         int n_gen) {
    actor_gen *g = NULL;
    gen_record rec = {0};
    rec.cap = n_gen + 8;
    rec.tokens = calloc((size_t)rec.cap, sizeof(int));
    CHECK(rec.tokens);
    if (!rec.tokens) return;
    rlc_status s = actor_gen_create(m, 1, p->n + n_gen + 8, &g);
    CHECK_OK(s);
    if (s != RLC_OK) goto done;
    actor_sampling sp = actor_sampling_default();
    sp.temperature = 0;
    sp.max_new_tokens = n_gen;
    int id = -1, pending = 1, steps = 0;
    CHECK_OK(s = actor_gen_add(g, p->tokens, p->n, &sp, &id));
    if (s != RLC_OK) goto done;
    CHECK(id == 0);
    while (pending > 0 && steps++ < 4 * n_gen + 16) {
        s = actor_gen_step(g, on_token, &rec, &pending);
        CHECK_OK(s);
        if (s != RLC_OK) goto done;
    }
    CHECK_MSG(pending == 0, "%s prompt %d: generation still pending after %d steps", name, ip, steps);
    CHECK_MSG(rec.n == n_gen, "%s prompt %d: %d tokens generated, want %d", name, ip, rec.n, n_gen);
    CHECK(rec.finish == ACTOR_FINISH_LENGTH);
    CHECK(rec.calls_after_finish == 0);
    int first_bad = -1;
    for (int i = 0; i < n_gen && i < rec.n; i++)
        if (rec.tokens[i] != p->greedy[i]) {
            first_bad = i;
            break;
        }
    if (first_bad >= 0)
        printf("  %-16s prompt %d: greedy MISMATCH at step %d: got %d, want %d (min ref margin %.2e)\n",
               name, ip, first_bad, rec.tokens[first_bad], p->greedy[first_bad], p->margin);
    else
        printf("  %-16s prompt %d: greedy %d/%d tokens match (min ref margin %.2e)\n", name, ip,
               rec.n < n_gen ? rec.n : n_gen, n_gen, p->margin);
    CHECK_MSG(first_bad < 0, "%s prompt %d: greedy tokens differ from transformers", name, ip);
    if (rec.n > 0) {
        double want = ref_logprob(p->logits + (size_t)(p->n - 1) * V, V, p->greedy[0]);
        CHECK_MSG(fabs(rec.first_logprob - want) < LOGPROB_ATOL,
                  "%s prompt %d: first token logprob %.6f, reference log_softmax %.6f", name, ip,
                  rec.first_logprob, want);
    }
done:
    actor_gen_free(g);
    free(rec.tokens);
}

// The fields config.json and config.transformers5.json both carry.
static void check_same_config(const char *name, const actor_config *a, const actor_config *b) {
    int same = a->arch == b->arch && a->vocab_size == b->vocab_size &&
               a->hidden_size == b->hidden_size && a->n_layers == b->n_layers &&
               a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads &&
               a->head_dim == b->head_dim && a->intermediate_size == b->intermediate_size &&
               a->max_position == b->max_position && a->rms_eps == b->rms_eps &&
               a->rope_theta == b->rope_theta && a->rope_type == b->rope_type &&
               a->tie_embeddings == b->tie_embeddings && a->attn_bias == b->attn_bias &&
               a->qk_norm == b->qk_norm && a->bos_id == b->bos_id && a->n_eos == b->n_eos;
    if (same && a->rope_type == ACTOR_ROPE_LLAMA3)
        same = a->rope_factor == b->rope_factor &&
               a->rope_low_freq_factor == b->rope_low_freq_factor &&
               a->rope_high_freq_factor == b->rope_high_freq_factor &&
               a->rope_original_max_pos == b->rope_original_max_pos;
    for (int i = 0; same && i < a->n_eos; i++) same = a->eos_ids[i] == b->eos_ids[i];
    CHECK_MSG(same, "%s: config.transformers5.json reads differently from config.json", name);
}

// Loads <dir>/model.safetensors with <dir>/config.transformers5.json as its
// config.json, through a temporary directory.
static rlc_status load_transformers5(const char *dir, actor_model **out) {
    *out = NULL;
    const char *tmp_root = getenv("TMPDIR");
    char tmp[512], src[1200], dst[1200];
    snprintf(tmp, sizeof tmp, "%s/rlc_hf_XXXXXX", tmp_root && *tmp_root ? tmp_root : "/tmp");
    if (!mkdtemp(tmp)) return rlc_errorf(RLC_ERR_IO, "mkdtemp %s failed", tmp);
    rlc_status s = RLC_ERR_IO;
    snprintf(src, sizeof src, "%s/model.safetensors", dir);
    snprintf(dst, sizeof dst, "%s/model.safetensors", tmp);
    int linked = symlink(src, dst) == 0;
    snprintf(src, sizeof src, "%s/config.transformers5.json", dir);
    char *text = NULL;
    size_t len = 0;
    if (linked && rlc_read_file(src, &text, &len) == RLC_OK) {
        snprintf(src, sizeof src, "%s/config.json", tmp);
        FILE *f = fopen(src, "wb");
        int written = f && fwrite(text, 1, len, f) == len;
        if (f && fclose(f) != 0) written = 0;
        rlc_free(text);
        s = written ? actor_model_load(tmp, out)
                    : rlc_errorf(RLC_ERR_IO, "cannot write %s", src);
        unlink(src);
    } else {
        s = rlc_errorf(RLC_ERR_IO, "cannot link %s or read %s", dst, src);
    }
    unlink(dst);
    rmdir(tmp);
    return s;
}

static void check_model(const char *name) {
    char root[768], dir[1024], file[1200];
    test_source(root, sizeof root, "tests/data/hf");
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(file, sizeof file, "%s/reference.bin", dir);
    ref_file r;
    CHECK_MSG(ref_load(file, &r), "%s: reference", name);
    if (!r.p) return;
    actor_model *m = NULL, *m5 = NULL;
    actor_kv *kv = NULL;
    rlc_status s = actor_model_load(dir, &m);
    CHECK_OK(s);
    if (s != RLC_OK) goto done;
    const actor_config *c = actor_model_config(m);
    CHECK_MSG(c->vocab_size == r.V, "%s: vocab %d, reference %d", name, c->vocab_size, r.V);
    if (c->vocab_size != r.V) goto done;
    int max_n = 0;
    for (int i = 0; i < r.n_prompts; i++)
        if (r.p[i].n > max_n) max_n = r.p[i].n;
    CHECK_OK(s = actor_kv_create(c, 1, max_n, max_n, &kv));
    if (s != RLC_OK) goto done;
    for (int i = 0; i < r.n_prompts; i++) check_logits(m, kv, name, i, &r.p[i], r.V);
    for (int i = 0; i < r.n_prompts; i++) check_greedy(m, name, i, &r.p[i], r.V, r.n_gen);

    CHECK_OK(s = load_transformers5(dir, &m5));
    if (s != RLC_OK) goto done;
    check_same_config(name, c, actor_model_config(m5));
    char label[64];
    snprintf(label, sizeof label, "%s (v5)", name);
    for (int i = 0; i < r.n_prompts; i++) check_logits(m5, kv, label, i, &r.p[i], r.V);
done:
    actor_kv_free(kv);
    actor_model_free(m5);
    actor_model_free(m);
    ref_free(&r);
}

int main(void) {
    const char *models[] = {"llama", "llama3_tied", "qwen2", "qwen3"};
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) check_model(models[i]);
    return test_finish("test_hf_parity");
}
