// test_report_compare.c: `rlc report --compare` (report_compare_write,
// learner/report.h): three small runs written into a temporary folder, compared
// through the library and through the rlc binary (RLC_BIN); checks each run's
// legend entry, the number of charts, the summary table's values worked out by
// hand (final pass@1, change in points, wall seconds, pass@1 against time),
// then the bad inputs: a missing run or an empty metrics.jsonl is named and
// left out while another run can be read, no readable run is an error naming
// each, twin folder names are told apart, and failed allocations are errors,
// never crashes.
#include <stdio.h>     // fopen, fprintf, popen
#include <stdlib.h>    // mkdtemp, getenv, free
#include <string.h>    // strstr, strlen
#include <sys/stat.h>  // mkdir
#include <sys/wait.h>  // WIFEXITED, WEXITSTATUS

#include "core/core.h"
#include "learner/report.h"
#include "test.h"

static char dir[256];

static void path_in(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

static void write_file(const char *name, const char *text) {
    char p[512];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *name) {
    char p[512];
    path_in(p, sizeof p, name);
    mkdir(p, 0755);
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0, l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle)) n++;
    return n;
}

// alpha: 4 steps, step_s 2+3+4+5 = 14 s, pass@1 0.5 (before training, logged
// on step 1), 0.55 at step 2, 0.62 at step 4: +12.0 points.
// beta: 6 steps of 1 s, pass@1 0.5, 0.7 at step 3 (the best), 0.6 at step 6.
// gamma: no evaluation in metrics.jsonl and no step_s; summary.json says
// 0.4 before, 0.45 after; experiment.json: GRPO with Reinforce-Ada.
static void write_runs(void) {
    make_dir("alpha");
    make_dir("beta");
    make_dir("gamma");
    write_file("alpha/metrics.jsonl",
               "{\"step\":1,\"reward_mean\":0.1,\"accuracy\":0.1,\"entropy\":0.9,\"kl\":0,\"resp_len_mean\":40,"
               "\"step_s\":2,\"gen_tokens_per_s\":1000,\"train_tokens_per_s\":5000,\"trajectories\":16,"
               "\"shared_x\":1,\"eval\":{\"pass@1\":0.5}}\n"
               "{\"step\":2,\"reward_mean\":0.2,\"accuracy\":0.2,\"entropy\":0.8,\"kl\":0.01,\"resp_len_mean\":41,"
               "\"step_s\":3,\"gen_tokens_per_s\":1100,\"train_tokens_per_s\":5100,\"trajectories\":16,"
               "\"shared_x\":2,\"eval\":{\"pass@1\":0.55}}\n"
               "{\"step\":3,\"reward_mean\":0.3,\"accuracy\":0.3,\"entropy\":0.7,\"kl\":0.02,\"resp_len_mean\":42,"
               "\"step_s\":4,\"gen_tokens_per_s\":1200,\"train_tokens_per_s\":5200,\"trajectories\":16,\"shared_x\":3}\n"
               "{\"step\":4,\"reward_mean\":0.4,\"accuracy\":0.4,\"entropy\":0.6,\"kl\":0.03,\"resp_len_mean\":43,"
               "\"step_s\":5,\"gen_tokens_per_s\":1300,\"train_tokens_per_s\":5300,\"trajectories\":16,"
               "\"shared_x\":4,\"eval\":{\"pass@1\":0.62}}\n");
    write_file("alpha/config.json", "{\"algorithm\": {\"name\": \"grpo\", \"lr\": 3e-5}}");
    char buf[8192];
    size_t len = 0;
    for (int s = 1; s <= 6; s++) {
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "{\"step\":%d,\"reward_mean\":%g,\"accuracy\":%g,\"entropy\":0.5,\"kl\":0.01,"
                                "\"resp_len_mean\":50,\"step_s\":1,\"gen_tokens_per_s\":900,\"train_tokens_per_s\":4000,"
                                "\"trajectories\":16,\"shared_x\":%d,\"only_beta\":%d", s, 0.1 * s, 0.1 * s, 10 + s, s);
        const char *ev = s == 1 ? "0.5" : s == 3 ? "0.7" : s == 6 ? "0.6" : NULL;
        if (ev) len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"eval\":{\"pass@1\":%s,\"n\":500}", ev);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "}\n");
    }
    write_file("beta/metrics.jsonl", buf);
    write_file("beta/summary.json", "{\"steps\": 6, \"algorithm\": \"rloo\", \"eval_before\": {\"pass@1\": 0.5},"
                                    " \"eval_after\": {\"pass@1\": 0.6}}");
    write_file("gamma/metrics.jsonl", "{\"step\":1,\"reward_mean\":0.3,\"trajectories\":16}\n"
                                      "{\"step\":2,\"reward_mean\":0.35,\"trajectories\":16}\n");
    write_file("gamma/summary.json", "{\"steps\": 2, \"eval_before\": {\"pass@1\": 0.4}, \"eval_after\": "
                                     "{\"pass@1\": 0.45}}");
    write_file("gamma/experiment.json", "{\"algorithm\": {\"name\": \"grpo\", \"adaptive_sampling\": \"balanced\"}}");
}

static char *read_in(const char *name) {
    char p[512], *buf;
    size_t len;
    path_in(p, sizeof p, name);
    return rlc_read_file(p, &buf, &len) == RLC_OK ? buf : NULL;
}

static const char *alpha_row = "| alpha | grpo | 4 | 0.5 | 0.62 | +12.0 | 0.62 (4) | 0.4 | 14.0 | 3.50 | 16 |";
static const char *beta_row = "| beta | rloo | 6 | 0.5 | 0.6 | +10.0 | 0.7 (3) | 0.6 | 6.0 | 1.00 | 16 |";
static const char *gamma_row = "| gamma | grpo + ada balanced | 2 | 0.4 | 0.45 | +5.0 | 0.45 (2) | 0.35 | - | - | 16 |";

static void test_three_runs(void) {
    char a[512], b[512], g[512], out[512];
    path_in(a, sizeof a, "alpha");
    path_in(b, sizeof b, "beta/");  // a trailing slash does not change the name
    path_in(g, sizeof g, "gamma");
    path_in(out, sizeof out, "compare.html");
    const char *runs[] = {a, b, g};
    report_compare_summary s;
    char *md = NULL;
    CHECK_OK(report_compare_write(runs, 3, out, &s, &md));
    CHECK_MSG(s.runs == 3 && s.readable == 3, "%d of %d", s.readable, s.runs);
    // 9 main charts (pass@1, reward, accuracy, entropy, kl, length, step_s, gen and train tokens/s),
    // pass@1 against time, and shared_x; not only_beta (one run), not trajectories (16 throughout)
    CHECK_MSG(s.charts == 11, "%d charts", s.charts);
    CHECK(md != NULL);
    if (md) {
        CHECK_MSG(strstr(md, alpha_row) != NULL, "no row\n%s\nin\n%s", alpha_row, md);
        CHECK_MSG(strstr(md, beta_row) != NULL, "no row\n%s\nin\n%s", beta_row, md);
        CHECK_MSG(strstr(md, gamma_row) != NULL, "no row\n%s\nin\n%s", gamma_row, md);
        CHECK(strncmp(md, "| run | algorithm | steps | pass@1 first | pass@1 final | change (points) |", 73) == 0);
        CHECK(!strstr(md, "not read"));
    }
    rlc_free(md);
    char *html = read_in("compare.html");
    CHECK(html != NULL);
    if (!html) return;
    CHECK_MSG((int)count(html, "<svg") == s.charts && count(html, "</svg>") == (size_t)s.charts, "%zu <svg",
              count(html, "<svg"));
    CHECK(count(html, "<figure") == count(html, "</figure>") && strstr(html, "</html>"));
    // every run in the legends (SVG legend text) and in the table with its color
    CHECK(count(html, ">alpha</text>") >= 9 && count(html, ">beta</text>") >= 9);
    CHECK(count(html, ">gamma</text>") >= 1);  // in the reward chart
    CHECK(strstr(html, "\"></span>alpha</td><td>grpo</td>") != NULL);
    CHECK(strstr(html, "\"></span>beta</td><td>rloo</td>") != NULL);
    CHECK(strstr(html, "<td class=\"n\">+12.0</td>") && strstr(html, "<td class=\"n\">14.0</td>"));
    // the time view: alpha's evaluations at 0 s (before training), 2 + 3 = 5 s and 14 s; beta's at 3 s
    CHECK(strstr(html, "pass@1 against wall-clock seconds") != NULL);
    CHECK(strstr(html, "<title>alpha at seconds 0: 0.5</title>") != NULL);
    CHECK(strstr(html, "<title>alpha at seconds 5: 0.55</title>") != NULL);
    CHECK(strstr(html, "<title>alpha at seconds 14: 0.62</title>") != NULL);
    CHECK(strstr(html, "<title>beta at seconds 3: 0.7</title>") != NULL);
    // pass@1 by step: eval points are marked
    CHECK(strstr(html, "<title>beta at step 3: 0.7</title>") != NULL);
    // keys: shared_x charted, only_beta not, trajectories listed as constant
    CHECK(strstr(html, "data-keys=\"shared_x\"") && !strstr(html, "data-keys=\"only_beta\""));
    CHECK(strstr(html, "<code>trajectories</code> = 16") != NULL);
    CHECK(strstr(html, "not recorded by: gamma") != NULL);  // gamma has no entropy
    CHECK(strstr(html, "do not have the same number of steps") != NULL);
    // no network
    for (const char *p = strstr(html, "http"); p; p = strstr(p + 4, "http"))
        CHECK_MSG(strncmp(p, "http://www.w3.org/2000/svg\"", 27) == 0, "a URL: %.40s", p);
    CHECK(!strstr(html, "<script") && !strstr(html, "<link"));
    rlc_free(html);
}

static void test_bad_runs(void) {
    char a[512], missing[512], empty[512], garbage[512], out[512];
    path_in(a, sizeof a, "alpha");
    path_in(missing, sizeof missing, "no-such-run");
    path_in(empty, sizeof empty, "empty");
    path_in(garbage, sizeof garbage, "garbage");
    path_in(out, sizeof out, "bad.html");
    make_dir("empty");
    write_file("empty/metrics.jsonl", "");
    make_dir("garbage");
    write_file("garbage/metrics.jsonl", "Traceback\n");
    // one readable run: the page is written, the others named
    const char *runs[] = {missing, a, empty};
    report_compare_summary s;
    char *md = NULL;
    CHECK_OK(report_compare_write(runs, 3, out, &s, &md));
    CHECK(s.runs == 3 && s.readable == 1);
    CHECK(md && strstr(md, "not read: no-such-run: ") && strstr(md, "no such run directory"));
    CHECK(md && strstr(md, "not read: empty: ") && strstr(md, "is empty"));
    CHECK(md && strstr(md, "| no-such-run | not read | - |"));
    rlc_free(md);
    char *html = read_in("bad.html");
    CHECK(html && strstr(html, "<b>no-such-run</b> was left out: ") && strstr(html, "<b>empty</b> was left out: "));
    CHECK(html && strstr(html, "1 of 3 read"));
    rlc_free(html);
    // none readable: an error naming each, nothing written
    remove(out);
    const char *bad[] = {missing, empty, garbage};
    md = (char *)"untouched";
    rlc_status st = report_compare_write(bad, 3, out, NULL, &md);
    CHECK_MSG(st == RLC_ERR_FORMAT, "%s", rlc_status_name(st));
    CHECK(md == NULL);
    const char *msg = rlc_last_error();
    CHECK_MSG(strstr(msg, "no run could be read") && strstr(msg, "no-such-run: ") && strstr(msg, "empty: ") &&
                  strstr(msg, "garbage: ") && strstr(msg, "none of its 1 lines"), "%s", msg);
    CHECK(!rlc_file_exists(out));
    const char *only_missing[] = {missing};
    CHECK(report_compare_write(only_missing, 1, out, NULL, NULL) == RLC_ERR_IO);
    CHECK(report_compare_write(runs, 0, out, NULL, NULL) == RLC_ERR_ARG);
    CHECK(report_compare_write(runs, 1, NULL, NULL, NULL) == RLC_ERR_ARG);
    // two folders with one name: told apart by their parents
    make_dir("x");
    make_dir("x/alpha");
    write_file("x/alpha/metrics.jsonl", "{\"step\":1,\"reward_mean\":0.7,\"step_s\":1}\n");
    char xa[512];
    path_in(xa, sizeof xa, "x/alpha");
    const char *twins[] = {a, xa};
    md = NULL;
    CHECK_OK(report_compare_write(twins, 2, out, NULL, &md));
    char want[600];
    const char *base = strrchr(dir, '/') + 1;
    snprintf(want, sizeof want, "| %s/alpha | grpo |", base);
    CHECK_MSG(md && strstr(md, want) && strstr(md, "| x/alpha |  |"), "%s", md);
    rlc_free(md);
    remove(out);
}

// Runs a shell command; returns its exit code and its output (stdout, or
// both when the command merges them) in *out (free).
static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, len = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    *out = buf;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void) {
    const char *bin = getenv("RLC_BIN");
    if (!bin) {
        printf("RLC_BIN not set: the command-line checks are skipped\n");
        return;
    }
    char cmd[4096], *out;
    // stdout is the markdown table alone
    snprintf(cmd, sizeof cmd, "%s report --compare %s/cli.html %s/alpha %s/beta %s/gamma 2>/dev/null", bin, dir, dir,
             dir, dir);
    int rc = run(cmd, &out);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strncmp(out, "| run |", 7) == 0 && strstr(out, alpha_row) && strstr(out, beta_row) &&
                  strstr(out, gamma_row), "%s", out);
    free(out);
    char *html = read_in("cli.html");
    CHECK(html && count(html, "<svg") == 11);
    rlc_free(html);
    // a missing run: the page without it, exit 3, the run named on stderr
    snprintf(cmd, sizeof cmd, "%s report --compare %s/cli.html %s/alpha %s/nope 2>&1 >/dev/null", bin, dir, dir, dir);
    rc = run(cmd, &out);
    CHECK_MSG(rc == 3 && strstr(out, "nope") && strstr(out, "no such run directory") && strstr(out, "1 of 2 runs"),
              "exit %d: %s", rc, out);
    free(out);
    // nothing readable: exit 1; bad arguments: exit 2
    snprintf(cmd, sizeof cmd, "%s report --compare %s/cli.html %s/empty 2>&1", bin, dir, dir);
    rc = run(cmd, &out);
    CHECK_MSG(rc == 1 && strstr(out, "empty: ") && strstr(out, "is empty"), "exit %d: %s", rc, out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s report --compare %s/cli.html 2>&1", bin, dir);
    rc = run(cmd, &out);
    CHECK_MSG(rc == 2 && strstr(out, "at least one RUN_DIR"), "exit %d: %s", rc, out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s report %s/alpha %s/beta 2>&1", bin, dir, dir);
    rc = run(cmd, &out);
    CHECK_MSG(rc == 2 && strstr(out, "--compare"), "exit %d: %s", rc, out);
    free(out);
    // the single-run report is unchanged
    snprintf(cmd, sizeof cmd, "%s report %s/alpha 2>&1", bin, dir);
    rc = run(cmd, &out);
    CHECK_MSG(rc == 0 && strstr(out, "4 steps (1 to 4)"), "exit %d: %s", rc, out);
    free(out);
    char p[512];
    path_in(p, sizeof p, "cli.html");
    remove(p);
}

// Every allocation failing in turn: RLC_ERR_NOMEM, no page, no table.
static void test_alloc_failures(void) {
    char a[512], b[512], missing[512], out[512];
    path_in(a, sizeof a, "alpha");
    path_in(b, sizeof b, "beta");
    path_in(missing, sizeof missing, "no-such-run");
    path_in(out, sizeof out, "oom.html");
    const char *runs[] = {a, missing, b};
    int failures = 0;
    for (long n = 0; n < 100000; n++) {
        remove(out);
        char *md = NULL;
        rlc_alloc_fail_after(n);
        rlc_status st = report_compare_write(runs, 3, out, NULL, &md);
        rlc_alloc_fail_after(-1);
        if (st == RLC_OK) {
            rlc_free(md);
            break;
        }
        failures++;
        CHECK_MSG(st == RLC_ERR_NOMEM, "allocation %ld: %s: %s", n, rlc_status_name(st), rlc_last_error());
        CHECK(md == NULL && !rlc_file_exists(out));
    }
    printf("allocation failures survived: %d\n", failures);
    CHECK(failures > 10 && rlc_file_exists(out));
    remove(out);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);  // the left-out runs' warnings are expected
    snprintf(dir, sizeof dir, "/tmp/rlc_test_compare_XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    write_runs();
    test_three_runs();
    test_bad_runs();
    test_cli();
    test_alloc_failures();
    if (test_failures == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return test_finish("test_report_compare");
}
