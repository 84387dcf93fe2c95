// test_report.c: `rlc report` (learner/report.h): writes realistic RL metrics
// (200 steps, eval steps, missing keys, NaN, a garbage line, a truncated last
// line) into a temporary run folder, writes the report and checks the HTML:
// every chart closed, one chart per key, no network references, tooltips,
// skipped lines named; then 10,000 steps stay under 2 MB, a resumed run
// keeps the last line of a step, the error cases fail cleanly, and failed
// allocations are reported, never crashed on.
#include <math.h>    // sin, exp
#include <stdio.h>   // fopen, fprintf
#include <stdlib.h>  // mkdtemp
#include <string.h>  // strstr, strncmp
#include <unistd.h>  // rmdir

#include "core/core.h"
#include "learner/report.h"
#include "learner/svg.h"
#include "test.h"

static char dir[256];

static void path_in(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

static char *read_report(const char *name) {
    char p[512];
    path_in(p, sizeof p, name);
    char *buf;
    size_t len;
    if (rlc_read_file(p, &buf, &len) != RLC_OK) return NULL;
    return buf;
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0, l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle)) n++;
    return n;
}

// How many charts list `key` in their data-keys attribute.
static int charts_with(const char *html, const char *key) {
    int n = 0;
    size_t kl = strlen(key);
    for (const char *p = strstr(html, "data-keys=\""); p; p = strstr(p + 1, "data-keys=\"")) {
        const char *q = p + 11, *end = strchr(q, '"');
        while (q < end) {
            const char *sp = memchr(q, ' ', (size_t)(end - q));
            size_t l = sp ? (size_t)(sp - q) : (size_t)(end - q);
            n += l == kl && strncmp(q, key, kl) == 0;
            q += l + 1;
        }
    }
    return n;
}

// 200 steps of a GRPO run as the learner writes them, with what goes wrong
// in practice. Returns the line number of the garbage line.
static void write_metrics(const char *name, int steps, int with_trouble) {
    char p[512];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    unsigned seed = 12345;
    for (int s = 1; s <= steps; s++) {
        seed = seed * 1103515245u + 12345u;
        double noise = ((seed >> 8) % 1000) / 1000.0 - 0.5;
        double t = (double)s / steps;
        double reward = 0.1 + 0.6 * (1 - exp(-4 * t)) + 0.05 * noise;
        fprintf(f, "{\"step\": %d, \"reward_mean\": %.4f, \"reward_std\": %.4f, \"accuracy\": %.4f, ", s, reward,
                0.35 - 0.1 * t + 0.02 * noise, reward * 0.9);
        if (!(with_trouble && s == 100)) fprintf(f, "\"kl\": %.5f, ", 0.04 * t + 0.002 * noise);
        else fprintf(f, "\"kl\": null, ");
        if (s % 7) fprintf(f, "\"entropy\": %.4f, ", 1.2 - 0.5 * t + 0.03 * noise);  // missing on some steps
        fprintf(f, "\"response_length_mean\": %.1f, \"response_length_max\": %d, ", 180 - 60 * t + 10 * noise,
                400 - (int)(100 * t));
        fprintf(f, "\"gen_tokens_per_s\": %.1f, \"train_tokens_per_s\": %.1f, ", 2400 + 200 * noise,
                8100 + 300 * noise);
        fprintf(f, "\"time\": {\"generation\": %.3f, \"reference\": %.3f, \"training\": %.3f, \"weight_sync\": %.3f}, ",
                3.1 + noise, 0.4, 1.6 + 0.2 * noise, 0.05);
        fprintf(f, "\"staleness\": {\"0\": %d, \"1\": %d, \"2\": %d}, ", 40 + s % 5, 20 - s % 5, s % 3);
        fprintf(f, "\"dropped_stale\": %d, \"filtered_groups\": %d, \"clip_frac\": %.4f, ", s % 4 == 0, s % 3,
                0.02 + 0.01 * noise);
        if (with_trouble && s == 120) fprintf(f, "\"loss\": NaN, ");  // what printf("%g") of a NaN becomes
        else fprintf(f, "\"loss\": %.5f, ", 0.02 * noise);
        fprintf(f, "\"lr\": %.3g, \"grad_norm\": %.4f, \"phase\": \"rl\", \"policy_version\": %d", s < 10 ? 1e-6 * s : 1e-5,
                0.8 + 0.3 * noise, s);
        if (s % 25 == 0) fprintf(f, ", \"eval\": {\"pass@1\": %.4f, \"pass@4\": %.4f}", reward * 0.8, reward);
        fprintf(f, "}\n");
        if (with_trouble && s == 57) fprintf(f, "Traceback (most recent call last): oops\n");
        if (with_trouble && s == 58) fprintf(f, "[1, 2, 3]\n\n");
    }
    if (with_trouble) fprintf(f, "{\"step\": %d, \"reward_mean\": 0.7", steps + 1);  // still being written
    fclose(f);
}

static void write_file(const char *name, const char *text) {
    char p[512];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *name) {
    char p[512];
    path_in(p, sizeof p, name);
    remove(p);
}

static void test_ticks_and_numbers(void) {
    double lo, hi, step;
    svg_nice_ticks(0.013, 0.87, 5, &lo, &hi, &step);
    CHECK_MSG(lo == 0 && fabs(hi - 1) < 1e-12 && fabs(step - 0.2) < 1e-12, "%g %g %g", lo, hi, step);
    svg_nice_ticks(2317, 2611, 5, &lo, &hi, &step);
    CHECK_MSG(fabs(step - 100) < 1e-9 && lo == 2300 && hi == 2700, "%g %g %g", lo, hi, step);
    svg_nice_ticks(3, 3, 5, &lo, &hi, &step);
    CHECK(lo <= 3 && hi >= 3 && hi > lo);
    char s[32];
    svg_format_value(s, sizeof s, 0.53214);
    CHECK_MSG(strcmp(s, "0.5321") == 0, "%s", s);
    svg_format_value(s, sizeof s, 1e-6);
    CHECK_MSG(strcmp(s, "1e-6") == 0, "%s", s);
    svg_format_value(s, sizeof s, 8123.4);
    CHECK_MSG(strcmp(s, "8123") == 0, "%s", s);
    svg_format_value(s, sizeof s, 200);
    CHECK_MSG(strcmp(s, "200") == 0, "%s", s);
    svg_buf b = {0};
    svg_buf_escape(&b, "a<b & \"c\"");
    CHECK_MSG(b.data && strcmp(b.data, "a&lt;b &amp; &quot;c&quot;") == 0, "%s", b.data);
    svg_buf_free(&b);
}

static void test_rl_run(void) {
    write_metrics("metrics.jsonl", 200, 1);
    write_file("config.json", "{\"name\": \"arith-grpo-test\", \"model\": {\"path\": \"models/tiny\", \"dim\": 64},"
                              " \"algorithm\": {\"name\": \"grpo\", \"max_staleness\": 2, \"lr\": 1e-5,"
                              " \"clip\": [0.2, 0.28]}, \"note\": \"<b>escaped</b>\"}");
    report_summary s;
    CHECK_OK(report_write(dir, NULL, &s));
    CHECK_MSG(s.records == 200, "%ld records", s.records);
    CHECK_MSG(s.skipped == 3 && s.incomplete_last == 1, "skipped %ld incomplete %d", s.skipped, s.incomplete_last);
    CHECK(s.first_step == 1 && s.last_step == 200);
    char *html = read_report("report.html");
    CHECK(html != NULL);
    if (!html) return;
    // well formed enough: every chart closed, the page closed
    CHECK_MSG(count(html, "<svg") == count(html, "</svg>"), "%zu <svg vs %zu </svg>", count(html, "<svg"),
              count(html, "</svg>"));
    CHECK_MSG((int)count(html, "<svg") == s.charts, "%zu svg, %d charts", count(html, "<svg"), s.charts);
    CHECK(count(html, "<figure") == count(html, "</figure>"));
    CHECK(count(html, "<title>") == count(html, "</title>"));
    CHECK(strstr(html, "</html>") != NULL);
    // one chart per key
    static const char *keys[] = {"reward_mean", "reward_std", "accuracy", "eval.pass@1", "eval.pass@4", "kl",
                                 "entropy", "response_length_mean", "response_length_max", "gen_tokens_per_s",
                                 "train_tokens_per_s", "time.generation", "time.reference", "time.training",
                                 "time.weight_sync", "staleness", "staleness.mean", "staleness.max", "dropped_stale",
                                 "filtered_groups", "clip_frac", "loss", "lr", "grad_norm", "policy_version"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        CHECK_MSG(charts_with(html, keys[k]) == 1, "key %s is in %d charts", keys[k], charts_with(html, keys[k]));
    CHECK(charts_with(html, "phase") == 0);  // a string: not charted
    // the known groups come first, in order
    const char *r = strstr(html, "id=\"sec-reward\""), *a = strstr(html, "id=\"sec-accuracy\""),
               *kl = strstr(html, "id=\"sec-kl\""), *t = strstr(html, "id=\"sec-timing\""),
               *o = strstr(html, "id=\"sec-optim\""), *other = strstr(html, "id=\"sec-other\"");
    CHECK(r && a && kl && t && o && other && r < a && a < kl && kl < t && t < o && o < other);
    // no network: the only URL is the SVG namespace; no scripts or external styles
    for (const char *p = strstr(html, "http"); p; p = strstr(p + 4, "http"))
        CHECK_MSG(strncmp(p, "http://www.w3.org/2000/svg\"", 27) == 0, "a URL: %.40s", p);
    CHECK(!strstr(html, "<script") && !strstr(html, "src=") && !strstr(html, "url(") && !strstr(html, "@import"));
    CHECK(!strstr(html, "<link"));
    // tooltips: hover columns with every value of the step, and eval points
    CHECK(strstr(html, "<title>step 2\nreward_mean: ") != NULL);
    CHECK(strstr(html, "<title>eval.pass@1 at step 25: ") != NULL);
    CHECK(strstr(html, "\ntotal: ") != NULL);  // the stacked time chart
    CHECK(count(html, "<title>") > 500);
    // skipped lines, NaN and null values are reported
    CHECK(strstr(html, "2 lines of metrics.jsonl skipped") != NULL);
    CHECK(strstr(html, "line 58: not JSON") != NULL);
    CHECK(strstr(html, "line 60: a JSON array, not an object") != NULL);
    CHECK(strstr(html, "last line of metrics.jsonl is incomplete") != NULL);
    CHECK(strstr(html, "loss at step 120: NaN or null") != NULL);
    CHECK(strstr(html, "kl at step 100: NaN or null") != NULL);
    CHECK(strstr(html, "on 172 of 200 steps") != NULL);  // entropy: missing every 7th step
    CHECK(strstr(html, "on 8 of 200 steps") != NULL);    // eval
    // header: name, settings (escaped), final values
    CHECK(strstr(html, "<h1>arith-grpo-test</h1>") != NULL);
    CHECK(strstr(html, "<code>algorithm.max_staleness</code></td><td>2</td>") != NULL);
    CHECK(strstr(html, "&lt;b&gt;escaped&lt;/b&gt;") != NULL && !strstr(html, "<b>escaped"));
    CHECK(strstr(html, "Final values") != NULL && strstr(html, "200 steps (step 1 to 200)") != NULL);
    rlc_free(html);
    // --out elsewhere
    char out[512];
    path_in(out, sizeof out, "other.html");
    CHECK_OK(report_write(dir, out, NULL));
    CHECK(rlc_file_exists(out));
    remove(out);
    remove_file("config.json");
}

static void test_big_and_resumed(void) {
    write_metrics("metrics.jsonl", 10000, 0);
    report_summary s;
    double t0 = rlc_now();
    CHECK_OK(report_write(dir, NULL, &s));
    double secs = rlc_now() - t0;
    printf("10000 steps: %d charts, %.0f KB, %.2f s\n", s.charts, s.bytes / 1024.0, secs);
    CHECK_MSG(s.bytes < 2 * 1024 * 1024, "%ld bytes", s.bytes);
    CHECK(s.records == 10000 && s.skipped == 0);
    // a resumed run: steps 4..5 written again after a restart from step 3
    write_file("metrics.jsonl", "{\"step\": 1, \"loss\": 3}\n{\"step\": 2, \"loss\": 2.5}\n{\"step\": 3, \"loss\": 2}\n"
                                "{\"step\": 4, \"loss\": 9}\n{\"step\": 5, \"loss\": 9}\n"
                                "{\"step\": 4, \"loss\": 1.5}\n{\"step\": 5, \"loss\": 1.2}\n");
    CHECK_OK(report_write(dir, NULL, &s));
    CHECK(s.records == 5 && s.duplicates == 2);
    char *html = read_report("report.html");
    CHECK(html && strstr(html, "last 1.2") && !strstr(html, "max 9"));
    rlc_free(html);
    // no step key: the x axis is the line number
    write_file("metrics.jsonl", "{\"loss\": 3}\n{\"loss\": 2}\n{\"loss\": 1, \"nested\": {\"a\": {\"b\": 4}}, "
                                "\"<i>k</i>\": 1}\n");
    CHECK_OK(report_write(dir, NULL, &s));
    html = read_report("report.html");
    CHECK(html && strstr(html, "x axis is the") && charts_with(html, "nested.a.b") == 1);
    CHECK(html && strstr(html, "&lt;i&gt;k&lt;/i&gt;") && !strstr(html, "<i>k"));  // keys are escaped
    rlc_free(html);
}

static void test_errors(void) {
    char missing[512];
    path_in(missing, sizeof missing, "no-such-run");
    CHECK(report_write(missing, NULL, NULL) == RLC_ERR_IO);
    CHECK(strstr(rlc_last_error(), "no such run directory") != NULL);
    remove_file("metrics.jsonl");
    remove_file("report.html");
    CHECK(report_write(dir, NULL, NULL) == RLC_ERR_IO);
    CHECK(strstr(rlc_last_error(), "metrics.jsonl") != NULL);
    write_file("metrics.jsonl", "");
    CHECK(report_write(dir, NULL, NULL) == RLC_ERR_FORMAT);
    CHECK_MSG(strstr(rlc_last_error(), "is empty") != NULL, "%s", rlc_last_error());
    write_file("metrics.jsonl", "\n  \n");
    CHECK(report_write(dir, NULL, NULL) == RLC_ERR_FORMAT);
    write_file("metrics.jsonl", "garbage\nmore garbage\n");
    CHECK(report_write(dir, NULL, NULL) == RLC_ERR_FORMAT);
    CHECK_MSG(strstr(rlc_last_error(), "none of its 2 lines") != NULL, "%s", rlc_last_error());
    char rep[512];
    path_in(rep, sizeof rep, "report.html");
    CHECK(!rlc_file_exists(rep));  // nothing left behind
    // an SFT run's metrics, as learner/sft.c writes them
    write_file("metrics.jsonl",
               "{\"step\": 1, \"loss\": 1.89, \"lr\": 0, \"grad_norm\": 3.6, \"skipped\": false, \"tokens\": 567, "
               "\"rows\": 1, \"tokens_per_s\": 363.2, \"seconds\": 1.56, \"epoch\": 0}\n"
               "{\"step\": 2, \"loss\": 1.92, \"lr\": 0.001, \"grad_norm\": 3.1, \"skipped\": false, \"tokens\": 585, "
               "\"rows\": 1, \"tokens_per_s\": 1241.2, \"seconds\": 0.47, \"epoch\": 0}\n");
    report_summary s;
    CHECK_OK(report_write(dir, NULL, &s));
    char *html = read_report("report.html");
    CHECK(html && charts_with(html, "tokens_per_s") == 1 && charts_with(html, "loss") == 1);
    CHECK(html && strstr(html, "Constant over the run") && strstr(html, "<code>rows</code>"));
    rlc_free(html);
}

// Every allocation failing in turn: an error, never a crash, no report left.
static void test_alloc_failures(void) {
    write_metrics("metrics.jsonl", 6, 1);
    char rep[512];
    path_in(rep, sizeof rep, "report.html");
    int failures = 0;
    for (long n = 0; n < 100000; n++) {
        remove(rep);
        rlc_alloc_fail_after(n);
        rlc_status st = report_write(dir, NULL, NULL);
        rlc_alloc_fail_after(-1);
        if (st == RLC_OK) break;
        failures++;
        CHECK_MSG(st == RLC_ERR_NOMEM, "allocation %ld: %s: %s", n, rlc_status_name(st), rlc_last_error());
        CHECK(!rlc_file_exists(rep));
    }
    printf("allocation failures survived: %d\n", failures);
    CHECK(failures > 10 && rlc_file_exists(rep));
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);  // the skipped lines' warnings are expected
    snprintf(dir, sizeof dir, "/tmp/rlc_test_report_XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    test_ticks_and_numbers();
    test_rl_run();
    test_big_and_resumed();
    test_errors();
    test_alloc_failures();
    remove_file("metrics.jsonl");
    remove_file("report.html");
    rmdir(dir);
    return test_finish("test_report");
}
