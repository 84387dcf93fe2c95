// test_cli.c: the rlc command end to end, as a user runs it: help and
// version, bad options and bad files (a clear message, a non-zero exit, no
// crash), and `rlc generate` on stories260K at temperature 0 from BOS alone
// for 256 steps, which must reproduce llama2.c's expected text exactly.
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "test.h"

// Runs a shell command; captures stdout (and stderr when merge) into a new buffer.
static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    *out = buf;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect(const char *args, int code, const char *needle) {
    const char *bin = getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc";
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    int rc = run(cmd, &out);
    CHECK_MSG(rc == code, "`rlc %s` exited %d, expected %d; output:\n%s", args, rc, code, out);
    CHECK_MSG(strstr(out, needle) != NULL, "`rlc %s` output lacks \"%s\":\n%s", args, needle, out);
    free(out);
}

static void stories260k_greedy(void) {
    char model[1024], expected_path[1024], cmd[4096];
    test_data(model, sizeof model, "models/stories260K/stories260K.bin");
    test_data(expected_path, sizeof expected_path, "models/stories260K/expected_greedy_t0.txt");
    char *expected;
    size_t expected_len;
    rlc_status s = rlc_read_file(expected_path, &expected, &expected_len);
    CHECK_OK(s);
    if (s != RLC_OK) return;
    const char *bin = getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc";
    snprintf(cmd, sizeof cmd, "%s generate --model %s --temperature 0 -n 256 --threads 2", bin, model);
    char *out;
    int rc = run(cmd, &out);
    CHECK(rc == 0);
    size_t i = 0;
    while (out[i] && out[i] == expected[i]) i++;
    CHECK_MSG(strcmp(out, expected) == 0, "stories260K greedy text differs at byte %zu:\n got: %.60s\nwant: %.60s",
              i, out + i, expected + i);
    free(out);
    rlc_free(expected);
}

int main(void) {
    expect("--help", 0, "generate");
    expect("help", 0, "version");
    expect("version", 0, "rlc 0.");
    expect("generate --help", 0, "--temperature");
    expect("frobnicate", 2, "unknown command 'frobnicate'");
    expect("generate --model x --bogus", 2, "unknown option '--bogus'");
    expect("generate", 2, "--model PATH is required");
    expect("generate --model x --temperature hot", 2, "expects a number");
    expect("generate --model /nonexistent/model.bin", 1, "/nonexistent/model.bin");
    char dir[] = "/tmp/rlc_cli_XXXXXX", path[256], args[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"model_type\": \"llama\", \"vocab_size\": 32}\n");
    fclose(f);
    snprintf(args, sizeof args, "generate --model %s", dir);
    expect(args, 1, "\"hidden_size\"");
    remove(path);
    rmdir(dir);
    stories260k_greedy();
    return test_finish("test_cli");
}
