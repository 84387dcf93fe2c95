// test_checkpoint.c: checkpoints that resume exactly.
//  (a) resume: N SFT steps, save, resume, N more steps give the same losses
//      and the same weight bytes as 2N steps straight through;
//  (b) a checkpoint written by rlc reloads with actor_model_load (Hugging Face
//      folders of each family, and a llama2.c source whose config.json is
//      written from the actor_config) and gives the same logits;
//  (c) a save that fails between any two of its writes leaves the last good
//      checkpoint loadable and ckpt_latest (what --resume uses) picks it;
//  (d) a corrupt or truncated trainer_state.json or optimizer.safetensors is
//      a clear error naming the file.
#include <stdint.h>  // uint64_t
#include <stdlib.h>  // system
#include <string.h>  // memcmp

#include "actor/model.h"
#include "core/core.h"
#include "learner/checkpoint.h"
#include "learner/sft.h"
#include "test.h"

#define WORK "test_checkpoint.work"

static void rm_rf(const char *path) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: %s failed\n", cmd);
}

static float nrand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((*s >> 11) + 0.5) / 9007199254740992.0;
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = (*s >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

// One AdamW step with random gradients: weights move away from the source
// and the moments are not zero.
static void perturb(actor_params *p, optim_adamw *o, uint64_t seed) {
    float *g = rlc_calloc(p->numel, sizeof *g);
    for (size_t i = 0; i < p->numel; i++) g[i] = nrand(&seed);
    CHECK_OK(optim_adamw_step(o, p->data, g, 1e-2, NULL));
    rlc_free(g);
}

static void logits_of(actor_model *m, const int *tokens, int n, float *out) {
    actor_kv *kv;
    CHECK_OK(actor_kv_create(actor_model_config(m), 1, 64, 64, &kv));
    if (!kv) return;
    int slots[64] = {0};
    CHECK_OK(actor_forward(m, kv, tokens, slots, n, NULL, out));
    actor_kv_free(kv);
}

static int configs_equal(const actor_config *a, const actor_config *b) {
    int ok = a->arch == b->arch && a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
             a->n_layers == b->n_layers && a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads &&
             a->head_dim == b->head_dim && a->intermediate_size == b->intermediate_size &&
             a->rms_eps == b->rms_eps && a->rope_theta == b->rope_theta && a->rope_type == b->rope_type &&
             a->tie_embeddings == b->tie_embeddings && a->attn_bias == b->attn_bias && a->qk_norm == b->qk_norm &&
             a->bos_id == b->bos_id && a->n_eos == b->n_eos && a->max_position == b->max_position;
    for (int i = 0; ok && i < a->n_eos; i++) ok = a->eos_ids[i] == b->eos_ids[i];
    return ok;
}

// With RLC_EXPORT_CKPT=DIR (scripts/make_train_fixtures.py sets it) the
// checkpoints of (b) go to DIR/<name>, with the logits rlc computed before
// saving in DIR/<name>/rlc_logits.bin: "RLCLOGIT", u32 version 1, u32 n,
// u32 V, i32 tokens[n], f32 logits[n*V]; the script checks that transformers'
// from_pretrained gives the same logits.
static void export_logits(const char *run, const int *tokens, uint32_t n, uint32_t V, const float *logits) {
    char path[1200];
    snprintf(path, sizeof path, "%s/rlc_logits.bin", run);
    FILE *fp = fopen(path, "wb");
    CHECK_MSG(fp != NULL, "cannot create %s", path);
    if (!fp) return;
    uint32_t head[3] = {1, n, V};
    fwrite("RLCLOGIT", 1, 8, fp);
    fwrite(head, sizeof head, 1, fp);
    fwrite(tokens, sizeof *tokens, n, fp);
    fwrite(logits, sizeof *logits, (size_t)n * V, fp);
    CHECK(fclose(fp) == 0);
}

// (b) save from `src` (a folder or a .bin), reload the step folder, compare.
static void check_reload(const char *src, const char *tokenizer, const char *name) {
    char run[1024];
    const char *export_dir = getenv("RLC_EXPORT_CKPT");
    if (export_dir) snprintf(run, sizeof run, "%s/%s", export_dir, name);
    else snprintf(run, sizeof run, WORK "/reload_%s", name);
    actor_model *m = NULL, *back = NULL;
    CHECK_OK(actor_model_load(src, &m));
    if (!m) return;
    actor_params *p = actor_model_params(m);
    optim_adamw_config oc = optim_adamw_defaults();
    optim_adamw *o;
    CHECK_OK(optim_adamw_create(&oc, p, &o));
    perturb(p, o, 7);
    json_t *st = json_pack("{s:i}", "epoch", 3);
    ckpt_save_args a = {.run_dir = run, .step = 5, .params = p, .config = actor_model_config(m),
                        .model_dir = src, .tokenizer_path = tokenizer, .optim = o, .trainer_state = st};
    char dir[4096];
    CHECK_OK(ckpt_save(&a, dir, sizeof dir));
    json_decref(st);
    CHECK_OK(actor_model_load(dir, &back));
    if (back) {
        const actor_params *q = actor_model_params(back);
        CHECK_MSG(q->numel == p->numel && memcmp(q->data, p->data, p->numel * sizeof(float)) == 0,
                  "%s: reloaded weights differ", src);
        CHECK_MSG(configs_equal(actor_model_config(m), actor_model_config(back)), "%s: config differs", src);
        int toks[12] = {1, 5, 9, 33, 2, 17, 100, 64, 3, 8, 21, 13};
        int V = actor_model_config(m)->vocab_size;
        float *l1 = rlc_malloc(12 * (size_t)V * sizeof(float)), *l2 = rlc_malloc(12 * (size_t)V * sizeof(float));
        logits_of(m, toks, 12, l1);
        logits_of(back, toks, 12, l2);
        CHECK_MSG(memcmp(l1, l2, 12 * (size_t)V * sizeof(float)) == 0, "%s: logits differ after reload", src);
        if (export_dir) export_logits(run, toks, 12, (uint32_t)V, l1);
        rlc_free(l1);
        rlc_free(l2);
        // the optimizer state comes back too
        optim_adamw *o2;
        json_t *state = NULL;
        CHECK_OK(optim_adamw_create(&oc, actor_model_params(back), &o2));
        CHECK_OK(ckpt_load(dir, actor_model_config(back), actor_model_params(back), o2, &state));
        CHECK(memcmp(optim_adamw_m(o2), optim_adamw_m(o), p->numel * sizeof(float)) == 0);
        CHECK(memcmp(optim_adamw_v(o2), optim_adamw_v(o), p->numel * sizeof(float)) == 0);
        CHECK(optim_adamw_steps(o2) == 1 && optim_adamw_skipped(o2) == 0);
        CHECK(state && json_integer_value(json_object_get(state, "epoch")) == 3 &&
              json_integer_value(json_object_get(state, "step")) == 5);
        json_decref(state);
        optim_adamw_free(o2);
        actor_model_free(back);
    }
    if (tokenizer) {
        const char *base = strrchr(tokenizer, '/');
        char f[4200];
        snprintf(f, sizeof f, "%s/%s", dir, base ? base + 1 : tokenizer);
        CHECK_MSG(rlc_file_exists(f), "tokenizer not copied: %s", f);
    }
    optim_adamw_free(o);
    actor_model_free(m);
}

static void test_reload(void) {
    const char *families[] = {"llama", "llama3_tied", "qwen2", "qwen3"};
    char src[1024];
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "tests/data/hf/%s", families[i]);
        check_reload(test_source(src, sizeof src, rel), NULL, families[i]);
    }
    char bin[1024], tok[1024];
    test_data(bin, sizeof bin, "models/stories260K/stories260K.bin");
    test_data(tok, sizeof tok, "models/stories260K/tok512.bin");
    if (rlc_file_exists(bin)) check_reload(bin, tok, "llama2c");
    else printf("skip the llama2.c reload: %s not found\n", bin);
}

// A small model with a saved good checkpoint at step 1; returns its pieces.
typedef struct {
    actor_model *m;
    optim_adamw *o;
    float *w1, *m1;  // the weights and m at the good checkpoint
} fixture;

static int make_fixture(fixture *f, const char *run) {
    char src[1024];
    memset(f, 0, sizeof *f);
    CHECK_OK(actor_model_load(test_source(src, sizeof src, "tests/data/hf/llama"), &f->m));
    if (!f->m) return 0;
    actor_params *p = actor_model_params(f->m);
    optim_adamw_config oc = optim_adamw_defaults();
    CHECK_OK(optim_adamw_create(&oc, p, &f->o));
    perturb(p, f->o, 11);
    ckpt_save_args a = {.run_dir = run, .step = 1, .params = p, .config = actor_model_config(f->m),
                        .model_dir = src, .optim = f->o};
    CHECK_OK(ckpt_save(&a, NULL, 0));
    f->w1 = rlc_malloc(p->numel * sizeof(float));
    f->m1 = rlc_malloc(p->numel * sizeof(float));
    memcpy(f->w1, p->data, p->numel * sizeof(float));
    memcpy(f->m1, optim_adamw_m(f->o), p->numel * sizeof(float));
    return 1;
}

static void free_fixture(fixture *f) {
    optim_adamw_free(f->o);
    actor_model_free(f->m);
    rlc_free(f->w1);
    rlc_free(f->m1);
}

// Loads the newest checkpoint of run and checks it is step `want` holding w1/m1.
static void check_latest_is_good(const char *run, const fixture *f, long want, int k) {
    char dir[4096];
    long step;
    CHECK_OK(ckpt_latest(run, dir, sizeof dir, &step));
    CHECK_MSG(step == want, "failing write %d: latest step %ld, want %ld", k, step, want);
    actor_model *m = NULL;
    CHECK_OK(actor_model_load(dir, &m));
    if (!m) return;
    actor_params *p = actor_model_params(m);
    optim_adamw_config oc = optim_adamw_defaults();
    optim_adamw *o;
    json_t *state = NULL;
    CHECK_OK(optim_adamw_create(&oc, p, &o));
    CHECK_OK(ckpt_load(dir, actor_model_config(m), p, o, &state));
    CHECK_MSG(memcmp(p->data, f->w1, p->numel * sizeof(float)) == 0, "failing write %d: weights differ", k);
    CHECK_MSG(memcmp(optim_adamw_m(o), f->m1, p->numel * sizeof(float)) == 0, "failing write %d: m differs", k);
    json_decref(state);
    optim_adamw_free(o);
    actor_model_free(m);
}

// (c) every write of a second save fails in turn (a crash between writes).
static void test_failed_save(void) {
    const char *run = WORK "/failed";
    fixture f;
    if (!make_fixture(&f, run)) return;
    actor_params *p = actor_model_params(f.m);
    char src[1024];
    test_source(src, sizeof src, "tests/data/hf/llama");
    perturb(p, f.o, 12);  // the state of step 2 differs
    ckpt_save_args a = {.run_dir = run, .step = 2, .params = p, .config = actor_model_config(f.m),
                        .model_dir = src, .optim = f.o};
    int k;
    for (k = 1; k <= 10; k++) {
        ckpt_test_fail_at_write(k);
        rlc_status s = ckpt_save(&a, NULL, 0);
        ckpt_test_fail_at_write(0);
        if (s == RLC_OK) break;  // k is past the last write: the save went through
        CHECK_MSG(s == RLC_ERR_IO && strstr(rlc_last_error(), "injected"), "write %d: %s", k, rlc_last_error());
        CHECK_MSG(rlc_is_dir(WORK "/failed/checkpoints/step-2.tmp"), "write %d: no partial folder left", k);
        check_latest_is_good(run, &f, 1, k);
    }
    // model, config, optimizer, trainer state, rename: the 6th went through
    CHECK_MSG(k == 6, "the save has %d writes, expected 5", k - 1);
    long step;
    char dir[4096];
    CHECK_OK(ckpt_latest(run, dir, sizeof dir, &step));
    CHECK(step == 2 && !rlc_is_dir(WORK "/failed/checkpoints/step-2.tmp"));

    // re-saving an existing step replaces it; a failure at the rename keeps the old one
    ckpt_test_fail_at_write(5);
    CHECK(ckpt_save(&a, NULL, 0) == RLC_ERR_IO);
    ckpt_test_fail_at_write(0);
    CHECK_OK(ckpt_latest(run, dir, sizeof dir, &step));
    CHECK(step == 2);
    CHECK_OK(ckpt_save(&a, NULL, 0));

    // keep_last prunes the older ones
    a.step = 3;
    a.keep_last = 2;
    CHECK_OK(ckpt_save(&a, NULL, 0));
    CHECK(!rlc_is_dir(WORK "/failed/checkpoints/step-1") && rlc_is_dir(WORK "/failed/checkpoints/step-2"));

    // an incomplete step folder (no trainer_state.json) is skipped
    CHECK(system("mkdir -p " WORK "/failed/checkpoints/step-9 && touch " WORK
                 "/failed/checkpoints/step-9/model.safetensors") == 0);
    rlc_log_set_level(RLC_LOG_ERROR);
    CHECK_OK(ckpt_latest(run, dir, sizeof dir, &step));
    rlc_log_set_level(RLC_LOG_INFO);
    CHECK(step == 3);
    CHECK_OK(ckpt_latest(WORK "/no_such_run", dir, sizeof dir, &step));
    CHECK(step == -1 && dir[0] == '\0');
    free_fixture(&f);
}

static void write_text(const char *path, const char *text, long len) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return;
    fwrite(text, 1, len < 0 ? strlen(text) : (size_t)len, fp);
    fclose(fp);
}

// (d) damaged files: the error names the file.
static void test_corrupt(void) {
    const char *run = WORK "/corrupt";
    fixture f;
    if (!make_fixture(&f, run)) return;
    actor_params *p = actor_model_params(f.m);
    const actor_config *cfg = actor_model_config(f.m);
    const char *dir = WORK "/corrupt/checkpoints/step-1";
    const char *ts = WORK "/corrupt/checkpoints/step-1/trainer_state.json";
    const char *opt = WORK "/corrupt/checkpoints/step-1/optimizer.safetensors";
    char *good_ts, *good_opt;
    size_t ts_len, opt_len;
    CHECK_OK(rlc_read_file(ts, &good_ts, &ts_len));
    CHECK_OK(rlc_read_file(opt, &good_opt, &opt_len));
    if (!good_ts || !good_opt) return;
    json_t *state = NULL;

    struct {
        const char *what, *text, *want;
        long len;
    } ts_cases[] = {
        {"truncated", good_ts, "trainer_state.json", (long)ts_len / 2},
        {"empty", "", "trainer_state.json", 0},
        {"not an object", "[1, 2]", "not a JSON object", -1},
        {"wrong format", "{\"format\": \"x\", \"version\": 1, \"step\": 1}", "expected \"rlc-trainer-state\"", -1},
        {"newer version",
         "{\"format\": \"rlc-trainer-state\", \"version\": 2, \"step\": 1, \"optimizer\": {\"steps\": 1, \"skipped\": 0}}",
         "version 2", -1},
        {"step of another folder",
         "{\"format\": \"rlc-trainer-state\", \"version\": 1, \"step\": 7, \"optimizer\": {\"steps\": 1, \"skipped\": 0}}",
         "does not match the folder", -1},
        {"counts of another optimizer",
         "{\"format\": \"rlc-trainer-state\", \"version\": 1, \"step\": 1, \"optimizer\": {\"steps\": 4, \"skipped\": 0}}",
         "disagree", -1},
        {"step as a string", "{\"format\": \"rlc-trainer-state\", \"version\": 1, \"step\": \"1\"}", "\"step\"", -1},
    };
    for (size_t i = 0; i < sizeof ts_cases / sizeof ts_cases[0]; i++) {
        write_text(ts, ts_cases[i].text, ts_cases[i].len);
        rlc_status s = ckpt_load(dir, cfg, p, f.o, &state);
        CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), ts_cases[i].want) &&
                      strstr(rlc_last_error(), "trainer_state.json"),
                  "trainer_state %s: %s: %s", ts_cases[i].what, rlc_status_name(s), rlc_last_error());
        CHECK(state == NULL);
        if (i < 3) printf("  %s trainer_state.json: %s\n", ts_cases[i].what, rlc_last_error());
    }
    write_text(ts, good_ts, (long)ts_len);

    long opt_cuts[] = {(long)opt_len / 2, 5, (long)opt_len - 1};
    for (int i = 0; i < 3; i++) {
        write_text(opt, good_opt, opt_cuts[i]);
        rlc_status s = ckpt_load(dir, cfg, p, f.o, &state);
        CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "optimizer.safetensors"),
                  "optimizer cut at %ld: %s: %s", opt_cuts[i], rlc_status_name(s), rlc_last_error());
        if (i == 0) printf("  truncated optimizer.safetensors: %s\n", rlc_last_error());
    }
    // a model.safetensors where optimizer.safetensors should be: no adamw.meta
    CHECK(system("cp " WORK "/corrupt/checkpoints/step-1/model.safetensors " WORK
                 "/corrupt/checkpoints/step-1/optimizer.safetensors") == 0);
    rlc_status s = ckpt_load(dir, cfg, p, f.o, &state);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "optimizer.safetensors") &&
                  strstr(rlc_last_error(), "adamw.meta"),
              "model file as optimizer: %s", rlc_last_error());
    write_text(opt, good_opt, (long)opt_len);
    CHECK_OK(ckpt_load(dir, cfg, p, f.o, &state));
    json_decref(state);
    rlc_free(good_ts);
    rlc_free(good_opt);
    free_fixture(&f);
}

// ---- (a) resume -----------------------------------------------------------------

// A small SFT run on the 260K llama2.c model: 5 samples per step (epochs end
// mid-step), rows of 160 tokens (several micro-batches per step), warm-up
// then cosine, weight decay and clipping on.
static int sft_setup(sft_config *c, const char *out, char *model, char *tok, char *data, size_t cap) {
    sft_config_default(c);
    test_data(model, cap, "models/stories260K/stories260K.bin");
    test_data(tok, cap, "models/stories260K/tok512.bin");
    test_source(data, cap, "tests/data/sft/tiny.jsonl");
    if (!rlc_file_exists(model) || !rlc_file_exists(tok)) return 0;
    c->model_path = model;
    c->tokenizer_path = tok;
    c->data_paths[0] = data;
    c->n_data = 1;
    c->out_dir = out;
    c->steps = 8;
    c->batch_size = 5;
    c->micro_batch_tokens = 160;
    c->vocab_chunk = 200;
    c->schedule = (optim_schedule){.kind = OPTIM_SCHEDULE_COSINE, .lr = 3e-3, .warmup_steps = 2,
                                   .min_lr_ratio = 0.1};
    c->adamw.weight_decay = 0.1;
    c->adamw.max_grad_norm = 1.0;
    c->seed = 7;
    c->log_every = 0;
    c->save_every = 0;
    c->threads = 1;
    return 1;
}

static int same_file(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = rlc_read_file(a, &x, &nx) == RLC_OK && rlc_read_file(b, &y, &ny) == RLC_OK && nx == ny &&
               memcmp(x, y, nx) == 0;
    rlc_free(x);
    rlc_free(y);
    return same;
}

// The "loss" values of metrics.jsonl, in order; returns the count.
static int metric_losses(const char *path, double *out, int cap) {
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp) && n < cap) {
        json_t *j = json_loads(line, 0, NULL);
        out[n++] = json_number_value(json_object_get(j, "loss"));
        json_decref(j);
    }
    fclose(fp);
    return n;
}

static void test_resume(void) {
    char model[1024], tok[1024], data[1024];
    sft_config c;
    if (!sft_setup(&c, WORK "/straight", model, tok, data, sizeof model)) {
        printf("skip the resume test: stories260K not found under $RLC_DATA\n");
        return;
    }
    // 2N = 8 steps straight through
    double la[8], lb[8];
    sft_trainer *t;
    CHECK_OK(sft_trainer_create(&c, &t));
    if (!t) return;
    for (int i = 0; i < 8; i++) {
        sft_step_stats st;
        CHECK_OK(sft_trainer_step(t, &st));
        la[i] = st.loss;
        CHECK(st.step == i + 1 && st.rows >= 2);
    }
    CHECK_OK(sft_trainer_save(t));
    sft_trainer_free(t);

    // N = 4 steps and a checkpoint; 2 more whose save fails (a crash); resume
    // from step 4; 4 more steps
    c.out_dir = WORK "/resumed";
    CHECK_OK(sft_trainer_create(&c, &t));
    if (!t) return;
    for (int i = 0; i < 6; i++) {
        sft_step_stats st;
        CHECK_OK(sft_trainer_step(t, &st));
        if (i < 4) lb[i] = st.loss;
        if (i == 3) CHECK_OK(sft_trainer_save(t));
    }
    ckpt_test_fail_at_write(2);
    CHECK(sft_trainer_save(t) == RLC_ERR_IO);
    ckpt_test_fail_at_write(0);
    sft_trainer_free(t);
    c.resume = 1;
    CHECK_OK(sft_trainer_create(&c, &t));
    if (!t) return;
    CHECK_MSG(sft_trainer_steps_done(t) == 4, "resumed at step %ld", sft_trainer_steps_done(t));
    for (int i = 4; i < 8; i++) {
        sft_step_stats st;
        CHECK_OK(sft_trainer_step(t, &st));
        lb[i] = st.loss;
    }
    CHECK_OK(sft_trainer_save(t));
    sft_trainer_free(t);

    for (int i = 0; i < 8; i++)
        CHECK_MSG(la[i] == lb[i], "step %d: loss %.17g straight, %.17g resumed", i + 1, la[i], lb[i]);
    printf("resume: losses of 8 steps identical (%.6f -> %.6f)\n", la[0], la[7]);
    const char *files[] = {"model.safetensors", "optimizer.safetensors", "trainer_state.json", "config.json"};
    for (int i = 0; i < 4; i++) {
        char a[512], b[512];
        snprintf(a, sizeof a, WORK "/straight/checkpoints/step-8/%s", files[i]);
        snprintf(b, sizeof b, WORK "/resumed/checkpoints/step-8/%s", files[i]);
        CHECK_MSG(same_file(a, b), "%s differs between the straight and the resumed run", files[i]);
    }
    // metrics.jsonl of the resumed run: the failed run's steps 5 and 6 were
    // dropped on resume and written again
    double ma[16], mb[16];
    int na = metric_losses(WORK "/straight/metrics.jsonl", ma, 16);
    int nb = metric_losses(WORK "/resumed/metrics.jsonl", mb, 16);
    CHECK_MSG(na == 8 && nb == 8, "metrics lines: %d straight, %d resumed", na, nb);
    for (int i = 0; i < 8 && i < na && i < nb; i++) CHECK(ma[i] == mb[i]);

    // resuming a finished run does nothing more
    CHECK_OK(sft_trainer_create(&c, &t));
    if (t) CHECK(sft_trainer_steps_done(t) == 8);
    sft_trainer_free(t);
}

int main(void) {
    rm_rf(WORK);
    test_reload();
    test_failed_save();
    test_corrupt();
    test_resume();
    int rc = test_finish("test_checkpoint");
    if (rc == 0) rm_rf(WORK);
    return rc;
}
