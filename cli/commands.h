// commands.h: the subcommands of the rlc command. Each takes the arguments
// after its name (argv[0] is the command name) and returns the exit code.
#ifndef RLC_CLI_COMMANDS_H
#define RLC_CLI_COMMANDS_H

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

int cmd_generate(int argc, char **argv);
int cmd_train(int argc, char **argv);    // cmd_train.c
int cmd_learner(int argc, char **argv);  // cmd_train.c
int cmd_rollout(int argc, char **argv);  // cmd_train.c
int cmd_reward(int argc, char **argv);  // cmd_reward.c
int cmd_config(int argc, char **argv);  // cmd_config.c
int cmd_sft(int argc, char **argv);     // cmd_sft.c
int cmd_report(int argc, char **argv);  // cmd_report.c
int cmd_data(int argc, char **argv);        // cmd_data.c
int cmd_init_model(int argc, char **argv);  // cmd_init_model.c
int cmd_eval(int argc, char **argv);        // cmd_eval.c

#endif
