// cmd_data.c: `rlc data arith --out DIR [...]`: writes the default
// experiment's generated arithmetic word problems (learner/arith.h;
// docs/arith.md): sft.jsonl, train.jsonl and heldout.jsonl.
#include <stdio.h>   // printf, fprintf, sscanf
#include <string.h>  // strcmp

#include "args.h"
#include "commands.h"
#include "core/core.h"       // rlc_last_error, rlc_now
#include "learner/arith.h"   // arith_config, arith_write_dataset

static void usage(void) {
    printf("usage: rlc data arith --out DIR [options]\n\n"
           "Writes generated multi-step arithmetic word problems with GSM8K-style worked\n"
           "solutions (\"8 + 7 = 15. 15 - 5 = 10.\\n#### 10\"), one JSON object a line:\n"
           "  DIR/sft.jsonl      {prompt, response, answer, question}: the SFT warm start\n"
           "  DIR/train.jsonl    {question, answer, prompt, solution}: RL problems (not in sft.jsonl)\n"
           "  DIR/heldout.jsonl  the same fields: the fixed held-out set\n"
           "prompt is the question rendered as every stage renders it: \"user: Q\\nassistant: \".\n"
           "The same options give the same files; held-out questions never appear in training.\n\n"
           "  --out DIR          output folder (created)\n"
           "  --sft N            SFT problems (default 20000)\n"
           "  --train N          RL training problems (default 20000)\n"
           "  --heldout N        held-out problems (default 500)\n"
           "  --seed S           generator seed (default 1)\n"
           "  --steps MIN-MAX    operations per problem (default 2-4)\n"
           "  --max-num K        start value 2..K, + and - operands 1..K (default 9)\n"
           "  --max-mul M        * factors 2..M, < 2 for none (default 3)\n"
           "  --max-value V      intermediate results stay in 0..V (default 50)\n"
           "  --restate          each solution step restates its sentence (\"He buys 7 more, so 8 + 7 = 15.\")\n");
}

// "MIN-MAX" or "N" (MIN = MAX = N); 0 when malformed.
static int parse_steps(const char *v, arith_config *c) {
    char tail;
    if (sscanf(v, "%d-%d%c", &c->min_steps, &c->max_steps, &tail) == 2) return 1;
    if (sscanf(v, "%d%c", &c->min_steps, &tail) != 1) return 0;
    c->max_steps = c->min_steps;
    return 1;
}

int cmd_data(int argc, char **argv) {
    const char *out = NULL, *steps = NULL;
    arith_config c;
    arith_config_default(&c);
    arith_dataset_counts n = {.n_sft = 20000, .n_train = 20000, .n_heldout = 500};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "arith") != 0) {
        fprintf(stderr, "rlc data: unknown generator '%s' (known: arith)\n", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        int bad = 0;
        long long v = 0;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 0;
        } else if (arg_flag(argv, &i, "--restate")) {
            c.restate = 1;
        } else if (arg_str(argc, argv, &i, "--out", &out, &bad)) {
        } else if (arg_str(argc, argv, &i, "--steps", &steps, &bad)) {
            bad |= !bad && !parse_steps(steps, &c);
        } else if (arg_int(argc, argv, &i, "--sft", &v, &bad)) {
            n.n_sft = (long)v;
        } else if (arg_int(argc, argv, &i, "--train", &v, &bad)) {
            n.n_train = (long)v;
        } else if (arg_int(argc, argv, &i, "--heldout", &v, &bad)) {
            n.n_heldout = (long)v;
        } else if (arg_int(argc, argv, &i, "--seed", &v, &bad)) {
            c.seed = (uint64_t)v;
        } else if (arg_int(argc, argv, &i, "--max-num", &v, &bad)) {
            c.max_num = (int)v;
        } else if (arg_int(argc, argv, &i, "--max-mul", &v, &bad)) {
            c.max_mul = (int)v;
        } else if (arg_int(argc, argv, &i, "--max-value", &v, &bad)) {
            c.max_value = (int)v;
        } else {
            fprintf(stderr, "rlc data: unexpected argument '%s' (rlc data arith --help)\n", argv[i]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rlc data: bad or missing value for %s\n", argv[i]);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "rlc data: --out DIR is required (rlc data arith --help)\n");
        return 2;
    }
    double t0 = rlc_now();
    long skipped = 0;
    if (arith_write_dataset(out, &c, &n, &skipped) != RLC_OK) {
        fprintf(stderr, "rlc data: %s\n", rlc_last_error());
        return 1;
    }
    printf("rlc data arith: %s/sft.jsonl (%ld), train.jsonl (%ld), heldout.jsonl (%ld); steps %d-%d, "
           "numbers up to %d, x up to %d, values up to %d, seed %llu; %ld training problems skipped as "
           "held-out duplicates; %.2f s\n",
           out, n.n_sft, n.n_train, n.n_heldout, c.min_steps, c.max_steps, c.max_num, c.max_mul, c.max_value,
           (unsigned long long)c.seed, skipped, rlc_now() - t0);
    return 0;
}
