// args.h: small helpers for parsing subcommand options: each returns 1 when
// argv[*i] is the option (advancing *i past its value), 0 otherwise, and
// reports a missing or malformed value through *bad.
#ifndef RLC_CLI_ARGS_H
#define RLC_CLI_ARGS_H

int arg_flag(char **argv, int *i, const char *name);
int arg_str(int argc, char **argv, int *i, const char *name, const char **out, int *bad);
int arg_int(int argc, char **argv, int *i, const char *name, long long *out, int *bad);
int arg_float(int argc, char **argv, int *i, const char *name, double *out, int *bad);

#endif
