// math_internal.h: internal to reward/: the pieces of rlc.math shared by
// math_extract.c (extraction, normalization), math_expr.c (the expression
// parser and evaluator) and math_equiv.c (equivalence).
#ifndef RLC_REWARD_MATH_INTERNAL_H
#define RLC_REWARD_MATH_INTERNAL_H

#include <stddef.h>  // size_t

// Answers longer than this are compared as text only.
#define MATH_MAX_ANSWER 2048

// A string builder over a fixed buffer (truncates silently).
typedef struct mstr {
    char *p;
    size_t len, cap;
} mstr;

void mstr_init(mstr *s, char *buf, size_t cap);
void mstr_addn(mstr *s, const char *x, size_t n);
void mstr_add(mstr *s, const char *x);
void mstr_addc(mstr *s, char c);

// Index of the brace that closes the one at s[open] ('{' / '(' / '['), or -1.
long math_match_brace(const char *s, size_t len, size_t open);

// An expression: parsed once, evaluated at any point.
#define MATH_MAX_VARS 8
typedef struct math_expr math_expr;

// Parses LaTeX-ish math (already normalized). NULL when it is not an
// expression this parser knows. Never allocates: each thread has room for two
// live expressions; release each with math_expr_free.
math_expr *math_expr_parse(const char *s);
void math_expr_free(math_expr *e);
// Variable names used (single letters or Greek names), at most MATH_MAX_VARS.
int math_expr_vars(const math_expr *e, char names[][16], int max);
// Evaluates with vars[i] bound to values[i]; NaN where undefined.
double math_expr_eval(const math_expr *e, char names[][16], const double *values, int n);

#endif
