// test_sft.c: supervised fine-tuning.
//  - gradient accumulation: a step packed into many small rows gives the
//    gradient of one big row (the NLL is divided by the step's token count);
//  - the data: the prompt is masked, the response and EOS are trained; chat
//    messages train the assistant turns only; malformed records name the line;
//  - the loss of the tiny experiment goes down;
//  - `rlc sft` end to end with --stop-after and --resume.
#include <stdint.h>  // uint64_t
#include <stdlib.h>  // system
#include <string.h>  // memcmp, strstr

#include "actor/model.h"
#include "actor/train.h"
#include "core/core.h"
#include "learner/batching.h"
#include "learner/sft.h"
#include "learner/sft_internal.h"
#include "test.h"

#define WORK "test_sft.work"

static void rm_rf(const char *path) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: %s failed\n", cmd);
}

// The step's gradient, accumulated over the rows of a packing with budget `budget`.
static double step_grad(actor_model *m, const batch_sample *s, int n, int budget, float *grads) {
    batch_packer *p;
    actor_trainer *t;
    CHECK_OK(batch_packer_create(budget, &p));
    CHECK_OK(actor_train_create(m, budget, 100, &t));
    if (!p || !t) return 0;
    CHECK_OK(batch_packer_pack(p, s, n));
    long N = batch_packer_targets(p);
    float lp[64], dlp[64];
    double nll = 0;
    memset(grads, 0, actor_model_params(m)->numel * sizeof(float));
    for (int r = 0; r < batch_packer_rows(p); r++) {
        const actor_batch *b = batch_packer_row(p, r);
        CHECK_OK(actor_train_forward(t, b, lp, NULL));
        nll += batch_nll(b, lp, 1.0 / (double)N, dlp);
        CHECK_OK(actor_train_backward(t, dlp, NULL, grads));
    }
    printf("  budget %d: %d rows, %ld targets, loss %.7f\n", budget, batch_packer_rows(p), N, nll / (double)N);
    actor_train_free(t);
    batch_packer_free(p);
    return nll / (double)N;
}

static void test_accumulation(void) {
    char path[1024];
    actor_model *m = NULL;
    CHECK_OK(actor_model_load(test_source(path, sizeof path, "tests/data/hf/llama"), &m));
    if (!m) return;
    // six samples of different lengths and prompt sizes
    static int tok[6][20];
    static unsigned char mask[6][20];
    batch_sample s[6];
    uint64_t r = 12345;
    int lens[6] = {9, 4, 13, 7, 11, 5}, prompts[6] = {3, 1, 6, 0, 4, 2};
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < lens[i]; j++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            tok[i][j] = (int)((r >> 33) % 256);
            mask[i][j] = j >= prompts[i];
        }
        s[i] = (batch_sample){tok[i], mask[i], lens[i]};
    }
    size_t n = actor_model_params(m)->numel;
    float *g1 = rlc_malloc(n * sizeof(float)), *g2 = rlc_malloc(n * sizeof(float));
    double l1 = step_grad(m, s, 6, 64, g1);  // one row
    double l2 = step_grad(m, s, 6, 14, g2);  // several rows
    size_t worst = 0;
    double worst_abs = 0, rel = test_rel_l2(g2, g1, n, &worst, &worst_abs);
    printf("accumulation: loss %.9g vs %.9g, gradient rel l2 %.3g (worst |d| %.3g at %zu)\n", l1, l2, rel,
           worst_abs, worst);
    CHECK_MSG(fabs(l1 - l2) <= 1e-6 * fabs(l1), "loss one row %.9g, several rows %.9g", l1, l2);
    CHECK_MSG(rel < 1e-5, "gradient rel l2 %.3g", rel);
    rlc_free(g1);
    rlc_free(g2);
    actor_model_free(m);
}

static int stories(char *model, char *tok, size_t cap) {
    test_data(model, cap, "models/stories260K/stories260K.bin");
    test_data(tok, cap, "models/stories260K/tok512.bin");
    return rlc_file_exists(model) && rlc_file_exists(tok);
}

static void test_data_masks(void) {
    char model[1024], tokp[1024], tiny[1024], chat[1024];
    if (!stories(model, tokp, sizeof model)) {
        printf("skip the data test: stories260K not found\n");
        return;
    }
    tok_tokenizer *tok;
    CHECK_OK(tok_load(tokp, &tok));
    if (!tok) return;
    sft_config c;
    sft_config_default(&c);
    c.data_paths[0] = test_source(tiny, sizeof tiny, "tests/data/sft/tiny.jsonl");
    c.data_paths[1] = test_source(chat, sizeof chat, "tests/data/sft/chat.jsonl");
    c.n_data = 2;
    sft_dataset d;
    rlc_log_set_level(RLC_LOG_ERROR);  // "no chat template: plain" is expected
    CHECK_OK(sft_data_load(&d, &c, tok, 2));
    rlc_log_set_level(RLC_LOG_INFO);
    CHECK(d.n == 18);
    if (d.n == 18) {
        // sample 0: the prompt (BOS + "Once upon a time, ...") masked, then the
        // response and EOS trained
        int *ids;
        size_t n_ids;
        const char *p0 = "Once upon a time, there was a little cat named Tom.";
        CHECK_OK(tok_encode(tok, p0, strlen(p0), TOK_ENCODE_ADD_SPECIAL, &ids, &n_ids));
        long a = d.offsets[0], b = d.offsets[1];
        CHECK(ids[0] == 1 && memcmp(d.tokens + a, ids, n_ids * sizeof(int)) == 0);
        int ok = 1;
        for (long i = a; i < b; i++) ok &= d.mask[i] == (i - a >= (long)n_ids);
        CHECK_MSG(ok, "sample 0: the mask is not prompt 0, response 1");
        CHECK(d.tokens[b - 1] == 2 && d.mask[b - 1] == 1);
        rlc_free(ids);
        // chat sample (index 17): the two assistant turns are trained
        a = d.offsets[17], b = d.offsets[18];
        int trained[64], nt = 0, runs = 0;
        for (long i = a; i < b; i++) {
            if (d.mask[i] && nt < 64) trained[nt++] = d.tokens[i];
            runs += d.mask[i] && (i == a || !d.mask[i - 1]);
        }
        char *text = NULL;
        size_t len;
        CHECK_OK(tok_decode(tok, trained, (size_t)nt, 0, &text, &len));
        CHECK_MSG(runs == 2 && text && strstr(text, "The dog ran in the park.") && strstr(text, "He found a ball.") &&
                      !strstr(text, "And then"),
                  "chat: %d trained runs: \"%s\"", runs, text ? text : "");
        rlc_free(text);
    }
    sft_data_free(&d);

    // a malformed record names its line; a record without the fields too
    rm_rf(WORK);
    CHECK(system("mkdir -p " WORK) == 0);
    FILE *fp = fopen(WORK "/bad.jsonl", "w");
    if (fp) {
        fputs("{\"prompt\": \"a\", \"response\": \"b\"}\n\n{\"prompt\": \"a\", \"response\": \n", fp);
        fclose(fp);
    }
    fp = fopen(WORK "/nofields.jsonl", "w");
    if (fp) {
        fputs("{\"question\": \"a\", \"answer\": \"b\"}\n", fp);
        fclose(fp);
    }
    c.data_paths[0] = WORK "/bad.jsonl";
    c.n_data = 1;
    CHECK(sft_data_load(&d, &c, tok, 2) == RLC_ERR_FORMAT && strstr(rlc_last_error(), "bad.jsonl:3"));
    printf("  %s\n", rlc_last_error());
    c.data_paths[0] = WORK "/nofields.jsonl";
    CHECK(sft_data_load(&d, &c, tok, 2) == RLC_ERR_FORMAT && strstr(rlc_last_error(), "nofields.jsonl:1") &&
          strstr(rlc_last_error(), "\"prompt\""));
    printf("  %s\n", rlc_last_error());
    c.data_paths[0] = WORK "/missing.jsonl";
    CHECK(sft_data_load(&d, &c, tok, 2) == RLC_ERR_IO && strstr(rlc_last_error(), "missing.jsonl"));
    // prompts longer than max_prompt_tokens are skipped
    c.data_paths[0] = tiny;
    c.max_prompt_tokens = 12;
    CHECK_OK(sft_data_load(&d, &c, tok, 2));
    CHECK(d.n > 0 && d.n < 16 && d.skipped_prompt == 16 - d.n);
    sft_data_free(&d);
    tok_free(tok);
}

static void test_loss_goes_down(void) {
    char model[1024], tokp[1024], tiny[1024];
    if (!stories(model, tokp, sizeof model)) {
        printf("skip the loss test: stories260K not found\n");
        return;
    }
    sft_config c;
    sft_config_default(&c);
    c.model_path = model;
    c.tokenizer_path = tokp;
    c.data_paths[0] = test_source(tiny, sizeof tiny, "tests/data/sft/tiny.jsonl");
    c.n_data = 1;
    c.out_dir = WORK "/loss";
    c.steps = 20;
    c.batch_size = 8;
    c.micro_batch_tokens = 512;
    c.schedule = (optim_schedule){.kind = OPTIM_SCHEDULE_LINEAR, .lr = 3e-3, .warmup_steps = 2};
    c.threads = 1;
    sft_trainer *t;
    CHECK_OK(sft_trainer_create(&c, &t));
    if (!t) return;
    double first = 0, last = 0;
    for (int i = 0; i < 20; i++) {
        sft_step_stats st;
        CHECK_OK(sft_trainer_step(t, &st));
        if (i < 2) first += st.loss / 2;  // two steps: one epoch
        if (i >= 18) last += st.loss / 2;
        if (i == 0) CHECK(st.lr == 0);
        if (i == 2) CHECK(fabs(st.lr - 3e-3) < 1e-12);
    }
    printf("loss: first epoch %.4f, last epoch %.4f\n", first, last);
    CHECK_MSG(last < 0.5 * first, "loss %.4f -> %.4f", first, last);
    sft_trainer_free(t);
}

// `rlc sft` on the ready experiment, 4 steps with a stop after 2, then --resume.
static void test_cli(void) {
    const char *bin = getenv("RLC_BIN"), *src = getenv("RLC_SOURCE");
    char model[1024], tokp[1024];
    if (!bin || !src || !stories(model, tokp, sizeof model)) {
        printf("skip the CLI test: RLC_BIN / RLC_SOURCE / stories260K missing\n");
        return;
    }
    char out[1200], cmd[8192];
    if (!realpath(".", out)) return;
    strcat(out, "/" WORK "/cli");
    const char *common = "--threads 1 --set algorithm.steps=4 --set output.save_every=2";
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' sft scripts/experiments/sft_tiny.lua %s --set output.dir='%s' "
             "--set model.path='%s' --set model.tokenizer='%s' --stop-after 3 2>/dev/null",
             src, bin, common, out, model, tokp);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' sft scripts/experiments/sft_tiny.lua %s --set output.dir='%s' "
             "--set model.path='%s' --set model.tokenizer='%s' --resume 2>&1 | grep 'resumed from .*step-3' >/dev/null",
             src, bin, common, out, model, tokp);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    char f[1400];
    snprintf(f, sizeof f, "%s/checkpoints/step-4/model.safetensors", out);
    CHECK_MSG(rlc_file_exists(f), "%s missing", f);
    snprintf(f, sizeof f, "%s/checkpoints/step-2/trainer_state.json", out);
    CHECK_MSG(rlc_file_exists(f), "%s missing", f);
    snprintf(cmd, sizeof cmd, "test $(wc -l < '%s/metrics.jsonl') -eq 4", out);
    CHECK_MSG(system(cmd) == 0, "metrics.jsonl does not have 4 lines");
    // a bad key is reported with the nearest ones
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' sft scripts/experiments/sft_tiny.lua --set algorithm.lrr=1 2>&1 | "
             "grep 'did you mean' >/dev/null", src, bin);
    CHECK(system(cmd) == 0);
}

int main(void) {
    rm_rf(WORK);
    test_accumulation();
    test_data_masks();
    test_loss_goes_down();
    test_cli();
    int rc = test_finish("test_sft");
    if (rc == 0) rm_rf(WORK);
    return rc;
}
