// test_device.c: model.device where there is no GPU (always runs): the names
// it takes ("cpu", "cuda", "cuda:N") and the ones it refuses (RLC_ERR_CONFIG
// naming the key and the value, at load and from --set, and model.dtype's
// too); and "cuda" on this machine: in a build without CUDA the learner's
// configuration, the GPU trainer and the rollout worker answer
// RLC_ERR_UNSUPPORTED saying how to build with CUDA; in a CUDA build without
// a device, creating the learner's trainer or the worker answers
// RLC_ERR_CUDA naming the device. `rlc train --set model.device=cuda` exits
// with that message, never a crash. tests/test_cuda_rl.c runs the GPU path.
#include <stdio.h>     // fopen
#include <stdlib.h>    // system, mkdtemp
#include <string.h>    // strstr
#include <sys/wait.h>  // WIFEXITED
#include <unistd.h>    // getpid, chdir

#include "actor/model.h"      // actor_model_load
#include "actor/tokenizer.h"  // tok_load
#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query
#include "learner/grpo.h"     // grpo_config_from_exp, grpo_trainer_create
#include "reward/reward.h"    // rlc_exp_*
#include "rollout/worker.h"   // rollout_worker_create
#include "test.h"

static int has_device(void) {
    int n = 0;
    char buf[1024];
    return kernels_cuda_compiled() && kernels_cuda_query(&n, buf, sizeof buf) == RLC_OK && n > 0;
}

static void test_parse(void) {
    int ord = 99;
    CHECK(rlc_exp_parse_device("cpu", &ord) == RLC_OK && ord == -1);
    CHECK(rlc_exp_parse_device("cuda", &ord) == RLC_OK && ord == 0);
    CHECK(rlc_exp_parse_device("cuda:3", &ord) == RLC_OK && ord == 3);
    const char *bad[] = {"tpu", "", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "cuda 0", "gpu"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rlc_status s = rlc_exp_parse_device(bad[i], &ord);
        CHECK_MSG(s == RLC_ERR_CONFIG && ord == -1, "\"%s\": %s", bad[i], rlc_status_name(s));
        CHECK_MSG(strstr(rlc_last_error(), "model.device") && strstr(rlc_last_error(), bad[i]), "\"%s\": %s", bad[i],
                  rlc_last_error());
    }
}

// Loading refuses a bad model.device or model.dtype, from a file or --set.
static void test_load(void) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/rlc_test_device_%d.lua", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs("return { model = { device = 'tpu' } }\n", f);
    fclose(f);
    rlc_exp *e = NULL;
    CHECK(rlc_exp_load(path, NULL, 0, &e) == RLC_ERR_CONFIG && !e);
    CHECK_MSG(strcmp(rlc_last_error(),
                     "experiment: model.device \"tpu\" is not a device (use \"cpu\", \"cuda\" or \"cuda:N\")") == 0,
              "%s", rlc_last_error());
    remove(path);
    const char *ov[] = {"model.device=cuda:"};
    CHECK(rlc_exp_defaults(ov, 1, &e) == RLC_ERR_CONFIG && strstr(rlc_last_error(), "model.device \"cuda:\""));
    const char *ov2[] = {"model.dtype=fp16"};
    CHECK(rlc_exp_defaults(ov2, 1, &e) == RLC_ERR_CONFIG && strstr(rlc_last_error(), "model.dtype \"fp16\""));
    const char *ok[] = {"model.device=cuda:1", "model.dtype=fp32"};
    CHECK_OK(rlc_exp_defaults(ok, 2, &e));
    rlc_exp_free(e);
    CHECK_OK(rlc_exp_defaults(NULL, 0, &e));
    const char *dev = NULL;
    CHECK(e && rlc_exp_get_string(e, "model.device", &dev) == RLC_OK && strcmp(dev, "cpu") == 0);
    rlc_exp_free(e);
}

// "cuda" here: the learner's configuration and trainer, and the worker.
static void test_cuda_here(actor_model *m, const tok_tokenizer *tk) {
    const char *ov[] = {"model.device=cuda", "model.dtype=fp32"};
    rlc_exp *e = NULL;
    CHECK_OK(rlc_exp_defaults(ov, 2, &e));
    if (!e) return;
    grpo_config c;
    grpo_config_default(&c);
    rlc_status s = grpo_config_from_exp(e, &c);
    if (!kernels_cuda_compiled()) {
        CHECK_MSG(s == RLC_ERR_UNSUPPORTED, "grpo_config_from_exp: %s", rlc_status_name(s));
        CHECK_MSG(strstr(rlc_last_error(), "model.device \"cuda\"") && strstr(rlc_last_error(), "-DRLC_CUDA=ON"), "%s",
                  rlc_last_error());
        printf("no CUDA build: %s\n", rlc_last_error());
        grpo_config_default(&c);
        c.cuda = 1;  // as if the configuration had let it through
    } else {
        CHECK_OK(s);
        CHECK(c.cuda == 1 && c.cuda_device == 0 && c.cuda_bf16 == 0);
    }
    rlc_exp_free(e);
    grpo_trainer *t = NULL;
    s = grpo_trainer_create(m, NULL, &c, 0, &t);
    rlc_status want = kernels_cuda_compiled() ? RLC_ERR_CUDA : RLC_ERR_UNSUPPORTED;
    CHECK_MSG(s == want && !t, "grpo_trainer_create on cuda: %s, expected %s", rlc_status_name(s), rlc_status_name(want));
    CHECK_MSG(strstr(rlc_last_error(), "cuda:0"), "the message names no device: %s", rlc_last_error());
    grpo_trainer_free(t);

    rollout_worker_config wc = {.endpoint = "inproc://rlc-test-device", .worker_id = "w0", .max_credit = 1,
                                .engine = {.n_slots = 2, .max_seq = 64, .reward_threads = 1}, .device = "tpu"};
    rollout_worker *w = NULL;
    s = rollout_worker_create(m, tk, &wc, &w);
    CHECK_MSG(s == RLC_ERR_CONFIG && !w && strstr(rlc_last_error(), "\"tpu\""), "worker on tpu: %s: %s",
              rlc_status_name(s), rlc_last_error());
    wc.device = "cuda";
    s = rollout_worker_create(m, tk, &wc, &w);
    want = kernels_cuda_compiled() ? RLC_ERR_CUDA : RLC_ERR_UNSUPPORTED;
    CHECK_MSG(s == want && !w, "worker on cuda: %s, expected %s", rlc_status_name(s), rlc_status_name(want));
    CHECK_MSG(strstr(rlc_last_error(), "model.device \"cuda\""), "%s", rlc_last_error());
    rollout_worker_free(w);
}

// The whole command: an error message and exit code 1.
static void test_cli(void) {
    char exp_path[1024], log[256], cmd[2048];
    test_source(exp_path, sizeof exp_path, "scripts/experiments/stories_grpo.lua");
    snprintf(log, sizeof log, "/tmp/rlc_test_device_%d.log", (int)getpid());
    const char *bin = getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc";
    snprintf(cmd, sizeof cmd,
             "cd \"%s\" && \"%s\" train \"%s\" --set model.device=cuda --set output.dir=/tmp/rlc_test_device_%d "
             "--quiet > %s 2>&1",
             getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".", bin, exp_path, (int)getpid(), log);
    int rc = system(cmd);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "rlc train --set model.device=cuda: status %d", rc);
    char *text = NULL;
    size_t len;
    if (rlc_read_file(log, &text, &len) == RLC_OK) {
        CHECK_MSG(strstr(text, "model.device \"cuda") != NULL, "rlc train said: %s", text);
        rlc_free(text);
    }
    remove(log);
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/rlc_test_device_%d", (int)getpid());
    if (system(cmd) != 0) fprintf(stderr, "could not clean up\n");
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    test_parse();
    test_load();
    if (has_device()) {
        printf("a CUDA device is present: the no-device checks do not apply (tests/test_cuda_rl.c runs it)\n");
        return test_finish("test_device");
    }
    char mp[1024], tp[1024];
    actor_model *m = NULL;
    tok_tokenizer *tk = NULL;
    CHECK_OK(actor_model_load(test_data(mp, sizeof mp, "models/stories260K/stories260K.bin"), &m));
    CHECK_OK(tok_load(test_data(tp, sizeof tp, "models/stories260K/tok512.bin"), &tk));
    if (m && tk) test_cuda_here(m, tk);
    tok_free(tk);
    actor_model_free(m);
    test_cli();
    return test_finish("test_device");
}
