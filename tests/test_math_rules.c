// test_math_rules.c: rlc.math rule by rule: extraction (boxed with nested
// braces and \fbox, "####", "the answer is", the last number) and each
// equivalence rule of the issue, with a wrong answer beside each right one.
#include <string.h>  // strcmp

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

static void extract(const char *text, rlc_math_found want_where, const char *want) {
    char buf[256];
    rlc_math_found f = rlc_math_extract(text, buf, sizeof buf);
    CHECK_MSG(f == want_where && strcmp(buf, want) == 0, "extract(%s) = %d '%s', want %d '%s'", text, f, buf,
              want_where, want);
}

static void eq(const char *given, const char *ref, int want) {
    int got = rlc_math_equal(given, ref);
    CHECK_MSG(got == want, "equal(%s, %s) = %d, want %d", given, ref, got, want);
}

int main(void) {
    // extraction
    extract("so \\boxed{\\frac{1}{2}} and then \\boxed{\\frac{\\sqrt{3}}{2}}.", RLC_MATH_FOUND_BOXED,
            "\\frac{\\sqrt{3}}{2}");
    extract("answer: \\fbox{42}", RLC_MATH_FOUND_BOXED, "42");
    extract("\\boxed 7 is it", RLC_MATH_FOUND_BOXED, "7");
    extract("unclosed \\boxed{3 but \\boxed{4}", RLC_MATH_FOUND_BOXED, "4");
    extract("She sells 9 eggs.\n#### 1,234\n", RLC_MATH_FOUND_GSM8K, "1,234");
    extract("Adding up, the answer is $\\frac{3}{4}$. Done", RLC_MATH_FOUND_ANSWER_IS, "$\\frac{3}{4}$");
    extract("The final answer is 3.5.", RLC_MATH_FOUND_ANSWER_IS, "3.5");
    extract("we get 3 apples, then 12.5 pears", RLC_MATH_FOUND_LAST_NUMBER, "12.5");
    extract("a loss of -7 dollars", RLC_MATH_FOUND_LAST_NUMBER, "-7");
    extract("no digits at all", RLC_MATH_FOUND_NONE, "");
    char buf[64];
    CHECK(rlc_math_last_boxed("\\boxed{a{b{c}}d}", buf, sizeof buf) && strcmp(buf, "a{b{c}}d") == 0);

    // numbers: separators, $, %, units, trailing zeros, degrees
    eq("1,234", "1234", 1);
    eq("1{,}234", "1234", 1);
    eq("12,345,678", "12345678", 1);
    eq("\\$18", "18", 1);
    eq("18 dollars", "18", 1);
    eq("5 \\text{ cm}^2", "5", 1);
    eq("18.00", "18", 1);
    eq("18.0", "18", 1);
    eq("2.50", "2.5", 1);
    eq("30^\\circ", "30", 1);
    eq("30^{\\circ}", "30", 1);
    eq("25\\%", "25", 1);
    eq("19", "18", 0);
    eq("18.5", "18", 0);
    // fractions and decimals
    eq("\\frac{1}{2}", "0.5", 1);
    eq("\\dfrac{3}{4}", "\\frac34", 1);
    eq("\\tfrac{3}{4}", "3/4", 1);
    eq("\\frac{2}{6}", "\\frac{1}{3}", 1);
    eq("0.333333", "\\frac{1}{3}", 1);
    eq("0.33", "\\frac{1}{3}", 0);
    eq("\\frac{2}{3}", "\\frac{3}{2}", 0);
    // roots, pi, LaTeX noise
    eq("\\sqrt2", "\\sqrt{2}", 1);
    eq("2\\sqrt{3}", "\\sqrt{12}", 1);
    eq("\\sqrt[3]{8}", "2", 1);
    eq("\\frac{\\pi}{2}", "\\dfrac{\\pi}{2}", 1);
    eq("2\\pi", "\\pi \\cdot 2", 1);
    eq("\\pi", "3.14", 0);
    eq("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", 1);
    eq("\\!\\displaystyle 5", "5", 1);
    eq("\\text{Evelyn}", "Evelyn", 1);
    eq("\\text{(C)}", "C", 1);
    eq("\\text{(C)}", "D", 0);
    // scientific notation
    eq("1.5 \\times 10^3", "1500", 1);
    eq("1.5e3", "1500", 1);
    eq("2 \\times 10^{-2}", "0.02", 1);
    eq("1.5 \\times 10^4", "1500", 0);
    // tuples and intervals
    eq("(1, 2)", "(1,2)", 1);
    eq("(2, 1)", "(1,2)", 0);
    eq("[0, \\infty)", "[0,\\infty)", 1);
    eq("(0, \\infty)", "[0,\\infty)", 0);
    eq("x \\in [2, 5)", "[2,5)", 1);
    eq("(-\\infty, 1) \\cup (2, \\infty)", "(2,\\infty)\\cup(-\\infty,1)", 1);
    eq("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", 1);
    eq("\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", 0);
    // sets in any order
    eq("3, -2", "-2, 3", 1);
    eq("\\{1, 2, 3\\}", "\\{3, 1, 2\\}", 1);
    eq("1, 2", "1, 2, 3", 0);
    // algebra at random points
    eq("x^2 + 7x + 10", "(x+2)(x+5)", 1);
    eq("\\frac{x+1}{2}", "\\frac{1}{2}x + \\frac12", 1);
    eq("2a+b", "b+2a", 1);
    eq("x^2 + 7x + 11", "(x+2)(x+5)", 0);
    eq("y = 2x + 3", "2x+3", 1);
    eq("\\sin^2 x + \\cos^2 x", "1", 1);
    // garbage never matches
    eq("", "5", 0);
    eq("\\frac{", "5", 0);
    CHECK(rlc_math_grade("so we get \\boxed{\\dfrac{1}{2}}", "0.5") == 1);
    CHECK(rlc_math_grade("I give up", "0.5") == 0);
    return test_finish("test_math_rules");
}
