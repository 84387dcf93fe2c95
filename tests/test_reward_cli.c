// test_reward_cli.c: the commands `rlc reward` and `rlc config` end to end,
// through the built binary ($RLC_BIN; skipped when it is not built): scores,
// the summary and failures by reason, exit codes, and `rlc config --doc`
// printing docs/config.md.
#include <stdio.h>     // popen
#include <string.h>    // strstr
#include <sys/wait.h>  // WEXITSTATUS
#include <unistd.h>    // getpid

#include "core/core.h"
#include "test.h"

static char out[1 << 16];

// Runs a shell command; returns its exit code, output (stdout + stderr) in out.
static int run(const char *cmd) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    const char *bin = getenv("RLC_BIN");
    if (!bin || !rlc_file_exists(bin)) TEST_SKIP("the rlc binary is not built ($RLC_BIN)");
    char src[1024], data[256], bad[256], cmd[4096];
    test_source(src, sizeof src, "");
    snprintf(data, sizeof data, "/tmp/rlc_cli_%d.jsonl", (int)getpid());
    snprintf(bad, sizeof bad, "/tmp/rlc_cli_%d.lua", (int)getpid());
    FILE *f = fopen(data, "w");
    if (!f) TEST_SKIP("cannot write %s", data);
    fputs("{\"prompt\": \"q1\", \"completion\": \"so #### 18\", \"answer\": \"#### 18\"}\n"
          "{\"prompt\": \"q2\", \"completion\": \"it is \\\\boxed{3}\", \"answer\": \"#### 3\"}\n"
          "\n"
          "{\"prompt\": \"q3\", \"completion\": \"the answer is 5\", \"answer\": \"#### 4\"}\n", f);
    fclose(f);
    f = fopen(bad, "w");
    if (f) {
        fputs("function reward(s) if s.prompt == 'q2' then error('no q2') end return 1 end\n", f);
        fclose(f);
    }

    snprintf(cmd, sizeof cmd, "cd %s && %s reward scripts/rewards/gsm8k.lua --input %s --threads 2 2>&1", src, bin,
             data);
    CHECK(run(cmd) == 0);
    CHECK_MSG(strstr(out, "1\t1\n2\t1\n3\t0\n") && strstr(out, "samples 3  mean 0.6667") &&
                  strstr(out, "failed samples 0") && strstr(out, "rewards/s"),
              "output:\n%s", out);

    snprintf(cmd, sizeof cmd, "%s reward %s --input %s --failure-score -1 --quiet 2>&1", bin, bad, data);
    CHECK(run(cmd) == 0);
    CHECK_MSG(strstr(out, "failed samples 1") && strstr(out, "1  script  rlc_cli_") && strstr(out, "no q2"),
              "output:\n%s", out);

    snprintf(cmd, sizeof cmd, "%s reward /nonexistent.lua --input %s 2>&1", bin, data);
    CHECK(run(cmd) == 1 && strstr(out, "/nonexistent.lua"));
    snprintf(cmd, sizeof cmd, "%s reward %s 2>&1", bin, bad);
    CHECK(run(cmd) == 2);

    // config
    snprintf(cmd, sizeof cmd, "%s config --set algorithm.lrr=1 2>&1", bin);
    CHECK(run(cmd) == 1);
    CHECK_MSG(strstr(out, "unknown key \"algorithm.lrr\" (did you mean \"algorithm.lr\" or \"algorithm.lam\"?)"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s config --set algorithm.group_size=16 2>&1", bin);
    CHECK(run(cmd) == 0 && strstr(out, "\"group_size\": 16"));
    snprintf(cmd, sizeof cmd, "%s config --doc", bin);
    CHECK(run(cmd) == 0);
    char path[1024], *md = NULL;
    size_t len;
    CHECK_OK(rlc_read_file(test_source(path, sizeof path, "docs/config.md"), &md, &len));
    CHECK_MSG(md && strcmp(md, out) == 0, "`rlc config --doc` differs from docs/config.md");
    rlc_free(md);
    remove(data);
    remove(bad);
    return test_finish("test_reward_cli");
}
