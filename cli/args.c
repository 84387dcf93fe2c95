// args.c: option parsing helpers shared by the subcommands.
#include "args.h"

#include <errno.h>   // errno
#include <stdio.h>   // fprintf
#include <stdlib.h>  // strtoll, strtod
#include <string.h>  // strcmp

int arg_flag(char **argv, int *i, const char *name) { return strcmp(argv[*i], name) == 0; }

int arg_str(int argc, char **argv, int *i, const char *name, const char **out, int *bad) {
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "rlc: option %s needs a value\n", name);
        *bad = 1;
        return 1;
    }
    *out = argv[++*i];
    return 1;
}

int arg_int(int argc, char **argv, int *i, const char *name, long long *out, int *bad) {
    const char *v;
    if (!arg_str(argc, argv, i, name, &v, bad)) return 0;
    if (*bad) return 1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v) {
        fprintf(stderr, "rlc: option %s expects an integer, got '%s'\n", name, v);
        *bad = 1;
        return 1;
    }
    *out = x;
    return 1;
}

int arg_float(int argc, char **argv, int *i, const char *name, double *out, int *bad) {
    const char *v;
    if (!arg_str(argc, argv, i, name, &v, bad)) return 0;
    if (*bad) return 1;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || end == v) {
        fprintf(stderr, "rlc: option %s expects a number, got '%s'\n", name, v);
        *bad = 1;
        return 1;
    }
    *out = x;
    return 1;
}
