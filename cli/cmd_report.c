// cmd_report.c: `rlc report RUN_DIR [--out FILE]`: draws RUN_DIR/metrics.jsonl
// as RUN_DIR/report.html, a page of SVG charts that opens without a network
// (learner/report.h; docs/report.md).
#include <stdio.h>   // printf, fprintf

#include "args.h"
#include "commands.h"
#include "core/core.h"       // rlc_last_error
#include "learner/report.h"  // report_write

static void usage(void) {
    printf("usage: rlc report RUN_DIR [--out FILE]\n\n"
           "Reads RUN_DIR/metrics.jsonl (one JSON object per step) and writes RUN_DIR/report.html: charts\n"
           "of reward, accuracy, KL, entropy, response length, throughput, timing and every other numeric\n"
           "key over the steps, with the settings of RUN_DIR/config.json or experiment.json. The page\n"
           "needs no network. Works on a run that is still being written (docs/report.md).\n\n"
           "  --out FILE   write the report here instead of RUN_DIR/report.html\n");
}

int cmd_report(int argc, char **argv) {
    const char *run_dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 0;
        } else if (arg_str(argc, argv, &i, "--out", &out, &bad) || arg_str(argc, argv, &i, "-o", &out, &bad)) {
            if (bad) return 2;
        } else if (argv[i][0] != '-' && !run_dir) {
            run_dir = argv[i];
        } else {
            fprintf(stderr, "rlc report: unexpected argument '%s' (rlc report --help)\n", argv[i]);
            return 2;
        }
    }
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
