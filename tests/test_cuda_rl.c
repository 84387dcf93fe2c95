// test_cuda_rl.c: the RL loop on a GPU, end to end with the real binary:
// tests/test_rl.c's tiny stories260K GRPO run (4 prompts x 4 samples, 32
// new tokens) once on the CPU and once with model.device = "cuda" in fp32
// (the rollout worker generates with actor_gpu_model, the learner trains
// with actor_gpu_trainer):
//   1. the first step matches the CPU run: the same rewards (the same
//      tokens were sampled: sampling is the same host code on logits that
//      agree), and the log-prob statistics (entropy, loss, approx_kl)
//      within 1e-3;
//   2. on the GPU the worker's behaviour log-probs and the learner's agree:
//      with k = 0 and one minibatch they are the old log-probs and the
//      forward runs before the update, so approx_kl (mean old - new) is
//      their mean difference: |approx_kl| < 1e-3 on every step;
//   3. the GPU run completes its steps with every trajectory accounted.
// Skips (77) without the CUDA backend compiled or without a device.
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "kernels/kernels.h"  // kernels_cuda_compiled, kernels_cuda_query
#include "test.h"

#define STEPS 4

static char exp_path[1024];

// Runs `rlc train` with the tiny settings on `device`; returns the metrics
// lines (the caller frees) or NULL.
static json_t *run(const char *dir, const char *device) {
    char cmd[4096], log[1200];
    snprintf(log, sizeof log, "%s.log", dir);
    const char *bin = getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc";
    snprintf(cmd, sizeof cmd,
             "\"%s\" train \"%s\" --set output.dir=%s --set model.device=%s --set model.dtype=fp32 "
             "--set algorithm.steps=%d --set algorithm.batch_prompts=4 --set algorithm.group_size=4 "
             "--set sampling.max_new_tokens=32 --quiet > %s 2>&1",
             bin, exp_path, dir, device, STEPS, log);
    int rc = system(cmd);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "rlc train on %s: status %d", device, rc);
    if (!(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)) {
        char *text;
        size_t len;
        if (rlc_read_file(log, &text, &len) == RLC_OK) {
            fprintf(stderr, "---- %s ----\n%s\n", log, len > 4000 ? text + len - 4000 : text);
            rlc_free(text);
        }
        return NULL;
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    json_t *lines = json_array();
    char line[16384];
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) json_array_append_new(lines, j);
    }
    if (f) fclose(f);
    return lines;
}

static double num(const json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

int main(void) {
    if (!kernels_cuda_compiled()) TEST_SKIP("test_cuda_rl: this build has no CUDA backend");
    int n = 0;
    char devices[2048];
    if (kernels_cuda_query(&n, devices, sizeof devices) != RLC_OK || n == 0)
        TEST_SKIP("test_cuda_rl: no CUDA device (%s)", rlc_last_error());
    test_source(exp_path, sizeof exp_path, "scripts/experiments/stories_grpo.lua");
    char base[] = "/tmp/rlc_test_cuda_rl_XXXXXX", cpu_dir[1100], gpu_dir[1100];
    if (!mkdtemp(base)) return 1;
    if (chdir(getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".") != 0) return 1;
    snprintf(cpu_dir, sizeof cpu_dir, "%s/cpu", base);
    snprintf(gpu_dir, sizeof gpu_dir, "%s/cuda", base);
    json_t *cpu = run(cpu_dir, "cpu");
    json_t *gpu = run(gpu_dir, "cuda");
    if (cpu && gpu) {
        CHECK_MSG(json_array_size(gpu) == STEPS, "cuda: %zu metric lines, expected %d", json_array_size(gpu), STEPS);
        long trajectories = 0;
        size_t i;
        json_t *j;
        json_array_foreach(gpu, i, j) {
            trajectories += (long)json_integer_value(json_object_get(j, "trajectories"));
            double ak = num(j, "approx_kl");
            CHECK_MSG(fabs(ak) < 1e-3, "cuda step %zu: the worker's and the learner's log-probs differ by %g on average",
                      i + 1, ak);
        }
        CHECK_MSG(trajectories == (long)STEPS * 16, "cuda: %ld trajectories in the steps, expected %d", trajectories,
                  STEPS * 16);
        const json_t *c0 = json_array_get(cpu, 0), *g0 = json_array_get(gpu, 0);
        CHECK_MSG(c0 && g0 && num(c0, "reward_mean") == num(g0, "reward_mean") &&
                      num(c0, "resp_len_mean") == num(g0, "resp_len_mean"),
                  "step 1: reward %g, length %g on the CPU; %g, %g on cuda", num(c0, "reward_mean"),
                  num(c0, "resp_len_mean"), num(g0, "reward_mean"), num(g0, "resp_len_mean"));
        const char *keys[] = {"entropy", "loss", "approx_kl"};
        double worst = 0;
        const char *worst_key = keys[0];
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            double d = fabs(num(c0, keys[k]) - num(g0, keys[k]));
            if (d > worst) worst = d, worst_key = keys[k];
        }
        CHECK_MSG(worst < 1e-3, "step 1: %s differs by %g between the CPU and cuda", worst_key, worst);
        printf("cuda: %d steps, %ld trajectories; step 1 reward %.4f (cpu %.4f), worst log-prob statistic %s off by "
               "%.2e\n",
               STEPS, trajectories, num(g0, "reward_mean"), num(c0, "reward_mean"), worst_key, worst);
    }
    json_decref(cpu);
    json_decref(gpu);
    if (!test_failures) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    }
    return test_finish("test_cuda_rl");
}
