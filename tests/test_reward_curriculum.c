// test_reward_curriculum.c: the shipped curricula in the real sandbox.
// reverse.lua (R^3): curriculum(state) moves the stage on only after
// MIN_SAMPLES samples at the stage with accuracy >= THRESHOLD, never past the
// last stage, and reports it as its second result; prompt(example), sharing
// the stage through `store`, gives the question plus exactly the first k
// steps of the GSM8K / MATH-500 reference at each stage. uniform.lua gives
// equal weights; dump_ucb.lua gives softmax(UCB / T), checked against numbers
// worked out by hand.
#include <math.h>    // fabs, floor, exp, log, sqrt
#include <stdint.h>  // uint64_t
#include <stdlib.h>  // malloc
#include <string.h>  // strlen, strncmp, strstr

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

// reverse.lua's settings, repeated here.
#define N_STAGES 5  // FRACTIONS = {1, 0.75, 0.5, 0.25, 0}
#define MIN_SAMPLES 1024
static const double fractions[N_STAGES] = {1.0, 0.75, 0.5, 0.25, 0.0};

static rlc_script *load_script(const char *rel, int *id) {
    char path[1024];
    rlc_script *s = NULL;
    CHECK_OK(rlc_script_create(NULL, &s));
    if (!s) return NULL;
    CHECK_OK(rlc_script_load_file(s, test_source(path, sizeof path, rel), id));
    return s;
}

// Reads all records of a JSONL file into a new array (*n of them).
static json_t **read_jsonl(const char *path, int *n) {
    char *buf;
    size_t len;
    *n = 0;
    if (rlc_read_file(path, &buf, &len) != RLC_OK) return NULL;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    json_t **recs = malloc(lines * sizeof *recs);
    for (char *p = buf; recs && *p;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l && rlc_json_load_buffer(p, l, path, &recs[*n]) == RLC_OK) (*n)++;
        p += l + (e != NULL);
    }
    rlc_free(buf);
    return recs;
}

static void free_records(json_t **recs, int n) {
    for (int i = 0; i < n; i++) json_decref(recs[i]);
    free(recs);
}

static const char *field(const json_t *rec, const char *key) {
    return json_string_value(json_object_get(rec, key));
}

static double info_value(const rlc_curriculum_result *r, const char *name) {
    for (int i = 0; i < r->n_info; i++)
        if (strcmp(r->info[i].name, name) == 0) return r->info[i].value;
    return NAN;
}

// ---- reverse.lua: the stage ---------------------------------------------------

// Two sources with run totals; each feed() adds samples at an accuracy,
// split evenly, then calls curriculum(state) and returns the stage.
typedef struct feeder {
    rlc_script *s;
    int id;
    rlc_curriculum_source src[2];
    long step;
    rlc_curriculum_result last;
} feeder;

static int feed(feeder *f, long samples, long correct) {
    f->src[0].seen += samples / 2;
    f->src[1].seen += samples - samples / 2;
    f->src[0].correct += (double)(correct / 2);
    f->src[1].correct += (double)(correct - correct / 2);
    for (int i = 0; i < 2; i++) {  // the window: full and easy, whatever the stage
        f->src[i].count = f->src[i].seen < 256 ? f->src[i].seen : 256;
        f->src[i].accuracy = 0.95;
    }
    rlc_curriculum_state st = {++f->step, f->src, 2, NULL};
    rlc_script_error err;
    rlc_curriculum_result_clear(&f->last);
    rlc_script_fail k = rlc_script_curriculum(f->s, f->id, &st, &f->last, &err);
    CHECK_MSG(k == RLC_SCRIPT_OK, "%s", err.msg);
    if (k != RLC_SCRIPT_OK) return -1;
    CHECK(f->last.weights && f->last.weights[0] == 1.0 && f->last.weights[1] == 1.0);
    CHECK_MSG(f->last.n_info == 4, "%d info values", f->last.n_info);
    if (f->last.n_info == 4)  // sorted by name
        CHECK(strcmp(f->last.info[0].name, "keep") == 0 && strcmp(f->last.info[1].name, "stage") == 0 &&
              strcmp(f->last.info[2].name, "stage_accuracy") == 0 &&
              strcmp(f->last.info[3].name, "stage_samples") == 0);
    int stage = (int)info_value(&f->last, "stage");
    if (stage >= 0 && stage < N_STAGES) CHECK(info_value(&f->last, "keep") == fractions[stage]);
    return stage;
}

static void test_reverse_stages(void) {
    feeder f = {.src = {{.name = "gsm8k"}, {.name = "math"}}};
    f.s = load_script("scripts/curricula/reverse.lua", &f.id);
    if (!f.s) return;
    CHECK(rlc_script_defines(f.s, f.id, "curriculum") && rlc_script_defines(f.s, f.id, "prompt"));

    CHECK(feed(&f, 0, 0) == 0);        // nothing seen yet
    CHECK(feed(&f, 800, 800) == 0);    // perfect, but 800 < MIN_SAMPLES
    CHECK(feed(&f, 223, 223) == 0);    // 1023 samples
    CHECK(info_value(&f.last, "stage_samples") == 1023 && info_value(&f.last, "stage_accuracy") == 1.0);
    CHECK(feed(&f, 1, 0) == 1);        // 1024 samples at 1023/1024 >= 0.6: next stage
    CHECK(info_value(&f.last, "stage_samples") == 0);
    // The window still says 0.95, but no sample of the new stage came in yet.
    CHECK(feed(&f, 0, 0) == 1);
    CHECK(feed(&f, 1280, 764) == 1);   // 764/1280 = 0.597 < 0.6
    CHECK(info_value(&f.last, "stage_samples") == 1280);
    CHECK(feed(&f, 0, 0) == 1);
    CHECK(feed(&f, 1280, 772) == 2);   // 1536/2560 = 0.6 exactly: passes
    CHECK(feed(&f, 4000, 400) == 2);   // 0.1: stays
    CHECK(feed(&f, 16000, 12000) == 3); // (400 + 12000) / 20000 = 0.62
    CHECK(feed(&f, 1024, 1024) == 4);  // the bare question
    CHECK(info_value(&f.last, "keep") == 0.0);
    for (int i = 0; i < 5; i++) CHECK(feed(&f, 5000, 5000) == 4);  // never past it

    // counters that restart (a new run in the same state) rebase, keep the stage
    f.src[0].seen = f.src[1].seen = 0;
    f.src[0].correct = f.src[1].correct = 0;
    CHECK(feed(&f, 10, 10) == 4);
    rlc_curriculum_result_clear(&f.last);

    // a learner that gives no run totals is told so
    rlc_curriculum_source bare[1] = {{.name = "gsm8k", .count = 100, .accuracy = 0.9}};
    rlc_curriculum_state st = {1, bare, 1, NULL};
    rlc_script_error err;
    CHECK(rlc_script_curriculum(f.s, f.id, &st, &f.last, &err) == RLC_SCRIPT_ERR_SCRIPT);
    CHECK_MSG(strstr(err.msg, "needs the run totals"), "%s", err.msg);
    rlc_script_free(f.s);
}

// ---- reverse.lua: the prompt at each stage ----------------------------------------

// Moves a fresh reverse.lua state to `stage` through curriculum(state).
static void go_to_stage(rlc_script *s, int id, int stage, long *seen) {
    rlc_curriculum_source src = {.name = "data"};
    rlc_curriculum_state st = {0, &src, 1, NULL};
    rlc_curriculum_result r = {0};
    rlc_script_error err;
    for (int i = 0; i <= stage; i++) {  // the first call sets the baseline
        if (i > 0) *seen += MIN_SAMPLES;
        src.seen = *seen;
        src.correct = (double)*seen;
        src.count = *seen < 256 ? *seen : 256;
        CHECK_MSG(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK, "%s", err.msg);
        rlc_curriculum_result_clear(&r);
    }
}

static char *prompt_text(rlc_script *s, int id, const json_t *ex) {
    rlc_prompt_result p;
    rlc_script_error err;
    rlc_script_fail k = rlc_script_prompt(s, id, ex, &p, &err);
    CHECK_MSG(k == RLC_SCRIPT_OK && p.text, "%s", k == RLC_SCRIPT_OK ? "not a string" : err.msg);
    char *t = p.text ? rlc_strndup(p.text, strlen(p.text)) : NULL;
    rlc_prompt_result_clear(&p);
    return t;
}

// prompt == question + "\n\n" + expect (or the bare question when expect is "").
static void check_prompt(rlc_script *s, int id, const json_t *ex, const char *qkey, const char *expect,
                         const char *what) {
    char *got = prompt_text(s, id, ex);
    const char *q = field(ex, qkey);
    if (!got || !q) return;
    size_t lq = strlen(q);
    int ok = strncmp(got, q, lq) == 0 &&
             (expect[0] ? strncmp(got + lq, "\n\n", 2) == 0 && strcmp(got + lq + 2, expect) == 0
                        : got[lq] == 0);
    CHECK_MSG(ok, "%s: got after the question:\n[%s]\nexpected:\n[%s]", what,
              got + (strlen(got) >= lq ? lq : 0), expect);
    rlc_free(got);
}

// Hand-checked references: GSM8K train records 1, 31 and 38, MATH-500 records 1
// and 3 (1-based lines), with the expected prefix at stages 0..4.
typedef struct hand_case {
    const char *file;
    int line;
    const char *expect[N_STAGES];
} hand_case;

static const hand_case hand_cases[] = {
    // 2 steps: 1 may be given; round(0.75) = round(0.5) = 1, round(0.25) = 0
    {"gsm8k/train.jsonl", 1,
     {"Natalia sold 48/2 = 24 clips in May.", "Natalia sold 48/2 = 24 clips in May.",
      "Natalia sold 48/2 = 24 clips in May.", "", ""}},
    // 5 steps: 4, 3, 2, 1, 0 given
    {"gsm8k/train.jsonl", 31,
     {"In total, there are 4 x 4 = 16 pizza pieces.\nBill and Dale eat 2 x 4 x 50% = 4 pieces.\n"
      "Ann and Cate eat 2 x 4 x 75% = 6 pieces.\nThe four of them eat 4 + 6 = 10 pieces.",
      "In total, there are 4 x 4 = 16 pizza pieces.\nBill and Dale eat 2 x 4 x 50% = 4 pieces.\n"
      "Ann and Cate eat 2 x 4 x 75% = 6 pieces.",
      "In total, there are 4 x 4 = 16 pizza pieces.\nBill and Dale eat 2 x 4 x 50% = 4 pieces.",
      "In total, there are 4 x 4 = 16 pizza pieces.", ""}},
    // annotations after a dollar sign: "$<<3*5=15>>15" is "$15"
    {"gsm8k/train.jsonl", 38,
     {"The cost of 5 pieces of hamburger is $3 x 5 = $15.\nThe cost of 4 sets of French fries is "
      "$1.20 x 4 = $4.80.\nThe cost of 5 cups of soda is $0.5 x 5 = $2.50.\nSo their total bill is "
      "$15 + $4.80 + $2.50 +$2.7 = $25.",
      "The cost of 5 pieces of hamburger is $3 x 5 = $15.\nThe cost of 4 sets of French fries is "
      "$1.20 x 4 = $4.80.\nThe cost of 5 cups of soda is $0.5 x 5 = $2.50.",
      "The cost of 5 pieces of hamburger is $3 x 5 = $15.\nThe cost of 4 sets of French fries is "
      "$1.20 x 4 = $4.80.",
      "The cost of 5 pieces of hamburger is $3 x 5 = $15.", ""}},
    // 4 steps: a sentence ending inside math ("= 3.$  Also"), one with "$x$-axis.",
    // the [asy] picture, then the boxed answer; 3, 2, 2, 1, 0 given
    {"math/math500_test.jsonl", 1,
     {"We have that $r = \\sqrt{0^2 + 3^2} = 3.$  Also, if we draw the line connecting the origin "
      "and $(0,3),$ this line makes an angle of $\\frac{\\pi}{2}$ with the positive $x$-axis.\n\n"
      "[asy]\nunitsize(0.8 cm);\n\ndraw((-0.5,0)--(3.5,0));\ndraw((0,-0.5)--(0,3.5));\n"
      "draw(arc((0,0),3,0,90),red,Arrow(6));\n\ndot((0,3), red);\nlabel(\"$(0,3)$\", (0,3), W);\n"
      "dot((3,0), red);\n[/asy]",
      "We have that $r = \\sqrt{0^2 + 3^2} = 3.$  Also, if we draw the line connecting the origin "
      "and $(0,3),$ this line makes an angle of $\\frac{\\pi}{2}$ with the positive $x$-axis.",
      "We have that $r = \\sqrt{0^2 + 3^2} = 3.$  Also, if we draw the line connecting the origin "
      "and $(0,3),$ this line makes an angle of $\\frac{\\pi}{2}$ with the positive $x$-axis.",
      "We have that $r = \\sqrt{0^2 + 3^2} = 3.$", ""}},
    // one step (a single math span): always the bare question
    {"math/math500_test.jsonl", 3, {"", "", "", "", ""}},
};

static void test_reverse_prompts_by_hand(void) {
    char path[1024];
    for (size_t c = 0; c < sizeof hand_cases / sizeof hand_cases[0]; c++) {
        const hand_case *hc = &hand_cases[c];
        int n = 0;
        json_t **recs = read_jsonl(test_data(path, sizeof path, hc->file), &n);
        CHECK_MSG(n >= hc->line, "%s: %d records", path, n);
        if (n < hc->line) {
            free_records(recs, n);
            continue;
        }
        const json_t *ex = recs[hc->line - 1];
        const char *qkey = json_object_get(ex, "problem") ? "problem" : "question";
        for (int stage = 0; stage < N_STAGES; stage++) {
            int id;
            long seen = 0;
            rlc_script *s = load_script("scripts/curricula/reverse.lua", &id);
            if (!s) break;
            go_to_stage(s, id, stage, &seen);
            char what[128];
            snprintf(what, sizeof what, "%s line %d stage %d", hc->file, hc->line, stage);
            check_prompt(s, id, ex, qkey, hc->expect[stage], what);
            rlc_script_free(s);
        }
        free_records(recs, n);
    }
}

// GSM8K's cleaned reasoning (before "####", without <<...>>) and its
// non-empty lines, computed here independently of the script.
static int gsm8k_reference(const char *answer, char *out, size_t cap, size_t *line_end, int max_lines) {
    const char *cut = strstr(answer, "####");
    size_t len = cut ? (size_t)(cut - answer) : strlen(answer), o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (answer[i] == '<' && answer[i + 1] == '<') {
            const char *e = strstr(answer + i, ">>");
            if (e && (size_t)(e - answer) < len) {
                i = (size_t)(e - answer) + 1;
                continue;
            }
        }
        out[o++] = answer[i];
    }
    out[o] = 0;
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= o; i++) {
        if (i < o && out[i] != '\n') continue;
        size_t e = i;
        while (e > start && (out[e - 1] == ' ' || out[e - 1] == '\t' || out[e - 1] == '\r')) e--;
        if (e > start && n < max_lines) line_end[n++] = e;
        start = i + 1;
    }
    return n;
}

// All GSM8K train records at every stage: exactly round((n - 1) * f) of the n
// reasoning lines, never "####", never all of them; the last stage is the bare
// question.
static void test_reverse_gsm8k_all(void) {
    char path[1024];
    int n = 0;
    json_t **recs = read_jsonl(test_data(path, sizeof path, "gsm8k/train.jsonl"), &n);
    CHECK_MSG(n == 7473, "%s: %d records", path, n);
    rlc_script *st[N_STAGES];
    int id[N_STAGES];
    for (int stage = 0; stage < N_STAGES; stage++) {
        long seen = 0;
        st[stage] = load_script("scripts/curricula/reverse.lua", &id[stage]);
        if (!st[stage]) return;
        go_to_stage(st[stage], id[stage], stage, &seen);
    }
    static char ref[16384], expect[16384];
    size_t ends[256];
    int bad = 0, kept_total[N_STAGES] = {0};
    for (int i = 0; i < n; i++) {
        const char *answer = field(recs[i], "answer");
        if (!answer) continue;
        int lines = gsm8k_reference(answer, ref, sizeof ref, ends, 256);
        for (int stage = 0; stage < N_STAGES; stage++) {
            int k = lines > 1 ? (int)floor((lines - 1) * fractions[stage] + 0.5) : 0;
            kept_total[stage] += k;
            snprintf(expect, sizeof expect, "%.*s", k ? (int)ends[k - 1] : 0, ref);
            int before = test_failures;
            char what[96];
            snprintf(what, sizeof what, "gsm8k train line %d stage %d", i + 1, stage);
            check_prompt(st[stage], id[stage], recs[i], "question", expect, what);
            if (test_failures > before && ++bad > 5) break;
        }
        if (bad > 5) break;
    }
    printf("gsm8k train: %d records; mean steps given at stages 0..4:", n);
    for (int stage = 0; stage < N_STAGES; stage++) printf(" %.2f", n ? (double)kept_total[stage] / n : 0);
    printf("\n");
    for (int stage = 0; stage < N_STAGES; stage++) rlc_script_free(st[stage]);
    free_records(recs, n);
}

// All MATH-500 records: each stage gives a prefix of the solution that ends
// before whitespace (or a capital glued to a closing "\]"), no longer than
// the stage before; stage 0 never gives the whole solution, and rarely the
// boxed answer (only where an earlier step boxes one too); the last stage is
// the bare question.
static void test_reverse_math_all(void) {
    char path[1024];
    int n = 0;
    json_t **recs = read_jsonl(test_data(path, sizeof path, "math/math500_test.jsonl"), &n);
    CHECK_MSG(n == 500, "%s: %d records", path, n);
    rlc_script *st[N_STAGES];
    int id[N_STAGES];
    for (int stage = 0; stage < N_STAGES; stage++) {
        long seen = 0;
        st[stage] = load_script("scripts/curricula/reverse.lua", &id[stage]);
        if (!st[stage]) return;
        go_to_stage(st[stage], id[stage], stage, &seen);
    }
    int given[N_STAGES] = {0}, boxed0 = 0;
    double frac0 = 0;
    for (int i = 0; i < n; i++) {
        const char *q = field(recs[i], "problem"), *sol = field(recs[i], "solution");
        if (!q || !sol) continue;
        size_t lq = strlen(q), lsol = strlen(sol);
        while (lsol && strchr(" \t\r\n", sol[lsol - 1])) lsol--;
        size_t prev = (size_t)-1;
        for (int stage = 0; stage < N_STAGES; stage++) {
            char *got = prompt_text(st[stage], id[stage], recs[i]);
            if (!got) continue;
            size_t lg = strlen(got), lp = lg > lq + 2 ? lg - lq - 2 : 0;
            int ok = strncmp(got, q, lq) == 0;
            if (lg > lq) {
                ok = ok && strncmp(got + lq, "\n\n", 2) == 0 && lp > 0 &&
                     strncmp(got + lq + 2, sol, lp) == 0 &&
                     (sol[lp] == 0 || strchr(" \t\r\n", sol[lp]) || (sol[lp] >= 'A' && sol[lp] <= 'Z')) &&
                     lp < lsol && lp <= prev;
                given[stage]++;
                if (stage == 0) {
                    boxed0 += strstr(got + lq, "\\boxed") != NULL;
                    frac0 += (double)lp / (double)lsol;
                }
            }
            if (stage == N_STAGES - 1) ok = ok && lg == lq;
            CHECK_MSG(ok, "math500 line %d stage %d: [%s]", i + 1, stage, got + (lg >= lq ? lq : 0));
            prev = lg > lq ? lp : 0;
            rlc_free(got);
        }
    }
    printf("math500: %d records; with steps given at stages 0..4:", n);
    for (int stage = 0; stage < N_STAGES; stage++) printf(" %d", given[stage]);
    printf("; stage 0 gives %.0f%% of the solution on average, \\boxed in %d\n",
           given[0] ? 100 * frac0 / given[0] : 0.0, boxed0);
    CHECK(given[0] > 400);      // most solutions have more than one step
    CHECK(boxed0 <= n / 50);    // the boxed answer stays out but for rare solutions
    for (int stage = 0; stage < N_STAGES; stage++) rlc_script_free(st[stage]);
    free_records(recs, n);
}

// ---- reverse.lua on arith records, and the mixed schedule ---------------------------

// Calls curriculum(state) once with `params` (stage 0 at the first call).
static void curriculum_call(rlc_script *s, int id, json_t *params, long seen, double correct) {
    rlc_curriculum_source src = {.name = "arith", .seen = seen, .correct = correct, .count = seen < 256 ? seen : 256};
    rlc_curriculum_state st = {1, &src, 1, params};
    rlc_curriculum_result r = {0};
    rlc_script_error err;
    CHECK_MSG(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK, "%s", err.msg);
    rlc_curriculum_result_clear(&r);
}

// The sentences given after "assistant: " in an arith prompt (-1: not the arith format).
static int given_steps(const char *prompt, const char *question) {
    char head[512];
    snprintf(head, sizeof head, "user: %s\nassistant: ", question);
    if (strncmp(prompt, head, strlen(head)) != 0) return -1;
    int k = 0;
    for (const char *p = prompt + strlen(head); *p; p++) k += *p == '.';
    return k;
}

// reverse.lua's generator, repeated: a 64-bit LCG, 53 bits per draw.
static double lcg_uniform(uint64_t *x) {
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*x >> 11) / 9007199254740992.0;
}

static void test_reverse_arith(void) {
    json_t *ex = json_pack("{s:s, s:s, s:s}", "question", "Tom has 8 apples. He buys 7 more. How many?",
                           "solution", "8 + 7 = 15. 15 - 5 = 10. 10 * 2 = 20.\n#### 20", "answer", "20");
    const char *q = field(ex, "question");
    // 3 steps, 2 givable: stages 0..4 keep round(2 * F) = 2, 2, 1, 1, 0
    static const char *expect[N_STAGES] = {"8 + 7 = 15. 15 - 5 = 10. ", "8 + 7 = 15. 15 - 5 = 10. ", "8 + 7 = 15. ",
                                           "8 + 7 = 15. ", ""};
    for (int stage = 0; stage < N_STAGES; stage++) {
        int id;
        long seen = 0;
        rlc_script *s = load_script("scripts/curricula/reverse.lua", &id);
        if (!s) break;
        if (stage == 0) {  // before any curriculum call: the bare question in the arith format
            char *t = prompt_text(s, id, ex);
            CHECK_MSG(t && given_steps(t, q) == 0 && strstr(t, "assistant: ") && t[strlen(t) - 2] == ':', "[%s]", t);
            rlc_free(t);
        }
        go_to_stage(s, id, stage, &seen);
        char *t = prompt_text(s, id, ex), want[512];
        snprintf(want, sizeof want, "user: %s\nassistant: %s", q, expect[stage]);
        CHECK_MSG(t && strcmp(t, want) == 0, "arith stage %d: [%s], expected [%s]", stage, t, want);
        rlc_free(t);
        rlc_script_free(s);
    }
    json_decref(ex);

    // The mixed schedule: 5 steps, 4 givable, so stage s gives 4 - s steps.
    json_t *ex5 = json_pack("{s:s, s:s}", "question", "Q?", "solution",
                            "1 + 1 = 2. 2 + 1 = 3. 3 + 1 = 4. 4 + 1 = 5. 5 + 1 = 6.\n#### 6");
    for (int focus10 = 0; focus10 <= 5; focus10 += 5) {  // focus 0 (R^3's mix) and 0.5
        json_t *params = json_pack("{s:s, s:f, s:I, s:I, s:f}", "schedule", "mixed", "focus", focus10 / 10.0, "seed",
                                   (json_int_t)7, "min_samples", (json_int_t)100, "threshold", 0.5);
        int id;
        rlc_script *s = load_script("scripts/curricula/reverse.lua", &id);
        if (!s) break;
        curriculum_call(s, id, params, 0, 0);      // stage 0, baseline
        curriculum_call(s, id, params, 200, 150);  // 200 samples at 0.75 >= 0.5: stage 1
        curriculum_call(s, id, params, 400, 300);  // stage 2
        int counts[N_STAGES] = {0}, mismatch = 0, first_bad = -1;
        uint64_t x = 7;
        const int draws = 2000;
        for (int i = 0; i < draws; i++) {
            char *t = prompt_text(s, id, ex5);
            int k = t ? given_steps(t, "Q?") : -1;
            rlc_free(t);
            int stage = k >= 0 ? 4 - k : -1;
            if (stage >= 0) counts[stage]++;
            // the same draws in C
            int want = 2;
            if (!(lcg_uniform(&x) < focus10 / 10.0)) {
                want = (int)floor(lcg_uniform(&x) * N_STAGES);
                if (want > N_STAGES - 1) want = N_STAGES - 1;
            }
            if (stage != want && mismatch++ == 0) first_bad = i;
        }
        CHECK_MSG(mismatch == 0, "mixed (focus %.1f): %d prompts at another stage than the generator's, first %d",
                  focus10 / 10.0, mismatch, first_bad);
        // focus 0: about 400 each; focus 0.5: stage 2 about 1000 + 200, the others about 200
        for (int st = 0; st < N_STAGES; st++) {
            double expect_n = focus10 ? (st == 2 ? 1200 : 200) : 400;
            CHECK_MSG(fabs(counts[st] - expect_n) < 90, "mixed (focus %.1f): stage %d drawn %d times, about %.0f expected",
                      focus10 / 10.0, st, counts[st], expect_n);
        }
        printf("reverse.lua mixed (focus %.1f, current stage 2): stages drawn %d %d %d %d %d of %d\n", focus10 / 10.0,
               counts[0], counts[1], counts[2], counts[3], counts[4], draws);
        json_decref(params);
        rlc_script_free(s);
    }
    // a bad schedule name is refused
    json_t *bad = json_pack("{s:s}", "schedule", "random");
    int id;
    rlc_script *s = load_script("scripts/curricula/reverse.lua", &id);
    if (s) {
        rlc_curriculum_source src = {.name = "arith"};
        rlc_curriculum_state st = {1, &src, 1, bad};
        rlc_curriculum_result r = {0};
        rlc_script_error err;
        CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_ERR_SCRIPT && strstr(err.msg, "schedule"));
        rlc_script_free(s);
    }
    json_decref(bad);
    json_decref(ex5);
}

// ---- uniform.lua and dump_ucb.lua -------------------------------------------------

#define P_HAND_A 0.528091  // dump_ucb.lua with params {c = 0.5, tau = 0.2}, below
#define P_HAND_B 0.169543
#define P_HAND_C 0.302366

static void test_uniform_and_ucb(void) {
    rlc_curriculum_source src[3] = {
        {.name = "a", .count = 100, .accuracy = 0.5, .mean_abs_adv = 0.20, .seen = 100},
        {.name = "b", .count = 300, .accuracy = 0.9, .mean_abs_adv = 0.10, .seen = 300},
        {.name = "c", .count = 50, .accuracy = 0.1, .mean_abs_adv = 0.05, .seen = 50},
    };
    rlc_curriculum_state st = {7, src, 3, NULL};
    rlc_curriculum_result r;
    rlc_script_error err;
    int id;
    rlc_script *s = load_script("scripts/curricula/uniform.lua", &id);
    if (s) {
        CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK);
        CHECK(r.weights && r.weights[0] == 1.0 && r.weights[1] == 1.0 && r.weights[2] == 1.0);
        rlc_curriculum_result_clear(&r);
        rlc_script_free(s);
    }
    // By hand, with c = 1, tau = 0.1 (the defaults: no params), n = seen,
    // N = 100 + 300 + 50 = 450, ln(N + 1) = 6.111467:
    //   ucb_a = 0.20 + sqrt(2 * 6.111467 / 101) = 0.20 + 0.347878 = 0.547878
    //   ucb_b = 0.10 + sqrt(2 * 6.111467 / 301) = 0.10 + 0.201514 = 0.301514
    //   ucb_c = 0.05 + sqrt(2 * 6.111467 /  51) = 0.05 + 0.489556 = 0.539556
    //   exp((ucb - 0.547878) / 0.1) = 1, 0.085124, 0.920151; sum 2.005275
    //   p = 0.498685, 0.042450, 0.458865
    // c, the least seen, nearly ties a despite its small |advantage|.
    static const double p_hand[3] = {0.498685, 0.042450, 0.458865};
    s = load_script("scripts/curricula/dump_ucb.lua", &id);
    if (!s) return;
    CHECK_MSG(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK, "%s", err.msg);
    if (r.weights) {
        double sum = r.weights[0] + r.weights[1] + r.weights[2], worst = 0;
        for (int i = 0; i < 3; i++) {
            double e = fabs(r.weights[i] / sum - p_hand[i]);
            if (e > worst) worst = e;
        }
        CHECK_MSG(worst < 2e-6, "dump_ucb: p = %.6f %.6f %.6f, max abs error %.2e",
                  r.weights[0] / sum, r.weights[1] / sum, r.weights[2] / sum, worst);
    }
    rlc_curriculum_result_clear(&r);
    // With params {c = 0.5, tau = 0.2}, n = seen (the windowed count stays 256):
    // a: seen 1000, |A| 0.30; b: seen 3000, |A| 0.10; c: seen 100, |A| 0.05.
    // Worked in Python:
    //   import math; n = [1000, 3000, 100]; m = [.30, .10, .05]; L = math.log(sum(n) + 1)
    //   u = [m[j] + 0.5 * math.sqrt(2 * L / (n[j] + 1)) for j in range(3)]
    //   e = [math.exp(x / 0.2) for x in u]; [x / sum(e) for x in e]
    // ln(4101) = 8.318986; u = 0.364462, 0.137230, 0.252936;
    // p = 0.528091, 0.169543, 0.302366 (P_HAND_*), recomputed below in C.
    json_t *params = json_pack("{s:f, s:f}", "c", 0.5, "tau", 0.2);
    rlc_curriculum_source src2[3] = {
        {.name = "a", .count = 256, .mean_abs_adv = 0.30, .seen = 1000},
        {.name = "b", .count = 256, .mean_abs_adv = 0.10, .seen = 3000},
        {.name = "c", .count = 100, .mean_abs_adv = 0.05, .seen = 100},
    };
    double p_params[3];
    {
        double n[3] = {1000, 3000, 100}, m[3] = {0.30, 0.10, 0.05}, L = log(4101.0), e[3], sum = 0;
        for (int j = 0; j < 3; j++) e[j] = exp((m[j] + 0.5 * sqrt(2 * L / (n[j] + 1))) / 0.2), sum += e[j];
        for (int j = 0; j < 3; j++) p_params[j] = e[j] / sum;
    }
    rlc_curriculum_state st2 = {9, src2, 3, params};
    CHECK_MSG(rlc_script_curriculum(s, id, &st2, &r, &err) == RLC_SCRIPT_OK, "%s", err.msg);
    if (r.weights) {
        double sum = r.weights[0] + r.weights[1] + r.weights[2], worst = 0;
        for (int i = 0; i < 3; i++) worst = fmax(worst, fabs(r.weights[i] / sum - p_params[i]));
        CHECK_MSG(worst < 1e-9, "dump_ucb params: p = %.6f %.6f %.6f, expected %.6f %.6f %.6f", r.weights[0] / sum,
                  r.weights[1] / sum, r.weights[2] / sum, p_params[0], p_params[1], p_params[2]);
        CHECK_MSG(fabs(p_params[0] - P_HAND_A) < 1e-6 && fabs(p_params[1] - P_HAND_B) < 1e-6 &&
                      fabs(p_params[2] - P_HAND_C) < 1e-6,
                  "by hand: %.6f %.6f %.6f", p_params[0], p_params[1], p_params[2]);
    }
    CHECK(r.n_info == 3 && fabs(info_value(&r, "ucb_a") - 0.364462) < 1e-6);
    rlc_curriculum_result_clear(&r);
    json_t *bad = json_pack("{s:f}", "tau", 0.0);
    rlc_curriculum_state st3 = {9, src2, 3, bad};
    CHECK(rlc_script_curriculum(s, id, &st3, &r, &err) == RLC_SCRIPT_ERR_SCRIPT && strstr(err.msg, "tau"));
    json_decref(bad);
    json_decref(params);
    rlc_script_free(s);
}

// The second result of curriculum(state), and what is refused.
static void test_info_result(void) {
    rlc_script *s;
    CHECK_OK(rlc_script_create(NULL, &s));
    if (!s) return;
    rlc_curriculum_source src[1] = {{.name = "x", .count = 3, .seen = 40, .correct = 12.5}};
    rlc_curriculum_state st = {1, src, 1, NULL};
    rlc_curriculum_result r;
    rlc_script_error err;
    const char *ok = "function curriculum(s)\n"
                     "  local x = s.sources[1]\n"
                     "  return {x = 1}, {seen = x.seen, correct = x.correct, on = true, name = 'no'}\n"
                     "end\n";
    int id;
    CHECK_OK(rlc_script_load(s, "info.lua", ok, strlen(ok), &id));
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_OK);
    CHECK(r.n_info == 3 && info_value(&r, "correct") == 12.5 && info_value(&r, "on") == 1 &&
          info_value(&r, "seen") == 40);
    rlc_curriculum_result_clear(&r);
    const char *bad = "function curriculum(s) return {x = 1}, 'stage 2' end";
    CHECK_OK(rlc_script_load(s, "bad.lua", bad, strlen(bad), &id));
    CHECK(rlc_script_curriculum(s, id, &st, &r, &err) == RLC_SCRIPT_ERR_RESULT);
    CHECK_MSG(strstr(err.msg, "second value"), "%s", err.msg);
    CHECK(r.n_info == 0 && !r.weights);
    rlc_script_free(s);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    test_reverse_stages();
    test_reverse_prompts_by_hand();
    test_reverse_gsm8k_all();
    test_reverse_math_all();
    test_reverse_arith();
    test_uniform_and_ucb();
    test_info_result();
    return test_finish("test_reward_curriculum");
}
