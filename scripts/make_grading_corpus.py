#!/usr/bin/env python3
"""make_grading_corpus.py: the grading corpus of tests/test_math_grading.c.

Pairs (reference answer, candidate answer text) from MATH-500 and the GSM8K
test set, with candidates written to exercise every rule of rlc.math (correct
answers rewritten in equivalent forms, and wrong ones), each labelled with the
verdict of the math-verify library (Hugging Face), the reference grader.

    python3 -m venv /tmp/mv && /tmp/mv/bin/pip install math-verify==0.9.0
    /tmp/mv/bin/python scripts/make_grading_corpus.py \\
        --math ../shared/data/math/math500_test.jsonl \\
        --gsm8k ../shared/data/gsm8k/test.jsonl --out tests/data/grading/corpus.jsonl

The first line of the output is a header {"magic": "rlc-grading-corpus",
"version": 1, "generator": {...versions...}}; every other line is
{"source", "id", "rule", "ref", "text", "verdict"}. The candidates depend
only on the data (no randomness), so the file is reproducible.
"""
import argparse
import json
import multiprocessing
import re
import sys
from importlib.metadata import version

GSM8K_LIMIT = 500  # the first N GSM8K test records (the rules repeat after that)


def gsm8k_gold(answer):
    return answer.split("####")[-1].strip().replace(",", "")


# ---- candidate writers ------------------------------------------------------


def boxed(x):
    return f"We work it out step by step. So the final answer is $\\boxed{{{x}}}$."


def is_int(s):
    return re.fullmatch(r"-?\d+", s) is not None


def with_commas(s):
    neg = s.startswith("-")
    d = s[1:] if neg else s
    out = f"{int(d):,}"
    return ("-" if neg else "") + out


def number_rules(g, rules):
    """Rewrites of a plain integer answer."""
    n = int(g)
    rules.append(("int_trailing_zero", boxed(f"{g}.0"), True))
    rules.append(("int_trailing_zeros", boxed(f"{g}.00"), True))
    if abs(n) >= 1000:
        rules.append(("thousands_sep", boxed(with_commas(g)), True))
        rules.append(("thousands_latex", boxed(with_commas(g).replace(",", "{,}")), True))
    rules.append(("dollar_sign", boxed(f"\\${g}"), True))
    rules.append(("unit_text", boxed(f"{g} \\text{{ dollars}}"), True))
    rules.append(("percent", boxed(f"{g}\\%"), True))
    rules.append(("degrees", boxed(f"{g}^\\circ"), True))
    rules.append(("answer_is", f"Adding these up, the answer is {g}.", True))
    rules.append(("last_number", f"First 3 + 4 = 7, and then the total is {g}", True))
    rules.append(("text_wrapped", boxed(f"\\text{{{g}}}"), True))
    if n != 0 and abs(n) < 10**6 and n % 1000 == 0:
        rules.append(("scientific", boxed(f"{n / 1000:g} \\times 10^3"), True))
    rules.append(("wrong_plus_one", boxed(str(n + 1)), False))
    rules.append(("wrong_times_ten", boxed(str(n * 10)), False))
    rules.append(("wrong_half", boxed(f"{n}.5"), False))
    rules.append(("wrong_sign", boxed(str(-n)) if n != 0 else boxed("1"), False))


FRAC = re.compile(r"^(-?)\\[dt]?frac\{(-?\d+)\}\{(\d+)\}$")


def fraction_rules(g, rules):
    m = FRAC.match(g)
    if not m:
        return
    sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
    if sign:
        a = -a
    rules.append(("frac_slash", boxed(f"{a}/{b}"), True))
    rules.append(("dfrac", boxed(g.replace("\\frac", "\\dfrac")), True))
    rules.append(("tfrac", boxed(g.replace("\\frac", "\\tfrac")), True))
    rules.append(("frac_unreduced", boxed(f"\\frac{{{2 * a}}}{{{2 * b}}}"), True))
    q = b
    for p in (2, 5):
        while q % p == 0:
            q //= p
    if q == 1:
        rules.append(("frac_decimal", boxed(repr(a / b)), True))
    rules.append(("frac_wrong", boxed(f"\\frac{{{a + 1}}}{{{b}}}"), False))
    rules.append(("frac_inverted", boxed(f"\\frac{{{b}}}{{{a}}}") if a not in (0, b, -b) else boxed("2"), False))


def latex_rules(g, rules):
    """Rewrites that touch LaTeX noise, roots, pi, brackets and structure."""
    if "\\sqrt{" in g:
        g2 = re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", g)
        if g2 != g:
            rules.append(("sqrt_short", boxed(g2), True))
    if "\\pi" in g:
        rules.append(("pi_dfrac", boxed(g.replace("\\frac", "\\dfrac")), True))
    if g.startswith("(") or g.startswith("\\left("):
        core = g.replace("\\left", "").replace("\\right", "")
        rules.append(("left_right_removed", boxed(core), True))
        inner = core[1:-1]
        parts = split_top(inner)
        if len(parts) >= 2 and parts[0].strip() != parts[1].strip():
            sw = [parts[1], parts[0]] + parts[2:]
            rules.append(("tuple_swapped", boxed("(" + ",".join(sw) + ")"), False))
        if len(parts) == 2 and core.endswith(")"):
            rules.append(("interval_bracket_changed", boxed("[" + inner + ")"), False))
    elif g.startswith("[") and (g.endswith(")") or g.endswith("]")):
        rules.append(("interval_spaced", boxed(g.replace(",", ", ")), True))
        rules.append(("interval_open_changed", boxed("(" + g[1:]), False))
    else:
        parts = split_top(g)
        if len(parts) >= 2 and "=" not in g:
            rules.append(("set_reordered", boxed(", ".join(reversed([p.strip() for p in parts]))), True))
            rules.append(("set_missing_one", boxed(", ".join(p.strip() for p in parts[1:])), False))
    if g.startswith("\\text{") and g.endswith("}"):
        rules.append(("text_unwrapped", boxed(g[6:-1]), True))
    if not g.startswith("\\left") and not is_int(g):
        rules.append(("displaystyle", boxed("\\displaystyle " + g), True))
        rules.append(("thin_spaces", boxed(g.replace("+", "\\,+\\,")), True))


def split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def sympy_rules(g, rules):
    """Equivalent algebraic forms (expanded, factored) written by sympy."""
    from math_verify import parse
    import sympy

    try:
        parsed = parse(f"${g}$")
    except Exception:
        return
    if not parsed:
        return
    e = parsed[0]
    if not isinstance(e, sympy.Expr) or not e.free_symbols or len(str(e)) > 80:
        return
    try:
        ex = sympy.latex(sympy.expand(e))
        fa = sympy.latex(sympy.factor(e))
        wrong = sympy.latex(sympy.expand(e) + 1)
    except Exception:
        return
    if ex != g:
        rules.append(("algebra_expanded", boxed(ex), True))
    if fa != g and fa != ex:
        rules.append(("algebra_factored", boxed(fa), True))
    rules.append(("algebra_wrong", boxed(wrong), False))


def candidates(gold, source):
    rules = [("boxed_exact", boxed(gold), True),
             ("answer_is_latex", f"Therefore, the final answer is ${gold}$.", True)]
    if source == "gsm8k":
        rules.append(("gsm8k_hashes", f"She makes 9 * 2 = 18 in total.\n#### {gold}", True))
    if is_int(gold):
        number_rules(gold, rules)
    else:
        fraction_rules(gold, rules)
        latex_rules(gold, rules)
        if source == "math":
            sympy_rules(gold, rules)
    rules.append(("no_answer", "I could not solve this problem.", False))
    return rules


# ---- verdicts --------------------------------------------------------------------


def judge(item):
    from math_verify import parse, verify

    ref, text = item["ref"], item["text"]
    try:
        gold = parse(f"\\boxed{{{ref}}}")
        pred = parse(text)
        item["verdict"] = bool(verify(gold, pred))
    except Exception as e:  # math-verify failing counts as "not equal"
        print(f"math-verify error on {ref!r} / {text!r}: {e}", file=sys.stderr)
        item["verdict"] = False
    return item


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--math", required=True)
    ap.add_argument("--gsm8k", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    items = []
    with open(args.math) as f:
        for line in f:
            r = json.loads(line)
            for rule, text, expect in candidates(r["answer"], "math"):
                items.append({"source": "math500", "id": r["unique_id"], "rule": rule,
                              "ref": r["answer"], "text": text, "intended": expect})
    with open(args.gsm8k) as f:
        for i, line in enumerate(f):
            if i >= GSM8K_LIMIT:
                break
            r = json.loads(line)
            g = gsm8k_gold(r["answer"])
            for rule, text, expect in candidates(g, "gsm8k"):
                items.append({"source": "gsm8k", "id": f"test/{i}", "rule": rule, "ref": g,
                              "text": text, "intended": expect})

    with multiprocessing.Pool(args.jobs) as pool:
        judged = pool.map(judge, items, chunksize=64)

    header = {"magic": "rlc-grading-corpus", "version": 1, "count": len(judged),
              "generator": {"script": "scripts/make_grading_corpus.py",
                            "python": sys.version.split()[0],
                            "math-verify": version("math-verify"),
                            "latex2sympy2_extended": version("latex2sympy2_extended"),
                            "sympy": version("sympy"),
                            "antlr4-python3-runtime": version("antlr4-python3-runtime"),
                            "gold": "parse('\\\\boxed{' + ref + '}')", "candidate": "parse(text)",
                            "verify": "verify(gold, candidate) with its defaults"}}
    with open(args.out, "w") as f:
        f.write(json.dumps(header) + "\n")
        for it in judged:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    agree = sum(it["verdict"] == it["intended"] for it in judged)
    print(f"{len(judged)} pairs; math-verify agrees with the intended verdict on {agree}")


if __name__ == "__main__":
    main()
