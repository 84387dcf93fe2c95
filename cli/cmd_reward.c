// cmd_reward.c: `rlc reward`: scores a JSONL file of completions with one or
// more Lua reward scripts, as training would, and prints each line's score,
// the score distribution, the failures by reason and the throughput, so that
// a reward can be debugged before it is trained with.
#include <math.h>    // sqrt
#include <stdio.h>   // printf, fprintf
#include <stdlib.h>  // strtod, atoi
#include <string.h>  // strcmp, strchr

#include "commands.h"
#include "core/core.h"      // rlc_read_file, rlc_json_load_buffer, rlc_now
#include "reward/reward.h"  // rlc_reward_pool_*

#define MAX_SCRIPTS 16

static void usage(void) {
    printf("usage: rlc reward SCRIPT.lua [SCRIPT2.lua ...] --input FILE.jsonl [options]\n"
           "  --input FILE      JSONL records: completion, answer, prompt, finish_reason, num_tokens\n"
           "                    (--data is a synonym); the whole record is sample.example\n"
           "  --weights W,...   one weight per script (default 1 each); the score is the weighted sum\n"
           "  --threads N       reward threads, one Lua state each (default 1)\n"
           "  --failure-score X the score of a failed call (default 0)\n"
           "  --quiet           print only the summary\n");
}

static const char *str_field(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

// Loads the JSONL file: one JSON object per non-empty line, kept in recs.
static rlc_status load_samples(const char *path, json_t ***recs_out, rlc_sample **samples_out, size_t *n_out) {
    char *buf;
    size_t len;
    RLC_TRY(rlc_read_file(path, &buf, &len));
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += buf[i] == '\n';
    json_t **recs = rlc_calloc(cap, sizeof *recs);
    rlc_sample *samples = rlc_calloc(cap, sizeof *samples);
    if (!recs || !samples) {
        rlc_free(buf);
        rlc_free(recs);
        rlc_free(samples);
        return rlc_errorf(RLC_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t n = 0, lineno = 0;
    rlc_status st = RLC_OK;
    for (char *p = buf; p < buf + len && st == RLC_OK;) {
        char *e = memchr(p, '\n', (size_t)(buf + len - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(buf + len - p);
        lineno++;
        size_t k = 0;
        while (k < l && (p[k] == ' ' || p[k] == '\r' || p[k] == '\t')) k++;
        if (k < l) {
            char what[64];
            snprintf(what, sizeof what, "%s line %zu", path, lineno);
            json_t *j;
            st = rlc_json_load_buffer(p, l, what, &j);
            if (st == RLC_OK && !json_is_object(j)) {
                json_decref(j);
                st = rlc_errorf(RLC_ERR_FORMAT, "%s: not a JSON object", what);
            }
            if (st == RLC_OK) {
                recs[n] = j;
                rlc_sample *s = &samples[n++];
                s->prompt = str_field(j, "prompt");
                s->completion = str_field(j, "completion");
                s->answer = str_field(j, "answer");
                s->finish_reason = str_field(j, "finish_reason");
                const json_t *nt = json_object_get(j, "num_tokens");
                s->num_tokens = json_is_integer(nt) ? (long)json_integer_value(nt) : -1;
                s->example = j;
            }
        }
        p += l + 1;
    }
    rlc_free(buf);
    if (st != RLC_OK) {
        for (size_t i = 0; i < n; i++) json_decref(recs[i]);
        rlc_free(recs);
        rlc_free(samples);
        return st;
    }
    *recs_out = recs;
    *samples_out = samples;
    *n_out = n;
    return RLC_OK;
}

static void print_summary(const rlc_reward_result *res, size_t n, double secs, rlc_reward_errors *errs) {
    double sum = 0, sq = 0, lo = 0, hi = 0;
    long failed = 0;
    for (size_t i = 0; i < n; i++) {
        double s = res[i].score;
        sum += s;
        sq += s * s;
        lo = i == 0 || s < lo ? s : lo;
        hi = i == 0 || s > hi ? s : hi;
        failed += res[i].failed > 0;
    }
    double mean = n ? sum / (double)n : 0, var = n ? sq / (double)n - mean * mean : 0;
    printf("\nsamples %zu  mean %.4f  std %.4f  min %.4f  max %.4f\n", n, mean, sqrt(var > 0 ? var : 0), lo, hi);
    // the distribution: 10 bins over [min, max], or each value when they are few
    double vals[8];
    long counts[8] = {0};
    int nv = 0, few = 1;
    for (size_t i = 0; i < n && few; i++) {
        int k = 0;
        while (k < nv && vals[k] != res[i].score) k++;
        if (k == nv) {
            if (nv == 8) few = 0;
            else vals[nv++] = res[i].score;
        }
        if (few) counts[k]++;
    }
    printf("distribution:\n");
    if (few) {
        for (int k = 0; k < nv; k++)
            printf("  %10.4f  %6ld  %5.1f%%\n", vals[k], counts[k], 100.0 * (double)counts[k] / (double)n);
    } else {
        long bins[10] = {0};
        for (size_t i = 0; i < n; i++) {
            int b = hi > lo ? (int)((res[i].score - lo) / (hi - lo) * 10) : 0;
            bins[b > 9 ? 9 : b]++;
        }
        for (int b = 0; b < 10; b++)
            printf("  [%8.3f, %8.3f%c  %6ld\n", lo + (hi - lo) * b / 10, lo + (hi - lo) * (b + 1) / 10,
                   b == 9 ? ']' : ')', bins[b]);
    }
    printf("failed samples %ld (%.1f%%)\n", failed, n ? 100.0 * (double)failed / (double)n : 0);
    rlc_script_error err;
    long count;
    for (int i = 0; rlc_reward_errors_get(errs, i, &err, &count); i++)
        printf("  %6ld  %-7s %s\n", count, rlc_script_fail_name(err.kind), err.msg);
    printf("throughput %.0f rewards/s (%.3f s)\n", secs > 0 ? (double)n / secs : 0, secs);
}

int cmd_reward(int argc, char **argv) {
    rlc_reward_func funcs[MAX_SCRIPTS];
    int n_funcs = 0, threads = 1, quiet = 0;
    const char *input = NULL, *weights = NULL;
    double failure = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--input") || !strcmp(a, "--data")) && i + 1 < argc) input = argv[++i];
        else if (!strcmp(a, "--weights") && i + 1 < argc) weights = argv[++i];
        else if (!strcmp(a, "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--failure-score") && i + 1 < argc) failure = strtod(argv[++i], NULL);
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else if (a[0] != '-' && n_funcs < MAX_SCRIPTS) {
            funcs[n_funcs++] = (rlc_reward_func){.path = a, .weight = 1.0};
        } else {
            fprintf(stderr, "rlc reward: unexpected argument '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (!n_funcs || !input) {
        usage();
        return 2;
    }
    if (weights) {
        const char *p = weights;
        for (int k = 0; k < n_funcs; k++) {
            char *end;
            funcs[k].weight = strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "rlc reward: --weights needs %d numbers separated by commas\n", n_funcs);
                return 2;
            }
            p = *end == ',' ? end + 1 : end;
        }
    }
    json_t **recs = NULL;
    rlc_sample *samples = NULL;
    size_t n = 0;
    if (load_samples(input, &recs, &samples, &n) != RLC_OK) {
        fprintf(stderr, "rlc reward: %s\n", rlc_last_error());
        return 1;
    }
    rlc_reward_config cfg = {funcs, n_funcs, rlc_lua_default_limits(), failure};
    rlc_reward_errors *errs = rlc_reward_errors_create();
    rlc_reward_pool *pool = NULL;
    rlc_reward_result *res = rlc_calloc(n ? n : 1, sizeof *res);
    int rc = 0;
    if (!errs || !res) {
        fprintf(stderr, "rlc reward: out of memory\n");
        rc = 1;
    } else if (rlc_reward_pool_create(&cfg, threads, errs, &pool) != RLC_OK) {
        fprintf(stderr, "rlc reward: %s\n", rlc_last_error());
        rc = 1;
    } else {
        double t0 = rlc_now();
        rlc_reward_pool_score(pool, samples, n, res);
        double secs = rlc_now() - t0;
        if (!quiet) {
            for (size_t i = 0; i < n; i++) {
                printf("%zu\t%.6g", i + 1, res[i].score);
                for (int c = 0; c < res[i].n_components; c++)
                    printf("\t%s=%.6g", res[i].components[c].name, res[i].components[c].value);
                printf("%s\n", res[i].failed ? "\tFAILED" : "");
            }
        }
        print_summary(res, n, secs, errs);
    }
    rlc_reward_pool_free(pool);
    rlc_reward_errors_free(errs);
    for (size_t i = 0; i < n; i++) json_decref(recs[i]);
    rlc_free(recs);
    rlc_free(samples);
    rlc_free(res);
    return rc;
}
