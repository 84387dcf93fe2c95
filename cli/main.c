// main.c: the rlc command: dispatches to a subcommand, and is the only place
// that turns a status into an exit code.
#include <stdio.h>   // printf
#include <string.h>  // strcmp

#include "commands.h"
#include "core/core.h"     // RLC_VERSION
#include "kernels/kernels.h"  // kernels_cuda_compiled

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const cli_command commands[] = {
    {"generate", "generate text from a model with a KV cache", cmd_generate},
    {"train", "reinforcement learning: the learner and rollout workers in one process", cmd_train},
    {"learner", "the learner alone, for rollout workers in other processes or hosts", cmd_learner},
    {"rollout", "one rollout worker process, connected to a learner", cmd_rollout},
    {"reward", "score a JSONL file of completions with Lua reward scripts", cmd_reward},
    {"config", "print the resolved experiment, or --doc the reference of its keys", cmd_config},
    {"sft", "supervised fine-tuning on JSONL prompt/response or chat data", cmd_sft},
    {"report", "draw a run's metrics.jsonl as report.html (SVG charts, no network needed)", cmd_report},
    {"data", "write generated data sets: rlc data arith (the default experiment's problems)", cmd_data},
    {"init-model", "create a small Llama model from scratch with a byte-level tokenizer", cmd_init_model},
    {"eval", "held-out accuracy of a model: greedy pass@1, sampled pass@k", cmd_eval},
    {"version", "print the version and the build's backends", cmd_version},
    {"help", "list the commands", cmd_help},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static int cmd_version(int argc, char **argv) {
    printf("rlc %s (cpu: float32 OpenBLAS + OpenMP, %d threads; cuda: %s)\n", RLC_VERSION,
           kernels_get_threads(), kernels_cuda_compiled() ? "compiled" : "not compiled");
    if (!kernels_cuda_compiled()) return 0;
    char devices[2048];
    int n;
    if (kernels_cuda_query(&n, devices, sizeof devices) != RLC_OK) printf("no CUDA device: %s\n", rlc_last_error());
    else printf("%d CUDA device(s):\n%s", n, devices);
    return 0;
}

static int cmd_help(int argc, char **argv) {
    printf("rlc: reinforcement-learning post-training for language models\n\n"
           "usage: rlc COMMAND [options]   (rlc COMMAND --help for its options)\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) printf("  %-10s %s\n", commands[i].name, commands[i].summary);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_help(argc, argv);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) return cmd_version(argc, argv);
    for (int i = 0; i < n_commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "rlc: unknown command '%s' (rlc --help lists them)\n", argv[1]);
    return 2;
}
