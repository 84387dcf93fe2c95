// math_extract.c: rlc.math's answer extraction (\boxed, "####", "the answer
// is", the last number) and the text normalization every comparison starts
// from (LaTeX noise, $, units, thousands separators, trailing zeros).
#include <ctype.h>   // isdigit, isalpha, isspace, tolower
#include <stdio.h>   // snprintf
#include <string.h>  // strstr, strlen, memcpy

#include "math_internal.h"
#include "reward.h"

// ---- small string helpers ------------------------------------------------------

void mstr_init(mstr *s, char *buf, size_t cap) {
    s->p = buf;
    s->len = 0;
    s->cap = cap;
    if (cap) buf[0] = '\0';
}

void mstr_addn(mstr *s, const char *x, size_t n) {
    if (!s->cap) return;
    if (s->len + n >= s->cap) n = s->cap - 1 - s->len;
    memcpy(s->p + s->len, x, n);
    s->len += n;
    s->p[s->len] = '\0';
}

void mstr_add(mstr *s, const char *x) { mstr_addn(s, x, strlen(x)); }
void mstr_addc(mstr *s, char c) { mstr_addn(s, &c, 1); }

long math_match_brace(const char *s, size_t len, size_t open) {
    char o = s[open], c = o == '{' ? '}' : o == '(' ? ')' : ']';
    int depth = 0;
    for (size_t i = open; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '{' || s[i + 1] == '}')) {
            i++;
            continue;
        }
        if (s[i] == o) depth++;
        else if (s[i] == c && --depth == 0) return (long)i;
    }
    return -1;
}

static void copy_trimmed(const char *s, size_t n, char *buf, size_t cap) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (!cap) return;
    if (n >= cap) n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

// ---- extraction ---------------------------------------------------------------------

// Finds the last "\boxed" or "\fbox" whose argument is complete. Only the
// last 8 occurrences are tried, so that a text full of unclosed "\boxed{"
// stays linear.
int rlc_math_last_boxed(const char *text, char *buf, size_t cap) {
    size_t len = strlen(text);
    const char *cand[8];
    int kwlen[8], n = 0;
    for (const char *p = text; (p = strchr(p, '\\')) != NULL; p++) {
        int kw = strncmp(p, "\\boxed", 6) == 0 ? 6 : strncmp(p, "\\fbox", 5) == 0 ? 5 : 0;
        if (!kw) continue;
        cand[n % 8] = p;
        kwlen[n % 8] = kw;
        n++;
    }
    for (int k = n - 1; k >= 0 && k >= n - 8; k--) {
        const char *p = cand[k % 8];
        int kw = kwlen[k % 8];
        const char *a = p + kw;
        while (*a == ' ') a++;
        if (*a == '{') {
            long close = math_match_brace(text, len, (size_t)(a - text));
            if (close < 0) continue;
            copy_trimmed(a + 1, (size_t)(text + close - a - 1), buf, cap);
            return 1;
        }
        if (kw == 6 && p[kw] == ' ') {  // "\boxed 5": up to the next space or $
            const char *e = a;
            while (*e && !isspace((unsigned char)*e) && *e != '$') e++;
            if (e == a) continue;
            copy_trimmed(a, (size_t)(e - a), buf, cap);
            return 1;
        }
    }
    if (cap) buf[0] = '\0';
    return 0;
}

static int ci_prefix(const char *s, const char *word) {
    for (; *word; s++, word++)
        if (tolower((unsigned char)*s) != *word) return 0;
    return 1;
}

// "the answer is X", "final answer: X": the text after the last such phrase,
// up to the end of its sentence or line.
static int answer_is(const char *text, char *buf, size_t cap) {
    static const char *const phrases[] = {"answer is", "answer:", "answer =", NULL};
    const char *best = NULL;
    for (const char *p = text; *p; p++)
        for (int k = 0; phrases[k]; k++)
            if (ci_prefix(p, phrases[k])) best = p + strlen(phrases[k]);
    if (!best) return 0;
    while (*best == ' ' || *best == ':') best++;
    const char *e = best;
    int depth = 0;
    while (*e && *e != '\n') {
        if (*e == '{' || *e == '(' || *e == '[') depth++;
        if (*e == '}' || *e == ')' || *e == ']') depth--;
        // A sentence ends at ". " or a final "." (not a decimal point).
        if (*e == '.' && depth <= 0 && !isdigit((unsigned char)e[1])) break;
        e++;
    }
    copy_trimmed(best, (size_t)(e - best), buf, cap);
    return buf[0] != '\0';
}

static int gsm8k_hashes(const char *text, char *buf, size_t cap) {
    const char *last = NULL;
    for (const char *p = text; (p = strstr(p, "####")) != NULL; p += 4) last = p;
    if (!last) return 0;
    last += 4;
    while (*last == '#') last++;
    const char *e = strchr(last, '\n');
    size_t n = e ? (size_t)(e - last) : strlen(last);
    copy_trimmed(last, n, buf, cap);
    return buf[0] != '\0';
}

// The last number: digits with optional sign, thousands commas, decimals, or a
// simple fraction a/b.
static int last_number(const char *text, char *buf, size_t cap) {
    const char *best = NULL, *best_end = NULL;
    const char *p = text;
    while (*p) {
        if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
            const char *s = p;
            if (s > text && s[-1] == '-') s--;
            const char *e = p;
            while (isdigit((unsigned char)*e) ||
                   ((*e == ',' || *e == '.') && isdigit((unsigned char)e[1])) ||
                   (*e == '/' && isdigit((unsigned char)e[1]))) {
                e++;
            }
            best = s;
            best_end = e;
            p = e;
        } else {
            p++;
        }
    }
    if (!best) return 0;
    copy_trimmed(best, (size_t)(best_end - best), buf, cap);
    return 1;
}

rlc_math_found rlc_math_extract(const char *text, char *buf, size_t cap) {
    if (cap) buf[0] = '\0';
    if (!text) return RLC_MATH_FOUND_NONE;
    if (rlc_math_last_boxed(text, buf, cap)) return RLC_MATH_FOUND_BOXED;
    if (gsm8k_hashes(text, buf, cap)) return RLC_MATH_FOUND_GSM8K;
    if (answer_is(text, buf, cap)) return RLC_MATH_FOUND_ANSWER_IS;
    if (last_number(text, buf, cap)) return RLC_MATH_FOUND_LAST_NUMBER;
    return RLC_MATH_FOUND_NONE;
}

// ---- normalization ----------------------------------------------------------------------

// Replaces every occurrence of `from` by `to` in s (in place, via tmp).
static void replace_all(char *s, size_t cap, const char *from, const char *to) {
    if (!strstr(s, from)) return;
    char tmp[MATH_MAX_ANSWER + 64];
    mstr out;
    mstr_init(&out, tmp, sizeof tmp);
    size_t lf = strlen(from);
    for (const char *p = s; *p;) {
        if (strncmp(p, from, lf) == 0) {
            mstr_add(&out, to);
            p += lf;
        } else {
            mstr_addc(&out, *p++);
        }
    }
    snprintf(s, cap, "%s", tmp);
}

// Unit words dropped after a number ("18 dollars", "5 cm^2", "3 \text{ hours}").
static const char *const unit_words[] = {
    "dollars", "dollar", "cents", "cent", "units", "unit", "square", "sq", "cubic", "meters",
    "meter", "metres", "cm", "mm", "km", "m", "inches", "inch", "in", "feet", "foot", "ft",
    "yards", "yard", "miles", "mile", "mph", "hours", "hour", "hrs", "hr", "minutes", "minute",
    "mins", "min", "seconds", "second", "sec", "s", "days", "day", "weeks", "week", "months",
    "month", "years", "year", "degrees", "degree", "pounds", "pound", "lbs", "lb", "ounces",
    "ounce", "oz", "kg", "grams", "gram", "g", "liters", "liter", "litres", "ml", "gallons",
    "gallon", "people", "students", "points", "marbles", "apples", "times", "percent", "ways",
    "pages", "books", "eggs", "cookies", "tickets", "boxes", "bags", "cups", "pieces", "hours.",
    NULL,
};

static int is_unit_word(const char *w, size_t n) {
    for (int i = 0; unit_words[i]; i++)
        if (strlen(unit_words[i]) == n && strncmp(unit_words[i], w, n) == 0) return 1;
    return 0;
}

// \text{...}, \textbf{...}, \mbox{...}, \mathrm{...}: keep the content.
static void unwrap_text(char *s, size_t cap) {
    static const char *const cmds[] = {"\\text", "\\textbf", "\\textit", "\\mbox", "\\mathrm",
                                       "\\mathbf", "\\operatorname", NULL};
    char tmp[MATH_MAX_ANSWER + 64];
    for (int changed = 1; changed;) {
        changed = 0;
        size_t len = strlen(s);
        for (int k = 0; cmds[k] && !changed; k++) {
            size_t lk = strlen(cmds[k]);
            for (char *p = s; (p = strstr(p, cmds[k])) != NULL; p++) {
                if (p[lk] != '{') continue;
                long close = math_match_brace(s, len, (size_t)(p + lk - s));
                if (close < 0) break;
                snprintf(tmp, sizeof tmp, "%.*s%.*s%s", (int)(p - s), s,
                         (int)(close - (p + lk - s) - 1), p + lk + 1, s + close + 1);
                snprintf(s, cap, "%s", tmp);
                changed = 1;
                break;
            }
        }
    }
}

// "1,234,567" -> "1234567" when the digits before a comma are 1 to 3 (or a
// previous group) and exactly 3 digits follow.
static void drop_thousands(char *s) {
    char tmp[MATH_MAX_ANSWER + 64];
    size_t w = 0;
    for (const char *r = s; *r && w < sizeof tmp - 1; r++) {
        if (*r == ',' && r > s && isdigit((unsigned char)r[-1]) && isdigit((unsigned char)r[1]) &&
            isdigit((unsigned char)r[2]) && isdigit((unsigned char)r[3]) && !isdigit((unsigned char)r[4])) {
            const char *b = r - 1;
            int n = 0;
            while (b >= s && isdigit((unsigned char)*b)) b--, n++;
            if (n <= 3 && (b < s || *b != '.')) continue;
        }
        tmp[w++] = *r;
    }
    tmp[w] = '\0';
    strcpy(s, tmp);
}

// "18.000" -> "18", "2.50" -> "2.5" for standalone decimals.
static void trim_decimal_zeros(char *s) {
    char tmp[MATH_MAX_ANSWER + 64];
    mstr out;
    mstr_init(&out, tmp, sizeof tmp);
    for (const char *p = s; *p;) {
        if (isdigit((unsigned char)*p) && (p == s || !isalpha((unsigned char)p[-1]))) {
            const char *e = p;
            while (isdigit((unsigned char)*e)) e++;
            if (*e == '.' && isdigit((unsigned char)e[1])) {
                const char *f = e + 1;
                while (isdigit((unsigned char)*f)) f++;
                const char *z = f;
                while (z > e + 1 && z[-1] == '0') z--;
                mstr_addn(&out, p, (size_t)(e - p));
                if (z > e + 1) mstr_addn(&out, e, (size_t)(z - e));
                p = f;
                continue;
            }
            mstr_addn(&out, p, (size_t)(e - p));
            p = e;
            continue;
        }
        mstr_addc(&out, *p++);
    }
    strcpy(s, tmp);
}

// Drops unit words that follow the answer: "18 dollars" -> "18".
static void drop_units(char *s) {
    size_t n = strlen(s);
    for (;;) {
        while (n && s[n - 1] == ' ') n--;
        s[n] = '\0';
        // strip a trailing "^2"/"^3" of a unit
        size_t e = n;
        if (e >= 2 && s[e - 2] == '^' && isdigit((unsigned char)s[e - 1])) e -= 2;
        size_t b = e;
        while (b && isalpha((unsigned char)s[b - 1])) b--;
        if (b == e || b == 0) return;
        if (!(s[b - 1] == ' ' || isdigit((unsigned char)s[b - 1]))) return;
        if (!is_unit_word(s + b, e - b)) return;
        // keep single-letter words glued to a number ("2x" is algebra, "5m" rarely so)
        if (e - b == 1 && s[b - 1] != ' ') return;
        n = b;
        // something must remain before
        size_t k = n;
        while (k && s[k - 1] == ' ') k--;
        if (!k) return;
    }
}

void rlc_math_normalize(const char *answer, char *buf, size_t cap) {
    char s[MATH_MAX_ANSWER + 64];
    copy_trimmed(answer ? answer : "", strnlen(answer ? answer : "", MATH_MAX_ANSWER), s, sizeof s);
    replace_all(s, sizeof s, ",\\! ", ",");  // "1,\! 000": a thousands separator
    replace_all(s, sizeof s, ",\\!", ",");
    static const char *const drop[] = {
        "\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\displaystyle", "^\\circ", "^{\\circ}",
        "{}^\\circ", "\\circ", "°", "\\%", "%", "\\$", "$", "\\(", "\\)", "\\[", "\\]", "\\quad",
        "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\big", "\\Big", "\\mathstrut", NULL,
    };
    for (int i = 0; drop[i]; i++) replace_all(s, sizeof s, drop[i], "");
    replace_all(s, sizeof s, "\\dfrac", "\\frac");
    replace_all(s, sizeof s, "\\tfrac", "\\frac");
    replace_all(s, sizeof s, "\\\\", "\x01");  // keep LaTeX's row break "\\" apart from "\ "
    replace_all(s, sizeof s, "\\ ", " ");
    replace_all(s, sizeof s, "~", " ");
    replace_all(s, sizeof s, "{,}", ",");
    replace_all(s, sizeof s, "\\le ", "\\leq ");
    replace_all(s, sizeof s, "\\ge ", "\\geq ");
    unwrap_text(s, sizeof s);
    // collapse runs of spaces
    char *w = s;
    for (const char *r = s; *r; r++)
        if (!(*r == ' ' && (w == s || w[-1] == ' '))) *w++ = *r;
    *w = '\0';
    drop_units(s);
    drop_thousands(s);
    trim_decimal_zeros(s);
    // trailing sentence punctuation
    size_t n = strlen(s);
    while (n && (s[n - 1] == '.' || s[n - 1] == ' ')) s[--n] = '\0';
    // spaces carry no meaning in math answers, except between two letters
    // ("\pi r" must not become "\pir")
    w = s;
    for (const char *r = s; *r; r++)
        if (*r != ' ' || (w > s && isalpha((unsigned char)w[-1]) && isalpha((unsigned char)r[1])))
            *w++ = *r;
    *w = '\0';
    replace_all(s, sizeof s, "\x01", "\\\\");
    copy_trimmed(s, strlen(s), buf, cap);
}
