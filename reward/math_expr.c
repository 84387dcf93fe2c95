// math_expr.c: a small parser and evaluator for the LaTeX-ish expressions of
// math answers: numbers (decimal, scientific), variables (letters, Greek
// names, subscripts), + - * / ^ with implicit multiplication, \frac, \sqrt,
// \sqrt[n], \pi, e, \infty, factorials and the usual functions. Two answers
// are compared by evaluating both at the same random points.
#include <ctype.h>   // isdigit, isalpha
#include <math.h>    // pow, sqrt, sin, ...
#include <stdlib.h>  // strtod
#include <string.h>  // strncmp, strlen

#include "math_internal.h"

#define MAX_NODES 512
#define MAX_DEPTH 64

typedef enum {
    N_NUM, N_VAR, N_ADD, N_SUB, N_MUL, N_DIV, N_POW, N_NEG, N_FACT, N_FUNC,
} node_kind;

typedef enum {
    F_SQRT, F_SIN, F_COS, F_TAN, F_SEC, F_CSC, F_COT, F_ASIN, F_ACOS, F_ATAN, F_LN, F_LOG10,
    F_EXP, F_ABS, F_LOG2,
} func_id;

typedef struct node {
    node_kind kind;
    int a, b;      // children
    double value;  // N_NUM
    int var;       // N_VAR: index into names; N_FUNC: func_id
} node;

struct math_expr {
    node nodes[MAX_NODES];
    int n_nodes, root;
    char names[MATH_MAX_VARS][16];
    int n_names;
};

typedef struct parser {
    const char *p;
    math_expr *e;
    int depth;
    int fail;
} parser;

static int new_node(parser *ps, node_kind k, int a, int b) {
    if (ps->e->n_nodes >= MAX_NODES) {
        ps->fail = 1;
        return 0;
    }
    node *n = &ps->e->nodes[ps->e->n_nodes];
    n->kind = k;
    n->a = a;
    n->b = b;
    n->value = 0;
    n->var = 0;
    return ps->e->n_nodes++;
}

static int num_node(parser *ps, double v) {
    int i = new_node(ps, N_NUM, -1, -1);
    ps->e->nodes[i].value = v;
    return i;
}

static int var_node(parser *ps, const char *name, size_t len) {
    math_expr *e = ps->e;
    if (len >= 16) len = 15;
    int k = 0;
    char key[16];
    memcpy(key, name, len);
    key[len] = '\0';
    if (len == 1) key[0] = (char)tolower((unsigned char)key[0]);
    while (k < e->n_names && strcmp(e->names[k], key) != 0) k++;
    if (k == e->n_names) {
        if (k == MATH_MAX_VARS) {
            ps->fail = 1;
            return 0;
        }
        memcpy(e->names[k], name, len);
        e->names[k][len] = '\0';
        // single letters ignore case, as math-verify does ("3R^2" is "3r^2")
        if (len == 1) e->names[k][0] = (char)tolower((unsigned char)name[0]);
        e->n_names++;
    }
    int i = new_node(ps, N_VAR, -1, -1);
    e->nodes[i].var = k;
    return i;
}

static void skip_space(parser *ps) {
    while (*ps->p == ' ') ps->p++;
}

static int accept(parser *ps, const char *tok) {
    skip_space(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0) return 0;
    // a command must not continue with letters ("\pi" is not "\pix")
    if (tok[0] == '\\' && isalpha((unsigned char)tok[n - 1]) && isalpha((unsigned char)ps->p[n])) return 0;
    ps->p += n;
    return 1;
}

static int parse_sum(parser *ps);
static int parse_unary(parser *ps);

// A braced group {..}, or a single digit / letter / command argument (\frac12).
static int parse_arg(parser *ps) {
    skip_space(ps);
    if (accept(ps, "{")) {
        int r = parse_sum(ps);
        if (!accept(ps, "}")) ps->fail = 1;
        return r;
    }
    if (isdigit((unsigned char)*ps->p)) return num_node(ps, *ps->p++ - '0');
    if (isalpha((unsigned char)*ps->p)) return var_node(ps, ps->p++, 1);
    return parse_unary(ps);
}

static const struct {
    const char *name;
    func_id id;
} funcs[] = {
    {"\\sqrt", F_SQRT}, {"\\sin", F_SIN}, {"\\cos", F_COS}, {"\\tan", F_TAN}, {"\\sec", F_SEC},
    {"\\csc", F_CSC}, {"\\cot", F_COT}, {"\\arcsin", F_ASIN}, {"\\arccos", F_ACOS},
    {"\\arctan", F_ATAN}, {"\\ln", F_LN}, {"\\log", F_LOG10}, {"\\exp", F_EXP},
    {"sqrt", F_SQRT}, {"sin", F_SIN}, {"cos", F_COS}, {"tan", F_TAN}, {"ln", F_LN},
    {"log", F_LOG10}, {"exp", F_EXP},
};

static const char *const greek[] = {
    "\\alpha", "\\beta", "\\gamma", "\\delta", "\\epsilon", "\\varepsilon", "\\zeta", "\\eta",
    "\\theta", "\\vartheta", "\\iota", "\\kappa", "\\lambda", "\\mu", "\\nu", "\\xi", "\\rho",
    "\\sigma", "\\tau", "\\upsilon", "\\phi", "\\varphi", "\\chi", "\\psi", "\\omega", "\\Omega",
    "\\Delta", "\\Gamma", "\\Theta", "\\Phi", "\\Psi", "\\Lambda", "\\Sigma", NULL,
};

static int parse_number(parser *ps) {
    char *end;
    const char *s = ps->p;
    // digits and one decimal point; no sign, no hex
    const char *q = s;
    while (isdigit((unsigned char)*q)) q++;
    if (*q == '.' && isdigit((unsigned char)q[1])) {
        q++;
        while (isdigit((unsigned char)*q)) q++;
    }
    // scientific "1.5e3" / "2E-4" directly after the digits
    if ((*q == 'e' || *q == 'E') &&
        (isdigit((unsigned char)q[1]) || ((q[1] == '-' || q[1] == '+') && isdigit((unsigned char)q[2])))) {
        q += 2;
        while (isdigit((unsigned char)*q)) q++;
    }
    double v = strtod(s, &end);
    if (end != q) end = (char *)q;  // strtod may read further (hex, inf)
    ps->p = end;
    return num_node(ps, v);
}

static int parse_primary(parser *ps) {
    skip_space(ps);
    const char *p = ps->p;
    if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) return parse_number(ps);
    if (accept(ps, "(")) {
        int r = parse_sum(ps);
        if (!accept(ps, ")")) ps->fail = 1;
        return r;
    }
    if (accept(ps, "{")) {
        int r = parse_sum(ps);
        if (!accept(ps, "}")) ps->fail = 1;
        return r;
    }
    if (accept(ps, "[")) {
        int r = parse_sum(ps);
        if (!accept(ps, "]")) ps->fail = 1;
        return r;
    }
    if (accept(ps, "|")) {
        int r = parse_sum(ps);
        if (!accept(ps, "|")) ps->fail = 1;
        int f = new_node(ps, N_FUNC, r, -1);
        ps->e->nodes[f].var = F_ABS;
        return f;
    }
    if (accept(ps, "\\frac") || accept(ps, "\\cfrac")) {
        int a = parse_arg(ps);
        int b = parse_arg(ps);
        return new_node(ps, N_DIV, a, b);
    }
    if (accept(ps, "\\sqrt")) {
        int index = -1;
        if (accept(ps, "[")) {
            index = parse_sum(ps);
            if (!accept(ps, "]")) ps->fail = 1;
        }
        int a = parse_arg(ps);
        if (index < 0) {
            int f = new_node(ps, N_FUNC, a, -1);
            ps->e->nodes[f].var = F_SQRT;
            return f;
        }
        int inv = new_node(ps, N_DIV, num_node(ps, 1), index);
        return new_node(ps, N_POW, a, inv);
    }
    if (accept(ps, "\\pi") || accept(ps, "π")) return num_node(ps, M_PI);
    if (accept(ps, "\\infty") || accept(ps, "∞")) return num_node(ps, INFINITY);
    if (accept(ps, "\\log_")) {  // \log_{b} x
        int base = parse_arg(ps);
        int x = parse_unary(ps);
        int lx = new_node(ps, N_FUNC, x, -1), lb = new_node(ps, N_FUNC, base, -1);
        ps->e->nodes[lx].var = F_LN;
        ps->e->nodes[lb].var = F_LN;
        return new_node(ps, N_DIV, lx, lb);
    }
    for (size_t k = 0; k < sizeof funcs / sizeof funcs[0]; k++) {
        if (!accept(ps, funcs[k].name)) continue;
        int power = -1;
        if (accept(ps, "^")) power = parse_arg(ps);  // \sin^2 x
        int a = parse_unary(ps);
        int f = new_node(ps, N_FUNC, a, -1);
        ps->e->nodes[f].var = funcs[k].id;
        return power >= 0 ? new_node(ps, N_POW, f, power) : f;
    }
    for (int k = 0; greek[k]; k++)
        if (accept(ps, greek[k])) return var_node(ps, greek[k] + 1, strlen(greek[k]) - 1);
    if (isalpha((unsigned char)*p)) {
        ps->p++;
        if (*p == 'e' && !(*ps->p == '_')) return num_node(ps, M_E);
        // a subscripted variable: x_1, a_{n}
        if (*ps->p == '_') {
            const char *s = ps->p + 1;
            const char *e = s;
            if (*s == '{') {
                while (*e && *e != '}') e++;
                if (*e) e++;
            } else if (*s) {
                e = s + 1;
            }
            ps->p = e;
            char name[16];
            size_t n = (size_t)(e - p) < sizeof name - 1 ? (size_t)(e - p) : sizeof name - 1;
            memcpy(name, p, n);
            return var_node(ps, name, n);
        }
        return var_node(ps, p, 1);
    }
    ps->fail = 1;
    return 0;
}

static int parse_postfix(parser *ps) {
    int a = parse_primary(ps);
    for (;;) {
        skip_space(ps);
        if (*ps->p == '!') {
            ps->p++;
            a = new_node(ps, N_FACT, a, -1);
        } else if (accept(ps, "^")) {
            int b = parse_arg(ps);
            a = new_node(ps, N_POW, a, b);
        } else {
            return a;
        }
    }
}

static int parse_unary(parser *ps) {
    if (++ps->depth > MAX_DEPTH) {
        ps->fail = 1;
        return 0;
    }
    int r;
    if (accept(ps, "-")) r = new_node(ps, N_NEG, parse_unary(ps), -1);
    else if (accept(ps, "+")) r = parse_unary(ps);
    else r = parse_postfix(ps);
    ps->depth--;
    return r;
}

// Whether the text at p starts something that multiplies implicitly (2x, 2\pi, (a)(b)).
static int starts_factor(const char *p) {
    while (*p == ' ') p++;
    if (isdigit((unsigned char)*p) || isalpha((unsigned char)*p) || *p == '(' || *p == '{') return 1;
    if (*p == '\\') {
        if (strncmp(p, "\\cdot", 5) == 0 || strncmp(p, "\\times", 6) == 0 || strncmp(p, "\\div", 4) == 0)
            return 0;
        return isalpha((unsigned char)p[1]);
    }
    return strncmp(p, "π", strlen("π")) == 0;
}

static int parse_term(parser *ps) {
    int a = parse_unary(ps);
    while (!ps->fail) {
        if (accept(ps, "*") || accept(ps, "\\cdot") || accept(ps, "\\times")) {
            a = new_node(ps, N_MUL, a, parse_unary(ps));
        } else if (accept(ps, "/") || accept(ps, "\\div")) {
            a = new_node(ps, N_DIV, a, parse_unary(ps));
        } else if (starts_factor(ps->p)) {
            a = new_node(ps, N_MUL, a, parse_postfix(ps));
        } else {
            break;
        }
    }
    return a;
}

static int parse_sum(parser *ps) {
    if (++ps->depth > MAX_DEPTH) {
        ps->fail = 1;
        return 0;
    }
    int a = parse_term(ps);
    while (!ps->fail) {
        if (accept(ps, "+")) a = new_node(ps, N_ADD, a, parse_term(ps));
        else if (accept(ps, "-")) a = new_node(ps, N_SUB, a, parse_term(ps));
        else break;
    }
    ps->depth--;
    return a;
}

// Expressions live in two slots per thread (a comparison holds two at once),
// so that grading never allocates and cannot fail for want of memory.
static _Thread_local math_expr slots[2];
static _Thread_local int slot_used[2];

math_expr *math_expr_parse(const char *s) {
    if (!s || !*s || strlen(s) > MATH_MAX_ANSWER) return NULL;
    int k = !slot_used[0] ? 0 : !slot_used[1] ? 1 : -1;
    if (k < 0) return NULL;
    math_expr *e = &slots[k];
    e->n_nodes = e->n_names = e->root = 0;
    parser ps = {s, e, 0, 0};
    e->root = parse_sum(&ps);
    skip_space(&ps);
    if (ps.fail || *ps.p) return NULL;
    slot_used[k] = 1;
    return e;
}

void math_expr_free(math_expr *e) {
    for (int k = 0; k < 2; k++)
        if (e == &slots[k]) slot_used[k] = 0;
}

int math_expr_vars(const math_expr *e, char names[][16], int max) {
    int n = 0;
    for (int i = 0; i < e->n_names && n < max; i++) {
        int k = 0;
        while (k < n && strcmp(names[k], e->names[i]) != 0) k++;
        if (k == n) {
            memcpy(names[n], e->names[i], 16);
            n++;
        }
    }
    return n;
}

static double eval_node(const math_expr *e, int i, const double *vals) {
    const node *n = &e->nodes[i];
    switch (n->kind) {
    case N_NUM: return n->value;
    case N_VAR: return vals[n->var];
    case N_ADD: return eval_node(e, n->a, vals) + eval_node(e, n->b, vals);
    case N_SUB: return eval_node(e, n->a, vals) - eval_node(e, n->b, vals);
    case N_MUL: return eval_node(e, n->a, vals) * eval_node(e, n->b, vals);
    case N_DIV: return eval_node(e, n->a, vals) / eval_node(e, n->b, vals);
    case N_POW: return pow(eval_node(e, n->a, vals), eval_node(e, n->b, vals));
    case N_NEG: return -eval_node(e, n->a, vals);
    case N_FACT: {
        double x = eval_node(e, n->a, vals);
        if (x < 0 || x != floor(x) || x > 170) return NAN;
        return tgamma(x + 1);
    }
    case N_FUNC: {
        double x = eval_node(e, n->a, vals);
        switch ((func_id)n->var) {
        case F_SQRT: return sqrt(x);
        case F_SIN: return sin(x);
        case F_COS: return cos(x);
        case F_TAN: return tan(x);
        case F_SEC: return 1 / cos(x);
        case F_CSC: return 1 / sin(x);
        case F_COT: return 1 / tan(x);
        case F_ASIN: return asin(x);
        case F_ACOS: return acos(x);
        case F_ATAN: return atan(x);
        case F_LN: return log(x);
        case F_LOG10: return log10(x);
        case F_LOG2: return log2(x);
        case F_EXP: return exp(x);
        case F_ABS: return fabs(x);
        }
    }
    }
    return NAN;
}

double math_expr_eval(const math_expr *e, char names[][16], const double *values, int n) {
    double vals[MATH_MAX_VARS];
    for (int i = 0; i < e->n_names; i++) {
        vals[i] = NAN;
        for (int k = 0; k < n; k++)
            if (strcmp(names[k], e->names[i]) == 0) vals[i] = values[k];
    }
    return eval_node(e, e->root, vals);
}
