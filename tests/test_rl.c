// test_rl.c: the RL loop end to end with the real binary, real sockets and
// real processes, on the stories260K experiment made tiny with --set:
//   1. one process (`rlc train`): every step logged; every trajectory of a
//      step is trained on or counted as dropped; k = 0 uses only data of
//      the current version;
//   2. k = 2 (generation runs ahead): nothing staler than 2 versions enters;
//   3. several processes over tcp on 127.0.0.1 (`rlc learner` + two
//      `rlc rollout`), one of them killed with SIGKILL mid-run: its prompts
//      are reissued, the run finishes, and the counts agree;
//   4. Ctrl-C (SIGINT) stops a run with a final checkpoint, and --resume
//      continues from it;
//   5. Reinforce-Ada (balanced): every step accounts for every sample drawn
//      (drawn = trained + cut), each prompt ends by its exit rule or the
//      fallback, and the rounds stay within ada_rounds;
//   6. the DUMP curriculum (dump_ucb.lua) over two sources: the weights are
//      logged on every line, sum to 1 and change as the statistics come in;
//   7. sampling at temperature 0.6: the behaviour and the learner's log-probs
//      agree (approx_kl ~ 0, nothing clipped on the first minibatch).
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "test.h"

static const char *bin(void) { return getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc"; }

static char exp_path[1024];

// Starts `rlc ARGS...` with stdout/stderr to a log file; returns the pid.
static pid_t start(const char *log, char *const args[]) {
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        dup2(2, 1);
        execv(bin(), args);
        _exit(127);
    }
    return pid;
}

// Waits up to `seconds` for pid; kills it past that. Returns its exit code (or -1).
static int wait_for(pid_t pid, double seconds) {
    double end = rlc_now() + seconds;
    int status;
    while (rlc_now() < end) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void show_log(const char *log) {
    char *text;
    size_t len;
    if (rlc_read_file(log, &text, &len) == RLC_OK) {
        fprintf(stderr, "---- %s ----\n%s\n", log, len > 4000 ? text + len - 4000 : text);
        rlc_free(text);
    }
}

typedef struct {
    int lines;
    long trajectories, trained, dropped_stale, filtered, reissued;
    int max_lag;  // largest staleness bin seen
    double first_reward, last_reward;
    long last_version;  // the policy version of the last line
} run_view;

static int read_metrics(const char *dir, run_view *v) {
    memset(v, 0, sizeof *v);
    char path[1100];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        v->lines++;
        v->trajectories += json_integer_value(json_object_get(j, "trajectories"));
        v->dropped_stale += json_integer_value(json_object_get(j, "dropped_stale"));
        v->filtered += json_integer_value(json_object_get(j, "filtered_groups"));
        v->reissued = json_integer_value(json_object_get(j, "reissued"));
        v->last_version = (long)json_integer_value(json_object_get(j, "version"));
        double rw = json_number_value(json_object_get(j, "reward_mean"));
        if (v->lines == 1) v->first_reward = rw;
        v->last_reward = rw;
        const char *key;
        json_t *val;
        json_object_foreach(json_object_get(j, "staleness"), key, val) {
            int lag = atoi(key);
            if (json_integer_value(val) > 0 && lag > v->max_lag) v->max_lag = lag;
        }
        json_decref(j);
    }
    fclose(f);
    return 1;
}

static void one_process(const char *dir, int k, int steps, run_view *v) {
    char out[1200], stal[64], st[64], log[1200];
    snprintf(out, sizeof out, "output.dir=%s", dir);
    snprintf(stal, sizeof stal, "algorithm.max_staleness=%d", k);
    snprintf(st, sizeof st, "algorithm.steps=%d", steps);
    snprintf(log, sizeof log, "%s.log", dir);
    char *args[] = {(char *)bin(), "train", exp_path, "--set", out, "--set", stal, "--set", st,
                    "--set", "algorithm.batch_prompts=4", "--set", "algorithm.group_size=4",
                    "--set", "sampling.max_new_tokens=32", "--quiet", NULL};
    int rc = wait_for(start(log, args), 120);
    CHECK_MSG(rc == 0, "rlc train (k=%d) exited %d", k, rc);
    if (rc != 0) show_log(log);
    CHECK(read_metrics(dir, v));
    CHECK_MSG(v->lines == steps, "k=%d: %d metric lines, expected %d", k, v->lines, steps);
    CHECK_MSG(v->trajectories == (long)steps * 16, "k=%d: %ld trajectories in the steps, expected %d", k,
              v->trajectories, steps * 16);
    CHECK_MSG(v->max_lag <= k, "k=%d: a trajectory %d versions old entered", k, v->max_lag);
}

static void multi_process(const char *dir) {
    int port = 20000 + (int)(getpid() % 20000);
    char bind[64], connect[64], out[1200], logs[3][1200];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", port);
    snprintf(connect, sizeof connect, "tcp://127.0.0.1:%d", port);
    snprintf(out, sizeof out, "output.dir=%s", dir);
    for (int i = 0; i < 3; i++) snprintf(logs[i], sizeof logs[i], "%s.%d.log", dir, i);
    char *common[] = {"--set", out, "--set", "algorithm.steps=8", "--set", "algorithm.batch_prompts=4",
                      "--set", "algorithm.group_size=4", "--set", "sampling.max_new_tokens=32",
                      "--set", "rollout.timeout_s=2", "--set", "rollout.heartbeat_s=0.2"};
    char *largs[32] = {(char *)bin(), "learner", exp_path, "--bind", bind, "--quiet"};
    int n = 6;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) largs[n++] = common[i];
    largs[n] = NULL;
    pid_t learner = start(logs[0], largs);
    usleep(300000);
    pid_t workers[2];
    for (int w = 0; w < 2; w++) {
        char id[32];
        snprintf(id, sizeof id, "proc-%d", w);
        char *wargs[32] = {(char *)bin(), "rollout", exp_path, "--connect", connect, "--id", id};
        int m = 7;
        for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) wargs[m++] = common[i];
        wargs[m] = NULL;
        workers[w] = start(logs[1 + w], wargs);
    }
    // Kill one worker once the run is under way.
    run_view v;
    double end = rlc_now() + 60;
    while (rlc_now() < end && !(read_metrics(dir, &v) && v.lines >= 2)) usleep(50000);
    kill(workers[0], SIGKILL);
    int rc = wait_for(learner, 120);
    CHECK_MSG(rc == 0, "rlc learner exited %d", rc);
    if (rc != 0) {
        for (int i = 0; i < 3; i++) show_log(logs[i]);
    }
    wait_for(workers[0], 5);
    int wrc = wait_for(workers[1], 10);
    CHECK_MSG(wrc == 0, "the surviving rlc rollout exited %d", wrc);
    CHECK(read_metrics(dir, &v));
    CHECK_MSG(v.lines == 8, "multi-process: %d metric lines, expected 8", v.lines);
    CHECK_MSG(v.trajectories == 8 * 16, "multi-process: %ld trajectories, expected %d", v.trajectories, 8 * 16);
    printf("multi-process: %d steps, %ld trajectories, %ld prompts reissued after the SIGKILL\n", v.lines,
           v.trajectories, v.reissued);
}

static void interrupt_and_resume(const char *dir) {
    char out[1200], log[1200];
    snprintf(out, sizeof out, "output.dir=%s", dir);
    snprintf(log, sizeof log, "%s.log", dir);
    char *args[] = {(char *)bin(), "train", exp_path, "--set", out, "--set", "algorithm.steps=1000",
                    "--set", "algorithm.batch_prompts=4", "--set", "algorithm.group_size=4",
                    "--set", "sampling.max_new_tokens=32", "--quiet", NULL};
    pid_t pid = start(log, args);
    run_view v;
    double end = rlc_now() + 60;
    while (rlc_now() < end && !(read_metrics(dir, &v) && v.lines >= 3)) usleep(50000);
    kill(pid, SIGINT);
    int rc = wait_for(pid, 60);
    CHECK_MSG(rc == 0, "rlc train after SIGINT exited %d", rc);
    read_metrics(dir, &v);
    int done = v.lines;
    long version = v.last_version;
    char ckpt[1300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/step-%d/model.safetensors", dir, done);
    CHECK_MSG(rlc_file_exists(ckpt), "no final checkpoint %s after SIGINT", ckpt);
    char *rargs[] = {(char *)bin(), "train", exp_path, "--set", out, "--set", "algorithm.steps=1000",
                     "--set", "algorithm.batch_prompts=4", "--set", "algorithm.group_size=4",
                     "--set", "sampling.max_new_tokens=32", "--resume", "--stop-after", "2", "--quiet", NULL};
    rc = wait_for(start(log, rargs), 60);
    CHECK_MSG(rc == 0, "rlc train --resume exited %d", rc);
    read_metrics(dir, &v);
    CHECK_MSG(v.lines == done + 2, "after --resume --stop-after 2: %d lines, expected %d", v.lines, done + 2);
    // the policy version goes on from the checkpoint's (it was once lost to the file format's "version")
    CHECK_MSG(v.last_version > version, "after --resume: policy version %ld, before it %ld", v.last_version, version);
}

// Runs `rlc train` with the tiny settings plus `extra` (NULL-terminated
// --set values); returns the metrics lines as JSON (the caller frees).
static json_t *run_lines(const char *dir, const char *const *extra) {
    char out[1200], log[1200];
    snprintf(out, sizeof out, "output.dir=%s", dir);
    snprintf(log, sizeof log, "%s.log", dir);
    char *args[64] = {(char *)bin(), "train", exp_path, "--set", out, "--set", "algorithm.batch_prompts=4",
                      "--set", "algorithm.group_size=4", "--set", "sampling.max_new_tokens=32", "--quiet"};
    int n = 12;
    for (int i = 0; extra[i] && n < 62; i++) {
        args[n++] = "--set";
        args[n++] = (char *)extra[i];
    }
    args[n] = NULL;
    int rc = wait_for(start(log, args), 120);
    CHECK_MSG(rc == 0, "rlc train (%s) exited %d", dir, rc);
    if (rc != 0) show_log(log);
    json_t *lines = json_array();
    char path[1300];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    char line[16384];
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) json_array_append_new(lines, j);
    }
    if (f) fclose(f);
    return lines;
}

static long num(const json_t *o, const char *key) { return (long)json_integer_value(json_object_get(o, key)); }

// Sampling at temperature 0.6: the worker's behaviour log-probs are those of
// softmax(logits / 0.6) and the learner divides its logits by the same
// temperature, so on the first minibatch (k = 0, nothing updated yet) the
// ratio is 1: approx_kl ~ 0 and nothing clipped. (test_sampler checks that
// the sampler's log-probs are tempered; a learner left on the raw logits, as
// without sampling.temperature reaching grpo_config, would differ from them
// by a large fraction of a nat per token.)
static void temperature_run(const char *dir) {
    const char *extra[] = {"algorithm.steps=2", "sampling.temperature=0.6", NULL};
    json_t *lines = run_lines(dir, extra);
    CHECK_MSG(json_array_size(lines) == 2, "temperature 0.6: %zu metric lines", json_array_size(lines));
    const json_t *first = json_array_get(lines, 0);
    double kl = json_number_value(json_object_get(first, "approx_kl"));
    double clip = json_number_value(json_object_get(first, "clipfrac"));
    CHECK_MSG(first && fabs(kl) < 1e-5 && clip == 0, "temperature 0.6, step 1: approx_kl %g, clipfrac %g", kl, clip);
    printf("temperature 0.6: step 1 approx_kl %.2e, clipfrac %g (behaviour and learner agree)\n", kl, clip);
    json_decref(lines);
}

static void ada_run(const char *dir) {
    const char *extra[] = {"algorithm.steps=4", "algorithm.adaptive_sampling=balanced", "algorithm.ada_rounds=3",
                           "algorithm.ada_samples_per_round=4", "algorithm.ada_positive_threshold=0.5", NULL};
    json_t *lines = run_lines(dir, extra);
    CHECK_MSG(json_array_size(lines) == 4, "Reinforce-Ada: %zu metric lines, expected 4", json_array_size(lines));
    size_t i;
    json_t *j;
    long drawn = 0, cut = 0, trained = 0, exited = 0, fallback = 0;
    json_array_foreach(lines, i, j) {
        json_t *a = json_object_get(j, "ada");
        CHECK_MSG(a, "step %zu: no \"ada\" in the metrics", i + 1);
        if (!a) continue;
        long t = num(j, "trajectories"), d = num(a, "samples"), c = num(a, "discarded"), r = num(a, "rounds");
        CHECK_MSG(d == t + c, "step %zu: %ld samples drawn, %ld trained + %ld cut", i + 1, d, t, c);
        CHECK_MSG(t == 16, "step %zu: %ld trajectories in the step, expected 4 groups of 4", i + 1, t);
        CHECK_MSG(num(a, "exited") + num(a, "fallback") == 4, "step %zu: %ld exited + %ld fallback != 4 prompts", i + 1,
                  num(a, "exited"), num(a, "fallback"));
        CHECK_MSG(d == 4 * r && r >= 4 && r <= 12 && num(a, "rounds_max") <= 3,
                  "step %zu: %ld samples in %ld rounds (max %ld)", i + 1, d, r, num(a, "rounds_max"));
        drawn += d, cut += c, trained += t, exited += num(a, "exited"), fallback += num(a, "fallback");
    }
    printf("Reinforce-Ada: %ld samples drawn, %ld trained, %ld cut; %ld prompts exited, %ld by the fallback\n", drawn,
           trained, cut, exited, fallback);
    json_decref(lines);
}

static void dump_run(const char *dir) {
    const char *extra[] = {"algorithm.steps=6",
                           "data.sources=[{\"name\":\"a\",\"path\":\"scripts/experiments/data/stories_prompts.jsonl\"},"
                           "{\"name\":\"b\",\"path\":\"scripts/experiments/data/stories_prompts.jsonl\"}]",
                           "curriculum.script=scripts/curricula/dump_ucb.lua", "curriculum.params={\"c\":0.5,\"tau\":0.1}",
                           NULL};
    json_t *lines = run_lines(dir, extra);
    CHECK_MSG(json_array_size(lines) == 6, "DUMP: %zu metric lines, expected 6", json_array_size(lines));
    size_t i;
    json_t *j;
    double first = -1, moved = 0;
    json_array_foreach(lines, i, j) {
        json_t *w = json_object_get(json_object_get(j, "curriculum"), "weights");
        double a = json_number_value(json_object_get(w, "a")), b = json_number_value(json_object_get(w, "b"));
        CHECK_MSG(w && fabs(a + b - 1) < 1e-9 && a > 0 && b > 0, "step %zu: weights a %g b %g", i + 1, a, b);
        if (first < 0) first = a;
        if (fabs(a - first) > moved) moved = fabs(a - first);
    }
    CHECK_MSG(moved > 1e-3, "DUMP: the weight of source a stayed at %g", first);
    printf("DUMP: weight of source a %.3f at step 1, moved by up to %.3f over 6 steps\n", first, moved);
    json_decref(lines);
}

int main(void) {
    test_source(exp_path, sizeof exp_path, "scripts/experiments/stories_grpo.lua");
    char base[] = "/tmp/rlc_test_rl_XXXXXX", dir[1100];
    if (!mkdtemp(base)) return 1;
    // The experiment's relative paths (data, reward) are from the repository root.
    if (chdir(getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".") != 0) return 1;
    run_view v;
    snprintf(dir, sizeof dir, "%s/k0", base);
    one_process(dir, 0, 6, &v);
    CHECK_MSG(v.dropped_stale == 0, "k=0 dropped %ld stale trajectories", v.dropped_stale);
    snprintf(dir, sizeof dir, "%s/k2", base);
    one_process(dir, 2, 6, &v);
    printf("k=2: %ld trajectories dropped as stale, largest lag %d\n", v.dropped_stale, v.max_lag);
    snprintf(dir, sizeof dir, "%s/multi", base);
    multi_process(dir);
    snprintf(dir, sizeof dir, "%s/sigint", base);
    interrupt_and_resume(dir);
    snprintf(dir, sizeof dir, "%s/temp", base);
    temperature_run(dir);
    snprintf(dir, sizeof dir, "%s/ada", base);
    ada_run(dir);
    snprintf(dir, sizeof dir, "%s/dump", base);
    dump_run(dir);
    if (!test_failures) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    }
    return test_finish("test_rl");
}
