// test_train_parity.c: the training forward and backward against PyTorch.
// For each fixture of tests/data/train/ (scripts/make_train_fixtures.py:
// tiny Hugging Face models from tests/data/hf/, Qwen2 tied with q/k/v biases
// and Qwen3 untied with q/k norm and bf16 weights, one packed batch of three
// documents), loads the checkpoint the way a user does, runs
// actor_train_forward and actor_train_backward with the loss
// mean(-logprob) over the tokens that have a target, and checks against the
// float64 references:
//   - loss: |d| < 1e-5 (1 + |loss|);
//   - log-probs and entropies per token: |d| < 2e-5 (1 + |ref|);
//   - every parameter's gradient: ||g - ref|| / ||ref|| < 1e-4 per tensor
//     (llm.c holds float32 gradients to 1e-2; torch's own float32 run is
//     within 2.3e-6 of float64, see tests/data/train/VERSIONS.txt);
//   - the same with activation recomputation and a vocabulary chunk that
//     does not divide V.
// The worst tensor and the worst token are printed.
#include <stdint.h>  // uint32_t
#include <stdio.h>   // FILE, fread
#include <stdlib.h>  // malloc, free
#include <string.h>  // memcmp, strcmp

#include "actor/model.h"  // actor_model_load, actor_model_params
#include "actor/train.h"  // actor_train_*
#include "core/core.h"    // rlc_status, rlc_last_error
#include "test.h"         // CHECK, CHECK_OK, test_rel_l2, test_source

#define LOSS_TOL 1e-5
#define TOKEN_TOL 2e-5
#define GRAD_RTOL 1e-4
#define FIXTURE_VERSION 1

// ---- the record file (format in scripts/make_train_fixtures.py) ----------------

typedef struct {
    char name[128];
    uint32_t dtype;  // 0 f32, 1 i32, 2 bytes
    uint32_t ndim, dims[4];
    size_t count;
    void *data;
} record;

typedef struct {
    int n;
    record *r;
    unsigned char *buf;
} record_file;

static uint32_t u32_at(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// Reads the whole file; 0 with a message on any inconsistency.
static int records_read(const char *path, record_file *f) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) return fprintf(stderr, "%s: cannot open (run scripts/make_train_fixtures.py)\n", path), 0;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = malloc((size_t)size);
    size_t got = f->buf ? fread(f->buf, 1, (size_t)size, fp) : 0;
    fclose(fp);
    const unsigned char *b = f->buf, *end = f->buf + size - 8;
    if (got != (size_t)size || size < 24 || memcmp(b, "RLCTRAIN", 8) || memcmp(end, "RLCTREND", 8))
        return fprintf(stderr, "%s: not a training fixture (magic)\n", path), 0;
    if (u32_at(b + 8) != FIXTURE_VERSION)
        return fprintf(stderr, "%s: version %u, this test reads %d: regenerate the fixtures\n", path,
                       u32_at(b + 8), FIXTURE_VERSION), 0;
    f->n = (int)u32_at(b + 12);
    f->r = calloc((size_t)f->n, sizeof *f->r);
    const unsigned char *p = b + 16;
    for (int i = 0; i < f->n; i++) {
        record *r = &f->r[i];
        if (p + 12 > end) return fprintf(stderr, "%s: truncated\n", path), 0;
        uint32_t ln = u32_at(p);
        if (ln >= sizeof r->name || p + 4 + ln + 8 > end) return fprintf(stderr, "%s: bad name\n", path), 0;
        memcpy(r->name, p + 4, ln);
        p += 4 + ln;
        r->dtype = u32_at(p), r->ndim = u32_at(p + 4);
        p += 8;
        if (r->dtype > 2 || r->ndim > 4 || p + 4 * r->ndim > end)
            return fprintf(stderr, "%s: bad record %s\n", path, r->name), 0;
        r->count = 1;
        for (uint32_t d = 0; d < r->ndim; d++) r->dims[d] = u32_at(p + 4 * d), r->count *= r->dims[d];
        p += 4 * r->ndim;
        size_t bytes = r->count * (r->dtype == 2 ? 1 : 4);
        if (p + bytes > end) return fprintf(stderr, "%s: record %s truncated\n", path, r->name), 0;
        r->data = malloc(bytes ? bytes : 1);  // aligned copy: records are packed
        if (!r->data) return fprintf(stderr, "%s: out of memory\n", path), 0;
        memcpy(r->data, p, bytes);
        p += bytes;
    }
    if (p != end) return fprintf(stderr, "%s: trailing bytes\n", path), 0;
    return 1;
}

static const record *find(const record_file *f, const char *name, uint32_t dtype) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->r[i].name, name) == 0 && f->r[i].dtype == dtype) return &f->r[i];
    fprintf(stderr, "fixture: no record %s\n", name);
    return NULL;
}

static void records_free(record_file *f) {
    for (int i = 0; f->r && i < f->n; i++) free(f->r[i].data);
    free(f->r);
    free(f->buf);
}

// ---- the check ----------------------------------------------------------------------

static void check_one(actor_model *m, const record_file *f, const char *name, int vocab_chunk,
                      int recompute) {
    const record *tok = find(f, "batch/tokens", 1), *cu = find(f, "batch/cu_seqlens", 1);
    const record *tgt = find(f, "batch/targets", 1), *rl = find(f, "loss", 0);
    const record *rlp = find(f, "logprobs", 0), *rent = find(f, "entropy", 0);
    CHECK(tok && cu && tgt && rl && rlp && rent);
    if (!(tok && cu && tgt && rl && rlp && rent)) return;
    int T = (int)tok->count;
    actor_batch b = {T, (int)cu->count - 1, tok->data, cu->data, tgt->data};
    actor_train_options o = {.max_tokens = T, .vocab_chunk = vocab_chunk, .recompute = recompute};
    actor_trainer *t;
    CHECK_OK(actor_train_create_opts(m, &o, &t));
    if (!t) return;
    actor_params *p = actor_model_params(m);
    float *lp = calloc((size_t)T, sizeof(float)), *ent = calloc((size_t)T, sizeof(float));
    float *dlp = calloc((size_t)T, sizeof(float)), *grad = calloc(p->numel, sizeof(float));
    CHECK_OK(actor_train_forward(t, &b, lp, ent));
    int n_valid = 0;
    for (int i = 0; i < T; i++) n_valid += ((const int *)tgt->data)[i] >= 0;
    double loss = 0;
    for (int i = 0; i < T; i++)
        if (((const int *)tgt->data)[i] >= 0) {
            loss -= lp[i];
            dlp[i] = -1.0f / (float)n_valid;
        }
    loss /= n_valid;
    CHECK_OK(actor_train_backward(t, dlp, NULL, grad));

    printf("%s (vocab_chunk %d%s):\n", name, vocab_chunk, recompute ? ", recompute" : "");
    double ref_loss = ((const float *)rl->data)[0];
    double dl = fabs(loss - ref_loss);
    printf("  loss %.6f vs %.6f: |d| %.2e\n", loss, ref_loss, dl);
    CHECK_MSG(dl < LOSS_TOL * (1 + fabs(ref_loss)), "%s: loss %.7f vs %.7f", name, loss, ref_loss);
    double wt = 0;
    int wi = 0;
    const char *wwhat = "logprob";
    for (int i = 0; i < T; i++) {
        double r1 = ((const float *)rlp->data)[i], r2 = ((const float *)rent->data)[i];
        double e1 = fabs(lp[i] - r1) / (1 + fabs(r1)), e2 = fabs(ent[i] - r2) / (1 + fabs(r2));
        if (e1 > wt) wt = e1, wi = i, wwhat = "logprob";
        if (e2 > wt) wt = e2, wi = i, wwhat = "entropy";
    }
    printf("  per-token log-probs and entropies: worst %.2e (%s of token %d)\n", wt, wwhat, wi);
    CHECK_MSG(wt < TOKEN_TOL, "%s: token %d %s off by %.2e", name, wi, wwhat, wt);

    double worst = 0;
    const char *worst_name = "";
    int n_tensors = 0;
    for (int i = 0; i < f->n; i++) {
        const record *r = &f->r[i];
        if (strncmp(r->name, "grad/", 5) != 0) continue;
        const actor_tensor_info *ti = actor_params_find(p, r->name + 5);
        CHECK_MSG(ti && ti->numel == r->count, "%s: %s missing or of another size", name, r->name);
        if (!ti || ti->numel != r->count) continue;
        size_t at = 0;
        double abs_w = 0;
        double rel = test_rel_l2(grad + ti->offset, r->data, r->count, &at, &abs_w);
        CHECK_MSG(rel < GRAD_RTOL, "%s: %s gradient rel l2 %.2e (worst |d| %.2e at %zu)", name,
                  r->name + 5, rel, abs_w, at);
        if (rel >= worst) worst = rel, worst_name = r->name + 5;
        n_tensors++;
    }
    CHECK_MSG(n_tensors == p->n_tensors, "%s: %d gradients in the fixture for %d tensors", name,
              n_tensors, p->n_tensors);
    printf("  gradients of %d tensors: worst rel l2 %.2e (%s)\n", n_tensors, worst, worst_name);
    free(lp), free(ent), free(dlp), free(grad);
    actor_train_free(t);
}

int main(void) {
    kernels_set_threads(2);
    static const char *models[] = {"qwen2", "qwen3"};
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        char path[1024], rel[256];
        snprintf(rel, sizeof rel, "tests/data/train/%s.bin", models[k]);
        record_file f;
        int ok = records_read(test_source(path, sizeof path, rel), &f);
        CHECK_MSG(ok, "%s: unreadable fixture", rel);
        if (!ok) {
            records_free(&f);
            continue;
        }
        const record *mr = find(&f, "model", 2);
        char dir[64] = {0}, hf[1024];
        if (mr) memcpy(dir, mr->data, mr->count < sizeof dir - 1 ? mr->count : sizeof dir - 1);
        snprintf(rel, sizeof rel, "tests/data/hf/%s", dir);
        actor_model *m = NULL;
        CHECK_OK(actor_model_load(test_source(hf, sizeof hf, rel), &m));
        if (m) {
            int V = actor_model_config(m)->vocab_size;
            check_one(m, &f, models[k], V, 0);
            check_one(m, &f, models[k], 100, 1);  // 256 = 2 * 100 + 56
        }
        actor_model_free(m);
        records_free(&f);
    }
    return test_finish("test_train_parity");
}
