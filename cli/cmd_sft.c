// cmd_sft.c: `rlc sft EXP.lua [--set k=v]... [--resume]`: supervised
// fine-tuning on JSONL data (learner/sft.h; docs/sft.md).
#include <stdio.h>   // printf, fprintf
#include <string.h>  // strcmp

#include "args.h"
#include "commands.h"
#include "core/core.h"       // rlc_last_error
#include "learner/sft.h"     // sft_config, sft_run
#include "reward/reward.h"   // rlc_exp_load

#define SFT_MAX_OVERRIDES 64

static void usage(void) {
    printf("usage: rlc sft EXP.lua [options]\n\n"
           "Fine-tunes a model on JSONL records {\"prompt\", \"response\"} or {\"messages\": [...]}, with\n"
           "the prompt masked out of the loss. Logs loss, learning rate and tokens/s; writes\n"
           "OUT/metrics.jsonl and checkpoints OUT/checkpoints/step-N (docs/sft.md).\n\n"
           "  --set KEY=VALUE   override an experiment key, e.g. --set algorithm.lr=1e-4 (repeatable)\n"
           "  --resume          continue from the newest complete checkpoint of output.dir\n"
           "  --stop-after N    stop (and save) once N steps are done, as a preemption would\n"
           "  --threads N       CPU threads (default: all cores)\n");
}

int cmd_sft(int argc, char **argv) {
    const char *path = NULL, *ov[SFT_MAX_OVERRIDES];
    int n_ov = 0, resume = 0;
    long long stop_after = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        const char *sv;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 0;
        } else if (arg_flag(argv, &i, "--resume")) {
            resume = 1;
        } else if (arg_str(argc, argv, &i, "--set", &sv, &bad)) {
            if (!bad && n_ov == SFT_MAX_OVERRIDES) {
                fprintf(stderr, "rlc sft: at most %d --set options\n", SFT_MAX_OVERRIDES);
                return 2;
            }
            if (!bad) ov[n_ov++] = sv;
        } else if (arg_int(argc, argv, &i, "--stop-after", &stop_after, &bad)) {
            bad |= stop_after < 1;
        } else if (arg_int(argc, argv, &i, "--threads", &threads, &bad)) {
            bad |= threads < 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "rlc sft: unexpected argument '%s' (rlc sft --help)\n", argv[i]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rlc sft: bad or missing value for %s\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        usage();
        return 2;
    }
    rlc_exp *e;
    if (rlc_exp_load(path, ov, n_ov, &e) != RLC_OK) {
        fprintf(stderr, "rlc sft: %s\n", rlc_last_error());
        return 1;
    }
    sft_config c;
    sft_config_default(&c);
    rlc_status s = sft_config_from_exp(e, &c);
    c.resume = resume;
    c.stop_after = (long)stop_after;
    c.threads = (int)threads;
    if (s == RLC_OK) s = sft_run(&c);
    if (s != RLC_OK) fprintf(stderr, "rlc sft: %s\n", rlc_last_error());
    rlc_exp_free(e);
    return s == RLC_OK ? 0 : 1;
}
