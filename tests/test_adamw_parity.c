// test_adamw_parity.c: 10 AdamW steps on a tiny Hugging Face model and a fixed
// packed batch reproduce the losses torch.optim.AdamW gives (recorded in
// float64 by scripts/make_train_fixtures.py, record_adamw_steps): the C
// float32 path (actor/train.h forward and backward, learner/batching.h NLL,
// learner/optim.h clipping, AdamW and warm-up + cosine schedule) must match
// every loss to ADAMW_RTOL relative.
#include <stdint.h>  // uint32_t
#include <stdio.h>   // FILE
#include <string.h>  // memcmp, strcmp

#include "actor/model.h"
#include "actor/train.h"
#include "core/core.h"
#include "learner/batching.h"
#include "learner/optim.h"
#include "test.h"

// float32 against float64 over 10 steps: the worst relative difference seen
// is 8e-6 (printed); torch's own float32 run differs from its float64 one by
// 2e-6 to 4e-6 (tests/data/train/VERSIONS.txt).
#define ADAMW_RTOL 1e-4

typedef struct {
    char name[128];
    uint32_t dtype, ndim, dims[4];
    const void *data;
    size_t count;
} rec;

// Reads the record file (format in scripts/make_train_fixtures.py).
static int read_records(const char *path, char **buf, rec *out, int cap) {
    size_t len;
    if (rlc_read_file(path, buf, &len) != RLC_OK) return -1;
    const unsigned char *b = (const unsigned char *)*buf;
    if (len < 24 || memcmp(b, "RLCTRAIN", 8) || memcmp(b + len - 8, "RLCTREND", 8)) return -1;
    uint32_t ver, n;
    memcpy(&ver, b + 8, 4);
    memcpy(&n, b + 12, 4);
    if (ver != 1) return -1;
    size_t off = 16;
    int k = 0;
    for (uint32_t i = 0; i < n && k < cap; i++) {
        rec *r = &out[k++];
        uint32_t nl;
        if (off + 4 > len) return -1;
        memcpy(&nl, b + off, 4);
        if (nl >= sizeof r->name || off + 4 + nl + 8 > len) return -1;
        memcpy(r->name, b + off + 4, nl);
        r->name[nl] = '\0';
        off += 4 + nl;
        memcpy(&r->dtype, b + off, 4);
        memcpy(&r->ndim, b + off + 4, 4);
        off += 8;
        if (r->ndim > 4 || off + 4 * r->ndim > len) return -1;
        r->count = 1;
        for (uint32_t d = 0; d < r->ndim; d++) {
            memcpy(&r->dims[d], b + off + 4 * d, 4);
            r->count *= r->dims[d];
        }
        off += 4 * r->ndim;
        size_t esz = r->dtype == 2 ? 1 : 4;
        if (off + r->count * esz > len - 8) return -1;
        r->data = b + off;
        off += r->count * esz;
    }
    return k;
}

static const rec *find(const rec *r, int n, const char *name, uint32_t dtype) {
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].name, name) && r[i].dtype == dtype) return &r[i];
    return NULL;
}

static void run_model(const char *name) {
    char path[1024], rel[128];
    snprintf(rel, sizeof rel, "tests/data/train/%s.bin", name);
    char *buf = NULL;
    static rec r[256];
    int n = read_records(test_source(path, sizeof path, rel), &buf, r, 256);
    CHECK_MSG(n > 0, "%s: cannot read the fixture", path);
    if (n <= 0) {
        rlc_free(buf);
        return;
    }
    const rec *tok = find(r, n, "batch/tokens", 1), *cu = find(r, n, "batch/cu_seqlens", 1);
    const rec *tgt = find(r, n, "batch/targets", 1), *cfg = find(r, n, "adamw/config", 0);
    const rec *ref = find(r, n, "adamw/losses", 0);
    if (!cfg || !ref) {
        printf("%s: no adamw/ records: run scripts/make_train_fixtures.py\n", path);
        test_failures++;
        rlc_free(buf);
        return;
    }
    CHECK(tok && cu && tgt && cfg->count == 9 && ref->count == 11);
    if (!tok || !cu || !tgt || cfg->count != 9 || ref->count != 11) {
        rlc_free(buf);
        return;
    }
    float c[9], want[11];
    memcpy(c, cfg->data, sizeof c);
    memcpy(want, ref->data, sizeof want);
    int T = (int)tok->count;
    int *tokens = rlc_malloc((size_t)T * sizeof(int)), *targets = rlc_malloc((size_t)T * sizeof(int));
    int *cus = rlc_malloc(cu->count * sizeof(int));
    memcpy(tokens, tok->data, (size_t)T * sizeof(int));
    memcpy(targets, tgt->data, (size_t)T * sizeof(int));
    memcpy(cus, cu->data, cu->count * sizeof(int));
    actor_batch b = {.n_tokens = T, .n_seqs = (int)cu->count - 1, .tokens = tokens, .cu_seqlens = cus,
                     .targets = targets};

    actor_model *m = NULL;
    snprintf(rel, sizeof rel, "tests/data/hf/%s", name);
    CHECK_OK(actor_model_load(test_source(path, sizeof path, rel), &m));
    actor_trainer *t = NULL;
    optim_adamw *o = NULL;
    if (m) CHECK_OK(actor_train_create(m, T, 100, &t));  // 100: chunks that do not divide V = 256
    optim_adamw_config oc = {.beta1 = c[1], .beta2 = c[2], .eps = c[3], .weight_decay = c[4],
                             .max_grad_norm = c[5], .decay_vectors = 0};
    optim_schedule sch = {.kind = OPTIM_SCHEDULE_COSINE, .lr = c[0], .warmup_steps = (long)c[6],
                          .total_steps = (long)c[7], .min_lr_ratio = c[8]};
    if (m) CHECK_OK(optim_adamw_create(&oc, actor_model_params(m), &o));
    if (!t || !o) {
        optim_adamw_free(o);
        actor_train_free(t);
        actor_model_free(m);
        rlc_free(buf);
        return;
    }
    actor_params *p = actor_model_params(m);
    float *grads = rlc_malloc(p->numel * sizeof(float));
    float *lp = rlc_malloc((size_t)T * sizeof(float)), *dlp = rlc_malloc((size_t)T * sizeof(float));
    long N = 0;
    for (int i = 0; i < T; i++) N += targets[i] >= 0;
    double worst = 0, got[11] = {0};
    for (int step = 0; step <= 10; step++) {
        memset(grads, 0, p->numel * sizeof(float));
        CHECK_OK(actor_train_forward(t, &b, lp, NULL));
        double loss = batch_nll(&b, lp, 1.0 / (double)N, dlp) / (double)N;
        got[step] = loss;
        double rel_err = fabs(loss - want[step]) / fabs(want[step]);
        if (rel_err > worst) worst = rel_err;
        CHECK_MSG(rel_err < ADAMW_RTOL, "%s step %d: loss %.7f, torch %.7f (rel %.2e)", name, step, loss,
                  want[step], rel_err);
        if (step == 10) break;
        CHECK_OK(actor_train_backward(t, dlp, NULL, grads));
        optim_step_result res;
        CHECK_OK(optim_adamw_step(o, p->data, grads, optim_schedule_lr(&sch, step), &res));
        CHECK(!res.skipped);
    }
    printf("%s: 10 AdamW steps, loss %.6f -> %.6f (torch %.6f -> %.6f), worst rel error %.2e (tolerance %.0e)\n",
           name, got[0], got[10], want[0], want[10], worst, ADAMW_RTOL);
    rlc_free(grads);
    rlc_free(lp);
    rlc_free(dlp);
    rlc_free(tokens);
    rlc_free(targets);
    rlc_free(cus);
    optim_adamw_free(o);
    actor_train_free(t);
    actor_model_free(m);
    rlc_free(buf);
}

int main(void) {
    run_model("qwen2");
    run_model("qwen3");
    return test_finish("test_adamw_parity");
}
