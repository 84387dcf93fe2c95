// test_arith.c: the default experiment's pieces: the arithmetic problem
// generator (determinism, disjoint splits, correct worked solutions graded 1
// by rlc.math), the shared prompt format, the byte-level tokenizer (round trip
// through tok_load), `rlc data arith` and `rlc init-model` folders, and
// lrn_eval (numbers in [0, 1] on a random model; a perfect "model" fed
// through the grading path scores 1; pass@k by hand).
#include <stdio.h>   // snprintf, fopen
#include <stdlib.h>  // getenv, system
#include <string.h>  // strcmp, strstr

#include "actor/bytetok.h"      // bytetok_write
#include "actor/chat.h"         // chat_render ("plain")
#include "actor/model.h"        // actor_model_*
#include "actor/tokenizer.h"    // tok_*
#include "actor/weights.h"      // actor_weights_save
#include "core/core.h"          // rlc_free, rlc_read_file
#include "kernels/kernels.h"    // kernels_set_threads
#include "learner/arith.h"
#include "learner/checkpoint.h" // ckpt_write_config, ckpt_make_dirs
#include "learner/eval.h"
#include "reward/reward.h"      // rlc_math_grade
#include "test.h"

#define WORK "test_arith_work"

static int same_problem(const arith_problem *a, const arith_problem *b) {
    return strcmp(a->question, b->question) == 0 && strcmp(a->solution, b->solution) == 0 && a->answer == b->answer;
}

static void test_determinism(void) {
    arith_config c;
    arith_config_default(&c);
    CHECK_OK(arith_config_check(&c));
    arith_problem a, b;
    int differ_seed = 0, differ_split = 0;
    for (uint64_t i = 0; i < 200; i++) {
        arith_generate(&c, ARITH_SPLIT_TRAIN, i, &a);
        arith_generate(&c, ARITH_SPLIT_TRAIN, i, &b);
        CHECK_MSG(same_problem(&a, &b), "problem %llu differs between two calls", (unsigned long long)i);
        arith_generate(&c, ARITH_SPLIT_HELDOUT, i, &b);
        differ_split += !same_problem(&a, &b);
        arith_config c2 = c;
        c2.seed = 2;
        arith_generate(&c2, ARITH_SPLIT_TRAIN, i, &b);
        differ_seed += !same_problem(&a, &b);
    }
    CHECK_MSG(differ_split >= 195 && differ_seed >= 195, "splits differ %d/200, seeds %d/200", differ_split, differ_seed);
    // A known problem pins the generator (a change of wording or RNG changes the data set).
    arith_generate(&c, ARITH_SPLIT_HELDOUT, 0, &a);
    CHECK_MSG(strcmp(a.question, "Zoe has 7 cards. She buys 9 more. She sells 9. How many cards does Zoe have?") == 0,
              "held-out 0: %s", a.question);
    CHECK_MSG(strcmp(a.solution, "7 + 9 = 16. 16 - 9 = 7.\n#### 7") == 0, "held-out 0: %s", a.solution);
    c.restate = 1;
    arith_generate(&c, ARITH_SPLIT_HELDOUT, 0, &b);
    CHECK_MSG(strcmp(b.question, a.question) == 0 &&
              strcmp(b.solution, "She buys 9 more, so 7 + 9 = 16. She sells 9, so 16 - 9 = 7.\n#### 7") == 0,
              "restated: %s", b.solution);
    c.restate = 0;
    arith_config bad = c;
    bad.min_steps = 3, bad.max_steps = 2;
    CHECK(arith_config_check(&bad) == RLC_ERR_ARG);
    bad = c, bad.max_value = c.max_num;
    CHECK(arith_config_check(&bad) == RLC_ERR_ARG);
}

// Re-checks a worked solution line by line: "a op b = r." per step, each a
// the previous r, then "\n#### answer".
static int check_solution(const arith_config *c, const arith_problem *p) {
    const char *s = p->solution;
    long prev = p->start;
    for (int i = 0; i < p->steps; i++) {
        long a, b, r;
        char op;
        int used = 0;
        if (sscanf(s, "%ld %c %ld = %ld.%n", &a, &op, &b, &r, &used) != 4 || used == 0) return 0;
        long want = op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : -1;
        if (a != prev || r != want || r < 0 || r > c->max_value || b != p->operands[i]) return 0;
        if (op == '*' && (b < 2 || b > c->max_mul)) return 0;
        if (op != '*' && (b < 1 || b > c->max_num)) return 0;
        prev = r;
        s += used;
        if (*s == ' ') s++;
    }
    char tail[64];
    snprintf(tail, sizeof tail, "\n#### %ld", prev);
    return strcmp(s, tail) == 0 && prev == p->answer && p->steps >= c->min_steps && p->steps <= c->max_steps;
}

static void test_solutions(void) {
    arith_config c;
    arith_config_default(&c);
    arith_problem p;
    int bad = 0, graded = 0, ops[3] = {0, 0, 0}, steps[ARITH_MAX_STEPS + 1] = {0};
    for (uint64_t i = 0; i < 3000; i++) {
        arith_generate(&c, (arith_split)(i % 2), i, &p);
        if (!check_solution(&c, &p)) {
            if (bad++ < 3) fprintf(stderr, "bad solution: %s => %s\n", p.question, p.solution);
        }
        char ans[32], wrong[32];
        snprintf(ans, sizeof ans, "%ld", p.answer);
        snprintf(wrong, sizeof wrong, "%ld", p.answer + 1);
        graded += rlc_math_grade(p.solution, ans) == 1 && rlc_math_grade(p.solution, wrong) == 0;
        for (int k = 0; k < p.steps; k++) ops[p.ops[k]]++;
        steps[p.steps]++;
    }
    CHECK_MSG(bad == 0, "%d of 3000 solutions are wrong", bad);
    CHECK_MSG(graded == 3000, "rlc_math_grade gave the right verdict on %d of 3000", graded);
    CHECK_MSG(ops[0] > 1000 && ops[1] > 1000 && ops[2] > 300, "ops + %d, - %d, * %d", ops[0], ops[1], ops[2]);
    CHECK_MSG(steps[2] > 800 && steps[3] > 800 && steps[4] > 800 && steps[1] == 0 && steps[5] == 0,
              "steps 2: %d, 3: %d, 4: %d", steps[2], steps[3], steps[4]);
    // the knobs
    c.min_steps = c.max_steps = 3;
    c.max_mul = 0;
    c.max_num = 9;
    c.max_value = 30;
    int ok = 1;
    for (uint64_t i = 0; i < 500; i++) {
        arith_generate(&c, ARITH_SPLIT_TRAIN, i, &p);
        ok &= check_solution(&c, &p) && p.steps == 3 && !strchr(p.solution, '*');
    }
    CHECK_MSG(ok, "steps 3, no multiplication, numbers up to 9, values up to 30");
}

static void test_prompt_format(void) {
    const char *q = "Tom has 12 apples. He buys 7 more. How many apples does Tom have now?";
    char buf[512];
    CHECK_OK(arith_format_prompt(q, buf, sizeof buf));
    chat_template *t = NULL;
    CHECK_OK(chat_template_from_name("plain", &t));
    chat_message m = {"user", q};
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(chat_render(t, &m, 1, 1, &text, &len));
    CHECK_MSG(text && strcmp(text, buf) == 0, "arith prompt \"%s\" vs plain template \"%s\"", buf, text ? text : "");
    rlc_free(text);
    chat_template_free(t);
    CHECK(arith_format_prompt(q, buf, 20) == RLC_ERR_LIMIT && buf[0] == '\0');
}

// The lines of a JSONL file that hold `needle`.
static int count_lines(const char *path) {
    char *buf;
    size_t len;
    if (rlc_read_file(path, &buf, &len) != RLC_OK) return -1;
    int n = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
    rlc_free(buf);
    return n;
}

static void test_dataset(void) {
    arith_config c;
    arith_config_default(&c);
    c.min_steps = c.max_steps = 1;  // a small space, so that duplicates do occur
    c.max_num = 3;
    c.max_value = 6;
    c.max_mul = 0;
    arith_dataset_counts n = {.n_sft = 3000, .n_train = 2000, .n_heldout = 300};
    long skipped = -1;
    CHECK_OK(arith_write_dataset(WORK "/data", &c, &n, &skipped));
    CHECK_MSG(skipped > 0, "no held-out duplicate was skipped in a tiny problem space (%ld)", skipped);
    CHECK(count_lines(WORK "/data/sft.jsonl") == 3000 && count_lines(WORK "/data/train.jsonl") == 2000 &&
          count_lines(WORK "/data/heldout.jsonl") == 300);
    lrn_eval_set held, sft, train;
    CHECK_OK(lrn_eval_set_load(WORK "/data/heldout.jsonl", "question", "answer", "raw", 0, &held));
    CHECK_OK(lrn_eval_set_load(WORK "/data/sft.jsonl", "question", "answer", "raw", 0, &sft));
    CHECK_OK(lrn_eval_set_load(WORK "/data/train.jsonl", "question", "answer", "raw", 0, &train));
    int shared = 0;
    for (int i = 0; i < held.n; i++) {
        for (int j = 0; j < sft.n; j++) shared += strcmp(held.ex[i].prompt, sft.ex[j].prompt) == 0;
        for (int j = 0; j < train.n; j++) shared += strcmp(held.ex[i].prompt, train.ex[j].prompt) == 0;
    }
    CHECK_MSG(shared == 0, "%d training questions are also held out", shared);
    lrn_eval_set_free(&held);
    lrn_eval_set_free(&sft);
    lrn_eval_set_free(&train);

    // The default files: records render exactly as SFT saw them; answers are bare numbers.
    arith_config_default(&c);
    n = (arith_dataset_counts){.n_sft = 50, .n_train = 50, .n_heldout = 500};
    CHECK_OK(arith_write_dataset(WORK "/data2", &c, &n, &skipped));
    lrn_eval_set plain, prompts;
    CHECK_OK(lrn_eval_set_load(WORK "/data2/heldout.jsonl", "question", "answer", NULL, 0, &plain));
    CHECK_OK(lrn_eval_set_load(WORK "/data2/heldout.jsonl", "prompt", "solution", "raw", 10, &prompts));
    CHECK(plain.n == 500 && prompts.n == 10);
    arith_problem p;
    for (int i = 0; i < 10 && plain.n == 500; i++) {
        arith_generate(&c, ARITH_SPLIT_HELDOUT, (uint64_t)i, &p);
        char want[1024], ans[32];
        arith_format_prompt(p.question, want, sizeof want);
        snprintf(ans, sizeof ans, "%ld", p.answer);
        CHECK_MSG(strcmp(plain.ex[i].prompt, want) == 0 && strcmp(prompts.ex[i].prompt, want) == 0,
                  "record %d renders as \"%s\"", i, plain.ex[i].prompt);
        CHECK_MSG(strcmp(plain.ex[i].answer, ans) == 0 && strcmp(prompts.ex[i].answer, ans) == 0,
                  "record %d: answer %s, after #### %s, want %s", i, plain.ex[i].answer, prompts.ex[i].answer, ans);
    }
    lrn_eval_set_free(&plain);
    lrn_eval_set_free(&prompts);
    // Writing again gives the same bytes.
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    CHECK_OK(rlc_read_file(WORK "/data2/heldout.jsonl", &a, &la));
    CHECK_OK(arith_write_dataset(WORK "/data3", &c, &n, &skipped));
    CHECK_OK(rlc_read_file(WORK "/data3/heldout.jsonl", &b, &lb));
    CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
    rlc_free(a);
    rlc_free(b);
}

static void test_bytetok(void) {
    CHECK_OK(ckpt_make_dirs(WORK "/tok"));
    CHECK_OK(bytetok_write(WORK "/tok"));
    tok_tokenizer *t = NULL;
    CHECK_OK(tok_load(WORK "/tok", &t));
    if (!t) return;
    CHECK(tok_vocab_size(t) == BYTETOK_VOCAB && tok_get_kind(t) == TOK_KIND_BYTE_LEVEL);
    CHECK(tok_bos_id(t) == BYTETOK_BOS && tok_is_eos(t, BYTETOK_EOS) && !tok_add_bos(t));
    CHECK(tok_is_special(t, BYTETOK_PAD) && tok_piece_to_id(t, "<|pad|>") == BYTETOK_PAD);
    // Every id below 256 is its byte.
    int bad = 0;
    for (int b = 0; b < 256; b++) {
        size_t len = 0;
        const char *s = tok_token_text(t, b, &len);
        bad += !s || len != 1 || (unsigned char)s[0] != b;
    }
    CHECK_MSG(bad == 0, "%d byte tokens do not decode to their byte", bad);
    // All 256 bytes through encode: ASCII as is, the rest inside valid UTF-8
    // (2-byte sequences cover every lead byte 0xC2..0xDF and continuation
    // 0x80..0xBF; 3- and 4-byte ones the leads 0xE0..0xF4).
    char text[2048];
    size_t n = 0;
    for (int b = 0; b < 128; b++) text[n++] = (char)b;
    for (int cp = 0x80; cp < 0x800; cp += 7) text[n++] = (char)(0xC0 | (cp >> 6)), text[n++] = (char)(0x80 | (cp & 0x3F));
    for (int lead = 0xE1; lead <= 0xEF; lead++) text[n++] = (char)lead, text[n++] = (char)0x80, text[n++] = (char)0xBF;
    text[n++] = (char)0xE0, text[n++] = (char)0xA0, text[n++] = (char)0x80;
    for (int lead = 0xF0; lead <= 0xF4; lead++)
        text[n++] = (char)lead, text[n++] = (char)(lead == 0xF0 ? 0x90 : 0x80), text[n++] = (char)0x80,
        text[n++] = (char)0x80;
    int seen[256] = {0};
    for (size_t i = 0; i < n; i++) seen[(unsigned char)text[i]] = 1;
    int covered = 0;
    for (int b = 0; b < 256; b++) covered += seen[b] || b == 0xC0 || b == 0xC1 || b >= 0xF5;  // never in UTF-8
    CHECK_MSG(covered == 256, "the round-trip text misses %d byte values", 256 - covered);
    int *ids = NULL;
    size_t n_ids = 0;
    CHECK_OK(tok_encode(t, text, n, 0, &ids, &n_ids));
    int same = ids && n_ids == n;
    for (size_t i = 0; same && i < n; i++) same = ids[i] == (unsigned char)text[i];
    CHECK_MSG(same, "encode is not the bytes (%zu ids for %zu bytes)", n_ids, n);
    char *dec = NULL;
    size_t dec_len = 0;
    if (ids) CHECK_OK(tok_decode(t, ids, n_ids, 0, &dec, &dec_len));
    CHECK(dec && dec_len == n && memcmp(dec, text, n) == 0);
    rlc_free(ids);
    rlc_free(dec);
    // Problem texts, and special tokens inside text.
    arith_config c;
    arith_config_default(&c);
    arith_problem p;
    int ok = 1;
    for (uint64_t i = 0; i < 50; i++) {
        arith_generate(&c, ARITH_SPLIT_TRAIN, i, &p);
        char full[1200];
        arith_format_prompt(p.question, full, sizeof full);
        strcat(full, p.solution);
        ids = NULL, dec = NULL;
        ok &= tok_encode(t, full, strlen(full), TOK_ENCODE_ADD_SPECIAL, &ids, &n_ids) == RLC_OK && n_ids == strlen(full);
        ok &= ids && tok_decode(t, ids, n_ids, 0, &dec, &dec_len) == RLC_OK && strcmp(dec, full) == 0;
        rlc_free(ids);
        rlc_free(dec);
    }
    CHECK_MSG(ok, "a problem text does not round-trip byte for byte");
    ids = NULL;
    CHECK_OK(tok_encode(t, "1<|eos|>2", 9, 0, &ids, &n_ids));
    CHECK(ids && n_ids == 3 && ids[0] == '1' && ids[1] == BYTETOK_EOS && ids[2] == '2');
    rlc_free(ids);
    tok_free(t);
}

// A small random model folder written with the pieces init-model uses.
static void write_tiny_model(const char *dir) {
    actor_config c = {0};
    c.arch = ACTOR_ARCH_LLAMA;
    snprintf(c.model_type, sizeof c.model_type, "llama");
    c.vocab_size = BYTETOK_VOCAB;
    c.hidden_size = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 8;
    c.intermediate_size = 64, c.max_position = 512, c.rms_eps = 1e-5f, c.rope_theta = 10000.0f;
    c.tie_embeddings = 1, c.bos_id = BYTETOK_BOS, c.eos_ids[0] = BYTETOK_EOS, c.n_eos = 1;
    actor_model *m = NULL;
    char path[512];
    CHECK_OK(ckpt_make_dirs(dir));
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return;
    actor_model_init_random(m, 7, 0.02f);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK_OK(actor_weights_save(path, actor_model_params(m)));
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK_OK(ckpt_write_config(path, &c));
    CHECK_OK(bytetok_write(dir));
    actor_model_free(m);
}

typedef struct {
    int calls, bad;
} sample_count;

static void count_sample(void *ud, int example, int sample, const char *completion, int n_tokens, int correct,
                         actor_finish finish) {
    sample_count *k = ud;
    k->calls++;
    k->bad += !completion || n_tokens < 0 || n_tokens > 24 || (correct != 0 && correct != 1) ||
              finish == ACTOR_FINISH_NONE || example < 0 || example >= 6 || sample < 0 || sample >= 4;
}

static void test_eval_on_model(const char *dir) {
    actor_model *m = NULL;
    tok_tokenizer *t = NULL;
    CHECK_OK(actor_model_load(dir, &m));
    CHECK_OK(tok_load(dir, &t));
    lrn_eval_set set = {0};
    CHECK_OK(lrn_eval_set_load(WORK "/data2/heldout.jsonl", "question", "answer", "plain", 6, &set));
    if (!m || !t || set.n != 6) {
        tok_free(t);
        actor_model_free(m);
        lrn_eval_set_free(&set);
        return;
    }
    lrn_eval_options o;
    lrn_eval_options_default(&o);
    o.max_new_tokens = 24;
    o.batch = 4;
    sample_count k = {0};
    o.on_sample = count_sample;
    o.ud = &k;
    lrn_eval_result r, r2;
    CHECK_OK(lrn_eval(m, t, set.ex, set.n, &o, &r));
    CHECK(r.n_examples == 6 && r.n_samples == 1 && r.pass1 >= 0 && r.pass1 <= 1 && r.pass_k == r.pass1);
    CHECK(r.mean_len > 0 && r.mean_len <= 24 && r.completion_tokens > 0 && r.prompt_tokens > 6 * 100);
    CHECK_MSG(k.calls == 6 && k.bad == 0, "%d callbacks, %d odd", k.calls, k.bad);
    CHECK_OK(lrn_eval(m, t, set.ex, set.n, &o, &r2));  // greedy is deterministic
    CHECK(r2.pass1 == r.pass1 && r2.completion_tokens == r.completion_tokens);
    // sampled: 4 samples per example, pass@2
    o.temperature = 1.0f, o.n_samples = 4, o.k = 2;
    k = (sample_count){0};
    CHECK_OK(lrn_eval(m, t, set.ex, set.n, &o, &r));
    CHECK(r.n_samples == 4 && r.k == 2 && r.pass1 >= 0 && r.pass1 <= r.pass_k + 1e-12 && r.pass_k <= r.pass_n + 1e-12 &&
          r.pass_n <= 1);
    CHECK_MSG(k.calls == 24 && k.bad == 0, "%d callbacks, %d odd", k.calls, k.bad);
    o.k = 5;
    CHECK(lrn_eval(m, t, set.ex, set.n, &o, &r) == RLC_ERR_ARG);  // k > samples
    o.k = 1, o.n_samples = 8;
    CHECK(lrn_eval(m, t, set.ex, set.n, &o, &r) == RLC_ERR_ARG);  // samples > batch
    lrn_eval_set_free(&set);
    tok_free(t);
    actor_model_free(m);
}

static void test_eval_grading(void) {
    arith_config c;
    arith_config_default(&c);
    enum { N = 20 };
    arith_problem p[N];
    char prompts[N][600], answers[N][32], wrong[N][64];
    lrn_eval_example ex[N];
    const char *perfect[N], *bad[N], *mixed[N * 4];
    for (int i = 0; i < N; i++) {
        arith_generate(&c, ARITH_SPLIT_HELDOUT, (uint64_t)i, &p[i]);
        arith_format_prompt(p[i].question, prompts[i], sizeof prompts[i]);
        snprintf(answers[i], sizeof answers[i], "%ld", p[i].answer);
        snprintf(wrong[i], sizeof wrong[i], "1 + 1 = 2.\n#### %ld", p[i].answer + 3);
        ex[i] = (lrn_eval_example){prompts[i], answers[i]};
        perfect[i] = p[i].solution;
        bad[i] = wrong[i];
        for (int j = 0; j < 4; j++) mixed[i * 4 + j] = j < i % 5 ? p[i].solution : wrong[i];  // i % 5 right of 4
    }
    lrn_eval_result r;
    CHECK_OK(lrn_eval_grade(ex, N, perfect, 1, 1, &r));
    CHECK_MSG(r.pass1 == 1.0 && r.pass_k == 1.0 && r.n_examples == N, "a perfect model scores %g", r.pass1);
    CHECK_OK(lrn_eval_grade(ex, N, bad, 1, 1, &r));
    CHECK(r.pass1 == 0.0);
    // c right of 4 for c = i % 5 in 0..4, four times each: pass@1 = mean c/4 = 0.5;
    // pass@2 = mean of 1 - C(4-c, 2)/C(4, 2) = (0 + 0.5 + 5/6 + 1 + 1) / 5.
    CHECK_OK(lrn_eval_grade(ex, N, mixed, 4, 2, &r));
    CHECK_MSG(fabs(r.pass1 - 0.5) < 1e-12 && fabs(r.pass_k - (0 + 0.5 + 5.0 / 6 + 1 + 1) / 5) < 1e-12 &&
              fabs(r.pass_n - 0.8) < 1e-12, "pass@1 %g, pass@2 %g, pass@n %g", r.pass1, r.pass_k, r.pass_n);
    CHECK(fabs(lrn_eval_pass_at_k(10, 3, 1) - 0.3) < 1e-12 && lrn_eval_pass_at_k(5, 4, 2) == 1.0 &&
          lrn_eval_pass_at_k(5, 0, 3) == 0.0);
    CHECK(lrn_eval_grade(ex, N, perfect, 1, 2, &r) == RLC_ERR_ARG);
}

// `rlc data arith` and `rlc init-model` through the built binary.
static void test_cli(void) {
    const char *bin = getenv("RLC_BIN");
    if (!bin) {
        printf("note: RLC_BIN is not set; the rlc data / init-model checks are skipped\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s data arith --out " WORK "/cli_data --sft 40 --train 30 --heldout 20 --steps 2-3 --max-num 9 > /dev/null"
             " && %s init-model --out " WORK "/cli_model --hidden 32 --layers 1 --heads 2 --kv-heads 1 "
             "--intermediate 64 --seed 3 > /dev/null",
             bin, bin);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    CHECK(count_lines(WORK "/cli_data/sft.jsonl") == 40 && count_lines(WORK "/cli_data/train.jsonl") == 30 &&
          count_lines(WORK "/cli_data/heldout.jsonl") == 20);
    actor_model *m = NULL;
    CHECK_OK(actor_model_load(WORK "/cli_model", &m));
    if (m) {
        const actor_config *c = actor_model_config(m);
        CHECK(c->vocab_size == BYTETOK_VOCAB && c->hidden_size == 32 && c->n_layers == 1 && c->n_heads == 2 &&
              c->n_kv_heads == 1 && c->intermediate_size == 64 && c->tie_embeddings && c->bos_id == BYTETOK_BOS &&
              c->n_eos == 1 && c->eos_ids[0] == BYTETOK_EOS);
        // N(0, 0.02^2) weights, norms 1
        const actor_params *p = actor_model_params(m);
        double ss = 0;
        for (size_t i = 0; i < (size_t)c->vocab_size * c->hidden_size; i++) ss += (double)p->embed[i] * p->embed[i];
        double sd = sqrt(ss / ((double)c->vocab_size * c->hidden_size));
        CHECK_MSG(fabs(sd - 0.02) < 0.002 && p->final_norm[0] == 1.0f, "embedding std %g, norm %g", sd,
                  (double)p->final_norm[0]);
        actor_model_free(m);
    }
    test_eval_on_model(WORK "/cli_model");
    snprintf(cmd, sizeof cmd, "%s eval --model " WORK "/cli_model --data " WORK "/cli_data/heldout.jsonl --n 4 "
             "--max-new-tokens 8 --threads 1 --json > " WORK "/eval.json", bin);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    char *out = NULL;
    size_t len = 0;
    CHECK_OK(rlc_read_file(WORK "/eval.json", &out, &len));
    CHECK_MSG(out && strstr(out, "\"examples\": 4") && strstr(out, "\"pass@1\": "), "rlc eval printed %s", out ? out : "");
    rlc_free(out);

    // --against: the same model against its own --out file changes nothing;
    // a file of fewer examples is refused before any generation.
    snprintf(cmd, sizeof cmd, "%s eval --model " WORK "/cli_model --data " WORK "/cli_data/heldout.jsonl --n 4 "
             "--max-new-tokens 8 --threads 1 --out " WORK "/eval_a.jsonl > /dev/null && "
             "%s eval --model " WORK "/cli_model --data " WORK "/cli_data/heldout.jsonl --n 4 "
             "--max-new-tokens 8 --threads 1 --against " WORK "/eval_a.jsonl --json > " WORK "/eval_b.json", bin, bin);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    out = NULL;
    CHECK_OK(rlc_read_file(WORK "/eval_b.json", &out, &len));
    CHECK_MSG(out && strstr(out, "\"against\": {") && strstr(out, "\"diff\": 0.000000") &&
                  strstr(out, "\"better\": 0, \"worse\": 0, \"p_sign\": 1}"),
              "rlc eval --against printed %s", out ? out : "");
    rlc_free(out);
    snprintf(cmd, sizeof cmd, "%s eval --model " WORK "/cli_model --data " WORK "/cli_data/heldout.jsonl --n 5 "
             "--max-new-tokens 8 --threads 1 --against " WORK "/eval_a.jsonl > /dev/null 2> " WORK "/eval_c.err", bin);
    CHECK_MSG(system(cmd) != 0, "%s", cmd);
    out = NULL;
    CHECK_OK(rlc_read_file(WORK "/eval_c.err", &out, &len));
    CHECK_MSG(out && strstr(out, "eval_a.jsonl: no record for example 4"), "rlc eval --against printed %s",
              out ? out : "");
    rlc_free(out);
}

int main(void) {
    if (system("rm -rf " WORK) != 0) fprintf(stderr, "warning: could not clear " WORK "\n");
    kernels_set_threads(1);
    test_determinism();
    test_solutions();
    test_prompt_format();
    test_dataset();
    test_bytetok();
    write_tiny_model(WORK "/model");
    test_eval_on_model(WORK "/model");
    test_eval_grading();
    test_cli();
    return test_finish("test_arith");
}
