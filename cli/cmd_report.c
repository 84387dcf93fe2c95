// cmd_report.c: `rlc report RUN_DIR [--out FILE]`: draws RUN_DIR/metrics.jsonl
// as RUN_DIR/report.html, a page of SVG charts that opens without a network;
// `rlc report --compare OUT.html RUN_DIR...` overlays several runs on one
// page and prints their summary table as markdown (learner/report.h;
// docs/report.md).
#include <stdio.h>   // printf, fprintf, fputs

#include "args.h"
#include "commands.h"
#include "core/core.h"       // rlc_last_error
#include "learner/report.h"  // report_write, report_compare_write

static void usage(void) {
    printf("usage: rlc report RUN_DIR [--out FILE]\n"
           "       rlc report --compare OUT.html RUN_DIR [RUN_DIR ...]\n\n"
           "Reads RUN_DIR/metrics.jsonl (one JSON object per step) and writes RUN_DIR/report.html: charts\n"
           "of reward, accuracy, KL, entropy, response length, throughput, timing and every other numeric\n"
           "key over the steps, with the settings of RUN_DIR/config.json or experiment.json. The page\n"
           "needs no network. Works on a run that is still being written (docs/report.md).\n\n"
           "  --out FILE   write the report here instead of RUN_DIR/report.html\n\n"
           "--compare writes OUT.html comparing the runs: a chart per main metric (held-out pass@1,\n"
           "reward, accuracy, entropy, KL, response length, seconds per step, tokens/s) with a line per\n"
           "run, pass@1 against wall-clock seconds, every other key the runs share, and a summary\n"
           "table, which is also printed on stdout as markdown. A run that cannot be read is left out\n"
           "and named. Exit codes: 0 written; 1 nothing written (no run readable, or a write error);\n"
           "2 bad arguments; 3 written without the runs named on stderr.\n");
}

static int compare(const char *out, const char *const *runs, int n) {
    report_compare_summary s;
    char *table = NULL;
    if (report_compare_write(runs, n, out, &s, &table) != RLC_OK) {
        fprintf(stderr, "rlc report: %s\n", rlc_last_error());
        return 1;
    }
    fputs(table, stdout);
    rlc_free(table);
    fprintf(stderr, "wrote %s: %d of %d runs, %d charts, %.1f KB\n", out, s.readable, s.runs, s.charts,
            (double)s.bytes / 1024);
    if (s.readable < s.runs) {
        fprintf(stderr, "rlc report: %d run%s left out (see above)\n", s.runs - s.readable,
                s.runs - s.readable == 1 ? "" : "s");
        return 3;
    }
    return 0;
}

int cmd_report(int argc, char **argv) {
    const char *run_dir = NULL, *out = NULL, *compare_out = NULL;
    const char *runs[REPORT_COMPARE_MAX_RUNS];
    int n_runs = 0;
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 0;
        } else if (arg_str(argc, argv, &i, "--out", &out, &bad) || arg_str(argc, argv, &i, "-o", &out, &bad)) {
            if (bad) return 2;
        } else if (arg_str(argc, argv, &i, "--compare", &compare_out, &bad)) {
            if (bad) return 2;
        } else if (argv[i][0] != '-') {
            if (n_runs == REPORT_COMPARE_MAX_RUNS) {
                fprintf(stderr, "rlc report: at most %d runs\n", REPORT_COMPARE_MAX_RUNS);
                return 2;
            }
            runs[n_runs++] = argv[i];
        } else {
            fprintf(stderr, "rlc report: unexpected argument '%s' (rlc report --help)\n", argv[i]);
            return 2;
        }
    }
    if (compare_out) {
        if (out) {
            fprintf(stderr, "rlc report: --compare names its own output; --out is for one run\n");
            return 2;
        }
        if (n_runs == 0) {
            fprintf(stderr, "rlc report: --compare %s needs at least one RUN_DIR\n", compare_out);
            return 2;
        }
        return compare(compare_out, runs, n_runs);
    }
    if (n_runs > 1) {
        fprintf(stderr, "rlc report: unexpected argument '%s' (one RUN_DIR; --compare OUT.html for several)\n",
                runs[1]);
        return 2;
    }
    run_dir = n_runs ? runs[0] : NULL;
    if (!run_dir) {
        usage();
        return 2;
    }
    report_summary s;
    if (report_write(run_dir, out, &s) != RLC_OK) {
        fprintf(stderr, "rlc report: %s\n", rlc_last_error());
        return 1;
    }
    printf("wrote %s%s: %ld steps (%g to %g), %d charts, %.1f KB", out ? out : run_dir,
           out ? "" : "/report.html", s.records, s.first_step, s.last_step, s.charts, (double)s.bytes / 1024);
    long bad = s.skipped - s.incomplete_last;
    if (bad > 0) printf(", %ld bad line%s skipped (see above)", bad, bad == 1 ? "" : "s");
    if (s.incomplete_last) printf(", incomplete last line skipped");
    if (s.duplicates) printf(", %ld repeated step%s replaced by later lines", s.duplicates, s.duplicates == 1 ? "" : "s");
    printf("\n");
    return 0;
}
