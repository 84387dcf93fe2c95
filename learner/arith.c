// arith.c: the arithmetic word-problem generator (problem i of a split from
// its own splitmix64 stream), the shared prompt format, and the JSONL files
// of `rlc data arith`.
#include <errno.h>   // errno
#include <stdarg.h>  // va_list
#include <stdio.h>   // snprintf, fopen, fputs
#include <string.h>  // strcmp, strerror, strlen

#include "arith.h"
#include "checkpoint.h"    // ckpt_make_dirs
#include "core/alloc.h"    // rlc_calloc, rlc_free
#include "core/fileio.h"   // rlc_path_join
#include "core/json.h"     // rlc_json_put_string

void arith_config_default(arith_config *c) {
    *c = (arith_config){.min_steps = 2, .max_steps = 4, .max_num = 9, .max_mul = 3, .max_value = 50, .restate = 0,
                        .seed = 1};
}

rlc_status arith_config_check(const arith_config *c) {
    if (c->min_steps < 1 || c->max_steps < c->min_steps || c->max_steps > ARITH_MAX_STEPS)
        return rlc_errorf(RLC_ERR_ARG, "arith: steps %d-%d: need 1 <= min <= max <= %d", c->min_steps, c->max_steps,
                          ARITH_MAX_STEPS);
    if (c->max_num < 2 || c->max_num > 100000)
        return rlc_errorf(RLC_ERR_ARG, "arith: max_num %d: need 2..100000", c->max_num);
    if (c->max_mul > 100) return rlc_errorf(RLC_ERR_ARG, "arith: max_mul %d: need at most 100", c->max_mul);
    if (c->max_value < 2 * c->max_num || c->max_value > 100000000)
        return rlc_errorf(RLC_ERR_ARG, "arith: max_value %d: need 2 * max_num (%d) .. 1e8", c->max_value,
                          2 * c->max_num);
    return RLC_OK;
}

// ---- the random stream ----------------------------------------------------------------

typedef struct {
    uint64_t s;
} rng;

static uint64_t next_u64(rng *r) {  // splitmix64
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in lo..hi (hi >= lo); the modulo bias is below 1e-15 for these ranges.
static long uniform(rng *r, long lo, long hi) { return lo + (long)(next_u64(r) % (uint64_t)(hi - lo + 1)); }

static rng stream(const arith_config *c, arith_split split, uint64_t index) {
    rng r = {c->seed ^ 0x243F6A8885A308D3ull};
    r.s = next_u64(&r) ^ ((uint64_t)split * 0x13198A2E03707344ull);
    r.s = next_u64(&r) ^ index;
    next_u64(&r);
    return r;
}

// ---- the word lists --------------------------------------------------------------------

typedef struct {
    const char *name, *subj, *obj, *poss;  // "Tom", "he", "him", "his"
} person;

static const person people[] = {
    {"Tom", "he", "him", "his"}, {"Ann", "she", "her", "her"}, {"Sam", "he", "him", "his"},
    {"Mia", "she", "her", "her"}, {"Leo", "he", "him", "his"}, {"Zoe", "she", "her", "her"},
    {"Max", "he", "him", "his"}, {"Eva", "she", "her", "her"}, {"Ben", "he", "him", "his"},
    {"Ivy", "she", "her", "her"}, {"Jack", "he", "him", "his"}, {"Lily", "she", "her", "her"},
};
static const int n_people = (int)(sizeof people / sizeof people[0]);

static const char *const objects[] = {"apples", "marbles", "stickers", "coins",  "books",
                                      "cookies", "pencils", "cards",    "shells", "stamps"};
static const int n_objects = (int)(sizeof objects / sizeof objects[0]);

// The sentence that opens a problem and the closing question; the step
// sentences are in put_step. Short and regular on purpose: every byte of a
// prompt costs training time, and a tiny model learns to find the numbers
// sooner in a regular text.
static const char *const openings[] = {"%s has %ld %s.", "%s owns %ld %s."};
static const char *const questions[] = {"How many %s does %s have now?", "How many %s does %s have?"};

// ---- one problem -----------------------------------------------------------------------

typedef struct {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    if (k > 0) t->n = t->n + (size_t)k < t->cap ? t->n + (size_t)k : t->cap - 1;
}

// Appends the sentence of one step (the subject is the pronoun).
static void put_step(text *t, rng *r, const person *who, const person *other, arith_op op, long b) {
    char subj[8];
    snprintf(subj, sizeof subj, "%s", who->subj);
    subj[0] = (char)(subj[0] - 'a' + 'A');
    if (op == ARITH_OP_ADD) {
        switch (uniform(r, 0, 2)) {
        case 0: put(t, " %s buys %ld more.", subj, b); break;
        case 1: put(t, " %s finds %ld more.", subj, b); break;
        default: put(t, " %s gives %s %ld more.", other->name, who->obj, b); break;
        }
    } else if (op == ARITH_OP_SUB) {
        switch (uniform(r, 0, 2)) {
        case 0: put(t, " %s gives %ld to %s.", subj, b, other->name); break;
        case 1: put(t, " %s loses %ld.", subj, b); break;
        default: put(t, " %s sells %ld.", subj, b); break;
        }
    } else if (b == 2 && uniform(r, 0, 1)) {
        put(t, " %s doubles them.", subj);
    } else if (b == 3 && uniform(r, 0, 1)) {
        put(t, " %s triples them.", subj);
    } else {
        put(t, " %s gets %ld times as many.", subj, b);
    }
}

// Picks the next operation and operand for the running total.
static void pick_op(const arith_config *c, rng *r, long total, arith_op *op, long *b) {
    int can_add = total + 1 <= c->max_value, can_sub = total >= 2;
    int can_mul = c->max_mul >= 2 && total >= 2 && total * 2 <= c->max_value;
    int w_add = can_add ? 3 : 0, w_sub = can_sub ? 3 : 0, w_mul = can_mul ? 2 : 0;
    long u = uniform(r, 0, w_add + w_sub + w_mul - 1);  // total >= 2 or total < max_value: never empty
    if (u < w_add) {
        *op = ARITH_OP_ADD;
        long hi = c->max_value - total < c->max_num ? c->max_value - total : c->max_num;
        *b = uniform(r, 1, hi);
    } else if (u < w_add + w_sub) {
        *op = ARITH_OP_SUB;
        long hi = total - 1 < c->max_num ? total - 1 : c->max_num;
        *b = uniform(r, 1, hi);
    } else {
        *op = ARITH_OP_MUL;
        long hi = c->max_value / total < c->max_mul ? c->max_value / total : c->max_mul;
        *b = uniform(r, 2, hi);
    }
}

void arith_generate(const arith_config *c, arith_split split, uint64_t index, arith_problem *out) {
    static const char op_char[] = {'+', '-', '*'};
    rng r = stream(c, split, index);
    memset(out, 0, sizeof *out);
    const person *who = &people[uniform(&r, 0, n_people - 1)];
    const person *other = &people[uniform(&r, 0, n_people - 2)];
    if (other >= who) other++;  // someone else
    const char *obj = objects[uniform(&r, 0, n_objects - 1)];
    out->steps = (int)uniform(&r, c->min_steps, c->max_steps);
    out->start = uniform(&r, 2, c->max_num);

    text q = {out->question, 0, sizeof out->question}, s = {out->solution, 0, sizeof out->solution};
    put(&q, openings[uniform(&r, 0, 1)], who->name, out->start, obj);
    long total = out->start;
    for (int i = 0; i < out->steps; i++) {
        arith_op op;
        long b, next;
        pick_op(c, &r, total, &op, &b);
        next = op == ARITH_OP_ADD ? total + b : op == ARITH_OP_SUB ? total - b : total * b;
        out->ops[i] = op;
        out->operands[i] = b;
        size_t at = q.n + 1;  // the sentence, after its leading space
        put_step(&q, &r, who, other, op, b);
        if (c->restate && q.n > at) put(&s, "%s%.*s, so ", i ? " " : "", (int)(q.n - at - 1), q.p + at);
        else if (i) put(&s, " ");
        put(&s, "%ld %c %ld = %ld.", total, op_char[op], b, next);
        total = next;
    }
    put(&q, " ");
    put(&q, questions[uniform(&r, 0, 1)], obj, who->name);
    put(&s, "\n#### %ld", total);
    out->answer = total;
}

rlc_status arith_format_prompt(const char *question, char *buf, size_t cap) {
    int k = snprintf(buf, cap, "%s%s%s", ARITH_PROMPT_PREFIX, question, ARITH_PROMPT_SUFFIX);
    if (k < 0 || (size_t)k >= cap) {
        if (cap) buf[0] = '\0';
        return rlc_errorf(RLC_ERR_LIMIT, "arith: a prompt of %d bytes does not fit in %zu", k, cap);
    }
    return RLC_OK;
}

// ---- the dataset files -----------------------------------------------------------------

// A set of question texts (open addressing on an FNV-1a hash).
typedef struct {
    char **keys;  // (cap) owned copies, NULL when empty
    size_t cap;
} text_set;

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t slot_of(const text_set *t, const char *s) {
    size_t i = (size_t)(fnv(s) & (t->cap - 1));
    while (t->keys[i] && strcmp(t->keys[i], s) != 0) i = (i + 1) & (t->cap - 1);
    return i;
}

static void set_free(text_set *t) {
    for (size_t i = 0; t->keys && i < t->cap; i++) rlc_free(t->keys[i]);
    rlc_free(t->keys);
}

typedef struct {
    FILE *f;
    char path[4096];
} out_file;

static rlc_status open_out(out_file *o, const char *dir, const char *name) {
    RLC_TRY(rlc_path_join(o->path, sizeof o->path, dir, name));
    o->f = fopen(o->path, "wb");
    if (!o->f) return rlc_errorf(RLC_ERR_IO, "%s: %s", o->path, strerror(errno));
    return RLC_OK;
}

static rlc_status close_out(out_file *o, rlc_status s) {
    if (!o->f) return s;
    int bad = ferror(o->f) | (fclose(o->f) != 0);
    o->f = NULL;
    if (s == RLC_OK && bad) return rlc_errorf(RLC_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    return s;
}

// One JSON line: {"k1": "v1", ...} from alternating keys and values.
static void write_record(out_file *o, const char *const *kv, int n) {
    fputc('{', o->f);
    for (int i = 0; i < n; i += 2) {
        if (i) fputs(", ", o->f);
        rlc_json_put_string(o->f, kv[i]);
        fputs(": ", o->f);
        rlc_json_put_string(o->f, kv[i + 1]);
    }
    fputs("}\n", o->f);
}

static rlc_status write_problem(out_file *o, const arith_problem *p, int sft) {
    char prompt[ARITH_TEXT_MAX + 64], answer[32];
    RLC_TRY(arith_format_prompt(p->question, prompt, sizeof prompt));
    snprintf(answer, sizeof answer, "%ld", p->answer);
    if (sft) {
        const char *kv[] = {"prompt", prompt, "response", p->solution, "answer", answer, "question", p->question};
        write_record(o, kv, 8);
    } else {
        const char *kv[] = {"question", p->question, "answer", answer, "prompt", prompt, "solution", p->solution};
        write_record(o, kv, 8);
    }
    return RLC_OK;
}

static rlc_status write_all(const char *dir, const arith_config *c, const arith_dataset_counts *n, text_set *held,
                            arith_problem *p, long *n_skipped) {
    out_file o = {0};
    rlc_status s = open_out(&o, dir, "heldout.jsonl");
    for (long i = 0; s == RLC_OK && i < n->n_heldout; i++) {
        arith_generate(c, ARITH_SPLIT_HELDOUT, (uint64_t)i, p);
        size_t k = slot_of(held, p->question);
        if (!held->keys[k] && !(held->keys[k] = rlc_calloc(1, strlen(p->question) + 1)))
            s = rlc_errorf(RLC_ERR_NOMEM, "arith: out of memory");
        if (s == RLC_OK) strcpy(held->keys[k], p->question);
        if (s == RLC_OK) s = write_problem(&o, p, 0);
    }
    s = close_out(&o, s);
    // The training stream, held-out questions skipped: the first n_sft
    // problems go to sft.jsonl, the next n_train to train.jsonl.
    uint64_t index = 0;
    for (int f = 0; f < 2 && s == RLC_OK; f++) {
        long want = f == 0 ? n->n_sft : n->n_train;
        s = open_out(&o, dir, f == 0 ? "sft.jsonl" : "train.jsonl");
        for (long i = 0; s == RLC_OK && i < want; index++) {
            arith_generate(c, ARITH_SPLIT_TRAIN, index, p);
            if (held->keys[slot_of(held, p->question)]) {
                (*n_skipped)++;
                continue;
            }
            s = write_problem(&o, p, f == 0);
            i++;
        }
        s = close_out(&o, s);
    }
    return s;
}

rlc_status arith_write_dataset(const char *dir, const arith_config *c, const arith_dataset_counts *n,
                               long *n_skipped) {
    long skipped_local = 0;
    if (!n_skipped) n_skipped = &skipped_local;
    *n_skipped = 0;
    RLC_TRY(arith_config_check(c));
    if (n->n_sft < 0 || n->n_train < 0 || n->n_heldout < 0 || n->n_heldout > 10000000)
        return rlc_errorf(RLC_ERR_ARG, "arith: counts must be >= 0 (held-out at most 1e7)");
    RLC_TRY(ckpt_make_dirs(dir));
    text_set held = {0};
    held.cap = 16;
    while (held.cap < 2 * (size_t)n->n_heldout + 16) held.cap *= 2;
    held.keys = rlc_calloc(held.cap, sizeof *held.keys);
    arith_problem *p = rlc_calloc(1, sizeof *p);
    rlc_status s = held.keys && p ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "arith: out of memory");
    if (s == RLC_OK) s = write_all(dir, c, n, &held, p, n_skipped);
    rlc_free(p);
    set_free(&held);
    return s;
}
