// math_equiv.c: rlc.math's equivalence of two answers. The structure is read
// first (a scalar, a tuple, an interval or union of intervals, a set or a
// comma-separated list of answers in any order, a matrix), then scalars are
// compared as numbers, as expressions at random points, or as text.
#include <ctype.h>   // isalpha, tolower
#include <math.h>    // fabs, isnan, isinf
#include <stdio.h>   // snprintf
#include <string.h>  // strcmp, strncmp

#include "math_internal.h"
#include "reward.h"

#define MAX_ELEMS 32
#define ELEM_MAX 512

typedef enum { A_SCALAR, A_TUPLE, A_SET, A_MATRIX } ans_kind;

typedef struct answer {
    ans_kind kind;
    char open, close;  // A_TUPLE: the brackets, '(' ')' '[' ']'
    int cols;          // A_MATRIX
    int n;
    char elem[MAX_ELEMS][ELEM_MAX];
} answer;

// Splits s at top-level occurrences of sep (a string), outside any brackets.
static int split_top(const char *s, const char *sep, char out[][ELEM_MAX], int max) {
    size_t ls = strlen(sep);
    int depth = 0, n = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '{' || *p == '(' || *p == '[') depth++;
        else if (*p == '}' || *p == ')' || *p == ']') depth--;
        int at_sep = *p && depth == 0 && strncmp(p, sep, ls) == 0;
        // "\{" and "\}" are braces too, already counted through '{'
        if (!*p || at_sep) {
            if (n == max) return -1;
            snprintf(out[n++], ELEM_MAX, "%.*s", (int)(p - start), start);
            if (!*p) break;
            p += ls - 1;
            start = p + 1;
        }
    }
    return n;
}

static int has_top(const char *s, const char *sep) {
    size_t ls = strlen(sep);
    int depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '{' || *p == '(' || *p == '[') depth++;
        else if (*p == '}' || *p == ')' || *p == ']') depth--;
        else if (depth == 0 && strncmp(p, sep, ls) == 0) return 1;
    }
    return 0;
}

static int ends_with(const char *s, const char *t) {
    size_t a = strlen(s), b = strlen(t);
    return a >= b && strcmp(s + a - b, t) == 0;
}

static void read_answer(const char *s, answer *a) {
    memset(a, 0, sizeof *a);
    size_t len = strlen(s);
    char inner[MATH_MAX_ANSWER + 64];
    // matrices
    static const char *const envs[] = {"pmatrix", "bmatrix", "matrix", "vmatrix", NULL};
    for (int k = 0; envs[k]; k++) {
        char b[32], e[32];
        snprintf(b, sizeof b, "\\begin{%s}", envs[k]);
        snprintf(e, sizeof e, "\\end{%s}", envs[k]);
        if (strncmp(s, b, strlen(b)) == 0 && ends_with(s, e)) {
            snprintf(inner, sizeof inner, "%.*s", (int)(len - strlen(b) - strlen(e)), s + strlen(b));
            char rows[MAX_ELEMS][ELEM_MAX];
            int nr = split_top(inner, "\\\\", rows, MAX_ELEMS);
            a->kind = A_MATRIX;
            for (int r = 0; r < nr && nr > 0; r++) {
                if (!rows[r][0] && r == nr - 1) break;  // trailing "\\"
                char cells[MAX_ELEMS][ELEM_MAX];
                int nc = split_top(rows[r], "&", cells, MAX_ELEMS);
                if (nc < 0 || a->n + nc > MAX_ELEMS) break;
                a->cols = nc;
                for (int c = 0; c < nc; c++) memcpy(a->elem[a->n++], cells[c], ELEM_MAX);
            }
            return;
        }
    }
    // \{a, b\}: a set
    if (strncmp(s, "\\{", 2) == 0 && ends_with(s, "\\}") && len >= 4) {
        snprintf(inner, sizeof inner, "%.*s", (int)(len - 4), s + 2);
        int n = split_top(inner, ",", a->elem, MAX_ELEMS);
        if (n > 0) {
            a->kind = A_SET;
            a->n = n;
            return;
        }
    }
    // unions of intervals: an unordered set of intervals
    if (has_top(s, "\\cup")) {
        int n = split_top(s, "\\cup", a->elem, MAX_ELEMS);
        if (n > 0) {
            a->kind = A_SET;
            a->n = n;
            return;
        }
    }
    // (a, b), [a, b), ...: a tuple or an interval, when the brackets wrap it all
    if (len >= 2 && (s[0] == '(' || s[0] == '[') && (s[len - 1] == ')' || s[len - 1] == ']')) {
        int depth = 0;
        size_t i;
        for (i = 0; i < len; i++) {
            if (s[i] == '(' || s[i] == '[' || s[i] == '{') depth++;
            else if (s[i] == ')' || s[i] == ']' || s[i] == '}') depth--;
            if (depth == 0) break;
        }
        if (i == len - 1) {
            snprintf(inner, sizeof inner, "%.*s", (int)(len - 2), s + 1);
            if (has_top(inner, ",")) {
                int n = split_top(inner, ",", a->elem, MAX_ELEMS);
                if (n > 0) {
                    a->kind = A_TUPLE;
                    a->open = s[0];
                    a->close = s[len - 1];
                    a->n = n;
                    return;
                }
            }
        }
    }
    // a, b, c: several answers, in any order
    if (has_top(s, ",")) {
        int n = split_top(s, ",", a->elem, MAX_ELEMS);
        if (n > 0) {
            a->kind = A_SET;
            a->n = n;
            return;
        }
    }
    a->kind = A_SCALAR;
    a->n = 1;
    snprintf(a->elem[0], ELEM_MAX, "%s", s);
}

// "x = 5" -> "5" when the left side is a single variable.
static const char *strip_assignment(const char *s) {
    const char *eq = strchr(s, '=');
    if (!eq || strchr(eq + 1, '=')) return s;
    const char *p = s;
    if (*p == '\\') {
        p++;
        while (isalpha((unsigned char)*p)) p++;
    } else if (isalpha((unsigned char)*p)) {
        p++;
        if (*p == '_') p += 2;
    }
    return p == eq && p > s ? eq + 1 : s;
}

// "x \in [2, 5)" -> "[2, 5)": a variable's membership is its set.
static const char *strip_membership(const char *s) {
    const char *p = s;
    if (*p == '\\') {
        p++;
        while (isalpha((unsigned char)*p)) p++;
    } else if (isalpha((unsigned char)*p)) {
        p++;
    }
    return p > s && strncmp(p, "\\in", 3) == 0 && !isalpha((unsigned char)p[3]) ? p + 3 : s;
}

static int numbers_close(double x, double y) {
    if (isnan(x) || isnan(y)) return 0;
    if (isinf(x) || isinf(y)) return x == y;
    return fabs(x - y) <= 1e-6 + 1e-9 * fmax(fabs(x), fabs(y));
}

// Text comparison of the last resort: case, braces and a wrapping pair of
// parentheses ("(C)" vs "C") do not matter.
static void text_key(const char *s, char *buf, size_t cap) {
    mstr out;
    mstr_init(&out, buf, cap);
    for (const char *p = s; *p; p++)
        if (*p != '{' && *p != '}' && *p != ' ') mstr_addc(&out, (char)tolower((unsigned char)*p));
    size_t n = strlen(buf);
    if (n >= 3 && buf[0] == '(' && buf[n - 1] == ')' && n <= 5) {
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
}

static int all_alpha(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalpha((unsigned char)*s)) return 0;
    return 1;
}

static int scalar_equal(const char *g, const char *r) {
    g = strip_assignment(g);
    r = strip_assignment(r);
    if (strcmp(g, r) == 0) return 1;
    // Words and choice letters ("Evelyn", "(C)") compare as text, ignoring case.
    char kg[ELEM_MAX], kr[ELEM_MAX];
    text_key(g, kg, sizeof kg);
    text_key(r, kr, sizeof kr);
    if (all_alpha(kg) && all_alpha(kr) && (strlen(kr) == 1 || strlen(kr) >= 3)) return strcmp(kg, kr) == 0;
    math_expr *eg = math_expr_parse(g), *er = math_expr_parse(r);
    int result = -1;
    if (eg && er) {
        char names[2 * MATH_MAX_VARS][16];
        int n = math_expr_vars(eg, names, MATH_MAX_VARS);
        n += math_expr_vars(er, names + n, MATH_MAX_VARS);
        // dedupe the union
        int m = 0;
        for (int i = 0; i < n; i++) {
            int k = 0;
            while (k < m && strcmp(names[k], names[i]) != 0) k++;
            if (k == m) memmove(names[m++], names[i], 16);
        }
        if (m == 0) {
            result = numbers_close(math_expr_eval(eg, names, NULL, 0), math_expr_eval(er, names, NULL, 0));
        } else {
            // fixed pseudo-random points in [0.5, 2.5): same verdict every run
            unsigned long long state = 0x9e3779b97f4a7c15ull;
            int tried = 0, agree = 0;
            for (int t = 0; t < 8; t++) {
                double vals[2 * MATH_MAX_VARS];
                for (int i = 0; i < m; i++) {
                    state = state * 6364136223846793005ull + 1442695040888963407ull;
                    vals[i] = 0.5 + 2.0 * (double)(state >> 11) / 9007199254740992.0;
                }
                double a = math_expr_eval(eg, names, vals, m), b = math_expr_eval(er, names, vals, m);
                if (isnan(a) && isnan(b)) continue;
                tried++;
                agree += numbers_close(a, b) ||
                         (fabs(a - b) <= 1e-7 * fmax(fabs(a), fabs(b)));
            }
            result = tried >= 2 && agree == tried;
        }
    }
    math_expr_free(eg);
    math_expr_free(er);
    if (result >= 0) return result;
    return strcmp(kg, kr) == 0;
}

static int answers_equal(const answer *g, const answer *r) {
    if (g->kind != r->kind || g->n != r->n) {
        // a one-element set is its element
        if (g->n == 1 && r->n == 1 && g->kind != A_MATRIX && r->kind != A_MATRIX &&
            g->kind != A_TUPLE && r->kind != A_TUPLE)
            return scalar_equal(g->elem[0], r->elem[0]);
        return 0;
    }
    switch (g->kind) {
    case A_SCALAR: return scalar_equal(g->elem[0], r->elem[0]);
    case A_MATRIX:
        if (g->cols != r->cols) return 0;
        /* fall through */
    case A_TUPLE:
        if (g->kind == A_TUPLE && (g->open != r->open || g->close != r->close)) return 0;
        for (int i = 0; i < g->n; i++)
            if (!scalar_equal(g->elem[i], r->elem[i])) return 0;
        return 1;
    case A_SET: {
        int used[MAX_ELEMS] = {0};
        for (int i = 0; i < g->n; i++) {
            int found = 0;
            for (int j = 0; j < r->n && !found; j++) {
                if (used[j]) continue;
                answer ge, re;
                read_answer(g->elem[i], &ge);
                read_answer(r->elem[j], &re);
                if (answers_equal(&ge, &re)) used[j] = found = 1;
            }
            if (!found) return 0;
        }
        return 1;
    }
    }
    return 0;
}

int rlc_math_equal(const char *given, const char *ref) {
    if (!given || !ref) return 0;
    char g[MATH_MAX_ANSWER + 64], r[MATH_MAX_ANSWER + 64];
    rlc_math_normalize(given, g, sizeof g);
    rlc_math_normalize(ref, r, sizeof r);
    if (!g[0] || !r[0]) return 0;
    if (strcmp(g, r) == 0) return 1;
    // answer structs are big: keep them off the stack of deep callers
    static _Thread_local answer ag, ar;
    read_answer(strip_membership(g), &ag);
    read_answer(strip_membership(r), &ar);
    return answers_equal(&ag, &ar);
}

int rlc_math_grade(const char *completion, const char *ref) {
    char ans[MATH_MAX_ANSWER + 64];
    if (rlc_math_extract(completion, ans, sizeof ans) == RLC_MATH_FOUND_NONE) return 0;
    return rlc_math_equal(ans, ref);
}
