// cmd_config.c: `rlc config`: prints the resolved experiment (defaults, the
// file, then --set overrides) as JSON, or with --doc the reference of every
// key, which is docs/config.md.
#include <stdio.h>   // printf, fprintf
#include <stdlib.h>  // free (json_dumps allocates with malloc)
#include <string.h>  // strcmp

#include "commands.h"
#include "core/core.h"      // rlc_last_error, rlc_free
#include "reward/reward.h"  // rlc_exp_*

#define MAX_OVERRIDES 64

static void usage(void) {
    printf("usage: rlc config [EXP.lua] [--set section.key=value]...   print the resolved experiment\n"
           "       rlc config --doc                                      print docs/config.md\n");
}

int cmd_config(int argc, char **argv) {
    const char *path = NULL;
    const char *ov[MAX_OVERRIDES];
    int n_ov = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--doc")) {
            char *doc = rlc_exp_doc_markdown();
            if (!doc) {
                fprintf(stderr, "rlc config: out of memory\n");
                return 1;
            }
            fputs(doc, stdout);
            rlc_free(doc);
            return 0;
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            if (n_ov == MAX_OVERRIDES) {
                fprintf(stderr, "rlc config: at most %d --set options\n", MAX_OVERRIDES);
                return 2;
            }
            ov[n_ov++] = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "rlc config: unexpected argument '%s'\n", argv[i]);
            usage();
            return 2;
        }
    }
    rlc_exp *e;
    rlc_status st = path ? rlc_exp_load(path, ov, n_ov, &e) : rlc_exp_defaults(ov, n_ov, &e);
    if (st != RLC_OK) {
        fprintf(stderr, "rlc config: %s\n", rlc_last_error());
        return 1;
    }
    char *s = json_dumps(rlc_exp_json(e), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) printf("%s\n", s);
    free(s);
    rlc_exp_free(e);
    return s ? 0 : 1;
}
